//! The TLS client set-up shared by every check: the system's roots, the configured extra CAs,
//! and no session resumption, so that every check pays the full handshake a first visit pays.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use crate::config::WebConfig;
use crate::probe::ProbeError;

/// The lab's certificate authority, trusted when `web.trust_lab_ca` is set.
pub const LAB_CA_PEM: &str = include_str!("../../../config/lab/ca.pem");

/// The configured extra certificate authorities, each with the file it came from.
fn extra_cas(cfg: &WebConfig) -> Result<Vec<(String, Vec<CertificateDer<'static>>)>, ProbeError> {
    let mut extra: Vec<(String, Vec<CertificateDer<'static>>)> = Vec::new();
    for path in &cfg.trust_ca_files {
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| ProbeError::TrustStore {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
        extra.push((path.display().to_string(), certs));
    }
    if cfg.trust_lab_ca {
        let certs = CertificateDer::pem_slice_iter(LAB_CA_PEM.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| ProbeError::TrustStore {
                path: "config/lab/ca.pem".into(),
                message: e.to_string(),
            })?;
        extra.push(("config/lab/ca.pem".into(), certs));
    }
    Ok(extra)
}

/// base64(SHA-256(SubjectPublicKeyInfo)) of each extra CA, for Chromium's
/// `--ignore-certificate-errors-spki-list`: the browser then trusts exactly what the HTTP
/// check trusts (and audits only sites whose certificate that check has already verified).
pub fn extra_ca_spki_hashes(cfg: &WebConfig) -> Result<Vec<String>, ProbeError> {
    use base64::Engine as _;
    let mut hashes = Vec::new();
    for (path, certs) in extra_cas(cfg)? {
        for c in certs {
            let (_, cert) =
                x509_parser::parse_x509_certificate(&c).map_err(|e| ProbeError::TrustStore {
                    path: path.clone(),
                    message: e.to_string(),
                })?;
            let digest =
                ring::digest::digest(&ring::digest::SHA256, cert.tbs_certificate.subject_pki.raw);
            hashes.push(base64::engine::general_purpose::STANDARD.encode(digest.as_ref()));
        }
    }
    Ok(hashes)
}

pub(super) fn client_config(cfg: &WebConfig) -> Result<rustls::ClientConfig, ProbeError> {
    let mut roots = RootCertStore::empty();
    // A machine without ca-certificates still probes plain HTTP and configured CAs.
    let native = rustls_native_certs::load_native_certs();
    roots.add_parsable_certificates(native.certs);
    let extra = extra_cas(cfg)?;
    for (path, certs) in extra {
        if certs.is_empty() {
            return Err(ProbeError::TrustStore {
                path,
                message: "no PEM certificate in the file".into(),
            });
        }
        for c in certs {
            roots.add(c).map_err(|e| ProbeError::TrustStore {
                path: path.clone(),
                message: e.to_string(),
            })?;
        }
    }
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::TlsSetup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.resumption = rustls::client::Resumption::disabled();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Whole days from now until the certificate's notAfter (negative once expired).
pub(super) fn days_left(der: &[u8]) -> Option<i64> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).ok()?;
    let not_after = cert.validity().not_after.timestamp();
    let now = chrono::Utc::now().timestamp();
    Some((not_after - now).div_euclid(86_400))
}
