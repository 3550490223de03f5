//! The connection table: demultiplexing, listeners and their backlog, resets
//! for segments that match nothing (RFC 9293 §3.5.2, §3.10.7.1), compact
//! TIME-WAIT entries (MUST-13, RFC 1337) and their reuse (MAY-2).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use proptest::prelude::*;
use synack_tcp::table::{
    Dispatch, PacketError, Stack, TimeWaitEntry, TimeWaitTable, TupleHasherBuilder, V4Key,
};
use synack_tcp::wire::ip::{emit_tcp_packet, parse_tcp_packet};
use synack_tcp::{Config, Ended, Event, Flags, FourTuple, Instant, SeqNum, State, TcpHeader};

mod stack_util;
use stack_util::{drain, pump};

const CLIENT: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);

fn config() -> Config {
    Config {
        msl: Duration::from_secs(10),
        delayed_ack: None,
        ..Config::default()
    }
}

fn stack(seed: u64) -> Stack {
    Stack::new(config(), seed).expect("valid config")
}

/// A raw IPv4 packet from `src` to `dst`.
fn packet(
    src: SocketAddr,
    dst: SocketAddr,
    seq: u32,
    ack: u32,
    flags: Flags,
    payload: &[u8],
) -> Vec<u8> {
    let header = TcpHeader {
        src_port: src.port(),
        dst_port: dst.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 1000,
        ..TcpHeader::default()
    };
    let mut buf = vec![0u8; 1600];
    let n = emit_tcp_packet(src.ip(), dst.ip(), 64, &header, payload, &mut buf).expect("fits");
    buf.truncate(n);
    buf
}

/// (source, destination) of a packet.
fn ends(p: &[u8]) -> (SocketAddr, SocketAddr) {
    let (ip, seg) = parse_tcp_packet(p).expect("a valid packet");
    (
        SocketAddr::new(ip.src(), seg.src_port()),
        SocketAddr::new(ip.dst(), seg.dst_port()),
    )
}

/// (flags, seq, ack) of a packet.
fn fields(p: &[u8]) -> (Flags, u32, u32) {
    let (_, seg) = parse_tcp_packet(p).expect("a valid packet");
    (seg.flags(), seg.seq().0, seg.ack().0)
}

#[test]
fn handshake_data_and_close_through_two_tables() {
    let (mut a, mut b) = (stack(1), stack(2));
    let now = Instant::from_secs(1);
    let l = b.listen(SERVER, 8).unwrap();
    let c = a.connect(now, CLIENT, SERVER).unwrap();
    pump(&mut a, &mut b, now);
    let s = b.accept(l).expect("an established connection to accept");
    assert_eq!(a.state(c).unwrap(), State::Established);
    assert_eq!(b.state(s).unwrap(), State::Established);
    assert_eq!(a.send(c, b"hello").unwrap(), 5);
    pump(&mut a, &mut b, now);
    let mut buf = [0u8; 16];
    assert_eq!(b.recv(s, &mut buf).unwrap(), 5);
    assert_eq!(&buf[..5], b"hello");

    // The client closes first and ends in TIME-WAIT, as a compact entry.
    a.close(now, c).unwrap();
    pump(&mut a, &mut b, now);
    b.close(now, s).unwrap();
    pump(&mut a, &mut b, now);
    assert_eq!(a.state(c).unwrap(), State::TimeWait);
    assert_eq!((a.connection_count(), a.time_wait_count()), (0, 1));
    assert_eq!(a.stats().time_wait_compacted, 1);
    let tuple = FourTuple {
        local: CLIENT,
        remote: SERVER,
    };
    assert!(a.time_wait_entry(&tuple).is_some());
    // The server's side is closed and gone once its events are drained.
    let mut last = None;
    while let Some(ev) = b.poll_event(s) {
        last = Some(ev);
    }
    assert_eq!(last, Some(Event::Closed(Ended::Graceful)));
    assert!(b.state(s).is_err());
    assert_eq!(b.connection_count(), 0);

    // 2×MSL later the entry is gone and the handle reports the end.
    let later = now + Duration::from_secs(21);
    assert!(a.poll_timeout().is_some_and(|t| t <= later));
    a.on_timeout(later);
    assert_eq!(a.time_wait_count(), 0);
    let mut events = Vec::new();
    while let Some(ev) = a.poll_event(c) {
        events.push(ev);
    }
    assert_eq!(events.last(), Some(&Event::Closed(Ended::Graceful)));
    assert!(a.state(c).is_err(), "the handle is released after Closed");
}

