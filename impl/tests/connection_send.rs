//! Options and sending: MSS (MUST-14/15/16/65), window scale, timestamps,
//! SACK-permitted, flow control, Nagle (SHLD-7, MUST-17), silly window
//! avoidance (MUST-38/39), congestion control (MUST-19).

mod connection_util;
use connection_util::*;
use synack_tcp::{Config, Connection, Flags, FourTuple, IsnSource, SeqNum, TcpOptions};

fn full(iss: u32) -> Config {
    Config {
        isn: IsnSource::Fixed(SeqNum(iss)),
        delayed_ack: None,
        ..Config::default()
    }
}

/// Client in ESTABLISHED after a SYN,ACK carrying `opts`.
fn est_with(cfg: &Config, opts: TcpOptions, window: u16) -> Connection {
    let mut c = Connection::connect(
        cfg,
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::SYN)
        .ack(ISS + 1)
        .opts(opts)
        .window(window)
        .to(&mut c, t(0));
    one(&mut c, t(0));
    c
}

fn mss(m: u16) -> TcpOptions {
    TcpOptions {
        mss: Some(m),
        ..TcpOptions::new()
    }
}

/// MUST-14: our SYN carries the MSS, and the other options we offer.
#[test]
fn syn_carries_offered_options() {
    let mut c = Connection::connect(
        &full(ISS),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(5),
    )
    .unwrap();
    let o = one(&mut c, t(5)).header.options;
    assert_eq!(o.mss, Some(1460));
    assert_eq!(o.window_scale, Some(1), "64 KiB buffer needs shift 1");
    assert!(o.sack_permitted);
    assert_eq!(o.timestamps, Some((5, 0)));
}

/// RFC 7323 §1.3, RFC 2018: a SYN,ACK answers only options the SYN offered.
#[test]
fn passive_open_answers_only_offered_options() {
    let mut s = Connection::listen(&full(PEER_ISS), b()).unwrap();
    Raw::new(a(), b(), ISS, Flags::SYN)
        .opts(mss(1000))
        .to(&mut s, t(0));
    let o = one(&mut s, t(0)).header.options;
    assert_eq!(o.mss, Some(1460));
    assert_eq!(
        (o.window_scale, o.sack_permitted, o.timestamps),
        (None, false, None)
    );
    let st = s.status();
    assert_eq!(
        (
            st.snd_wscale,
            st.rcv_wscale,
            st.timestamps,
            st.sack_permitted
        ),
        (0, 0, false, false)
    );
    assert_eq!(st.snd_mss, 1000);
}

/// MUST-15: no MSS option received: send at most 536 bytes (IPv4).
#[test]
fn default_send_mss_is_536_for_ipv4() {
    let mut c = est_with(&plain(ISS), TcpOptions::new(), 65535);
    c.send(&[0u8; 2000]).unwrap();
    let segs = drain(&mut c, t(0));
    assert!(segs.iter().all(|(_, s)| s.payload.len() <= 536));
    assert_eq!(segs[0].1.payload.len(), 536);
}

