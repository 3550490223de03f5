//! The TCP header (RFC 9293 §3.1): a zero-copy view [`Segment`] for the
//! receive path, an owned [`TcpHeader`] that emits, and [`TcpSegment`] that
//! also owns its payload.

use core::fmt;
use core::ops::{BitAnd, BitOr, BitOrAssign, Not};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::checksum::{self, Checksum};
use super::options::{CompactOptions, SackBlocks, TcpOptions, MAX_OPTIONS_LEN};
use super::WireError;
use crate::SeqNum;

/// IP protocol number of TCP.
pub const PROTOCOL_TCP: u8 = 6;

/// Length of the fixed TCP header, without options.
pub const HEADER_LEN: usize = 20;

/// Longest TCP header: data offset 15 words.
pub const MAX_HEADER_LEN: usize = HEADER_LEN + MAX_OPTIONS_LEN;

/// The addresses of the pseudo-header the checksum covers (RFC 9293 §3.1,
/// Figure 2; RFC 8200 §8.1 for IPv6). Protocol (6) and length are filled in
/// when the checksum is computed. `src` is the sender of the segment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PseudoHeader {
    V4 { src: Ipv4Addr, dst: Ipv4Addr },
    V6 { src: Ipv6Addr, dst: Ipv6Addr },
}

impl PseudoHeader {
    #[inline]
    pub const fn v4(src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        PseudoHeader::V4 { src, dst }
    }

    #[inline]
    pub const fn v6(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        PseudoHeader::V6 { src, dst }
    }

    /// From a source and destination of the same family.
    #[inline]
    pub fn new(src: IpAddr, dst: IpAddr) -> Result<Self, WireError> {
        match (src, dst) {
            (IpAddr::V4(s), IpAddr::V4(d)) => Ok(PseudoHeader::v4(s, d)),
            (IpAddr::V6(s), IpAddr::V6(d)) => Ok(PseudoHeader::v6(s, d)),
            _ => Err(WireError::AddressFamilyMismatch),
        }
    }

    #[inline]
    pub fn src(&self) -> IpAddr {
        match *self {
            PseudoHeader::V4 { src, .. } => IpAddr::V4(src),
            PseudoHeader::V6 { src, .. } => IpAddr::V6(src),
        }
    }

    #[inline]
    pub fn dst(&self) -> IpAddr {
        match *self {
            PseudoHeader::V4 { dst, .. } => IpAddr::V4(dst),
            PseudoHeader::V6 { dst, .. } => IpAddr::V6(dst),
        }
    }

    /// The same pair seen from the other end (for a reply).
    #[inline]
    pub fn reversed(&self) -> Self {
        match *self {
            PseudoHeader::V4 { src, dst } => PseudoHeader::V4 { src: dst, dst: src },
            PseudoHeader::V6 { src, dst } => PseudoHeader::V6 { src: dst, dst: src },
        }
    }

    /// Longest TCP segment (header + data) the length field can express.
    #[inline]
    pub fn max_segment_len(&self) -> usize {
        match self {
            PseudoHeader::V4 { .. } => u16::MAX as usize,
            PseudoHeader::V6 { .. } => u32::MAX as usize,
        }
    }

    /// A checksum accumulator primed with this pseudo-header for a TCP
    /// segment of `tcp_len` bytes.
    #[inline]
    pub fn checksum(&self, tcp_len: usize) -> Checksum {
        Checksum::from_raw(self.raw_sum(tcp_len))
    }

    /// Unfolded native-endian sum of the pseudo-header (12 or 40 bytes, so
    /// what follows starts at an even offset).
    #[inline]
    pub(crate) fn raw_sum(&self, tcp_len: usize) -> u64 {
        let proto = u64::from(checksum::to_native(u16::from(PROTOCOL_TCP)));
        match self {
            PseudoHeader::V4 { src, dst } => {
                u64::from(u32::from_ne_bytes(src.octets()))
                    + u64::from(u32::from_ne_bytes(dst.octets()))
                    + proto
                    + u64::from(checksum::to_native(tcp_len as u16))
            }
            PseudoHeader::V6 { src, dst } => {
                let (s, d) = (src.octets(), dst.octets());
                let len = tcp_len as u32;
                let mut sum = checksum::word64(&s[..8]);
                sum = checksum::add_wide(sum, checksum::word64(&s[8..]));
                sum = checksum::add_wide(sum, checksum::word64(&d[..8]));
                sum = checksum::add_wide(sum, checksum::word64(&d[8..]));
                checksum::add_wide(
                    sum,
                    u64::from(checksum::to_native((len >> 16) as u16))
                        + u64::from(checksum::to_native(len as u16))
                        + proto,
                )
            }
        }
    }

