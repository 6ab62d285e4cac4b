//! One result's validity and score (SCORING.md §1–3). Pure functions of the stored result,
//! its auditor label and the `[scoring]` knobs: a score always reproduces from the store.

use serde::Serialize;

use crate::config::ScoringConfig;
use crate::probe::call::audio::AnswerType;
use crate::probe::call::{CallOutcome, CallResult};
use crate::probe::web::audit::PageOutcome;
use crate::probe::web::{WebOutcome, WebResult};

/// Why a result does not count against its centre.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    serde::Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Excluded {
    /// raqib could not run the probe (local error, no socket).
    RaqibFault,
    /// 408, 5xx, no route or unreachable trunk: the network's or the carrier's, not the centre's.
    NetworkFault,
    /// The dialling guard refused the number: never dialled.
    GuardRefused,
    /// The centre was closed when the call was placed.
    OutsideHours,
    /// The stored result cannot be read as a call or web result (damaged, or written by
    /// another version): counted apart so that one bad row never hides a period's verdicts.
    Unreadable,
}

/// Full marks at or below `full`, zero at or above `zero`, linear between.
pub fn linear_down(x: f64, full: f64, zero: f64) -> f64 {
    ((zero - x) / (zero - full)).clamp(0.0, 1.0)
}

/// Full marks at or above `full`, zero at or below `zero`, linear between.
pub fn linear_up(x: f64, full: f64, zero: f64) -> f64 {
    ((x - zero) / (full - zero)).clamp(0.0, 1.0)
}

pub fn call_validity(c: &CallResult) -> Result<(), Excluded> {
    match c.outcome {
        CallOutcome::Error => Err(Excluded::RaqibFault),
        CallOutcome::Refused => Err(Excluded::GuardRefused),
        CallOutcome::Failed | CallOutcome::Unreachable => Err(Excluded::NetworkFault),
        _ if c.in_hours == Some(false) => Err(Excluded::OutsideHours),
        _ => Ok(()),
    }
}

pub fn web_validity(w: &WebResult) -> Result<(), Excluded> {
    match w.outcome {
        WebOutcome::Error => Err(Excluded::RaqibFault),
        _ => Ok(()),
    }
}

/// An auditor's reading of a call's recording: it overrides the heuristic.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Label {
    pub answer_type: AnswerType,
    /// Seconds from answer to a person, when the auditor heard it.
    pub time_to_person_secs: Option<f64>,
    pub reason: String,
    pub by: String,
    pub at: String,
}

/// One component of a call's score: `points` earned of `max`, or left out (`null` points) when
/// it could not be measured.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct Component {
    #[schema(value_type = String)]
    pub name: &'static str,
    pub max: f64,
    pub points: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct CallScore {
    /// 0–100.
    pub score: f64,
    pub components: Vec<Component>,
    pub answered: bool,
    pub reached_person: bool,
    /// `label`, `ivr` or `heuristic`: where "reached a person" came from.
    pub person_source: Option<&'static str>,
    /// Seconds from answer to a person, when known.
    pub time_to_person_secs: Option<f64>,
    /// Seconds from the INVITE to the person (ring time plus time to a person).
    pub person_after_dial_secs: Option<f64>,
    /// Seconds from the INVITE to the answer, for an answered call.
    #[serde(default)]
    pub answer_secs: Option<f64>,
    pub not_in_service: bool,
    /// A sentence on what was left out or capped.
    pub note: Option<String>,
}

