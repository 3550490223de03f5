//! A simulator: two [`Stack`]s joined by a seeded, lossy network on virtual
//! time.
//!
//! The network loses, duplicates, reorders and delays packets, and drops
//! any packet older than the maximum segment lifetime (MSL). Each side
//! sends a known byte stream to the other, then closes; the receiver checks
//! every byte against the stream as it reads. A run ends when both
//! connections are gone and the network is empty, or when virtual time runs
//! out (reported as a timeout, never as success).
//!
//! Everything random comes from one seed: the same [`SimConfig`] replays the
//! same run, packet for packet.

use core::fmt;
use core::time::Duration;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use crate::config::{Config, IsnSource, RetryLimit};
use crate::connection::State;
use crate::event::{Ended, Event};
use crate::table::{ConnId, Dispatch, ListenerId, Stack};
use crate::wire::ip::IpPacket;
use crate::wire::{Flags, Segment};
use crate::Instant;

/// Parameters of one run.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    /// Probability that the network loses a packet, 0.0..=1.0.
    pub loss: f64,
    /// Probability that the network delivers a packet twice.
    pub duplicate: f64,
    /// Probability that a packet is held back so later ones overtake it.
    pub reorder: f64,
    /// Bytes each side sends to the other.
    pub bytes: usize,
    /// One-way delay of every packet.
    pub delay: Duration,
    /// Extra random delay (0..jitter) added to every packet.
    pub jitter: Duration,
    /// How long a reordered packet is held back, at most (on top of delay).
    pub reorder_hold: Duration,
    /// Maximum segment lifetime of the network; also the engines' MSL, so
    /// TIME-WAIT lasts twice this.
    pub msl: Duration,
    /// Virtual time after which the run is declared timed out.
    pub time_limit: Duration,
    /// Record a trace of every packet and state change (for diagrams).
    pub trace: bool,
    /// Record every packet's bytes (for a pcap).
    pub capture: bool,
    /// The engines' configuration (ISN source, MSL and R2 are set per run).
    pub tcp: Config,
}

impl SimConfig {
    /// Defaults for `seed`, `loss`, `duplicate`, `reorder` and `bytes`: a
    /// 10 ms path, the RFC's MSL of 2 minutes (so TIME-WAIT outlasts the
    /// 60 s RTO ceiling and a peer's last FIN retransmissions still find it),
    /// retransmission give-up thresholds long enough that heavy loss delays
    /// a transfer rather than killing it.
    pub fn new(seed: u64, loss: f64, duplicate: f64, reorder: f64, bytes: usize) -> SimConfig {
        let msl = Duration::from_secs(120);
        let tcp = Config {
            msl,
            r2: RetryLimit::Time(Duration::from_secs(900)),
            syn_r2: RetryLimit::Time(Duration::from_secs(900)),
            // The side that finishes sending first waits in FIN-WAIT-2 for
            // the other's data, however slow loss makes it.
            fin_wait_2_timeout: None,
            min_rto: Duration::from_millis(200),
            ..Config::default()
        };
        SimConfig {
            seed,
            loss,
            duplicate,
            reorder,
            bytes,
            delay: Duration::from_millis(10),
            jitter: Duration::from_millis(2),
            reorder_hold: Duration::from_millis(40),
            msl,
            time_limit: Duration::from_secs(4 * 3600),
            trace: false,
            capture: false,
            tcp,
        }
    }

    /// Probabilities within 0..=1 (loss below 1), delay plus jitter below
    /// the MSL.
    pub fn validate(&self) -> Result<(), SimError> {
        for (name, p) in [
            ("loss", self.loss),
            ("dup", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(SimError::Probability(name, p));
            }
        }
        if self.loss >= 1.0 {
            return Err(SimError::Probability("loss", self.loss));
        }
        // Packets held longer than the MSL expire in the network; the base
        // delay must stay below it, or nothing would ever arrive.
        if self.delay + self.jitter >= self.msl {
            return Err(SimError::DelayBeyondMsl);
        }
        self.tcp.validate().map_err(SimError::Engine)
    }
}