    #[inline]
    fn check_len(&self, len: usize) -> Result<(), WireError> {
        let max = self.max_segment_len();
        if len > max {
            return Err(WireError::TooLong { len, max });
        }
        Ok(())
    }
}

/// The eight control bits of byte 13 (RFC 9293 §3.1; ECE and CWR from
/// RFC 3168).
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Flags(pub u8);

impl Flags {
    pub const FIN: Flags = Flags(0x01);
    pub const SYN: Flags = Flags(0x02);
    pub const RST: Flags = Flags(0x04);
    pub const PSH: Flags = Flags(0x08);
    pub const ACK: Flags = Flags(0x10);
    pub const URG: Flags = Flags(0x20);
    pub const ECE: Flags = Flags(0x40);
    pub const CWR: Flags = Flags(0x80);

    #[inline]
    pub const fn empty() -> Flags {
        Flags(0)
    }

    #[inline]
    pub const fn bits(self) -> u8 {
        self.0
    }

    /// All bits of `other` are set in `self`.
    #[inline]
    pub const fn contains(self, other: Flags) -> bool {
        self.0 & other.0 == other.0
    }

    #[inline]
    pub const fn intersects(self, other: Flags) -> bool {
        self.0 & other.0 != 0
    }

    #[inline]
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    #[inline]
    pub fn insert(&mut self, other: Flags) {
        self.0 |= other.0;
    }

    #[inline]
    pub fn remove(&mut self, other: Flags) {
        self.0 &= !other.0;
    }

    #[inline]
    pub const fn fin(self) -> bool {
        self.contains(Flags::FIN)
    }
    #[inline]
    pub const fn syn(self) -> bool {
        self.contains(Flags::SYN)
    }
    #[inline]
    pub const fn rst(self) -> bool {
        self.contains(Flags::RST)
    }
    #[inline]
    pub const fn psh(self) -> bool {
        self.contains(Flags::PSH)
    }
    #[inline]
    pub const fn ack(self) -> bool {
        self.contains(Flags::ACK)
    }
    #[inline]
    pub const fn urg(self) -> bool {
        self.contains(Flags::URG)
    }
    #[inline]
    pub const fn ece(self) -> bool {
        self.contains(Flags::ECE)
    }
    #[inline]
    pub const fn cwr(self) -> bool {
        self.contains(Flags::CWR)
    }
}

impl BitOr for Flags {
    type Output = Flags;
    #[inline]
    fn bitor(self, rhs: Flags) -> Flags {
        Flags(self.0 | rhs.0)
    }
}

impl BitOrAssign for Flags {
    #[inline]
    fn bitor_assign(&mut self, rhs: Flags) {
        self.0 |= rhs.0;
    }
}

impl BitAnd for Flags {
    type Output = Flags;
    #[inline]
    fn bitand(self, rhs: Flags) -> Flags {
        Flags(self.0 & rhs.0)
    }
}

impl Not for Flags {
    type Output = Flags;
    #[inline]
    fn not(self) -> Flags {
        Flags(!self.0)
    }
}

impl fmt::Debug for Flags {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NAMES: [(Flags, &str); 8] = [
            (Flags::CWR, "CWR"),
            (Flags::ECE, "ECE"),
            (Flags::URG, "URG"),
            (Flags::ACK, "ACK"),
            (Flags::PSH, "PSH"),
            (Flags::RST, "RST"),
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
        ];
        if self.is_empty() {
            return f.write_str("(none)");
        }
        let mut first = true;
        for (flag, name) in NAMES {
            if self.contains(flag) {
                if !first {
                    f.write_str("|")?;
                }
                f.write_str(name)?;
                first = false;
            }
        }
        Ok(())
    }
}

impl fmt::Display for Flags {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self, f)
    }
}

