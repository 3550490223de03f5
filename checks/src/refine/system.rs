//! The system under test: two engines, client and server, joined by a
//! simulated network that carries the bytes they emit, on virtual time.
//!
//! The network and the hosts are the environment, not the protocol: segments
//! age one per tick and are gone once older than MSL; a crashed host is down
//! for one tick, then keeps quiet for MSL (RFC 9293 §3.4.3), and a server host
//! listens again once up; the server's user listens again as soon as its
//! connection is gone. Everything the protocol does is the engine's own.

use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4};
use std::time::Duration;

use serde::Serialize;
use synack_model::diagram::{Event, Lane};
use synack_model::endpoint::Params;
use synack_model::network::Net;
use synack_tcp::wire::{Ipv4Header, PseudoHeader, Segment as WireSegment};
use synack_tcp::{
    Config as EngineConfig, Connection, FourTuple, Instant, IsnSource, RetryLimit, SeqNum, State,
    TimeWaitRst,
};

use super::abstraction;
use super::reference::{side_name, Step, Wire};

/// One model tick in engine time.
pub const TICK: Duration = Duration::from_secs(1);

pub const CLIENT_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 49152));
pub const SERVER_ADDR: SocketAddr =
    SocketAddr::V4(SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 80));

pub fn addr(side: usize) -> SocketAddr {
    if side == 0 {
        CLIENT_ADDR
    } else {
        SERVER_ADDR
    }
}

pub fn lane(side: usize) -> Lane {
    if side == 0 {
        Lane::Left
    } else {
        Lane::Right
    }
}

/// The engine configuration that matches one side of the model: the design
/// decisions of `params` (a variant's), one tick = [`TICK`], RTO fixed
/// (initial = min = max, so backoff cannot diverge from the model's constant
/// RTO), R2 = the model's retry count, no options, Nagle and delayed ACK off,
/// receive buffer = RCV.WND, one challenge ACK per tick (RFC 5961 §7), no
/// MAY-2 reopening of TIME-WAIT (the model has none), and ABORT lingering in
/// TIME-WAIT exactly when the model's does (§3.5.2 rather than §3.10.5). `iss` is the model's ISS
/// for this OPEN plus `base`.
pub fn engine_config(params: &Params, msl: u8, iss: u32) -> EngineConfig {
    let ticks = |n: u8| TICK * u32::from(n);
    let rto = ticks(params.rto);
    EngineConfig {
        recv_buffer: usize::from(params.rcv_wnd),
        send_buffer: 64,
        msl: ticks(msl),
        time_wait: Some(ticks(params.time_wait)),
        time_wait_rst: if params.rst_ends_time_wait {
            TimeWaitRst::Rfc9293Accept
        } else {
            TimeWaitRst::Rfc1337Ignore
        },
        time_wait_reopen: false,
        abort_time_wait: params.abort_enters_time_wait && params.time_wait > 0,
        fin_wait_2_timeout: params.fin_wait_2_timeout.map(ticks),
        r1: u32::MAX,
        r2: RetryLimit::Count(u32::from(params.max_retries)),
        syn_r2: RetryLimit::Count(u32::from(params.max_retries)),
        initial_rto: rto,
        min_rto: rto,
        max_rto: rto,
        keepalive: None,
        nagle: false,
        delayed_ack: None,
        window_scale: false,
        timestamps: false,
        sack: false,
        isn: IsnSource::Fixed(SeqNum(iss)),
        challenge_ack_limit: 1,
        ..EngineConfig::default()
    }
}

/// Whether a host is running (the environment's view, as the model's `Host`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum HostState {
    Up,
    Down(u8),
    Quiet(u8),
}

/// A segment on the simulated wire: the bytes the engine wrote, and how the
/// network sees them (sender, abstract segment, age, delayed).
#[derive(Clone, Debug)]
pub struct Packet {
    pub bytes: Vec<u8>,
    pub wire: Wire,
}

impl Packet {
    pub fn wire(&self) -> Wire {
        self.wire
    }

    pub fn from(&self) -> u8 {
        self.wire.from
    }
}

/// One tick of the network for one packet, by the model's own rule
/// (`Net::age`): `None` once the packet has outlived MSL.
fn age_packet(w: Wire, msl: u8) -> Option<Wire> {
    let mut n = Net::new();
    n.insert(w.flight());
    if n.age(msl).is_empty() {
        n.get(0).map(Wire::of)
    } else {
        None
    }
}

