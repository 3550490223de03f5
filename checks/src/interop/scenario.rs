//! The interop scenarios: the engine against the kernel's TCP, as client of a
//! kernel listener ([`Role::EngineClient`]) and as server for a kernel client
//! ([`Role::EngineServer`]). Each scenario sets up a [`Session`] (namespace,
//! link, pump, an established connection), does one thing, checks both sides
//! and has tshark judge the pcap.

use std::collections::hash_map::DefaultHasher;
use std::hash::Hasher;
use std::io::{self, Read, Write};
use std::net::{Shutdown, SocketAddr, SocketAddrV4, TcpListener, TcpStream};
use std::time::Duration;

use synack_tcp::connection::{Connection, FourTuple, State};
use synack_tcp::{
    Config, Ended, Error as EngineError, Event, Flags, Instant, KeepAlive, ResetReason, RetryLimit,
    TimeoutKind,
};

use super::engine::EngineHost;
use super::kernel::{self, KernelState};
use super::netns::{Namespace, ENGINE_ADDR, KERNEL_ADDR};
use super::packet::{self, SegInfo};
use super::pump::{Dir, Fate, Pump, PumpConfig};
use super::{judge_pcap, Failure, Impairment, Outcome, TestCtx};

/// Which end the engine plays.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    /// The engine opens actively, to a kernel `TcpListener`.
    EngineClient,
    /// The engine listens; a kernel `TcpStream` connects to it.
    EngineServer,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::EngineClient => "engine client",
            Role::EngineServer => "engine server",
        }
    }
}

// Ports are from 47000-47999, which no tshark dissector claims (6001, say, is
// X11, and tshark would call random payload on it malformed X11); the
// namespace's ephemeral range is narrowed to the same block (netns.rs).

/// The kernel's listening port (engine as client).
pub const KERNEL_PORT: u16 = 47_001;
/// The engine's listening port (engine as server).
pub const ENGINE_LISTEN_PORT: u16 = 47_002;
/// The engine's port when it is the client.
pub const ENGINE_CLIENT_PORT: u16 = 47_003;

/// The engine's configuration for interop: RFC defaults, except a short MSL
/// (TIME-WAIT of 1 s, so a test can watch it end) and a FIN-WAIT-2 timeout
/// short enough to observe.
pub fn base_config() -> Config {
    Config {
        msl: Duration::from_millis(500),
        fin_wait_2_timeout: Some(Duration::from_secs(2)),
        ..Config::default()
    }
}

/// A deterministic byte pattern for a transfer (the seed picks it).
pub fn pattern(seed: u64, len: usize) -> Vec<u8> {
    let mut rng = super::Rng::new(seed);
    let mut out = Vec::with_capacity(len + 8);
    while out.len() < len {
        out.extend_from_slice(&rng.next_u64().to_le_bytes());
    }
    out.truncate(len);
    out
}

/// A 64-bit digest of a byte string (SipHash with fixed keys, from std).
pub fn digest(data: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    h.write(data);
    h.finish()
}

/// One established connection between the engine and the kernel, and the
/// link that carries it.
pub struct Session {
    pub role: Role,
    pub pump: Pump,
    pub engine: EngineHost,
    pub kernel: TcpStream,
    pub engine_addr: SocketAddrV4,
    pub kernel_addr: SocketAddrV4,
    /// The kernel socket's states as sampled during the run, in order.
    pub kernel_states: Vec<(Instant, Option<KernelState>)>,
}

impl Session {
    /// Builds the link and completes a three-way handshake in `role`.
    pub fn establish(
        ctx: &TestCtx,
        ns: Namespace,
        role: Role,
        cfg: &Config,
        pump_cfg: &PumpConfig,
    ) -> Result<Session, Failure> {
        Session::establish_with(ctx, ns, role, cfg, pump_cfg, None)
    }

    /// [`Session::establish`] with a drop rule in force from the first packet.
    pub fn establish_with(
        ctx: &TestCtx,
        ns: Namespace,
        role: Role,
        cfg: &Config,
        pump_cfg: &PumpConfig,
        filter: Option<super::pump::Filter>,
    ) -> Result<Session, Failure> {
        let mut pump =
            Pump::new(ns.tun, pump_cfg, &ctx.pcap).map_err(Failure::io("creating the pump"))?;
        let limit = Duration::from_secs(if pump_cfg.to_engine.is_none() && filter.is_none() {
            5
        } else {
            30
        });
        pump.set_filter(filter);
        match role {
            Role::EngineClient => {
                let kernel_addr = SocketAddrV4::new(KERNEL_ADDR, KERNEL_PORT);
                let engine_addr = SocketAddrV4::new(ENGINE_ADDR, ENGINE_CLIENT_PORT);
                let listener = TcpListener::bind(kernel_addr)
                    .map_err(Failure::io("binding the kernel listener"))?;
                listener
                    .set_nonblocking(true)
                    .map_err(Failure::io("making the listener non-blocking"))?;
                let now = pump.now();
                let tuple = FourTuple {
                    local: engine_addr.into(),
                    remote: kernel_addr.into(),
                };
                let conn = Connection::connect(cfg, tuple, now)
                    .map_err(|e| Failure::check(format!("engine connect: {e}")))?;
                let mut engine = EngineHost::new(conn, now);
                let mut accepted = None;
                let mut accept_error = None;
                pump.run_until(
                    &mut engine,
                    "the handshake (kernel accept, engine ESTABLISHED)",
                    limit,
                    |e| {
                        if accepted.is_none() && accept_error.is_none() {
                            match listener.accept() {
                                Ok((s, _)) => accepted = Some(s),
                                Err(err) if err.kind() == io::ErrorKind::WouldBlock => {}
                                Err(err) => accept_error = Some(err),
                            }
                        }
                        accept_error.is_some()
                            || (accepted.is_some() && e.state() == State::Established)
                    },
                )?;
                if let Some(err) = accept_error {
                    return Err(Failure::io("kernel accept")(err));
                }
                let kernel = accepted.ok_or_else(|| Failure::check("kernel accepted nothing"))?;
                Session::finish_setup(role, pump, engine, kernel, engine_addr, kernel_addr)
            }
            Role::EngineServer => {
                let engine_addr = SocketAddrV4::new(ENGINE_ADDR, ENGINE_LISTEN_PORT);
                let conn = Connection::listen(cfg, engine_addr.into())
                    .map_err(|e| Failure::check(format!("engine listen: {e}")))?;
                let mut engine = EngineHost::new(conn, pump.now());
                let target = SocketAddr::from(engine_addr);
                let connector = std::thread::Builder::new()
                    .name("kernel-connect".into())
                    .spawn(move || TcpStream::connect_timeout(&target, limit))
                    .map_err(Failure::io("spawning the kernel client"))?;
                pump.run_until(
                    &mut engine,
                    "the handshake (kernel connect, engine ESTABLISHED)",
                    limit + Duration::from_secs(1),
                    |e| connector.is_finished() && e.state() == State::Established,
                )?;
                let kernel = connector
                    .join()
                    .map_err(|_| Failure::check("the kernel client thread panicked"))?
                    .map_err(Failure::io("kernel connect"))?;
                let local = match kernel.local_addr() {
                    Ok(SocketAddr::V4(a)) => a,
                    other => {
                        return Err(Failure::check(format!("kernel socket address {other:?}")))
                    }
                };
                Session::finish_setup(role, pump, engine, kernel, engine_addr, local)
            }
        }
    }

