//! The first rule raqib used, kept so that `raqib bench answer-type` can show what the
//! classifier changed on the same corpus. Calls are no longer classified by it.
//!
//! The rule, over the first `window` seconds after answer (frames of 160 samples at 8 kHz):
//! - a frame is *active* when its RMS exceeds -45 dBFS, *tonal* when its normalised
//!   autocorrelation at the best lag of 0.25–2.5 ms (a 400 Hz–4 kHz period; voices sit lower)
//!   exceeds 0.9 — a beep or an information tone;
//! - `silence`: under 5 % of frames active;
//! - `announcement`: a special-information tone (or any tone run of 200 ms) at the start, or
//!   10 s or more of speech without a pause of 1.2 s;
//! - `music`: over 85 % of frames active with no pause longer than 300 ms, and not speech-like
//!   (few short gaps) — hold music;
//! - `human`: a first speech burst of 0.3–3.5 s followed by at least 1.2 s of silence
//!   (a greeting, then waiting for the caller);
//! - `voicemail`: speech longer than 3.5 s ending in a tone run of 0.2–2 s (the beep);
//! - `ivr`: speech longer than 3.5 s followed by at least 1.5 s of silence (a prompt waiting
//!   for digits);
//! - otherwise `unknown`.

use super::{AnswerType, Frame};

/// A pure tone: strong periodicity at a short lag (above 400 Hz fundamental).
pub(super) fn is_tonal(x: &[i16]) -> bool {
    let n = x.len();
    let energy: f64 = x.iter().map(|&s| (s as f64).powi(2)).sum();
    if energy == 0.0 {
        return false;
    }
    // Lags of 2.5 ms down to 0.25 ms: 400 Hz .. 4 kHz; a tone correlates ~1 at its period.
    let mut best = 0.0f64;
    for lag in 2..=20 {
        let mut c = 0.0;
        let mut e1 = 0.0;
        let mut e2 = 0.0;
        for i in 0..n - lag {
            let a = x[i] as f64;
            let b = x[i + lag] as f64;
            c += a * b;
            e1 += a * a;
            e2 += b * b;
        }
        if e1 > 0.0 && e2 > 0.0 {
            best = best.max(c / (e1 * e2).sqrt());
        }
    }
    best > 0.9
}

/// Runs of equal activity: (active, tonal-majority, length in frames).
fn runs(frames: &[Frame]) -> Vec<(bool, bool, usize)> {
    let mut out: Vec<(bool, usize, usize)> = Vec::new();
    for f in frames {
        match out.last_mut() {
            Some((a, tonal, len)) if *a == f.active => {
                *len += 1;
                *tonal += f.tonal as usize;
            }
            _ => out.push((f.active, f.tonal as usize, 1)),
        }
    }
    out.into_iter()
        .map(|(a, tonal, len)| (a, tonal * 2 > len, len))
        .collect()
}

