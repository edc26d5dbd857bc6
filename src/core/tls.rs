//! TLS for HTTPS: rustls on ring, configured here, for the size of the binary.
//!
//! - Cipher suites: AES-GCM only (TLS 1.3 and TLS 1.2 with ECDHE). Every TLS 1.3 server must offer
//!   TLS_AES_128_GCM_SHA256 and every console and PC CPU we ship on has AES instructions; leaving
//!   ChaCha20-Poly1305 out drops ring's ChaCha and Poly1305 code from the library.
//! - Trust: Mozilla's roots as trust anchors (`webpki-roots`: subject and key only, not whole
//!   certificates), plus the roots of the configured CA bundle.
//! - Key exchange and signature algorithms: everything ring offers (as rustls' default provider).
//!
//! The configuration is built once per client, on its first https connection (http.rs); the
//! handshake and records run over the connection's socket (transport.rs).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::crypto::{
    ring as rr, CryptoProvider, GetRandomFailed, KeyProvider, SecureRandom, WebPkiSupportedAlgorithms,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::sign::SigningKey;
use rustls::{ClientConfig, RootCertStore, SignatureScheme};
use webpki::ring as alg;

/// The signature algorithms ring verifies (the same table as rustls' ring provider, which keeps
/// its own private).
static SIGNATURE_ALGORITHMS: WebPkiSupportedAlgorithms = WebPkiSupportedAlgorithms {
    all: &[
        alg::ECDSA_P256_SHA256,
        alg::ECDSA_P256_SHA384,
        alg::ECDSA_P384_SHA256,
        alg::ECDSA_P384_SHA384,
        alg::ED25519,
        alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY,
        alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY,
        alg::RSA_PKCS1_2048_8192_SHA256,
        alg::RSA_PKCS1_2048_8192_SHA384,
        alg::RSA_PKCS1_2048_8192_SHA512,
        alg::RSA_PKCS1_2048_8192_SHA256_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA384_ABSENT_PARAMS,
        alg::RSA_PKCS1_2048_8192_SHA512_ABSENT_PARAMS,
    ],
    mapping: &[
        (SignatureScheme::ECDSA_NISTP384_SHA384, &[alg::ECDSA_P384_SHA384, alg::ECDSA_P256_SHA384]),
        (SignatureScheme::ECDSA_NISTP256_SHA256, &[alg::ECDSA_P256_SHA256, alg::ECDSA_P384_SHA256]),
        (SignatureScheme::ED25519, &[alg::ED25519]),
        (SignatureScheme::RSA_PSS_SHA512, &[alg::RSA_PSS_2048_8192_SHA512_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA384, &[alg::RSA_PSS_2048_8192_SHA384_LEGACY_KEY]),
        (SignatureScheme::RSA_PSS_SHA256, &[alg::RSA_PSS_2048_8192_SHA256_LEGACY_KEY]),
        (SignatureScheme::RSA_PKCS1_SHA512, &[alg::RSA_PKCS1_2048_8192_SHA512]),
        (SignatureScheme::RSA_PKCS1_SHA384, &[alg::RSA_PKCS1_2048_8192_SHA384]),
        (SignatureScheme::RSA_PKCS1_SHA256, &[alg::RSA_PKCS1_2048_8192_SHA256]),
    ],
};

/// The operating system's random numbers, through ring.
#[derive(Debug)]
struct Random;

impl SecureRandom for Random {
    fn fill(&self, buf: &mut [u8]) -> Result<(), GetRandomFailed> {
        ring::rand::SecureRandom::fill(&ring::rand::SystemRandom::new(), buf).map_err(|_| GetRandomFailed)
    }
}

/// The library never presents a client certificate.
#[derive(Debug)]
struct NoClientKeys;

impl KeyProvider for NoClientKeys {
    fn load_private_key(&self, _: PrivateKeyDer<'static>) -> Result<Arc<dyn SigningKey>, rustls::Error> {
        Err(rustls::Error::General("client certificates are not supported".into()))
    }
}

fn provider() -> CryptoProvider {
    use rr::cipher_suite as cs;
    CryptoProvider {
        cipher_suites: vec![
            cs::TLS13_AES_128_GCM_SHA256,
            cs::TLS13_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
            cs::TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
            cs::TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        ],
        kx_groups: rr::ALL_KX_GROUPS.to_vec(),
        signature_verification_algorithms: SIGNATURE_ALGORITHMS,
        secure_random: &Random,
        key_provider: &NoClientKeys,
    }
}

/// Whether `der` can serve as a trust anchor (what [`client_config`] will do with it).
pub fn usable_root(der: &[u8]) -> bool {
    webpki::anchor_from_trusted_cert(&CertificateDer::from(der)).is_ok()
}

/// The rustls configuration of one client: Mozilla's roots and `extra_roots` (DER).
pub fn client_config(extra_roots: &[Vec<u8>]) -> Result<Arc<ClientConfig>, String> {
    let mut roots = RootCertStore { roots: webpki_roots::TLS_SERVER_ROOTS.to_vec() };
    let (_, ignored) = roots.add_parsable_certificates(extra_roots.iter().map(|d| CertificateDer::from(d.as_slice())));
    if ignored > 0 {
        return Err(format!("{ignored} certificate(s) of the CA bundle cannot be trust anchors"));
    }
    let provider = Arc::new(provider());
    let verifier = WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .build()
        .map_err(|e| format!("TLS verifier: {e}"))?;
    let config = ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .with_webpki_verifier(verifier)
        .with_no_client_auth();
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_handshake_randoms_come_from_the_system_not_a_constant() {
        let (mut a, mut b) = ([0u8; 32], [0u8; 32]);
        Random.fill(&mut a).unwrap();
        Random.fill(&mut b).unwrap();
        assert_ne!(a, [0u8; 32]);
        assert_ne!(a, b);
    }

    #[test]
    fn only_aes_gcm_suites_are_offered_and_every_kx_group_is() {
        let p = provider();
        let names: Vec<String> = p.cipher_suites.iter().map(|s| format!("{:?}", s.suite())).collect();
        assert_eq!(names.len(), 6, "{names:?}");
        assert!(names.iter().all(|n| n.contains("AES_") && n.contains("GCM")), "{names:?}");
        assert!(names.iter().any(|n| n == "TLS13_AES_128_GCM_SHA256"), "the suite every TLS 1.3 server has");
        assert_eq!(p.kx_groups.len(), 3);
    }

    #[test]
    fn a_certificate_that_cannot_be_an_anchor_is_refused() {
        assert!(!usable_root(b"\x30\x03\x02\x01\x01"));
        let err = client_config(&[b"junk".to_vec()]).unwrap_err();
        assert!(err.contains("1 certificate(s)"), "{err}");
        assert!(client_config(&[]).is_ok(), "Mozilla's roots alone");
        assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
    }
}
