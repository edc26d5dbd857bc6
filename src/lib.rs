//! libgsms: a client for the Xbox Live Compute game-server service (GSMS), `POST /titles/{titleId}/clusters`,
//! with a C ABI (`include/gsms.h`) for game engines.
//!
//! Layers (ARCHITECTURE.md): `core` (blocking Rust client) <- `runtime` (worker threads, operations,
//! dispatch queue) <- `ffi` (the `extern "C"` surface).

pub mod core;
pub mod ffi;
pub mod runtime;
