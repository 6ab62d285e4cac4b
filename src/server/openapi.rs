//! The OpenAPI 3.1 document of the API, generated (utoipa): the schemas from the same types
//! serde writes the answers from, so a changed field changes the document; the paths from the
//! stubs below, one per route. The API test checks every answer it receives against it.

use std::borrow::Cow;
use std::sync::OnceLock;

use serde_json::{json, Value};
use utoipa::openapi::schema::Schema;
use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::openapi::RefOr;
use utoipa::{Modify, OpenApi, ToResponse, ToSchema};

use crate::probe::call::CallResult;
use crate::probe::web::WebResult;
use crate::registry::Centre;
use crate::score::load::Labelled;
use crate::score::CentreScores;
use crate::store::signins::SigninAttempt;
use crate::store::users::User;
use crate::store::{StoredLabel, Sweep};
use crate::verdict::ResultScoring;

use super::{CaseNow, Health, LabelBody, Listed, Paged, ProbeBody, ResultsPage};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "raqib API",
        description = "Results, scores, flags, cases, sweeps and labels of raqib, the audit robot for government service centres, and on-demand probes. Every endpoint but /healthz needs a bearer token made with `raqib users token NAME`; writes need the auditor role, /api/users the admin role."
    ),
    servers((url = "/")),
    security(("bearer" = [])),
    modifiers(&Bearer),
    paths(
        health, openapi_json, centres, results, scores, flags, users, centre, result, cases,
        sweeps, labels, add_label, probe, signins
    ),
    components(
        schemas(Error, CallResult, WebResult, StoredLabel, ResultScoring, StoredResult, ResultInDetail),
        responses(Unauthorized, Forbidden, BadRequest, NotFound, TooMany)
    )
)]
struct Doc;

/// The document, made once (the version and licence are the crate's).
pub fn document() -> &'static Value {
    static DOC: OnceLock<Value> = OnceLock::new();
    DOC.get_or_init(|| serde_json::to_value(Doc::openapi()).expect("the document is JSON"))
}

struct Bearer;

impl Modify for Bearer {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let mut http = Http::new(HttpAuthScheme::Bearer);
        http.description = Some("A token from `raqib users token NAME`.".into());
        doc.components
            .get_or_insert_with(Default::default)
            .add_security_scheme("bearer", SecurityScheme::Http(http));
    }
}

/// The body of every answer but 2xx.
#[derive(serde::Serialize, ToSchema)]
pub(crate) struct Error {
    /// What went wrong, for people.
    pub error: String,
}

/// No token, or an unknown one.
#[derive(ToResponse)]
#[allow(dead_code)]
struct Unauthorized(Error);
/// The token's role may not do this.
#[derive(ToResponse)]
#[allow(dead_code)]
struct Forbidden(Error);
/// A parameter is malformed.
#[derive(ToResponse)]
#[allow(dead_code)]
struct BadRequest(Error);
/// No such thing.
#[derive(ToResponse)]
#[allow(dead_code)]
struct NotFound(Error);
/// Too many on-demand probes are running; try again when one ends.
#[derive(ToResponse)]
#[allow(dead_code)]
struct TooMany(Error);

/// A stored result as the store gives it (`StoredResult::to_json`): the probe's own JSON, kept
/// as text (a call's or a web check's, or a row no longer readable as either), with its id.
pub(crate) struct StoredResult;

impl utoipa::PartialSchema for StoredResult {
    fn schema() -> RefOr<Schema> {
        from_json(json!({
            "description": "One probe's stored result: the JSON of `raqib results --json` (a call or a web check, or the text of a row no longer readable as either), with its id.",
            "allOf": [
                {"anyOf": [
                    {"$ref": "#/components/schemas/CallResult"},
                    {"$ref": "#/components/schemas/WebResult"},
                    {"type": "object", "required": ["unreadable"], "properties": {
                        "unreadable": {"type": "string", "description": "The stored text, not JSON."}}}
                ]},
                {"type": "object", "required": ["id"], "properties": {
                    "id": {"type": "integer"},
                    "sweep": {"type": "integer", "description": "The sweep it was part of."},
                    "agent": {"type": "string", "description": "The agent that ran it."}}}
            ]
        }))
    }
}

impl ToSchema for StoredResult {
    fn name() -> Cow<'static, str> {
        "Result".into()
    }
}

/// `/api/results/{id}`: the stored result with its labels and how it scores.
pub(crate) struct ResultInDetail;

