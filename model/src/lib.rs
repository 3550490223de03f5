//! TCP's connection lifecycle (RFC 9293 §3.3.2, §3.5, §3.10) as a stateright model.

pub mod check;
pub mod diagram;
pub mod endpoint;
pub mod segment;
pub mod tcb;
