//! `POST /titles/{titleId}/variants`: `gsms_variants_request` (builder), `gsms_variants_result`
//! (immutable; any thread) and the call, blocking and async.

use std::ffi::{c_char, c_void, CString};
use std::sync::Arc;

use super::call::{self, Exported};
use super::client::gsms_client;
use super::handle::{
    at, box_free, box_into_raw, box_mut, box_ref, flag_arg, opt as get, str_arg, write_out, BoxHandle,
};
use super::info::gsms_call_info;
use super::operation::gsms_operation;
use super::{cstring, gsms_status, guard, invalid, status};
use crate::core::calls::variants::get_variants;
use crate::core::{VariantsRequest, VariantsResult};

/// What to ask the discovery host for: the title's game variants, schemas and server image sets.
/// Create with `gsms_variants_request_new`; every field has a default.
pub struct gsms_variants_request {
    inner: VariantsRequest,
}
impl BoxHandle for gsms_variants_request {}

struct CVariant {
    id: CString,
    name: CString,
    schema_id: CString,
}

struct CSchema {
    id: CString,
    name: CString,
    content: CString,
}

struct CGsiSet {
    id: CString,
    name: CString,
    schema_id: CString,
    tags: Vec<(CString, CString)>,
}

/// The title's game variants (modes), variant schemas and GSI sets (server images). Immutable;
/// may be read from any thread.
pub struct gsms_variants_result {
    inner: Arc<VariantsResult>,
    info: gsms_call_info,
    variants: Vec<CVariant>,
    schemas: Vec<CSchema>,
    gsi_sets: Vec<CGsiSet>,
}
impl BoxHandle for gsms_variants_result {}

impl Exported for VariantsResult {
    type Handle = gsms_variants_result;
    const TAKE_FN: &'static str = "gsms_operation_take_variants_result";
    fn handle(r: Arc<VariantsResult>) -> gsms_variants_result {
        gsms_variants_result {
            info: gsms_call_info::new(&r.info),
            variants: r
                .variants
                .iter()
                .map(|v| CVariant { id: cstring(&v.id), name: cstring(&v.name), schema_id: cstring(&v.schema_id) })
                .collect(),
            schemas: r
                .schemas
                .iter()
                .map(|s| CSchema { id: cstring(&s.id), name: cstring(&s.name), content: cstring(&s.content) })
                .collect(),
            gsi_sets: r
                .gsi_sets
                .iter()
                .map(|g| CGsiSet {
                    id: cstring(&g.id),
                    name: cstring(&g.name),
                    schema_id: cstring(&g.schema_id),
                    tags: g.tags.iter().map(|t| (cstring(&t.name), cstring(&t.value))).collect(),
                })
                .collect(),
            inner: r,
        }
    }
}

/// Completion callback of a variants call. `result` is borrowed: valid only during this callback
/// (keep it with gsms_variants_result_clone); non-NULL whenever anything is known.
pub type gsms_variants_callback =
    Option<unsafe extern "C" fn(user_data: *mut c_void, status: gsms_status, result: *const gsms_variants_result)>;

// ----- the request -----

/// Creates a request for `title_id` with the defaults: locale "en-us", no player or variant limit
/// (sent as 0), all variants (publisherOnly false), no tags. Caller owns; free with
/// gsms_variants_request_free. NULL only on out-of-memory.
#[no_mangle]
pub extern "C" fn gsms_variants_request_new(title_id: u32) -> *mut gsms_variants_request {
    guard(|| box_into_raw(gsms_variants_request { inner: VariantsRequest::new(title_id) }))
}

/// Frees a request. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_request_free(req: *mut gsms_variants_request) {
    guard(|| unsafe { box_free(req) })
}

/// `locale`, e.g. "en-us" (the default). Non-empty; no control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_request_set_locale(
    req: *mut gsms_variants_request,
    locale: *const c_char,
) -> gsms_status {
    status(|| {
        let (r, l) = unsafe { (box_mut(req, "req")?, str_arg(locale, "locale")?) };
        r.inner.set_locale(l).map_err(|e| invalid(e.0))
    })
}