/// A valid call's score (SCORING.md §2).
pub fn call_score(c: &CallResult, label: Option<&Label>, k: &ScoringConfig) -> CallScore {
    let [w_answer, w_ring, w_person, w_time, w_quality] = k.call_weights;
    let answered = c.outcome == CallOutcome::Answered;
    let (reached, source) = match (label, &c.ivr, c.answer_type) {
        _ if !answered => (false, None),
        (Some(l), _, _) => (l.answer_type == AnswerType::Human, Some("label")),
        (None, Some(ivr), _) if ivr.reaches_agent => (true, Some("ivr")),
        (None, _, Some(t)) => (t == AnswerType::Human, Some("heuristic")),
        (None, _, None) => (false, None),
    };
    let ring_secs = c.timings_ms.answer.map(|ms| ms / 1000.0);
    // Time to a person: the auditor's figure, else when the classifier heard the person
    // begin to speak (after any menu or music); results stored before it measured that
    // fall back to the first audio. An IVR's agent hand-over time is not measured.
    let heard = c.timings_ms.person.or(c.timings_ms.first_audio);
    let time_to_person = match (reached, source) {
        (false, _) => None,
        (true, Some("label")) => label
            .and_then(|l| l.time_to_person_secs)
            .or(heard.map(|ms| ms / 1000.0)),
        (true, Some("heuristic")) => heard.map(|ms| ms / 1000.0),
        _ => None,
    };
    let mos = c.rtp.as_ref().filter(|r| r.packets > 0).map(|r| r.mos);
    let components = if answered {
        vec![
            Component {
                name: "network_answer",
                max: w_answer,
                points: Some(w_answer),
            },
            Component {
                name: "ring_time",
                max: w_ring,
                points: ring_secs
                    .map(|s| w_ring * linear_down(s, k.ring_full_secs, k.ring_zero_secs)),
            },
            Component {
                name: "reached_person",
                max: w_person,
                points: Some(if reached { w_person } else { 0.0 }),
            },
            Component {
                name: "time_to_person",
                max: w_time,
                points: match reached {
                    false => Some(0.0),
                    true => time_to_person
                        .map(|s| w_time * linear_down(s, k.person_full_secs, k.person_zero_secs)),
                },
            },
            Component {
                name: "voice_quality",
                max: w_quality,
                points: mos.map(|m| w_quality * linear_up(m, k.mos_full, k.mos_zero)),
            },
        ]
    } else {
        // Busy, no answer, declined, not in service: nothing earned, nothing to measure.
        [
            "network_answer",
            "ring_time",
            "reached_person",
            "time_to_person",
        ]
        .into_iter()
        .zip([w_answer, w_ring, w_person, w_time])
        .map(|(name, max)| Component {
            name,
            max,
            points: Some(0.0),
        })
        .chain([Component {
            name: "voice_quality",
            max: w_quality,
            points: None,
        }])
        .collect()
    };
    let measured: f64 = components
        .iter()
        .filter(|c| c.points.is_some())
        .map(|c| c.max)
        .sum();
    let earned: f64 = components.iter().filter_map(|c| c.points).sum();
    let mut score = if measured > 0.0 {
        100.0 * earned / measured
    } else {
        0.0
    };
    let mut notes = Vec::new();
    if answered {
        let left_out: Vec<&str> = components
            .iter()
            .filter(|c| c.points.is_none())
            .map(|c| c.name)
            .collect();
        if !left_out.is_empty() {
            notes.push(format!(
                "not measured, left out and the rest rescaled: {}",
                left_out.join(", ")
            ));
        }
        if !reached && score > k.no_person_cap {
            score = k.no_person_cap;
            notes.push(format!("no person reached: capped at {}", k.no_person_cap));
        }
    }
    CallScore {
        score: round2(score),
        components,
        answered,
        reached_person: reached,
        person_source: source,
        time_to_person_secs: time_to_person,
        person_after_dial_secs: match (ring_secs, time_to_person) {
            (Some(r), Some(t)) => Some(r + t),
            _ => None,
        },
        answer_secs: ring_secs.filter(|_| answered),
        not_in_service: c.outcome == CallOutcome::NotInService,
        note: (!notes.is_empty()).then(|| notes.join("; ")),
    }
}

pub fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// What one valid web check brings to its site's period.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WebCheckScore {
    /// DNS, TLS, 2xx within the redirects, body in time, content check: all passed.
    pub good: bool,
    /// LCP of the home page, scored 0–100 (`null` without a browser audit).
    pub performance: Option<f64>,
    /// The automated accessibility score 0–100 over the audited pages.
    pub accessibility: Option<f64>,
}

