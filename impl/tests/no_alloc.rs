//! The receive hot path does not allocate (issue 4, "How fast"): an in-order
//! data segment in ESTABLISHED, from bytes to bytes readable, and a pure ACK
//! on the sender. A counting global allocator proves it.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::net::SocketAddr;

use synack_tcp::{Config, Connection, FourTuple, Instant, IsnSource, SeqNum, State};

/// Counts allocations made by the current thread while `COUNTING` is on.
struct Counting;

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
    static ALLOCS: Cell<usize> = const { Cell::new(0) };
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: forwarding the caller's layout to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(|c| c.get()) {
            ALLOCS.with(|n| n.set(n.get() + 1));
        }
        // SAFETY: as for `alloc`/`dealloc`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Allocations made by `f` on this thread.
fn allocations<R>(f: impl FnOnce() -> R) -> (R, usize) {
    ALLOCS.with(|n| n.set(0));
    COUNTING.with(|c| c.set(true));
    let r = f();
    COUNTING.with(|c| c.set(false));
    (r, ALLOCS.with(|n| n.get()))
}

fn pair(cfg_a: &Config, cfg_b: &Config) -> (Connection, Connection) {
    let a: SocketAddr = "10.0.0.1:40000".parse().unwrap();
    let b: SocketAddr = "10.0.0.2:80".parse().unwrap();
    let mut srv = Connection::listen(cfg_b, b).unwrap();
    let mut cli = Connection::connect(
        cfg_a,
        FourTuple {
            local: a,
            remote: b,
        },
        Instant::ZERO,
    )
    .unwrap();
    let mut buf = vec![0u8; 2048];
    for _ in 0..10 {
        while let Some(tx) = cli.poll_transmit(Instant::ZERO, &mut buf) {
            srv.on_bytes(Instant::ZERO, &buf[..tx.len], a).unwrap();
        }
        while let Some(tx) = srv.poll_transmit(Instant::ZERO, &mut buf) {
            cli.on_bytes(Instant::ZERO, &buf[..tx.len], b).unwrap();
        }
    }
    assert_eq!(
        (cli.state(), srv.state()),
        (State::Established, State::Established)
    );
    while cli.poll_event().is_some() {}
    while srv.poll_event().is_some() {}
    (cli, srv)
}

fn check(cfg: Config, payload: usize) {
    let (mut cli, mut srv) = pair(
        &Config {
            isn: IsnSource::Fixed(SeqNum(1)),
            ..cfg.clone()
        },
        &cfg,
    );
    let (a, b) = (cli.local(), srv.local());
    let data = vec![0x42u8; payload];
    let mut out = vec![0u8; 4096];
    let mut seg = vec![0u8; 4096];
    let mut ack = vec![0u8; 4096];
    let mut app = vec![0u8; 4096];
    for round in 0..200u64 {
        let now = Instant::from_millis(1 + round);
        assert_eq!(cli.send(&data), Ok(payload));
        let tx = cli.poll_transmit(now, &mut out).expect("data segment");
        seg[..tx.len].copy_from_slice(&out[..tx.len]);
        let seg_len = tx.len;

        // Receiver: raw bytes -> parse, checksum, acceptability, ACK
        // bookkeeping, append to the receive buffer -> readable.
        let (r, n) = allocations(|| srv.on_bytes(now, &seg[..seg_len], a));
        r.unwrap();
        assert_eq!(n, 0, "round {round}: the data segment allocated {n} times");
        let (got, n) = allocations(|| srv.recv(&mut app));
        assert_eq!(got, Ok(payload));
        assert_eq!(n, 0, "round {round}: RECEIVE allocated");
        let (tx, n) = allocations(|| srv.poll_transmit(now, &mut out));
        let tx = tx.expect("an ACK");
        assert_eq!(n, 0, "round {round}: emitting the ACK allocated");
        ack[..tx.len].copy_from_slice(&out[..tx.len]);

        // Sender: the pure ACK.
        let (r, n) = allocations(|| cli.on_bytes(now, &ack[..tx.len], b));
        r.unwrap();
        assert_eq!(n, 0, "round {round}: the pure ACK allocated {n} times");
        while srv.poll_event().is_some() {}
        while cli.poll_event().is_some() {}
    }
    assert_eq!(srv.status().bytes_delivered, 200 * payload as u64);
    assert_eq!(cli.status().snd_una, cli.status().snd_nxt);
}

#[test]
fn receive_path_and_pure_ack_do_not_allocate() {
    // The counter itself works: a Vec allocates once.
    let (v, n) = allocations(|| Vec::<u8>::with_capacity(16));
    assert_eq!(n, 1);
    drop(v);
    let plain = Config {
        delayed_ack: None,
        nagle: false,
        timestamps: false,
        window_scale: false,
        sack: false,
        ..Config::default()
    };
    check(plain.clone(), 64);
    check(plain, 1460);
    // With every option on (timestamps, window scale, SACK-permitted).
    let full = Config {
        delayed_ack: None,
        nagle: false,
        ..Config::default()
    };
    check(full.clone(), 64);
    check(full, 1448);
}
