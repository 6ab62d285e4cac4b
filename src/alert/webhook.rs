//! Alerts by webhook: one JSON POST over HTTP/1.1 (TLS for https, the system's CAs), success
//! being any 2xx status.

use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

/// The TLS settings for https webhooks: the system's CAs, read once.
pub fn tls_config() -> Result<Arc<rustls::ClientConfig>, String> {
    let mut roots = rustls::RootCertStore::empty();
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Posts `body` to `url`; an error says what failed (connect, TLS, status).
pub async fn post(
    url: &str,
    body: &serde_json::Value,
    tls: &Arc<rustls::ClientConfig>,
    timeout: Duration,
) -> Result<(), String> {
    tokio::time::timeout(timeout, post_inner(url, body, tls))
        .await
        .unwrap_or_else(|_| Err(format!("no answer within {} s", timeout.as_secs())))
}

async fn post_inner(
    url: &str,
    body: &serde_json::Value,
    tls: &Arc<rustls::ClientConfig>,
) -> Result<(), String> {
    let u = url::Url::parse(url).map_err(|e| format!("bad URL: {e}"))?;
    let host = u.host_str().ok_or("URL without host")?.to_string();
    let https = u.scheme() == "https";
    let port = u.port_or_known_default().unwrap_or(80);
    let tcp = TcpStream::connect((host.trim_matches(|c| c == '[' || c == ']'), port))
        .await
        .map_err(|e| format!("connect {host}:{port}: {e}"))?;
    let path = match u.query() {
        Some(q) => format!("{}?{q}", u.path()),
        None => u.path().to_string(),
    };
    let request = hyper::Request::post(path)
        .header(hyper::header::HOST, u.authority())
        .header(
            hyper::header::CONTENT_TYPE,
            "application/json; charset=utf-8",
        )
        .header(
            hyper::header::USER_AGENT,
            concat!("raqib/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(body.to_string())))
        .map_err(|e| e.to_string())?;
    let status = if https {
        let name = rustls::pki_types::ServerName::try_from(host.clone())
            .map_err(|e| format!("server name {host}: {e}"))?;
        let tls = tokio_rustls::TlsConnector::from(tls.clone())
            .connect(name, tcp)
            .await
            .map_err(|e| format!("TLS with {host}: {e}"))?;
        send(TokioIo::new(tls), request).await?
    } else {
        send(TokioIo::new(tcp), request).await?
    };
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(format!("HTTP status {status}"))
    }
}

async fn send<T>(io: T, request: hyper::Request<Full<Bytes>>) -> Result<u16, String>
where
    T: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let (mut sender, conn) = hyper::client::conn::http1::handshake(io)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    tokio::spawn(conn);
    let response = sender
        .send_request(request)
        .await
        .map_err(|e| format!("HTTP: {e}"))?;
    let status = response.status().as_u16();
    // Read the body so the receiver sees a complete exchange.
    let _ = response.into_body().collect().await;
    Ok(status)
}
