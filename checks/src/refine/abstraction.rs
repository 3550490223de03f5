//! The abstraction function: an engine's TCB and segments, seen as the
//! model's abstract endpoint and abstract segments.
//!
//! This is where the model's deliberate abstractions are written down, each
//! with the engine setting that makes the two comparable:
//!
//! - **Sequence numbers.** The model's are small integers that never wrap. The
//!   engine's ISS is the model's ISS plus a per-case `base`; a base near 2^32
//!   makes the engine's numbers wrap during the case while the model's do not.
//!   Abstract = (engine − base) mod 2^32, which must fit the model's range.
//!   One exception: the RST,ACK that answers a segment without ACK carries the
//!   literal SEG.SEQ 0 of RFC 9293 §3.10.7.1 (not a number of any connection),
//!   which both sides write as 0.
//! - **SYN-SENT.** IRS and RCV.NXT are not defined before the peer's SYN; the
//!   model writes 0, the engine holds whatever it was reset to. Both are 0 here.
//! - **Data.** One model byte is one engine byte; the window is the model's
//!   RCV.WND in bytes (`Config::recv_buffer`), and the application reads
//!   every byte as soon as it arrives, as the model assumes.
//! - **Queued data and FIN.** The model counts bytes SENT but not yet
//!   segmentized (`snd_queued`) and whether the FIN went out (`fin_sent`). The
//!   engine keeps one send buffer; with `tx` the bytes the user has SENT in
//!   this connection, the FIN's sequence number is ISS + 1 + tx, so
//!   `fin_sent` ⇔ a FIN is queued and SND.NXT lies past it, and
//!   `snd_queued` = tx − (SND.NXT − ISS − 1 − fin_sent).
//! - **Timers.** The model counts ticks; the engine holds deadlines. One tick
//!   is [`super::TICK`]; a timer's abstract value is the number of ticks until
//!   its deadline, 0 when stopped. `timer2` is the TIME-WAIT or the
//!   FIN-WAIT-2 deadline, whichever runs.
//! - **`ack_throttled`.** The model answers at most one unacceptable segment
//!   per endpoint per tick (RFC 5961 §7's rate limit, applied to every such
//!   answer so that two endpoints cannot bounce ACKs forever and its graph
//!   stays finite). RFC 9293 §3.10.7.4 answers every unacceptable segment, and
//!   so does the engine; it limits only challenge ACKs (`challenge_ack_limit`
//!   = 1 per second = 1 per tick here). So when the model's endpoint had
//!   already answered in this tick and the engine answers again (its
//!   out-of-window or challenge-ACK counter moved), and that one pure ACK at
//!   SND.NXT/RCV.NXT is the only difference between the two networks, it is
//!   taken as lost on the wire (and shown so in the diagram). The flag is not in the engine's STATUS and is not compared.
//! - **Options.** The engine always sends an MSS option on a SYN (RFC 9293
//!   SHLD-5 makes it the norm); window scale, timestamps and SACK are off. The
//!   model has no options, so they are not compared.

use std::time::Duration;

use synack_model::segment::Segment as ModelSegment;
use synack_model::tcb::{Seq, State as ModelState, Tcb};
use synack_tcp::wire::Segment as WireSegment;
use synack_tcp::{Ended, Instant, ResetReason, SeqNum, State, Status};

/// The model's state for an engine state (the same eleven, by name).
pub fn state(s: State) -> ModelState {
    match s {
        State::Closed => ModelState::Closed,
        State::Listen => ModelState::Listen,
        State::SynSent => ModelState::SynSent,
        State::SynReceived => ModelState::SynReceived,
        State::Established => ModelState::Established,
        State::FinWait1 => ModelState::FinWait1,
        State::FinWait2 => ModelState::FinWait2,
        State::CloseWait => ModelState::CloseWait,
        State::Closing => ModelState::Closing,
        State::LastAck => ModelState::LastAck,
        State::TimeWait => ModelState::TimeWait,
    }
}

/// An engine sequence number as a model one: `(seq - base) mod 2^32`, which
/// must fit the model's range.
pub fn seq(raw: SeqNum, base: u32, what: &str) -> Result<Seq, String> {
    let v = raw.0.wrapping_sub(base);
    Seq::try_from(v).map_err(|_| {
        format!(
            "{what} = {} (abstract {v}) is outside the model's sequence range",
            raw.0
        )
    })
}

/// The model's tick count until `deadline` (0: no deadline).
pub fn ticks_until(deadline: Option<Instant>, now: Instant, tick: Duration) -> Result<u8, String> {
    let Some(d) = deadline else { return Ok(0) };
    let left = d.saturating_duration_since(now);
    let t = tick.as_micros();
    let l = left.as_micros();
    if l % t != 0 {
        return Err(format!(
            "a timer deadline {d} is not a whole number of ticks after now {now}"
        ));
    }
    u8::try_from(l / t).map_err(|_| format!("timer {l} us is beyond the model's range"))
}

