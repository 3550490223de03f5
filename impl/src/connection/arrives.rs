//! SEGMENT ARRIVES (RFC 9293 §3.10.7), one function per state group, each
//! following the RFC's numbered checks in order.

use core::time::Duration;
use std::net::SocketAddr;

use super::{
    Connection, Origin, RstReply, State, TimeWaitMemory, EV_CONNECTED, EV_PEER_CLOSED, EV_READABLE,
    EV_URGENT, EV_WRITABLE,
};
use crate::config::TimeWaitRst;
use crate::congestion::AckAction;
use crate::event::{Ended, ResetReason};
use crate::wire::{PseudoHeader, Segment, TcpHeader, WireError};
use crate::{Flags, Instant, SeqNum};

/// RFC 7323 §5.5: a TS.Recent older than 24 days is no longer a valid
/// reference for PAWS.
const PAWS_IDLE_LIMIT: Duration = Duration::from_secs(24 * 24 * 60 * 60);

/// The RST that answers `seg` when no connection wants it (RFC 9293 §3.5.2
/// groups 1 and 2, §3.10.7.1): `<SEQ=SEG.ACK><CTL=RST>` if the segment has
/// an ACK, else `<SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>`. `None` for a RST,
/// which is never answered. Ports are swapped; emit it with the reversed
/// pseudo-header.
pub fn reset_for(seg: &Segment<'_>) -> Option<TcpHeader> {
    let f = seg.flags();
    if f.rst() {
        return None;
    }
    let (seq, ack, flags) = if f.ack() {
        (seg.ack(), SeqNum(0), Flags::RST)
    } else {
        (
            SeqNum(0),
            seg.seq() + seg.seg_len(),
            Flags::RST | Flags::ACK,
        )
    };
    Some(TcpHeader {
        src_port: seg.dst_port(),
        dst_port: seg.src_port(),
        seq,
        ack,
        flags,
        ..TcpHeader::default()
    })
}

/// [`reset_for`] addressed to `dst`, for a connection's own queue.
fn rst_reply(seg: &Segment<'_>, dst: SocketAddr) -> Option<RstReply> {
    reset_for(seg).map(|h| RstReply {
        dst,
        seq: h.seq,
        ack: h.flags.ack().then_some(h.ack),
    })
}

/// The four cases of the acceptability test (RFC 9293 §3.4, Table 5).
#[inline]
pub(crate) fn acceptable(seq: SeqNum, seg_len: u32, rcv_nxt: SeqNum, rcv_wnd: u32) -> bool {
    match (seg_len, rcv_wnd) {
        (0, 0) => seq == rcv_nxt,
        (0, _) => seq.in_window(rcv_nxt, rcv_wnd),
        (_, 0) => false,
        _ => seq.in_window(rcv_nxt, rcv_wnd) || (seq + (seg_len - 1)).in_window(rcv_nxt, rcv_wnd),
    }
}

impl Connection {
    /// Parse `bytes` as a TCP segment sent by `remote` to this connection's
    /// local address (checksum verified, MUST-3) and process it. Bytes that
    /// fail to parse are counted per reason and leave the TCB untouched.
    pub fn on_bytes(
        &mut self,
        now: Instant,
        bytes: &[u8],
        remote: SocketAddr,
    ) -> Result<(), WireError> {
        let pseudo = match PseudoHeader::new(remote.ip(), self.local.ip()) {
            Ok(p) => p,
            Err(e) => {
                self.stats.dropped.wrong_tuple += 1;
                return Err(e);
            }
        };
        match Segment::parse(bytes, &pseudo) {
            Ok(seg) => {
                self.on_segment(now, &seg, remote);
                Ok(())
            }
            Err(e) => {
                if matches!(e, WireError::BadChecksum { .. }) {
                    self.stats.dropped.bad_checksum += 1;
                } else {
                    self.stats.dropped.malformed += 1;
                }
                Err(e)
            }
        }
    }

