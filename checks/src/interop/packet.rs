//! Building and reading the IPv4 packets that cross the TUN link, with the
//! engine's own wire module (so a bug there shows up against the kernel).

use std::fmt;
use std::net::{IpAddr, SocketAddrV4};

use synack_tcp::wire::{emit_tcp_packet, parse_tcp_packet, IpPacket, WireError};
use synack_tcp::{Flags, SeqNum, TcpHeader, TcpOptions};

/// Builds one IPv4 packet carrying `header` and `payload` from `src` to `dst`.
pub fn build(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    mut header: TcpHeader,
    payload: &[u8],
) -> Result<Vec<u8>, WireError> {
    header.src_port = src.port();
    header.dst_port = dst.port();
    let mut out = vec![0u8; 60 + header.header_len() + payload.len()];
    let n = emit_tcp_packet(
        IpAddr::V4(*src.ip()),
        IpAddr::V4(*dst.ip()),
        64,
        &header,
        payload,
        &mut out,
    )?;
    out.truncate(n);
    Ok(out)
}

/// The options a Linux client sends in its SYN, and the ones the harness
/// offers when it plays a client: MSS, window scale, SACK-permitted, timestamps.
pub fn full_syn_options(tsval: u32) -> TcpOptions {
    let mut o = TcpOptions::new();
    o.mss = Some(1460);
    o.window_scale = Some(7);
    o.sack_permitted = true;
    o.timestamps = Some((tsval, 0));
    o
}

/// A SYN from `src` to `dst` with sequence number `iss`.
pub fn syn(src: SocketAddrV4, dst: SocketAddrV4, iss: u32) -> Result<Vec<u8>, WireError> {
    let header = TcpHeader {
        seq: SeqNum(iss),
        flags: Flags::SYN,
        window: 64_240,
        options: full_syn_options(1),
        ..TcpHeader::default()
    };
    build(src, dst, header, &[])
}

/// A bare segment (no options) with the given flags, seq and ack.
pub fn bare(
    src: SocketAddrV4,
    dst: SocketAddrV4,
    flags: Flags,
    seq: u32,
    ack: u32,
    payload: &[u8],
) -> Result<Vec<u8>, WireError> {
    let header = TcpHeader {
        seq: SeqNum(seq),
        ack: SeqNum(ack),
        flags,
        window: 64_240,
        ..TcpHeader::default()
    };
    build(src, dst, header, payload)
}

/// What a test needs to know about one captured IPv4 TCP packet.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SegInfo {
    pub src: SocketAddrV4,
    pub dst: SocketAddrV4,
    pub seq: u32,
    pub ack: u32,
    pub flags: Flags,
    pub window: u16,
    pub len: usize,
    pub options: TcpOptions,
}

impl SegInfo {
    /// Parses an IPv4 packet carrying TCP, verifying both checksums.
    pub fn parse(packet: &[u8]) -> Result<SegInfo, WireError> {
        let (ip, seg) = parse_tcp_packet(packet)?;
        let IpPacket::V4(v4) = ip else {
            return Err(WireError::BadIpVersion(6));
        };
        Ok(SegInfo {
            src: SocketAddrV4::new(v4.src(), seg.src_port()),
            dst: SocketAddrV4::new(v4.dst(), seg.dst_port()),
            seq: seg.seq().0,
            ack: seg.ack().0,
            flags: seg.flags(),
            window: seg.window(),
            len: seg.payload().len(),
            options: *seg.options(),
        })
    }

    pub fn has(&self, flags: Flags) -> bool {
        self.flags.contains(flags)
    }

    /// A short label for diagrams: "SYN seq=1 ack=0 len=0".
    pub fn label(&self, iss_base: Option<(u32, u32)>) -> String {
        let (seq, ack) = match iss_base {
            Some((s, a)) => (self.seq.wrapping_sub(s), self.ack.wrapping_sub(a)),
            None => (self.seq, self.ack),
        };
        let mut names = Vec::new();
        for (f, n) in [
            (Flags::SYN, "SYN"),
            (Flags::FIN, "FIN"),
            (Flags::RST, "RST"),
            (Flags::PSH, "PSH"),
            (Flags::ACK, "ACK"),
        ] {
            if self.flags.contains(f) {
                names.push(n);
            }
        }
        let mut s = format!("{} seq={seq}", names.join(","));
        if self.flags.ack() {
            s.push_str(&format!(" ack={ack}"));
        }
        if self.len > 0 {
            s.push_str(&format!(" len={}", self.len));
        }
        s
    }
}

impl fmt::Display for SegInfo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} > {} {} win={}",
            self.src,
            self.dst,
            self.label(None),
            self.window
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_syn_parses_back() {
        let a: SocketAddrV4 = "192.0.2.2:40000".parse().unwrap();
        let b: SocketAddrV4 = "192.0.2.1:7000".parse().unwrap();
        let p = syn(a, b, 1000).unwrap();
        let s = SegInfo::parse(&p).unwrap();
        assert_eq!((s.src, s.dst, s.seq), (a, b, 1000));
        assert_eq!(s.flags, Flags::SYN);
        assert_eq!(s.options.mss, Some(1460));
        assert_eq!(s.options.window_scale, Some(7));
        assert!(s.options.sack_permitted);
        assert_eq!(s.options.timestamps, Some((1, 0)));
        assert_eq!(s.label(Some((999, 0))), "SYN seq=1");
    }
}
