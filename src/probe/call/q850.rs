//! Q.850 cause codes: the PSTN's own reason for ending a call, which carriers' gateways carry
//! in `Reason: Q.850;cause=N` (RFC 3326). A gateway maps causes to SIP statuses coarsely (RFC
//! 3398: cause 19 "no answer" becomes 480, which alone reads as a rejection); the cause, when
//! sent, says more. It refines the outcome of a final non-2xx response only: an answered call
//! stays answered whatever its BYE says.

use serde::{Deserialize, Serialize};

use super::sip::reason::Reason;
use super::CallOutcome;

/// The Q.850 cause a far end gave, stored on the call's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Q850 {
    /// 1–127 (ITU-T Q.850 Table 1).
    pub cause: u16,
    /// The `text` parameter, as sent (cut to 160 characters).
    pub text: Option<String>,
    /// Which message carried it: `final_response` (the INVITE's final response) or `bye`
    /// (the far end's BYE after answer).
    pub from: String,
}

impl Q850 {
    pub fn of(r: &Reason, from: &str) -> Option<Q850> {
        (r.is_q850() && (1..=127).contains(&r.cause)).then(|| Q850 {
            cause: r.cause as u16,
            text: r.text.clone(),
            from: from.to_string(),
        })
    }

    /// `Q.850 cause 17 (user busy)`, for the result's detail sentence.
    pub fn describe(&self) -> String {
        match words(self.cause) {
            Some((en, _)) => format!("Q.850 cause {} ({en})", self.cause),
            None => format!("Q.850 cause {}", self.cause),
        }
    }
}

/// The outcome a final non-2xx response with this cause has: `None` keeps the SIP status's.
///
/// | cause | meaning | outcome |
/// |---|---|---|
/// | 1 | unallocated number | not in service |
/// | 22 | number changed | not in service |
/// | 28 | invalid number format | not in service |
/// | 17 | user busy | busy |
/// | 18, 19 | no user responding, no answer | no answer |
/// | 21 | call rejected | rejected |
/// | 27 | destination out of order | failed (network fault) |
/// | 34, 38, 41, 42, 47 | congestion and network failures | failed (network fault) |
/// | others (3, 16, 20, 31 …) | | the SIP status decides |
pub fn refine(cause: u16) -> Option<CallOutcome> {
    Some(match cause {
        1 | 22 | 28 => CallOutcome::NotInService,
        17 => CallOutcome::Busy,
        18 | 19 => CallOutcome::NoAnswer,
        21 => CallOutcome::Rejected,
        // raqib cannot tell the carrier's equipment from the centre's: never held against it.
        27 | 34 | 38 | 41 | 42 | 47 => CallOutcome::Failed,
        _ => return None,
    })
}

/// The causes raqib names, in English and Arabic (ITU-T Q.850 Table 1).
pub fn words(cause: u16) -> Option<(&'static str, &'static str)> {
    Some(match cause {
        1 => ("unallocated number", "رقم غير مخصص"),
        3 => ("no route to destination", "لا مسار إلى الوجهة"),
        16 => ("normal call clearing", "إنهاء عادي للمكالمة"),
        17 => ("user busy", "المستخدم مشغول"),
        18 => ("no user responding", "لا يستجيب المستخدم"),
        19 => ("no answer", "لا رد"),
        20 => ("subscriber absent", "المشترك غير متاح"),
        21 => ("call rejected", "رُفضت المكالمة"),
        22 => ("number changed", "تغيّر الرقم"),
        27 => ("destination out of order", "الوجهة معطلة"),
        28 => ("invalid number format", "صيغة الرقم غير صحيحة"),
        31 => ("normal, unspecified", "عادي، غير محدد"),
        34 => ("no circuit available", "لا دائرة متاحة"),
        38 => ("network out of order", "الشبكة معطلة"),
        41 => ("temporary failure", "عطل مؤقت"),
        42 => ("switching equipment congestion", "ازدحام معدات التحويل"),
        47 => ("resource unavailable", "المورد غير متاح"),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_of_the_issue() {
        use CallOutcome::*;
        for (cause, want) in [
            (1, Some(NotInService)),
            (17, Some(Busy)),
            (18, Some(NoAnswer)),
            (19, Some(NoAnswer)),
            (21, Some(Rejected)),
            (34, Some(Failed)),
            (38, Some(Failed)),
            (41, Some(Failed)),
            (42, Some(Failed)),
            (47, Some(Failed)),
            (16, None),
            (31, None),
            (3, None),
            (127, None),
        ] {
            assert_eq!(refine(cause), want, "cause {cause}");
        }
    }

    /// Congestion and network failures never count against the centre; the other refined
    /// outcomes do (in hours).
    #[test]
    fn network_causes_are_excluded_from_scores() {
        use crate::score::rules::{call_validity, Excluded};
        let target = super::super::CallTarget {
            uri: "sip:1@127.0.0.1".into(),
            number: None,
            centre: Some("c".into()),
            unlisted: false,
        };
        for cause in 1..=127 {
            let Some(outcome) = refine(cause) else {
                continue;
            };
            let mut r = super::super::CallResult::start(&target, "hangup".into());
            r.in_hours = Some(true);
            r.outcome = outcome;
            let network = [27, 34, 38, 41, 42, 47].contains(&cause);
            assert_eq!(
                call_validity(&r).err(),
                network.then_some(Excluded::NetworkFault),
                "cause {cause}"
            );
        }
    }

    #[test]
    fn only_q850_causes_in_range_are_kept() {
        let r = |p: &str, c| Reason {
            protocol: p.into(),
            cause: c,
            text: None,
        };
        assert_eq!(Q850::of(&r("Q.850", 17), "bye").map(|q| q.cause), Some(17));
        assert_eq!(Q850::of(&r("SIP", 17), "bye"), None);
        assert_eq!(Q850::of(&r("Q.850", 0), "bye"), None);
        assert_eq!(Q850::of(&r("Q.850", 65_553), "bye"), None);
        let q = Q850::of(&r("q.850", 19), "final_response").unwrap();
        assert_eq!(q.describe(), "Q.850 cause 19 (no answer)");
        assert_eq!(
            Q850::of(&r("Q.850", 99), "bye").unwrap().describe(),
            "Q.850 cause 99"
        );
    }
}