    /// SEGMENT ARRIVES (§3.10.7): `seg` came from `remote`.
    pub fn on_segment(&mut self, now: Instant, seg: &Segment<'_>, remote: SocketAddr) {
        self.stats.segments_received += 1;
        if seg.dst_port() != self.local.port() || seg.src_port() != remote.port() {
            self.stats.dropped.wrong_tuple += 1;
            return;
        }
        match self.state {
            State::Closed => self.arrive_closed(seg, remote),
            State::Listen => self.arrive_listen(now, seg, remote),
            _ if self.remote.as_ref() != Some(&remote) => self.stats.dropped.wrong_tuple += 1,
            State::SynSent => self.arrive_syn_sent(now, seg),
            _ => self.arrive_other(now, seg),
        }
    }

    /// §3.10.7.1: no TCB. Everything but a RST is answered with a RST.
    fn arrive_closed(&mut self, seg: &Segment<'_>, remote: SocketAddr) {
        self.stats.dropped.closed += 1;
        if let Some(rst) = rst_reply(seg, remote) {
            self.queue_rst(rst);
        }
    }

    /// §3.10.7.2: LISTEN.
    fn arrive_listen(&mut self, now: Instant, seg: &Segment<'_>, remote: SocketAddr) {
        let f = seg.flags();
        // First: a RST cannot be meant for a listener.
        if f.rst() {
            self.stats.dropped.listen_rst += 1;
            return;
        }
        // Second: any ACK is bad here.
        if f.ack() {
            self.stats.dropped.listen_ack += 1;
            if let Some(rst) = rst_reply(seg, remote) {
                self.queue_rst(rst);
            }
            return;
        }
        // Third: a SYN opens. (No IP security options: the check is vacuous.)
        if f.syn() {
            if remote.is_ipv4() != self.local.is_ipv4() {
                self.stats.dropped.wrong_tuple += 1;
                return;
            }
            self.accept_syn(now, seg, remote, None);
            return;
        }
        // Fourth: anything else is dropped.
        self.stats.dropped.listen_other += 1;
    }

    /// A SYN accepted by a listener (or by TIME-WAIT, MAY-2): enter
    /// SYN-RECEIVED and queue the SYN,ACK. Text and FIN riding on the SYN are
    /// not acknowledged; the peer sends them again once we are established.
    fn accept_syn(
        &mut self,
        now: Instant,
        seg: &Segment<'_>,
        remote: SocketAddr,
        iss_above: Option<SeqNum>,
    ) {
        self.remote = Some(remote);
        self.origin = Origin::Passive;
        self.snd_mss = super::default_send_mss(&remote);
        self.irs = seg.seq();
        self.rcv_nxt = seg.seq() + 1;
        self.negotiate(now, seg);
        let mut iss = self.select_iss(now, remote);
        if let Some(floor) = iss_above {
            // MAY-2 (1): the new ISS must lie beyond the old incarnation's.
            if iss <= floor {
                iss = floor + 128 * 1024;
            }
        }
        self.init_send_side(now, iss);
        self.queue_syn();
        self.snd_wnd = u32::from(seg.window());
        self.max_snd_wnd = self.snd_wnd;
        self.snd_wl1 = seg.seq();
        self.snd_wl2 = iss;
        self.rcv_adv = self.rcv_nxt + self.syn_window();
        self.state = State::SynReceived;
        self.syn_pending = true;
        self.last_rx = now;
    }

    /// Learn the peer's options from its SYN and settle what both sides use.
    fn negotiate(&mut self, now: Instant, seg: &Segment<'_>) {
        let o = seg.options();
        let peer_mss = o.mss.unwrap_or(self.snd_mss).max(64);
        self.snd_mss = peer_mss.min(self.cfg.mss);
        self.peer_offered_wscale = o.window_scale.is_some();
        self.peer_offered_ts = o.timestamps.is_some();
        self.peer_offered_sack = o.sack_permitted;
        match o.window_scale {
            Some(shift) if self.cfg.window_scale => {
                // RFC 7323 §2.3: shifts above 14 are treated as 14.
                self.snd_wscale = shift.min(14);
                self.rcv_wscale = self.cfg.rcv_wscale();
            }
            _ => {
                self.snd_wscale = 0;
                self.rcv_wscale = 0;
            }
        }
        self.ts_ok = self.cfg.timestamps && self.peer_offered_ts;
        if let Some((tsval, _)) = o.timestamps {
            self.ts_recent = tsval;
            self.ts_recent_at = now;
        }
        self.sack_ok = self.cfg.sack && self.peer_offered_sack;
    }