/// A configuration the simulator refuses.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum SimError {
    #[error("{0} must be a probability in 0..=1 (loss below 1), got {1}")]
    Probability(&'static str, f64),
    #[error("delay + jitter must stay below the MSL")]
    DelayBeyondMsl,
    #[error("engine configuration: {0}")]
    Engine(crate::error::Error),
}

/// The two ends: A opens actively, B listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    A,
    B,
}

impl Side {
    fn index(self) -> usize {
        match self {
            Side::A => 0,
            Side::B => 1,
        }
    }
    fn other(self) -> Side {
        match self {
            Side::A => Side::B,
            Side::B => Side::A,
        }
    }
}

/// The header fields of a packet, for traces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SegmentInfo {
    pub flags: Flags,
    pub seq: u32,
    pub ack: u32,
    pub len: usize,
    pub window: u16,
}

impl SegmentInfo {
    fn of(packet: &[u8]) -> Option<SegmentInfo> {
        let ip = IpPacket::parse(packet).ok()?;
        let (_, bytes) = ip.tcp_bytes().ok()?;
        let seg = Segment::parse_unverified(bytes).ok()?;
        Some(SegmentInfo {
            flags: seg.flags(),
            seq: seg.seq().0,
            ack: seg.ack().0,
            len: seg.payload().len(),
            window: seg.window(),
        })
    }
}

impl fmt::Display for SegmentInfo {
    /// Like "SYN,ACK seq=300 ack=101" or "ACK seq=101 ack=301 len=1460".
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names = [
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::ACK, "ACK"),
            (Flags::URG, "URG"),
        ];
        let mut first = true;
        for (flag, name) in names {
            if self.flags.contains(flag) {
                if !first {
                    f.write_str(",")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        write!(f, " seq={}", self.seq)?;
        if self.flags.ack() {
            write!(f, " ack={}", self.ack)?;
        }
        if self.len > 0 {
            write!(f, " len={}", self.len)?;
        }
        Ok(())
    }
}

/// One thing that happened in a run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TraceEvent {
    /// A side's connection entered a state.
    State { side: Side, state: State },
    /// A packet left `from`.
    Send { from: Side, seg: SegmentInfo },
    /// A packet from `from` reached the other side.
    Deliver { from: Side, seg: SegmentInfo },
    /// The network lost a packet from `from`.
    Lost { from: Side, seg: SegmentInfo },
    /// The network duplicated a packet from `from`.
    Duplicated { from: Side, seg: SegmentInfo },
    /// A packet from `from` outlived the MSL and vanished.
    Expired { from: Side, seg: SegmentInfo },
    /// A user call or a notable event at one side.
    Note { side: Side, text: String },
}

/// How one side's connection ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Closed, and how.
    Closed(Ended),
    /// Still open when the run stopped, in this state.
    Open(State),
    /// Never got a connection (B: no SYN ever arrived).
    NeverOpened,
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Closed(Ended::Graceful) => f.write_str("closed gracefully"),
            Outcome::Closed(Ended::Reset(r)) => write!(f, "reset ({r:?})"),
            Outcome::Closed(Ended::TimedOut(k)) => write!(f, "timed out ({k:?})"),
            Outcome::Open(s) => write!(f, "still open in {s}"),
            Outcome::NeverOpened => f.write_str("never opened"),
        }
    }
}

/// What one direction of the transfer achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Transfer {
    /// Bytes the sender's stack accepted.
    pub sent: usize,
    /// Bytes the receiver read, all matching the stream.
    pub delivered: usize,
    /// Position of the first byte that did not match, if any did not.
    pub corrupt_at: Option<usize>,
    /// Bytes read after the stream's end (duplicated delivery).
    pub excess: usize,
}

impl Transfer {
    /// Every byte arrived, once, in order.
    pub fn complete(&self, bytes: usize) -> bool {
        self.delivered == bytes && self.corrupt_at.is_none() && self.excess == 0
    }
}