/// A received TCP segment: a view over the bytes, header validated, options
/// parsed, checksum verified (unless built with [`Segment::parse_unverified`]).
/// Parsing does not allocate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The fixed header, as an array so the accessors need no bounds checks.
    fixed: &'a [u8; HEADER_LEN],
    bytes: &'a [u8],
    header_len: u8,
    options: CompactOptions,
}

#[inline(always)]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

#[inline(always)]
fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

impl<'a> Segment<'a> {
    /// Parse and validate `bytes` (exactly the TCP segment: header and data),
    /// verifying the checksum against `pseudo` (MUST-3). `pseudo.src` is the
    /// sender of the segment.
    #[inline]
    pub fn parse(bytes: &'a [u8], pseudo: &PseudoHeader) -> Result<Segment<'a>, WireError> {
        let seg = Segment::parse_unverified(bytes)?;
        pseudo.check_len(bytes.len())?;
        // One pass, one fold: the pseudo-header's words and the segment's.
        let sum = checksum::add_wide(pseudo.raw_sum(bytes.len()), checksum::raw_sum(bytes));
        let folded = checksum::fold(sum);
        if folded != 0xffff {
            // The sum over everything, the field included, is all ones when
            // the checksum is right. Otherwise recompute what it should be.
            let found = seg.checksum();
            return Err(WireError::BadChecksum {
                expected: checksum::without_field(checksum::to_network(folded), found),
                found,
            });
        }
        Ok(seg)
    }

    /// Parse and validate everything except the checksum (for bytes whose
    /// checksum was verified elsewhere, e.g. by hardware offload).
    #[inline(always)]
    pub fn parse_unverified(bytes: &'a [u8]) -> Result<Segment<'a>, WireError> {
        if bytes.len() < HEADER_LEN {
            return Err(WireError::TooShort {
                needed: HEADER_LEN,
                got: bytes.len(),
            });
        }
        let data_offset = bytes[12] >> 4;
        if data_offset < 5 {
            return Err(WireError::BadDataOffset(data_offset));
        }
        let header_len = usize::from(data_offset) * 4;
        if bytes.len() < header_len {
            return Err(WireError::TooShort {
                needed: header_len,
                got: bytes.len(),
            });
        }
        let options = if header_len == HEADER_LEN {
            CompactOptions::NONE
        } else {
            CompactOptions::parse(&bytes[HEADER_LEN..header_len])?
        };
        let Some((fixed, _)) = bytes.split_first_chunk::<HEADER_LEN>() else {
            return Err(WireError::TooShort {
                needed: HEADER_LEN,
                got: bytes.len(),
            });
        };
        Ok(Segment {
            fixed,
            bytes,
            header_len: header_len as u8,
            options,
        })
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        be16(self.fixed, 0)
    }
    #[inline]
    pub fn dst_port(&self) -> u16 {
        be16(self.fixed, 2)
    }
    #[inline]
    pub fn seq(&self) -> SeqNum {
        SeqNum(be32(self.fixed, 4))
    }
    #[inline]
    pub fn ack(&self) -> SeqNum {
        SeqNum(be32(self.fixed, 8))
    }
    /// Data offset in 32-bit words (5..=15).
    #[inline]
    pub fn data_offset(&self) -> u8 {
        self.header_len / 4
    }
    /// The four reserved bits between data offset and the control bits.
    #[inline]
    pub fn reserved(&self) -> u8 {
        self.fixed[12] & 0x0f
    }
    #[inline]
    pub fn flags(&self) -> Flags {
        Flags(self.fixed[13])
    }
    /// The window field as sent (unscaled; MUST-1: unsigned).
    #[inline]
    pub fn window(&self) -> u16 {
        be16(self.fixed, 14)
    }
    #[inline]
    pub fn checksum(&self) -> u16 {
        be16(self.fixed, 16)
    }
    #[inline]
    pub fn urgent(&self) -> u16 {
        be16(self.fixed, 18)
    }
    /// All options, parsed (validated already when the segment was).
    #[inline]
    pub fn options(&self) -> SegmentOptions {
        SegmentOptions(self.options.expand(self.options_bytes()))
    }
    /// Maximum segment size option, if present (no need to build
    /// [`TcpOptions`] for one field on the hot path).
    #[inline]
    pub fn mss(&self) -> Option<u16> {
        self.options.mss()
    }
    #[inline]
    pub fn window_scale(&self) -> Option<u8> {
        self.options.window_scale()
    }
    #[inline]
    pub fn sack_permitted(&self) -> bool {
        self.options.sack_permitted()
    }
    /// (TSval, TSecr), if present.
    #[inline]
    pub fn timestamps(&self) -> Option<(u32, u32)> {
        self.options.timestamps()
    }
    #[inline]
    pub fn sack_blocks(&self) -> SackBlocks {
        self.options.sack(self.options_bytes())
    }
    /// The raw options area (header bytes after the first 20).
    #[inline]
    pub fn options_bytes(&self) -> &'a [u8] {
        &self.bytes[HEADER_LEN..self.header_len()]
    }
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.header_len)
    }
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.header_len()..]
    }
    /// The whole segment as parsed.
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }
    /// SEG.LEN: octets of sequence space the segment occupies, counting SYN
    /// and FIN (RFC 9293 §3.4).
    #[inline]
    pub fn seg_len(&self) -> u32 {
        let f = self.flags();
        self.payload().len() as u32 + u32::from(f.syn()) + u32::from(f.fin())
    }

    /// The header as an owned value.
    #[inline]
    pub fn header(&self) -> TcpHeader {
        TcpHeader {
            src_port: self.src_port(),
            dst_port: self.dst_port(),
            seq: self.seq(),
            ack: self.ack(),
            reserved: self.reserved(),
            flags: self.flags(),
            window: self.window(),
            urgent: self.urgent(),
            options: self.options.expand(self.options_bytes()),
        }
    }

    #[inline]
    pub fn to_owned(&self) -> TcpSegment {
        TcpSegment {
            header: self.header(),
            payload: self.payload().to_vec(),
        }
    }
}

