//! Throw-away certificates: one CA that signs the apiserver's serving certificate and every client identity,
//! and a key pair for signing ServiceAccount tokens.

use crate::{Error, Result};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose, SanType,
};
use std::{path::Path, sync::Arc};

/// A client identity: certificate and key, PEM encoded.
#[derive(Clone)]
pub struct Identity {
    /// The client certificate.
    pub cert_pem: String,
    /// The private key.
    pub key_pem: String,
}

#[derive(Clone)]
pub(crate) struct Pki {
    pub(crate) ca_pem: String,
    ca: Arc<CertifiedIssuer<'static, KeyPair>>,
}

fn err(e: rcgen::Error) -> Error {
    Error::Start(format!("certificate generation: {e}"))
}

impl Pki {
    /// Generates the CA, the serving certificate and the ServiceAccount key into `dir`.
    pub(crate) fn generate(dir: &Path) -> Result<Self> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        params.distinguished_name = DistinguishedName::new();
        params
            .distinguished_name
            .push(DnType::CommonName, "testenv-ca");
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let ca =
            CertifiedIssuer::self_signed(params, KeyPair::generate().map_err(err)?).map_err(err)?;
        let ca_pem = ca.pem();
        std::fs::write(dir.join("ca.crt"), &ca_pem)?;

        let mut serving = CertificateParams::new(vec!["localhost".to_string()]).map_err(err)?;
        serving
            .subject_alt_names
            .push(SanType::IpAddress("127.0.0.1".parse().expect("an IP")));
        serving
            .distinguished_name
            .push(DnType::CommonName, "kube-apiserver");
        serving.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        let key = KeyPair::generate().map_err(err)?;
        let cert = serving.signed_by(&key, &ca).map_err(err)?;
        std::fs::write(dir.join("serving.crt"), cert.pem())?;
        std::fs::write(dir.join("serving.key"), key.serialize_pem())?;

        let sa = KeyPair::generate().map_err(err)?;
        std::fs::write(dir.join("sa.key"), sa.serialize_pem())?;
        std::fs::write(dir.join("sa.pub"), sa.public_key_pem())?;
        Ok(Self {
            ca_pem,
            ca: Arc::new(ca),
        })
    }

    /// A client certificate for `user` in `groups`.
    pub(crate) fn identity(&self, user: &str, groups: &[&str]) -> Result<Identity> {
        let mut params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
        params.distinguished_name = DistinguishedName::new();
        params.distinguished_name.push(DnType::CommonName, user);
        for group in groups {
            params
                .distinguished_name
                .push(DnType::OrganizationName, *group);
        }
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        let key = KeyPair::generate().map_err(err)?;
        let cert = params.signed_by(&key, &self.ca).map_err(err)?;
        Ok(Identity {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
        })
    }
}
