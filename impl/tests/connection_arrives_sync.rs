//! SEGMENT ARRIVES in SYN-RECEIVED and the synchronized states (RFC 9293
//! §3.10.7.4), step by step, one rule per test. The client is at SND.NXT =
//! 101, RCV.NXT = 301 unless said otherwise.

mod connection_util;
use connection_util::*;
use synack_tcp::{
    Config, Connection, Ended, Event, Flags, FourTuple, ResetReason, SeqNum, State, TcpOptions,
    TimeWaitRst,
};

const DATA_SEQ: u32 = PEER_ISS + 1;

// ---- First: sequence number (Table 6) ----

/// Zero-length segment, window > 0: acceptable anywhere in the window.
#[test]
fn seq_zero_len_inside_window_is_acceptable() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ + 1000, Flags::ACK)
        .ack(ISS + 1)
        .window(1234)
        .to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.stats().dropped.out_of_window, 0);
    assert_eq!(
        c.status().snd_wnd,
        1234,
        "its ACK and window were processed"
    );
}

/// Zero-length segment left of the window: not acceptable, answered with
/// <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>.
#[test]
fn seq_zero_len_left_of_window_gets_ack() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ - 1, Flags::ACK)
        .ack(ISS + 1)
        .window(7)
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.stats().dropped.out_of_window, 1);
    assert_eq!(
        c.status().snd_wnd,
        65535,
        "the window was not taken from it"
    );
}

/// Segment right of the window: not acceptable.
#[test]
fn seq_beyond_window_gets_ack() {
    let cfg = Config {
        recv_buffer: 1000,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ + 1000, Flags::ACK)
        .ack(ISS + 1)
        .data(b"late")
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.recv_queued(), 0);
}

/// Data straddling RCV.NXT: only the new part is processed.
#[test]
fn seq_straddling_left_edge_delivers_new_part() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"ab")
        .to(&mut c, t(0));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abcd")
        .to(&mut c, t(0));
    let mut buf = [0u8; 8];
    assert_eq!(c.recv(&mut buf), Ok(4));
    assert_eq!(&buf[..4], b"abcd");
    assert_eq!(c.status().rcv_nxt, SeqNum(DATA_SEQ + 4));
}

/// Zero window: data is not acceptable (answered with an ACK showing the
/// zero window), but a zero-length segment at RCV.NXT is (§3.8.6.1).
#[test]
fn zero_window_rejects_data_accepts_ack() {
    let cfg = Config {
        recv_buffer: 10,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(&[1; 10])
        .to(&mut c, t(0));
    let ack = one(&mut c, t(0));
    assert_eq!((ack.header.ack.0, ack.header.window), (DATA_SEQ + 10, 0));
    assert_eq!(c.status().rcv_wnd, 0);

    peer(DATA_SEQ + 10, Flags::ACK)
        .ack(ISS + 1)
        .data(b"x")
        .to(&mut c, t(0));
    let ack = one(&mut c, t(0));
    assert_eq!((ack.header.ack.0, ack.header.window), (DATA_SEQ + 10, 0));
    assert_eq!(c.recv_queued(), 10);

    c.send(b"hi").unwrap();
    one(&mut c, t(0));
    peer(DATA_SEQ + 10, Flags::ACK)
        .ack(ISS + 3)
        .to(&mut c, t(0));
    assert_eq!(
        c.status().snd_una,
        SeqNum(ISS + 3),
        "a zero-length ACK at RCV.NXT is processed"
    );
    // ... as an acceptable segment: a pure ACK draws no reply.
    silent(&mut c, t(0));
    // One past RCV.NXT it is not acceptable (Table 5, zero window), so it
    // is answered.
    peer(DATA_SEQ + 11, Flags::ACK)
        .ack(ISS + 3)
        .to(&mut c, t(0));
    let ack = one(&mut c, t(0));
    assert_eq!((ack.header.ack.0, ack.header.window), (DATA_SEQ + 10, 0));
}

/// Table 5's zero-window row outside ESTABLISHED's fast path: in FIN-WAIT-2
/// with the receive buffer full, a zero-length segment at RCV.NXT is
/// acceptable (no reply), one elsewhere is not (an ACK in reply).
#[test]
fn zero_window_acceptability_in_fin_wait_2() {
    let cfg = Config {
        recv_buffer: 10,
        ..plain(ISS)
    };
    let mut c = fin_wait_2(&cfg);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 2)
        .data(&[7; 10])
        .to(&mut c, t(0));
    let ack = one(&mut c, t(0));
    assert_eq!((ack.header.ack.0, ack.header.window), (DATA_SEQ + 10, 0));
    peer(DATA_SEQ + 10, Flags::ACK)
        .ack(ISS + 2)
        .to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.stats().dropped.out_of_window, 0);
    peer(DATA_SEQ + 9, Flags::ACK).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 2, DATA_SEQ + 10, Flags::ACK));
    assert_eq!(c.stats().dropped.out_of_window, 1);
    assert_eq!(c.state(), State::FinWait2);
}

/// MUST-66: with a zero window, the ACK of a data segment at RCV.NXT is
/// still processed (the data is not).
#[test]
fn zero_window_still_processes_ack_field_of_data_segment() {
    let cfg = Config {
        recv_buffer: 10,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(&[1; 10])
        .to(&mut c, t(0));
    one(&mut c, t(0));
    c.send(b"hi").unwrap();
    one(&mut c, t(0));
    peer(DATA_SEQ + 10, Flags::ACK)
        .ack(ISS + 3)
        .data(b"more")
        .to(&mut c, t(0));
    assert_eq!(c.status().snd_una, SeqNum(ISS + 3));
    assert_eq!(c.recv_queued(), 10);
}

// ---- Second: RST (RFC 5961 §3) ----

/// A RST outside the window is silently dropped.
#[test]
fn rst_outside_window_is_dropped_silently() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ + 70_000, Flags::RST).to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.stats().dropped.rst_out_of_window, 1);
}

