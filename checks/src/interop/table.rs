//! The engine's connection table ([`Stack`]) against the kernel: a port with
//! no listener refuses the kernel's connect with a RST (RFC 9293 §3.5.2,
//! §3.10.7.1), and one listener serves several kernel clients at once, each
//! connection demultiplexed by its 4-tuple.

use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpStream};
use std::time::Duration;

use synack_tcp::table::{ConnId, Dispatch, Stack};
use synack_tcp::{Error as EngineError, Flags, State};

use super::engine::StackHost;
use super::kernel::{self, KernelState};
use super::netns::ENGINE_ADDR;
use super::packet::SegInfo;
use super::pump::{Dir, Fate, Pump, PumpConfig};
use super::scenario::{base_config, digest, pattern, FLOW_CONTROL_FLAGS};
use super::{judge_pcap, Failure, Outcome, TestCtx};

fn packets(pump: &Pump, dir: Dir, fate: Fate) -> Vec<SegInfo> {
    pump.log()
        .iter()
        .filter(|e| e.dir == dir && e.fate == fate)
        .filter_map(|e| SegInfo::parse(&e.packet).ok())
        .collect()
}

/// The kernel connects to an engine port nobody listens on: the table answers
/// the SYN with RST,ACK (seq 0, ack ISS+1) and the kernel reports the
/// connection refused.
pub fn refuses_closed_port(ctx: &TestCtx) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let mut pump = Pump::new(ns.tun, &PumpConfig::clean(ctx.seed), &ctx.pcap)
            .map_err(Failure::io("creating the pump"))?;
        let stack = Stack::new(base_config(), ctx.seed)
            .map_err(|e| Failure::check(format!("Stack::new: {e}")))?;
        let mut engine = StackHost::new(stack);
        let target = SocketAddr::from(SocketAddrV4::new(ENGINE_ADDR, 47_009));
        let connector = std::thread::Builder::new()
            .name("kernel-connect".into())
            .spawn(move || TcpStream::connect_timeout(&target, Duration::from_secs(3)))
            .map_err(Failure::io("spawning the kernel client"))?;
        pump.run_until(
            &mut engine,
            "the kernel's connect to fail",
            Duration::from_secs(4),
            |_| connector.is_finished(),
        )?;
        let result = connector
            .join()
            .map_err(|_| Failure::check("the kernel client thread panicked"))?;
        let kind = result.as_ref().err().map(|e| e.kind());
        ctx.say(format!("kernel connect: {:?}", result.map(|_| ())));
        Failure::ensure(kind == Some(io::ErrorKind::ConnectionRefused), || {
            format!("kernel connect gave {kind:?}, expected ConnectionRefused")
        })?;
        let syn = packets(&pump, Dir::KernelToEngine, Fate::Sent)
            .into_iter()
            .find(|p| p.flags == Flags::SYN)
            .ok_or_else(|| Failure::check("no SYN from the kernel"))?;
        let answers = packets(&pump, Dir::EngineToKernel, Fate::Delivered);
        ctx.say(format!("engine answered {answers:?}"));
        Failure::ensure(
            answers.len() == 1
                && answers[0].flags == Flags::RST | Flags::ACK
                && answers[0].seq == 0
                && answers[0].ack == syn.seq.wrapping_add(1),
            || {
                format!(
                    "expected one RST,ACK seq=0 ack={}, got {answers:?}",
                    syn.seq.wrapping_add(1)
                )
            },
        )?;
        Failure::ensure(
            engine
                .dispatched
                .iter()
                .all(|(_, d)| *d == Ok(Dispatch::Unmatched)),
            || format!("dispatch: {:?}", engine.dispatched),
        )?;
        Failure::ensure(engine.stack.stats().resets_sent == 1, || {
            format!("table stats {:?}", engine.stack.stats())
        })?;
        pump.finish_capture()
            .map_err(Failure::io("finishing the pcap"))?;
        judge_pcap(ctx, &pump, &[])
    })
}

/// One kernel client's side of the echo test.
struct Client {
    stream: TcpStream,
    data: Vec<u8>,
    sent: usize,
    shut: bool,
    echoed: Vec<u8>,
    eof: bool,
}

