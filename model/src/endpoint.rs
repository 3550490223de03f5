//! One endpoint's transition: an event in, the new TCB and what it emitted out.
//!
//! [`step`] is a pure function with no knowledge of the network, of the other
//! endpoint or of anything the checker tracks. It is organised like RFC 9293
//! §3.10: one function per event ([`open`], [`send`], [`close`], [`abort`],
//! [`segment_arrives`] split by state group as §3.10.7.1-4 are, and [`tick`]
//! for the timeouts of §3.10.8).
//!
//! Deliberate simplifications, each noted where it applies: no security
//! compartments, no urgent data, no PUSH; the peer's window is a constant
//! (`Params::snd_wnd`), so SND.WND/SND.WL1/SND.WL2 are not tracked; segments
//! beyond RCV.NXT are not held for later (SHLD-31), the sender retransmits them.
//! RFC 5961 is implemented (§3 RST, §4 SYN, §5 ACK range, §7 throttling).

use crate::segment::{Segment, Segs};
use crate::tcb::{Seq, State, Tcb};
use serde::Serialize;

/// How initial sequence numbers are chosen.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum IsnClock {
    /// ISS = `offset + rate * now` (RFC 9293 §3.4.1, MUST-8: a clock).
    Clock { rate: u16, offset: Seq },
    /// Every connection starts at the same ISS (the `fixed-isn` variant).
    Fixed(Seq),
}

impl IsnClock {
    pub fn iss(&self, now: u8) -> Seq {
        match *self {
            IsnClock::Clock { rate, offset } => offset + rate * u16::from(now),
            IsnClock::Fixed(iss) => iss,
        }
    }
}

/// The design decisions and constants an endpoint runs with. The variants of
/// the model differ only here.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Params {
    /// RCV.WND, constant: the application reads every byte as it arrives.
    pub rcv_wnd: u16,
    /// The peer's window, constant (the peer runs with the same `rcv_wnd`).
    pub snd_wnd: u16,
    /// Retransmission timeout, in ticks.
    pub rto: u8,
    /// R2 as a count: retransmissions of one segment before giving up (RFC 9293 §3.8.3, MUST-20).
    pub max_retries: u8,
    /// TIME-WAIT duration in ticks (2×MSL in the standard model, MUST-13); 0: no TIME-WAIT.
    pub time_wait: u8,
    /// FIN-WAIT-2 timeout in ticks; `None`: wait for the peer's FIN forever.
    pub fin_wait_2_timeout: Option<u8>,
    /// Whether a RST ends TIME-WAIT (RFC 9293 does; RFC 1337 says to ignore it).
    pub rst_ends_time_wait: bool,
    /// Whether a passive OPEN goes straight to ESTABLISHED on a SYN (a two-way handshake).
    pub two_way_handshake: bool,
    /// Whether the side that aborts with a RST lingers in TIME-WAIT (RFC 9293 §3.5.2
    /// suggests it), so that the 4-tuple is not reused while its segments live.
    pub abort_enters_time_wait: bool,
    /// The ISN generator.
    pub isn: IsnClock,
}

/// An event for one endpoint (RFC 9293 §3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Input {
    /// OPEN call; `active` sends a SYN, otherwise LISTEN.
    Open { active: bool },
    /// SEND call with one abstract byte.
    Send,
    /// CLOSE call.
    Close,
    /// ABORT call.
    Abort,
    /// A segment arrived.
    Segment(Segment),
    /// One tick of time passed: timers count down and fire at zero (§3.10.8).
    Tick,
}

/// Why a connection ended, as the user is told (RFC 9293 MUST-12).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum CloseReason {
    /// Both FINs exchanged and acknowledged: LAST-ACK acked or TIME-WAIT over.
    Normal,
    /// A RST arrived in a synchronized state ("connection reset").
    Reset,
    /// A RST answered our SYN ("connection refused"), or SYN-RECEIVED reset.
    Refused,
    /// R2 retransmissions without an acknowledgment.
    Timeout,
    /// FIN-WAIT-2 timed out without the peer's FIN.
    FinWait2Timeout,
    /// The local user called ABORT (or CLOSE before the handshake finished).
    Aborted,
    /// A RST ended TIME-WAIT early (only where `rst_ends_time_wait`). The user
    /// had already seen the connection close normally.
    TimeWaitReset,
}

