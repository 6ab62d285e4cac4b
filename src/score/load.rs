//! Reads what scoring needs from the store: a period's results and the labels in force. The
//! rest of `score` stays a pure function of these.

use std::collections::HashMap;

use super::period::Period;
use super::rules::Label;
use super::{CentreScores, ScoreError, ScoredResult};
use crate::config::ScoringConfig;
use crate::probe::call::audio::AnswerType;
use crate::store::{ResultFilter, Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error("label {id}: unknown answer type '{answer_type}'")]
    Label { id: i64, answer_type: String },
}

/// The labels in force: the latest per result.
pub async fn labels(store: &Store) -> Result<HashMap<i64, Label>, LoadError> {
    let mut out = HashMap::new();
    for l in store.labels().await? {
        let answer_type: AnswerType = serde_json::from_value(serde_json::Value::String(
            l.answer_type.clone(),
        ))
        .map_err(|_| LoadError::Label {
            id: l.id,
            answer_type: l.answer_type.clone(),
        })?;
        out.insert(
            l.result_id,
            Label {
                answer_type,
                time_to_person_secs: l.time_to_person_secs,
                reason: l.reason,
                by: l.by,
                at: l.at,
            },
        );
    }
    Ok(out)
}

/// Every centre's scores for `period`.
pub async fn period_scores(
    store: &Store,
    period: &Period,
    k: &ScoringConfig,
) -> Result<Vec<CentreScores>, LoadError> {
    let results = store
        .results(&ResultFilter {
            since: Some(period.start()),
            until: Some(period.end()),
            ..ResultFilter::default()
        })
        .await?;
    let labels = labels(store).await?;
    let scored: Vec<ScoredResult> = results
        .iter()
        .map(|r| super::score_result(r, labels.get(&r.id), k))
        .collect::<Result<_, _>>()?;
    let centres = store.centres().await?;
    Ok(super::centre_scores(&centres, &scored, period, k))
}
