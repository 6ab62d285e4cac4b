//! What answered, from the frames after answer: a small model names each frame's sound from
//! its half-second context, and rules over the sounds' sequence name the answer type.
//!
//! The rules say what an auditor listens for: a person greets briefly and waits (a burst of
//! 0.3–4 s of speech, not over music, then 1.2 s of silence), after nothing, after music or
//! a tone, or after a prompt and a wait; a menu speaks for seconds and then waits; a
//! voicemail ends its greeting with a beep; hold music is mostly music. Each answer carries
//! how sure the model was of the frames the rule rested on; under the configured level the
//! call is `unknown` and goes to an auditor. A person is never the fallback of a doubt.

use super::{model, AnswerType, Frame};

/// The sounds a frame is named.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sound {
    Silence = 0,
    Speech = 1,
    Music = 2,
    Tone = 3,
}

pub const SOUNDS: [Sound; 4] = [Sound::Silence, Sound::Speech, Sound::Music, Sound::Tone];
pub const CLASSES: usize = 4;
pub const FEATURES: usize = 16;
pub type Features = [f32; FEATURES];

/// Frames either side in a context (0.5 s in all).
const CONTEXT: usize = 12;
/// Frames either side whose probabilities are averaged before a frame is named (0.2 s).
const SMOOTH: usize = 5;
const MS: usize = 20;

/// A small network over standardised features: one hidden layer of `HIDDEN` tanh units, then
/// a softmax over the sounds. Small enough to read, fit in seconds, and run per frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub mean: Features,
    pub scale: Features,
    pub w1: [[f32; HIDDEN]; FEATURES],
    pub b1: [f32; HIDDEN],
    pub w2: [[f32; CLASSES]; HIDDEN],
    pub b2: [f32; CLASSES],
}

pub const HIDDEN: usize = 8;

impl Model {
    fn hidden(&self, z: &Features) -> [f32; HIDDEN] {
        std::array::from_fn(|h| {
            (self.b1[h] + (0..FEATURES).map(|i| z[i] * self.w1[i][h]).sum::<f32>()).tanh()
        })
    }

    fn out(&self, hid: &[f32; HIDDEN]) -> [f32; CLASSES] {
        softmax(std::array::from_fn(|c| {
            self.b2[c] + (0..HIDDEN).map(|h| hid[h] * self.w2[h][c]).sum::<f32>()
        }))
    }

    fn standard(&self, x: &Features) -> Features {
        std::array::from_fn(|i| (x[i] - self.mean[i]) / self.scale[i])
    }

    pub fn probabilities(&self, x: &Features) -> [f32; CLASSES] {
        self.out(&self.hidden(&self.standard(x)))
    }

