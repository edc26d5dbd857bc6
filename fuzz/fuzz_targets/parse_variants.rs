//! The variants decoder (`VariantsResult::decode`, FAMILY.md "Variants"): any bytes, no panic;
//! what is accepted is safe to hand to C (every id, name, schema and tag).
#![no_main]

mod common;

use gsms::core::call::Decode;
use gsms::core::VariantsResult;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = VariantsResult::decode(data) {
        common::accepted_utf8(data);
        for v in &r.variants {
            common::c_safe([&v.id, &v.name, &v.schema_id]);
        }
        for s in &r.schemas {
            common::c_safe([&s.id, &s.name, &s.content]);
        }
        for g in &r.gsi_sets {
            common::c_safe([&g.id, &g.name, &g.schema_id]);
            for t in &g.tags {
                common::c_safe([&t.name, &t.value]);
            }
        }
        common::deterministic(&r, VariantsResult::decode(data));
    }
});
