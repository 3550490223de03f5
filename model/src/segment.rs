//! Abstract segments (RFC 9293 §3.1, the fields that matter to the lifecycle)
//! and a fixed-capacity list of them for an endpoint's output.

use crate::tcb::Seq;
use serde::Serialize;

/// An abstract TCP segment: control bits, SEG.SEQ, SEG.ACK and a number of
/// abstract data bytes. No window field: both sides advertise the same fixed
/// window (`Params::rcv_wnd`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Segment {
    pub syn: bool,
    pub ack: bool,
    pub fin: bool,
    pub rst: bool,
    pub seq: Seq,
    /// SEG.ACK; meaningful only when `ack` is set (zero otherwise).
    pub ack_no: Seq,
    /// Abstract data bytes carried.
    pub data: u8,
}

impl Segment {
    const fn bare(seq: Seq) -> Segment {
        Segment {
            syn: false,
            ack: false,
            fin: false,
            rst: false,
            seq,
            ack_no: 0,
            data: 0,
        }
    }

    /// `<SEQ=seq><CTL=SYN>`
    pub const fn syn(seq: Seq) -> Segment {
        let mut s = Segment::bare(seq);
        s.syn = true;
        s
    }

    /// `<SEQ=seq><ACK=ack><CTL=SYN,ACK>`
    pub const fn syn_ack(seq: Seq, ack: Seq) -> Segment {
        let mut s = Segment::ack(seq, ack);
        s.syn = true;
        s
    }

    /// `<SEQ=seq><ACK=ack><CTL=ACK>`
    pub const fn ack(seq: Seq, ack: Seq) -> Segment {
        let mut s = Segment::bare(seq);
        s.ack = true;
        s.ack_no = ack;
        s
    }

    /// One data byte with a piggybacked acknowledgment.
    pub const fn data(seq: Seq, ack: Seq) -> Segment {
        let mut s = Segment::ack(seq, ack);
        s.data = 1;
        s
    }

    /// `<SEQ=seq><ACK=ack><CTL=FIN,ACK>`
    pub const fn fin(seq: Seq, ack: Seq) -> Segment {
        let mut s = Segment::ack(seq, ack);
        s.fin = true;
        s
    }

    /// `<SEQ=seq><CTL=RST>`
    pub const fn rst(seq: Seq) -> Segment {
        let mut s = Segment::bare(seq);
        s.rst = true;
        s
    }

    /// `<SEQ=seq><ACK=ack><CTL=RST,ACK>`
    pub const fn rst_ack(seq: Seq, ack: Seq) -> Segment {
        let mut s = Segment::ack(seq, ack);
        s.rst = true;
        s
    }

    /// SEG.LEN: data bytes plus one each for SYN and FIN (RFC 9293 §3.4).
    pub fn len(&self) -> u16 {
        u16::from(self.data) + u16::from(self.syn) + u16::from(self.fin)
    }

    /// Whether the segment occupies no sequence space.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The control bits as the RFC writes them, e.g. "SYN,ACK".
    pub fn flags(&self) -> String {
        let mut parts: Vec<&str> = Vec::with_capacity(4);
        if self.syn {
            parts.push("SYN");
        }
        if self.fin {
            parts.push("FIN");
        }
        if self.rst {
            parts.push("RST");
        }
        if self.ack {
            parts.push("ACK");
        }
        if parts.is_empty() {
            parts.push("-");
        }
        parts.join(",")
    }

    /// A diagram label such as `SYN,ACK seq=300 ack=101` or `ACK seq=101 ack=301 len=1`.
    pub fn label(&self) -> String {
        let mut s = format!("{} seq={}", self.flags(), self.seq);
        if self.ack {
            s.push_str(&format!(" ack={}", self.ack_no));
        }
        if self.data > 0 {
            s.push_str(&format!(" len={}", self.data));
        }
        s
    }
}

impl std::fmt::Display for Segment {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.label())
    }
}

/// Most segments one step can emit: a full window of data, a FIN and an ACK.
pub const MAX_OUT: usize = 6;

/// The segments one step emits, in order; fixed capacity, no allocation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Segs {
    buf: [Segment; MAX_OUT],
    len: u8,
}

impl Segs {
    pub const fn new() -> Segs {
        Segs {
            buf: [Segment::bare(0); MAX_OUT],
            len: 0,
        }
    }

    /// Appends a segment. The window bound in `Params::validate` keeps a
    /// step's output within capacity; a segment past it would be a model bug,
    /// so it is dropped rather than panicking, and `overflowed` reports it.
    pub fn push(&mut self, seg: Segment) {
        if usize::from(self.len) < MAX_OUT {
            self.buf[usize::from(self.len)] = seg;
            self.len += 1;
        } else {
            self.len = u8::MAX;
        }
    }

    /// Whether a push was refused for lack of room.
    pub fn overflowed(&self) -> bool {
        self.len == u8::MAX
    }

    pub fn as_slice(&self) -> &[Segment] {
        let n = usize::from(self.len).min(MAX_OUT);
        &self.buf[..n]
    }

    pub fn len(&self) -> usize {
        self.as_slice().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn iter(&self) -> std::slice::Iter<'_, Segment> {
        self.as_slice().iter()
    }
}

impl Default for Segs {
    fn default() -> Self {
        Segs::new()
    }
}