/// The network holds a packet past the tick, by the model's own rule (`Net::delay`).
fn delay_packet(w: Wire) -> Wire {
    let mut n = Net::new();
    n.insert(w.flight());
    n.delay(0).map_or(w, |f| Wire::of(&f))
}

/// One host: the engine, the host's condition, and the user's record.
#[derive(Debug)]
pub struct Host {
    pub conn: Connection,
    pub host: HostState,
    /// Bytes the user SENT in the current connection.
    pub tx: u8,
    /// Connections this host has had (the tag in its data bytes).
    pub serial: u8,
    /// Bytes delivered to the user in the current connection.
    pub rx: Vec<u8>,
    /// ISS of each of this host's connections, by serial.
    pub iss: Vec<u32>,
    /// The peer's serial each time this host entered ESTABLISHED.
    pub established_with: Vec<u8>,
    /// How this host's last connection ended, with its serial.
    pub ended: Option<(u8, synack_tcp::Ended)>,
}

/// A data byte names its sender, the sender's connection and its offset, so
/// the receiver's history can be judged: bit 7 side, bits 3..7 serial, 0..3 offset.
pub fn data_byte(side: usize, serial: u8, offset: u8) -> u8 {
    ((side as u8) << 7) | ((serial & 0x0f) << 3) | (offset & 0x07)
}

/// Something in the engines' history that breaks a property of the model.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Violation {
    pub property: &'static str,
    pub detail: String,
}

/// What the system records as it runs.
#[derive(Clone, Debug, Serialize)]
pub struct Emitted {
    pub at_tick: u8,
    pub from: u8,
    pub abs: String,
    pub seq: u32,
    pub ack: u32,
    pub window: u16,
    pub len: usize,
}

/// The two engines and the network between them.
#[derive(Debug)]
pub struct System {
    pub params: [Params; 2],
    pub msl: u8,
    pub base: u32,
    pub hosts: [Host; 2],
    pub net: Vec<Packet>,
    pub now: u8,
    /// IP packets as they left the engines, for the pcap.
    pub packets: Vec<(Instant, Vec<u8>)>,
    /// Sequence-diagram events of the engines' history.
    pub events: Vec<Event>,
    /// Segments emitted by the last step.
    pub last_emitted: Vec<Emitted>,
    /// Property violations seen on the engines' history.
    pub violations: Vec<Violation>,
    /// Errors of the engines' API where the model accepted the call.
    pub errors: Vec<String>,
    /// Per side: the model has already answered an unacceptable segment
    /// this tick (`Tcb::ack_throttled`), so a further answer is suppressed.
    /// Set by the harness before each step from the model's state.
    pub throttled: [bool; 2],
    /// The side whose next pure ACK the model's throttle suppresses.
    suppress_ack: Option<usize>,
    /// A pure ACK sent in the last step in answer to an unacceptable segment
    /// while the model's endpoint was throttled.
    pub surplus: Option<Wire>,
    /// The server's user listens again as soon as its connection is gone
    /// (when no model says when).
    pub auto_relisten: bool,
    /// The engines' states when the last step began.
    step_before: [State; 2],
    /// Segments the network lost so far (dropped, or expired past MSL), and
    /// whether a host crashed or a user aborted: `final_ack_recovery` only
    /// speaks of runs with at most one loss and neither, as the model's does.
    losses: u8,
    aborted_or_crashed: bool,
}

impl System {
    pub fn new(params: [Params; 2], msl: u8, base: u32) -> System {
        let client = Connection::closed(&engine_config(&params[0], msl, base), CLIENT_ADDR);
        let server = Connection::listen(&engine_config(&params[1], msl, base), SERVER_ADDR)
            .expect("the fixed engine configuration is valid");
        let host = |conn| Host {
            conn,
            host: HostState::Up,
            tx: 0,
            serial: 0,
            rx: Vec::new(),
            iss: Vec::new(),
            established_with: Vec::new(),
            ended: None,
        };
        let mut sys = System {
            params,
            msl,
            base,
            hosts: [host(client), host(server)],
            net: Vec::new(),
            now: 0,
            packets: Vec::new(),
            events: Vec::new(),
            last_emitted: Vec::new(),
            violations: Vec::new(),
            errors: Vec::new(),
            throttled: [false; 2],
            suppress_ack: None,
            surplus: None,
            auto_relisten: true,
            step_before: [State::Closed, State::Listen],
            losses: 0,
            aborted_or_crashed: false,
        };
        for side in 0..2 {
            sys.events.push(Event::State {
                lane: lane(side),
                state: sys.describe(side),
            });
        }
        sys
    }

