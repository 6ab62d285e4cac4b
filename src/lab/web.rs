//! The lab's websites: one page per sample centre, in several behaviours.

use std::collections::HashMap;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;

use super::LabError;
use crate::registry::Centre;

pub const LAB_CERT_PEM: &str = include_str!("../../config/lab/server.pem");
pub(super) const LAB_KEY_PEM: &str = include_str!("../../config/lab/server.key");
pub(super) const EXPIRED_CERT_PEM: &str = include_str!("../../config/lab/expired.pem");
pub(super) const EXPIRED_KEY_PEM: &str = include_str!("../../config/lab/expired.key");

/// The behaviours, as the first path segment.
pub const LAB_PATHS: [(&str, &str); 4] = [
    ("ok", "a good Arabic page"),
    ("slow", "the same page after [lab] slow_ms"),
    ("error", "HTTP 500"),
    ("moved", "301 to /ok/ID/"),
];

pub(super) struct Site {
    pub centres: HashMap<String, Centre>,
    pub slow: Duration,
}

pub(super) fn tls_acceptor(cert: &str, key: &str) -> Result<TlsAcceptor, LabError> {
    let certs = CertificateDer::pem_slice_iter(cert.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| LabError::Tls(e.to_string()))?;
    let key =
        PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|e| LabError::Tls(e.to_string()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| LabError::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| LabError::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

pub(super) async fn serve(
    tasks: &mut tokio::task::JoinSet<()>,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    site: Arc<Site>,
) -> Result<SocketAddr, LabError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|source| LabError::Bind { addr, source })?;
    let local = listener
        .local_addr()
        .map_err(|source| LabError::Bind { addr, source })?;
    tasks.spawn(async move {
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                // Out of descriptors: back off instead of spinning.
                tokio::time::sleep(Duration::from_millis(10)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let site = site.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    let site = site.clone();
                    async move { Ok::<_, Infallible>(respond(&site, req).await) }
                });
                let builder = hyper::server::conn::http1::Builder::new();
                match tls {
                    Some(acceptor) => {
                        if let Ok(s) = acceptor.accept(stream).await {
                            let _ = builder.serve_connection(TokioIo::new(s), svc).await;
                        }
                    }
                    None => {
                        let _ = builder.serve_connection(TokioIo::new(stream), svc).await;
                    }
                }
            });
        }
    });
    Ok(local)
}

fn html(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "text/html; charset=utf-8")
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

async fn respond(site: &Site, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    if path == "/" {
        return html(StatusCode::OK, index(site));
    }
    let (behaviour, centre) = match parts.as_slice() {
        [b, id] => match site.centres.get(*id) {
            Some(c) => (*b, c),
            None => return html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
        },
        _ => return html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
    };
    match behaviour {
        "ok" => html(StatusCode::OK, page(centre)),
        "slow" => {
            tokio::time::sleep(site.slow).await;
            html(StatusCode::OK, page(centre))
        }
        "error" => html(
            StatusCode::INTERNAL_SERVER_ERROR,
            "<h1>500 Internal Server Error</h1>".into(),
        ),
        "moved" => Response::builder()
            .status(StatusCode::MOVED_PERMANENTLY)
            .header("location", format!("/ok/{}/", centre.id))
            .body(Full::new(Bytes::new()))
            .unwrap_or_default(),
        _ => html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
    }
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(c: &Centre) -> String {
    let phones: String = c
        .phones
        .iter()
        .map(|p| {
            format!(
                "<li><a href=\"tel:{0}\" dir=\"ltr\">{0}</a></li>",
                escape(p)
            )
        })
        .collect();
    format!(
        r#"<!doctype html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{name_ar}</title></head>
<body>
<header><a href="?lang=en" lang="en" hreflang="en">English</a></header>
<main>
<h1>{name_ar}</h1>
<p>{agency}</p>
<h2>ساعات العمل</h2><p dir="ltr">{hours}</p>
<h2>اتصل بنا</h2><ul>{phones}</ul>
</main>
<footer><a href="/accessibility">بيان إمكانية الوصول</a> · <span lang="en">{name_en}</span></footer>
</body></html>
"#,
        name_ar = escape(&c.name_ar),
        name_en = escape(&c.name_en),
        agency = escape(&c.agency),
        hours = escape(&c.hours.to_string()),
    )
}

fn index(site: &Site) -> String {
    let mut ids: Vec<_> = site.centres.keys().collect();
    ids.sort();
    let rows: String = ids
        .iter()
        .map(|id| {
            let links: String = super::LAB_PATHS
                .iter()
                .map(|(b, _)| format!(" <a href=\"/{b}/{0}/\">{b}</a>", escape(id)))
                .collect();
            format!("<li>{}{links}</li>", escape(id))
        })
        .collect();
    format!("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>raqib lab</title></head><body><h1>raqib lab</h1><ul>{rows}</ul></body></html>")
}