/// The abstract TCB of an engine: `status` is its STATUS, `tx` the data bytes
/// its user has SENT in the current connection, `now` the engine's time.
pub fn tcb(
    status: &Status,
    tx: u8,
    base: u32,
    now: Instant,
    tick: Duration,
) -> Result<Tcb, String> {
    let st = state(status.state);
    match st {
        ModelState::Closed => return Ok(Tcb::closed()),
        ModelState::Listen => return Ok(Tcb::listen()),
        _ => {}
    }
    let iss = seq(status.iss, base, "ISS")?;
    let snd_una = seq(status.snd_una, base, "SND.UNA")?;
    let snd_nxt = seq(status.snd_nxt, base, "SND.NXT")?;
    let (irs, rcv_nxt) = if st == ModelState::SynSent {
        (0, 0)
    } else {
        (
            seq(status.irs, base, "IRS")?,
            seq(status.rcv_nxt, base, "RCV.NXT")?,
        )
    };
    // ABORT that lingers in TIME-WAIT (§3.5.2): both have dropped what the
    // user queued and the model forgets the CLOSE; the engine keeps its FIN's
    // sequence number to judge the old connection's segments.
    let aborted = status.ended == Some(Ended::Reset(ResetReason::Aborted));
    let fin_seq = u32::from(iss) + 1 + u32::from(tx);
    let fin_sent = status.fin_queued && u32::from(snd_nxt) > fin_seq;
    let data_sent = u32::from(snd_nxt)
        .saturating_sub(u32::from(iss))
        .saturating_sub(1)
        .saturating_sub(u32::from(fin_sent));
    let snd_queued = if aborted {
        status.send_queued as u32
    } else {
        u32::from(tx).checked_sub(data_sent).ok_or_else(|| {
            format!("SND.NXT covers {data_sent} data bytes but the user sent only {tx}")
        })?
    };
    let rtx_timer = ticks_until(status.timers.retransmission, now, tick)?;
    let timer2 = ticks_until(
        status.timers.time_wait.or(status.timers.fin_wait_2),
        now,
        tick,
    )?;
    Ok(Tcb {
        state: st,
        passive: status.passive_open,
        iss,
        irs,
        snd_una,
        snd_nxt,
        rcv_nxt,
        snd_queued: snd_queued as u8,
        close_queued: status.fin_queued && !aborted,
        fin_sent,
        rtx_timer,
        retries: u8::try_from(status.retransmissions).unwrap_or(u8::MAX),
        timer2,
        ack_throttled: false,
    })
}

/// The abstract segment of a parsed engine segment.
pub fn segment(seg: &WireSegment<'_>, base: u32) -> Result<ModelSegment, String> {
    let f = seg.flags();
    if f.urg() {
        return Err("URG set: the model has no urgent data".into());
    }
    let data = u8::try_from(seg.payload().len()).map_err(|_| {
        format!(
            "{} payload bytes: more than the model's window",
            seg.payload().len()
        )
    })?;
    let seq = if f.rst() && f.ack() && seg.seq().0 == 0 {
        // RFC 9293 §3.10.7.1: <SEQ=0><ACK=...><CTL=RST,ACK>, a literal zero.
        0
    } else {
        self::seq(seg.seq(), base, "SEG.SEQ")?
    };
    let ack_no = if f.ack() {
        self::seq(seg.ack(), base, "SEG.ACK")?
    } else {
        0
    };
    Ok(ModelSegment {
        syn: f.syn(),
        ack: f.ack(),
        fin: f.fin(),
        rst: f.rst(),
        seq,
        ack_no,
        data,
    })
}

/// Field-by-field differences between the model's TCB and the engine's
/// abstract one, ignoring `ack_throttled` (see the module comment).
pub fn tcb_diff(model: &Tcb, engine: &Tcb) -> Vec<String> {
    let mut d = Vec::new();
    macro_rules! cmp {
        ($f:ident, $name:expr) => {
            if model.$f != engine.$f {
                d.push(format!(
                    "{}: model {:?}, engine {:?}",
                    $name, model.$f, engine.$f
                ));
            }
        };
    }
    cmp!(state, "state");
    cmp!(passive, "passive OPEN");
    cmp!(iss, "ISS");
    cmp!(irs, "IRS");
    cmp!(snd_una, "SND.UNA");
    cmp!(snd_nxt, "SND.NXT");
    cmp!(rcv_nxt, "RCV.NXT");
    cmp!(snd_queued, "bytes queued, not yet sent");
    cmp!(close_queued, "CLOSE called");
    cmp!(fin_sent, "FIN sent");
    cmp!(rtx_timer, "retransmission timer (ticks)");
    cmp!(retries, "retransmissions");
    cmp!(timer2, "TIME-WAIT/FIN-WAIT-2 timer (ticks)");
    d
}
