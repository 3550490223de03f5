//! Focused tests of the pure endpoint step against RFC 9293 §3.10.

use synack_model::endpoint::{step, CloseReason, Input, IsnClock, Outputs, Params, UserError};
use synack_model::segment::Segment;
use synack_model::tcb::{State, Tcb};

fn params() -> Params {
    Params {
        rcv_wnd: 2,
        snd_wnd: 2,
        rto: 1,
        max_retries: 2,
        time_wait: 4,
        fin_wait_2_timeout: Some(4),
        rst_ends_time_wait: false,
        two_way_handshake: false,
        abort_enters_time_wait: true,
        isn: IsnClock::Clock {
            rate: 10,
            offset: 100,
        },
    }
}

fn run(t: &Tcb, input: Input) -> (Tcb, Outputs) {
    step(t, input, &params(), 3)
}

fn segs(out: &Outputs) -> Vec<Segment> {
    out.segs.iter().copied().collect()
}

/// A client in ESTABLISHED with ISS 130 and IRS 500.
fn established() -> Tcb {
    let (t, _) = run(&Tcb::closed(), Input::Open { active: true });
    let (t, _) = run(&t, Input::Segment(Segment::syn_ack(500, 131)));
    assert_eq!(t.state, State::Established);
    t
}

#[test]
fn three_way_handshake_client_side() {
    let (t, out) = run(&Tcb::closed(), Input::Open { active: true });
    // ISS from the clock: 100 + 10 * 3.
    assert_eq!(t.state, State::SynSent);
    assert_eq!((t.iss, t.snd_una, t.snd_nxt), (130, 130, 131));
    assert_eq!(segs(&out), vec![Segment::syn(130)]);
    assert_eq!(t.rtx_timer, 1);

    let (t, out) = run(&t, Input::Segment(Segment::syn_ack(500, 131)));
    assert_eq!(t.state, State::Established);
    assert_eq!((t.irs, t.rcv_nxt, t.snd_una), (500, 501, 131));
    assert_eq!(segs(&out), vec![Segment::ack(131, 501)]);
    assert_eq!(t.rtx_timer, 0, "nothing outstanding, no timer");
}

#[test]
fn three_way_handshake_server_side() {
    let (t, _) = run(&Tcb::closed(), Input::Open { active: false });
    assert_eq!(t, Tcb::listen());
    let (t, out) = run(&t, Input::Segment(Segment::syn(40)));
    assert_eq!(t.state, State::SynReceived);
    assert!(t.passive);
    assert_eq!(segs(&out), vec![Segment::syn_ack(130, 41)]);
    let (t, out) = run(&t, Input::Segment(Segment::ack(41, 131)));
    assert_eq!(t.state, State::Established);
    assert!(out.segs.is_empty());
}

#[test]
fn two_way_handshake_variant_trusts_the_syn() {
    let mut p = params();
    p.two_way_handshake = true;
    let (t, out) = step(&Tcb::listen(), Input::Segment(Segment::syn(40)), &p, 3);
    assert_eq!(t.state, State::Established);
    assert_eq!(segs(&out), vec![Segment::syn_ack(130, 41)]);
}

#[test]
fn simultaneous_open_goes_through_syn_received() {
    let (t, _) = run(&Tcb::closed(), Input::Open { active: true });
    let (t, out) = run(&t, Input::Segment(Segment::syn(500)));
    assert_eq!(t.state, State::SynReceived);
    assert!(!t.passive);
    assert_eq!(segs(&out), vec![Segment::syn_ack(130, 501)]);
    // The peer's SYN,ACK repeats the SYN we already have: by the strict test
    // of Table 6 it lies wholly before RCV.NXT, so it is only acknowledged...
    let (t, out) = run(&t, Input::Segment(Segment::syn_ack(500, 131)));
    assert_eq!(t.state, State::SynReceived);
    assert_eq!(segs(&out), vec![Segment::ack(131, 501)]);
    // ... and the peer's own such acknowledgment completes the handshake.
    let (t, out) = run(&t, Input::Segment(Segment::ack(501, 131)));
    assert_eq!(t.state, State::Established);
    assert!(out.segs.is_empty());
}

