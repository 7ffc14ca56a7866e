//! The real driver (work in progress).
pub mod resp;
pub mod storage;