#[test]
fn segments_for_nothing_are_reset_as_rfc9293_says() {
    let mut s = stack(3);
    let now = Instant::from_secs(1);
    // With ACK: <SEQ=SEG.ACK><CTL=RST>.
    let p = packet(CLIENT, SERVER, 1000, 5000, Flags::ACK, b"xyz");
    assert_eq!(s.on_packet(now, &p), Ok(Dispatch::Unmatched));
    let out = drain(&mut s, now);
    assert_eq!(out.len(), 1);
    assert_eq!(fields(&out[0]), (Flags::RST, 5000, 0));
    assert_eq!(ends(&out[0]), (SERVER, CLIENT));
    // Without ACK: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>; SYN counts one.
    let p = packet(CLIENT, SERVER, 1000, 0, Flags::SYN, b"");
    s.on_packet(now, &p).unwrap();
    let out = drain(&mut s, now);
    assert_eq!(fields(&out[0]), (Flags::RST | Flags::ACK, 0, 1001));
    assert_eq!(ends(&out[0]), (SERVER, CLIENT));
    // Never a RST for a RST.
    let p = packet(CLIENT, SERVER, 1000, 0, Flags::RST, b"");
    s.on_packet(now, &p).unwrap();
    assert!(drain(&mut s, now).is_empty());
    assert_eq!(s.stats().resets_sent, 2);
    assert_eq!(s.stats().unmatched, 3);
}

#[test]
fn listeners_reset_acks_ignore_rsts_and_bound_the_backlog() {
    let mut s = stack(4);
    let now = Instant::from_secs(1);
    let l = s
        .listen(SocketAddr::new(IpAddr::V4(Ipv4Addr::UNSPECIFIED), 80), 2)
        .unwrap();
    // An ACK to a listener draws <SEQ=SEG.ACK><CTL=RST> (§3.10.7.2).
    let p = packet(CLIENT, SERVER, 7, 99, Flags::ACK, b"");
    assert_eq!(s.on_packet(now, &p), Ok(Dispatch::Listener));
    assert_eq!(fields(&drain(&mut s, now)[0]), (Flags::RST, 99, 0));
    // A RST is ignored.
    let p = packet(CLIENT, SERVER, 7, 0, Flags::RST, b"");
    assert_eq!(s.on_packet(now, &p), Ok(Dispatch::Listener));
    assert!(drain(&mut s, now).is_empty());
    // Two SYNs fill the backlog; the third is dropped without reply.
    for port in [1001u16, 1002] {
        let from = SocketAddr::new(CLIENT.ip(), port);
        let r = s.on_packet(now, &packet(from, SERVER, 500, 0, Flags::SYN, b""));
        assert!(
            matches!(r, Ok(Dispatch::Spawned(id, _)) if id == l),
            "{r:?}"
        );
        let out = drain(&mut s, now);
        assert_eq!(out.len(), 1);
        assert_eq!(fields(&out[0]).0, Flags::SYN | Flags::ACK);
        assert_eq!(fields(&out[0]).2, 501);
    }
    let from = SocketAddr::new(CLIENT.ip(), 1003);
    let r = s.on_packet(now, &packet(from, SERVER, 500, 0, Flags::SYN, b""));
    assert_eq!(r, Err(PacketError::BacklogFull));
    assert!(drain(&mut s, now).is_empty());
    assert_eq!(s.stats().backlog_drops, 1);
    assert_eq!(s.connection_count(), 2);
    // A RST for an embryonic connection sends it back to LISTEN (MUST-11):
    // the slot is freed and the backlog has room again.
    let from = SocketAddr::new(CLIENT.ip(), 1001);
    let syn_ack = {
        let r = s.on_packet(now, &packet(from, SERVER, 500, 0, Flags::SYN, b""));
        assert!(r.is_ok());
        drain(&mut s, now)
    };
    let iss = syn_ack.first().map(|p| fields(p).1);
    let rst = packet(from, SERVER, 501, 0, Flags::RST, b"");
    s.on_packet(now, &rst).unwrap();
    drain(&mut s, now);
    assert_eq!(s.connection_count(), 1, "iss of the reset one: {iss:?}");
    let r = s.on_packet(now, &packet(from, SERVER, 900, 0, Flags::SYN, b""));
    assert!(matches!(r, Ok(Dispatch::Spawned(..))), "{r:?}");
    assert!(s.accept(l).is_none(), "nothing is established yet");
}

