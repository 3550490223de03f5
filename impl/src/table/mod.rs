//! The connection table: a [`Stack`] that takes whole IP packets, finds the
//! connection each belongs to by its 4-tuple, and hands out whole IP packets.
//!
//! - demultiplexing by 4-tuple, IPv4 and IPv6, in keyed hash maps with
//!   compact keys ([`key`]);
//! - listeners with a bounded SYN backlog: a SYN for a listener spawns a
//!   connection of its own (passive OPEN, RFC 9293 §3.10.7.2); when the
//!   backlog is full further SYNs are dropped, and the peer retransmits;
//! - a RST for a segment that matches nothing (§3.5.2 group 1, §3.10.7.1);
//! - compact TIME-WAIT entries ([`time_wait`]): once a connection reaches
//!   TIME-WAIT with nothing left to send or read, its TCB is replaced by 16
//!   bytes that answer for it until 2×MSL is over (MUST-13);
//! - reuse of a tuple in TIME-WAIT only as MAY-2 allows: a new SYN whose
//!   sequence number lies beyond the old connection's, an ISS above the old
//!   SND.NXT, and a return to TIME-WAIT if the SYN was an old duplicate.
//!
//! Sans-IO like the connection: `now` comes in with every call.
//!
//! # Driving a stack
//!
//! After every input (`on_packet`, `on_timeout`, a user call) drain
//! `poll_transmit` until it returns `None` and put the packets on the wire;
//! then sleep until `poll_timeout` (or the next packet) and call
//! `on_timeout`. Connection handles stay valid until their `Closed` event
//! has been taken with `poll_event` (or `release` was called); a passive
//! connection is handed out by `accept` once it is established.
//!
//! ```
//! use std::net::SocketAddr;
//! use synack_tcp::table::Stack;
//! use synack_tcp::{Config, Instant, State};
//!
//! let client: SocketAddr = "10.0.0.1:40000".parse().unwrap();
//! let server: SocketAddr = "10.0.0.2:80".parse().unwrap();
//! let (mut a, mut b) = (Stack::new(Config::default(), 1)?, Stack::new(Config::default(), 2)?);
//! let now = Instant::from_secs(1);
//! let listener = b.listen(server, 16)?;
//! let conn = a.connect(now, client, server)?;
//! let mut buf = [0u8; 1600];
//! for _ in 0..3 {
//!     while let Some(n) = a.poll_transmit(now, &mut buf) {
//!         b.on_packet(now, &buf[..n]).ok();
//!     }
//!     while let Some(n) = b.poll_transmit(now, &mut buf) {
//!         a.on_packet(now, &buf[..n]).ok();
//!     }
//! }
//! let accepted = b.accept(listener).expect("handshake done");
//! assert_eq!(a.state(conn)?, State::Established);
//! assert_eq!(b.state(accepted)?, State::Established);
//! # Ok::<(), synack_tcp::Error>(())
//! ```

pub mod key;
pub mod time_wait;

use core::time::Duration;
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use crate::config::{Config, IsnSource};
use crate::connection::{Connection, FourTuple, State, Status};
use crate::error::Error;
use crate::event::{Ended, Event};
use crate::wire::ip::{IpPacket, Ipv4Header, Ipv6Header, IPV4_HEADER_LEN, IPV6_HEADER_LEN};
use crate::wire::{Flags, PseudoHeader, Segment, TcpHeader, WireError};
use crate::Instant;

pub use key::{Key, TupleHasher, TupleHasherBuilder, TupleKey, V4Key, V6Key};
pub use time_wait::{TimeWaitEntry, TimeWaitTable};

/// A handle on one connection of a [`Stack`]. Stale handles (of a
/// connection that is gone) are recognised by their generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ConnId {
    index: u32,
    generation: u32,
}

/// A handle on one listener of a [`Stack`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ListenerId(u32);

/// Why [`Stack::on_packet`] dropped a packet before any connection saw it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum PacketError {
    /// The IP packet or the TCP segment in it failed validation.
    #[error("malformed packet: {0}")]
    Malformed(#[from] WireError),
    /// A SYN for a listener whose backlog is full.
    #[error("SYN dropped: listen backlog full")]
    BacklogFull,
}

/// How a packet was dispatched, for tests and statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dispatch {
    /// Handed to a connection.
    Connection(ConnId),
    /// A SYN for a listener: a new connection, in SYN-RECEIVED.
    Spawned(ListenerId, ConnId),
    /// Answered (or ignored) by a TIME-WAIT entry.
    TimeWait,
    /// Reached a listener but was not a SYN: reset or ignored (§3.10.7.2).
    Listener,
    /// Matched nothing: reset unless it was a RST (§3.10.7.1).
    Unmatched,
}

/// What a 4-tuple leads to (see [`Stack::lookup`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    Connection(ConnId),
    TimeWait(TimeWaitEntry),
    Listener(ListenerId),
    Nothing,
}

/// Counters of the table itself (each connection has its own, too).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackStats {
    pub packets_in: u64,
    pub packets_out: u64,
    /// Packets that failed IP or TCP validation.
    pub malformed: u64,
    /// Segments that matched no connection, listener or TIME-WAIT entry.
    pub unmatched: u64,
    /// RSTs the table sent itself (unmatched segments, ACKs to listeners).
    pub resets_sent: u64,
    /// SYNs dropped because the listener's backlog was full.
    pub backlog_drops: u64,
    /// ACKs sent from compact TIME-WAIT entries.
    pub time_wait_acks: u64,
    /// RSTs that reached a TIME-WAIT entry and were ignored (RFC 1337).
    pub time_wait_rsts_ignored: u64,
    /// Tuples reopened from TIME-WAIT by a new SYN (MAY-2).
    pub time_wait_reopened: u64,
    /// Reopened tuples sent back to TIME-WAIT: the SYN was an old duplicate.
    pub time_wait_restored: u64,
    /// Connections moved from a full TCB to a compact TIME-WAIT entry.
    pub time_wait_compacted: u64,
    /// Replies dropped because the table's reply queue was full.
    pub replies_dropped: u64,
    /// ACKs for unacceptable SEG.ACK values in TIME-WAIT (RFC 5961 §5.2)
    /// not sent because of the challenge-ACK rate limit (RFC 5961 §7).
    pub time_wait_challenge_acks_suppressed: u64,
}

