//! The user calls in every state (RFC 9293 §3.10.1-6): what each returns,
//! and what it sends.

mod connection_util;
use connection_util::*;
use synack_tcp::{Config, Connection, Ended, Error, Event, Flags, FourTuple, ResetReason, State};

type Build = fn(&Config) -> Connection;

fn listen(cfg: &Config) -> Connection {
    Connection::listen(cfg, a()).unwrap()
}
fn syn_sent(cfg: &Config) -> Connection {
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
}
fn syn_received(cfg: &Config) -> Connection {
    let mut c = syn_sent(cfg);
    peer(PEER_ISS, Flags::SYN).to(&mut c, t(0));
    one(&mut c, t(0));
    c
}
fn closed(cfg: &Config) -> Connection {
    Connection::closed(cfg, a())
}

fn all_states() -> Vec<(State, Build)> {
    vec![
        (State::Closed, closed as Build),
        (State::Listen, listen),
        (State::SynSent, syn_sent),
        (State::SynReceived, syn_received),
        (State::Established, client_est),
        (State::FinWait1, fin_wait_1),
        (State::FinWait2, fin_wait_2),
        (State::CloseWait, close_wait),
        (State::Closing, closing),
        (State::LastAck, last_ack),
        (State::TimeWait, time_wait),
    ]
}

/// §3.10.6 STATUS reports the state, for all eleven.
#[test]
fn status_reports_each_state() {
    for (state, build) in all_states() {
        assert_eq!(build(&plain(ISS)).status().state, state);
    }
}

/// §3.10.1 OPEN: "connection already exists" everywhere but CLOSED and LISTEN.
#[test]
fn open_in_each_state() {
    for (state, build) in all_states() {
        let mut c = build(&plain(ISS));
        let r = c.open(t(0), Some(b()));
        match state {
            State::Closed | State::Listen => {
                assert_eq!(r, Ok(()), "{state}");
                assert_eq!(c.state(), State::SynSent);
                assert!(one(&mut c, t(0)).header.flags.syn());
            }
            _ => assert_eq!(r, Err(Error::ConnectionAlreadyExists), "{state}"),
        }
    }
}

/// §3.10.1: a passive OPEN from CLOSED listens; an active OPEN needs a
/// remote of the same family.
#[test]
fn open_variants_from_closed() {
    let mut c = Connection::closed(&plain(ISS), a());
    assert_eq!(c.open(t(0), None), Ok(()));
    assert_eq!(c.state(), State::Listen);
    assert_eq!(c.open(t(0), None), Err(Error::RemoteUnspecified));
    let v6: std::net::SocketAddr = "[::1]:80".parse().unwrap();
    assert_eq!(c.open(t(0), Some(v6)), Err(Error::AddressFamilyMismatch));
}

/// §3.10.2 SEND in each state.
#[test]
fn send_in_each_state() {
    for (state, build) in all_states() {
        let mut c = build(&plain(ISS));
        let r = c.send(b"abc");
        let want = match state {
            State::Closed => Err(Error::ConnectionDoesNotExist),
            State::Listen => Err(Error::RemoteUnspecified),
            State::SynSent | State::SynReceived | State::Established | State::CloseWait => Ok(3),
            _ => Err(Error::ConnectionClosing),
        };
        assert_eq!(r, want, "SEND in {state}");
    }
}

/// §3.10.2: data sent in SYN-SENT waits for ESTABLISHED, then goes out.
#[test]
fn send_in_syn_sent_is_queued_until_established() {
    let mut c = syn_sent(&plain(ISS));
    c.send(b"early").unwrap();
    silent(&mut c, t(0));
    peer(PEER_ISS, Flags::SYN).ack(ISS + 1).to(&mut c, t(0));
    let seg = one(&mut c, t(0));
    assert_eq!(
        (seg.header.seq.0, seg.payload.as_slice()),
        (ISS + 1, &b"early"[..])
    );
}