/// A RST exactly at RCV.NXT resets; the user is told (MUST-12).
#[test]
fn rst_at_rcv_nxt_resets_established() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::RST).to(&mut c, t(0));
    assert_eq!(c.state(), State::Closed);
    silent(&mut c, t(0));
    let by_peer = Ended::Reset(ResetReason::ByPeer);
    assert_eq!(
        events(&mut c),
        vec![Event::Reset(ResetReason::ByPeer), Event::Closed(by_peer)]
    );
}

/// A RST in the window but not at RCV.NXT gets a challenge ACK and is dropped.
#[test]
fn rst_in_window_not_exact_gets_challenge_ack() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ + 5, Flags::RST).to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.stats().challenge_acks, 1);
    assert_eq!(c.stats().dropped.rst_not_exact, 1);
}

/// RFC 5961 §7: challenge ACKs are rate-limited per second.
#[test]
fn challenge_acks_are_rate_limited() {
    let cfg = Config {
        challenge_ack_limit: 2,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    for i in 0..5 {
        peer(DATA_SEQ + 5 + i, Flags::RST).to(&mut c, t(100));
        drain(&mut c, t(100));
    }
    assert_eq!(
        (
            c.stats().challenge_acks,
            c.stats().challenge_acks_suppressed
        ),
        (2, 3)
    );
    peer(DATA_SEQ + 5, Flags::RST).to(&mut c, t(1100));
    assert_eq!(
        drain(&mut c, t(1100)).len(),
        1,
        "a new second, a new allowance"
    );
}

/// SYN-RECEIVED from a passive OPEN: RST returns to LISTEN (user not told).
#[test]
fn rst_in_passive_syn_received_returns_to_listen() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    Raw::new(a(), b(), ISS + 1, Flags::RST).to(&mut s, t(0));
    assert_eq!(s.state(), State::Listen);
    assert!(events(&mut s).is_empty());
    assert_eq!(s.status().remote, None);
}

/// SYN-RECEIVED from an active OPEN: RST means "connection refused".
#[test]
fn rst_in_active_syn_received_refuses() {
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
    peer(PEER_ISS, Flags::SYN).to(&mut c, t(0));
    one(&mut c, t(0));
    peer(DATA_SEQ, Flags::RST).to(&mut c, t(0));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.ended(), Some(Ended::Reset(ResetReason::Refused)));
}

/// Every synchronized state but TIME-WAIT closes on a RST at RCV.NXT.
#[test]
fn rst_closes_each_synchronized_state() {
    type Build = fn(&Config) -> Connection;
    let builders: [(State, Build, u32); 5] = [
        (State::FinWait1, fin_wait_1, DATA_SEQ),
        (State::FinWait2, fin_wait_2, DATA_SEQ),
        (State::CloseWait, close_wait, DATA_SEQ + 1),
        (State::Closing, closing, DATA_SEQ + 1),
        (State::LastAck, last_ack, DATA_SEQ + 1),
    ];
    for (state, build, rcv_nxt) in builders {
        let mut c = build(&plain(ISS));
        assert_eq!(c.state(), state);
        peer(rcv_nxt, Flags::RST).to(&mut c, t(0));
        assert_eq!(c.state(), State::Closed, "RST in {state}");
        assert_eq!(c.ended(), Some(Ended::Reset(ResetReason::ByPeer)));
    }
}

/// RFC 1337: by default a RST does not end TIME-WAIT.
#[test]
fn rst_in_time_wait_is_ignored_by_default() {
    let mut c = time_wait(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::RST).to(&mut c, t(1));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.stats().dropped.rst_in_time_wait, 1);
}

/// With the RFC 9293 switch, a RST at RCV.NXT ends TIME-WAIT (the model's
/// "TIME-WAIT assassination" variant). Both FINs were acknowledged, and
/// §3.10.7.4 gives TIME-WAIT no reset signal: the connection ended
/// gracefully, only sooner.
#[test]
fn rst_in_time_wait_closes_with_rfc9293_switch() {
    let cfg = Config {
        time_wait_rst: TimeWaitRst::Rfc9293Accept,
        ..plain(ISS)
    };
    let mut c = time_wait(&cfg);
    events(&mut c);
    peer(DATA_SEQ + 1, Flags::RST).to(&mut c, t(1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.ended(), Some(Ended::Graceful));
    assert_eq!(events(&mut c), vec![Event::Closed(Ended::Graceful)]);
}

// ---- Fourth: SYN ----

/// RFC 5961 §4: a SYN in a synchronized state, in window, gets a challenge
/// ACK and changes nothing.
#[test]
fn syn_in_established_gets_challenge_ack() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ + 10, Flags::SYN).to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.stats().dropped.syn_in_window, 1);
}

/// A passive SYN-RECEIVED that sees a new SYN in its window goes back to LISTEN.
#[test]
fn syn_in_passive_syn_received_returns_to_listen() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    Raw::new(a(), b(), ISS + 5, Flags::SYN).to(&mut s, t(0));
    assert_eq!(s.state(), State::Listen);
    assert_eq!(s.stats().dropped.syn_in_window, 1);
}

/// SYN-RECEIVED: the peer's SYN repeated means our SYN,ACK was lost: send it again.
#[test]
fn repeated_syn_in_syn_received_resends_syn_ack() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    Raw::new(a(), b(), ISS, Flags::SYN).to(&mut s, t(0));
    assert_eq!(
        sa(&one(&mut s, t(0))),
        (PEER_ISS, ISS + 1, Flags::SYN | Flags::ACK)
    );
    assert_eq!(s.state(), State::SynReceived);
}

// ---- Fifth: ACK ----

/// No ACK bit: dropped, even with data.
#[test]
fn segment_without_ack_is_dropped() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::PSH).data(b"nope").to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.recv_queued(), 0);
    assert_eq!(c.stats().dropped.no_ack, 1);
}

