//! Special Information Tones: the three rising tones a network plays before an announcement
//! such as "the number you have called is not in service", found in the frames of a call
//! (early media or after answer) and decoded into what they mean.
//!
//! Each 20 ms frame carries, per 5 ms block, the frequency of the block when it is one pure
//! sine (`Frame::tone`, from `block_tones`): a second-order predictor `x[n-1] + x[n+1] =
//! 2 cos(w) x[n]` holds exactly for one sinusoid and for nothing else, so its least-squares
//! `cos(w)` gives the frequency and its residual says whether the block was one tone. Speech,
//! music and the two-frequency ringback and busy tones leave a large residual. Runs of pure
//! blocks in the three SIT bands are then matched as a sequence: three tones in order, each
//! of a SIT's length, with at most a short gap between them.
//!
//! The code is in the frequencies and lengths of the first two tones (Telcordia GR-1162-CORE
//! and ANSI T1.401, as tabulated in vendors' manuals, e.g. the IBM/Blueworx tone table and the
//! Bell System recorder/announcer manual of 1983). Low = 913.8 / 1370.6 Hz, high = 985.2 /
//! 1428.5 Hz; short = 274 ms, long = 380 ms; the third tone is always 1776.7 Hz, 380 ms:
//!
//! | code | meaning                          | 1st          | 2nd           |
//! |------|----------------------------------|--------------|---------------|
//! | IC   | intercept (number changed, AIS)  | low, short   | low, short    |
//! | VC   | vacant code                      | high, long   | low, short    |
//! | RO'  | reorder, intra-LATA              | low, short   | high, long    |
//! | RO'' | reorder, inter-LATA              | high, short  | low, long     |
//! | NC'  | no circuit, intra-LATA           | high, long   | high, long    |
//! | NC'' | no circuit, inter-LATA           | low, long    | low, long     |
//! | IO   | ineffective other                | low, long    | high, short   |
//! | —    | reserved for future use          | high, short  | high, short   |
//!
//! ITU-T E.180 §6 (with Q.35) defines one generic special information tone: 950, 1400 and
//! 1800 Hz (each ± 50 Hz), 330 ± 70 ms each, silent gaps of up to 30 ms; it tells only that
//! the number cannot be reached for a reason other than busy or congestion.

use serde::{Deserialize, Serialize};

use super::{Frame, FRAME};

/// Samples in a block (5 ms): the resolution of a tone's start and end.
pub const BLOCK: usize = 40;
pub const BLOCKS: usize = FRAME / BLOCK;
const BLOCK_MS: f64 = 5.0;

/// A block is a tone when the predictor leaves under this share of its energy (-10 dB): loose
/// enough for a tone 20 dB over line noise, far under speech or chords.
const MAX_RESIDUAL: f64 = 0.1;
/// Quieter than -50 dBFS is line noise, not a tone a network plays (SITs are sent at -24 to
/// -13 dBm0).
const MIN_RMS: f64 = 103.0;

/// The three bands a SIT's tones fall in (Hz), wide enough for E.180's ± 50 Hz.
const BANDS: [(f64, f64); 3] = [(860.0, 1010.0), (1320.0, 1480.0), (1730.0, 1870.0)];
/// A block joins a run when it is this close to the run's mean so far.
const RUN_SPREAD: f64 = 25.0;
/// Impure blocks a run may hold and go on (a click, a lost packet's seam inside a frame).
const RUN_HOLES: usize = 2;
/// The longest silence between two tones of one SIT (E.180 allows 30 ms; one lost packet).
const MAX_GAP_MS: f64 = 60.0;
/// Runs shorter than this are no tone of a SIT.
const MIN_TONE_MS: f64 = 100.0;

