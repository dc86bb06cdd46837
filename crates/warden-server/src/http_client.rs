//! The one HTTP client setup the server's outgoing requests share (the
//! bundle source, an OCI registry, the log sink).

use std::path::Path;
use std::time::Duration;

/// An HTTP client for the bundle source and the log sink: every status
/// comes back as a response, at most `redirects` followed, `timeout` for
/// the whole exchange, and with `ca_file` only the CAs it holds are trusted.
pub(crate) fn agent(
    ca_file: Option<&Path>,
    timeout: Duration,
    redirects: u32,
) -> Result<ureq::Agent, String> {
    let mut tls = ureq::tls::TlsConfig::builder();
    if let Some(ca) = ca_file {
        let pem = warden::read_file_bounded(ca, 1 << 20).map_err(|e| format!("ca_file: {e}"))?;
        let certs: Vec<_> = ureq::tls::parse_pem(pem.as_bytes())
            .filter_map(|item| match item {
                Ok(ureq::tls::PemItem::Certificate(cert)) => Some(cert),
                _ => None,
            })
            .collect();
        if certs.is_empty() {
            return Err(format!(
                "ca_file `{}` holds no PEM certificate",
                ca.display()
            ));
        }
        tls = tls.root_certs(ureq::tls::RootCerts::new_with_certs(&certs));
    }
    Ok(ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .max_redirects(redirects)
        .tls_config(tls.build())
        .user_agent(concat!("warden/", env!("CARGO_PKG_VERSION")))
        .build()
        .into())
}