/// The engine's side of one accepted connection: what it still has to echo.
struct Served {
    id: ConnId,
    pending: Vec<u8>,
    peer_done: bool,
    closed: bool,
}

/// One engine listener, several kernel clients at once: each sends its own
/// bytes, the engine echoes them on the same connection, the client half-closes
/// and reads the echo to the end. Every client must get back exactly its own
/// bytes (demultiplexing by 4-tuple), and every connection must close cleanly:
/// the kernel (which closed first) in TIME-WAIT, the engine's closed.
pub fn serves_several_clients(
    ctx: &TestCtx,
    clients: usize,
    bytes: usize,
) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let mut pump = Pump::new(ns.tun, &PumpConfig::clean(ctx.seed), &ctx.pcap)
            .map_err(Failure::io("creating the pump"))?;
        let mut stack = Stack::new(base_config(), ctx.seed)
            .map_err(|e| Failure::check(format!("Stack::new: {e}")))?;
        let local = SocketAddrV4::new(ENGINE_ADDR, 47_002);
        let listener = stack
            .listen(local.into(), clients)
            .map_err(|e| Failure::check(format!("listen: {e}")))?;
        let mut engine = StackHost::new(stack);
        let connectors: Vec<_> = (0..clients)
            .map(|i| {
                std::thread::Builder::new()
                    .name(format!("kernel-client-{i}"))
                    .spawn(move || {
                        TcpStream::connect_timeout(&local.into(), Duration::from_secs(5))
                    })
            })
            .collect::<Result<_, _>>()
            .map_err(Failure::io("spawning the kernel clients"))?;
        let mut served: Vec<Served> = Vec::new();
        pump.run_until(
            &mut engine,
            "every client to connect and be accepted",
            Duration::from_secs(6),
            |e| {
                while let Some(id) = e.stack.accept(listener) {
                    served.push(Served {
                        id,
                        pending: Vec::new(),
                        peer_done: false,
                        closed: false,
                    });
                }
                served.len() == clients && connectors.iter().all(|c| c.is_finished())
            },
        )?;
        let mut kernel_clients = Vec::new();
        for (i, c) in connectors.into_iter().enumerate() {
            let stream = c
                .join()
                .map_err(|_| Failure::check("a kernel client thread panicked"))?
                .map_err(Failure::io("kernel connect"))?;
            stream
                .set_nonblocking(true)
                .map_err(Failure::io("non-blocking"))?;
            kernel_clients.push(Client {
                stream,
                data: pattern(ctx.seed.wrapping_add(i as u64 + 1), bytes),
                sent: 0,
                shut: false,
                echoed: Vec::new(),
                eof: false,
            });
        }
        let mut failure: Option<String> = None;
        let mut buf = vec![0u8; 16 * 1024];
        pump.run_until(
            &mut engine,
            "every echo to come back and every connection to close",
            Duration::from_secs(30),
            |e| {
                let r = (|| -> Result<(), String> {
                    for c in kernel_clients.iter_mut() {
                        while c.sent < c.data.len() {
                            match c.stream.write(&c.data[c.sent..]) {
                                Ok(n) => c.sent += n,
                                Err(x) if x.kind() == io::ErrorKind::WouldBlock => break,
                                Err(x) => return Err(format!("kernel write: {x}")),
                            }
                        }
                        if c.sent == c.data.len() && !c.shut {
                            c.stream
                                .shutdown(Shutdown::Write)
                                .map_err(|x| format!("kernel shutdown: {x}"))?;
                            c.shut = true;
                        }
                        while !c.eof {
                            match c.stream.read(&mut buf) {
                                Ok(0) => c.eof = true,
                                Ok(n) => c.echoed.extend_from_slice(&buf[..n]),
                                Err(x) if x.kind() == io::ErrorKind::WouldBlock => break,
                                Err(x) => return Err(format!("kernel read: {x}")),
                            }
                        }
                    }
                    for s in served.iter_mut() {
                        if !s.peer_done {
                            loop {
                                match e.stack.recv(s.id, &mut buf) {
                                    Ok(0) => break,
                                    Ok(n) => s.pending.extend_from_slice(&buf[..n]),
                                    Err(EngineError::ConnectionClosing) => {
                                        s.peer_done = true;
                                        break;
                                    }
                                    Err(x) => return Err(format!("engine recv: {x}")),
                                }
                            }
                        }
                        while !s.pending.is_empty() {
                            match e.stack.send(s.id, &s.pending) {
                                Ok(n) => {
                                    s.pending.drain(..n);
                                }
                                Err(EngineError::InsufficientResources) => break,
                                Err(x) => return Err(format!("engine send: {x}")),
                            }
                        }
                        if s.peer_done && s.pending.is_empty() && !s.closed {
                            e.stack
                                .close(e.now, s.id)
                                .map_err(|x| format!("engine close: {x}"))?;
                            s.closed = true;
                        }
                    }
                    Ok(())
                })();
                if let Err(m) = r {
                    failure = Some(m);
                }
                failure.is_some() || kernel_clients.iter().all(|c| c.eof)
            },
        )?;
        if let Some(m) = failure {
            return Err(Failure::check(m));
        }
        for (i, c) in kernel_clients.iter().enumerate() {
            ctx.say(format!(
                "client {i}: sent {} B (digest {:016x}), echo {} B (digest {:016x})",
                c.data.len(),
                digest(&c.data),
                c.echoed.len(),
                digest(&c.echoed)
            ));
            Failure::ensure(c.echoed == c.data, || {
                format!(
                    "client {i} got back {} bytes that are not its own {}",
                    c.echoed.len(),
                    c.data.len()
                )
            })?;
        }
        // The kernel closed first, so its sockets end in TIME-WAIT; the
        // engine's connections go LAST-ACK -> CLOSED.
        let tuples: Vec<(SocketAddrV4, SocketAddrV4)> = kernel_clients
            .iter()
            .filter_map(|c| match c.stream.local_addr() {
                Ok(SocketAddr::V4(a)) => Some((a, local)),
                _ => None,
            })
            .collect();
        Failure::ensure(tuples.len() == clients, || {
            "a kernel socket lost its address".into()
        })?;
        let ids: Vec<ConnId> = served.iter().map(|s| s.id).collect();
        pump.run_until(
            &mut engine,
            "every connection to close on both sides",
            Duration::from_secs(5),
            |e| {
                tuples.iter().all(|(k, l)| {
                    kernel::state_of(*k, *l).ok().flatten() == Some(KernelState::TimeWait)
                }) && ids
                    .iter()
                    .all(|id| !matches!(e.stack.state(*id), Ok(s) if s != State::Closed))
            },
        )?;
        let stats = engine.stack.stats().clone();
        ctx.say(format!("table stats: {stats:?}"));
        let spawned = engine
            .dispatched
            .iter()
            .filter(|(_, d)| matches!(d, Ok(Dispatch::Spawned(..))))
            .count();
        Failure::ensure(spawned == clients, || {
            format!("{spawned} connections spawned for {clients} SYNs")
        })?;
        Failure::ensure(
            stats.malformed == 0 && stats.unmatched == 0 && stats.resets_sent == 0,
            || format!("table stats {stats:?}"),
        )?;
        pump.finish_capture()
            .map_err(Failure::io("finishing the pcap"))?;
        judge_pcap(ctx, &pump, FLOW_CONTROL_FLAGS)
    })
}

