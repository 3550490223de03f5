//! What goes out, and when: SYNs, data and FIN within the windows (§3.7,
//! §3.8.6, Nagle SHLD-7/MUST-17, sender SWS avoidance MUST-38), ACKs with the
//! receiver's SWS-avoiding window (MUST-39), RSTs, probes.

use core::time::Duration;
use std::net::SocketAddr;

use super::{Connection, State, Transmit};
use crate::wire::{PseudoHeader, SackBlock, SackBlocks, TcpHeader, TcpOptions};
use crate::{Flags, Instant, SeqNum};

/// Sender SWS override timeout (RFC 9293 §3.8.6.2.1 (4): 0.1 to 1 s).
const SWS_OVERRIDE: Duration = Duration::from_millis(200);

impl Connection {
    /// Write the next segment to send into `buf`, if any. Call it until it
    /// returns `None` after every event (segment, user call, timeout).
    pub fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<Transmit> {
        if self.pending_rsts.iter().any(|r| r.is_some()) {
            if let Some(t) = self.transmit_rst(buf) {
                return Some(t);
            }
        }
        if let Some((dst, seq, ack)) = self.final_ack.take() {
            return self.transmit_final_ack(now, buf, dst, seq, ack);
        }
        let remote = self.remote?;
        match self.state {
            State::Closed | State::Listen => None,
            State::SynSent => {
                if self.syn_pending {
                    self.transmit_syn(now, buf, remote, false)
                } else {
                    None
                }
            }
            State::SynReceived => {
                if self.syn_pending {
                    self.transmit_syn(now, buf, remote, true)
                } else if self.ack_now {
                    self.transmit_ack(now, buf, remote)
                } else {
                    None
                }
            }
            _ => {
                if self.syn_pending && !self.syn_acked {
                    return self.transmit_syn(now, buf, remote, true);
                }
                if let Some(t) = self.transmit_data(now, buf, remote) {
                    return Some(t);
                }
                if self.keepalive_now {
                    self.keepalive_now = false;
                    self.stats.keepalives_sent += 1;
                    // SHLD-12: no data; SEQ = SND.NXT - 1 makes the peer answer.
                    let seq = self.snd_nxt - 1;
                    return self.emit(now, buf, remote, seq, 0, Flags::ACK, false);
                }
                if self.ack_now {
                    return self.transmit_ack(now, buf, remote);
                }
                None
            }
        }
    }

    /// The window field for a SYN: never scaled (RFC 7323 §2.2).
    pub(super) fn syn_window(&self) -> u32 {
        (self.recv_buf.window() as u32).min(65535)
    }

    fn transmit_rst(&mut self, buf: &mut [u8]) -> Option<Transmit> {
        let slot = self.pending_rsts.iter().position(|r| r.is_some())?;
        let rst = self.pending_rsts[slot].take()?;
        let mut flags = Flags::RST;
        if rst.ack.is_some() {
            flags |= Flags::ACK;
        }
        let hdr = TcpHeader {
            src_port: self.local.port(),
            dst_port: rst.dst.port(),
            seq: rst.seq,
            ack: rst.ack.unwrap_or(SeqNum(0)),
            flags,
            ..TcpHeader::default()
        };
        let pseudo = PseudoHeader::new(self.local.ip(), rst.dst.ip()).ok()?;
        let len = hdr.emit(&pseudo, &[], buf).ok()?;
        self.stats.resets_sent += 1;
        self.stats.segments_sent += 1;
        Some(Transmit {
            len,
            src: self.local,
            dst: rst.dst,
        })
    }

    fn transmit_final_ack(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        dst: SocketAddr,
        seq: SeqNum,
        ack: SeqNum,
    ) -> Option<Transmit> {
        let mut options = TcpOptions::new();
        if self.ts_ok {
            options.timestamps = Some((self.tsval(now), self.ts_recent));
        }
        let hdr = TcpHeader {
            src_port: self.local.port(),
            dst_port: dst.port(),
            seq,
            ack,
            flags: Flags::ACK,
            window: (self.recv_buf.window() >> self.rcv_wscale).min(65535) as u16,
            options,
            ..TcpHeader::default()
        };
        let pseudo = PseudoHeader::new(self.local.ip(), dst.ip()).ok()?;
        let len = hdr.emit(&pseudo, &[], buf).ok()?;
        self.stats.segments_sent += 1;
        Some(Transmit {
            len,
            src: self.local,
            dst,
        })
    }

