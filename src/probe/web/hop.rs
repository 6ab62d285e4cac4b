//! One request over one fresh connection, each phase timed where it happens.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll};
use std::time::Instant;

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use url::Url;

use super::{add, Progress, WebReason};
use crate::config::WebConfig;

pub(super) enum HopError {
    /// The site failed: this is a result.
    Failed(WebReason, String),
    /// raqib failed (out of sockets or memory): not the centre's fault.
    Local(io::Error),
}

pub(super) struct HopResponse {
    pub status: u16,
    /// Set for a 3xx with a `Location` header; the body is then not read.
    pub location: Option<String>,
    pub first_byte: Instant,
    pub body: Vec<u8>,
    pub body_len: u64,
    pub truncated: bool,
    pub tls_days_left: Option<i64>,
}

fn failed(reason: WebReason, detail: impl Into<String>) -> HopError {
    HopError::Failed(reason, detail.into())
}

/// Errors that mean this machine, not the site, is in trouble: ENOMEM, ENFILE, EMFILE,
/// EADDRNOTAVAIL (no ephemeral port left), ENOBUFS.
fn is_local(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(12 | 23 | 24 | 99 | 105))
}

pub(super) async fn fetch(
    url: &Url,
    cfg: &WebConfig,
    tls: &Arc<rustls::ClientConfig>,
    progress: &mut Progress,
) -> Result<HopResponse, HopError> {
    let host = url.host_str().unwrap_or_default();
    let port = url.port_or_known_default().unwrap_or(80);
    let https = url.scheme() == "https";

    // DNS: an address literal needs no lookup and counts 0 ms.
    progress.phase = "resolving the name";
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => {
            add(&mut progress.dns, Default::default());
            vec![SocketAddr::new(ip, port)]
        }
        Err(_) => {
            let t = Instant::now();
            let looked = tokio::net::lookup_host((host, port)).await;
            add(&mut progress.dns, t.elapsed());
            match looked {
                Ok(a) => {
                    let a: Vec<_> = a.collect();
                    if a.is_empty() {
                        return Err(failed(WebReason::Dns, format!("{host}: no address")));
                    }
                    a
                }
                Err(e) => return Err(failed(WebReason::Dns, format!("{host}: {e}"))),
            }
        }
    };

    // TCP: try each address in turn, as a browser falls back.
    progress.phase = "connecting";
    let t = Instant::now();
    let mut last = None;
    let mut tcp = None;
    for addr in &addrs {
        match TcpStream::connect(addr).await {
            Ok(s) => {
                tcp = Some(s);
                break;
            }
            Err(e) if is_local(&e) => return Err(HopError::Local(e)),
            Err(e) => last = Some(format!("{addr}: {e}")),
        }
    }
    add(&mut progress.connect, t.elapsed());
    let tcp = tcp.ok_or_else(|| failed(WebReason::Connect, last.unwrap_or_default()))?;
    let _ = tcp.set_nodelay(true);

    let first_byte = Arc::new(OnceLock::new());
    let (status, location, body, body_len, truncated, tls_days_left) = if https {
        progress.phase = "in the TLS handshake";
        let t = Instant::now();
        let name = rustls::pki_types::ServerName::try_from(bare.to_string())
            .map_err(|e| failed(WebReason::Tls, format!("{host}: {e}")))?;
        let stream = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await;
        add(&mut progress.tls, t.elapsed());
        let stream = stream.map_err(|e| failed(WebReason::Tls, tls_detail(&e)))?;
        let days = stream
            .get_ref()
            .1
            .peer_certificates()
            .and_then(|c| c.first())
            .and_then(|c| super::tls::days_left(c.as_ref()));
        let (s, l, b, n, tr) = exchange(url, cfg, stream, &first_byte, progress).await?;
        (s, l, b, n, tr, days)
    } else {
        let (s, l, b, n, tr) = exchange(url, cfg, tcp, &first_byte, progress).await?;
        (s, l, b, n, tr, None)
    };
    Ok(HopResponse {
        status,
        location,
        first_byte: *first_byte.get().unwrap_or(&Instant::now()),
        body,
        body_len,
        truncated,
        tls_days_left,
    })
}

