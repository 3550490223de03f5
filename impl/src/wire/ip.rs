//! A minimal IPv4 (RFC 791) and IPv6 (RFC 8200) layer: enough to carry TCP to
//! and from a TUN device and into a pcap. No fragmentation or reassembly; IPv4
//! options and the common IPv6 extension headers are skipped.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::checksum::{self, Checksum};
use super::tcp::{PseudoHeader, Segment, TcpHeader, PROTOCOL_TCP};
use super::WireError;

pub const IPV4_HEADER_LEN: usize = 20;
pub const IPV6_HEADER_LEN: usize = 40;

/// Default TTL / hop limit for emitted packets.
pub const DEFAULT_HOP_LIMIT: u8 = 64;

#[inline(always)]
fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// A validated IPv4 packet: version, header length, total length and header
/// checksum checked. The view ends at the total length (link padding dropped).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv4Packet<'a> {
    bytes: &'a [u8],
    header_len: u8,
}

impl<'a> Ipv4Packet<'a> {
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Ipv4Packet<'a>, WireError> {
        if bytes.len() < IPV4_HEADER_LEN {
            return Err(WireError::TooShort {
                needed: IPV4_HEADER_LEN,
                got: bytes.len(),
            });
        }
        let version = bytes[0] >> 4;
        if version != 4 {
            return Err(WireError::BadIpVersion(version));
        }
        let ihl = bytes[0] & 0x0f;
        if ihl < 5 {
            return Err(WireError::BadIpHeaderLength(ihl));
        }
        let header_len = usize::from(ihl) * 4;
        let total = usize::from(be16(bytes, 2));
        if total < header_len || total > bytes.len() {
            return Err(WireError::BadIpLength {
                field: total,
                header_len,
                got: bytes.len(),
            });
        }
        let header = &bytes[..header_len];
        if checksum::checksum(header) != 0 {
            let found = be16(header, 10);
            let mut c = Checksum::new();
            c.add_bytes(&header[..10]).add_bytes(&header[12..]);
            return Err(WireError::BadIpChecksum {
                expected: c.finish(),
                found,
            });
        }
        Ok(Ipv4Packet {
            bytes: &bytes[..total],
            header_len: header_len as u8,
        })
    }

    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(self.header_len)
    }
    #[inline]
    pub fn total_len(&self) -> usize {
        self.bytes.len()
    }
    #[inline]
    pub fn dscp_ecn(&self) -> u8 {
        self.bytes[1]
    }
    #[inline]
    pub fn identification(&self) -> u16 {
        be16(self.bytes, 4)
    }
    #[inline]
    pub fn dont_fragment(&self) -> bool {
        self.bytes[6] & 0x40 != 0
    }
    #[inline]
    pub fn more_fragments(&self) -> bool {
        self.bytes[6] & 0x20 != 0
    }
    /// Fragment offset in 8-byte units.
    #[inline]
    pub fn fragment_offset(&self) -> u16 {
        be16(self.bytes, 6) & 0x1fff
    }
    #[inline]
    pub fn ttl(&self) -> u8 {
        self.bytes[8]
    }
    #[inline]
    pub fn protocol(&self) -> u8 {
        self.bytes[9]
    }
    #[inline]
    pub fn header_checksum(&self) -> u16 {
        be16(self.bytes, 10)
    }
    #[inline]
    pub fn src(&self) -> Ipv4Addr {
        Ipv4Addr::new(
            self.bytes[12],
            self.bytes[13],
            self.bytes[14],
            self.bytes[15],
        )
    }
    #[inline]
    pub fn dst(&self) -> Ipv4Addr {
        Ipv4Addr::new(
            self.bytes[16],
            self.bytes[17],
            self.bytes[18],
            self.bytes[19],
        )
    }
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[self.header_len()..]
    }
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    #[inline]
    pub fn header(&self) -> Ipv4Header {
        Ipv4Header {
            src: self.src(),
            dst: self.dst(),
            protocol: self.protocol(),
            ttl: self.ttl(),
            identification: self.identification(),
            dscp_ecn: self.dscp_ecn(),
            dont_fragment: self.dont_fragment(),
        }
    }
}

/// An owned IPv4 header without options, for emitting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv4Header {
    pub src: Ipv4Addr,
    pub dst: Ipv4Addr,
    pub protocol: u8,
    pub ttl: u8,
    pub identification: u16,
    pub dscp_ecn: u8,
    pub dont_fragment: bool,
}