/// Build a server stack whose tuple with CLIENT sits in compact TIME-WAIT
/// (the server closed first), and return it with the entry.
fn server_in_time_wait(time_wait_reopen: bool) -> (Stack, TimeWaitEntry, Instant) {
    let cfg = Config {
        time_wait_reopen,
        ..config()
    };
    let (mut a, mut b) = (stack(5), Stack::new(cfg, 6).unwrap());
    let now = Instant::from_secs(1);
    let l = b.listen(SERVER, 8).unwrap();
    let c = a.connect(now, CLIENT, SERVER).unwrap();
    pump(&mut a, &mut b, now);
    let s = b.accept(l).unwrap();
    b.close(now, s).unwrap();
    pump(&mut a, &mut b, now);
    a.close(now, c).unwrap();
    pump(&mut a, &mut b, now);
    let tuple = FourTuple {
        local: SERVER,
        remote: CLIENT,
    };
    let entry = b.time_wait_entry(&tuple).expect("server in TIME-WAIT");
    assert_eq!(b.connection_count(), 0);
    (b, entry, now)
}

#[test]
fn time_wait_answers_fin_again_ignores_rst_and_acks_the_rest() {
    let (mut b, e, now) = server_in_time_wait(true);
    // The peer's FIN again: ACK it (and the 2×MSL timer restarts).
    let fin = packet(
        CLIENT,
        SERVER,
        e.rcv_nxt.0 - 1,
        e.snd_nxt.0,
        Flags::FIN | Flags::ACK,
        b"",
    );
    assert_eq!(b.on_packet(now, &fin), Ok(Dispatch::TimeWait));
    let out = drain(&mut b, now);
    assert_eq!(fields(&out[0]), (Flags::ACK, e.snd_nxt.0, e.rcv_nxt.0));
    // Timestamps were negotiated: the ACK carries them (RFC 7323 §3.2),
    // echoing TS.Recent.
    assert!(e.timestamps());
    let (_, seg) = parse_tcp_packet(&out[0]).expect("valid");
    assert_eq!(
        seg.options().timestamps.map(|(_, echo)| echo),
        Some(e.ts_recent)
    );
    // RFC 1337: a RST does not end TIME-WAIT.
    let rst = packet(CLIENT, SERVER, e.rcv_nxt.0, 0, Flags::RST, b"");
    b.on_packet(now, &rst).unwrap();
    assert!(drain(&mut b, now).is_empty());
    assert_eq!(b.time_wait_count(), 1);
    assert_eq!(b.stats().time_wait_rsts_ignored, 1);
    // An acceptable bare ACK needs no answer (no ACK loops between two
    // TIME-WAITs); an unacceptable segment gets one.
    let ack = packet(CLIENT, SERVER, e.rcv_nxt.0, e.snd_nxt.0, Flags::ACK, b"");
    b.on_packet(now, &ack).unwrap();
    assert!(drain(&mut b, now).is_empty());
    let old = packet(
        CLIENT,
        SERVER,
        e.rcv_nxt.0 - 100,
        e.snd_nxt.0,
        Flags::ACK,
        b"old",
    );
    b.on_packet(now, &old).unwrap();
    assert_eq!(
        fields(&drain(&mut b, now)[0]),
        (Flags::ACK, e.snd_nxt.0, e.rcv_nxt.0)
    );
    // A SYN at or below RCV.NXT cannot reopen: challenge ACK.
    let syn = packet(CLIENT, SERVER, e.rcv_nxt.0 - 1, 0, Flags::SYN, b"");
    b.on_packet(now, &syn).unwrap();
    assert_eq!(fields(&drain(&mut b, now)[0]).0, Flags::ACK);
    assert_eq!(b.stats().time_wait_reopened, 0);
    // The restarted timer: still there 2×MSL after the start, gone 2×MSL
    // after the FIN that restarted it (both at `now` here), plus a bit.
    b.on_timeout(now + Duration::from_secs(19));
    assert_eq!(b.time_wait_count(), 1);
    b.on_timeout(now + Duration::from_secs(21));
    assert_eq!(b.time_wait_count(), 0);
    // Now the tuple matches nothing: reset.
    let later = now + Duration::from_secs(22);
    b.on_packet(later, &ack).unwrap();
    assert_eq!(fields(&drain(&mut b, later)[0]).0, Flags::RST);
}

