//! `POST /titles/{titleId}/clusters` (contract 1): a server for an MPSD session.
//!
//! [`CreateCluster`] sends it once; [`AllocateCluster`] sends it again (same sessionId) at the
//! answer's poll interval while the answer is Queued, until Fulfilled or Aborted.

use serde::Deserialize;

use crate::core::call::{self, Call, Decode, Once, Step};
use crate::core::client::{CallOptions, Client};
use crate::core::error::InvalidArgument;
use crate::core::exchange::{CallInfo, Endpoint, Host};
use crate::core::wire::{self, PortMapping, DEFAULT_POLL_INTERVAL_MS};
use crate::core::Status;

/// Where an allocation stands (numbered as `gsms_fulfillment_state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum FulfillmentState {
    #[default]
    Unknown = 0,
    Fulfilled = 1,
    Queued = 2,
    Aborted = 3,
}

impl FulfillmentState {
    /// Case-insensitive; anything else is Unknown.
    pub fn parse(s: &str) -> FulfillmentState {
        if s.eq_ignore_ascii_case("fulfilled") {
            FulfillmentState::Fulfilled
        } else if s.eq_ignore_ascii_case("queued") {
            FulfillmentState::Queued
        } else if s.eq_ignore_ascii_case("aborted") {
            FulfillmentState::Aborted
        } else {
            FulfillmentState::Unknown
        }
    }
}

/// `fulfillmentState` as the wire sends it (any case; a non-string is Unknown).
pub fn fulfillment_state<'de, D: serde::Deserializer<'de>>(d: D) -> Result<FulfillmentState, D::Error> {
    Ok(wire::enum_text(d)?.map_or(FulfillmentState::Unknown, |s| FulfillmentState::parse(&s)))
}

/// The request (the Rust side of `gsms_cluster_request`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ClusterRequest {
    pub title_id: u32,
    pub session_id: String,
    pub abort_if_queued: bool,
}

fn segment(what: &str, v: &str) -> Result<(), InvalidArgument> {
    if v.is_empty() {
        return Err(InvalidArgument(format!("{what} must not be empty")));
    }
    if v.contains('/') || v.chars().any(char::is_control) {
        return Err(InvalidArgument(format!("{what} must not contain '/' or control characters")));
    }
    Ok(())
}

impl ClusterRequest {
    pub fn new(title_id: u32) -> Self {
        ClusterRequest { title_id, ..Default::default() }
    }

    pub fn set_session_id(&mut self, session_id: &str) -> Result<(), InvalidArgument> {
        if session_id.is_empty() {
            return Err(InvalidArgument("session id must not be empty".into()));
        }
        if session_id.chars().any(char::is_control) {
            return Err(InvalidArgument("session id must not contain control characters".into()));
        }
        self.session_id = session_id.to_string();
        Ok(())
    }

    /// Builds `/serviceconfigs/<scid>/sessionTemplates/<template>/sessions/<name>` (XSAPI's spelling).
    pub fn set_session(&mut self, scid: &str, template: &str, name: &str) -> Result<(), InvalidArgument> {
        segment("scid", scid)?;
        segment("session template name", template)?;
        segment("session name", name)?;
        self.session_id = format!("/serviceconfigs/{scid}/sessionTemplates/{template}/sessions/{name}");
        Ok(())
    }

    /// Checks that the request can be sent.
    pub fn validate(&self) -> Result<(), InvalidArgument> {
        if self.session_id.is_empty() {
            return Err(InvalidArgument(
                "the request has no session id: call gsms_cluster_request_set_session_id or _set_session".into(),
            ));
        }
        Ok(())
    }

    pub fn path(&self) -> String {
        format!("/titles/{}/clusters", self.title_id)
    }

    /// `{"sessionId":"...","abortIfQueued":true}`; abortIfQueued is left out unless set (as XSAPI does).
    pub fn body(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.session_id.len() + 48);
        out.extend_from_slice(b"{\"sessionId\":");
        serde_json::to_writer(&mut out, &self.session_id).expect("writing a string to a Vec cannot fail");
        if self.abort_if_queued {
            out.extend_from_slice(b",\"abortIfQueued\":true");
        }
        out.push(b'}');
        out
    }

    pub fn endpoint(&self) -> Endpoint {
        Endpoint::post(Host::Allocation, self.path(), "1", self.body())
    }
}

/// The answer, as the wire sends it and as the caller reads it (the Rust side of
/// `gsms_cluster_result`): where the server is, and the exchange details in `info`.
/// Inline clusters and ticket status (followed to the end) produce this result too.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct ClusterResult {
    #[serde(skip)]
    pub info: CallInfo,
    #[serde(rename = "fulfillmentState", deserialize_with = "fulfillment_state")]
    pub fulfillment_state: FulfillmentState,
    #[serde(rename = "pollIntervalMilliseconds", deserialize_with = "wire::interval")]
    pub poll_interval_ms: u32,
    #[serde(rename = "hostName", deserialize_with = "wire::text")]
    pub host_name: String,
    #[serde(deserialize_with = "wire::text")]
    pub region: String,
    #[serde(rename = "secureContext", deserialize_with = "wire::text")]
    pub secure_context: String,
    #[serde(rename = "portMappings", deserialize_with = "wire::ports")]
    pub ports: Vec<PortMapping>,
}
crate::impl_has_info!(ClusterResult);

