//! What was heard: the features of each 20 ms frame of the decoded call audio, when sound
//! first arrived, and what answered, with how sure raqib is of it.
//!
//! - `listen`: the frame features, computed as the audio arrives;
//! - `classify`: a small model names each frame (silence, speech, music, tone) and rules over
//!   the sequence name the answer type, its confidence and when a person began to speak;
//! - `model`: the model's weights, made by `raqib bench answer-type --train` (see
//!   `tests/fixtures/audio/README.md`);
//! - `heuristic`: the first rule, kept for the bench's comparison only;
//! - `sit`: special information tones (the three tones before a network announcement).

pub mod classify;
pub mod heuristic;
pub mod listen;
mod model;
pub mod sit;

use serde::{Deserialize, Serialize};

pub use classify::{classify, Classified};
pub use listen::{frames, Listener};

pub const FRAME: usize = 160; // 20 ms at 8 kHz

/// A frame is sound rather than line noise above -45 dBFS.
const ACTIVE_DB: f32 = -45.0;
const ACTIVE_RMS: f64 = 183.0; // -45 dBFS of 32768

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AnswerType {
    Human,
    Ivr,
    Voicemail,
    Announcement,
    Music,
    /// Network or machine tones after answer: ringback, busy, fax or modem.
    Tone,
    Silence,
    Unknown,
}

impl AnswerType {
    /// Every answer type, in the order an auditor is offered them.
    pub const ALL: [AnswerType; 8] = [
        AnswerType::Human,
        AnswerType::Ivr,
        AnswerType::Voicemail,
        AnswerType::Announcement,
        AnswerType::Music,
        AnswerType::Tone,
        AnswerType::Silence,
        AnswerType::Unknown,
    ];

    /// The stored code (`human`, `ivr`, ...).
    pub fn code(self) -> &'static str {
        match self {
            AnswerType::Human => "human",
            AnswerType::Ivr => "ivr",
            AnswerType::Voicemail => "voicemail",
            AnswerType::Announcement => "announcement",
            AnswerType::Music => "music",
            AnswerType::Tone => "tone",
            AnswerType::Silence => "silence",
            AnswerType::Unknown => "unknown",
        }
    }

    pub fn of_code(code: &str) -> Option<AnswerType> {
        AnswerType::ALL.into_iter().find(|t| t.code() == code)
    }
}

/// What one 20 ms frame sounded like (48 bytes, not 320).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Frame {
    /// Above -45 dBFS.
    pub active: bool,
    /// Periodic at a short lag (the first rule's "tone"; computed for the bench only).
    pub tonal: bool,
    /// Level in dBFS (-100 for digital silence).
    pub db: f32,
    /// The voice detector's probability of a voice, 0–1.
    pub voice: f32,
    /// Spectral flatness in the telephone band, 0 (a line) to 1 (white noise).
    pub flat: f32,
    /// Share of the band's energy in its two strongest peaks.
    pub peak2: f32,
    /// Share of the band's energy in partials held at one frequency for 80 ms.
    pub sustain: f32,
    /// How much the spectrum's shape changed from the previous frame, 0–1.
    pub flux: f32,
    /// Spectral centroid as a share of 4 kHz.
    pub centroid: f32,
    /// The strongest peak's frequency as a share of 4 kHz (0: no peak).
    pub top: f32,
    /// Each 5 ms block's frequency in tenths of a Hz when it is one pure tone, else 0
    /// (for special information tones: `sit`).
    pub tone: [u16; sit::BLOCKS],
}

fn rms(x: &[i16]) -> f64 {
    if x.is_empty() {
        return 0.0;
    }
    (x.iter().map(|&s| (s as f64) * (s as f64)).sum::<f64>() / x.len() as f64).sqrt()
}

/// Whether a stretch of samples is sound rather than line noise.
pub fn is_active(samples: &[i16]) -> bool {
    rms(samples) > ACTIVE_RMS
}

/// Index of the first active frame at or after sample `from`, as milliseconds from `from`.
pub fn first_audio_ms(samples: &[i16], from: usize) -> Option<f64> {
    let tail = samples.get(from..)?;
    tail.chunks_exact(FRAME)
        .position(is_active)
        .map(|i| (i * FRAME) as f64 / 8.0)
}
