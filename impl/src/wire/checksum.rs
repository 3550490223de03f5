//! The Internet checksum (RFC 1071) as TCP uses it (RFC 9293 §3.1, MUST-2/3),
//! with incremental update (RFC 1624).
//!
//! The ones' complement sum does not depend on byte order (RFC 1071 §2(B)):
//! we add the data as native-endian words and convert once at the end. Sums
//! are kept in wide accumulators (several independent u64 lanes, or SIMD
//! lanes chosen at run time) and folded to 16 bits only when finished.

/// Which summing routine to use. [`Implementation::best`] is what the parser
/// and emitter use; the others exist so tests and benches can compare paths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Implementation {
    /// Four chains of 64-bit words with end-around carry; any target.
    Portable,
    /// 128-bit SSE2 lanes (x86_64 only).
    Sse2,
    /// 256-bit AVX2 lanes (x86_64 only, detected at run time).
    Avx2,
}

impl Implementation {
    pub const ALL: [Implementation; 3] = [
        Implementation::Portable,
        Implementation::Sse2,
        Implementation::Avx2,
    ];

    /// Whether this CPU can run the routine.
    #[inline]
    pub fn is_available(self) -> bool {
        match self {
            Implementation::Portable => true,
            #[cfg(target_arch = "x86_64")]
            Implementation::Sse2 => std::arch::is_x86_feature_detected!("sse2"),
            #[cfg(target_arch = "x86_64")]
            Implementation::Avx2 => std::arch::is_x86_feature_detected!("avx2"),
            #[cfg(not(target_arch = "x86_64"))]
            _ => false,
        }
    }

    /// The fastest routine this CPU supports for long inputs.
    #[inline]
    pub fn best() -> Implementation {
        if Implementation::Avx2.is_available() {
            Implementation::Avx2
        } else if Implementation::Sse2.is_available() {
            Implementation::Sse2
        } else {
            Implementation::Portable
        }
    }

    /// Folded ones' complement sum of `data` (network byte order, not
    /// complemented), or `None` if this CPU lacks the routine.
    #[inline]
    pub fn sum(self, data: &[u8]) -> Option<u16> {
        if !self.is_available() {
            return None;
        }
        Some(to_network(fold(self.raw_sum(data))))
    }

    /// Unfolded native-endian sum; the caller has checked availability.
    #[inline]
    fn raw_sum(self, data: &[u8]) -> u64 {
        match self {
            Implementation::Portable => sum_portable(data),
            #[cfg(target_arch = "x86_64")]
            // SAFETY: callers only reach this after `is_available` said the CPU
            // has SSE2.
            Implementation::Sse2 => unsafe { simd::sum_sse2(data) },
            #[cfg(target_arch = "x86_64")]
            // SAFETY: as above, for AVX2.
            Implementation::Avx2 => unsafe { simd::sum_avx2(data) },
            #[cfg(not(target_arch = "x86_64"))]
            _ => sum_portable(data),
        }
    }
}

/// Below this many bytes the SIMD set-up costs more than it saves.
const SIMD_THRESHOLD: usize = 128;

/// Unfolded native-endian ones' complement sum of `data`, odd tail padded with
/// a zero byte, using the fastest routine available. Short inputs (a bare
/// header) stay inline; long ones go to the SIMD routines.
#[inline(always)]
pub(crate) fn raw_sum(data: &[u8]) -> u64 {
    if data.len() >= SIMD_THRESHOLD {
        raw_sum_long(data)
    } else {
        sum_portable(data)
    }
}

#[inline(never)]
fn raw_sum_long(data: &[u8]) -> u64 {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx2") {
            // SAFETY: AVX2 support was just detected.
            return unsafe { simd::sum_avx2(data) };
        }
        // SAFETY: SSE2 is part of the x86_64 baseline.
        unsafe { simd::sum_sse2(data) }
    }
    #[cfg(not(target_arch = "x86_64"))]
    sum_portable(data)
}

/// Fold a wide sum to 16 bits with end-around carry.
#[inline(always)]
pub(crate) const fn fold(sum: u64) -> u16 {
    let (s, c) = (sum as u32).overflowing_add((sum >> 32) as u32);
    let s = s.wrapping_add(c as u32);
    let (s, c) = (s as u16).overflowing_add((s >> 16) as u16);
    s.wrapping_add(c as u16)
}

/// A folded native-endian sum as a network-order 16-bit value.
#[inline]
pub(crate) const fn to_network(native: u16) -> u16 {
    u16::from_be(native)
}

/// A network-order 16-bit value as the native word the sums are made of.
#[inline]
pub(crate) const fn to_native(network: u16) -> u16 {
    network.to_be()
}