/// MUST-15: and 1220 for IPv6.
#[test]
fn default_send_mss_is_1220_for_ipv6() {
    let (l, r): (std::net::SocketAddr, std::net::SocketAddr) = (
        "[fd00::1]:40000".parse().unwrap(),
        "[fd00::2]:80".parse().unwrap(),
    );
    let mut c = Connection::connect(
        &plain(ISS),
        FourTuple {
            local: l,
            remote: r,
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    Raw::new(r, l, PEER_ISS, Flags::SYN)
        .ack(ISS + 1)
        .to(&mut c, t(0));
    one(&mut c, t(0));
    assert_eq!(c.status().snd_mss, 1220);
}

/// MUST-16: segments never exceed the peer's MSS (less our options, RFC 6691).
#[test]
fn segments_fit_peer_mss() {
    let mut c = est_with(&plain(ISS), mss(100), 65535);
    c.send(&[0u8; 1000]).unwrap();
    let segs = drain(&mut c, t(0));
    assert!(segs.iter().all(|(_, s)| s.payload.len() <= 100));
    let with_ts = est_with(
        &full(ISS),
        TcpOptions {
            timestamps: Some((1, 0)),
            ..mss(100)
        },
        65535,
    );
    assert_eq!(
        with_ts.status().snd_mss,
        88,
        "12 bytes of timestamps per segment"
    );
}

/// MUST-65: no MSS option outside SYNs.
#[test]
fn mss_option_only_on_syn() {
    let mut c = est_with(&full(ISS), mss(1000), 65535);
    c.send(b"x").unwrap();
    let s = one(&mut c, t(0));
    assert_eq!(s.header.options.mss, None);
}

/// RFC 7323 §2.3: with both shifts agreed, SEG.WND is scaled (not on SYNs),
/// and our window is advertised scaled.
#[test]
fn window_scale_applies_after_syn() {
    let opts = TcpOptions {
        window_scale: Some(3),
        ..mss(1000)
    };
    let mut c = est_with(&full(ISS), opts, 100);
    assert_eq!(c.status().snd_wnd, 100, "the SYN's window is not scaled");
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(100)
        .to(&mut c, t(1));
    assert_eq!(c.status().snd_wnd, 800);
    c.send(b"x").unwrap();
    let s = one(&mut c, t(1));
    // Shift 1 over a 64 KiB buffer; the right edge stays where the SYN,ACK's
    // unscaled 65535 put it (receiver SWS), rounded down by the scale.
    assert_eq!(s.header.window, 32767);
}

/// RFC 7323 §3: with timestamps agreed every segment carries TSval and
/// echoes the peer's latest TSval.
#[test]
fn timestamps_are_echoed() {
    let ts = |v| TcpOptions {
        timestamps: Some((v, 0)),
        ..mss(1000)
    };
    let mut c = est_with(&full(ISS), ts(777), 65535);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .opts(ts(800))
        .to(&mut c, t(42));
    let s = one(&mut c, t(42));
    assert_eq!(s.header.options.timestamps, Some((42, 800)));
}

/// RFC 2018: SACK-permitted negotiated; held out-of-order data is reported.
#[test]
fn sack_blocks_report_out_of_order_data() {
    let opts = TcpOptions {
        sack_permitted: true,
        ..mss(1000)
    };
    let cfg = Config {
        timestamps: false,
        ..full(ISS)
    };
    let mut c = est_with(&cfg, opts, 65535);
    assert!(c.status().sack_permitted);
    peer(PEER_ISS + 11, Flags::ACK)
        .ack(ISS + 1)
        .data(b"later")
        .to(&mut c, t(1));
    let ack = one(&mut c, t(1));
    let blocks = ack.header.options.sack;
    assert_eq!(blocks.as_slice().len(), 1);
    assert_eq!(
        (blocks.as_slice()[0].left.0, blocks.as_slice()[0].right.0),
        (PEER_ISS + 11, PEER_ISS + 16)
    );
}

/// Flow control: never more in flight than the peer's window.
#[test]
fn send_window_limits_flight() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(3000)
        .to(&mut c, t(0));
    c.send(&[0u8; 5000]).unwrap();
    let sent: usize = drain(&mut c, t(0))
        .iter()
        .map(|(_, s)| s.payload.len())
        .sum();
    assert_eq!(sent, 3000);
}

/// MUST-19, RFC 5681 §3.1: the initial window, then slow start growth.
#[test]
fn initial_window_then_slow_start() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    c.send(&[0u8; 20_000]).unwrap();
    let first = drain(&mut c, t(0));
    assert_eq!(
        first.iter().map(|(_, s)| s.payload.len()).sum::<usize>(),
        4000,
        "IW = 4 segments"
    );
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1001)
        .to(&mut c, t(10));
    let next = drain(&mut c, t(10));
    assert_eq!(
        next.len(),
        2,
        "cwnd grew by one SMSS and one segment left the network"
    );
}

/// RFC 5681 §3.2: the third duplicate ACK retransmits the first
/// unacknowledged segment without waiting for the timer.
#[test]
fn third_duplicate_ack_fast_retransmits() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    c.send(&[0u8; 4000]).unwrap();
    assert_eq!(drain(&mut c, t(0)).len(), 4);
    for i in 0..2 {
        peer(PEER_ISS + 1, Flags::ACK)
            .ack(ISS + 1)
            .to(&mut c, t(10 + i));
        silent(&mut c, t(10 + i));
    }
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .to(&mut c, t(12));
    let r = one(&mut c, t(12));
    assert_eq!((r.header.seq.0, r.payload.len()), (ISS + 1, 1000));
    assert_eq!(c.stats().fast_retransmits, 1);
}