    /// Fits the network to labelled frames: Adam on shuffled batches, each sound weighing the
    /// same whatever its number of frames; a fixed seed, so the same frames give the same
    /// weights.
    pub fn train(samples: &[(Features, Sound)], epochs: usize, seed: u64) -> Model {
        let n = samples.len().max(1) as f32;
        let mut mean = [0f32; FEATURES];
        let mut scale = [0f32; FEATURES];
        for (x, _) in samples {
            for i in 0..FEATURES {
                mean[i] += x[i] / n;
            }
        }
        for (x, _) in samples {
            for i in 0..FEATURES {
                scale[i] += (x[i] - mean[i]).powi(2) / n;
            }
        }
        for s in &mut scale {
            *s = s.sqrt().max(1e-3);
        }
        let mut rng = crate::rng::SplitMix64::new(seed);
        let mut normal = |sd: f32| {
            // Sum of four uniforms: near enough to normal for a starting point.
            let u: f32 = (0..4)
                .map(|_| (rng.next_u64() >> 40) as f32 / (1u64 << 24) as f32)
                .sum();
            (u - 2.0) * sd * 1.732
        };
        let mut m = Model {
            mean,
            scale,
            w1: [[0.0; HIDDEN]; FEATURES],
            b1: [0.0; HIDDEN],
            w2: [[0.0; CLASSES]; HIDDEN],
            b2: [0.0; CLASSES],
        };
        for row in &mut m.w1 {
            for w in row {
                *w = normal(1.0 / (FEATURES as f32).sqrt());
            }
        }
        for row in &mut m.w2 {
            for w in row {
                *w = normal(1.0 / (HIDDEN as f32).sqrt());
            }
        }
        let z: Vec<Features> = samples.iter().map(|(x, _)| m.standard(x)).collect();
        let mut per = [0f32; CLASSES];
        for (_, s) in samples {
            per[*s as usize] += 1.0;
        }
        let weight: [f32; CLASSES] =
            std::array::from_fn(|c| n / (CLASSES as f32 * per[c].max(1.0)));
        // Parameters flattened for Adam: w1, b1, w2, b2.
        let sizes = FEATURES * HIDDEN + HIDDEN + HIDDEN * CLASSES + CLASSES;
        let (mut m1, mut m2) = (vec![0f32; sizes], vec![0f32; sizes]);
        let (rate, b1, b2, l2) = (0.01f32, 0.9f32, 0.999f32, 1e-4f32);
        let mut order: Vec<usize> = (0..samples.len()).collect();
        let mut step = 0;
        for _ in 0..epochs {
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            for batch in order.chunks(512) {
                let mut g = vec![0f32; sizes];
                for &k in batch {
                    let hid = m.hidden(&z[k]);
                    let p = m.out(&hid);
                    let s = samples[k].1 as usize;
                    let d2: [f32; CLASSES] = std::array::from_fn(|c| {
                        weight[s] * (p[c] - (c == s) as u8 as f32) / batch.len() as f32
                    });
                    let o2 = FEATURES * HIDDEN + HIDDEN;
                    for h in 0..HIDDEN {
                        let mut back = 0.0;
                        for c in 0..CLASSES {
                            g[o2 + h * CLASSES + c] += hid[h] * d2[c];
                            back += d2[c] * m.w2[h][c];
                        }
                        let d1 = back * (1.0 - hid[h] * hid[h]);
                        for i in 0..FEATURES {
                            g[i * HIDDEN + h] += z[k][i] * d1;
                        }
                        g[FEATURES * HIDDEN + h] += d1;
                    }
                    for c in 0..CLASSES {
                        g[o2 + HIDDEN * CLASSES + c] += d2[c];
                    }
                }
                step += 1;
                let mut params = m.flat();
                for j in 0..sizes {
                    let is_weight = j < FEATURES * HIDDEN
                        || (FEATURES * HIDDEN + HIDDEN..sizes - CLASSES).contains(&j);
                    let gj = g[j] + if is_weight { l2 * params[j] } else { 0.0 };
                    m1[j] = b1 * m1[j] + (1.0 - b1) * gj;
                    m2[j] = b2 * m2[j] + (1.0 - b2) * gj * gj;
                    let mh = m1[j] / (1.0 - b1.powi(step));
                    let vh = m2[j] / (1.0 - b2.powi(step));
                    params[j] -= rate * mh / (vh.sqrt() + 1e-8);
                }
                m.set_flat(&params);
            }
        }
        m
    }

    fn flat(&self) -> Vec<f32> {
        let mut v: Vec<f32> = self.w1.iter().flatten().copied().collect();
        v.extend(self.b1);
        v.extend(self.w2.iter().flatten());
        v.extend(self.b2);
        v
    }

    fn set_flat(&mut self, v: &[f32]) {
        let mut it = v.iter().copied();
        for w in self.w1.iter_mut().flatten() {
            *w = it.next().unwrap_or(0.0);
        }
        for w in &mut self.b1 {
            *w = it.next().unwrap_or(0.0);
        }
        for w in self.w2.iter_mut().flatten() {
            *w = it.next().unwrap_or(0.0);
        }
        for w in &mut self.b2 {
            *w = it.next().unwrap_or(0.0);
        }
    }