/// §3.10.2: a full send buffer: "insufficient resources" (after a partial accept).
#[test]
fn send_into_full_buffer() {
    let cfg = Config {
        send_buffer: 4,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    assert_eq!(c.send(b"abcdef"), Ok(4));
    assert_eq!(c.send(b"g"), Err(Error::InsufficientResources));
}

/// §3.10.3 RECEIVE with nothing buffered, in each state.
#[test]
fn receive_in_each_state() {
    for (state, build) in all_states() {
        let mut c = build(&plain(ISS));
        let mut buf = [0u8; 4];
        let want = match state {
            State::Closed => Err(Error::ConnectionDoesNotExist),
            State::Listen
            | State::SynSent
            | State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2 => Ok(0),
            _ => Err(Error::ConnectionClosing),
        };
        assert_eq!(c.recv(&mut buf), want, "RECEIVE in {state}");
    }
}

/// §3.10.3 CLOSE-WAIT: data on hand is still delivered, then "closing".
#[test]
fn receive_in_close_wait_drains_then_reports_closing() {
    let mut c = client_est(&plain(ISS));
    peer(PEER_ISS + 1, Flags::FIN)
        .ack(ISS + 1)
        .data(b"tail")
        .to(&mut c, t(0));
    assert_eq!(c.state(), State::CloseWait);
    let mut buf = [0u8; 8];
    assert_eq!(c.recv(&mut buf), Ok(4));
    assert_eq!(c.recv(&mut buf), Err(Error::ConnectionClosing));
}

/// §3.10.4 CLOSE in each state: the resulting state, or the error.
#[test]
fn close_in_each_state() {
    for (state, build) in all_states() {
        let mut c = build(&plain(ISS));
        let r = c.close(t(0));
        let (want, after) = match state {
            State::Closed => (Err(Error::ConnectionDoesNotExist), State::Closed),
            State::Listen | State::SynSent => (Ok(()), State::Closed),
            State::SynReceived | State::Established => (Ok(()), State::FinWait1),
            State::CloseWait => (Ok(()), State::LastAck),
            s => (Err(Error::ConnectionClosing), s),
        };
        assert_eq!(r, want, "CLOSE in {state}");
        assert_eq!(c.state(), after, "CLOSE in {state}");
    }
}

/// §3.10.4 SYN-RECEIVED: CLOSE sends a FIN (after the SYN,ACK) and enters FIN-WAIT-1.
#[test]
fn close_in_syn_received_sends_fin() {
    let mut c = syn_received(&plain(ISS));
    c.close(t(0)).unwrap();
    let fin = one(&mut c, t(0));
    assert_eq!(sa(&fin), (ISS + 1, PEER_ISS + 1, Flags::FIN | Flags::ACK));
    // The peer acknowledges SYN and FIN at once.
    peer(PEER_ISS + 1, Flags::ACK).ack(ISS + 2).to(&mut c, t(0));
    assert_eq!(c.state(), State::FinWait2);
}

/// §3.10.4: the FIN follows all data sent before CLOSE.
#[test]
fn close_sends_fin_after_queued_data() {
    let cfg = Config {
        mss: 536,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(&[9u8; 1000]).unwrap();
    c.close(t(0)).unwrap();
    let segs = drain(&mut c, t(0));
    assert_eq!(segs.len(), 2);
    assert!(!segs[0].1.header.flags.fin());
    let last = &segs[1].1;
    assert!(last.header.flags.fin());
    assert_eq!(
        last.header.seq.0 + last.payload.len() as u32,
        ISS + 1 + 1000
    );
}

/// §3.10.5 ABORT in each state: RST <SEQ=SND.NXT> in SYN-RECEIVED,
/// ESTABLISHED, FIN-WAIT-1/2, CLOSE-WAIT; silence elsewhere; CLOSED after.
#[test]
fn abort_in_each_state() {
    for (state, build) in all_states() {
        let mut c = build(&plain(ISS));
        let snd_nxt = c.status().snd_nxt.0;
        let r = c.abort(t(0));
        if state == State::Closed {
            assert_eq!(r, Err(Error::ConnectionDoesNotExist));
            continue;
        }
        assert_eq!(r, Ok(()), "ABORT in {state}");
        assert_eq!(c.state(), State::Closed);
        let segs = drain(&mut c, t(0));
        match state {
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait => {
                assert_eq!(segs.len(), 1, "ABORT in {state}");
                assert_eq!(sa(&segs[0].1), (snd_nxt, 0, Flags::RST));
            }
            _ => assert!(segs.is_empty(), "ABORT in {state}: {segs:?}"),
        }
        let evs = events(&mut c);
        assert_eq!(
            evs.last(),
            Some(&Event::Closed(Ended::Reset(ResetReason::Aborted)))
        );
        assert_eq!(c.send(b"x"), Err(Error::ConnectionReset));
    }
}

/// ABORT flushes queued data: nothing but the RST goes out.
#[test]
fn abort_flushes_queues() {
    let mut c = client_est(&plain(ISS));
    c.send(b"never").unwrap();
    c.abort(t(0)).unwrap();
    let segs = drain(&mut c, t(0));
    assert_eq!(segs.len(), 1);
    assert!(segs[0].1.header.flags.rst());
    assert_eq!(c.status().send_queued, 0);
}

/// An invalid configuration is a typed error, not a panic.
#[test]
fn invalid_config_is_rejected() {
    let cfg = Config {
        delayed_ack: Some(secs(1)),
        ..plain(ISS)
    };
    assert!(matches!(
        Connection::connect(
            &cfg,
            FourTuple {
                local: a(),
                remote: b()
            },
            t(0)
        ),
        Err(Error::InvalidConfig(_))
    ));
    assert!(Connection::listen(
        &Config {
            recv_buffer: 0,
            ..plain(1)
        },
        a()
    )
    .is_err());
}

/// §3.5.2 option: after ABORT's RST, linger in TIME-WAIT for 2×MSL.
#[test]
fn abort_into_time_wait_when_configured() {
    let cfg = Config {
        abort_time_wait: true,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.abort(t(0)).unwrap();
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(sa(&one(&mut c, t(0))), (ISS + 1, 0, Flags::RST));
    assert_eq!(events(&mut c), vec![Event::Reset(ResetReason::Aborted)]);
    let end = c.poll_timeout().unwrap();
    assert_eq!(end, t(0) + c.config().msl * 2);
    c.on_timeout(end);
    assert_eq!(c.state(), State::Closed);
    let aborted = Ended::Reset(ResetReason::Aborted);
    assert_eq!(events(&mut c), vec![Event::Closed(aborted)]);
    assert_eq!(c.ended(), Some(aborted));
}

/// After an ABORT that lingers in TIME-WAIT (§3.5.2) with data outstanding,
/// nothing of the old send queue is counted or retransmitted, and the
/// peer's first FIN (it never saw our RST) is taken in, acknowledged and
/// restarts 2×MSL (§3.10.7.4 eighth step); the aborted user hears nothing.
#[test]
fn abort_into_time_wait_then_the_peers_fin() {
    let cfg = Config {
        abort_time_wait: true,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    c.send(b"xy").unwrap();
    assert_eq!(one(&mut c, t(0)).payload.len(), 2);
    let rto = c.poll_timeout().unwrap();
    c.on_timeout(rto);
    assert_eq!(one(&mut c, rto).payload.len(), 2);
    assert_eq!(c.status().retransmissions, 1);

    c.abort(rto).unwrap();
    assert_eq!(sa(&one(&mut c, rto)), (ISS + 3, 0, Flags::RST));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.status().retransmissions, 0);
    assert_eq!(c.status().send_queued, 0);
    assert_eq!(events(&mut c), vec![Event::Reset(ResetReason::Aborted)]);

    let later = rto + secs(10);
    peer(PEER_ISS + 1, Flags::FIN | Flags::ACK)
        .ack(ISS + 1)
        .to(&mut c, later);
    assert_eq!(sa(&one(&mut c, later)), (ISS + 3, PEER_ISS + 2, Flags::ACK));
    assert_eq!(c.state(), State::TimeWait);
    assert_eq!(c.poll_timeout(), Some(later + c.config().msl * 2));
    assert_eq!(events(&mut c), vec![]);
}

/// §3.3.2: STATUS names the state as the RFC spells it, through
/// `rfc_name` and `Display` alike.
#[test]
fn state_names_are_the_rfcs() {
    let names = [
        "CLOSED",
        "LISTEN",
        "SYN-SENT",
        "SYN-RECEIVED",
        "ESTABLISHED",
        "FIN-WAIT-1",
        "FIN-WAIT-2",
        "CLOSE-WAIT",
        "CLOSING",
        "LAST-ACK",
        "TIME-WAIT",
    ];
    for (state, name) in State::ALL.into_iter().zip(names) {
        assert_eq!(state.rfc_name(), name);
        assert_eq!(state.to_string(), name);
    }
}

/// MUST-30/31: urgent data is queued whole or not at all, so SND.UP
/// (MUST-62) never points past data that was refused.
#[test]
fn send_urgent_is_all_or_nothing() {
    let cfg = Config {
        send_buffer: 8,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    assert_eq!(
        c.send_urgent(b"123456789"),
        Err(Error::InsufficientResources)
    );
    assert_eq!((c.status().send_queued, c.send_capacity()), (0, 8));
    silent(&mut c, t(0));
    // Exactly the free room fits.
    assert_eq!(c.send_urgent(b"12345678"), Ok(8));
    assert_eq!((c.status().send_queued, c.send_capacity()), (8, 0));
    let seg = one(&mut c, t(0));
    assert!(seg.header.flags.urg());
    assert_eq!((seg.header.urgent, seg.payload.len()), (8, 8));
}

/// MUST-62: an empty urgent SEND marks nothing: data queued before it stays
/// ordinary data, sent without URG.
#[test]
fn empty_urgent_send_marks_nothing() {
    let mut c = client_est(&plain(ISS));
    assert_eq!(c.send(b"abc"), Ok(3));
    assert_eq!(c.send_urgent(b""), Ok(0));
    let seg = one(&mut c, t(0));
    assert_eq!(seg.payload, b"abc");
    assert!(!seg.header.flags.urg());
    assert_eq!(seg.header.urgent, 0);
}

/// §3.10.3: the Readable event stands while data is left to read and is
/// withdrawn once RECEIVE has taken everything; other events are untouched.
/// `recv_queued` counts what is left.
#[test]
fn receive_withdraws_readable_only_when_drained() {
    let mut c = client_est(&plain(ISS));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 1)
        .data(b"hello")
        .to(&mut c, t(0));
    assert_eq!(c.recv_queued(), 5);
    let mut buf = [0u8; 2];
    assert_eq!(c.recv(&mut buf), Ok(2));
    assert_eq!(c.recv_queued(), 3);
    assert_eq!(events(&mut c), vec![Event::Readable], "3 bytes still there");
    drain(&mut c, t(0));

    // More data and our own data acknowledged: Readable and Writable pend.
    c.send(b"q").unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS + 6, Flags::ACK)
        .ack(ISS + 2)
        .data(b"xyz")
        .to(&mut c, t(1));
    assert_eq!(c.recv_queued(), 6);
    let mut big = [0u8; 16];
    assert_eq!(c.recv(&mut big), Ok(6));
    assert_eq!(&big[..6], b"lloxyz");
    assert_eq!(c.recv_queued(), 0);
    assert_eq!(
        events(&mut c),
        vec![Event::Writable],
        "nothing left to read: no Readable, and nothing else invented"
    );
    assert_eq!(c.recv(&mut big), Ok(0));
}

/// §3.10.2: `send_capacity` is the room left in the send buffer; it grows
/// back as the peer acknowledges.
#[test]
fn send_capacity_is_the_free_room() {
    let cfg = Config {
        send_buffer: 10,
        ..plain(ISS)
    };
    let mut c = client_est(&cfg);
    assert_eq!(c.send_capacity(), 10);
    assert_eq!(c.send(b"abcd"), Ok(4));
    assert_eq!(c.send_capacity(), 6);
    one(&mut c, t(0));
    assert_eq!(c.send_capacity(), 6, "unacknowledged data keeps its room");
    peer(PEER_ISS + 1, Flags::ACK).ack(ISS + 5).to(&mut c, t(1));
    assert_eq!(c.send_capacity(), 10);
}

/// MUST-24/27/29: keep-alive settings from the application are checked
/// one by one (idle and interval positive, more than one probe); a bad
/// one is a typed error and changes nothing.
#[test]
fn set_keepalive_rejects_each_bad_setting() {
    use synack_tcp::KeepAlive;
    let good = KeepAlive {
        idle: secs(10),
        interval: secs(1),
        probes: 3,
    };
    let bad = [
        KeepAlive {
            idle: secs(0),
            ..good
        },
        KeepAlive {
            interval: secs(0),
            ..good
        },
        KeepAlive { probes: 1, ..good },
    ];
    let mut c = client_est(&plain(ISS));
    for k in bad {
        assert!(
            matches!(c.set_keepalive(t(5), Some(k)), Err(Error::InvalidConfig(_))),
            "{k:?}"
        );
        assert_eq!(c.config().keepalive, None);
        assert_eq!(c.status().timers.keepalive, None);
    }
    // Two probes are already more than one (MUST-29).
    let two = KeepAlive { probes: 2, ..good };
    assert_eq!(c.set_keepalive(t(5), Some(two)), Ok(()));
    assert_eq!(c.config().keepalive, Some(two));
    assert_eq!(c.set_keepalive(t(5), Some(good)), Ok(()));
    assert_eq!(c.config().keepalive, Some(good));
    // Idle counts from the last segment received (the SYN,ACK at t(0)).
    assert_eq!(c.status().timers.keepalive, Some(t(10_000)));
    assert_eq!(c.set_keepalive(t(6), None), Ok(()));
    assert_eq!(c.status().timers.keepalive, None);
}

/// §3.10.5: ABORT flushes the queues, so a Readable or Writable event that
/// was pending for the flushed data is withdrawn; the application hears
/// only of the reset and the end (MUST-12).
#[test]
fn abort_withdraws_pending_data_events() {
    let mut c = client_est(&plain(ISS));
    c.send(b"q").unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS + 1, Flags::ACK)
        .ack(ISS + 2)
        .data(b"unread")
        .to(&mut c, t(1));
    c.abort(t(2)).unwrap();
    let aborted = ResetReason::Aborted;
    assert_eq!(
        events(&mut c),
        vec![Event::Reset(aborted), Event::Closed(Ended::Reset(aborted))]
    );
    assert_eq!(c.recv_queued(), 0);
    let mut buf = [0u8; 8];
    assert_eq!(c.recv(&mut buf), Err(Error::ConnectionReset));
}

/// Events are level flags: two segments of data before the application
/// looks give one Readable, not two, and not none.
#[test]
fn repeated_events_coalesce() {
    let mut c = client_est(&plain(ISS));
    for (i, d) in [&b"ab"[..], b"cd", b"ef"].into_iter().enumerate() {
        peer(PEER_ISS + 1 + 2 * i as u32, Flags::ACK)
            .ack(ISS + 1)
            .data(d)
            .to(&mut c, t(i as u64));
        assert_eq!(c.recv_queued(), 2 * (i + 1));
    }
    assert_eq!(events(&mut c), vec![Event::Readable]);
    peer(PEER_ISS + 7, Flags::ACK)
        .ack(ISS + 1)
        .data(b"gh")
        .to(&mut c, t(5));
    peer(PEER_ISS + 9, Flags::ACK)
        .ack(ISS + 1)
        .data(b"ij")
        .to(&mut c, t(6));
    assert_eq!(events(&mut c), vec![Event::Readable]);
}

/// §3.10.5: after ABORT only the RST goes out, even when a retransmission
/// timeout had just rewound the send pointer to our unacknowledged FIN:
/// a CLOSED connection sends nothing of its own.
#[test]
fn abort_after_an_unpolled_timeout_sends_only_the_rst() {
    let mut c = fin_wait_1(&plain(ISS));
    let rto = c.poll_timeout().unwrap();
    c.on_timeout(rto);
    c.abort(rto).unwrap();
    assert_eq!(c.state(), State::Closed);
    let segs = drain(&mut c, rto);
    assert_eq!(segs.len(), 1, "{segs:?}");
    assert_eq!(sa(&segs[0].1), (ISS + 2, 0, Flags::RST));
}

/// §3.10.2: data sent in SYN-RECEIVED waits for ESTABLISHED, even though
/// the peer's SYN already told us its window; it goes out once our SYN is
/// acknowledged.
#[test]
fn send_in_syn_received_waits_for_established() {
    let mut s = server_syn_received(&plain(PEER_ISS));
    assert_eq!(s.send(b"early"), Ok(5));
    silent(&mut s, t(0));
    Raw::new(a(), b(), ISS + 1, Flags::ACK)
        .ack(PEER_ISS + 1)
        .to(&mut s, t(1));
    assert_eq!(s.state(), State::Established);
    let seg = one(&mut s, t(1));
    assert_eq!(
        (seg.header.seq.0, seg.payload.as_slice()),
        (PEER_ISS + 1, &b"early"[..])
    );
}