    fn finish_setup(
        role: Role,
        pump: Pump,
        engine: EngineHost,
        kernel: TcpStream,
        engine_addr: SocketAddrV4,
        kernel_addr: SocketAddrV4,
    ) -> Result<Session, Failure> {
        kernel
            .set_nonblocking(true)
            .map_err(Failure::io("making the kernel socket non-blocking"))?;
        let mut s = Session {
            role,
            pump,
            engine,
            kernel,
            engine_addr,
            kernel_addr,
            kernel_states: Vec::new(),
        };
        s.sample_kernel();
        Ok(s)
    }

    pub fn now(&self) -> Instant {
        self.pump.now()
    }

    /// Swaps the kernel socket of the connection for an idle loopback one and
    /// hands the real one back, so a test can close (or abort) it while the
    /// session keeps a socket to pass to its closures.
    pub fn park_kernel_socket(&mut self) -> Result<TcpStream, Failure> {
        let lo = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 0))
            .map_err(Failure::io("binding a loopback listener"))?;
        let addr = lo.local_addr().map_err(Failure::io("loopback address"))?;
        let parked = TcpStream::connect(addr).map_err(Failure::io("parking on loopback"))?;
        parked
            .set_nonblocking(true)
            .map_err(Failure::io("making the parked socket non-blocking"))?;
        Ok(std::mem::replace(&mut self.kernel, parked))
    }

    /// The kernel's state for this connection, from `/proc/thread-self/net/tcp`
    /// (None: the kernel has no socket for it any more).
    pub fn kernel_state(&self) -> Result<Option<KernelState>, Failure> {
        kernel::state_of(self.kernel_addr, self.engine_addr)
            .map_err(|e| Failure::check(format!("reading the kernel's sockets: {e}")))
    }

    fn sample_kernel(&mut self) {
        let now = self.pump.now();
        let state = kernel::state_of(self.kernel_addr, self.engine_addr)
            .ok()
            .flatten();
        if self.kernel_states.last().map(|(_, s)| *s) != Some(state) {
            self.kernel_states.push((now, state));
        }
    }

    /// Pumps until `done(engine, kernel socket)` holds, or fails after `limit`.
    pub fn run_until(
        &mut self,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&mut EngineHost, &mut TcpStream) -> bool,
    ) -> Result<Duration, Failure> {
        let Session {
            pump,
            engine,
            kernel,
            kernel_states,
            kernel_addr,
            engine_addr,
            ..
        } = self;
        let (ka, ea) = (*kernel_addr, *engine_addr);
        let origin = std::time::Instant::now();
        let base = pump.now();
        let took = pump.run_until(engine, what, limit, |e| {
            let now = base + origin.elapsed();
            let state = kernel::state_of(ka, ea).ok().flatten();
            if kernel_states.last().map(|(_, s)| *s) != Some(state) {
                kernel_states.push((now, state));
            }
            done(e, kernel)
        })?;
        Ok(took)
    }

    /// Pumps for a fixed time (nothing in particular is expected to happen).
    pub fn run_for(&mut self, duration: Duration) -> Result<(), Failure> {
        let end = std::time::Instant::now() + duration;
        match self.run_until("a fixed wait", duration + Duration::from_secs(1), |_, _| {
            std::time::Instant::now() >= end
        }) {
            Ok(_) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// A user call on the engine, with its events and state change recorded.
    pub fn engine_call<T>(&mut self, f: impl FnOnce(&mut Connection, Instant) -> T) -> T {
        let now = self.pump.now();
        let out = f(&mut self.engine.conn, now);
        self.engine.observe(now);
        out
    }

    /// Every captured TCP packet of `dir` with fate `fate`, parsed.
    pub fn packets(&self, dir: Dir, fate: Fate) -> Vec<(Instant, SegInfo)> {
        self.pump
            .log()
            .iter()
            .filter(|e| e.dir == dir && e.fate == fate)
            .filter_map(|e| SegInfo::parse(&e.packet).ok().map(|s| (e.at, s)))
            .collect()
    }

    /// What the kernel sent (read from the TUN device).
    pub fn from_kernel(&self) -> Vec<(Instant, SegInfo)> {
        self.packets(Dir::KernelToEngine, Fate::Sent)
    }

    /// What reached the kernel (written to the TUN device).
    pub fn to_kernel(&self) -> Vec<(Instant, SegInfo)> {
        self.packets(Dir::EngineToKernel, Fate::Delivered)
    }

    /// Notes the state of both sides, for a failure report.
    pub fn describe(&self) -> String {
        format!(
            "engine {:?} (states {:?}, events other than Readable/Writable {:?}); kernel {:?}\n{}",
            self.engine.state(),
            self.engine.states(),
            {
                // Readable/Writable come by the thousand in a transfer: keep the rest.
                let mut ev = self.engine.events();
                ev.retain(|e| !matches!(e, Event::Readable | Event::Writable));
                ev
            },
            self.kernel_states
                .iter()
                .map(|(_, s)| *s)
                .collect::<Vec<_>>(),
            kernel::ss_tan()
        )
    }

    /// Fails with `msg` and the state of both sides unless `cond` holds.
    pub fn ensure(&self, cond: bool, msg: impl FnOnce() -> String) -> Result<(), Failure> {
        if cond {
            Ok(())
        } else {
            Err(Failure::Check(format!("{}\n  {}", msg(), self.describe())))
        }
    }

    /// Flushes the pcap and has tshark judge it.
    pub fn judge(&mut self, ctx: &TestCtx, expected_flags: &[&str]) -> Result<Outcome, Failure> {
        self.pump
            .finish_capture()
            .map_err(Failure::io("finishing the pcap"))?;
        let stuck = self.engine.stuck_timers();
        Failure::ensure(stuck.is_empty(), || {
            format!(
                "engine timers stayed due after on_timeout ({} times), first: {}",
                stuck.len(),
                stuck.first().cloned().unwrap_or_default()
            )
        })?;
        let unparsable = self.engine.unparsable();
        Failure::ensure(unparsable.is_empty(), || {
            format!("packets the engine adapter could not use: {unparsable:?}")
        })?;
        Failure::ensure(self.pump.non_ipv4() == 0, || {
            format!(
                "the kernel sent {} non-IPv4 packets into the link",
                self.pump.non_ipv4()
            )
        })?;
        judge_pcap(ctx, &self.pump, expected_flags)
    }
}

/// Non-blocking write of `data[*sent..]` into the kernel socket.
fn kernel_write(k: &mut TcpStream, data: &[u8], sent: &mut usize) -> io::Result<()> {
    while *sent < data.len() {
        match k.write(&data[*sent..]) {
            Ok(0) => return Err(io::Error::new(io::ErrorKind::WriteZero, "kernel wrote 0")),
            Ok(n) => *sent += n,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Non-blocking read of everything the kernel socket has; true at end of stream.
fn kernel_read(k: &mut TcpStream, into: &mut Vec<u8>) -> io::Result<bool> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match k.read(&mut buf) {
            Ok(0) => return Ok(true),
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
}

/// Queues as much of `data[*sent..]` as the engine's send buffer takes.
fn engine_write(c: &mut Connection, data: &[u8], sent: &mut usize) -> Result<(), EngineError> {
    while *sent < data.len() {
        match c.send(&data[*sent..]) {
            Ok(0) | Err(EngineError::InsufficientResources) => break,
            Ok(n) => *sent += n,
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// Reads everything the engine has; true once the peer's FIN has been read past.
fn engine_read(c: &mut Connection, into: &mut Vec<u8>) -> Result<bool, EngineError> {
    let mut buf = [0u8; 16 * 1024];
    loop {
        match c.recv(&mut buf) {
            Ok(0) => return Ok(false),
            Ok(n) => into.extend_from_slice(&buf[..n]),
            Err(EngineError::ConnectionClosing) => return Ok(true),
            Err(e) => return Err(e),
        }
    }
}

/// The TCP analysis flags a transfer may raise on a clean link: flow control
/// at work, nothing lost.
pub const FLOW_CONTROL_FLAGS: &[&str] = &[
    "tcp.analysis.window_update",
    "tcp.analysis.window_full",
    "tcp.analysis.zero_window",
    "tcp.analysis.zero_window_probe",
    "tcp.analysis.zero_window_probe_ack",
];

/// The flags loss, duplication and reordering raise, on top of flow control.
pub const IMPAIRED_FLAGS: &[&str] = &[
    "tcp.analysis.retransmission",
    "tcp.analysis.fast_retransmission",
    "tcp.analysis.spurious_retransmission",
    "tcp.analysis.duplicate_ack",
    "tcp.analysis.out_of_order",
    "tcp.analysis.lost_segment",
    "tcp.analysis.ack_lost_segment",
    "tcp.options.sack.dsack",
];

fn flags_with(base: &[&'static str], extra: &[&'static str]) -> Vec<&'static str> {
    base.iter().chain(extra).copied().collect()
}

// ---------------------------------------------------------------------------
// Scenarios
// ---------------------------------------------------------------------------

/// Three-way handshake and option negotiation: both sides must agree on MSS,
/// window scale, SACK-permitted and timestamps, as the kernel's TCP_INFO, the
/// engine's status and the SYNs on the wire all say.
pub fn handshake(ctx: &TestCtx, role: Role) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let cfg = base_config();
        let mut s = Session::establish(ctx, ns, role, &cfg, &PumpConfig::clean(ctx.seed))?;
        let status = s.engine.conn.status();
        let info = kernel::negotiated(&s.kernel).map_err(Failure::io("TCP_INFO"))?;
        ctx.say(format!("{}: engine status {status:?}", role.name()));
        ctx.say(format!("kernel TCP_INFO: {info:?}"));
        let syns: Vec<SegInfo> = s
            .from_kernel()
            .into_iter()
            .chain(s.to_kernel())
            .map(|(_, p)| p)
            .filter(|p| p.has(Flags::SYN))
            .collect();
        let engine_syn = syns.iter().find(|p| p.src == s.engine_addr);
        let kernel_syn = syns.iter().find(|p| p.src == s.kernel_addr);
        let (Some(esyn), Some(ksyn)) = (engine_syn, kernel_syn) else {
            return Err(Failure::check(format!(
                "missing a SYN on the wire: {syns:?}"
            )));
        };
        ctx.say(format!("engine SYN: {esyn}  options {:?}", esyn.options));
        ctx.say(format!("kernel SYN: {ksyn}  options {:?}", ksyn.options));
        let expected_states: &[State] = match role {
            Role::EngineClient => &[State::SynSent, State::Established],
            Role::EngineServer => &[State::Listen, State::SynReceived, State::Established],
        };
        s.ensure(s.engine.states() == expected_states, || {
            format!(
                "engine went through {:?}, expected {expected_states:?}",
                s.engine.states()
            )
        })?;
        s.ensure(s.engine.events().contains(&Event::Connected), || {
            "no Connected event".into()
        })?;
        // Flags: a SYN from the client, SYN,ACK from the server.
        let (client_syn, server_syn) = match role {
            Role::EngineClient => (esyn, ksyn),
            Role::EngineServer => (ksyn, esyn),
        };
        s.ensure(client_syn.flags == Flags::SYN, || {
            format!("client SYN has flags {}", client_syn.flags)
        })?;
        s.ensure(server_syn.flags == Flags::SYN | Flags::ACK, || {
            format!("server SYN,ACK has flags {}", server_syn.flags)
        })?;
        s.ensure(server_syn.ack == client_syn.seq.wrapping_add(1), || {
            "SYN,ACK does not acknowledge the SYN".into()
        })?;
        // The engine offered every option, with its configured values.
        let eo = esyn.options;
        s.ensure(eo.mss == Some(cfg.mss), || {
            format!("engine MSS option {:?}, configured {}", eo.mss, cfg.mss)
        })?;
        s.ensure(eo.window_scale == Some(cfg.rcv_wscale()), || {
            format!(
                "engine window scale {:?}, configured {}",
                eo.window_scale,
                cfg.rcv_wscale()
            )
        })?;
        s.ensure(eo.sack_permitted, || {
            "engine did not send SACK-permitted".into()
        })?;
        s.ensure(eo.timestamps.is_some(), || {
            "engine did not send timestamps".into()
        })?;
        if role == Role::EngineServer {
            // RFC 7323 §3.2: TSecr of the SYN,ACK echoes the SYN's TSval.
            let echoed = eo.timestamps.map(|t| t.1);
            let sent = ksyn.options.timestamps.map(|t| t.0);
            s.ensure(echoed == sent, || {
                format!("engine SYN,ACK TSecr {echoed:?}, kernel TSval {sent:?}")
            })?;
        }
        let ko = ksyn.options;
        // The kernel agrees: what it uses is what the engine offered...
        s.ensure(info.timestamps && info.sack && info.window_scaling, || {
            format!("kernel did not enable every option: {info:?}")
        })?;
        s.ensure(Some(info.snd_wscale) == eo.window_scale, || {
            format!(
                "kernel scales our window by {}, we offered {:?}",
                info.snd_wscale, eo.window_scale
            )
        })?;
        s.ensure(Some(info.rcv_wscale) == ko.window_scale, || {
            "kernel rcv_wscale differs from its SYN".into()
        })?;
        // ... and sends segments of our MSS less the 12 bytes of timestamp option.
        s.ensure(info.snd_mss == u32::from(cfg.mss) - 12, || {
            format!("kernel snd_mss {}, expected {}", info.snd_mss, cfg.mss - 12)
        })?;
        // The engine agrees with what the kernel offered.
        s.ensure(status.timestamps && status.sack_permitted, || {
            "engine did not enable timestamps and SACK".into()
        })?;
        s.ensure(Some(status.snd_wscale) == ko.window_scale, || {
            format!(
                "engine snd_wscale {}, kernel offered {:?}",
                status.snd_wscale, ko.window_scale
            )
        })?;
        s.ensure(status.rcv_wscale == cfg.rcv_wscale(), || {
            "engine rcv_wscale is not what it offered".into()
        })?;
        let kmss = ko.mss.unwrap_or(536);
        s.ensure(
            status.snd_mss <= kmss && status.snd_mss + 12 >= kmss,
            || {
                format!(
                    "engine snd_mss {} for a kernel MSS of {kmss}",
                    status.snd_mss
                )
            },
        )?;
        s.ensure(s.kernel_state()? == Some(KernelState::Established), || {
            "kernel not ESTABLISHED".into()
        })?;
        close_engine_first(ctx, &mut s)?;
        s.judge(ctx, &[])
    })
}

/// An orderly close with the engine first; both sides must end cleanly.
fn close_engine_first(ctx: &TestCtx, s: &mut Session) -> Result<(), Failure> {
    s.engine_call(|c, now| c.close(now))
        .map_err(|e| Failure::check(format!("engine close: {e}")))?;
    let mut sink = Vec::new();
    let mut kernel_eof = false;
    s.run_until(
        "the kernel to read the engine's FIN",
        Duration::from_secs(10),
        |_, k| {
            if !kernel_eof {
                kernel_eof = kernel_read(k, &mut sink).unwrap_or(true);
            }
            kernel_eof
        },
    )?;
    s.kernel
        .shutdown(Shutdown::Both)
        .map_err(Failure::io("kernel shutdown"))?;
    s.run_until(
        "the engine to reach TIME-WAIT",
        Duration::from_secs(10),
        |e, _| matches!(e.state(), State::TimeWait | State::Closed),
    )?;
    s.ensure(s.engine.state() == State::TimeWait, || {
        "engine did not enter TIME-WAIT".into()
    })?;
    ctx.say(format!(
        "closed: engine {:?}, kernel {:?}",
        s.engine.state(),
        s.kernel_state()?
    ));
    Ok(())
}

/// What a transfer measured.
#[derive(Clone, Debug)]
pub struct TransferSummary {
    pub bytes: usize,
    pub took: Duration,
    /// Digest of what the engine sent and of what the kernel received (equal).
    pub engine_to_kernel_digest: u64,
    /// Digest of what the kernel sent and of what the engine received (equal).
    pub kernel_to_engine_digest: u64,
    pub engine_retransmissions: u64,
    pub kernel_retransmissions: u32,
}

/// Establishes a session in `role` and moves `bytes` each way at once,
/// verified by digest and byte for byte; then an orderly close with the engine
/// first. The session is returned for more checks and the judge.
pub fn transfer_session(
    ctx: &TestCtx,
    ns: Namespace,
    role: Role,
    bytes: usize,
    impairment: Impairment,
) -> Result<(Session, TransferSummary), Failure> {
    let cfg = base_config();
    let lossy = !impairment.is_none();
    let pump_cfg = PumpConfig::impaired(ctx.seed, impairment);
    let mut s = Session::establish(ctx, ns, role, &cfg, &pump_cfg)?;
    let to_kernel = pattern(ctx.seed, bytes);
    let to_engine = pattern(ctx.seed ^ 0xFFFF, bytes);
    let (mut e_sent, mut k_sent) = (0usize, 0usize);
    let (mut e_got, mut k_got) = (Vec::with_capacity(bytes), Vec::with_capacity(bytes));
    let mut failure: Option<String> = None;
    // Generous: at 5% loss a 1 MiB run takes 10-40 s here, most of it in
    // retransmission timeouts (1 s minimum RTO, RFC 6298).
    let limit = Duration::from_secs(if lossy {
        20 + (bytes as u64 >> 20) * 100
    } else {
        30 + (bytes as u64 >> 20) * 5
    });
    let took = s.run_until("both directions to deliver every byte", limit, |e, k| {
        let r = (|| -> Result<(), String> {
            engine_write(&mut e.conn, &to_kernel, &mut e_sent)
                .map_err(|x| format!("engine send: {x}"))?;
            engine_read(&mut e.conn, &mut e_got).map_err(|x| format!("engine recv: {x}"))?;
            kernel_write(k, &to_engine, &mut k_sent).map_err(|x| format!("kernel write: {x}"))?;
            kernel_read(k, &mut k_got).map_err(|x| format!("kernel read: {x}"))?;
            Ok(())
        })();
        if let Err(m) = r {
            failure = Some(m);
        }
        failure.is_some() || (e_got.len() >= bytes && k_got.len() >= bytes)
    });
    let took = match took {
        Ok(t) => t,
        Err(e) => {
            return Err(Failure::check(format!(
                "{e}: engine got {} of {bytes}, kernel got {} of {bytes}; {}",
                e_got.len(),
                k_got.len(),
                s.describe()
            )))
        }
    };
    if let Some(m) = failure {
        return Err(Failure::check(format!("{m}\n  {}", s.describe())));
    }
    let (dk, dk_sent) = (digest(&k_got), digest(&to_kernel));
    let (de, de_sent) = (digest(&e_got), digest(&to_engine));
    ctx.say(format!(
        "{}: {bytes} B each way in {:.2}s; engine->kernel digest {dk:016x} (sent {dk_sent:016x}), kernel->engine {de:016x} (sent {de_sent:016x})",
        role.name(),
        took.as_secs_f64()
    ));
    s.ensure(k_got.len() == bytes && k_got == to_kernel, || {
        format!("kernel received {} bytes that differ from what the engine sent (first difference at {:?})",
            k_got.len(), k_got.iter().zip(&to_kernel).position(|(a, b)| a != b))
    })?;
    s.ensure(e_got.len() == bytes && e_got == to_engine, || {
        format!("engine received {} bytes that differ from what the kernel sent (first difference at {:?})",
            e_got.len(), e_got.iter().zip(&to_engine).position(|(a, b)| a != b))
    })?;
    let (le, lk) = s.pump.link_stats();
    let engine_retransmissions = s.engine.conn.stats().retransmissions;
    let kernel_retransmissions = kernel::negotiated(&s.kernel)
        .map(|n| n.retransmits_total)
        .unwrap_or(0);
    ctx.say(format!(
        "link to engine {le:?}; link to kernel {lk:?}; engine retransmissions {engine_retransmissions}, kernel retransmissions {kernel_retransmissions}"
    ));
    close_engine_first(ctx, &mut s)?;
    let summary = TransferSummary {
        bytes,
        took,
        engine_to_kernel_digest: dk,
        kernel_to_engine_digest: de,
        engine_retransmissions,
        kernel_retransmissions,
    };
    Ok((s, summary))
}

/// The analysis flags a transfer over `impairment` may raise.
pub fn transfer_flags(impairment: &Impairment) -> Vec<&'static str> {
    if impairment.is_none() {
        FLOW_CONTROL_FLAGS.to_vec()
    } else {
        flags_with(FLOW_CONTROL_FLAGS, IMPAIRED_FLAGS)
    }
}

/// 1 MiB (or `bytes`) each way at once, verified by digest and byte for byte,
/// then an orderly close. `impairment` applies to both directions.
pub fn transfer(
    ctx: &TestCtx,
    role: Role,
    bytes: usize,
    impairment: Impairment,
) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let expected = transfer_flags(&impairment);
        let (mut s, _) = transfer_session(ctx, ns, role, bytes, impairment)?;
        s.judge(ctx, &expected)
    })
}