impl Default for ClusterResult {
    fn default() -> Self {
        ClusterResult {
            info: CallInfo::default(),
            fulfillment_state: FulfillmentState::Unknown,
            poll_interval_ms: DEFAULT_POLL_INTERVAL_MS,
            host_name: String::new(),
            region: String::new(),
            secure_context: String::new(),
            ports: Vec::new(),
        }
    }
}

impl Decode for ClusterResult {
    fn decode(body: &[u8]) -> Result<Self, String> {
        call::decode_json(body)
    }
}

/// One POST, retried per the policy.
pub struct CreateCluster(Once<ClusterResult>);

impl CreateCluster {
    /// Validates `req` now: an invalid request gives a call that ends at once with
    /// `InvalidArgument`, sending nothing.
    pub fn new(req: &ClusterRequest) -> CreateCluster {
        CreateCluster(match req.validate() {
            Ok(()) => Once::new(req.endpoint()),
            Err(e) => Once::failed(Status::InvalidArgument, e.0),
        })
    }
}

impl Call for CreateCluster {
    type Output = ClusterResult;
    fn step(&mut self, client: &Client, opts: &CallOptions<'_>) -> Step {
        self.0.step(client, opts)
    }
    fn result(&self) -> &ClusterResult {
        self.0.result()
    }
    fn result_mut(&mut self) -> &mut ClusterResult {
        self.0.result_mut()
    }
    fn endpoints(&self) -> Vec<&Endpoint> {
        self.0.endpoints()
    }
}

/// POST, then while Queued POST again (same sessionId) at the poll interval until Fulfilled,
/// Aborted, an unrecognised state (not polled: GSMS_OK with state Unknown), an error, the
/// deadline or cancellation.
pub struct AllocateCluster {
    endpoint: Option<Endpoint>,
    out: ClusterResult,
}

impl AllocateCluster {
    pub fn new(req: &ClusterRequest) -> AllocateCluster {
        match req.validate() {
            Ok(()) => AllocateCluster { endpoint: Some(req.endpoint()), out: ClusterResult::default() },
            Err(e) => AllocateCluster { endpoint: None, out: ClusterResult::failure(Status::InvalidArgument, e.0) },
        }
    }
}

use crate::core::exchange::HasInfo as _;

impl Call for AllocateCluster {
    type Output = ClusterResult;
    fn step(&mut self, client: &Client, opts: &CallOptions<'_>) -> Step {
        let Some(ep) = &self.endpoint else { return Step::Done };
        call::exchange(client, ep, opts, &mut self.out);
        if self.out.info.status == Status::Ok && self.out.fulfillment_state == FulfillmentState::Queued {
            Step::PollAfter(call::poll_wait(self.out.poll_interval_ms))
        } else {
            Step::Done
        }
    }
    fn result(&self) -> &ClusterResult {
        &self.out
    }
    fn result_mut(&mut self) -> &mut ClusterResult {
        &mut self.out
    }
    fn describe(&self) -> String {
        self.endpoint.as_ref().map_or_else(String::new, |e| format!("POST {}", e.path))
    }
    fn endpoints(&self) -> Vec<&Endpoint> {
        self.endpoint.iter().collect()
    }
}

/// Blocking conveniences for Rust callers (the C layer and the runtime drive the calls above).
impl Client {
    /// One POST, retried per the policy. The status is in `result.status`.
    pub fn create_cluster(&self, req: &ClusterRequest, opts: &CallOptions<'_>) -> ClusterResult {
        call::run(CreateCluster::new(req), self, opts)
    }

    /// POST, then follow Queued answers (see [`AllocateCluster`]).
    pub fn allocate_cluster(&self, req: &ClusterRequest, opts: &CallOptions<'_>) -> ClusterResult {
        call::run(AllocateCluster::new(req), self, opts)
    }

    /// As [`Client::allocate_cluster`], calling `on_progress` with each Queued answer.
    pub fn allocate_cluster_with_progress(
        &self,
        req: &ClusterRequest,
        opts: &CallOptions<'_>,
        on_progress: &mut dyn FnMut(&ClusterResult),
    ) -> ClusterResult {
        call::run_with_progress(AllocateCluster::new(req), self, opts, on_progress)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The peer's recorded fulfilled answer (docs/PROTOCOL.md).
    const PEER_FULFILLED: &str = r#"{
        "pollIntervalMilliseconds": "60000",
        "fulfillmentState": "Fulfilled",
        "hostName": "gs-westus-042.cloudapp.net",
        "region": "WestUS",
        "portMappings": [
            {"Key": "GameData", "Value": {"internal": 7777, "external": 31000}},
            {"Key": "RDP", "Value": {"internal": 3389, "external": 3389}}
        ]
    }"#;