/// The result of a run.
#[derive(Debug, Clone)]
pub struct SimReport {
    pub seed: u64,
    pub bytes: usize,
    /// A to B, and B to A.
    pub transfers: [Transfer; 2],
    pub outcomes: [Outcome; 2],
    /// Retransmitted segments of each side.
    pub retransmissions: [u64; 2],
    /// Packets each side sent.
    pub packets_sent: [u64; 2],
    /// Network events: lost, duplicated, reordered (held back), expired.
    pub lost: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub expired: u64,
    /// Virtual time from the first SYN to the end of the run.
    pub duration: Duration,
    /// The time limit was reached before both sides finished.
    pub timed_out: bool,
    pub trace: Vec<(Instant, TraceEvent)>,
    /// Every packet as it left its sender, for a pcap.
    pub packets: Vec<(Instant, Vec<u8>)>,
}

impl SimReport {
    /// Both streams complete and both connections closed gracefully.
    pub fn success(&self) -> bool {
        !self.timed_out
            && self.transfers.iter().all(|t| t.complete(self.bytes))
            && self
                .outcomes
                .iter()
                .all(|o| *o == Outcome::Closed(Ended::Graceful))
    }

    /// No byte was ever delivered wrong or twice (holds even for a run that
    /// timed out).
    pub fn no_corruption(&self) -> bool {
        self.transfers
            .iter()
            .all(|t| t.corrupt_at.is_none() && t.excess == 0)
    }
}

/// SplitMix64: small, fast, and good enough to drive a network's dice.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.next_f64() < p
    }

    /// Uniform in [0, max).
    pub fn below(&mut self, max: Duration) -> Duration {
        let m = max.as_micros() as u64;
        if m == 0 {
            Duration::ZERO
        } else {
            Duration::from_micros(self.next_u64() % m)
        }
    }
}

/// Byte `i` of the stream `side` sends: depends on the seed so two runs
/// cannot pass by delivering each other's data.
pub fn stream_byte(seed: u64, side: Side, i: usize) -> u8 {
    let x = (i as u64)
        .wrapping_mul(0x9e37_79b9_7f4a_7c15)
        .wrapping_add(seed.rotate_left(17))
        ^ (side.index() as u64).wrapping_mul(0xd6e8_feb8_6659_fd93);
    (x >> 29) as u8
}

/// A packet in flight.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord)]
struct InFlight {
    deliver_at: Instant,
    /// Tie-break in send order, so equal times keep their order.
    serial: u64,
    sent_at: Instant,
    from: usize,
    bytes: Vec<u8>,
}

struct Endpoint {
    stack: Stack,
    side: Side,
    conn: Option<ConnId>,
    /// B's connection before it is accepted (for the trace).
    embryo: Option<ConnId>,
    listener: Option<ListenerId>,
    written: usize,
    closed: bool,
    transfer_in: Transfer,
    outcome: Option<Ended>,
    last_state: Option<State>,
    retransmissions: u64,
}

const ADDR_A: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 49152);
const ADDR_B: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);