/// Nagle (SHLD-7): a small segment waits while data is unacknowledged.
#[test]
fn nagle_holds_small_segment_while_unacked() {
    let cfg = Config {
        nagle: true,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    c.send(b"a").unwrap();
    assert_eq!(one(&mut c, t(0)).payload, b"a");
    c.send(b"b").unwrap();
    silent(&mut c, t(0));
    peer(PEER_ISS + 1, Flags::ACK).ack(ISS + 2).to(&mut c, t(5));
    assert_eq!(one(&mut c, t(5)).payload, b"b");
}

/// MUST-17: the application can turn Nagle off per connection.
#[test]
fn nagle_can_be_disabled() {
    let cfg = Config {
        nagle: true,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    c.set_nagle(false);
    c.send(b"a").unwrap();
    one(&mut c, t(0));
    c.send(b"b").unwrap();
    assert_eq!(one(&mut c, t(0)).payload, b"b");
}

/// MUST-38: the sender does not send a tiny segment into a window that is a
/// small part of the largest one seen; the override timer sends it later.
#[test]
fn sender_sws_avoidance_waits_for_override() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(100)
        .to(&mut c, t(0));
    c.send(&[0u8; 500]).unwrap();
    silent(&mut c, t(0));
    let d = c.poll_timeout().unwrap();
    assert!(
        d > t(0) && d <= t(1000),
        "override within 0.1-1 s, got {d:?}"
    );
    c.on_timeout(d);
    assert_eq!(one(&mut c, d).payload.len(), 100);
}

/// MUST-39: the receiver does not open its window in small steps.
#[test]
fn receiver_sws_avoidance() {
    let cfg = Config {
        recv_buffer: 4000,
        mss: 1000,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    for i in 0..4u32 {
        peer(PEER_ISS + 1 + i * 1000, Flags::ACK)
            .ack(ISS + 1)
            .data(&[1; 1000])
            .to(&mut c, t(0));
    }
    assert_eq!(drain(&mut c, t(0)).last().unwrap().1.header.window, 0);
    let mut buf = vec![0u8; 500];
    c.recv(&mut buf).unwrap();
    silent(&mut c, t(1));
    c.recv(&mut buf).unwrap();
    let update = one(&mut c, t(2));
    assert_eq!(update.header.window, 1000);
}

/// The receive window never shrinks from the right (SHLD-14).
#[test]
fn receive_window_right_edge_never_moves_left() {
    let cfg = Config {
        recv_buffer: 4000,
        mss: 1000,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    let mut right = c.status().rcv_nxt.0 + c.status().rcv_wnd;
    for i in 0..4u32 {
        peer(PEER_ISS + 1 + i * 700, Flags::ACK)
            .ack(ISS + 1)
            .data(&[1; 700])
            .to(&mut c, t(0));
        drain(&mut c, t(0));
        let st = c.status();
        let now_right = st.rcv_nxt.0 + st.rcv_wnd;
        assert!(now_right >= right);
        right = now_right;
    }
}

/// MUST-30/31/62: urgent data is sent with URG and a pointer to the byte
/// after it; the receiving engine signals it (MUST-32) and counts it (MUST-33).
#[test]
fn urgent_data_end_to_end() {
    let (mut cli, mut srv) = established(&plain(ISS), &plain(PEER_ISS));
    cli.send(b"norm").unwrap();
    cli.send_urgent(b"URG!").unwrap();
    let segs = drain(&mut cli, t(1));
    assert_eq!(segs.len(), 1);
    let h = &segs[0].1.header;
    assert!(h.flags.urg());
    assert_eq!(h.urgent, 8, "points just past the last urgent byte");
    deliver(&mut srv, a(), &segs[0].1, t(1));
    assert_eq!(srv.status().urgent_pending, 8);
    assert!(events(&mut srv).contains(&synack_tcp::Event::Urgent));
    drain(&mut srv, t(1))
        .into_iter()
        .for_each(|(_, s)| deliver(&mut cli, b(), &s, t(2)));
    cli.send(b"after").unwrap();
    let later = one(&mut cli, t(2));
    assert!(
        !later.header.flags.urg(),
        "urgent data acknowledged: no more URG"
    );
}

/// RFC 5681 §2: an ACK is a duplicate only with data outstanding; a bare
/// FIN in flight (LAST-ACK) is left to the retransmission timer.
#[test]
fn no_fast_retransmit_of_a_bare_fin() {
    let mut c = last_ack(&plain(ISS));
    for i in 0..4 {
        peer(PEER_ISS + 2, Flags::ACK)
            .ack(ISS + 1)
            .to(&mut c, t(10 + i));
        silent(&mut c, t(10 + i));
    }
    assert_eq!(c.stats().fast_retransmits, 0);
    c.on_timeout(c.poll_timeout().unwrap());
    assert!(
        one(&mut c, t(2000)).header.flags.fin(),
        "the timer resends it"
    );
}

/// RFC 7323 §4.3: with timestamps agreed, TS.Recent is the last TSval taken
/// from the peer (the table echoes it from a compact TIME-WAIT entry);
/// without them there is none to report.
#[test]
fn ts_recent_is_reported_only_with_timestamps() {
    let ts = |v| TcpOptions {
        timestamps: Some((v, 0)),
        ..mss(1000)
    };
    let mut c = est_with(&full(ISS), ts(777), 65535);
    assert_eq!(c.ts_recent(), Some(777));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .opts(ts(900))
        .to(&mut c, t(42));
    assert_eq!(c.ts_recent(), Some(900));
    let plain_c = est_with(&plain(ISS), ts(777), 65535);
    assert_eq!(plain_c.ts_recent(), None, "we did not offer timestamps");
}

/// MUST-33: the application can learn how much urgent data is still to be
/// read; it falls as RECEIVE takes it, and reading past the urgent mark
/// leaves none (not a wrapped-around count).
#[test]
fn urgent_pending_counts_down_to_zero() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .urgent(4)
        .data(b"URG!tail")
        .to(&mut c, t(1));
    assert_eq!(c.status().urgent_pending, 4);
    let mut buf = [0u8; 3];
    assert_eq!(c.recv(&mut buf), Ok(3));
    assert_eq!(c.status().urgent_pending, 1);
    assert_eq!(c.recv(&mut buf), Ok(3));
    assert_eq!(c.status().urgent_pending, 0);
    assert_eq!(c.recv(&mut buf), Ok(2));
    assert_eq!(c.status().urgent_pending, 0);
}

/// MUST-62: the urgent pointer is carried only by segments that start
/// before the end of the urgent data; a later segment of ordinary data
/// sent before the urgent data is acknowledged carries no URG.
#[test]
fn urg_only_on_segments_before_the_urgent_mark() {
    let mut c = est_with(&plain(ISS), mss(64), 65535);
    assert_eq!(c.send_urgent(&[7u8; 64]), Ok(64));
    assert_eq!(c.send(&[1u8; 10]), Ok(10));
    let segs = drain(&mut c, t(1));
    assert_eq!(segs.len(), 2);
    let (first, second) = (&segs[0].1.header, &segs[1].1.header);
    assert_eq!((first.seq.0, first.urgent), (ISS + 1, 64));
    assert!(first.flags.urg());
    assert_eq!(second.seq.0, ISS + 65);
    assert!(!second.flags.urg(), "starts at the urgent mark");
    assert_eq!(second.urgent, 0);
}

/// Counters: every segment written by `poll_transmit` is counted once,
/// whatever its kind (SYN, ACK, data, retransmission, RST).
#[test]
fn segments_sent_counts_every_kind() {
    let mut c = Connection::connect(
        &plain(ISS),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    assert_eq!(c.stats().segments_sent, 1, "SYN");
    peer(PEER_ISS, Flags::SYN).ack(ISS + 1).to(&mut c, t(0));
    one(&mut c, t(0));
    assert_eq!(c.stats().segments_sent, 2, "ACK of the SYN,ACK");
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    assert_eq!(c.stats().segments_sent, 3, "data");
    c.on_timeout(c.poll_timeout().unwrap());
    one(&mut c, t(1000));
    assert_eq!(c.stats().segments_sent, 4, "retransmission");
    assert_eq!(c.stats().retransmissions, 1);
    c.abort(t(1001)).unwrap();
    one(&mut c, t(1001));
    assert_eq!(c.stats().segments_sent, 5, "RST");
    assert_eq!(c.stats().resets_sent, 1);
}

/// RFC 7323 §2.3: the ACK still owed when a zero TIME-WAIT has ended
/// advertises the window scaled by our shift, like every non-SYN segment.
#[test]
fn final_ack_window_is_scaled() {
    let cfg = Config {
        time_wait: Some(std::time::Duration::ZERO),
        timestamps: false,
        sack: false,
        ..full(ISS)
    };
    let opts = TcpOptions {
        window_scale: Some(0),
        ..mss(1000)
    };
    let mut c = est_with(&cfg, opts, 65535);
    assert_eq!(c.status().rcv_wscale, 1);
    c.close(t(1)).unwrap();
    assert!(one(&mut c, t(1)).header.flags.fin());
    peer(PEER_ISS + 1, Flags::FIN).ack(ISS + 2).to(&mut c, t(2));
    c.on_timeout(t(2));
    assert_eq!(c.state(), synack_tcp::State::Closed);
    let ack = one(&mut c, t(2));
    assert_eq!(sa(&ack), (ISS + 2, PEER_ISS + 2, Flags::ACK));
    assert_eq!(ack.header.window, 32768, "64 KiB >> 1");
}

/// RFC 7323 §3.2: with timestamps agreed every segment but a RST carries
/// them, the ACK still owed after a zero TIME-WAIT included.
#[test]
fn final_ack_carries_timestamps() {
    let cfg = Config {
        time_wait: Some(std::time::Duration::ZERO),
        ..full(ISS)
    };
    let ts = |v| TcpOptions {
        timestamps: Some((v, 0)),
        ..mss(1000)
    };
    let mut c = est_with(&cfg, ts(500), 65535);
    c.close(t(1)).unwrap();
    assert!(one(&mut c, t(1)).header.flags.fin());
    peer(PEER_ISS + 1, Flags::FIN)
        .ack(ISS + 2)
        .opts(ts(600))
        .to(&mut c, t(7));
    c.on_timeout(t(7));
    assert_eq!(c.state(), synack_tcp::State::Closed);
    let ack = one(&mut c, t(9));
    assert_eq!(sa(&ack), (ISS + 2, PEER_ISS + 2, Flags::ACK));
    assert_eq!(ack.header.options.timestamps, Some((9, 600)));
}

/// `poll_transmit` into a buffer too small for the whole segment writes a
/// shorter one (no FIN or PSH, since its end is not the end of the data)
/// and the rest follows (all of it, FIN too, into a buffer of exactly its
/// size); one that holds only the header carries no data;
/// one smaller than the header gets nothing, and nothing is lost.
#[test]
fn short_transmit_buffers_lose_nothing() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    c.send(b"0123456789").unwrap();
    c.close(t(1)).unwrap();
    let mut tiny = [0u8; 10];
    assert_eq!(c.poll_transmit(t(1), &mut tiny), None);
    let mut header_only = [0u8; 20];
    let tx = c.poll_transmit(t(1), &mut header_only).unwrap();
    assert_eq!(tx.len, 20);
    let mut small = [0u8; 26];
    let tx = c.poll_transmit(t(1), &mut small).unwrap();
    assert_eq!(tx.len, 26);
    let seg = synack_tcp::Segment::parse(&small[..tx.len], &pseudo(a(), b())).unwrap();
    assert_eq!(seg.seq().0, ISS + 1);
    assert_eq!(seg.payload(), b"012345");
    assert_eq!(
        seg.flags(),
        Flags::ACK,
        "neither PSH nor FIN on a cut segment"
    );
    // A buffer of exactly the right size holds the whole rest, FIN included.
    let mut exact = [0u8; 24];
    let tx = c.poll_transmit(t(1), &mut exact).unwrap();
    assert_eq!(tx.len, 24);
    let rest = synack_tcp::Segment::parse(&exact, &pseudo(a(), b())).unwrap();
    assert_eq!((rest.seq().0, rest.payload()), (ISS + 7, &b"6789"[..]));
    assert_eq!(rest.flags(), Flags::ACK | Flags::PSH | Flags::FIN);
    assert_eq!(c.status().snd_nxt.0, ISS + 12);
    silent(&mut c, t(1));
}

/// RFC 5681 §4.1: after more than one RTO without sending, the congestion
/// window restarts from the initial window; an idle time of exactly one
/// RTO does not restart it.
#[test]
fn congestion_window_restarts_after_more_than_an_rto_idle() {
    for (idle_ms, restarted) in [(1000, false), (1001, true)] {
        // Initial window: four segments of 1000 bytes (RFC 5681 §3.1).
        let iw = 4000;
        let mut c = est_with(&plain(ISS), mss(1000), 65535);
        c.send(&[0u8; 1000]).unwrap();
        one(&mut c, t(0));
        peer(PEER_ISS + 1, Flags::ACK)
            .ack(ISS + 1001)
            .to(&mut c, t(100));
        let grown = c.status().cwnd;
        assert!(grown > iw, "slow start grew cwnd to {grown}");
        assert_eq!(c.status().rto, secs(1));
        c.send(&[0u8; 10]).unwrap();
        one(&mut c, t(idle_ms));
        let want = if restarted { iw } else { grown };
        assert_eq!(c.status().cwnd, want, "idle {idle_ms} ms");
    }
}

/// MUST-39: with a receive buffer smaller than two MSS, the window reopens
/// once half the buffer is free (min(RCV.BUFF/2, MSS)), not only after a
/// whole MSS.
#[test]
fn receiver_sws_threshold_is_half_a_small_buffer() {
    let cfg = Config {
        recv_buffer: 1000,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(&[1; 1000])
        .to(&mut c, t(0));
    assert_eq!(one(&mut c, t(0)).header.window, 0);
    let mut buf = [0u8; 499];
    assert_eq!(c.recv(&mut buf), Ok(499));
    silent(&mut c, t(1));
    let mut one_more = [0u8; 1];
    assert_eq!(c.recv(&mut one_more), Ok(1));
    let update = one(&mut c, t(2));
    assert_eq!(update.header.window, 500);
}

/// RFC 5681 §3.2 with §3.8.6.1: a fast retransmit that is still pending
/// when a full ACK arrives has nothing left to resend, and new data does
/// not go into the window that ACK closed.
#[test]
fn full_ack_before_a_pending_fast_retransmit_sends_nothing_into_a_zero_window() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    c.send(&[0u8; 8000]).unwrap();
    assert_eq!(drain(&mut c, t(0)).len(), 4);
    for i in 0..3 {
        peer(PEER_ISS + 1, Flags::ACK)
            .ack(ISS + 1)
            .to(&mut c, t(10 + i));
    }
    assert_eq!(c.stats().fast_retransmits, 1);
    // Before the retransmission is polled, everything sent is acknowledged
    // and the window closes.
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 4001)
        .window(0)
        .to(&mut c, t(20));
    silent(&mut c, t(20));
    let st = c.status();
    assert_eq!(
        (st.snd_una.0, st.snd_nxt.0, st.snd_wnd),
        (ISS + 4001, ISS + 4001, 0)
    );
}

/// RFC 5681 §3.2: the fast retransmit resends the segment as it was, FIN
/// included when the FIN followed its last byte.
#[test]
fn fast_retransmit_keeps_the_fin() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    c.send(&[0u8; 1000]).unwrap();
    c.close(t(0)).unwrap();
    let first = one(&mut c, t(0));
    assert_eq!(
        (
            first.header.seq.0,
            first.payload.len(),
            first.header.flags.fin()
        ),
        (ISS + 1, 1000, true)
    );
    for i in 0..2 {
        peer(PEER_ISS + 1, Flags::ACK)
            .ack(ISS + 1)
            .to(&mut c, t(10 + i));
        silent(&mut c, t(10 + i));
    }
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .to(&mut c, t(12));
    let again = one(&mut c, t(12));
    assert_eq!(c.stats().fast_retransmits, 1);
    assert_eq!((again.header.seq.0, again.payload.len()), (ISS + 1, 1000));
    assert!(again.header.flags.fin(), "the FIN goes again with the data");
}

