//! `gsms_config`: the client builder (one thread at a time), and the token provider's sink.

use std::ffi::{c_char, c_void, CStr, CString};
use std::sync::Arc;

pub use super::enums::{gsms_callback_mode, gsms_log_level};
use super::handle::{box_free, box_into_raw, box_mut, str_arg, BoxHandle};
use super::{cstring, gsms_status, guard, invalid, status, text_ptr, UserData};
use crate::core::{self, LogLevel, Token, TokenProvider, TokenRequest};

/// Client configuration (builder). Create with `gsms_config_new`, free with `gsms_config_free`.
pub struct gsms_config {
    pub(crate) inner: core::Config,
}
impl BoxHandle for gsms_config {}

/// Log callback. May be called from any library thread, concurrently. `message` is valid only
/// during this callback. No message ever contains the Authorization value or the token.
pub type gsms_log_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, level: gsms_log_level, message: *const c_char)>;

/// What a token provider is asked for, and where it writes its answer. Valid only during the
/// provider call.
pub struct gsms_token_sink {
    method: CString,
    url: CString,
    value: Option<String>,
    signature: Option<String>,
}
impl BoxHandle for gsms_token_sink {}

/// Token provider. Called before each HTTP attempt that needs a token, on the thread doing the
/// request (a worker thread for async calls). `force_refresh` is 1 after a 401 (else 0): return a
/// fresh token. `gsms_token_sink_method` and `gsms_token_sink_url` say what the token is for.
/// Write the whole Authorization header value with `gsms_token_sink_set` (and optionally a request
/// signature with `gsms_token_sink_set_signature`) and return `GSMS_OK`; any other return fails the
/// call with `GSMS_ERR_AUTH_PROVIDER`. A provider replaces a static token.
pub type gsms_token_provider_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, force_refresh: u32, sink: *mut gsms_token_sink) -> u32>;

/// Creates a configuration with the defaults: base URL "https://gameserverms.xboxlive.com",
/// discovery URL "https://gameserverds.xboxlive.com" (see gsms_config_set_discovery_base_url),
/// timeouts 5000/30000 ms, retries 4/500/10000 ms, callbacks on dispatch, 2 worker threads.
/// Caller owns; free with gsms_config_free. NULL only on out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_config_new() -> *mut gsms_config {
    guard(|| box_into_raw(gsms_config { inner: core::Config::default() }))
}

/// Frees a configuration. NULL is a no-op. Clients made from it are not affected.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_free(cfg: *mut gsms_config) {
    guard(|| unsafe { box_free(cfg) })
}

fn core_err(e: core::InvalidArgument) -> gsms_status {
    invalid(e.0)
}

/// The configuration behind `cfg`, borrowed for one setter.
///
/// # Safety
/// `cfg` is NULL or a live handle from gsms_config_new, used by one thread at a time.
unsafe fn config<'a>(cfg: *mut gsms_config) -> Result<&'a mut core::Config, gsms_status> {
    // SAFETY: per this function's contract.
    Ok(&mut unsafe { box_mut(cfg, "cfg") }?.inner)
}

/// A required C string argument.
///
/// # Safety
/// As `str_arg`.
unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<&'a str, gsms_status> {
    // SAFETY: per this function's contract.
    unsafe { str_arg(p, what) }
}

/// Sets the service's base URL (default "https://gameserverms.xboxlive.com"). `http://` is allowed
/// (the emulator). No query, fragment or user info; a trailing slash is ignored; at most 2048 bytes.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_base_url(cfg: *mut gsms_config, url: *const c_char) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_base_url(unsafe { text(url, "url") }?).map_err(core_err)
    })
}

/// Sets the discovery host's URL (variants, QoS servers; default
/// "https://gameserverds.xboxlive.com"), checked as the base URL. Until it is set, the discovery
/// URL follows the base URL whenever the base URL was changed from its default (one emulator URL
/// then serves every call); once set, it is used as is.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_discovery_base_url(cfg: *mut gsms_config, url: *const c_char) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_discovery_base_url(unsafe { text(url, "url") }?).map_err(core_err)
    })
}

