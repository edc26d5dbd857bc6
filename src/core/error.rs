//! Outcome kinds of a call. `core` knows nothing of C; `ffi` maps these one-to-one onto `gsms_status`.

/// Why a call did not succeed (or `Ok`). The order and meaning mirror `gsms_status` in API.md.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Status {
    Ok,
    InvalidArgument,
    Unauthorized,
    Forbidden,
    HttpStatus,
    RetriesExhausted,
    Timeout,
    Network,
    Protocol,
    Cancelled,
    Shutdown,
    AuthProvider,
    Internal,
    /// The service says the allocation failed (a ticket's status is Error).
    AllocationFailed,
}

/// An argument rejected before anything was sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InvalidArgument(pub String);
