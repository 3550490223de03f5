//! Group `engine`: the receive hot path, the sender's ACK path and a whole
//! transfer, each beside smoltcp doing the same work through its public
//! `Interface` over an in-memory raw-IP device.
//!
//! - `in_order/{64,1460}` vs `smoltcp_in_order/{64,1460}`: one in-order data
//!   segment in ESTABLISHED, from raw IPv4 bytes to bytes read by the
//!   application (IP checks, demultiplexing, TCP parse and checksum,
//!   acceptability, ACK bookkeeping, the copy into the receive buffer and
//!   out again). The peer's segments are built beforehand, outside the
//!   timing, identically for both stacks: 20-byte IPv4 and TCP headers, no
//!   options. ACKs the receiver owes are sent between batches, untimed.
//! - `pure_ack` vs `smoltcp_pure_ack`: one pure ACK arriving at a sender
//!   with data in flight, acknowledging one more 1460-byte segment.
//! - `state_machine_step/64`: `Connection::on_segment` alone on a parsed
//!   segment (no IP, no checksum, no table, no read), ours only.
//! - `transfer/1MiB` vs `smoltcp_transfer/1MiB`: 1 MiB from one stack to
//!   another in memory, handshake excluded, until the receiver has read it.

use std::collections::VecDeque;
use std::hint::black_box;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::{Duration, Instant as WallClock};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smoltcp::iface::{Config as IfaceConfig, Interface, SocketHandle, SocketSet};
use smoltcp::phy::{self, Device, DeviceCapabilities, Medium};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SmolInstant;
use smoltcp::wire::{HardwareAddress, IpAddress, IpCidr};
use synack_tcp::table::{ConnId, Stack};
use synack_tcp::wire::ip::{emit_tcp_packet, parse_tcp_packet};
use synack_tcp::{Config, Connection, Flags, FourTuple, Instant, Segment, SeqNum, TcpHeader};

const PEER: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 1)), 40000);
const LOCAL: SocketAddr = SocketAddr::new(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 80);
const BUFFER: usize = 65535;
/// Segments per timed batch: well inside a 64 KiB window at 1460 B.
const BATCH: usize = 16;

/// The same knobs for both stacks: 64 KiB buffers, no window scaling,
/// timestamps or SACK (the crafted peer sends no options).
fn synack_config() -> Config {
    Config {
        recv_buffer: BUFFER,
        send_buffer: BUFFER,
        window_scale: false,
        timestamps: false,
        sack: false,
        ..Config::default()
    }
}

/// A raw IPv4 packet from the crafted peer.
fn craft(
    from: SocketAddr,
    to: SocketAddr,
    seq: u32,
    ack: u32,
    flags: Flags,
    payload: &[u8],
) -> Vec<u8> {
    let header = TcpHeader {
        src_port: from.port(),
        dst_port: to.port(),
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 65535,
        ..TcpHeader::default()
    };
    let mut buf = vec![0u8; 60 + payload.len()];
    let n = emit_tcp_packet(from.ip(), to.ip(), 64, &header, payload, &mut buf).expect("fits");
    buf.truncate(n);
    buf
}

fn seq_ack_of(packet: &[u8]) -> (u32, u32, Flags, usize) {
    let (_, seg) = parse_tcp_packet(packet).expect("valid");
    (seg.seq().0, seg.ack().0, seg.flags(), seg.payload().len())
}

// ----- synack side ---------------------------------------------------------

struct Ours {
    stack: Stack,
    conn: ConnId,
    now: Instant,
    /// Next sequence number the crafted peer sends, and what it acknowledges.
    peer_seq: u32,
    peer_ack: u32,
    out: Vec<u8>,
}

