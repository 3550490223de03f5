//! A driver for fuzzing and property tests: arbitrary bytes choose a
//! configuration and a starting state, then a sequence of segments (raw,
//! checksum-fixed, or built around the TCB's own numbers), user calls and
//! timer advances. It checks the connection's invariants after every step
//! and panics only when one is broken; any input must run to the end.
//!
//! Used by `fuzz/fuzz_targets/connection.rs` and `tests/connection_arbitrary.rs`.

use core::time::Duration;
use std::net::SocketAddr;

use super::{Connection, FourTuple, State};
use crate::config::{Config, IsnSource, KeepAlive, RetryLimit, TimeWaitRst};
use crate::wire::{PseudoHeader, Segment, TcpHeader, TcpOptions};
use crate::{Flags, Instant, SeqNum};

struct Input<'a> {
    data: &'a [u8],
}

impl<'a> Input<'a> {
    fn is_empty(&self) -> bool {
        self.data.is_empty()
    }
    fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }
    fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.byte(), self.byte()])
    }
    fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
    fn take(&mut self, n: usize) -> &'a [u8] {
        let n = n.min(self.data.len());
        let (head, rest) = self.data.split_at(n);
        self.data = rest;
        head
    }
}

const LOCAL: &str = "10.0.0.1:40000";
const PEER: &str = "10.0.0.2:80";
const PEER_ISS: u32 = 300;

fn addr(s: &str) -> SocketAddr {
    s.parse()
        .unwrap_or_else(|_| SocketAddr::from(([127, 0, 0, 1], 1)))
}

fn config(inp: &mut Input<'_>) -> Config {
    let bits = inp.byte();
    let more = inp.byte();
    Config {
        isn: IsnSource::Fixed(SeqNum(inp.u32())),
        timestamps: bits & 1 != 0,
        window_scale: bits & 2 != 0,
        sack: bits & 4 != 0,
        nagle: bits & 8 != 0,
        delayed_ack: (bits & 16 != 0).then_some(Duration::from_millis(200)),
        time_wait_rst: if bits & 32 != 0 {
            TimeWaitRst::Rfc9293Accept
        } else {
            TimeWaitRst::Rfc1337Ignore
        },
        keepalive: (bits & 64 != 0).then_some(KeepAlive {
            idle: Duration::from_secs(5),
            interval: Duration::from_secs(1),
            probes: 3,
        }),
        time_wait_reopen: bits & 128 != 0,
        recv_buffer: 1 + usize::from(more & 0x0f) * 1000,
        send_buffer: 1 + usize::from(more >> 4) * 1000,
        mss: 536,
        r2: RetryLimit::Count(6),
        syn_r2: RetryLimit::Count(4),
        msl: Duration::from_secs(2),
        challenge_ack_limit: 5,
        ..Config::default()
    }
}

/// Deliver a segment built from fields (checksum right) from the peer.
#[allow(clippy::too_many_arguments)]
fn feed(
    c: &mut Connection,
    now: Instant,
    seq: u32,
    ack: u32,
    flags: Flags,
    window: u16,
    opts: TcpOptions,
    payload: &[u8],
) {
    let (local, peer) = (c.local(), addr(PEER));
    let h = TcpHeader {
        src_port: peer.port(),
        dst_port: local.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window,
        options: opts,
        ..TcpHeader::default()
    };
    let mut buf = [0u8; 1600];
    let Ok(pseudo) = PseudoHeader::new(peer.ip(), local.ip()) else {
        return;
    };
    if let Ok(n) = h.emit(&pseudo, payload, &mut buf) {
        let _ = c.on_bytes(now, &buf[..n], peer);
    }
}

