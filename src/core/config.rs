//! Client configuration (the Rust side of `gsms_config`).

use std::sync::Arc;
use std::time::Duration;

use super::error::InvalidArgument;
use super::validate;

pub const DEFAULT_BASE_URL: &str = "https://gameserverms.xboxlive.com";
/// The discovery host (variants, QoS servers).
pub const DEFAULT_DISCOVERY_URL: &str = "https://gameserverds.xboxlive.com";
/// Largest CA bundle read (the whole Mozilla set is about 0.2 MiB as PEM).
const MAX_CA_BUNDLE_BYTES: u64 = 16 * 1024 * 1024;

/// Log verbosity, numbered as `gsms_log_level`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum LogLevel {
    Error = 1,
    Warn = 2,
    Info = 3,
    Debug = 4,
    Trace = 5,
}

/// Where log lines go. Called from any library thread, concurrently.
pub type LogSink = Arc<dyn Fn(LogLevel, &str) + Send + Sync>;

/// What a token is asked for: one HTTP attempt.
#[derive(Clone, Copy, Debug)]
pub struct TokenRequest<'a> {
    /// True after a 401: return a fresh token.
    pub force_refresh: bool,
    pub method: &'a str,
    pub url: &'a str,
}

/// What a token provider returns: the whole Authorization value, and optionally a request
/// signature (sent as the `Signature` header).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    pub authorization: String,
    pub signature: Option<String>,
}

/// A source of Authorization header values, asked before each attempt that needs one.
/// `Err` carries a message for the caller. Implement `token` (the header value) or `token_for`
/// (the value and a signature, knowing the request); the library only ever asks `token_for`.
pub trait TokenProvider: Send + Sync {
    /// `force_refresh` is true after a 401. The default refuses: a provider that implements
    /// neither method fails every call that needs a token, with this message.
    fn token(&self, force_refresh: bool) -> Result<String, String> {
        let _ = force_refresh;
        Err("the token provider implements neither token nor token_for".to_string())
    }

    /// As `token`, knowing the request it signs for; may add a signature. The default asks `token`.
    fn token_for(&self, req: &TokenRequest<'_>) -> Result<Token, String> {
        self.token(req.force_refresh).map(|authorization| Token { authorization, signature: None })
    }
}

/// Threads on which async completions run (numbered as `gsms_callback_mode`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CallbackMode {
    OnWorker = 0,
    OnDispatch = 1,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Total HTTP attempts for one POST, first included (>= 1).
    pub max_attempts: u32,
    pub base_delay: Duration,
    pub max_delay: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            max_attempts: 4,
            base_delay: Duration::from_millis(500),
            max_delay: Duration::from_millis(10_000),
        }
    }
}

#[derive(Clone)]
pub struct Config {
    pub base_url: String,
    /// The discovery host's URL; `None` until set (see [`Config::discovery_url`]).
    pub discovery_base_url: Option<String>,
    pub user_agent: Option<String>,
    pub connect_timeout: Duration,
    pub request_timeout: Duration,
    pub retry: RetryPolicy,
    pub auth_token: Option<String>,
    pub token_provider: Option<Arc<dyn TokenProvider>>,
    pub log: Option<(LogSink, LogLevel)>,
    pub callback_mode: CallbackMode,
    pub worker_threads: u32,
    /// Extra trusted roots (DER), added to the built-in Mozilla set.
    pub extra_roots: Vec<Vec<u8>>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            base_url: DEFAULT_BASE_URL.to_string(),
            discovery_base_url: None,
            user_agent: None,
            connect_timeout: Duration::from_millis(5000),
            request_timeout: Duration::from_millis(30_000),
            retry: RetryPolicy::default(),
            auth_token: None,
            token_provider: None,
            log: None,
            callback_mode: CallbackMode::OnDispatch,
            worker_threads: 2,
            extra_roots: Vec::new(),
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the token.
        f.debug_struct("Config")
            .field("base_url", &self.base_url)
            .field("discovery_base_url", &self.discovery_base_url)
            .field("user_agent", &self.user_agent)
            .field("connect_timeout", &self.connect_timeout)
            .field("request_timeout", &self.request_timeout)
            .field("retry", &self.retry)
            .field("auth_token", &self.auth_token.as_ref().map(|_| "<set>"))
            .field("token_provider", &self.token_provider.is_some())
            .field("callback_mode", &self.callback_mode)
            .field("worker_threads", &self.worker_threads)
            .finish()
    }
}

impl Config {
    pub fn set_base_url(&mut self, url: &str) -> Result<(), InvalidArgument> {
        self.base_url = validate::base_url(url)?;
        Ok(())
    }

    /// Sets the discovery host's URL (variants, QoS servers), checked like the base URL.
    pub fn set_discovery_base_url(&mut self, url: &str) -> Result<(), InvalidArgument> {
        self.discovery_base_url = Some(validate::base_url(url)?);
        Ok(())
    }

    /// The discovery URL in force: as set; until set, it follows the base URL whenever the base
    /// URL was changed from its default (one emulator URL serves every call), else the default.
    pub fn discovery_url(&self) -> &str {
        match &self.discovery_base_url {
            Some(u) => u,
            None if self.base_url != DEFAULT_BASE_URL => &self.base_url,
            None => DEFAULT_DISCOVERY_URL,
        }
    }

    pub fn set_user_agent(&mut self, ua: &str) -> Result<(), InvalidArgument> {
        validate::header_value("user agent", ua)?;
        self.user_agent = Some(ua.to_string());
        Ok(())
    }