/// Nagle (SHLD-7) holds back small data, not the FIN: after CLOSE the FIN
/// goes at once even while data is unacknowledged.
#[test]
fn nagle_does_not_hold_a_bare_fin() {
    let cfg = Config {
        nagle: true,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    c.send(b"a").unwrap();
    assert_eq!(one(&mut c, t(0)).payload, b"a");
    c.close(t(1)).unwrap();
    let fin = one(&mut c, t(1));
    assert_eq!(sa(&fin), (ISS + 2, PEER_ISS + 1, Flags::FIN | Flags::ACK));
    assert!(fin.payload.is_empty());
}

/// MUST-38, §3.8.6.2.1: a segment shorter than the MSS goes at once when it
/// fills at least half the largest window the peer has offered.
#[test]
fn sender_sends_half_the_largest_window() {
    let mut c = est_with(&plain(ISS), mss(1460), 1000);
    assert_eq!(c.status().max_snd_wnd, 1000);
    c.send(&[3u8; 2000]).unwrap();
    let seg = one(&mut c, t(0));
    assert_eq!((seg.header.seq.0, seg.payload.len()), (ISS + 1, 1000));
}

/// Nagle (SHLD-7): a small segment held while data is unacknowledged waits
/// for that ACK; the sender SWS override timer (for a window too small to
/// use, §3.8.6.2.1 (4)) is not started for it.
#[test]
fn nagle_hold_starts_no_override_timer() {
    let cfg = Config {
        nagle: true,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    c.send(b"a").unwrap();
    one(&mut c, t(0));
    c.send(b"b").unwrap();
    silent(&mut c, t(0));
    assert_eq!(c.status().timers.persist, None);
    assert_eq!(c.poll_timeout(), Some(t(1000)), "only the RTO of \"a\"");
}

/// RFC 2018 §2: SACK blocks only when the peer sent SACK-permitted; held
/// out-of-order data is then reported by the duplicate ACK alone.
#[test]
fn no_sack_blocks_without_sack_permitted() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    assert!(!c.status().sack_permitted);
    peer(PEER_ISS + 11, Flags::ACK)
        .ack(ISS + 1)
        .data(b"later")
        .to(&mut c, t(1));
    let ack = one(&mut c, t(1));
    assert_eq!(ack.header.ack.0, PEER_ISS + 1);
    assert!(ack.header.options.sack.as_slice().is_empty());
    assert_eq!(ack.header.header_len(), 20);
}

/// MUST-16 (RFC 6691): a full-sized data segment is sized for the options
/// every segment carries, so it carries no SACK blocks, even while
/// out-of-order data is held; the pure ACKs report them.
#[test]
fn no_sack_blocks_on_data_segments() {
    let opts = TcpOptions {
        sack_permitted: true,
        ..mss(1000)
    };
    let cfg = Config {
        timestamps: false,
        ..full(ISS)
    };
    let mut c = est_with(&cfg, opts, 65535);
    assert!(c.status().sack_permitted);
    peer(PEER_ISS + 11, Flags::ACK)
        .ack(ISS + 1)
        .data(b"later")
        .to(&mut c, t(1));
    let ack = one(&mut c, t(1));
    assert_eq!(ack.header.options.sack.as_slice().len(), 1);
    c.send(&[4u8; 1000]).unwrap();
    let data = one(&mut c, t(2));
    assert_eq!(data.payload.len(), 1000);
    assert!(data.header.options.sack.as_slice().is_empty());
    assert_eq!(data.header.header_len() + data.payload.len(), 20 + 1000);
}

/// SHLD-14, §3.10.7.4: the right edge a window update advertises is the
/// one the acceptability test uses: data the peer sends up to it is taken.
#[test]
fn window_update_edge_is_honoured() {
    let cfg = Config {
        recv_buffer: 2000,
        ..plain(ISS)
    };
    let mut c = est_with(&cfg, mss(1000), 65535);
    for i in 0..2u32 {
        peer(PEER_ISS + 1 + 1000 * i, Flags::ACK)
            .ack(ISS + 1)
            .data(&[1; 1000])
            .to(&mut c, t(0));
    }
    assert_eq!(drain(&mut c, t(0)).last().unwrap().1.header.window, 0);
    assert_eq!(c.status().rcv_wnd, 0);
    let mut buf = [0u8; 2000];
    assert_eq!(c.recv(&mut buf), Ok(2000));
    let update = one(&mut c, t(1));
    assert_eq!(
        (update.header.ack.0, update.header.window),
        (PEER_ISS + 2001, 2000)
    );
    assert_eq!(c.status().rcv_wnd, 2000);
    // The peer fills exactly the window it was offered.
    for i in 0..2u32 {
        peer(PEER_ISS + 2001 + 1000 * i, Flags::ACK)
            .ack(ISS + 1)
            .data(&[2; 1000])
            .to(&mut c, t(2));
    }
    assert_eq!(c.recv_queued(), 2000);
    assert_eq!(c.stats().dropped.out_of_window, 0);
}

/// RFC 7323 §2.3: with window scaling, the edge remembered for a window
/// update is the scaled-back value sent (SEG.WND << Rcv.Wind.Shift), so the
/// whole advertised window is accepted.
#[test]
fn scaled_window_update_edge_is_honoured() {
    let cfg = Config {
        timestamps: false,
        sack: false,
        ..full(ISS)
    };
    let opts = TcpOptions {
        window_scale: Some(0),
        ..mss(1000)
    };
    let mut c = est_with(&cfg, opts, 65535);
    assert_eq!(c.status().rcv_wscale, 1);
    let chunk = vec![1u8; 4096];
    for i in 0..16u32 {
        peer(PEER_ISS + 1 + 4096 * i, Flags::ACK)
            .ack(ISS + 1)
            .data(&chunk)
            .to(&mut c, t(0));
    }
    drain(&mut c, t(0));
    assert_eq!(c.recv_queued(), 65536);
    let mut buf = vec![0u8; 65536];
    assert_eq!(c.recv(&mut buf), Ok(65536));
    let update = one(&mut c, t(1));
    assert_eq!(update.header.window, 32768, "65536 >> 1");
    assert_eq!(c.status().rcv_wnd, 65536);
    for i in 0..16u32 {
        peer(PEER_ISS + 65537 + 4096 * i, Flags::ACK)
            .ack(ISS + 1)
            .data(&chunk)
            .to(&mut c, t(2));
    }
    assert_eq!(c.recv_queued(), 65536);
}

/// MUST-39 (§3.8.6.2.2): after a RECEIVE, a window update is sent at once
/// when the window can grow by the SWS threshold (min(RCV.BUFF/2, MSS) =
/// 1460 here) while the window offered is under two thresholds (2920); a
/// window already that large waits for the next ACK to carry the increase.
#[test]
fn window_update_only_while_the_offered_window_is_small() {
    let cfg = Config {
        recv_buffer: 6000,
        ..plain(ISS)
    };
    // (bytes received, window update expected after reading 1500 of them)
    for (received, update) in [(4000u32, Some(3500u16)), (3080, None)] {
        let mut c = est_with(&cfg, mss(1000), 65535);
        let mut seq = PEER_ISS + 1;
        let mut left = received;
        while left > 0 {
            let len = left.min(1000);
            peer(seq, Flags::ACK)
                .ack(ISS + 1)
                .data(&vec![1; len as usize])
                .to(&mut c, t(0));
            seq += len;
            left -= len;
        }
        drain(&mut c, t(0));
        assert_eq!(c.status().rcv_wnd, 6000 - received);
        let mut buf = [0u8; 1500];
        assert_eq!(c.recv(&mut buf), Ok(1500));
        let segs = drain(&mut c, t(1));
        match update {
            Some(w) => {
                assert_eq!(segs.len(), 1, "received {received}");
                assert_eq!(segs[0].1.header.window, w);
            }
            None => assert!(segs.is_empty(), "received {received}: {segs:?}"),
        }
    }
}

/// §3.8.6, RFC 5681 §3.2: a fast retransmit resends old data only; bytes
/// never sent stay behind the peer's window (here 100 bytes, with 500
/// queued) instead of riding along with the retransmission.
#[test]
fn fast_retransmit_sends_nothing_beyond_the_window() {
    let mut c = est_with(&plain(ISS), mss(1000), 65535);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(100)
        .to(&mut c, t(0));
    c.send(&[6u8; 500]).unwrap();
    silent(&mut c, t(0));
    // The sender SWS override sends what the window takes.
    let d = c.poll_timeout().unwrap();
    c.on_timeout(d);
    assert_eq!(one(&mut c, d).payload.len(), 100);
    for i in 0..3 {
        peer(PEER_ISS + 1, Flags::ACK)
            .ack(ISS + 1)
            .window(100)
            .to(&mut c, d + std::time::Duration::from_millis(10 + i));
    }
    assert_eq!(c.stats().fast_retransmits, 1);
    let now = d + std::time::Duration::from_millis(20);
    let again = one(&mut c, now);
    assert_eq!((again.header.seq.0, again.payload.len()), (ISS + 1, 100));
    assert_eq!(c.status().snd_nxt.0, ISS + 101);
}