    fn parse(body: &[u8]) -> Result<ClusterResult, String> {
        ClusterResult::decode(body)
    }

    #[test]
    fn peer_fulfilled_vector_parses() {
        let a = parse(PEER_FULFILLED.as_bytes()).unwrap();
        assert_eq!(a.fulfillment_state, FulfillmentState::Fulfilled);
        assert_eq!(a.poll_interval_ms, 60000);
        assert_eq!(a.host_name, "gs-westus-042.cloudapp.net");
        assert_eq!(a.region, "WestUS");
        assert_eq!(a.secure_context, "");
        assert_eq!(
            a.ports,
            vec![
                PortMapping { name: "GameData".into(), internal: 7777, external: 31000 },
                PortMapping { name: "RDP".into(), internal: 3389, external: 3389 },
            ]
        );
    }

    #[test]
    fn doc_sample_parses_each_state() {
        for (s, want) in [
            ("Fulfilled", FulfillmentState::Fulfilled),
            ("Queued", FulfillmentState::Queued),
            ("Aborted", FulfillmentState::Aborted),
            ("queued", FulfillmentState::Queued),
            ("ABORTED", FulfillmentState::Aborted),
            ("Pending", FulfillmentState::Unknown),
        ] {
            let body = format!(r#"{{ "pollIntervalMilliseconds" : "1000", "fulfillmentState" : "{s}" }}"#);
            let a = parse(body.as_bytes()).unwrap();
            assert_eq!(a.fulfillment_state, want, "{s}");
            assert_eq!(a.poll_interval_ms, 1000);
        }
        assert_eq!(parse(b"{}").unwrap().poll_interval_ms, 1000);
    }

    #[test]
    fn numbers_serde_cannot_hold_do_not_break_the_answer() {
        let a =
            parse(br#"{"fulfillmentState":1e400,"pollIntervalMilliseconds":1e400,"x":-1e400,"hostName":"h"}"#).unwrap();
        assert_eq!(a.fulfillment_state, FulfillmentState::Unknown);
        assert_eq!(a.poll_interval_ms, DEFAULT_POLL_INTERVAL_MS);
        assert_eq!(a.host_name, "h");
    }

    #[test]
    fn unknown_fields_are_ignored_and_missing_state_is_unknown() {
        let a = parse(br#"{"x":[1,{"y":null}],"fulfillmentState":7,"region":null}"#).unwrap();
        assert_eq!(a.fulfillment_state, FulfillmentState::Unknown);
        assert_eq!(a.region, "");
    }

    #[test]
    fn non_objects_and_bad_bytes_are_protocol_errors() {
        for bad in [
            &b""[..],
            b"[]",
            b"\"Fulfilled\"",
            b"null",
            b"{\"hostName\":5}",
            b"{\"hostName\":\"a\\u0000b\"}",
            b"{\"hostName\":\"\xff\"}",
            b"{\"a\":1",
            b"<html>",
            b"{\"a\":1}trailing",
        ] {
            assert!(parse(bad).is_err(), "{:?}", String::from_utf8_lossy(bad));
        }
        let bomb = "[".repeat(100_000);
        let body = format!("{{\"x\":{bomb}");
        assert!(parse(body.as_bytes()).is_err());
    }

    #[test]
    fn body_escapes_and_leaves_out_abort_flag_unless_set() {
        let mut r = ClusterRequest::new(7);
        r.set_session_id("/serviceconfigs/a/sessionTemplates/q/sessions/\"x\"").unwrap();
        assert_eq!(
            String::from_utf8(r.body()).unwrap(),
            r#"{"sessionId":"/serviceconfigs/a/sessionTemplates/q/sessions/\"x\""}"#
        );
        r.abort_if_queued = true;
        let v: serde_json::Value = serde_json::from_slice(&r.body()).unwrap();
        assert_eq!(v["abortIfQueued"], serde_json::Value::Bool(true));
        assert_eq!(r.path(), "/titles/7/clusters");
    }

    #[test]
    fn session_parts_are_checked() {
        let mut r = ClusterRequest::new(1);
        r.set_session("scid", "quick", "match1").unwrap();
        assert_eq!(r.session_id, "/serviceconfigs/scid/sessionTemplates/quick/sessions/match1");
        assert!(r.set_session("", "q", "n").is_err());
        assert!(r.set_session("a/b", "q", "n").is_err());
        assert!(r.set_session_id("").is_err());
        assert!(r.set_session_id("a\nb").is_err());
        assert!(ClusterRequest::new(1).validate().is_err());
    }
}