/// A user call that the state does not allow; the TCB is unchanged.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum UserError {
    /// "error: connection already exists"
    ConnectionExists,
    /// "error: connection does not exist"
    ConnectionDoesNotExist,
    /// "error: connection closing"
    ConnectionClosing,
}

impl std::fmt::Display for UserError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            UserError::ConnectionExists => "connection already exists",
            UserError::ConnectionDoesNotExist => "connection does not exist",
            UserError::ConnectionClosing => "connection closing",
        })
    }
}

impl std::error::Error for UserError {}

/// Everything one step produced besides the new TCB.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Outputs {
    /// Segments emitted, in order.
    pub segs: Segs,
    /// Data bytes delivered to the application, in order, by this step.
    pub delivered: u8,
    /// The peer's FIN was accepted ("connection closing" to the user).
    pub fin_received: bool,
    /// The connection ended (the TCB was deleted, or SYN-RECEIVED went back to LISTEN).
    pub closed: Option<CloseReason>,
    /// The user call was refused.
    pub error: Option<UserError>,
}

/// One endpoint's transition. Pure: the result depends only on the arguments.
/// `now` is the clock the ISN generator reads.
pub fn step(tcb: &Tcb, input: Input, params: &Params, now: u8) -> (Tcb, Outputs) {
    let mut t = *tcb;
    let mut out = Outputs::default();
    match input {
        Input::Open { active } => open(&mut t, active, params, now, &mut out),
        Input::Send => send(&mut t, params, now, &mut out),
        Input::Close => close(&mut t, params, &mut out),
        Input::Abort => abort(&mut t, params, &mut out),
        Input::Segment(seg) => segment_arrives(&mut t, &seg, params, now, &mut out),
        Input::Tick => tick(&mut t, params, &mut out),
    }
    if out.error.is_some() {
        // A refused call leaves the TCB exactly as it was.
        return (*tcb, out);
    }
    (t, out)
}

// ---------------------------------------------------------------------------
// Helpers

fn in_window(seq: Seq, rcv_nxt: Seq, wnd: u16) -> bool {
    rcv_nxt <= seq && u32::from(seq) < u32::from(rcv_nxt) + u32::from(wnd)
}

/// Starts the retransmission timer if it is not running (something that
/// occupies sequence space is outstanding).
fn arm_rtx(t: &mut Tcb, p: &Params) {
    if t.rtx_timer == 0 {
        t.rtx_timer = p.rto;
    }
}

/// Deletes the TCB: the CLOSED state (§3.10.7, "delete the TCB").
fn delete(t: &mut Tcb, out: &mut Outputs, reason: CloseReason) {
    *t = Tcb::closed();
    out.closed = Some(reason);
}

/// Enters TIME-WAIT, or CLOSED at once when TIME-WAIT is configured away.
fn enter_time_wait(t: &mut Tcb, p: &Params, out: &mut Outputs) {
    if p.time_wait == 0 {
        delete(t, out, CloseReason::Normal);
        return;
    }
    t.state = State::TimeWait;
    t.rtx_timer = 0;
    t.retries = 0;
    t.timer2 = p.time_wait;
}

/// `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>` in reply to an unacceptable segment,
/// at most one per tick (RFC 5961 §7 rate limit; it also keeps two endpoints
/// from bouncing unacceptable ACKs at each other forever).
fn reply_ack_throttled(t: &mut Tcb, out: &mut Outputs) {
    if !t.ack_throttled {
        t.ack_throttled = true;
        out.segs.push(Segment::ack(t.snd_nxt, t.rcv_nxt));
    }
}

