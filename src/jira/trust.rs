//! Which certificate authorities the Jira client trusts: the platform's roots (the system trust store, which
//! `SSL_CERT_FILE` and `SSL_CERT_DIR` can point elsewhere) and the built-in web roots, plus the extra CA
//! certificates of `--ca-bundle` (a private CA, a TLS-inspecting proxy). The bundle is set once per process,
//! before the first client is built; every client built afterwards trusts it.

use std::sync::OnceLock;

static EXTRA_ROOTS: OnceLock<Vec<reqwest::Certificate>> = OnceLock::new();

/// Trusts the CA certificates of a PEM bundle in every Jira client built from now on; returns how many it
/// holds. Fails on a bundle without a certificate, an unreadable one, or a second call.
pub fn trust_ca_bundle(pem: &[u8]) -> Result<usize, String> {
    let certificates = parse_bundle(pem)?;
    let count = certificates.len();
    EXTRA_ROOTS
        .set(certificates)
        .map_err(|_| "a CA bundle is already trusted".to_string())?;
    Ok(count)
}

/// The certificates of a PEM bundle; at least one.
fn parse_bundle(pem: &[u8]) -> Result<Vec<reqwest::Certificate>, String> {
    let certificates = reqwest::Certificate::from_pem_bundle(pem)
        .map_err(|e| format!("not a PEM bundle of CA certificates: {e}"))?;
    if certificates.is_empty() {
        return Err("no PEM certificate (-----BEGIN CERTIFICATE-----) in the bundle".into());
    }
    Ok(certificates)
}

/// Adds the trusted extra CA certificates to a client builder.
pub(crate) fn with_extra_roots(builder: reqwest::ClientBuilder) -> reqwest::ClientBuilder {
    EXTRA_ROOTS
        .get()
        .into_iter()
        .flatten()
        .fold(builder, |b, c| b.add_root_certificate(c.clone()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bundle_needs_at_least_one_certificate() {
        let ca = rcgen::generate_simple_self_signed(vec!["ca.test".into()]).unwrap();
        let pem = format!("{}{}", ca.cert.pem(), ca.cert.pem());
        assert_eq!(parse_bundle(pem.as_bytes()).map(|c| c.len()), Ok(2));
        let err = parse_bundle(b"# just a comment\n").err().unwrap();
        assert!(err.contains("no PEM certificate"), "{err}");
    }
}