/// SYN-RECEIVED: an acceptable ACK enters ESTABLISHED with SND.WND, WL1, WL2
/// from the segment.
#[test]
fn syn_received_acceptable_ack_establishes() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    Raw::new(a(), b(), ISS + 1, Flags::ACK)
        .ack(PEER_ISS + 1)
        .window(4000)
        .to(&mut s, t(0));
    assert_eq!(s.state(), State::Established);
    let st = s.status();
    assert_eq!(
        (st.snd_wnd, st.snd_wl1.0, st.snd_wl2.0),
        (4000, ISS + 1, PEER_ISS + 1)
    );
    assert_eq!(events(&mut s), vec![Event::Connected]);
}

/// SYN-RECEIVED: an unacceptable ACK gets <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn syn_received_unacceptable_ack_is_reset() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    Raw::new(a(), b(), ISS + 1, Flags::ACK)
        .ack(PEER_ISS + 9)
        .to(&mut s, t(0));
    assert_eq!(sa(&one(&mut s, t(0))), (PEER_ISS + 9, 0, Flags::RST));
    assert_eq!(s.state(), State::SynReceived);
    assert_eq!(s.stats().dropped.unacceptable_ack, 1);
}

/// RFC 5961 §5: SEG.ACK > SND.NXT: ACK back and drop (data too).
#[test]
fn ack_beyond_snd_nxt_is_answered_and_dropped() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 50)
        .data(b"data")
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.recv_queued(), 0);
    assert_eq!(c.stats().dropped.unacceptable_ack, 1);
}

/// RFC 5961 §5: SEG.ACK < SND.UNA - MAX.SND.WND: ACK back and drop.
#[test]
fn ack_far_below_snd_una_is_answered_and_dropped() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS.wrapping_sub(70_000))
        .data(b"data")
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.recv_queued(), 0);
}

/// A duplicate (old but in range) ACK is fine: the data on it is taken.
#[test]
fn old_ack_within_max_snd_wnd_is_accepted() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS - 10)
        .data(b"data")
        .to(&mut c, t(0));
    assert_eq!(c.recv_queued(), 4);
    assert_eq!(c.status().snd_una, SeqNum(ISS + 1));
}

/// SND.UNA < SEG.ACK =< SND.NXT advances SND.UNA and frees the send buffer.
#[test]
fn new_ack_advances_snd_una() {
    let mut c = client_est(&plain(ISS));
    c.send(b"0123456789").unwrap();
    one(&mut c, t(0));
    peer(DATA_SEQ, Flags::ACK).ack(ISS + 5).to(&mut c, t(0));
    let st = c.status();
    assert_eq!((st.snd_una.0, st.send_queued), (ISS + 5, 6));
    assert_eq!(events(&mut c), vec![Event::Writable]);
    assert_eq!(c.stats().bytes_acked, 4);
}

/// The window is taken only from segments not older than the last update
/// (SND.WL1 < SEG.SEQ, or equal with SND.WL2 =< SEG.ACK).
#[test]
fn window_update_ignores_older_segments() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .window(5000)
        .to(&mut c, t(0));
    assert_eq!(c.status().snd_wnd, 5000);
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .window(100)
        .to(&mut c, t(0));
    assert_eq!(c.status().snd_wnd, 100, "SND.WL1 < SEG.SEQ: an update");
    // Out of order, further ahead: its window counts (SND.WL1 moves up)...
    peer(DATA_SEQ + 10, Flags::ACK)
        .ack(ISS + 1)
        .data(b"x")
        .window(6000)
        .to(&mut c, t(0));
    assert_eq!(c.status().snd_wnd, 6000);
    // ...so a segment with a lower SEG.SEQ cannot roll the window back.
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .window(1)
        .to(&mut c, t(0));
    assert_eq!(c.status().snd_wnd, 6000, "SEG.SEQ < SND.WL1: ignored");
}

/// FIN-WAIT-1: the ACK of our FIN enters FIN-WAIT-2.
#[test]
fn fin_wait_1_ack_of_fin_enters_fin_wait_2() {
    let mut c = fin_wait_1(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(c.state(), State::FinWait2);
}

/// FIN-WAIT-1: an ACK that does not cover the FIN stays in FIN-WAIT-1.
#[test]
fn fin_wait_1_partial_ack_stays() {
    let mut c = client_est(&plain(ISS));
    c.send(b"abc").unwrap();
    c.close(t(0)).unwrap();
    assert_eq!(drain(&mut c, t(0)).len(), 1, "data and FIN in one segment");
    peer(DATA_SEQ, Flags::ACK).ack(ISS + 4).to(&mut c, t(0));
    assert_eq!(c.state(), State::FinWait1);
}

/// CLOSING: an ACK that is not for our FIN is ignored; the FIN's ACK enters TIME-WAIT.
#[test]
fn closing_waits_for_ack_of_fin() {
    let mut c = closing(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::ACK).ack(ISS + 1).to(&mut c, t(0));
    assert_eq!(c.state(), State::Closing);
    assert_eq!(c.stats().dropped.closing_not_fin_ack, 1);
    peer(DATA_SEQ + 1, Flags::ACK).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(c.state(), State::TimeWait);
}

/// LAST-ACK: the ACK of our FIN deletes the TCB: CLOSED, ended gracefully.
#[test]
fn last_ack_ack_of_fin_closes() {
    let mut c = last_ack(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::ACK).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(events(&mut c), vec![Event::Closed(Ended::Graceful)]);
}

// ---- Sixth: URG ----

/// MUST-32/33: an urgent pointer is signalled once, and its extent is visible.
#[test]
fn urgent_pointer_is_signalled() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abcdef")
        .urgent(3)
        .to(&mut c, t(0));
    assert_eq!(events(&mut c), vec![Event::Readable, Event::Urgent]);
    assert_eq!(c.status().urgent_pending, 3);
    let mut buf = [0u8; 2];
    c.recv(&mut buf).unwrap();
    assert_eq!(c.status().urgent_pending, 1);
}

