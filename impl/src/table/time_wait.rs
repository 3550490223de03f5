//! Compact TIME-WAIT entries (RFC 9293 §3.6, MUST-13).
//!
//! A connection in TIME-WAIT only has to answer a retransmitted FIN with an
//! ACK, answer anything else unacceptable with an ACK, and keep its 4-tuple
//! reserved for 2×MSL. That needs two sequence numbers, an expiry and the
//! timestamp to echo, not a TCB with buffers: the table swaps the connection
//! for a [`TimeWaitEntry`] when it enters TIME-WAIT.

use std::collections::{HashMap, VecDeque};

use super::key::{TupleHasherBuilder, TupleKey};
use crate::{Instant, SeqNum};

/// What is left of a connection in TIME-WAIT: 20 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWaitEntry {
    /// SND.NXT: one past our FIN.
    pub snd_nxt: SeqNum,
    /// RCV.NXT: one past the peer's FIN.
    pub rcv_nxt: SeqNum,
    /// When TIME-WAIT ends, in milliseconds on a 32-bit wrapping clock (see
    /// [`millis`]): 2×MSL is minutes, far below the 24 days a wrapping
    /// comparison can tell apart.
    pub expires_ms: u32,
    /// TS.Recent to echo, when `flags` has [`TimeWaitEntry::TIMESTAMPS`].
    pub ts_recent: u32,
    /// The window we advertise in ACKs from TIME-WAIT (already scaled down).
    pub window: u16,
    /// [`TimeWaitEntry::TIMESTAMPS`], the receive window shift (bits 1-4,
    /// see [`TimeWaitEntry::with_rcv_wscale`]) and a bound on MAX.SND.WND
    /// (bits 5-9, see [`TimeWaitEntry::with_max_snd_wnd`]); 0 for none of
    /// them.
    pub flags: u16,
}

impl TimeWaitEntry {
    /// Timestamps were negotiated: every ACK from TIME-WAIT carries them
    /// (RFC 7323 §3.2).
    pub const TIMESTAMPS: u16 = 1;
    const WSCALE_SHIFT: u16 = 1;
    const WSCALE_MASK: u16 = 0xf;
    const MAX_WND_SHIFT: u16 = 5;
    const MAX_WND_MASK: u16 = 0x1f;
    /// The largest window a peer can offer (RFC 7323 §2.3: shift at most 14).
    pub const MAX_PERMISSIBLE_WINDOW: u32 = 65_535 << 14;

    pub fn timestamps(&self) -> bool {
        self.flags & Self::TIMESTAMPS != 0
    }

    /// The entry with our window shift recorded (at most 14), so that
    /// [`TimeWaitEntry::rcv_wnd`] gives the window in octets.
    pub fn with_rcv_wscale(mut self, shift: u8) -> Self {
        let shift = u16::from(shift.min(14));
        self.flags = (self.flags & !(Self::WSCALE_MASK << Self::WSCALE_SHIFT))
            | (shift << Self::WSCALE_SHIFT);
        self
    }

    /// RCV.WND in octets: the advertised window scaled back up.
    pub fn rcv_wnd(&self) -> u32 {
        let shift = (self.flags >> Self::WSCALE_SHIFT) & Self::WSCALE_MASK;
        u32::from(self.window) << shift
    }

    /// The entry with a bound on MAX.SND.WND recorded for the RFC 5961 §5.2
    /// ACK check: the next power of two at or above `max_snd_wnd`, which
    /// fits in five bits of `flags` and keeps the entry at 20 bytes. RFC
    /// 9293 §3.10.7.4 (fifth) lets MAX.SND.WND be a permissible maximum
    /// rather than the exact value, so rounding up is allowed.
    pub fn with_max_snd_wnd(mut self, max_snd_wnd: u32) -> Self {
        // Code k+1 stands for 2^k (k = 0..=30); 0 means unknown.
        let code = max_snd_wnd
            .clamp(1, Self::MAX_PERMISSIBLE_WINDOW)
            .next_power_of_two()
            .trailing_zeros() as u16
            + 1;
        self.flags = (self.flags & !(Self::MAX_WND_MASK << Self::MAX_WND_SHIFT))
            | (code << Self::MAX_WND_SHIFT);
        self
    }

    /// The MAX.SND.WND to check ACKs against: the recorded bound, or the
    /// largest permissible window when none was recorded.
    pub fn max_snd_wnd(&self) -> u32 {
        match (self.flags >> Self::MAX_WND_SHIFT) & Self::MAX_WND_MASK {
            0 => Self::MAX_PERMISSIBLE_WINDOW,
            code => (1u32 << (code - 1)).min(Self::MAX_PERMISSIBLE_WINDOW),
        }
    }

    /// Whether TIME-WAIT has run out at `now`.
    pub fn expired(&self, now: Instant) -> bool {
        (millis(now).wrapping_sub(self.expires_ms) as i32) >= 0
    }
}