    /// §3.10.7.3: SYN-SENT.
    fn arrive_syn_sent(&mut self, now: Instant, seg: &Segment<'_>) {
        let f = seg.flags();
        let remote = match self.remote {
            Some(r) => r,
            None => return,
        };
        // First: the ACK must acknowledge our SYN (ISS < SEG.ACK =< SND.NXT).
        let mut ack_ok = false;
        if f.ack() {
            if !seg.ack().between_inclusive(self.iss + 1, self.snd_nxt) {
                if !f.rst() {
                    self.queue_rst(RstReply {
                        dst: remote,
                        seq: seg.ack(),
                        ack: None,
                    });
                }
                self.stats.dropped.syn_sent_bad_ack += 1;
                return;
            }
            ack_ok = true;
        }
        // Second: a RST counts only with an acceptable ACK.
        if f.rst() {
            if ack_ok {
                self.enter_closed(Ended::Reset(ResetReason::Refused));
            } else {
                self.stats.dropped.syn_sent_rst_no_ack += 1;
            }
            return;
        }
        // Third: security (no IP security options here). Fourth: SYN.
        if f.syn() {
            self.irs = seg.seq();
            self.rcv_nxt = seg.seq() + 1;
            self.negotiate(now, seg);
            self.cc = crate::congestion::Congestion::new(self.eff_snd_mss(), self.iss);
            self.last_rx = now;
            self.snd_wnd = u32::from(seg.window());
            self.max_snd_wnd = self.snd_wnd;
            self.snd_wl1 = seg.seq();
            self.rcv_adv = self.rcv_nxt + self.syn_window();
            if ack_ok {
                let ack = seg.ack();
                self.snd_wl2 = ack;
                self.acknowledge(now, ack);
                self.state = State::Established;
                self.signal(EV_CONNECTED);
                self.ack_now = true;
                self.arm_keepalive(now);
                // Continue at the sixth step with what follows the SYN.
                self.process_urg_text_fin(now, seg, seg.seq() + 1, true);
            } else {
                // Simultaneous open (MUST-10): SYN-RECEIVED, from an active OPEN.
                self.snd_wl2 = self.snd_una;
                self.state = State::SynReceived;
                self.origin = Origin::Active;
                self.syn_pending = true;
            }
            return;
        }
        // Fifth: neither SYN nor RST.
        self.stats.dropped.syn_sent_other += 1;
    }

