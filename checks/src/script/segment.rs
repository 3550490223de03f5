//! Segments in absolute numbers, and their conversion to and from whole IP
//! packets through the engine's own wire code (`synack_tcp::wire`).

use std::fmt;
use std::net::SocketAddr;

use synack_tcp::wire::{
    emit_tcp_packet, parse_tcp_packet, Flags, OptionIter, SackBlock, SackBlocks, TcpHeader,
    TcpOption, TcpOptions, WireError,
};
use synack_tcp::SeqNum;

use super::ast::{FlagSet, OptionSpec};

/// One TCP segment with absolute sequence numbers, as injected or as observed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Seg {
    pub src: SocketAddr,
    pub dst: SocketAddr,
    pub flags: FlagSet,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub urg: u16,
    /// Options in wire order (EOL and what follows it left out).
    pub options: Vec<OptionSpec>,
    /// Kinds of options the wire code does not interpret, if any arrived.
    pub unknown_options: Vec<u8>,
    pub payload: Vec<u8>,
}

/// Why a segment could not be built or read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegError {
    #[error("wire: {0}")]
    Wire(#[from] WireError),
    #[error("option `{0}` cannot be injected: the wire encoder lays out options itself")]
    Unencodable(String),
    #[error("the same option `{0}` appears twice in an injected segment")]
    Duplicate(String),
}

impl Seg {
    /// Build the whole IP packet (IPv4 or IPv6 by the address family).
    ///
    /// The wire encoder places options in its own customary layout (padding
    /// with NOPs), so `nop` and `eol` in a script's list do not reach the wire
    /// as written; the options themselves do.
    pub fn to_packet(&self) -> Result<Vec<u8>, SegError> {
        let mut options = TcpOptions::new();
        for o in &self.options {
            let dup = || SegError::Duplicate(o.to_string());
            match *o {
                OptionSpec::Nop | OptionSpec::Eol => {}
                OptionSpec::Mss(m) => {
                    if options.mss.replace(m).is_some() {
                        return Err(dup());
                    }
                }
                OptionSpec::WindowScale(w) => {
                    if options.window_scale.replace(w).is_some() {
                        return Err(dup());
                    }
                }
                OptionSpec::SackPermitted => {
                    if std::mem::replace(&mut options.sack_permitted, true) {
                        return Err(dup());
                    }
                }
                OptionSpec::Timestamp { val, ecr } => {
                    if options.timestamps.replace((val, ecr)).is_some() {
                        return Err(dup());
                    }
                }
                OptionSpec::Sack(blocks, n) => {
                    let list: Vec<SackBlock> = blocks[..n]
                        .iter()
                        .map(|&(l, r)| SackBlock {
                            left: SeqNum(l),
                            right: SeqNum(r),
                        })
                        .collect();
                    let Some(sb) = SackBlocks::from_slice(&list) else {
                        return Err(SegError::Unencodable(o.to_string()));
                    };
                    if !options.sack.is_empty() {
                        return Err(dup());
                    }
                    options.sack = sb;
                }
            }
        }
        let header = TcpHeader {
            src_port: self.src.port(),
            dst_port: self.dst.port(),
            seq: SeqNum(self.seq),
            ack: SeqNum(self.ack),
            reserved: 0,
            flags: Flags(self.flags.0),
            window: self.win,
            urgent: self.urg,
            options,
        };
        let mut out = vec![0u8; 60 + 60 + self.payload.len()];
        let n = emit_tcp_packet(
            self.src.ip(),
            self.dst.ip(),
            64,
            &header,
            &self.payload,
            &mut out,
        )?;
        out.truncate(n);
        Ok(out)
    }

