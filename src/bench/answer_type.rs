//! `raqib bench answer-type`: the answer-type classifier against a labelled corpus (made by
//! `scripts/audio-corpus`), each clip sent through a G.711 round trip and some through packet
//! loss first; and `--train`, which fits the frame model on the corpus' `tune` part only.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::probe::call::audio::classify::{self, Features, Model, Sound};
use crate::probe::call::audio::sit::SitVariant;
use crate::probe::call::audio::{self, heuristic, AnswerType, Frame};
use crate::probe::call::g711;
use crate::rng::SplitMix64;

#[derive(Debug, thiserror::Error)]
pub enum CorpusError {
    #[error("{path}: {message} (make the corpus with scripts/audio-corpus DIR)")]
    Manifest { path: String, message: String },
    #[error("{path}:{line}: {message}")]
    Row {
        path: String,
        line: usize,
        message: String,
    },
    #[error("{path}: {message}")]
    Wav { path: String, message: String },
    #[error("{path}: the corpus has no clip in its {split} part")]
    Empty { path: String, split: String },
}

/// One labelled recording of the corpus.
#[derive(Debug, Clone)]
pub struct Clip {
    pub split: String,
    pub class: AnswerType,
    pub file: PathBuf,
    /// When the person begins to speak, for a `human` clip.
    pub person_ms: Option<f64>,
    pub recipe: String,
}

impl Clip {
    /// Whether the recipe put a special information tone in the clip.
    pub fn has_sit(&self) -> bool {
        self.recipe.contains("sit")
    }
}

/// Reads `DIR/manifest.tsv`: `split class file person_ms recipe`, a header first.
pub fn read_corpus(dir: &Path) -> Result<Vec<Clip>, CorpusError> {
    let path = dir.join("manifest.tsv");
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(&path).map_err(|e| CorpusError::Manifest {
        path: shown.clone(),
        message: e.to_string(),
    })?;
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let row = |message: String| CorpusError::Row {
            path: shown.clone(),
            line: i + 1,
            message,
        };
        let cols: Vec<&str> = line.split('\t').collect();
        let [split, class, file, person, recipe, ..] = cols[..] else {
            return Err(row(format!("{} columns, expected 5", cols.len())));
        };
        let class =
            AnswerType::of_code(class).ok_or_else(|| row(format!("unknown class '{class}'")))?;
        let person_ms = match person {
            "" => None,
            p => Some(
                p.parse::<f64>()
                    .map_err(|_| row(format!("person_ms '{p}' is not a number")))?,
            ),
        };
        out.push(Clip {
            split: split.to_string(),
            class,
            file: dir.join(file),
            person_ms,
            recipe: recipe.to_string(),
        });
    }
    Ok(out)
}

fn read_wav(path: &Path) -> Result<Vec<i16>, CorpusError> {
    let bad = |message: String| CorpusError::Wav {
        path: path.display().to_string(),
        message,
    };
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    crate::probe::call::read_wav_8k(&bytes).map_err(|e| bad(e.to_string()))
}

/// How a clip reaches the classifier: which G.711 law and how many packets are lost.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct Channel {
    pub law: &'static str,
    pub loss_pct: u32,
}

/// The clip's channel, fixed by its place in the corpus: half μ-law, half A-law; a quarter
/// with 1 % and a quarter with 3 % of 20 ms packets lost.
pub fn channel_of(index: usize) -> Channel {
    Channel {
        law: if index.is_multiple_of(2) {
            "ulaw"
        } else {
            "alaw"
        },
        loss_pct: [0, 1, 0, 3][index % 4],
    }
}

/// The samples as a call receives them: through the law, lost packets missing (the call's
/// capture has nothing to put in their place).
pub fn through(samples: &[i16], ch: Channel, seed: u64) -> Vec<i16> {
    let pt = if ch.law == "ulaw" { 0 } else { 8 };
    let mut rng = SplitMix64::new(seed);
    let mut out = Vec::with_capacity(samples.len());
    for packet in samples.chunks(audio::FRAME) {
        if ch.loss_pct > 0 && rng.below(100) < ch.loss_pct as usize {
            continue;
        }
        g711::decode(pt, &g711::encode(pt, packet), &mut out);
    }
    out
}

/// What each classifier said of one clip.
#[derive(Debug, Clone, Serialize)]
pub struct Outcome {
    pub file: String,
    pub split: String,
    pub class: AnswerType,
    pub classified: AnswerType,
    pub guess: AnswerType,
    pub confidence: f64,
    pub heuristic: AnswerType,
    pub person_ms: Option<f64>,
    pub heard_person_ms: Option<f64>,
    pub channel: Channel,
    /// Whether the clip holds a special information tone, and what the detector heard.
    pub has_sit: bool,
    pub sit: Option<SitVariant>,
}

/// The frames of clip `index` as a call would hear it.
pub fn frames_of(clip: &Clip, index: usize) -> Result<Vec<Frame>, CorpusError> {
    let samples = read_wav(&clip.file)?;
    let heard = through(&samples, channel_of(index), index as u64);
    Ok(audio::listen::frames_for_both(&heard))
}