impl utoipa::PartialSchema for ResultInDetail {
    fn schema() -> RefOr<Schema> {
        from_json(json!({
            "allOf": [
                {"$ref": "#/components/schemas/Result"},
                {"type": "object", "required": ["labels", "scoring"], "properties": {
                    "labels": {"type": "array", "description": "Every label kept, oldest first.",
                        "items": {"$ref": "#/components/schemas/StoredLabel"}},
                    "scoring": {"$ref": "#/components/schemas/ResultScoring"}}}
            ]
        }))
    }
}

impl ToSchema for ResultInDetail {}

fn from_json(v: Value) -> RefOr<Schema> {
    serde_json::from_value(v).expect("a schema")
}

// One stub per route: utoipa reads the attribute; the handlers are in `super`.

#[utoipa::path(get, path = "/healthz", security(()),
    summary = "Health: the store takes a read and a write, the evidence directory a file, and (under raqib serve) the scheduler's heartbeat is fresh",
    responses(
        (status = 200, description = "Every part works.", body = Health),
        (status = 503, description = "A part fails; `failing` names it.", body = Health),
    ))]
#[allow(dead_code)]
fn health() {}

#[utoipa::path(get, path = "/api/openapi.json", summary = "This document",
    responses(
        (status = 200, description = "OpenAPI 3.1.", body = Object),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn openapi_json() {}

#[utoipa::path(get, path = "/api/centres", summary = "The centre registry",
    params(
        ("limit" = Option<u32>, Query, description = "At most this many items (a page); 1000 unless given.", minimum = 1, maximum = 10000),
        ("offset" = Option<u64>, Query, description = "Skip this many items.", minimum = 0),
    ),
    responses(
        (status = 200, description = "Every centre.", body = Paged<Centre>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn centres() {}

#[utoipa::path(get, path = "/api/results", summary = "Stored results, newest first, a page at a time",
    params(
        ("centre" = Option<String>, Query, description = "Only this centre's."),
        ("limit" = Option<u32>, Query, description = "At most this many; 100 unless given.", minimum = 1, maximum = 1000),
        ("offset" = Option<u64>, Query, description = "Skip this many.", minimum = 0),
        ("channel" = Option<crate::probe::Channel>, Query, description = "Only this channel."),
        ("needs_review" = Option<bool>, Query, description = "Only calls waiting for an auditor: answer type unknown (the classifier was unsure) and no label yet; false unless given."),
    ),
    responses(
        (status = 200, description = "One page; next_offset is set while a page is full.", body = ResultsPage),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn results() {}

#[utoipa::path(get, path = "/api/scores", summary = "Every centre's scores for a period",
    params(
        ("period" = Option<String>, Query, description = "2026-11, 2026-W47, 2026-Q4, 2026 or 2026-11-01..2026-11-30 (UTC days); default this month."),
        ("limit" = Option<u32>, Query, description = "At most this many items (a page); 1000 unless given.", minimum = 1, maximum = 10000),
        ("offset" = Option<u64>, Query, description = "Skip this many items.", minimum = 0),
    ),
    responses(
        (status = 200, description = "Scores.", body = Paged<CentreScores>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn scores() {}

#[utoipa::path(get, path = "/api/flags",
    summary = "The flagged list of `raqib flags`: critical flags, confirmed, provisional, then centres at or under the phone threshold without enough valid calls",
    params(
        ("period" = Option<String>, Query, description = "2026-11, 2026-W47, 2026-Q4, 2026 or 2026-11-01..2026-11-30 (UTC days); default this month."),
        ("limit" = Option<u32>, Query, description = "At most this many items (a page); 1000 unless given.", minimum = 1, maximum = 10000),
        ("offset" = Option<u64>, Query, description = "Skip this many items.", minimum = 0),
    ),
    responses(
        (status = 200, description = "Flagged centres' scores.", body = Paged<CentreScores>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn flags() {}

#[utoipa::path(get, path = "/api/users", summary = "Users and their roles (admin)",
    responses(
        (status = 200, description = "Users.", body = Listed<User>),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
#[allow(dead_code)]
fn users() {}

#[utoipa::path(get, path = "/api/centres/{id}", summary = "One centre of the registry",
    params(("id" = String, Path, description = "The centre's id.")),
    responses(
        (status = 200, description = "The centre.", body = Centre),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
#[allow(dead_code)]
fn centre() {}

#[utoipa::path(get, path = "/api/results/{id}", summary = "One result with its labels and how it scores",
    params(("id" = String, Path, description = "The result's id (a number).")),
    responses(
        (status = 200, description = "The result, `labels` (every label kept, oldest first) and `scoring` (whether it counts, why not, its call or web score).", body = ResultInDetail),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 404, response = NotFound),
    ))]
#[allow(dead_code)]
fn result() {}

#[utoipa::path(get, path = "/api/cases", summary = "Follow-up cases with their status now (reading never opens or closes one)",
    params(
        ("status" = Option<crate::score::cases::CaseStatus>, Query, description = "Only cases with this status."),
        ("centre" = Option<String>, Query, description = "Only this centre's cases."),
        ("limit" = Option<u32>, Query, description = "At most this many items (a page); 1000 unless given.", minimum = 1, maximum = 10000),
        ("offset" = Option<u64>, Query, description = "Skip this many items.", minimum = 0),
    ),
    responses(
        (status = 200, description = "Cases.", body = Paged<CaseNow>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn cases() {}

#[utoipa::path(get, path = "/api/sweeps", summary = "Sweeps, newest first, with their progress",
    params(("limit" = Option<u32>, Query, description = "At most this many; 20 unless given.", minimum = 1, maximum = 1000)),
    responses(
        (status = 200, description = "Sweeps.", body = Listed<Sweep>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn sweeps() {}

#[utoipa::path(get, path = "/api/labels", summary = "Auditors' labels, oldest first",
    params(
        ("result" = Option<i64>, Query, description = "Only this result's labels."),
        ("limit" = Option<u32>, Query, description = "At most this many items (a page); 1000 unless given.", minimum = 1, maximum = 10000),
        ("offset" = Option<u64>, Query, description = "Skip this many items.", minimum = 0),
    ),
    responses(
        (status = 200, description = "Labels.", body = Paged<StoredLabel>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
    ))]
#[allow(dead_code)]
fn labels() {}

#[utoipa::path(post, path = "/api/labels",
    summary = "Label an answered call as heard (auditor); the signed-in user is recorded as its author",
    request_body = LabelBody,
    responses(
        (status = 201, description = "The label and the call's score with it in force.", body = Labelled),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
#[allow(dead_code)]
fn add_label() {}

#[utoipa::path(post, path = "/api/probe",
    summary = "Probe now (auditor): a call to a number, sip: URI or every number of a centre, or a check of a URL or every site of a centre; answers when the probes end",
    description = "Calls pass the dialling guard (registry, allowed prefixes, daily caps) like sweeps; a refused call is stored with outcome `refused`. At most 2 on-demand probes run at once.",
    request_body = ProbeBody,
    responses(
        (status = 200, description = "The stored results, one per number or site.", body = Listed<StoredResult>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
        (status = 429, response = TooMany),
    ))]
#[allow(dead_code)]
fn probe() {}

#[utoipa::path(get, path = "/api/signins",
    summary = "Recent sign-in attempts, newest first: failed, refused while delayed, ok (admin)",
    params(("limit" = Option<u32>, Query, description = "At most this many; 100 unless given.", minimum = 1, maximum = 1000)),
    responses(
        (status = 200, description = "Sign-in attempts.", body = Listed<SigninAttempt>),
        (status = 400, response = BadRequest),
        (status = 401, response = Unauthorized),
        (status = 403, response = Forbidden),
    ))]
#[allow(dead_code)]
fn signins() {}
#[cfg(test)]
mod tests {
    /// Every `$ref` names a component that is there.
    #[test]
    fn every_reference_resolves() {
        fn refs<'a>(v: &'a serde_json::Value, out: &mut Vec<&'a str>) {
            match v {
                serde_json::Value::Object(m) => {
                    if let Some(r) = m.get("$ref").and_then(|r| r.as_str()) {
                        out.push(r);
                    }
                    m.values().for_each(|v| refs(v, out));
                }
                serde_json::Value::Array(a) => a.iter().for_each(|v| refs(v, out)),
                _ => {}
            }
        }
        let doc = super::document();
        let mut all = Vec::new();
        refs(doc, &mut all);
        assert!(all.len() > 20);
        for r in all {
            let pointer = r
                .strip_prefix('#')
                .unwrap_or_else(|| panic!("{r} is not local"));
            assert!(doc.pointer(pointer).is_some(), "{r} names nothing");
        }
    }
}