    /// SYN (SYN-SENT) or SYN,ACK (SYN-RECEIVED), first time or again.
    fn transmit_syn(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        remote: SocketAddr,
        with_ack: bool,
    ) -> Option<Transmit> {
        let tsval = self.tsval(now);
        let options = if with_ack {
            TcpOptions {
                mss: Some(self.cfg.mss),
                window_scale: (self.cfg.window_scale && self.peer_offered_wscale)
                    .then_some(self.rcv_wscale),
                sack_permitted: self.sack_ok,
                timestamps: self.ts_ok.then_some((tsval, self.ts_recent)),
                sack: SackBlocks::new(),
            }
        } else {
            TcpOptions {
                mss: Some(self.cfg.mss),
                window_scale: self.cfg.window_scale.then_some(self.cfg.rcv_wscale()),
                sack_permitted: self.cfg.sack,
                timestamps: self.cfg.timestamps.then_some((tsval, 0)),
                sack: SackBlocks::new(),
            }
        };
        let hdr = TcpHeader {
            src_port: self.local.port(),
            dst_port: remote.port(),
            seq: self.iss,
            ack: if with_ack { self.rcv_nxt } else { SeqNum(0) },
            flags: if with_ack {
                Flags::SYN | Flags::ACK
            } else {
                Flags::SYN
            },
            window: self.syn_window() as u16,
            options,
            ..TcpHeader::default()
        };
        let pseudo = PseudoHeader::new(self.local.ip(), remote.ip()).ok()?;
        let len = hdr.emit(&pseudo, &[], buf).ok()?;
        if !self.syn_transmitted {
            self.syn_transmitted = true;
            self.last_send = now;
            self.rtt.on_send(self.iss + 1, now);
            self.rtx_epoch = now;
        } else {
            self.stats.retransmissions += 1;
            self.rtt.on_retransmit();
        }
        if with_ack {
            self.rcv_adv = self.rcv_adv.max(self.rcv_nxt + self.syn_window());
            self.after_ack_sent();
        }
        self.syn_pending = false;
        if self.timers.retransmission.is_none() {
            self.timers.retransmission = Some(now + self.rtt.rto());
        }
        self.stats.segments_sent += 1;
        Some(Transmit {
            len,
            src: self.local,
            dst: remote,
        })
    }