/// Ones' complement addition of two wide sums: 2^64 is 1 modulo 0xffff, so
/// the carry out of bit 63 goes back in at bit 0.
#[inline(always)]
pub(crate) const fn add_wide(a: u64, b: u64) -> u64 {
    let (s, carry) = a.overflowing_add(b);
    s + carry as u64
}

#[inline(always)]
pub(crate) fn word64(c: &[u8]) -> u64 {
    u64::from_ne_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]])
}

/// 64-bit words with end-around carry (add, then add the carry back), in four
/// independent chains so the adds overlap instead of waiting on each other's
/// carries; then the tail by 16, 8, 4, 2 and 1 bytes. A bare 20- or 32-byte
/// header takes a handful of instructions.
#[inline(always)]
fn sum_portable(data: &[u8]) -> u64 {
    let (mut a, mut b, mut c, mut d) = (0u64, 0u64, 0u64, 0u64);
    let mut chunks = data.chunks_exact(32);
    for x in &mut chunks {
        a = add_wide(a, word64(&x[..8]));
        b = add_wide(b, word64(&x[8..16]));
        c = add_wide(c, word64(&x[16..24]));
        d = add_wide(d, word64(&x[24..]));
    }
    let mut rest = chunks.remainder();
    if rest.len() >= 16 {
        a = add_wide(a, word64(rest));
        b = add_wide(b, word64(&rest[8..]));
        rest = &rest[16..];
    }
    if rest.len() >= 8 {
        c = add_wide(c, word64(rest));
        rest = &rest[8..];
    }
    if rest.len() >= 4 {
        d = add_wide(
            d,
            u64::from(u32::from_ne_bytes([rest[0], rest[1], rest[2], rest[3]])),
        );
        rest = &rest[4..];
    }
    if rest.len() >= 2 {
        a = add_wide(a, u64::from(u16::from_ne_bytes([rest[0], rest[1]])));
        rest = &rest[2..];
    }
    if let [last] = rest {
        // RFC 9293 §3.1: an odd final octet is padded with a zero on its right.
        b = add_wide(b, u64::from(u16::from_ne_bytes([*last, 0])));
    }
    add_wide(add_wide(a, b), add_wide(c, d))
}

#[cfg(target_arch = "x86_64")]
mod simd {
    //! SIMD sums. Each 32-bit lane holds two little-endian words `lo + hi<<16`.
    //! Per lane we keep the wrapping sum of whole lanes (`all`) and the sum of
    //! the high words (`hi`); then `all - hi<<16 (mod 2^32)` is the sum of the
    //! low words, exact while it stays below 2^32. A block of at most 65535
    //! vectors per lane guarantees that, so blocks are flushed into a u64.
    //! Three vector ops per vector: one add, one shift, one add.

    use core::arch::x86_64::*;

    /// Vectors per lane per block; well under the 65535 bound above.
    const BLOCK: usize = 16384;

