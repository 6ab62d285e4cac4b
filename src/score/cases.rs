//! Follow-up cases (SCORING.md §4): a flag opens a case due in `follow_up_days`; a later
//! period in which the centre is clear closes it; an open case past its due date is overdue.

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;

use super::period::Period;
use super::{CentreScores, FlagClass};
use crate::config::ScoringConfig;
use crate::store::{Case, NewCase, Store, StoreError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Overdue,
    Closed,
}

pub fn status(c: &Case, now: DateTime<Utc>) -> CaseStatus {
    if c.closed_at.is_some() {
        CaseStatus::Closed
    } else if c.due_at.as_str() < crate::probe::utc_millis::format(&now).as_str() {
        CaseStatus::Overdue
    } else {
        CaseStatus::Open
    }
}

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Synced {
    pub opened: Vec<String>,
    pub closed: Vec<String>,
}

/// The class a centre's period opens a case with, if any: a threshold flag on the phone, or a
/// critical flag on any channel.
fn opening_class(s: &CentreScores) -> Option<&'static str> {
    match s.flag {
        FlagClass::Confirmed => Some("confirmed"),
        FlagClass::Provisional => Some("provisional"),
        _ if !s.critical.is_empty() => Some("critical"),
        _ => None,
    }
}

/// Opens and closes cases from a period's scores.
pub async fn sync(
    store: &Store,
    scores: &[CentreScores],
    period: &Period,
    k: &ScoringConfig,
    now: DateTime<Utc>,
) -> Result<Synced, StoreError> {
    let mut done = Synced::default();
    // A refresh syncs one centre: its own open cases, not every centre's.
    let open: Vec<Case> = match scores {
        [one] => store.open_cases_of(&one.centre).await?,
        _ => store.open_cases().await?,
    };
    let start = crate::probe::utc_millis::format(&period.start());
    for s in scores {
        let case = open
            .iter()
            .find(|c| c.centre == s.centre && c.channel == "phone");
        match (opening_class(s), case) {
            (Some(class), None) => {
                let opened = store
                    .open_case(&NewCase {
                        centre: &s.centre,
                        channel: "phone",
                        period: &period.label,
                        period_end: period.end(),
                        class,
                        score: s.phone.score.map(|e| e.value),
                        opened_at: now,
                        due_at: now + Duration::days(k.follow_up_days),
                    })
                    .await?;
                if opened {
                    done.opened.push(s.centre.clone());
                }
            }
            // Closed only by a clear period that starts after the flagged one ended.
            (None, Some(c)) if s.flag == FlagClass::Clear && start >= c.period_end => {
                store.close_case(c.id, now, &period.label).await?;
                done.closed.push(s.centre.clone());
            }
            _ => {}
        }
    }
    Ok(done)
}
