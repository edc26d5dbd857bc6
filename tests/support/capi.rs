//! The C ABI as a C program sees it: `extern "C"` declarations written from include/gsms.h (not
//! the crate's Rust paths, which are internal and may change), plus small owning wrappers so the
//! contract tests read like their C counterparts. Only the symbol names and signatures of the
//! header matter here; `tests/contract.rs` checks these declarations against include/gsms.h.
#![allow(dead_code, non_camel_case_types)]

use std::ffi::{c_char, c_void, CStr, CString};
use std::ptr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

// Links the library (its `#[no_mangle]` functions) into the test binary.
use gsms as _;

pub type gsms_status = u32;
pub const GSMS_OK: gsms_status = 0;
pub const GSMS_ERR_INVALID_ARGUMENT: gsms_status = 1;
pub const GSMS_ERR_UNAUTHORIZED: gsms_status = 2;
pub const GSMS_ERR_FORBIDDEN: gsms_status = 3;
pub const GSMS_ERR_HTTP_STATUS: gsms_status = 4;
pub const GSMS_ERR_RETRIES_EXHAUSTED: gsms_status = 5;
pub const GSMS_ERR_TIMEOUT: gsms_status = 6;
pub const GSMS_ERR_NETWORK: gsms_status = 7;
pub const GSMS_ERR_PROTOCOL: gsms_status = 8;
pub const GSMS_ERR_CANCELLED: gsms_status = 9;
pub const GSMS_ERR_SHUTDOWN: gsms_status = 10;
pub const GSMS_ERR_AUTH_PROVIDER: gsms_status = 11;
pub const GSMS_ERR_INTERNAL: gsms_status = 12;
pub const GSMS_PENDING: gsms_status = 13;

pub const GSMS_FULFILLMENT_UNKNOWN: u32 = 0;
pub const GSMS_FULFILLMENT_FULFILLED: u32 = 1;
pub const GSMS_FULFILLMENT_QUEUED: u32 = 2;
pub const GSMS_FULFILLMENT_ABORTED: u32 = 3;

pub const GSMS_CALLBACKS_ON_WORKER: u32 = 0;
pub const GSMS_CALLBACKS_ON_DISPATCH: u32 = 1;

pub const GSMS_LOG_TRACE: u32 = 5;

