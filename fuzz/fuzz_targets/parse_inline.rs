//! What an inline cluster allocation reads (FAMILY.md "Inline clusters"): the POST's answer
//! (the clusters answer's shape, `ClusterResult::decode`) and, while Queued, ticket status answers
//! (`TicketResult::decode`), from the same bytes. Any bytes, no panic; whatever either accepts is
//! safe to hand to C; the poll interval a Queued answer gives is never below the 100 ms floor once
//! the allocation waits on it.
#![no_main]

mod common;

use gsms::core::call::{poll_wait, Decode};
use gsms::core::{ClusterResult, TicketResult};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(a) = ClusterResult::decode(data) {
        common::accepted_utf8(data);
        common::c_safe([&a.host_name, &a.region, &a.secure_context]);
        common::ports_ok(&a.ports);
        assert!(poll_wait(a.poll_interval_ms) >= std::time::Duration::from_millis(100));
        common::deterministic(&a, ClusterResult::decode(data));
    }
    if let Ok(t) = TicketResult::decode(data) {
        common::c_safe([&t.host_name, &t.region, &t.secure_context, &t.description]);
        common::ports_ok(&t.ports);
    }
});