    #[inline]
    fn reduce(all: &[u32], hi: &[u32]) -> u64 {
        all.iter()
            .zip(hi)
            .map(|(&a, &h)| u64::from(a.wrapping_sub(h << 16)) + u64::from(h))
            .sum()
    }

    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    pub(super) unsafe fn sum_avx2(data: &[u8]) -> u64 {
        let mut total = 0u64;
        let mut chunks = data.chunks_exact(64);
        loop {
            let mut all0 = _mm256_setzero_si256();
            let mut hi0 = _mm256_setzero_si256();
            let mut all1 = _mm256_setzero_si256();
            let mut hi1 = _mm256_setzero_si256();
            let mut n = 0;
            for c in chunks.by_ref().take(BLOCK) {
                // SAFETY: `c` is 64 readable bytes; loadu has no alignment need.
                let (v0, v1) = unsafe {
                    let p = c.as_ptr().cast::<__m256i>();
                    (_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
                };
                all0 = _mm256_add_epi32(all0, v0);
                hi0 = _mm256_add_epi32(hi0, _mm256_srli_epi32::<16>(v0));
                all1 = _mm256_add_epi32(all1, v1);
                hi1 = _mm256_add_epi32(hi1, _mm256_srli_epi32::<16>(v1));
                n += 1;
            }
            if n == 0 {
                break;
            }
            // Lane-wise sums of the two pairs stay exact: each lane has taken
            // at most 2 * BLOCK words of at most 0xffff, below 2^32.
            let all = _mm256_add_epi32(all0, all1);
            let hi = _mm256_add_epi32(hi0, hi1);
            // SAFETY: this function only runs on CPUs with AVX2.
            total += unsafe { reduce_avx2(all, hi) };
        }
        // One more whole vector from the tail, if there is one.
        let mut rest = chunks.remainder();
        if let Some(v) = rest.first_chunk::<32>() {
            // SAFETY: `v` is 32 readable bytes; loadu has no alignment need.
            let v = unsafe { _mm256_loadu_si256(v.as_ptr().cast::<__m256i>()) };
            // SAFETY: as above.
            total += unsafe { reduce_avx2(v, _mm256_srli_epi32::<16>(v)) };
            rest = &rest[32..];
        }
        super::add_wide(total, super::sum_portable(rest))
    }

    /// Sum of the eight low words (`all - hi<<16` per lane) and the eight
    /// high words, widened to 64 bits in vector registers.
    ///
    /// # Safety
    /// The CPU must support AVX2.
    #[target_feature(enable = "avx2")]
    unsafe fn reduce_avx2(all: __m256i, hi: __m256i) -> u64 {
        let lo = _mm256_sub_epi32(all, _mm256_slli_epi32::<16>(hi));
        let mask = _mm256_set1_epi64x(0xffff_ffff);
        let lo64 = _mm256_add_epi64(_mm256_and_si256(lo, mask), _mm256_srli_epi64::<32>(lo));
        let hi64 = _mm256_add_epi64(_mm256_and_si256(hi, mask), _mm256_srli_epi64::<32>(hi));
        let s = _mm256_add_epi64(lo64, hi64);
        let mut out = [0u64; 4];
        // SAFETY: `out` is 32 bytes, room for one unaligned store.
        unsafe { _mm256_storeu_si256(out.as_mut_ptr().cast::<__m256i>(), s) };
        out.iter().sum()
    }

    /// # Safety
    /// The CPU must support SSE2 (always true on x86_64).
    #[target_feature(enable = "sse2")]
    pub(super) unsafe fn sum_sse2(data: &[u8]) -> u64 {
        let mut total = 0u64;
        let mut chunks = data.chunks_exact(32);
        loop {
            let mut all0 = _mm_setzero_si128();
            let mut hi0 = _mm_setzero_si128();
            let mut all1 = _mm_setzero_si128();
            let mut hi1 = _mm_setzero_si128();
            let mut n = 0;
            for c in chunks.by_ref().take(BLOCK) {
                // SAFETY: `c` is 32 readable bytes; loadu has no alignment need.
                let (v0, v1) = unsafe {
                    let p = c.as_ptr().cast::<__m128i>();
                    (_mm_loadu_si128(p), _mm_loadu_si128(p.add(1)))
                };
                all0 = _mm_add_epi32(all0, v0);
                hi0 = _mm_add_epi32(hi0, _mm_srli_epi32::<16>(v0));
                all1 = _mm_add_epi32(all1, v1);
                hi1 = _mm_add_epi32(hi1, _mm_srli_epi32::<16>(v1));
                n += 1;
            }
            if n == 0 {
                break;
            }
            let mut a = [0u32; 8];
            let mut h = [0u32; 8];
            // SAFETY: each array is 32 bytes, room for two unaligned stores.
            unsafe {
                let pa = a.as_mut_ptr().cast::<__m128i>();
                let ph = h.as_mut_ptr().cast::<__m128i>();
                _mm_storeu_si128(pa, all0);
                _mm_storeu_si128(pa.add(1), all1);
                _mm_storeu_si128(ph, hi0);
                _mm_storeu_si128(ph.add(1), hi1);
            }
            total += reduce(&a, &h);
        }
        super::add_wide(total, super::sum_portable(chunks.remainder()))
    }
}

/// Folded ones' complement sum of `data` in network byte order (not
/// complemented).
#[inline]
pub fn ones_complement_sum(data: &[u8]) -> u16 {
    to_network(fold(raw_sum(data)))
}

/// The Internet checksum of `data`: the complement of its ones' complement sum.
#[inline]
pub fn checksum(data: &[u8]) -> u16 {
    !ones_complement_sum(data)
}

/// A byte-pair-at-a-time reference, written to be obviously right; tests
/// compare every fast path against it.
#[inline]
pub fn reference_checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = 0;
    let mut i = 0;
    while i < data.len() {
        let hi = u32::from(data[i]);
        let lo = data.get(i + 1).map_or(0, |&b| u32::from(b));
        sum += (hi << 8) | lo;
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        i += 2;
    }
    !(sum as u16)
}

