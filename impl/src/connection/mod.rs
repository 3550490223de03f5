//! One TCP connection: the TCB and the event processing of RFC 9293 §3.10.
//!
//! Sans-IO: segments come in through [`Connection::on_segment`] (or
//! [`Connection::on_bytes`]), go out through [`Connection::poll_transmit`];
//! time is a value the caller passes; timers are deadlines the caller reads
//! with [`Connection::poll_timeout`] and fires with [`Connection::on_timeout`].
//!
//! The files follow the RFC: `user.rs` holds the user calls (§3.10.1-6),
//! `arrives.rs` SEGMENT ARRIVES (§3.10.7) state group by state group,
//! `output.rs` what goes out and when (§3.7, §3.8.6), `timers.rs` the
//! timeouts (§3.10.8, §3.8.3, §3.8.4).

mod arrives;
#[doc(hidden)]
pub mod fuzzing;
mod output;
mod state;
mod timers;
mod user;

use core::time::Duration;
use std::net::SocketAddr;

use crate::buffer::{RecvBuffer, SendBuffer};
use crate::config::Config;
use crate::congestion::Congestion;
use crate::event::{Ended, Event, ResetReason, TimeoutKind};
use crate::rtt::RttEstimator;
use crate::{Instant, SeqNum};

pub use state::State;

/// The two ends of a connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct FourTuple {
    pub local: SocketAddr,
    pub remote: SocketAddr,
}

/// One segment written by [`Connection::poll_transmit`]: `len` bytes of TCP
/// segment (header and payload, checksummed for `src`/`dst`) at the start of
/// the caller's buffer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transmit {
    pub len: usize,
    pub src: SocketAddr,
    pub dst: SocketAddr,
}

/// Segments dropped, per reason. A dropped segment leaves the TCB untouched
/// (apart from an ACK or RST the RFC asks for in reply).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Drops {
    /// Bytes that do not parse as a TCP segment (too short, bad data offset,
    /// bad option length, ...), from [`Connection::on_bytes`].
    pub malformed: u64,
    /// Checksum mismatch (MUST-3), from [`Connection::on_bytes`].
    pub bad_checksum: u64,
    /// Ports or remote address not those of this connection.
    pub wrong_tuple: u64,
    /// Any segment arriving while CLOSED (answered with a RST unless a RST).
    pub closed: u64,
    /// A RST in LISTEN (§3.10.7.2, first check).
    pub listen_rst: u64,
    /// An ACK in LISTEN (answered with a RST; §3.10.7.2, second check).
    pub listen_ack: u64,
    /// Neither SYN, RST nor ACK in LISTEN (fourth check).
    pub listen_other: u64,
    /// SYN-SENT: an ACK that does not acknowledge our SYN.
    pub syn_sent_bad_ack: u64,
    /// SYN-SENT: a RST without an acceptable ACK.
    pub syn_sent_rst_no_ack: u64,
    /// SYN-SENT: neither SYN nor RST (fifth step).
    pub syn_sent_other: u64,
    /// Failed the sequence acceptability test (§3.10.7.4, first step).
    pub out_of_window: u64,
    /// RFC 7323 PAWS: a timestamp older than TS.Recent.
    pub paws: u64,
    /// A RST whose sequence number is outside the window.
    pub rst_out_of_window: u64,
    /// A RST in the window but not at RCV.NXT: answered with a challenge ACK
    /// (RFC 5961 §3.2).
    pub rst_not_exact: u64,
    /// A RST in TIME-WAIT ignored per RFC 1337.
    pub rst_in_time_wait: u64,
    /// A SYN in a synchronized state: answered with a challenge ACK (RFC 5961 §4).
    pub syn_in_window: u64,
    /// No ACK bit in a synchronized state (§3.10.7.4, fifth step).
    pub no_ack: u64,
    /// ACK outside SND.UNA - MAX.SND.WND ..= SND.NXT (RFC 5961 §5), or
    /// unacceptable in SYN-RECEIVED.
    pub unacceptable_ack: u64,
    /// CLOSING: an ACK that does not acknowledge our FIN (ignored).
    pub closing_not_fin_ack: u64,
    /// Data that did not fit the receive buffer (or its out-of-order slots).
    pub data_not_stored: u64,
}