/// Segmentizes queued bytes the window allows, then the FIN once CLOSE was
/// called and nothing is left (RFC 9293 §3.10.2, §3.10.4).
fn output(t: &mut Tcb, p: &Params, out: &mut Outputs) {
    if !matches!(
        t.state,
        State::Established | State::CloseWait | State::FinWait1 | State::LastAck
    ) {
        return;
    }
    while t.snd_queued > 0
        && !t.fin_sent
        && u32::from(t.snd_nxt) < u32::from(t.snd_una) + u32::from(p.snd_wnd)
    {
        out.segs.push(Segment::data(t.snd_nxt, t.rcv_nxt));
        t.snd_nxt += 1;
        t.snd_queued -= 1;
        arm_rtx(t, p);
    }
    if t.close_queued && t.snd_queued == 0 && !t.fin_sent {
        out.segs.push(Segment::fin(t.snd_nxt, t.rcv_nxt));
        t.snd_nxt += 1;
        t.fin_sent = true;
        arm_rtx(t, p);
        t.state = match t.state {
            State::Established => State::FinWait1,
            State::CloseWait => State::LastAck,
            s => s,
        };
    }
}

/// The segment at the front of the retransmission queue, if any.
fn front_segment(t: &Tcb) -> Option<Segment> {
    if t.snd_una == t.snd_nxt {
        return None;
    }
    if t.snd_una == t.iss {
        // Our SYN is not acknowledged yet.
        return Some(if t.state == State::SynSent {
            Segment::syn(t.iss)
        } else {
            Segment::syn_ack(t.iss, t.rcv_nxt)
        });
    }
    let data_end = t.iss + 1 + t.data_sent();
    if t.snd_una < data_end {
        return Some(Segment::data(t.snd_una, t.rcv_nxt));
    }
    if t.fin_sent {
        return Some(Segment::fin(t.snd_una, t.rcv_nxt));
    }
    None
}

// ---------------------------------------------------------------------------
// User calls (RFC 9293 §3.10.1-5)

/// OPEN call (§3.10.1).
pub fn open(t: &mut Tcb, active: bool, p: &Params, now: u8, out: &mut Outputs) {
    match t.state {
        State::Closed | State::Listen => {
            if !active {
                if t.state == State::Listen {
                    out.error = Some(UserError::ConnectionExists);
                } else {
                    *t = Tcb::listen();
                }
                return;
            }
            // Active: select an ISS, send <SEQ=ISS><CTL=SYN>, SYN-SENT.
            let iss = p.isn.iss(now);
            *t = Tcb::closed();
            t.state = State::SynSent;
            t.iss = iss;
            t.snd_una = iss;
            t.snd_nxt = iss + 1;
            out.segs.push(Segment::syn(iss));
            arm_rtx(t, p);
        }
        _ => out.error = Some(UserError::ConnectionExists),
    }
}

/// SEND call (§3.10.2) with one abstract byte.
pub fn send(t: &mut Tcb, p: &Params, now: u8, out: &mut Outputs) {
    match t.state {
        State::Closed => out.error = Some(UserError::ConnectionDoesNotExist),
        State::Listen => {
            // A SEND on a listening connection makes it active (§3.10.2 LISTEN).
            open(t, true, p, now, out);
            t.snd_queued += 1;
        }
        State::SynSent | State::SynReceived => {
            if t.close_queued {
                out.error = Some(UserError::ConnectionClosing);
            } else {
                t.snd_queued += 1;
            }
        }
        State::Established | State::CloseWait => {
            if t.close_queued {
                out.error = Some(UserError::ConnectionClosing);
            } else {
                t.snd_queued += 1;
                output(t, p, out);
            }
        }
        _ => out.error = Some(UserError::ConnectionClosing),
    }
}

/// CLOSE call (§3.10.4).
pub fn close(t: &mut Tcb, p: &Params, out: &mut Outputs) {
    match t.state {
        State::Closed => out.error = Some(UserError::ConnectionDoesNotExist),
        State::Listen | State::SynSent => delete(t, out, CloseReason::Aborted),
        State::SynReceived => {
            t.close_queued = true;
            if t.snd_queued == 0 {
                // No data pending: send the FIN now and enter FIN-WAIT-1.
                t.state = State::FinWait1;
                output(t, p, out);
            }
            // Otherwise the FIN waits for ESTABLISHED.
        }
        State::Established => {
            t.close_queued = true;
            t.state = State::FinWait1;
            output(t, p, out);
        }
        State::CloseWait => {
            t.close_queued = true;
            t.state = State::LastAck;
            output(t, p, out);
        }
        _ => out.error = Some(UserError::ConnectionClosing),
    }
}

