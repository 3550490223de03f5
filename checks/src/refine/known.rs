//! Known differences between the engine and the model, each judged against
//! RFC 9293 in its `summary` (who deviates from which rule, and why it stays).
//!
//! A known difference is recognised *before* the step is taken, from the
//! model's state and the step alone, by a predicate as narrow as the case
//! it describes. The refinement test leaves such steps out of its cases (so
//! the rest of the case still runs in lock step), counts how often it did,
//! and prints the count; with `SYNACK_REFINE_STRICT=1` nothing is left out
//! and each of these shows up as a failure with its trace.

use super::reference::{RefState, Step};
use synack_model::tcb::State;

/// One known difference.
#[derive(Debug)]
pub struct Known {
    pub id: &'static str,
    /// What differs, which rule applies, who deviates.
    pub summary: &'static str,
    /// Whether taking `step` in `state` runs into it.
    pub hits: fn(&RefState, &Step) -> bool,
}

fn receiver_tcb(
    r: &RefState,
    step: &Step,
) -> Option<(synack_model::segment::Segment, synack_model::tcb::Tcb)> {
    receiver(r, step).map(|(_, seg, tcb)| (seg, tcb))
}

/// The side a delivery goes to, the segment and that side's TCB (if its host is up).
fn receiver(
    r: &RefState,
    step: &Step,
) -> Option<(
    usize,
    synack_model::segment::Segment,
    synack_model::tcb::Tcb,
)> {
    match step {
        Step::Deliver(w) => {
            let to = 1 - usize::from(w.from);
            let e = &r.s.ep[to];
            (e.host == synack_model::model::Host::Up).then_some((to, w.seg, e.tcb))
        }
        _ => None,
    }
}

/// The list (the narrower D3 before D2). `SYNACK_REFINE_STRICT=1` shows a
/// minimal trace for each.
pub const KNOWN: &[Known] = &[
    Known {
        id: "D3-syn-ack-in-syn-received",
        summary: "Simultaneous open: SYN-RECEIVED gets the peer's SYN,ACK (SEQ = IRS, ACK of our \
                  SYN). The engine drops the repeated SYN and takes the ACK (ESTABLISHED), the \
                  mitigation RFC 9293 Appendix A.2 asks implementers to consider; the model applies \
                  §3.10.7.4's acceptability test literally (unacceptable, ACK in reply).",
        hits: |r, step| {
            receiver_tcb(r, step).is_some_and(|(seg, t)| {
                t.state == State::SynReceived
                    && seg.syn
                    && seg.ack
                    && !seg.rst
                    && seg.seq == t.irs
                    && t.snd_una < seg.ack_no
                    && seg.ack_no <= t.snd_nxt
            })
        },
    },
    Known {
        id: "D2-repeated-syn-in-syn-received",
        summary: "SYN-RECEIVED gets the peer's SYN again (SEQ = IRS; a SYN,ACK too, when its ACK \
                  does not acknowledge our SYN): the engine resends its SYN,ACK, the model sends \
                  the ACK <SEQ=SND.NXT><ACK=RCV.NXT> that §3.10.7.4's first check asks for an \
                  unacceptable segment. The engine deviates from the letter.",
        hits: |r, step| {
            receiver_tcb(r, step).is_some_and(|(seg, t)| {
                t.state == State::SynReceived && seg.syn && !seg.rst && seg.seq == t.irs
            })
        },
    },
    Known {
        id: "D4-retransmit-data-with-fin",
        summary: "CLOSE while data is unacknowledged, then a retransmission timeout: the engine \
                  resends from SND.UNA as one segment, data and FIN together (repacketizing, which \
                  RFC 9293 §3.7 and RFC 1122 §4.2.2.15 allow); the model resends only the segment \
                  at the front (the data byte) and the FIN after it is acknowledged. Left out: \
                  CLOSE with data in flight.",
        hits: |r, step| match step {
            Step::Close(side) => {
                let t = r.s.ep[usize::from(*side)].tcb;
                let data_end = t.iss + 1 + t.data_sent();
                t.state.has_connection() && t.snd_una < data_end && t.data_sent() > 0
            }
            _ => false,
        },
    },
    Known {
        id: "D5-fast-retransmit",
        summary: "A third duplicate ACK: the engine retransmits at once (RFC 5681 §3.2 fast \
                  retransmit, counting a FIN in flight as outstanding), the model knows only the \
                  retransmission timeout (congestion control is outside its scope). Left out: the \
                  delivery of a third duplicate ACK.",
        hits: |r, step| match step {
            Step::Deliver(w) => {
                let to = 1 - usize::from(w.from);
                r.s.ep[to].host == synack_model::model::Host::Up
                    && r.dupacks[to] >= 2
                    && r.is_duplicate_ack(to, &w.seg)
            }
            _ => false,
        },
    },
    Known {
        id: "D6-rst-seq-zero-across-the-wrap",
        summary: "A RST <SEQ=0> (a CLOSED or LISTEN peer's answer to a segment without ACK, \
                  §3.10.7.1) reaches a synchronized endpoint whose window spans the 2^32 wrap (the \
                  test's sequence base puts windows there): in the engine's numbers 0 lies in the \
                  window, so the RST is in window but not exact and draws RFC 5961's challenge ACK; \
                  in the model's numbers, which never wrap, 0 lies below every window and the RST \
                  is dropped. Neither deviates: the model cannot express a window across the wrap.",
        hits: |r, step| {
            receiver(r, step).is_some_and(|(to, seg, t)| {
                let wnd = u32::from(r.config.params(to).rcv_wnd);
                let rcv_nxt = r.base.wrapping_add(u32::from(t.rcv_nxt));
                seg.rst
                    && u32::from(seg.seq) == 0
                    && t.state.is_synchronized()
                    && 0u32.wrapping_sub(rcv_nxt) < wnd
            })
        },
    },
];

/// The known difference `step` would run into, if any.
pub fn hit(state: &RefState, step: &Step) -> Option<&'static Known> {
    KNOWN.iter().find(|k| (k.hits)(state, step))
}