#[test]
fn a_new_syn_reopens_time_wait_only_as_may_2_allows() {
    let (mut b, e, now) = server_in_time_wait(true);
    let new_seq = e.rcv_nxt.0.wrapping_add(100_000);
    let syn = packet(CLIENT, SERVER, new_seq, 0, Flags::SYN, b"");
    let r = b.on_packet(now, &syn);
    assert!(matches!(r, Ok(Dispatch::Spawned(..))), "{r:?}");
    assert_eq!(b.stats().time_wait_reopened, 1);
    assert_eq!(b.time_wait_count(), 0);
    let out = drain(&mut b, now);
    let (flags, iss, ack) = fields(&out[0]);
    assert_eq!(flags, Flags::SYN | Flags::ACK);
    assert_eq!(ack, new_seq.wrapping_add(1));
    // MAY-2 (1): the new ISS lies beyond the old incarnation's sequence space.
    assert!(
        SeqNum(iss) > e.snd_nxt,
        "iss {iss} vs old snd_nxt {}",
        e.snd_nxt
    );
    // MAY-2 (2): the SYN was an old duplicate, the peer resets: back to TIME-WAIT.
    let rst = packet(CLIENT, SERVER, new_seq.wrapping_add(1), 0, Flags::RST, b"");
    b.on_packet(now, &rst).unwrap();
    drain(&mut b, now);
    assert_eq!(b.connection_count(), 0);
    assert_eq!(b.time_wait_count(), 1);
    assert_eq!(b.stats().time_wait_restored, 1);

    // With reopening switched off, the same SYN only draws an ACK.
    let (mut b, e, now) = server_in_time_wait(false);
    let syn = packet(
        CLIENT,
        SERVER,
        e.rcv_nxt.0.wrapping_add(100_000),
        0,
        Flags::SYN,
        b"",
    );
    assert_eq!(b.on_packet(now, &syn), Ok(Dispatch::TimeWait));
    assert_eq!(fields(&drain(&mut b, now)[0]).0, Flags::ACK);
    assert_eq!(b.time_wait_count(), 1);
}

#[test]
fn an_active_open_on_a_tuple_in_time_wait_is_refused() {
    let (mut b, _, now) = server_in_time_wait(true);
    let r = b.connect(now, SERVER, CLIENT);
    assert_eq!(r.err(), Some(synack_tcp::Error::ConnectionAlreadyExists));
}

/// One million TIME-WAIT entries, in the table's own container, stay under
/// 100 MB; computed from element sizes and capacities (no timing).
#[test]
fn a_million_time_wait_entries_fit_in_100_mb() {
    const N: u32 = 1_000_000;
    let mut t = TimeWaitTable::<V4Key>::new(TupleHasherBuilder::new(9));
    for i in 0..N {
        let key = V4Key {
            local: [10, 0, 0, 2],
            remote: (0x0a00_0000u32 + (i >> 16)).to_be_bytes(),
            local_port: 80,
            remote_port: i as u16,
        };
        t.insert(
            key,
            TimeWaitEntry {
                snd_nxt: SeqNum(i),
                rcv_nxt: SeqNum(!i),
                expires_ms: 240_000,
                window: 1000,
                ts_recent: 0,
                flags: 0,
            },
        );
    }
    assert_eq!(t.len(), N as usize);
    let bytes = t.memory_bytes();
    let per_entry = bytes as f64 / f64::from(N);
    println!(
        "TIME-WAIT: {} entries in {bytes} bytes ({per_entry:.1} bytes/entry; slot {} B, key {} B)",
        N,
        core::mem::size_of::<(V4Key, TimeWaitEntry)>(),
        core::mem::size_of::<V4Key>()
    );
    assert!(bytes < 100_000_000, "{bytes} bytes");
    // And each entry is still found.
    let probe = V4Key {
        local: [10, 0, 0, 2],
        remote: (0x0a00_0000u32 + (777_777 >> 16)).to_be_bytes(),
        local_port: 80,
        remote_port: 777_777u32 as u16,
    };
    assert_eq!(t.get(&probe).map(|e| e.snd_nxt), Some(SeqNum(777_777)));
    // Expiry drains them all.
    assert_eq!(t.expire(Instant::from_secs(241)), N as usize);
    assert!(t.is_empty());
}