/// Run the simulation described by `cfg`.
pub fn run(cfg: &SimConfig) -> Result<SimReport, SimError> {
    cfg.validate()?;
    let mut rng = Rng::new(cfg.seed);
    let mut report = SimReport {
        seed: cfg.seed,
        bytes: cfg.bytes,
        transfers: [Transfer::default(); 2],
        outcomes: [Outcome::NeverOpened; 2],
        retransmissions: [0; 2],
        packets_sent: [0; 2],
        lost: 0,
        duplicated: 0,
        reordered: 0,
        expired: 0,
        duration: Duration::ZERO,
        timed_out: false,
        trace: Vec::new(),
        packets: Vec::new(),
    };
    let mut a = Endpoint::new(Side::A, cfg, &mut rng)?;
    let mut b = Endpoint::new(Side::B, cfg, &mut rng)?;

    let start = Instant::from_secs(1);
    let mut now = start;
    let deadline = start + cfg.time_limit;
    b.listener = Some(b.stack.listen(ADDR_B, 16).map_err(SimError::Engine)?);
    let id = a
        .stack
        .connect(now, ADDR_A, ADDR_B)
        .map_err(SimError::Engine)?;
    a.conn = Some(id);
    if cfg.trace {
        report.trace.push((
            now,
            TraceEvent::State {
                side: Side::B,
                state: State::Listen,
            },
        ));
        report.trace.push((
            now,
            TraceEvent::Note {
                side: Side::A,
                text: "connect".into(),
            },
        ));
    }

    let mut net: BinaryHeap<Reverse<InFlight>> = BinaryHeap::new();
    let mut serial = 0u64;
    let mut last_arrival = [Instant::ZERO; 2];
    let mut buf = vec![0u8; 65536];
    let mut chunk = vec![0u8; 16384];

    loop {
        // The applications: accept, write, read and verify, close.
        for e in [&mut a, &mut b] {
            app_step(e, cfg, now, &mut chunk, &mut report.trace);
            note_state(e, now, cfg.trace, &mut report.trace);
        }
        // Everything the stacks want to send goes onto the network.
        for e in [&mut a, &mut b] {
            let from = e.side.index();
            while let Some(n) = e.stack.poll_transmit(now, &mut buf) {
                let bytes = &buf[..n];
                report.packets_sent[from] += 1;
                let info = SegmentInfo::of(bytes);
                if cfg.capture {
                    report.packets.push((now, bytes.to_vec()));
                }
                if cfg.trace {
                    if let Some(seg) = info {
                        report
                            .trace
                            .push((now, TraceEvent::Send { from: e.side, seg }));
                    }
                }
                if rng.chance(cfg.loss) {
                    report.lost += 1;
                    if let (true, Some(seg)) = (cfg.trace, info) {
                        report
                            .trace
                            .push((now, TraceEvent::Lost { from: e.side, seg }));
                    }
                    continue;
                }
                let copies = if rng.chance(cfg.duplicate) {
                    report.duplicated += 1;
                    if let (true, Some(seg)) = (cfg.trace, info) {
                        report
                            .trace
                            .push((now, TraceEvent::Duplicated { from: e.side, seg }));
                    }
                    2
                } else {
                    1
                };
                for _ in 0..copies {
                    let mut at = now + cfg.delay + rng.below(cfg.jitter);
                    if rng.chance(cfg.reorder) {
                        report.reordered += 1;
                        at += rng.below(cfg.reorder_hold);
                    } else {
                        // Jitter alone does not reorder: a link is FIFO.
                        at = at.max(last_arrival[from]);
                        last_arrival[from] = at;
                    }
                    serial += 1;
                    net.push(Reverse(InFlight {
                        deliver_at: at,
                        serial,
                        sent_at: now,
                        from,
                        bytes: bytes.to_vec(),
                    }));
                }
            }
        }
        for e in [&mut a, &mut b] {
            note_state(e, now, cfg.trace, &mut report.trace);
        }

        let finished = a.outcome.is_some() && b.outcome.is_some() && net.is_empty();
        if finished {
            break;
        }
        // Jump to the next thing that happens.
        let next = [
            net.peek().map(|Reverse(p)| p.deliver_at),
            a.stack.poll_timeout(),
            b.stack.poll_timeout(),
        ]
        .into_iter()
        .flatten()
        .min();
        let Some(next) = next else {
            // Nothing scheduled and not finished: nobody will ever act again.
            report.timed_out = true;
            break;
        };
        if next > deadline {
            report.timed_out = true;
            now = deadline;
            break;
        }
        now = now.max(next);
        while let Some(Reverse(p)) = net.peek() {
            if p.deliver_at > now {
                break;
            }
            let Some(Reverse(p)) = net.pop() else { break };
            let from = if p.from == 0 { Side::A } else { Side::B };
            let info = SegmentInfo::of(&p.bytes);
            if p.deliver_at - p.sent_at > cfg.msl {
                report.expired += 1;
                if let (true, Some(seg)) = (cfg.trace, info) {
                    report.trace.push((now, TraceEvent::Expired { from, seg }));
                }
                continue;
            }
            if let (true, Some(seg)) = (cfg.trace, info) {
                report.trace.push((now, TraceEvent::Deliver { from, seg }));
            }
            let to = if from == Side::A { &mut b } else { &mut a };
            // A packet the stack rejects is counted there; the run goes on.
            if let Ok(Dispatch::Spawned(_, id)) = to.stack.on_packet(now, &p.bytes) {
                if to.conn.is_none() {
                    to.embryo = Some(id);
                }
            }
            note_state(to, now, cfg.trace, &mut report.trace);
        }
        for e in [&mut a, &mut b] {
            if e.stack.poll_timeout().is_some_and(|t| t <= now) {
                e.stack.on_timeout(now);
                note_state(e, now, cfg.trace, &mut report.trace);
            }
        }
    }

    report.duration = now - start;
    for e in [&a, &b] {
        let i = e.side.index();
        report.transfers[i].sent = e.written;
        report.outcomes[i] = match (e.outcome, e.conn) {
            (Some(end), _) => Outcome::Closed(end),
            (None, Some(id)) => Outcome::Open(e.stack.state(id).unwrap_or(State::Closed)),
            (None, None) => Outcome::NeverOpened,
        };
        report.retransmissions[i] = e.retransmissions;
    }
    // What A sent, B received, and the other way round.
    report.transfers[0] = Transfer {
        sent: a.written,
        ..b.transfer_in
    };
    report.transfers[1] = Transfer {
        sent: b.written,
        ..a.transfer_in
    };
    Ok(report)
}