impl fmt::Debug for Segment<'_> {
    #[inline]
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Segment")
            .field("src_port", &self.src_port())
            .field("dst_port", &self.dst_port())
            .field("seq", &self.seq())
            .field("ack", &self.ack())
            .field("flags", &self.flags())
            .field("window", &self.window())
            .field("urgent", &self.urgent())
            .field("options", &*self.options())
            .field("payload_len", &self.payload().len())
            .finish()
    }
}

/// The options of a received segment, materialised on request from what the
/// parser recorded. Dereferences to [`TcpOptions`], so `seg.options().mss`
/// and `*seg.options()` both work.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SegmentOptions(pub TcpOptions);

impl core::ops::Deref for SegmentOptions {
    type Target = TcpOptions;
    #[inline]
    fn deref(&self) -> &TcpOptions {
        &self.0
    }
}

impl From<SegmentOptions> for TcpOptions {
    #[inline]
    fn from(o: SegmentOptions) -> TcpOptions {
        o.0
    }
}

/// An owned TCP header, payload not included. The checksum and data offset
/// are not fields: `emit` computes them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpHeader {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: SeqNum,
    pub ack: SeqNum,
    /// The four reserved bits; zero when sending (RFC 9293 §3.1).
    pub reserved: u8,
    pub flags: Flags,
    pub window: u16,
    pub urgent: u16,
    pub options: TcpOptions,
}