impl Ours {
    /// A passive connection in ESTABLISHED with the crafted peer.
    fn established() -> Ours {
        let mut stack = Stack::new(synack_config(), 1).expect("config");
        let now = Instant::from_secs(1);
        let l = stack.listen(LOCAL, 4).expect("listen");
        let mut out = vec![0u8; 2048];
        let irs = 1000u32;
        stack
            .on_packet(now, &craft(PEER, LOCAL, irs, 0, Flags::SYN, &[]))
            .expect("syn");
        let n = stack.poll_transmit(now, &mut out).expect("syn-ack");
        let (iss, _, _, _) = seq_ack_of(&out[..n]);
        stack
            .on_packet(now, &craft(PEER, LOCAL, irs + 1, iss + 1, Flags::ACK, &[]))
            .expect("ack");
        let conn = stack.accept(l).expect("established");
        let mut o = Ours {
            stack,
            conn,
            now,
            peer_seq: irs + 1,
            peer_ack: iss + 1,
            out,
        };
        o.drain();
        o
    }

    /// Send what the stack wants to send; returns the packets' (seq, len).
    fn drain(&mut self) -> Vec<(u32, usize)> {
        let mut sent = Vec::new();
        while let Some(n) = self.stack.poll_transmit(self.now, &mut self.out) {
            let (seq, _, _, len) = seq_ack_of(&self.out[..n]);
            sent.push((seq, len));
        }
        sent
    }

    fn data_batch(&mut self, payload: &[u8]) -> Vec<Vec<u8>> {
        (0..BATCH)
            .map(|_| {
                let p = craft(
                    PEER,
                    LOCAL,
                    self.peer_seq,
                    self.peer_ack,
                    Flags::ACK,
                    payload,
                );
                self.peer_seq = self.peer_seq.wrapping_add(payload.len() as u32);
                p
            })
            .collect()
    }
}

// ----- smoltcp side --------------------------------------------------------

/// A raw-IP device whose queues the benchmark fills and empties.
struct MemDevice {
    rx: VecDeque<Vec<u8>>,
    tx: VecDeque<Vec<u8>>,
}

struct MemRx(Vec<u8>);
struct MemTx<'a>(&'a mut VecDeque<Vec<u8>>);

impl phy::RxToken for MemRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl phy::TxToken for MemTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut buf = vec![0u8; len];
        let r = f(&mut buf);
        self.0.push_back(buf);
        r
    }
}

impl Device for MemDevice {
    type RxToken<'a> = MemRx;
    type TxToken<'a> = MemTx<'a>;

    fn receive(&mut self, _: SmolInstant) -> Option<(MemRx, MemTx<'_>)> {
        let p = self.rx.pop_front()?;
        Some((MemRx(p), MemTx(&mut self.tx)))
    }

    fn transmit(&mut self, _: SmolInstant) -> Option<MemTx<'_>> {
        Some(MemTx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        // Checksums computed and verified in software, as synack does.
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ip;
        caps.max_transmission_unit = 1500;
        caps
    }
}

fn smol_ip(addr: SocketAddr) -> IpAddress {
    match addr.ip() {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            IpAddress::v4(o[0], o[1], o[2], o[3])
        }
        IpAddr::V6(_) => unreachable!("the benches use IPv4"),
    }
}

fn smol_iface(addr: SocketAddr, dev: &mut MemDevice) -> Interface {
    let mut iface = Interface::new(
        IfaceConfig::new(HardwareAddress::Ip),
        dev,
        SmolInstant::ZERO,
    );
    iface.update_ip_addrs(|a| {
        a.push(IpCidr::new(smol_ip(addr), 24)).expect("one address");
    });
    iface
}

fn smol_socket() -> tcp::Socket<'static> {
    tcp::Socket::new(
        tcp::SocketBuffer::new(vec![0u8; BUFFER]),
        tcp::SocketBuffer::new(vec![0u8; BUFFER]),
    )
}

struct Smol {
    iface: Interface,
    dev: MemDevice,
    sockets: SocketSet<'static>,
    handle: SocketHandle,
    now: SmolInstant,
    peer_seq: u32,
    peer_ack: u32,
}

