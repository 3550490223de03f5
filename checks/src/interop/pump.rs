//! The packet pump: moves IPv4 packets between the TUN device (the kernel) and
//! a sans-IO endpoint (the engine) on real time, through the seeded impaired
//! links, recording the TUN traffic into a pcap. Every wait is bounded.

use std::io;
use std::path::Path;
use std::time::Duration;

use synack_tcp::Instant;

use super::capture::Capture;
use super::impair::{Impairment, Link, LinkStats};
use super::sys::Tun;

/// A sans-IO endpoint that takes and produces whole IP packets.
pub trait Endpoint {
    fn on_packet(&mut self, now: Instant, packet: &[u8]);
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;
    fn poll_timeout(&mut self) -> Option<Instant>;
    fn on_timeout(&mut self, now: Instant);
}

/// Which way a packet went.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dir {
    KernelToEngine = 0,
    EngineToKernel = 1,
}

/// What happened to a packet at one point of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Fate {
    /// It left its sender (read from the TUN, or polled from the engine).
    Sent,
    /// The harness's filter or the impaired link dropped it.
    Lost,
    /// The link queued a second copy of it.
    Duplicated,
    /// It reached its receiver (written to the TUN, or given to the engine).
    Delivered,
}

#[derive(Clone, Debug)]
pub struct LogEntry {
    pub at: Instant,
    pub dir: Dir,
    pub fate: Fate,
    pub packet: Vec<u8>,
    /// Made by the test, not by the engine ([`Pump::inject_to_kernel`]).
    pub injected: bool,
}

/// The pump's settings.
#[derive(Clone, Debug)]
pub struct PumpConfig {
    pub to_engine: Impairment,
    pub to_kernel: Impairment,
    pub seed: u64,
    /// Longest sleep between two looks at the world, so that a condition that
    /// depends on another thread (the kernel's socket calls) is seen promptly.
    pub tick: Duration,
}

impl PumpConfig {
    pub fn clean(seed: u64) -> Self {
        PumpConfig {
            to_engine: Impairment::NONE,
            to_kernel: Impairment::NONE,
            seed,
            tick: Duration::from_millis(2),
        }
    }