    /// The model as the Rust source of `model.rs`.
    pub fn to_rust(&self, provenance: &str) -> String {
        let list = |xs: &[f32]| {
            xs.iter()
                .map(|x| format!("{x:e}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        let rows = |rows: Vec<&[f32]>| {
            rows.iter()
                .map(|r| format!("        [{}],\n", list(r)))
                .collect::<String>()
        };
        format!(
            "//! The frame model's weights. Written by `raqib bench answer-type --train`; do not edit.\n\
             //! {provenance}\n\n\
             use super::classify::Model;\n\n\
             pub const TRAINED: Model = Model {{\n    mean: [{}],\n    scale: [{}],\n    \
             w1: [\n{}    ],\n    b1: [{}],\n    w2: [\n{}    ],\n    b2: [{}],\n}};\n",
            list(&self.mean),
            list(&self.scale),
            rows(self.w1.iter().map(|r| &r[..]).collect()),
            list(&self.b1),
            rows(self.w2.iter().map(|r| &r[..]).collect()),
            list(&self.b2),
        )
    }
}

fn softmax(z: [f32; CLASSES]) -> [f32; CLASSES] {
    let top = z.iter().copied().fold(f32::MIN, f32::max);
    let e: [f32; CLASSES] = std::array::from_fn(|c| (z[c] - top).exp());
    let sum: f32 = e.iter().sum();
    std::array::from_fn(|c| e[c] / sum)
}

/// The level under which a recording's quietest tenth lies (its line noise), and the level
/// its loudest twentieth reaches (its sound).
pub fn levels(frames: &[Frame]) -> (f32, f32) {
    let mut dbs: Vec<f32> = frames.iter().map(|f| f.db).collect();
    if dbs.is_empty() {
        return (-100.0, -100.0);
    }
    dbs.sort_by(|a, b| a.total_cmp(b));
    (dbs[dbs.len() / 10], dbs[dbs.len() * 19 / 20])
}

/// Each frame's features with its context: what the model reads. Levels are taken against
/// the recording's own floor and loudness, so a quiet line and a loud one read alike.
pub fn context_features(frames: &[Frame]) -> Vec<Features> {
    let (floor, loud) = levels(frames);
    let n = frames.len();
    (0..n)
        .map(|i| {
            let ctx = &frames[i.saturating_sub(CONTEXT)..(i + CONTEXT + 1).min(n)];
            let wide = &frames[i.saturating_sub(25)..(i + 25).min(n)];
            let k = ctx.len() as f32;
            let mean = |f: fn(&Frame) -> f32| ctx.iter().map(f).sum::<f32>() / k;
            let top = ctx.iter().map(|f| f.db).fold(-100f32, f32::max);
            let db_mean = mean(|f| f.db);
            let db_sd = (ctx.iter().map(|f| (f.db - db_mean).powi(2)).sum::<f32>() / k).sqrt();
            let dips = ctx.iter().filter(|f| f.db < top - 15.0).count() as f32 / k;
            let c_mean = mean(|f| f.centroid);
            let c_sd = (ctx
                .iter()
                .map(|f| (f.centroid - c_mean).powi(2))
                .sum::<f32>()
                / k)
                .sqrt();
            let f = &frames[i];
            let (moves, steady) = pitch_moves(wide);
            [
                (f.db - loud).clamp(-60.0, 10.0),
                (f.db - floor).clamp(0.0, 60.0),
                (top - floor).clamp(0.0, 60.0),
                db_sd,
                mean(|f| f.voice),
                mean(|f| f.flat),
                mean(|f| f.peak2),
                mean(|f| f.sustain),
                mean(|f| f.flux),
                dips,
                c_mean,
                syllabic(wide, floor),
                c_sd,
                moves,
                steady,
                (loud - floor).clamp(0.0, 80.0),
            ]
        })
        .collect()
}

/// Over about a second: how often the strongest partial jumps between frames (notes change
/// in steps, speech glides, a tone never moves), and the share of frames at the most common
/// one (a tone holds one frequency for seconds).
fn pitch_moves(frames: &[Frame]) -> (f32, f32) {
    let bin = |f: &Frame| (f.top * 256.0).round() as i32;
    let mut pairs = 0;
    let mut jumps = 0;
    for w in frames.windows(2) {
        if w[0].top > 0.0 && w[1].top > 0.0 {
            pairs += 1;
            if (bin(&w[0]) - bin(&w[1])).abs() > 2 {
                jumps += 1;
            }
        }
    }
    let mut counts = std::collections::HashMap::new();
    for f in frames.iter().filter(|f| f.top > 0.0) {
        *counts.entry(bin(f) / 2).or_insert(0usize) += 1;
    }
    let most = counts.values().copied().max().unwrap_or(0);
    (
        if pairs > 0 {
            jumps as f32 / pairs as f32
        } else {
            0.0
        },
        most as f32 / frames.len().max(1) as f32,
    )
}

/// The share of the level's modulation at syllable rates (3–8 Hz) among 1–12 Hz, over about
/// a second: speech comes and goes four or five times a second.
fn syllabic(frames: &[Frame], floor: f32) -> f32 {
    let n = frames.len();
    if n < 10 {
        return 0.0;
    }
    let env: Vec<f32> = frames.iter().map(|f| (f.db - floor).max(0.0)).collect();
    let mean = env.iter().sum::<f32>() / n as f32;
    let secs = n as f32 * MS as f32 / 1000.0;
    let mut band = 0.0;
    let mut all = 1e-6;
    for hz in 1..=12 {
        let w = 2.0 * std::f32::consts::PI * hz as f32 / 50.0;
        let (mut re, mut im) = (0.0, 0.0);
        for (t, e) in env.iter().enumerate() {
            re += (e - mean) * (w * t as f32).cos();
            im += (e - mean) * (w * t as f32).sin();
        }
        let p = (re * re + im * im) / secs;
        all += p;
        if (3..=8).contains(&hz) {
            band += p;
        }
    }
    band / all
}

/// Each frame's probabilities of silence, speech, music and tone.
pub fn sounds(frames: &[Frame]) -> Vec<[f32; CLASSES]> {
    context_features(frames)
        .iter()
        .map(|x| model::TRAINED.probabilities(x))
        .collect()
}

/// What answered, how sure, and when a person began to speak.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Classified {
    /// `unknown` when the guess's confidence is under the level asked for.
    pub answer_type: AnswerType,
    /// What the rules found, however sure.
    pub guess: AnswerType,
    /// 0–1: how sure the model was of the frames the guess rests on.
    pub confidence: f64,
    /// Milliseconds from the first frame to the start of the person's speech.
    pub person_ms: Option<f64>,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    sound: Sound,
    start: usize,
    len: usize,
}

impl Run {
    fn end(&self) -> usize {
        self.start + self.len
    }
}

fn runs(labels: &[Sound]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    for (i, &s) in labels.iter().enumerate() {
        match out.last_mut() {
            Some(r) if r.sound == s => r.len += 1,
            _ => out.push(Run {
                sound: s,
                start: i,
                len: 1,
            }),
        }
    }
    out
}

/// Names the answer from the frames after answer; under `min_confidence` it is `unknown`.
pub fn classify(frames: &[Frame], min_confidence: f64) -> Classified {
    let (guess, confidence, person) = decide(frames);
    let sure = confidence >= min_confidence;
    Classified {
        answer_type: if sure { guess } else { AnswerType::Unknown },
        guess,
        confidence,
        person_ms: person.filter(|_| sure).map(|f| (f * MS) as f64),
    }
}

/// Frames (20 ms) the rules count in.
const CLICK: usize = 5; // a sound shorter than this is a click or a slip
const HELD_VOWEL: usize = 40; // a steady sound this short beside words is a held vowel
const BURST_GAP: usize = 35; // pauses inside a greeting
const PERSON_MIN: usize = 15;
const PERSON_MAX: usize = 200;
const WAIT: usize = 60; // a person waits this long for the caller
const QUIET_BEFORE: usize = 75; // no words this long before a person (a menu's last line)
const AFTER_MUSIC: usize = 5; // a pause between music and a person
const MESSAGE_GAP: usize = 60; // pauses inside a recorded message
const MESSAGE_MIN: usize = 150;
const IVR_WAIT: usize = 75; // a menu waits this long for a digit
const BEEP: std::ops::RangeInclusive<usize> = 10..=125;
/// Spectral flatness over which a steady sound is line noise.
const NOISE_FLAT: f32 = 0.3;

/// The distinct notes (semitones of the strongest partial) that hold at least 3 % of the
/// frames: a network tone has one to three, hold music five or more.
fn notes(frames: &[&Frame]) -> usize {
    let tops: Vec<f32> = frames.iter().map(|f| f.top).filter(|t| *t > 0.0).collect();
    let mut counts = std::collections::HashMap::new();
    for t in &tops {
        let semitone = (12.0 * (t * 4000.0 / 100.0).log2()).round() as i32;
        *counts.entry(semitone).or_insert(0usize) += 1;
    }
    let least = 3.max(tops.len() * 3 / 100);
    counts.values().filter(|c| **c >= least).count()
}

fn decide(frames: &[Frame]) -> (AnswerType, f64, Option<usize>) {
    use Sound::{Music as Steady, Silence, Speech};
    let n = frames.len();
    if n == 0 {
        return (AnswerType::Silence, 1.0, None);
    }
    let p = sounds(frames);
    let q: Vec<[f32; CLASSES]> = (0..n)
        .map(|i| {
            let w = &p[i.saturating_sub(SMOOTH)..(i + SMOOTH + 1).min(n)];
            std::array::from_fn(|c| w.iter().map(|x| x[c]).sum::<f32>() / w.len() as f32)
        })
        .collect();
    // Music and tones are one steady sound until their notes are counted.
    let qq: Vec<[f32; 3]> = q.iter().map(|x| [x[0], x[1], x[2] + x[3]]).collect();
    let mut labels: Vec<Sound> = qq
        .iter()
        .map(|x| match (0..3).max_by(|a, b| x[*a].total_cmp(&x[*b])) {
            Some(1) => Speech,
            Some(2) => Steady,
            _ => Silence,
        })
        .collect();
    for r in runs(&labels) {
        if r.sound != Silence && r.len < CLICK {
            let before = labels[..r.start].last().copied().unwrap_or(Silence);
            labels[r.start..r.end()].fill(before);
        }
    }
    // A steady sound whose frames are flat is line noise.
    for r in runs(&labels) {
        if r.sound == Steady {
            let mut flat: Vec<f32> = frames[r.start..r.end()].iter().map(|f| f.flat).collect();
            flat.sort_by(|a, b| a.total_cmp(b));
            if flat[flat.len() / 2] > NOISE_FLAT {
                labels[r.start..r.end()].fill(Silence);
            }
        }
    }
    let rs = runs(&labels);
    let mean_of = |a: usize, b: usize, c: usize| -> f64 {
        q[a..b].iter().map(|x| x[c] as f64).sum::<f64>() / (b - a).max(1) as f64
    };
    for (j, r) in rs.iter().enumerate() {
        if r.sound != Steady
            || r.len >= HELD_VOWEL
            || mean_of(r.start, r.end(), 2) <= mean_of(r.start, r.end(), 3)
        {
            continue;
        }
        let prev = rs[..j].iter().rev().find(|x| x.sound != Silence);
        let next = rs[j + 1..].iter().find(|x| x.sound != Silence);
        let near_prev = prev.is_some_and(|x| x.sound == Speech && r.start - x.end() < 15);
        let near_next = next.is_some_and(|x| x.sound == Speech && x.start - r.end() < 15);
        if near_prev || near_next {
            labels[r.start..r.end()].fill(Speech);
        }
    }
    let rs = runs(&labels);
    let span = |a: usize, b: usize, s: Sound| -> f64 {
        if b <= a {
            return 1.0;
        }
        qq[a..b].iter().map(|x| x[s as usize] as f64).sum::<f64>() / (b - a) as f64
    };
    let count = |s: Sound| labels.iter().filter(|l| **l == s).count();
    let steady_frames = |r: &Run| frames[r.start..r.end()].iter().collect::<Vec<_>>();
    let sounding = n - count(Silence);
    if sounding < 15 || sounding * 20 < n {
        return (AnswerType::Silence, span(0, n, Silence), None);
    }
    let bursts = merge(&rs, Speech, BURST_GAP);

    // An information tone (a few notes, under 2 s), words soon after, and no music later:
    // a network's announcement.
    if let Some(f) = rs.iter().find(|r| r.sound != Silence) {
        if f.sound == Steady
            && (10..=100).contains(&f.len)
            && notes(&steady_frames(f)) <= 3
            && bursts
                .iter()
                .any(|b| b.start >= f.end() && b.start - f.end() < 50)
            && count(Steady) - f.len <= 100
        {
            return (
                AnswerType::Announcement,
                span(f.start, f.end(), Steady),
                None,
            );
        }
    }

    // A person: a short burst after a wait, not over music, then 1.2 s of silence.
    for b in &bursts {
        if !(PERSON_MIN..=PERSON_MAX).contains(&b.len) {
            continue;
        }
        let wait_end = (b.end() + WAIT).min(n);
        if wait_end - b.end() < WAIT || labels[b.end()..wait_end].iter().any(|l| *l != Silence) {
            continue;
        }
        // A menu's last line is the menu: a person's words come after a quiet wait.
        if labels[b.start.saturating_sub(QUIET_BEFORE)..b.start].contains(&Speech) {
            continue;
        }
        if b.start >= AFTER_MUSIC
            && labels[b.start - AFTER_MUSIC..b.start]
                .iter()
                .any(|l| *l != Silence)
        {
            continue;
        }
        if span(b.start, b.end(), Steady) > 0.5 {
            continue;
        }
        // Music coming back: the words were over the hold music.
        if labels[wait_end..].iter().filter(|l| **l == Steady).count() > 50 {
            continue;
        }
        let c = span(b.start, b.end(), Speech).min(span(b.end(), wait_end, Silence));
        return (AnswerType::Human, c, Some(b.start));
    }

    let steady = count(Steady);
    if steady * 2 >= sounding {
        let all: Vec<&Frame> = frames
            .iter()
            .zip(&labels)
            .filter(|(_, l)| **l == Steady)
            .map(|(f, _)| f)
            .collect();
        let c = qq
            .iter()
            .zip(&labels)
            .filter(|(_, l)| **l == Steady)
            .map(|(x, _)| x[2] as f64)
            .sum::<f64>()
            / steady as f64;
        // A tone comes and goes (ringback, busy) or holds one note (a modem); a few notes
        // played on without a break are a tune.
        let k = notes(&all);
        let cadence =
            rs.iter().filter(|r| r.sound == Steady).count() >= 2 || k == 1 || steady < 150;
        return match k {
            k if k >= 5 || !cadence => (AnswerType::Music, c, None),
            k if k <= 3 && count(Speech) < 50 => (AnswerType::Tone, c, None),
            k if k >= 4 => (AnswerType::Music, c * 0.5, None),
            _ => (AnswerType::Tone, c * 0.5, None),
        };
    }

    // A beep after seconds of words, then quiet: a voicemail greeting.
    for (j, t) in rs.iter().enumerate() {
        if t.sound != Steady || !BEEP.contains(&t.len) || notes(&steady_frames(t)) > 2 {
            continue;
        }
        let before = rs[..j].iter().rev().find(|r| r.sound != Silence);
        if !before.is_some_and(|r| r.sound == Speech && t.start - r.end() <= 50) {
            continue;
        }
        let said: Vec<usize> = (0..t.start).filter(|i| labels[*i] == Speech).collect();
        if said.len() < MESSAGE_MIN
            || labels[t.end()..(t.end() + 50).min(n)]
                .iter()
                .any(|l| *l != Silence)
        {
            continue;
        }
        let words = said.iter().map(|i| qq[*i][1] as f64).sum::<f64>() / said.len() as f64;
        return (
            AnswerType::Voicemail,
            words.min(span(t.start, t.end(), Steady)),
            None,
        );
    }

    // A recorded message: speech with pauses under 1.2 s (and held vowels), then a wait.
    for m in message_runs(&rs).iter().filter(|m| m.len >= MESSAGE_MIN) {
        let next = rs.iter().find(|r| r.start >= m.end() && r.sound != Silence);
        let said = span(m.start, m.end(), Speech);
        let quiet = next.map_or(n, |r| r.start) - m.end();
        if quiet >= IVR_WAIT {
            return (
                AnswerType::Ivr,
                said.min(span(m.end(), m.end() + quiet, Silence)),
                None,
            );
        }
        if m.end() + 5 >= n && m.len >= 400 {
            return (AnswerType::Announcement, said * 0.8, None);
        }
    }
    (AnswerType::Unknown, 0.0, None)
}

/// Speech runs joined across pauses under `MESSAGE_GAP` and across steady sounds shorter
/// than `HELD_VOWEL` (a recorded voice holds some vowels like notes).
fn message_runs(rs: &[Run]) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut last_end: Option<usize> = None;
    for r in rs {
        if r.sound == Sound::Silence {
            continue;
        }
        if r.sound != Sound::Speech && r.len >= HELD_VOWEL {
            last_end = None;
            continue;
        }
        match (out.last_mut(), last_end) {
            (Some(m), Some(e)) if r.start - e < MESSAGE_GAP => m.len = r.end() - m.start,
            _ if r.sound == Sound::Speech => out.push(*r),
            _ => continue,
        }
        last_end = Some(r.end());
    }
    out
}

