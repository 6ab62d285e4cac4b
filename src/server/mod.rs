//! The HTTP API that `raqib serve --listen ADDR` offers: JSON over HTTP/1.1, every endpoint
//! behind a bearer token except `/healthz`; roles viewer < auditor < admin. The dashboard,
//! OpenAPI document and metrics of issue 7 build on this; `/metrics` has its own listener
//! (`metrics`).

pub mod metrics;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::{json, Value};
use tokio::net::TcpListener;

use crate::config::Config;
use crate::score::period::Period;
use crate::store::{ResultFilter, Store};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
}

/// Roles in order of what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    Viewer,
    Auditor,
    Admin,
}

impl Role {
    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "auditor" => Some(Role::Auditor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

struct App {
    config: Config,
    store: Store,
}

/// Binds `addr` and serves in the background; returns the bound address.
pub async fn start(
    addr: SocketAddr,
    config: Config,
    store: Store,
) -> Result<SocketAddr, ServerError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    let app = Arc::new(App { config, store });
    tokio::spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Out of descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let app = app.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let app = app.clone();
                    async move { Ok::<_, Infallible>(handle(&app, req).await) }
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    Ok(local)
}

fn reply(status: StatusCode, body: Value) -> Response<Full<Bytes>> {
    let mut bytes = serde_json::to_vec(&body).unwrap_or_default();
    bytes.push(b'\n');
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .header("cache-control", "no-store");
    if status == StatusCode::UNAUTHORIZED {
        r = r.header("www-authenticate", "Bearer realm=\"raqib\"");
    }
    r.body(Full::new(Bytes::from(bytes)))
        .expect("a valid response")
}

fn error(status: StatusCode, message: impl Into<String>) -> Response<Full<Bytes>> {
    reply(status, json!({"error": message.into()}))
}

/// The query string's value for `key`.
fn param(req: &Request<Incoming>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

async fn handle(app: &App, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    if path == "/healthz" {
        return reply(StatusCode::OK, json!({"status": "ok"}));
    }
    // Who is asking: a bearer token of a known user.
    let token = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    let Some(token) = token else {
        return error(StatusCode::UNAUTHORIZED, "a bearer token is needed");
    };
    let role = match app.store.user_of_token(&token).await {
        Ok(Some((_, role))) => Role::parse(&role).unwrap_or(Role::Viewer),
        Ok(None) => return error(StatusCode::UNAUTHORIZED, "unknown token"),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let result = match (req.method().as_str(), path.as_str()) {
        ("GET", "/api/openapi.json") => Ok(openapi()),
        ("GET", "/api/centres") => centres(app).await,
        ("GET", "/api/results") => results(app, &req).await,
        ("GET", "/api/scores") => scores(app, &req, false).await,
        ("GET", "/api/flags") => scores(app, &req, true).await,
        ("GET", "/api/users") if role >= Role::Admin => users(app).await,
        ("GET", "/api/users") => return error(StatusCode::FORBIDDEN, "the admin role is needed"),
        ("GET", _) => return error(StatusCode::NOT_FOUND, format!("no endpoint {path}")),
        _ => {
            return error(
                StatusCode::METHOD_NOT_ALLOWED,
                format!("{} {path}: not allowed", req.method()),
            )
        }
    };
    match result {
        Ok(v) => reply(StatusCode::OK, v),
        Err((status, message)) => error(status, message),
    }
}

type Answer = Result<Value, (StatusCode, String)>;

/// The OpenAPI 3.1 document of this API (checked by the API test with openapi-spec-validator).
pub fn openapi() -> Value {
    serde_json::from_str(include_str!("openapi.json")).expect("openapi.json is JSON")
}

fn internal(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn bad(message: String) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message)
}

async fn centres(app: &App) -> Answer {
    let list = app.store.centres().await.map_err(internal)?;
    Ok(json!({"items": list, "total": list.len()}))
}

/// Newest first, `limit` (1–1000, default 100) from `offset`; `centre` filters.
async fn results(app: &App, req: &Request<Incoming>) -> Answer {
    let num = |key: &str, default: i64, max: i64| -> Result<i64, (StatusCode, String)> {
        match param(req, key) {
            None => Ok(default),
            Some(v) => v
                .parse::<i64>()
                .ok()
                .filter(|n| (0..=max).contains(n))
                .ok_or_else(|| bad(format!("{key} must be a number from 0 to {max}"))),
        }
    };
    let limit = num("limit", 100, 1000)?.max(1);
    let offset = num("offset", 0, i64::MAX)?;
    let items: Vec<Value> = app
        .store
        .results(&ResultFilter {
            centre_id: param(req, "centre"),
            limit: Some(limit),
            offset: Some(offset),
            newest_first: true,
            ..ResultFilter::default()
        })
        .await
        .map_err(internal)?
        .iter()
        .map(|r| r.to_json())
        .collect();
    // A full page may have a next one; no COUNT over a table that only grows.
    let next = (items.len() as i64 == limit).then_some(offset + limit);
    Ok(json!({"items": items, "offset": offset, "limit": limit, "next_offset": next}))
}

async fn scores(app: &App, req: &Request<Incoming>, flagged_only: bool) -> Answer {
    let period = match param(req, "period") {
        Some(p) => Period::parse(&p).map_err(|e| bad(format!("period: {e}")))?,
        None => Period::month_of(chrono::Utc::now()),
    };
    let all = crate::score::load::period_scores(&app.store, &period, &app.config.scoring)
        .await
        .map_err(internal)?;
    let chosen: Vec<&crate::score::CentreScores> = match flagged_only {
        true => crate::score::flagged(&all, &app.config.scoring),
        false => all.iter().collect(),
    };
    let items: Vec<Value> = chosen
        .into_iter()
        .map(|c| serde_json::to_value(c).unwrap_or(Value::Null))
        .collect();
    Ok(json!({"period": period.label, "items": items, "total": items.len()}))
}

async fn users(app: &App) -> Answer {
    let list = app.store.users().await.map_err(internal)?;
    Ok(json!({"items": list, "total": list.len()}))
}

#[cfg(test)]
mod tests {
    /// Every route `handle` answers is in the document, and the document names no other.
    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let doc = super::openapi();
        let mut documented: Vec<&str> = doc["paths"]
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        documented.sort();
        let source = include_str!("mod.rs");
        let mut served: Vec<&str> = source
            .match_indices("(\"GET\", \"/")
            .map(|(i, _)| {
                let rest = &source[i + 9..];
                &rest[..rest.find('"').unwrap()]
            })
            .chain(source.contains("== \"/healthz\"").then_some("/healthz"))
            .collect();
        served.sort();
        served.dedup();
        assert_eq!(documented, served);
    }
}
