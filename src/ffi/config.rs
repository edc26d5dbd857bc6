//! `gsms_config`: the client builder. One thread at a time.

use std::ffi::{c_char, c_void, CStr};
use std::sync::Arc;

use super::{gsms_status, guard, handle_mut, invalid, status_of, str_arg, UserData};
use crate::core::{self, CallbackMode, LogLevel, TokenProvider};

/// Client configuration (builder). Create with `gsms_config_new`, free with `gsms_config_free`.
pub struct gsms_config {
    pub(crate) inner: core::Config,
}

/// Where completion callbacks run. Pass as `uint32_t` to `gsms_config_set_callback_mode`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gsms_callback_mode {
    /// Completion and progress callbacks run on a library thread (one per client, so callbacks of
    /// one client never run concurrently).
    GSMS_CALLBACKS_ON_WORKER = 0,
    /// (Default) callbacks run only inside `gsms_client_dispatch`, on its caller's thread: a game
    /// calls it once per frame, as with EOS or Steam.
    GSMS_CALLBACKS_ON_DISPATCH = 1,
}

/// Log verbosity. Pass as `uint32_t` to `gsms_config_set_log_callback`.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum gsms_log_level {
    GSMS_LOG_ERROR = 1,
    GSMS_LOG_WARN = 2,
    GSMS_LOG_INFO = 3,
    GSMS_LOG_DEBUG = 4,
    GSMS_LOG_TRACE = 5,
}

impl From<LogLevel> for gsms_log_level {
    fn from(l: LogLevel) -> Self {
        match l {
            LogLevel::Error => gsms_log_level::GSMS_LOG_ERROR,
            LogLevel::Warn => gsms_log_level::GSMS_LOG_WARN,
            LogLevel::Info => gsms_log_level::GSMS_LOG_INFO,
            LogLevel::Debug => gsms_log_level::GSMS_LOG_DEBUG,
            LogLevel::Trace => gsms_log_level::GSMS_LOG_TRACE,
        }
    }
}

/// Log callback. May be called from any library thread, concurrently. `message` is valid only
/// during this callback. No message ever contains the Authorization value or the token.
pub type gsms_log_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: gsms_log_level, message: *const c_char)>;

/// Where a token provider writes the Authorization value. Valid only during the provider call.
pub struct gsms_token_sink {
    value: Option<String>,
}

/// Token provider. Called before each HTTP attempt that needs a token, on the thread doing the
/// request (a worker thread for async calls). `force_refresh` is 1 after a 401 (else 0): return a
/// fresh token. Write the whole Authorization header value with `gsms_token_sink_set` and return
/// `GSMS_OK`; any other return fails the call with `GSMS_ERR_AUTH_PROVIDER`. A provider replaces
/// a static token.
pub type gsms_token_provider_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, force_refresh: u32, sink: *mut gsms_token_sink) -> u32>;

/// Creates a configuration with the defaults: base URL "https://gameserverms.xboxlive.com",
/// timeouts 5000/30000 ms, retries 4/500/10000 ms, callbacks on dispatch, 2 worker threads.
/// Caller owns; free with gsms_config_free. NULL only on out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_config_new() -> *mut gsms_config {
    guard(|| Box::into_raw(Box::new(gsms_config { inner: core::Config::default() })))
}

/// Frees a configuration. NULL is a no-op. Clients made from it are not affected.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_free(cfg: *mut gsms_config) {
    guard(|| {
        if !cfg.is_null() {
            // SAFETY: made by gsms_config_new; freed once (contract).
            drop(unsafe { Box::from_raw(cfg) });
        }
    })
}

fn core_err(e: core::InvalidArgument) -> gsms_status {
    invalid(e.0)
}

/// Sets the service's base URL (default "https://gameserverms.xboxlive.com"). `http://` is allowed
/// (the emulator). No query, fragment or user info; a trailing slash is ignored.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_base_url(cfg: *mut gsms_config, url: *const c_char) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            let u = unsafe { str_arg(url, "url") }?;
            c.inner.set_base_url(u).map_err(core_err)
        })())
    })
}

/// Appends the application's own token to the library's "gsms/<version>" User-Agent.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_user_agent(cfg: *mut gsms_config, ua: *const c_char) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            let u = unsafe { str_arg(ua, "ua") }?;
            c.inner.set_user_agent(u).map_err(core_err)
        })())
    })
}

/// Connect timeout and per-request timeout in milliseconds (defaults 5000 / 30000; 0 is invalid).
/// The request timeout bounds one whole HTTP exchange, even a response that drips byte by byte.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_timeouts(
    cfg: *mut gsms_config,
    connect_ms: u32,
    request_ms: u32,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            c.inner.set_timeouts(connect_ms, request_ms).map_err(core_err)
        })())
    })
}

/// Retry policy for 408/429/500/502/503/504 and connections that failed before any response:
/// `max_attempts` in total (1..=100; 1 = no retry), exponential backoff from `base_delay_ms`
/// capped at `max_delay_ms`, with jitter. Defaults 4 / 500 / 10000.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_retry_policy(
    cfg: *mut gsms_config,
    max_attempts: u32,
    base_delay_ms: u32,
    max_delay_ms: u32,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            c.inner.set_retry_policy(max_attempts, base_delay_ms, max_delay_ms).map_err(core_err)
        })())
    })
}