    pub fn set_timeouts(&mut self, connect_ms: u32, request_ms: u32) -> Result<(), InvalidArgument> {
        if connect_ms == 0 || request_ms == 0 {
            return Err(InvalidArgument(format!(
                "timeouts must be at least 1 ms (got connect {connect_ms} ms, request {request_ms} ms)"
            )));
        }
        self.connect_timeout = Duration::from_millis(connect_ms.into());
        self.request_timeout = Duration::from_millis(request_ms.into());
        Ok(())
    }

    pub fn set_retry_policy(
        &mut self,
        max_attempts: u32,
        base_delay_ms: u32,
        max_delay_ms: u32,
    ) -> Result<(), InvalidArgument> {
        if max_attempts == 0 || max_attempts > 100 {
            return Err(InvalidArgument(format!("max_attempts must be 1..=100 (got {max_attempts})")));
        }
        if base_delay_ms > max_delay_ms {
            return Err(InvalidArgument(format!(
                "base_delay_ms ({base_delay_ms}) must not exceed max_delay_ms ({max_delay_ms})"
            )));
        }
        self.retry = RetryPolicy {
            max_attempts,
            base_delay: Duration::from_millis(base_delay_ms.into()),
            max_delay: Duration::from_millis(max_delay_ms.into()),
        };
        Ok(())
    }

    pub fn set_auth_token(&mut self, authorization: &str) -> Result<(), InvalidArgument> {
        validate::header_value("authorization", authorization)?;
        self.auth_token = Some(authorization.to_string());
        Ok(())
    }

    pub fn set_worker_threads(&mut self, n: u32) -> Result<(), InvalidArgument> {
        if !(1..=64).contains(&n) {
            return Err(InvalidArgument(format!("worker threads must be 1..=64 (got {n})")));
        }
        self.worker_threads = n;
        Ok(())
    }

    /// Reads a PEM file of extra trusted roots. Fails when unreadable or when it holds no certificate.
    pub fn set_ca_bundle_path(&mut self, path: &str) -> Result<(), InvalidArgument> {
        if path.is_empty() {
            return Err(InvalidArgument("CA bundle path must not be empty".into()));
        }
        // Bounded read: a path such as /dev/zero must not eat memory until the process is killed.
        let mut pem = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| std::io::Read::read_to_end(&mut std::io::Read::take(f, MAX_CA_BUNDLE_BYTES + 1), &mut pem))
            .map_err(|e| InvalidArgument(format!("cannot read CA bundle {path:?}: {e}")))?;
        if pem.len() as u64 > MAX_CA_BUNDLE_BYTES {
            return Err(InvalidArgument(format!("CA bundle {path:?} is larger than {MAX_CA_BUNDLE_BYTES} bytes")));
        }
        let mut certs = Vec::new();
        use rustls::pki_types::pem::PemObject;
        for item in rustls::pki_types::CertificateDer::pem_slice_iter(&pem) {
            match item {
                Ok(c) if super::tls::usable_root(&c) => certs.push(c.to_vec()),
                Ok(_) => {
                    return Err(InvalidArgument(format!(
                        "CA bundle {path:?} holds a certificate that cannot be a trust anchor (not X.509 v3 DER)"
                    )))
                }
                Err(e) => return Err(InvalidArgument(format!("CA bundle {path:?} is not valid PEM: {e}"))),
            }
        }
        if certs.is_empty() {
            return Err(InvalidArgument(format!("CA bundle {path:?} holds no certificate")));
        }
        self.extra_roots = certs;
        Ok(())
    }
}

/// Builds the `XBL3.0 x=<hash>;<token>` header value.
pub fn xbl_authorization(user_hash: &str, token: &str) -> Result<String, InvalidArgument> {
    validate::header_value("user hash", user_hash)?;
    validate::header_value("token", token)?;
    if user_hash.contains(';') {
        return Err(InvalidArgument("user hash must not contain ';'".into()));
    }
    Ok(format!("XBL3.0 x={user_hash};{token}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn discovery_follows_a_changed_base_url_until_set() {
        let mut c = Config::default();
        assert_eq!(c.discovery_url(), DEFAULT_DISCOVERY_URL);
        c.set_base_url("http://127.0.0.1:9/").unwrap();
        assert_eq!(c.discovery_url(), "http://127.0.0.1:9");
        c.set_discovery_base_url("http://127.0.0.1:10").unwrap();
        assert_eq!(c.discovery_url(), "http://127.0.0.1:10");
        c.set_base_url(DEFAULT_BASE_URL).unwrap();
        assert_eq!(c.discovery_url(), "http://127.0.0.1:10");
        assert!(c.set_discovery_base_url("ftp://x").is_err());
    }

    #[test]
    fn a_token_provider_implementing_neither_method_refuses_with_a_message() {
        struct Neither;
        impl TokenProvider for Neither {}
        let req = TokenRequest { force_refresh: false, method: "POST", url: "https://x/y" };
        let err = Neither.token_for(&req).unwrap_err();
        assert_eq!(err, "the token provider implements neither token nor token_for");
        assert_eq!(Neither.token(true).unwrap_err(), err);
    }

    #[test]
    fn a_ca_bundle_whose_certificate_cannot_be_an_anchor_is_refused_at_set_time() {
        let path = std::env::temp_dir().join(format!("gsms-bad-ca-{}.pem", std::process::id()));
        // Well-formed PEM around DER that is not an X.509 certificate.
        std::fs::write(&path, "-----BEGIN CERTIFICATE-----\nMAMCAQE=\n-----END CERTIFICATE-----\n").unwrap();
        let err = Config::default().set_ca_bundle_path(path.to_str().unwrap()).unwrap_err();
        std::fs::remove_file(&path).ok();
        assert!(err.0.contains("trust anchor"), "{}", err.0);
    }
}
