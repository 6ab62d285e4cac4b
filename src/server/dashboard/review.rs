//! The review list: calls whose answer type the classifier was not sure of, newest first,
//! each with its guess and how sure it was, linked to the page where an auditor listens and
//! labels it. A labelled call leaves the list; its label is what scores read.

use std::collections::HashMap;

use super::overview::pct;
use super::words::{term, w, when};
use super::{cards, centre_link, esc, id_bdi, internal, name_of, App, Page};
use crate::report::Lang;
use crate::store::{Probe, ResultFilter};

/// Calls shown at once: the oldest wait on later pages of the CLI's list.
const SHOWN: i64 = 200;

pub(super) async fn page(app: &App, lang: Lang) -> Page {
    let waiting = app
        .store
        .results(&ResultFilter {
            channel: Some("phone".into()),
            needs_review: true,
            newest_first: true,
            limit: Some(SHOWN),
            ..ResultFilter::default()
        })
        .await
        .map_err(|e| internal(lang, e))?;
    let centres: HashMap<String, crate::registry::Centre> = app
        .store
        .centres()
        .await
        .map_err(|e| internal(lang, e))?
        .into_iter()
        .map(|c| (c.id.clone(), c))
        .collect();
    let title = w(lang, "review").to_string();
    let mut h = format!("<h1>{}</h1><p>{}</p>", esc(&title), w(lang, "review_intro"));
    if waiting.is_empty() {
        return Ok((title, h + &format!("<p>{}</p>", w(lang, "review_none"))));
    }
    let rows: Vec<(&str, Vec<String>)> = waiting
        .iter()
        .map(|r| {
            let centre = r.centre_id.as_deref().and_then(|c| centres.get(c));
            let tz = centre.map_or(app.config.alerts.digest_timezone.0, |c| c.tz());
            let centre_cell = match (centre, &r.centre_id) {
                (Some(c), _) => centre_link(
                    &c.id,
                    r.started_at.get(..7).unwrap_or(""),
                    name_of(lang, &c.name_ar, &c.name_en),
                ),
                (None, Some(id)) => id_bdi(id),
                (None, None) => "—".into(),
            };
            // The number dialled, not the trunk's URI; the guess in words.
            let (number, guess, sure) = match &r.probe {
                Probe::Call(c) => (
                    c.number.clone().unwrap_or_else(|| r.target.clone()),
                    c.answer_type_guess
                        .map_or(term(lang, "unknown"), |g| term(lang, g.code())),
                    pct(lang, c.answer_type_confidence.map(|x| x * 100.0)),
                ),
                _ => (r.target.clone(), term(lang, "unknown"), "—".into()),
            };
            (
                "",
                vec![
                    when(lang, &r.started_at, tz),
                    centre_cell,
                    id_bdi(&number),
                    esc(guess),
                    sure,
                    format!(
                        "<a href=\"/results/{}#labels\">{}</a>",
                        r.id,
                        w(lang, "listen_and_label")
                    ),
                ],
            )
        })
        .collect();
    h += &cards(
        Some("review"),
        &[
            w(lang, "time"),
            w(lang, "centre"),
            w(lang, "number"),
            w(lang, "guess"),
            w(lang, "confidence"),
            w(lang, "action"),
        ],
        &rows,
    );
    if waiting.len() as i64 == SHOWN {
        h += &format!("<p>{}</p>", w(lang, "review_more"));
    }
    Ok((title, h))
}