const LOW: [f64; 2] = [913.8, 1370.6];
const HIGH: [f64; 2] = [985.2, 1428.5];
const THIRD: f64 = 1776.7;
const E180: [f64; 3] = [950.0, 1400.0, 1800.0];
/// A Telcordia tone is generated within a few Hz; allow for a drifting generator.
const TELCORDIA_TOLERANCE: f64 = 20.0;
const E180_TOLERANCE: f64 = 50.0;
const SHORT_MS: f64 = 274.0;
const LONG_MS: f64 = 380.0;
/// Telcordia's short lasts at most 320 ms and its long at least 340 ms; when both first tones
/// last between, they are E.180's 330 ms, whatever the frequencies (Telcordia's are within
/// E.180's ± 50 Hz). One tone alone between is more likely a long one that lost packets.
const NEITHER_MS: (f64, f64) = (317.0, 343.0);

/// What a special information tone said.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SitVariant {
    /// IC: the number was changed or disconnected.
    Intercept,
    /// VC: no such number or code.
    VacantCode,
    /// RO': the local office could not complete the call.
    ReorderIntra,
    /// RO'': a distant office could not complete the call.
    ReorderInter,
    /// NC': all circuits busy in the local office.
    NoCircuitIntra,
    /// NC'': all circuits busy at a distant office.
    NoCircuitInter,
    /// IO: misdialling or another failure.
    IneffectiveOther,
    /// The one code Telcordia left for future use.
    Reserved,
    /// ITU-T E.180's generic tone: the number cannot be reached (not busy, not congestion).
    Information,
}

impl SitVariant {
    /// The stored code.
    pub fn code(self) -> &'static str {
        match self {
            SitVariant::Intercept => "intercept",
            SitVariant::VacantCode => "vacant_code",
            SitVariant::ReorderIntra => "reorder_intra",
            SitVariant::ReorderInter => "reorder_inter",
            SitVariant::NoCircuitIntra => "no_circuit_intra",
            SitVariant::NoCircuitInter => "no_circuit_inter",
            SitVariant::IneffectiveOther => "ineffective_other",
            SitVariant::Reserved => "reserved",
            SitVariant::Information => "information",
        }
    }

    /// Whether the tone says the number itself is not in service (else the network failed).
    pub fn not_in_service(self) -> bool {
        matches!(
            self,
            SitVariant::Intercept | SitVariant::VacantCode | SitVariant::Information
        )
    }

    /// What it means, in Arabic and in English.
    pub fn words(self) -> (&'static str, &'static str) {
        match self {
            SitVariant::Intercept => (
                "اعتراض: الرقم مفصول أو تغيّر",
                "intercept: the number was disconnected or changed",
            ),
            SitVariant::VacantCode => ("رقم غير مخصّص", "vacant code: no such number"),
            SitVariant::ReorderIntra => (
                "تعذّر إكمال المكالمة في المقسم المحلي",
                "reorder: the local exchange could not complete the call",
            ),
            SitVariant::ReorderInter => (
                "تعذّر إكمال المكالمة في مقسم بعيد",
                "reorder: a distant exchange could not complete the call",
            ),
            SitVariant::NoCircuitIntra => (
                "لا دائرة متاحة في المقسم المحلي",
                "no circuit: all circuits busy in the local exchange",
            ),
            SitVariant::NoCircuitInter => (
                "لا دائرة متاحة في مقسم بعيد",
                "no circuit: all circuits busy at a distant exchange",
            ),
            SitVariant::IneffectiveOther => (
                "محاولة غير ناجحة لسبب آخر",
                "ineffective call for another reason",
            ),
            SitVariant::Reserved => ("نغمة محجوزة غير معرّفة", "a reserved, undefined tone"),
            SitVariant::Information => ("تعذّر الوصول إلى الرقم", "the number cannot be reached"),
        }
    }
}

impl SitVariant {
    /// Every variant, Telcordia's codes first.
    pub const ALL: [SitVariant; 9] = [
        SitVariant::Intercept,
        SitVariant::VacantCode,
        SitVariant::ReorderIntra,
        SitVariant::ReorderInter,
        SitVariant::NoCircuitIntra,
        SitVariant::NoCircuitInter,
        SitVariant::IneffectiveOther,
        SitVariant::Reserved,
        SitVariant::Information,
    ];

