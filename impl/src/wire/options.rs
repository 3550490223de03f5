//! TCP options: EOL, NOP, MSS (RFC 9293 §3.2), window scale and timestamps
//! (RFC 7323), SACK-permitted and SACK (RFC 2018).
//!
//! Parsing walks the options area once, validating every length (MUST-7) and
//! filling a fixed-size [`TcpOptions`]; nothing is allocated.

use super::WireError;
use crate::SeqNum;

pub const KIND_EOL: u8 = 0;
pub const KIND_NOP: u8 = 1;
pub const KIND_MSS: u8 = 2;
pub const KIND_WINDOW_SCALE: u8 = 3;
pub const KIND_SACK_PERMITTED: u8 = 4;
pub const KIND_SACK: u8 = 5;
pub const KIND_TIMESTAMPS: u8 = 8;

/// Most bytes of options a TCP header can hold (data offset 15 words).
pub const MAX_OPTIONS_LEN: usize = 40;

/// At most four SACK blocks fit in 40 bytes of options (RFC 2018 §3).
pub const MAX_SACK_BLOCKS: usize = 4;

/// One SACK block: the received range `[left, right)` (RFC 2018 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SackBlock {
    pub left: SeqNum,
    pub right: SeqNum,
}

/// Up to four SACK blocks, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SackBlocks {
    blocks: [SackBlock; MAX_SACK_BLOCKS],
    len: u8,
}

impl SackBlocks {
    #[inline]
    pub const fn new() -> Self {
        SackBlocks {
            blocks: [SackBlock {
                left: SeqNum(0),
                right: SeqNum(0),
            }; MAX_SACK_BLOCKS],
            len: 0,
        }
    }

    /// Build from a slice; `None` if it holds more than four blocks.
    #[inline]
    pub fn from_slice(blocks: &[SackBlock]) -> Option<Self> {
        let mut s = SackBlocks::new();
        for b in blocks {
            if !s.push(*b) {
                return None;
            }
        }
        Some(s)
    }

    /// Append a block; false (and unchanged) if four are already there.
    #[inline]
    pub fn push(&mut self, block: SackBlock) -> bool {
        match self.blocks.get_mut(usize::from(self.len)) {
            Some(slot) => {
                *slot = block;
                self.len += 1;
                true
            }
            None => false,
        }
    }

    #[inline]
    pub fn as_slice(&self) -> &[SackBlock] {
        &self.blocks[..usize::from(self.len)]
    }

    #[inline]
    pub fn len(&self) -> usize {
        usize::from(self.len)
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

impl core::fmt::Debug for SackBlocks {
    #[inline]
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_list().entries(self.as_slice()).finish()
    }
}

/// The options of one segment, parsed. When an option appears twice the last
/// one wins. Unknown options are skipped by their length (MUST-6, MUST-68).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct TcpOptions {
    /// Maximum segment size (kind 2, RFC 9293 §3.7.1).
    pub mss: Option<u16>,
    /// Window scale shift count as received (kind 3, RFC 7323 §2). Not
    /// clamped here: values above 14 are the connection's business.
    pub window_scale: Option<u8>,
    /// SACK permitted (kind 4, RFC 2018).
    pub sack_permitted: bool,
    /// (TSval, TSecr) (kind 8, RFC 7323 §3).
    pub timestamps: Option<(u32, u32)>,
    /// SACK blocks (kind 5, RFC 2018).
    pub sack: SackBlocks,
}

impl TcpOptions {
    #[inline]
    pub const fn new() -> Self {
        TcpOptions {
            mss: None,
            window_scale: None,
            sack_permitted: false,
            timestamps: None,
            sack: SackBlocks::new(),
        }
    }

    #[inline]
    pub fn is_empty(&self) -> bool {
        *self == TcpOptions::new()
    }

    /// Parse an options area (the header bytes after the first 20).
    #[inline]
    pub fn parse(area: &[u8]) -> Result<TcpOptions, WireError> {
        CompactOptions::parse(area).map(|c| c.expand(area))
    }

