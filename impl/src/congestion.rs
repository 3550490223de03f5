//! Congestion control: slow start, congestion avoidance, fast retransmit and
//! fast recovery of RFC 5681, with the NewReno change to fast recovery of
//! RFC 6582, as RFC 9293 §3.8.2 requires (MUST-19).
//!
//! The connection classifies each ACK (new data acknowledged, or a duplicate
//! in RFC 5681 §2's sense: same SEG.ACK as SND.UNA, no data, no SYN/FIN, same
//! window, data outstanding) and calls the matching method; the answer says
//! whether to retransmit the first unacknowledged segment right away.
//! The usable window is then `min(cwnd, snd_wnd)` minus what is in flight.

use crate::SeqNum;

/// What the connection must do after an ACK.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AckAction {
    /// Nothing beyond sending what the windows allow.
    None,
    /// Retransmit the segment at SND.UNA now: the third duplicate ACK (fast
    /// retransmit, RFC 5681 §3.2) or a partial ACK in recovery (RFC 6582 §3.2).
    RetransmitFirstUnacked,
}

/// Congestion state of one connection.
#[derive(Debug, Clone)]
pub struct Congestion {
    smss: u32,
    cwnd: u32,
    ssthresh: u32,
    dup_acks: u32,
    /// SND.NXT when recovery (or a timeout) last started: RFC 6582's
    /// `recover`, kept one past the highest sequence number sent.
    recover: SeqNum,
    in_recovery: bool,
    /// Bytes acknowledged since cwnd last grew in congestion avoidance
    /// (byte counting, RFC 5681 §3.1).
    acked_in_ca: u32,
}

impl Congestion {
    /// State for a connection whose sender MSS is `smss` and whose ISS is
    /// `iss` (RFC 6582 starts `recover` there). cwnd starts at RFC 5681's
    /// initial window; ssthresh starts arbitrarily high.
    pub fn new(smss: u16, iss: SeqNum) -> Congestion {
        let smss = u32::from(smss.max(1));
        Congestion {
            smss,
            cwnd: initial_window(smss),
            ssthresh: u32::MAX,
            dup_acks: 0,
            recover: iss,
            in_recovery: false,
            acked_in_ca: 0,
        }
    }

    /// Congestion window, bytes.
    pub fn cwnd(&self) -> u32 {
        self.cwnd
    }

    pub fn ssthresh(&self) -> u32 {
        self.ssthresh
    }

    pub fn smss(&self) -> u32 {
        self.smss
    }

    /// Whether fast recovery is in progress.
    pub fn in_recovery(&self) -> bool {
        self.in_recovery
    }

    /// Duplicate ACKs counted since the last new ACK.
    pub fn duplicate_acks(&self) -> u32 {
        self.dup_acks
    }

    /// An ACK that advanced SND.UNA to `ack`, acknowledging `bytes_acked`
    /// new bytes; `flight_after` is what remains outstanding.
    pub fn on_new_ack(&mut self, ack: SeqNum, bytes_acked: u32, flight_after: u32) -> AckAction {
        self.dup_acks = 0;
        if self.in_recovery {
            if ack >= self.recover {
                // Full ACK: leave recovery with a window no larger than the
                // data in flight allows (RFC 6582 §3.2 step 3, option 1).
                self.in_recovery = false;
                self.cwnd = self
                    .ssthresh
                    .min(flight_after.max(self.smss).saturating_add(self.smss));
                self.acked_in_ca = 0;
                return AckAction::None;
            }
            // Partial ACK: retransmit the next hole, deflate by what was
            // acknowledged, add back one SMSS if that was at least one
            // (RFC 6582 §3.2 step 3).
            self.cwnd = self.cwnd.saturating_sub(bytes_acked);
            if bytes_acked >= self.smss {
                self.cwnd = self.cwnd.saturating_add(self.smss);
            }
            self.cwnd = self.cwnd.max(self.smss);
            return AckAction::RetransmitFirstUnacked;
        }
        if self.cwnd < self.ssthresh {
            // Slow start, at most one SMSS per ACK (RFC 5681 §3.1, eq. 2).
            self.cwnd = self.cwnd.saturating_add(bytes_acked.min(self.smss));
        } else {
            // Congestion avoidance: one SMSS per window of acknowledged bytes.
            self.acked_in_ca = self.acked_in_ca.saturating_add(bytes_acked);
            if self.acked_in_ca >= self.cwnd {
                self.acked_in_ca -= self.cwnd;
                self.cwnd = self.cwnd.saturating_add(self.smss);
            }
        }
        AckAction::None
    }