    /// §3.10.7.4: SYN-RECEIVED and the synchronized states.
    fn arrive_other(&mut self, now: Instant, seg: &Segment<'_>) {
        let f = seg.flags();
        let seq = seg.seq();

        // Fast path: the next in-order segment on an established connection,
        // with an ACK in range and nothing unusual. It takes the same steps as
        // the general path below (PAWS, sequence test, ACK, text), in the same
        // order, with fewer branches.
        if self.state == State::Established
            && f.0 & !Flags::PSH.0 == Flags::ACK.0
            && seq == self.rcv_nxt
        {
            let len = seg.payload().len();
            let ack = seg.ack();
            let tsval = if self.ts_ok {
                seg.options().timestamps.map(|(v, _)| v)
            } else {
                None
            };
            let ts_fine = tsval.is_none_or(|v| (v.wrapping_sub(self.ts_recent) as i32) >= 0);
            if ts_fine
                && (len == 0 || len as u32 <= self.rcv_wnd())
                && ack.between_inclusive(self.snd_una, self.snd_nxt)
            {
                if let Some(v) = tsval {
                    self.ts_recent = v;
                    self.ts_recent_at = now;
                }
                self.last_rx = now;
                if self.cfg.keepalive.is_some() {
                    self.keepalive_probes = 0;
                    self.arm_keepalive(now);
                }
                self.process_ack(now, seg, ack);
                if len > 0 {
                    self.receive_text(now, seq, seg.payload());
                    if self.fin_ahead == Some(self.rcv_nxt) && !self.fin_received {
                        self.process_fin(now);
                    }
                }
                return;
            }
        }

        let mut seg_len = seg.seg_len();
        let mut syn = f.syn();
        let mut seq = seq;
        if self.state == State::SynReceived
            && syn
            && f.ack()
            && !f.rst()
            && seq == self.irs
            && seg.ack() > self.snd_una
            && seg.ack().between_inclusive(self.snd_una, self.snd_nxt)
        {
            // Simultaneous open (Figure 7, line 6; Appendix A.2): the peer's
            // SYN,ACK repeats the SYN we already hold, and its ACK completes
            // the handshake. Take it as the segment without the old SYN.
            syn = false;
            seq += 1;
            seg_len -= 1;
        }

        // MAY-2: a new SYN may reopen a connection in TIME-WAIT when its
        // sequence number lies beyond everything the old incarnation used.
        if self.state == State::TimeWait
            && syn
            && !f.ack()
            && !f.rst()
            && self.cfg.time_wait_reopen
            && seq > self.rcv_nxt
            && self.recv_buf.readable() == 0
        {
            self.reopen_from_time_wait(now, seg);
            return;
        }

        // RFC 7323 §5.3 PAWS: an older timestamp marks an old duplicate.
        // TS.Recent stops being a reference only after more than 24 days
        // idle (§5.5): at exactly 24 days it still is.
        if self.ts_ok && !f.rst() {
            if let Some((tsval, _)) = seg.options().timestamps {
                if (tsval.wrapping_sub(self.ts_recent) as i32) < 0
                    && now.saturating_duration_since(self.ts_recent_at) <= PAWS_IDLE_LIMIT
                {
                    self.ack_now = true;
                    self.stats.dropped.paws += 1;
                    return;
                }
            }
        }

        // First: sequence number.
        let rcv_wnd = self.rcv_wnd();
        let mut text_ok = true;
        if !acceptable(seq, seg_len, self.rcv_nxt, rcv_wnd) {
            // Special allowance for a zero window: a segment at RCV.NXT still
            // delivers its ACK, URG and RST (§3.10.7.4, MUST-66).
            let zero_window_at_edge = rcv_wnd == 0 && seq == self.rcv_nxt && !syn;
            if !zero_window_at_edge {
                if f.rst() {
                    self.stats.dropped.rst_out_of_window += 1;
                } else {
                    if self.state == State::SynReceived && syn && seq == self.irs {
                        // The peer's SYN again: our SYN,ACK was lost.
                        self.syn_pending = true;
                    } else {
                        self.ack_now = true;
                    }
                    if self.state == State::TimeWait && f.fin() && seq + seg_len == self.rcv_nxt {
                        // A retransmitted FIN: acknowledge it and restart 2×MSL.
                        self.timers.time_wait = Some(now + self.cfg.time_wait_duration());
                    }
                    self.stats.dropped.out_of_window += 1;
                }
                return;
            }
            text_ok = false;
            self.ack_now = true;
        }
        // Second: RST (RFC 5961 §3).
        if f.rst() {
            if seq != self.rcv_nxt {
                self.challenge_ack(now);
                self.stats.dropped.rst_not_exact += 1;
                return;
            }
            match self.state {
                State::SynReceived => {
                    if self.origin == Origin::Passive {
                        self.return_to_listen_or_time_wait(now);
                    } else {
                        self.enter_closed(Ended::Reset(ResetReason::Refused));
                    }
                }
                State::TimeWait => match self.cfg.time_wait_rst {
                    TimeWaitRst::Rfc1337Ignore => self.stats.dropped.rst_in_time_wait += 1,
                    // Both FINs were acknowledged: no reset signal, the
                    // connection ends as TIME-WAIT's end would have ended it.
                    TimeWaitRst::Rfc9293Accept => self.end_time_wait(),
                },
                _ => self.reset_by_peer(),
            }
            return;
        }

        // Third: security/compartment. This engine carries no IP security
        // options, so every segment matches.

        // Fourth: SYN.
        if syn {
            if self.state == State::SynReceived && self.origin == Origin::Passive {
                self.stats.dropped.syn_in_window += 1;
                self.return_to_listen_or_time_wait(now);
                return;
            }
            // RFC 5961 §4: challenge ACK, whatever the sequence number.
            self.challenge_ack(now);
            self.stats.dropped.syn_in_window += 1;
            return;
        }

        // Fifth: ACK.
        if !f.ack() {
            self.stats.dropped.no_ack += 1;
            return;
        }
        let ack = seg.ack();
        if self.state == State::SynReceived {
            if ack > self.snd_una && ack.between_inclusive(self.snd_una, self.snd_nxt) {
                self.state = State::Established;
                self.time_wait_memory = None;
                self.signal(EV_CONNECTED);
                self.snd_wnd = u32::from(seg.window()) << self.snd_wscale;
                self.max_snd_wnd = self.max_snd_wnd.max(self.snd_wnd);
                self.snd_wl1 = seq;
                self.snd_wl2 = ack;
                self.arm_keepalive(now);
            } else {
                if let Some(dst) = self.remote {
                    self.queue_rst(RstReply {
                        dst,
                        seq: ack,
                        ack: None,
                    });
                }
                self.stats.dropped.unacceptable_ack += 1;
                return;
            }
        }
        // RFC 5961 §5: SND.UNA - MAX.SND.WND =< SEG.ACK =< SND.NXT.
        if !ack.between_inclusive(self.snd_una - self.max_snd_wnd, self.snd_nxt) {
            self.ack_now = true;
            self.stats.dropped.unacceptable_ack += 1;
            return;
        }
        // The segment passed every check: the peer is alive (MUST-26), and
        // its timestamp becomes the reference (done here rather than right
        // after the sequence test, so a rejected segment changes nothing).
        self.last_rx = now;
        if self.cfg.keepalive.is_some() {
            self.keepalive_probes = 0;
            self.arm_keepalive(now);
        }
        // RFC 7323 §4.3: remember the timestamp of a segment that covers RCV.NXT.
        if self.ts_ok {
            if let Some((tsval, _)) = seg.options().timestamps {
                if seq <= self.rcv_nxt && (tsval.wrapping_sub(self.ts_recent) as i32) >= 0 {
                    self.ts_recent = tsval;
                    self.ts_recent_at = now;
                }
            }
        }
        self.process_ack(now, seg, ack);

        match self.state {
            State::FinWait1 if self.fin_acked() => {
                self.state = State::FinWait2;
                self.timers.retransmission = None;
                if let Some(t) = self.cfg.fin_wait_2_timeout {
                    self.timers.fin_wait_2 = Some(now + t);
                }
            }
            State::Closing => {
                if self.fin_acked() {
                    self.enter_time_wait(now);
                } else {
                    self.stats.dropped.closing_not_fin_ack += 1;
                    return;
                }
            }
            State::LastAck => {
                if self.fin_acked() {
                    self.enter_closed(Ended::Graceful);
                }
                return;
            }
            _ => {}
        }

        // Sixth to eighth: URG, text, FIN.
        self.process_urg_text_fin(now, seg, seq + u32::from(syn), text_ok);
    }