    /// Bytes [`TcpOptions::emit`] writes, padded to a 4-byte multiple.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        let mut n = 0;
        if self.mss.is_some() {
            n += 4;
        }
        if self.window_scale.is_some() {
            n += 4; // NOP + 3
        }
        if self.timestamps.is_some() {
            n += 12; // SACK-permitted or NOP NOP, + 10
        } else if self.sack_permitted {
            n += 4; // NOP NOP + 2
        }
        if !self.sack.is_empty() {
            n += 4 + 8 * self.sack.len(); // NOP NOP + 2 + 8 per block
        }
        n
    }

    /// Write the options, each 4-byte aligned with NOPs as is customary, into
    /// `out`; returns the length (a multiple of 4, at most 40).
    #[inline]
    pub fn emit(&self, out: &mut [u8]) -> Result<usize, WireError> {
        let len = self.encoded_len();
        if len > MAX_OPTIONS_LEN {
            return Err(WireError::OptionsTooLong { len });
        }
        let got = out.len();
        let out = out
            .get_mut(..len)
            .ok_or(WireError::BufferTooSmall { needed: len, got })?;
        let mut at = 0;
        let mut put = |bytes: &[u8]| {
            out[at..at + bytes.len()].copy_from_slice(bytes);
            at += bytes.len();
        };
        if let Some(mss) = self.mss {
            let m = mss.to_be_bytes();
            put(&[KIND_MSS, 4, m[0], m[1]]);
        }
        if let Some(shift) = self.window_scale {
            put(&[KIND_NOP, KIND_WINDOW_SCALE, 3, shift]);
        }
        if let Some((tsval, tsecr)) = self.timestamps {
            if self.sack_permitted {
                put(&[KIND_SACK_PERMITTED, 2, KIND_TIMESTAMPS, 10]);
            } else {
                put(&[KIND_NOP, KIND_NOP, KIND_TIMESTAMPS, 10]);
            }
            put(&tsval.to_be_bytes());
            put(&tsecr.to_be_bytes());
        } else if self.sack_permitted {
            put(&[KIND_NOP, KIND_NOP, KIND_SACK_PERMITTED, 2]);
        }
        if !self.sack.is_empty() {
            put(&[KIND_NOP, KIND_NOP, KIND_SACK, 2 + 8 * self.sack.len]);
            for b in self.sack.as_slice() {
                put(&b.left.0.to_be_bytes());
                put(&b.right.0.to_be_bytes());
            }
        }
        Ok(at)
    }
}

/// What one pass over the options area found, in 16 bytes: the receive hot
/// path stores this in [`crate::wire::Segment`] instead of a full
/// [`TcpOptions`] (SACK blocks stay in the packet and are read on request).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub(crate) struct CompactOptions {
    pub(crate) tsval: u32,
    pub(crate) tsecr: u32,
    pub(crate) mss: u16,
    /// Bit set of `HAS_*`.
    pub(crate) present: u8,
    pub(crate) window_scale: u8,
    /// Offset of the first SACK block within the options area.
    pub(crate) sack_at: u8,
    pub(crate) sack_blocks: u8,
}

pub(crate) const HAS_MSS: u8 = 1;
pub(crate) const HAS_WINDOW_SCALE: u8 = 2;
pub(crate) const HAS_SACK_PERMITTED: u8 = 4;
pub(crate) const HAS_TIMESTAMPS: u8 = 8;

impl CompactOptions {
    pub(crate) const NONE: CompactOptions = CompactOptions {
        tsval: 0,
        tsecr: 0,
        mss: 0,
        present: 0,
        window_scale: 0,
        sack_at: 0,
        sack_blocks: 0,
    };

    /// One pass over an options area, validating every length (MUST-7).
    /// Options may start at any byte (MUST-64); EOL ends the list and the
    /// padding after it is not interpreted (MUST-69 binds the sender); unknown
    /// kinds are skipped by their length (MUST-6, MUST-68). When a kind
    /// appears twice the last one wins.
    #[inline(always)]
    pub(crate) fn parse(area: &[u8]) -> Result<CompactOptions, WireError> {
        // Fast path, inline: NOP NOP TS, the options of almost every segment
        // on an established connection with timestamps (RFC 7323 App. A).
        const NOP_NOP_TS: [u8; 4] = [KIND_NOP, KIND_NOP, KIND_TIMESTAMPS, 10];
        if let Some(ts) = area.first_chunk::<12>() {
            // One 32-bit compare for the four leading bytes.
            if area.len() == 12
                && u32::from_ne_bytes([ts[0], ts[1], ts[2], ts[3]])
                    == u32::from_ne_bytes(NOP_NOP_TS)
            {
                return Ok(CompactOptions {
                    tsval: u32::from_be_bytes([ts[4], ts[5], ts[6], ts[7]]),
                    tsecr: u32::from_be_bytes([ts[8], ts[9], ts[10], ts[11]]),
                    present: HAS_TIMESTAMPS,
                    ..CompactOptions::NONE
                });
            }
        }
        Self::parse_any(area)
    }

