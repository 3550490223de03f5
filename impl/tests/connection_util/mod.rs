//! Helpers shared by the connection tests: two endpoints on fixed addresses,
//! a hand-driven peer that writes raw segments, and a wire between two
//! `Connection`s that carries real, checksummed bytes.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use synack_tcp::{
    Config, Connection, Event, Flags, FourTuple, Instant, IsnSource, PseudoHeader, Segment, SeqNum,
    TcpHeader, TcpOptions, TcpSegment,
};

pub const A: &str = "10.0.0.1:40000";
pub const B: &str = "10.0.0.2:80";

pub fn a() -> SocketAddr {
    A.parse().unwrap()
}
pub fn b() -> SocketAddr {
    B.parse().unwrap()
}

pub fn t(ms: u64) -> Instant {
    Instant::from_millis(ms)
}

/// A plain configuration: fixed ISN, no options, no delayed ACK, no Nagle,
/// so that segments are exactly predictable.
pub fn plain(iss: u32) -> Config {
    Config {
        isn: IsnSource::Fixed(SeqNum(iss)),
        window_scale: false,
        timestamps: false,
        sack: false,
        delayed_ack: None,
        nagle: false,
        ..Config::default()
    }
}

pub fn pseudo(src: SocketAddr, dst: SocketAddr) -> PseudoHeader {
    PseudoHeader::new(src.ip(), dst.ip()).unwrap()
}

/// Everything `c` wants to send now, parsed back into owned segments.
pub fn drain(c: &mut Connection, now: Instant) -> Vec<(SocketAddr, TcpSegment)> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 65536];
    for _ in 0..10_000 {
        let Some(tx) = c.poll_transmit(now, &mut buf) else {
            break;
        };
        let seg = Segment::parse(&buf[..tx.len], &pseudo(tx.src, tx.dst))
            .expect("the engine emitted a segment that does not parse or has a bad checksum");
        out.push((tx.dst, seg.to_owned()));
    }
    out
}

/// Like `drain`, expecting exactly one segment.
pub fn one(c: &mut Connection, now: Instant) -> TcpSegment {
    let mut segs = drain(c, now);
    assert_eq!(segs.len(), 1, "expected one segment, got {segs:?}");
    segs.pop().unwrap().1
}

/// Nothing to send.
pub fn silent(c: &mut Connection, now: Instant) {
    let segs = drain(c, now);
    assert!(segs.is_empty(), "expected silence, got {segs:?}");
}

/// Build a segment from `from` to `to` and deliver it to `c` as bytes.
pub struct Raw {
    pub from: SocketAddr,
    pub to: SocketAddr,
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
    pub payload: Vec<u8>,
}

impl Raw {
    pub fn new(from: SocketAddr, to: SocketAddr, seq: u32, flags: Flags) -> Raw {
        Raw {
            from,
            to,
            seq,
            ack: 0,
            flags,
            window: 65535,
            urgent: 0,
            options: TcpOptions::new(),
            payload: Vec::new(),
        }
    }
    pub fn ack(mut self, ack: u32) -> Raw {
        self.ack = ack;
        self.flags |= Flags::ACK;
        self
    }
    pub fn window(mut self, w: u16) -> Raw {
        self.window = w;
        self
    }
    pub fn data(mut self, d: &[u8]) -> Raw {
        self.payload = d.to_vec();
        self
    }
    pub fn opts(mut self, o: TcpOptions) -> Raw {
        self.options = o;
        self
    }
    pub fn urgent(mut self, up: u16) -> Raw {
        self.urgent = up;
        self.flags |= Flags::URG;
        self
    }
    pub fn bytes(&self) -> Vec<u8> {
        let h = TcpHeader {
            src_port: self.from.port(),
            dst_port: self.to.port(),
            seq: SeqNum(self.seq),
            ack: SeqNum(self.ack),
            flags: self.flags,
            window: self.window,
            urgent: self.urgent,
            options: self.options,
            ..TcpHeader::default()
        };
        let mut buf = vec![0u8; 100 + self.payload.len()];
        let n = h
            .emit(&pseudo(self.from, self.to), &self.payload, &mut buf)
            .unwrap();
        buf.truncate(n);
        buf
    }
    /// Deliver to `c` (which must live at `self.to`).
    pub fn to(self, c: &mut Connection, now: Instant) {
        let bytes = self.bytes();
        c.on_bytes(now, &bytes, self.from)
            .expect("test segment must parse");
    }
}