/// Which side starts the close.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Closer {
    Engine,
    Kernel,
    /// Both at once: each FIN leaves before the other arrives.
    Both,
}

/// Close initiated by the engine, the kernel, or both at once; the side that
/// closed first (both, when simultaneous) must end in TIME-WAIT.
pub fn close(ctx: &TestCtx, role: Role, closer: Closer) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let cfg = base_config();
        let mut s = Session::establish(ctx, ns, role, &cfg, &PumpConfig::clean(ctx.seed))?;
        let (ea, ka) = (s.engine_addr, s.kernel_addr);
        match closer {
            Closer::Engine => {
                s.engine_call(|c, now| c.close(now))
                    .map_err(|e| Failure::check(format!("engine close: {e}")))?;
                let mut sink = Vec::new();
                let mut eof = false;
                s.run_until(
                    "the kernel to see the FIN and the engine its ACK",
                    Duration::from_secs(5),
                    |e, k| {
                        eof = eof || kernel_read(k, &mut sink).unwrap_or(false);
                        eof && e.state() == State::FinWait2
                    },
                )?;
                s.ensure(s.engine.state() == State::FinWait2, || {
                    "engine not in FIN-WAIT-2 after its FIN was acked".into()
                })?;
                s.ensure(s.kernel_state()? == Some(KernelState::CloseWait), || {
                    "kernel not in CLOSE-WAIT".into()
                })?;
                s.kernel
                    .shutdown(Shutdown::Both)
                    .map_err(Failure::io("kernel shutdown"))?;
                s.run_until(
                    "the engine's TIME-WAIT and the kernel's socket to go",
                    Duration::from_secs(5),
                    |e, _| {
                        e.state() == State::TimeWait
                            && kernel::state_of(ka, ea).ok().flatten().is_none()
                    },
                )?;
                s.ensure(
                    s.engine.states().ends_with(&[
                        State::FinWait1,
                        State::FinWait2,
                        State::TimeWait,
                    ]),
                    || "engine did not go FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT".into(),
                )?;
            }
            Closer::Kernel => {
                s.kernel
                    .shutdown(Shutdown::Write)
                    .map_err(Failure::io("kernel shutdown"))?;
                s.run_until(
                    "the engine to see the FIN",
                    Duration::from_secs(5),
                    |e, _| e.state() == State::CloseWait,
                )?;
                s.ensure(s.engine.events().contains(&Event::PeerClosed), || {
                    "no PeerClosed event".into()
                })?;
                let mut sink = Vec::new();
                let eof = s.engine_call(|c, _| engine_read(c, &mut sink));
                s.ensure(matches!(eof, Ok(true)) && sink.is_empty(), || {
                    format!("engine recv after FIN: {eof:?}")
                })?;
                s.run_until(
                    "the kernel to reach FIN-WAIT-2",
                    Duration::from_secs(5),
                    |_, _| kernel::state_of(ka, ea).ok().flatten() == Some(KernelState::FinWait2),
                )?;
                s.engine_call(|c, now| c.close(now))
                    .map_err(|e| Failure::check(format!("engine close: {e}")))?;
                s.run_until(
                    "the engine to close and the kernel to enter TIME-WAIT",
                    Duration::from_secs(5),
                    |e, _| {
                        e.state() == State::Closed
                            && kernel::state_of(ka, ea).ok().flatten()
                                == Some(KernelState::TimeWait)
                    },
                )?;
                s.ensure(
                    s.engine
                        .states()
                        .ends_with(&[State::CloseWait, State::LastAck, State::Closed]),
                    || "engine did not go CLOSE-WAIT, LAST-ACK, CLOSED".into(),
                )?;
                s.ensure(s.engine.conn.ended() == Some(Ended::Graceful), || {
                    format!("engine ended {:?}", s.engine.conn.ended())
                })?;
            }
            Closer::Both => {
                // Hold both directions so each FIN leaves before the other lands.
                s.pump.hold(Dir::EngineToKernel);
                s.pump.hold(Dir::KernelToEngine);
                s.engine_call(|c, now| c.close(now))
                    .map_err(|e| Failure::check(format!("engine close: {e}")))?;
                s.kernel
                    .shutdown(Shutdown::Write)
                    .map_err(Failure::io("kernel shutdown"))?;
                s.run_until(
                    "both sides to send their FIN",
                    Duration::from_secs(5),
                    |e, _| {
                        e.state() == State::FinWait1
                            && kernel::state_of(ka, ea).ok().flatten()
                                == Some(KernelState::FinWait1)
                    },
                )?;
                // One pump step polled the engine's FIN and read the kernel's
                // from the TUN device: both are now held, neither delivered.
                let held_fin = |s: &Session, from: SocketAddrV4| {
                    s.pump.log().iter().any(|e| {
                        e.fate == Fate::Sent
                            && SegInfo::parse(&e.packet)
                                .is_ok_and(|p| p.src == from && p.has(Flags::FIN))
                    })
                };
                s.ensure(
                    held_fin(&s, ea)
                        && held_fin(&s, ka)
                        && s.pump.held(Dir::EngineToKernel) > 0
                        && s.pump.held(Dir::KernelToEngine) > 0,
                    || "both FINs were not sent and held".into(),
                )?;
                s.ensure(s.engine.state() == State::FinWait1, || {
                    "engine not in FIN-WAIT-1".into()
                })?;
                s.ensure(s.kernel_state()? == Some(KernelState::FinWait1), || {
                    "kernel not in FIN-WAIT-1".into()
                })?;
                // Let the engine's FIN land first: the kernel, in FIN-WAIT-1, gets
                // a FIN and goes to CLOSING (its ACK stays held).
                s.pump.release(Dir::EngineToKernel);
                s.run_until(
                    "the kernel to enter CLOSING",
                    Duration::from_secs(5),
                    |_, _| kernel::state_of(ka, ea).ok().flatten() == Some(KernelState::Closing),
                )?;
                s.ensure(s.engine.state() == State::FinWait1, || {
                    "engine left FIN-WAIT-1 with nothing delivered".into()
                })?;
                // Then the kernel's FIN and ACK reach the engine.
                s.pump.release(Dir::KernelToEngine);
                s.run_until(
                    "both sides to reach TIME-WAIT",
                    Duration::from_secs(5),
                    |e, _| {
                        e.state() == State::TimeWait
                            && kernel::state_of(ka, ea).ok().flatten()
                                == Some(KernelState::TimeWait)
                    },
                )?;
                s.ensure(
                    s.engine.states().ends_with(&[
                        State::FinWait1,
                        State::Closing,
                        State::TimeWait,
                    ]),
                    || "engine did not go FIN-WAIT-1, CLOSING, TIME-WAIT".into(),
                )?;
                let kernel_path: Vec<_> = s.kernel_states.iter().filter_map(|(_, k)| *k).collect();
                s.ensure(
                    kernel_path.ends_with(&[
                        KernelState::FinWait1,
                        KernelState::Closing,
                        KernelState::TimeWait,
                    ]),
                    || format!("kernel went {kernel_path:?}, not FIN-WAIT-1, CLOSING, TIME-WAIT"),
                )?;
            }
        }
        if s.engine.state() == State::TimeWait {
            // TIME-WAIT lasts 2 x MSL, then the engine is closed and says how.
            let entered = s
                .engine
                .notes
                .iter()
                .rev()
                .find(|(_, n)| *n == super::engine::EngineNote::State(State::TimeWait))
                .map(|(t, _)| *t);
            s.run_until(
                "TIME-WAIT to end",
                cfg.time_wait_duration() + Duration::from_secs(2),
                |e, _| e.state() == State::Closed,
            )?;
            let left = s.engine.notes.last().map(|(t, _)| *t);
            if let (Some(a), Some(b)) = (entered, left) {
                let lasted = b - a;
                s.ensure(lasted >= cfg.time_wait_duration(), || {
                    format!(
                        "TIME-WAIT lasted {lasted:?}, less than 2 x MSL = {:?}",
                        cfg.time_wait_duration()
                    )
                })?;
                ctx.say(format!(
                    "engine TIME-WAIT lasted {lasted:?} (2 x MSL = {:?})",
                    cfg.time_wait_duration()
                ));
            }
            s.ensure(s.engine.conn.ended() == Some(Ended::Graceful), || {
                format!("engine ended {:?}", s.engine.conn.ended())
            })?;
        }
        ctx.say(format!(
            "{}: engine states {:?}",
            role.name(),
            s.engine.states()
        ));
        ctx.say(format!(
            "kernel states {:?}",
            s.kernel_states.iter().map(|(_, k)| *k).collect::<Vec<_>>()
        ));
        s.judge(ctx, &[])
    })
}

