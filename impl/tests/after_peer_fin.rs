//! Segments arriving after the peer's FIN (RFC 9293 §3.10.7.4), segment by
//! segment, for both TIME-WAIT representations: the full TCB of a
//! `Connection` and the compact entry of a `Stack`.
//!
//! - fifth step: a segment without the ACK bit is dropped, also in
//!   TIME-WAIT and also when it carries a FIN;
//! - fifth step with RFC 5961 §5.2: SEG.ACK outside
//!   SND.UNA-MAX.SND.WND..=SND.NXT is discarded and answered with an ACK
//!   (rate-limited, RFC 5961 §7);
//! - eighth step, read literally: a FIN at RCV.NXT past the peer's first FIN
//!   moves RCV.NXT over it and is acknowledged; CLOSING (once our FIN is
//!   acknowledged, TIME-WAIT) and TIME-WAIT restart 2×MSL.

mod connection_util;

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use connection_util::*;
use synack_tcp::table::{Dispatch, Stack, TimeWaitEntry};
use synack_tcp::wire::ip::{emit_tcp_packet, parse_tcp_packet};
use synack_tcp::{Config, Flags, FourTuple, Instant, SeqNum, State, TcpHeader};

mod stack_util;
use stack_util::{drain, pump};

/// The peer's first octet after its SYN; its FIN took DATA_SEQ, so in
/// CLOSING and TIME-WAIT RCV.NXT = DATA_SEQ + 1.
const DATA_SEQ: u32 = PEER_ISS + 1;

// ---- Full TCB ----

/// CLOSING: a FIN,ACK at RCV.NXT that acknowledges our FIN enters TIME-WAIT
/// (fifth), and its FIN is taken in and acknowledged (eighth).
#[test]
fn closing_fin_at_rcv_nxt_acking_our_fin_is_taken_in() {
    let mut c = closing(&plain(ISS));
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 1);
    peer(DATA_SEQ + 1, Flags::FIN)
        .ack(ISS + 2)
        .to(&mut c, t(100));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(
        sa(&one(&mut c, t(100))),
        (ISS + 2, DATA_SEQ + 2, Flags::ACK)
    );
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 2);
    assert_eq!(
        c.status().timers.time_wait,
        Some(t(100) + c.config().msl * 2)
    );
}

/// TIME-WAIT (full TCB): a FIN,ACK at RCV.NXT is taken in, acknowledged one
/// past it, and restarts 2×MSL; the state stays TIME-WAIT.
#[test]
fn time_wait_fin_at_rcv_nxt_is_taken_in_and_restarts_timer() {
    let mut c = time_wait(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::FIN)
        .ack(ISS + 2)
        .to(&mut c, t(7000));
    assert_eq!(
        sa(&one(&mut c, t(7000))),
        (ISS + 2, DATA_SEQ + 2, Flags::ACK)
    );
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 2);
    assert_eq!(
        c.status().timers.time_wait,
        Some(t(7000) + c.config().msl * 2)
    );
}

/// TIME-WAIT (full TCB): a FIN without the ACK bit, at RCV.NXT or further in
/// the window, is dropped without a reply and changes nothing.
#[test]
fn time_wait_fin_without_ack_is_dropped() {
    let mut c = time_wait(&plain(ISS));
    let before = c.status().timers.time_wait;
    for seq in [DATA_SEQ + 1, DATA_SEQ + 500] {
        peer(seq, Flags::FIN).to(&mut c, t(3000));
        silent(&mut c, t(3000));
    }
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 1);
    assert_eq!(c.status().timers.time_wait, before);
    assert_eq!(c.stats().dropped.no_ack, 2);
}

/// TIME-WAIT (full TCB): an ACK at RCV.NXT whose SEG.ACK is beyond SND.NXT
/// or below SND.UNA-MAX.SND.WND is answered with an ACK (RFC 5961 §5.2).
#[test]
fn time_wait_unacceptable_ack_value_is_answered() {
    let mut c = time_wait(&plain(ISS));
    for ack in [ISS + 1002, ISS.wrapping_sub(200_000)] {
        peer(DATA_SEQ + 1, Flags::ACK).ack(ack).to(&mut c, t(10));
        assert_eq!(sa(&one(&mut c, t(10))), (ISS + 2, DATA_SEQ + 1, Flags::ACK));
    }
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.stats().dropped.unacceptable_ack, 2);
}

