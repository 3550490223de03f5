//! Timeouts (RFC 9293 §3.10.8): retransmission (RFC 6298, MUST-18/19),
//! R1/R2 (§3.8.3, MUST-20..23), TIME-WAIT (MUST-13), FIN-WAIT-2, delayed
//! ACK (MUST-40), keep-alive (MUST-24..29), zero-window probing (MUST-35..37).

mod connection_util;
use connection_util::*;
use std::time::Duration;
use synack_tcp::{
    Config, Connection, Ended, Event, Flags, FourTuple, Instant, KeepAlive, RetryLimit, SeqNum,
    State, TimeoutKind,
};

/// Fire the connection's timers until `until`, collecting what it sends.
/// A deadline that `on_timeout` does not clear or move would loop forever:
/// that fails the test instead.
fn run_alone(c: &mut Connection, until: Instant) -> Vec<(Instant, synack_tcp::TcpSegment)> {
    let mut out = Vec::new();
    let mut firings = 0;
    while let Some(d) = c.poll_timeout() {
        if d > until {
            break;
        }
        firings += 1;
        assert!(firings < 100_000, "timers stuck at {d:?}");
        c.on_timeout(d);
        for (_, s) in drain(c, d) {
            out.push((d, s));
        }
    }
    out
}

/// RFC 6298 §5.4-5.5: on expiry the earliest unacknowledged segment goes
/// again and the RTO doubles (MUST-19).
#[test]
fn rto_retransmits_and_backs_off() {
    let mut c = client_est(&plain(ISS));
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    assert_eq!(c.poll_timeout(), Some(t(1000)));
    c.on_timeout(t(1000));
    let again = one(&mut c, t(1000));
    assert_eq!(
        (again.header.seq.0, again.payload.as_slice()),
        (ISS + 1, &b"abc"[..])
    );
    assert_eq!(c.poll_timeout(), Some(t(3000)), "RTO doubled to 2 s");
    c.on_timeout(t(3000));
    one(&mut c, t(3000));
    assert_eq!(c.poll_timeout(), Some(t(7000)), "and to 4 s");
    assert_eq!(c.status().retransmissions, 2);
    assert_eq!(c.stats().retransmissions, 2);
}

/// Karn's algorithm (MUST-18): the ACK of a retransmitted segment gives no
/// RTT sample.
#[test]
fn ack_of_retransmission_gives_no_rtt_sample() {
    let mut c = client_est(&plain(ISS));
    let srtt_before = c.status().srtt;
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    c.on_timeout(t(1000));
    one(&mut c, t(1000));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 4)
        .to(&mut c, t(1500));
    assert_eq!(c.status().srtt, srtt_before);
    assert_eq!(c.poll_timeout(), None, "everything acknowledged: timer off");
}

/// RFC 6298 §2: an unambiguous ACK gives an RTT sample.
#[test]
fn ack_of_fresh_segment_gives_rtt_sample() {
    let mut c = client_est(&plain(ISS));
    c.send(b"abc").unwrap();
    one(&mut c, t(10));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 4)
        .to(&mut c, t(110));
    assert!(c.status().srtt.is_some());
    assert_ne!(c.status().srtt, Some(Duration::ZERO));
}

/// After an expiry only one segment is resent (cwnd = 1 SMSS, go back to SND.UNA).
#[test]
fn rto_resends_from_snd_una_one_segment() {
    let cfg = Config {
        mss: 536,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(&[1u8; 1500]).unwrap();
    assert_eq!(drain(&mut c, t(0)).len(), 3);
    c.on_timeout(t(1000));
    let segs = drain(&mut c, t(1000));
    assert_eq!(segs.len(), 1);
    assert_eq!(
        (segs[0].1.header.seq.0, segs[0].1.payload.len()),
        (ISS + 1, 536)
    );
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 537)
        .to(&mut c, t(1100));
    let segs = drain(&mut c, t(1100));
    assert_eq!(
        segs[0].1.header.seq.0,
        ISS + 537,
        "then on from the new SND.UNA"
    );
}