// ---- Seventh: text ----

/// Out-of-order data is held (SHLD-31) and acknowledged at once; the gap
/// filling delivers both in order.
#[test]
fn out_of_order_text_is_held_and_reassembled() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .data(b"def")
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.recv_queued(), 0);
    assert!(events(&mut c).is_empty(), "nothing readable yet");
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .to(&mut c, t(0));
    assert_eq!(one(&mut c, t(0)).header.ack.0, DATA_SEQ + 6);
    assert_eq!(events(&mut c), vec![Event::Readable]);
    assert_eq!(c.stats().bytes_received, 6);
    let mut buf = [0u8; 8];
    assert_eq!(c.recv(&mut buf), Ok(6));
    assert_eq!(&buf[..6], b"abcdef");
}

/// CLOSE-WAIT: text after the peer's FIN is not delivered.
#[test]
fn close_wait_ignores_text() {
    let mut c = close_wait(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"zz")
        .to(&mut c, t(0));
    assert_eq!(c.recv_queued(), 0);
}

// ---- Eighth: FIN ----

/// ESTABLISHED + FIN: CLOSE-WAIT, FIN acknowledged, user told.
#[test]
fn fin_in_established_enters_close_wait() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::FIN)
        .ack(ISS + 1)
        .data(b"bye")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ + 4, Flags::ACK));
    assert_eq!(events(&mut c), vec![Event::Readable, Event::PeerClosed]);
}

/// FIN-WAIT-1 + FIN that also acknowledges our FIN: straight to TIME-WAIT.
#[test]
fn fin_with_ack_of_our_fin_in_fin_wait_1_enters_time_wait() {
    let mut c = fin_wait_1(&plain(ISS));
    peer(DATA_SEQ, Flags::FIN).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.status().timers.time_wait, Some(t(0) + c.config().msl * 2));
}

/// A FIN ahead of missing data waits for the gap to close.
#[test]
fn fin_after_gap_waits_for_data() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ + 2, Flags::FIN)
        .ack(ISS + 1)
        .data(b"cd")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::Established);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"ab")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 5);
}

/// TIME-WAIT: a retransmitted FIN is acknowledged and restarts 2×MSL.
#[test]
fn time_wait_acks_retransmitted_fin_and_restarts_timer() {
    let mut c = time_wait(&plain(ISS));
    peer(DATA_SEQ, Flags::FIN).ack(ISS + 2).to(&mut c, t(5000));
    assert_eq!(
        sa(&one(&mut c, t(5000))),
        (ISS + 2, DATA_SEQ + 1, Flags::ACK)
    );
    assert_eq!(
        c.status().timers.time_wait,
        Some(t(5000) + c.config().msl * 2)
    );
}

// ---- TIME-WAIT and new SYNs (MAY-2) ----

/// MAY-2: a SYN beyond the old sequence space reopens from TIME-WAIT with an
/// ISS larger than anything the old connection used.
#[test]
fn syn_in_time_wait_reopens_with_larger_iss() {
    let mut c = time_wait(&plain(ISS));
    peer(DATA_SEQ + 100_000, Flags::SYN).to(&mut c, t(10));
    assert_eq!(c.state(), State::SynReceived);
    let syn_ack = one(&mut c, t(10));
    assert_eq!(syn_ack.header.ack.0, DATA_SEQ + 100_001);
    assert!(
        syn_ack.header.seq > SeqNum(ISS + 2),
        "MAY-2 (1): ISS beyond the old SND.NXT"
    );
    // The fixed ISN (100) is not beyond it: the engine then starts the new
    // incarnation 128 KiB past the old SND.NXT.
    assert_eq!(syn_ack.header.seq.0, ISS + 2 + 128 * 1024);
}

/// MAY-2 (2): if the reopening SYN was an old duplicate, back to TIME-WAIT.
#[test]
fn reopened_time_wait_returns_on_rst() {
    let mut c = time_wait(&plain(ISS));
    peer(DATA_SEQ + 100_000, Flags::SYN).to(&mut c, t(10));
    one(&mut c, t(10));
    peer(DATA_SEQ + 100_001, Flags::RST).to(&mut c, t(11));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 1);
    assert_eq!(c.status().timers.time_wait, Some(t(0) + c.config().msl * 2));
    assert!(!c.status().passive_open, "still the active opener's TCB");
}

/// Without MAY-2, a SYN in TIME-WAIT only gets an ACK.
#[test]
fn syn_in_time_wait_without_reopen_is_answered_with_ack() {
    let cfg = Config {
        time_wait_reopen: false,
        ..plain(ISS)
    };
    let mut c = time_wait(&cfg);
    peer(DATA_SEQ + 10, Flags::SYN).to(&mut c, t(10));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(sa(&one(&mut c, t(10))), (ISS + 2, DATA_SEQ + 1, Flags::ACK));
}

// ---- RFC 7323 PAWS ----

/// A segment whose timestamp is older than TS.Recent is dropped and answered.
#[test]
fn paws_drops_old_timestamp() {
    let cfg = Config {
        timestamps: true,
        ..plain(ISS)
    };
    let mut c = Connection::connect(
        &cfg,
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    one(&mut c, t(0));
    let ts = |v: u32| TcpOptions {
        timestamps: Some((v, 0)),
        ..TcpOptions::new()
    };
    peer(PEER_ISS, Flags::SYN)
        .ack(ISS + 1)
        .opts(ts(1000))
        .to(&mut c, t(0));
    one(&mut c, t(0));
    assert!(c.status().timestamps);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"new")
        .opts(ts(1010))
        .to(&mut c, t(1));
    one(&mut c, t(1));
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .data(b"old")
        .opts(ts(900))
        .to(&mut c, t(2));
    one(&mut c, t(2));
    assert_eq!(c.recv_queued(), 3);
    assert_eq!(c.stats().dropped.paws, 1);

    // RFC 7323 §5.5: TS.Recent stays the reference through three idle days...
    let day = 24 * 60 * 60 * 1000;
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .data(b"old")
        .opts(ts(900))
        .to(&mut c, t(3 * day));
    one(&mut c, t(3 * day));
    assert_eq!((c.recv_queued(), c.stats().dropped.paws), (3, 2));
    // ... and is invalid after 24 days without a segment that updated it.
    let later = t(3 * day) + secs(25 * 24 * 60 * 60);
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .data(b"old")
        .opts(ts(900))
        .to(&mut c, later);
    one(&mut c, later);
    assert_eq!((c.recv_queued(), c.stats().dropped.paws), (6, 2));
}