pub fn events(c: &mut Connection) -> Vec<Event> {
    std::iter::from_fn(|| c.poll_event()).collect()
}

/// Move every pending segment from `from` to `to` (both directions until
/// quiet), returning the segments in the order they travelled, each tagged
/// with the name of its sender.
pub fn exchange(x: &mut Connection, y: &mut Connection, now: Instant) -> Vec<(char, TcpSegment)> {
    let mut log = Vec::new();
    for _ in 0..1000 {
        let xs = drain(x, now);
        for (_, s) in &xs {
            deliver(y, x.local(), s, now);
            log.push(('x', s.clone()));
        }
        let ys = drain(y, now);
        for (_, s) in &ys {
            deliver(x, y.local(), s, now);
            log.push(('y', s.clone()));
        }
        if xs.is_empty() && ys.is_empty() {
            return log;
        }
    }
    panic!("the two connections never went quiet: {log:?}");
}

/// Deliver an owned segment (as real bytes) from `from` to `c`.
pub fn deliver(c: &mut Connection, from: SocketAddr, s: &TcpSegment, now: Instant) {
    let bytes = s.to_bytes(&pseudo(from, c.local())).unwrap();
    c.on_bytes(now, &bytes, from).unwrap();
}

/// Client `a()` connected to server `b()` through a full handshake, events drained.
pub fn established(cfg_a: &Config, cfg_b: &Config) -> (Connection, Connection) {
    let mut srv = Connection::listen(cfg_b, b()).unwrap();
    let mut cli = Connection::connect(
        cfg_a,
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    exchange(&mut cli, &mut srv, t(0));
    assert_eq!(cli.state(), synack_tcp::State::Established);
    assert_eq!(srv.state(), synack_tcp::State::Established);
    events(&mut cli);
    events(&mut srv);
    (cli, srv)
}

/// Advance time to every deadline up to `until`, firing timers and moving
/// segments between the two connections.
pub fn run_until(
    x: &mut Connection,
    y: &mut Connection,
    mut now: Instant,
    until: Instant,
) -> Instant {
    loop {
        exchange(x, y, now);
        let next = [x.poll_timeout(), y.poll_timeout()]
            .into_iter()
            .flatten()
            .min();
        match next {
            Some(d) if d <= until => {
                now = d.max(now);
                x.on_timeout(now);
                y.on_timeout(now);
            }
            _ => return until,
        }
    }
}

pub fn secs(s: u64) -> Duration {
    Duration::from_secs(s)
}

// ---- A connection at `a()` (ISS 100) against a hand-driven peer at `b()`
// ---- (ISS 300), put into each state by real segments.

pub const ISS: u32 = 100;
pub const PEER_ISS: u32 = 300;

/// ESTABLISHED: SND.NXT = 101, RCV.NXT = 301, peer window 65535.
pub fn client_est(cfg: &Config) -> Connection {
    let mut c = Connection::connect(
        cfg,
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    let syn = one(&mut c, t(0));
    assert!(syn.header.flags.syn());
    Raw::new(b(), a(), PEER_ISS, Flags::SYN)
        .ack(ISS + 1)
        .to(&mut c, t(0));
    let ack = one(&mut c, t(0));
    assert_eq!(ack.header.flags, Flags::ACK);
    assert_eq!(c.state(), synack_tcp::State::Established);
    events(&mut c);
    c
}

/// SYN-RECEIVED from LISTEN: server at `b()` with ISS from `cfg`, peer SYN 100.
pub fn server_syn_received(cfg: &Config) -> Connection {
    let mut s = Connection::listen(cfg, b()).unwrap();
    Raw::new(a(), b(), ISS, Flags::SYN).to(&mut s, t(0));
    let sa = one(&mut s, t(0));
    assert_eq!(sa.header.flags, Flags::SYN | Flags::ACK);
    s
}

/// FIN-WAIT-1: our FIN (seq 101) sent, not acknowledged.
pub fn fin_wait_1(cfg: &Config) -> Connection {
    let mut c = client_est(cfg);
    c.close(t(0)).unwrap();
    let fin = one(&mut c, t(0));
    assert_eq!(
        (fin.header.seq.0, fin.header.flags),
        (ISS + 1, Flags::FIN | Flags::ACK)
    );
    c
}

/// FIN-WAIT-2: our FIN acknowledged (SND.UNA = 102).
pub fn fin_wait_2(cfg: &Config) -> Connection {
    let mut c = fin_wait_1(cfg);
    Raw::new(b(), a(), PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 2)
        .to(&mut c, t(0));
    assert_eq!(c.state(), synack_tcp::State::FinWait2);
    silent(&mut c, t(0));
    c
}

/// CLOSE-WAIT: the peer's FIN (seq 301) received and acknowledged.
pub fn close_wait(cfg: &Config) -> Connection {
    let mut c = client_est(cfg);
    Raw::new(b(), a(), PEER_ISS + 1, Flags::FIN)
        .ack(ISS + 1)
        .to(&mut c, t(0));
    assert_eq!(c.state(), synack_tcp::State::CloseWait);
    let ack = one(&mut c, t(0));
    assert_eq!(ack.header.ack.0, PEER_ISS + 2);
    events(&mut c);
    c
}

/// LAST-ACK: CLOSE-WAIT, then our FIN (seq 101) sent.
pub fn last_ack(cfg: &Config) -> Connection {
    let mut c = close_wait(cfg);
    c.close(t(0)).unwrap();
    let fin = one(&mut c, t(0));
    assert!(fin.header.flags.fin());
    c
}

/// CLOSING: FIN-WAIT-1, then the peer's FIN without an ACK of ours.
pub fn closing(cfg: &Config) -> Connection {
    let mut c = fin_wait_1(cfg);
    Raw::new(b(), a(), PEER_ISS + 1, Flags::FIN)
        .ack(ISS + 1)
        .to(&mut c, t(0));
    assert_eq!(c.state(), synack_tcp::State::Closing);
    one(&mut c, t(0));
    events(&mut c);
    c
}

/// TIME-WAIT: FIN-WAIT-2, then the peer's FIN; entered at t(0).
pub fn time_wait(cfg: &Config) -> Connection {
    let mut c = fin_wait_2(cfg);
    Raw::new(b(), a(), PEER_ISS + 1, Flags::FIN)
        .ack(ISS + 2)
        .to(&mut c, t(0));
    assert_eq!(c.state(), synack_tcp::State::TimeWait);
    let ack = one(&mut c, t(0));
    assert_eq!(
        (ack.header.seq.0, ack.header.ack.0),
        (ISS + 2, PEER_ISS + 2)
    );
    events(&mut c);
    c
}

/// A segment from the peer to the client.
pub fn peer(seq: u32, flags: Flags) -> Raw {
    Raw::new(b(), a(), seq, flags)
}

/// (SEQ, ACK, flags) of a segment.
pub fn sa(s: &TcpSegment) -> (u32, u32, Flags) {
    (s.header.seq.0, s.header.ack.0, s.header.flags)
}

/// SYN-SENT: an active OPEN from `a()` to `b()` at t(0), its SYN drained.
pub fn client_syn_sent(cfg: &Config) -> Connection {
    let mut c = Connection::connect(
        cfg,
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    let syn = one(&mut c, t(0));
    assert_eq!(syn.header.flags, Flags::SYN);
    c
}

/// A Timestamps option carrying TSval `v` (TSecr 0).
pub fn ts_opt(v: u32) -> TcpOptions {
    TcpOptions {
        timestamps: Some((v, 0)),
        ..TcpOptions::new()
    }
}
