//! `gsms_client`: creation, free, token swap, dispatch, warmup. Every function is safe to call
//! from any thread, concurrently. The calls of the service are in their own files (`clusters`, ...).

use std::ffi::c_char;
use std::sync::Arc;

use super::call::live_client;
use super::config::gsms_config;
use super::handle::{arc_from_raw, arc_into_raw, box_ref, str_arg, write_out, ArcHandle};
use super::{gsms_status, guard, invalid, status};
use crate::runtime;

/// A connection to the service: a connection pool, worker threads and a completion queue.
/// Create with `gsms_client_new`; free with `gsms_client_free`.
pub struct gsms_client {
    pub(crate) rt: runtime::Client,
}
impl ArcHandle for gsms_client {}

/// Creates a client from `cfg` (which may be freed afterwards). Its worker threads start with its
/// first asynchronous call; a client used only for blocking calls has none.
/// On GSMS_OK, `*out_client` is caller owns; free with gsms_client_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_new(cfg: *const gsms_config, out_client: *mut *mut gsms_client) -> gsms_status {
    status(|| {
        let cfg = unsafe { box_ref(cfg, "cfg") }?;
        if out_client.is_null() {
            return Err(invalid("out_client must not be NULL"));
        }
        let rt = runtime::Client::new(&cfg.inner).map_err(|e| invalid(e.0))?;
        unsafe { write_out(out_client, arc_into_raw(Arc::new(gsms_client { rt }))) };
        Ok(())
    })
}

/// Frees a client. Before it returns, every accepted operation has had exactly one completion
/// callback, on this thread: finished ones with their real outcome, unfinished ones with
/// GSMS_ERR_SHUTDOWN; no callback runs afterwards. Returns within 250 ms even with requests stuck
/// on a dead server (their sockets are shut down; time inside callbacks not counted: it waits for
/// a running callback). A blocking call running on another thread ends promptly with
/// GSMS_ERR_SHUTDOWN (or its real outcome); the client's memory lives until it has returned.
/// Called from inside one of this client's callbacks (completion, progress, log callback, token
/// provider; any thread), it returns at once, and the client is released (its outstanding
/// completions delivered, on that thread) when that callback's call has returned. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_free(client: *mut gsms_client) {
    guard(|| {
        // SAFETY: made by gsms_client_new; the caller's reference is released once.
        let Some(c) = (unsafe { arc_from_raw(client) }) else { return };
        if !c.rt.shutdown() {
            // From inside one of its callbacks: the handle stays valid until the shutdown is
            // finished; the runtime drops this reference then.
            c.rt.defer_drop(Box::new(Arc::clone(&c)));
        }
    })
}

/// Replaces the Authorization value for later requests (thread-safe). A token provider, when
/// configured, still takes precedence. Visible ASCII or space only.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_set_auth_token(
    client: *mut gsms_client,
    authorization: *const c_char,
) -> gsms_status {
    status(|| {
        let c = unsafe { live_client(client) }?;
        let a = unsafe { str_arg(authorization, "authorization") }?;
        c.rt.core().set_auth_token(a).map_err(|e| invalid(e.0))
    })
}

/// Runs queued completions and progress callbacks on this thread (GSMS_CALLBACKS_ON_DISPATCH).
/// `max_callbacks` 0 = all that are queued now. Returns how many callbacks ran (including those
/// run because one of them freed the client). Returns 0 at once for NULL, in ON_WORKER mode,
/// while another thread dispatches, or from inside a callback.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_dispatch(client: *mut gsms_client, max_callbacks: u32) -> u32 {
    guard(|| {
        if client.is_null() {
            return 0; // without touching the last error: this function does not return a status
        }
        // The reference keeps the client alive while its callbacks run: one of them may free it.
        match unsafe { super::handle::arc_clone(client as *const gsms_client, "client") } {
            Ok(c) => c.rt.dispatch(max_callbacks),
            Err(_) => 0,
        }
    })
}

/// Returns at once; in the background resolves DNS and opens a pooled (TLS) connection to the
/// base URL with a `HEAD /`, so the first real call skips the handshake. Also starts the worker
/// threads. One warmup at a time (calling it every frame is harmless).
#[no_mangle]
pub unsafe extern "C" fn gsms_client_warmup(client: *mut gsms_client) -> gsms_status {
    status(|| {
        let c = unsafe { live_client(client) }?;
        c.rt.warmup().map_err(|s| match s {
            crate::core::Status::Shutdown => super::fail(s.into(), "the client is being freed"),
            s => super::fail(s.into(), "cannot start the warmup thread"),
        })
    })
}