#[repr(C)]
pub struct gsms_config {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gsms_client {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gsms_cluster_request {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gsms_cluster_result {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gsms_operation {
    _p: [u8; 0],
}
#[repr(C)]
pub struct gsms_token_sink {
    _p: [u8; 0],
}

pub type gsms_cluster_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_cluster_result)>;
pub type gsms_progress_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, queued: *const gsms_cluster_result)>;
pub type gsms_token_provider_fn =
    Option<unsafe extern "C" fn(user_data: *mut c_void, force_refresh: u32, sink: *mut gsms_token_sink) -> gsms_status>;
pub type gsms_log_fn = Option<unsafe extern "C" fn(user_data: *mut c_void, level: u32, message: *const c_char)>;

extern "C" {
    pub fn gsms_last_error_message() -> *const c_char;
    pub fn gsms_status_name(status: u32) -> *const c_char;
    pub fn gsms_config_new() -> *mut gsms_config;
    pub fn gsms_config_free(cfg: *mut gsms_config);
    pub fn gsms_config_set_base_url(cfg: *mut gsms_config, url: *const c_char) -> gsms_status;
    pub fn gsms_config_set_user_agent(cfg: *mut gsms_config, ua: *const c_char) -> gsms_status;
    pub fn gsms_config_set_xbl_token(
        cfg: *mut gsms_config,
        user_hash: *const c_char,
        token: *const c_char,
    ) -> gsms_status;
    pub fn gsms_config_set_ca_bundle_path(cfg: *mut gsms_config, pem_path: *const c_char) -> gsms_status;
    pub fn gsms_config_set_timeouts(cfg: *mut gsms_config, connect_ms: u32, request_ms: u32) -> gsms_status;
    pub fn gsms_config_set_retry_policy(
        cfg: *mut gsms_config,
        max_attempts: u32,
        base_delay_ms: u32,
        max_delay_ms: u32,
    ) -> gsms_status;
    pub fn gsms_config_set_auth_token(cfg: *mut gsms_config, authorization: *const c_char) -> gsms_status;
    pub fn gsms_config_set_token_provider(
        cfg: *mut gsms_config,
        fn_: gsms_token_provider_fn,
        user_data: *mut c_void,
    ) -> gsms_status;
    pub fn gsms_token_sink_set(sink: *mut gsms_token_sink, authorization: *const c_char) -> gsms_status;
    pub fn gsms_config_set_log_callback(
        cfg: *mut gsms_config,
        fn_: gsms_log_fn,
        user_data: *mut c_void,
        min_level: u32,
    ) -> gsms_status;
    pub fn gsms_config_set_callback_mode(cfg: *mut gsms_config, mode: u32) -> gsms_status;
    pub fn gsms_config_set_worker_threads(cfg: *mut gsms_config, n: u32) -> gsms_status;
    pub fn gsms_client_new(cfg: *const gsms_config, out_client: *mut *mut gsms_client) -> gsms_status;
    pub fn gsms_client_free(client: *mut gsms_client);
    pub fn gsms_client_set_auth_token(client: *mut gsms_client, authorization: *const c_char) -> gsms_status;
    pub fn gsms_client_dispatch(client: *mut gsms_client, max_callbacks: u32) -> u32;
    pub fn gsms_client_warmup(client: *mut gsms_client) -> gsms_status;
    pub fn gsms_client_create_cluster(
        client: *mut gsms_client,
        req: *const gsms_cluster_request,
        out: *mut *mut gsms_cluster_result,
    ) -> gsms_status;
    pub fn gsms_client_allocate_cluster(
        client: *mut gsms_client,
        req: *const gsms_cluster_request,
        deadline_ms: u32,
        out: *mut *mut gsms_cluster_result,
    ) -> gsms_status;
    pub fn gsms_client_create_cluster_async(
        client: *mut gsms_client,
        req: *const gsms_cluster_request,
        on_done: gsms_cluster_callback,
        user_data: *mut c_void,
        out_op: *mut *mut gsms_operation,
    ) -> gsms_status;
    pub fn gsms_client_allocate_cluster_async(
        client: *mut gsms_client,
        req: *const gsms_cluster_request,
        deadline_ms: u32,
        on_progress: gsms_progress_callback,
        on_done: gsms_cluster_callback,
        user_data: *mut c_void,
        out_op: *mut *mut gsms_operation,
    ) -> gsms_status;
    pub fn gsms_operation_cancel(op: *mut gsms_operation) -> gsms_status;
    pub fn gsms_operation_free(op: *mut gsms_operation);
    pub fn gsms_operation_take_result(
        op: *mut gsms_operation,
        out_result: *mut *mut gsms_cluster_result,
    ) -> gsms_status;
    pub fn gsms_cluster_request_new(title_id: u32) -> *mut gsms_cluster_request;
    pub fn gsms_cluster_request_free(req: *mut gsms_cluster_request);
    pub fn gsms_cluster_request_set_session_id(
        req: *mut gsms_cluster_request,
        session_id: *const c_char,
    ) -> gsms_status;
    pub fn gsms_cluster_request_set_session(
        req: *mut gsms_cluster_request,
        scid: *const c_char,
        template_name: *const c_char,
        session_name: *const c_char,
    ) -> gsms_status;
    pub fn gsms_cluster_request_set_abort_if_queued(req: *mut gsms_cluster_request, abort: u32) -> gsms_status;
    pub fn gsms_cluster_result_status(r: *const gsms_cluster_result) -> gsms_status;
    pub fn gsms_cluster_result_fulfillment_state(r: *const gsms_cluster_result) -> u32;
    pub fn gsms_cluster_result_poll_interval_ms(r: *const gsms_cluster_result) -> u32;
    pub fn gsms_cluster_result_host_name(r: *const gsms_cluster_result) -> *const c_char;
    pub fn gsms_cluster_result_region(r: *const gsms_cluster_result) -> *const c_char;
    pub fn gsms_cluster_result_correlation_id(r: *const gsms_cluster_result) -> *const c_char;
    pub fn gsms_cluster_result_error_message(r: *const gsms_cluster_result) -> *const c_char;
    pub fn gsms_cluster_result_raw_json(r: *const gsms_cluster_result) -> *const c_char;
    pub fn gsms_cluster_result_port_count(r: *const gsms_cluster_result) -> usize;
    pub fn gsms_cluster_result_http_status(r: *const gsms_cluster_result) -> u16;
    pub fn gsms_cluster_result_attempts(r: *const gsms_cluster_result) -> u32;
    pub fn gsms_cluster_result_retry_after_ms(r: *const gsms_cluster_result) -> u32;
    pub fn gsms_cluster_result_port(
        r: *const gsms_cluster_result,
        index: usize,
        name: *mut *const c_char,
        internal_port: *mut u32,
        external_port: *mut u32,
    ) -> gsms_status;
    pub fn gsms_cluster_result_clone(r: *const gsms_cluster_result) -> *mut gsms_cluster_result;
    pub fn gsms_cluster_result_free(r: *mut gsms_cluster_result);
}

pub fn cstr(s: &str) -> CString {
    CString::new(s).expect("no NUL")
}

unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        return "<NULL>".into();
    }
    unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
}