/// Counters of one connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Stats {
    pub segments_received: u64,
    pub segments_sent: u64,
    /// Data bytes accepted in order from the peer.
    pub bytes_received: u64,
    /// Data bytes of ours the peer acknowledged.
    pub bytes_acked: u64,
    /// Segments sent again (RTO, fast retransmit, SYN retransmissions).
    pub retransmissions: u64,
    /// Retransmission timer expiries.
    pub timeouts: u64,
    /// Fast retransmits (third duplicate ACK) and NewReno partial-ACK resends.
    pub fast_retransmits: u64,
    /// Challenge ACKs sent (RFC 5961).
    pub challenge_acks: u64,
    /// Challenge ACKs not sent because of the rate limit (RFC 5961 §7).
    pub challenge_acks_suppressed: u64,
    /// RST segments sent.
    pub resets_sent: u64,
    /// Keep-alive probes sent.
    pub keepalives_sent: u64,
    /// Zero-window probes sent.
    pub window_probes: u64,
    /// Dropped segments, per reason.
    pub dropped: Drops,
}

/// Deadlines of the connection's timers; `None` when a timer is off.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Timers {
    pub retransmission: Option<Instant>,
    /// Zero-window probe, and the sender's SWS override (§3.8.6.2.1 (4)).
    pub persist: Option<Instant>,
    pub delayed_ack: Option<Instant>,
    pub time_wait: Option<Instant>,
    pub fin_wait_2: Option<Instant>,
    pub keepalive: Option<Instant>,
}

impl Timers {
    fn earliest(&self) -> Option<Instant> {
        [
            self.retransmission,
            self.persist,
            self.delayed_ack,
            self.time_wait,
            self.fin_wait_2,
            self.keepalive,
        ]
        .into_iter()
        .flatten()
        .min()
    }
}

/// A read-only copy of the TCB (RFC 9293 §3.10.6, STATUS).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub state: State,
    pub local: SocketAddr,
    pub remote: Option<SocketAddr>,
    /// SYN-RECEIVED (or later) was reached from a passive OPEN (MUST-11).
    pub passive_open: bool,
    pub iss: SeqNum,
    pub irs: SeqNum,
    pub snd_una: SeqNum,
    /// Highest sequence number sent plus one (never moves back on retransmission).
    pub snd_nxt: SeqNum,
    /// Send window in bytes (scaled).
    pub snd_wnd: u32,
    pub snd_wl1: SeqNum,
    pub snd_wl2: SeqNum,
    pub max_snd_wnd: u32,
    pub rcv_nxt: SeqNum,
    /// Receive window in bytes: RCV.NXT + RCV.WND is the advertised right edge.
    pub rcv_wnd: u32,
    /// Effective send MSS (payload bytes per segment, options excluded).
    pub snd_mss: u16,
    pub snd_wscale: u8,
    pub rcv_wscale: u8,
    pub timestamps: bool,
    pub sack_permitted: bool,
    pub cwnd: u32,
    pub ssthresh: u32,
    pub rto: Duration,
    pub srtt: Option<Duration>,
    pub timers: Timers,
    /// Consecutive retransmissions of the segment at SND.UNA (or of the SYN).
    pub retransmissions: u32,
    /// Data bytes delivered in order into the receive buffer.
    pub bytes_delivered: u64,
    /// Bytes waiting to be read.
    pub recv_queued: usize,
    /// Bytes in the send buffer (unacknowledged plus unsent).
    pub send_queued: usize,
    /// Urgent bytes not yet read (MUST-33).
    pub urgent_pending: u32,
    /// The user has closed (a FIN is queued or sent).
    pub fin_queued: bool,
    /// The peer's FIN has been received in order.
    pub fin_received: bool,
    /// How the connection ended, once CLOSED after having been open.
    pub ended: Option<Ended>,
}

/// How SYN-RECEIVED was reached (MUST-11).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// From SYN-SENT (active OPEN, simultaneous open).
    Active,
    /// From LISTEN (passive OPEN).
    Passive,
}

/// A RST to send, not tied to the TCB's sequence variables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct RstReply {
    dst: SocketAddr,
    seq: SeqNum,
    /// With the ACK bit set, acknowledging this.
    ack: Option<SeqNum>,
}