impl Ipv4Header {
    /// A header for a TCP packet with the usual defaults (TTL 64, DF set).
    #[inline]
    pub fn tcp(src: Ipv4Addr, dst: Ipv4Addr) -> Self {
        Ipv4Header {
            src,
            dst,
            protocol: PROTOCOL_TCP,
            ttl: DEFAULT_HOP_LIMIT,
            identification: 0,
            dscp_ecn: 0,
            dont_fragment: true,
        }
    }

    /// Write the 20-byte header, with its checksum, for a payload of
    /// `payload_len` bytes; returns 20.
    #[inline]
    pub fn emit(&self, payload_len: usize, out: &mut [u8]) -> Result<usize, WireError> {
        let total = IPV4_HEADER_LEN + payload_len;
        if total > usize::from(u16::MAX) {
            return Err(WireError::TooLong {
                len: total,
                max: usize::from(u16::MAX),
            });
        }
        let got = out.len();
        let h = out
            .get_mut(..IPV4_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall {
                needed: IPV4_HEADER_LEN,
                got,
            })?;
        h[0] = 0x45;
        h[1] = self.dscp_ecn;
        h[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        h[4..6].copy_from_slice(&self.identification.to_be_bytes());
        h[6] = if self.dont_fragment { 0x40 } else { 0 };
        h[7] = 0;
        h[8] = self.ttl;
        h[9] = self.protocol;
        h[10..12].copy_from_slice(&[0, 0]);
        h[12..16].copy_from_slice(&self.src.octets());
        h[16..20].copy_from_slice(&self.dst.octets());
        let c = checksum::checksum(h);
        h[10..12].copy_from_slice(&c.to_be_bytes());
        Ok(IPV4_HEADER_LEN)
    }
}

/// IPv6 extension headers skipped on the way to TCP: hop-by-hop options,
/// routing, destination options (RFC 8200 §4); fragment is refused.
const EXT_HOP_BY_HOP: u8 = 0;
const EXT_ROUTING: u8 = 43;
const EXT_FRAGMENT: u8 = 44;
const EXT_DEST_OPTS: u8 = 60;

/// A validated IPv6 packet: version and payload length checked. The view ends
/// at 40 + payload length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ipv6Packet<'a> {
    bytes: &'a [u8],
}

impl<'a> Ipv6Packet<'a> {
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<Ipv6Packet<'a>, WireError> {
        if bytes.len() < IPV6_HEADER_LEN {
            return Err(WireError::TooShort {
                needed: IPV6_HEADER_LEN,
                got: bytes.len(),
            });
        }
        let version = bytes[0] >> 4;
        if version != 6 {
            return Err(WireError::BadIpVersion(version));
        }
        let total = IPV6_HEADER_LEN + usize::from(be16(bytes, 4));
        if total > bytes.len() {
            return Err(WireError::BadIpLength {
                field: total - IPV6_HEADER_LEN,
                header_len: IPV6_HEADER_LEN,
                got: bytes.len(),
            });
        }
        Ok(Ipv6Packet {
            bytes: &bytes[..total],
        })
    }

    #[inline]
    pub fn traffic_class(&self) -> u8 {
        (self.bytes[0] << 4) | (self.bytes[1] >> 4)
    }
    #[inline]
    pub fn flow_label(&self) -> u32 {
        u32::from_be_bytes([0, self.bytes[1] & 0x0f, self.bytes[2], self.bytes[3]])
    }
    #[inline]
    pub fn payload_len(&self) -> usize {
        self.bytes.len() - IPV6_HEADER_LEN
    }
    #[inline]
    pub fn next_header(&self) -> u8 {
        self.bytes[6]
    }
    #[inline]
    pub fn hop_limit(&self) -> u8 {
        self.bytes[7]
    }
    #[inline]
    pub fn src(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.bytes[8..24]);
        Ipv6Addr::from(a)
    }
    #[inline]
    pub fn dst(&self) -> Ipv6Addr {
        let mut a = [0u8; 16];
        a.copy_from_slice(&self.bytes[24..40]);
        Ipv6Addr::from(a)
    }
    /// Everything after the fixed 40-byte header.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        &self.bytes[IPV6_HEADER_LEN..]
    }
    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The upper-layer protocol and its bytes, past any hop-by-hop, routing or
    /// destination-options headers.
    #[inline]
    pub fn upper_layer(&self) -> Result<(u8, &'a [u8]), WireError> {
        let mut next = self.next_header();
        let mut rest = self.payload();
        loop {
            match next {
                EXT_HOP_BY_HOP | EXT_ROUTING | EXT_DEST_OPTS => {
                    if rest.len() < 8 {
                        return Err(WireError::TooShort {
                            needed: 8,
                            got: rest.len(),
                        });
                    }
                    let len = (usize::from(rest[1]) + 1) * 8;
                    if rest.len() < len {
                        return Err(WireError::TooShort {
                            needed: len,
                            got: rest.len(),
                        });
                    }
                    next = rest[0];
                    rest = &rest[len..];
                }
                EXT_FRAGMENT => {
                    if rest.len() < 8 {
                        return Err(WireError::TooShort {
                            needed: 8,
                            got: rest.len(),
                        });
                    }
                    let word = be16(rest, 2);
                    return Err(WireError::Fragmented {
                        offset: word >> 3,
                        more: word & 1 != 0,
                    });
                }
                _ => return Ok((next, rest)),
            }
        }
    }

    #[inline]
    pub fn header(&self) -> Ipv6Header {
        Ipv6Header {
            src: self.src(),
            dst: self.dst(),
            next_header: self.next_header(),
            hop_limit: self.hop_limit(),
            traffic_class: self.traffic_class(),
            flow_label: self.flow_label(),
        }
    }
}