/// `maxAllowedPlayers` (default 0: no limit).
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_request_set_max_allowed_players(
    req: *mut gsms_variants_request,
    n: u32,
) -> gsms_status {
    status(|| {
        unsafe { box_mut(req, "req") }?.inner.max_allowed_players = n;
        Ok(())
    })
}

/// `maxVariants` (default 0: all).
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_request_set_max_variants(
    req: *mut gsms_variants_request,
    n: u32,
) -> gsms_status {
    status(|| {
        unsafe { box_mut(req, "req") }?.inner.max_variants = n;
        Ok(())
    })
}

/// `publisherOnly`: 1 for the publisher's variants only; 0 (default) for all. Any other value is invalid.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_request_set_publisher_only(
    req: *mut gsms_variants_request,
    publisher_only: u32,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_mut(req, "req") }?;
        r.inner.publisher_only = flag_arg(publisher_only, "publisher_only")?;
        Ok(())
    })
}

/// Appends a tag `{"name": name, "value": value}`. The name non-empty; no control characters.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_request_add_tag(
    req: *mut gsms_variants_request,
    name: *const c_char,
    value: *const c_char,
) -> gsms_status {
    status(|| {
        let (r, n, v) = unsafe { (box_mut(req, "req")?, str_arg(name, "name")?, str_arg(value, "value")?) };
        r.inner.add_tag(n, v).map_err(|e| invalid(e.0))
    })
}

// ----- the call -----

/// One POST to the discovery host (with retries), on this thread: never on a frame thread.
/// `out` as for gsms_client_create_cluster. Caller owns `*out`; free with gsms_variants_result_free.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_variants(
    client: *mut gsms_client,
    req: *const gsms_variants_request,
    out: *mut *mut gsms_variants_result,
) -> gsms_status {
    status(|| unsafe { call::blocking(client, call::from_request(req, |r| Ok(get_variants(&r.inner))), 0, out) })
}

/// Starts the POST on a worker; returns at once. As gsms_client_get_ticket_status_async; take the
/// result with gsms_operation_take_variants_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_client_get_variants_async(
    client: *mut gsms_client,
    req: *const gsms_variants_request,
    on_done: gsms_variants_callback,
    user_data: *mut c_void,
    out_op: *mut *mut gsms_operation,
) -> gsms_status {
    status(|| unsafe {
        let call = call::from_request(req, |r| Ok(get_variants(&r.inner)));
        call::start(client, call, 0, None, on_done, user_data, out_op)
    })
}

/// Polling instead of callbacks, for a variants operation. As gsms_operation_take_ticket_result.
#[no_mangle]
pub unsafe extern "C" fn gsms_operation_take_variants_result(
    op: *mut gsms_operation,
    out_result: *mut *mut gsms_variants_result,
) -> gsms_status {
    status(|| unsafe { call::take::<VariantsResult>(op, out_result) })
}

// ----- the result -----

/// The exchange details. Borrowed; valid until the result is freed. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_info(r: *const gsms_variants_result) -> *const gsms_call_info {
    guard(|| unsafe { get(r) }.map_or(std::ptr::null(), |r| &r.info as *const gsms_call_info))
}

/// How many game variants the answer holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_variant_count(r: *const gsms_variants_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.variants.len()))
}

/// Variant `index`: id, name, whether the publisher's (0/1), rank, schema id. Strings borrowed;
/// valid until the result is freed; "" when absent. Each out-pointer may be NULL. Index out of
/// range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_variant(
    r: *const gsms_variants_result,
    index: usize,
    id: *mut *const c_char,
    name: *mut *const c_char,
    is_publisher: *mut u32,
    rank: *mut u64,
    schema_id: *mut *const c_char,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_ref(r, "r") }?;
        let (c, v) = (at(&r.variants, index, "variant")?, &r.inner.variants[index]);
        unsafe {
            write_out(id, c.id.as_ptr());
            write_out(name, c.name.as_ptr());
            write_out(is_publisher, u32::from(v.is_publisher));
            write_out(rank, v.rank);
            write_out(schema_id, c.schema_id.as_ptr());
        }
        Ok(())
    })
}

