//! The HTML report printed to PDF by headless Chromium over the DevTools pipe.

use std::path::Path;
use std::time::Duration;

use base64::Engine;
use serde_json::json;

use super::ReportError;
use crate::probe::web::cdp::Browser;

/// What runs along every printed page (Chromium's templates: `pageNumber` and `totalPages`
/// spans are filled in; every style must be inline).
pub struct Running<'a> {
    pub header: &'a str,
    pub footer: &'a str,
}

/// Prints `html` to PDF with the browser at `chromium`: A4, backgrounds on, margins that hold
/// the running header and footer and survive a printer.
pub async fn print(
    chromium: &Path,
    html: &str,
    running: &Running<'_>,
) -> Result<Vec<u8>, ReportError> {
    let err = |e: String| ReportError::Pdf(e);
    let dir = tempfile::tempdir().map_err(|e| err(e.to_string()))?;
    let page = dir.path().join("report.html");
    std::fs::write(&page, html).map_err(|e| err(e.to_string()))?;
    let browser = Browser::launch(chromium, &[])
        .await
        .map_err(|e| err(e.to_string()))?;
    let result = tokio::time::timeout(Duration::from_secs(60), async {
        let sid = browser.new_page(None).await?;
        let mut events = browser.subscribe(&sid);
        browser.call("Page.enable", json!({}), Some(&sid)).await?;
        let url = url::Url::from_file_path(&page).expect("an absolute path");
        browser
            .call("Page.navigate", json!({"url": url.as_str()}), Some(&sid))
            .await?;
        while let Some(ev) = events.recv().await {
            if ev.method == "Page.loadEventFired" {
                break;
            }
        }
        browser
            .call(
                "Page.printToPDF",
                json!({
                    "printBackground": true,
                    "paperWidth": 8.27,
                    "paperHeight": 11.69,
                    "marginTop": 0.75,
                    "marginBottom": 0.75,
                    "marginLeft": 0.6,
                    "marginRight": 0.6,
                    "displayHeaderFooter": true,
                    "headerTemplate": running.header,
                    "footerTemplate": running.footer,
                }),
                Some(&sid),
            )
            .await
    })
    .await;
    browser.close(Duration::from_secs(2)).await;
    let printed = match result {
        Err(_) => return Err(err("Chromium did not print within 60 s".into())),
        Ok(r) => r.map_err(|e| err(e.to_string()))?,
    };
    base64::engine::general_purpose::STANDARD
        .decode(printed["data"].as_str().unwrap_or_default())
        .map_err(|e| err(format!("PDF data: {e}")))
}