pub fn last_error() -> String {
    unsafe { text(gsms_last_error_message()) }
}

pub fn status_name(s: gsms_status) -> String {
    unsafe { text(gsms_status_name(s)) }
}

/// What a call's result said, copied out of the borrowed or owned `gsms_cluster_result`.
#[derive(Clone, Debug, Default)]
pub struct Outcome {
    pub status: gsms_status,
    /// `None` when the call handed back no result (NULL).
    pub has_result: bool,
    pub state: u32,
    pub http_status: u16,
    pub attempts: u32,
    pub retry_after_ms: u32,
    pub poll_interval_ms: u32,
    pub host_name: String,
    pub region_len: usize,
    pub correlation_id: String,
    pub error_message: String,
    pub raw_json: String,
    pub thread: String,
}

impl Outcome {
    /// # Safety
    /// `r` is NULL or a live result.
    pub unsafe fn read(status: gsms_status, r: *const gsms_cluster_result) -> Outcome {
        let thread = std::thread::current().name().unwrap_or("").to_string();
        if r.is_null() {
            return Outcome { status, thread, ..Outcome::default() };
        }
        unsafe {
            Outcome {
                status,
                has_result: true,
                state: gsms_cluster_result_fulfillment_state(r),
                http_status: gsms_cluster_result_http_status(r),
                attempts: gsms_cluster_result_attempts(r),
                retry_after_ms: gsms_cluster_result_retry_after_ms(r),
                poll_interval_ms: gsms_cluster_result_poll_interval_ms(r),
                host_name: text(gsms_cluster_result_host_name(r)),
                region_len: CStr::from_ptr(gsms_cluster_result_region(r)).to_bytes().len(),
                correlation_id: text(gsms_cluster_result_correlation_id(r)),
                error_message: text(gsms_cluster_result_error_message(r)),
                raw_json: text(gsms_cluster_result_raw_json(r)),
                thread,
            }
        }
    }

    pub fn status_name(&self) -> String {
        status_name(self.status)
    }
}

/// A `gsms_config` being built.
pub struct Cfg(pub *mut gsms_config);

impl Cfg {
    pub fn set_timeouts(&self, connect_ms: u32, request_ms: u32) -> &Self {
        assert_eq!(unsafe { gsms_config_set_timeouts(self.0, connect_ms, request_ms) }, GSMS_OK, "{}", last_error());
        self
    }
    pub fn set_retry_policy(&self, attempts: u32, base_ms: u32, max_ms: u32) -> &Self {
        assert_eq!(
            unsafe { gsms_config_set_retry_policy(self.0, attempts, base_ms, max_ms) },
            GSMS_OK,
            "{}",
            last_error()
        );
        self
    }
    pub fn set_mode(&self, mode: u32) -> &Self {
        assert_eq!(unsafe { gsms_config_set_callback_mode(self.0, mode) }, GSMS_OK, "{}", last_error());
        self
    }
    pub fn set_workers(&self, n: u32) -> &Self {
        assert_eq!(unsafe { gsms_config_set_worker_threads(self.0, n) }, GSMS_OK, "{}", last_error());
        self
    }
    pub fn set_auth_token(&self, token: &str) -> &Self {
        assert_eq!(unsafe { gsms_config_set_auth_token(self.0, cstr(token).as_ptr()) }, GSMS_OK, "{}", last_error());
        self
    }
    /// # Safety
    /// `user_data` stays valid for as long as the client may call the provider.
    pub unsafe fn set_token_provider(&self, f: gsms_token_provider_fn, user_data: *mut c_void) -> &Self {
        assert_eq!(unsafe { gsms_config_set_token_provider(self.0, f, user_data) }, GSMS_OK, "{}", last_error());
        self
    }
}

