//! `GET /titles/{titleId}/tickets/{ticketId}/status` (contract 6): how an inline-clusters
//! ticket stands. Active (not Fulfilled), Queued, Aborted or Error.

use super::port_mappings;
use crate::http::Response;
use crate::json::Json;
use crate::service::Service;

pub(crate) fn handle(svc: &Service, title_id: u32, ticket_id: &str) -> Result<Json, Response> {
    let cfg = &svc.settings;
    let mut st = svc.lock();
    st.sweep(title_id, cfg.server_lifetime);
    let Some((status, server, description)) = st.ticket_status(title_id, ticket_id) else {
        return Err(svc.err(404, &format!("no ticket {ticket_id:?} for title {title_id}")));
    };
    let region = st.tickets[&(title_id, ticket_id.to_string())].region.clone();
    let machine = server.map(|i| &st.pools[&title_id].servers[i].machine);
    let mut answer = Json::obj()
        .with("ticketId", ticket_id)
        .with_opt("clusterId", machine.map(|m| m.cluster_id.clone()))
        .with("titleId", title_id)
        .with_opt("hostName", machine.map(|_| cfg.host_name.clone()))
        .with("status", status.as_str())
        .with("description", description);
    if let Some(m) = machine {
        answer = answer
            .with("secureContext", &m.secure_context)
            .with("portMappings", port_mappings(m))
            .with("gameHostId", &m.game_host_id);
    }
    Ok(answer.with("region", region))
}
