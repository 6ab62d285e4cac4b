//! The TLS client set-up of SIP over TLS, with the trust settings of raqib's other TLS
//! clients: the system's roots plus the configured extra CAs, hostname verification always.

use std::path::PathBuf;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::CertificateDer;
use rustls::RootCertStore;

use crate::probe::ProbeError;

pub fn client_config(extra_ca_files: &[PathBuf]) -> Result<Arc<rustls::ClientConfig>, ProbeError> {
    let mut roots = RootCertStore::empty();
    // A machine without ca-certificates still trusts the configured CAs.
    roots.add_parsable_certificates(rustls_native_certs::load_native_certs().certs);
    for path in extra_ca_files {
        let shown = path.display().to_string();
        let certs = CertificateDer::pem_file_iter(path)
            .and_then(|it| it.collect::<Result<Vec<_>, _>>())
            .map_err(|e| ProbeError::TrustStore {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        if certs.is_empty() {
            return Err(ProbeError::TrustStore {
                path: shown,
                message: "no PEM certificate in the file".into(),
            });
        }
        for c in certs {
            roots.add(c).map_err(|e| ProbeError::TrustStore {
                path: shown.clone(),
                message: e.to_string(),
            })?;
        }
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ProbeError::TlsSetup(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