/// ABORT call (§3.10.5).
pub fn abort(t: &mut Tcb, p: &Params, out: &mut Outputs) {
    match t.state {
        State::Closed => out.error = Some(UserError::ConnectionDoesNotExist),
        State::Listen | State::SynSent => delete(t, out, CloseReason::Aborted),
        State::SynReceived
        | State::Established
        | State::FinWait1
        | State::FinWait2
        | State::CloseWait => {
            out.segs.push(Segment::rst(t.snd_nxt));
            if p.abort_enters_time_wait && p.time_wait > 0 {
                // §3.5.2: the side that sends the reset lingers in TIME-WAIT, so
                // that the 4-tuple is not reused while the connection's
                // segments can still be in the network. Nothing is retransmitted.
                t.snd_queued = 0;
                t.close_queued = false;
                enter_time_wait(t, p, out);
                out.closed = Some(CloseReason::Aborted);
            } else {
                delete(t, out, CloseReason::Aborted);
            }
        }
        State::Closing | State::LastAck | State::TimeWait => delete(t, out, CloseReason::Aborted),
    }
}

// ---------------------------------------------------------------------------
// SEGMENT ARRIVES (§3.10.7)

/// SEGMENT ARRIVES (§3.10.7), dispatched by state group.
pub fn segment_arrives(t: &mut Tcb, seg: &Segment, p: &Params, now: u8, out: &mut Outputs) {
    match t.state {
        State::Closed => arrives_closed(seg, out),
        State::Listen => arrives_listen(t, seg, p, now, out),
        State::SynSent => arrives_syn_sent(t, seg, p, out),
        _ => arrives_other(t, seg, p, out),
    }
}

/// §3.10.7.1: no TCB. Everything but a RST is answered by a RST that the
/// sender will find acceptable.
pub fn arrives_closed(seg: &Segment, out: &mut Outputs) {
    if seg.rst {
        return;
    }
    if seg.ack {
        out.segs.push(Segment::rst(seg.ack_no));
    } else {
        out.segs.push(Segment::rst_ack(0, seg.seq + seg.len()));
    }
}

/// §3.10.7.2: LISTEN.
pub fn arrives_listen(t: &mut Tcb, seg: &Segment, p: &Params, now: u8, out: &mut Outputs) {
    // First: a RST cannot be for us (nothing was sent). Ignore it.
    if seg.rst {
        return;
    }
    // Second: any ACK is bad here.
    if seg.ack {
        out.segs.push(Segment::rst(seg.ack_no));
        return;
    }
    // Third: a SYN opens a connection.
    if seg.syn {
        let iss = p.isn.iss(now);
        *t = Tcb::closed();
        t.passive = true;
        t.irs = seg.seq;
        t.rcv_nxt = seg.seq + 1;
        t.iss = iss;
        t.snd_una = iss;
        t.snd_nxt = iss + 1;
        t.state = if p.two_way_handshake {
            // The variant: trust the SYN without asking the peer to confirm it.
            State::Established
        } else {
            State::SynReceived
        };
        out.segs.push(Segment::syn_ack(iss, t.rcv_nxt));
        arm_rtx(t, p);
    }
    // Fourth: anything else is dropped.
}

/// §3.10.7.3: SYN-SENT.
pub fn arrives_syn_sent(t: &mut Tcb, seg: &Segment, p: &Params, out: &mut Outputs) {
    // First: the ACK must acknowledge our SYN and nothing beyond.
    if seg.ack && (seg.ack_no <= t.iss || seg.ack_no > t.snd_nxt) {
        if !seg.rst {
            out.segs.push(Segment::rst(seg.ack_no));
        }
        return;
    }
    // Second: a RST counts only if it acknowledges our SYN.
    if seg.rst {
        if seg.ack {
            delete(t, out, CloseReason::Refused);
        }
        return;
    }
    // Fourth: the SYN.
    if seg.syn {
        t.irs = seg.seq;
        t.rcv_nxt = seg.seq + 1;
        if seg.ack {
            t.snd_una = seg.ack_no;
        }
        if t.snd_una > t.iss {
            // Our SYN is acknowledged: ESTABLISHED, acknowledge theirs.
            t.state = State::Established;
            t.rtx_timer = 0;
            t.retries = 0;
            out.segs.push(Segment::ack(t.snd_nxt, t.rcv_nxt));
            output(t, p, out);
        } else {
            // Simultaneous open: SYN-RECEIVED, send SYN,ACK.
            t.state = State::SynReceived;
            out.segs.push(Segment::syn_ack(t.iss, t.rcv_nxt));
            arm_rtx(t, p);
        }
    }
    // Fifth: neither SYN nor RST: drop.
}

