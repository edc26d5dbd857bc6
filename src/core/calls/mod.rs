//! One module per call of the service: its request (validated once), its endpoint, its answer
//! model (decoded with the rules of `wire`) and, for calls that follow an allocation, its steps.

pub mod clusters;
