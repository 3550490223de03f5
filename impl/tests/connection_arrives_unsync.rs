//! SEGMENT ARRIVES in CLOSED, LISTEN and SYN-SENT (RFC 9293 §3.10.7.1-3),
//! one rule per test.

mod connection_util;
use connection_util::*;
use synack_tcp::{Connection, Ended, Error, Event, Flags, ResetReason, State};

/// §3.10.7.1: with the ACK bit on, the RST is <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn closed_answers_ack_with_rst_from_seg_ack() {
    let mut c = Connection::closed(&plain(0), a());
    peer(5, Flags::ACK).ack(77).data(b"hi").to(&mut c, t(0));
    let rst = one(&mut c, t(0));
    assert_eq!(sa(&rst), (77, 0, Flags::RST));
    assert_eq!(c.state(), State::Closed);
}

/// §3.10.7.1: without ACK, <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK> (SYN and
/// data both count in SEG.LEN).
#[test]
fn closed_answers_non_ack_with_rst_ack() {
    let mut c = Connection::closed(&plain(0), a());
    peer(5, Flags::SYN).data(b"abc").to(&mut c, t(0));
    let rst = one(&mut c, t(0));
    assert_eq!(sa(&rst), (0, 9, Flags::RST | Flags::ACK));
}

/// §3.10.7.1: a RST is discarded, never answered.
#[test]
fn closed_discards_rst() {
    let mut c = Connection::closed(&plain(0), a());
    peer(5, Flags::RST).to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.stats().dropped.closed, 1);
}

/// §3.10.7.2 first check: a RST in LISTEN is ignored.
#[test]
fn listen_ignores_rst() {
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    Raw::new(a(), b(), 1, Flags::RST).to(&mut s, t(0));
    silent(&mut s, t(0));
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.stats().dropped.listen_rst, 1);
}

/// §3.10.7.2 second check: any ACK in LISTEN gets <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn listen_resets_any_ack() {
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    Raw::new(a(), b(), 1, Flags::SYN).ack(555).to(&mut s, t(0));
    let rst = one(&mut s, t(0));
    assert_eq!(sa(&rst), (555, 0, Flags::RST));
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.stats().dropped.listen_ack, 1);
}

/// §3.10.7.2 fourth: neither RST, ACK nor SYN: dropped.
#[test]
fn listen_drops_other_segments() {
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    Raw::new(a(), b(), 1, Flags::FIN)
        .data(b"x")
        .to(&mut s, t(0));
    silent(&mut s, t(0));
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.stats().dropped.listen_other, 1);
}

/// §3.10.7.2 third: IRS = SEG.SEQ, RCV.NXT = SEG.SEQ+1, SND.UNA = ISS,
/// SND.NXT = ISS+1; text on the SYN is left for a retransmission.
#[test]
fn listen_syn_sets_irs_and_rcv_nxt() {
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    Raw::new(a(), b(), 1000, Flags::SYN)
        .data(b"early")
        .to(&mut s, t(0));
    let sa_ = one(&mut s, t(0));
    assert_eq!(sa(&sa_), (300, 1001, Flags::SYN | Flags::ACK));
    let st = s.status();
    assert_eq!(
        (st.irs.0, st.rcv_nxt.0, st.snd_una.0, st.snd_nxt.0),
        (1000, 1001, 300, 301)
    );
    assert_eq!(st.remote, Some(a()));
    assert_eq!(s.recv_queued(), 0);
}

/// §3.10.7.3 first check: SEG.ACK =< ISS is unacceptable: RST <SEQ=SEG.ACK>.
#[test]
fn syn_sent_ack_at_or_below_iss_is_reset() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::SYN).ack(ISS).to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS, 0, Flags::RST));
    assert_eq!(c.state(), State::SynSent);
    assert_eq!(c.stats().dropped.syn_sent_bad_ack, 1);
}

/// §3.10.7.3 first check: SEG.ACK > SND.NXT is unacceptable.
#[test]
fn syn_sent_ack_beyond_snd_nxt_is_reset() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::ACK).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 2, 0, Flags::RST));
    assert_eq!(c.state(), State::SynSent);
}

/// §3.10.7.3 first check: a bad ACK on a RST is dropped without reply.
#[test]
fn syn_sent_bad_ack_on_rst_is_dropped() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(0, Flags::RST).ack(ISS + 7).to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.state(), State::SynSent);
}

/// §3.10.7.3 second check: RST with an acceptable ACK: "connection refused".
#[test]
fn syn_sent_rst_with_acceptable_ack_refuses() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(0, Flags::RST).ack(ISS + 1).to(&mut c, t(0));
    assert_eq!(c.state(), State::Closed);
    silent(&mut c, t(0));
    let refused = Ended::Reset(ResetReason::Refused);
    assert_eq!(
        events(&mut c),
        vec![Event::Reset(ResetReason::Refused), Event::Closed(refused)]
    );
    assert_eq!(c.send(b"x"), Err(Error::ConnectionRefused));
}

/// §3.10.7.3 second check: a RST without ACK is dropped.
#[test]
fn syn_sent_rst_without_ack_is_dropped() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(0, Flags::RST).to(&mut c, t(0));
    assert_eq!(c.state(), State::SynSent);
    assert_eq!(c.stats().dropped.syn_sent_rst_no_ack, 1);
}

/// §3.10.7.3 fourth check: SYN,ACK acknowledging our SYN: ESTABLISHED and
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>; text on it goes on at the sixth step.
#[test]
fn syn_sent_syn_ack_with_data_establishes_and_delivers() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::SYN)
        .ack(ISS + 1)
        .data(b"xy")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::Established);
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, PEER_ISS + 3, Flags::ACK));
    let mut buf = [0u8; 4];
    assert_eq!(c.recv(&mut buf), Ok(2));
    assert_eq!(&buf[..2], b"xy");
}

