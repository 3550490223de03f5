//! TCP's connection lifecycle (RFC 9293 §3.3.2, §3.5, §3.10) as a stateright model.
//!
//! - [`endpoint::step`]: one endpoint's pure transition, the reference the
//!   engine is checked against;
//! - [`model::TcpModel`]: two endpoints, an unreliable network, explicit time,
//!   incarnations and crashes, with the properties;
//! - [`variant`]: the variants, each one design decision changed, and [`variant::Config`];
//! - [`generals::GeneralsModel`]: the two generals with K rounds of acknowledgement.

pub mod check;
pub mod diagram;
pub mod endpoint;
pub mod generals;
pub mod model;
pub mod network;
pub mod segment;
pub mod tcb;
pub mod variant;

pub use model::TcpModel;
pub use variant::{Config, ConfigError, Variant};