// ---- Compact TIME-WAIT entries in a Stack ----

const CLIENT: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
const TUPLE: FourTuple = FourTuple {
    local: SERVER,
    remote: CLIENT,
};

fn stack_config() -> Config {
    Config {
        msl: Duration::from_secs(10),
        delayed_ack: None,
        challenge_ack_limit: 2,
        ..Config::default()
    }
}

/// A server stack whose tuple with CLIENT is a compact TIME-WAIT entry
/// (the server closed first), the entry, and the time.
fn server_in_time_wait() -> (Stack, TimeWaitEntry, Instant) {
    let mut a = Stack::new(stack_config(), 11).unwrap();
    let mut b = Stack::new(stack_config(), 12).unwrap();
    let now = Instant::from_secs(1);
    let l = b.listen(SERVER, 8).unwrap();
    let c = a.connect(now, CLIENT, SERVER).unwrap();
    pump(&mut a, &mut b, now);
    let s = b.accept(l).unwrap();
    b.close(now, s).unwrap();
    pump(&mut a, &mut b, now);
    a.close(now, c).unwrap();
    pump(&mut a, &mut b, now);
    let entry = b.time_wait_entry(&TUPLE).expect("server in TIME-WAIT");
    assert_eq!(b.connection_count(), 0);
    (b, entry, now)
}

fn packet(seq: u32, ack: u32, flags: Flags) -> Vec<u8> {
    let header = TcpHeader {
        src_port: CLIENT.port(),
        dst_port: SERVER.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 1000,
        ..TcpHeader::default()
    };
    let mut buf = vec![0u8; 1600];
    let n = emit_tcp_packet(CLIENT.ip(), SERVER.ip(), 64, &header, &[], &mut buf).expect("fits");
    buf.truncate(n);
    buf
}

/// (flags, seq, ack) of each packet.
fn fields(out: &[Vec<u8>]) -> Vec<(Flags, u32, u32)> {
    out.iter()
        .map(|p| {
            let (_, seg) = parse_tcp_packet(p).expect("a valid packet");
            (seg.flags(), seg.seq().0, seg.ack().0)
        })
        .collect()
}

/// The entry records the window shift and MAX.SND.WND of the connection it
/// replaced: RCV.WND in octets, and a bound on MAX.SND.WND at or above the
/// real one.
#[test]
fn compact_entry_keeps_the_scaled_window_and_a_max_snd_wnd_bound() {
    let (_, e, _) = server_in_time_wait();
    assert!(e.rcv_wnd() >= u32::from(e.window));
    assert!(e.max_snd_wnd() < TimeWaitEntry::MAX_PERMISSIBLE_WINDOW);
    // An entry that recorded nothing falls back to the largest window.
    let bare = TimeWaitEntry { flags: 0, ..e };
    assert_eq!(bare.max_snd_wnd(), TimeWaitEntry::MAX_PERMISSIBLE_WINDOW);
    assert_eq!(bare.rcv_wnd(), u32::from(e.window));
    // Rounding up to a power of two, never below the value recorded.
    for w in [1u32, 2, 3, 1000, 8000, 65_535, 65_536, 65_535 << 14] {
        let b = bare.with_max_snd_wnd(w);
        assert!(b.max_snd_wnd() >= w, "{w} -> {}", b.max_snd_wnd());
        assert!(b.max_snd_wnd() < w.saturating_mul(2).max(2), "{w}");
        assert_eq!(b.timestamps(), bare.timestamps());
    }
    assert_eq!(bare.with_rcv_wscale(7).rcv_wnd(), u32::from(e.window) << 7);
}

