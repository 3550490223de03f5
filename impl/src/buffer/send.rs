//! The send buffer: bytes written by the application, kept until the peer
//! acknowledges them so that any of them can be sent again (RFC 9293 §3.8,
//! retransmission).
//!
//! Offset 0 is the oldest unacknowledged data byte, i.e. SND.UNA once the SYN
//! is acknowledged. The connection tracks how much of the buffer it has sent
//! (SND.NXT - SND.UNA); the buffer only stores bytes.

use super::Ring;

/// Fixed-capacity store of unacknowledged and not-yet-sent bytes.
#[derive(Debug, Clone)]
pub struct SendBuffer {
    ring: Ring,
    /// Ring index of offset 0 (the oldest unacknowledged byte).
    head: usize,
    /// Bytes held: unacknowledged plus not yet sent.
    len: usize,
}

impl SendBuffer {
    /// A buffer holding at most `capacity` bytes; the only allocation it makes.
    pub fn new(capacity: usize) -> SendBuffer {
        SendBuffer {
            ring: Ring::new(capacity),
            head: 0,
            len: 0,
        }
    }

    pub fn capacity(&self) -> usize {
        self.ring.capacity()
    }

    /// Bytes held (sent but unacknowledged, plus not yet sent).
    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Room left for [`SendBuffer::write`].
    pub fn free(&self) -> usize {
        self.capacity() - self.len
    }

    /// Append as much of `data` as fits; returns how many bytes were taken
    /// (a short count, possibly 0, when the buffer is full, as a SEND on a
    /// full buffer may accept part of the data, RFC 9293 §3.10.2).
    pub fn write(&mut self, data: &[u8]) -> usize {
        let n = data.len().min(self.free());
        if n > 0 {
            let tail = self.ring.wrap(self.head, self.len);
            self.ring.write_at(tail, &data[..n]);
            self.len += n;
        }
        n
    }

    /// The bytes from `offset` on, at most `max` of them, as up to two slices
    /// (the ring may wrap). Empty when `offset >= len()`.
    pub fn slices(&self, offset: usize, max: usize) -> (&[u8], &[u8]) {
        if offset >= self.len {
            return (&[], &[]);
        }
        let n = max.min(self.len - offset);
        let start = self.ring.wrap(self.head, offset);
        self.ring.slices(start, n)
    }

    /// Copy the bytes from `offset` on into `out`, as many as fit and exist;
    /// returns the count. Used to build a segment's payload, first
    /// transmission or retransmission alike.
    pub fn read_at(&self, offset: usize, out: &mut [u8]) -> usize {
        if offset >= self.len {
            return 0;
        }
        let n = out.len().min(self.len - offset);
        let start = self.ring.wrap(self.head, offset);
        self.ring.read_at(start, &mut out[..n]);
        n
    }

    /// Drop the `n` oldest bytes: the peer acknowledged them (SND.UNA moved
    /// forward). Asking for more than is held drops everything and returns
    /// the count actually dropped, so a bogus ACK cannot corrupt the ring.
    pub fn ack(&mut self, n: usize) -> usize {
        let n = n.min(self.len);
        if n == self.len {
            // Reset to the start: later writes are then contiguous for longer.
            self.head = 0;
        } else {
            self.head = self.ring.wrap(self.head, n);
        }
        self.len -= n;
        n
    }

    /// Forget everything held (ABORT, RST).
    pub fn clear(&mut self) {
        self.head = 0;
        self.len = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_is_bounded_by_capacity() {
        let mut b = SendBuffer::new(8);
        assert_eq!(b.write(b"hello"), 5);
        assert_eq!(b.write(b"world"), 3);
        assert_eq!(b.free(), 0);
        assert_eq!(b.write(b"x"), 0);
        let mut out = [0u8; 16];
        assert_eq!(b.read_at(0, &mut out), 8);
        assert_eq!(&out[..8], b"hellowor");
    }

    #[test]
    fn ack_frees_space_and_wraps() {
        let mut b = SendBuffer::new(8);
        b.write(b"abcdef");
        assert_eq!(b.ack(4), 4);
        assert_eq!(b.write(b"ghijkl"), 6); // wraps round the end
        let (x, y) = b.slices(0, 100);
        let mut joined = x.to_vec();
        joined.extend_from_slice(y);
        assert_eq!(joined, b"efghijkl");
        let mut out = [0u8; 3];
        assert_eq!(b.read_at(5, &mut out), 3);
        assert_eq!(&out, b"jkl");
        assert_eq!(b.read_at(8, &mut out), 0);
        assert_eq!(b.ack(100), 8);
        assert!(b.is_empty());
    }
}
