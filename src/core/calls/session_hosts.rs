//! `POST /titles/{titleId}/sessionhosts` and `GET /titles/{titleId}/sessions/{sessionId}/allocationStatus`
//! (contract 8): a session host for a caller-chosen session id (the GSDK-era allocation).
//!
//! [`AllocateSessionHost`] POSTs; on a 409 (a request with this sessionId exists but its host is
//! not Active yet) or a Queued answer it polls allocation status until Fulfilled or Aborted. A 503
//! (no host is StandingBy) is retried under the retry policy by `send`, as every 503 is.

use serde::Serialize;

use super::clusters::{fulfillment_state, FulfillmentState};
use crate::core::call::{self, Call, Decode, Once, Step};
use crate::core::client::{CallOptions, Client};
use crate::core::error::InvalidArgument;
use crate::core::exchange::{CallInfo, Endpoint, HasInfo, Host};
use crate::core::validate;
use crate::core::wire::{self, PortMapping, DEFAULT_POLL_INTERVAL_MS};
use crate::core::Status;

/// Longest `sessionCookie` sent.
pub const MAX_SESSION_COOKIE_BYTES: usize = 32 * 1024;

/// The request (the Rust side of `gsms_session_host_request`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SessionHostRequest {
    #[serde(skip)]
    pub title_id: u32,
    pub session_id: String,
    pub cloud_game_id: String,
    pub locations: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_cookie: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub game_mode_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sandbox_id: Option<String>,
}

impl SessionHostRequest {
    pub fn new(title_id: u32) -> Self {
        SessionHostRequest { title_id, ..Default::default() }
    }

    pub fn set_session_id(&mut self, v: &str) -> Result<(), InvalidArgument> {
        validate::field("sessionId", v)?;
        self.session_id = v.to_string();
        Ok(())
    }

    pub fn set_cloud_game_id(&mut self, v: &str) -> Result<(), InvalidArgument> {
        validate::field("cloudGameId", v)?;
        self.cloud_game_id = v.to_string();
        Ok(())
    }

    pub fn add_location(&mut self, v: &str) -> Result<(), InvalidArgument> {
        validate::field("location", v)?;
        self.locations.push(v.to_string());
        Ok(())
    }

    /// An opaque string handed to the game server, at most 32 KiB.
    pub fn set_session_cookie(&mut self, v: &str) -> Result<(), InvalidArgument> {
        if v.len() > MAX_SESSION_COOKIE_BYTES {
            return Err(InvalidArgument(format!(
                "sessionCookie is {} bytes; at most {MAX_SESSION_COOKIE_BYTES} are allowed",
                v.len()
            )));
        }
        self.session_cookie = Some(v.to_string());
        Ok(())
    }

    pub fn set_game_mode_id(&mut self, v: &str) -> Result<(), InvalidArgument> {
        validate::field("gameModeId", v)?;
        self.game_mode_id = Some(v.to_string());
        Ok(())
    }

    pub fn set_sandbox_id(&mut self, v: &str) -> Result<(), InvalidArgument> {
        validate::field("sandboxId", v)?;
        self.sandbox_id = Some(v.to_string());
        Ok(())
    }

    pub fn validate(&self) -> Result<(), InvalidArgument> {
        validate::required("sessionId", "gsms_session_host_request_set_session_id", &self.session_id)?;
        validate::required("cloudGameId", "gsms_session_host_request_set_cloud_game_id", &self.cloud_game_id)?;
        if self.locations.is_empty() {
            return Err(InvalidArgument(
                "the request has no locations: call gsms_session_host_request_add_location at least once".into(),
            ));
        }
        Ok(())
    }

    pub fn endpoint(&self) -> Result<Endpoint, InvalidArgument> {
        self.validate()?;
        let body = serde_json::to_vec(self).expect("a request serializes");
        Ok(Endpoint::post(Host::Allocation, format!("/titles/{}/sessionhosts", self.title_id), "8", body))
    }
}