impl TcpHeader {
    /// Length of the emitted header: 20 plus the padded options.
    #[inline]
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options.encoded_len()
    }

    /// Write header and `payload` into `out`, with the checksum computed over
    /// `pseudo` (MUST-2); returns the number of bytes written.
    #[inline]
    pub fn emit(
        &self,
        pseudo: &PseudoHeader,
        payload: &[u8],
        out: &mut [u8],
    ) -> Result<usize, WireError> {
        let opt_len = self.options.encoded_len();
        if opt_len > MAX_OPTIONS_LEN {
            return Err(WireError::OptionsTooLong { len: opt_len });
        }
        let header_len = HEADER_LEN + opt_len;
        let total = header_len + payload.len();
        pseudo.check_len(total)?;
        let got = out.len();
        let out = out
            .get_mut(..total)
            .ok_or(WireError::BufferTooSmall { needed: total, got })?;
        let (header, data) = out.split_at_mut(header_len);
        header[0..2].copy_from_slice(&self.src_port.to_be_bytes());
        header[2..4].copy_from_slice(&self.dst_port.to_be_bytes());
        header[4..8].copy_from_slice(&self.seq.0.to_be_bytes());
        header[8..12].copy_from_slice(&self.ack.0.to_be_bytes());
        header[12] = ((header_len / 4) as u8) << 4 | (self.reserved & 0x0f);
        header[13] = self.flags.0;
        header[14..16].copy_from_slice(&self.window.to_be_bytes());
        header[16..18].copy_from_slice(&[0, 0]);
        header[18..20].copy_from_slice(&self.urgent.to_be_bytes());
        self.options.emit(&mut header[HEADER_LEN..])?;
        data.copy_from_slice(payload);
        let mut c = pseudo.checksum(total);
        c.add_bytes(out);
        out[16..18].copy_from_slice(&c.finish().to_be_bytes());
        Ok(total)
    }

    /// Set the checksum field of an already emitted segment after one 16-bit
    /// word changed (RFC 1624), without summing the whole segment again.
    #[inline]
    pub fn update_checksum(segment: &mut [u8], word_at: usize, new: u16) -> Result<(), WireError> {
        if segment.len() < HEADER_LEN || word_at % 2 == 1 || word_at + 2 > segment.len() {
            return Err(WireError::TooShort {
                needed: (word_at + 2).max(HEADER_LEN),
                got: segment.len(),
            });
        }
        let old = be16(segment, word_at);
        let c = be16(segment, 16);
        segment[word_at..word_at + 2].copy_from_slice(&new.to_be_bytes());
        if word_at != 16 {
            let c = checksum::update(c, old, new);
            segment[16..18].copy_from_slice(&c.to_be_bytes());
        }
        Ok(())
    }
}

/// An owned segment: header and payload.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct TcpSegment {
    pub header: TcpHeader,
    pub payload: Vec<u8>,
}

impl TcpSegment {
    #[inline]
    pub fn len(&self) -> usize {
        self.header.header_len() + self.payload.len()
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        false
    }

    #[inline]
    pub fn emit(&self, pseudo: &PseudoHeader, out: &mut [u8]) -> Result<usize, WireError> {
        self.header.emit(pseudo, &self.payload, out)
    }

    #[inline]
    pub fn to_bytes(&self, pseudo: &PseudoHeader) -> Result<Vec<u8>, WireError> {
        let mut out = vec![0u8; self.len()];
        let n = self.emit(pseudo, &mut out)?;
        out.truncate(n);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[inline]
    fn ph() -> PseudoHeader {
        PseudoHeader::v4(Ipv4Addr::new(10, 0, 0, 1), Ipv4Addr::new(10, 0, 0, 2))
    }

    #[test]
    fn emit_parse_syn() {
        let h = TcpHeader {
            src_port: 40000,
            dst_port: 80,
            seq: SeqNum(u32::MAX),
            flags: Flags::SYN,
            window: 65535,
            options: TcpOptions {
                mss: Some(1460),
                window_scale: Some(7),
                sack_permitted: true,
                timestamps: Some((7, 0)),
                ..TcpOptions::new()
            },
            ..TcpHeader::default()
        };
        let mut buf = [0u8; 100];
        let n = h.emit(&ph(), b"hi", &mut buf).unwrap();
        let s = Segment::parse(&buf[..n], &ph()).unwrap();
        assert_eq!(s.header(), h);
        assert_eq!(s.payload(), b"hi");
        assert_eq!(s.seg_len(), 3);
        // Verified by the simple reference over pseudo-header + segment.
        let mut all = vec![10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, n as u8];
        all.extend_from_slice(&buf[..n]);
        assert_eq!(checksum::reference_checksum(&all), 0);
        // Wrong pseudo-header: typed error with both values.
        buf[17] ^= 1;
        let e = Segment::parse(&buf[..n], &ph()).unwrap_err();
        let WireError::BadChecksum { expected, found } = e else {
            panic!("{e:?}");
        };
        assert_eq!(expected ^ found, 1);
    }

    #[test]
    fn incremental_update_matches_emit() {
        let mut h = TcpHeader {
            src_port: 1,
            dst_port: 2,
            window: 100,
            flags: Flags::ACK,
            ..TcpHeader::default()
        };
        let mut a = [0u8; 64];
        let n = h.emit(&ph(), b"abc", &mut a).unwrap();
        TcpHeader::update_checksum(&mut a[..n], 14, 5000).unwrap();
        h.window = 5000;
        let mut b = [0u8; 64];
        h.emit(&ph(), b"abc", &mut b).unwrap();
        assert_eq!(a, b);
    }
}