/// An owned IPv6 fixed header, for emitting (no extension headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Ipv6Header {
    pub src: Ipv6Addr,
    pub dst: Ipv6Addr,
    pub next_header: u8,
    pub hop_limit: u8,
    pub traffic_class: u8,
    /// 20 bits; higher bits are ignored.
    pub flow_label: u32,
}

impl Ipv6Header {
    #[inline]
    pub fn tcp(src: Ipv6Addr, dst: Ipv6Addr) -> Self {
        Ipv6Header {
            src,
            dst,
            next_header: PROTOCOL_TCP,
            hop_limit: DEFAULT_HOP_LIMIT,
            traffic_class: 0,
            flow_label: 0,
        }
    }

    /// Write the 40-byte header for a payload of `payload_len` bytes.
    #[inline]
    pub fn emit(&self, payload_len: usize, out: &mut [u8]) -> Result<usize, WireError> {
        if payload_len > usize::from(u16::MAX) {
            return Err(WireError::TooLong {
                len: payload_len,
                max: usize::from(u16::MAX),
            });
        }
        let got = out.len();
        let h = out
            .get_mut(..IPV6_HEADER_LEN)
            .ok_or(WireError::BufferTooSmall {
                needed: IPV6_HEADER_LEN,
                got,
            })?;
        let word =
            (6u32 << 28) | (u32::from(self.traffic_class) << 20) | (self.flow_label & 0xf_ffff);
        h[0..4].copy_from_slice(&word.to_be_bytes());
        h[4..6].copy_from_slice(&(payload_len as u16).to_be_bytes());
        h[6] = self.next_header;
        h[7] = self.hop_limit;
        h[8..24].copy_from_slice(&self.src.octets());
        h[24..40].copy_from_slice(&self.dst.octets());
        Ok(IPV6_HEADER_LEN)
    }
}