    pub fn of_code(code: &str) -> Option<SitVariant> {
        SitVariant::ALL.into_iter().find(|v| v.code() == code)
    }

    /// The three tones, (Hz, ms), as the standard gives them.
    pub fn tones(self) -> [(f64, f64); 3] {
        use SitVariant::*;
        let (s, l) = (SHORT_MS, LONG_MS);
        let (f1, d1, f2, d2) = match self {
            Intercept => (LOW[0], s, LOW[1], s),
            VacantCode => (HIGH[0], l, LOW[1], s),
            ReorderIntra => (LOW[0], s, HIGH[1], l),
            ReorderInter => (HIGH[0], s, LOW[1], l),
            NoCircuitIntra => (HIGH[0], l, HIGH[1], l),
            NoCircuitInter => (LOW[0], l, LOW[1], l),
            IneffectiveOther => (LOW[0], l, HIGH[1], s),
            Reserved => (HIGH[0], s, HIGH[1], s),
            Information => return [(E180[0], 330.0), (E180[1], 330.0), (E180[2], 330.0)],
        };
        [(f1, d1), (f2, d2), (THIRD, l)]
    }
}

/// Tones as a network plays them, 8 kHz: each (Hz, ms) in turn at `dbfs` (peak), the phase
/// carried from one to the next.
pub fn synthesize(parts: &[(f64, f64)], dbfs: f64) -> Vec<i16> {
    let amp = 32767.0 * 10f64.powf(dbfs / 20.0);
    let mut out = Vec::new();
    let mut phase = 0.0f64;
    for &(hz, ms) in parts {
        for _ in 0..(ms * 8.0).round() as usize {
            out.push((amp * phase.sin()).round() as i16);
            phase = (phase + std::f64::consts::TAU * hz / 8000.0) % std::f64::consts::TAU;
        }
    }
    out
}

/// A special information tone heard in a call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SitDetection {
    pub variant: SitVariant,
    /// When the first tone began, in ms from the first INVITE.
    pub at_ms: f64,
    /// Heard in early media, before any answer.
    pub early: bool,
    /// The three tones as measured: frequency (Hz) and length (ms).
    #[serde(default)]
    pub tones: Vec<SitTone>,
}

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct SitTone {
    pub hz: f64,
    pub ms: f64,
}

/// A SIT found in a run of frames.
#[derive(Debug, Clone, PartialEq)]
pub struct Found {
    pub variant: SitVariant,
    /// The frame in which the first tone began.
    pub frame: usize,
    /// Offset of the tone's start in that frame, ms.
    pub offset_ms: f64,
    pub tones: [SitTone; 3],
}

/// The frequency of each 5 ms block of a frame that is one pure tone, in tenths of a Hz
/// (0: not a tone, or too quiet).
pub fn block_tones(x: &[i16]) -> [u16; BLOCKS] {
    let mut out = [0u16; BLOCKS];
    for (slot, b) in out.iter_mut().zip(x.chunks_exact(BLOCK)) {
        let energy: f64 = b.iter().map(|&s| s as f64 * s as f64).sum();
        if (energy / BLOCK as f64).sqrt() < MIN_RMS {
            continue;
        }
        let (mut ab, mut bb) = (0.0, 0.0);
        for n in 1..BLOCK - 1 {
            let a = b[n - 1] as f64 + b[n + 1] as f64;
            let m = b[n] as f64;
            ab += a * m;
            bb += m * m;
        }
        if bb <= 0.0 {
            continue;
        }
        let c = (ab / (2.0 * bb)).clamp(-1.0, 1.0);
        let residual: f64 = (1..BLOCK - 1)
            .map(|n| {
                let e = b[n - 1] as f64 + b[n + 1] as f64 - 2.0 * c * b[n] as f64;
                e * e
            })
            .sum();
        if residual / bb > MAX_RESIDUAL {
            continue;
        }
        let hz = c.acos() * 8000.0 / std::f64::consts::TAU;
        *slot = (hz * 10.0).round().clamp(1.0, u16::MAX as f64) as u16;
    }
    out
}

