//! Opening: OPEN calls and the handshake, segment by segment (RFC 9293
//! §3.5, §3.10.1, §3.10.7.2-3).

mod connection_util;
use connection_util::*;
use synack_tcp::{Connection, Error, Event, Flags, FourTuple, SeqNum, State};

/// §3.10.1: an active OPEN sends <SEQ=ISS><CTL=SYN> and enters SYN-SENT.
#[test]
fn active_open_sends_syn() {
    let mut c = Connection::connect(
        &plain(100),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    assert_eq!(c.state(), State::SynSent);
    let syn = one(&mut c, t(0));
    assert_eq!(syn.header.flags, Flags::SYN);
    assert_eq!(syn.header.seq, SeqNum(100));
    let st = c.status();
    assert_eq!(
        (st.iss, st.snd_una, st.snd_nxt),
        (SeqNum(100), SeqNum(100), SeqNum(101))
    );
}

/// §3.10.7.2 third check: LISTEN + SYN -> SYN-RECEIVED with <SEQ=ISS><ACK=RCV.NXT><CTL=SYN,ACK>.
#[test]
fn listen_answers_syn_with_syn_ack() {
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    Raw::new(a(), b(), 100, Flags::SYN).to(&mut s, t(0));
    assert_eq!(s.state(), State::SynReceived);
    let sa = one(&mut s, t(0));
    assert_eq!(sa.header.flags, Flags::SYN | Flags::ACK);
    assert_eq!((sa.header.seq, sa.header.ack), (SeqNum(300), SeqNum(101)));
    assert!(
        s.status().passive_open,
        "MUST-11: SYN-RECEIVED remembers the passive OPEN"
    );
}

/// Figure 6: the basic three-way handshake between two engines.
#[test]
fn three_way_handshake() {
    let (mut cli, mut srv) = established(&plain(100), &plain(300));
    assert_eq!(cli.status().snd_nxt, SeqNum(101));
    assert_eq!(cli.status().rcv_nxt, SeqNum(301));
    assert_eq!(srv.status().rcv_nxt, SeqNum(101));
    cli.send(b"hello").unwrap();
    exchange(&mut cli, &mut srv, t(1));
    assert_eq!(events(&mut srv), vec![Event::Readable]);
    let mut buf = [0u8; 16];
    assert_eq!(srv.recv(&mut buf), Ok(5));
    assert_eq!(&buf[..5], b"hello");
}

/// §3.10.1: OPEN on an existing connection is an error.
#[test]
fn open_twice_is_already_exists() {
    let mut c = Connection::connect(
        &plain(1),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    assert_eq!(c.open(t(0), Some(b())), Err(Error::ConnectionAlreadyExists));
}

/// §3.10.1: OPEN itself sets SND.UNA = ISS and SND.NXT = ISS+1 (the SYN is
/// formed then), before the caller has polled it out.
#[test]
fn open_sets_send_variables_at_once() {
    let c = Connection::connect(
        &plain(7),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    let st = c.status();
    assert_eq!((st.snd_una, st.snd_nxt), (SeqNum(7), SeqNum(8)));
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    Raw::new(a(), b(), 100, Flags::SYN).to(&mut s, t(0));
    assert_eq!(s.status().snd_nxt, SeqNum(301));
}

/// §3.10.1: OPEN on a connection object that has ended starts a new
/// incarnation from a fresh TCB: nothing of the old receive side, FIN
/// flags or ending survives; then the handshake runs as the first did.
#[test]
fn open_after_the_end_starts_a_fresh_tcb() {
    let mut c = close_wait(&plain(ISS));
    c.close(t(0)).unwrap();
    one(&mut c, t(0));
    peer(PEER_ISS + 2, Flags::ACK).ack(ISS + 2).to(&mut c, t(1));
    assert_eq!(c.state(), State::Closed);
    assert_eq!(c.ended(), Some(synack_tcp::Ended::Graceful));
    events(&mut c);

    assert_eq!(c.open(t(2), Some(b())), Ok(()));
    let st = c.status();
    assert_eq!(st.state, State::SynSent);
    assert_eq!(
        (st.fin_queued, st.fin_received, st.ended),
        (false, false, None)
    );
    assert_eq!((st.irs, st.rcv_nxt), (SeqNum(0), SeqNum(0)));
    assert_eq!((st.snd_una, st.snd_nxt), (SeqNum(ISS), SeqNum(ISS + 1)));
    assert_eq!(sa(&one(&mut c, t(2))), (ISS, 0, Flags::SYN));
    peer(5000, Flags::SYN).ack(ISS + 1).to(&mut c, t(3));
    assert_eq!(c.state(), State::Established);
    assert_eq!(sa(&one(&mut c, t(3))), (ISS + 1, 5001, Flags::ACK));
    assert_eq!(events(&mut c), vec![Event::Connected]);
    c.send(b"again").unwrap();
    let seg = one(&mut c, t(3));
    assert_eq!(
        (seg.header.seq.0, seg.payload.as_slice()),
        (ISS + 1, &b"again"[..])
    );
}

/// §3.10.6 STATUS: the remote socket is that of the active OPEN, unknown on
/// a listener, and the SYN's source once a passive OPEN is matched.
#[test]
fn remote_is_known_once_there_is_one() {
    let c = Connection::connect(
        &plain(1),
        FourTuple {
            local: a(),
            remote: b(),
        },
        t(0),
    )
    .unwrap();
    assert_eq!((c.remote(), c.status().remote), (Some(b()), Some(b())));
    assert_eq!(c.local(), a());
    let mut s = Connection::listen(&plain(300), b()).unwrap();
    assert_eq!((s.remote(), s.status().remote), (None, None));
    Raw::new(a(), b(), 100, Flags::SYN).to(&mut s, t(0));
    assert_eq!((s.remote(), s.status().remote), (Some(a()), Some(a())));
}

/// Bytes allocated by the current thread while counting is on (a global
/// allocator for this test binary; other threads are not counted).
mod alloc_count {
    use std::alloc::{GlobalAlloc, Layout, System};
    use std::cell::Cell;

    pub struct Counting;

    thread_local! {
        static ON: Cell<bool> = const { Cell::new(false) };
        static BYTES: Cell<usize> = const { Cell::new(0) };
    }

    fn count(n: usize) {
        if ON.with(|c| c.get()) {
            BYTES.with(|b| b.set(b.get() + n));
        }
    }

    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            count(layout.size());
            // SAFETY: the caller's layout goes unchanged to the system allocator.
            unsafe { System.alloc(layout) }
        }
        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: `ptr` was allocated by `System` with this layout.
            unsafe { System.dealloc(ptr, layout) }
        }
        unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
            count(new_size);
            // SAFETY: as for `alloc` and `dealloc`.
            unsafe { System.realloc(ptr, layout, new_size) }
        }
    }

    #[global_allocator]
    static GLOBAL: Counting = Counting;

    /// Bytes `f` allocated on this thread.
    pub fn bytes<R>(f: impl FnOnce() -> R) -> (R, usize) {
        BYTES.with(|b| b.set(0));
        ON.with(|c| c.set(true));
        let r = f();
        ON.with(|c| c.set(false));
        (r, BYTES.with(|b| b.get()))
    }
}

/// A new OPEN on a connection object reuses its send and receive buffers
/// (cleared) instead of allocating new ones: a table can recycle a
/// connection without touching the allocator for its 64 KiB buffers.
#[test]
fn open_again_reuses_the_buffers() {
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
    c.abort(t(1)).unwrap();
    let (r, bytes) = alloc_count::bytes(|| c.open(t(2), Some(b())));
    assert_eq!(r, Ok(()));
    assert!(bytes < 4096, "OPEN allocated {bytes} bytes");
    assert_eq!(c.send_capacity(), 64 * 1024);
    let (r, bytes) = alloc_count::bytes(|| {
        c.abort(t(3)).unwrap();
        c.open(t(3), None)
    });
    assert_eq!(r, Ok(()));
    assert_eq!(c.state(), State::Listen);
    assert!(bytes < 4096, "passive OPEN allocated {bytes} bytes");
}