/// `now` on the entries' 32-bit millisecond clock, rounded up so an entry
/// never expires early.
pub fn millis(now: Instant) -> u32 {
    now.micros().div_ceil(1000) as u32
}

/// TIME-WAIT entries of one address family, keyed by 4-tuple, with a FIFO
/// of (key, expiry) in insertion order, which is expiry order since every
/// entry lasts the same 2×MSL. A restarted timer does not add to the FIFO
/// (a peer repeating its FIN must not grow memory): when its element
/// reaches the front with an expiry that no longer matches, it moves to the
/// back with the new one. Elements of removed entries are dropped there too.
#[derive(Debug, Clone)]
pub struct TimeWaitTable<K: TupleKey> {
    entries: HashMap<K, TimeWaitEntry, TupleHasherBuilder>,
    order: VecDeque<(K, u32)>,
}

impl<K: TupleKey> TimeWaitTable<K> {
    pub fn new(hasher: TupleHasherBuilder) -> Self {
        TimeWaitTable {
            entries: HashMap::with_hasher(hasher),
            order: VecDeque::new(),
        }
    }

    pub fn with_capacity(capacity: usize, hasher: TupleHasherBuilder) -> Self {
        TimeWaitTable {
            entries: HashMap::with_capacity_and_hasher(capacity, hasher),
            order: VecDeque::with_capacity(capacity),
        }
    }

    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Elements in the expiry FIFO (at least `len()`; stale ones linger
    /// until they reach the front).
    pub fn queued(&self) -> usize {
        self.order.len()
    }

    #[inline]
    pub fn get(&self, key: &K) -> Option<&TimeWaitEntry> {
        self.entries.get(key)
    }

    /// Add (or replace) the entry for `key`. Entries must be added in
    /// expiry order (they are when all last the same time).
    pub fn insert(&mut self, key: K, entry: TimeWaitEntry) {
        self.entries.insert(key, entry);
        self.order.push_back((key, entry.expires_ms));
    }

    /// Restart the entry's timer (a retransmitted FIN arrived, RFC 9293
    /// §3.10.7.4).
    pub fn restart(&mut self, key: &K, expires_ms: u32) {
        if let Some(e) = self.entries.get_mut(key) {
            e.expires_ms = expires_ms;
        }
    }

    /// Move the entry's RCV.NXT (a FIN at RCV.NXT was taken in, RFC 9293
    /// §3.10.7.4 eighth).
    pub fn set_rcv_nxt(&mut self, key: &K, rcv_nxt: SeqNum) {
        if let Some(e) = self.entries.get_mut(key) {
            e.rcv_nxt = rcv_nxt;
        }
    }

    pub fn remove(&mut self, key: &K) -> Option<TimeWaitEntry> {
        // The FIFO element stays and is dropped when it reaches the front.
        self.entries.remove(key)
    }

    /// Drop the entries whose time is up; returns how many. Each FIFO
    /// element is looked at a bounded number of times: it is dropped, or
    /// moved back once per restart of its entry.
    pub fn expire(&mut self, now: Instant) -> usize {
        let mut gone = 0;
        while let Some(&(key, at)) = self.order.front() {
            self.order.pop_front();
            match self.entries.get(&key) {
                Some(e) if e.expires_ms == at => {
                    if !e.expired(now) {
                        self.order.push_front((key, at));
                        break;
                    }
                    self.entries.remove(&key);
                    gone += 1;
                }
                // Restarted since: wait again at the back.
                Some(e) => self.order.push_back((key, e.expires_ms)),
                // Removed (reopened, reset or replaced): nothing to do.
                None => {}
            }
        }
        gone
    }

    /// When the front of the FIFO expires (a lower bound of the next expiry:
    /// the front may be stale).
    pub fn next_expiry(&self, now: Instant) -> Option<Instant> {
        let &(_, at) = self.order.front()?;
        let ahead = at.wrapping_sub(millis(now)) as i32;
        Some(Instant::from_millis(
            now.micros()
                .div_ceil(1000)
                .saturating_add(ahead.max(0) as u64),
        ))
    }

    /// Heap bytes the table holds, computed from the containers' capacities
    /// and element sizes (hashbrown: one control byte per bucket, buckets a
    /// power of two at most 7/8 full; plus the FIFO).
    pub fn memory_bytes(&self) -> usize {
        let cap = self.entries.capacity();
        let buckets = if cap == 0 {
            0
        } else if cap < 8 {
            (cap + 1).next_power_of_two()
        } else {
            (cap * 8 / 7).next_power_of_two()
        };
        let slot = core::mem::size_of::<(K, TimeWaitEntry)>();
        buckets * (slot + 1) + self.order.capacity() * core::mem::size_of::<(K, u32)>()
    }
}
