//! No allocation on the hot paths through the table (issue 4, "How fast"):
//! an in-order data segment taken from raw IPv4 bytes to bytes read by the
//! application, and a pure ACK arriving at the sender, counted with a
//! counting global allocator once the connection is warm.

use std::alloc::{GlobalAlloc, Layout, System};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicU64, Ordering};

use synack_tcp::table::{ConnId, Stack};
use synack_tcp::wire::ip::{emit_tcp_packet, parse_tcp_packet};
use synack_tcp::{Config, Flags, Instant, SeqNum, TcpHeader};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged to the system allocator.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
const LOCAL: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);

fn craft(seq: u32, ack: u32, flags: Flags, payload: &[u8]) -> Vec<u8> {
    let header = TcpHeader {
        src_port: PEER.port(),
        dst_port: LOCAL.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 65535,
        ..TcpHeader::default()
    };
    let mut buf = vec![0u8; 60 + payload.len()];
    let n = emit_tcp_packet(PEER.ip(), LOCAL.ip(), 64, &header, payload, &mut buf).expect("fits");
    buf.truncate(n);
    buf
}

/// A passive connection in ESTABLISHED with a crafted peer: (stack, id,
/// peer's next seq, what the peer acknowledges).
fn established() -> (Stack, ConnId, u32, u32) {
    let cfg = Config {
        window_scale: false,
        timestamps: false,
        sack: false,
        ..Config::default()
    };
    let mut stack = Stack::new(cfg, 1).expect("config");
    let now = Instant::from_secs(1);
    let l = stack.listen(LOCAL, 4).expect("listen");
    let mut out = [0u8; 2048];
    stack
        .on_packet(now, &craft(1000, 0, Flags::SYN, &[]))
        .expect("syn");
    let n = stack.poll_transmit(now, &mut out).expect("syn-ack");
    let iss = parse_tcp_packet(&out[..n]).expect("valid").1.seq().0;
    stack
        .on_packet(now, &craft(1001, iss + 1, Flags::ACK, &[]))
        .expect("ack");
    let id = stack.accept(l).expect("established");
    while stack.poll_transmit(now, &mut out).is_some() {}
    (stack, id, 1001, iss + 1)
}

#[test]
fn the_receive_and_ack_paths_do_not_allocate() {
    let (mut stack, id, mut peer_seq, peer_ack) = established();
    let now = Instant::from_secs(1);
    let mut out = [0u8; 2048];
    let mut read = [0u8; 2048];

    // In-order data segments, read by the application, ACKs sent.
    for size in [64usize, 1460] {
        let payload = vec![7u8; size];
        let packets: Vec<Vec<u8>> = (0..64)
            .map(|i| craft(peer_seq + (i * size) as u32, peer_ack, Flags::ACK, &payload))
            .collect();
        peer_seq += (64 * size) as u32;
        // Warm up with the first few (queues reach their working size).
        for p in &packets[..8] {
            stack.on_packet(now, p).expect("accepted");
            stack.recv(id, &mut read).expect("readable");
            while stack.poll_transmit(now, &mut out).is_some() {}
        }
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        let mut got = 0;
        for p in &packets[8..] {
            stack.on_packet(now, p).expect("accepted");
            got += stack.recv(id, &mut read).expect("readable");
            while stack.poll_transmit(now, &mut out).is_some() {}
        }
        let after = ALLOCATIONS.load(Ordering::Relaxed);
        assert_eq!(got, 56 * size);
        assert_eq!(
            after - before,
            0,
            "allocations on the receive path at {size} B"
        );
    }

    // The sender's side: data out, one pure ACK per segment in. Warm up
    // (cwnd grows, queues reach their size), then count the last batch.
    let chunk = vec![9u8; 1460 * 8];
    let mut acks = Vec::new();
    for round in 0..6 {
        stack.send(id, &chunk).expect("room");
        let mut ends = Vec::new();
        while let Some(n) = stack.poll_transmit(now, &mut out) {
            let seg = parse_tcp_packet(&out[..n]).expect("valid").1;
            if !seg.payload().is_empty() {
                ends.push(seg.seq().0.wrapping_add(seg.payload().len() as u32));
            }
        }
        acks = ends
            .iter()
            .map(|&end| craft(peer_seq, end, Flags::ACK, &[]))
            .collect::<Vec<_>>();
        if round < 5 {
            // ACK everything, including what the ACKs themselves release.
            let mut pending = acks.clone();
            while !pending.is_empty() {
                for a in &pending {
                    stack.on_packet(now, a).expect("accepted");
                }
                pending.clear();
                while let Some(n) = stack.poll_transmit(now, &mut out) {
                    let seg = parse_tcp_packet(&out[..n]).expect("valid").1;
                    if !seg.payload().is_empty() {
                        let end = seg.seq().0.wrapping_add(seg.payload().len() as u32);
                        pending.push(craft(peer_seq, end, Flags::ACK, &[]));
                    }
                }
            }
        }
    }
    assert!(
        acks.len() >= 2,
        "the sender sent data: {} segments",
        acks.len()
    );
    let before = ALLOCATIONS.load(Ordering::Relaxed);
    for a in &acks {
        stack.on_packet(now, a).expect("accepted");
    }
    let after = ALLOCATIONS.load(Ordering::Relaxed);
    assert_eq!(after - before, 0, "allocations on the pure-ACK path");
}
