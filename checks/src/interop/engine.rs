//! The engine's side of the link: one `synack_tcp` [`Connection`] behind the
//! engine's address, speaking whole IPv4 packets to the pump. The adapter only
//! unwraps and wraps the IP header (with the engine's wire module); every TCP
//! decision is the connection's.

use std::net::{IpAddr, SocketAddr};

use synack_tcp::connection::{Connection, State};
use synack_tcp::table::{Dispatch, PacketError, Stack};
use synack_tcp::wire::{parse_tcp_packet, Ipv4Header};
use synack_tcp::{Event, Instant};

use super::pump::Endpoint;

/// What the engine did, with the time it did it (for reports and diagrams).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum EngineNote {
    State(State),
    Event(Event),
    /// A packet from the TUN link that the adapter could not hand over.
    Unparsable(String),
    /// A timer that was still due right after `on_timeout` fired it.
    StuckTimer(String),
}

pub struct EngineHost {
    pub conn: Connection,
    pub notes: Vec<(Instant, EngineNote)>,
    /// Packets handed to the connection so far.
    pub packets_in: u64,
    stuck_at: Option<Instant>,
    last_state: State,
    segment: Vec<u8>,
}

impl EngineHost {
    pub fn new(conn: Connection, now: Instant) -> EngineHost {
        let last_state = conn.state();
        EngineHost {
            conn,
            notes: vec![(now, EngineNote::State(last_state))],
            packets_in: 0,
            stuck_at: None,
            last_state,
            segment: vec![0; 65_536],
        }
    }

    pub fn state(&self) -> State {
        self.conn.state()
    }

    /// The states the connection went through, in order.
    pub fn states(&self) -> Vec<State> {
        self.notes
            .iter()
            .filter_map(|(_, n)| match n {
                EngineNote::State(s) => Some(*s),
                _ => None,
            })
            .collect()
    }

    /// When the connection last entered `state`, if it did.
    pub fn entered(&self, state: State) -> Option<Instant> {
        self.notes
            .iter()
            .rev()
            .find(|(_, n)| *n == EngineNote::State(state))
            .map(|(t, _)| *t)
    }

    pub fn events(&self) -> Vec<Event> {
        self.notes
            .iter()
            .filter_map(|(_, n)| match n {
                EngineNote::Event(e) => Some(*e),
                _ => None,
            })
            .collect()
    }

    /// Timers that stayed due after firing (an engine fault).
    pub fn stuck_timers(&self) -> Vec<String> {
        self.notes
            .iter()
            .filter_map(|(_, n)| match n {
                EngineNote::StuckTimer(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    pub fn unparsable(&self) -> Vec<String> {
        self.notes
            .iter()
            .filter_map(|(_, n)| match n {
                EngineNote::Unparsable(e) => Some(e.clone()),
                _ => None,
            })
            .collect()
    }

    /// Records state changes and drains the connection's events. Call after
    /// every user call too, so that nothing is missed.
    pub fn observe(&mut self, now: Instant) {
        let state = self.conn.state();
        if state != self.last_state {
            self.last_state = state;
            self.notes.push((now, EngineNote::State(state)));
        }
        while let Some(e) = self.conn.poll_event() {
            self.notes.push((now, EngineNote::Event(e)));
        }
    }
}

impl Endpoint for EngineHost {
    fn on_packet(&mut self, now: Instant, packet: &[u8]) {
        self.packets_in += 1;
        match parse_tcp_packet(packet) {
            Ok((ip, seg)) => {
                let remote = SocketAddr::new(ip.src(), seg.src_port());
                self.conn.on_segment(now, &seg, remote);
            }
            Err(e) => self
                .notes
                .push((now, EngineNote::Unparsable(e.to_string()))),
        }
        self.observe(now);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        loop {
            let t = self.conn.poll_transmit(now, &mut self.segment);
            self.observe(now);
            let t = t?;
            let (IpAddr::V4(src), IpAddr::V4(dst)) = (t.src.ip(), t.dst.ip()) else {
                self.notes.push((
                    now,
                    EngineNote::Unparsable(format!("engine sent to a non-IPv4 address {}", t.dst)),
                ));
                continue;
            };
            let header = Ipv4Header::tcp(src, dst);
            let total = 20 + t.len;
            if buf.len() < total || t.len > self.segment.len() {
                self.notes.push((
                    now,
                    EngineNote::Unparsable(format!("segment of {} bytes does not fit", t.len)),
                ));
                continue;
            }
            if let Err(e) = header.emit(t.len, &mut buf[..20]) {
                self.notes
                    .push((now, EngineNote::Unparsable(format!("IPv4 emit: {e}"))));
                continue;
            }
            buf[20..total].copy_from_slice(&self.segment[..t.len]);
            return Some(total);
        }
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.conn.poll_timeout()
    }

    fn on_timeout(&mut self, now: Instant) {
        self.conn.on_timeout(now);
        self.observe(now);
        // A deadline still in the past after on_timeout means the pump would
        // call again at once: note it (once per deadline) so a test can say so.
        if let Some(t) = self.conn.poll_timeout() {
            if t <= now && self.stuck_at != Some(t) {
                self.stuck_at = Some(t);
                let timers = self.conn.status().timers;
                self.notes.push((
                    now,
                    EngineNote::StuckTimer(format!("{t:?} still due at {now:?}: {timers:?}")),
                ));
            }
        }
    }
}

/// The engine's connection table ([`Stack`]) behind the engine's address:
/// whole IP packets in and out, demultiplexing, listeners and the RSTs for
/// segments that match nothing are all the table's own.
pub struct StackHost {
    pub stack: Stack,
    /// How each packet from the kernel was dispatched (or why it was dropped).
    pub dispatched: Vec<(Instant, Result<Dispatch, PacketError>)>,
    /// The last time the pump gave the table (for user calls made between
    /// two steps of the pump).
    pub now: Instant,
}

impl StackHost {
    pub fn new(stack: Stack) -> StackHost {
        StackHost {
            stack,
            dispatched: Vec::new(),
            now: Instant::ZERO,
        }
    }
}

impl Endpoint for StackHost {
    fn on_packet(&mut self, now: Instant, packet: &[u8]) {
        self.now = now;
        let d = self.stack.on_packet(now, packet);
        self.dispatched.push((now, d));
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.now = now;
        self.stack.poll_transmit(now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.stack.poll_timeout()
    }

    fn on_timeout(&mut self, now: Instant) {
        self.now = now;
        self.stack.on_timeout(now);
    }
}