    /// The ESTABLISHED processing of an ACK in range (fifth step): advance
    /// SND.UNA, count duplicates, update the send window.
    #[inline]
    fn process_ack(&mut self, now: Instant, seg: &Segment<'_>, ack: SeqNum) {
        let seq = seg.seq();
        let seg_wnd = u32::from(seg.window()) << self.snd_wscale;
        if ack > self.snd_una {
            self.acknowledge(now, ack);
        } else if ack == self.snd_una
            && seg.payload().is_empty()
            && !seg.flags().intersects(Flags::SYN | Flags::FIN)
            && seg_wnd == self.snd_wnd
            && self.data_outstanding()
        {
            // RFC 5681 §2: a duplicate ACK.
            let flight = self.snd_nxt.distance_from(self.snd_una);
            if self.cc.on_duplicate_ack(ack, flight, self.snd_nxt)
                == AckAction::RetransmitFirstUnacked
            {
                self.fast_rtx = true;
                self.stats.fast_retransmits += 1;
            }
        }
        // Window update, from segments no older than the last one used.
        if ack >= self.snd_una
            && (self.snd_wl1 < seq || (self.snd_wl1 == seq && self.snd_wl2 <= ack))
        {
            if self.snd_wnd == 0 && seg_wnd > 0 {
                // The window opened: the probe timer is no longer needed.
                self.timers.persist = None;
            }
            if seg_wnd == 0 && self.snd_wnd == 0 && ack == self.snd_una {
                // MUST-37: a peer that keeps answering probes keeps the
                // connection alive, however long its window stays shut.
                self.rtx_count = 0;
                self.rtx_epoch = now;
            }
            self.snd_wnd = seg_wnd;
            self.snd_wl1 = seq;
            self.snd_wl2 = ack;
            self.max_snd_wnd = self.max_snd_wnd.max(seg_wnd);
        }
    }