/// The whole Authorization header value, e.g. "XBL3.0 x=<hash>;<token>". No control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_auth_token(
    cfg: *mut gsms_config,
    authorization: *const c_char,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            let a = unsafe { str_arg(authorization, "authorization") }?;
            c.inner.set_auth_token(a).map_err(core_err)
        })())
    })
}

/// Builds and sets "XBL3.0 x=<user_hash>;<token>".
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_xbl_token(
    cfg: *mut gsms_config,
    user_hash: *const c_char,
    token: *const c_char,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            let h = unsafe { str_arg(user_hash, "user_hash") }?;
            let t = unsafe { str_arg(token, "token") }?;
            let v = core::config::xbl_authorization(h, t).map_err(core_err)?;
            c.inner.auth_token = Some(v);
            Ok(())
        })())
    })
}

struct CTokenProvider {
    f: unsafe extern "C" fn(*mut c_void, u32, *mut gsms_token_sink) -> u32,
    user_data: UserData,
}

impl TokenProvider for CTokenProvider {
    fn token(&self, force_refresh: bool) -> Result<String, String> {
        let mut sink = gsms_token_sink { value: None };
        // SAFETY: the caller registered this function for exactly this call shape.
        let st = unsafe { (self.f)(self.user_data.0, u32::from(force_refresh), &mut sink) };
        if st != gsms_status::GSMS_OK as u32 {
            return Err(format!("the token provider returned {}", super::status::status_name(st).to_string_lossy()));
        }
        sink.value.ok_or_else(|| "the token provider returned GSMS_OK without calling gsms_token_sink_set".to_string())
    }
}

/// Sets a token provider (NULL `fn` removes it). It replaces a static token.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_token_provider(
    cfg: *mut gsms_config,
    fn_: gsms_token_provider_fn,
    user_data: *mut c_void,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            c.inner.token_provider =
                fn_.map(|f| Arc::new(CTokenProvider { f, user_data: UserData(user_data) }) as Arc<dyn TokenProvider>);
            Ok(())
        })())
    })
}

/// Writes the Authorization value from inside a token provider. The value is copied; no control
/// characters allowed.
#[no_mangle]
pub unsafe extern "C" fn gsms_token_sink_set(sink: *mut gsms_token_sink, authorization: *const c_char) -> gsms_status {
    guard(|| {
        status_of((|| {
            let s = unsafe { handle_mut(sink, "sink") }?;
            let a = unsafe { str_arg(authorization, "authorization") }?;
            core::validate::header_value("authorization", a).map_err(core_err)?;
            s.value = Some(a.to_string());
            Ok(())
        })())
    })
}

/// Sets the log callback (NULL `fn` removes it) and the most verbose level delivered
/// (`min_level`, a gsms_log_level 1..=5).
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_log_callback(
    cfg: *mut gsms_config,
    fn_: gsms_log_fn,
    user_data: *mut c_void,
    min_level: u32,
) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            let level = LogLevel::from_u32(min_level)
                .ok_or_else(|| invalid(format!("min_level must be a gsms_log_level 1..=5 (got {min_level})")))?;
            c.inner.log = fn_.map(|f| {
                let ud = UserData(user_data);
                let sink: core::LogSink = Arc::new(move |lvl: LogLevel, msg: &str| {
                    let mut bytes = Vec::with_capacity(msg.len() + 1);
                    bytes.extend(msg.bytes().map(|b| if b == 0 { b' ' } else { b }));
                    bytes.push(0);
                    let c = CStr::from_bytes_with_nul(&bytes).unwrap_or(c"");
                    let ud = ud;
                    // SAFETY: registered by the caller for this call shape.
                    unsafe { f(ud.0, lvl.into(), c.as_ptr()) }
                });
                (sink, level)
            });
            Ok(())
        })())
    })
}

/// Where completion callbacks run: a gsms_callback_mode (0 or 1). Default GSMS_CALLBACKS_ON_DISPATCH.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_callback_mode(cfg: *mut gsms_config, mode: u32) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            c.inner.callback_mode = match mode {
                0 => CallbackMode::OnWorker,
                1 => CallbackMode::OnDispatch,
                _ => return Err(invalid(format!("mode must be a gsms_callback_mode 0 or 1 (got {mode})"))),
            };
            Ok(())
        })())
    })
}

/// Worker threads per client for async calls (1..=64; default 2). Operations beyond them queue.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_worker_threads(cfg: *mut gsms_config, n: u32) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            c.inner.set_worker_threads(n).map_err(core_err)
        })())
    })
}

/// Extra trusted root certificates for HTTPS (a PEM file, read now), added to the built-in
/// Mozilla roots. Fails with GSMS_ERR_INVALID_ARGUMENT when unreadable or holding no certificate.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_ca_bundle_path(cfg: *mut gsms_config, pem_path: *const c_char) -> gsms_status {
    guard(|| {
        status_of((|| {
            let c = unsafe { handle_mut(cfg, "cfg") }?;
            let p = unsafe { str_arg(pem_path, "pem_path") }?;
            c.inner.set_ca_bundle_path(p).map_err(core_err)
        })())
    })
}