/// The endpoint of a session's allocation status; the session id is percent-encoded.
pub fn allocation_status_endpoint(title_id: u32, session_id: &str) -> Result<Endpoint, InvalidArgument> {
    validate::field("session_id", session_id)?;
    Ok(Endpoint::get(
        Host::Allocation,
        format!("/titles/{title_id}/sessions/{}/allocationStatus", wire::path_segment(session_id)),
        "8",
    ))
}

/// A session host answer or an allocation status (the Rust side of `gsms_session_host_result`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(default)]
pub struct SessionHostResult {
    #[serde(skip)]
    pub info: CallInfo,
    /// `fulfillmentState` (session hosts) or `status` (allocation status); see [`SessionHostResult::decode_kind`].
    #[serde(rename = "fulfillmentState", deserialize_with = "opt_state")]
    state_field: Option<FulfillmentState>,
    #[serde(rename = "status", deserialize_with = "opt_state")]
    status_field: Option<FulfillmentState>,
    #[serde(skip)]
    pub fulfillment_state: FulfillmentState,
    #[serde(rename = "pollIntervalMilliseconds", deserialize_with = "wire::interval")]
    pub poll_interval_ms: u32,
    #[serde(rename = "hostName", deserialize_with = "wire::text")]
    pub host_name: String,
    #[serde(rename = "portMappings", deserialize_with = "wire::ports")]
    pub ports: Vec<PortMapping>,
    #[serde(deserialize_with = "wire::text")]
    pub region: String,
    #[serde(rename = "secureContext", deserialize_with = "wire::text")]
    pub secure_context: String,
    #[serde(rename = "sessionHostId", deserialize_with = "wire::id_text")]
    pub session_host_id: String,
    #[serde(rename = "sessionId", deserialize_with = "wire::id_text")]
    pub session_id: String,
    #[serde(deserialize_with = "wire::text")]
    pub description: String,
    #[serde(rename = "clusterId", deserialize_with = "wire::id_text")]
    pub cluster_id: String,
    #[serde(rename = "ticketId", deserialize_with = "wire::id_text")]
    pub ticket_id: String,
    #[serde(rename = "gameHostId", deserialize_with = "wire::id_text")]
    pub game_host_id: String,
}
crate::impl_has_info!(SessionHostResult);

impl Default for SessionHostResult {
    fn default() -> Self {
        SessionHostResult {
            info: CallInfo::default(),
            state_field: None,
            status_field: None,
            fulfillment_state: FulfillmentState::Unknown,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            host_name: String::new(),
            ports: Vec::new(),
            region: String::new(),
            secure_context: String::new(),
            session_host_id: String::new(),
            session_id: String::new(),
            description: String::new(),
            cluster_id: String::new(),
            ticket_id: String::new(),
            game_host_id: String::new(),
        }
    }
}

fn opt_state<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<FulfillmentState>, D::Error> {
    fulfillment_state(d).map(Some)
}

/// Which answer a body is: they name the state differently.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// `POST .../sessionhosts`: a 200 without a state means Fulfilled (the reference page's answer
    /// carries none).
    SessionHost,
    /// `GET .../allocationStatus`: `status`, or `fulfillmentState` when `status` is absent.
    AllocationStatus,
}

impl SessionHostResult {
    fn decode_kind(body: &[u8], kind: Kind) -> Result<Self, String> {
        let mut r: SessionHostResult = call::decode_json(body)?;
        r.fulfillment_state = match kind {
            Kind::SessionHost => r.state_field.or(r.status_field).unwrap_or(FulfillmentState::Fulfilled),
            Kind::AllocationStatus => r.status_field.or(r.state_field).unwrap_or(FulfillmentState::Unknown),
        };
        Ok(r)
    }
}

impl Decode for SessionHostResult {
    /// As a `POST .../sessionhosts` answer.
    fn decode(body: &[u8]) -> Result<Self, String> {
        SessionHostResult::decode_kind(body, Kind::SessionHost)
    }
}

