//! The ticket status decoder (`TicketResult::decode`, FAMILY.md "Ticket status"): any bytes, no
//! panic; what is accepted is safe to hand to C, and its status is one of `gsms_host_status`.
#![no_main]

mod common;

use gsms::core::call::Decode;
use gsms::core::{HostStatus, TicketResult};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = TicketResult::decode(data) {
        common::accepted_utf8(data);
        common::c_safe([
            &t.ticket_id,
            &t.cluster_id,
            &t.host_name,
            &t.description,
            &t.secure_context,
            &t.game_host_id,
            &t.region,
        ]);
        common::ports_ok(&t.ports);
        assert!((t.status as u32) <= HostStatus::Error as u32);
        common::deterministic(&t, TicketResult::decode(data));
    }
});