/// A run of blocks holding one tone.
#[derive(Debug, Clone, Copy)]
struct Run {
    band: usize,
    first: usize,
    last: usize,
    sum: f64,
    n: usize,
}

impl Run {
    fn hz(&self) -> f64 {
        self.sum / self.n as f64
    }

    /// The tone's length: the pure blocks and, on average, half a block at each end.
    fn ms(&self) -> f64 {
        (self.last - self.first + 2) as f64 * BLOCK_MS
    }
}

fn band_of(hz: f64) -> Option<usize> {
    BANDS.iter().position(|(lo, hi)| (*lo..=*hi).contains(&hz))
}

fn runs(frames: &[Frame]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut open: Option<Run> = None;
    let blocks = frames.iter().flat_map(|f| f.tone.iter().copied());
    for (i, t) in blocks.enumerate() {
        let hz = t as f64 / 10.0;
        let band = if t == 0 { None } else { band_of(hz) };
        if let Some(r) = &mut open {
            if band == Some(r.band) && (hz - r.hz()).abs() < RUN_SPREAD {
                r.last = i;
                r.sum += hz;
                r.n += 1;
                continue;
            }
            // A hole (no tone) is skipped; another tone ends the run at once.
            if band.is_none() && i - r.last <= RUN_HOLES {
                continue;
            }
            out.push(*r);
            open = None;
        }
        if let Some(band) = band {
            open = Some(Run {
                band,
                first: i,
                last: i,
                sum: hz,
                n: 1,
            });
        }
    }
    out.extend(open);
    out
}

fn near(hz: f64, nominal: f64, tolerance: f64) -> bool {
    (hz - nominal).abs() <= tolerance
}

/// Decodes three measured tones, or `None` when they are no SIT.
fn decode(t: [SitTone; 3]) -> Option<SitVariant> {
    let lengths_fit = |lo: f64, hi: f64| t.iter().all(|x| (lo..=hi).contains(&x.ms));
    let pick = |hz: f64, pair: usize| -> Option<bool> {
        // Some(true) high, Some(false) low.
        let (l, h) = (LOW[pair], HIGH[pair]);
        if near(hz, l, TELCORDIA_TOLERANCE) && (hz - l).abs() <= (hz - h).abs() {
            Some(false)
        } else if near(hz, h, TELCORDIA_TOLERANCE) {
            Some(true)
        } else {
            None
        }
    };
    let telcordia = match (pick(t[0].hz, 0), pick(t[1].hz, 1)) {
        (Some(a), Some(b)) if near(t[2].hz, THIRD, TELCORDIA_TOLERANCE) => Some((a, b)),
        _ => None,
    };
    let e180 = t
        .iter()
        .zip(E180)
        .all(|(x, f)| near(x.hz, f, E180_TOLERANCE));
    let between = |ms: f64| ms > NEITHER_MS.0 && ms < NEITHER_MS.1;
    match telcordia {
        // Telcordia lengths: 220–320 ms short, 340–460 ms long; 200 allows a lost packet.
        Some((high1, high2))
            if lengths_fit(200.0, 480.0) && !(between(t[0].ms) && between(t[1].ms)) =>
        {
            let long1 = t[0].ms > (SHORT_MS + LONG_MS) / 2.0;
            let long2 = t[1].ms > (SHORT_MS + LONG_MS) / 2.0;
            Some(match (high1, long1, high2, long2) {
                (false, false, false, false) => SitVariant::Intercept,
                (false, true, false, true) => SitVariant::NoCircuitInter,
                (true, true, false, false) => SitVariant::VacantCode,
                (true, false, false, true) => SitVariant::ReorderInter,
                (false, false, true, true) => SitVariant::ReorderIntra,
                (false, true, true, false) => SitVariant::IneffectiveOther,
                (true, true, true, true) => SitVariant::NoCircuitIntra,
                (true, false, true, false) => SitVariant::Reserved,
                // Frequencies and lengths that no code pairs: the lengths misheard (a
                // lost packet); the frequencies are the surer half, so the nearer code.
                (h1, _, h2, _) => nearest(h1, h2, t[0].ms, t[1].ms),
            })
        }
        // E.180: 330 ± 70 ms each; 250 allows a lost packet.
        _ if (e180 || telcordia.is_some()) && lengths_fit(250.0, 420.0) => {
            Some(SitVariant::Information)
        }
        _ => None,
    }
}