/// Appends the application's own token to the library's "gsms/<version>" User-Agent.
/// Visible ASCII or space only.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_user_agent(cfg: *mut gsms_config, ua: *const c_char) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_user_agent(unsafe { text(ua, "ua") }?).map_err(core_err)
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
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_timeouts(connect_ms, request_ms).map_err(core_err)
    })
}

/// The connect timeout alone, in milliseconds (default 5000; 0 is invalid); the request timeout
/// keeps its value.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_connect_timeout(cfg: *mut gsms_config, connect_ms: u32) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        let request_ms = u32::try_from(c.request_timeout.as_millis()).unwrap_or(u32::MAX);
        c.set_timeouts(connect_ms, request_ms).map_err(core_err)
    })
}

/// The per-request timeout alone, in milliseconds (default 30000; 0 is invalid); the connect
/// timeout keeps its value.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_request_timeout(cfg: *mut gsms_config, request_ms: u32) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        let connect_ms = u32::try_from(c.connect_timeout.as_millis()).unwrap_or(u32::MAX);
        c.set_timeouts(connect_ms, request_ms).map_err(core_err)
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
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_retry_policy(max_attempts, base_delay_ms, max_delay_ms).map_err(core_err)
    })
}

/// The retry policy's number of attempts alone (1..=100; default 4); the delays keep their values.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_max_attempts(cfg: *mut gsms_config, max_attempts: u32) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        let (base, max) = (c.retry.base_delay.as_millis() as u32, c.retry.max_delay.as_millis() as u32);
        c.set_retry_policy(max_attempts, base, max).map_err(core_err)
    })
}

/// The retry policy's delays alone (defaults 500 / 10000 ms; base at most max); the number of
/// attempts keeps its value.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_retry_delays(
    cfg: *mut gsms_config,
    base_delay_ms: u32,
    max_delay_ms: u32,
) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_retry_policy(c.retry.max_attempts, base_delay_ms, max_delay_ms).map_err(core_err)
    })
}

/// The whole Authorization header value, e.g. "XBL3.0 x=<hash>;<token>". Visible ASCII or space.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_auth_token(
    cfg: *mut gsms_config,
    authorization: *const c_char,
) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_auth_token(unsafe { text(authorization, "authorization") }?).map_err(core_err)
    })
}

/// Builds and sets "XBL3.0 x=<user_hash>;<token>". Both visible ASCII; the hash without ';'.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_xbl_token(
    cfg: *mut gsms_config,
    user_hash: *const c_char,
    token: *const c_char,
) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        let v =
            core::config::xbl_authorization(unsafe { text(user_hash, "user_hash") }?, unsafe { text(token, "token") }?)
                .map_err(core_err)?;
        c.auth_token = Some(v);
        Ok(())
    })
}

struct CTokenProvider {
    f: unsafe extern "C" fn(*mut c_void, u32, *mut gsms_token_sink) -> u32,
    user_data: UserData,
}

impl TokenProvider for CTokenProvider {
    fn token_for(&self, req: &TokenRequest<'_>) -> Result<Token, String> {
        let mut sink =
            gsms_token_sink { method: cstring(req.method), url: cstring(req.url), value: None, signature: None };
        // SAFETY: the caller registered this function for exactly this call shape.
        let st = unsafe { (self.f)(self.user_data.0, u32::from(req.force_refresh), &mut sink) };
        if st != gsms_status::GSMS_OK as u32 {
            let name = gsms_status::from_u32(st).map_or(c"GSMS_UNKNOWN_STATUS", gsms_status::name);
            return Err(format!("the token provider returned {}", name.to_string_lossy()));
        }
        let authorization = sink
            .value
            .ok_or_else(|| "the token provider returned GSMS_OK without calling gsms_token_sink_set".to_string())?;
        Ok(Token { authorization, signature: sink.signature })
    }
}

