//! The key/value labs' test configurations on the simulator: Lab 2 (kvsrv/config.go)
//! and Lab 4 (kvraft/config.go), their clerks and their recorded histories.

pub mod chaos;
pub mod clerks;
pub mod history;
pub mod kvraft;
pub mod kvsrv;
pub mod rpc;