/// Which side aborts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Aborter {
    Engine,
    Kernel,
}

/// ABORT from either side: the other must drop the connection on the RST.
/// Then a segment for the dead connection reaches the kernel, which must
/// answer with a RST (RFC 9293 §3.5.2, §3.10.7.1).
pub fn abort(ctx: &TestCtx, role: Role, aborter: Aborter) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let cfg = base_config();
        let mut s = Session::establish(ctx, ns, role, &cfg, &PumpConfig::clean(ctx.seed))?;
        let (ea, ka) = (s.engine_addr, s.kernel_addr);
        // Some data first, so that the connection has moved on from the handshake.
        s.engine_call(|c, _| c.send(b"before the abort"))
            .map_err(|e| Failure::check(format!("engine send: {e}")))?;
        let mut got = Vec::new();
        s.run_until(
            "the kernel to read the data",
            Duration::from_secs(5),
            |_, k| {
                let _ = kernel_read(k, &mut got);
                got.len() >= 16
            },
        )?;
        let status = s.engine.conn.status();
        let (snd_nxt, rcv_nxt) = (status.snd_nxt.0, status.rcv_nxt.0);
        match aborter {
            Aborter::Engine => {
                s.engine_call(|c, now| c.abort(now))
                    .map_err(|e| Failure::check(format!("engine abort: {e}")))?;
                s.ensure(s.engine.state() == State::Closed, || {
                    "engine not CLOSED after ABORT".into()
                })?;
                let mut kernel_error = None;
                s.run_until(
                    "the kernel to see the RST",
                    Duration::from_secs(5),
                    |_, k| {
                        let mut sink = Vec::new();
                        if let Err(e) = kernel_read(k, &mut sink) {
                            kernel_error = Some(e.kind());
                        }
                        kernel_error.is_some()
                    },
                )?;
                s.ensure(kernel_error == Some(io::ErrorKind::ConnectionReset), || {
                    format!("kernel read gave {kernel_error:?}, expected ConnectionReset")
                })?;
                let rst = s.to_kernel().into_iter().find(|(_, p)| p.has(Flags::RST));
                s.ensure(rst.as_ref().is_some_and(|(_, p)| p.seq == snd_nxt), || {
                    format!("the engine's RST {rst:?} does not carry SND.NXT {snd_nxt}")
                })?;
                s.ensure(
                    s.engine.conn.ended() == Some(Ended::Reset(ResetReason::Aborted)),
                    || format!("engine ended {:?}", s.engine.conn.ended()),
                )?;
            }
            Aborter::Kernel => {
                super::sys::set_linger_zero(&s.kernel).map_err(Failure::io("SO_LINGER"))?;
                // Closing with a zero linger is the kernel's ABORT: a RST, no FIN.
                let old = s.park_kernel_socket()?;
                drop(old);
                s.run_until(
                    "the engine to see the RST",
                    Duration::from_secs(5),
                    |e, _| e.state() == State::Closed,
                )?;
                s.ensure(
                    s.engine
                        .events()
                        .contains(&Event::Reset(ResetReason::ByPeer)),
                    || "no Reset(ByPeer) event".into(),
                )?;
                s.ensure(
                    s.engine.conn.ended() == Some(Ended::Reset(ResetReason::ByPeer)),
                    || format!("engine ended {:?}", s.engine.conn.ended()),
                )?;
                let r = s.engine_call(|c, _| c.recv(&mut [0u8; 16]));
                s.ensure(matches!(r, Err(EngineError::ConnectionReset)), || {
                    format!("engine recv after the RST gave {r:?}, expected ConnectionReset")
                })?;
                let r = s.engine_call(|c, _| c.send(b"x"));
                s.ensure(r.is_err(), || {
                    format!("engine send after the RST gave {r:?}")
                })?;
            }
        }
        // The kernel has no connection now...
        s.run_until(
            "the kernel to drop the connection",
            Duration::from_secs(5),
            |_, _| kernel::state_of(ka, ea).ok().flatten().is_none(),
        )?;
        // ...so a segment for it is answered with a RST whose seq is the
        // segment's ACK (the segment has ACK set).
        let before = s.from_kernel().len();
        let stray = packet::bare(
            ea,
            ka,
            Flags::ACK | Flags::PSH,
            snd_nxt,
            rcv_nxt,
            b"anyone there?",
        )?;
        s.pump
            .inject_to_kernel(&stray)
            .map_err(Failure::io("injecting the stray segment"))?;
        let seen = s.engine.packets_in;
        s.run_until(
            "the kernel's RST for the stray segment",
            Duration::from_secs(3),
            |e, _| e.packets_in > seen,
        )?;
        s.run_for(Duration::from_millis(100))?;
        let answers: Vec<SegInfo> = s
            .from_kernel()
            .into_iter()
            .skip(before)
            .map(|(_, p)| p)
            .collect();
        ctx.say(format!(
            "kernel answered the stray segment with {answers:?}"
        ));
        s.ensure(
            answers.len() == 1 && answers[0].flags == Flags::RST && answers[0].seq == rcv_nxt,
            || format!("expected one RST seq={rcv_nxt}, got {answers:?}"),
        )?;
        s.judge(ctx, &[])
    })
}