/// Segments the table itself sends (RSTs, TIME-WAIT ACKs) wait here; the
/// bound keeps a flood of junk from growing memory.
const MAX_REPLIES: usize = 256;

/// A reply built by the table, not by a connection.
#[derive(Debug, Clone, Copy)]
struct Reply {
    src: IpAddr,
    dst: IpAddr,
    header: TcpHeader,
}

#[derive(Debug)]
struct Listener {
    local: SocketAddr,
    config: Config,
    backlog: usize,
    /// Children not yet accepted (SYN-RECEIVED or queued).
    pending: usize,
    accept_queue: VecDeque<ConnId>,
}

/// What a slot holds.
#[derive(Debug)]
enum Body {
    Free,
    Live(Box<Connection>),
    /// The connection went to a compact TIME-WAIT entry while the application
    /// still holds its handle: its last status and undelivered events.
    TimeWait {
        key: Key,
        status: Box<Status>,
        events: VecDeque<Event>,
    },
}

#[derive(Debug)]
struct Slot {
    generation: u32,
    body: Body,
    key: Option<Key>,
    /// The listener that spawned it, until the application accepts it.
    listener: Option<u32>,
    /// Waiting in the listener's accept queue.
    queued: bool,
    /// The application is done with the handle (drained `Closed`, or
    /// called `release`): free the slot once the connection is finished.
    released: bool,
    /// In the output queue.
    dirty: bool,
    /// The deadline last pushed on the timer heap.
    scheduled: Option<Instant>,
    /// MAY-2: the TIME-WAIT entry this connection replaced, to restore if
    /// the SYN that reopened the tuple was an old duplicate.
    prior_time_wait: Option<TimeWaitEntry>,
}

/// The connection table. See the module documentation.
#[derive(Debug)]
pub struct Stack {
    config: Config,
    v4: HashMap<V4Key, u32, TupleHasherBuilder>,
    /// The last IPv4 tuple found in `v4`, and its slot (cleared when that
    /// tuple leaves the map).
    last_v4: Option<(V4Key, u32)>,
    v6: HashMap<V6Key, u32, TupleHasherBuilder>,
    tw4: TimeWaitTable<V4Key>,
    tw6: TimeWaitTable<V6Key>,
    slots: Vec<Slot>,
    free: Vec<u32>,
    listeners: Vec<Option<Listener>>,
    listen_map: HashMap<SocketAddr, u32>,
    timers: BinaryHeap<Reverse<(Instant, u32, u32)>>,
    dirty: VecDeque<u32>,
    replies: VecDeque<Reply>,
    next_port: u16,
    last_now: Instant,
    stats: StackStats,
    /// Challenge ACKs sent from compact TIME-WAIT entries in the second that
    /// began at `tw_challenge_window` (RFC 5961 §7; one budget for all
    /// entries, since they keep no counters of their own).
    tw_challenge_window: Instant,
    tw_challenge_count: u32,
}

/// First port tried for an active OPEN without a local port (RFC 6335).
const EPHEMERAL_FIRST: u16 = 49152;

impl Stack {
    /// A table whose connections use `config` (listeners may bring their
    /// own). `secret` keys the tuple hash so peers cannot aim collisions.
    pub fn new(config: Config, secret: u64) -> Result<Stack, Error> {
        config.validate()?;
        let hasher = TupleHasherBuilder::new(secret);
        Ok(Stack {
            config,
            v4: HashMap::with_hasher(hasher),
            last_v4: None,
            v6: HashMap::with_hasher(hasher),
            tw4: TimeWaitTable::new(hasher),
            tw6: TimeWaitTable::new(hasher),
            slots: Vec::new(),
            free: Vec::new(),
            listeners: Vec::new(),
            listen_map: HashMap::new(),
            timers: BinaryHeap::new(),
            dirty: VecDeque::new(),
            replies: VecDeque::new(),
            next_port: EPHEMERAL_FIRST,
            last_now: Instant::ZERO,
            stats: StackStats::default(),
            tw_challenge_window: Instant::ZERO,
            tw_challenge_count: 0,
        })
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    pub fn stats(&self) -> &StackStats {
        &self.stats
    }

    /// Connections with a full TCB (any state but compact TIME-WAIT).
    pub fn connection_count(&self) -> usize {
        self.v4.len() + self.v6.len()
    }

    /// Compact TIME-WAIT entries.
    pub fn time_wait_count(&self) -> usize {
        self.tw4.len() + self.tw6.len()
    }

    /// Heap bytes of the TIME-WAIT tables (from capacities and sizes).
    pub fn time_wait_memory_bytes(&self) -> usize {
        self.tw4.memory_bytes() + self.tw6.memory_bytes()
    }

    /// Where a segment for `tuple` (local and remote as seen from here)
    /// would go: the demultiplexing step of [`Stack::on_packet`] on its own.
    #[inline]
    pub fn lookup(&self, tuple: &FourTuple) -> Lookup {
        let Some(key) = Key::from_tuple(tuple) else {
            return Lookup::Nothing;
        };
        let found = match &key {
            Key::V4(k) => self.v4.get(k),
            Key::V6(k) => self.v6.get(k),
        };
        if let Some(&index) = found {
            return Lookup::Connection(ConnId {
                index,
                generation: self.slots[index as usize].generation,
            });
        }
        if let Some(e) = self
            .time_wait_get(&key)
            .filter(|e| !e.expired(self.last_now))
        {
            return Lookup::TimeWait(e);
        }
        match self.find_listener(&tuple.local) {
            Some(l) => Lookup::Listener(ListenerId(l)),
            None => Lookup::Nothing,
        }
    }

    // ----- user calls -----------------------------------------------------

    /// Active OPEN (RFC 9293 §3.10.1) from `local` to `remote`. A local port
    /// of 0 picks a free ephemeral port. A tuple in use, or in TIME-WAIT,
    /// is refused (MAY-2 lets only the passive side reopen it).
    pub fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
    ) -> Result<ConnId, Error> {
        self.last_now = now;
        let mut tuple = FourTuple { local, remote };
        if local.port() == 0 {
            tuple
                .local
                .set_port(self.ephemeral_port(local.ip(), remote)?);
        }
        let key = Key::from_tuple(&tuple).ok_or(Error::AddressFamilyMismatch)?;
        if self.key_in_use(&key) {
            return Err(Error::ConnectionAlreadyExists);
        }
        let conn = Connection::connect(&self.config, tuple, now)?;
        let id = self.insert(conn, key, None);
        self.after_activity(id.index);
        Ok(id)
    }