impl Smol {
    /// A smoltcp socket in ESTABLISHED with the crafted peer.
    fn established() -> Smol {
        let mut dev = MemDevice {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
        };
        let iface = smol_iface(LOCAL, &mut dev);
        let mut sockets = SocketSet::new(vec![]);
        let mut sock = smol_socket();
        sock.listen(LOCAL.port()).expect("listen");
        let handle = sockets.add(sock);
        let mut s = Smol {
            iface,
            dev,
            sockets,
            handle,
            now: SmolInstant::from_secs(1),
            peer_seq: 1000,
            peer_ack: 0,
        };
        s.dev
            .rx
            .push_back(craft(PEER, LOCAL, 1000, 0, Flags::SYN, &[]));
        s.poll();
        let syn_ack = s.dev.tx.pop_front().expect("syn-ack");
        let (iss, _, flags, _) = seq_ack_of(&syn_ack);
        assert_eq!(flags, Flags::SYN | Flags::ACK);
        s.peer_seq = 1001;
        s.peer_ack = iss + 1;
        s.dev
            .rx
            .push_back(craft(PEER, LOCAL, s.peer_seq, s.peer_ack, Flags::ACK, &[]));
        s.poll();
        assert_eq!(s.socket().state(), tcp::State::Established);
        s.dev.tx.clear();
        s
    }

    fn poll(&mut self) {
        self.iface.poll(self.now, &mut self.dev, &mut self.sockets);
    }

    fn socket(&mut self) -> &mut tcp::Socket<'static> {
        self.sockets.get_mut::<tcp::Socket>(self.handle)
    }

    /// Send what smoltcp wants to send; returns the packets' (seq, len).
    fn drain(&mut self) -> Vec<(u32, usize)> {
        self.iface
            .poll_egress(self.now, &mut self.dev, &mut self.sockets);
        self.dev
            .tx
            .drain(..)
            .map(|p| {
                let (seq, _, _, len) = seq_ack_of(&p);
                (seq, len)
            })
            .collect()
    }

    fn data_batch(&mut self, payload: &[u8]) -> Vec<Vec<u8>> {
        (0..BATCH)
            .map(|_| {
                let p = craft(
                    PEER,
                    LOCAL,
                    self.peer_seq,
                    self.peer_ack,
                    Flags::ACK,
                    payload,
                );
                self.peer_seq = self.peer_seq.wrapping_add(payload.len() as u32);
                p
            })
            .collect()
    }
}

// ----- in-order data segment -------------------------------------------------

fn in_order(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    for size in [64usize, 1460] {
        let payload = vec![0x5au8; size];
        group.throughput(Throughput::Elements(1));

        group.bench_with_input(BenchmarkId::new("in_order", size), &size, |bench, &size| {
            let mut o = Ours::established();
            let mut read = vec![0u8; 2048];
            bench.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut done = 0;
                while done < iters {
                    let batch = o.data_batch(&payload);
                    let n = batch.len().min((iters - done) as usize);
                    let start = WallClock::now();
                    for p in &batch[..n] {
                        let _ = black_box(o.stack.on_packet(o.now, black_box(p)));
                        let got = o.stack.recv(o.conn, &mut read).unwrap_or(0);
                        black_box(got);
                    }
                    total += start.elapsed();
                    if n < batch.len() {
                        // Unused segments would leave a gap: resend from there.
                        o.peer_seq = o.peer_seq.wrapping_sub(((batch.len() - n) * size) as u32);
                    }
                    o.drain();
                    done += n as u64;
                }
                total
            });
            assert_eq!(
                o.stack.status(o.conn).map(|s| s.rcv_nxt.0).ok(),
                Some(o.peer_seq)
            );
        });

        group.bench_with_input(
            BenchmarkId::new("smoltcp_in_order", size),
            &size,
            |bench, &size| {
                let mut s = Smol::established();
                let mut read = vec![0u8; 2048];
                let first_seq = s.peer_seq;
                let mut read_total = 0usize;
                bench.iter_custom(|iters| {
                    let mut total = Duration::ZERO;
                    let mut done = 0;
                    while done < iters {
                        let batch = s.data_batch(&payload);
                        let n = batch.len().min((iters - done) as usize);
                        if n < batch.len() {
                            s.peer_seq = s.peer_seq.wrapping_sub(((batch.len() - n) * size) as u32);
                        }
                        s.dev.rx.extend(batch.into_iter().take(n));
                        let start = WallClock::now();
                        for _ in 0..n {
                            black_box(s.iface.poll_ingress_single(
                                s.now,
                                &mut s.dev,
                                &mut s.sockets,
                            ));
                            let got = s.socket().recv_slice(&mut read).unwrap_or(0);
                            read_total += black_box(got);
                        }
                        total += start.elapsed();
                        s.drain();
                        done += n as u64;
                    }
                    total
                });
                // Every segment was taken in order and read: the same work
                // as ours.
                assert_eq!(read_total, s.peer_seq.wrapping_sub(first_seq) as usize);
            },
        );
    }
    group.finish();
}

