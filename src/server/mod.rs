//! What `raqib serve --listen ADDR` offers over HTTP/1.1: the JSON API under `/api/` (bearer
//! tokens), the dashboard (session cookies from `/login`) and evidence files, all behind
//! sign-in except `/healthz`; roles viewer < auditor < admin. Metrics listen apart
//! (`metrics`, `--metrics-listen`).

pub mod auth;
mod dashboard;
pub mod metrics;
mod openapi;
mod signin;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures::FutureExt;
use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use serde_json::Value;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpListener;
use tracing::Instrument;

use crate::config::{Config, ServerConfig};
use crate::probe::Channel;
use crate::schedule::serve::Heartbeat;
use crate::score::period::Period;
use crate::score::CentreScores;
use crate::store::{ResultFilter, Store};

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot listen on {addr}: {source}")]
    Bind {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("server.metrics_token_env names {0}, which is not set (or empty)")]
    MetricsToken(String),
}

/// Roles in order of what they may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, utoipa::ToSchema)]
#[schema(rename_all = "lowercase")]
pub enum Role {
    Viewer,
    Auditor,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Viewer => "viewer",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        match s {
            "viewer" => Some(Role::Viewer),
            "auditor" => Some(Role::Auditor),
            "admin" => Some(Role::Admin),
            _ => None,
        }
    }
}

pub(crate) struct App {
    config: Config,
    store: Store,
    /// On-demand probes running at once (each holds a call or a browser).
    probes: tokio::sync::Semaphore,
    /// The scheduler's heartbeat under `raqib serve`, checked by `/healthz`.
    heartbeat: Option<Arc<Heartbeat>>,
    /// Sign-ins being checked, one at a time per user name and per address.
    signins: signin::InFlight,
}

/// On-demand probes at once; one more is refused with 429 rather than queued.
const PROBES_AT_ONCE: usize = 2;
/// How long a health check of one part may take before it counts as failing.
const HEALTH_CHECK_TIMEOUT: Duration = Duration::from_secs(5);

impl App {
    /// `period`'s stored verdicts (brought up to date first by the verdict step).
    async fn period_scores(
        &self,
        period: &Period,
    ) -> Result<Arc<Vec<CentreScores>>, crate::verdict::VerdictError> {
        crate::verdict::Verdicts::new(&self.store, &self.config)
            .scores(period)
            .await
            .map(Arc::new)
    }
}

/// Binds `addr` and serves the dashboard and API in the background; returns the bound address.
pub async fn start(
    addr: SocketAddr,
    config: Config,
    store: Store,
    heartbeat: Option<Arc<Heartbeat>>,
) -> Result<SocketAddr, ServerError> {
    let limits = config.server.clone();
    // The dummy hash an unknown user's password is checked against, made before the first
    // sign-in so that it costs no more than a known user's.
    tokio::task::spawn_blocking(auth::dummy_hash);
    let app = Arc::new(App {
        config,
        store,
        probes: tokio::sync::Semaphore::new(PROBES_AT_ONCE),
        heartbeat,
        signins: Default::default(),
    });
    listen(addr, &limits, app, |app, req| async move {
        let secure = secure_cookies(&app, &req);
        let mut reply = handle(&app, req).await;
        if secure {
            mark_cookies_secure(&mut reply);
        }
        reply
    })
    .await
}

/// The peer address of a request's connection (set by `listen`).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Peer(pub SocketAddr);

/// A connection's last byte moved and its requests in progress, for the idle timeout.
struct Activity {
    since: Instant,
    /// Milliseconds after `since` of the last byte read or written.
    last: AtomicU64,
    busy: AtomicUsize,
}

impl Activity {
    fn touch(&self) {
        self.last
            .store(self.since.elapsed().as_millis() as u64, Ordering::Relaxed);
    }
}

/// A request in progress on a connection, counted until dropped.
struct Busy(Arc<Activity>);

impl Busy {
    fn new(a: &Arc<Activity>) -> Busy {
        a.busy.fetch_add(1, Ordering::Relaxed);
        Busy(a.clone())
    }
}

impl Drop for Busy {
    fn drop(&mut self) {
        self.0.touch();
        self.0.busy.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A socket that notes each byte moved in its `Activity`.
struct Watched<T> {
    io: T,
    activity: Arc<Activity>,
}

impl<T: AsyncRead + Unpin> AsyncRead for Watched<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = Pin::new(&mut self.io).poll_read(cx, buf);
        if matches!(r, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.touch();
        }
        r
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for Watched<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write(cx, buf);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        let r = Pin::new(&mut self.io).poll_write_vectored(cx, bufs);
        if matches!(r, Poll::Ready(Ok(n)) if n > 0) {
            self.activity.touch();
        }
        r
    }

    fn is_write_vectored(&self) -> bool {
        self.io.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.io).poll_shutdown(cx)
    }
}

