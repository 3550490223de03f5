//! Scenario scripts in packetdrill's syntax, run against the engine on virtual time.
//!
//! The script plays the remote peer: `<` lines are segments it injects into the
//! engine, `>` lines are segments it expects the engine to send, and system calls
//! drive the engine's user interface (RFC 9293 §3.10.1-6).

pub mod ast;
pub mod lexer;
pub mod parser;

pub use ast::*;
pub use parser::{parse, ParseError, ParseErrorKind};