/// Sets a token provider (NULL `fn` removes it). It replaces a static token.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_token_provider(
    cfg: *mut gsms_config,
    fn_: gsms_token_provider_fn,
    user_data: *mut c_void,
) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.token_provider =
            fn_.map(|f| Arc::new(CTokenProvider { f, user_data: UserData(user_data) }) as Arc<dyn TokenProvider>);
        Ok(())
    })
}

/// Writes the Authorization value from inside a token provider. The value is copied; visible
/// ASCII or space only.
#[no_mangle]
pub unsafe extern "C" fn gsms_token_sink_set(sink: *mut gsms_token_sink, authorization: *const c_char) -> gsms_status {
    status(|| {
        let s = unsafe { box_mut(sink, "sink") }?;
        let a = unsafe { str_arg(authorization, "authorization") }?;
        core::validate::header_value("authorization", a).map_err(core_err)?;
        s.value = Some(a.to_string());
        Ok(())
    })
}

/// Adds a request signature from inside a token provider, sent as the `Signature` header (as
/// platform token APIs that sign each request need). Copied; visible ASCII or space; never logged.
#[no_mangle]
pub unsafe extern "C" fn gsms_token_sink_set_signature(
    sink: *mut gsms_token_sink,
    signature: *const c_char,
) -> gsms_status {
    status(|| {
        let s = unsafe { box_mut(sink, "sink") }?;
        let v = unsafe { str_arg(signature, "signature") }?;
        core::validate::header_value("signature", v).map_err(core_err)?;
        s.signature = Some(v.to_string());
        Ok(())
    })
}

/// The HTTP method of the request the token is for ("GET", "POST").
/// Valid only during the provider call. "" for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_token_sink_method(sink: *const gsms_token_sink) -> *const c_char {
    guard(|| text_ptr(unsafe { sink.as_ref() }.map(|s| &s.method)))
}

/// The whole URL of the request the token is for. Valid only during the provider call. "" for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_token_sink_url(sink: *const gsms_token_sink) -> *const c_char {
    guard(|| text_ptr(unsafe { sink.as_ref() }.map(|s| &s.url)))
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
    status(|| {
        let c = unsafe { config(cfg) }?;
        let level: LogLevel = gsms_log_level::from_u32(min_level)
            .ok_or_else(|| invalid(format!("min_level must be a gsms_log_level 1..=5 (got {min_level})")))?
            .into();
        c.log = fn_.map(|f| {
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
    })
}

/// Where completion callbacks run: a gsms_callback_mode (0 or 1). Default GSMS_CALLBACKS_ON_DISPATCH.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_callback_mode(cfg: *mut gsms_config, mode: u32) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.callback_mode = gsms_callback_mode::from_u32(mode)
            .ok_or_else(|| invalid(format!("mode must be a gsms_callback_mode 0 or 1 (got {mode})")))?
            .into();
        Ok(())
    })
}

/// Worker threads per client for async calls (1..=64; default 2). Operations beyond them queue.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_worker_threads(cfg: *mut gsms_config, n: u32) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_worker_threads(n).map_err(core_err)
    })
}

/// Extra trusted root certificates for HTTPS (a PEM file, read now), added to the built-in
/// Mozilla roots. Fails with GSMS_ERR_INVALID_ARGUMENT when unreadable or holding no certificate.
#[no_mangle]
pub unsafe extern "C" fn gsms_config_set_ca_bundle_path(cfg: *mut gsms_config, pem_path: *const c_char) -> gsms_status {
    status(|| {
        let c = unsafe { config(cfg) }?;
        c.set_ca_bundle_path(unsafe { text(pem_path, "pem_path") }?).map_err(core_err)
    })
}