/// Resolves once `activity` has had no request in progress and no byte moved for `idle`.
async fn idle_for(activity: &Activity, idle: Duration) {
    loop {
        let last = Duration::from_millis(activity.last.load(Ordering::Relaxed));
        let quiet = activity.since.elapsed().saturating_sub(last);
        if quiet >= idle && activity.busy.load(Ordering::Relaxed) == 0 {
            return;
        }
        tokio::time::sleep(idle.saturating_sub(quiet).max(Duration::from_millis(100))).await;
    }
}

/// Binds `addr` and answers HTTP/1.1 with `handler` in the background (the dashboard and API
/// here, `/metrics` on its own address); returns the bound address.
///
/// Every connection is limited as `limits` says: hyper's own timer closes one whose request
/// head does not arrive in time (slow headers, a silent new connection, a kept-alive one with
/// no next request); the idle watch closes one where nothing moves while no request is in
/// progress (a client that stops reading); beyond `max_connections` a new one is answered 503
/// and closed. Bodies are limited where they are read (`body`). A handler that panics answers
/// 500 and leaves the server running.
pub(crate) async fn listen<S, F, Fut>(
    addr: SocketAddr,
    limits: &ServerConfig,
    state: Arc<S>,
    handler: F,
) -> Result<SocketAddr, ServerError>
where
    S: Send + Sync + 'static,
    F: Fn(Arc<S>, Request<Incoming>) -> Fut + Send + Sync + Copy + 'static,
    Fut: std::future::Future<Output = Reply> + Send + 'static,
{
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| ServerError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| ServerError::Bind { addr, source })?;
    let header_timeout = Duration::from_secs(limits.header_read_timeout_secs);
    let idle = Duration::from_secs(limits.idle_timeout_secs);
    let cap = limits.max_connections;
    let slots = Arc::new(tokio::sync::Semaphore::new(cap));
    tokio::spawn(async move {
        let (mut refused, mut last_refusal_log) = (0u64, None);
        loop {
            let Ok((stream, peer)) = listener.accept().await else {
                // Out of descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let Ok(slot) = slots.clone().try_acquire_owned() else {
                // Full: say so if the socket takes it at once, and close.
                let _ = stream.try_write(
                    b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\n\
                      Retry-After: 1\r\nContent-Length: 0\r\n\r\n",
                );
                // At most a line a second: a flood of connections is no flood of log lines.
                refused += 1;
                if last_refusal_log.is_none_or(|t: Instant| t.elapsed() >= Duration::from_secs(1)) {
                    tracing::warn!(
                        %peer,
                        "refused ({refused} so far): {cap} connections are open (the cap)"
                    );
                    last_refusal_log = Some(Instant::now());
                }
                continue;
            };
            let state = state.clone();
            tokio::spawn(async move {
                let activity = Arc::new(Activity {
                    since: Instant::now(),
                    last: AtomicU64::new(0),
                    busy: AtomicUsize::new(0),
                });
                let io = Watched {
                    io: stream,
                    activity: activity.clone(),
                };
                let svc = {
                    let activity = activity.clone();
                    service_fn(move |mut req: Request<Incoming>| {
                        let state = state.clone();
                        let busy = Busy::new(&activity);
                        req.extensions_mut().insert(Peer(peer));
                        let request = NEXT_REQUEST.fetch_add(1, Ordering::Relaxed);
                        let span = tracing::info_span!("request", request, %peer);
                        async move {
                            let started = Instant::now();
                            let method = req.method().clone();
                            // The path only: a query may carry what a log must not keep.
                            let path = req.uri().path().to_string();
                            let answer = std::panic::AssertUnwindSafe(handler(state, req))
                                .catch_unwind()
                                .await
                                .unwrap_or_else(|_| {
                                    tracing::error!(%path, "the handler panicked");
                                    error(StatusCode::INTERNAL_SERVER_ERROR, "internal error")
                                });
                            drop(busy);
                            tracing::info!(
                                target: "raqib::access",
                                %method,
                                %path,
                                status = answer.status().as_u16(),
                                ms = started.elapsed().as_secs_f64() * 1e3,
                                "{method} {path} {}",
                                answer.status().as_u16()
                            );
                            Ok::<_, Infallible>(answer)
                        }
                        .instrument(span)
                    })
                };
                let conn = hyper::server::conn::http1::Builder::new()
                    .timer(TokioTimer::new())
                    .header_read_timeout(header_timeout)
                    .serve_connection(TokioIo::new(io), svc);
                tokio::select! {
                    _ = conn => {}
                    _ = idle_for(&activity, idle) => {
                        tracing::info!(%peer, "closed, idle for {} s", idle.as_secs());
                    }
                }
                drop(slot);
            });
        }
    });
    Ok(local)
}

/// Numbers the requests of this process, so that a request's log lines can be found
/// together (the `request` field of its span).
static NEXT_REQUEST: AtomicU64 = AtomicU64::new(1);

/// The client's address: the connection's peer, or, when the peer is a trusted proxy, the
/// last address its `X-Forwarded-For` names.
pub(crate) fn client_ip(app: &App, req: &Request<Incoming>) -> Option<IpAddr> {
    let peer = req.extensions().get::<Peer>()?.0.ip();
    if !app.config.server.trusted_proxies.contains(&peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|a| a.trim().parse::<IpAddr>().ok())
        .next_back();
    Some(forwarded.unwrap_or(peer))
}

