//! `GET /titles/{titleId}/tickets/{ticketId}/status` (contract 6): where an inline cluster's
//! ticket stands. Note: Active, not Fulfilled.

use serde::Deserialize;

use crate::core::call::{self, Decode, Once};
use crate::core::exchange::{CallInfo, Endpoint, Host};
use crate::core::validate;
use crate::core::wire::{self, PortMapping};

/// A host's (or ticket's) status, numbered as `gsms_host_status`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum HostStatus {
    #[default]
    Unknown = 0,
    Active = 1,
    Queued = 2,
    Aborted = 3,
    Error = 4,
}

impl HostStatus {
    /// Case-insensitive; anything else is Unknown.
    pub fn parse(s: &str) -> HostStatus {
        match s.to_ascii_lowercase().as_str() {
            "active" => HostStatus::Active,
            "queued" => HostStatus::Queued,
            "aborted" => HostStatus::Aborted,
            "error" => HostStatus::Error,
            _ => HostStatus::Unknown,
        }
    }
}

fn host_status<'de, D: serde::Deserializer<'de>>(d: D) -> Result<HostStatus, D::Error> {
    Ok(wire::enum_text(d)?.map_or(HostStatus::Unknown, |s| HostStatus::parse(&s)))
}

/// The ticket status answer (the Rust side of `gsms_ticket_result`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TicketResult {
    #[serde(skip)]
    pub info: CallInfo,
    #[serde(rename = "ticketId", deserialize_with = "wire::id_text")]
    pub ticket_id: String,
    #[serde(rename = "clusterId", deserialize_with = "wire::id_text")]
    pub cluster_id: String,
    #[serde(rename = "titleId", deserialize_with = "wire::number_u32")]
    pub title_id: u32,
    #[serde(rename = "hostName", deserialize_with = "wire::text")]
    pub host_name: String,
    #[serde(deserialize_with = "host_status")]
    pub status: HostStatus,
    #[serde(deserialize_with = "wire::text")]
    pub description: String,
    #[serde(rename = "secureContext", deserialize_with = "wire::text")]
    pub secure_context: String,
    #[serde(rename = "portMappings", deserialize_with = "wire::ports")]
    pub ports: Vec<PortMapping>,
    #[serde(rename = "gameHostId", deserialize_with = "wire::id_text")]
    pub game_host_id: String,
    #[serde(deserialize_with = "wire::text")]
    pub region: String,
}
crate::impl_has_info!(TicketResult);

impl Decode for TicketResult {
    fn decode(body: &[u8]) -> Result<Self, String> {
        call::decode_json(body)
    }
}

/// The endpoint of a ticket's status; the ticket id is percent-encoded.
pub fn endpoint(title_id: u32, ticket_id: &str) -> Result<Endpoint, crate::core::InvalidArgument> {
    validate::field("ticket_id", ticket_id)?;
    Ok(Endpoint::get(
        Host::Allocation,
        format!("/titles/{title_id}/tickets/{}/status", wire::path_segment(ticket_id)),
        "6",
    ))
}

/// One GET of a ticket's status.
pub type GetTicketStatus = Once<TicketResult>;

/// The call for `title_id` and `ticket_id` (an invalid id gives a call that ends at once with
/// InvalidArgument).
pub fn get_ticket_status(title_id: u32, ticket_id: &str) -> GetTicketStatus {
    Once::checked(endpoint(title_id, ticket_id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticket_answers_are_read_tolerantly() {
        let t = TicketResult::decode(
            br#"{"ticketId":"t1","clusterId":77,"titleId":"123","hostName":"h","status":"ACTIVE",
                 "portMappings":{"Key":"x"},"gameHostId":"g","region":"r","extra":[1]}"#,
        )
        .unwrap();
        assert_eq!(t.status, HostStatus::Active);
        assert_eq!(t.cluster_id, "77");
        assert_eq!(t.title_id, 123);
        assert!(t.ports.is_empty(), "an object in place of the array reads as no ports");
        assert_eq!(TicketResult::decode(br#"{"status":"error","titleId":"x"}"#).unwrap().status, HostStatus::Error);
        assert_eq!(TicketResult::decode(br#"{"status":"weird"}"#).unwrap().status, HostStatus::Unknown);
        assert_eq!(TicketResult::decode(br#"{"titleId":"x"}"#).unwrap().title_id, 0);
    }

    #[test]
    fn ticket_ids_are_percent_encoded() {
        assert_eq!(endpoint(5, "a/b c").unwrap().path, "/titles/5/tickets/a%2Fb%20c/status");
        assert!(endpoint(5, "").is_err());
        assert!(endpoint(5, "a\nb").is_err());
    }
}