    /// Passive OPEN on `local` (an unspecified address listens on all):
    /// each SYN spawns a connection; at most `backlog` may wait to be
    /// accepted (SYN-RECEIVED or established). Connections use `config`.
    pub fn listen_with(
        &mut self,
        local: SocketAddr,
        backlog: usize,
        config: Config,
    ) -> Result<ListenerId, Error> {
        config.validate()?;
        if self.listen_map.contains_key(&local) {
            return Err(Error::ConnectionAlreadyExists);
        }
        let listener = Listener {
            local,
            config,
            backlog: backlog.max(1),
            pending: 0,
            accept_queue: VecDeque::new(),
        };
        let id = match self.listeners.iter().position(Option::is_none) {
            Some(i) => {
                self.listeners[i] = Some(listener);
                i
            }
            None => {
                self.listeners.push(Some(listener));
                self.listeners.len() - 1
            }
        };
        self.listen_map.insert(local, id as u32);
        Ok(ListenerId(id as u32))
    }

    /// Passive OPEN with the stack's configuration.
    pub fn listen(&mut self, local: SocketAddr, backlog: usize) -> Result<ListenerId, Error> {
        self.listen_with(local, backlog, self.config.clone())
    }

    /// Stop listening. Connections not yet accepted are aborted (RST).
    pub fn unlisten(&mut self, now: Instant, id: ListenerId) -> Result<(), Error> {
        let l = self
            .listeners
            .get_mut(id.0 as usize)
            .and_then(Option::take)
            .ok_or(Error::ConnectionDoesNotExist)?;
        self.listen_map.remove(&l.local);
        for i in 0..self.slots.len() {
            if self.slots[i].listener == Some(id.0) {
                self.slots[i].listener = None;
                self.slots[i].released = true;
                if let Body::Live(c) = &mut self.slots[i].body {
                    let _ = c.abort(now);
                }
                self.after_activity(i as u32);
            }
        }
        Ok(())
    }

    /// The next established connection of the listener, if any.
    pub fn accept(&mut self, id: ListenerId) -> Option<ConnId> {
        let l = self.listeners.get_mut(id.0 as usize)?.as_mut()?;
        let conn = l.accept_queue.pop_front()?;
        l.pending -= 1;
        let slot = &mut self.slots[conn.index as usize];
        slot.queued = false;
        slot.listener = None;
        Some(conn)
    }

    /// SEND (§3.10.2): queue as much of `data` as fits.
    pub fn send(&mut self, id: ConnId, data: &[u8]) -> Result<usize, Error> {
        let r = self.live(id)?.send(data);
        self.after_activity(id.index);
        r
    }

    /// RECEIVE (§3.10.3).
    pub fn recv(&mut self, id: ConnId, buf: &mut [u8]) -> Result<usize, Error> {
        let r = self.live(id)?.recv(buf);
        self.after_activity(id.index);
        r
    }

    /// CLOSE (§3.10.4): send FIN once the queued data is out; keep receiving.
    pub fn close(&mut self, now: Instant, id: ConnId) -> Result<(), Error> {
        self.last_now = now;
        let r = self.live(id)?.close(now);
        self.after_activity(id.index);
        r
    }

    /// ABORT (§3.10.5). On a compact TIME-WAIT entry, deletes it.
    pub fn abort(&mut self, now: Instant, id: ConnId) -> Result<(), Error> {
        self.last_now = now;
        let slot = self.slot_mut(id)?;
        if let Body::TimeWait { key, .. } = slot.body {
            self.remove_time_wait(&key);
            return Ok(());
        }
        let r = self.live(id)?.abort(now);
        self.after_activity(id.index);
        r
    }

    /// The connection's state; compact TIME-WAIT entries report TIME-WAIT.
    pub fn state(&self, id: ConnId) -> Result<State, Error> {
        match &self.slot(id)?.body {
            Body::Live(c) => Ok(c.state()),
            Body::TimeWait { key, .. } => Ok(if self.time_wait_has(key) {
                State::TimeWait
            } else {
                State::Closed
            }),
            Body::Free => Err(Error::ConnectionDoesNotExist),
        }
    }

    /// STATUS (§3.10.6). For a compact TIME-WAIT entry, the status the TCB
    /// had when it was compacted.
    pub fn status(&self, id: ConnId) -> Result<Status, Error> {
        match &self.slot(id)?.body {
            Body::Live(c) => Ok(c.status()),
            Body::TimeWait { status, .. } => Ok((**status).clone()),
            Body::Free => Err(Error::ConnectionDoesNotExist),
        }
    }

