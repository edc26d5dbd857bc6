//! Throw-away TLS material for HTTPS tests (feature `test-tls`).

use crate::TlsConfig;

/// Generates a fresh CA and a leaf certificate for `localhost` (and `127.0.0.1`, `::1`)
/// signed by it. Returns the server's [`TlsConfig`] (leaf then CA, and the leaf's key) and
/// the CA certificate in PEM for the client to trust.
///
/// A leaf signed by a CA is needed because rustls refuses a self-signed CA certificate as a
/// server certificate (`CaUsedAsEndEntity`).
///
/// # Panics
/// If key or certificate generation fails (it does not with the ring backend).
pub fn generate_test_tls() -> (TlsConfig, Vec<u8>) {
    use rcgen::{
        BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose,
    };

    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    ca_params.distinguished_name.push(DnType::CommonName, "gsms-emulator test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages =
        vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign, KeyUsagePurpose::DigitalSignature];
    let ca_key = KeyPair::generate().expect("CA key");
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("CA certificate");

    let mut leaf_params =
        CertificateParams::new(vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string()])
            .expect("leaf params");
    leaf_params.distinguished_name.push(DnType::CommonName, "localhost");
    leaf_params.is_ca = IsCa::ExplicitNoCa;
    leaf_params.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf_params.use_authority_key_identifier_extension = true;
    let leaf_key = KeyPair::generate().expect("leaf key");
    let leaf = leaf_params.signed_by(&leaf_key, &ca).expect("leaf certificate");

    let ca_pem = ca.pem();
    let cert_pem = format!("{}{}", leaf.pem(), ca_pem);
    (TlsConfig { cert_pem: cert_pem.into_bytes(), key_pem: leaf_key.serialize_pem().into_bytes() }, ca_pem.into_bytes())
}