/// A peer repeating its FIN restarts the timer without growing the expiry
/// FIFO; restarted entries expire at their new time, others at theirs.
#[test]
fn restarts_do_not_grow_the_time_wait_fifo() {
    let mut t = TimeWaitTable::<V4Key>::new(TupleHasherBuilder::new(1));
    let key = |port: u16| V4Key {
        local: [10, 0, 0, 2],
        remote: [10, 0, 0, 1],
        local_port: 80,
        remote_port: port,
    };
    let entry = |expires_ms| TimeWaitEntry {
        snd_nxt: SeqNum(1),
        rcv_nxt: SeqNum(2),
        expires_ms,
        window: 0,
        ts_recent: 0,
        flags: 0,
    };
    t.insert(key(1), entry(1000));
    t.insert(key(2), entry(2000));
    for i in 0..10_000 {
        t.restart(&key(1), 5000 + i % 2);
    }
    assert_eq!(t.queued(), 2);
    assert_eq!(t.expire(Instant::from_millis(1500)), 0);
    assert_eq!(t.expire(Instant::from_millis(2500)), 1);
    assert!(t.get(&key(2)).is_none());
    assert_eq!(t.expire(Instant::from_millis(4999)), 0);
    assert_eq!(t.expire(Instant::from_millis(5001)), 1);
    assert!(t.is_empty());
    assert_eq!(t.queued(), 0);
}

proptest! {
    /// Any bytes as a packet, to a table with a listener, a connection and a
    /// TIME-WAIT entry: no panic, and malformed input is counted and refused.
    #[test]
    fn arbitrary_packets_never_panic(packets in proptest::collection::vec(
        proptest::collection::vec(any::<u8>(), 0..120), 1..40)
    ) {
        let (mut b, _, now) = server_in_time_wait(true);
        let mut a = stack(8);
        b.listen(SocketAddr::new(SERVER.ip(), 81), 4).unwrap();
        let c = a.connect(now, SocketAddr::new(CLIENT.ip(), 40001), SocketAddr::new(SERVER.ip(), 81)).unwrap();
        pump(&mut a, &mut b, now);
        let before = b.stats().malformed;
        let mut refused = 0;
        for p in &packets {
            if let Err(PacketError::Malformed(_)) = b.on_packet(now, p) {
                refused += 1;
            }
            drain(&mut b, now);
        }
        prop_assert_eq!(b.stats().malformed - before, refused);
        prop_assert_eq!(a.state(c).unwrap(), State::Established);
    }
}

#[test]
fn ipv6_handshake_data_and_unmatched_reset() {
    use std::net::Ipv6Addr;
    let c6 = SocketAddr::new(
        IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 1)),
        40000,
    );
    let s6 = SocketAddr::new(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 2)), 443);
    let (mut a, mut b) = (stack(21), stack(22));
    let now = Instant::from_secs(1);
    let l = b.listen(s6, 4).unwrap();
    let c = a.connect(now, c6, s6).unwrap();
    pump(&mut a, &mut b, now);
    let s = b.accept(l).expect("established over IPv6");
    assert_eq!(a.send(c, b"over v6").unwrap(), 7);
    pump(&mut a, &mut b, now);
    let mut buf = [0u8; 16];
    assert_eq!(b.recv(s, &mut buf).unwrap(), 7);
    assert_eq!(&buf[..7], b"over v6");
    // A tuple that mixes families is refused with a typed error.
    let r = a.connect(now, c6, SERVER);
    assert_eq!(r.err(), Some(synack_tcp::Error::AddressFamilyMismatch));
    // A segment for an unknown IPv6 port is reset.
    let stray = packet(c6, SocketAddr::new(s6.ip(), 444), 5, 0, Flags::SYN, b"");
    assert_eq!(b.on_packet(now, &stray), Ok(Dispatch::Unmatched));
    let out = drain(&mut b, now);
    assert_eq!(fields(&out[0]), (Flags::RST | Flags::ACK, 0, 6));
}