#[test]
fn closed_answers_with_an_acceptable_reset() {
    let (t, out) = run(&Tcb::closed(), Input::Segment(Segment::syn(40)));
    assert_eq!(t, Tcb::closed());
    assert_eq!(segs(&out), vec![Segment::rst_ack(0, 41)]);
    let (_, out) = run(&Tcb::closed(), Input::Segment(Segment::data(40, 77)));
    assert_eq!(segs(&out), vec![Segment::rst(77)]);
    let (_, out) = run(&Tcb::closed(), Input::Segment(Segment::rst(40)));
    assert!(out.segs.is_empty(), "a RST is never answered");
}

#[test]
fn listen_ignores_rst_and_resets_acks() {
    let (t, out) = run(&Tcb::listen(), Input::Segment(Segment::rst(40)));
    assert_eq!(t, Tcb::listen());
    assert!(out.segs.is_empty());
    let (t, out) = run(&Tcb::listen(), Input::Segment(Segment::ack(40, 9)));
    assert_eq!(t, Tcb::listen());
    assert_eq!(segs(&out), vec![Segment::rst(9)]);
}

#[test]
fn syn_sent_accepts_a_reset_only_if_it_acks_the_syn() {
    let (t, _) = run(&Tcb::closed(), Input::Open { active: true });
    let (t2, out) = run(&t, Input::Segment(Segment::rst(0)));
    assert_eq!(t2, t, "RST without ACK is dropped");
    assert!(out.segs.is_empty());
    let (t2, out) = run(&t, Input::Segment(Segment::rst_ack(0, 131)));
    assert_eq!(t2.state, State::Closed);
    assert_eq!(out.closed, Some(CloseReason::Refused));
    // A bad ACK is answered by a reset and changes nothing.
    let (t2, out) = run(&t, Input::Segment(Segment::syn_ack(500, 90)));
    assert_eq!(t2, t);
    assert_eq!(segs(&out), vec![Segment::rst(90)]);
}

#[test]
fn acceptability_test_four_cases() {
    let t = established(); // RCV.NXT = 501, RCV.WND = 2
                           // Zero length, window > 0: 501 and 502 acceptable, 503 and 500 not.
    for (seq, ok) in [(500, false), (501, true), (502, true), (503, false)] {
        let (_, out) = run(&t, Input::Segment(Segment::ack(seq, 131)));
        assert_eq!(out.segs.is_empty(), ok, "empty segment at {seq}");
    }
    // Length > 0, window > 0: the byte at 502 is acceptable but not at the
    // left edge, so it is not delivered.
    let (t2, out) = run(&t, Input::Segment(Segment::data(502, 131)));
    assert_eq!((out.delivered, t2.rcv_nxt), (0, 501));
    let (t2, out) = run(&t, Input::Segment(Segment::data(501, 131)));
    assert_eq!((out.delivered, t2.rcv_nxt), (1, 502));
    assert_eq!(segs(&out), vec![Segment::ack(131, 502)]);
    // Window 0: only an empty segment at exactly RCV.NXT.
    let mut p = params();
    p.rcv_wnd = 0;
    let (_, out) = step(&t, Input::Segment(Segment::ack(501, 131)), &p, 3);
    assert!(out.segs.is_empty());
    let (_, out) = step(&t, Input::Segment(Segment::ack(502, 131)), &p, 3);
    assert_eq!(segs(&out), vec![Segment::ack(131, 501)]);
    let (t2, out) = step(&t, Input::Segment(Segment::data(501, 131)), &p, 3);
    assert_eq!((out.delivered, t2.rcv_nxt), (0, 501));
}

#[test]
fn unacceptable_segments_are_acked_once_per_tick() {
    let t = established();
    let (t, out) = run(&t, Input::Segment(Segment::data(400, 131)));
    assert_eq!(segs(&out), vec![Segment::ack(131, 501)]);
    let (t, out) = run(&t, Input::Segment(Segment::data(400, 131)));
    assert!(out.segs.is_empty(), "throttled within the tick");
    let (t, _) = run(&t, Input::Tick);
    let (_, out) = run(&t, Input::Segment(Segment::data(400, 131)));
    assert_eq!(out.segs.len(), 1);
}