/// Whether cookies are marked `Secure`: always with `[server] secure_cookies`, else when a
/// trusted proxy says the client spoke HTTPS to it.
fn secure_cookies(app: &App, req: &Request<Incoming>) -> bool {
    if app.config.server.secure_cookies {
        return true;
    }
    let Some(Peer(peer)) = req.extensions().get::<Peer>() else {
        return false;
    };
    app.config.server.trusted_proxies.contains(&peer.ip())
        && req
            .headers()
            .get("x-forwarded-proto")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.trim().eq_ignore_ascii_case("https"))
}

/// Adds `Secure` to every `Set-Cookie` of `reply`.
fn mark_cookies_secure(reply: &mut Reply) {
    use hyper::header::{HeaderValue, SET_COOKIE};
    let cookies: Vec<HeaderValue> = reply
        .headers_mut()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| {
            let text = v.to_str().ok()?;
            HeaderValue::from_str(&format!("{text}; Secure")).ok()
        })
        .collect();
    reply.headers_mut().remove(SET_COOKIE);
    for c in cookies {
        reply.headers_mut().append(SET_COOKIE, c);
    }
}

pub(crate) type Reply = Response<Full<Bytes>>;

fn reply(status: StatusCode, body: Value) -> Reply {
    reply_with(status, Json::Tree(body))
}

fn reply_with(status: StatusCode, body: Json) -> Reply {
    let mut bytes = match body {
        Json::Tree(v) => serde_json::to_vec(&v).unwrap_or_default(),
        Json::Written(bytes) => bytes,
    };
    bytes.push(b'\n');
    let mut r = Response::builder()
        .status(status)
        .header("content-type", "application/json; charset=utf-8")
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff");
    if status == StatusCode::UNAUTHORIZED {
        r = r.header("www-authenticate", "Bearer realm=\"raqib\"");
    }
    r.body(Full::new(Bytes::from(bytes)))
        .expect("a valid response")
}

fn error(status: StatusCode, message: impl Into<String>) -> Reply {
    let body = openapi::Error {
        error: message.into(),
    };
    reply(status, serde_json::to_value(body).unwrap_or_default())
}

/// The query string's value for `key`.
pub(crate) fn param(req: &Request<Incoming>, key: &str) -> Option<String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.into_owned())
}

/// The request body: at most `[server] max_body_bytes`, whole within `body_timeout_secs`.
pub(crate) async fn body(app: &App, req: Request<Incoming>) -> Result<Bytes, (StatusCode, String)> {
    use http_body_util::BodyExt;
    let max = app.config.server.max_body_bytes;
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let too_large = || {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            format!("the request body is larger than {max} bytes"),
        )
    };
    if declared.is_some_and(|n| n > max as u64) {
        return Err(too_large());
    }
    let within = Duration::from_secs(app.config.server.body_timeout_secs);
    let read = http_body_util::Limited::new(req.into_body(), max).collect();
    match tokio::time::timeout(within, read).await {
        Err(_) => Err((
            StatusCode::REQUEST_TIMEOUT,
            format!(
                "the request body did not arrive within {} s",
                within.as_secs()
            ),
        )),
        Ok(Ok(b)) => Ok(b.to_bytes()),
        Ok(Err(e)) if e.is::<http_body_util::LengthLimitError>() => Err(too_large()),
        Ok(Err(e)) => Err((
            StatusCode::BAD_REQUEST,
            format!("the request body could not be read: {e}"),
        )),
    }
}

/// A signed-in user: by an API token or a dashboard session.
#[derive(Debug, Clone)]
pub(crate) struct Who {
    pub name: String,
    pub role: Role,
    /// The session cookie's secret (dashboard), for the forms' CSRF token.
    pub session: Option<String>,
}

pub(crate) const SESSION_COOKIE: &str = "raqib_session";

async fn identify(
    app: &App,
    req: &Request<Incoming>,
) -> Result<Option<Who>, crate::store::StoreError> {
    let bearer = req
        .headers()
        .get(hyper::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|v| v.trim().to_string());
    if let Some(token) = bearer {
        let user = app.store.user_of_token(&token).await?;
        return Ok(user.map(|(name, role)| Who {
            name,
            role: Role::parse(&role).unwrap_or(Role::Viewer),
            session: None,
        }));
    }
    let session = req
        .headers()
        .get_all(hyper::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|h| auth::cookie(h, SESSION_COOKIE).map(String::from));
    let Some(secret) = session else {
        return Ok(None);
    };
    let user = app.store.user_of_session(&secret).await?;
    Ok(user.map(|(name, role)| Who {
        name,
        role: Role::parse(&role).unwrap_or(Role::Viewer),
        session: Some(secret),
    }))
}

