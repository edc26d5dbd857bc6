//! One module per call of the service: its request (validated once), its endpoint, its answer
//! model (decoded with the rules of `wire`) and, for calls that follow an allocation, its steps.
//!
//! | call | module | host, contract |
//! |---|---|---|
//! | `POST /titles/{t}/clusters` | [`clusters`] | allocation, 1 |
//! | `POST /titles/{t}/inlineclusters` | [`inline_clusters`] | allocation, 2 |
//! | `GET /titles/{t}/tickets/{id}/status` | [`tickets`] | allocation, 6 |
//! | `POST /titles/{t}/variants` | [`variants`] | discovery, 1 |
//! | `GET /xplatqosservers`, `/qosservers` | [`qos_servers`] | discovery, 1 |
//! | `POST /titles/{t}/sessionhosts`, `GET .../sessions/{id}/allocationStatus` | [`session_hosts`] | allocation, 8 |

pub mod clusters;
pub mod inline_clusters;
pub mod qos_servers;
pub mod session_hosts;
pub mod tickets;
pub mod variants;
