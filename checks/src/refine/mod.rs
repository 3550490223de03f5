//! The engine held against the model (issue 5).
//!
//! - [`reference`]: the model's state and transition function (the model
//!   crate's own `TcpModel::next_state`), and the transitions drawn from it;
//! - [`system`]: the system under test, two engines on a simulated network
//!   that carries their real bytes;
//! - [`abstraction`]: the abstraction function from an engine's TCB and
//!   segments to the model's, with the model's deliberate abstractions;
//! - [`harness`]: both in lock step, compared after every step;
//! - [`artifacts`]: a failing case written out as JSON, pcap and a diagram;
//! - [`replay`]: a variant's counterexample replayed on the engine.

pub mod abstraction;
pub mod artifacts;
pub mod harness;
pub mod known;
pub mod reference;
pub mod replay;
pub mod system;

pub use harness::{Divergence, Harness};
pub use reference::{RefState, Step, Wire};
pub use replay::{replay_variant, ReplayError, ReplayReport};
pub use system::{System, TICK};