/// What TIME-WAIT looked like before a new SYN reopened it (MAY-2), so an
/// old duplicate SYN can send us back there.
#[derive(Debug, Clone, Copy)]
struct TimeWaitMemory {
    iss: SeqNum,
    irs: SeqNum,
    snd_una: SeqNum,
    snd_nxt: SeqNum,
    rcv_nxt: SeqNum,
    rcv_adv: SeqNum,
    deadline: Instant,
    passive: bool,
}

const MAX_PENDING_RSTS: usize = 4;

/// Non-terminal events, kept as flags so that repeated ones coalesce and
/// nothing allocates.
const EV_CONNECTED: u8 = 1;
const EV_READABLE: u8 = 2;
const EV_WRITABLE: u8 = 4;
const EV_URGENT: u8 = 8;
const EV_PEER_CLOSED: u8 = 16;
const EV_RTX_WARNING: u8 = 32;

/// A TCP connection (one TCB). See the module documentation.
#[derive(Debug)]
pub struct Connection {
    cfg: Config,
    local: SocketAddr,
    remote: Option<SocketAddr>,
    state: State,
    origin: Origin,

    // Send sequence variables (RFC 9293 §3.3.1).
    iss: SeqNum,
    snd_una: SeqNum,
    snd_nxt: SeqNum,
    snd_wnd: u32,
    snd_wl1: SeqNum,
    snd_wl2: SeqNum,
    max_snd_wnd: u32,
    /// SND.UP: the sequence number after the last urgent byte queued (MUST-62).
    snd_up: Option<SeqNum>,
    /// When a segment was last sent (RFC 5681 §4.1 restart after idle).
    last_send: Instant,
    /// Next sequence number to put on the wire: SND.NXT normally, back at
    /// SND.UNA after a retransmission timeout (go-back-N).
    send_ptr: SeqNum,
    /// Sequence number of send-buffer offset 0.
    buf_seq: SeqNum,
    /// Our SYN has been acknowledged.
    syn_acked: bool,
    /// Our SYN (or SYN,ACK) must be sent.
    syn_pending: bool,
    /// A SYN of ours was retransmitted (RFC 6298 §5.7).
    syn_lost: bool,
    /// Our SYN has been put on the wire at least once.
    syn_transmitted: bool,
    /// Sequence number of our FIN, once the user closed.
    fin_seq: Option<SeqNum>,
    /// Our FIN has been sent at least once (SND.NXT covers it).
    fin_sent: bool,

    // Receive sequence variables.
    irs: SeqNum,
    rcv_nxt: SeqNum,
    /// Right edge of the window we advertised (RCV.NXT + RCV.WND); never
    /// moves left (SHLD-14).
    rcv_adv: SeqNum,
    rcv_up: Option<SeqNum>,
    /// A FIN that arrived ahead of missing data.
    fin_ahead: Option<SeqNum>,
    fin_received: bool,

    // Negotiated options.
    snd_mss: u16,
    rcv_wscale: u8,
    snd_wscale: u8,
    ts_ok: bool,
    ts_recent: u32,
    ts_recent_at: Instant,
    sack_ok: bool,
    /// What the peer offered in its SYN (to answer in our SYN,ACK).
    peer_offered_wscale: bool,
    peer_offered_ts: bool,
    peer_offered_sack: bool,

    send_buf: SendBuffer,
    recv_buf: RecvBuffer,

    rtt: RttEstimator,
    cc: Congestion,
    /// Retransmit one segment at SND.UNA now (fast retransmit / partial ACK).
    fast_rtx: bool,
    /// Retransmissions of the segment at SND.UNA since it was first sent.
    rtx_count: u32,
    /// When the segment at SND.UNA was first sent (for time-based R2).
    rtx_epoch: Instant,
    r1_reported: bool,

    // Output triggers.
    ack_now: bool,
    /// In-order bytes received and not yet acknowledged (SHLD-19).
    unacked_bytes: u32,
    /// The persist timer fired: send one byte into the closed window.
    probe_now: bool,
    /// The SWS override timer fired: send what we have.
    sws_override: bool,
    keepalive_now: bool,
    keepalive_probes: u32,
    last_rx: Instant,

    timers: Timers,
    challenge_window: Instant,
    challenge_count: u32,
    pending_rsts: [Option<RstReply>; MAX_PENDING_RSTS],
    /// The ACK still owed when TIME-WAIT ended before it was polled out
    /// (a zero TIME-WAIT): (destination, SEQ, ACK).
    final_ack: Option<(SocketAddr, SeqNum, SeqNum)>,
    /// How the connection ends when TIME-WAIT runs out (an ABORT may have
    /// led there, `Config::abort_time_wait`).
    time_wait_ends: Ended,
    time_wait_memory: Option<TimeWaitMemory>,