async fn handle(app: &App, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_string();
    if path == "/healthz" {
        return health(app).await;
    }
    if path == "/login" {
        return dashboard::login(app, req).await;
    }
    let who = match identify(app, &req).await {
        Ok(w) => w,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    if path.starts_with("/api/") {
        let Some(who) = who else {
            return error(StatusCode::UNAUTHORIZED, "a bearer token is needed");
        };
        // A form on another site can make a browser POST with its cookie: writes take a token.
        if req.method() != hyper::Method::GET && who.session.is_some() {
            return error(
                StatusCode::UNAUTHORIZED,
                "writes through the API need a bearer token",
            );
        }
        return api(app, &who, req).await;
    }
    // The accessibility statement is for everyone, signed in or not.
    if path == "/accessibility" {
        return dashboard::statement(&req, who.as_ref());
    }
    let Some(who) = who else {
        return dashboard::to_login(&req);
    };
    if let Some(rest) = path.strip_prefix("/evidence/") {
        return evidence(app, rest).await;
    }
    dashboard::page(app, &who, req).await
}

type Answer = Result<(StatusCode, Json), (StatusCode, String)>;

/// An answer's body: a JSON tree, or JSON already written from typed values (a page of 452
/// verdicts built as a tree first cost more than the rest of its request).
enum Json {
    Tree(Value),
    Written(Vec<u8>),
}

fn ok(v: Value) -> Answer {
    Ok((StatusCode::OK, Json::Tree(v)))
}

/// The route a path matches, with its numeric or text parameter: `/api/results/7` is
/// `/api/results/{id}` with "7".
fn route(path: &str) -> (String, Option<String>) {
    for base in ["/api/results/", "/api/centres/"] {
        if let Some(rest) = path.strip_prefix(base) {
            if !rest.is_empty() && !rest.contains('/') {
                return (format!("{base}{{id}}"), Some(rest.to_string()));
            }
        }
    }
    (path.to_string(), None)
}

async fn api(app: &App, who: &Who, req: Request<Incoming>) -> Reply {
    let path = req.uri().path().to_string();
    let (pattern, id) = route(&path);
    let id = id.unwrap_or_default();
    let method = req.method().as_str().to_string();
    let need = |role: Role| -> Result<(), (StatusCode, String)> {
        match who.role >= role {
            true => Ok(()),
            false => Err((
                StatusCode::FORBIDDEN,
                format!("the {} role is needed", role.as_str()),
            )),
        }
    };
    let result = match (method.as_str(), pattern.as_str()) {
        ("GET", "/api/openapi.json") => ok(openapi().clone()),
        ("GET", "/api/centres") => centres(app, &req).await,
        ("GET", "/api/centres/{id}") => centre(app, &id).await,
        ("GET", "/api/results") => results(app, &req).await,
        ("GET", "/api/results/{id}") => result(app, &id).await,
        ("GET", "/api/scores") => scores(app, &req, false).await,
        ("GET", "/api/flags") => scores(app, &req, true).await,
        ("GET", "/api/cases") => cases(app, &req).await,
        ("GET", "/api/sweeps") => sweeps(app, &req).await,
        ("GET", "/api/labels") => labels(app, &req).await,
        ("POST", "/api/labels") => match need(Role::Auditor) {
            Ok(()) => add_label(app, who, req).await,
            Err(e) => Err(e),
        },
        ("POST", "/api/probe") => match need(Role::Auditor) {
            Ok(()) => probe(app, req).await,
            Err(e) => Err(e),
        },
        ("GET", "/api/users") => match need(Role::Admin) {
            Ok(()) => users(app).await,
            Err(e) => Err(e),
        },
        ("GET", "/api/signins") => match need(Role::Admin) {
            Ok(()) => signins(app, &req).await,
            Err(e) => Err(e),
        },
        (_, p) if openapi()["paths"].get(p).is_some() => Err((
            StatusCode::METHOD_NOT_ALLOWED,
            format!("{method} {path}: not allowed"),
        )),
        _ => Err((StatusCode::NOT_FOUND, format!("no endpoint {path}"))),
    };
    match result {
        Ok((status, body)) => reply_with(status, body),
        Err((status, message)) => error(status, message),
    }
}

/// The OpenAPI 3.1 document of this API (checked by the API test with openapi-spec-validator,
/// and every answer the test receives against it).
pub fn openapi() -> &'static Value {
    openapi::document()
}

fn internal(e: impl std::fmt::Display) -> (StatusCode, String) {
    (StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
}

fn bad(message: String) -> (StatusCode, String) {
    (StatusCode::BAD_REQUEST, message)
}

fn not_found(message: String) -> (StatusCode, String) {
    (StatusCode::NOT_FOUND, message)
}

/// A page of a whole list: `limit` (1–10000, default 1000) from `offset`, with the list's
/// `total` and `next_offset` while more follow.
fn paged<T: serde::Serialize>(
    req: &Request<Incoming>,
    items: Vec<T>,
) -> Result<Paged<T>, (StatusCode, String)> {
    let limit = num_param(req, "limit", 1000, 10_000)?.max(1) as usize;
    let offset = num_param(req, "offset", 0, i64::MAX)? as usize;
    let total = items.len();
    let page: Vec<T> = items.into_iter().skip(offset).take(limit).collect();
    let next = (offset.saturating_add(limit) < total).then_some(offset + limit);
    Ok(Paged {
        items: page,
        total,
        offset,
        limit,
        next_offset: next,
        period: None,
    })
}

/// A page of a list, as `paged` cuts it.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Paged<T> {
    items: Vec<T>,
    total: usize,
    offset: usize,
    limit: usize,
    /// The next page's offset while more follow.
    next_offset: Option<usize>,
    /// The period a list of verdicts is of.
    #[serde(skip_serializing_if = "Option::is_none")]
    period: Option<String>,
}

