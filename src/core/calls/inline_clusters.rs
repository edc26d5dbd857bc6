//! `POST /titles/{titleId}/inlineclusters` (contract 2): a server without MPSD, for a ticket.
//!
//! [`CreateInlineCluster`] sends it once. [`AllocateInlineCluster`] sends it, then while the answer
//! is Queued follows the ticket's status (same ticketId) at the answer's poll interval until
//! Active (Fulfilled), Aborted or Error (`AllocationFailed`). The answer has the clusters answer's
//! shape, so both end with a [`ClusterResult`].

use serde::Serialize;

use super::clusters::{ClusterResult, FulfillmentState};
use super::tickets::{self, HostStatus, TicketResult};
use crate::core::call::{self, Call, Once, Step};
use crate::core::client::{CallOptions, Client};
use crate::core::error::InvalidArgument;
use crate::core::exchange::{CallInfo, Endpoint, HasInfo, Host};
use crate::core::validate;
use crate::core::Status;

/// The request (the Rust side of `gsms_inline_cluster_request`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InlineClusterRequest {
    #[serde(skip)]
    pub title_id: u32,
    pub service_config_id: String,
    pub sandbox_id: String,
    pub ticket_id: String,
    pub gsi_set_id: String,
    pub game_variant_id: String,
    pub location: String,
    /// 0 until set (then refused by `validate`).
    pub max_allowed_players: u32,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub abort_if_queued: bool,
}

impl InlineClusterRequest {
    pub fn new(title_id: u32) -> Self {
        InlineClusterRequest { title_id, ..Default::default() }
    }

    /// Sets one of the text fields, checked (non-empty, no control characters).
    pub fn set(&mut self, field: InlineField, value: &str) -> Result<(), InvalidArgument> {
        validate::field(field.wire_name(), value)?;
        *self.field_mut(field) = value.to_string();
        Ok(())
    }

    pub fn set_max_allowed_players(&mut self, n: u32) -> Result<(), InvalidArgument> {
        if n == 0 {
            return Err(InvalidArgument("maxAllowedPlayers must be at least 1".into()));
        }
        self.max_allowed_players = n;
        Ok(())
    }

    fn field_mut(&mut self, f: InlineField) -> &mut String {
        match f {
            InlineField::ServiceConfigId => &mut self.service_config_id,
            InlineField::SandboxId => &mut self.sandbox_id,
            InlineField::TicketId => &mut self.ticket_id,
            InlineField::GsiSetId => &mut self.gsi_set_id,
            InlineField::GameVariantId => &mut self.game_variant_id,
            InlineField::Location => &mut self.location,
        }
    }

    /// Every required field is set.
    pub fn validate(&self) -> Result<(), InvalidArgument> {
        for f in InlineField::ALL {
            let v = match f {
                InlineField::ServiceConfigId => &self.service_config_id,
                InlineField::SandboxId => &self.sandbox_id,
                InlineField::TicketId => &self.ticket_id,
                InlineField::GsiSetId => &self.gsi_set_id,
                InlineField::GameVariantId => &self.game_variant_id,
                InlineField::Location => &self.location,
            };
            validate::required(f.wire_name(), f.setter(), v)?;
        }
        if self.max_allowed_players == 0 {
            return Err(InvalidArgument(
                "the request has no maxAllowedPlayers: call gsms_inline_cluster_request_set_max_allowed_players".into(),
            ));
        }
        Ok(())
    }

    pub fn endpoint(&self) -> Result<Endpoint, InvalidArgument> {
        self.validate()?;
        let body = serde_json::to_vec(self).expect("a request serializes");
        Ok(Endpoint::post(Host::Allocation, format!("/titles/{}/inlineclusters", self.title_id), "2", body))
    }
}

/// The text fields of an inline cluster request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InlineField {
    ServiceConfigId,
    SandboxId,
    TicketId,
    GsiSetId,
    GameVariantId,
    Location,
}

impl InlineField {
    pub const ALL: [InlineField; 6] = [
        InlineField::ServiceConfigId,
        InlineField::SandboxId,
        InlineField::TicketId,
        InlineField::GsiSetId,
        InlineField::GameVariantId,
        InlineField::Location,
    ];

    pub fn wire_name(self) -> &'static str {
        match self {
            InlineField::ServiceConfigId => "serviceConfigId",
            InlineField::SandboxId => "sandboxId",
            InlineField::TicketId => "ticketId",
            InlineField::GsiSetId => "gsiSetId",
            InlineField::GameVariantId => "gameVariantId",
            InlineField::Location => "location",
        }
    }

    fn setter(self) -> &'static str {
        match self {
            InlineField::ServiceConfigId => "gsms_inline_cluster_request_set_service_config_id",
            InlineField::SandboxId => "gsms_inline_cluster_request_set_sandbox_id",
            InlineField::TicketId => "gsms_inline_cluster_request_set_ticket_id",
            InlineField::GsiSetId => "gsms_inline_cluster_request_set_gsi_set_id",
            InlineField::GameVariantId => "gsms_inline_cluster_request_set_game_variant_id",
            InlineField::Location => "gsms_inline_cluster_request_set_location",
        }
    }
}

/// One POST.
pub type CreateInlineCluster = Once<ClusterResult>;

pub fn create_inline_cluster(req: &InlineClusterRequest) -> CreateInlineCluster {
    Once::checked(req.endpoint())
}

/// POST, then ticket status while Queued, until Active, Aborted or Error.
pub struct AllocateInlineCluster {
    post: Option<Endpoint>,
    status: Option<Endpoint>,
    out: ClusterResult,
}