/// §3.10.7.4: SYN-RECEIVED and the synchronized states.
pub fn arrives_other(t: &mut Tcb, seg: &Segment, p: &Params, out: &mut Outputs) {
    // First: the sequence number (the four cases of Table 6).
    let len = seg.len();
    let acceptable = match (len, p.rcv_wnd) {
        (0, 0) => seg.seq == t.rcv_nxt,
        (0, w) => in_window(seg.seq, t.rcv_nxt, w),
        (_, 0) => false,
        (l, w) => in_window(seg.seq, t.rcv_nxt, w) || in_window(seg.seq + l - 1, t.rcv_nxt, w),
    };
    if !acceptable {
        if seg.rst {
            return;
        }
        if t.state == State::TimeWait && seg.fin && seg.seq + len == t.rcv_nxt {
            // A retransmission of the peer's FIN: acknowledge it and restart
            // the 2 MSL timeout (§3.10.7.4, fifth step, TIME-WAIT).
            t.timer2 = p.time_wait;
            out.segs.push(Segment::ack(t.snd_nxt, t.rcv_nxt));
            return;
        }
        reply_ack_throttled(t, out);
        return;
    }
    // Trim what lies before RCV.NXT: the SYN first, then data, then the FIN.
    let mut seq = seg.seq;
    let mut syn = seg.syn;
    let mut data = seg.data;
    let fin = seg.fin;
    if seq < t.rcv_nxt && syn {
        syn = false;
        seq += 1;
    }
    while seq < t.rcv_nxt && data > 0 {
        data -= 1;
        seq += 1;
    }
    // (A FIN before RCV.NXT would make the segment unacceptable.)
    let at_left_edge = seq == t.rcv_nxt;

    // Second: the RST bit, with RFC 5961 §3: only an exact match resets;
    // elsewhere in the window it earns a challenge ACK.
    if seg.rst {
        if seg.seq != t.rcv_nxt {
            reply_ack_throttled(t, out);
            return;
        }
        match t.state {
            State::SynReceived => {
                if t.passive {
                    *t = Tcb::listen();
                    out.closed = Some(CloseReason::Refused);
                } else {
                    delete(t, out, CloseReason::Refused);
                }
            }
            State::TimeWait => {
                if p.rst_ends_time_wait {
                    delete(t, out, CloseReason::TimeWaitReset);
                }
                // RFC 1337: a RST in TIME-WAIT is ignored.
            }
            _ => delete(t, out, CloseReason::Reset),
        }
        return;
    }

    // Fourth: the SYN bit.
    if syn {
        if t.state == State::SynReceived && t.passive {
            // An old duplicate SYN took us out of LISTEN: go back.
            *t = Tcb::listen();
            out.closed = Some(CloseReason::Refused);
            return;
        }
        // RFC 5961 §4: a SYN in a synchronized state earns a challenge ACK.
        reply_ack_throttled(t, out);
        return;
    }

    // Fifth: the ACK field.
    if !seg.ack {
        return;
    }
    if t.state == State::SynReceived {
        if t.snd_una < seg.ack_no && seg.ack_no <= t.snd_nxt {
            t.state = State::Established;
        } else {
            out.segs.push(Segment::rst(seg.ack_no));
            return;
        }
    }
    // RFC 5961 §5 (MAY-12): an ACK for data never sent, or older than one
    // window behind SND.UNA, is discarded with an ACK in reply.
    if seg.ack_no > t.snd_nxt || u32::from(seg.ack_no) + u32::from(p.snd_wnd) < u32::from(t.snd_una)
    {
        reply_ack_throttled(t, out);
        return;
    }
    if t.snd_una < seg.ack_no {
        // New data acknowledged: restart the timer for what is left, and the R2 count.
        t.snd_una = seg.ack_no;
        t.retries = 0;
        t.rtx_timer = 0;
        if t.snd_una != t.snd_nxt {
            arm_rtx(t, p);
        }
    }
    match t.state {
        State::FinWait1 if t.fin_acked() => {
            t.state = State::FinWait2;
            if let Some(ticks) = p.fin_wait_2_timeout {
                t.timer2 = ticks;
            }
        }
        State::Closing => {
            // Only the acknowledgment of our FIN matters here.
            if t.fin_acked() {
                enter_time_wait(t, p, out);
            }
            return;
        }
        State::LastAck => {
            if t.fin_acked() {
                delete(t, out, CloseReason::Normal);
            }
            return;
        }
        _ => {}
    }
    let mut need_ack = false;

    // Seventh: the segment text, in order only.
    if data > 0
        && at_left_edge
        && matches!(
            t.state,
            State::Established | State::FinWait1 | State::FinWait2
        )
    {
        t.rcv_nxt += u16::from(data);
        out.delivered += data;
        need_ack = true;
    }
    // (In CLOSE-WAIT, CLOSING, LAST-ACK and TIME-WAIT the peer already sent
    // its FIN: text is ignored.)

    // Eighth: the FIN bit, once everything before it has arrived.
    let mut ack_seg = None;
    if fin && at_left_edge && seq + u16::from(data) == t.rcv_nxt {
        t.rcv_nxt += 1;
        out.fin_received = true;
        // Formed before a state change that could delete the TCB.
        ack_seg = Some(Segment::ack(t.snd_nxt, t.rcv_nxt));
        match t.state {
            State::Established => t.state = State::CloseWait,
            State::FinWait1 => {
                if t.fin_acked() {
                    enter_time_wait(t, p, out);
                } else {
                    t.state = State::Closing;
                }
            }
            State::FinWait2 => enter_time_wait(t, p, out),
            State::TimeWait => t.timer2 = p.time_wait,
            _ => {}
        }
    } else if need_ack {
        ack_seg = Some(Segment::ack(t.snd_nxt, t.rcv_nxt));
    }
    // Queued data the acknowledgment made room for goes out now; a data
    // segment carries the acknowledgment, so a separate ACK is sent only when
    // nothing else went out (MUST-58, aggregate ACKs).
    let before = out.segs.len();
    output(t, p, out);
    if out.segs.len() == before {
        if let Some(ack) = ack_seg {
            out.segs.push(ack);
        }
    }
}