/// Eighth step after the peer's FIN was taken, read literally: a FIN at
/// RCV.NXT is still taken in (RCV.NXT moves over it) and acknowledged; the
/// state stays CLOSE-WAIT.
#[test]
fn second_fin_at_rcv_nxt_is_acknowledged() {
    let mut c = close_wait(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::FIN).ack(ISS + 1).to(&mut c, t(1));
    assert_eq!(sa(&one(&mut c, t(1))), (ISS + 1, DATA_SEQ + 2, Flags::ACK));
    assert_eq!(c.state(), State::CloseWait);
}

// ---- Directed at single rules (mutation testing survivors) ----

/// §3.10.7.4 second step: a RST at RCV.NXT resets whatever other bits ride
/// on it (here every one but ACK and PSH, with an ACK field that would be
/// in range): it is not an in-order ACK.
#[test]
fn rst_with_every_other_flag_at_rcv_nxt_resets() {
    let mut c = client_est(&plain(ISS));
    // CWR, ECE, URG, RST, SYN, FIN.
    let mut rst = peer(DATA_SEQ, Flags(0xE7));
    rst.ack = ISS + 1;
    rst.to(&mut c, t(0));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.ended(), Some(Ended::Reset(ResetReason::ByPeer)));
}

/// Table 6: with RCV.WND = 0 a segment with data is not acceptable, even at
/// RCV.NXT and even when the application has made room since the zero
/// window was advertised: the data is not taken, the ACK repeats RCV.NXT.
#[test]
fn data_in_advertised_zero_window_is_refused_despite_room() {
    let cfg = Config {
        recv_buffer: 10,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(&[1; 10])
        .to(&mut c, t(0));
    assert_eq!(one(&mut c, t(0)).header.window, 0);
    let mut buf = [0u8; 10];
    assert_eq!(c.recv(&mut buf), Ok(10));
    assert_eq!(c.status().rcv_wnd, 0, "no larger window advertised yet");
    peer(DATA_SEQ + 10, Flags::ACK)
        .ack(ISS + 1)
        .data(b"x")
        .to(&mut c, t(0));
    assert_eq!(c.recv_queued(), 0);
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 10);
    assert_eq!(one(&mut c, t(0)).header.ack.0, DATA_SEQ + 10);
}

/// Table 6, RCV.WND = 0: only SEG.SEQ = RCV.NXT is acceptable. A segment one
/// past it is answered and dropped whole: its ACK is not processed.
#[test]
fn zero_window_segment_off_rcv_nxt_is_dropped_with_its_ack() {
    let cfg = Config {
        recv_buffer: 10,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(&[1; 10])
        .to(&mut c, t(0));
    one(&mut c, t(0));
    c.send(b"hi").unwrap();
    one(&mut c, t(0));
    peer(DATA_SEQ + 11, Flags::ACK)
        .ack(ISS + 3)
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 3, DATA_SEQ + 10, Flags::ACK));
    assert_eq!(c.status().snd_una.0, ISS + 1);
    assert_eq!(c.stats().dropped.out_of_window, 1);
}

/// First step: a segment at IRS (one before RCV.NXT) with one byte lies
/// left of the window in ESTABLISHED: answered, its ACK unused, its byte
/// not taken. (Only SYN-RECEIVED treats a SYN,ACK at IRS specially, as the
/// peer's SYN repeated with the ACK that completes a simultaneous open.)
#[test]
fn segment_at_irs_in_established_is_unacceptable() {
    let mut c = client_est(&plain(ISS));
    c.send(b"ab").unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::ACK)
        .ack(ISS + 3)
        .data(b"z")
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 3, DATA_SEQ, Flags::ACK));
    assert_eq!(c.status().snd_una.0, ISS + 1);
    assert_eq!(c.recv_queued(), 0);
    assert_eq!(c.stats().dropped.out_of_window, 1);
}

/// Simultaneous open (MUST-10), SYN-RECEIVED: the peer's SYN,ACK repeating
/// its SYN but acknowledging nothing of ours (SEG.ACK = ISS) does not
/// complete the handshake: its SYN is left of the window, so our SYN,ACK
/// goes out again (first step), and no RST. With SEG.ACK = ISS+1 it does.
#[test]
fn simultaneous_open_syn_ack_must_acknowledge_our_syn() {
    let mut c = client_syn_sent(&plain(ISS));
    peer(PEER_ISS, Flags::SYN).to(&mut c, t(0));
    one(&mut c, t(0));
    peer(PEER_ISS, Flags::SYN).ack(ISS).to(&mut c, t(0));
    assert_eq!(
        sa(&one(&mut c, t(0))),
        (ISS, DATA_SEQ, Flags::SYN | Flags::ACK)
    );
    assert_eq!(c.state(), State::SynReceived);
    assert_eq!(c.stats().dropped.unacceptable_ack, 0);
    peer(PEER_ISS, Flags::SYN).ack(ISS + 1).to(&mut c, t(0));
    assert_eq!(c.state(), State::Established);
}