    #[inline(never)]
    fn parse_any(area: &[u8]) -> Result<CompactOptions, WireError> {
        let mut o = CompactOptions::NONE;
        let mut at = 0;
        while let Some(&kind) = area.get(at) {
            match kind {
                KIND_EOL => break,
                KIND_NOP => {
                    at += 1;
                    continue;
                }
                _ => {}
            }
            // Every other kind has a length byte counting kind and length;
            // an illegal one is an error, never a crash.
            let &len = area
                .get(at + 1)
                .ok_or(WireError::OptionOverrunsHeader { kind, at })?;
            if len < 2 {
                return Err(WireError::BadOptionLength { kind, len });
            }
            let end = at + usize::from(len);
            let body = area
                .get(at + 2..end)
                .ok_or(WireError::OptionOverrunsHeader { kind, at })?;
            let bad = WireError::BadOptionLength { kind, len };
            match kind {
                KIND_MSS => match *body {
                    [a, b] => {
                        o.mss = u16::from_be_bytes([a, b]);
                        o.present |= HAS_MSS;
                    }
                    _ => return Err(bad),
                },
                KIND_WINDOW_SCALE => match *body {
                    [s] => {
                        o.window_scale = s;
                        o.present |= HAS_WINDOW_SCALE;
                    }
                    _ => return Err(bad),
                },
                KIND_SACK_PERMITTED => match *body {
                    [] => o.present |= HAS_SACK_PERMITTED,
                    _ => return Err(bad),
                },
                KIND_TIMESTAMPS => match *body {
                    [a, b, c, d, e, f, g, h] => {
                        o.tsval = u32::from_be_bytes([a, b, c, d]);
                        o.tsecr = u32::from_be_bytes([e, f, g, h]);
                        o.present |= HAS_TIMESTAMPS;
                    }
                    _ => return Err(bad),
                },
                KIND_SACK => {
                    let n = body.len() / 8;
                    if body.is_empty() || body.len() & 7 != 0 || n > MAX_SACK_BLOCKS {
                        return Err(bad);
                    }
                    // A TCP header's area is at most 40 bytes, so the offset
                    // fits a u8; a longer area handed to the public parser
                    // with a SACK beyond byte 253 is refused, not truncated.
                    o.sack_at = u8::try_from(at + 2).map_err(|_| bad)?;
                    o.sack_blocks = n as u8;
                }
                _ => {}
            }
            at = end;
        }
        Ok(o)
    }

    #[inline]
    pub(crate) fn mss(&self) -> Option<u16> {
        (self.present & HAS_MSS != 0).then_some(self.mss)
    }

    #[inline]
    pub(crate) fn window_scale(&self) -> Option<u8> {
        (self.present & HAS_WINDOW_SCALE != 0).then_some(self.window_scale)
    }

    #[inline]
    pub(crate) fn sack_permitted(&self) -> bool {
        self.present & HAS_SACK_PERMITTED != 0
    }

    #[inline]
    pub(crate) fn timestamps(&self) -> Option<(u32, u32)> {
        (self.present & HAS_TIMESTAMPS != 0).then_some((self.tsval, self.tsecr))
    }

    /// The SACK blocks, read from the options area this was parsed from.
    #[inline]
    pub(crate) fn sack(&self, area: &[u8]) -> SackBlocks {
        if self.sack_blocks == 0 {
            return SackBlocks::new();
        }
        let at = usize::from(self.sack_at);
        let end = at + 8 * usize::from(self.sack_blocks);
        area.get(at..end).and_then(parse_sack).unwrap_or_default()
    }

    /// The full [`TcpOptions`], given the same options area.
    #[inline]
    pub(crate) fn expand(&self, area: &[u8]) -> TcpOptions {
        TcpOptions {
            mss: self.mss(),
            window_scale: self.window_scale(),
            sack_permitted: self.sack_permitted(),
            timestamps: self.timestamps(),
            sack: self.sack(area),
        }
    }
}

/// The blocks of a SACK option's body: a non-empty multiple of 8 bytes, at
/// most four blocks (all that fit in 40 bytes).
#[inline]
fn parse_sack(body: &[u8]) -> Option<SackBlocks> {
    if body.is_empty() || body.len() & 7 != 0 {
        return None;
    }
    let mut blocks = SackBlocks::new();
    for b in body.chunks_exact(8) {
        let pushed = blocks.push(SackBlock {
            left: SeqNum(u32::from_be_bytes([b[0], b[1], b[2], b[3]])),
            right: SeqNum(u32::from_be_bytes([b[4], b[5], b[6], b[7]])),
        });
        if !pushed {
            return None;
        }
    }
    Some(blocks)
}

/// One option as found on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpOption<'a> {
    Nop,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Sack(SackBlocks),
    Timestamps {
        tsval: u32,
        tsecr: u32,
    },
    /// An option this crate does not interpret, skipped by its length.
    Unknown {
        kind: u8,
        data: &'a [u8],
    },
}

