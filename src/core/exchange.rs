//! An exchange described as data, and what every exchange learns (`CallInfo`).
//!
//! Each call module turns its request into an [`Endpoint`]; [`crate::core::Client::send`] runs it with
//! everything calls share (token, 401 refresh, retries, Retry-After, deadline, cancel, logging,
//! redaction) and fills a [`CallInfo`], which every result type embeds.

use super::error::Status;

/// The service's two hosts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Host {
    /// `gameserverms`: clusters, inline clusters, tickets, session hosts, allocation status.
    Allocation,
    /// `gameserverds`: variants, QoS servers.
    Discovery,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
    /// Only the warmup sends it (`HEAD /`).
    Head,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Head => "HEAD",
        }
    }
}

/// One HTTP exchange with the service, as data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub method: Method,
    pub host: Host,
    /// Path from the host's base URL, caller-supplied segments already percent-encoded.
    pub path: String,
    /// `x-xbl-contract-version`.
    pub contract: &'static str,
    /// JSON body (POST); `None` sends no body and no Content-Type.
    pub body: Option<Vec<u8>>,
}

impl Endpoint {
    pub fn get(host: Host, path: String, contract: &'static str) -> Endpoint {
        Endpoint { method: Method::Get, host, path, contract, body: None }
    }

    pub fn post(host: Host, path: String, contract: &'static str, body: Vec<u8>) -> Endpoint {
        Endpoint { method: Method::Post, host, path, contract, body: Some(body) }
    }
}

/// What a call learnt about its exchanges: the status, and the details support asks for.
/// Every result type embeds one (and dereferences to it, so `result.status` reads it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CallInfo {
    pub status: Status,
    /// Last HTTP status seen; 0 if none.
    pub http_status: u16,
    /// HTTP requests made, retries and polls included.
    pub attempts: u32,
    /// `X-XblCorrelationId` of the last response.
    pub correlation_id: String,
    /// Last `Retry-After` seen, in ms; 0 if none.
    pub retry_after_ms: u32,
    /// Human-readable reason for a failure; "" on success. Never holds a secret.
    pub error_message: String,
    /// Last response body as received (redacted of secrets).
    pub raw_json: String,
}

impl Default for CallInfo {
    fn default() -> Self {
        CallInfo {
            status: Status::Ok,
            http_status: 0,
            attempts: 0,
            correlation_id: String::new(),
            retry_after_ms: 0,
            error_message: String::new(),
            raw_json: String::new(),
        }
    }
}

impl CallInfo {
    /// Ends the call with `status` and `message`.
    pub fn fail(&mut self, status: Status, message: impl Into<String>) {
        self.status = status;
        self.error_message = message.into();
    }
}

/// A result type of a call: its own fields plus the [`CallInfo`] it embeds.
pub trait HasInfo: Default + Clone + Send + Sync + 'static {
    fn info(&self) -> &CallInfo;
    fn info_mut(&mut self) -> &mut CallInfo;

    /// A result carrying only a failure (cancelled, shut down, invalid argument...).
    fn failure(status: Status, message: impl Into<String>) -> Self {
        let mut r = Self::default();
        r.info_mut().fail(status, message);
        r
    }
}

/// Implements [`HasInfo`] and `Deref<Target = CallInfo>` for a result type with an `info` field.
#[macro_export]
macro_rules! impl_has_info {
    ($t:ty) => {
        impl $crate::core::exchange::HasInfo for $t {
            fn info(&self) -> &$crate::core::exchange::CallInfo {
                &self.info
            }
            fn info_mut(&mut self) -> &mut $crate::core::exchange::CallInfo {
                &mut self.info
            }
        }
        impl std::ops::Deref for $t {
            type Target = $crate::core::exchange::CallInfo;
            fn deref(&self) -> &Self::Target {
                &self.info
            }
        }
        impl std::ops::DerefMut for $t {
            fn deref_mut(&mut self) -> &mut Self::Target {
                &mut self.info
            }
        }
    };
}