/// Drain output, checking every segment parses with a good checksum.
fn drain(c: &mut Connection, now: Instant) {
    let mut buf = [0u8; 1600];
    for _ in 0..10_000 {
        let Some(tx) = c.poll_transmit(now, &mut buf) else {
            return;
        };
        assert!(tx.len <= buf.len());
        let pseudo = PseudoHeader::new(tx.src.ip(), tx.dst.ip()).expect("one address family");
        let seg = Segment::parse(&buf[..tx.len], &pseudo);
        assert!(seg.is_ok(), "emitted an invalid segment: {seg:?}");
    }
    panic!("poll_transmit never returned None");
}

/// A connection in the state `pick % 11` selects, using a scripted peer.
fn build(pick: u8, cfg: &Config, peer_opts: TcpOptions) -> Connection {
    let (local, peer) = (addr(LOCAL), addr(PEER));
    let now = Instant::from_millis(1);
    let state = State::ALL[usize::from(pick) % State::ALL.len()];
    let mut c = match state {
        State::Closed => return Connection::closed(cfg, local),
        State::Listen | State::SynReceived => match Connection::listen(cfg, local) {
            Ok(c) => c,
            Err(_) => return Connection::closed(cfg, local),
        },
        _ => match Connection::connect(
            cfg,
            FourTuple {
                local,
                remote: peer,
            },
            now,
        ) {
            Ok(c) => c,
            Err(_) => return Connection::closed(cfg, local),
        },
    };
    if state == State::Listen {
        return c;
    }
    drain(&mut c, now);
    if state == State::SynReceived {
        feed(&mut c, now, PEER_ISS, 0, Flags::SYN, 65535, peer_opts, &[]);
        drain(&mut c, now);
        return c;
    }
    if state == State::SynSent {
        return c;
    }
    let iss = c.status().iss.0;
    let ts = |o: TcpOptions| TcpOptions {
        sack: Default::default(),
        mss: None,
        window_scale: None,
        sack_permitted: false,
        ..o
    };
    feed(
        &mut c,
        now,
        PEER_ISS,
        iss.wrapping_add(1),
        Flags::SYN | Flags::ACK,
        65535,
        peer_opts,
        &[],
    );
    drain(&mut c, now);
    let p = PEER_ISS + 1;
    let fin_ack = Flags::FIN | Flags::ACK;
    match state {
        State::FinWait1 | State::FinWait2 | State::Closing | State::TimeWait => {
            let _ = c.close(now);
            drain(&mut c, now);
            if matches!(state, State::FinWait2 | State::TimeWait) {
                feed(
                    &mut c,
                    now,
                    p,
                    iss.wrapping_add(2),
                    Flags::ACK,
                    65535,
                    ts(peer_opts),
                    &[],
                );
            }
            if state == State::Closing {
                feed(
                    &mut c,
                    now,
                    p,
                    iss.wrapping_add(1),
                    fin_ack,
                    65535,
                    ts(peer_opts),
                    &[],
                );
            }
            if state == State::TimeWait {
                feed(
                    &mut c,
                    now,
                    p,
                    iss.wrapping_add(2),
                    fin_ack,
                    65535,
                    ts(peer_opts),
                    &[],
                );
            }
        }
        State::CloseWait | State::LastAck => {
            feed(
                &mut c,
                now,
                p,
                iss.wrapping_add(1),
                fin_ack,
                65535,
                ts(peer_opts),
                &[],
            );
            if state == State::LastAck {
                drain(&mut c, now);
                let _ = c.close(now);
            }
        }
        _ => {}
    }
    drain(&mut c, now);
    c
}

/// Invariants that must hold after every step, whatever came in.
fn check(c: &Connection) {
    let st = c.status();
    let cfg = c.config();
    assert!(st.recv_queued <= cfg.recv_buffer, "{st:?}");
    assert!(st.send_queued <= cfg.send_buffer, "{st:?}");
    assert!(
        st.rcv_wnd as usize <= cfg.recv_buffer,
        "RCV.WND beyond the buffer: {st:?}"
    );
    if !matches!(st.state, State::Closed | State::Listen) {
        assert!(
            st.snd_una.between_inclusive(st.iss, st.snd_nxt),
            "SND.UNA outside ISS..=SND.NXT: {st:?}"
        );
        let in_flight = st.snd_nxt.distance_from(st.snd_una) as usize;
        assert!(
            in_flight <= st.send_queued + 2,
            "more in flight than held: {st:?}"
        );
    }
    if st.state == State::Closed {
        assert!(
            st.timers == super::Timers::default(),
            "timers left running when CLOSED: {st:?}"
        );
    }
    if st.state == State::TimeWait {
        assert!(
            st.timers.time_wait.is_some(),
            "TIME-WAIT without its timer: {st:?}"
        );
    }
}