/// Decodes an allocation status answer (`status`, or `fulfillmentState` when `status` is absent;
/// neither: Unknown), as [`GetAllocationStatus`] does; [`Decode`] of [`SessionHostResult`] reads a
/// session host answer. Public for the fuzz targets and tests.
pub fn decode_allocation_status(body: &[u8]) -> Result<SessionHostResult, String> {
    StatusAnswer::decode(body).map(|a| a.0)
}

/// An allocation status answer, decoded with its own state rule; unwrapped by [`GetAllocationStatus`].
#[derive(Clone, Debug, Default, PartialEq, Eq)]
struct StatusAnswer(SessionHostResult);

impl HasInfo for StatusAnswer {
    fn info(&self) -> &CallInfo {
        &self.0.info
    }
    fn info_mut(&mut self) -> &mut CallInfo {
        &mut self.0.info
    }
}

impl Decode for StatusAnswer {
    fn decode(body: &[u8]) -> Result<Self, String> {
        SessionHostResult::decode_kind(body, Kind::AllocationStatus).map(StatusAnswer)
    }
}

/// One POST.
pub type CreateSessionHost = Once<SessionHostResult>;

pub fn create_session_host(req: &SessionHostRequest) -> CreateSessionHost {
    Once::checked(req.endpoint())
}

/// One allocation status GET.
pub struct GetAllocationStatus {
    endpoint: Option<Endpoint>,
    out: StatusAnswer,
}

impl GetAllocationStatus {
    pub fn new(title_id: u32, session_id: &str) -> GetAllocationStatus {
        match allocation_status_endpoint(title_id, session_id) {
            Ok(e) => GetAllocationStatus { endpoint: Some(e), out: StatusAnswer::default() },
            Err(e) => GetAllocationStatus {
                endpoint: None,
                out: StatusAnswer(SessionHostResult::failure(Status::InvalidArgument, e.0)),
            },
        }
    }
}

impl Call for GetAllocationStatus {
    type Output = SessionHostResult;
    fn step(&mut self, client: &Client, opts: &CallOptions<'_>) -> Step {
        if let Some(ep) = &self.endpoint {
            call::exchange(client, ep, opts, &mut self.out);
        }
        Step::Done
    }
    fn result(&self) -> &SessionHostResult {
        &self.out.0
    }
    fn result_mut(&mut self) -> &mut SessionHostResult {
        &mut self.out.0
    }
    fn endpoints(&self) -> Vec<&Endpoint> {
        self.endpoint.iter().collect()
    }
}

/// POST, then allocation status while 409 or Queued, until Fulfilled or Aborted.
pub struct AllocateSessionHost {
    post: Option<Endpoint>,
    status: Option<Endpoint>,
    out: SessionHostResult,
}

impl AllocateSessionHost {
    pub fn new(req: &SessionHostRequest) -> AllocateSessionHost {
        match req.endpoint().and_then(|p| Ok((p, allocation_status_endpoint(req.title_id, &req.session_id)?))) {
            Ok((post, status)) => {
                AllocateSessionHost { post: Some(post), status: Some(status), out: SessionHostResult::default() }
            }
            Err(e) => AllocateSessionHost {
                post: None,
                status: None,
                out: SessionHostResult::failure(Status::InvalidArgument, e.0),
            },
        }
    }
}