/// The engine's FIN-WAIT-2 seen from the kernel: the engine closes, the kernel
/// acknowledges but keeps its half open (CLOSE-WAIT) and still sends data,
/// which the engine must take (half-close, RFC 9293 §3.6). The engine's
/// FIN-WAIT-2 timeout then ends the connection; the kernel's late FIN finds
/// nothing and is answered with a RST, which takes the kernel's socket away.
pub fn fin_wait_2(ctx: &TestCtx, role: Role) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let cfg = base_config();
        let timeout = cfg
            .fin_wait_2_timeout
            .ok_or_else(|| Failure::check("base config has no FIN-WAIT-2 timeout"))?;
        let mut s = Session::establish(ctx, ns, role, &cfg, &PumpConfig::clean(ctx.seed))?;
        let (ea, ka) = (s.engine_addr, s.kernel_addr);
        s.engine_call(|c, now| c.close(now))
            .map_err(|e| Failure::check(format!("engine close: {e}")))?;
        let mut sink = Vec::new();
        s.run_until(
            "the kernel to read the FIN",
            Duration::from_secs(5),
            |e, k| kernel_read(k, &mut sink).unwrap_or(false) && e.state() == State::FinWait2,
        )?;
        s.ensure(s.kernel_state()? == Some(KernelState::CloseWait), || {
            "kernel not in CLOSE-WAIT".into()
        })?;
        // Half-close: the kernel may still send, and the engine must still take it.
        let message = pattern(ctx.seed, 3000);
        let mut sent = 0;
        let mut got = Vec::new();
        s.run_until(
            "the engine to receive data in FIN-WAIT-2",
            Duration::from_secs(5),
            |e, k| {
                let _ = kernel_write(k, &message, &mut sent);
                let _ = engine_read(&mut e.conn, &mut got);
                got.len() >= message.len()
            },
        )?;
        s.ensure(got == message, || {
            "data received in FIN-WAIT-2 differs from what the kernel sent".into()
        })?;
        s.ensure(s.engine.state() == State::FinWait2, || {
            "engine left FIN-WAIT-2 while receiving".into()
        })?;
        // Now the kernel says nothing, and the engine's timer runs out.
        s.run_until(
            "the engine's FIN-WAIT-2 timeout",
            timeout + Duration::from_secs(3),
            |e, _| e.state() == State::Closed,
        )?;
        let (Some(entered), Some(left)) = (
            s.engine.entered(State::FinWait2),
            s.engine.entered(State::Closed),
        ) else {
            return Err(Failure::check(format!(
                "engine states {:?}",
                s.engine.states()
            )));
        };
        let lasted = left - entered;
        ctx.say(format!(
            "FIN-WAIT-2 lasted {lasted:?} (timeout {timeout:?})"
        ));
        s.ensure(lasted >= timeout, || {
            format!("FIN-WAIT-2 ended after {lasted:?}, before {timeout:?}")
        })?;
        s.ensure(
            s.engine.conn.ended() == Some(Ended::TimedOut(TimeoutKind::FinWait2)),
            || format!("engine ended {:?}", s.engine.conn.ended()),
        )?;
        s.ensure(s.kernel_state()? == Some(KernelState::CloseWait), || {
            "kernel left CLOSE-WAIT on its own".into()
        })?;
        // The kernel closes late: its FIN meets a closed engine, which resets it.
        let old = s.park_kernel_socket()?;
        drop(old);
        s.run_until(
            "the kernel's socket to be reset away",
            Duration::from_secs(5),
            |_, _| kernel::state_of(ka, ea).ok().flatten().is_none(),
        )?;
        let rst = s
            .to_kernel()
            .into_iter()
            .rev()
            .find(|(_, p)| p.has(Flags::RST));
        s.ensure(rst.is_some(), || {
            "the engine sent no RST for the late FIN".into()
        })?;
        ctx.say(format!(
            "engine answered the late FIN with {:?}",
            rst.map(|(_, p)| p)
        ));
        s.judge(ctx, &[])
    })
}