/// What one run reached, so tests can check the driver is not vacuous.
#[derive(Debug, Default, Clone, Copy)]
pub struct Coverage {
    /// Bit `i` set when the connection was seen in `State::ALL[i]`.
    pub states: u16,
    /// Segments that reached `on_segment` (parsed, right ports).
    pub segments: u64,
    /// Data bytes the connection took in order.
    pub bytes_delivered: u64,
}

fn note(cov: &mut Coverage, c: &Connection) {
    let i = State::ALL.iter().position(|s| *s == c.state()).unwrap_or(0);
    cov.states |= 1 << i;
}

/// Segments rejected by a validation check (not those partly processed
/// first, like an ACK in CLOSING that is not for our FIN, or text that did
/// not fit the buffer).
fn rejected(c: &Connection) -> u64 {
    let d = &c.stats().dropped;
    d.malformed
        + d.bad_checksum
        + d.wrong_tuple
        + d.closed
        + d.listen_rst
        + d.listen_ack
        + d.listen_other
        + d.syn_sent_bad_ack
        + d.syn_sent_rst_no_ack
        + d.syn_sent_other
        + d.out_of_window
        + d.paws
        + d.rst_out_of_window
        + d.rst_not_exact
        + d.rst_in_time_wait
        + d.syn_in_window
        + d.no_ack
        + d.unacceptable_ack
}

/// A rejected segment leaves the TCB as it was (issue 4, "Bad input"),
/// except where the RFC asks for a change: a retransmitted FIN restarts
/// TIME-WAIT, a new SYN sends a passive SYN-RECEIVED back to LISTEN.
fn check_untouched(before: &super::Status, c: &Connection, rejected_before: u64) {
    if rejected(c) == rejected_before {
        return;
    }
    let mut after = c.status();
    if before.state == State::SynReceived && matches!(after.state, State::Listen | State::TimeWait)
    {
        // A SYN in a passive SYN-RECEIVED returns it to LISTEN (or to the
        // TIME-WAIT it was reopened from, MAY-2).
        return;
    }
    if before.state == State::TimeWait && after.state == State::TimeWait {
        after.timers.time_wait = before.timers.time_wait;
    }
    assert_eq!(before, &after, "a rejected segment changed the TCB");
}