    pub fn impaired(seed: u64, impairment: Impairment) -> Self {
        PumpConfig {
            to_engine: impairment.clone(),
            to_kernel: impairment,
            ..PumpConfig::clean(seed)
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum PumpError {
    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { what: String, after: Duration },
    #[error("TUN I/O failed: {0}")]
    Io(#[from] io::Error),
}

/// A drop rule a test installs: return `false` to drop the packet. It runs
/// before the impaired link, on every packet of both directions.
pub type Filter = Box<dyn FnMut(Dir, &[u8]) -> bool + Send>;

pub struct Pump {
    tun: Tun,
    origin: std::time::Instant,
    to_engine: Link,
    to_kernel: Link,
    capture: Capture,
    log: Vec<LogEntry>,
    filter: Option<Filter>,
    filtered: u64,
    non_ipv4: u64,
    /// Directions whose packets are held back (queued in `held`) until released.
    hold: [bool; 2],
    held: [std::collections::VecDeque<Vec<u8>>; 2],
    tick: Duration,
    buf: Vec<u8>,
    out: Vec<u8>,
}

fn split_seed(seed: u64, lane: u64) -> u64 {
    // Each direction gets its own stream, so changing one direction's
    // impairment does not change the other's fate.
    super::impair::Rng::new(seed ^ lane.wrapping_mul(0xA076_1D64_78BD_642F)).next_u64()
}

impl Pump {
    pub fn new(tun: Tun, config: &PumpConfig, pcap: &Path) -> io::Result<Pump> {
        Ok(Pump {
            tun,
            origin: std::time::Instant::now(),
            to_engine: Link::new(config.to_engine.clone(), split_seed(config.seed, 1)),
            to_kernel: Link::new(config.to_kernel.clone(), split_seed(config.seed, 2)),
            capture: Capture::create(pcap)?,
            log: Vec::new(),
            filter: None,
            filtered: 0,
            non_ipv4: 0,
            hold: [false; 2],
            held: Default::default(),
            tick: config.tick.max(Duration::from_micros(100)),
            buf: vec![0; 65_536],
            out: vec![0; 65_536],
        })
    }

    /// The engine's clock: microseconds since the pump started.
    pub fn now(&self) -> Instant {
        Instant::from_micros(self.origin.elapsed().as_micros() as u64)
    }

    pub fn set_filter(&mut self, filter: Option<Filter>) {
        self.filter = filter;
    }

    pub fn log(&self) -> &[LogEntry] {
        &self.log
    }

    pub fn pcap_path(&self) -> &Path {
        self.capture.path()
    }

    pub fn frames(&self) -> u64 {
        self.capture.frames()
    }

    pub fn link_stats(&self) -> (LinkStats, LinkStats) {
        (self.to_engine.stats, self.to_kernel.stats)
    }

    /// Holds back every packet of `dir` that comes out of the link, in order,
    /// until [`Pump::release`]: lets a test make two segments cross in flight.
    pub fn hold(&mut self, dir: Dir) {
        self.hold[dir as usize] = true;
    }

    /// Delivers what was held (at the next step) and stops holding.
    pub fn release(&mut self, dir: Dir) {
        self.hold[dir as usize] = false;
    }

    /// Packets of `dir` held back right now.
    pub fn held(&self, dir: Dir) -> usize {
        self.held[dir as usize].len()
    }

    /// Packets dropped by a test's filter.
    pub fn filtered(&self) -> u64 {
        self.filtered
    }

    /// Packets read from the TUN that were not IPv4 (there should be none).
    pub fn non_ipv4(&self) -> u64 {
        self.non_ipv4
    }

    /// Flushes the pcap; the pump stays usable for the engine but records no more.
    pub fn finish_capture(&mut self) -> io::Result<()> {
        self.capture.finish()
    }

    fn note(&mut self, at: Instant, dir: Dir, fate: Fate, packet: &[u8]) {
        self.log.push(LogEntry {
            at,
            dir,
            fate,
            packet: packet.to_vec(),
            injected: false,
        });
    }

    fn elapsed(&self) -> Duration {
        self.origin.elapsed()
    }

    /// Writes a packet to the kernel now, bypassing filter and impairment
    /// (a test's hand-made segment).
    pub fn inject_to_kernel(&mut self, packet: &[u8]) -> io::Result<()> {
        let now = self.now();
        self.note(now, Dir::EngineToKernel, Fate::Sent, packet);
        self.deliver_to_kernel(now, packet)?;
        let n = self.log.len();
        for e in &mut self.log[n.saturating_sub(2)..] {
            e.injected = true;
        }
        Ok(())
    }

    fn deliver_to_kernel(&mut self, now: Instant, packet: &[u8]) -> io::Result<()> {
        self.tun.write_packet(packet)?;
        let elapsed = self.elapsed();
        self.capture.record(elapsed, packet)?;
        self.note(now, Dir::EngineToKernel, Fate::Delivered, packet);
        Ok(())
    }

    fn offer(&mut self, now: Instant, dir: Dir, packet: &[u8]) {
        let pass = match self.filter.as_mut() {
            Some(f) => f(dir, packet),
            None => true,
        };
        if !pass {
            self.filtered += 1;
            self.note(now, dir, Fate::Lost, packet);
            return;
        }
        let link = match dir {
            Dir::KernelToEngine => &mut self.to_engine,
            Dir::EngineToKernel => &mut self.to_kernel,
        };
        let before = link.stats;
        link.push(now, packet);
        let after = link.stats;
        if after.dropped > before.dropped {
            self.note(now, dir, Fate::Lost, packet);
        }
        if after.duplicated > before.duplicated {
            self.note(now, dir, Fate::Duplicated, packet);
        }
    }

    /// One pass over every source of work; true if anything moved.
    fn step<E: Endpoint + ?Sized>(&mut self, engine: &mut E) -> io::Result<bool> {
        let mut moved = false;
        let now = self.now();
        // Firing a timer is not progress by itself: an endpoint whose timer
        // stays due after on_timeout must not keep this loop spinning.
        if engine.poll_timeout().is_some_and(|t| t <= now) {
            engine.on_timeout(now);
        }
        let mut out = std::mem::take(&mut self.out);
        while let Some(n) = engine.poll_transmit(now, &mut out) {
            let n = n.min(out.len());
            self.note(now, Dir::EngineToKernel, Fate::Sent, &out[..n]);
            self.offer(now, Dir::EngineToKernel, &out[..n]);
            moved = true;
        }
        self.out = out;
        while let Some(p) = self.to_kernel.pop_due(now) {
            self.held[Dir::EngineToKernel as usize].push_back(p);
        }
        while !self.hold[Dir::EngineToKernel as usize] {
            let Some(p) = self.held[Dir::EngineToKernel as usize].pop_front() else {
                break;
            };
            self.deliver_to_kernel(now, &p)?;
            moved = true;
        }
        let mut buf = std::mem::take(&mut self.buf);
        while let Some(n) = self.tun.try_read(&mut buf)? {
            moved = true;
            let packet = &buf[..n];
            let elapsed = self.elapsed();
            self.capture.record(elapsed, packet)?;
            if packet.first().map(|b| b >> 4) != Some(4) {
                self.non_ipv4 += 1;
                continue;
            }
            self.note(now, Dir::KernelToEngine, Fate::Sent, packet);
            self.offer(now, Dir::KernelToEngine, packet);
        }
        self.buf = buf;
        while let Some(p) = self.to_engine.pop_due(now) {
            self.held[Dir::KernelToEngine as usize].push_back(p);
        }
        while !self.hold[Dir::KernelToEngine as usize] {
            let Some(p) = self.held[Dir::KernelToEngine as usize].pop_front() else {
                break;
            };
            self.note(now, Dir::KernelToEngine, Fate::Delivered, &p);
            engine.on_packet(now, &p);
            moved = true;
        }
        Ok(moved)
    }

    /// Runs the engine and the link until `done` holds or `limit` passes.
    /// `what` names the condition for the timeout message.
    pub fn run_until<E: Endpoint + ?Sized>(
        &mut self,
        engine: &mut E,
        what: &str,
        limit: Duration,
        mut done: impl FnMut(&mut E) -> bool,
    ) -> Result<Duration, PumpError> {
        let start = std::time::Instant::now();
        let deadline = start + limit;
        loop {
            // Bounded, so that `done` and the deadline are always looked at.
            for _ in 0..64 {
                if !self.step(engine)? {
                    break;
                }
            }
            if done(engine) {
                return Ok(start.elapsed());
            }
            let wall = std::time::Instant::now();
            if wall >= deadline {
                return Err(PumpError::Timeout {
                    what: what.to_string(),
                    after: limit,
                });
            }
            let now = self.now();
            let mut wake = now + self.tick;
            for t in [
                engine.poll_timeout(),
                self.to_engine.next_due(),
                self.to_kernel.next_due(),
            ]
            .into_iter()
            .flatten()
            {
                wake = wake.min(t);
            }
            let sleep = (wake - now).min(deadline - wall);
            if !sleep.is_zero() {
                self.tun.wait_readable(sleep)?;
            }
        }
    }

    /// Runs for exactly `duration` (for "nothing should happen" checks).
    pub fn run_for<E: Endpoint + ?Sized>(
        &mut self,
        engine: &mut E,
        duration: Duration,
    ) -> Result<(), PumpError> {
        let end = std::time::Instant::now() + duration;
        match self.run_until(engine, "the end of a fixed wait", duration, |_| {
            std::time::Instant::now() >= end
        }) {
            Ok(_) | Err(PumpError::Timeout { .. }) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// An endpoint that only records what it receives and sends what a test
/// queues: the harness's own stand-in, used to validate the link against the
/// kernel before any engine is involved.
#[derive(Default)]
pub struct RawPeer {
    pub received: Vec<(Instant, Vec<u8>)>,
    pub outbox: std::collections::VecDeque<Vec<u8>>,
}

impl Endpoint for RawPeer {
    fn on_packet(&mut self, now: Instant, packet: &[u8]) {
        self.received.push((now, packet.to_vec()));
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let p = self.outbox.pop_front()?;
        let n = p.len().min(buf.len());
        buf[..n].copy_from_slice(&p[..n]);
        Some(n)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        None
    }

    fn on_timeout(&mut self, _now: Instant) {}
}