/// Guesses what answered from the 20 ms frames after answer.
pub fn classify_frames(fr: &[Frame]) -> AnswerType {
    if fr.is_empty() {
        return AnswerType::Silence;
    }
    let active = fr.iter().filter(|f| f.active).count();
    if active * 100 < fr.len() * 5 {
        return AnswerType::Silence;
    }
    // Merge pauses under 300 ms into the surrounding sound: speech has short gaps.
    let mut rs = runs(fr);
    let ms = |frames: usize| frames * 20;
    let first_sound = rs.iter().position(|r| r.0);
    let Some(first_sound) = first_sound else {
        return AnswerType::Silence;
    };
    rs.drain(..first_sound);
    // Tone at the very start: an information tone before an announcement.
    if rs[0].1 && ms(rs[0].2) >= 200 {
        return AnswerType::Announcement;
    }
    // Collapse into "sound" segments separated by pauses of at least 300 ms.
    let mut segments: Vec<(usize, usize, bool)> = Vec::new(); // (sound frames, pause after, ends tonal)
    let mut sound = 0;
    let mut last_tonal = false;
    for (a, tonal, len) in rs {
        if a {
            sound += len;
            last_tonal = tonal && ms(len) >= 200 && ms(len) <= 2000;
        } else if ms(len) >= 300 {
            segments.push((sound, len, last_tonal));
            sound = 0;
        } else {
            sound += len;
        }
    }
    if sound > 0 {
        segments.push((sound, 0, last_tonal));
    }
    let long_pauses = segments.iter().filter(|s| ms(s.1) >= 1000).count();
    let short_gaps = segments.len();
    if active * 100 > fr.len() * 85 && short_gaps <= 2 && long_pauses == 0 {
        return AnswerType::Music;
    }
    // Speech until the first pause of 1.2 s or more.
    let mut speech = 0;
    let mut pause = 0;
    let mut tonal_end = false;
    for (s, p, t) in &segments {
        speech += s;
        tonal_end = *t;
        if ms(*p) >= 1200 {
            pause = *p;
            break;
        }
        speech += p;
    }
    let speech_ms = ms(speech);
    if pause == 0 {
        // Still talking when the window ends: a recording that long is an announcement; a
        // shorter one could still turn out to be an IVR prompt.
        return if tonal_end && speech_ms > 3500 {
            AnswerType::Voicemail
        } else if speech_ms >= 10_000 {
            AnswerType::Announcement
        } else {
            AnswerType::Unknown
        };
    }
    if (300..=3500).contains(&speech_ms) {
        return AnswerType::Human;
    }
    if speech_ms > 3500 {
        return if tonal_end {
            AnswerType::Voicemail
        } else if ms(pause) >= 1500 {
            AnswerType::Ivr
        } else {
            AnswerType::Unknown
        };
    }
    AnswerType::Unknown
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::call::audio::first_audio_ms;
    use crate::probe::call::audio::listen::frames_for_both as frames;

    fn classify(samples: &[i16]) -> AnswerType {
        classify_frames(&frames(samples))
    }

    fn tone(hz: f64, ms: usize, amp: f64) -> Vec<i16> {
        (0..ms * 8)
            .map(|i| (amp * (2.0 * std::f64::consts::PI * hz * i as f64 / 8000.0).sin()) as i16)
            .collect()
    }

    fn silence(ms: usize) -> Vec<i16> {
        vec![0; ms * 8]
    }

    /// Speech-like: syllables of a 150 Hz buzz with formant-ish harmonics, 40 ms gaps between
    /// syllables and 400 ms between phrases of about 2 s.
    fn speech(ms: usize) -> Vec<i16> {
        let mut out = Vec::new();
        let mut seed = 1u32;
        let mut phrase_start = 0;
        while out.len() < ms * 8 {
            if out.len() - phrase_start > 2000 * 8 {
                out.extend(silence(400));
                phrase_start = out.len();
            }
            seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
            let syl = 120 + (seed >> 16) as usize % 180;
            for i in 0..syl * 8 {
                let t = i as f64 / 8000.0;
                let v = (2.0 * std::f64::consts::PI * 150.0 * t).sin()
                    + 0.6 * (2.0 * std::f64::consts::PI * 700.0 * t).sin()
                    + 0.4 * (2.0 * std::f64::consts::PI * 1250.0 * t).sin()
                    + 0.3 * (((seed >> 8) as f64 * t * 977.0).sin());
                out.push((v * 4000.0) as i16);
            }
            out.extend(silence(40));
        }
        out.truncate(ms * 8);
        out
    }

    fn cat(parts: &[Vec<i16>]) -> Vec<i16> {
        parts.concat()
    }

    #[test]
    fn silence_and_first_audio() {
        assert_eq!(classify(&silence(5000)), AnswerType::Silence);
        let s = cat(&[silence(700), speech(1000)]);
        assert_eq!(first_audio_ms(&s, 0), Some(700.0));
        assert_eq!(first_audio_ms(&silence(100), 0), None);
    }

    #[test]
    fn greeting_then_waiting_is_human() {
        assert_eq!(
            classify(&cat(&[silence(300), speech(1800), silence(3000)])),
            AnswerType::Human
        );
    }

    #[test]
    fn long_prompt_then_waiting_is_ivr() {
        assert_eq!(
            classify(&cat(&[speech(6000), silence(2500)])),
            AnswerType::Ivr
        );
    }

    #[test]
    fn long_greeting_then_beep_is_voicemail() {
        assert_eq!(
            classify(&cat(&[
                speech(5000),
                silence(200),
                tone(1000.0, 500, 8000.0),
                silence(2000)
            ])),
            AnswerType::Voicemail
        );
    }

    #[test]
    fn information_tone_or_endless_speech_is_an_announcement() {
        let sit = cat(&[
            tone(913.8, 330, 8000.0),
            tone(1370.6, 330, 8000.0),
            tone(1776.7, 380, 8000.0),
            speech(4000),
        ]);
        assert_eq!(classify(&sit), AnswerType::Announcement);
        assert_eq!(classify(&speech(12_000)), AnswerType::Announcement);
        assert_eq!(classify(&speech(6000)), AnswerType::Unknown);
    }

    #[test]
    fn continuous_sound_is_music() {
        let mut m = Vec::new();
        for (i, hz) in [262.0, 330.0, 392.0, 523.0]
            .iter()
            .cycle()
            .take(24)
            .enumerate()
        {
            let mut t = tone(*hz, 250, 6000.0);
            let t2 = tone(*hz * 1.5, 250, 3000.0);
            for (a, b) in t.iter_mut().zip(t2) {
                *a = a.saturating_add(b);
            }
            let _ = i;
            m.extend(t);
        }
        assert_eq!(classify(&m), AnswerType::Music);
    }
}
