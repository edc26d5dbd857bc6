//! The session host and allocation status decoders (`SessionHostResult::decode`,
//! `decode_allocation_status`; FAMILY.md "Session hosts"): any bytes, no panic; what is accepted is
//! safe to hand to C. Both read the same fields; only the state rule differs: a session host
//! answer without a state is Fulfilled, an allocation status without one is Unknown.
#![no_main]

mod common;

use gsms::core::call::Decode;
use gsms::core::calls::session_hosts::decode_allocation_status;
use gsms::core::{FulfillmentState, SessionHostResult};
use libfuzzer_sys::fuzz_target;

fn check(r: &SessionHostResult) {
    common::c_safe([
        &r.host_name,
        &r.region,
        &r.secure_context,
        &r.session_host_id,
        &r.session_id,
        &r.description,
        &r.cluster_id,
        &r.ticket_id,
        &r.game_host_id,
    ]);
    common::ports_ok(&r.ports);
}

fuzz_target!(|data: &[u8]| {
    let host = SessionHostResult::decode(data);
    let status = decode_allocation_status(data);
    assert_eq!(host.is_ok(), status.is_ok(), "one body, two verdicts");
    if let (Ok(h), Ok(s)) = (&host, &status) {
        common::accepted_utf8(data);
        check(h);
        check(s);
        assert_eq!((&h.host_name, &h.ports, &h.session_id), (&s.host_name, &s.ports, &s.session_id));
        // No state key at all (nor an escape that could spell one): the two defaults.
        let text = std::str::from_utf8(data).unwrap_or("");
        if !text.contains("status") && !text.contains("fulfillmentState") && !text.contains('\\') {
            assert_eq!(h.fulfillment_state, FulfillmentState::Fulfilled);
            assert_eq!(s.fulfillment_state, FulfillmentState::Unknown);
        }
    }
});