/// SYN-RECEIVED, fifth step: the ACK must satisfy SND.UNA < SEG.ACK; one of
/// ISS acknowledges nothing and gets <SEQ=SEG.ACK><CTL=RST>.
#[test]
fn syn_received_ack_of_iss_is_reset() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    Raw::new(a(), b(), ISS + 1, Flags::ACK)
        .ack(PEER_ISS)
        .to(&mut s, t(0));
    assert_eq!(sa(&one(&mut s, t(0))), (PEER_ISS, 0, Flags::RST));
    assert_eq!(s.state(), State::SynReceived);
    assert_eq!(s.stats().dropped.unacceptable_ack, 1);
}

/// MAY-2: the engine reopens from TIME-WAIT only for a SYN strictly beyond
/// RCV.NXT (the rule of BSD and Linux); a SYN exactly at RCV.NXT is an
/// in-window SYN: challenge ACK (RFC 5961 §4), TIME-WAIT stays.
#[test]
fn syn_at_rcv_nxt_in_time_wait_does_not_reopen() {
    let mut c = time_wait(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::SYN).to(&mut c, t(10));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(sa(&one(&mut c, t(10))), (ISS + 2, DATA_SEQ + 1, Flags::ACK));
    assert_eq!(c.stats().dropped.syn_in_window, 1);
}

/// RFC 7323 §3.2: a Timestamps option on a connection that did not
/// negotiate timestamps is ignored, so PAWS cannot reject the segment.
#[test]
fn timestamps_not_negotiated_are_ignored() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::FIN)
        .ack(ISS + 1)
        .data(b"abc")
        .opts(ts_opt(0x8000_0000))
        .to(&mut c, t(0));
    assert_eq!(c.recv_queued(), 3);
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.stats().dropped.paws, 0);
}

/// Timestamps negotiated at t(0) with the peer's TSval 1000.
fn ts_client() -> Connection {
    let cfg = Config {
        timestamps: true,
        ..plain(ISS)
    };
    let mut c = client_syn_sent(&cfg);
    peer(PEER_ISS, Flags::SYN)
        .ack(ISS + 1)
        .opts(ts_opt(1000))
        .to(&mut c, t(0));
    one(&mut c, t(0));
    assert!(c.status().timestamps);
    assert_eq!(c.ts_recent(), Some(1000));
    c
}

/// RFC 7323 §5.5: TS.Recent is invalidated only when the connection has
/// been idle for more than 24 days: at exactly 24 days PAWS still rejects an
/// older timestamp, a millisecond later it no longer does.
#[test]
fn paws_24_day_limit_is_exclusive() {
    let mut c = ts_client();
    let limit = t(0) + secs(24 * 24 * 60 * 60);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"old")
        .opts(ts_opt(900))
        .to(&mut c, limit);
    one(&mut c, limit);
    assert_eq!((c.recv_queued(), c.stats().dropped.paws), (0, 1));
    let later = limit + std::time::Duration::from_millis(1);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"old")
        .opts(ts_opt(900))
        .to(&mut c, later);
    assert_eq!((c.recv_queued(), c.stats().dropped.paws), (3, 1));
}

/// RFC 7323 §4.3: TS.Recent is taken from a segment that covers RCV.NXT
/// (SEG.SEQ =< RCV.NXT) with a TSval not older than it, never from one out
/// of order.
#[test]
fn ts_recent_follows_only_segments_covering_rcv_nxt() {
    let mut c = ts_client();
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"ab")
        .opts(ts_opt(1100))
        .to(&mut c, t(1));
    assert_eq!(c.ts_recent(), Some(1100));
    peer(DATA_SEQ + 5, Flags::ACK)
        .ack(ISS + 1)
        .data(b"x")
        .opts(ts_opt(2000))
        .to(&mut c, t(2));
    assert_eq!(c.ts_recent(), Some(1100), "out of order: not taken");
    // A retransmission overlapping RCV.NXT (SEG.SEQ < RCV.NXT): taken.
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .opts(ts_opt(1500))
        .to(&mut c, t(3));
    assert_eq!(c.ts_recent(), Some(1500));
    assert_eq!(c.recv_queued(), 3);
}

/// §3.8.6.1: the persist timer runs while the peer's window is zero and
/// stops when a segment opens it; another zero-window ACK leaves it running.
#[test]
fn persist_timer_stops_only_when_window_opens() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, t(0));
    c.send(b"abc").unwrap();
    silent(&mut c, t(0));
    let persist = c.status().timers.persist;
    assert!(persist.is_some(), "zero window with data queued");
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, t(10));
    assert_eq!(c.status().timers.persist, persist, "still shut");
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .window(1000)
        .to(&mut c, t(20));
    assert_eq!(c.status().timers.persist, None, "the window opened");
    assert_eq!(one(&mut c, t(20)).payload, b"abc".to_vec());
}

/// Sender SWS avoidance (MUST-38, §3.8.6.2.1 (4)): data held back because
/// the offered window is small runs the override timer; a window update
/// that is still too small leaves that timer running.
#[test]
fn sws_override_timer_survives_small_window_update() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .window(100)
        .to(&mut c, t(0));
    c.send(&[5; 1000]).unwrap();
    silent(&mut c, t(0));
    let timer = c.status().timers.persist;
    assert!(timer.is_some(), "the SWS override timer runs");
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .window(200)
        .to(&mut c, t(10));
    assert_eq!(c.status().snd_wnd, 200);
    assert_eq!(c.status().timers.persist, timer);
}

/// MUST-37: ACKs at SND.UNA that keep a zero window shut are the answers to
/// probes and keep the connection alive (the retransmission count starts
/// over); a duplicate ACK with an open window, or the first ACK that shuts
/// the window, does not.
#[test]
fn only_zero_window_acks_reset_the_retry_count() {
    let mut c = client_est(&plain(ISS));
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    let rto = c.status().timers.retransmission.unwrap();
    c.on_timeout(rto);
    assert_eq!(one(&mut c, rto).header.seq.0, ISS + 1);
    assert_eq!(c.status().retransmissions, 1);
    peer(DATA_SEQ, Flags::ACK).ack(ISS + 1).to(&mut c, rto);
    assert_eq!(c.status().retransmissions, 1, "a duplicate ACK");
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, rto);
    assert_eq!(c.status().retransmissions, 1, "the window just shut");
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, rto);
    assert_eq!(c.status().retransmissions, 0, "it stays shut: MUST-37");
}