#[test]
fn rfc5961_reset_and_syn_handling() {
    let t = established();
    // In the window but not exact: challenge ACK, no reset.
    let (t2, out) = run(&t, Input::Segment(Segment::rst(502)));
    assert_eq!(t2.state, State::Established);
    assert_eq!(segs(&out), vec![Segment::ack(131, 501)]);
    // Exact: reset.
    let (t2, out) = run(&t, Input::Segment(Segment::rst(501)));
    assert_eq!(t2.state, State::Closed);
    assert_eq!(out.closed, Some(CloseReason::Reset));
    // Outside the window: silently dropped.
    let (t2, out) = run(&t, Input::Segment(Segment::rst(600)));
    assert_eq!(t2, t);
    assert!(out.segs.is_empty());
    // A SYN in a synchronized state: challenge ACK.
    let (t2, out) = run(&t, Input::Segment(Segment::syn(501)));
    assert_eq!(t2.state, State::Established);
    assert_eq!(segs(&out), vec![Segment::ack(131, 501)]);
}

#[test]
fn passive_syn_received_returns_to_listen_on_reset() {
    let (t, _) = run(&Tcb::listen(), Input::Segment(Segment::syn(40)));
    let (t2, out) = run(&t, Input::Segment(Segment::rst(41)));
    assert_eq!(t2, Tcb::listen());
    assert_eq!(out.closed, Some(CloseReason::Refused));
    // A bad ACK in SYN-RECEIVED is answered by a reset.
    let (t2, out) = run(&t, Input::Segment(Segment::ack(41, 200)));
    assert_eq!(t2, t);
    assert_eq!(segs(&out), vec![Segment::rst(200)]);
}

#[test]
fn active_close_through_time_wait() {
    let t = established();
    let (t, out) = run(&t, Input::Close);
    assert_eq!(t.state, State::FinWait1);
    assert_eq!(segs(&out), vec![Segment::fin(131, 501)]);
    let (t, _) = run(&t, Input::Segment(Segment::ack(501, 132)));
    assert_eq!(t.state, State::FinWait2);
    assert_eq!(t.timer2, 4);
    let (t, out) = run(&t, Input::Segment(Segment::fin(501, 132)));
    assert_eq!(t.state, State::TimeWait);
    assert!(out.fin_received);
    assert_eq!(segs(&out), vec![Segment::ack(132, 502)]);
    // A retransmitted FIN is acknowledged and restarts the 2 MSL timer.
    let (t, _) = run(&t, Input::Tick);
    assert_eq!(t.timer2, 3);
    let (t, out) = run(&t, Input::Segment(Segment::fin(501, 132)));
    assert_eq!(segs(&out), vec![Segment::ack(132, 502)]);
    assert_eq!(t.timer2, 4);
    // A RST does not end TIME-WAIT (RFC 1337) ...
    let (t2, _) = run(&t, Input::Segment(Segment::rst(502)));
    assert_eq!(t2.state, State::TimeWait);
    // ... unless the variant says so.
    let mut p = params();
    p.rst_ends_time_wait = true;
    let (t2, _) = step(&t, Input::Segment(Segment::rst(502)), &p, 3);
    assert_eq!(t2.state, State::Closed);
    // TIME-WAIT lasts exactly `time_wait` ticks.
    let mut t = t;
    for i in 0..4 {
        assert_eq!(t.state, State::TimeWait, "tick {i}");
        let (t2, out) = run(&t, Input::Tick);
        t = t2;
        if i == 3 {
            assert_eq!(out.closed, Some(CloseReason::Normal));
        }
    }
    assert_eq!(t, Tcb::closed());
}

#[test]
fn simultaneous_close_through_closing() {
    let t = established();
    let (t, _) = run(&t, Input::Close);
    let (t, out) = run(&t, Input::Segment(Segment::fin(501, 131)));
    assert_eq!(t.state, State::Closing);
    assert_eq!(segs(&out), vec![Segment::ack(132, 502)]);
    let (t, _) = run(&t, Input::Segment(Segment::ack(502, 132)));
    assert_eq!(t.state, State::TimeWait);
}