/// An owned `gsms_client`, freed on drop.
pub struct Client(pub *mut gsms_client);
// The contract: gsms_client functions may be called from any thread, concurrently.
unsafe impl Send for Client {}
unsafe impl Sync for Client {}

/// A client for `base_url` with a static token, short timeouts and fast retries (4 attempts,
/// 10..200 ms), in ON_DISPATCH mode; `f` may change the config before the client is made.
pub fn client(base_url: &str, token: &str, f: impl FnOnce(&Cfg)) -> Client {
    unsafe {
        let cfg = Cfg(gsms_config_new());
        assert_eq!(gsms_config_set_base_url(cfg.0, cstr(base_url).as_ptr()), GSMS_OK, "{}", last_error());
        cfg.set_auth_token(token).set_timeouts(2000, 3000).set_retry_policy(4, 10, 200);
        f(&cfg);
        let mut c = ptr::null_mut();
        assert_eq!(gsms_client_new(cfg.0, &mut c), GSMS_OK, "{}", last_error());
        gsms_config_free(cfg.0);
        Client(c)
    }
}

/// An owned `gsms_cluster_request`.
pub struct Request(pub *mut gsms_cluster_request);
unsafe impl Send for Request {}
unsafe impl Sync for Request {}

impl Request {
    pub fn new(title: u32, session_id: &str) -> Request {
        unsafe {
            let r = gsms_cluster_request_new(title);
            assert_eq!(gsms_cluster_request_set_session_id(r, cstr(session_id).as_ptr()), GSMS_OK, "{}", last_error());
            Request(r)
        }
    }
    pub fn abort_if_queued(self) -> Request {
        assert_eq!(unsafe { gsms_cluster_request_set_abort_if_queued(self.0, 1) }, GSMS_OK);
        self
    }
}

impl Drop for Request {
    fn drop(&mut self) {
        unsafe { gsms_cluster_request_free(self.0) }
    }
}

/// What an async call's callbacks saw, in order.
#[derive(Clone, Debug)]
pub enum Event {
    Progress { state: u32, attempts: u32, thread: String },
    Done(Outcome),
}

/// The `user_data` of async calls: records every callback. Leaked on purpose (`'static`), so
/// no callback can ever outlive it whatever the library does.
#[derive(Default)]
pub struct Recorder {
    pub events: Mutex<Vec<Event>>,
}

impl Recorder {
    pub fn new() -> &'static Recorder {
        Box::leak(Box::default())
    }
    pub fn dones(&self) -> Vec<Outcome> {
        let e = self.events.lock().unwrap();
        e.iter()
            .filter_map(|e| match e {
                Event::Done(o) => Some(o.clone()),
                _ => None,
            })
            .collect()
    }
    pub fn progress_count(&self) -> usize {
        self.events.lock().unwrap().iter().filter(|e| matches!(e, Event::Progress { .. })).count()
    }
    fn ud(&'static self) -> *mut c_void {
        self as *const Recorder as *mut c_void
    }
}

unsafe extern "C" fn record_done(ud: *mut c_void, status: gsms_status, r: *const gsms_cluster_result) {
    let rec = unsafe { &*(ud as *const Recorder) };
    let o = unsafe { Outcome::read(status, r) };
    rec.events.lock().unwrap().push(Event::Done(o));
}

unsafe extern "C" fn record_progress(ud: *mut c_void, r: *const gsms_cluster_result) {
    let rec = unsafe { &*(ud as *const Recorder) };
    let (state, attempts) = unsafe { (gsms_cluster_result_fulfillment_state(r), gsms_cluster_result_attempts(r)) };
    let thread = std::thread::current().name().unwrap_or("").to_string();
    rec.events.lock().unwrap().push(Event::Progress { state, attempts, thread });
}

/// An owned `gsms_operation` handle (freeing it does not cancel).
pub struct Op(pub *mut gsms_operation);
unsafe impl Send for Op {}
unsafe impl Sync for Op {}

