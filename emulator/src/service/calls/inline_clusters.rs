//! `POST /titles/{titleId}/inlineclusters` (contract 2): allocation without MPSD, keyed by
//! ticketId, in the same pool and FIFO queue as clusters.

use super::{allocation_answer, object, optional_count, optional_flag, required_str, resolve_region, Outcome};
use crate::http::{Request, Response};
use crate::json::Json;
use crate::service::state::{Holder, Ticket};
use crate::service::Service;
use crate::TicketStatus;

#[derive(Debug)]
struct Body {
    ticket_id: String,
    location: String,
    abort: bool,
}

fn parse_body(body: &[u8]) -> Result<Body, String> {
    let obj = object(body)?;
    for field in ["serviceConfigId", "sandboxId", "ticketId", "gsiSetId", "gameVariantId", "location"] {
        required_str(&obj, field)?;
    }
    if optional_count(&obj, "maxAllowedPlayers", 1)?.is_none() {
        return Err("missing maxAllowedPlayers".into());
    }
    Ok(Body {
        ticket_id: required_str(&obj, "ticketId")?,
        location: required_str(&obj, "location")?,
        abort: optional_flag(&obj, "abortIfQueued")?,
    })
}

pub(crate) fn handle(svc: &Service, req: &Request, title_id: u32) -> Result<Json, Response> {
    let body = parse_body(&req.body).map_err(|m| svc.err(400, &m))?;
    let cfg = &svc.settings;
    let holder = Holder::Ticket(body.ticket_id.clone());
    let mut st = svc.lock();
    // A ticket that holds a server or waits keeps its state (and its region); any other one
    // (new, or ended) is a new allocation.
    let key = (title_id, body.ticket_id.clone());
    let live = st.pools.get(&title_id).is_some_and(|p| p.held_by(&holder).is_some() || p.queue.contains(&holder));
    if !live || !st.tickets.contains_key(&key) {
        let region = resolve_region(cfg, [body.location.as_str()]);
        st.tickets.insert(key.clone(), Ticket { region, ended: None });
    }
    let outcome = st.allocate(cfg, title_id, holder, body.abort).map_err(|e| svc.pool_error(e))?;
    if let Outcome::Aborted = outcome {
        if let Some(t) = st.tickets.get_mut(&key) {
            t.ended = Some((TicketStatus::Aborted, "no free server and abortIfQueued was set".into()));
        }
    }
    let region = st.tickets[&key].region.clone();
    let machine = match outcome {
        Outcome::Fulfilled(i) => Some(&st.pools[&title_id].servers[i].machine),
        _ => None,
    };
    Ok(allocation_answer(cfg, &outcome, machine, &region))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn good() -> Value {
        json!({
            "serviceConfigId": "scid", "sandboxId": "XDKS.1", "ticketId": "t1", "gsiSetId": "g",
            "gameVariantId": "v", "location": "West", "maxAllowedPlayers": 8
        })
    }

    #[test]
    fn every_field_is_checked_by_name() {
        let parse = |v: &Value| parse_body(v.to_string().as_bytes());
        let b = parse(&good()).unwrap();
        assert_eq!((b.ticket_id.as_str(), b.location.as_str(), b.abort), ("t1", "West", false));
        for field in ["serviceConfigId", "sandboxId", "ticketId", "gsiSetId", "gameVariantId", "location"] {
            let mut v = good();
            v.as_object_mut().unwrap().remove(field);
            assert_eq!(parse(&v).err(), Some(format!("missing {field}")));
            v[field] = json!("");
            assert_eq!(parse(&v).err(), Some(format!("{field} is empty")));
            v[field] = json!(7);
            assert_eq!(parse(&v).err(), Some(format!("{field} must be a string")));
        }
        let mut v = good();
        v.as_object_mut().unwrap().remove("maxAllowedPlayers");
        assert_eq!(parse(&v).err().as_deref(), Some("missing maxAllowedPlayers"));
        for bad in [json!(0), json!(-1), json!(2.5), json!("8")] {
            v["maxAllowedPlayers"] = bad.clone();
            assert!(parse(&v).unwrap_err().contains("maxAllowedPlayers"), "{bad}");
        }
        let mut v = good();
        v["abortIfQueued"] = json!("TRUE");
        assert!(parse(&v).unwrap().abort);
        v["abortIfQueued"] = json!(1);
        assert!(parse(&v).unwrap_err().contains("abortIfQueued"));
    }
}