/// Classifies every clip (on all cores: clips are independent).
pub fn evaluate(clips: &[Clip], min_confidence: f64) -> Result<Vec<Outcome>, CorpusError> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let next = std::sync::atomic::AtomicUsize::new(0);
    let results = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                let Some(clip) = clips.get(i) else { break };
                let outcome = frames_of(clip, i).map(|frames| {
                    let c = audio::classify(&frames, min_confidence);
                    Outcome {
                        file: clip.file.display().to_string(),
                        split: clip.split.clone(),
                        class: clip.class,
                        classified: c.answer_type,
                        guess: c.guess,
                        confidence: c.confidence,
                        heuristic: heuristic::classify_frames(&frames),
                        person_ms: clip.person_ms,
                        heard_person_ms: c.person_ms,
                        channel: channel_of(i),
                        has_sit: clip.has_sit(),
                        sit: audio::sit::detect(&frames).map(|f| f.variant),
                    }
                });
                results
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .push((i, outcome));
            });
        }
    });
    let mut all = results.into_inner().unwrap_or_else(|e| e.into_inner());
    all.sort_by_key(|(i, _)| *i);
    all.into_iter().map(|(_, o)| o).collect()
}

/// Counts of (true class, answer) and what follows from them.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Confusion {
    pub clips: usize,
    /// `counts[true][answered]`, by code.
    pub counts: BTreeMap<&'static str, BTreeMap<&'static str, usize>>,
}

impl Confusion {
    pub fn of(pairs: impl Iterator<Item = (AnswerType, AnswerType)>) -> Confusion {
        let mut c = Confusion::default();
        for (truth, said) in pairs {
            c.clips += 1;
            *c.counts
                .entry(truth.code())
                .or_default()
                .entry(said.code())
                .or_default() += 1;
        }
        c
    }

    pub fn count(&self, truth: AnswerType, said: AnswerType) -> usize {
        self.counts
            .get(truth.code())
            .and_then(|r| r.get(said.code()))
            .copied()
            .unwrap_or(0)
    }

    pub fn total(&self, truth: AnswerType) -> usize {
        self.counts
            .get(truth.code())
            .map_or(0, |r| r.values().sum())
    }

    /// Share of the class's clips given that class.
    pub fn recall(&self, t: AnswerType) -> Option<f64> {
        let n = self.total(t);
        (n > 0).then(|| self.count(t, t) as f64 / n as f64)
    }

    /// Share of the clips given that class that were of it.
    pub fn precision(&self, t: AnswerType) -> Option<f64> {
        let said: usize = AnswerType::ALL.iter().map(|&x| self.count(x, t)).sum();
        (said > 0).then(|| self.count(t, t) as f64 / said as f64)
    }

    /// The matrix as a Markdown table (rows: the truth; columns: the answer).
    pub fn table(&self) -> String {
        let cols: Vec<AnswerType> = AnswerType::ALL.to_vec();
        let rows: Vec<AnswerType> = AnswerType::ALL
            .into_iter()
            .filter(|t| self.total(*t) > 0)
            .collect();
        let mut out = String::from("| truth \\ answer |");
        for c in &cols {
            out += &format!(" {} |", c.code());
        }
        out += " recall | precision |\n|---|";
        out += &"---|".repeat(cols.len() + 2);
        out.push('\n');
        for r in rows {
            out += &format!("| {} ({}) |", r.code(), self.total(r));
            for c in &cols {
                out += &format!(" {} |", self.count(r, *c));
            }
            let pct = |x: Option<f64>| x.map_or("—".into(), |x| format!("{:.2}", x));
            out += &format!(" {} | {} |\n", pct(self.recall(r)), pct(self.precision(r)));
        }
        out
    }
}

/// The classifier's and the old rule's matrices on one part of the corpus.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub split: String,
    pub classifier: Confusion,
    pub heuristic: Confusion,
    /// Music clips given `human` by the classifier / by the old rule.
    pub music_as_human: (usize, usize),
    /// |heard − true| start of the person's speech, for human clips answered `human`: median
    /// and largest, in ms.
    pub person_error_ms: Option<(f64, f64)>,
    pub sit: SitReport,
}

/// The special information tone detector on one part of the corpus.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SitReport {
    /// Clips with a SIT, and how many of them it was heard in.
    pub with: usize,
    pub detected: usize,
    /// Clips without one, and how many a SIT was heard in (must be none).
    pub without: usize,
    pub false_detections: usize,
    /// What the detected tones were decoded as.
    pub variants: BTreeMap<&'static str, usize>,
}

impl SitReport {
    pub fn of<'a>(outcomes: impl Iterator<Item = &'a Outcome>) -> SitReport {
        let mut r = SitReport::default();
        for o in outcomes {
            if o.has_sit {
                r.with += 1;
                if let Some(v) = o.sit {
                    r.detected += 1;
                    *r.variants.entry(v.code()).or_default() += 1;
                }
            } else {
                r.without += 1;
                r.false_detections += o.sit.is_some() as usize;
            }
        }
        r
    }
}