/// An IPv4 or IPv6 packet, told apart by the version nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpPacket<'a> {
    V4(Ipv4Packet<'a>),
    V6(Ipv6Packet<'a>),
}

impl<'a> IpPacket<'a> {
    #[inline]
    pub fn parse(bytes: &'a [u8]) -> Result<IpPacket<'a>, WireError> {
        match bytes.first().map(|b| b >> 4) {
            Some(4) => Ipv4Packet::parse(bytes).map(IpPacket::V4),
            Some(6) => Ipv6Packet::parse(bytes).map(IpPacket::V6),
            Some(v) => Err(WireError::BadIpVersion(v)),
            None => Err(WireError::TooShort { needed: 1, got: 0 }),
        }
    }

    #[inline]
    pub fn src(&self) -> IpAddr {
        match self {
            IpPacket::V4(p) => IpAddr::V4(p.src()),
            IpPacket::V6(p) => IpAddr::V6(p.src()),
        }
    }

    #[inline]
    pub fn dst(&self) -> IpAddr {
        match self {
            IpPacket::V4(p) => IpAddr::V4(p.dst()),
            IpPacket::V6(p) => IpAddr::V6(p.dst()),
        }
    }

    #[inline]
    pub fn as_bytes(&self) -> &'a [u8] {
        match self {
            IpPacket::V4(p) => p.as_bytes(),
            IpPacket::V6(p) => p.as_bytes(),
        }
    }

    /// The pseudo-header and the bytes of the TCP segment this packet carries;
    /// an error if it carries something else or is a fragment.
    #[inline]
    pub fn tcp_bytes(&self) -> Result<(PseudoHeader, &'a [u8]), WireError> {
        match self {
            IpPacket::V4(p) => {
                if p.more_fragments() || p.fragment_offset() != 0 {
                    return Err(WireError::Fragmented {
                        offset: p.fragment_offset(),
                        more: p.more_fragments(),
                    });
                }
                if p.protocol() != PROTOCOL_TCP {
                    return Err(WireError::NotTcp(p.protocol()));
                }
                Ok((PseudoHeader::v4(p.src(), p.dst()), p.payload()))
            }
            IpPacket::V6(p) => {
                let (proto, bytes) = p.upper_layer()?;
                if proto != PROTOCOL_TCP {
                    return Err(WireError::NotTcp(proto));
                }
                Ok((PseudoHeader::v6(p.src(), p.dst()), bytes))
            }
        }
    }

    /// The TCP segment this packet carries, checksum verified.
    #[inline]
    pub fn tcp(&self) -> Result<(PseudoHeader, Segment<'a>), WireError> {
        let (pseudo, bytes) = self.tcp_bytes()?;
        Ok((pseudo, Segment::parse(bytes, &pseudo)?))
    }
}

/// Parse a whole IP packet carrying TCP: IP checks, then the segment with its
/// checksum verified.
#[inline]
pub fn parse_tcp_packet(bytes: &[u8]) -> Result<(IpPacket<'_>, Segment<'_>), WireError> {
    let ip = IpPacket::parse(bytes)?;
    let (_, seg) = ip.tcp()?;
    Ok((ip, seg))
}

/// Write a whole IP packet (IPv4 or IPv6 by the addresses' family) carrying
/// the TCP segment `tcp` + `payload`; returns the packet length.
#[inline]
pub fn emit_tcp_packet(
    src: IpAddr,
    dst: IpAddr,
    hop_limit: u8,
    tcp: &TcpHeader,
    payload: &[u8],
    out: &mut [u8],
) -> Result<usize, WireError> {
    let pseudo = PseudoHeader::new(src, dst)?;
    let tcp_len = tcp.header_len() + payload.len();
    let (ip_len, needed) = match pseudo {
        PseudoHeader::V4 { .. } => (IPV4_HEADER_LEN, IPV4_HEADER_LEN + tcp_len),
        PseudoHeader::V6 { .. } => (IPV6_HEADER_LEN, IPV6_HEADER_LEN + tcp_len),
    };
    if out.len() < needed {
        return Err(WireError::BufferTooSmall {
            needed,
            got: out.len(),
        });
    }
    let (ip, rest) = out.split_at_mut(ip_len);
    let n = tcp.emit(&pseudo, payload, rest)?;
    match pseudo {
        PseudoHeader::V4 { src, dst } => {
            let mut h = Ipv4Header::tcp(src, dst);
            h.ttl = hop_limit;
            h.emit(n, ip)?;
        }
        PseudoHeader::V6 { src, dst } => {
            let mut h = Ipv6Header::tcp(src, dst);
            h.hop_limit = hop_limit;
            h.emit(n, ip)?;
        }
    }
    Ok(ip_len + n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::Flags;
    use crate::SeqNum;

    #[test]
    fn v4_and_v6_roundtrip() {
        let tcp = TcpHeader {
            src_port: 1234,
            dst_port: 80,
            seq: SeqNum(9),
            flags: Flags::SYN,
            window: 1000,
            ..TcpHeader::default()
        };
        for (src, dst) in [
            ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap()),
            ("fe80::1".parse().unwrap(), "fe80::2".parse().unwrap()),
        ] {
            let mut buf = [0u8; 200];
            let n = emit_tcp_packet(src, dst, 64, &tcp, b"xyz", &mut buf).unwrap();
            let (ip, seg) = parse_tcp_packet(&buf[..n]).unwrap();
            assert_eq!((ip.src(), ip.dst()), (src, dst));
            assert_eq!(seg.header(), tcp);
            assert_eq!(seg.payload(), b"xyz");
        }
    }

    #[test]
    fn v4_header_checksum_is_checked() {
        let mut buf = [0u8; 64];
        let n = Ipv4Header::tcp(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST)
            .emit(0, &mut buf)
            .unwrap();
        assert!(Ipv4Packet::parse(&buf[..n]).is_ok());
        buf[8] = 1; // TTL changed, checksum not
        assert!(matches!(
            Ipv4Packet::parse(&buf[..n]),
            Err(WireError::BadIpChecksum { .. })
        ));
    }
}