/// Runs of `sound` joined across pauses of silence shorter than `gap` frames.
fn merge(rs: &[Run], sound: Sound, gap: usize) -> Vec<Run> {
    let mut out: Vec<Run> = Vec::new();
    let mut last_end = None;
    for r in rs {
        if r.sound == Sound::Silence {
            continue;
        }
        if r.sound != sound {
            last_end = None;
            continue;
        }
        match (out.last_mut(), last_end) {
            (Some(m), Some(e)) if r.start - e < gap => m.len = r.end() - m.start,
            _ => out.push(*r),
        }
        last_end = Some(r.end());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hz: f32) -> Frame {
        Frame {
            top: hz / 4000.0,
            ..Frame::default()
        }
    }

    #[test]
    fn a_tone_has_few_notes_and_a_tune_many() {
        // Ringback's two partials, the strongest flipping between them.
        let ring: Vec<Frame> = (0..100)
            .map(|i| at(if i % 3 == 0 { 400.0 } else { 450.0 }))
            .collect();
        assert_eq!(notes(&ring.iter().collect::<Vec<_>>()), 2);
        // A melody over a major scale.
        let tune: Vec<Frame> = [262.0, 294.0, 330.0, 349.0, 392.0, 440.0, 494.0]
            .iter()
            .flat_map(|hz| std::iter::repeat_n(at(*hz), 15))
            .collect();
        assert_eq!(notes(&tune.iter().collect::<Vec<_>>()), 7);
    }

    #[test]
    fn nothing_heard_is_silence_for_sure_and_never_a_person() {
        let quiet = super::super::frames(&vec![0i16; 8000 * 10]);
        let c = classify(&quiet, 0.5);
        assert_eq!((c.answer_type, c.person_ms), (AnswerType::Silence, None));
        assert_eq!(classify(&[], 0.5).answer_type, AnswerType::Silence);
        // Asked for more certainty than there is, the answer is unknown with its guess kept.
        let unsure = classify(&quiet, 1.01);
        assert_eq!(
            (unsure.answer_type, unsure.guess),
            (AnswerType::Unknown, AnswerType::Silence)
        );
    }

    #[test]
    fn the_network_learns_what_separates_the_sounds_and_the_same_frames_give_the_same_weights() {
        let samples: Vec<(Features, Sound)> = (0..400)
            .map(|i| {
                let mut x = [0.0; FEATURES];
                x[0] = (i % 4) as f32 * 10.0 + (i % 7) as f32 * 0.1;
                x[1] = (i % 5) as f32;
                (x, SOUNDS[i % 4])
            })
            .collect();
        let m = Model::train(&samples, 40, 7);
        for (x, s) in &samples {
            let p = m.probabilities(x);
            let best = (0..CLASSES).max_by(|a, b| p[*a].total_cmp(&p[*b])).unwrap();
            assert_eq!(best, *s as usize, "{x:?}: {p:?}");
        }
        assert_eq!(m, Model::train(&samples, 40, 7));
        assert!(m.to_rust("test").contains("pub const TRAINED: Model"));
    }
}
