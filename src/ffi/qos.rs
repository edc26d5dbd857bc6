//! QoS measurement: `gsms_qos_probe` (builder), `gsms_qos_result` (immutable; any thread) and the
//! measurement, blocking and async.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::call::{self, Exported};
use super::client::gsms_client;
use super::handle::{at, box_free, box_into_raw, box_mut, box_ref, opt as get, str_arg, write_out, BoxHandle};
use super::info::gsms_call_info;
use super::operation::gsms_operation;
use super::qos_servers::gsms_qos_servers_result;
use super::{cstring, gsms_status, guard, invalid, status, text_ptr};
use crate::core::{MeasureQos, QosProbe, QosResult};

/// What to measure: regions and their beacons, and the probing options. Create with
/// `gsms_qos_probe_new`; a builder (one thread at a time).
pub struct gsms_qos_probe {
    inner: QosProbe,
}
impl BoxHandle for gsms_qos_probe {}

struct CRegion {
    name: CString,
    address: CString,
    message: CString,
}

/// Latency to each region, best first. Immutable; may be read from any thread.
pub struct gsms_qos_result {
    inner: Arc<QosResult>,
    info: gsms_call_info,
    regions: Vec<CRegion>,
    best: CString,
}
impl BoxHandle for gsms_qos_result {}

impl Exported for QosResult {
    type Handle = gsms_qos_result;
    const TAKE_FN: &'static str = "gsms_operation_take_qos_result";
    fn handle(r: Arc<QosResult>) -> gsms_qos_result {
        gsms_qos_result {
            info: gsms_call_info::new(&r.info),
            regions: r
                .regions
                .iter()
                .map(|g| CRegion {
                    name: cstring(&g.region),
                    address: cstring(&g.address),
                    message: cstring(&g.message),
                })
                .collect(),
            best: cstring(r.best_region()),
            inner: r,
        }
    }
}

/// Completion callback of a QoS measurement. `result` is borrowed: valid only during this callback
/// (keep it with gsms_qos_result_clone); non-NULL whenever anything is known.
pub type gsms_qos_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_qos_result)>;

// ----- the probe -----

/// Creates an empty probe with the default options: 10 probes per region, at most 4 in flight over
/// all regions, 250 ms timeout per probe. Caller owns; free with gsms_qos_probe_free. NULL only on
/// out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_qos_probe_new() -> *mut gsms_qos_probe {
    guard(|| box_into_raw(gsms_qos_probe { inner: QosProbe::new() }))
}

/// Frees a probe. NULL is a no-op. Measurements started from it keep their own copy.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_probe_free(probe: *mut gsms_qos_probe) {
    guard(|| unsafe { box_free(probe) })
}

/// Adds a region: its name (what allocation calls take as location), its beacon's host (a name,
/// an IPv4 or IPv6 address) and UDP port (0 = 3075). The name must not already be a target
/// (duplicates are refused: two beacons would mix two hosts' latencies); port at most 65535.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_probe_add_target(
    probe: *mut gsms_qos_probe,
    region: *const c_char,
    host: *const c_char,
    port: u32,
) -> gsms_status {
    status(|| {
        let (p, r, h) = unsafe { (box_mut(probe, "probe")?, str_arg(region, "region")?, str_arg(host, "host")?) };
        p.inner.add_target(r, h, port).map_err(|e| invalid(e.0))
    })
}

/// Adds every server of a QoS servers answer: `targetLocation` names the region, `serverFqdn` (a
/// host, `host:port` or `[v6]:port`) the beacon. All or nothing: an unusable entry or a duplicate
/// region adds none and is GSMS_ERR_INVALID_ARGUMENT naming it.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_probe_add_servers(
    probe: *mut gsms_qos_probe,
    servers: *const gsms_qos_servers_result,
) -> gsms_status {
    status(|| {
        let (p, s) = unsafe { (box_mut(probe, "probe")?, box_ref(servers, "servers")?) };
        p.inner.add_servers(&s.inner).map_err(|e| invalid(e.0))
    })
}

/// Probes per region (1..=100; default 10), probes in flight over all regions (1..=64; default 4),
/// timeout of one probe in ms (1..=10000; default 250).
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_probe_set_options(
    probe: *mut gsms_qos_probe,
    probes_per_region: u32,
    parallelism: u32,
    timeout_ms: u32,
) -> gsms_status {
    status(|| {
        let p = unsafe { box_mut(probe, "probe") }?;
        p.inner.set_options(probes_per_region, parallelism, timeout_ms).map_err(|e| invalid(e.0))
    })
}