/// Keep-alive seen from the kernel: with keep-alives on, an idle engine sends
/// probes (one byte below SND.NXT) that the kernel acknowledges, and the
/// connection stays up; when the kernel's answers stop coming, the engine
/// gives up after its probe count (MUST-24..29).
pub fn keepalive(ctx: &TestCtx, role: Role) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let ka_cfg = KeepAlive {
            idle: Duration::from_millis(800),
            interval: Duration::from_millis(400),
            probes: 3,
        };
        let cfg = Config {
            keepalive: Some(ka_cfg),
            ..base_config()
        };
        let mut s = Session::establish(ctx, ns, role, &cfg, &PumpConfig::clean(ctx.seed))?;
        let (ea, ka) = (s.engine_addr, s.kernel_addr);
        s.run_for(Duration::from_millis(2600))?;
        let snd_nxt = s.engine.conn.status().snd_nxt.0;
        let probes: Vec<(Instant, SegInfo)> = s
            .to_kernel()
            .into_iter()
            .filter(|(_, p)| {
                p.src == ea && p.flags == Flags::ACK && p.seq == snd_nxt.wrapping_sub(1)
            })
            .collect();
        ctx.say(format!(
            "{} keep-alive probes reached the kernel",
            probes.len()
        ));
        // 2.6 s idle with 0.8 s idle time: the first probe at 0.8 s, then one
        // per idle period as each is answered.
        s.ensure(probes.len() >= 2, || {
            format!("only {} keep-alive probes in 2.6 s", probes.len())
        })?;
        let answered = probes.iter().all(|(at, _)| {
            s.from_kernel()
                .iter()
                .any(|(t, p)| t >= at && p.src == ka && p.flags == Flags::ACK && p.ack == snd_nxt)
        });
        s.ensure(answered, || {
            "the kernel did not acknowledge every probe".into()
        })?;
        s.ensure(s.engine.state() == State::Established, || {
            "probing broke the connection".into()
        })?;
        s.ensure(s.kernel_state()? == Some(KernelState::Established), || {
            "kernel not ESTABLISHED".into()
        })?;
        s.ensure(s.engine.conn.stats().keepalives_sent >= 2, || {
            "engine counted fewer probes".into()
        })?;
        // Now the kernel's answers are lost: the engine must give up, but only
        // after several unanswered probes (MUST-29).
        s.pump
            .set_filter(Some(Box::new(|dir, _| dir != Dir::KernelToEngine)));
        let before = s.to_kernel().len();
        let limit = ka_cfg.idle + ka_cfg.interval * (ka_cfg.probes + 2);
        s.run_until("the engine's keep-alive timeout", limit, |e, _| {
            e.state() == State::Closed
        })?;
        let unanswered = s.to_kernel().len() - before;
        ctx.say(format!(
            "{unanswered} segments reached the kernel before the engine gave up"
        ));
        s.ensure(unanswered >= ka_cfg.probes as usize, || {
            format!(
                "the engine gave up after {unanswered} probes, configured {}",
                ka_cfg.probes
            )
        })?;
        s.ensure(
            s.engine.conn.ended() == Some(Ended::TimedOut(TimeoutKind::KeepAlive)),
            || format!("engine ended {:?}", s.engine.conn.ended()),
        )?;
        // The kernel's first answer may also grow its window (a window update).
        s.judge(
            ctx,
            &[
                "tcp.analysis.keep_alive",
                "tcp.analysis.keep_alive_ack",
                "tcp.analysis.window_update",
            ],
        )
    })
}

