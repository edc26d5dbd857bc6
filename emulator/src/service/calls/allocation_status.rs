//! `GET /titles/{titleId}/sessions/{sessionId}/allocationStatus` (contract 8): how a
//! session-host allocation stands. Queued while the host activates, Fulfilled once Active,
//! Aborted once released or aborted.

use std::time::Instant;

use super::session_hosts::host_fields;
use crate::http::Response;
use crate::json::Json;
use crate::service::Service;

pub(crate) fn handle(svc: &Service, title_id: u32, session_id: &str) -> Result<Json, Response> {
    let mut st = svc.lock();
    st.sweep_hosts(title_id);
    let key = (title_id, session_id.to_string());
    let Some(record) = st.sessions.get(&key) else {
        return Err(svc.err(404, &format!("no session {session_id:?} for title {title_id}")));
    };
    let answer = |status: &str| Json::obj().with("status", status);
    let Some(i) = st.host_of(title_id, session_id) else {
        let why = record.aborted.clone().unwrap_or_else(|| "the session host was released".into());
        return Ok(answer("Aborted")
            .with("sessionId", session_id)
            .with("description", why)
            .with("ticketId", &record.ticket_id));
    };
    let host = &st.host_pools[&title_id][i];
    let activating = host.claim.as_ref().is_some_and(|c| c.ready_at > Instant::now());
    let (status, description) = if activating {
        ("Queued", "the session host is activating")
    } else {
        ("Fulfilled", "the session host is Active")
    };
    Ok(host_fields(svc, answer(status), host, &record.region)
        .with("sessionId", session_id)
        .with("description", description)
        .with("clusterId", &host.machine.cluster_id)
        .with("ticketId", &record.ticket_id)
        .with("gameHostId", &host.machine.game_host_id))
}