    events: u8,
    terminal: [Option<Event>; 2],
    ended: Option<Ended>,
    bytes_delivered: u64,
    stats: Stats,
}

impl Connection {
    fn new(
        cfg: &Config,
        local: SocketAddr,
        remote: Option<SocketAddr>,
        now: Instant,
    ) -> Connection {
        let default_mss = default_send_mss(&local);
        Connection {
            cfg: cfg.clone(),
            local,
            remote,
            state: State::Closed,
            origin: Origin::Active,
            iss: SeqNum(0),
            snd_una: SeqNum(0),
            snd_nxt: SeqNum(0),
            snd_wnd: 0,
            snd_wl1: SeqNum(0),
            snd_wl2: SeqNum(0),
            max_snd_wnd: 0,
            snd_up: None,
            last_send: now,
            send_ptr: SeqNum(0),
            buf_seq: SeqNum(0),
            syn_acked: false,
            syn_pending: false,
            syn_lost: false,
            syn_transmitted: false,
            fin_seq: None,
            fin_sent: false,
            irs: SeqNum(0),
            rcv_nxt: SeqNum(0),
            rcv_adv: SeqNum(0),
            rcv_up: None,
            fin_ahead: None,
            fin_received: false,
            snd_mss: default_mss,
            rcv_wscale: 0,
            snd_wscale: 0,
            ts_ok: false,
            ts_recent: 0,
            ts_recent_at: now,
            sack_ok: false,
            peer_offered_wscale: false,
            peer_offered_ts: false,
            peer_offered_sack: false,
            send_buf: SendBuffer::new(cfg.send_buffer),
            recv_buf: RecvBuffer::new(cfg.recv_buffer),
            rtt: RttEstimator::new(cfg.initial_rto, cfg.min_rto, cfg.max_rto),
            cc: Congestion::new(default_mss, SeqNum(0)),
            fast_rtx: false,
            rtx_count: 0,
            rtx_epoch: now,
            r1_reported: false,
            ack_now: false,
            unacked_bytes: 0,
            probe_now: false,
            sws_override: false,
            keepalive_now: false,
            keepalive_probes: 0,
            last_rx: now,
            timers: Timers::default(),
            challenge_window: now,
            challenge_count: 0,
            pending_rsts: [None; MAX_PENDING_RSTS],
            final_ack: None,
            time_wait_ends: Ended::Graceful,
            time_wait_memory: None,
            events: 0,
            terminal: [None; 2],
            ended: None,
            bytes_delivered: 0,
            stats: Stats::default(),
        }
    }

    /// The current state.
    pub fn state(&self) -> State {
        self.state
    }