// ----- pure ACK on the sender --------------------------------------------------

fn pure_ack(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    let chunk = vec![0xa5u8; 1460 * BATCH];

    group.bench_function("pure_ack", |bench| {
        let mut o = Ours::established();
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let _ = o.stack.send(o.conn, &chunk);
                let sent = o.drain();
                // One ACK per data segment in flight, each covering one more.
                let acks: Vec<Vec<u8>> = sent
                    .iter()
                    .filter(|(_, len)| *len > 0)
                    .map(|(seq, len)| {
                        craft(
                            PEER,
                            LOCAL,
                            o.peer_seq,
                            seq.wrapping_add(*len as u32),
                            Flags::ACK,
                            &[],
                        )
                    })
                    .collect();
                if acks.is_empty() {
                    // Nothing could be sent (window): let time pass.
                    o.now += Duration::from_millis(10);
                    o.stack.on_timeout(o.now);
                    continue;
                }
                let n = acks.len().min((iters - done) as usize);
                let start = WallClock::now();
                for p in &acks[..n] {
                    let _ = black_box(o.stack.on_packet(o.now, black_box(p)));
                }
                total += start.elapsed();
                // Acknowledge the rest untimed, so no data stays in flight.
                for p in &acks[n..] {
                    let _ = o.stack.on_packet(o.now, p);
                }
                done += n as u64;
            }
            total
        });
    });

    group.bench_function("smoltcp_pure_ack", |bench| {
        let mut s = Smol::established();
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let _ = s.socket().send_slice(&chunk);
                let sent = s.drain();
                let (pseq, _) = (s.peer_seq, s.peer_ack);
                let acks: Vec<Vec<u8>> = sent
                    .iter()
                    .filter(|(_, len)| *len > 0)
                    .map(|(seq, len)| {
                        craft(
                            PEER,
                            LOCAL,
                            pseq,
                            seq.wrapping_add(*len as u32),
                            Flags::ACK,
                            &[],
                        )
                    })
                    .collect();
                if acks.is_empty() {
                    s.now += smoltcp::time::Duration::from_millis(10);
                    continue;
                }
                let n = acks.len().min((iters - done) as usize);
                s.dev.rx.extend(acks.iter().take(n).cloned());
                let start = WallClock::now();
                for _ in 0..n {
                    black_box(
                        s.iface
                            .poll_ingress_single(s.now, &mut s.dev, &mut s.sockets),
                    );
                }
                total += start.elapsed();
                s.dev.rx.extend(acks.into_iter().skip(n));
                s.poll();
                s.dev.tx.clear();
                done += n as u64;
            }
            total
        });
    });
    group.finish();
}

// ----- the state-machine step alone ----------------------------------------------

