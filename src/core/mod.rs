//! Pure Rust, no FFI types: configuration, the blocking client, the wire model, retries.

pub mod cancel;
pub mod client;
pub mod config;
pub mod error;
pub mod http;
pub mod redact;
pub mod request;
pub mod result;
pub mod retry;
pub mod transport;
pub mod validate;

pub use cancel::CancelToken;
pub use client::{CallOptions, Client, Step};
pub use config::{CallbackMode, Config, LogLevel, LogSink, RetryPolicy, TokenProvider};
pub use error::{InvalidArgument, Status};
pub use request::ClusterRequest;
pub use result::{ClusterResult, FulfillmentState, PortMapping};
