//! The answer-type classifier against the labelled corpus that `scripts/audio-corpus` makes
//! with espeak-ng and sox (its `tune` part fitted the model; its `held` part never did), each
//! clip through a G.711 round trip and some through packet loss, as `raqib bench answer-type`
//! measures it. Also the lab's own prompts.

mod peers;

use std::path::PathBuf;

use raqib::bench::answer_type::{evaluate, read_corpus, report};
use raqib::config::CallConfig;
use raqib::probe::call::audio::AnswerType;

/// The corpus, made once per test binary in the target directory.
fn corpus() -> Option<PathBuf> {
    static MADE: std::sync::OnceLock<Option<PathBuf>> = std::sync::OnceLock::new();
    MADE.get_or_init(make_corpus).clone()
}

fn make_corpus() -> Option<PathBuf> {
    if !peers::have("espeak-ng", "espeak-ng") || !peers::have("sox", "sox") {
        return None;
    }
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("audio-corpus");
    let _ = std::fs::remove_dir_all(&dir);
    let out = std::process::Command::new("bash")
        .arg(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/audio-corpus"))
        .arg(&dir)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "scripts/audio-corpus: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Some(dir)
}

#[test]
fn corpus_music_is_never_a_person_and_recall_is_met_on_held_back_clips() {
    let Some(dir) = corpus() else { return };
    let clips = read_corpus(&dir).unwrap();
    let min_confidence = CallConfig::default().min_confidence;
    let outcomes = evaluate(&clips, min_confidence).unwrap();

    // The parts are apart: no recording is in both.
    let files = |split: &str| -> std::collections::HashSet<Vec<u8>> {
        clips
            .iter()
            .filter(|c| c.split == split)
            .map(|c| std::fs::read(&c.file).unwrap())
            .collect()
    };
    assert!(files("tune").is_disjoint(&files("held")));

    let held = report(&outcomes, "held");
    let music = held.classifier.total(AnswerType::Music);
    assert!(music >= 40, "{music} held-back music clips");
    assert_eq!(
        held.classifier.count(AnswerType::Music, AnswerType::Human),
        0,
        "music taken for a person:\n{}",
        held.classifier.table()
    );
    for class in [
        AnswerType::Human,
        AnswerType::Ivr,
        AnswerType::Voicemail,
        AnswerType::Music,
        AnswerType::Silence,
    ] {
        let recall = held.classifier.recall(class).unwrap();
        assert!(
            recall >= 0.9,
            "{} recall {recall:.2} on the held-back part:\n{}",
            class.code(),
            held.classifier.table()
        );
    }
    // It beats the first rule, which took this corpus' music for other things.
    assert!(
        held.classifier.recall(AnswerType::Music) > held.heuristic.recall(AnswerType::Music),
        "{}",
        held.heuristic.table()
    );
    // The person's first words are found, after hold music or a menu too.
    let (median, _) = held.person_error_ms.expect("no person heard");
    assert!(median <= 300.0, "median error {median} ms");

    // The lab's own prompts still come out right.
    for o in outcomes.iter().filter(|o| o.split == "lab") {
        assert_eq!(o.classified, o.class, "{}", o.file);
    }
}

#[test]
fn corpus_an_unsure_answer_is_unknown_and_keeps_its_guess() {
    let Some(dir) = corpus() else { return };
    let clips: Vec<_> = read_corpus(&dir)
        .unwrap()
        .into_iter()
        .filter(|c| c.split == "held" && c.class == AnswerType::Human)
        .collect();
    // Asked for certainty no classifier has, every answer is unknown, with its guess kept.
    let outcomes = evaluate(&clips, 1.01).unwrap();
    assert!(outcomes.iter().all(|o| o.classified == AnswerType::Unknown));
    assert!(outcomes
        .iter()
        .any(|o| o.guess == AnswerType::Human && o.heard_person_ms.is_none()));
}

#[test]
fn corpus_special_information_tones_are_heard_where_they_are_and_nowhere_else() {
    let Some(dir) = corpus() else { return };
    let clips = read_corpus(&dir).unwrap();
    let outcomes = evaluate(&clips, CallConfig::default().min_confidence).unwrap();
    let sit = raqib::bench::answer_type::SitReport::of(outcomes.iter());
    eprintln!("{sit:?}");
    assert!(sit.with >= 20 && sit.without >= 200, "{sit:?}");
    // Speech, music, ringback, busy, fax and modem tones, silence: never a SIT.
    let false_ones: Vec<_> = outcomes
        .iter()
        .filter(|o| !o.has_sit && o.sit.is_some())
        .map(|o| (&o.file, o.sit))
        .collect();
    assert!(false_ones.is_empty(), "{false_ones:?}");
    // Through either law, some clips with lost packets.
    assert!(
        sit.detected as f64 >= 0.95 * sit.with as f64,
        "{sit:?}: missed {:?}",
        outcomes
            .iter()
            .filter(|o| o.has_sit && o.sit.is_none())
            .map(|o| (&o.file, o.channel))
            .collect::<Vec<_>>()
    );
}