impl Op {
    pub fn cancel(&self) -> gsms_status {
        unsafe { gsms_operation_cancel(self.0) }
    }
    /// `None` while pending.
    pub fn take(&self) -> Option<Outcome> {
        unsafe {
            let mut r = ptr::null_mut();
            let st = gsms_operation_take_result(self.0, &mut r);
            if st == GSMS_PENDING {
                return None;
            }
            let o = Outcome::read(st, r);
            gsms_cluster_result_free(r);
            Some(o)
        }
    }
    /// Polls `take` until done or `limit` passes.
    pub fn wait(&self, limit: Duration) -> Option<Outcome> {
        let end = Instant::now() + limit;
        loop {
            if let Some(o) = self.take() {
                return Some(o);
            }
            if Instant::now() >= end {
                return None;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
}

impl Drop for Op {
    fn drop(&mut self) {
        unsafe { gsms_operation_free(self.0) }
    }
}

impl Client {
    pub fn create(&self, req: &Request) -> Outcome {
        unsafe {
            let mut r = ptr::null_mut();
            let st = gsms_client_create_cluster(self.0, req.0, &mut r);
            let o = Outcome::read(st, r);
            gsms_cluster_result_free(r);
            o
        }
    }
    pub fn allocate(&self, req: &Request, deadline_ms: u32) -> Outcome {
        unsafe {
            let mut r = ptr::null_mut();
            let st = gsms_client_allocate_cluster(self.0, req.0, deadline_ms, &mut r);
            let o = Outcome::read(st, r);
            gsms_cluster_result_free(r);
            o
        }
    }
    /// Starts an async create; callbacks go to `rec` (if any). Panics unless the start is GSMS_OK.
    pub fn create_async(&self, req: &Request, rec: Option<&'static Recorder>) -> Op {
        unsafe {
            let mut op = ptr::null_mut();
            let (cb, ud): (gsms_cluster_callback, _) = match rec {
                Some(r) => (Some(record_done), r.ud()),
                None => (None, ptr::null_mut()),
            };
            let st = gsms_client_create_cluster_async(self.0, req.0, cb, ud, &mut op);
            assert_eq!(st, GSMS_OK, "{}", last_error());
            Op(op)
        }
    }
    /// Starts an async allocation with progress and completion going to `rec` (if any).
    pub fn allocate_async(&self, req: &Request, deadline_ms: u32, rec: Option<&'static Recorder>) -> Op {
        self.allocate_async_with(req, deadline_ms, rec, true)
    }
    /// As `allocate_async`; `progress` false passes no progress callback (completion only).
    pub fn allocate_async_with(
        &self,
        req: &Request,
        deadline_ms: u32,
        rec: Option<&'static Recorder>,
        progress: bool,
    ) -> Op {
        unsafe {
            let mut op = ptr::null_mut();
            let (p, d, ud): (gsms_progress_callback, gsms_cluster_callback, _) = match rec {
                Some(r) => (if progress { Some(record_progress) } else { None }, Some(record_done), r.ud()),
                None => (None, None, ptr::null_mut()),
            };
            let st = gsms_client_allocate_cluster_async(self.0, req.0, deadline_ms, p, d, ud, &mut op);
            assert_eq!(st, GSMS_OK, "{}", last_error());
            Op(op)
        }
    }
    pub fn dispatch(&self, max: u32) -> u32 {
        unsafe { gsms_client_dispatch(self.0, max) }
    }
    pub fn warmup(&self) -> gsms_status {
        unsafe { gsms_client_warmup(self.0) }
    }
    pub fn set_auth_token(&self, token: &str) -> gsms_status {
        unsafe { gsms_client_set_auth_token(self.0, cstr(token).as_ptr()) }
    }
    /// Frees the client now (what Drop does), so a test can time it.
    pub fn free(self) {
        drop(self)
    }
}

impl Drop for Client {
    fn drop(&mut self) {
        unsafe { gsms_client_free(self.0) }
    }
}

include!("wait.rs");

/// A token provider for tests: answers `stale` until asked with force_refresh = 1, then `fresh`;
/// records each call's force_refresh flag.
pub struct Provider {
    pub stale: CString,
    pub fresh: CString,
    pub calls: Mutex<Vec<u32>>,
}

impl Provider {
    pub fn new(stale: &str, fresh: &str) -> Arc<Provider> {
        Arc::new(Provider { stale: cstr(stale), fresh: cstr(fresh), calls: Mutex::new(Vec::new()) })
    }
}

pub unsafe extern "C" fn provide(ud: *mut c_void, force_refresh: u32, sink: *mut gsms_token_sink) -> gsms_status {
    let p = unsafe { &*(ud as *const Provider) };
    let mut calls = p.calls.lock().unwrap();
    calls.push(force_refresh);
    let refreshed = calls.contains(&1);
    let v = if refreshed { &p.fresh } else { &p.stale };
    unsafe { gsms_token_sink_set(sink, v.as_ptr()) }
}