pub fn web_check_score(w: &WebResult, k: &ScoringConfig) -> WebCheckScore {
    let audited = w.browser.as_ref().filter(|b| b.outcome.counts());
    WebCheckScore {
        good: matches!(w.outcome, WebOutcome::Up | WebOutcome::Degraded),
        performance: audited
            .filter(|b| b.outcome != PageOutcome::BrowserError)
            .and_then(|b| b.timings_ms.lcp)
            .map(|lcp| 100.0 * linear_down(lcp, k.lcp_full_ms, k.lcp_zero_ms)),
        accessibility: audited.and(w.a11y.as_ref()).map(|a| a.score),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::call::{CallTimings, RtpSummary};
    use crate::probe::Channel;

    pub fn call(outcome: CallOutcome, answer_ms: Option<f64>) -> CallResult {
        CallResult {
            channel: Channel::Phone,
            centre: Some("c".into()),
            target: "sip:+1@x".into(),
            started_at: chrono::Utc::now(),
            outcome,
            sip_status: None,
            sip_reason: None,
            timings_ms: CallTimings {
                answer: answer_ms,
                first_audio: answer_ms.map(|_| 1000.0),
                total: 0.0,
                ..Default::default()
            },
            answer_type: answer_ms.map(|_| AnswerType::Human),
            rtp: answer_ms.map(|_| RtpSummary {
                packets: 500,
                lost: 0,
                loss_pct: 0.0,
                jitter_ms: 1.0,
                mos: 4.35,
                ..Default::default()
            }),
            recording: None,
            sip_trace: None,
            number: None,
            unlisted: false,
            answer_type_source: None,
            answer_type_confidence: None,
            answer_type_guess: None,
            early_media: false,
            hangup_by: None,
            after_answer: "notice".into(),
            redirects: vec![],
            ivr: None,
            in_hours: Some(true),
            detail: None,
            sit: None,
            q850: None,
            transport: None,
            srtp: false,
        }
    }

    fn k() -> ScoringConfig {
        ScoringConfig::default()
    }

    #[test]
    fn a_prompt_human_answer_scores_100() {
        let s = call_score(&call(CallOutcome::Answered, Some(3000.0)), None, &k());
        assert_eq!(s.score, 100.0);
        assert!(s.reached_person && s.note.is_none());
    }

    #[test]
    fn ring_and_person_times_are_linear_by_hand() {
        // Ring 40 s: half of 15 points; person after 180 s: half of 15; MOS 3.55: half of 15.
        let mut c = call(CallOutcome::Answered, Some(40_000.0));
        c.timings_ms.first_audio = Some(180_000.0);
        c.rtp.as_mut().unwrap().mos = 3.55;
        let s = call_score(&c, None, &k());
        assert_eq!(s.score, 25.0 + 7.5 + 30.0 + 7.5 + 7.5);
        assert_eq!(s.person_after_dial_secs, Some(220.0));
        // Past the zero points nothing is earned for those components.
        c.timings_ms.answer = Some(61_000.0);
        c.timings_ms.first_audio = Some(301_000.0);
        c.rtp.as_mut().unwrap().mos = 3.0;
        assert_eq!(call_score(&c, None, &k()).score, 55.0);
    }

    #[test]
    fn time_to_a_person_runs_to_their_first_words_not_to_the_first_audio() {
        // Hold music from 1 s, the person's words at 180 s: half of the 15 points.
        let mut c = call(CallOutcome::Answered, Some(3000.0));
        c.timings_ms.first_audio = Some(1000.0);
        c.timings_ms.person = Some(180_000.0);
        let s = call_score(&c, None, &k());
        assert_eq!(s.time_to_person_secs, Some(180.0));
        assert_eq!(s.score, 100.0 - 7.5);
        // An unsure call (unknown) never reaches a person, whatever was guessed.
        c.answer_type = Some(AnswerType::Unknown);
        c.answer_type_guess = Some(AnswerType::Human);
        let s = call_score(&c, None, &k());
        assert!(!s.reached_person && s.time_to_person_secs.is_none());
    }

    #[test]
    fn an_ivr_or_voicemail_alone_scores_at_most_55() {
        for t in [
            AnswerType::Ivr,
            AnswerType::Voicemail,
            AnswerType::Music,
            AnswerType::Tone,
        ] {
            let mut c = call(CallOutcome::Answered, Some(1000.0));
            c.answer_type = Some(t);
            let s = call_score(&c, None, &k());
            assert_eq!(s.score, 55.0, "{t:?}");
            assert!(!s.reached_person);
        }
        // Without RTP the quality is left out and the rest rescaled, but the cap holds:
        // 40 of 85 measured points = 47.06.
        let mut c = call(CallOutcome::Answered, Some(1000.0));
        c.answer_type = Some(AnswerType::Ivr);
        c.rtp = None;
        let s = call_score(&c, None, &k());
        assert_eq!(s.score, 47.06);
        assert!(s.note.unwrap().contains("voice_quality"));
    }

    #[test]
    fn a_label_overrides_the_heuristic() {
        let mut c = call(CallOutcome::Answered, Some(1000.0));
        c.answer_type = Some(AnswerType::Voicemail);
        let label = Label {
            answer_type: AnswerType::Human,
            time_to_person_secs: Some(60.0),
            reason: "a clerk answered after the beep".into(),
            by: "auditor".into(),
            at: "2026-11-23T00:00:00Z".into(),
        };
        let s = call_score(&c, Some(&label), &k());
        assert_eq!((s.score, s.person_source), (100.0, Some("label")));
        let mut c = call(CallOutcome::Answered, Some(1000.0));
        let label = Label {
            answer_type: AnswerType::Voicemail,
            ..label
        };
        c.answer_type = Some(AnswerType::Human);
        assert_eq!(call_score(&c, Some(&label), &k()).score, 55.0);
    }

    #[test]
    fn unanswered_calls_score_zero_and_validity_follows_section_1() {
        for o in [
            CallOutcome::Busy,
            CallOutcome::NoAnswer,
            CallOutcome::Rejected,
            CallOutcome::NotInService,
        ] {
            let c = call(o, None);
            assert_eq!(call_validity(&c), Ok(()));
            let s = call_score(&c, None, &k());
            assert_eq!(s.score, 0.0);
            assert_eq!(s.not_in_service, o == CallOutcome::NotInService);
        }
        for (o, why) in [
            (CallOutcome::Failed, Excluded::NetworkFault),
            (CallOutcome::Unreachable, Excluded::NetworkFault),
            (CallOutcome::Refused, Excluded::GuardRefused),
            (CallOutcome::Error, Excluded::RaqibFault),
        ] {
            assert_eq!(call_validity(&call(o, None)), Err(why));
        }
        let mut c = call(CallOutcome::Answered, Some(1.0));
        c.in_hours = Some(false);
        assert_eq!(call_validity(&c), Err(Excluded::OutsideHours));
    }

    /// Property: scores stay in 0..=100 and a faster answer never scores lower.
    #[test]
    fn scores_are_bounded_and_monotone_in_answer_time() {
        let mut rng = crate::score::stats::SplitMix64::new(11);
        let types = [
            AnswerType::Human,
            AnswerType::Ivr,
            AnswerType::Voicemail,
            AnswerType::Silence,
            AnswerType::Unknown,
        ];
        for _ in 0..20_000 {
            let ring = rng.below(90_000) as f64;
            let faster = ring * (rng.below(1000) as f64 / 1000.0);
            let mut c = call(CallOutcome::Answered, Some(ring));
            c.answer_type = Some(types[rng.below(types.len())]);
            c.timings_ms.first_audio = Some(rng.below(400_000) as f64);
            if rng.below(4) == 0 {
                c.rtp = None;
            } else {
                c.rtp.as_mut().unwrap().mos = 1.0 + rng.below(3500) as f64 / 1000.0;
            }
            let s = call_score(&c, None, &k()).score;
            assert!((0.0..=100.0).contains(&s), "{s}");
            let mut f = c.clone();
            f.timings_ms.answer = Some(faster);
            let sf = call_score(&f, None, &k()).score;
            assert!(
                sf >= s,
                "faster answer {faster} scored {sf} < {s} at {ring}"
            );
        }
    }
}