/// The table's compact TIME-WAIT entry answers for a closed connection: the
/// engine closes first and ends in TIME-WAIT, its last ACK is lost, the
/// kernel (in LAST-ACK) retransmits its FIN, and the entry must acknowledge
/// it again (RFC 9293 §3.10.7.4, TIME-WAIT: a retransmitted FIN is acked and
/// the 2 MSL timer restarted) so that the kernel can close.
pub fn time_wait_acks_retransmitted_fin(ctx: &TestCtx) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let mut pump = Pump::new(ns.tun, &PumpConfig::clean(ctx.seed), &ctx.pcap)
            .map_err(Failure::io("creating the pump"))?;
        let cfg = synack_tcp::Config {
            // Long enough that TIME-WAIT outlasts the kernel's FIN retransmission.
            msl: Duration::from_secs(5),
            ..base_config()
        };
        let stack =
            Stack::new(cfg, ctx.seed).map_err(|e| Failure::check(format!("Stack::new: {e}")))?;
        let mut engine = StackHost::new(stack);
        let kernel_addr = SocketAddrV4::new(super::netns::KERNEL_ADDR, 47_001);
        let engine_addr = SocketAddrV4::new(ENGINE_ADDR, 47_004);
        let listener = std::net::TcpListener::bind(kernel_addr)
            .map_err(Failure::io("binding the kernel listener"))?;
        listener
            .set_nonblocking(true)
            .map_err(Failure::io("non-blocking listener"))?;
        let now = pump.now();
        let id = engine
            .stack
            .connect(now, engine_addr.into(), kernel_addr.into())
            .map_err(|e| Failure::check(format!("table connect: {e}")))?;
        let mut accepted = None;
        pump.run_until(&mut engine, "the handshake", Duration::from_secs(5), |e| {
            if accepted.is_none() {
                accepted = listener.accept().ok().map(|(s, _)| s);
            }
            accepted.is_some() && e.stack.state(id) == Ok(State::Established)
        })?;
        let mut kernel = accepted.ok_or_else(|| Failure::check("kernel accepted nothing"))?;
        kernel
            .set_nonblocking(true)
            .map_err(Failure::io("non-blocking"))?;
        let now = pump.now();
        engine
            .stack
            .close(now, id)
            .map_err(|e| Failure::check(format!("table close: {e}")))?;
        let mut sink = [0u8; 64];
        let mut eof = false;
        pump.run_until(
            &mut engine,
            "the kernel to read the FIN and the engine to reach FIN-WAIT-2",
            Duration::from_secs(5),
            |e| {
                if !eof {
                    eof = matches!(kernel.read(&mut sink), Ok(0));
                }
                eof && e.stack.state(id) == Ok(State::FinWait2)
            },
        )?;
        // Now drop the engine's next segment: the ACK of the kernel's FIN.
        let mut dropped = 0u32;
        pump.set_filter(Some(Box::new(move |dir, _| {
            if dir == Dir::EngineToKernel && dropped == 0 {
                dropped += 1;
                return false;
            }
            true
        })));
        drop(kernel);
        pump.run_until(
            &mut engine,
            "the engine to enter TIME-WAIT",
            Duration::from_secs(5),
            |e| e.stack.state(id) == Ok(State::TimeWait),
        )?;
        let closed = pump.run_until(
            &mut engine,
            "the kernel's socket to close after its FIN is acked again",
            Duration::from_secs(5),
            |_| {
                kernel::state_of(kernel_addr, engine_addr)
                    .ok()
                    .flatten()
                    .is_none()
            },
        );
        if let Err(e) = closed {
            return Err(Failure::check(format!(
                "{e}\n  kernel sockets:\n{}  kernel TCP counters: {}",
                kernel::ss_tan(),
                kernel::nonzero_counters()
            )));
        }
        let stats = engine.stack.stats().clone();
        ctx.say(format!("table stats: {stats:?}"));
        Failure::ensure(pump.filtered() == 1, || {
            format!("{} segments dropped, expected 1", pump.filtered())
        })?;
        let kernel_fins = packets(&pump, Dir::KernelToEngine, Fate::Sent)
            .into_iter()
            .filter(|p| p.has(Flags::FIN))
            .count();
        Failure::ensure(kernel_fins >= 2, || {
            format!("the kernel sent its FIN {kernel_fins} times, expected a retransmission")
        })?;
        Failure::ensure(engine.stack.state(id) == Ok(State::TimeWait), || {
            format!(
                "engine state {:?}, expected TIME-WAIT",
                engine.stack.state(id)
            )
        })?;
        Failure::ensure(
            stats.time_wait_compacted == 1 && stats.time_wait_acks >= 1,
            || format!("the compact TIME-WAIT entry did not answer the FIN: {stats:?}"),
        )?;
        pump.finish_capture()
            .map_err(Failure::io("finishing the pcap"))?;
        // Its ACK must carry the negotiated timestamps too (RFC 7323 §3.2),
        // which judge_pcap checks for every engine segment.
        judge_pcap(ctx, &pump, &["tcp.analysis.retransmission"])
    })
}