    /// Data and FIN from the send buffer, as the windows, Nagle and SWS
    /// avoidance allow; or one segment at SND.UNA for a fast retransmit.
    fn transmit_data(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        remote: SocketAddr,
    ) -> Option<Transmit> {
        let data_end = self.buf_seq + self.send_buf.len() as u32;
        let eff_mss = u32::from(self.eff_snd_mss());

        if self.fast_rtx {
            self.fast_rtx = false;
            if self.snd_una < self.snd_nxt {
                let seq = self.snd_una;
                // Old data only (RFC 5681 §3.2): bytes never sent wait for
                // the window like any new data (§3.8.6).
                let sent_end = data_end.min(self.snd_nxt);
                let data = if seq < sent_end {
                    sent_end.distance_from(seq).min(eff_mss)
                } else {
                    0
                };
                let fin = self.fin_seq == Some(seq + data);
                if data > 0 || fin {
                    return self.emit(now, buf, remote, seq, data, Flags::ACK, fin);
                }
            }
        }

        let seq = self.send_ptr;
        let avail = if seq < data_end {
            data_end.distance_from(seq)
        } else {
            0
        };
        let fin_ahead = self.fin_seq.is_some_and(|f| seq <= f);
        if avail == 0 && !fin_ahead {
            self.probe_now = false;
            return None;
        }
        let wnd = self.snd_wnd.min(self.cc.cwnd());
        let in_flight = seq.distance_from(self.snd_una);
        let usable = wnd.saturating_sub(in_flight);
        let mut len = avail.min(usable).min(eff_mss);
        let is_rtx = seq < self.snd_nxt;

        if avail > 0 && len == 0 {
            if self.probe_now && self.snd_wnd == 0 {
                // Zero-window probe: one byte into the closed window (MUST-36).
                self.probe_now = false;
                self.stats.window_probes += 1;
                len = 1;
            } else {
                self.probe_now = false;
                if self.snd_wnd == 0
                    && self.snd_una == self.snd_nxt
                    && self.timers.persist.is_none()
                    && self.timers.retransmission.is_none()
                {
                    // SHLD-29: first probe after one RTO.
                    self.timers.persist = Some(now + self.rtt.rto());
                }
                return None;
            }
        } else if len > 0 && !is_rtx && len < eff_mss {
            // Sender SWS avoidance (MUST-38) with Nagle (§3.8.6.2.1 (2)-(4)).
            let idle = self.snd_nxt == self.snd_una;
            let nagle_ok = !self.cfg.nagle || idle;
            let all_of_it = len == avail;
            let big_enough = len >= self.max_snd_wnd / 2 && self.max_snd_wnd > 0;
            if !((all_of_it || big_enough) && nagle_ok) && !self.sws_override {
                if idle && self.timers.persist.is_none() {
                    self.timers.persist = Some(now + SWS_OVERRIDE);
                }
                return None;
            }
        }
        self.sws_override = false;
        let fin = fin_ahead && self.fin_seq == Some(seq + len);
        let mut flags = Flags::ACK;
        if len > 0 && seq + len == data_end {
            flags |= Flags::PSH;
        }
        self.emit(now, buf, remote, seq, len, flags, fin)
    }

    /// A pure ACK: `<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>`, with SACK blocks
    /// when out-of-order data is held.
    fn transmit_ack(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        remote: SocketAddr,
    ) -> Option<Transmit> {
        // SND.NXT, not send_ptr: after a go-back-N rewind the peer's RCV.NXT
        // lies past send_ptr, so an ACK carrying send_ptr would fail its
        // acceptability test, be dropped unread, and both ends would trade
        // such ACKs forever (found by the simulator, engine-parts).
        let seq = self.snd_nxt;
        self.emit(now, buf, remote, seq, 0, Flags::ACK, false)
    }