#[test]
fn passive_close_through_last_ack() {
    let t = established();
    let (t, out) = run(&t, Input::Segment(Segment::fin(501, 131)));
    assert_eq!(t.state, State::CloseWait);
    assert_eq!(segs(&out), vec![Segment::ack(131, 502)]);
    let (t, out) = run(&t, Input::Close);
    assert_eq!(t.state, State::LastAck);
    assert_eq!(segs(&out), vec![Segment::fin(131, 502)]);
    let (t, out) = run(&t, Input::Segment(Segment::ack(502, 132)));
    assert_eq!(t.state, State::Closed);
    assert_eq!(out.closed, Some(CloseReason::Normal));
}

#[test]
fn fin_wait_2_times_out_unless_configured_away() {
    let t = established();
    let (t, _) = run(&t, Input::Close);
    let (mut t, _) = run(&t, Input::Segment(Segment::ack(501, 132)));
    let mut reason = None;
    for _ in 0..4 {
        let (t2, out) = run(&t, Input::Tick);
        t = t2;
        reason = reason.or(out.closed);
    }
    assert_eq!(reason, Some(CloseReason::FinWait2Timeout));
    let mut p = params();
    p.fin_wait_2_timeout = None;
    let t = established();
    let (t, _) = step(&t, Input::Close, &p, 3);
    let (t, _) = step(&t, Input::Segment(Segment::ack(501, 132)), &p, 3);
    assert_eq!((t.state, t.timer2, t.rtx_timer), (State::FinWait2, 0, 0));
}

#[test]
fn retransmission_is_bounded_by_r2() {
    let (mut t, _) = run(&Tcb::closed(), Input::Open { active: true });
    let mut sent = Vec::new();
    let mut reason = None;
    for _ in 0..3 {
        let (t2, out) = run(&t, Input::Tick);
        t = t2;
        sent.extend(segs(&out));
        reason = reason.or(out.closed);
    }
    assert_eq!(sent, vec![Segment::syn(130), Segment::syn(130)]);
    assert_eq!(reason, Some(CloseReason::Timeout));
    assert_eq!(t, Tcb::closed());
}

#[test]
fn data_is_retransmitted_until_acked() {
    let t = established();
    let (t, out) = run(&t, Input::Send);
    assert_eq!(segs(&out), vec![Segment::data(131, 501)]);
    let (t, out) = run(&t, Input::Tick);
    assert_eq!(segs(&out), vec![Segment::data(131, 501)]);
    let (t, out) = run(&t, Input::Segment(Segment::ack(501, 132)));
    assert!(out.segs.is_empty());
    assert_eq!((t.snd_una, t.rtx_timer, t.retries), (132, 0, 0));
}

#[test]
fn abort_sends_reset_and_lingers() {
    let t = established();
    let (t2, out) = run(&t, Input::Abort);
    assert_eq!(segs(&out), vec![Segment::rst(131)]);
    assert_eq!(out.closed, Some(CloseReason::Aborted));
    assert_eq!(t2.state, State::TimeWait);
    let mut p = params();
    p.abort_enters_time_wait = false;
    let (t2, _) = step(&t, Input::Abort, &p, 3);
    assert_eq!(t2, Tcb::closed());
}

#[test]
fn refused_user_calls_leave_the_tcb_unchanged() {
    let t = established();
    let (t2, out) = run(&t, Input::Open { active: true });
    assert_eq!((t2, out.error), (t, Some(UserError::ConnectionExists)));
    let (t2, out) = run(&Tcb::closed(), Input::Send);
    assert_eq!(
        (t2, out.error),
        (Tcb::closed(), Some(UserError::ConnectionDoesNotExist))
    );
    let (t, _) = run(&t, Input::Close);
    let (t2, out) = run(&t, Input::Send);
    assert_eq!((t2, out.error), (t, Some(UserError::ConnectionClosing)));
}

#[test]
fn fixed_isn_ignores_the_clock() {
    let mut p = params();
    p.isn = IsnClock::Fixed(7);
    let (a, _) = step(&Tcb::closed(), Input::Open { active: true }, &p, 0);
    let (b, _) = step(&Tcb::closed(), Input::Open { active: true }, &p, 9);
    assert_eq!((a.iss, b.iss), (7, 7));
}
