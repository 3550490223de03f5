//! Byte buffers for a connection: the send buffer (bytes the application
//! handed over that are not yet acknowledged) and the receive buffer (bytes
//! that arrived, in order or not, that the application has not yet read).
//!
//! Both are fixed-capacity rings: memory is allocated once, at creation, and
//! never again. Neither knows sequence numbers: the connection maps SND.UNA
//! and RCV.NXT onto offset 0 of the respective buffer, which keeps these
//! types free of the SYN/FIN bookkeeping.

mod recv;
mod send;

pub use recv::{RecvBuffer, MAX_OUT_OF_ORDER_RANGES};
pub use send::SendBuffer;

/// A ring of bytes with a fixed capacity; the shared storage of both buffers.
#[derive(Debug, Clone)]
struct Ring {
    storage: Box<[u8]>,
}

impl Ring {
    fn new(capacity: usize) -> Ring {
        Ring {
            storage: vec![0u8; capacity].into_boxed_slice(),
        }
    }

    #[inline]
    fn capacity(&self) -> usize {
        self.storage.len()
    }

    /// Index `pos` positions after `base`, wrapped once; callers keep `pos`
    /// below the capacity, so one conditional subtraction replaces a modulo.
    #[inline]
    fn wrap(&self, base: usize, pos: usize) -> usize {
        let i = base + pos;
        if i >= self.storage.len() {
            i - self.storage.len()
        } else {
            i
        }
    }

    /// The (up to two) slices holding `len` bytes starting at ring index `start`.
    #[inline]
    fn slices(&self, start: usize, len: usize) -> (&[u8], &[u8]) {
        let cap = self.storage.len();
        if len == 0 {
            return (&[], &[]);
        }
        let first = len.min(cap - start);
        (
            &self.storage[start..start + first],
            &self.storage[..len - first],
        )
    }

    /// Copy `data` into the ring from ring index `start` on, wrapping once.
    #[inline]
    fn write_at(&mut self, start: usize, data: &[u8]) {
        let cap = self.storage.len();
        let first = data.len().min(cap - start);
        self.storage[start..start + first].copy_from_slice(&data[..first]);
        let rest = data.len() - first;
        if rest > 0 {
            self.storage[..rest].copy_from_slice(&data[first..]);
        }
    }

    /// Copy `out.len()` bytes starting at ring index `start` into `out`.
    #[inline]
    fn read_at(&self, start: usize, out: &mut [u8]) {
        let (a, b) = self.slices(start, out.len());
        out[..a.len()].copy_from_slice(a);
        out[a.len()..].copy_from_slice(b);
    }
}