impl AllocateInlineCluster {
    pub fn new(req: &InlineClusterRequest) -> AllocateInlineCluster {
        match req.endpoint().and_then(|p| Ok((p, tickets::endpoint(req.title_id, &req.ticket_id)?))) {
            Ok((post, status)) => {
                AllocateInlineCluster { post: Some(post), status: Some(status), out: ClusterResult::default() }
            }
            Err(e) => AllocateInlineCluster {
                post: None,
                status: None,
                out: ClusterResult::failure(Status::InvalidArgument, e.0),
            },
        }
    }

    /// Folds a ticket status answer into the allocation's result: Active is Fulfilled, Error ends
    /// the call with AllocationFailed.
    fn apply_ticket(&mut self, t: TicketResult) {
        let info = std::mem::take(&mut self.out.info);
        let poll = self.out.poll_interval_ms;
        let state = match t.status {
            HostStatus::Active => FulfillmentState::Fulfilled,
            HostStatus::Queued => FulfillmentState::Queued,
            HostStatus::Aborted => FulfillmentState::Aborted,
            HostStatus::Error | HostStatus::Unknown => FulfillmentState::Unknown,
        };
        self.out = ClusterResult {
            info: CallInfo { ..info },
            fulfillment_state: state,
            poll_interval_ms: poll,
            host_name: t.host_name,
            region: t.region,
            secure_context: t.secure_context,
            ports: t.ports,
        };
        if t.status == HostStatus::Error {
            let why = if t.description.is_empty() { "no description".to_string() } else { t.description };
            self.out.info.fail(Status::AllocationFailed, format!("the ticket's status is Error: {why}"));
        }
    }
}

impl Call for AllocateInlineCluster {
    type Output = ClusterResult;
    fn step(&mut self, client: &Client, opts: &CallOptions<'_>) -> Step {
        let Some(post) = self.post.take() else {
            // Following: one ticket status GET.
            let Some(ep) = &self.status else { return Step::Done };
            let mut t = TicketResult { info: std::mem::take(&mut self.out.info), ..Default::default() };
            call::exchange(client, ep, opts, &mut t);
            if t.info.status != Status::Ok {
                self.out.info = t.info;
                return Step::Done;
            }
            self.out.info = std::mem::take(&mut t.info);
            self.apply_ticket(t);
            return self.next();
        };
        call::exchange(client, &post, opts, &mut self.out);
        self.next()
    }
    fn result(&self) -> &ClusterResult {
        &self.out
    }
    fn result_mut(&mut self) -> &mut ClusterResult {
        &mut self.out
    }
    fn describe(&self) -> String {
        self.status.as_ref().map_or_else(String::new, |e| format!("ticket {}", e.path))
    }
    fn endpoints(&self) -> Vec<&Endpoint> {
        self.post.iter().chain(&self.status).collect()
    }
}

impl AllocateInlineCluster {
    fn next(&self) -> Step {
        if self.out.info.status == Status::Ok && self.out.fulfillment_state == FulfillmentState::Queued {
            Step::PollAfter(call::poll_wait(self.out.poll_interval_ms))
        } else {
            Step::Done
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn full() -> InlineClusterRequest {
        let mut r = InlineClusterRequest::new(9);
        for f in InlineField::ALL {
            r.set(f, &format!("v-{}", f.wire_name())).unwrap();
        }
        r.set_max_allowed_players(8).unwrap();
        r
    }

    #[test]
    fn every_required_field_is_named_when_missing() {
        for missing in InlineField::ALL {
            let mut r = InlineClusterRequest::new(9);
            for f in InlineField::ALL.into_iter().filter(|f| *f != missing) {
                r.set(f, "x").unwrap();
            }
            r.set_max_allowed_players(2).unwrap();
            let e = r.endpoint().unwrap_err();
            assert!(e.0.contains(missing.wire_name()), "{}", e.0);
            // And says which C setter gives it.
            let snake: String = missing
                .wire_name()
                .chars()
                .flat_map(|c| if c.is_ascii_uppercase() { vec!['_', c.to_ascii_lowercase()] } else { vec![c] })
                .collect();
            let setter = format!("gsms_inline_cluster_request_set_{snake}");
            assert!(e.0.contains(&setter), "{} (expected {setter})", e.0);
        }
        let mut r = full();
        r.max_allowed_players = 0;
        assert!(r.endpoint().unwrap_err().0.contains("maxAllowedPlayers"));
        assert!(full().set(InlineField::Location, "").is_err());
        assert!(full().set(InlineField::TicketId, "a\rb").is_err());
        assert!(full().set_max_allowed_players(0).is_err());
    }

    #[test]
    fn body_is_the_documented_json() {
        let mut r = full();
        let ep = r.endpoint().unwrap();
        assert_eq!(ep.path, "/titles/9/inlineclusters");
        assert_eq!(ep.contract, "2");
        let v: serde_json::Value = serde_json::from_slice(ep.body.as_deref().unwrap()).unwrap();
        assert_eq!(v["ticketId"], "v-ticketId");
        assert_eq!(v["maxAllowedPlayers"], 8);
        assert!(v.get("abortIfQueued").is_none(), "sent only when set");
        r.abort_if_queued = true;
        let v: serde_json::Value = serde_json::from_slice(r.endpoint().unwrap().body.as_deref().unwrap()).unwrap();
        assert_eq!(v["abortIfQueued"], true);
        assert_eq!(v.as_object().unwrap().len(), 8);
    }
}
