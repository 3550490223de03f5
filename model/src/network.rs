//! The network: a bounded multiset of segments in flight, each with its age.
//!
//! The multiset is kept sorted, so that two networks holding the same
//! segments are the same value (and hash the same) whatever the order in
//! which the segments were sent: reordering is free, it is the choice of
//! which segment to deliver next.

use crate::segment::Segment;
use std::hash::{Hash, Hasher};

/// Segments the network can hold at once.
pub const NET_CAP: usize = 8;

/// Ghost marks on a segment, for properties only; the protocol never reads them.
pub mod mark {
    /// The ACK an endpoint sent on entering TIME-WAIT (the "final ACK").
    pub const FINAL_ACK: u8 = 1;
    /// The ACK that completes the three-way handshake from SYN-SENT.
    pub const HANDSHAKE_ACK: u8 = 2;
    /// A RST sent by an endpoint with no synchronized connection.
    pub const UNSYNC_RST: u8 = 4;
    /// An ACK sent from TIME-WAIT in reply to a retransmitted FIN.
    pub const TIME_WAIT_ACK: u8 = 8;
    /// A copy the network made: its sender does not know it exists.
    pub const DUPLICATE: u8 = 16;
}

/// A segment in flight.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Flight {
    /// The sender: 0 client, 1 server.
    pub from: u8,
    pub seg: Segment,
    /// Ticks spent in the network; the segment is gone when this reaches MSL.
    pub age: u8,
    /// Ghost: the incarnation of the connection that sent it (0: none).
    pub inc: u8,
    /// Ghost: for a data segment, the byte's offset in the sender's stream.
    pub off: u8,
    /// Ghost: see [`mark`].
    pub mark: u8,
    /// The network chose to hold this segment past the end of the tick.
    pub delayed: bool,
}

/// A sorted, fixed-capacity multiset of [`Flight`]s.
#[derive(Clone, Copy, Debug)]
pub struct Net {
    items: [Flight; NET_CAP],
    len: u8,
}

const EMPTY: Flight = Flight {
    from: 0,
    seg: Segment::rst(0),
    age: 0,
    inc: 0,
    off: 0,
    mark: 0,
    delayed: false,
};

impl Net {
    pub const fn new() -> Net {
        Net {
            items: [EMPTY; NET_CAP],
            len: 0,
        }
    }

    pub fn as_slice(&self) -> &[Flight] {
        &self.items[..usize::from(self.len)]
    }

    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    pub fn is_full(&self) -> bool {
        self.len() == NET_CAP
    }

    pub fn get(&self, i: usize) -> Option<&Flight> {
        self.as_slice().get(i)
    }

    /// Inserts in sorted position; returns false (and drops nothing else) when full.
    pub fn insert(&mut self, f: Flight) -> bool {
        if self.is_full() {
            return false;
        }
        let n = self.len();
        let pos = self.items[..n].partition_point(|x| *x <= f);
        self.items.copy_within(pos..n, pos + 1);
        self.items[pos] = f;
        self.len += 1;
        true
    }

    /// Removes and returns the segment at `i`.
    pub fn remove(&mut self, i: usize) -> Option<Flight> {
        let n = self.len();
        if i >= n {
            return None;
        }
        let f = self.items[i];
        self.items.copy_within(i + 1..n, i);
        self.items[n - 1] = EMPTY;
        self.len -= 1;
        Some(f)
    }

    /// One tick: every segment ages; those whose age reaches `msl` are removed
    /// and returned. A segment sent during tick `t` can thus be delivered
    /// during ticks `t ..= t + msl - 1` and never later: its lifetime in the
    /// network is less than MSL.
    pub fn age(&mut self, msl: u8) -> Vec<Flight> {
        let mut expired = Vec::new();
        let mut kept = Net::new();
        for f in self.as_slice() {
            let mut f = *f;
            f.age += 1;
            if f.age >= msl {
                expired.push(f);
            } else {
                kept.insert(f);
            }
        }
        *self = kept;
        expired
    }

    /// Whether `i` is the first of a run of equal segments: delivering,
    /// dropping or duplicating any other copy leads to the same state.
    pub fn is_first_copy(&self, i: usize) -> bool {
        i == 0 || self.items[i - 1] != self.items[i]
    }

    /// Whether every segment in flight is one the network chose to delay:
    /// only then can time pass.
    pub fn all_delayed(&self) -> bool {
        self.as_slice().iter().all(|f| f.delayed)
    }

    /// Marks the segment at `i` as delayed, keeping the order canonical.
    pub fn delay(&mut self, i: usize) -> Option<Flight> {
        let mut f = self.remove(i)?;
        f.delayed = true;
        self.insert(f);
        Some(f)
    }
}

impl Default for Net {
    fn default() -> Self {
        Net::new()
    }
}

impl PartialEq for Net {
    fn eq(&self, other: &Self) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl Eq for Net {}

impl Hash for Net {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}