impl<T: serde::Serialize> Paged<T> {
    /// Written straight from the items, without a JSON tree of them.
    fn answer(&self) -> Answer {
        let bytes = serde_json::to_vec(self).map_err(internal)?;
        Ok((StatusCode::OK, Json::Written(bytes)))
    }
}

/// A whole list that is not cut into pages.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Listed<T> {
    items: Vec<T>,
    total: usize,
}

impl<T: serde::Serialize> Listed<T> {
    fn answer(items: Vec<T>) -> Answer {
        let listed = Listed {
            total: items.len(),
            items,
        };
        ok(serde_json::to_value(listed).map_err(internal)?)
    }
}

/// A page of results: no `total` (no COUNT over a table that only grows).
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct ResultsPage {
    #[schema(value_type = Vec<openapi::StoredResult>)]
    items: Vec<Value>,
    offset: i64,
    limit: i64,
    /// The next page's offset while a page is full.
    next_offset: Option<i64>,
}

/// A follow-up case with its status now.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct CaseNow {
    #[serde(flatten)]
    case: crate::store::Case,
    status: crate::score::cases::CaseStatus,
}

async fn centres(app: &App, req: &Request<Incoming>) -> Answer {
    let list = app.store.centres().await.map_err(internal)?;
    paged(req, list)?.answer()
}

async fn centre(app: &App, id: &str) -> Answer {
    match app.store.centre(id).await.map_err(internal)? {
        Some(c) => ok(serde_json::to_value(c).map_err(internal)?),
        None => Err(not_found(format!("no centre '{id}'"))),
    }
}

/// A number query parameter in `0..=max`, or `default`.
fn num_param(
    req: &Request<Incoming>,
    key: &str,
    default: i64,
    max: i64,
) -> Result<i64, (StatusCode, String)> {
    match param(req, key) {
        None => Ok(default),
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (0..=max).contains(n))
            .ok_or_else(|| bad(format!("{key} must be a number from 0 to {max}"))),
    }
}

/// Newest first, `limit` (1–1000, default 100) from `offset`; `centre` and `channel` filter.
async fn results(app: &App, req: &Request<Incoming>) -> Answer {
    let limit = num_param(req, "limit", 100, 1000)?.max(1);
    let offset = num_param(req, "offset", 0, i64::MAX)?;
    let channel = param(req, "channel");
    if let Some(c) = &channel {
        if Channel::parse(c).is_none() {
            return Err(bad(format!(
                "channel must be {}, not '{c}'",
                Channel::names()
            )));
        }
    }
    let items: Vec<Value> = app
        .store
        .results(&ResultFilter {
            centre_id: param(req, "centre"),
            channel,
            limit: Some(limit),
            offset: Some(offset),
            newest_first: true,
            needs_review: match param(req, "needs_review").as_deref() {
                None | Some("false") => false,
                Some("true") => true,
                Some(other) => {
                    return Err(bad(format!(
                        "needs_review must be true or false, not '{other}'"
                    )))
                }
            },
            ..ResultFilter::default()
        })
        .await
        .map_err(internal)?
        .iter()
        .map(|r| r.to_json())
        .collect();
    // A full page may have a next one; no COUNT over a table that only grows.
    let next = (items.len() as i64 == limit).then_some(offset + limit);
    let page = ResultsPage {
        items,
        offset,
        limit,
        next_offset: next,
    };
    ok(serde_json::to_value(page).map_err(internal)?)
}

/// One result with its labels and how it scores.
async fn result(app: &App, id: &str) -> Answer {
    let Ok(id) = id.parse::<i64>() else {
        return Err(bad(format!("'{id}' is not a result id")));
    };
    let r = app
        .store
        .result(id)
        .await
        .map_err(internal)?
        .ok_or_else(|| not_found(format!("no result {id}")))?;
    let history: Vec<_> = app.store.labels_of(id).await.map_err(internal)?;
    let s =
        crate::verdict::result_scoring(&app.store, &app.config.scoring, std::slice::from_ref(&r))
            .await
            .map_err(internal)?
            .remove(0);
    let mut v = r.to_json();
    v["labels"] = serde_json::to_value(history).map_err(internal)?;
    v["scoring"] = serde_json::to_value(&s).map_err(internal)?;
    ok(v)
}

fn period_param(req: &Request<Incoming>) -> Result<Period, (StatusCode, String)> {
    match param(req, "period") {
        Some(p) => Period::parse(&p).map_err(|e| bad(format!("period: {e}"))),
        None => Ok(Period::month_of(chrono::Utc::now())),
    }
}