// ---------------------------------------------------------------------------
// Timeouts (§3.10.8)

/// One tick: the throttle resets, timers count down and fire at zero.
pub fn tick(t: &mut Tcb, p: &Params, out: &mut Outputs) {
    t.ack_throttled = false;
    if t.rtx_timer > 0 {
        t.rtx_timer -= 1;
        if t.rtx_timer == 0 {
            retransmission_timeout(t, p, out);
            if out.closed.is_some() {
                return;
            }
        }
    }
    if t.timer2 > 0 {
        t.timer2 -= 1;
        if t.timer2 == 0 {
            match t.state {
                State::TimeWait => time_wait_timeout(t, out),
                State::FinWait2 => delete(t, out, CloseReason::FinWait2Timeout),
                _ => {}
            }
        }
    }
}

/// RETRANSMISSION TIMEOUT: resend the front segment, or give up after R2.
pub fn retransmission_timeout(t: &mut Tcb, p: &Params, out: &mut Outputs) {
    let Some(seg) = front_segment(t) else {
        return;
    };
    if t.retries >= p.max_retries {
        // R2 reached: close the connection (§3.8.3 (c)).
        delete(t, out, CloseReason::Timeout);
        return;
    }
    t.retries += 1;
    out.segs.push(seg);
    t.rtx_timer = p.rto;
}

/// TIME-WAIT TIMEOUT: delete the TCB.
pub fn time_wait_timeout(t: &mut Tcb, out: &mut Outputs) {
    delete(t, out, CloseReason::Normal);
}
