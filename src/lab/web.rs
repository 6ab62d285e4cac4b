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
pub const LAB_PATHS: [(&str, &str); 7] = [
    (
        "ok",
        "a good Arabic page (and ID/services, ID/contact; ID/private is robots-disallowed)",
    ),
    ("slow", "the same page after [lab] slow_ms"),
    ("error", "HTTP 500"),
    ("moved", "301 to /ok/ID/"),
    (
        "a11y",
        "an English page with known accessibility faults (and ID/form), not in the sitemap",
    ),
    (
        "hang",
        "a page whose load event never fires (an image that never arrives)",
    ),
    ("loop", "a page whose script never yields"),
];

/// The pages under `/ok/ID/`: (path, Arabic heading).
const OK_PAGES: [(&str, &str); 4] = [
    ("", ""),
    ("services", "الخدمات"),
    ("contact", "اتصل بنا"),
    ("private", "صفحة داخلية"),
];

#[derive(Clone)]
pub(super) struct Site {
    pub centres: HashMap<String, Centre>,
    pub slow: Duration,
    /// Served over TLS: links in robots.txt and sitemaps say https.
    pub https: bool,
}

/// A TLS server with `cert`, followed in the chain by the lab's CA as many real servers send
/// their issuing CA (the browser audit trusts the lab CA by its key in the presented chain).
pub(super) fn tls_acceptor(cert: &str, key: &str) -> Result<TlsAcceptor, LabError> {
    let chain = format!("{cert}\n{}", crate::probe::web::tls::LAB_CA_PEM);
    let certs = CertificateDer::pem_slice_iter(chain.as_bytes())
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

fn text(content_type: &str, body: String) -> Response<Full<Bytes>> {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", content_type)
        .body(Full::new(Bytes::from(body)))
        .unwrap_or_default()
}

async fn respond(site: &Site, req: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = req.uri().path().to_string();
    let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
    let scheme = if req.uri().scheme_str() == Some("https") || site.https {
        "https"
    } else {
        "http"
    };
    let host = req
        .headers()
        .get("host")
        .and_then(|h| h.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_string();
    match path.as_str() {
        "/" => return html(StatusCode::OK, index(site)),
        "/robots.txt" => {
            return text(
                "text/plain",
                format!(
                    "# raqib lab\nUser-agent: *\nDisallow: /*/private\n\nSitemap: {scheme}://{host}/sitemap.xml\n"
                ),
            )
        }
        "/sitemap.xml" => {
            return text(
                "application/xml",
                format!(
                    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<sitemapindex xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n<sitemap><loc>{scheme}://{host}/sitemaps/ok.xml</loc></sitemap>\n</sitemapindex>\n"
                ),
            )
        }
        "/sitemaps/ok.xml" => {
            let mut ids: Vec<_> = site.centres.keys().collect();
            ids.sort();
            let urls: String = ids
                .iter()
                .flat_map(|id| {
                    let host = &host;
                    OK_PAGES
                        .iter()
                        .map(move |(p, _)| format!("<url><loc>{scheme}://{host}/ok/{id}/{p}</loc></url>\n"))
                })
                .collect();
            return text(
                "application/xml",
                format!("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<urlset xmlns=\"http://www.sitemaps.org/schemas/sitemap/0.9\">\n{urls}</urlset>\n"),
            );
        }
        "/stall" => {
            // Never answers: holds the browser's request open until it gives up.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            return html(StatusCode::OK, String::new());
        }
        _ => {}
    }
    let (behaviour, centre, sub) = match parts.as_slice() {
        [b, id] | [b, id, ""] => match site.centres.get(*id) {
            Some(c) => (*b, c, ""),
            None => return html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
        },
        [b @ ("ok" | "slow" | "a11y"), id, sub] => match site.centres.get(*id) {
            Some(c) => (*b, c, *sub),
            None => return html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
        },
        _ => return html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
    };
    match behaviour {
        "ok" => match OK_PAGES.iter().find(|(p, _)| *p == sub) {
            Some((_, heading)) => html(StatusCode::OK, page(centre, heading)),
            None => html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
        },
        "a11y" if sub.is_empty() || sub == "form" => html(StatusCode::OK, faulty_page(centre, sub)),
        "hang" => html(
            StatusCode::OK,
            format!(
                "<!doctype html><html lang=\"ar\" dir=\"rtl\"><head><meta charset=\"utf-8\"><title>{0}</title></head><body><main><h1>{0}</h1><img src=\"/stall\" alt=\"شعار\"></main></body></html>",
                escape(&centre.name_ar)
            ),
        ),
        "loop" => html(
            StatusCode::OK,
            format!(
                "<!doctype html><html lang=\"ar\" dir=\"rtl\"><head><meta charset=\"utf-8\"><title>{0}</title></head><body><main><h1>{0}</h1><script>for (;;) {{}}</script></main></body></html>",
                escape(&centre.name_ar)
            ),
        ),
        "slow" => match OK_PAGES.iter().find(|(p, _)| *p == sub) {
            Some((_, heading)) => {
                tokio::time::sleep(site.slow).await;
                html(StatusCode::OK, page(centre, heading))
            }
            None => html(StatusCode::NOT_FOUND, "<h1>404</h1>".into()),
        },
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

/// A page that passes axe-core's WCAG 2.2 A/AA rules and every Arabic check.
fn page(c: &Centre, heading: &str) -> String {
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
    let title = if heading.is_empty() {
        escape(&c.name_ar)
    } else {
        format!("{heading} - {}", escape(&c.name_ar))
    };
    format!(
        r#"<!doctype html>
<html lang="ar" dir="rtl">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>body{{font:16px/1.6 sans-serif;margin:2em;color:#111;background:#fff}}
a{{display:inline-block;min-height:24px;min-width:24px;padding:4px;color:#0b3d91}}</style></head>
<body>
<header><nav aria-label="القائمة"><a href="./">الرئيسية</a> <a href="services">الخدمات</a> <a href="contact">اتصل بنا</a>
<a href="?lang=en" lang="en" hreflang="en">English</a></nav></header>
<main>
<h1>{title}</h1>
<p>{name_ar}: مركز خدمة حكومي يقدم خدماته للمواطنين والمقيمين في أوقات الدوام الرسمي.</p>
<h2>ساعات العمل</h2><p dir="ltr">{hours}</p>
<h2>اتصل بنا</h2><ul>{phones}</ul>
</main>
<footer><a href="/accessibility">بيان إمكانية الوصول</a> · <span lang="en">{name_en}</span> · <span lang="en">{agency}</span></footer>
</body></html>
"#,
        name_ar = escape(&c.name_ar),
        name_en = escape(&c.name_en),
        agency = escape(&c.agency),
        hours = escape(&c.hours.to_string()),
    )
}

/// A page with known accessibility faults: no `lang`, an image without alt text, low
/// contrast, an unlabelled input, an empty link, an empty button, and a duplicated id that
/// an ARIA reference points at (axe asks a person to review that one).
fn faulty_page(c: &Centre, sub: &str) -> String {
    let next = if sub.is_empty() { "form" } else { "./" };
    format!(
        r#"<!doctype html>
<html>
<head><meta charset="utf-8"><title>{name_en}</title></head>
<body>
<main>
<h1>{name_en}{suffix}</h1>
<p>{name_ar}</p>
<img src="data:image/gif;base64,R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7" width="40" height="40">
<p style="color:#bbbbbb;background:#ffffff">Opening hours are posted at the entrance.</p>
<input type="text" name="query">
<a href="{next}"></a>
<button type="button"></button>
<p id="note">First note</p><p id="note">Second note</p>
<div role="region" aria-labelledby="note">Notes</div>
</main>
</body></html>
"#,
        name_en = escape(&c.name_en),
        name_ar = escape(&c.name_ar),
        suffix = if sub.is_empty() { "" } else { " - form" },
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