    /// SND.UNA advances to `ack` (SND.UNA < ack =< SND.NXT).
    fn acknowledge(&mut self, now: Instant, ack: SeqNum) {
        let mut acked = ack.distance_from(self.snd_una);
        if !self.syn_acked {
            self.syn_acked = true;
            self.syn_pending = false;
            if self.syn_lost {
                self.rtt.after_syn_loss();
            }
        }
        let data_acked = if ack > self.buf_seq {
            (ack.distance_from(self.buf_seq) as usize).min(self.send_buf.len())
        } else {
            0
        };
        if data_acked > 0 {
            self.send_buf.ack(data_acked);
            self.buf_seq += data_acked as u32;
            self.stats.bytes_acked += data_acked as u64;
            if matches!(self.state, State::Established | State::CloseWait) {
                self.signal(EV_WRITABLE);
            }
        }
        if acked == 0 {
            acked = 1;
        }
        self.snd_una = ack;
        if self.snd_up.is_some_and(|up| up <= ack) {
            self.snd_up = None;
        }
        self.rtt.on_ack(ack, now);
        let flight = self.snd_nxt.distance_from(self.snd_una);
        if self.cc.on_new_ack(ack, acked, flight) == AckAction::RetransmitFirstUnacked {
            self.fast_rtx = true;
            self.stats.fast_retransmits += 1;
        }
        self.rtx_count = 0;
        self.rtx_epoch = now;
        self.r1_reported = false;
        if self.send_ptr < self.snd_una {
            self.send_ptr = self.snd_una;
        }
        self.timers.retransmission = if self.snd_una == self.snd_nxt {
            None
        } else {
            Some(now + self.rtt.rto())
        };
    }

    /// Data of ours is in flight (RFC 5681 §2: a bare SYN or FIN does not
    /// make an ACK a duplicate).
    fn data_outstanding(&self) -> bool {
        let sent_end = if self.fin_sent {
            self.snd_nxt - 1
        } else {
            self.snd_nxt
        };
        self.syn_acked && self.snd_una < sent_end
    }

    /// Our FIN has been sent and acknowledged.
    pub(super) fn fin_acked(&self) -> bool {
        match self.fin_seq {
            Some(fin) => self.fin_sent && self.snd_una == fin + 1,
            None => false,
        }
    }