/// MUST-62, §3.8.5: SND.UP stays until every urgent byte is acknowledged: a
/// retransmission after a partial ACK still points to the same byte.
#[test]
fn urgent_pointer_survives_partial_ack() {
    let mut c = client_est(&plain(ISS));
    c.send_urgent(b"abc").unwrap();
    let seg = one(&mut c, t(0));
    assert!(seg.header.flags.urg());
    assert_eq!(seg.header.urgent, 3);
    peer(DATA_SEQ, Flags::ACK).ack(ISS + 2).to(&mut c, t(10));
    let rto = c.status().timers.retransmission.unwrap();
    c.on_timeout(rto);
    let rtx = one(&mut c, rto);
    assert_eq!(rtx.header.seq.0, ISS + 2);
    assert!(rtx.header.flags.urg());
    assert_eq!(rtx.header.urgent, 2);
}

/// Fifth step, ACK processing with RFC 6582 §3.2: the third duplicate ACK
/// starts fast recovery with a retransmission; a partial ACK in recovery
/// retransmits the next hole at once. Both count as fast retransmits.
#[test]
fn partial_ack_in_fast_recovery_retransmits_next_hole() {
    let mut c = client_est(&plain(ISS));
    let mss = u32::from(c.status().snd_mss);
    c.send(&vec![7u8; 4 * mss as usize]).unwrap();
    assert_eq!(drain(&mut c, t(0)).len(), 4);
    for _ in 0..3 {
        peer(DATA_SEQ, Flags::ACK).ack(ISS + 1).to(&mut c, t(10));
    }
    assert_eq!(c.stats().fast_retransmits, 1);
    assert_eq!(one(&mut c, t(10)).header.seq.0, ISS + 1);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1 + mss)
        .to(&mut c, t(20));
    assert_eq!(c.stats().fast_retransmits, 2);
    assert_eq!(one(&mut c, t(20)).header.seq.0, ISS + 1 + mss);
}

/// Eighth step for a FIN held ahead of a gap: whatever segment closes the
/// gap (here a retransmission overlapping what was received) lets the FIN
/// be taken: CLOSE-WAIT.
#[test]
fn fin_after_gap_taken_when_overlapping_segment_fills_it() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"a")
        .to(&mut c, t(0));
    peer(DATA_SEQ + 2, Flags::FIN)
        .ack(ISS + 1)
        .data(b"cd")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::Established);
    drain(&mut c, t(0));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"ab")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 5);
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ + 5, Flags::ACK));
}

/// Eighth step with FINs at two places (a confused peer): a FIN held ahead
/// of a gap is taken as soon as the data before it is complete, even when
/// the segment completing it carries a FIN of its own that falls inside
/// data already received (which can no longer be honoured). The connection
/// must not stay ESTABLISHED with the peer's FIN in order and unanswered.
#[test]
fn fin_ahead_reached_by_segment_with_inner_fin_is_taken() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ + 2, Flags::FIN)
        .ack(ISS + 1)
        .data(b"cd")
        .to(&mut c, t(0));
    drain(&mut c, t(0));
    peer(DATA_SEQ, Flags::FIN)
        .ack(ISS + 1)
        .data(b"ab")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::CloseWait);
    assert_eq!(c.status().rcv_nxt.0, DATA_SEQ + 5);
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ + 5, Flags::ACK));
    assert_eq!(c.recv_queued(), 4);
}

/// Sixth step, MUST-32: the user is told of urgent data when the urgent
/// pointer advances (RCV.UP = max(RCV.UP, SEG.UP)), measured against what
/// the user has read, not against RCV.NXT; the same pointer again is no
/// news. MUST-33: the amount of urgent data is visible.
#[test]
fn urgent_signalled_only_when_pointer_advances() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .urgent(3)
        .to(&mut c, t(0));
    assert_eq!(events(&mut c), vec![Event::Readable, Event::Urgent]);
    // "abc" is still unread when the pointer moves on.
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .data(b"def")
        .urgent(3)
        .to(&mut c, t(0));
    assert_eq!(events(&mut c), vec![Event::Readable, Event::Urgent]);
    assert_eq!(c.status().urgent_pending, 6);
    // Overlapping "ef" again, plus "g", with the same pointer: only the
    // new byte is news.
    peer(DATA_SEQ + 4, Flags::ACK)
        .ack(ISS + 1)
        .data(b"efg")
        .urgent(2)
        .to(&mut c, t(0));
    assert_eq!(events(&mut c), vec![Event::Readable]);
    assert_eq!(c.status().urgent_pending, 6);
    assert_eq!(c.recv_queued(), 7);
}

/// MUST-32: a pointer that marks no unread byte (the urgent data was read
/// already) is no urgent data to signal.
#[test]
fn urgent_pointer_at_consumed_data_is_not_signalled() {
    let mut c = client_est(&plain(ISS));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .to(&mut c, t(0));
    let mut buf = [0u8; 8];
    assert_eq!(c.recv(&mut buf), Ok(3));
    events(&mut c);
    // Overlapping "bc" again, plus "d"; its pointer ends at RCV.NXT.
    peer(DATA_SEQ + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"bcd")
        .urgent(2)
        .to(&mut c, t(0));
    assert_eq!(events(&mut c), vec![Event::Readable]);
    assert_eq!(c.status().urgent_pending, 0);
    assert_eq!(c.recv_queued(), 1);
}

/// Sixth step: in CLOSE-WAIT (the peer's FIN already taken) an URG is
/// ignored.
#[test]
fn urgent_in_close_wait_is_ignored() {
    let mut c = close_wait(&plain(ISS));
    peer(DATA_SEQ + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"zzz")
        .urgent(3)
        .to(&mut c, t(0));
    assert!(events(&mut c).is_empty());
    assert_eq!(c.status().urgent_pending, 0);
}

