//! Reads what scoring needs from the store: a period's results and the labels in force. The
//! rest of `score` stays a pure function of these.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::period::Period;
use super::rules::Label;
use super::{CentreScores, ScoreError, ScoredResult};
use crate::config::ScoringConfig;
use crate::probe::call::audio::AnswerType;
use crate::store::{Store, StoreError};

#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Score(#[from] ScoreError),
    #[error("label {id}: unknown answer type '{answer_type}'")]
    Label { id: i64, answer_type: String },
    #[error("a read of results stopped: {0}")]
    Read(String),
}

/// The labels in force: the latest per result.
pub async fn labels(store: &Store) -> Result<HashMap<i64, Label>, LoadError> {
    let mut out = HashMap::new();
    for l in store.labels().await? {
        out.insert(l.result_id, label_from(l)?);
    }
    Ok(out)
}

/// The labels in force for one centre's results started in `[since, until)`.
pub async fn labels_of_centre(
    store: &Store,
    centre: &str,
    since: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<HashMap<i64, Label>, LoadError> {
    let mut out = HashMap::new();
    for l in store.labels_of_centre(centre, since, until).await? {
        out.insert(l.result_id, label_from(l)?);
    }
    Ok(out)
}

/// The label in force for one result, reading only its labels.
pub async fn label_of(store: &Store, result_id: i64) -> Result<Option<Label>, LoadError> {
    store
        .labels_of(result_id)
        .await?
        .pop()
        .map(label_from)
        .transpose()
}

fn label_from(l: crate::store::StoredLabel) -> Result<Label, LoadError> {
    let answer_type: AnswerType =
        serde_json::from_value(serde_json::Value::String(l.answer_type.clone())).map_err(|_| {
            LoadError::Label {
                id: l.id,
                answer_type: l.answer_type.clone(),
            }
        })?;
    Ok(Label {
        answer_type,
        time_to_person_secs: l.time_to_person_secs,
        reason: l.reason,
        by: l.by,
        at: l.at,
    })
}

/// Results read at a time when a whole period is scored.
const RESULTS_PAGE: i64 = 5000;

/// Every stored result of `period`, scored with the labels in force, in time order (the order
/// the methodology reads them in).
///
/// The period is read as one slice of time per core, side by side: reading and decoding
/// the results is most of a rebuild, and a database answers one query on one core.
pub async fn scored_results(
    store: &Store,
    period: &Period,
    k: &ScoringConfig,
) -> Result<Vec<ScoredResult>, LoadError> {
    let labels = std::sync::Arc::new(labels(store).await?);
    let (start, end) = (period.start(), period.end());
    let slices = std::thread::available_parallelism().map_or(1, |n| n.get()) as i32;
    let step = (end - start) / slices;
    let mut reads = tokio::task::JoinSet::new();
    for i in 0..slices {
        let from = start + step * i;
        let until = if i + 1 == slices {
            end
        } else {
            start + step * (i + 1)
        };
        let (store, labels, k) = (store.clone(), labels.clone(), k.clone());
        reads.spawn(async move { scored_slice(&store, from, until, &labels, &k).await });
    }
    let mut scored: Vec<ScoredResult> = Vec::new();
    while let Some(slice) = reads.join_next().await {
        scored.extend(slice.map_err(|e| LoadError::Read(e.to_string()))??);
    }
    // Id order is not time order (several agents), and the slices come back as they finish.
    scored.sort_by(|a, b| a.started_at.cmp(&b.started_at).then(a.id.cmp(&b.id)));
    Ok(scored)
}

/// The results started in `[from, until)`, scored: a page at a time, as a quarter of a ministry
/// is hundreds of thousands of results and only their small scored form is kept.
async fn scored_slice(
    store: &Store,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
    labels: &HashMap<i64, Label>,
    k: &ScoringConfig,
) -> Result<Vec<ScoredResult>, LoadError> {
    let mut scored = Vec::new();
    let mut after = 0;
    loop {
        let page = store.results_page(from, until, after, RESULTS_PAGE).await?;
        for r in &page {
            scored.push(super::score_result(r, labels.get(&r.id), k)?);
        }
        match page.last() {
            Some(r) if page.len() as i64 == RESULTS_PAGE => after = r.id,
            _ => return Ok(scored),
        }
    }
}

/// Every centre's scores for `period`, from `scored_results`.
pub async fn period_scores(
    store: &Store,
    period: &Period,
    k: &ScoringConfig,
    scored: &[ScoredResult],
) -> Result<Vec<CentreScores>, LoadError> {
    let centres = store.centres().await?;
    Ok(super::centre_scores(&centres, scored, period, k))
}

/// An auditor's label as asked for (CLI, dashboard form, `POST /api/labels`).
#[derive(Debug, Clone)]
pub struct LabelRequest {
    pub result_id: i64,
    /// human | ivr | voicemail | announcement | music | tone | silence | unknown
    pub answer_type: String,
    pub reason: String,
    pub time_to_person_secs: Option<f64>,
    pub by: String,
}

/// A stored label and the call's score with it in force.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
pub struct Labelled {
    pub label: i64,
    pub result: i64,
    pub answer_type: AnswerType,
    pub by: String,
    pub reason: String,
    pub score: Option<f64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LabelError {
    /// The request is wrong: the auditor must fix it.
    #[error("{0}")]
    Bad(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Score(#[from] ScoreError),
}

/// Checks and stores a label (only answered calls are labelled), then rescores the call.
pub async fn label_call(
    store: &Store,
    k: &ScoringConfig,
    req: &LabelRequest,
) -> Result<Labelled, LabelError> {
    let bad = |m: String| LabelError::Bad(m);
    let answer_type: AnswerType = serde_json::from_value(serde_json::json!(req.answer_type))
        .map_err(|_| {
            bad(format!(
                "answer type '{}': expected human, ivr, voicemail, announcement, music, \
                 silence or unknown",
                req.answer_type
            ))
        })?;
    if req.reason.trim().is_empty() {
        return Err(bad("the reason must say what was heard".into()));
    }
    if req
        .time_to_person_secs
        .is_some_and(|t| !(0.0..=3600.0).contains(&t))
    {
        return Err(bad(
            "time to person must be between 0 and 3600 seconds".into()
        ));
    }
    if req.by.trim().is_empty() {
        return Err(bad("a label needs its auditor's name".into()));
    }
    let Some(r) = store.result(req.result_id).await? else {
        return Err(bad(format!("no result {}", req.result_id)));
    };
    if r.channel != "phone" || r.outcome != "answered" {
        return Err(bad(format!(
            "result {} is a {} result ({}): only answered calls are labelled",
            req.result_id, r.channel, r.outcome
        )));
    }
    let id = store
        .add_label(
            req.result_id,
            &crate::store::NewLabel {
                answer_type: &req.answer_type,
                time_to_person_secs: req.time_to_person_secs,
                reason: req.reason.trim(),
                by: &req.by,
            },
        )
        .await?;
    let label = label_of(store, req.result_id).await?;
    let scored = super::score_result(&r, label.as_ref(), k)?;
    Ok(Labelled {
        label: id,
        result: req.result_id,
        answer_type,
        by: req.by.clone(),
        reason: req.reason.trim().to_string(),
        score: scored.call.as_ref().map(|c| c.score),
    })
}