    /// Sixth to eighth steps of §3.10.7.4: URG, text, FIN. `data_seq` is the
    /// sequence number of the first data byte (after any SYN).
    #[inline]
    fn process_urg_text_fin(
        &mut self,
        now: Instant,
        seg: &Segment<'_>,
        data_seq: SeqNum,
        text_ok: bool,
    ) {
        let f = seg.flags();
        // Sixth: URG (processed even with a zero window, MUST-66).
        if f.urg() && self.state.can_receive_data() {
            let up = seg.seq() + u32::from(seg.urgent());
            if self.rcv_up.is_none_or(|old| up > old) {
                self.rcv_up = Some(up);
                let read_seq = self.rcv_nxt - self.recv_buf.readable() as u32;
                if up > read_seq {
                    self.signal(EV_URGENT);
                }
            }
        }
        if !text_ok {
            return;
        }
        // Seventh: text.
        let payload = seg.payload();
        if !payload.is_empty() && self.state.can_receive_data() {
            self.receive_text(now, data_seq, payload);
        }
        // Eighth: FIN.
        if f.fin() {
            let fin_at = data_seq + payload.len() as u32;
            if self.fin_received {
                // RFC 9293 §3.10.7.4 eighth applies in every synchronized
                // state: a FIN at RCV.NXT past the peer's first one is still
                // taken in (RCV.NXT moves over it) and acknowledged; the
                // state stays, TIME-WAIT restarts 2×MSL. A FIN elsewhere in
                // the window is only acknowledged.
                if fin_at == self.rcv_nxt {
                    self.rcv_nxt += 1;
                }
                self.ack_now = true;
                if self.state == State::TimeWait {
                    self.timers.time_wait = Some(now + self.cfg.time_wait_duration());
                }
            } else if fin_at == self.rcv_nxt {
                self.process_fin(now);
            } else if fin_at > self.rcv_nxt {
                // Ahead of missing data: act on it once the gap closes.
                self.fin_ahead = Some(fin_at);
                self.ack_now = true;
            }
        }
        // A FIN held ahead of a gap is taken once the gap has closed,
        // whatever segment closed it: even one whose own FIN falls inside
        // data already received (a confused peer), which cannot be honoured.
        if self.fin_ahead == Some(self.rcv_nxt) && !self.fin_received {
            self.process_fin(now);
        }
    }

    /// Seventh step: put the text into the receive buffer, advance RCV.NXT,
    /// decide when to acknowledge (SHLD-18/19, MUST-40, RFC 5681 §4.2).
    #[inline]
    fn receive_text(&mut self, now: Instant, data_seq: SeqNum, payload: &[u8]) {
        let mut start = data_seq;
        let mut data = payload;
        if start < self.rcv_nxt {
            // Only the new part of a segment straddling RCV.NXT is processed.
            let skip = self.rcv_nxt.distance_from(start) as usize;
            if skip >= data.len() {
                self.ack_now = true;
                return;
            }
            data = &data[skip..];
            start = self.rcv_nxt;
        }
        let offset = start.distance_from(self.rcv_nxt) as usize;
        let had_gap = self.recv_buf.has_out_of_order();
        let n = self.recv_buf.write(offset, data);
        if n > 0 {
            self.rcv_nxt += n as u32;
            self.bytes_delivered += n as u64;
            self.stats.bytes_received += n as u64;
            self.signal(EV_READABLE);
        }
        if offset > 0 || had_gap {
            // Out of order, or filling a gap: acknowledge at once.
            self.ack_now = true;
            if offset > 0 && self.recv_buf.window() <= offset {
                self.stats.dropped.data_not_stored += 1;
            }
        } else if n < data.len() {
            self.ack_now = true;
            self.stats.dropped.data_not_stored += 1;
        } else {
            self.unacked_bytes = self.unacked_bytes.saturating_add(n as u32);
            match self.cfg.delayed_ack {
                Some(delay) if self.unacked_bytes < 2 * u32::from(self.cfg.mss) => {
                    if self.timers.delayed_ack.is_none() {
                        self.timers.delayed_ack = Some(now + delay);
                    }
                }
                _ => self.ack_now = true,
            }
        }
    }

    /// Eighth step, for a FIN at RCV.NXT.
    fn process_fin(&mut self, now: Instant) {
        self.rcv_nxt += 1;
        self.fin_received = true;
        self.fin_ahead = None;
        self.ack_now = true;
        if self.state != State::TimeWait {
            self.signal(EV_PEER_CLOSED);
        }
        match self.state {
            State::SynReceived | State::Established => self.state = State::CloseWait,
            State::FinWait1 => {
                if self.fin_acked() {
                    self.enter_time_wait(now);
                } else {
                    self.state = State::Closing;
                }
            }
            State::FinWait2 => self.enter_time_wait(now),
            // The peer's first FIN in TIME-WAIT: only after an ABORT that
            // lingers here (§3.5.2), whose user is gone. Eighth step: stay,
            // restart 2×MSL.
            State::TimeWait => self.timers.time_wait = Some(now + self.cfg.time_wait_duration()),
            _ => {}
        }
    }