    pub fn instant(&self) -> Instant {
        Instant::ZERO + TICK * u32::from(self.now)
    }

    /// An engine's state name, with the host's condition when not up.
    pub fn describe(&self, side: usize) -> String {
        let name = self.hosts[side].conn.state().rfc_name();
        match self.hosts[side].host {
            HostState::Up => name.to_string(),
            HostState::Down(_) => format!("{name} (down)"),
            HostState::Quiet(_) => format!("{name} (quiet)"),
        }
    }

    fn config_for(&self, side: usize, model_iss: u16) -> EngineConfig {
        engine_config(
            &self.params[side],
            self.msl,
            self.base.wrapping_add(u32::from(model_iss)),
        )
    }

    fn note(&mut self, side: usize, text: impl Into<String>) {
        self.events.push(Event::Note {
            lane: lane(side),
            text: text.into(),
        });
    }

    /// Applies one step. The ISS for an OPEN or an accepted SYN is the one
    /// the side's `Params::isn` generator (the model's) gives at this tick.
    pub fn apply(&mut self, step: &Step) {
        self.last_emitted.clear();
        self.suppress_ack = None;
        self.surplus = None;
        let before: [State; 2] = [self.hosts[0].conn.state(), self.hosts[1].conn.state()];
        self.step_before = before;
        let now = self.instant();
        match *step {
            Step::Idle => {}
            Step::Open { side, active } => {
                let side = usize::from(side);
                self.note(
                    side,
                    if active {
                        "OPEN (active)"
                    } else {
                        "OPEN (passive)"
                    },
                );
                let cfg = self.config_for(side, self.params[side].isn.iss(self.now));
                let h = &mut self.hosts[side];
                let made = if active {
                    Connection::connect(
                        &cfg,
                        FourTuple {
                            local: addr(side),
                            remote: addr(1 - side),
                        },
                        now,
                    )
                } else {
                    Connection::listen(&cfg, addr(side))
                };
                match made {
                    Ok(c) => h.conn = c,
                    Err(e) => self
                        .errors
                        .push(format!("{} OPEN: {e}", side_name(side as u8))),
                }
            }
            Step::Send(side) => {
                let side = usize::from(side);
                let h = &mut self.hosts[side];
                let byte = data_byte(side, h.serial, h.tx);
                let tx = h.tx;
                match h.conn.send(&[byte]) {
                    Ok(1) => h.tx += 1,
                    Ok(n) => self.errors.push(format!(
                        "{} SEND took {n} bytes of 1",
                        side_name(side as u8)
                    )),
                    Err(e) => self
                        .errors
                        .push(format!("{} SEND: {e}", side_name(side as u8))),
                }
                self.note(side, format!("SEND byte {tx}"));
            }
            Step::Close(side) => {
                let side = usize::from(side);
                self.note(side, "CLOSE");
                if let Err(e) = self.hosts[side].conn.close(now) {
                    self.errors
                        .push(format!("{} CLOSE: {e}", side_name(side as u8)));
                }
            }
            Step::Abort(side) => {
                let side = usize::from(side);
                self.aborted_or_crashed = true;
                self.note(side, "ABORT");
                if let Err(e) = self.hosts[side].conn.abort(now) {
                    self.errors
                        .push(format!("{} ABORT: {e}", side_name(side as u8)));
                }
            }
            Step::Crash(side) => {
                let side = usize::from(side);
                self.aborted_or_crashed = true;
                self.note(side, "crash: TCB lost");
                let cfg = self.config_for(side, 0);
                let h = &mut self.hosts[side];
                h.conn = Connection::closed(&cfg, addr(side));
                h.host = HostState::Down(1);
            }
            Step::Drop(w) => {
                if let Some(i) = self.find(&w) {
                    let p = self.net.remove(i);
                    self.losses = self.losses.saturating_add(1);
                    self.events.push(Event::Lost {
                        from: lane(usize::from(p.from())),
                        label: self.label(&p.bytes),
                    });
                }
            }
            Step::Duplicate(w) => {
                if let Some(i) = self.find(&w) {
                    let p = self.net[i].clone();
                    self.events.push(Event::Duplicated {
                        from: lane(usize::from(p.from())),
                        label: self.label(&p.bytes),
                    });
                    self.net.push(p);
                }
            }
            Step::Delay(w) => {
                if let Some(i) = self.find(&w) {
                    let label = self.label(&self.net[i].bytes);
                    self.net[i].wire = delay_packet(self.net[i].wire);
                    self.events.push(Event::Note {
                        lane: lane(usize::from(w.from)),
                        text: format!("network delays {label}"),
                    });
                }
            }
            Step::Deliver(w) => {
                if let Some(i) = self.find(&w) {
                    let p = self.net.remove(i);
                    self.deliver(p);
                }
            }
            Step::Tick => self.tick(),
        }
        self.settle(before);
    }