fn tls_detail(e: &io::Error) -> String {
    // rustls puts its own error inside the io::Error; its text is the useful part.
    match e.get_ref() {
        Some(inner) => inner.to_string(),
        None => e.to_string(),
    }
}

type Exchanged = (u16, Option<String>, Vec<u8>, u64, bool);

async fn exchange<S>(
    url: &Url,
    cfg: &WebConfig,
    stream: S,
    first_byte: &Arc<OnceLock<Instant>>,
    progress: &mut Progress,
) -> Result<Exchanged, HopError>
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    progress.phase = "waiting for the response";
    let io = TokioIo::new(FirstByte {
        inner: stream,
        at: first_byte.clone(),
    });
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| failed(WebReason::Connect, format!("HTTP set-up: {e}")))?;
    // The connection task dies with this hop, also when the check times out.
    let conn = AbortOnDrop(tokio::spawn(conn));

    let mut path = url.path().to_string();
    if let Some(q) = url.query() {
        path.push('?');
        path.push_str(q);
    }
    let host_header = match url.port() {
        Some(p) => format!("{}:{p}", url.host_str().unwrap_or_default()),
        None => url.host_str().unwrap_or_default().to_string(),
    };
    let request = http::Request::get(path)
        .header(http::header::HOST, host_header)
        .header(http::header::USER_AGENT, &cfg.user_agent)
        .header(
            http::header::ACCEPT,
            "text/html,application/xhtml+xml,*/*;q=0.8",
        )
        .header(http::header::ACCEPT_LANGUAGE, "ar,en;q=0.8")
        .header(http::header::ACCEPT_ENCODING, "identity")
        .header(http::header::CONNECTION, "close")
        .body(Empty::<Bytes>::new())
        .map_err(|e| failed(WebReason::Connect, format!("cannot build the request: {e}")))?;
    let response = sender.send_request(request).await.map_err(|e| {
        if e.is_parse() || e.is_parse_status() {
            failed(
                WebReason::HttpStatus,
                format!("malformed HTTP response: {e}{}", source_text(&e)),
            )
        } else {
            failed(
                WebReason::Connect,
                format!("no HTTP response: {e}{}", source_text(&e)),
            )
        }
    })?;
    let status = response.status().as_u16();
    if response.status().is_redirection() {
        if let Some(loc) = response.headers().get(http::header::LOCATION) {
            let loc = String::from_utf8_lossy(loc.as_bytes()).into_owned();
            drop(conn);
            return Ok((status, Some(loc), Vec::new(), 0, false));
        }
    }
    progress.phase = "reading the body";
    let mut body = response.into_body();
    let mut kept = Vec::new();
    let mut len = 0u64;
    let mut truncated = false;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            failed(
                WebReason::Connect,
                format!("body cut off after {len} bytes: {e}"),
            )
        })?;
        if let Ok(data) = frame.into_data() {
            len += data.len() as u64;
            let room = cfg.max_body_bytes.saturating_sub(kept.len());
            kept.extend_from_slice(&data[..data.len().min(room)]);
            if kept.len() >= cfg.max_body_bytes {
                truncated = true;
                break;
            }
        }
    }
    drop(conn);
    Ok((status, None, kept, len, truncated))
}

fn source_text(e: &hyper::Error) -> String {
    use std::error::Error;
    e.source().map(|s| format!(" ({s})")).unwrap_or_default()
}

struct AbortOnDrop<T>(tokio::task::JoinHandle<T>);

impl<T> Drop for AbortOnDrop<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Records the instant the first byte of the response arrives, under any TLS layer, so that
/// TTFB is the wire's and not the moment hyper finished parsing headers.
struct FirstByte<S> {
    inner: S,
    at: Arc<OnceLock<Instant>>,
}

impl<S: AsyncRead + Unpin> AsyncRead for FirstByte<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.inner).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            let _ = self.at.set(Instant::now());
        }
        polled
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for FirstByte<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}