    /// TIME-WAIT: start the 2×MSL timer, stop the others (MUST-13).
    pub(super) fn enter_time_wait(&mut self, now: Instant) {
        self.state = State::TimeWait;
        self.timers = super::Timers {
            time_wait: Some(now + self.cfg.time_wait_duration()),
            ..super::Timers::default()
        };
        // Nothing of ours is in flight in TIME-WAIT (after an ABORT that
        // lingers here, §3.5.2, what was outstanding is abandoned).
        self.rtx_count = 0;
        self.fast_rtx = false;
        self.probe_now = false;
        self.keepalive_now = false;
    }

    /// TIME-WAIT is over (2×MSL passed, or a RST under RFC 9293's rule): the
    /// connection ends as it had ended before TIME-WAIT, gracefully or by the
    /// ABORT that led here (§3.5.2), whose reset was reported then.
    pub(super) fn end_time_wait(&mut self) {
        let ended = self.time_wait_ends;
        self.enter_closed(Ended::Graceful);
        if ended != Ended::Graceful {
            self.terminal[1] = Some(crate::event::Event::Closed(ended));
            self.ended = Some(ended);
        }
    }

    /// RFC 5961 §3.2/§4 challenge ACK, at most `challenge_ack_limit` a second.
    fn challenge_ack(&mut self, now: Instant) {
        if now.saturating_duration_since(self.challenge_window) >= Duration::from_secs(1) {
            self.challenge_window = now;
            self.challenge_count = 0;
        }
        if self.challenge_count < self.cfg.challenge_ack_limit {
            self.challenge_count += 1;
            self.ack_now = true;
            self.stats.challenge_acks += 1;
        } else {
            self.stats.challenge_acks_suppressed += 1;
        }
    }

    /// A passive SYN-RECEIVED goes back to LISTEN (§3.10.7.4 second and
    /// fourth steps), or to TIME-WAIT if TIME-WAIT was reopened (MAY-2 (2)).
    fn return_to_listen_or_time_wait(&mut self, now: Instant) {
        let memory = self.time_wait_memory.take();
        let remote = self.remote;
        self.reset_tcb(now);
        match memory {
            Some(m) => {
                self.remote = remote;
                self.state = State::TimeWait;
                self.origin = if m.passive {
                    Origin::Passive
                } else {
                    Origin::Active
                };
                self.iss = m.iss;
                self.irs = m.irs;
                self.snd_una = m.snd_una;
                self.snd_nxt = m.snd_nxt;
                self.send_ptr = m.snd_nxt;
                self.buf_seq = m.snd_nxt;
                self.syn_acked = true;
                self.rcv_nxt = m.rcv_nxt;
                self.rcv_adv = m.rcv_adv;
                self.fin_received = true;
                self.timers.time_wait = Some(m.deadline);
            }
            None => {
                self.state = State::Listen;
                self.origin = Origin::Passive;
            }
        }
    }

    /// MAY-2: a SYN reopens the connection from TIME-WAIT.
    fn reopen_from_time_wait(&mut self, now: Instant, seg: &Segment<'_>) {
        let Some(remote) = self.remote else { return };
        let memory = TimeWaitMemory {
            iss: self.iss,
            irs: self.irs,
            snd_una: self.snd_una,
            snd_nxt: self.snd_nxt,
            rcv_nxt: self.rcv_nxt,
            rcv_adv: self.rcv_adv,
            deadline: self.timers.time_wait.unwrap_or(now),
            passive: self.origin == Origin::Passive,
        };
        let floor = self.snd_nxt;
        self.reset_tcb(now);
        self.accept_syn(now, seg, remote, Some(floor));
        self.time_wait_memory = Some(memory);
    }
}
