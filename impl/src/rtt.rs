//! The retransmission timeout (RTO) after RFC 6298, as RFC 9293 §3.8.1
//! requires (MUST-18), with Karn's algorithm for choosing samples and
//! exponential backoff on expiry (MUST-19).
//!
//! The estimator does not own a timer: the connection arms its retransmission
//! timer for [`RttEstimator::rto`] and reports what happens.

use core::time::Duration;

use crate::{Instant, SeqNum};

/// Clock granularity G of RFC 6298 §2: the smallest variance term added.
/// Our clock counts microseconds, but a term this small would let RTO sit a
/// hair above SRTT; one millisecond matches common kernels' timer resolution.
pub const CLOCK_GRANULARITY: Duration = Duration::from_millis(1);

/// SRTT, RTTVAR and the current RTO of one connection.
#[derive(Debug, Clone)]
pub struct RttEstimator {
    srtt: Option<Duration>,
    rttvar: Duration,
    /// RTO before backoff.
    base_rto: Duration,
    /// Expiries since the last valid sample: RTO is doubled this many times.
    backoffs: u32,
    min_rto: Duration,
    max_rto: Duration,
    /// The segment being timed, if any: (sequence number that must be
    /// acknowledged, when it was sent). One at a time, as RFC 6298 §3 allows.
    timing: Option<(SeqNum, Instant)>,
}

impl RttEstimator {
    /// Fresh estimator; `initial_rto` (RFC 6298 §2.1: 1 s) applies until the
    /// first sample. `min_rto <= max_rto` is expected; if they are swapped,
    /// they are swapped back rather than panicking.
    pub fn new(initial_rto: Duration, min_rto: Duration, max_rto: Duration) -> RttEstimator {
        let (min_rto, max_rto) = if min_rto <= max_rto {
            (min_rto, max_rto)
        } else {
            (max_rto, min_rto)
        };
        RttEstimator {
            srtt: None,
            rttvar: Duration::ZERO,
            base_rto: initial_rto.clamp(min_rto, max_rto),
            backoffs: 0,
            min_rto,
            max_rto,
            timing: None,
        }
    }

    /// The timeout to arm the retransmission timer with: the estimate,
    /// doubled once per expiry since the last valid sample, at most `max_rto`
    /// (RFC 6298 §5.5, §2.5).
    pub fn rto(&self) -> Duration {
        let mut rto = self.base_rto;
        for _ in 0..self.backoffs {
            if rto >= self.max_rto {
                break;
            }
            rto = rto.saturating_mul(2);
        }
        rto.min(self.max_rto)
    }

    /// Smoothed RTT, once there has been a sample.
    pub fn srtt(&self) -> Option<Duration> {
        self.srtt
    }

    pub fn rttvar(&self) -> Duration {
        self.rttvar
    }

    /// Expiries since the last valid sample (the backoff exponent).
    pub fn backoffs(&self) -> u32 {
        self.backoffs
    }

    /// Feed one RTT measurement (RFC 6298 §2.2-2.3). Only measurements the
    /// caller knows to be unambiguous belong here: from [`RttEstimator::on_ack`]
    /// or from a timestamp echo (RFC 7323 §4). A valid sample ends the backoff.
    pub fn sample(&mut self, rtt: Duration) {
        match self.srtt {
            None => {
                self.srtt = Some(rtt);
                self.rttvar = rtt / 2;
            }
            Some(srtt) => {
                // beta = 1/4, alpha = 1/8.
                let err = srtt.abs_diff(rtt);
                self.rttvar = (self.rttvar * 3 + err) / 4;
                self.srtt = Some((srtt * 7 + rtt) / 8);
            }
        }
        let srtt = self.srtt.unwrap_or(rtt);
        let var = (self.rttvar.saturating_mul(4)).max(CLOCK_GRANULARITY);
        // RFC 6298 §2.4-2.5: clamp below and above.
        self.base_rto = srtt.saturating_add(var).clamp(self.min_rto, self.max_rto);
        self.backoffs = 0;
    }

    /// A segment that ends at `end_seq` (its sequence number plus length) was
    /// sent at `now` for the first time. Starts timing it unless another
    /// segment is already being timed.
    pub fn on_send(&mut self, end_seq: SeqNum, now: Instant) {
        if self.timing.is_none() {
            self.timing = Some((end_seq, now));
        }
    }

    /// Something was retransmitted: Karn's algorithm forbids sampling any
    /// segment in flight now, since an ACK could answer either copy.
    pub fn on_retransmit(&mut self) {
        self.timing = None;
    }

    /// An acceptable ACK for `ack` arrived at `now`. If it covers the timed
    /// segment, takes the sample; returns it.
    pub fn on_ack(&mut self, ack: SeqNum, now: Instant) -> Option<Duration> {
        let (end, sent) = self.timing?;
        if ack >= end {
            self.timing = None;
            let rtt = now - sent;
            self.sample(rtt);
            Some(rtt)
        } else {
            None
        }
    }

    /// The retransmission timer expired: back off (RFC 6298 §5.5) and stop
    /// timing (§5.4's retransmission makes any sample ambiguous).
    pub fn on_timeout(&mut self) {
        self.backoffs = self.backoffs.saturating_add(1);
        self.timing = None;
    }

    /// RFC 6298 §5.7: when the SYN or SYN-ACK was lost and the RTO in use
    /// was below 3 s, start data transfer with an RTO of 3 s. Call once
    /// the connection is established, if a SYN timed out before any sample.
    pub fn after_syn_loss(&mut self) {
        const THREE_SECONDS: Duration = Duration::from_secs(3);
        if self.srtt.is_none() && self.base_rto < THREE_SECONDS {
            self.base_rto = THREE_SECONDS.clamp(self.min_rto, self.max_rto);
        }
        self.backoffs = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn est() -> RttEstimator {
        RttEstimator::new(
            Duration::from_secs(1),
            Duration::from_millis(200),
            Duration::from_secs(60),
        )
    }

    #[test]
    fn first_sample_sets_srtt_and_rttvar() {
        let mut e = est();
        assert_eq!(e.rto(), Duration::from_secs(1));
        e.sample(Duration::from_millis(100));
        assert_eq!(e.srtt(), Some(Duration::from_millis(100)));
        assert_eq!(e.rttvar(), Duration::from_millis(50));
        // 100 + 4 * 50 = 300 ms
        assert_eq!(e.rto(), Duration::from_millis(300));
    }

    #[test]
    fn backoff_doubles_and_caps_and_a_sample_ends_it() {
        let mut e = est();
        e.on_timeout();
        assert_eq!(e.rto(), Duration::from_secs(2));
        e.on_timeout();
        assert_eq!(e.rto(), Duration::from_secs(4));
        for _ in 0..100 {
            e.on_timeout();
        }
        assert_eq!(e.rto(), Duration::from_secs(60));
        e.sample(Duration::from_millis(100));
        assert_eq!(e.rto(), Duration::from_millis(300));
    }

    #[test]
    fn karn_skips_retransmitted_segments() {
        let mut e = est();
        e.on_send(SeqNum(1000), Instant::from_millis(0));
        e.on_retransmit();
        assert_eq!(e.on_ack(SeqNum(1000), Instant::from_millis(50)), None);
        assert_eq!(e.srtt(), None);
        e.on_send(SeqNum(2000), Instant::from_millis(60));
        assert_eq!(e.on_ack(SeqNum(1500), Instant::from_millis(70)), None);
        assert_eq!(
            e.on_ack(SeqNum(2000), Instant::from_millis(100)),
            Some(Duration::from_millis(40))
        );
    }
}