    fn find(&self, w: &Wire) -> Option<usize> {
        self.net.iter().position(|p| p.wire() == *w)
    }

    /// A diagram label with the engine's real numbers.
    fn label(&self, bytes: &[u8]) -> String {
        match WireSegment::parse_unverified(bytes) {
            Ok(s) => {
                let mut l = format!("{} seq={}", s.flags(), s.seq().0);
                if s.flags().ack() {
                    l.push_str(&format!(" ack={}", s.ack().0));
                }
                if !s.payload().is_empty() {
                    l.push_str(&format!(" len={}", s.payload().len()));
                }
                l
            }
            Err(e) => format!("unparsable: {e}"),
        }
    }

    fn deliver(&mut self, p: Packet) {
        let to = 1 - usize::from(p.from());
        let label = self.label(&p.bytes);
        if self.hosts[to].host != HostState::Up {
            self.events.push(Event::Deliver {
                from: lane(usize::from(p.from())),
                label,
                note: Some("host down or quiet: discarded".into()),
            });
            return;
        }
        self.events.push(Event::Deliver {
            from: lane(usize::from(p.from())),
            label,
            note: None,
        });
        let now = self.instant();
        if self.hosts[to].conn.state() == State::Listen {
            // A listener holds no connection state: give it the ISS the
            // model's ISN clock reads now, for the SYN that may arrive.
            let cfg = self.config_for(to, self.params[to].isn.iss(self.now));
            match Connection::listen(&cfg, addr(to)) {
                Ok(c) => self.hosts[to].conn = c,
                Err(e) => self.errors.push(format!("relisten: {e}")),
            }
        }
        let from_addr = addr(usize::from(p.from()));
        let answered = |c: &Connection| c.stats().dropped.out_of_window + c.stats().challenge_acks;
        let before = answered(&self.hosts[to].conn);
        if let Err(e) = self.hosts[to].conn.on_bytes(now, &p.bytes, from_addr) {
            self.errors.push(format!(
                "{} refused its own peer's bytes: {e}",
                side_name(to as u8)
            ));
        }
        if self.throttled[to] && answered(&self.hosts[to].conn) > before {
            self.suppress_ack = Some(to);
        }
    }

    fn tick(&mut self) {
        self.now += 1;
        self.events.push(Event::Tick {
            now: u32::from(self.now),
        });
        let msl = self.msl;
        let mut kept = Vec::with_capacity(self.net.len());
        for mut p in std::mem::take(&mut self.net) {
            match age_packet(p.wire, msl) {
                Some(w) => {
                    p.wire = w;
                    kept.push(p);
                }
                None => {
                    self.losses = self.losses.saturating_add(1);
                    let label = self.label(&p.bytes);
                    self.events.push(Event::Expired {
                        from: lane(usize::from(p.from())),
                        label,
                    });
                }
            }
        }
        self.net = kept;
        let now = self.instant();
        for side in 0..2 {
            match self.hosts[side].host {
                HostState::Up => {
                    if self.hosts[side]
                        .conn
                        .poll_timeout()
                        .is_some_and(|t| t <= now)
                    {
                        self.hosts[side].conn.on_timeout(now);
                    }
                }
                HostState::Down(n) => {
                    self.hosts[side].host = if n <= 1 {
                        HostState::Quiet(msl)
                    } else {
                        HostState::Down(n - 1)
                    };
                    if n <= 1 {
                        self.note(side, "restart, quiet for MSL");
                    }
                }
                HostState::Quiet(n) => {
                    if n <= 1 {
                        self.hosts[side].host = HostState::Up;
                        if side == 1 {
                            self.relisten(side);
                        }
                    } else {
                        self.hosts[side].host = HostState::Quiet(n - 1);
                    }
                }
            }
        }
    }