/// An accumulator over several pieces of a message (pseudo-header, header,
/// payload). Pieces may have any length: one that starts at an odd offset has
/// its sum byte-swapped, which is the same as summing it in place (RFC 1071).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Checksum {
    sum: u64,
    odd: bool,
}

impl Checksum {
    #[inline]
    pub const fn new() -> Self {
        Checksum { sum: 0, odd: false }
    }

    /// Start from an unfolded native-endian sum of an even number of bytes.
    #[inline]
    pub(crate) const fn from_raw(sum: u64) -> Self {
        Checksum {
            sum: fold(sum) as u64,
            odd: false,
        }
    }

    #[inline]
    pub fn add_bytes(&mut self, data: &[u8]) -> &mut Self {
        let mut s = fold(raw_sum(data));
        if self.odd {
            s = s.swap_bytes();
        }
        self.sum += u64::from(s);
        self.odd ^= data.len() % 2 == 1;
        self
    }

    /// Add a 16-bit value given in host order, as it stands on the wire in
    /// network order (at an odd offset its bytes straddle two words, which
    /// the byte swap accounts for).
    #[inline]
    pub fn add_u16(&mut self, value: u16) -> &mut Self {
        let w = to_native(value);
        self.sum += u64::from(if self.odd { w.swap_bytes() } else { w });
        self
    }

    /// Add a 32-bit value given in host order (two wire words).
    #[inline]
    pub fn add_u32(&mut self, value: u32) -> &mut Self {
        self.add_u16((value >> 16) as u16);
        self.add_u16(value as u16)
    }

    /// Folded sum so far, network order, not complemented.
    #[inline]
    pub fn sum(&self) -> u16 {
        to_network(fold(self.sum))
    }

    /// The checksum to put in a header: the complement of the sum.
    #[inline]
    pub fn finish(&self) -> u16 {
        !self.sum()
    }
}

/// RFC 1624 eqn. 3: the new checksum after one 16-bit word of the covered
/// data changed from `old` to `new`, without touching the rest:
/// HC' = ~(~HC + ~m + m').
#[inline]
pub fn update(checksum: u16, old: u16, new: u16) -> u16 {
    let sum = u32::from(!checksum) + u32::from(!old) + u32::from(new);
    !fold(u64::from(sum))
}

/// The checksum a message should carry, given the folded `sum` over all of
/// it with the checksum field holding `field`: remove the field, complement.
#[inline]
pub fn without_field(sum: u16, field: u16) -> u16 {
    !fold(u64::from(sum) + u64::from(!field))
}

/// [`update`] for a 32-bit field (e.g. a sequence number), as two words.
#[inline]
pub fn update_u32(checksum: u16, old: u32, new: u32) -> u16 {
    let c = update(checksum, (old >> 16) as u16, (new >> 16) as u16);
    update(c, old as u16, new as u16)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc1071_example() {
        // RFC 1071 §3's worked example: the sum of these bytes is 0xddf2.
        let data = [0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7];
        assert_eq!(ones_complement_sum(&data), 0xddf2);
        assert_eq!(checksum(&data), !0xddf2);
        assert_eq!(reference_checksum(&data), !0xddf2);
    }

    #[test]
    fn every_path_matches_reference_on_a_long_odd_buffer() {
        let data: Vec<u8> = (0..70_001u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        let want = !reference_checksum(&data);
        for imp in Implementation::ALL {
            if let Some(got) = imp.sum(&data) {
                assert_eq!(got, want, "{imp:?}");
            }
        }
    }

    #[test]
    fn all_ones_does_not_overflow_the_lanes() {
        // Worst case for the SIMD lanes: every word 0xffff, more than a block.
        let data = vec![0xffu8; 64 * 16384 * 2 + 37];
        let want = !reference_checksum(&data);
        for imp in Implementation::ALL {
            if let Some(got) = imp.sum(&data) {
                assert_eq!(got, want, "{imp:?}");
            }
        }
    }

    #[test]
    fn add_u16_at_an_odd_offset() {
        let mut c = Checksum::new();
        c.add_bytes(&[0x12]).add_u16(0x3456).add_bytes(&[0x78]);
        assert_eq!(c.finish(), reference_checksum(&[0x12, 0x34, 0x56, 0x78]));
    }

    #[test]
    fn accumulator_handles_odd_pieces() {
        let data: Vec<u8> = (0..301u32).map(|i| (i * 7 + 3) as u8).collect();
        for cut in [0, 1, 2, 3, 150, 151, 300, 301] {
            let mut c = Checksum::new();
            c.add_bytes(&data[..cut]).add_bytes(&data[cut..]);
            assert_eq!(c.finish(), reference_checksum(&data), "cut at {cut}");
        }
    }
}
