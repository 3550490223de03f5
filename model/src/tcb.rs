//! The abstract transmission control block (RFC 9293 §3.3.1) and the eleven
//! connection states (§3.3.2).

use serde::Serialize;

/// A sequence number. The model's time is bounded, so sequence numbers never
/// wrap and plain integer comparison is the RFC's modular comparison.
pub type Seq = u16;

/// The connection states of RFC 9293 §3.3.2. CLOSED is the absence of a TCB;
/// it is a state here so that a closed endpoint has a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub enum State {
    Closed,
    Listen,
    SynSent,
    SynReceived,
    Established,
    FinWait1,
    FinWait2,
    CloseWait,
    Closing,
    LastAck,
    TimeWait,
}

impl State {
    /// All eleven states, in the order of RFC 9293 §3.3.2.
    pub const ALL: [State; 11] = [
        State::Closed,
        State::Listen,
        State::SynSent,
        State::SynReceived,
        State::Established,
        State::FinWait1,
        State::FinWait2,
        State::CloseWait,
        State::Closing,
        State::LastAck,
        State::TimeWait,
    ];

    /// The RFC's spelling, e.g. "SYN-RECEIVED".
    pub fn name(self) -> &'static str {
        match self {
            State::Closed => "CLOSED",
            State::Listen => "LISTEN",
            State::SynSent => "SYN-SENT",
            State::SynReceived => "SYN-RECEIVED",
            State::Established => "ESTABLISHED",
            State::FinWait1 => "FIN-WAIT-1",
            State::FinWait2 => "FIN-WAIT-2",
            State::CloseWait => "CLOSE-WAIT",
            State::Closing => "CLOSING",
            State::LastAck => "LAST-ACK",
            State::TimeWait => "TIME-WAIT",
        }
    }

    /// ESTABLISHED and every state after it: both ISNs are known (RFC 9293 §3.5.2, group 3).
    pub fn is_synchronized(self) -> bool {
        matches!(
            self,
            State::Established
                | State::FinWait1
                | State::FinWait2
                | State::CloseWait
                | State::Closing
                | State::LastAck
                | State::TimeWait
        )
    }

    /// A TCB exists and holds sequence numbers (everything but CLOSED and LISTEN).
    pub fn has_connection(self) -> bool {
        !matches!(self, State::Closed | State::Listen)
    }
}

impl std::fmt::Display for State {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One endpoint's transmission control block, reduced to what the lifecycle
/// needs. Every field is a small integer so that model states hash quickly.
///
/// In CLOSED and LISTEN every field but `state` is zero, so that two closed
/// endpoints are equal whatever their history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Tcb {
    pub state: State,
    /// The connection came from LISTEN (a passive OPEN): a RST or SYN in
    /// SYN-RECEIVED returns it to LISTEN (RFC 9293 §3.10.7.4, second and fourth steps).
    pub passive: bool,
    /// Initial send sequence number.
    pub iss: Seq,
    /// Initial receive sequence number.
    pub irs: Seq,
    /// Oldest unacknowledged sequence number.
    pub snd_una: Seq,
    /// Next sequence number to send.
    pub snd_nxt: Seq,
    /// Next sequence number expected.
    pub rcv_nxt: Seq,
    /// Bytes the user has SENT that are not yet segmentized (window or handshake).
    pub snd_queued: u8,
    /// The user has called CLOSE; the FIN follows the queued bytes.
    pub close_queued: bool,
    /// Our FIN has been sent (it occupies the last sequence number before `snd_nxt`).
    pub fin_sent: bool,
    /// Ticks until the retransmission timer fires; 0 when stopped.
    pub rtx_timer: u8,
    /// Retransmissions of the segment at the front of the queue so far (R2 bound).
    pub retries: u8,
    /// Ticks until the TIME-WAIT or FIN-WAIT-2 timer fires; 0 when stopped.
    pub timer2: u8,
    /// An ACK in reply to an unacceptable segment was sent during this tick:
    /// further ones wait for the next tick (RFC 5961 §7 throttling).
    pub ack_throttled: bool,
}

impl Tcb {
    /// No TCB: the CLOSED state.
    pub const fn closed() -> Tcb {
        Tcb {
            state: State::Closed,
            passive: false,
            iss: 0,
            irs: 0,
            snd_una: 0,
            snd_nxt: 0,
            rcv_nxt: 0,
            snd_queued: 0,
            close_queued: false,
            fin_sent: false,
            rtx_timer: 0,
            retries: 0,
            timer2: 0,
            ack_throttled: false,
        }
    }

    /// A passive OPEN's TCB: LISTEN, no sequence numbers yet.
    pub const fn listen() -> Tcb {
        let mut t = Tcb::closed();
        t.state = State::Listen;
        t
    }

    /// Bytes of user data segmentized so far (the sequence space between the
    /// SYN and the FIN).
    pub fn data_sent(&self) -> u16 {
        if !self.state.has_connection() {
            return 0;
        }
        self.snd_nxt
            .saturating_sub(self.iss)
            .saturating_sub(1)
            .saturating_sub(u16::from(self.fin_sent))
    }

    /// Whether our FIN has been sent and acknowledged.
    pub fn fin_acked(&self) -> bool {
        self.fin_sent && self.snd_una == self.snd_nxt
    }

    /// Whether some timer is running.
    pub fn timer_running(&self) -> bool {
        self.rtx_timer > 0 || self.timer2 > 0
    }
}

impl Default for Tcb {
    fn default() -> Self {
        Tcb::closed()
    }
}