    /// Takes the packet `w` off the wire: the model's throttle suppressed it.
    pub fn lose_surplus(&mut self, w: &Wire) -> bool {
        match self.net.iter().rposition(|p| p.wire() == *w) {
            Some(i) => {
                let p = self.net.remove(i);
                let label = self.label(&p.bytes);
                self.events.push(Event::Lost {
                    from: lane(usize::from(w.from)),
                    label: format!("{label} (surplus answer: the model throttles)"),
                });
                true
            }
            None => false,
        }
    }

    /// The model's user listens on the server again (it does so after a
    /// failure only once the clock has ticked). The engine must itself have
    /// closed the connection; a SYN-RECEIVED that the protocol returns to
    /// LISTEN (RFC 9293 §3.10.7.4) is the engine's job, not the user's.
    pub fn user_listens(&mut self, model_server_listens: bool) {
        let h = &self.hosts[1];
        if model_server_listens
            && h.host == HostState::Up
            && h.conn.state() == State::Closed
            && self.step_before[1] != State::SynReceived
        {
            self.relisten(1);
            self.events.push(Event::State {
                lane: lane(1),
                state: self.describe(1),
            });
        }
    }

    fn relisten(&mut self, side: usize) {
        let cfg = self.config_for(side, 0);
        match Connection::listen(&cfg, addr(side)) {
            Ok(c) => self.hosts[side].conn = c,
            Err(e) => self.errors.push(format!("relisten: {e}")),
        }
    }

    /// After a step: zero-length timers fire (a TIME-WAIT of 0 ticks), the
    /// applications read, the engines transmit, the server listens again.
    #[allow(clippy::needless_range_loop)] // `side` also names the peer and the lane
    fn settle(&mut self, before: [State; 2]) {
        let now = self.instant();
        for side in 0..2 {
            let h = &mut self.hosts[side];
            if h.conn.poll_timeout().is_some_and(|t| t <= now) {
                h.conn.on_timeout(now);
            }
            // A new connection: a new serial, a fresh user record.
            let st = h.conn.state();
            let had = !matches!(before[side], State::Closed | State::Listen);
            let has = !matches!(st, State::Closed | State::Listen);
            if !had && has {
                h.serial = h.serial.wrapping_add(1);
                h.tx = 0;
                h.rx.clear();
                h.iss.push(h.conn.status().iss.0);
            }
            // The application reads everything at once (the model's RCV.WND is constant).
            let mut got = Vec::new();
            let mut buf = [0u8; 64];
            while let Ok(n) = h.conn.recv(&mut buf) {
                if n == 0 {
                    break;
                }
                got.extend_from_slice(&buf[..n]);
            }
            for b in got {
                self.check_byte(side, b);
                self.hosts[side].rx.push(b);
            }
            while self.hosts[side].conn.poll_event().is_some() {}
            self.transmit(side);
        }
        // The server's user listens again once its connection is gone: at
        // once when the system runs alone; with a model, when the model's
        // user does (`user_listens`).
        if self.auto_relisten
            && self.hosts[1].conn.state() == State::Closed
            && self.hosts[1].host == HostState::Up
        {
            self.relisten(1);
        }
        for (side, &was) in before.iter().enumerate() {
            if self.hosts[side].conn.state() != was {
                self.events.push(Event::State {
                    lane: lane(side),
                    state: self.describe(side),
                });
            }
        }
        for (side, &was) in before.iter().enumerate() {
            self.check_connection(side, was);
        }
        self.check_isn();
    }