fn state_machine_step(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Elements(1));
    group.bench_function(BenchmarkId::new("state_machine_step", 64), |bench| {
        let cfg = synack_config();
        let tuple = FourTuple {
            local: LOCAL,
            remote: PEER,
        };
        let pseudo = synack_tcp::PseudoHeader::new(PEER.ip(), LOCAL.ip()).expect("v4");
        let mut conn = Connection::listen(&cfg, LOCAL).expect("listen");
        let now = Instant::from_secs(1);
        let mut buf = vec![0u8; 2048];
        let tcp = |seq: u32, ack: u32, flags: Flags, payload: &[u8]| -> Vec<u8> {
            let h = TcpHeader {
                src_port: PEER.port(),
                dst_port: LOCAL.port(),
                seq: SeqNum(seq),
                ack: SeqNum(ack),
                flags,
                window: 65535,
                ..TcpHeader::default()
            };
            let mut out = vec![0u8; 20 + payload.len()];
            h.emit(&pseudo, payload, &mut out).expect("fits");
            out
        };
        let syn = tcp(1000, 0, Flags::SYN, &[]);
        conn.on_segment(now, &Segment::parse_unverified(&syn).expect("syn"), PEER);
        let t = conn.poll_transmit(now, &mut buf).expect("syn-ack");
        let iss = Segment::parse_unverified(&buf[..t.len])
            .expect("syn-ack")
            .seq()
            .0;
        let ack = tcp(1001, iss + 1, Flags::ACK, &[]);
        conn.on_segment(now, &Segment::parse_unverified(&ack).expect("ack"), PEER);
        let _ = tuple;
        let payload = [0x42u8; 64];
        let mut seq = 1001u32;
        let mut read = [0u8; 2048];
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            let mut done = 0;
            while done < iters {
                let n = (BATCH as u64).min(iters - done) as usize;
                let raw: Vec<Vec<u8>> = (0..n)
                    .map(|i| {
                        tcp(
                            seq.wrapping_add((i * 64) as u32),
                            iss + 1,
                            Flags::ACK,
                            &payload,
                        )
                    })
                    .collect();
                let segs: Vec<Segment<'_>> = raw
                    .iter()
                    .map(|r| Segment::parse_unverified(r).expect("valid"))
                    .collect();
                let start = WallClock::now();
                for s in &segs {
                    conn.on_segment(now, black_box(s), PEER);
                }
                total += start.elapsed();
                seq = seq.wrapping_add((n * 64) as u32);
                while conn.recv(&mut read).unwrap_or(0) > 0 {}
                while conn.poll_transmit(now, &mut buf).is_some() {}
                done += n as u64;
            }
            total
        });
        assert_eq!(conn.status().rcv_nxt.0, seq);
    });
    group.finish();
}

// ----- 1 MiB between two stacks ---------------------------------------------------

const MIB: usize = 1 << 20;

/// Two synack stacks, connected (handshake done), A about to send.
fn synack_pair() -> (Stack, Stack, ConnId, ConnId, Instant) {
    let mut a = Stack::new(synack_config(), 1).expect("config");
    let mut b = Stack::new(synack_config(), 2).expect("config");
    let now = Instant::from_secs(1);
    let l = b.listen(LOCAL, 4).expect("listen");
    let ca = a.connect(now, PEER, LOCAL).expect("connect");
    let mut buf = vec![0u8; 2048];
    for _ in 0..4 {
        while let Some(n) = a.poll_transmit(now, &mut buf) {
            let _ = b.on_packet(now, &buf[..n]);
        }
        while let Some(n) = b.poll_transmit(now, &mut buf) {
            let _ = a.on_packet(now, &buf[..n]);
        }
    }
    let cb = b.accept(l).expect("established");
    (a, b, ca, cb, now)
}

/// Move 1 MiB from A to B; returns the bytes B read.
fn synack_transfer(
    a: &mut Stack,
    b: &mut Stack,
    ca: ConnId,
    cb: ConnId,
    mut now: Instant,
    data: &[u8],
) -> usize {
    let mut buf = vec![0u8; 2048];
    let mut read = vec![0u8; 65536];
    let (mut sent, mut got) = (0, 0);
    while got < data.len() {
        if sent < data.len() {
            sent += a.send(ca, &data[sent..]).unwrap_or(0);
        }
        let mut moved = false;
        while let Some(n) = a.poll_transmit(now, &mut buf) {
            let _ = b.on_packet(now, &buf[..n]);
            moved = true;
        }
        while let Ok(n) = b.recv(cb, &mut read) {
            if n == 0 {
                break;
            }
            got += n;
        }
        while let Some(n) = b.poll_transmit(now, &mut buf) {
            let _ = a.on_packet(now, &buf[..n]);
            moved = true;
        }
        if !moved {
            // Waiting on a timer (a delayed ACK): jump to it.
            let next = [a.poll_timeout(), b.poll_timeout()]
                .into_iter()
                .flatten()
                .min();
            match next {
                Some(t) => {
                    now = now.max(t);
                    a.on_timeout(now);
                    b.on_timeout(now);
                }
                None => break,
            }
        }
    }
    got
}