async fn scores(app: &App, req: &Request<Incoming>, flagged_only: bool) -> Answer {
    let period = period_param(req)?;
    let all = app.period_scores(&period).await.map_err(internal)?;
    let chosen: Vec<&CentreScores> = match flagged_only {
        true => crate::score::flagged(&all, &app.config.scoring),
        false => all.iter().collect(),
    };
    // Only the page asked for is turned into JSON.
    let mut out = paged(req, chosen)?;
    out.period = Some(period.label);
    out.answer()
}

/// Follow-up cases as stored (a read never opens or closes one), with their status now;
/// `status` (open, overdue, closed) and `centre` filter.
async fn cases(app: &App, req: &Request<Incoming>) -> Answer {
    let now = chrono::Utc::now();
    let status = param(req, "status");
    if let Some(s) = &status {
        if !["open", "overdue", "closed"].contains(&s.as_str()) {
            return Err(bad(format!(
                "status must be open, overdue or closed, not '{s}'"
            )));
        }
    }
    let centre = param(req, "centre");
    let mut items = Vec::new();
    for c in app.store.cases().await.map_err(internal)? {
        let st = crate::score::cases::status(&c, now);
        if status
            .as_deref()
            .is_some_and(|s| serde_json::to_value(st).ok().as_ref() != Some(&s.into()))
            || centre.as_deref().is_some_and(|x| x != c.centre)
        {
            continue;
        }
        items.push(CaseNow {
            case: c,
            status: st,
        });
    }
    paged(req, items)?.answer()
}

/// Sweeps newest first with their progress (`limit`, default 20).
async fn sweeps(app: &App, req: &Request<Incoming>) -> Answer {
    let limit = num_param(req, "limit", 20, 1000)?.max(1);
    let mut items = app.store.sweeps(None, limit).await.map_err(internal)?;
    for s in &mut items {
        s.status = s.live_status();
    }
    Listed::answer(items)
}

/// Every label kept, oldest first; `result` filters.
async fn labels(app: &App, req: &Request<Incoming>) -> Answer {
    let result = match param(req, "result") {
        None => None,
        Some(r) => Some(
            r.parse::<i64>()
                .map_err(|_| bad(format!("result must be a result id, not '{r}'")))?,
        ),
    };
    let items = match result {
        Some(r) => app.store.labels_of(r).await,
        None => app.store.labels().await,
    }
    .map_err(internal)?;
    paged(req, items)?.answer()
}

/// A label: what the auditor heard.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct LabelBody {
    result: i64,
    #[schema(value_type = crate::probe::call::audio::AnswerType)]
    answer_type: String,
    #[schema(min_length = 1)]
    reason: String,
    #[serde(default)]
    time_to_person_secs: Option<f64>,
}

async fn json_body<T: serde::de::DeserializeOwned>(
    app: &App,
    req: Request<Incoming>,
) -> Result<T, (StatusCode, String)> {
    let bytes = body(app, req).await?;
    serde_json::from_slice(&bytes).map_err(|e| bad(format!("the JSON body: {e}")))
}

/// Labels a call as the signed-in auditor; 201 with the label and the call's new score.
async fn add_label(app: &App, who: &Who, req: Request<Incoming>) -> Answer {
    let b: LabelBody = json_body(app, req).await?;
    let labelled = label(
        app,
        who,
        b.result,
        b.answer_type,
        b.reason,
        b.time_to_person_secs,
    )
    .await?;
    Ok((
        StatusCode::CREATED,
        Json::Tree(serde_json::to_value(labelled).map_err(internal)?),
    ))
}

pub(crate) async fn label(
    app: &App,
    who: &Who,
    result_id: i64,
    answer_type: String,
    reason: String,
    time_to_person_secs: Option<f64>,
) -> Result<crate::score::load::Labelled, (StatusCode, String)> {
    use crate::score::load::{label_call, LabelError, LabelRequest};
    let req = LabelRequest {
        result_id,
        answer_type,
        reason,
        time_to_person_secs,
        by: who.name.clone(),
    };
    let done = label_call(&app.store, &app.config.scoring, &req).await;
    match done {
        Ok(l) => Ok(l),
        Err(LabelError::Bad(m)) => Err(bad(m)),
        Err(e) => Err(internal(e)),
    }
}

/// What to probe.
#[derive(serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ProbeBody {
    #[schema(value_type = crate::probe::Channel)]
    channel: String,
    /// E.164 number, sip: URI, http(s) URL or centre id.
    target: String,
    /// Allow a number outside the registry (recorded with the result).
    #[serde(default)]
    unlisted: bool,
    #[serde(default)]
    no_browser: bool,
    #[serde(default)]
    pages: Option<usize>,
}

/// Probes now and answers with the stored results (a call takes as long as the call).
async fn probe(app: &App, req: Request<Incoming>) -> Answer {
    let b: ProbeBody = json_body(app, req).await?;
    let ids = probe_now(
        app,
        &b.channel,
        &b.target,
        b.unlisted,
        b.no_browser,
        b.pages,
    )
    .await?;
    let mut items = Vec::new();
    for id in ids {
        if let Some(r) = app.store.result(id).await.map_err(internal)? {
            items.push(r.to_json());
        }
    }
    Listed::answer(items)
}

