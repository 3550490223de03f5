//! The receive buffer: bytes that arrived and that the application has not
//! read, with bounded out-of-order reassembly.
//!
//! Offsets given to [`RecvBuffer::write`] count from RCV.NXT: offset 0 is the
//! next byte expected in order. A segment that arrives early is copied
//! straight to its final place in the ring (one copy, never moved again) and
//! remembered as a range; when the gap before it fills, RCV.NXT jumps over it.
//! At most [`MAX_OUT_OF_ORDER_RANGES`] disjoint ranges are remembered: a
//! segment that would need one more is dropped, and the sender's
//! retransmission brings it back later. That bounds the bookkeeping without
//! bounding correctness.

use super::Ring;

/// Disjoint out-of-order ranges the buffer tracks at once. Four is what a
/// SACK option can report (RFC 2018); twice that keeps reassembly useful
/// under heavy reordering.
pub const MAX_OUT_OF_ORDER_RANGES: usize = 8;

/// A half-open range of offsets `[start, end)` past RCV.NXT.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Range {
    start: usize,
    end: usize,
}

/// Fixed-capacity store of received bytes.
#[derive(Debug, Clone)]
pub struct RecvBuffer {
    ring: Ring,
    /// Ring index of the first unread byte.
    head: usize,
    /// In-order bytes the application may read.
    readable: usize,
    /// Out-of-order ranges, sorted, disjoint and not adjacent, all starting
    /// after offset 0 (relative to RCV.NXT, i.e. the end of `readable`).
    ranges: [Range; MAX_OUT_OF_ORDER_RANGES],
    range_count: usize,
}