    /// A duplicate ACK for `ack` (= SND.UNA) while `flight` bytes are
    /// outstanding and SND.NXT is `snd_nxt`.
    pub fn on_duplicate_ack(&mut self, ack: SeqNum, flight: u32, snd_nxt: SeqNum) -> AckAction {
        self.dup_acks = self.dup_acks.saturating_add(1);
        if self.in_recovery {
            // Each further duplicate means a segment left the network
            // (RFC 5681 §3.2 step 4).
            self.cwnd = self.cwnd.saturating_add(self.smss);
            return AckAction::None;
        }
        // RFC 6582 §3.2 step 2: duplicates that do not reach past `recover`
        // stem from an episode already handled (e.g. after a timeout).
        if self.dup_acks == 3 && ack >= self.recover {
            self.ssthresh = self.reduced_ssthresh(flight);
            self.recover = snd_nxt;
            self.in_recovery = true;
            self.cwnd = self.ssthresh.saturating_add(3 * self.smss);
            return AckAction::RetransmitFirstUnacked;
        }
        AckAction::None
    }

    /// The retransmission timer expired with `flight` bytes outstanding:
    /// back to one segment and slow start (RFC 5681 §3.1, eq. 4 and the
    /// loss window); duplicates from this episode must not start recovery
    /// (RFC 6582 §4).
    pub fn on_timeout(&mut self, flight: u32, snd_nxt: SeqNum) {
        self.ssthresh = self.reduced_ssthresh(flight);
        self.cwnd = self.smss;
        self.in_recovery = false;
        self.dup_acks = 0;
        self.acked_in_ca = 0;
        self.recover = snd_nxt;
    }

    /// Sending resumes after an idle period longer than the RTO: cwnd
    /// shrinks to the restart window (RFC 5681 §4.1).
    pub fn restart_after_idle(&mut self) {
        self.cwnd = self.cwnd.min(initial_window(self.smss));
    }

    fn reduced_ssthresh(&self, flight: u32) -> u32 {
        (flight / 2).max(2 * self.smss)
    }
}

/// RFC 5681 §3.1, eq. 1: two to four segments depending on SMSS.
fn initial_window(smss: u32) -> u32 {
    if smss > 2190 {
        2 * smss
    } else if smss > 1095 {
        3 * smss
    } else {
        4 * smss
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initial_window_follows_rfc5681() {
        assert_eq!(Congestion::new(1460, SeqNum(0)).cwnd(), 4380);
        assert_eq!(Congestion::new(536, SeqNum(0)).cwnd(), 2144);
        assert_eq!(Congestion::new(9000, SeqNum(0)).cwnd(), 18000);
    }

    #[test]
    fn slow_start_then_avoidance() {
        let mut c = Congestion::new(1000, SeqNum(0));
        assert_eq!(c.cwnd(), 4000);
        c.on_new_ack(SeqNum(1000), 1000, 0);
        assert_eq!(c.cwnd(), 5000);
        c.on_new_ack(SeqNum(5000), 4000, 0); // capped at one SMSS per ACK
        assert_eq!(c.cwnd(), 6000);
        c.on_timeout(8000, SeqNum(9000));
        assert_eq!((c.cwnd(), c.ssthresh()), (1000, 4000));
        for i in 1..=3 {
            c.on_new_ack(SeqNum(9000 + i * 1000), 1000, 0);
        }
        assert_eq!(c.cwnd(), 4000); // reached ssthresh
        c.on_new_ack(SeqNum(13000), 3000, 0);
        assert_eq!(c.cwnd(), 4000);
        c.on_new_ack(SeqNum(14000), 1000, 0); // a window's worth acked
        assert_eq!(c.cwnd(), 5000);
    }

    #[test]
    fn newreno_recovery_with_partial_and_full_ack() {
        let mut c = Congestion::new(1000, SeqNum(0));
        let una = SeqNum(1000);
        let nxt = SeqNum(11000);
        assert_eq!(c.on_duplicate_ack(una, 10_000, nxt), AckAction::None);
        assert_eq!(c.on_duplicate_ack(una, 10_000, nxt), AckAction::None);
        assert_eq!(
            c.on_duplicate_ack(una, 10_000, nxt),
            AckAction::RetransmitFirstUnacked
        );
        assert!(c.in_recovery());
        assert_eq!((c.ssthresh(), c.cwnd()), (5000, 8000));
        c.on_duplicate_ack(una, 10_000, nxt);
        assert_eq!(c.cwnd(), 9000);
        // Partial ACK: 2000 new bytes acknowledged, not all of the window.
        assert_eq!(
            c.on_new_ack(SeqNum(3000), 2000, 8000),
            AckAction::RetransmitFirstUnacked
        );
        assert_eq!(c.cwnd(), 8000);
        assert!(c.in_recovery());
        // Full ACK.
        assert_eq!(c.on_new_ack(nxt, 8000, 0), AckAction::None);
        assert!(!c.in_recovery());
        assert_eq!(c.cwnd(), 2000);
    }

    #[test]
    fn duplicates_from_before_a_timeout_do_not_start_recovery() {
        let mut c = Congestion::new(1000, SeqNum(0));
        c.on_timeout(10_000, SeqNum(11_000));
        for _ in 0..5 {
            assert_eq!(
                c.on_duplicate_ack(SeqNum(1000), 10_000, SeqNum(11_000)),
                AckAction::None
            );
        }
        assert!(!c.in_recovery());
    }
}