/// Run one fuzz input. See the module documentation.
pub fn drive(data: &[u8]) -> Coverage {
    let mut cov = Coverage::default();
    let mut inp = Input { data };
    let pick = inp.byte();
    let cfg = config(&mut inp);
    let obits = inp.byte();
    let peer_opts = TcpOptions {
        mss: (obits & 1 != 0).then_some(inp.u16()),
        window_scale: (obits & 2 != 0).then_some(inp.byte() % 20),
        sack_permitted: obits & 4 != 0,
        timestamps: (obits & 8 != 0).then_some((inp.u32(), 0)),
        ..TcpOptions::new()
    };
    let mut c = build(pick, &cfg, peer_opts);
    check(&c);
    note(&mut cov, &c);
    let peer = addr(PEER);
    let mut now = Instant::from_millis(2);
    let mut scratch = [0u8; 1600];
    let mut steps = 0;
    while !inp.is_empty() && steps < 2000 {
        steps += 1;
        let before = c.status();
        let rejected_before = rejected(&c);
        let op = inp.byte() % 10;
        match op {
            0 => {
                // Raw bytes, as they come (mostly rejected by the parser).
                let n = usize::from(inp.byte()) * 2;
                let bytes = inp.take(n);
                let _ = c.on_bytes(now, bytes, peer);
            }
            1 => {
                // Raw bytes with our ports and a correct checksum: they reach
                // the state machine with arbitrary header fields and options.
                let n = (usize::from(inp.byte()) * 2).max(20);
                let bytes = inp.take(n);
                let buf = &mut scratch[..bytes.len()];
                buf.copy_from_slice(bytes);
                if buf.len() >= 20 {
                    buf[0..2].copy_from_slice(&peer.port().to_be_bytes());
                    buf[2..4].copy_from_slice(&c.local().port().to_be_bytes());
                    buf[16] = 0;
                    buf[17] = 0;
                    if let Ok(pseudo) = PseudoHeader::new(peer.ip(), c.local().ip()) {
                        let mut sum = pseudo.checksum(buf.len());
                        sum.add_bytes(buf);
                        let v = sum.finish();
                        buf[16..18].copy_from_slice(&v.to_be_bytes());
                    }
                }
                let _ = c.on_bytes(now, buf, peer);
            }
            2..=5 => {
                // A segment near the TCB's own numbers.
                let st = c.status();
                let seq_delta = i32::from(inp.u16() as i16);
                let ack_delta = i32::from(inp.u16() as i16) / 64;
                let seq = if inp.byte() < 16 {
                    inp.u32()
                } else {
                    st.rcv_nxt.0.wrapping_add(seq_delta as u32)
                };
                let ack = st.snd_una.0.wrapping_add(ack_delta as u32);
                let flags = Flags(inp.byte());
                let window = inp.u16();
                let plen = usize::from(inp.byte() % 64);
                let payload = inp.take(plen);
                let opts = if inp.byte() & 1 == 1 {
                    peer_opts
                } else {
                    TcpOptions::new()
                };
                feed(&mut c, now, seq, ack, flags, window, opts, payload);
            }
            6 => {
                // A user call.
                let arg = inp.byte();
                match arg % 7 {
                    0 | 1 => {
                        let n = usize::from(inp.byte()) * 8;
                        let _ = c.send(&scratch[..n.min(scratch.len())]);
                    }
                    2 => {
                        let n = usize::from(inp.byte()) * 8;
                        let _ = c.recv(&mut scratch[..n.min(1600)]);
                    }
                    3 => {
                        let _ = c.close(now);
                    }
                    4 => {
                        let _ = c.abort(now);
                    }
                    5 => {
                        let _ = c.open(now, Some(peer));
                    }
                    _ => {
                        let _ = c.open(now, None);
                    }
                }
            }
            7 => {
                // Time passes; timers fire.
                now += Duration::from_millis(u64::from(inp.u16()) * 8);
                if let Some(d) = c.poll_timeout() {
                    assert!(d.micros() < u64::MAX / 2);
                }
                c.on_timeout(now);
            }
            8 | 9 => {
                // The next in-order data segment, as a well-behaved peer sends it.
                let st = c.status();
                let plen = usize::from(inp.byte()) * 4;
                let payload = inp.take(plen);
                let flags = if inp.byte() & 7 == 0 {
                    Flags::ACK | Flags::FIN
                } else {
                    Flags::ACK
                };
                feed(
                    &mut c,
                    now,
                    st.rcv_nxt.0,
                    st.snd_nxt.0,
                    flags,
                    65535,
                    TcpOptions::new(),
                    payload,
                );
            }
            _ => {}
        }
        if !matches!(op, 6 | 7) {
            check_untouched(&before, &c, rejected_before);
        }
        drain(&mut c, now);
        while c.poll_event().is_some() {}
        check(&c);
        note(&mut cov, &c);
    }
    cov.segments = c.stats().segments_received;
    cov.bytes_delivered = c.status().bytes_delivered;
    cov
}
