//! Timeouts (RFC 9293 §3.10.8): retransmission with R1/R2 (§3.8.3,
//! MUST-20..23), TIME-WAIT (MUST-13), FIN-WAIT-2, persist (§3.8.6.1),
//! delayed ACK (MUST-40), keep-alive (§3.8.4, MUST-24..29).

use super::{Connection, State, EV_RTX_WARNING};
use crate::config::RetryLimit;
use crate::event::TimeoutKind;
use crate::Instant;

impl Connection {
    /// The earliest deadline among the running timers.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.timers.earliest()
    }

    /// Fire every timer whose deadline is at or before `now`.
    pub fn on_timeout(&mut self, now: Instant) {
        if self.timers.time_wait.is_some_and(|t| now >= t) {
            self.timers.time_wait = None;
            if self.state == State::TimeWait {
                if self.ack_now {
                    // The ACK of the peer's FIN is still owed (TIME-WAIT of
                    // zero, or the caller fired timers before polling): it
                    // goes out even though the TCB is gone.
                    if let Some(dst) = self.remote {
                        self.final_ack = Some((dst, self.send_ptr, self.rcv_nxt));
                    }
                }
                self.end_time_wait();
                return;
            }
        }
        if self.timers.fin_wait_2.is_some_and(|t| now >= t) {
            self.timers.fin_wait_2 = None;
            if self.state == State::FinWait2 {
                self.timed_out(TimeoutKind::FinWait2);
                return;
            }
        }
        if self.timers.retransmission.is_some_and(|t| now >= t) {
            self.timers.retransmission = None;
            self.on_retransmission_timeout(now);
            if self.state == State::Closed {
                return;
            }
        }
        if self.timers.persist.is_some_and(|t| now >= t) {
            self.timers.persist = None;
            if self.snd_wnd == 0 {
                self.probe_now = true;
            } else {
                self.sws_override = true;
            }
        }
        if self.timers.delayed_ack.is_some_and(|t| now >= t) {
            self.timers.delayed_ack = None;
            self.ack_now = true;
        }
        if self.timers.keepalive.is_some_and(|t| now >= t) {
            self.timers.keepalive = None;
            self.on_keepalive_timeout(now);
        }
    }

    /// RETRANSMISSION TIMEOUT: give up at R2, warn at R1, else back off and
    /// resend from SND.UNA (RFC 6298 §5.4-5.6, RFC 5681 §3.1).
    fn on_retransmission_timeout(&mut self, now: Instant) {
        let syn_phase = !self.syn_acked;
        if !syn_phase && self.snd_una == self.snd_nxt {
            return;
        }
        let limit = if syn_phase {
            self.cfg.syn_r2
        } else {
            self.cfg.r2
        };
        let exceeded = match limit {
            RetryLimit::Count(n) => self.rtx_count >= n,
            RetryLimit::Time(d) => now.saturating_duration_since(self.rtx_epoch) >= d,
            RetryLimit::Infinite => false,
        };
        if exceeded {
            self.timed_out(if syn_phase {
                TimeoutKind::Syn
            } else {
                TimeoutKind::Retransmission
            });
            return;
        }
        self.rtx_count += 1;
        self.stats.timeouts += 1;
        if self.rtx_count >= self.cfg.r1 && !self.r1_reported {
            // SHLD-9: tell the application the path may be failing.
            self.r1_reported = true;
            self.signal(EV_RTX_WARNING);
        }
        self.rtt.on_timeout();
        if syn_phase {
            self.syn_pending = true;
            self.syn_lost = true;
        } else {
            let flight = self.snd_nxt.distance_from(self.snd_una);
            self.cc.on_timeout(flight, self.snd_nxt);
            self.send_ptr = self.snd_una;
            self.fast_rtx = false;
            if self.snd_wnd == 0 {
                // A closed window: the retransmission is a probe (SHLD-30
                // backs it off exponentially like any RTO).
                self.probe_now = true;
            }
        }
        self.timers.retransmission = Some(now + self.rtt.rto());
    }

    /// (Re)arm the keep-alive timer from the last segment received.
    pub(super) fn arm_keepalive(&mut self, now: Instant) {
        let _ = now;
        self.timers.keepalive = match self.cfg.keepalive {
            Some(k) if self.keepalive_allowed() => Some(self.last_rx + k.idle),
            _ => None,
        };
    }

    /// States with a keep-alive timer. FIN-WAIT-1 is among them only so that
    /// the timer rearmed by the segment that acknowledges our FIN (its
    /// keep-alive bookkeeping comes before the move to FIN-WAIT-2) carries
    /// into FIN-WAIT-2; while the FIN is outstanding MUST-26 just rearms it.
    fn keepalive_allowed(&self) -> bool {
        matches!(
            self.state,
            State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait
        )
    }

    fn on_keepalive_timeout(&mut self, now: Instant) {
        let Some(k) = self.cfg.keepalive else { return };
        if !self.keepalive_allowed() {
            return;
        }
        // MUST-26: only when nothing of ours is outstanding or waiting (data
        // not yet sent, or a FIN not yet sent; once sent, SND.NXT covers it).
        let data_end = self.buf_seq + self.send_buf.len() as u32;
        let waiting = self.send_ptr < data_end || self.fin_seq.is_some_and(|f| self.send_ptr <= f);
        if self.snd_una != self.snd_nxt || waiting {
            self.timers.keepalive = Some(now + k.idle);
            return;
        }
        // MUST-29: one unanswered probe proves nothing; several do.
        if self.keepalive_probes >= k.probes {
            self.timed_out(TimeoutKind::KeepAlive);
            return;
        }
        self.keepalive_probes += 1;
        self.keepalive_now = true;
        self.timers.keepalive = Some(now + k.interval);
    }
}
