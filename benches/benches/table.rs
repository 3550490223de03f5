//! Group `table`: the connection table on its own.
//!
//! - `handshake`: one passive three-way handshake through the table, from
//!   raw IPv4 bytes: SYN in, SYN,ACK out, ACK in, `accept`. Connections are
//!   aborted and released between batches, untimed.
//! - `lookup/{1,1000,100000,1000000}`: demultiplexing a 4-tuple with that
//!   many entries in the table, the tuples looked up drawn at random from
//!   those present (so large tables pay their cache misses). The entries are
//!   compact TIME-WAIT entries: a million full TCBs with 64 KiB buffers
//!   would need 128 GB. Connections and TIME-WAIT entries use the same key
//!   type, hasher and map.
//! - `lookup_repeated/{1,1000000}`: the same tuple every time, so the entry
//!   stays in cache: hashing and comparing alone.
//! - The heap bytes per TIME-WAIT entry at a million entries, computed from
//!   the containers' capacities, are printed and recorded for the report
//!   (`table.time_wait_bytes_per_entry`).

use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant as WallClock};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use synack_benches::record_fact;
use synack_tcp::table::{Lookup, Stack, TimeWaitEntry};
use synack_tcp::wire::ip::{emit_tcp_packet, parse_tcp_packet};
use synack_tcp::{Config, Flags, FourTuple, Instant, SeqNum, TcpHeader};

const SERVER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);

fn client(i: u32) -> SocketAddr {
    // 2^16 ports per address, as many addresses as needed.
    let ip = Ipv4Addr::from(0x0a01_0000u32 + (i >> 16));
    SocketAddr::new(IpAddr::V4(ip), (i & 0xffff) as u16)
}

fn craft(from: SocketAddr, to: SocketAddr, seq: u32, ack: u32, flags: Flags) -> Vec<u8> {
    let header = TcpHeader {
        src_port: from.port(),
        dst_port: to.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 65535,
        ..TcpHeader::default()
    };
    let mut buf = vec![0u8; 60];
    let n = emit_tcp_packet(from.ip(), to.ip(), 64, &header, &[], &mut buf).expect("fits");
    buf.truncate(n);
    buf
}

/// Small buffers: a handshake should not be dominated by zeroing 128 KiB.
fn config() -> Config {
    Config {
        recv_buffer: 4096,
        send_buffer: 4096,
        ..Config::default()
    }
}

fn handshake(c: &mut Criterion) {
    let mut group = c.benchmark_group("table");
    group.throughput(Throughput::Elements(1));
    group.bench_function("handshake", |bench| {
        let mut stack = Stack::new(config(), 7).expect("config");
        let l = stack.listen(SERVER, 1 << 16).expect("listen");
        let mut now = Instant::from_secs(1);
        let mut out = vec![0u8; 2048];
        let mut next_client = 0u32;
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = 256u64.min(iters - done) as u32;
                let syns: Vec<(SocketAddr, Vec<u8>)> = (0..n)
                    .map(|i| {
                        let from = client(next_client + i);
                        (from, craft(from, SERVER, 1000, 0, Flags::SYN))
                    })
                    .collect();
                next_client = (next_client + n) % (1 << 20);
                let mut accepted = Vec::with_capacity(n as usize);
                let mut ack = vec![0u8; 40];
                let start = WallClock::now();
                for (from, syn) in &syns {
                    let _ = stack.on_packet(now, syn);
                    let len = stack.poll_transmit(now, &mut out).expect("SYN,ACK");
                    let (_, seg) = parse_tcp_packet(&out[..len]).expect("valid");
                    let iss = seg.seq().0;
                    // The client's ACK: built like a peer would, inside the timing.
                    let h = TcpHeader {
                        src_port: from.port(),
                        dst_port: SERVER.port(),
                        seq: SeqNum(1001),
                        ack: SeqNum(iss.wrapping_add(1)),
                        flags: Flags::ACK,
                        window: 65535,
                        ..TcpHeader::default()
                    };
                    let alen = emit_tcp_packet(from.ip(), SERVER.ip(), 64, &h, &[], &mut ack)
                        .expect("fits");
                    let _ = stack.on_packet(now, &ack[..alen]);
                    while stack.poll_transmit(now, &mut out).is_some() {}
                    accepted.push(stack.accept(l).expect("established"));
                }
                total += start.elapsed();
                for id in accepted {
                    let _ = stack.abort(now, id);
                    let _ = stack.release(id);
                }
                while stack.poll_transmit(now, &mut out).is_some() {}
                now += Duration::from_millis(1);
                stack.on_timeout(now);
                done += u64::from(n);
            }
            total
        });
        assert_eq!(stack.connection_count(), 0);
    });
    group.finish();
}

/// A table holding `n` TIME-WAIT entries (and one listener), and the tuples.
fn populated(n: u32) -> (Stack, Vec<FourTuple>) {
    let mut stack = Stack::new(config(), 11).expect("config");
    stack.listen(SERVER, 16).expect("listen");
    let mut tuples = Vec::with_capacity(n as usize);
    for i in 0..n {
        let t = FourTuple {
            local: SERVER,
            remote: client(i),
        };
        stack
            .insert_time_wait(
                &t,
                TimeWaitEntry {
                    snd_nxt: SeqNum(i),
                    rcv_nxt: SeqNum(!i),
                    expires_ms: u32::MAX / 2,
                    window: 1000,
                    ts_recent: 0,
                    flags: 0,
                },
            )
            .expect("fresh tuple");
        tuples.push(t);
    }
    (stack, tuples)
}

/// A fixed pseudo-random order of `count` indices below `n` (SplitMix64).
fn shuffled(n: u32, count: usize) -> Vec<usize> {
    let mut x = 0x2545_f491_4f6c_dd1du64;
    (0..count)
        .map(|_| {
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            ((z ^ (z >> 31)) % u64::from(n)) as usize
        })
        .collect()
}

fn lookup(c: &mut Criterion) {
    let mut group = c.benchmark_group("table");
    group.throughput(Throughput::Elements(1));
    for n in [1u32, 1_000, 100_000, 1_000_000] {
        let (stack, tuples) = populated(n);
        if n == 1_000_000 {
            let bytes = stack.time_wait_memory_bytes();
            let per_entry = bytes as f64 / f64::from(n);
            println!(
                "table: {n} TIME-WAIT entries hold {bytes} heap bytes: {per_entry:.1} bytes per entry"
            );
            record_fact("table.time_wait_bytes_per_entry", per_entry, "B");
        }
        // Enough distinct probes that a large table cannot keep them cached.
        let order = shuffled(n, 1 << 16);
        let probes: Vec<FourTuple> = order.iter().map(|&i| tuples[i]).collect();
        if n == 1 || n == 1_000_000 {
            // The same tuple again and again: the cost of hashing and
            // comparing alone, with the entry in cache.
            let t = probes[0];
            group.bench_with_input(BenchmarkId::new("lookup_repeated", n), &n, |bench, _| {
                bench.iter(|| black_box(stack.lookup(black_box(&t))));
            });
        }
        group.bench_with_input(BenchmarkId::new("lookup", n), &n, |bench, _| {
            let mut i = 0usize;
            bench.iter(|| {
                let t = &probes[i & (probes.len() - 1)];
                i = i.wrapping_add(1);
                let r = stack.lookup(black_box(t));
                debug_assert!(matches!(r, Lookup::TimeWait(_)));
                black_box(r)
            });
        });
    }
    group.finish();
}

criterion_group!(benches, handshake, lookup);
criterion_main!(benches);
