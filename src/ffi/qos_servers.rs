//! `GET /xplatqosservers` / `GET /qosservers`: `gsms_qos_servers_result` (immutable; any thread)
//! and the call, blocking and async.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::call::{self, Exported};
use super::client::gsms_client;
use super::handle::{at, box_free, box_into_raw, box_ref, flag_arg, opt as get, write_out, BoxHandle};
use super::info::gsms_call_info;
use super::operation::gsms_operation;
use super::{cstring, gsms_status, guard, status};
use crate::core::calls::qos_servers::get_qos_servers;
use crate::core::QosServersResult;

/// The QoS servers of each region (what gsms_qos_probe_add_servers measures). Immutable; may be
/// read from any thread.
pub struct gsms_qos_servers_result {
    pub(crate) inner: Arc<QosServersResult>,
    info: gsms_call_info,
    servers: Vec<[CString; 3]>,
}
impl BoxHandle for gsms_qos_servers_result {}

impl Exported for QosServersResult {
    type Handle = gsms_qos_servers_result;
    const TAKE_FN: &'static str = "gsms_operation_take_qos_servers_result";
    fn handle(r: Arc<QosServersResult>) -> gsms_qos_servers_result {
        gsms_qos_servers_result {
            info: gsms_call_info::new(&r.info),
            servers: r
                .servers
                .iter()
                .map(|s| [cstring(&s.fqdn), cstring(&s.secure_device_address), cstring(&s.target_location)])
                .collect(),
            inner: r,
        }
    }
}

/// Completion callback of a QoS servers call. `result` is borrowed: valid only during this
/// callback (keep it with gsms_qos_servers_result_clone); non-NULL whenever anything is known.
pub type gsms_qos_servers_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_qos_servers_result)>;

/// One GET to the discovery host (with retries), on this thread: never on a frame thread.
/// `cross_platform` 1: `/xplatqosservers` (use this); 0: `/qosservers` (Xbox One's list); any
/// other value is invalid. `out` as for gsms_client_create_cluster. Caller owns `*out`; free with
/// gsms_qos_servers_result_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_qos_servers(
    client: *mut gsms_client,
    cross_platform: u32,
    out: *mut *mut gsms_qos_servers_result,
) -> gsms_status {
    status(|| unsafe {
        call::blocking(client, flag_arg(cross_platform, "cross_platform").map(get_qos_servers), 0, out)
    })
}

/// Starts the GET on a worker; returns at once. As gsms_client_get_ticket_status_async; take the
/// result with gsms_operation_take_qos_servers_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_qos_servers_async(
    client: *mut gsms_client,
    cross_platform: u32,
    on_done: gsms_qos_servers_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = flag_arg(cross_platform, "cross_platform").map(get_qos_servers);
        call::start(client, call, 0, None, on_done, user_data, out_op)
    })
}

/// Polling instead of callbacks, for a QoS servers operation. As gsms_operation_take_ticket_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_qos_servers_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_qos_servers_result,
) -> gsms_status {
    status(|| unsafe { call::take::<QosServersResult>(op, out_result) })
}

/// The exchange details. Borrowed; valid until the result is freed. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_servers_result_info(r: *const gsms_qos_servers_result) -> *const gsms_call_info {
    guard(|| unsafe { get(r) }.map_or(std::ptr::null(), |r| &r.info as *const gsms_call_info))
}

/// How many QoS servers the answer lists (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_servers_result_count(r: *const gsms_qos_servers_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.servers.len()))
}

/// Server `index`: its address (`serverFqdn`: a name, an address or `host:port`), its secure
/// device address (base64) and its region's name (`targetLocation`, what allocations take as
/// location). Borrowed; valid until the result is freed; "" when absent. Each out-pointer may be
/// NULL. Index out of range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_servers_result_server(
    r: *const gsms_qos_servers_result,
    index: usize,
    fqdn: *mut *const c_char,
    secure_device_address: *mut *const c_char,
    target_location: *mut *const c_char,
) -> gsms_status {
    status(|| {
        let [f, s, t] = at(&unsafe { box_ref(r, "r") }?.servers, index, "server")?;
        unsafe {
            write_out(fqdn, f.as_ptr());
            write_out(secure_device_address, s.as_ptr());
            write_out(target_location, t.as_ptr());
        }
        Ok(())
    })
}

/// A copy that outlives the original. Caller owns; free with gsms_qos_servers_result_free. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_servers_result_clone(
    r: *const gsms_qos_servers_result,
) -> *mut gsms_qos_servers_result {
    guard(|| {
        unsafe { get(r) }.map_or(std::ptr::null_mut(), |r| box_into_raw(QosServersResult::handle(Arc::clone(&r.inner))))
    })
}

/// Frees a result. NULL is a no-op. Never pass a callback's borrowed result.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_servers_result_free(r: *mut gsms_qos_servers_result) {
    guard(|| unsafe { box_free(r) })
}