/// MUST-20: R1 warns the application (SHLD-9), R2 closes the connection.
#[test]
fn r1_warns_and_r2_count_closes() {
    let cfg = Config {
        r1: 2,
        r2: RetryLimit::Count(3),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    let sent = run_alone(&mut c, t(100_000));
    assert_eq!(sent.len(), 3, "three retransmissions, then R2");
    assert_eq!(c.state(), State::Closed);
    let kind = TimeoutKind::Retransmission;
    assert_eq!(
        events(&mut c),
        vec![
            Event::RetransmissionWarning,
            Event::TimedOut(kind),
            Event::Closed(Ended::TimedOut(kind))
        ]
    );
    assert_eq!(c.send(b"x"), Err(synack_tcp::Error::TimedOut));
}

/// MUST-21: R2 as a time: the connection lasts at least that long.
#[test]
fn r2_time_limit() {
    let cfg = Config {
        r2: RetryLimit::Time(secs(10)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    let sent = run_alone(&mut c, t(100_000));
    assert_eq!(c.state(), State::Closed);
    let last = sent.last().unwrap().0;
    assert!(last < t(10_000), "last retransmission at {last:?}");
    assert_eq!(
        c.ended(),
        Some(Ended::TimedOut(TimeoutKind::Retransmission))
    );
}

/// MUST-21: R2 can be infinite; the connection keeps trying.
#[test]
fn r2_infinite_keeps_trying() {
    let mut c = client_est(&plain(ISS));
    c.set_r2(RetryLimit::Infinite);
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    let sent = run_alone(&mut c, t(3_600_000));
    assert_eq!(c.state(), State::Established);
    assert!(sent.len() > 50);
}

/// MUST-22: the same mechanism for SYNs.
#[test]
fn syn_r2_count_times_out() {
    let cfg = Config {
        syn_r2: RetryLimit::Count(2),
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
    let sent = run_alone(&mut c, t(100_000));
    assert_eq!(sent.len(), 2);
    assert!(sent
        .iter()
        .all(|(_, s)| s.header.flags == Flags::SYN && s.header.seq.0 == ISS));
    assert_eq!(c.ended(), Some(Ended::TimedOut(TimeoutKind::Syn)));
    // Each SYN sent again is a retransmission, counted as such.
    assert_eq!((c.stats().retransmissions, c.stats().segments_sent), (2, 3));
}

/// MUST-23: by default a SYN is retried for at least 3 minutes.
#[test]
fn syn_retried_for_three_minutes_by_default() {
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
    run_alone(&mut c, t(179_999));
    assert_eq!(c.state(), State::SynSent);
    let sent = run_alone(&mut c, t(1_000_000));
    assert!(!sent.is_empty() || c.state() == State::Closed);
    assert_eq!(c.ended(), Some(Ended::TimedOut(TimeoutKind::Syn)));
}

/// The SYN,ACK of SYN-RECEIVED is retransmitted too.
#[test]
fn syn_ack_is_retransmitted() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    s.on_timeout(t(1000));
    let again = one(&mut s, t(1000));
    assert_eq!(sa(&again), (PEER_ISS, ISS + 1, Flags::SYN | Flags::ACK));
}

/// MUST-13: TIME-WAIT lasts 2×MSL, with MSL configurable.
#[test]
fn time_wait_lasts_two_msl() {
    let cfg = Config {
        msl: secs(1),
        ..plain(ISS)
    };
    let mut c = time_wait(&cfg);
    assert_eq!(c.poll_timeout(), Some(t(2000)));
    c.on_timeout(t(1999));
    assert_eq!(c.state(), State::TimeWait);
    c.on_timeout(t(2000));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(events(&mut c), vec![Event::Closed(Ended::Graceful)]);
}

/// Model variant: a TIME-WAIT of zero ends at once.
#[test]
fn time_wait_zero_variant() {
    let cfg = Config {
        time_wait: Some(Duration::ZERO),
        ..plain(ISS)
    };
    let mut c = time_wait(&cfg);
    assert_eq!(c.poll_timeout(), Some(t(0)));
    c.on_timeout(t(0));
    assert_eq!(c.state(), State::Closed);
}

/// Even when TIME-WAIT ends before the caller polled, the ACK of the
/// peer's FIN still goes out (the peer in LAST-ACK needs it).
#[test]
fn time_wait_zero_still_sends_final_ack() {
    let cfg = Config {
        time_wait: Some(Duration::ZERO),
        ..plain(ISS)
    };
    let mut c = fin_wait_2(&cfg);
    peer(PEER_ISS + 1, Flags::FIN).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(c.state(), State::TimeWait);
    c.on_timeout(t(0));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 2, PEER_ISS + 2, Flags::ACK));
}

/// FIN-WAIT-2 timeout (like Linux's tcp_fin_timeout).
#[test]
fn fin_wait_2_timeout_closes() {
    let cfg = Config {
        fin_wait_2_timeout: Some(secs(5)),
        ..plain(ISS)
    };
    let mut c = fin_wait_2(&cfg);
    assert_eq!(c.poll_timeout(), Some(t(5000)));
    c.on_timeout(t(5000));
    assert_eq!(c.ended(), Some(Ended::TimedOut(TimeoutKind::FinWait2)));
}

/// Model variant: without the timeout, FIN-WAIT-2 waits forever.
#[test]
fn fin_wait_2_without_timeout_waits() {
    let cfg = Config {
        fin_wait_2_timeout: None,
        ..plain(ISS)
    };
    let mut c = fin_wait_2(&cfg);
    assert_eq!(c.poll_timeout(), None);
    c.on_timeout(t(100_000_000));
    assert_eq!(c.state(), State::FinWait2);
}

/// SHLD-18, MUST-40: an ACK may wait, but less than 0.5 s.
#[test]
fn delayed_ack_fires_within_limit() {
    let cfg = Config {
        delayed_ack: Some(Duration::from_millis(200)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"hello")
        .to(&mut c, t(0));
    silent(&mut c, t(0));
    assert_eq!(c.poll_timeout(), Some(t(200)));
    c.on_timeout(t(200));
    assert_eq!(one(&mut c, t(200)).header.ack.0, PEER_ISS + 6);
}

/// SHLD-19: at least every second full-sized segment is acknowledged at once.
#[test]
fn every_second_full_segment_is_acked() {
    let cfg = Config {
        delayed_ack: Some(Duration::from_millis(200)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    let mss = c.config().mss as usize;
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(&vec![1; mss])
        .to(&mut c, t(0));
    silent(&mut c, t(0));
    peer(PEER_ISS + 1 + mss as u32, Flags::ACK)
        .ack(ISS + 1)
        .data(&vec![2; mss])
        .to(&mut c, t(1));
    assert_eq!(
        one(&mut c, t(1)).header.ack.0,
        PEER_ISS + 1 + 2 * mss as u32
    );
}

/// Data we send carries the delayed ACK (piggybacking).
#[test]
fn outgoing_data_carries_pending_ack() {
    let cfg = Config {
        delayed_ack: Some(Duration::from_millis(200)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"q")
        .to(&mut c, t(0));
    c.send(b"answer").unwrap();
    let seg = one(&mut c, t(1));
    assert_eq!((seg.header.ack.0, seg.payload.len()), (PEER_ISS + 2, 6));
    assert_eq!(c.status().timers.delayed_ack, None);
}

/// MUST-25, MUST-28: keep-alives are off by default; the default idle time
/// is at least two hours.
#[test]
fn keepalive_defaults() {
    assert!(Config::default().keepalive.is_none());
    assert!(KeepAlive::default().idle >= secs(2 * 3600));
    let c = client_est(&plain(ISS));
    assert_eq!(c.status().timers.keepalive, None);
}

fn keepalive_cfg() -> Config {
    Config {
        keepalive: Some(KeepAlive {
            idle: secs(10),
            interval: secs(1),
            probes: 3,
        }),
        ..plain(ISS)
    }
}

/// MUST-26, SHLD-12: after the idle time a probe <SEQ=SND.NXT-1> without data.
#[test]
fn keepalive_probe_after_idle() {
    let mut c = client_est(&keepalive_cfg());
    assert_eq!(c.poll_timeout(), Some(t(10_000)));
    c.on_timeout(t(10_000));
    let probe = one(&mut c, t(10_000));
    assert_eq!(sa(&probe), (ISS, PEER_ISS + 1, Flags::ACK));
    assert!(probe.payload.is_empty());
    // The peer answers: idle starts over.
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .to(&mut c, t(10_050));
    assert_eq!(c.poll_timeout(), Some(t(20_050)));
}

/// MUST-29: one lost probe answer is not a dead peer; several are.
#[test]
fn keepalive_tolerates_lost_acks_then_gives_up() {
    let mut c = client_est(&keepalive_cfg());
    let sent = run_alone(&mut c, t(11_500));
    assert_eq!(sent.len(), 2);
    assert_eq!(c.state(), State::Established);
    run_alone(&mut c, t(100_000));
    assert_eq!(c.ended(), Some(Ended::TimedOut(TimeoutKind::KeepAlive)));
    assert_eq!(c.stats().keepalives_sent, 3);
}

/// MUST-36, SHLD-29: a zero window is probed after one RTO.
#[test]
fn zero_window_is_probed() {
    let mut c = client_est(&plain(ISS));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, t(0));
    c.send(b"abc").unwrap();
    silent(&mut c, t(0));
    assert_eq!(c.poll_timeout(), Some(t(1000)));
    c.on_timeout(t(1000));
    let probe = one(&mut c, t(1000));
    assert_eq!(
        (probe.header.seq.0, probe.payload.as_slice()),
        (ISS + 1, &b"a"[..])
    );
    // The window opens: the rest follows.
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 2)
        .window(1000)
        .to(&mut c, t(1100));
    let rest = one(&mut c, t(1100));
    assert_eq!(rest.payload, b"bc");
}

/// MUST-37: as long as the peer answers the probes, the connection stays
/// open however long the window stays shut (beyond R2).
#[test]
fn zero_window_probing_never_times_out_while_answered() {
    let mut c = client_est(&plain(ISS));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, t(0));
    c.send(b"abc").unwrap();
    silent(&mut c, t(0));
    let mut now = t(0);
    let mut probes = 0;
    while now < t(600_000) {
        let Some(d) = c.poll_timeout() else { break };
        now = d;
        c.on_timeout(now);
        for (_, s) in drain(&mut c, now) {
            probes += 1;
            assert_eq!(s.payload.len(), 1);
            peer(PEER_ISS + 1, Flags::ACK)
                .ack(ISS + 1)
                .window(0)
                .to(&mut c, now);
        }
    }
    assert_eq!(c.state(), State::Established);
    assert!(probes >= 5, "{probes} probes");
    assert_eq!(c.status().snd_una, SeqNum(ISS + 1));
}

/// MUST-13: MSL defaults to two minutes, so TIME-WAIT to four.
#[test]
fn default_msl_is_two_minutes() {
    let c = time_wait(&plain(ISS));
    assert_eq!(c.config().msl, secs(120));
    assert_eq!(c.poll_timeout(), Some(t(240_000)));
}

/// SHLD-9, MUST-20: the application hears of a failing path once, when the
/// same segment has been retransmitted R1 times, and not before; R2 (a
/// count here) closes afterwards. Every expiry that retransmits is counted.
#[test]
fn r1_warning_comes_once_exactly_at_r1() {
    let cfg = Config {
        r1: 3,
        r2: RetryLimit::Count(6),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    for n in 1..=6u32 {
        let d = c.poll_timeout().unwrap();
        c.on_timeout(d);
        assert_eq!(one(&mut c, d).payload, b"abc");
        assert_eq!(c.status().retransmissions, n);
        assert_eq!(c.stats().timeouts, u64::from(n));
        let want = if n == 3 {
            vec![Event::RetransmissionWarning]
        } else {
            vec![]
        };
        assert_eq!(events(&mut c), want, "after retransmission {n}");
    }
    let d = c.poll_timeout().unwrap();
    c.on_timeout(d);
    silent(&mut c, d);
    assert_eq!(
        c.ended(),
        Some(Ended::TimedOut(TimeoutKind::Retransmission))
    );
}

/// MUST-21: an R2 given as a time closes the connection at the first expiry
/// at which the segment has been outstanding that long (here 1 s, 3 s, then
/// 7 s after it was first sent), not one backoff later.
#[test]
fn r2_time_limit_is_reached_exactly() {
    let cfg = Config {
        r2: RetryLimit::Time(secs(7)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    let sent = run_alone(&mut c, t(100_000));
    let times: Vec<Instant> = sent.iter().map(|(d, _)| *d).collect();
    assert_eq!(times, vec![t(1000), t(3000)]);
    assert_eq!(
        c.ended(),
        Some(Ended::TimedOut(TimeoutKind::Retransmission))
    );
    assert_eq!(c.stats().timeouts, 2);
}

/// MUST-21 with R2 = 7 s: an expiry 3 s in is well short of it; the
/// connection is still there after it.
#[test]
fn r2_time_limit_not_reached_early() {
    let cfg = Config {
        r2: RetryLimit::Time(secs(7)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    c.on_timeout(t(1000));
    one(&mut c, t(1000));
    c.on_timeout(t(3000));
    one(&mut c, t(3000));
    assert_eq!(c.state(), State::Established);
    assert_eq!(c.poll_timeout(), Some(t(7000)));
    c.on_timeout(t(6999));
    assert_eq!(c.state(), State::Established);
    c.on_timeout(t(7000));
    assert_eq!(c.state(), State::Closed);
}

/// `on_timeout` fires every timer that is due, not only the first: a
/// retransmission and a delayed ACK due at the same instant are both
/// handled by one call (MUST-40: the ACK may not wait beyond its deadline).
#[test]
fn one_on_timeout_fires_every_due_timer() {
    let cfg = Config {
        delayed_ack: Some(Duration::from_millis(200)),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(b"abc").unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"hi")
        .to(&mut c, t(800));
    silent(&mut c, t(800));
    let st = c.status().timers;
    assert_eq!(
        (st.retransmission, st.delayed_ack),
        (Some(t(1000)), Some(t(1000)))
    );
    c.on_timeout(t(1000));
    assert_eq!(c.status().timers.delayed_ack, None);
    assert_eq!(c.poll_timeout(), Some(t(3000)), "only the backed-off RTO");
    let seg = one(&mut c, t(1000));
    assert_eq!(
        (seg.header.seq.0, seg.header.ack.0, seg.payload.as_slice()),
        (ISS + 1, PEER_ISS + 3, &b"abc"[..])
    );
}

/// MUST-26: no keep-alive while data of ours is outstanding; the idle
/// timer is simply started again.
#[test]
fn no_keepalive_while_data_is_outstanding() {
    let cfg = Config {
        r2: RetryLimit::Infinite,
        ..keepalive_cfg()
    };
    let mut c = client_est(&cfg);
    c.send(b"abc").unwrap();
    one(&mut c, t(9_500));
    assert_eq!(c.poll_timeout(), Some(t(10_000)), "keep-alive first");
    c.on_timeout(t(10_000));
    silent(&mut c, t(10_000));
    assert_eq!(c.stats().keepalives_sent, 0);
    let st = c.status().timers;
    assert_eq!(
        (st.keepalive, st.retransmission),
        (Some(t(20_000)), Some(t(10_500)))
    );
}

/// MUST-27/29: unanswered probes follow each other at the configured
/// interval; after `probes` of them the next expiry declares the peer dead.
#[test]
fn keepalive_probes_follow_at_the_interval() {
    let mut c = client_est(&keepalive_cfg());
    let sent = run_alone(&mut c, t(100_000));
    let times: Vec<Instant> = sent.iter().map(|(d, _)| *d).collect();
    assert_eq!(times, vec![t(10_000), t(11_000), t(12_000)]);
    assert!(sent
        .iter()
        .all(|(_, s)| sa(s) == (ISS, PEER_ISS + 1, Flags::ACK) && s.payload.is_empty()));
    assert_eq!(c.ended(), Some(Ended::TimedOut(TimeoutKind::KeepAlive)));
    assert_eq!(
        events(&mut c),
        vec![
            Event::TimedOut(TimeoutKind::KeepAlive),
            Event::Closed(Ended::TimedOut(TimeoutKind::KeepAlive))
        ]
    );
}

type Build = fn(&Config) -> Connection;

/// §3.8.4, MUST-26: keep-alives only probe an idle synchronized connection
/// with nothing of ours in flight; turning them on arms a timer in
/// ESTABLISHED, CLOSE-WAIT, FIN-WAIT-2, and FIN-WAIT-1 (so that it lasts
/// into FIN-WAIT-2), and in no other state (a SYN, or a FIN in CLOSING or
/// LAST-ACK, has its own timer; TIME-WAIT, LISTEN and CLOSED have nobody to
/// probe).
#[test]
fn keepalive_timer_only_in_idle_capable_states() {
    let k = keepalive_cfg().keepalive;
    let builds: [(State, Build); 9] = [
        (State::SynSent, |cfg| {
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
            c
        }),
        (State::SynReceived, server_syn_received),
        (State::Established, client_est),
        (State::FinWait1, fin_wait_1),
        (State::FinWait2, fin_wait_2),
        (State::CloseWait, close_wait),
        (State::Closing, closing),
        (State::LastAck, last_ack),
        (State::TimeWait, time_wait),
    ];
    for (state, build) in builds {
        let mut c = build(&plain(ISS));
        assert_eq!(c.state(), state);
        let before = c.poll_timeout();
        c.set_keepalive(t(0), k).unwrap();
        let armed = c.status().timers.keepalive;
        match state {
            State::Established | State::FinWait1 | State::CloseWait | State::FinWait2 => {
                assert_eq!(armed, Some(t(10_000)), "{state}")
            }
            _ => {
                assert_eq!(armed, None, "{state}");
                assert_eq!(c.poll_timeout(), before, "{state}");
            }
        }
    }
    let mut l = Connection::listen(&plain(ISS), a()).unwrap();
    l.set_keepalive(t(0), k).unwrap();
    assert_eq!(l.poll_timeout(), None);
}

/// MUST-20: when R2 closes the connection, what is left to send is thrown
/// away (nothing will ever carry it), while data already received stays
/// readable; then RECEIVE reports the timeout.
#[test]
fn r2_timeout_drops_the_send_queue_keeps_received_data() {
    let cfg = Config {
        r2: RetryLimit::Count(1),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"kept")
        .to(&mut c, t(0));
    drain(&mut c, t(0));
    c.send(b"lost").unwrap();
    one(&mut c, t(0));
    run_alone(&mut c, t(100_000));
    assert_eq!(c.state(), State::Closed);
    let st = c.status();
    assert_eq!((st.send_queued, st.recv_queued), (0, 4));
    let mut buf = [0u8; 8];
    assert_eq!(c.recv(&mut buf), Ok(4));
    assert_eq!(&buf[..4], b"kept");
    assert_eq!(c.recv(&mut buf), Err(synack_tcp::Error::TimedOut));
}

/// MUST-36, SHLD-30: every probe of a closed window is counted, the first
/// from the persist timer and the following ones from the backed-off
/// retransmission timer.
#[test]
fn zero_window_probes_are_counted() {
    let mut c = client_est(&plain(ISS));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, t(0));
    c.send(b"abc").unwrap();
    silent(&mut c, t(0));
    assert_eq!(c.stats().window_probes, 0);
    let mut times = Vec::new();
    for _ in 0..3 {
        let d = c.poll_timeout().unwrap();
        c.on_timeout(d);
        let p = one(&mut c, d);
        assert_eq!((p.header.seq.0, p.payload.as_slice()), (ISS + 1, &b"a"[..]));
        times.push(d);
    }
    assert_eq!(times, vec![t(1000), t(2000), t(4000)]);
    assert_eq!(c.stats().window_probes, 3);
    assert_eq!(c.stats().retransmissions, 2);
}

/// The ACK owed after a TIME-WAIT of zero is a segment like any other: it
/// goes between the connection's two ports (§3.10.7.4, the ACK of the FIN),
/// is counted, and advertises the receive window (unscaled here).
#[test]
fn final_ack_after_zero_time_wait_is_counted() {
    let cfg = Config {
        time_wait: Some(Duration::ZERO),
        ..plain(ISS)
    };
    let mut c = fin_wait_2(&cfg);
    let before = c.stats().segments_sent;
    peer(PEER_ISS + 1, Flags::FIN).ack(ISS + 2).to(&mut c, t(0));
    c.on_timeout(t(0));
    assert_eq!(c.state(), State::Closed);
    let segs = drain(&mut c, t(0));
    assert_eq!(segs.len(), 1);
    let (dst, ack) = &segs[0];
    assert_eq!(sa(ack), (ISS + 2, PEER_ISS + 2, Flags::ACK));
    // To the peer, between the connection's ports.
    assert_eq!(*dst, b());
    assert_eq!(
        (ack.header.src_port, ack.header.dst_port),
        (a().port(), b().port())
    );
    assert_eq!(ack.header.window, 65535);
    assert_eq!(c.stats().segments_sent, before + 1);
    silent(&mut c, t(0));
}

/// MUST-22 (RFC 6298 §5): a CLOSE in SYN-RECEIVED does not stop the SYN,ACK
/// from being retransmitted while it is unacknowledged.
#[test]
fn syn_ack_is_retransmitted_after_close_in_syn_received() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    s.close(t(0)).unwrap();
    assert!(one(&mut s, t(0)).header.flags.fin());
    assert_eq!(s.state(), State::FinWait1);
    let rto = s.poll_timeout().unwrap();
    assert_eq!(rto, t(1000));
    s.on_timeout(rto);
    let segs = drain(&mut s, rto);
    assert_eq!(
        sa(&segs[0].1),
        (PEER_ISS, ISS + 1, Flags::SYN | Flags::ACK),
        "{segs:?}"
    );
}

/// MUST-24/26: keep-alives turned on also probe an idle FIN-WAIT-2 (our FIN
/// is acknowledged, nothing of ours is outstanding), so a dead peer is
/// found even without a FIN-WAIT-2 timeout.
#[test]
fn keepalive_probes_an_idle_fin_wait_2() {
    let cfg = Config {
        fin_wait_2_timeout: None,
        ..keepalive_cfg()
    };
    let mut c = fin_wait_2(&cfg);
    assert_eq!(c.poll_timeout(), Some(t(10_000)));
    c.on_timeout(t(10_000));
    let probe = one(&mut c, t(10_000));
    // <SEQ=SND.NXT-1>: the FIN's sequence number, already acknowledged.
    assert_eq!(sa(&probe), (ISS + 1, PEER_ISS + 1, Flags::ACK));
    assert!(probe.payload.is_empty());
    assert_eq!(c.stats().keepalives_sent, 1);
    run_alone(&mut c, t(100_000));
    assert_eq!(c.ended(), Some(Ended::TimedOut(TimeoutKind::KeepAlive)));
    assert_eq!(c.stats().keepalives_sent, 3);
}

/// MUST-26: in FIN-WAIT-1 our FIN is outstanding, so the keep-alive timer
/// only starts again; the retransmission timer looks after the FIN.
#[test]
fn no_keepalive_while_our_fin_is_outstanding() {
    let cfg = Config {
        r2: RetryLimit::Infinite,
        ..keepalive_cfg()
    };
    let mut c = client_est(&cfg);
    c.close(t(9_500)).unwrap();
    assert!(one(&mut c, t(9_500)).header.flags.fin());
    c.on_timeout(t(10_000));
    silent(&mut c, t(10_000));
    assert_eq!(c.stats().keepalives_sent, 0);
    assert_eq!(c.status().timers.keepalive, Some(t(20_000)));

    // The same when the FIN is queued but not yet sent at the expiry.
    let mut c = client_est(&cfg);
    c.close(t(9_500)).unwrap();
    c.on_timeout(t(10_000));
    assert_eq!(
        sa(&one(&mut c, t(10_000))),
        (ISS + 1, PEER_ISS + 1, Flags::FIN | Flags::ACK)
    );
    assert_eq!(c.stats().keepalives_sent, 0);
}

/// MUST-26: no keep-alive while data of ours waits to be sent (here held
/// back by sender SWS avoidance, MUST-38): the idle timer starts again.
#[test]
fn no_keepalive_while_data_waits() {
    let cfg = Config {
        keepalive: Some(KeepAlive {
            idle: Duration::from_millis(100),
            interval: Duration::from_millis(100),
            probes: 3,
        }),
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(100)
        .to(&mut c, t(0));
    c.send(&[5u8; 500]).unwrap();
    silent(&mut c, t(0));
    assert_eq!(
        c.poll_timeout(),
        Some(t(100)),
        "keep-alive before the SWS override"
    );
    c.on_timeout(t(100));
    silent(&mut c, t(100));
    assert_eq!(c.stats().keepalives_sent, 0);
    assert_eq!(c.status().timers.keepalive, Some(t(200)));
}

/// SHLD-14: the SYN,ACK sent again from FIN-WAIT-1 (CLOSE in SYN-RECEIVED,
/// our SYN still unacknowledged) offers the window from the current
/// RCV.NXT; the right edge it advertises is the one remembered, so RCV.WND
/// is the full window again once the application has read what came in.
#[test]
fn syn_ack_retransmission_advances_the_advertised_edge() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    s.close(t(0)).unwrap();
    assert!(one(&mut s, t(0)).header.flags.fin());
    // Data from the peer whose ACK does not (yet) cover our SYN: acceptable
    // (RFC 5961 §5 range), and FIN-WAIT-1 takes text.
    Raw::new(a(), b(), ISS + 1, Flags::ACK)
        .ack(PEER_ISS)
        .data(b"hello")
        .to(&mut s, t(1));
    assert_eq!(s.status().rcv_nxt.0, ISS + 6);
    drain(&mut s, t(1));
    let mut buf = [0u8; 8];
    assert_eq!(s.recv(&mut buf), Ok(5));
    assert_eq!(s.status().rcv_wnd, 65530);
    let rto = s.poll_timeout().unwrap();
    s.on_timeout(rto);
    let segs = drain(&mut s, rto);
    let synack = &segs[0].1;
    assert_eq!(
        sa(synack),
        (PEER_ISS, ISS + 6, Flags::SYN | Flags::ACK),
        "{segs:?}"
    );
    assert_eq!(synack.header.window, 65535);
    assert_eq!(s.status().rcv_wnd, 65535);
}

/// SHLD-29: the first zero-window probe goes one RTO after the window was
/// found shut; more data queued meanwhile does not push it back.
#[test]
fn persist_deadline_is_not_pushed_back() {
    let mut c = client_est(&plain(ISS));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .window(0)
        .to(&mut c, t(0));
    c.send(b"abc").unwrap();
    silent(&mut c, t(0));
    assert_eq!(c.status().timers.persist, Some(t(1000)));
    c.send(b"def").unwrap();
    silent(&mut c, t(500));
    assert_eq!(c.status().timers.persist, Some(t(1000)));
    assert_eq!(c.poll_timeout(), Some(t(1000)));
    c.on_timeout(t(1000));
    assert_eq!(one(&mut c, t(1000)).payload, b"a");
}