/// Compact TIME-WAIT, fifth step: a FIN without ACK in the window is
/// dropped with no reply (RCV.NXT and the entry unchanged); outside the
/// window it is unacceptable and answered with an ACK (first step).
#[test]
fn compact_time_wait_drops_fin_without_ack() {
    let (mut b, e, now) = server_in_time_wait();
    let window = e.rcv_wnd();
    for seq in [
        e.rcv_nxt.0,
        e.rcv_nxt.0 + window / 2,
        e.rcv_nxt.0 + window - 1,
    ] {
        assert_eq!(
            b.on_packet(now, &packet(seq, 0, Flags::FIN)),
            Ok(Dispatch::TimeWait)
        );
        assert!(drain(&mut b, now).is_empty(), "FIN at {seq}");
    }
    assert_eq!(b.time_wait_entry(&TUPLE), Some(e));
    b.on_packet(now, &packet(e.rcv_nxt.0 + window, 0, Flags::FIN))
        .unwrap();
    assert_eq!(
        fields(&drain(&mut b, now)),
        vec![(Flags::ACK, e.snd_nxt.0, e.rcv_nxt.0)]
    );
}

/// Compact TIME-WAIT, fifth step with RFC 5961 §5.2: a bare ACK at RCV.NXT
/// with SEG.ACK beyond SND.NXT, or below SND.UNA-MAX.SND.WND, is answered
/// with an ACK; one within the range is not. The answers are rate-limited
/// (RFC 5961 §7: here two a second).
#[test]
fn compact_time_wait_answers_unacceptable_ack_values_rate_limited() {
    let (mut b, e, now) = server_in_time_wait();
    let ack_reply = vec![(Flags::ACK, e.snd_nxt.0, e.rcv_nxt.0)];
    // In range: SND.NXT itself, and just inside the MAX.SND.WND bound.
    for ack in [e.snd_nxt.0, e.snd_nxt.0.wrapping_sub(e.max_snd_wnd())] {
        b.on_packet(now, &packet(e.rcv_nxt.0, ack, Flags::ACK))
            .unwrap();
        assert!(drain(&mut b, now).is_empty(), "ack {ack}");
    }
    let beyond = e.snd_nxt.0 + 1000;
    let ancient = e.snd_nxt.0.wrapping_sub(e.max_snd_wnd() + 1);
    for ack in [beyond, ancient] {
        b.on_packet(now, &packet(e.rcv_nxt.0, ack, Flags::ACK))
            .unwrap();
        assert_eq!(fields(&drain(&mut b, now)), ack_reply, "ack {ack}");
    }
    // The third in the same second is not answered; a second later it is.
    b.on_packet(now, &packet(e.rcv_nxt.0, beyond, Flags::ACK))
        .unwrap();
    assert!(drain(&mut b, now).is_empty());
    assert_eq!(b.stats().time_wait_challenge_acks_suppressed, 1);
    let later = now + Duration::from_secs(1);
    b.on_packet(later, &packet(e.rcv_nxt.0, beyond, Flags::ACK))
        .unwrap();
    assert_eq!(fields(&drain(&mut b, later)), ack_reply);
    // A FIN on such a segment is discarded with it.
    b.on_packet(later, &packet(e.rcv_nxt.0, beyond, Flags::FIN | Flags::ACK))
        .unwrap();
    assert_eq!(fields(&drain(&mut b, later)), ack_reply);
    assert_eq!(b.time_wait_entry(&TUPLE), Some(e));
}

/// Compact TIME-WAIT, eighth step: a FIN,ACK at RCV.NXT (one past the
/// peer's first FIN) moves RCV.NXT over it, is acknowledged one past it, and
/// restarts 2×MSL.
#[test]
fn compact_time_wait_takes_in_fin_at_rcv_nxt() {
    let (mut b, e, now) = server_in_time_wait();
    let at = now + Duration::from_secs(5);
    b.on_packet(
        at,
        &packet(e.rcv_nxt.0, e.snd_nxt.0, Flags::FIN | Flags::ACK),
    )
    .unwrap();
    assert_eq!(
        fields(&drain(&mut b, at)),
        vec![(Flags::ACK, e.snd_nxt.0, e.rcv_nxt.0 + 1)]
    );
    let after = b.time_wait_entry(&TUPLE).expect("still in TIME-WAIT");
    assert_eq!(after.rcv_nxt, e.rcv_nxt + 1);
    // Restarted at `at`: still there 2×MSL after the start, gone 2×MSL
    // after `at`.
    b.on_timeout(now + Duration::from_secs(21));
    assert_eq!(b.time_wait_count(), 1);
    b.on_timeout(at + Duration::from_secs(21));
    assert_eq!(b.time_wait_count(), 0);
}