/// Retransmission seen from the kernel: the first transmission of the
/// engine's data is lost; the kernel must receive it again after a timeout.
/// Then the kernel's ACKs are lost: the kernel sees the engine retransmit with
/// exponential backoff (MUST-19; RFC 6298 §5.5) until R2, when it gives up.
pub fn retransmission(ctx: &TestCtx, role: Role) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let cfg = Config {
            r2: RetryLimit::Count(4),
            initial_rto: Duration::from_millis(300),
            min_rto: Duration::from_millis(300),
            ..base_config()
        };
        let mut s = Session::establish(ctx, ns, role, &cfg, &PumpConfig::clean(ctx.seed))?;
        let ea = s.engine_addr;
        // Lose the first data segment the engine sends, once.
        let mut dropped_one = false;
        s.pump.set_filter(Some(Box::new(move |dir, p| {
            if dir != Dir::EngineToKernel || dropped_one {
                return true;
            }
            let data = SegInfo::parse(p).is_ok_and(|s| s.len > 0);
            if data {
                dropped_one = true;
            }
            !data
        })));
        let message = pattern(ctx.seed, 1000);
        s.engine_call(|c, _| c.send(&message))
            .map_err(|e| Failure::check(format!("engine send: {e}")))?;
        let mut got = Vec::new();
        s.run_until(
            "the kernel to receive the retransmission",
            Duration::from_secs(5),
            |_, k| {
                let _ = kernel_read(k, &mut got);
                got.len() >= message.len()
            },
        )?;
        s.ensure(got == message, || "the kernel received other bytes".into())?;
        s.ensure(s.pump.filtered() == 1, || {
            format!("{} segments dropped, expected 1", s.pump.filtered())
        })?;
        s.ensure(s.engine.conn.stats().retransmissions >= 1, || {
            "engine counted no retransmission".into()
        })?;
        // Now every ACK from the kernel is lost.
        s.pump
            .set_filter(Some(Box::new(|dir, _| dir != Dir::KernelToEngine)));
        let mark = s.to_kernel().len();
        s.engine_call(|c, _| c.send(b"this will not be acknowledged"))
            .map_err(|e| Failure::check(format!("engine send: {e}")))?;
        s.run_until(
            "the engine to give up (R2)",
            Duration::from_secs(30),
            |e, _| e.state() == State::Closed,
        )?;
        let sends: Vec<(Instant, SegInfo)> = s
            .to_kernel()
            .into_iter()
            .skip(mark)
            .filter(|(_, p)| p.src == ea && p.len > 0)
            .collect();
        let gaps: Vec<Duration> = sends.windows(2).map(|w| w[1].0 - w[0].0).collect();
        ctx.say(format!(
            "the kernel saw {} transmissions of the unacknowledged data, gaps {gaps:?}",
            sends.len()
        ));
        // One first transmission plus R2 = 4 retransmissions.
        s.ensure(sends.len() == 5, || {
            format!("{} transmissions, expected 1 + 4", sends.len())
        })?;
        for w in gaps.windows(2) {
            let ratio = w[1].as_secs_f64() / w[0].as_secs_f64().max(1e-6);
            s.ensure((1.6..=2.5).contains(&ratio), || {
                format!("backoff ratio {ratio:.2} between {:?} and {:?}", w[0], w[1])
            })?;
        }
        s.ensure(
            s.engine.conn.ended() == Some(Ended::TimedOut(TimeoutKind::Retransmission)),
            || format!("engine ended {:?}", s.engine.conn.ended()),
        )?;
        // The kernel has the data already: each retransmission is spurious to
        // it, and it answers with a duplicate ACK carrying a D-SACK block.
        s.judge(
            ctx,
            &[
                "tcp.analysis.retransmission",
                "tcp.analysis.spurious_retransmission",
                "tcp.analysis.duplicate_ack",
                "tcp.options.sack.dsack",
            ],
        )
    })
}