/// Runs an on-demand probe; the ids of the stored results.
pub(crate) async fn probe_now(
    app: &App,
    channel: &str,
    target: &str,
    unlisted: bool,
    no_browser: bool,
    pages: Option<usize>,
) -> Result<Vec<i64>, (StatusCode, String)> {
    use crate::schedule::on_demand::{self, OnDemandError, ProbeRequest};
    let Ok(_slot) = app.probes.try_acquire() else {
        return Err((
            StatusCode::TOO_MANY_REQUESTS,
            format!("{PROBES_AT_ONCE} probes are running: try again when one ends"),
        ));
    };
    let Some(channel) = Channel::parse(channel) else {
        return Err(bad(format!(
            "channel must be {}, not '{channel}'",
            Channel::names()
        )));
    };
    let req = ProbeRequest {
        channel,
        target: target.to_string(),
        unlisted,
        no_browser,
        pages,
    };
    let done = on_demand::probe(&app.config, &app.store, &req).await;
    match done {
        Ok(ids) => Ok(ids),
        Err(OnDemandError::Bad(m)) => Err(bad(m)),
        Err(e) => Err(internal(e)),
    }
}

async fn users(app: &App) -> Answer {
    Listed::answer(app.store.users().await.map_err(internal)?)
}

/// Sign-in attempts newest first (`limit`, default 100): failures, refusals while delayed,
/// successes, each with the name typed and the client address.
async fn signins(app: &App, req: &Request<Incoming>) -> Answer {
    let limit = num_param(req, "limit", 100, 1000)?.max(1);
    Listed::answer(app.store.signin_attempts(limit).await.map_err(internal)?)
}

/// `/healthz`: 200 when the store takes a read and a write, the evidence directory a file and
/// (under `raqib serve`) the scheduler's heartbeat is fresh; 503 naming what fails.
async fn health(app: &App) -> Reply {
    let failed = |error: String| HealthCheck {
        ok: false,
        error: Some(error),
        ..HealthCheck::default()
    };
    let fine = HealthCheck {
        ok: true,
        ..HealthCheck::default()
    };
    let late = || failed("no answer within 5 s".into());
    let mut checks = serde_json::Map::new();
    let mut add = |name: &str, check: HealthCheck| {
        checks.insert(name.into(), serde_json::to_value(check).unwrap_or_default());
    };
    let store = tokio::time::timeout(HEALTH_CHECK_TIMEOUT, app.store.check_tables()).await;
    add(
        "store",
        match store {
            Ok(Ok(())) => fine.clone(),
            Ok(Err(e)) => failed(e.to_string()),
            Err(_) => late(),
        },
    );
    let evidence = tokio::time::timeout(HEALTH_CHECK_TIMEOUT, app.store.check_evidence_dir()).await;
    add(
        "evidence",
        match evidence {
            Ok(Ok(())) => fine.clone(),
            Ok(Err(e)) => failed(format!("{}: {e}", app.store.evidence_dir().display())),
            Err(_) => late(),
        },
    );
    if let Some(h) = &app.heartbeat {
        add(
            "scheduler",
            scheduler_check(
                h.last_millis(),
                chrono::Utc::now().timestamp_millis(),
                h.stale_after,
            ),
        );
    }
    let failing: Vec<String> = checks
        .iter()
        .filter(|(_, c)| c["ok"] != true)
        .map(|(k, _)| k.clone())
        .collect();
    let status = match failing.is_empty() {
        true => StatusCode::OK,
        false => {
            let details = Value::Object(checks.clone());
            tracing::warn!("health: failing {failing:?}: {details}");
            StatusCode::SERVICE_UNAVAILABLE
        }
    };
    let health = Health {
        status: if failing.is_empty() { "ok" } else { "failing" },
        failing,
        checks,
    };
    reply(status, serde_json::to_value(health).unwrap_or_default())
}

/// `/healthz`'s answer.
#[derive(serde::Serialize, utoipa::ToSchema)]
pub(crate) struct Health {
    /// `ok`, or `failing` when a check fails.
    #[schema(value_type = String, pattern = "^(ok|failing)$")]
    status: &'static str,
    /// The checks that fail: `store`, `evidence`, `scheduler`.
    failing: Vec<String>,
    /// Each check by name, in the order made (a map of `HealthCheck`s).
    #[schema(value_type = std::collections::BTreeMap<String, HealthCheck>)]
    checks: serde_json::Map<String, Value>,
}