    /// No unrequested connection, no old handshake segment accepted: a host
    /// enters ESTABLISHED only with the peer's latest connection, once. Final-ACK recovery: when one side of
    /// a connection ends gracefully, the other is not reset or timed out.
    fn check_connection(&mut self, side: usize, before: State) {
        let peer = 1 - side;
        let st = self.hosts[side].conn.status();
        if st.state == State::Established && before != State::Established {
            let peer_serial = self.hosts[peer].serial;
            let peer_iss = self.hosts[peer].iss.last().copied();
            let again = self.hosts[side].established_with.contains(&peer_serial);
            if peer_iss != Some(st.irs.0) || again {
                // Classified as the model's ghost flags do: an active opener
                // (its OPEN is the latest) completed by a handshake segment
                // of an older exchange has accepted an old segment; a passive
                // one was opened by an old SYN, a connection nobody asked for.
                self.violations.push(Violation {
                    property: if st.passive_open {
                        "no_unrequested_connection"
                    } else {
                        "no_old_segment_accepted"
                    },
                    detail: if peer_iss != Some(st.irs.0) {
                        format!(
                            "{} ESTABLISHED with IRS {}, not the ISS of the peer's latest connection ({}: {:?})",
                            side_name(side as u8),
                            st.irs.0,
                            peer_serial,
                            peer_iss,
                        )
                    } else {
                        format!(
                            "{} ESTABLISHED a second time with the peer's connection {} (ISS {})",
                            side_name(side as u8),
                            peer_serial,
                            st.irs.0,
                        )
                    },
                });
            }
            self.hosts[side].established_with.push(peer_serial);
        }
        if let Some(e) = st.ended {
            let serial = self.hosts[side].serial;
            if self.hosts[side].ended.map(|(s, _)| s) != Some(serial) && before != State::Closed {
                self.hosts[side].ended = Some((serial, e));
                if let Some((ps, pe)) = self.hosts[peer].ended {
                    use synack_tcp::{Ended, ResetReason, TimeoutKind};
                    let graceful = |e: Ended| e == Ended::Graceful;
                    let broken = |e: Ended| {
                        matches!(
                            e,
                            Ended::Reset(ResetReason::ByPeer)
                                | Ended::TimedOut(TimeoutKind::Retransmission)
                        )
                    };
                    let paired = ps == self.hosts[peer].serial
                        && self.hosts[side].established_with.last() == Some(&ps);
                    let in_scope = self.losses <= 1 && !self.aborted_or_crashed;
                    if paired
                        && in_scope
                        && ((graceful(e) && broken(pe)) || (broken(e) && graceful(pe)))
                    {
                        self.violations.push(Violation {
                            property: "final_ack_recovery",
                            detail: format!(
                                "{} ended {:?} while its peer ended {:?}",
                                side_name(side as u8),
                                e,
                                pe
                            ),
                        });
                    }
                }
            }
        }
    }