/// SYN retransmission seen from the kernel: the engine's first SYN (as
/// client) or SYN,ACK (as server) is lost. As client the engine must send the
/// SYN again after its initial RTO (RFC 6298 §2.1; RFC 9293 §3.8.1); as server
/// the kernel repeats its SYN and the engine answers it (or the engine repeats
/// its SYN,ACK, whichever comes first). Either way the handshake completes and
/// the repeated segment offers the same options as the first (its TSval moves on).
pub fn syn_retransmission(ctx: &TestCtx, role: Role) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let cfg = base_config();
        let mut dropped = false;
        let filter: super::pump::Filter = Box::new(move |dir, p| {
            if dir != Dir::EngineToKernel || dropped {
                return true;
            }
            let syn = SegInfo::parse(p).is_ok_and(|s| s.has(Flags::SYN));
            if syn {
                dropped = true;
            }
            !syn
        });
        let s = Session::establish_with(
            ctx,
            ns,
            role,
            &cfg,
            &PumpConfig::clean(ctx.seed),
            Some(filter),
        )?;
        let engine_syns: Vec<(Instant, SegInfo)> = s
            .packets(Dir::EngineToKernel, Fate::Sent)
            .into_iter()
            .filter(|(_, p)| p.has(Flags::SYN))
            .collect();
        let kernel_syns: Vec<(Instant, SegInfo)> = s
            .from_kernel()
            .into_iter()
            .filter(|(_, p)| p.has(Flags::SYN))
            .collect();
        ctx.say(format!(
            "{}: engine SYNs at {:?}, kernel SYNs at {:?}",
            role.name(),
            engine_syns.iter().map(|(t, _)| *t).collect::<Vec<_>>(),
            kernel_syns.iter().map(|(t, _)| *t).collect::<Vec<_>>()
        ));
        s.ensure(s.pump.filtered() == 1, || {
            format!("{} segments dropped, expected 1", s.pump.filtered())
        })?;
        s.ensure(engine_syns.len() >= 2, || {
            format!("the engine sent {} SYNs", engine_syns.len())
        })?;
        let (first, second) = (&engine_syns[0], &engine_syns[1]);
        s.ensure(
            first.1.seq == second.1.seq
                && first.1.options.mss == second.1.options.mss
                && first.1.options.window_scale == second.1.options.window_scale
                && first.1.options.sack_permitted == second.1.options.sack_permitted
                && first.1.options.timestamps.is_some() == second.1.options.timestamps.is_some(),
            || format!("the repeated SYN differs: {} vs {}", first.1, second.1),
        )?;
        match role {
            Role::EngineClient => {
                let gap = second.0 - first.0;
                s.ensure(gap >= cfg.initial_rto, || {
                    format!(
                        "SYN repeated after {gap:?}, before the initial RTO {:?}",
                        cfg.initial_rto
                    )
                })?;
                s.ensure(gap < cfg.initial_rto * 2, || {
                    format!("SYN repeated only after {gap:?}")
                })?;
                s.ensure(kernel_syns.len() == 1, || {
                    "the kernel sent its SYN,ACK more than once".into()
                })?;
            }
            Role::EngineServer => {
                // The kernel's SYN was repeated, or the engine's SYN,ACK was.
                s.ensure(
                    kernel_syns.len() >= 2 || s.engine.conn.stats().retransmissions >= 1,
                    || "neither side repeated its part of the handshake".into(),
                )?;
            }
        }
        s.ensure(s.kernel_state()? == Some(KernelState::Established), || {
            "kernel not ESTABLISHED".into()
        })?;
        let mut s = s;
        close_engine_first(ctx, &mut s)?;
        // The kernel may see its own SYN twice (a retransmission) and our
        // repeated SYN,ACK answer it (a duplicate or a retransmission).
        s.judge(
            ctx,
            &[
                "tcp.analysis.retransmission",
                "tcp.analysis.duplicate_ack",
                "tcp.analysis.spurious_retransmission",
            ],
        )
    })
}
