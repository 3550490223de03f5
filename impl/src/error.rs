//! Errors returned by the user calls of RFC 9293 §3.10.1-6.
//!
//! Each variant stands for one of the "error: ..." responses of §3.10, worded in
//! our own terms, plus the few conditions the sans-IO interface adds (a bad
//! configuration, a tuple mixing address families).

/// A user call the connection refused, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, thiserror::Error)]
pub enum Error {
    /// The call needs a connection, but there is none (the TCB is CLOSED).
    #[error("connection does not exist")]
    ConnectionDoesNotExist,
    /// OPEN on a connection that is already open (any state but CLOSED/LISTEN).
    #[error("connection already exists")]
    ConnectionAlreadyExists,
    /// The local side has already closed for sending, or the peer has closed
    /// and no data is left to read (§3.10.2-4).
    #[error("connection closing")]
    ConnectionClosing,
    /// The connection was reset (by the peer, or aborted locally).
    #[error("connection reset")]
    ConnectionReset,
    /// The active open was refused: a RST answered our SYN.
    #[error("connection refused")]
    ConnectionRefused,
    /// The connection gave up after too many retransmissions, or keep-alives
    /// went unanswered (RFC 9293 §3.8.3, MUST-20).
    #[error("connection timed out")]
    TimedOut,
    /// An active OPEN (or a SEND on a listener) needs a remote socket.
    #[error("remote socket unspecified")]
    RemoteUnspecified,
    /// The send buffer is full: nothing of the data could be queued.
    #[error("insufficient resources: send buffer full")]
    InsufficientResources,
    /// Local and remote addresses are from different IP families.
    #[error("local and remote addresses are of different IP families")]
    AddressFamilyMismatch,
    /// A configuration value is out of its allowed range; the text names it.
    #[error("invalid configuration: {0}")]
    InvalidConfig(&'static str),
}