/// One part's check: `error` says why it fails; the scheduler's also gives its heartbeat.
#[derive(Debug, Clone, Default, serde::Serialize, utoipa::ToSchema)]
pub(crate) struct HealthCheck {
    ok: bool,
    /// The scheduler's last beat (UTC, RFC 3339 with milliseconds).
    #[serde(skip_serializing_if = "Option::is_none")]
    last_beat: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    age_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stale_after_secs: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// The scheduler's part of health: its last beat at `last_ms`, seen at `now_ms`.
fn scheduler_check(last_ms: i64, now_ms: i64, stale_after: Duration) -> HealthCheck {
    let age = (now_ms - last_ms).max(0) as f64 / 1000.0;
    let last = chrono::DateTime::from_timestamp_millis(last_ms)
        .map(|t| crate::probe::utc_millis::format(&t))
        .unwrap_or_default();
    let ok = age <= stale_after.as_secs_f64();
    HealthCheck {
        ok,
        last_beat: Some(last),
        age_secs: Some(age),
        stale_after_secs: Some(stale_after.as_secs_f64()),
        error: (!ok).then(|| format!("no heartbeat for {age:.0} s: the scheduler stalled")),
    }
}

/// The URL path an evidence file is served at, if it lies in the store's evidence directory.
pub(crate) fn evidence_url(store: &Store, stored: &str) -> Option<String> {
    let p = std::path::Path::new(stored);
    let rel = match p.strip_prefix(store.evidence_dir()) {
        Ok(rel) => rel.to_string_lossy().into_owned(),
        // Stored from another working directory: the part after the data directory's
        // `evidence/`, checked again when served.
        Err(_) => stored[stored.rfind("/evidence/")? + "/evidence/".len()..].to_string(),
    };
    let enc: Vec<String> = rel
        .split('/')
        .map(|s| url::form_urlencoded::byte_serialize(s.as_bytes()).collect())
        .collect();
    Some(format!("/evidence/{}", enc.join("/")))
}

/// An evidence file (recording, SIP trace, screenshot) to a signed-in user; nothing outside the
/// evidence directory, whatever the path says.
async fn evidence(app: &App, rel: &str) -> Reply {
    let decoded: String =
        url::form_urlencoded::parse(format!("p={}", rel.replace('+', "%2B")).as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default();
    let rel_path = std::path::Path::new(&decoded);
    if decoded.is_empty()
        || !rel_path
            .components()
            .all(|c| matches!(c, std::path::Component::Normal(_)))
    {
        return error(StatusCode::NOT_FOUND, "no such evidence");
    }
    let root = match tokio::fs::canonicalize(app.store.evidence_dir()).await {
        Ok(r) => r,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    };
    let full = match tokio::fs::canonicalize(root.join(rel_path)).await {
        Ok(f) if f.starts_with(&root) => f,
        _ => return error(StatusCode::NOT_FOUND, "no such evidence"),
    };
    // Only regular files: opening a FIFO or a device would wait on it (or read forever).
    match tokio::fs::metadata(&full).await {
        Ok(m) if m.is_file() => {}
        _ => return error(StatusCode::NOT_FOUND, "no such evidence"),
    }
    let bytes = match tokio::fs::read(&full).await {
        Ok(b) => b,
        Err(_) => return error(StatusCode::NOT_FOUND, "no such evidence"),
    };
    let kind = match full.extension().and_then(|e| e.to_str()) {
        Some("wav") => "audio/wav",
        Some("png") => "image/png",
        Some("json") => "application/json",
        _ => "text/plain; charset=utf-8",
    };
    Response::builder()
        .header("content-type", kind)
        // Recordings and screenshots of a signed-in session: kept by no cache, shared or not.
        .header("cache-control", "no-store")
        .header("x-content-type-options", "nosniff")
        .body(Full::new(Bytes::from(bytes)))
        .expect("a valid response")
}

#[cfg(test)]
mod tests {
    /// Every route `handle` answers is in the document, and the document names no other.
    #[test]
    fn the_openapi_document_lists_exactly_the_routes() {
        let doc = super::openapi();
        let mut documented: Vec<String> = doc["paths"]
            .as_object()
            .unwrap()
            .iter()
            .flat_map(|(path, ops)| {
                let methods = ops.as_object().unwrap().keys();
                methods.map(move |m| format!("{} {path}", m.to_uppercase()))
            })
            .collect();
        documented.sort();
        let source = include_str!("mod.rs");
        let mut served: Vec<String> = ["GET", "POST"]
            .iter()
            .flat_map(|method| {
                let m = format!("(\"{method}\", \"/");
                source
                    .match_indices(&m)
                    .map(|(i, _)| {
                        let rest = &source[i + m.len() - 1..];
                        format!("{method} {}", &rest[..rest.find('"').unwrap()])
                    })
                    .collect::<Vec<_>>()
            })
            .chain(
                source
                    .contains("== \"/healthz\"")
                    .then(|| "GET /healthz".to_string()),
            )
            .collect();
        served.sort();
        served.dedup();
        assert_eq!(documented, served);
    }

    #[test]
    fn a_stale_heartbeat_fails_health() {
        let stale = std::time::Duration::from_secs(60);
        let fresh = super::scheduler_check(1_000_000, 1_030_000, stale);
        assert_eq!((fresh.ok, fresh.age_secs), (true, Some(30.0)));
        let old = super::scheduler_check(1_000_000, 1_061_000, stale);
        assert!(!old.ok);
        assert!(old.error.as_deref().unwrap().contains("stalled"), "{old:?}");
    }
}