impl Call for AllocateSessionHost {
    type Output = SessionHostResult;
    fn step(&mut self, client: &Client, opts: &CallOptions<'_>) -> Step {
        if let Some(post) = self.post.take() {
            call::exchange(client, &post, opts, &mut self.out);
            // 409: the request exists but its host is not Active yet: follow it.
            if self.out.info.status == Status::HttpStatus && self.out.info.http_status == 409 {
                // Not Active yet is Queued, for the progress callback as for any answer.
                self.out.fulfillment_state = FulfillmentState::Queued;
                let info = &mut self.out.info;
                info.status = Status::Ok;
                info.error_message.clear();
                return Step::PollAfter(call::poll_wait(self.out.poll_interval_ms));
            }
        } else if let Some(ep) = &self.status {
            let mut s =
                StatusAnswer(SessionHostResult { info: std::mem::take(&mut self.out.info), ..Default::default() });
            call::exchange(client, ep, opts, &mut s);
            self.out = s.0;
        } else {
            return Step::Done;
        }
        if self.out.info.status == Status::Ok && self.out.fulfillment_state == FulfillmentState::Queued {
            Step::PollAfter(call::poll_wait(self.out.poll_interval_ms))
        } else {
            Step::Done
        }
    }
    fn result(&self) -> &SessionHostResult {
        &self.out
    }
    fn result_mut(&mut self) -> &mut SessionHostResult {
        &mut self.out
    }
    fn describe(&self) -> String {
        self.status.as_ref().map_or_else(String::new, |e| format!("session host {}", e.path))
    }
    fn endpoints(&self) -> Vec<&Endpoint> {
        self.post.iter().chain(&self.status).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req() -> SessionHostRequest {
        let mut r = SessionHostRequest::new(4);
        r.set_session_id("6f0c6c42-0000-4000-8000-000000000001").unwrap();
        r.set_cloud_game_id("gsi-1").unwrap();
        r.add_location("West US").unwrap();
        r
    }

    #[test]
    fn requests_name_what_is_missing_and_send_optional_fields_only_when_set() {
        assert!(SessionHostRequest::new(1).endpoint().unwrap_err().0.contains("sessionId"));
        let mut r = req();
        r.locations.clear();
        assert!(r.endpoint().unwrap_err().0.contains("locations"));
        let mut r = req();
        r.cloud_game_id.clear();
        assert!(r.endpoint().unwrap_err().0.contains("cloudGameId"));
        let ep = req().endpoint().unwrap();
        let v: serde_json::Value = serde_json::from_slice(ep.body.as_deref().unwrap()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"sessionId":"6f0c6c42-0000-4000-8000-000000000001","cloudGameId":"gsi-1","locations":["West US"]})
        );
        let mut r = req();
        assert!(r.set_session_cookie(&"c".repeat(MAX_SESSION_COOKIE_BYTES + 1)).is_err());
        r.set_session_cookie(&"c".repeat(MAX_SESSION_COOKIE_BYTES)).unwrap();
        r.set_game_mode_id("m").unwrap();
        let v: serde_json::Value = serde_json::from_slice(r.endpoint().unwrap().body.as_deref().unwrap()).unwrap();
        assert_eq!(v["gameModeId"], "m");
        assert_eq!(v["sessionCookie"].as_str().unwrap().len(), MAX_SESSION_COOKIE_BYTES);
        assert_eq!(
            allocation_status_endpoint(4, "a b/c").unwrap().path,
            "/titles/4/sessions/a%20b%2Fc/allocationStatus"
        );
    }

    #[test]
    fn a_session_host_without_a_state_is_fulfilled_and_status_wins_in_allocation_status() {
        let r = SessionHostResult::decode(br#"{"hostName":"h","sessionHostId":"sh1"}"#).unwrap();
        assert_eq!(r.fulfillment_state, FulfillmentState::Fulfilled);
        let r = SessionHostResult::decode(br#"{"fulfillmentState":"queued"}"#).unwrap();
        assert_eq!(r.fulfillment_state, FulfillmentState::Queued);
        let s = StatusAnswer::decode(br#"{"status":"Aborted","fulfillmentState":"Fulfilled"}"#).unwrap();
        assert_eq!(s.0.fulfillment_state, FulfillmentState::Aborted);
        let s = StatusAnswer::decode(br#"{"fulfillmentState":"Fulfilled"}"#).unwrap();
        assert_eq!(s.0.fulfillment_state, FulfillmentState::Fulfilled);
        let s = StatusAnswer::decode(br#"{"description":"x"}"#).unwrap();
        assert_eq!(s.0.fulfillment_state, FulfillmentState::Unknown);
    }
}
