//! Events the connection reports to the application (RFC 9293 §3.9.1.8, the
//! "signals" of §3.10), drained with `Connection::poll_event`.

/// Why a connection was reset.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ResetReason {
    /// The peer sent an acceptable RST while the connection was synchronized.
    ByPeer,
    /// Our SYN was answered by a RST: the active open was refused.
    Refused,
    /// The application called ABORT.
    Aborted,
}

/// Which timer gave up on the connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TimeoutKind {
    /// A SYN (or SYN,ACK of an active open) reached its R2 threshold (MUST-22/23).
    Syn,
    /// A data or FIN segment reached its R2 threshold (MUST-20).
    Retransmission,
    /// Keep-alive probes went unanswered (MUST-29: only after several).
    KeepAlive,
    /// FIN-WAIT-2 lasted longer than the configured timeout.
    FinWait2,
}

/// How a connection ended, so the application can tell a normal close from an
/// abort (MUST-12).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ended {
    /// Both FINs were exchanged and acknowledged.
    Graceful,
    /// A RST ended it (sent by the peer, refused, or a local ABORT).
    Reset(ResetReason),
    /// A timer gave up on it.
    TimedOut(TimeoutKind),
}

/// Something the application may want to act on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Event {
    /// The three-way handshake completed: ESTABLISHED.
    Connected,
    /// Data is waiting in the receive buffer.
    Readable,
    /// Room opened in the send buffer.
    Writable,
    /// The peer sent FIN: no more data will arrive after what is buffered.
    PeerClosed,
    /// The peer's urgent pointer advanced (MUST-32); `Status::urgent_pending`
    /// says how much urgent data remains (MUST-33).
    Urgent,
    /// A segment has been retransmitted R1 times: the path may be failing
    /// (SHLD-9). The connection keeps trying until R2.
    RetransmissionWarning,
    /// The connection was reset.
    Reset(ResetReason),
    /// The connection gave up.
    TimedOut(TimeoutKind),
    /// The TCB is gone (CLOSED), and how it ended. Always the last event.
    Closed(Ended),
}