impl RecvBuffer {
    /// A buffer holding at most `capacity` bytes; the only allocation it makes.
    pub fn new(capacity: usize) -> RecvBuffer {
        RecvBuffer {
            ring: Ring::new(capacity),
            head: 0,
            readable: 0,
            ranges: [Range::default(); MAX_OUT_OF_ORDER_RANGES],
            range_count: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// In-order bytes ready for the application.
    pub fn readable(&self) -> usize {
        self.readable
    }

    pub fn is_empty(&self) -> bool {
        self.readable == 0
    }

    /// Space from RCV.NXT to the end of the buffer: the most the receive
    /// window (RCV.WND) may offer. Out-of-order data lies inside it.
    pub fn window(&self) -> usize {
        self.capacity() - self.readable
    }

    /// Whether any out-of-order data is held (a gap after RCV.NXT).
    pub fn has_out_of_order(&self) -> bool {
        self.range_count > 0
    }

    /// The out-of-order ranges held, as `(start, end)` offsets past RCV.NXT,
    /// in ascending order (for SACK blocks).
    pub fn out_of_order_ranges(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.ranges[..self.range_count]
            .iter()
            .map(|r| (r.start, r.end))
    }

    /// Store `data`, whose first byte has offset `offset` past RCV.NXT.
    ///
    /// Bytes beyond the window are cut off; the caller trims anything before
    /// RCV.NXT (already received) before calling. Returns how far RCV.NXT
    /// advances: the in-order bytes this call made readable, including any
    /// out-of-order data it joined up with. Zero when the data landed out of
    /// order, or was dropped because it lay outside the window or needed more
    /// ranges than the buffer tracks.
    #[inline]
    pub fn write(&mut self, offset: usize, data: &[u8]) -> usize {
        let window = self.window();
        if offset >= window || data.is_empty() {
            return 0;
        }
        let len = data.len().min(window - offset);
        let end = offset + len;

        // The common case: the next bytes in order, with no gap to close.
        if offset == 0 && self.range_count == 0 {
            let tail = self.ring.wrap(self.head, self.readable);
            self.ring.write_at(tail, &data[..len]);
            self.readable += len;
            return len;
        }

        if offset > 0 && !self.insert_range(offset, end) {
            return 0;
        }
        let at = self.ring.wrap(self.head, self.readable + offset);
        self.ring.write_at(at, &data[..len]);
        if offset > 0 {
            return 0;
        }

        // In order, and out-of-order ranges exist: swallow those it reaches.
        let mut new_end = end;
        let mut swallowed = 0;
        while swallowed < self.range_count && self.ranges[swallowed].start <= new_end {
            new_end = new_end.max(self.ranges[swallowed].end);
            swallowed += 1;
        }
        self.ranges.copy_within(swallowed..self.range_count, 0);
        self.range_count -= swallowed;
        for r in &mut self.ranges[..self.range_count] {
            r.start -= new_end;
            r.end -= new_end;
        }
        self.readable += new_end;
        new_end
    }

    /// Record `[start, end)` (with `start > 0`) as held, merging it with
    /// overlapping or adjacent ranges. False when it would need a new slot
    /// and all are taken.
    fn insert_range(&mut self, start: usize, end: usize) -> bool {
        let n = self.range_count;
        // First range that ends at or after `start` (could touch or overlap).
        let first = self.ranges[..n]
            .iter()
            .position(|r| r.end >= start)
            .unwrap_or(n);
        // Ranges from `first` up to (not including) `last` touch [start, end).
        let mut last = first;
        while last < n && self.ranges[last].start <= end {
            last += 1;
        }
        if first == last {
            if n == MAX_OUT_OF_ORDER_RANGES {
                return false;
            }
            self.ranges.copy_within(first..n, first + 1);
            self.ranges[first] = Range { start, end };
            self.range_count += 1;
        } else {
            let merged = Range {
                start: start.min(self.ranges[first].start),
                end: end.max(self.ranges[last - 1].end),
            };
            self.ranges[first] = merged;
            self.ranges.copy_within(last..n, first + 1);
            self.range_count -= last - first - 1;
        }
        true
    }

    /// Copy readable bytes into `out`; returns the count (0 when none).
    pub fn read(&mut self, out: &mut [u8]) -> usize {
        let n = out.len().min(self.readable);
        self.ring.read_at(self.head, &mut out[..n]);
        self.consume(n);
        n
    }

    /// The readable bytes, as up to two slices (the ring may wrap), for an
    /// application that reads in place and then calls [`RecvBuffer::consume`].
    pub fn peek(&self) -> (&[u8], &[u8]) {
        self.ring.slices(self.head, self.readable)
    }

    /// Mark `n` readable bytes as read (at most all of them); returns the count.
    pub fn consume(&mut self, n: usize) -> usize {
        let n = n.min(self.readable);
        self.readable -= n;
        if self.readable == 0 && self.range_count == 0 {
            self.head = 0;
        } else {
            self.head = self.ring.wrap(self.head, n);
        }
        n
    }

    /// Forget everything held (ABORT, RST).
    pub fn clear(&mut self) {
        self.head = 0;
        self.readable = 0;
        self.range_count = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain(b: &mut RecvBuffer) -> Vec<u8> {
        let mut out = vec![0u8; b.readable()];
        let n = b.read(&mut out);
        out.truncate(n);
        out
    }

    #[test]
    fn in_order_data_is_readable() {
        let mut b = RecvBuffer::new(10);
        assert_eq!(b.write(0, b"abc"), 3);
        assert_eq!(b.write(0, b"defghijklm"), 7); // cut at the window
        assert_eq!(b.window(), 0);
        assert_eq!(b.write(0, b"x"), 0);
        assert_eq!(drain(&mut b), b"abcdefghij");
        assert_eq!(b.window(), 10);
    }

    #[test]
    fn gaps_fill_and_rcv_nxt_jumps() {
        let mut b = RecvBuffer::new(16);
        assert_eq!(b.write(4, b"efg"), 0);
        assert_eq!(b.write(9, b"jk"), 0);
        assert_eq!(
            b.out_of_order_ranges().collect::<Vec<_>>(),
            vec![(4, 7), (9, 11)]
        );
        assert_eq!(b.write(7, b"hi"), 0); // joins both ranges
        assert_eq!(b.out_of_order_ranges().collect::<Vec<_>>(), vec![(4, 11)]);
        assert_eq!(b.write(0, b"abcd"), 11);
        assert!(!b.has_out_of_order());
        assert_eq!(drain(&mut b), b"abcdefghijk");
    }

    #[test]
    fn ranges_are_bounded() {
        let mut b = RecvBuffer::new(64);
        for i in 0..MAX_OUT_OF_ORDER_RANGES {
            b.write(2 + 3 * i, b"z");
        }
        assert_eq!(b.out_of_order_ranges().count(), MAX_OUT_OF_ORDER_RANGES);
        // A further disjoint range is dropped; one touching a held range merges.
        b.write(60, b"q");
        assert_eq!(b.out_of_order_ranges().count(), MAX_OUT_OF_ORDER_RANGES);
        b.write(3, b"z");
        assert_eq!(b.out_of_order_ranges().next(), Some((2, 4)));
    }

    #[test]
    fn wraps_round_the_ring() {
        let mut b = RecvBuffer::new(8);
        b.write(0, b"123456");
        let mut out = [0u8; 5];
        b.read(&mut out);
        assert_eq!(b.write(3, b"defg"), 0);
        assert_eq!(b.write(0, b"abc"), 7);
        let (x, y) = b.peek();
        assert_eq!([x, y].concat(), b"6abcdefg");
    }
}