impl Endpoint {
    fn new(side: Side, cfg: &SimConfig, rng: &mut Rng) -> Result<Endpoint, SimError> {
        let mut tcp = cfg.tcp.clone();
        tcp.msl = cfg.msl;
        // Each side draws its ISNs from the seed (RFC 6528 with a seeded key).
        if let IsnSource::Rfc6528 { .. } = tcp.isn {
            let mut secret = [0u8; 16];
            secret[..8].copy_from_slice(&rng.next_u64().to_le_bytes());
            secret[8..].copy_from_slice(&rng.next_u64().to_le_bytes());
            tcp.isn = IsnSource::Rfc6528 { secret };
        }
        let stack = Stack::new(tcp, rng.next_u64()).map_err(SimError::Engine)?;
        Ok(Endpoint {
            stack,
            side,
            conn: None,
            embryo: None,
            listener: None,
            written: 0,
            closed: false,
            transfer_in: Transfer::default(),
            outcome: None,
            last_state: None,
            retransmissions: 0,
        })
    }
}

/// One round of the application at one side.
fn app_step(
    e: &mut Endpoint,
    cfg: &SimConfig,
    now: Instant,
    chunk: &mut [u8],
    trace: &mut Vec<(Instant, TraceEvent)>,
) {
    if e.conn.is_none() {
        if let Some(l) = e.listener {
            if let Some(id) = e.stack.accept(l) {
                e.conn = Some(id);
                if cfg.trace {
                    trace.push((
                        now,
                        TraceEvent::Note {
                            side: e.side,
                            text: "accept".into(),
                        },
                    ));
                }
            }
        }
    }
    let Some(id) = e.conn else { return };
    if e.outcome.is_some() {
        return;
    }
    if let Some(c) = e.stack.connection(id) {
        e.retransmissions = c.stats().retransmissions;
    }
    // Write what fits.
    while e.written < cfg.bytes {
        let n = (cfg.bytes - e.written).min(chunk.len());
        for (i, b) in chunk[..n].iter_mut().enumerate() {
            *b = stream_byte(cfg.seed, e.side, e.written + i);
        }
        match e.stack.send(id, &chunk[..n]) {
            Ok(0) | Err(_) => break,
            Ok(k) => e.written += k,
        }
    }
    // Read and verify everything available.
    loop {
        match e.stack.recv(id, chunk) {
            Ok(0) | Err(_) => break,
            Ok(n) => verify(&mut e.transfer_in, cfg, e.side.other(), &chunk[..n]),
        }
    }
    // CLOSE before the handshake completes would delete the TCB (RFC 9293
    // §3.10.4, SYN-SENT) and the queued data with it: wait for ESTABLISHED.
    let synchronized = e.stack.state(id).is_ok_and(State::is_synchronized);
    if e.written == cfg.bytes && !e.closed && synchronized {
        if e.stack.close(now, id).is_ok() && cfg.trace {
            trace.push((
                now,
                TraceEvent::Note {
                    side: e.side,
                    text: "close".into(),
                },
            ));
        }
        e.closed = true;
    }
    while let Some(ev) = e.stack.poll_event(id) {
        if let Event::Closed(how) = ev {
            e.outcome = Some(how);
            if cfg.trace {
                trace.push((
                    now,
                    TraceEvent::State {
                        side: e.side,
                        state: State::Closed,
                    },
                ));
            }
        }
    }
}

