//! Quirks mode: every 2xx answer in a varied but valid form, chosen per answer by a seeded
//! generator (the same seed and the same requests give the same bytes).
//!
//! Each variation stays inside what PROTOCOL.md and FAMILY.md say a client must accept:
//! enum values in another case, numbers as numeric strings and numeric strings as numbers,
//! unknown fields (nested objects and arrays too), keys in another order, optional fields left
//! out, and the documented alternative spellings (`qosservers`, `variantId`,
//! `fulfillmentState` for `status`, a session host answer without a state when Fulfilled).

use crate::json::Json;
use crate::service::route::Call;

/// splitmix64.
pub(crate) struct Rng(u64);

impl Rng {
    /// The generator of the `n`th answer under `seed`.
    pub fn new(seed: u64, n: u64) -> Rng {
        let mut r = Rng(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        r.next();
        r
    }

    pub fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// True once in `n` (on average).
    pub fn one_in(&mut self, n: u64) -> bool {
        self.next() % n == 0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

/// The answer of `call` with this answer's quirks.
pub(crate) fn apply(call: Call, mut j: Json, rng: &mut Rng, omit_optional: bool) -> Json {
    match call {
        Call::Clusters | Call::InlineClusters => allocation(&mut j, rng, omit_optional),
        Call::SessionHosts => {
            if j.get("fulfillmentState").and_then(Json::as_str) == Some("Fulfilled") && rng.one_in(2) {
                j.remove("fulfillmentState");
            }
            allocation(&mut j, rng, omit_optional);
        }
        Call::TicketStatus => {
            recase(&mut j, "status", rng);
            if rng.one_in(2) {
                number_to_string(&mut j, "titleId");
            }
            host_fields(&mut j, rng, omit_optional);
        }
        Call::AllocationStatus => {
            recase(&mut j, "status", rng);
            if rng.one_in(2) {
                j.rename("status", "fulfillmentState");
            }
            host_fields(&mut j, rng, omit_optional);
        }
        Call::Variants => variants(&mut j, rng),
        Call::QosServers => {
            if rng.one_in(2) {
                j.rename("qosServers", "qosservers");
            }
            for key in ["qosServers", "qosservers"] {
                if let Some(Json::Arr(items)) = j.get_mut(key) {
                    items.iter_mut().for_each(|s| item_extra(s, rng));
                }
            }
        }
    }
    extras(&mut j, rng);
    shuffle(&mut j, rng);
    j
}

/// Clusters, inline clusters and session hosts: the poll interval's type flips, the state's
/// case changes, and the host fields vary.
fn allocation(j: &mut Json, rng: &mut Rng, omit_optional: bool) {
    if rng.one_in(2) {
        match j.get("pollIntervalMilliseconds").cloned() {
            Some(Json::Str(_)) => string_to_number(j, "pollIntervalMilliseconds"),
            Some(Json::Num(_)) => number_to_string(j, "pollIntervalMilliseconds"),
            _ => {}
        }
    }
    recase(j, "fulfillmentState", rng);
    host_fields(j, rng, omit_optional);
}

/// Ports as strings, unknown fields in port mappings, optional fields left out.
fn host_fields(j: &mut Json, rng: &mut Rng, omit_optional: bool) {
    if let Some(Json::Arr(mappings)) = j.get_mut("portMappings") {
        for m in mappings.iter_mut() {
            if let Some(value) = m.get_mut("Value") {
                for key in ["internal", "external"] {
                    if rng.one_in(2) {
                        number_to_string(value, key);
                    }
                }
                if rng.one_in(3) {
                    value.set("protocol", Json::from("UDP"));
                }
            }
            item_extra(m, rng);
        }
    }
    // Rolled either way, so that turning omission off changes nothing else.
    let (no_context, no_region) = (rng.one_in(3), rng.one_in(4));
    if omit_optional && j.get("hostName").is_some() {
        if no_context {
            j.remove("secureContext");
        }
        if no_region {
            j.remove("region");
        }
    }
}

fn variants(j: &mut Json, rng: &mut Rng) {
    if let Some(Json::Arr(items)) = j.get_mut("variants") {
        for v in items.iter_mut() {
            if rng.one_in(2) {
                v.rename("gamevariantId", "variantId");
            }
            if let Some(Json::Str(p)) = v.get("isPublisher").cloned() {
                let yes = p.eq_ignore_ascii_case("true");
                let forms: [Json; 4] = if yes {
                    [Json::from("true"), Json::from("TRUE"), Json::from(true), Json::from("True")]
                } else {
                    [Json::from("false"), Json::from("FALSE"), Json::from(false), Json::from("False")]
                };
                v.set("isPublisher", forms[rng.below(forms.len())].clone());
            }
            if rng.one_in(2) {
                string_to_number(v, "rank");
            }
            item_extra(v, rng);
        }
    }
    if let Some(Json::Arr(sets)) = j.get_mut("gsiSets") {
        for g in sets.iter_mut() {
            for key in ["minRequiredPlayers", "maxAllowedPlayers", "selectionOrder"] {
                if rng.one_in(2) {
                    string_to_number(g, key);
                }
            }
            item_extra(g, rng);
        }
    }
    if let Some(Json::Arr(schemas)) = j.get_mut("variantSchemas") {
        schemas.iter_mut().for_each(|s| item_extra(s, rng));
    }
}

/// The enum value of `key` in lower or upper case.
fn recase(j: &mut Json, key: &str, rng: &mut Rng) {
    if let Some(Json::Str(s)) = j.get_mut(key) {
        *s = match rng.below(3) {
            0 => s.to_ascii_lowercase(),
            1 => s.to_ascii_uppercase(),
            _ => return,
        };
    }
}

fn number_to_string(j: &mut Json, key: &str) {
    if let Some(slot) = j.get_mut(key) {
        if let Json::Num(n) = slot {
            *slot = Json::Str(n.to_string());
        }
    }
}

fn string_to_number(j: &mut Json, key: &str) {
    if let Some(slot) = j.get_mut(key) {
        if let Json::Str(s) = slot {
            if let Ok(n) = s.parse::<u64>() {
                *slot = Json::from(n);
            }
        }
    }
}

/// An unknown field in an array item, now and then.
fn item_extra(j: &mut Json, rng: &mut Rng) {
    if rng.one_in(3) {
        j.set("emulatorNote", Json::obj().with("kind", "unknown field").with("n", rng.next() % 1000));
    }
}

/// Unknown top-level fields: a scalar, a nested object and an array of mixed items.
fn extras(j: &mut Json, rng: &mut Rng) {
    if rng.one_in(3) {
        return;
    }
    j.set("x-emulator-quirk", Json::from(rng.next() % 100_000));
    if rng.one_in(2) {
        let nested = Json::obj()
            .with("inner", Json::obj().with("list", vec![Json::from(1u32), Json::from("two"), Json::Null]))
            .with("flag", true);
        j.set("unknownObject", nested);
    }
    if rng.one_in(2) {
        j.set(
            "unknownArray",
            vec![Json::obj().with("Key", "NotAPort"), Json::Arr(Vec::new()), Json::from(false)].into(),
        );
    }
}

/// Keys of every object in a random order.
fn shuffle(j: &mut Json, rng: &mut Rng) {
    match j {
        Json::Obj(fields) => {
            for i in (1..fields.len()).rev() {
                let k = rng.below(i + 1);
                fields.swap(i, k);
            }
            fields.iter_mut().for_each(|(_, v)| shuffle(v, rng));
        }
        Json::Arr(items) => items.iter_mut().for_each(|v| shuffle(v, rng)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_answer() {
        let base = Json::obj()
            .with("pollIntervalMilliseconds", "1000")
            .with("fulfillmentState", "Fulfilled")
            .with("hostName", "h")
            .with("region", "r");
        let a = apply(Call::Clusters, base.clone(), &mut Rng::new(7, 3), true);
        let b = apply(Call::Clusters, base.clone(), &mut Rng::new(7, 3), true);
        assert_eq!(a.to_bytes(), b.to_bytes());
        let differs =
            (0..20).any(|n| apply(Call::Clusters, base.clone(), &mut Rng::new(7, n), true).to_bytes() != a.to_bytes());
        assert!(differs);
    }
}