    /// Read a whole IP packet the engine sent (checksums verified).
    pub fn from_packet(bytes: &[u8]) -> Result<Seg, SegError> {
        let (ip, seg) = parse_tcp_packet(bytes)?;
        let mut options = Vec::new();
        let mut unknown_options = Vec::new();
        for o in OptionIter::new(seg.options_bytes()) {
            match o? {
                TcpOption::Nop => options.push(OptionSpec::Nop),
                TcpOption::Mss(m) => options.push(OptionSpec::Mss(m)),
                TcpOption::WindowScale(w) => options.push(OptionSpec::WindowScale(w)),
                TcpOption::SackPermitted => options.push(OptionSpec::SackPermitted),
                TcpOption::Timestamps { tsval, tsecr } => options.push(OptionSpec::Timestamp {
                    val: tsval,
                    ecr: tsecr,
                }),
                TcpOption::Sack(blocks) => {
                    let mut out = [(0u32, 0u32); 4];
                    let list = blocks.as_slice();
                    for (slot, b) in out.iter_mut().zip(list) {
                        *slot = (b.left.0, b.right.0);
                    }
                    options.push(OptionSpec::Sack(out, list.len().min(4)));
                }
                TcpOption::Unknown { kind, .. } => unknown_options.push(kind),
            }
        }
        Ok(Seg {
            src: SocketAddr::new(ip.src(), seg.src_port()),
            dst: SocketAddr::new(ip.dst(), seg.dst_port()),
            flags: FlagSet(seg.flags().bits()),
            seq: seg.seq().0,
            ack: seg.ack().0,
            win: seg.window(),
            urg: seg.urgent(),
            options,
            unknown_options,
            payload: seg.payload().to_vec(),
        })
    }

    /// The packetdrill-style rendering of this segment, with sequence numbers
    /// shifted by `seq_base` and acknowledgment numbers by `ack_base`.
    pub fn render(&self, seq_base: u32, ack_base: u32) -> String {
        let start = self.seq.wrapping_sub(seq_base);
        let len = self.payload.len() as u32;
        let mut s = format!(
            "{} {}:{}({})",
            self.flags,
            start,
            start.wrapping_add(len),
            len
        );
        if self.flags.has(FlagSet::ACK) {
            s += &format!(" ack {}", self.ack.wrapping_sub(ack_base));
        }
        s += &format!(" win {}", self.win);
        if self.urg != 0 || self.flags.has(FlagSet::URG) {
            s += &format!(" urg {}", self.urg);
        }
        if !self.options.is_empty() || !self.unknown_options.is_empty() {
            let mut parts: Vec<String> = self.options.iter().map(|o| o.to_string()).collect();
            parts.extend(self.unknown_options.iter().map(|k| format!("kind {k}")));
            s += &format!(" <{}>", parts.join(","));
        }
        s
    }
}

impl fmt::Display for Seg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(0, 0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(options: Vec<OptionSpec>) -> Seg {
        Seg {
            src: "192.0.2.1:40000".parse().unwrap(),
            dst: "192.168.0.1:8080".parse().unwrap(),
            flags: FlagSet(FlagSet::SYN | FlagSet::ACK),
            seq: 0xffff_fff0,
            ack: 77,
            win: 1234,
            urg: 0,
            options,
            unknown_options: vec![],
            payload: b"hello".to_vec(),
        }
    }

    #[test]
    fn packets_round_trip_through_the_wire_code() {
        let s = seg(vec![
            OptionSpec::Mss(1000),
            OptionSpec::Nop,
            OptionSpec::WindowScale(7),
        ]);
        let bytes = s.to_packet().unwrap();
        assert_eq!(bytes[0] >> 4, 4);
        let back = Seg::from_packet(&bytes).unwrap();
        assert_eq!(back.flags, s.flags);
        assert_eq!((back.seq, back.ack, back.win), (s.seq, s.ack, s.win));
        assert_eq!(back.payload, s.payload);
        assert_eq!((back.src, back.dst), (s.src, s.dst));
        assert_eq!(
            back.options,
            vec![
                OptionSpec::Mss(1000),
                OptionSpec::Nop,
                OptionSpec::WindowScale(7)
            ]
        );
        let mut v6 = seg(vec![]);
        v6.src = "[2001:db8::1]:1".parse().unwrap();
        v6.dst = "[2001:db8::2]:2".parse().unwrap();
        let back = Seg::from_packet(&v6.to_packet().unwrap()).unwrap();
        assert_eq!(back, v6);
    }

    #[test]
    fn duplicates_and_corruption_are_errors() {
        let s = seg(vec![OptionSpec::Mss(1), OptionSpec::Mss(2)]);
        assert!(matches!(s.to_packet(), Err(SegError::Duplicate(_))));
        let mut bytes = seg(vec![]).to_packet().unwrap();
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        assert!(matches!(Seg::from_packet(&bytes), Err(SegError::Wire(_))));
    }

    #[test]
    fn renders_like_a_script_line() {
        let s = seg(vec![OptionSpec::Mss(1000)]);
        assert_eq!(
            s.render(0xffff_fff0, 0),
            "S. 0:5(5) ack 77 win 1234 <mss 1000>"
        );
    }
}