/// Of the two codes with these frequencies, the one whose lengths are nearer.
fn nearest(high1: bool, high2: bool, ms1: f64, ms2: f64) -> SitVariant {
    use SitVariant::*;
    let (a, b) = match (high1, high2) {
        (false, false) => (
            (Intercept, SHORT_MS, SHORT_MS),
            (NoCircuitInter, LONG_MS, LONG_MS),
        ),
        (true, false) => (
            (VacantCode, LONG_MS, SHORT_MS),
            (ReorderInter, SHORT_MS, LONG_MS),
        ),
        (false, true) => (
            (ReorderIntra, SHORT_MS, LONG_MS),
            (IneffectiveOther, LONG_MS, SHORT_MS),
        ),
        (true, true) => (
            (NoCircuitIntra, LONG_MS, LONG_MS),
            (Reserved, SHORT_MS, SHORT_MS),
        ),
    };
    let d = |x: (SitVariant, f64, f64)| (ms1 - x.1).abs() + (ms2 - x.2).abs();
    if d(a) <= d(b) {
        a.0
    } else {
        b.0
    }
}

/// The first special information tone in `frames`, if any.
pub fn detect(frames: &[Frame]) -> Option<Found> {
    // A seam between two tones can look like a block of a third frequency: too short to be
    // a tone, it is left out (and counted in the gap).
    let runs: Vec<Run> = runs(frames)
        .into_iter()
        .filter(|r| r.ms() >= MIN_TONE_MS)
        .collect();
    for w in runs.windows(3) {
        if w.iter().enumerate().any(|(i, r)| r.band != i) {
            continue;
        }
        let gap = |a: &Run, b: &Run| (b.first - a.last - 1) as f64 * BLOCK_MS;
        if gap(&w[0], &w[1]) > MAX_GAP_MS || gap(&w[1], &w[2]) > MAX_GAP_MS {
            continue;
        }
        let tones = [0, 1, 2].map(|i| SitTone {
            hz: (w[i].hz() * 10.0).round() / 10.0,
            ms: w[i].ms(),
        });
        if let Some(variant) = decode(tones) {
            // The tone began half a block before its first pure block, on average.
            let start = (w[0].first as f64 - 0.5).max(0.0) * BLOCK_MS;
            let frame = (start / 20.0) as usize;
            return Some(Found {
                variant,
                frame,
                offset_ms: start - frame as f64 * 20.0,
                tones,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::call::audio::listen::frames;
    use crate::probe::call::g711;

    fn tones(parts: &[(f64, f64)], db: f64) -> Vec<i16> {
        synthesize(parts, db)
    }

    fn silence(ms: usize) -> Vec<i16> {
        vec![0; ms * 8]
    }

    /// Through a G.711 law (0 μ-law, 8 A-law) in 20 ms packets, dropping those listed.
    fn line(x: &[i16], pt: u8, lost: &[usize]) -> Vec<i16> {
        let mut out = Vec::new();
        for (i, p) in x.chunks(FRAME).enumerate() {
            if !lost.contains(&i) {
                g711::decode(pt, &g711::encode(pt, p), &mut out);
            }
        }
        out
    }

    fn lab(name: &str) -> Vec<i16> {
        let path = format!("{}/probes/calls/lab/{name}.wav", env!("CARGO_MANIFEST_DIR"));
        crate::probe::call::read_wav_8k(&std::fs::read(path).unwrap()).unwrap()
    }

    const ALL: [SitVariant; 9] = SitVariant::ALL;

    fn sit(v: SitVariant) -> [(f64, f64); 3] {
        v.tones()
    }

    #[test]
    fn a_pure_tone_is_measured_and_a_chord_is_not() {
        let x = tones(&[(913.8, 20.0)], -20.0);
        for t in block_tones(&line(&x, 0, &[])) {
            assert!((t as f64 / 10.0 - 913.8).abs() < 3.0, "{t}");
        }
        // Ringback and busy: their 5 ms blocks may look like one tone, never in a SIT band.
        for (a, b) in [(440.0, 480.0), (480.0, 620.0), (400.0, 450.0)] {
            let chord: Vec<i16> = (0..8000)
                .map(|n| {
                    let t = n as f64 / 8000.0;
                    (6000.0
                        * ((std::f64::consts::TAU * a * t).sin()
                            + (std::f64::consts::TAU * b * t).sin())) as i16
                })
                .collect();
            let f = frames(&line(&chord, 0, &[]));
            let in_band = f
                .iter()
                .flat_map(|f| f.tone)
                .filter(|&t| t > 0 && band_of(t as f64 / 10.0).is_some())
                .count();
            assert_eq!(in_band, 0, "{a}+{b}");
        }
    }

    #[test]
    fn every_variant_is_decoded_through_either_law_with_loss_drift_and_speech_after() {
        // The lab's announcement after its own SIT (1040 ms).
        let speech = lab("not-in-service")[1040 * 8..].to_vec();
        for v in ALL {
            for pt in [0u8, 8] {
                for (drift, db, lost) in [
                    (0.0, -13.0, vec![]),
                    // A few Hz off, quiet, a packet lost in the first and in the third tone.
                    (4.0, -35.0, vec![27, 37]),
                    (-3.0, -24.0, vec![29]),
                ] {
                    let parts = sit(v).map(|(hz, ms)| (hz + drift, ms));
                    let mut x = silence(230);
                    x.extend(tones(&parts, db));
                    x.extend(silence(40));
                    x.extend(&speech);
                    let heard = line(&x, pt, &lost);
                    let found = detect(&frames(&heard));
                    let found = found.unwrap_or_else(|| panic!("{v:?} pt {pt} drift {drift}"));
                    assert_eq!(found.variant, v, "pt {pt} drift {drift} {:?}", found.tones);
                    let at = found.frame as f64 * 20.0 + found.offset_ms;
                    assert!((at - 230.0).abs() <= 10.0, "{v:?} starts at {at}");
                }
            }
        }
    }

    #[test]
    fn speech_music_and_call_progress_tones_are_no_sit() {
        for name in ["greeting", "ivr-prompt", "music", "voicemail"] {
            for pt in [0u8, 8] {
                let heard = line(&lab(name), pt, &[3, 50]);
                assert_eq!(detect(&frames(&heard)), None, "{name}");
            }
        }
        // A single tone in each band, too long; and the three in the wrong order.
        for parts in [
            vec![(913.8, 1000.0), (1370.6, 1000.0), (1776.7, 1000.0)],
            vec![(1776.7, 380.0), (1370.6, 274.0), (913.8, 274.0)],
            vec![(1000.0, 500.0)],
        ] {
            assert_eq!(detect(&frames(&tones(&parts, -10.0))), None, "{parts:?}");
        }
    }

    #[test]
    fn e180_lengths_with_telcordia_frequencies_are_the_generic_tone() {
        let x = tones(&[(913.8, 330.0), (1370.6, 330.0), (1776.7, 380.0)], -10.0);
        let found = detect(&frames(&x)).unwrap();
        assert_eq!(found.variant, SitVariant::Information, "{:?}", found.tones);
    }
}