pub fn report(outcomes: &[Outcome], split: &str) -> Report {
    let part: Vec<&Outcome> = outcomes.iter().filter(|o| o.split == split).collect();
    let classifier = Confusion::of(part.iter().map(|o| (o.class, o.classified)));
    let heuristic = Confusion::of(part.iter().map(|o| (o.class, o.heuristic)));
    let mut errors: Vec<f64> = part
        .iter()
        .filter_map(|o| Some((o.person_ms? - o.heard_person_ms?).abs()))
        .collect();
    errors.sort_by(|a, b| a.total_cmp(b));
    Report {
        split: split.to_string(),
        music_as_human: (
            classifier.count(AnswerType::Music, AnswerType::Human),
            heuristic.count(AnswerType::Music, AnswerType::Human),
        ),
        classifier,
        heuristic,
        person_error_ms: (!errors.is_empty())
            .then(|| (errors[errors.len() / 2], errors[errors.len() - 1])),
        sit: SitReport::of(part.iter().copied()),
    }
}

/// The sound of each frame of a clip, as training reads it: frames 8 dB over the clip's
/// noise floor are its sound (for music and tones, which may be their own floor, also the
/// tonal frames over -55 dBFS), with pauses under 300 ms inside it and 40 ms around it (a phrase, not its
/// syllables); the rest is silence. A beep or an information tone inside speech is a tone.
/// Frames of a person after a wait are used from the person on.
fn labels(clip: &Clip, frames: &[Frame]) -> Vec<Option<Sound>> {
    let (floor, _) = classify::levels(frames);
    let continuous = matches!(clip.class, AnswerType::Music | AnswerType::Tone);
    let loud: Vec<bool> = frames
        .iter()
        .map(|f| match clip.class {
            AnswerType::Silence => false,
            // Its quietest frames are still music where they are tonal, line noise where
            // they are flat.
            _ if continuous => f.db > -55.0 && (f.db > floor + 8.0 || f.flat < 0.25),
            _ => f.db > -60.0 && f.db > floor + 8.0,
        })
        .collect();
    let mut sound = loud.clone();
    // Close pauses under 300 ms, then widen by two frames.
    let mut last: Option<usize> = None;
    for i in 0..loud.len() {
        if loud[i] {
            if let Some(l) = last.filter(|l| i - l <= 15) {
                sound[l..i].fill(true);
            }
            last = Some(i);
        }
    }
    let widened: Vec<bool> = (0..sound.len())
        .map(|i| {
            sound[i.saturating_sub(2)..(i + 3).min(sound.len())]
                .iter()
                .any(|x| *x)
        })
        .collect();
    let from = clip.person_ms.map_or(0, |ms| (ms / 20.0) as usize);
    frames
        .iter()
        .zip(widened)
        .enumerate()
        .map(|(i, (f, on))| {
            if i < from {
                return None;
            }
            if !on {
                return Some(Sound::Silence);
            }
            Some(match clip.class {
                AnswerType::Music => Sound::Music,
                AnswerType::Tone => Sound::Tone,
                _ if f.peak2 > 0.8 && f.db > floor + 8.0 => Sound::Tone,
                _ => Sound::Speech,
            })
        })
        .collect()
}

/// Every clip's frames, features and training labels as JSON lines, for study.
pub fn dump(clips: &[Clip], out: &mut impl std::io::Write) -> Result<(), CorpusError> {
    for (i, clip) in clips.iter().enumerate() {
        let frames = frames_of(clip, i)?;
        let raw: Vec<[f32; 8]> = frames
            .iter()
            .map(|f| {
                [
                    f.db, f.voice, f.flat, f.peak2, f.sustain, f.flux, f.centroid, f.top,
                ]
            })
            .collect();
        let line = serde_json::json!({
            "file": clip.file.display().to_string(),
            "split": clip.split,
            "class": clip.class.code(),
            "person_ms": clip.person_ms,
            "raw": raw,
            "ctx": classify::context_features(&frames),
            "labels": labels(clip, &frames).iter().map(|l| l.map(|s| s as u8)).collect::<Vec<_>>(),
        });
        let _ = writeln!(out, "{line}");
    }
    Ok(())
}

/// Fits the frame model on the `tune` clips (every other frame) and returns it.
pub fn train(clips: &[Clip], epochs: usize) -> Result<Model, CorpusError> {
    let mut samples: Vec<(Features, Sound)> = Vec::new();
    for (i, clip) in clips.iter().enumerate() {
        if clip.split != "tune" {
            continue;
        }
        let frames = frames_of(clip, i)?;
        let features = classify::context_features(&frames);
        for (k, (x, l)) in features.iter().zip(labels(clip, &frames)).enumerate() {
            if let (0, Some(l)) = (k % 2, l) {
                samples.push((*x, l));
            }
        }
    }
    Ok(Model::train(&samples, epochs, 1))
}