    /// The connection behind a handle, while it has a full TCB.
    pub fn connection(&self, id: ConnId) -> Option<&Connection> {
        match &self.slot(id).ok()?.body {
            Body::Live(c) => Some(c),
            _ => None,
        }
    }

    /// The next event of a connection. After `Closed(..)` (always last) the
    /// handle is released: the slot is freed at once, or, if the connection
    /// still has a segment to send, right after `poll_transmit` sends it. A connection compacted into TIME-WAIT
    /// reports `Closed(Graceful)` once TIME-WAIT is over.
    pub fn poll_event(&mut self, id: ConnId) -> Option<Event> {
        let index = id.index;
        let has_tw = match &self.slot(id).ok()?.body {
            Body::TimeWait { key, .. } => Some(self.time_wait_has(key)),
            _ => None,
        };
        let slot = self.slot_mut(id).ok()?;
        match &mut slot.body {
            Body::Live(c) => {
                let ev = c.poll_event();
                if let Some(Event::Closed(_)) = ev {
                    slot.released = true;
                    // With output pending (a RST, say) the slot is freed
                    // once `poll_transmit` has sent it.
                    if !slot.dirty {
                        self.settle(index);
                    }
                }
                ev
            }
            Body::TimeWait { events, .. } => {
                if let Some(ev) = events.pop_front() {
                    return Some(ev);
                }
                if has_tw == Some(false) {
                    self.free_slot(index);
                    return Some(Event::Closed(Ended::Graceful));
                }
                None
            }
            Body::Free => None,
        }
    }

    /// The application is done with the handle: the slot is freed as soon
    /// as the connection is closed (or in TIME-WAIT) and has sent its last
    /// segment. Does not close the connection by itself.
    pub fn release(&mut self, id: ConnId) -> Result<(), Error> {
        let slot = self.slot_mut(id)?;
        slot.released = true;
        if let Body::TimeWait { .. } = slot.body {
            self.free_slot(id.index);
        } else {
            self.mark_dirty(id.index);
        }
        Ok(())
    }

    // ----- packets in -----------------------------------------------------

    /// One IP packet from the network. Validation failures are counted and
    /// returned; nothing else changes.
    #[inline]
    pub fn on_packet(&mut self, now: Instant, packet: &[u8]) -> Result<Dispatch, PacketError> {
        self.last_now = now;
        self.stats.packets_in += 1;
        let (pseudo, bytes) = match IpPacket::parse(packet).and_then(|ip| ip.tcp_bytes()) {
            Ok(p) => p,
            Err(e) => return Err(self.malformed(e)),
        };
        let seg = match Segment::parse(bytes, &pseudo) {
            Ok(s) => s,
            Err(e) => return Err(self.malformed(e)),
        };
        let key = match pseudo {
            PseudoHeader::V4 { src, dst } => Key::V4(V4Key {
                local: dst.octets(),
                remote: src.octets(),
                local_port: seg.dst_port(),
                remote_port: seg.src_port(),
            }),
            PseudoHeader::V6 { src, dst } => Key::V6(V6Key {
                local: dst.octets(),
                remote: src.octets(),
                local_port: seg.dst_port(),
                remote_port: seg.src_port(),
            }),
        };
        let found = match &key {
            // Segments come in trains: the last IPv4 hit is checked before
            // hashing (a 12-byte compare instead of hash, probe and compare).
            Key::V4(k) => match self.last_v4 {
                Some((last, index)) if last == *k => Some(index),
                _ => {
                    let hit = self.v4.get(k).copied();
                    if let Some(index) = hit {
                        self.last_v4 = Some((*k, index));
                    }
                    hit
                }
            },
            Key::V6(k) => self.v6.get(k).copied(),
        };
        let remote = SocketAddr::new(pseudo.src(), seg.src_port());
        if let Some(index) = found {
            let slot = &mut self.slots[index as usize];
            if let Body::Live(conn) = &mut slot.body {
                conn.on_segment(now, &seg, remote);
                let id = ConnId {
                    index,
                    generation: slot.generation,
                };
                self.after_activity(index);
                return Ok(Dispatch::Connection(id));
            }
        }
        // An entry past its time that `on_timeout` has not purged yet is gone.
        if let Some(entry) = self.time_wait_get(&key).filter(|e| !e.expired(now)) {
            return self.time_wait_segment(now, key, entry, &pseudo, &seg);
        }
        let local = SocketAddr::new(pseudo.dst(), seg.dst_port());
        if let Some(l) = self.find_listener(&local) {
            return self.listener_segment(now, l, key, local, remote, &seg, None);
        }
        self.stats.unmatched += 1;
        self.reset_for(&pseudo, &seg);
        Ok(Dispatch::Unmatched)
    }

    #[cold]
    fn malformed(&mut self, e: WireError) -> PacketError {
        self.stats.malformed += 1;
        PacketError::Malformed(e)
    }

