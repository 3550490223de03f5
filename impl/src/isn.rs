//! Initial sequence numbers per RFC 6528 and RFC 9293 §3.4.1:
//! ISN = M + F(localip, localport, remoteip, remoteport, secretkey).
//!
//! M is a clock ticking every 4 µs (MUST-8), taken from the `now` the caller
//! passes in. F is SipHash-2-4 keyed with a 128-bit secret (SHLD-1): without
//! the key an observer cannot compute F, so seeing the ISN of one connection
//! does not reveal that of another (MUST-9). Secret and clock are injected,
//! so tests are deterministic.

use core::fmt;
use core::hash::Hasher;
use std::net::{IpAddr, SocketAddr};

use siphasher::sip::SipHasher24;

use crate::{Instant, SeqNum};

/// Generates ISNs from a secret key. The key never appears in `Debug` output.
#[derive(Clone)]
pub struct IsnGenerator {
    key: [u8; 16],
}

impl IsnGenerator {
    /// A generator with the given secret. Keep the secret secret (MUST-9).
    pub const fn new(secret: [u8; 16]) -> Self {
        IsnGenerator { key: secret }
    }

    /// A generator with a secret drawn from the standard library's per-process
    /// random hash keys (seeded by the operating system). For programs that
    /// need no reproducibility; tests should use [`IsnGenerator::new`].
    pub fn from_process_randomness() -> Self {
        use std::collections::hash_map::RandomState;
        use std::hash::BuildHasher;
        let mut key = [0u8; 16];
        for (i, half) in key.chunks_exact_mut(8).enumerate() {
            let mut h = RandomState::new().build_hasher();
            h.write_usize(i);
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        IsnGenerator { key }
    }

    /// M: the 4 µs clock, wrapping every 2^32 ticks (about 4.77 hours).
    pub const fn clock(now: Instant) -> u32 {
        (now.micros() / 4) as u32
    }

    /// F: the keyed hash of the connection's 4-tuple.
    pub fn offset(&self, local: SocketAddr, remote: SocketAddr) -> u32 {
        let mut h = SipHasher24::new_with_key(&self.key);
        for addr in [local, remote] {
            // The family tag and fixed widths keep distinct tuples distinct.
            match addr.ip() {
                IpAddr::V4(ip) => {
                    h.write_u8(4);
                    h.write(&ip.octets());
                }
                IpAddr::V6(ip) => {
                    h.write_u8(6);
                    h.write(&ip.octets());
                }
            }
            h.write(&addr.port().to_be_bytes());
        }
        h.finish() as u32
    }

    /// The ISN for a connection from `local` to `remote` opened at `now`.
    pub fn isn(&self, now: Instant, local: SocketAddr, remote: SocketAddr) -> SeqNum {
        SeqNum(Self::clock(now).wrapping_add(self.offset(local, remote)))
    }
}

impl fmt::Debug for IsnGenerator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("IsnGenerator { key: <secret> }")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tuple() -> (SocketAddr, SocketAddr) {
        (
            "10.0.0.1:40000".parse().unwrap(),
            "10.0.0.2:80".parse().unwrap(),
        )
    }

    #[test]
    fn clock_advances_one_per_4us_for_a_fixed_tuple() {
        let g = IsnGenerator::new([7; 16]);
        let (l, r) = tuple();
        let a = g.isn(Instant::from_micros(1_000), l, r);
        let b = g.isn(Instant::from_micros(1_000 + 4 * 250), l, r);
        assert_eq!(b.distance_from(a), 250);
        // Same tick, same ISN: the function is deterministic.
        assert_eq!(g.isn(Instant::from_micros(1_003), l, r), a);
    }

    #[test]
    fn key_and_tuple_change_the_offset() {
        let (l, r) = tuple();
        let g = IsnGenerator::new([1; 16]);
        let other_key = IsnGenerator::new([2; 16]);
        assert_ne!(g.offset(l, r), other_key.offset(l, r));
        let r2: SocketAddr = "10.0.0.2:81".parse().unwrap();
        assert_ne!(g.offset(l, r), g.offset(l, r2));
        assert_ne!(g.offset(l, r), g.offset(r, l));
        assert!(!format!("{g:?}").contains('1'));
    }

    #[test]
    fn clock_wraps() {
        let t = Instant::from_micros(4 * (1u64 << 32) + 8);
        assert_eq!(IsnGenerator::clock(t), 2);
    }
}