struct SmolPair {
    ia: Interface,
    ib: Interface,
    da: MemDevice,
    db: MemDevice,
    sa: SocketSet<'static>,
    sb: SocketSet<'static>,
    ha: SocketHandle,
    hb: SocketHandle,
    now: SmolInstant,
}

impl SmolPair {
    fn connected() -> SmolPair {
        let mut da = MemDevice {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
        };
        let mut db = MemDevice {
            rx: VecDeque::new(),
            tx: VecDeque::new(),
        };
        let mut ia = smol_iface(PEER, &mut da);
        let ib = smol_iface(LOCAL, &mut db);
        let (mut sa, mut sb) = (SocketSet::new(vec![]), SocketSet::new(vec![]));
        let mut server = smol_socket();
        server.listen(LOCAL.port()).expect("listen");
        let hb = sb.add(server);
        let mut client = smol_socket();
        client
            .connect(ia.context(), (smol_ip(LOCAL), LOCAL.port()), PEER.port())
            .expect("connect");
        let ha = sa.add(client);
        let mut p = SmolPair {
            ia,
            ib,
            da,
            db,
            sa,
            sb,
            ha,
            hb,
            now: SmolInstant::from_secs(1),
        };
        for _ in 0..8 {
            p.step();
        }
        assert_eq!(
            p.sa.get::<tcp::Socket>(p.ha).state(),
            tcp::State::Established
        );
        p
    }

    /// Poll both interfaces once and carry packets across; true if any moved.
    fn step(&mut self) -> bool {
        self.ia.poll(self.now, &mut self.da, &mut self.sa);
        let mut moved = !self.da.tx.is_empty();
        self.db.rx.extend(self.da.tx.drain(..));
        self.ib.poll(self.now, &mut self.db, &mut self.sb);
        moved |= !self.db.tx.is_empty();
        self.da.rx.extend(self.db.tx.drain(..));
        moved
    }

    fn transfer(&mut self, data: &[u8]) -> usize {
        let mut read = vec![0u8; 65536];
        let (mut sent, mut got) = (0, 0);
        while got < data.len() {
            if sent < data.len() {
                sent += self
                    .sa
                    .get_mut::<tcp::Socket>(self.ha)
                    .send_slice(&data[sent..])
                    .unwrap_or(0);
            }
            let moved = self.step();
            loop {
                let n = self
                    .sb
                    .get_mut::<tcp::Socket>(self.hb)
                    .recv_slice(&mut read)
                    .unwrap_or(0);
                if n == 0 {
                    break;
                }
                got += n;
            }
            if !moved {
                let next = [
                    self.ia.poll_at(self.now, &self.sa),
                    self.ib.poll_at(self.now, &self.sb),
                ]
                .into_iter()
                .flatten()
                .min();
                match next {
                    Some(t) if t > self.now => self.now = t,
                    Some(_) => self.now += smoltcp::time::Duration::from_millis(1),
                    None => break,
                }
            }
        }
        got
    }
}

fn transfer(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine");
    group.throughput(Throughput::Bytes(MIB as u64));
    group.sample_size(10);
    let data: Vec<u8> = (0..MIB).map(|i| (i % 251) as u8).collect();

    group.bench_function(BenchmarkId::new("transfer", "1MiB"), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let (mut a, mut b, ca, cb, now) = synack_pair();
                let start = WallClock::now();
                let got = synack_transfer(&mut a, &mut b, ca, cb, now, &data);
                total += start.elapsed();
                assert_eq!(got, MIB);
            }
            total
        });
    });

    group.bench_function(BenchmarkId::new("smoltcp_transfer", "1MiB"), |bench| {
        bench.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let mut p = SmolPair::connected();
                let start = WallClock::now();
                let got = p.transfer(&data);
                total += start.elapsed();
                assert_eq!(got, MIB);
            }
            total
        });
    });
    group.finish();
}

criterion_group!(benches, in_order, pure_ack, state_machine_step, transfer);
criterion_main!(benches);
