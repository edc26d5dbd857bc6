//! Pure Rust, no FFI types: configuration, the blocking client and its one `send`, the calls of
//! the service (one module each), the wire rules, retries.
//!
//! - [`exchange`]: an exchange as data ([`Endpoint`]) and what it learns ([`CallInfo`]).
//! - [`client`]: [`Client::send`], everything calls share.
//! - [`call`]: calls as state machines of exchanges ([`Call`], [`Step`]) and the generic follower.
//! - [`calls`]: one module per call: request, endpoint, answer model.
//! - [`wire`]: how answers are read (string-or-number, any-case enums, ports, error bodies).

pub mod call;
pub mod calls;
pub mod cancel;
pub mod client;
pub mod config;
pub mod error;
pub mod exchange;
pub mod hooks;
pub mod http;
pub mod qos;
pub mod redact;
pub mod retry;
pub mod tls;
pub mod transport;
pub mod validate;
pub mod wire;

pub use call::{Call, Step};
pub use calls::clusters::{AllocateCluster, ClusterRequest, ClusterResult, CreateCluster, FulfillmentState};
pub use calls::inline_clusters::{AllocateInlineCluster, InlineClusterRequest, InlineField};
pub use calls::qos_servers::{QosServer, QosServersResult};
pub use calls::session_hosts::{AllocateSessionHost, GetAllocationStatus, SessionHostRequest, SessionHostResult};
pub use calls::tickets::{HostStatus, TicketResult};
pub use calls::variants::{GsiSet, Schema, Tag, Variant, VariantsRequest, VariantsResult};
pub use cancel::CancelToken;
pub use client::{CallOptions, Client};
pub use config::{CallbackMode, Config, LogLevel, LogSink, RetryPolicy, Token, TokenProvider, TokenRequest};
pub use error::{InvalidArgument, Status};
pub use exchange::{CallInfo, Endpoint, HasInfo, Host, Method};
pub use qos::{MeasureQos, QosProbe, QosResult, RegionLatency};
pub use wire::PortMapping;