/// §3.10.7.3 fourth check: a SYN without ACK: SYN-RECEIVED and
/// <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK> (simultaneous open, MUST-10).
#[test]
fn syn_sent_plain_syn_enters_syn_received() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::SYN).to(&mut c, t(0));
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(
        sa(&one(&mut c, t(0))),
        (ISS, PEER_ISS + 1, Flags::SYN | Flags::ACK)
    );
    assert!(!c.status().passive_open);
}

/// §3.10.7.3 fifth: neither SYN nor RST: dropped.
#[test]
fn syn_sent_drops_segment_without_syn_or_rst() {
    let mut c = Connection::connect(
        &plain(ISS),
        synack_tcp::FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::ACK)
        .ack(ISS + 1)
        .data(b"zz")
        .to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.state(), State::SynSent);
    assert_eq!(c.stats().dropped.syn_sent_other, 1);
}

/// A segment from another remote never reaches a connection's TCB.
#[test]
fn segments_for_another_tuple_are_counted_and_dropped() {
    let mut c = client_est(&plain(ISS));
    let other: std::net::SocketAddr = "10.0.0.9:80".parse().unwrap();
    Raw::new(other, a(), PEER_ISS + 1, Flags::RST).to(&mut c, t(0));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.stats().dropped.wrong_tuple, 1);
}

/// Bytes that are not a valid segment are counted per reason (MUST-3, MUST-7).
#[test]
fn malformed_bytes_are_counted_per_reason() {
    let mut c = client_est(&plain(ISS));
    let before = c.status();
    let mut good = peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .bytes();
    assert!(c.on_bytes(t(0), &good[..10], b()).is_err());
    good[21] ^= 0xff; // a payload byte: the checksum no longer matches
    assert!(c.on_bytes(t(0), &good, b()).is_err());
    let d = &c.stats().dropped;
    assert_eq!((d.malformed, d.bad_checksum), (1, 1));
    assert_eq!(c.status(), before);
}

/// Bytes from an address of the other family cannot belong to the
/// connection (no pseudo-header joins them), and a segment whose
/// destination port is not ours is not for this TCB even when its source
/// port matches (§3.10.7: a segment is matched on the whole 4-tuple).
/// Both are counted as wrong-tuple drops and change nothing.
#[test]
fn other_family_and_other_local_port_are_wrong_tuple() {
    let mut c = client_est(&plain(ISS));
    let before = c.status();
    let v6: std::net::SocketAddr = "[2001:db8::2]:80".parse().unwrap();
    let bytes = peer(PEER_ISS + 1, Flags::RST).bytes();
    assert!(c.on_bytes(t(0), &bytes, v6).is_err());
    assert_eq!(c.stats().dropped.wrong_tuple, 1);

    // Right remote, source port 80 as expected, but to local port 40001: a
    // RST at RCV.NXT that would otherwise reset the connection.
    let other_local: std::net::SocketAddr = "10.0.0.1:40001".parse().unwrap();
    Raw::new(b(), other_local, PEER_ISS + 1, Flags::RST).to(&mut c, t(0));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.stats().dropped.wrong_tuple, 2);
    silent(&mut c, t(0));
    assert_eq!(c.status(), before);
}

/// §3.10.7.2 third check: a SYN from an address of the other family cannot
/// open this listener's connection (its segments could never be answered
/// with a valid pseudo-header); it is counted and the listener stays.
#[test]
fn listen_drops_syn_from_other_family() {
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    let v6: std::net::SocketAddr = "[2001:db8::1]:40000".parse().unwrap();
    let bytes = Raw::new(a(), b(), 1000, Flags::SYN).bytes();
    let seg = synack_tcp::Segment::parse_unverified(&bytes).unwrap();
    s.on_segment(t(0), &seg, v6);
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.stats().dropped.wrong_tuple, 1);
    assert_eq!(s.status().remote, None);
    silent(&mut s, t(0));
}

/// RFC 7323 §1.3/§2.2: window scaling is in force only when both SYNs carry
/// the option; a listener configured without it ignores the peer's offer:
/// no shift either way, and its SYN,ACK carries no option.
#[test]
fn listen_without_window_scale_ignores_peer_offer() {
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    let offer = synack_tcp::TcpOptions {
        window_scale: Some(7),
        ..synack_tcp::TcpOptions::new()
    };
    Raw::new(a(), b(), 1000, Flags::SYN)
        .opts(offer)
        .to(&mut s, t(0));
    let st = s.status();
    assert_eq!((st.snd_wscale, st.rcv_wscale), (0, 0));
    let syn_ack = one(&mut s, t(0));
    assert_eq!(syn_ack.header.options.window_scale, None);
    Raw::new(a(), b(), 1001, Flags::ACK)
        .ack(301)
        .window(100)
        .to(&mut s, t(0));
    assert_eq!(s.state(), State::Established);
    assert_eq!(s.status().snd_wnd, 100, "the peer's window is not scaled");
}

/// §3.10.7.2 third check: on the SYN, RCV.WND opens to what the SYN,ACK
/// will advertise (the receive buffer, at most 65535 unscaled), before the
/// SYN,ACK is even sent.
#[test]
fn listen_syn_opens_receive_window() {
    let cfg = synack_tcp::Config {
        recv_buffer: 5000,
        ..plain(300)
    };
    let mut s = Connection::listen(&cfg, b()).unwrap();
    Raw::new(a(), b(), 1000, Flags::SYN).to(&mut s, t(0));
    assert_eq!(s.status().rcv_wnd, 5000);
    let syn_ack = one(&mut s, t(0));
    assert_eq!(syn_ack.header.window, 5000);
    assert_eq!(s.status().rcv_wnd, 5000);
}