/// How many regions the probe holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_probe_target_count(probe: *const gsms_qos_probe) -> usize {
    guard(|| unsafe { probe.as_ref() }.map_or(0, |p| p.inner.targets.len()))
}

// ----- the measurement -----

/// Measures latency to every region on this thread (resolving names, then UDP probes): it takes
/// about regions x probes x round trip / parallelism, plus a timeout per lost probe: never on a
/// frame thread. A probe with no targets is GSMS_ERR_INVALID_ARGUMENT. GSMS_OK even when some
/// regions did not answer (their latency is UINT32_MAX and their message says why). `out` as for
/// gsms_client_create_cluster. Caller owns `*out`; free with gsms_qos_result_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_measure_qos(
    client: *mut gsms_client,
    probe: *const gsms_qos_probe,
    out: *mut *mut gsms_qos_result,
) -> gsms_status {
    status(|| unsafe { call::blocking(client, call::from_request(probe, |p| Ok(MeasureQos::new(&p.inner))), 0, out) })
}

/// Starts the measurement on a worker (name resolution included: nothing touches the network on
/// this thread); returns at once. As gsms_client_get_ticket_status_async; take the result with
/// gsms_operation_take_qos_result. Cancel stops the probing within 20 ms.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_measure_qos_async(
    client: *mut gsms_client,
    probe: *const gsms_qos_probe,
    on_done: gsms_qos_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = call::from_request(probe, |p| Ok(MeasureQos::new(&p.inner)));
        call::start(client, call, 0, None, on_done, user_data, out_op)
    })
}

/// Polling instead of callbacks, for a QoS measurement. As gsms_operation_take_ticket_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_qos_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_qos_result,
) -> gsms_status {
    status(|| unsafe { call::take::<QosResult>(op, out_result) })
}

// ----- the result -----

/// The measurement's status details (attempts = probes sent). Borrowed; valid until the result is
/// freed. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_info(r: *const gsms_qos_result) -> *const gsms_call_info {
    guard(|| unsafe { get(r) }.map_or(std::ptr::null(), |r| &r.info as *const gsms_call_info))
}

/// How many regions were measured (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_region_count(r: *const gsms_qos_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.regions.len()))
}

/// Region `index`, best first: its name (borrowed; valid until the result is freed), latency in
/// microseconds (the median of the replies, from 4 replies on their interquartile mean; UINT32_MAX
/// when no reply came), probes sent and replies received. Each out-pointer may be NULL. Index out
/// of range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_region(
    r: *const gsms_qos_result,
    index: usize,
    name: *mut *const c_char,
    latency_us: *mut u32,
    sent: *mut u32,
    received: *mut u32,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_ref(r, "r") }?;
        let (c, g) = (at(&r.regions, index, "region")?, &r.inner.regions[index]);
        unsafe {
            write_out(name, c.name.as_ptr());
            write_out(latency_us, g.latency_us.unwrap_or(u32::MAX));
            write_out(sent, g.sent);
            write_out(received, g.received);
        }
        Ok(())
    })
}

/// Why region `index` has no latency (its name does not resolve, every probe was lost); "" when
/// it has one, and for NULL or an index out of range. Borrowed; valid until the result is freed.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_region_message(r: *const gsms_qos_result, index: usize) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.and_then(|r| r.regions.get(index)).map(|g| &g.message)))
}

/// The address region `index` was measured at ("host:port" or the resolved "ip:port"); "" for NULL
/// or an index out of range. Borrowed; valid until the result is freed.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_region_address(r: *const gsms_qos_result, index: usize) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.and_then(|r| r.regions.get(index)).map(|g| &g.address)))
}

/// The name of the region with the lowest latency (what to pass as `location`); "" when no region
/// answered (or for NULL). Borrowed; valid until the result is freed.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_best_region(r: *const gsms_qos_result) -> *const c_char {
    guard(|| text_ptr(unsafe { get(r) }.map(|r| &r.best)))
}

/// A copy that outlives the original. Caller owns; free with gsms_qos_result_free. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_clone(r: *const gsms_qos_result) -> *mut gsms_qos_result {
    guard(|| unsafe { get(r) }.map_or(std::ptr::null_mut(), |r| box_into_raw(QosResult::handle(Arc::clone(&r.inner)))))
}

/// Frees a result. NULL is a no-op. Never pass a callback's borrowed result.
#[no_mangle]
pub unsafe extern "C" fn gsms_qos_result_free(r: *mut gsms_qos_result) {
    guard(|| unsafe { box_free(r) })
}