    fn find_listener(&self, local: &SocketAddr) -> Option<u32> {
        if let Some(&l) = self.listen_map.get(local) {
            return Some(l);
        }
        let any: IpAddr = match local.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::UNSPECIFIED),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::UNSPECIFIED),
        };
        self.listen_map
            .get(&SocketAddr::new(any, local.port()))
            .copied()
    }

    /// RFC 9293 §3.10.7.2 for a listener: RST ignored, an ACK answered with
    /// a RST, a SYN spawns a connection; anything else dropped.
    #[allow(clippy::too_many_arguments)]
    fn listener_segment(
        &mut self,
        now: Instant,
        l: u32,
        key: Key,
        local: SocketAddr,
        remote: SocketAddr,
        seg: &Segment<'_>,
        reopen: Option<TimeWaitEntry>,
    ) -> Result<Dispatch, PacketError> {
        let flags = seg.flags();
        if flags.rst() {
            return Ok(Dispatch::Listener);
        }
        if flags.ack() {
            let pseudo =
                PseudoHeader::new(remote.ip(), local.ip()).map_err(PacketError::Malformed)?;
            self.reset_for(&pseudo, seg);
            return Ok(Dispatch::Listener);
        }
        if !flags.syn() {
            return Ok(Dispatch::Listener);
        }
        let Some(listener) = self.listeners[l as usize].as_mut() else {
            return Ok(Dispatch::Listener);
        };
        if listener.pending >= listener.backlog {
            self.stats.backlog_drops += 1;
            return Err(PacketError::BacklogFull);
        }
        let mut config = listener.config.clone();
        if let Some(old) = reopen {
            // MAY-2 (1): the new ISS lies above anything the old incarnation
            // sent, by more than a maximal window.
            config.isn = IsnSource::Fixed(old.snd_nxt + 65535 + 2);
        }
        let Ok(mut conn) = Connection::listen(&config, local) else {
            return Ok(Dispatch::Listener);
        };
        listener.pending += 1;
        conn.on_segment(now, seg, remote);
        let id = self.insert(conn, key, Some(l));
        self.slots[id.index as usize].prior_time_wait = reopen;
        self.after_activity(id.index);
        Ok(Dispatch::Spawned(ListenerId(l), id))
    }

    /// A segment for a compact TIME-WAIT entry (RFC 9293 §3.10.7.4 in
    /// TIME-WAIT, RFC 5961, RFC 1337, MAY-2).
    fn time_wait_segment(
        &mut self,
        now: Instant,
        key: Key,
        entry: TimeWaitEntry,
        pseudo: &PseudoHeader,
        seg: &Segment<'_>,
    ) -> Result<Dispatch, PacketError> {
        let flags = seg.flags();
        if flags.rst() {
            match self.config.time_wait_rst {
                crate::config::TimeWaitRst::Rfc1337Ignore => {
                    self.stats.time_wait_rsts_ignored += 1;
                }
                crate::config::TimeWaitRst::Rfc9293Accept => {
                    // RFC 5961 §3.2: only an exact match resets; one in the
                    // window draws a challenge ACK.
                    if seg.seq() == entry.rcv_nxt {
                        self.remove_time_wait(&key);
                    } else if seg.seq().in_window(entry.rcv_nxt, entry.rcv_wnd().max(1)) {
                        self.time_wait_ack(now, pseudo, seg, &entry);
                    }
                }
            }
            return Ok(Dispatch::TimeWait);
        }
        if flags.syn() && !flags.ack() && self.config.time_wait_reopen && seg.seq() > entry.rcv_nxt
        {
            let local = SocketAddr::new(pseudo.dst(), seg.dst_port());
            if let Some(l) = self.find_listener(&local) {
                self.remove_time_wait(&key);
                self.stats.time_wait_reopened += 1;
                let remote = SocketAddr::new(pseudo.src(), seg.src_port());
                let r = self.listener_segment(now, l, key, local, remote, seg, Some(entry));
                if !matches!(r, Ok(Dispatch::Spawned(..))) {
                    // Not reopened after all (backlog full): keep TIME-WAIT.
                    self.insert_time_wait_key(key, entry);
                }
                return r;
            }
        }
        let seq = seg.seq();
        let seg_len = seg.seg_len();
        // RFC 9293 §3.10.7.4 first: an unacceptable segment is answered with
        // an ACK. The peer's FIN again (its ACK of our FIN was lost, or ours
        // of its FIN) is one: it also restarts 2×MSL (§3.10.7.4 TIME-WAIT).
        if !crate::connection::acceptable(seq, seg_len, entry.rcv_nxt, entry.rcv_wnd()) {
            if flags.fin() && seq + seg_len == entry.rcv_nxt {
                self.restart_time_wait(now, key);
            }
            self.time_wait_ack(now, pseudo, seg, &entry);
            return Ok(Dispatch::TimeWait);
        }
        // Fourth: a SYN in the window draws a challenge ACK (RFC 5961 §4).
        if flags.syn() {
            self.time_wait_ack(now, pseudo, seg, &entry);
            return Ok(Dispatch::TimeWait);
        }
        // Fifth: without the ACK bit the segment is dropped, FIN or not.
        if !flags.ack() {
            return Ok(Dispatch::TimeWait);
        }
        // Fifth, RFC 5961 §5.2 (MAY-12): SEG.ACK outside
        // SND.UNA-MAX.SND.WND..=SND.NXT (SND.UNA = SND.NXT here: our FIN is
        // acknowledged) discards the segment, FIN included, with a
        // rate-limited ACK (RFC 5961 §7).
        let snd_nxt = entry.snd_nxt;
        if !seg
            .ack()
            .between_inclusive(snd_nxt - entry.max_snd_wnd(), snd_nxt)
        {
            if self.time_wait_challenge_allowed(now) {
                self.time_wait_ack(now, pseudo, seg, &entry);
            } else {
                self.stats.time_wait_challenge_acks_suppressed += 1;
            }
            return Ok(Dispatch::TimeWait);
        }
        // Seventh: text is ignored. Eighth: a FIN at RCV.NXT (even one past
        // the peer's first FIN) moves RCV.NXT over it, is acknowledged, and
        // restarts 2×MSL.
        if flags.fin() && seq + seg.payload().len() as u32 == entry.rcv_nxt {
            let entry = TimeWaitEntry {
                rcv_nxt: entry.rcv_nxt + 1,
                ..entry
            };
            match key {
                Key::V4(k) => self.tw4.set_rcv_nxt(&k, entry.rcv_nxt),
                Key::V6(k) => self.tw6.set_rcv_nxt(&k, entry.rcv_nxt),
            }
            self.restart_time_wait(now, key);
            self.time_wait_ack(now, pseudo, seg, &entry);
            return Ok(Dispatch::TimeWait);
        }
        // Any other acceptable segment: a bare ACK at RCV.NXT needs no
        // answer (an ACK answering an ACK would loop between two
        // TIME-WAITs); text or a FIN further in the window is acknowledged,
        // which §3.10.7.4 (fifth, TIME-WAIT) allows.
        let bare_ack_at_edge = seg.payload().is_empty() && !flags.fin() && seq == entry.rcv_nxt;
        if !bare_ack_at_edge {
            self.time_wait_ack(now, pseudo, seg, &entry);
        }
        Ok(Dispatch::TimeWait)
    }

    /// Restart 2×MSL for the TIME-WAIT entry of `key` (§3.10.7.4).
    fn restart_time_wait(&mut self, now: Instant, key: Key) {
        let expires = time_wait::millis(now + self.config.time_wait_duration());
        match key {
            Key::V4(k) => self.tw4.restart(&k, expires),
            Key::V6(k) => self.tw6.restart(&k, expires),
        }
    }

    /// RFC 5961 §7: at most `challenge_ack_limit` challenge ACKs a second
    /// from the TIME-WAIT entries together.
    fn time_wait_challenge_allowed(&mut self, now: Instant) -> bool {
        if now.saturating_duration_since(self.tw_challenge_window) >= Duration::from_secs(1) {
            self.tw_challenge_window = now;
            self.tw_challenge_count = 0;
        }
        if self.tw_challenge_count < self.config.challenge_ack_limit {
            self.tw_challenge_count += 1;
            true
        } else {
            false
        }
    }

    fn time_wait_ack(
        &mut self,
        now: Instant,
        pseudo: &PseudoHeader,
        seg: &Segment<'_>,
        e: &TimeWaitEntry,
    ) {
        let mut header = TcpHeader {
            src_port: seg.dst_port(),
            dst_port: seg.src_port(),
            seq: e.snd_nxt,
            ack: e.rcv_nxt,
            flags: Flags::ACK,
            window: e.window,
            ..TcpHeader::default()
        };
        if e.timestamps() {
            header.options.timestamps = Some((ts_clock(now), e.ts_recent));
        }
        if self.push_reply(pseudo.dst(), pseudo.src(), header) {
            self.stats.time_wait_acks += 1;
        }
    }

    /// RFC 9293 §3.10.7.1: the reply to a segment for no connection
    /// ([`crate::connection::reset_for`]).
    fn reset_for(&mut self, pseudo: &PseudoHeader, seg: &Segment<'_>) {
        if let Some(header) = crate::connection::reset_for(seg) {
            if self.push_reply(pseudo.dst(), pseudo.src(), header) {
                self.stats.resets_sent += 1;
            }
        }
    }

    fn push_reply(&mut self, src: IpAddr, dst: IpAddr, header: TcpHeader) -> bool {
        if self.replies.len() >= MAX_REPLIES {
            self.stats.replies_dropped += 1;
            return false;
        }
        self.replies.push_back(Reply { src, dst, header });
        true
    }

    // ----- packets out and timers ----------------------------------------

    /// Write the next IP packet to send into `buf`; its length, or `None`
    /// when there is nothing to send. A `buf` of 1500 bytes holds any
    /// segment of the default MSS.
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.last_now = now;
        while let Some(r) = self.replies.pop_front() {
            if let Ok(n) = crate::wire::ip::emit_tcp_packet(r.src, r.dst, 64, &r.header, &[], buf) {
                self.stats.packets_out += 1;
                return Some(n);
            }
        }
        while let Some(&index) = self.dirty.front() {
            let slot = &mut self.slots[index as usize];
            let (ip_len, v6) = match slot.key {
                Some(Key::V6(_)) => (IPV6_HEADER_LEN, true),
                _ => (IPV4_HEADER_LEN, false),
            };
            let sent = match &mut slot.body {
                Body::Live(conn) if buf.len() > ip_len => {
                    let (head, tail) = buf.split_at_mut(ip_len);
                    conn.poll_transmit(now, tail).and_then(|t| {
                        let ok = match (t.src.ip(), t.dst.ip()) {
                            (IpAddr::V4(s), IpAddr::V4(d)) if !v6 => {
                                Ipv4Header::tcp(s, d).emit(t.len, head).is_ok()
                            }
                            (IpAddr::V6(s), IpAddr::V6(d)) if v6 => {
                                Ipv6Header::tcp(s, d).emit(t.len, head).is_ok()
                            }
                            _ => false,
                        };
                        ok.then_some(ip_len + t.len)
                    })
                }
                _ => None,
            };
            if let Some(n) = sent {
                // Sending can arm a timer; if none is on the heap, push it
                // now. Otherwise the full check waits for the drained call
                // below, once per visit rather than once per segment.
                if self.slots[index as usize].scheduled.is_none() {
                    self.reschedule(index);
                }
                self.stats.packets_out += 1;
                return Some(n);
            }
            self.reschedule(index);
            self.dirty.pop_front();
            self.slots[index as usize].dirty = false;
            self.settle(index);
        }
        None
    }

    /// The earliest deadline of any connection or TIME-WAIT entry. May be
    /// early (a timer that was since cancelled): `on_timeout` then does
    /// nothing, which is harmless. Connections touched since the last
    /// [`Stack::poll_transmit`] that returned `None` are not counted yet:
    /// drain `poll_transmit` after every input, then ask for the deadline.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let now = self.last_now;
        [
            self.timers.peek().map(|Reverse((t, _, _))| *t),
            self.tw4.next_expiry(now),
            self.tw6.next_expiry(now),
        ]
        .into_iter()
        .flatten()
        .min()
    }

    /// Fire every timer due at `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        self.last_now = now;
        while let Some(&Reverse((t, index, generation))) = self.timers.peek() {
            if t > now {
                break;
            }
            self.timers.pop();
            let slot = &mut self.slots[index as usize];
            if slot.generation != generation || slot.scheduled != Some(t) {
                continue;
            }
            slot.scheduled = None;
            if let Body::Live(conn) = &mut slot.body {
                if conn.poll_timeout().is_some_and(|d| d <= now) {
                    conn.on_timeout(now);
                    self.after_activity(index);
                } else {
                    // An entry for a deadline that has since moved later.
                    self.reschedule(index);
                }
            }
        }
        self.tw4.expire(now);
        self.tw6.expire(now);
    }

    // ----- TIME-WAIT ------------------------------------------------------

    /// Put a tuple straight into TIME-WAIT (tests and benchmarks that need
    /// many entries; a TCB that reaches TIME-WAIT gets there by itself).
    pub fn insert_time_wait(
        &mut self,
        tuple: &FourTuple,
        entry: TimeWaitEntry,
    ) -> Result<(), Error> {
        let key = Key::from_tuple(tuple).ok_or(Error::AddressFamilyMismatch)?;
        if self.key_in_use(&key) {
            return Err(Error::ConnectionAlreadyExists);
        }
        self.insert_time_wait_key(key, entry);
        Ok(())
    }

    /// The compact TIME-WAIT entry of a tuple, if any.
    pub fn time_wait_entry(&self, tuple: &FourTuple) -> Option<TimeWaitEntry> {
        self.time_wait_get(&Key::from_tuple(tuple)?)
    }

    fn insert_time_wait_key(&mut self, key: Key, entry: TimeWaitEntry) {
        match key {
            Key::V4(k) => self.tw4.insert(k, entry),
            Key::V6(k) => self.tw6.insert(k, entry),
        }
    }

    fn time_wait_get(&self, key: &Key) -> Option<TimeWaitEntry> {
        match key {
            Key::V4(k) => self.tw4.get(k).copied(),
            Key::V6(k) => self.tw6.get(k).copied(),
        }
    }

    fn time_wait_has(&self, key: &Key) -> bool {
        self.time_wait_get(key)
            .is_some_and(|e| !e.expired(self.last_now))
    }

    fn remove_time_wait(&mut self, key: &Key) {
        match key {
            Key::V4(k) => self.tw4.remove(k),
            Key::V6(k) => self.tw6.remove(k),
        };
    }

    // ----- internals ------------------------------------------------------

    fn key_in_use(&self, key: &Key) -> bool {
        let connected = match key {
            Key::V4(k) => self.v4.contains_key(k),
            Key::V6(k) => self.v6.contains_key(k),
        };
        connected || self.time_wait_has(key)
    }

    fn ephemeral_port(&mut self, ip: IpAddr, remote: SocketAddr) -> Result<u16, Error> {
        for _ in 0..=(u16::MAX - EPHEMERAL_FIRST) {
            let port = self.next_port;
            self.next_port = if port == u16::MAX {
                EPHEMERAL_FIRST
            } else {
                port + 1
            };
            let tuple = FourTuple {
                local: SocketAddr::new(ip, port),
                remote,
            };
            if let Some(key) = Key::from_tuple(&tuple) {
                if !self.key_in_use(&key) {
                    return Ok(port);
                }
            }
        }
        Err(Error::InsufficientResources)
    }

    fn insert(&mut self, conn: Connection, key: Key, listener: Option<u32>) -> ConnId {
        let body = Body::Live(Box::new(conn));
        let index = match self.free.pop() {
            Some(i) => {
                let slot = &mut self.slots[i as usize];
                slot.body = body;
                slot.key = Some(key);
                slot.listener = listener;
                slot.queued = false;
                slot.released = false;
                slot.scheduled = None;
                slot.prior_time_wait = None;
                i
            }
            None => {
                self.slots.push(Slot {
                    generation: 0,
                    body,
                    key: Some(key),
                    listener,
                    queued: false,
                    released: false,
                    dirty: false,
                    scheduled: None,
                    prior_time_wait: None,
                });
                (self.slots.len() - 1) as u32
            }
        };
        match key {
            Key::V4(k) => self.v4.insert(k, index),
            Key::V6(k) => self.v6.insert(k, index),
        };
        ConnId {
            index,
            generation: self.slots[index as usize].generation,
        }
    }

    fn slot(&self, id: ConnId) -> Result<&Slot, Error> {
        match self.slots.get(id.index as usize) {
            Some(s) if s.generation == id.generation && !matches!(s.body, Body::Free) => Ok(s),
            _ => Err(Error::ConnectionDoesNotExist),
        }
    }

    fn slot_mut(&mut self, id: ConnId) -> Result<&mut Slot, Error> {
        match self.slots.get_mut(id.index as usize) {
            Some(s) if s.generation == id.generation && !matches!(s.body, Body::Free) => Ok(s),
            _ => Err(Error::ConnectionDoesNotExist),
        }
    }

    /// The live connection behind a handle; a compact TIME-WAIT entry
    /// refuses user calls as TIME-WAIT does (§3.10.2-4: closing).
    fn live(&mut self, id: ConnId) -> Result<&mut Connection, Error> {
        match &mut self.slot_mut(id)?.body {
            Body::Live(c) => Ok(c),
            Body::TimeWait { .. } => Err(Error::ConnectionClosing),
            Body::Free => Err(Error::ConnectionDoesNotExist),
        }
    }

    fn mark_dirty(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        if !slot.dirty {
            slot.dirty = true;
            self.dirty.push_back(index);
        }
    }

    /// Make sure the timer heap holds an entry for the connection's next
    /// deadline, or an earlier one. A deadline that moved later keeps its
    /// old entry, which fires early and reschedules: the heap only grows
    /// when a deadline moves earlier, so a busy connection, whose timers
    /// are pushed back with every segment, does not fill it with stale
    /// entries (nor allocate on the data path).
    fn reschedule(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        let Body::Live(c) = &slot.body else {
            return;
        };
        if let Some(t) = c.poll_timeout() {
            if slot.scheduled.is_none_or(|s| t < s) {
                slot.scheduled = Some(t);
                self.timers.push(Reverse((t, index, slot.generation)));
            }
        }
    }

    /// After anything touched a connection: it may have output, its timers
    /// may have moved, and a listener's child may now be established.
    /// Timers are rescheduled when `poll_transmit` visits the connection
    /// (it is marked dirty here), which keeps `poll_timeout` of the
    /// connection off the per-segment path: one call per visit, not one per
    /// input and one per output.
    #[inline]
    fn after_activity(&mut self, index: u32) {
        self.mark_dirty(index);
        let slot = &mut self.slots[index as usize];
        if let (Some(l), false, Body::Live(c)) = (slot.listener, slot.queued, &slot.body) {
            if c.state().is_synchronized() {
                slot.queued = true;
                slot.prior_time_wait = None;
                let id = ConnId {
                    index,
                    generation: slot.generation,
                };
                if let Some(listener) = self.listeners[l as usize].as_mut() {
                    listener.accept_queue.push_back(id);
                }
            }
        }
    }

    /// The connection has nothing more to send: retire it if it is over.
    fn settle(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        let Body::Live(conn) = &mut slot.body else {
            return;
        };
        let state = conn.state();
        let owned_by_listener = slot.listener.is_some();
        match state {
            // A child sent back to LISTEN by a RST (MUST-11), or one that
            // died before it was accepted: the listener goes on alone.
            State::Listen | State::Closed if owned_by_listener => {
                let restore = slot.prior_time_wait.take();
                let key = slot.key;
                self.detach_child(index);
                self.free_slot(index);
                if let (Some(entry), Some(key)) = (restore, key) {
                    if !entry.expired(self.last_now) && !self.key_in_use(&key) {
                        // MAY-2 (2): the SYN was an old duplicate.
                        self.insert_time_wait_key(key, entry);
                        self.stats.time_wait_restored += 1;
                    }
                }
            }
            State::Closed => {
                self.unmap(index);
                if self.slots[index as usize].released {
                    self.free_slot(index);
                }
            }
            State::TimeWait if conn.recv_queued() == 0 => self.compact(index),
            _ => {}
        }
    }

    /// Swap a TCB in TIME-WAIT for a compact entry.
    fn compact(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        let Body::Live(conn) = &mut slot.body else {
            return;
        };
        let Some(key) = slot.key else {
            return;
        };
        let status = conn.status();
        let expires = status
            .timers
            .time_wait
            .unwrap_or(self.last_now + self.config.time_wait_duration());
        let window = (status.rcv_wnd >> status.rcv_wscale).min(u32::from(u16::MAX)) as u16;
        let entry = TimeWaitEntry {
            snd_nxt: status.snd_nxt,
            rcv_nxt: status.rcv_nxt,
            expires_ms: time_wait::millis(expires),
            ts_recent: conn.ts_recent().unwrap_or(0),
            window,
            flags: if conn.ts_recent().is_some() {
                TimeWaitEntry::TIMESTAMPS
            } else {
                0
            },
        }
        .with_rcv_wscale(status.rcv_wscale)
        .with_max_snd_wnd(status.max_snd_wnd);
        let mut events = VecDeque::new();
        if !slot.released {
            while let Some(ev) = conn.poll_event() {
                events.push_back(ev);
            }
        }
        let released = slot.released;
        slot.body = Body::TimeWait {
            key,
            status: Box::new(status),
            events,
        };
        self.unmap(index);
        self.insert_time_wait_key(key, entry);
        self.stats.time_wait_compacted += 1;
        if released {
            self.free_slot(index);
        }
    }

    fn detach_child(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        let Some(l) = slot.listener.take() else {
            return;
        };
        let queued = std::mem::replace(&mut slot.queued, false);
        let id = ConnId {
            index,
            generation: slot.generation,
        };
        if let Some(listener) = self.listeners[l as usize].as_mut() {
            listener.pending = listener.pending.saturating_sub(1);
            if queued {
                listener.accept_queue.retain(|c| *c != id);
            }
        }
    }

    /// Remove the slot's tuple from the connection map.
    fn unmap(&mut self, index: u32) {
        let slot = &mut self.slots[index as usize];
        if let Some(key) = slot.key.take() {
            let mine = match key {
                Key::V4(k) => self.v4.get(&k) == Some(&index),
                Key::V6(k) => self.v6.get(&k) == Some(&index),
            };
            if mine {
                match key {
                    Key::V4(k) => self.v4.remove(&k),
                    Key::V6(k) => self.v6.remove(&k),
                };
                if self.last_v4.is_some_and(|(_, i)| i == index) {
                    self.last_v4 = None;
                }
            }
            // Keep the key for a compact TIME-WAIT body's bookkeeping.
            if let Body::TimeWait { .. } = slot.body {
                slot.key = Some(key);
            }
        }
    }

    fn free_slot(&mut self, index: u32) {
        self.unmap(index);
        let slot = &mut self.slots[index as usize];
        slot.body = Body::Free;
        slot.key = None;
        slot.listener = None;
        slot.queued = false;
        slot.scheduled = None;
        slot.prior_time_wait = None;
        slot.generation = slot.generation.wrapping_add(1);
        // A dirty slot stays in the queue and is skipped there; it must not
        // be pushed twice, so `dirty` is left as it is.
        self.free.push(index);
    }
}

/// TSval for ACKs from TIME-WAIT: the connection's own clock (milliseconds
/// of `now`, connection/output.rs), so the peer sees it keep increasing.
fn ts_clock(now: Instant) -> u32 {
    (now.micros() / 1000) as u32
}
