//! The wire format: TCP segments and options (RFC 9293 §3.1-3.2), the
//! checksum, and a minimal IPv4/IPv6 layer to carry them.

pub mod checksum;
mod error;
#[doc(hidden)]
pub mod fuzz;
pub mod ip;
pub mod options;
pub mod tcp;

pub use checksum::Checksum;
pub use error::WireError;
pub use ip::{
    emit_tcp_packet, parse_tcp_packet, IpPacket, Ipv4Header, Ipv4Packet, Ipv6Header, Ipv6Packet,
};
pub use options::{OptionIter, SackBlock, SackBlocks, TcpOption, TcpOptions};
pub use tcp::{
    Flags, PseudoHeader, Segment, SegmentOptions, TcpHeader, TcpSegment, HEADER_LEN, PROTOCOL_TCP,
};