/// Seventh step (SHLD-31, RFC 5681 §4.2): out-of-order data is kept and
/// acknowledged at once, as is the segment that fills the gap, even with
/// delayed ACKs on; nothing of it counts as not stored.
#[test]
fn out_of_order_and_gap_filling_data_acked_at_once_and_stored() {
    let cfg = Config {
        delayed_ack: Some(std::time::Duration::from_millis(200)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ + 3, Flags::ACK)
        .ack(ISS + 1)
        .data(b"def")
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ, Flags::ACK));
    assert_eq!(c.stats().dropped.data_not_stored, 0);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abc")
        .to(&mut c, t(0));
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, DATA_SEQ + 6, Flags::ACK));
    assert_eq!(c.stats().dropped.data_not_stored, 0);
    assert_eq!(c.recv_queued(), 6);
}

/// Seventh step: a segment that fills the gap and with it the whole buffer
/// is stored entirely; nothing counts as not stored.
#[test]
fn gap_fill_that_fills_the_buffer_is_all_stored() {
    let cfg = Config {
        recv_buffer: 10,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ + 5, Flags::ACK)
        .ack(ISS + 1)
        .data(b"fghij")
        .to(&mut c, t(0));
    one(&mut c, t(0));
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(b"abcde")
        .to(&mut c, t(0));
    let ack = one(&mut c, t(0));
    assert_eq!((ack.header.ack.0, ack.header.window), (DATA_SEQ + 10, 0));
    assert_eq!(c.recv_queued(), 10);
    assert_eq!(c.stats().dropped.data_not_stored, 0);
}

/// Seventh step: of an in-order segment larger than the buffer's room only
/// what fits is taken; the rest counts as not stored, and the ACK goes out
/// at once (with delayed ACKs on) so the peer resends it.
#[test]
fn in_order_data_beyond_buffer_is_cut_and_acked_at_once() {
    let cfg = Config {
        recv_buffer: 10,
        delayed_ack: Some(std::time::Duration::from_millis(200)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(&[9; 15])
        .to(&mut c, t(0));
    assert_eq!(c.recv_queued(), 10);
    assert_eq!(c.stats().dropped.data_not_stored, 1);
    assert_eq!(c.stats().bytes_received, 10);
    let ack = one(&mut c, t(0));
    assert_eq!((ack.header.ack.0, ack.header.window), (DATA_SEQ + 10, 0));
}

/// SHLD-19 (RFC 5681 §4.2): with delayed ACKs, an ACK goes out at the
/// latest for every second full-sized segment's worth of data (2 × MSS);
/// less than that waits for the timer.
#[test]
fn delayed_ack_waits_for_two_full_segments() {
    let cfg = Config {
        delayed_ack: Some(std::time::Duration::from_millis(200)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    let mss = u32::from(c.config().mss);
    let chunk = vec![1u8; mss as usize - 1];
    peer(DATA_SEQ, Flags::ACK)
        .ack(ISS + 1)
        .data(&chunk)
        .to(&mut c, t(0));
    silent(&mut c, t(0));
    peer(DATA_SEQ + mss - 1, Flags::ACK)
        .ack(ISS + 1)
        .data(&chunk)
        .to(&mut c, t(0));
    silent(&mut c, t(0));
    assert!(c.status().timers.delayed_ack.is_some());
    peer(DATA_SEQ + 2 * (mss - 1), Flags::ACK)
        .ack(ISS + 1)
        .data(b"xy")
        .to(&mut c, t(0));
    assert_eq!(one(&mut c, t(0)).header.ack.0, DATA_SEQ + 2 * mss);
}

/// Fifth step, window update: with SEG.SEQ = SND.WL1 the window is taken
/// only if SND.WL2 =< SEG.ACK (sequence arithmetic). The one cheap way to
/// have SND.WL2 after an acceptable SEG.ACK: TIME-WAIT restored after an
/// old duplicate SYN (MAY-2 (2)) starts SND.WL1 = SND.WL2 = 0, and with
/// SND.UNA = 0x9000_0002 the value 0 lies after it. Here RCV.NXT = 0 too.
#[test]
fn window_update_needs_wl2_not_after_seg_ack() {
    const OUR_ISS: u32 = 0x9000_0000;
    const THEIR_ISS: u32 = 0xffff_fffe;
    let mut c = client_syn_sent(&plain(OUR_ISS));
    peer(THEIR_ISS, Flags::SYN)
        .ack(OUR_ISS + 1)
        .to(&mut c, t(0));
    one(&mut c, t(0));
    c.close(t(0)).unwrap();
    one(&mut c, t(0));
    peer(THEIR_ISS + 1, Flags::FIN)
        .ack(OUR_ISS + 2)
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.status().rcv_nxt, SeqNum(0));
    one(&mut c, t(0));
    // A SYN reopens, its RST shows it was an old duplicate: TIME-WAIT again.
    peer(100_000, Flags::SYN).to(&mut c, t(1));
    one(&mut c, t(1));
    peer(100_001, Flags::RST).to(&mut c, t(1));
    assert_eq!(c.state(), State::TimeWait);
    let st = c.status();
    assert_eq!(
        (st.snd_una.0, st.snd_wl1.0, st.snd_wl2.0, st.snd_wnd),
        (OUR_ISS + 2, 0, 0, 0)
    );
    let drops = c.stats().dropped.clone();
    peer(0, Flags::ACK)
        .ack(OUR_ISS + 2)
        .window(1234)
        .to(&mut c, t(2));
    assert_eq!(c.stats().dropped, drops, "the segment was acceptable");
    silent(&mut c, t(2));
    assert_eq!(c.status().snd_wnd, 0, "SND.WL2 lies after SEG.ACK");
    assert_eq!(c.state(), State::TimeWait);
}