fn verify(t: &mut Transfer, cfg: &SimConfig, from: Side, data: &[u8]) {
    for &byte in data {
        let pos = t.delivered + t.excess;
        if pos >= cfg.bytes {
            t.excess += 1;
            continue;
        }
        if t.corrupt_at.is_none() && byte != stream_byte(cfg.seed, from, pos) {
            t.corrupt_at = Some(pos);
        }
        if t.corrupt_at.is_none() {
            t.delivered += 1;
        } else {
            t.excess += 1;
        }
    }
}

fn note_state(e: &mut Endpoint, now: Instant, trace: bool, out: &mut Vec<(Instant, TraceEvent)>) {
    let Some(id) = e.conn.or(e.embryo) else {
        return;
    };
    let Ok(state) = e.stack.state(id) else { return };
    if e.last_state != Some(state) {
        e.last_state = Some(state);
        if trace && state != State::Closed {
            out.push((
                now,
                TraceEvent::State {
                    side: e.side,
                    state,
                },
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The checker itself: a wrong byte, and bytes past the stream's end,
    /// are caught (so a run cannot pass by delivering garbage).
    #[test]
    fn verification_catches_corruption_and_excess() {
        let cfg = SimConfig::new(4, 0.0, 0.0, 0.0, 10);
        let good: Vec<u8> = (0..10).map(|i| stream_byte(4, Side::A, i)).collect();
        let mut t = Transfer::default();
        verify(&mut t, &cfg, Side::A, &good[..6]);
        verify(&mut t, &cfg, Side::A, &good[6..]);
        assert!(t.complete(10));
        verify(&mut t, &cfg, Side::A, &[0]);
        assert_eq!(t.excess, 1);
        assert!(!t.complete(10));

        let mut bad = good.clone();
        bad[3] ^= 1;
        let mut t = Transfer::default();
        verify(&mut t, &cfg, Side::A, &bad);
        assert_eq!((t.corrupt_at, t.delivered), (Some(3), 3));
        // The other side's stream differs, so crossed streams are caught too.
        let mut t = Transfer::default();
        let other: Vec<u8> = (0..10).map(|i| stream_byte(4, Side::B, i)).collect();
        verify(&mut t, &cfg, Side::A, &other);
        assert!(t.corrupt_at.is_some());
    }

    #[test]
    fn bad_configurations_are_refused() {
        let mut c = SimConfig::new(1, 1.0, 0.0, 0.0, 10);
        assert!(matches!(
            c.validate(),
            Err(SimError::Probability("loss", _))
        ));
        c.loss = 0.1;
        c.duplicate = f64::NAN;
        assert!(matches!(c.validate(), Err(SimError::Probability("dup", _))));
        c.duplicate = 0.0;
        c.delay = c.msl;
        assert_eq!(c.validate(), Err(SimError::DelayBeyondMsl));
        assert!(run(&c).is_err());
    }
}