    /// Build, checksum and account for one segment of the synchronized
    /// states: `len` payload bytes from the send buffer at `seq`.
    #[allow(clippy::too_many_arguments)]
    fn emit(
        &mut self,
        now: Instant,
        buf: &mut [u8],
        remote: SocketAddr,
        seq: SeqNum,
        len: u32,
        mut flags: Flags,
        fin: bool,
    ) -> Option<Transmit> {
        let pseudo = PseudoHeader::new(self.local.ip(), remote.ip()).ok()?;
        let mut options = TcpOptions::new();
        if self.ts_ok {
            options.timestamps = Some((self.tsval(now), self.ts_recent));
        }
        if len == 0 && !fin && self.sack_ok && self.recv_buf.has_out_of_order() {
            let room = if self.ts_ok { 3 } else { 4 };
            let mut blocks = SackBlocks::new();
            for (start, end) in self.recv_buf.out_of_order_ranges().take(room) {
                blocks.push(SackBlock {
                    left: self.rcv_nxt + start as u32,
                    right: self.rcv_nxt + end as u32,
                });
            }
            options.sack = blocks;
        }
        let window = self.advertise_window();
        let mut urgent = 0;
        if let Some(up) = self.snd_up {
            if up > seq {
                // §3.8.5: the pointer is an offset from SEG.SEQ to the byte
                // after the urgent data; clamp what 16 bits cannot say.
                flags |= Flags::URG;
                urgent = up.distance_from(seq).min(u32::from(u16::MAX)) as u16;
            }
        }
        let mut hdr = TcpHeader {
            src_port: self.local.port(),
            dst_port: remote.port(),
            seq,
            ack: self.rcv_nxt,
            flags,
            window,
            urgent,
            options,
            ..TcpHeader::default()
        };
        let hlen = hdr.header_len();
        if buf.len() < hlen {
            return None;
        }
        let mut len = len as usize;
        let mut fin = fin;
        if hlen + len > buf.len() {
            len = buf.len() - hlen;
            fin = false;
            flags.remove(Flags::PSH);
            hdr.flags = flags;
        }
        if fin {
            hdr.flags |= Flags::FIN;
        }
        let total = hlen + len;
        if len > 0 {
            let offset = seq.distance_from(self.buf_seq) as usize;
            let got = self.send_buf.read_at(offset, &mut buf[hlen..total]);
            if got != len {
                return None;
            }
        }
        hdr.emit(&pseudo, &[], &mut buf[..hlen]).ok()?;
        buf[16] = 0;
        buf[17] = 0;
        let mut sum = pseudo.checksum(total);
        sum.add_bytes(&buf[..total]);
        buf[16..18].copy_from_slice(&sum.finish().to_be_bytes());

        // Bookkeeping: what this segment did to the send sequence space.
        let occupied = len as u32 + u32::from(fin);
        if occupied > 0 {
            let end = seq + occupied;
            let was_idle = self.snd_una == self.snd_nxt;
            if was_idle && now.saturating_duration_since(self.last_send) > self.rtt.rto() {
                // RFC 5681 §4.1: after an idle period, restart from a small window.
                self.cc.restart_after_idle();
            }
            self.last_send = now;
            if seq < self.snd_nxt {
                self.stats.retransmissions += 1;
                self.rtt.on_retransmit();
            } else {
                self.rtt.on_send(end, now);
            }
            if seq == self.send_ptr && end > self.send_ptr {
                self.send_ptr = end;
            }
            if end > self.snd_nxt {
                self.snd_nxt = end;
            }
            if fin {
                self.fin_sent = true;
            }
            if self.timers.retransmission.is_none() {
                self.timers.retransmission = Some(now + self.rtt.rto());
            }
            if was_idle {
                self.rtx_epoch = now;
            }
            self.timers.persist = None;
        }
        self.after_ack_sent();
        self.stats.segments_sent += 1;
        Some(Transmit {
            len: total,
            src: self.local,
            dst: remote,
        })
    }

    /// Any segment we send carries the current ACK: nothing more is owed.
    fn after_ack_sent(&mut self) {
        self.ack_now = false;
        self.unacked_bytes = 0;
        self.timers.delayed_ack = None;
    }

    /// The window to put in an outgoing segment, with receiver SWS
    /// avoidance (MUST-39): the right edge moves only by at least
    /// min(RCV.BUFF/2, MSS), and never to the left (SHLD-14).
    fn advertise_window(&mut self) -> u16 {
        let free = self.recv_buf.window() as u32;
        let cur = self.rcv_wnd();
        let threshold = self.sws_threshold();
        let target = if free >= cur.saturating_add(threshold) {
            free
        } else {
            cur.min(free)
        };
        let scaled = (target >> self.rcv_wscale).min(65535);
        let adv = scaled << self.rcv_wscale;
        let right = self.rcv_nxt + adv;
        if right > self.rcv_adv {
            self.rcv_adv = right;
        }
        scaled as u16
    }

    pub(super) fn sws_threshold(&self) -> u32 {
        ((self.recv_buf.capacity() / 2) as u32)
            .min(u32::from(self.cfg.mss))
            .max(1)
    }

    /// After the application read: ask for a window update when the window
    /// grew enough to matter (MUST-39, and §3.8.6.1: a peer waiting on a
    /// zero window learns it reopened).
    pub(super) fn maybe_window_update(&mut self) {
        if !matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2
        ) {
            return;
        }
        let free = self.recv_buf.window() as u32;
        let cur = self.rcv_wnd();
        let threshold = self.sws_threshold();
        if free >= cur.saturating_add(threshold) && cur < 2 * threshold {
            self.ack_now = true;
        }
    }

    /// RFC 7323 TSval: a millisecond clock.
    fn tsval(&self, now: Instant) -> u32 {
        (now.micros() / 1000) as u32
    }
}
