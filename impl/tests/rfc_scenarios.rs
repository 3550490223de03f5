//! The worked examples of RFC 9293 §3.5-§3.6 (Figures 6-13), played by two
//! engines exchanging real, checksummed segments. Sequence numbers are the
//! figures' own (fixed ISNs); each step checks the segment and both states.

mod connection_util;
use connection_util::*;
use synack_tcp::{
    Connection, Ended, Error, Event, Flags, FourTuple, ResetReason, SeqNum, State, TcpSegment,
};

fn hdr(s: &TcpSegment) -> (u32, u32, Flags) {
    (s.header.seq.0, s.header.ack.0, s.header.flags)
}

const SYN: Flags = Flags::SYN;
const ACK: Flags = Flags::ACK;
const RST: Flags = Flags::RST;

fn syn_ack() -> Flags {
    Flags::SYN | Flags::ACK
}
fn fin_ack() -> Flags {
    Flags::FIN | Flags::ACK
}

/// Figure 6: basic three-way handshake, then data on the ACK's sequence number.
#[test]
fn figure_6_basic_three_way_handshake() {
    let mut b_ = Connection::listen(&plain(300), b()).unwrap();
    let mut a_ = Connection::connect(
        &plain(100),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    assert_eq!((a_.state(), b_.state()), (State::SynSent, State::Listen));

    let s2 = one(&mut a_, t(0));
    assert_eq!(hdr(&s2), (100, 0, SYN));
    deliver(&mut b_, a(), &s2, t(1));
    assert_eq!(b_.state(), State::SynReceived);

    let s3 = one(&mut b_, t(1));
    assert_eq!(hdr(&s3), (300, 101, syn_ack()));
    deliver(&mut a_, b(), &s3, t(2));
    assert_eq!(a_.state(), State::Established);

    let s4 = one(&mut a_, t(2));
    assert_eq!(hdr(&s4), (101, 301, ACK));
    assert!(s4.payload.is_empty());
    deliver(&mut b_, a(), &s4, t(3));
    assert_eq!(b_.state(), State::Established);

    a_.send(b"data").unwrap();
    let s5 = one(&mut a_, t(3));
    assert_eq!((s5.header.seq.0, s5.header.ack.0), (101, 301));
    assert!(s5.header.flags.ack());
    assert_eq!(s5.payload, b"data");
    deliver(&mut b_, a(), &s5, t(4));
    assert_eq!(b_.state(), State::Established);
    let mut buf = [0u8; 8];
    assert_eq!(b_.recv(&mut buf), Ok(4));
    assert_eq!(&buf[..4], b"data");
    assert_eq!(events(&mut a_), vec![Event::Connected]);
}

/// Figure 7: simultaneous open (MUST-10): CLOSED -> SYN-SENT -> SYN-RECEIVED
/// -> ESTABLISHED on both sides.
#[test]
fn figure_7_simultaneous_open() {
    let mut a_ = Connection::connect(
        &plain(100),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    let mut b_ = Connection::connect(
        &plain(300),
        FourTuple {
            local: b(),
            remote: a(),
        },
        t(0),
    )
    .unwrap();

    let a_syn = one(&mut a_, t(0)); // line 2: delayed in the network
    assert_eq!(hdr(&a_syn), (100, 0, SYN));
    let b_syn = one(&mut b_, t(0));
    assert_eq!(hdr(&b_syn), (300, 0, SYN));

    deliver(&mut a_, b(), &b_syn, t(1)); // line 3
    assert_eq!(a_.state(), State::SynReceived);
    assert!(
        !a_.status().passive_open,
        "MUST-11: reached from an active OPEN"
    );

    deliver(&mut b_, a(), &a_syn, t(2)); // line 4
    assert_eq!(b_.state(), State::SynReceived);

    let a_sa = one(&mut a_, t(2)); // line 5
    assert_eq!(hdr(&a_sa), (100, 301, syn_ack()));
    let b_sa = one(&mut b_, t(2));
    assert_eq!(hdr(&b_sa), (300, 101, syn_ack()));

    deliver(&mut a_, b(), &b_sa, t(3)); // line 6
    assert_eq!(a_.state(), State::Established);
    deliver(&mut b_, a(), &a_sa, t(4)); // line 7
    assert_eq!(b_.state(), State::Established);

    silent(&mut a_, t(4));
    silent(&mut b_, t(4));
    for c in [&a_, &b_] {
        let st = c.status();
        assert_eq!(st.snd_una, st.snd_nxt);
    }
    assert_eq!(a_.status().rcv_nxt, SeqNum(301));
    assert_eq!(b_.status().rcv_nxt, SeqNum(101));
}

/// Figure 8: an old duplicate SYN reaches the listener first; the RST
/// returns it to LISTEN, and the real SYN then completes the handshake.
#[test]
fn figure_8_recovery_from_old_duplicate_syn() {
    let mut a_ = Connection::connect(
        &plain(100),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    let mut b_ = Connection::listen(&plain(300), b()).unwrap();

    let a_syn = one(&mut a_, t(0)); // line 2: delayed
    Raw::new(a(), b(), 90, SYN).to(&mut b_, t(1)); // line 3: the old duplicate
    assert_eq!(b_.state(), State::SynReceived);

    let b_sa = one(&mut b_, t(1)); // line 4
    assert_eq!(hdr(&b_sa), (300, 91, syn_ack()));
    deliver(&mut a_, b(), &b_sa, t(2));
    assert_eq!(a_.state(), State::SynSent);

    let a_rst = one(&mut a_, t(2)); // line 5
    assert_eq!(hdr(&a_rst), (91, 0, RST));
    deliver(&mut b_, a(), &a_rst, t(3));
    assert_eq!(b_.state(), State::Listen);

    deliver(&mut b_, a(), &a_syn, t(4)); // line 6
    assert_eq!(b_.state(), State::SynReceived);
    let b_sa2 = one(&mut b_, t(4)); // line 7
    assert_eq!((b_sa2.header.ack.0, b_sa2.header.flags), (101, syn_ack()));
    let b_iss = b_sa2.header.seq.0;
    deliver(&mut a_, b(), &b_sa2, t(5));
    assert_eq!(a_.state(), State::Established);

    let a_ack = one(&mut a_, t(5)); // line 8
    assert_eq!(hdr(&a_ack), (101, b_iss + 1, ACK));
    deliver(&mut b_, a(), &a_ack, t(6));
    assert_eq!(b_.state(), State::Established);
}

/// Figure 9: A crashed and reopens; B, still ESTABLISHED, answers the SYN
/// with an ACK; A resets B, then keeps trying to open.
#[test]
fn figure_9_half_open_connection_discovery() {
    // B ends up with SND.NXT = 300 and RCV.NXT = 100, as in line 1.
    let (_old_a, mut b_) = established(&plain(99), &plain(299));
    assert_eq!((b_.status().snd_nxt.0, b_.status().rcv_nxt.0), (300, 100));

    // A reboots (its TCB is gone) and opens again with ISS 400.
    let mut a_ = Connection::connect(
        &plain(400),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(10),
    )
    .unwrap();
    let a_syn = one(&mut a_, t(10)); // line 3
    assert_eq!(hdr(&a_syn), (400, 0, SYN));
    deliver(&mut b_, a(), &a_syn, t(11));
    assert_eq!(b_.state(), State::Established);

    let b_ack = one(&mut b_, t(11)); // line 4
    assert_eq!(hdr(&b_ack), (300, 100, ACK));
    deliver(&mut a_, b(), &b_ack, t(12));
    assert_eq!(a_.state(), State::SynSent);

    let a_rst = one(&mut a_, t(12)); // line 5
    assert_eq!(hdr(&a_rst), (100, 0, RST));
    deliver(&mut b_, a(), &a_rst, t(13));
    assert_eq!(b_.state(), State::Closed); // line 6
    assert_eq!(b_.ended(), Some(Ended::Reset(ResetReason::ByPeer)));

    // Line 7: A retransmits its SYN when the retransmission timer fires.
    let rto = a_.poll_timeout().expect("SYN retransmission timer");
    a_.on_timeout(rto);
    let again = one(&mut a_, rto);
    assert_eq!(hdr(&again), (400, 0, SYN));
    assert_eq!(a_.state(), State::SynSent);
}

/// Figure 10: B sends data to a rebooted A; A has no TCB and answers with a
/// RST that B accepts.
#[test]
fn figure_10_active_side_causes_half_open_discovery() {
    let (_old_a, mut b_) = established(&plain(99), &plain(299));
    let mut a_ = Connection::closed(&plain(0), a()); // after the reboot

    b_.send(&[7u8; 10]).unwrap();
    let data = one(&mut b_, t(10)); // line 2
    assert_eq!(
        (data.header.seq.0, data.header.ack.0, data.payload.len()),
        (300, 100, 10)
    );
    deliver(&mut a_, b(), &data, t(11));
    assert_eq!(a_.state(), State::Closed);

    let rst = one(&mut a_, t(11)); // line 3
    assert_eq!(hdr(&rst), (100, 0, RST));
    deliver(&mut b_, a(), &rst, t(12));
    assert_eq!(b_.state(), State::Closed);
    assert_eq!(
        events(&mut b_),
        vec![
            Event::Reset(ResetReason::ByPeer),
            Event::Closed(Ended::Reset(ResetReason::ByPeer))
        ]
    );
    assert_eq!(b_.send(b"x"), Err(Error::ConnectionReset));
}

/// Figure 11: an old duplicate SYN stirs passive B; A (also passive)
/// answers B's SYN,ACK with a RST, and B returns to LISTEN.
#[test]
fn figure_11_old_duplicate_syn_resets_two_passive_sockets() {
    let mut a_ = Connection::listen(&plain(100), a()).unwrap();
    let mut b_ = Connection::listen(&plain(300), b()).unwrap();
    let z = 5000;

    Raw::new(a(), b(), z, SYN).to(&mut b_, t(0)); // line 2
    assert_eq!(b_.state(), State::SynReceived);
    let sa = one(&mut b_, t(0)); // line 3
    assert_eq!(hdr(&sa), (300, z + 1, syn_ack()));

    deliver(&mut a_, b(), &sa, t(1));
    assert_eq!(a_.state(), State::Listen);
    let rst = one(&mut a_, t(1)); // line 4
    assert_eq!(hdr(&rst), (z + 1, 0, RST));

    deliver(&mut b_, a(), &rst, t(2));
    assert_eq!((a_.state(), b_.state()), (State::Listen, State::Listen)); // line 5
    assert!(events(&mut b_).is_empty(), "the user need not be informed");
}

/// Figure 12: normal close; A lingers in TIME-WAIT for 2×MSL (MUST-13).
#[test]
fn figure_12_normal_close() {
    let (mut a_, mut b_) = established(&plain(99), &plain(299));

    a_.close(t(10)).unwrap(); // line 2
    assert_eq!(a_.state(), State::FinWait1);
    let fin = one(&mut a_, t(10));
    assert_eq!(hdr(&fin), (100, 300, fin_ack()));
    deliver(&mut b_, a(), &fin, t(11));
    assert_eq!(b_.state(), State::CloseWait);

    let ack = one(&mut b_, t(11)); // line 3
    assert_eq!(hdr(&ack), (300, 101, ACK));
    deliver(&mut a_, b(), &ack, t(12));
    assert_eq!(a_.state(), State::FinWait2);
    assert_eq!(events(&mut b_), vec![Event::PeerClosed]);

    b_.close(t(13)).unwrap(); // line 4
    assert_eq!(b_.state(), State::LastAck);
    let bfin = one(&mut b_, t(13));
    assert_eq!(hdr(&bfin), (300, 101, fin_ack()));
    deliver(&mut a_, b(), &bfin, t(14));
    assert_eq!(a_.state(), State::TimeWait);

    let last = one(&mut a_, t(14)); // line 5
    assert_eq!(hdr(&last), (101, 301, ACK));
    deliver(&mut b_, a(), &last, t(15));
    assert_eq!(b_.state(), State::Closed);
    assert_eq!(b_.ended(), Some(Ended::Graceful));

    // Line 6: TIME-WAIT lasts exactly 2×MSL from entering it.
    let deadline = a_.poll_timeout().unwrap();
    assert_eq!(deadline, t(14) + a_.config().msl * 2);
    a_.on_timeout(deadline - secs(1));
    assert_eq!(a_.state(), State::TimeWait);
    a_.on_timeout(deadline);
    assert_eq!(a_.state(), State::Closed);
    assert_eq!(
        events(&mut a_),
        vec![Event::PeerClosed, Event::Closed(Ended::Graceful)]
    );
}

/// Figure 13: simultaneous close: both FIN-WAIT-1 -> CLOSING -> TIME-WAIT.
#[test]
fn figure_13_simultaneous_close() {
    let (mut a_, mut b_) = established(&plain(99), &plain(299));
    a_.close(t(10)).unwrap();
    b_.close(t(10)).unwrap();
    let afin = one(&mut a_, t(10));
    let bfin = one(&mut b_, t(10));
    assert_eq!(hdr(&afin), (100, 300, fin_ack()));
    assert_eq!(hdr(&bfin), (300, 100, fin_ack()));

    deliver(&mut a_, b(), &bfin, t(11));
    deliver(&mut b_, a(), &afin, t(11));
    assert_eq!((a_.state(), b_.state()), (State::Closing, State::Closing));

    let aack = one(&mut a_, t(11));
    let back = one(&mut b_, t(11));
    assert_eq!(hdr(&aack), (101, 301, ACK));
    assert_eq!(hdr(&back), (301, 101, ACK));
    deliver(&mut a_, b(), &back, t(12));
    deliver(&mut b_, a(), &aack, t(12));
    assert_eq!((a_.state(), b_.state()), (State::TimeWait, State::TimeWait));

    let end = t(12) + a_.config().msl * 2;
    a_.on_timeout(end);
    b_.on_timeout(end);
    assert_eq!((a_.state(), b_.state()), (State::Closed, State::Closed));
    assert_eq!(a_.ended(), Some(Ended::Graceful));
}

/// §3.6 case 2 with a half-closed connection (§3.6.1): A closes, B keeps
/// sending from CLOSE-WAIT, A keeps receiving in FIN-WAIT-2; then B closes.
#[test]
fn four_way_close_with_data_from_close_wait() {
    let (mut a_, mut b_) = established(&plain(99), &plain(299));
    a_.close(t(10)).unwrap();
    exchange(&mut a_, &mut b_, t(10));
    assert_eq!(
        (a_.state(), b_.state()),
        (State::FinWait2, State::CloseWait)
    );
    assert_eq!(a_.send(b"no"), Err(Error::ConnectionClosing));

    let mut sent = Vec::new();
    for i in 0..5u8 {
        let chunk = vec![i; 1000];
        assert_eq!(b_.send(&chunk), Ok(1000));
        sent.extend_from_slice(&chunk);
        exchange(&mut a_, &mut b_, t(20 + u64::from(i)));
    }
    let mut got = vec![0u8; 10_000];
    let n = a_.recv(&mut got).unwrap();
    assert_eq!(&got[..n], &sent[..]);
    assert_eq!(a_.state(), State::FinWait2);

    b_.close(t(30)).unwrap();
    assert_eq!(b_.state(), State::LastAck);
    exchange(&mut a_, &mut b_, t(30));
    assert_eq!((a_.state(), b_.state()), (State::TimeWait, State::Closed));
    assert_eq!(a_.recv(&mut got), Err(Error::ConnectionClosing));
    assert_eq!(b_.status().bytes_delivered, 0);
    assert_eq!(a_.status().bytes_delivered, 5000);
    assert_eq!(b_.ended(), Some(Ended::Graceful));
}
