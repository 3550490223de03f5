//! Typed errors for everything that reads or writes bytes on the wire.
//!
//! Each variant names what is wrong and carries the numbers, so a rejected
//! segment can be logged and counted without re-parsing it (RFC 9293 MUST-7
//! asks that an illegal option length be handled and its cause logged).

use thiserror::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Error)]
#[non_exhaustive]
pub enum WireError {
    /// Fewer bytes than the structure needs.
    #[error("too short: need {needed} bytes, got {got}")]
    TooShort { needed: usize, got: usize },

    /// TCP data offset below 5 words (the fixed header alone is 5).
    #[error("bad TCP data offset {0} (must be 5..=15 words)")]
    BadDataOffset(u8),

    /// The TCP checksum does not match (RFC 9293 §3.1, MUST-3).
    #[error("bad TCP checksum: expected {expected:#06x}, found {found:#06x}")]
    BadChecksum { expected: u16, found: u16 },

    /// An option's kind or length byte, or its body, lies past the end of the
    /// TCP header (RFC 9293 §3.1, MUST-7). `at` is the option's offset within
    /// the options area.
    #[error("TCP option kind {kind} at option offset {at} overruns the header")]
    OptionOverrunsHeader { kind: u8, at: usize },

    /// An option whose length byte is illegal: below 2 for any kind, or not the
    /// fixed size a known kind requires (RFC 9293 §3.1, MUST-7).
    #[error("bad length {len} for TCP option kind {kind}")]
    BadOptionLength { kind: u8, len: u8 },

    /// The options to emit do not fit into the 40 bytes a TCP header allows.
    #[error("TCP options need {len} bytes, at most 40 fit")]
    OptionsTooLong { len: usize },

    /// The output buffer cannot hold what is being emitted.
    #[error("output buffer too small: need {needed} bytes, got {got}")]
    BufferTooSmall { needed: usize, got: usize },

    /// The segment or packet is longer than its length field can express.
    #[error("too long: {len} bytes, at most {max} allowed")]
    TooLong { len: usize, max: usize },

    /// The IP version nibble is neither 4 nor 6 (or not the one expected).
    #[error("bad IP version {0}")]
    BadIpVersion(u8),

    /// IPv4 IHL below 5 words.
    #[error("bad IPv4 header length {0} (must be 5..=15 words)")]
    BadIpHeaderLength(u8),

    /// The IP length field disagrees with the bytes at hand.
    #[error("bad IP length field {field}: header {header_len}, buffer {got} bytes")]
    BadIpLength {
        field: usize,
        header_len: usize,
        got: usize,
    },

    /// The IPv4 header checksum does not match.
    #[error("bad IPv4 header checksum: expected {expected:#06x}, found {found:#06x}")]
    BadIpChecksum { expected: u16, found: u16 },

    /// The packet is a fragment; this minimal IP layer does not reassemble.
    #[error("IP fragment (offset {offset}, more fragments: {more}); reassembly unsupported")]
    Fragmented { offset: u16, more: bool },

    /// The IP packet does not carry TCP (after skipping IPv6 extension headers).
    #[error("IP packet carries protocol {0}, not TCP (6)")]
    NotTcp(u8),

    /// Source and destination belong to different address families.
    #[error("source and destination addresses are of different IP families")]
    AddressFamilyMismatch,
}