/// Walks an options area, yielding each option or the first error, then stops.
/// Options may start at any byte (MUST-64); EOL ends the list and whatever
/// follows it is padding, which we do not interpret (MUST-69 binds senders).
#[derive(Debug, Clone)]
pub struct OptionIter<'a> {
    area: &'a [u8],
    at: usize,
}

impl<'a> OptionIter<'a> {
    #[inline]
    pub fn new(area: &'a [u8]) -> Self {
        OptionIter { area, at: 0 }
    }
}

impl<'a> Iterator for OptionIter<'a> {
    type Item = Result<TcpOption<'a>, WireError>;

    #[inline]
    fn next(&mut self) -> Option<Self::Item> {
        let at = self.at;
        let rest = self.area.get(at..)?;
        let (&kind, after_kind) = rest.split_first()?;
        match kind {
            KIND_EOL => {
                self.at = self.area.len();
                return None;
            }
            KIND_NOP => {
                self.at += 1;
                return Some(Ok(TcpOption::Nop));
            }
            _ => {}
        }
        // Every other kind has a length byte (MUST-68) counting kind and length.
        let result = (|| {
            let &len = after_kind
                .first()
                .ok_or(WireError::OptionOverrunsHeader { kind, at })?;
            if len < 2 {
                return Err(WireError::BadOptionLength { kind, len });
            }
            let body = rest
                .get(2..usize::from(len))
                .ok_or(WireError::OptionOverrunsHeader { kind, at })?;
            let bad = WireError::BadOptionLength { kind, len };
            let opt = match kind {
                KIND_MSS => match *body {
                    [a, b] => TcpOption::Mss(u16::from_be_bytes([a, b])),
                    _ => return Err(bad),
                },
                KIND_WINDOW_SCALE => match *body {
                    [s] => TcpOption::WindowScale(s),
                    _ => return Err(bad),
                },
                KIND_SACK_PERMITTED => match *body {
                    [] => TcpOption::SackPermitted,
                    _ => return Err(bad),
                },
                KIND_TIMESTAMPS => match *body {
                    [a, b, c, d, e, f, g, h] => TcpOption::Timestamps {
                        tsval: u32::from_be_bytes([a, b, c, d]),
                        tsecr: u32::from_be_bytes([e, f, g, h]),
                    },
                    _ => return Err(bad),
                },
                KIND_SACK => TcpOption::Sack(parse_sack(body).ok_or(bad)?),
                _ => TcpOption::Unknown { kind, data: body },
            };
            Ok((opt, usize::from(len)))
        })();
        match result {
            Ok((opt, len)) => {
                self.at += len;
                Some(Ok(opt))
            }
            Err(e) => {
                self.at = self.area.len(); // stop after the first error
                Some(Err(e))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unaligned_unknown_and_eol_padding() {
        // MSS at offset 1 (MUST-64), an unknown kind 30 of length 3 (MUST-6),
        // then EOL followed by padding.
        let area = [1, 2, 4, 0x05, 0xb4, 30, 3, 9, 0, 0, 0, 0];
        let o = TcpOptions::parse(&area).unwrap();
        assert_eq!(o.mss, Some(1460));
        assert_eq!(o.window_scale, None);
    }

    #[test]
    fn illegal_lengths_are_errors() {
        assert_eq!(
            TcpOptions::parse(&[30, 0, 0, 0]),
            Err(WireError::BadOptionLength { kind: 30, len: 0 })
        );
        assert_eq!(
            TcpOptions::parse(&[1, 2, 5, 0x05, 0xb4, 0, 0, 0]),
            Err(WireError::BadOptionLength { kind: 2, len: 5 })
        );
        assert_eq!(
            TcpOptions::parse(&[1, 1, 1, 8]),
            Err(WireError::OptionOverrunsHeader { kind: 8, at: 3 })
        );
        assert_eq!(
            TcpOptions::parse(&[1, 1, 8, 10]),
            Err(WireError::OptionOverrunsHeader { kind: 8, at: 2 })
        );
    }

    #[test]
    fn emit_parse_roundtrip() {
        let o = TcpOptions {
            mss: Some(536),
            window_scale: Some(7),
            sack_permitted: true,
            timestamps: Some((1, 2)),
            sack: SackBlocks::from_slice(&[SackBlock {
                left: SeqNum(10),
                right: SeqNum(20),
            }])
            .unwrap(),
        };
        let mut buf = [0u8; 40];
        let n = o.emit(&mut buf).unwrap();
        assert_eq!(n, o.encoded_len());
        assert_eq!(n % 4, 0);
        assert_eq!(TcpOptions::parse(&buf[..n]).unwrap(), o);
    }
}