    fn transmit(&mut self, side: usize) {
        let now = self.instant();
        let mut buf = [0u8; 1600];
        let quiet = self.hosts[side].host != HostState::Up;
        while let Some(t) = self.hosts[side].conn.poll_transmit(now, &mut buf) {
            let bytes = buf[..t.len].to_vec();
            let pseudo = match PseudoHeader::new(t.src.ip(), t.dst.ip()) {
                Ok(p) => p,
                Err(e) => {
                    self.errors.push(format!("pseudo-header: {e}"));
                    continue;
                }
            };
            let seg = match WireSegment::parse(&bytes, &pseudo) {
                Ok(s) => s,
                Err(e) => {
                    self.errors.push(format!(
                        "{} emitted a segment that does not parse: {e}",
                        side_name(side as u8)
                    ));
                    continue;
                }
            };
            if t.dst != addr(1 - side) || t.src != addr(side) {
                self.errors.push(format!(
                    "{} sent to {} from {}",
                    side_name(side as u8),
                    t.dst,
                    t.src
                ));
            }
            let abs = match abstraction::segment(&seg, self.base) {
                Ok(a) => a,
                Err(e) => {
                    self.errors.push(format!(
                        "{} emitted {}: {e}",
                        side_name(side as u8),
                        self.label(&bytes)
                    ));
                    continue;
                }
            };
            self.last_emitted.push(Emitted {
                at_tick: self.now,
                from: side as u8,
                abs: abs.label(),
                seq: seg.seq().0,
                ack: seg.ack().0,
                window: seg.window(),
                len: seg.payload().len(),
            });
            if !seg.flags().rst()
                && usize::from(seg.window()) != usize::from(self.params[side].rcv_wnd)
            {
                self.errors.push(format!(
                    "{} advertised window {} in [{}]; the model's RCV.WND is {}",
                    side_name(side as u8),
                    seg.window(),
                    abs.label(),
                    self.params[side].rcv_wnd
                ));
            }
            let label = self.label(&bytes);
            if quiet {
                continue;
            }
            // A candidate for the model's per-tick throttle of answers to
            // unacceptable segments (see `abstraction`): the harness decides.
            if self.suppress_ack == Some(side) {
                let st = self.hosts[side].conn.status();
                let f = seg.flags();
                if f.ack()
                    && !f.syn()
                    && !f.fin()
                    && !f.rst()
                    && seg.payload().is_empty()
                    && seg.seq() == st.snd_nxt
                    && seg.ack() == st.rcv_nxt
                {
                    self.suppress_ack = None;
                    self.surplus = Some(Wire {
                        from: side as u8,
                        seg: abs,
                        age: 0,
                        delayed: false,
                    });
                }
            }
            self.events.push(Event::Send {
                from: lane(side),
                label,
            });
            // The IP packet for the pcap, stamped with the step's time plus
            // its order, so Wireshark keeps the order.
            let mut ip = vec![0u8; 20 + bytes.len()];
            let (sa, da) = match (t.src.ip(), t.dst.ip()) {
                (std::net::IpAddr::V4(a), std::net::IpAddr::V4(b)) => (a, b),
                _ => (Ipv4Addr::UNSPECIFIED, Ipv4Addr::UNSPECIFIED),
            };
            if Ipv4Header::tcp(sa, da).emit(bytes.len(), &mut ip).is_ok() {
                ip[20..].copy_from_slice(&bytes);
                let at = now + Duration::from_micros(self.packets.len() as u64 % 1_000_000);
                self.packets.push((at, ip));
            }
            self.net.push(Packet {
                bytes,
                wire: Wire {
                    from: side as u8,
                    seg: abs,
                    age: 0,
                    delayed: false,
                },
            });
        }
    }

    /// In-order exactly-once delivery and no old duplicate, judged on the
    /// bytes the user received: each must be the peer's current connection's
    /// next byte.
    fn check_byte(&mut self, side: usize, b: u8) {
        let peer = 1 - side;
        let from_side = usize::from(b >> 7);
        let serial = (b >> 3) & 0x0f;
        let offset = b & 0x07;
        let expected_offset = self.hosts[side].rx.len() as u8;
        let peer_serial = self.hosts[peer].serial & 0x0f;
        if from_side != peer {
            self.violations.push(Violation {
                property: "in_order_exactly_once",
                detail: format!("{} received its own byte {b:#04x}", side_name(side as u8)),
            });
        } else if serial != peer_serial {
            self.violations.push(Violation {
                property: "no_old_segment_accepted",
                detail: format!(
                    "{} received byte {offset} of the peer's connection {serial}; the peer is on connection {peer_serial}",
                    side_name(side as u8)
                ),
            });
        } else if offset != expected_offset & 0x07 {
            self.violations.push(Violation {
                property: "in_order_exactly_once",
                detail: format!(
                    "{} received byte {offset} where byte {expected_offset} was next",
                    side_name(side as u8)
                ),
            });
        }
    }

    /// Both engines ESTABLISHED with each other: each one's IRS is the
    /// other's ISS (RFC 9293 §3.4).
    fn check_isn(&mut self) {
        let (c, s) = (self.hosts[0].conn.status(), self.hosts[1].conn.status());
        if c.state == State::Established
            && s.state == State::Established
            && (c.irs != s.iss || s.irs != c.iss)
        {
            let v = Violation {
                property: "isn_agreement",
                detail: format!(
                    "both ESTABLISHED: client ISS {} IRS {}, server ISS {} IRS {}",
                    c.iss.0, c.irs.0, s.iss.0, s.irs.0
                ),
            };
            if !self.violations.contains(&v) {
                self.violations.push(v);
            }
        }
    }

    /// Both engines closed (the server listening) and nothing in flight.
    pub fn all_closed(&self) -> bool {
        self.hosts[0].conn.state() == State::Closed
            && matches!(self.hosts[1].conn.state(), State::Listen | State::Closed)
            && self.net.is_empty()
    }
}