    /// The configuration in force.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    pub fn local(&self) -> SocketAddr {
        self.local
    }

    pub fn remote(&self) -> Option<SocketAddr> {
        self.remote
    }

    /// Counters, including dropped segments per reason.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// How the connection ended, once it has.
    pub fn ended(&self) -> Option<Ended> {
        self.ended
    }

    /// TS.Recent (RFC 7323 §4.3) when timestamps were negotiated: the table
    /// keeps echoing it from a compact TIME-WAIT entry, since every non-RST
    /// segment must then carry timestamps (RFC 7323 §3.2).
    pub fn ts_recent(&self) -> Option<u32> {
        self.ts_ok.then_some(self.ts_recent)
    }

    /// The next event for the application, if any. Non-terminal events come
    /// first, in a fixed order; `Closed` is always last.
    pub fn poll_event(&mut self) -> Option<Event> {
        const ORDER: [(u8, Event); 6] = [
            (EV_CONNECTED, Event::Connected),
            (EV_READABLE, Event::Readable),
            (EV_WRITABLE, Event::Writable),
            (EV_URGENT, Event::Urgent),
            (EV_PEER_CLOSED, Event::PeerClosed),
            (EV_RTX_WARNING, Event::RetransmissionWarning),
        ];
        for (bit, ev) in ORDER {
            if self.events & bit != 0 {
                self.events &= !bit;
                return Some(ev);
            }
        }
        for slot in 0..self.terminal.len() {
            if let Some(ev) = self.terminal[slot].take() {
                return Some(ev);
            }
        }
        None
    }

    /// The TCB's variables, timers and counters (STATUS, §3.10.6).
    pub fn status(&self) -> Status {
        let app_read_seq = self.rcv_nxt - self.recv_buf.readable() as u32;
        let urgent_pending = match self.rcv_up {
            Some(up) if up > app_read_seq => up.distance_from(app_read_seq),
            _ => 0,
        };
        Status {
            state: self.state,
            local: self.local,
            remote: self.remote,
            passive_open: self.origin == Origin::Passive,
            iss: self.iss,
            irs: self.irs,
            snd_una: self.snd_una,
            snd_nxt: self.snd_nxt,
            snd_wnd: self.snd_wnd,
            snd_wl1: self.snd_wl1,
            snd_wl2: self.snd_wl2,
            max_snd_wnd: self.max_snd_wnd,
            rcv_nxt: self.rcv_nxt,
            rcv_wnd: self.rcv_wnd(),
            snd_mss: self.eff_snd_mss(),
            snd_wscale: self.snd_wscale,
            rcv_wscale: self.rcv_wscale,
            timestamps: self.ts_ok,
            sack_permitted: self.sack_ok,
            cwnd: self.cc.cwnd(),
            ssthresh: self.cc.ssthresh(),
            rto: self.rtt.rto(),
            srtt: self.rtt.srtt(),
            timers: self.timers,
            retransmissions: self.rtx_count,
            bytes_delivered: self.bytes_delivered,
            recv_queued: self.recv_buf.readable(),
            send_queued: self.send_buf.len(),
            urgent_pending,
            fin_queued: self.fin_seq.is_some(),
            fin_received: self.fin_received,
            ended: self.ended,
        }
    }

    /// RCV.WND: what is left of the advertised window.
    fn rcv_wnd(&self) -> u32 {
        if self.rcv_adv > self.rcv_nxt {
            self.rcv_adv.distance_from(self.rcv_nxt)
        } else {
            0
        }
    }

    /// Payload bytes per segment: the peer's MSS less the TCP options we put
    /// on every data segment (RFC 9293 §3.7.1, MUST-16; RFC 6691).
    fn eff_snd_mss(&self) -> u16 {
        let opts = if self.ts_ok { 12 } else { 0 };
        self.snd_mss.saturating_sub(opts).max(1)
    }

    fn signal(&mut self, bit: u8) {
        self.events |= bit;
    }

    /// Enter CLOSED, delete the TCB's state, and tell the application how it
    /// ended (MUST-12).
    fn enter_closed(&mut self, ended: Ended) {
        self.state = State::Closed;
        self.timers = Timers::default();
        self.syn_pending = false;
        self.ack_now = false;
        self.fast_rtx = false;
        self.probe_now = false;
        self.keepalive_now = false;
        self.sws_override = false;
        self.time_wait_memory = None;
        match ended {
            Ended::Graceful => {}
            Ended::Reset(reason) => {
                // RFC 9293 §3.10.7.4: on reset all queues are flushed.
                self.send_buf.clear();
                self.recv_buf.clear();
                self.events &= !(EV_READABLE | EV_WRITABLE);
                self.terminal[0] = Some(Event::Reset(reason));
            }
            Ended::TimedOut(kind) => {
                self.send_buf.clear();
                self.terminal[0] = Some(Event::TimedOut(kind));
            }
        }
        self.terminal[1] = Some(Event::Closed(ended));
        self.ended = Some(ended);
    }

    fn reset_by_peer(&mut self) {
        self.enter_closed(Ended::Reset(ResetReason::ByPeer));
    }

    fn timed_out(&mut self, kind: TimeoutKind) {
        self.enter_closed(Ended::TimedOut(kind));
    }

    fn queue_rst(&mut self, rst: RstReply) {
        if let Some(slot) = self.pending_rsts.iter_mut().find(|s| s.is_none()) {
            *slot = Some(rst);
        }
        // All slots taken: drop this one. The peer will retransmit whatever
        // provoked it, and a burst of RSTs must not grow memory.
    }
}

/// MUST-15: without an MSS option, assume 536 (IPv4) or 1220 (IPv6).
fn default_send_mss(addr: &SocketAddr) -> u16 {
    if addr.is_ipv4() {
        536
    } else {
        1220
    }
}

pub(crate) use arrives::acceptable;
pub use arrives::reset_for;