/// How many variant schemas the answer holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_schema_count(r: *const gsms_variants_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.schemas.len()))
}

/// Schema `index`: id, name, content (an XML document). Borrowed; valid until the result is freed.
/// Each out-pointer may be NULL. Index out of range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_schema(
    r: *const gsms_variants_result,
    index: usize,
    id: *mut *const c_char,
    name: *mut *const c_char,
    content: *mut *const c_char,
) -> gsms_status {
    status(|| {
        let s = at(&unsafe { box_ref(r, "r") }?.schemas, index, "schema")?;
        unsafe {
            write_out(id, s.id.as_ptr());
            write_out(name, s.name.as_ptr());
            write_out(content, s.content.as_ptr());
        }
        Ok(())
    })
}

/// How many GSI sets the answer holds (0 for NULL).
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_gsi_set_count(r: *const gsms_variants_result) -> usize {
    guard(|| unsafe { get(r) }.map_or(0, |r| r.gsi_sets.len()))
}

/// GSI set `index`: id, name, min required and max allowed players, selection order, schema id.
/// Strings borrowed; valid until the result is freed. Numbers that did not parse read as 0. Each
/// out-pointer may be NULL. Index out of range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_gsi_set(
    r: *const gsms_variants_result,
    index: usize,
    id: *mut *const c_char,
    name: *mut *const c_char,
    min_players: *mut u64,
    max_players: *mut u64,
    selection_order: *mut u64,
    schema_id: *mut *const c_char,
) -> gsms_status {
    status(|| {
        let r = unsafe { box_ref(r, "r") }?;
        let (c, g) = (at(&r.gsi_sets, index, "GSI set")?, &r.inner.gsi_sets[index]);
        unsafe {
            write_out(id, c.id.as_ptr());
            write_out(name, c.name.as_ptr());
            write_out(min_players, g.min_players);
            write_out(max_players, g.max_players);
            write_out(selection_order, g.selection_order);
            write_out(schema_id, c.schema_id.as_ptr());
        }
        Ok(())
    })
}

/// How many tags GSI set `set` has (0 for NULL or a set index out of range).
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_gsi_set_tag_count(r: *const gsms_variants_result, set: usize) -> usize {
    guard(|| unsafe { get(r) }.and_then(|r| r.gsi_sets.get(set)).map_or(0, |g| g.tags.len()))
}

/// Tag `index` of GSI set `set`: name and value. Borrowed; valid until the result is freed. Each
/// out-pointer may be NULL. Either index out of range -> GSMS_ERR_INVALID_ARGUMENT.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_gsi_set_tag(
    r: *const gsms_variants_result,
    set: usize,
    index: usize,
    name: *mut *const c_char,
    value: *mut *const c_char,
) -> gsms_status {
    status(|| {
        let g = at(&unsafe { box_ref(r, "r") }?.gsi_sets, set, "GSI set")?;
        let (n, v) = at(&g.tags, index, "tag")?;
        unsafe {
            write_out(name, n.as_ptr());
            write_out(value, v.as_ptr());
        }
        Ok(())
    })
}

/// A copy that outlives the original. Caller owns; free with gsms_variants_result_free. NULL for NULL.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_clone(r: *const gsms_variants_result) -> *mut gsms_variants_result {
    guard(|| {
        unsafe { get(r) }.map_or(std::ptr::null_mut(), |r| box_into_raw(VariantsResult::handle(Arc::clone(&r.inner))))
    })
}

/// Frees a result. NULL is a no-op. Never pass a callback's borrowed result.
#[no_mangle]
pub unsafe extern "C" fn gsms_variants_result_free(r: *mut gsms_variants_result) {
    guard(|| unsafe { box_free(r) })
}
