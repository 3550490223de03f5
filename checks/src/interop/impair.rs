//! Seeded impairment between the TUN device and the engine: loss, duplication,
//! reordering and delay, applied to each direction separately (the namespace's
//! kernel has no netem, so the harness plays the network).

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::time::Duration;

use synack_tcp::Instant;

/// A small seeded generator (SplitMix64): deterministic, good enough to pick
/// which packets to drop, and free of dependencies.
#[derive(Clone, Debug)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A uniform value in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// True with probability `p` (clamped to [0, 1]).
    pub fn chance(&mut self, p: f64) -> bool {
        p > 0.0 && self.unit() < p
    }

    /// A uniform duration in [0, max].
    pub fn up_to(&mut self, max: Duration) -> Duration {
        let micros = max.as_micros().min(u64::MAX as u128) as u64;
        if micros == 0 {
            return Duration::ZERO;
        }
        Duration::from_micros(self.next_u64() % (micros + 1))
    }
}

/// What the network does to the packets of one direction.
#[derive(Clone, Debug, PartialEq)]
pub struct Impairment {
    /// Probability that a packet is dropped.
    pub loss: f64,
    /// Probability that a packet is delivered twice.
    pub duplicate: f64,
    /// Probability that a packet is held back by `reorder_by`, so that packets
    /// sent after it overtake it.
    pub reorder: f64,
    /// How long a reordered packet is held back.
    pub reorder_by: Duration,
    /// Fixed one-way delay.
    pub delay: Duration,
    /// Extra uniform delay in [0, jitter] per packet (a copy gets its own).
    pub jitter: Duration,
}

impl Impairment {
    /// A perfect link: no loss, no duplication, no reordering, no delay.
    pub const NONE: Impairment = Impairment {
        loss: 0.0,
        duplicate: 0.0,
        reorder: 0.0,
        reorder_by: Duration::ZERO,
        delay: Duration::ZERO,
        jitter: Duration::ZERO,
    };

    /// The lossy link: `loss` dropped, and as much duplicated and
    /// reordered, with a little delay so that reordering has room to happen.
    pub fn lossy(loss: f64) -> Impairment {
        Impairment {
            loss,
            duplicate: loss,
            reorder: loss,
            reorder_by: Duration::from_millis(3),
            delay: Duration::from_micros(500),
            jitter: Duration::from_micros(500),
        }
    }

    /// Checks that every probability is in [0, 1]: a typed error for the CLI.
    pub fn validate(&self) -> Result<(), String> {
        for (name, p) in [
            ("loss", self.loss),
            ("duplicate", self.duplicate),
            ("reorder", self.reorder),
        ] {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} probability {p} is outside [0, 1]"));
            }
        }
        Ok(())
    }

    pub fn is_none(&self) -> bool {
        self.loss == 0.0
            && self.duplicate == 0.0
            && self.reorder == 0.0
            && self.delay.is_zero()
            && self.jitter.is_zero()
    }
}

/// Counters for one direction.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkStats {
    pub offered: u64,
    pub dropped: u64,
    pub duplicated: u64,
    pub reordered: u64,
    pub delivered: u64,
}

/// One direction of the simulated link: packets go in with the time they were
/// sent and come out when their delay has passed.
pub struct Link {
    impairment: Impairment,
    rng: Rng,
    // Ordered by release time, then by arrival order so equal times stay FIFO.
    queue: BinaryHeap<Reverse<(Instant, u64, Vec<u8>)>>,
    counter: u64,
    pub stats: LinkStats,
}

impl Link {
    pub fn new(impairment: Impairment, seed: u64) -> Self {
        Link {
            impairment,
            rng: Rng::new(seed),
            queue: BinaryHeap::new(),
            counter: 0,
            stats: LinkStats::default(),
        }
    }

    pub fn impairment(&self) -> &Impairment {
        &self.impairment
    }

    /// Offers a packet to the link at `now`.
    pub fn push(&mut self, now: Instant, packet: &[u8]) {
        self.stats.offered += 1;
        if self.rng.chance(self.impairment.loss) {
            self.stats.dropped += 1;
            return;
        }
        let copies = if self.rng.chance(self.impairment.duplicate) {
            self.stats.duplicated += 1;
            2
        } else {
            1
        };
        let reordered = self.rng.chance(self.impairment.reorder);
        if reordered {
            self.stats.reordered += 1;
        }
        for _ in 0..copies {
            let mut delay = self.impairment.delay + self.rng.up_to(self.impairment.jitter);
            if reordered {
                delay += self.impairment.reorder_by;
            }
            self.counter += 1;
            self.queue
                .push(Reverse((now + delay, self.counter, packet.to_vec())));
        }
    }

    /// Takes the next packet whose time has come.
    pub fn pop_due(&mut self, now: Instant) -> Option<Vec<u8>> {
        match self.queue.peek() {
            Some(Reverse((at, _, _))) if *at <= now => {
                let Reverse((_, _, packet)) = self.queue.pop()?;
                self.stats.delivered += 1;
                Some(packet)
            }
            _ => None,
        }
    }

    /// When the next packet is due, if any is queued.
    pub fn next_due(&self) -> Option<Instant> {
        self.queue.peek().map(|Reverse((at, _, _))| *at)
    }

    pub fn in_flight(&self) -> usize {
        self.queue.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_fate() {
        let run = |seed| {
            let mut link = Link::new(Impairment::lossy(0.2), seed);
            let mut out = Vec::new();
            for i in 0..200u32 {
                link.push(Instant::from_millis(u64::from(i)), &i.to_be_bytes());
            }
            while let Some(p) = link.pop_due(Instant::from_secs(10)) {
                out.push(p);
            }
            (out, link.stats)
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7).0, run(8).0);
    }

    #[test]
    fn perfect_link_is_fifo_and_lossless() {
        let mut link = Link::new(Impairment::NONE, 1);
        for i in 0..50u8 {
            link.push(Instant::from_millis(1), &[i]);
        }
        let got: Vec<u8> = std::iter::from_fn(|| link.pop_due(Instant::from_millis(1)))
            .map(|p| p[0])
            .collect();
        assert_eq!(got, (0..50).collect::<Vec<_>>());
    }

    #[test]
    fn lossy_link_rates_are_near_the_setting() {
        let mut link = Link::new(Impairment::lossy(0.05), 42);
        for i in 0..20_000u32 {
            link.push(Instant::from_micros(u64::from(i)), &[0]);
        }
        let s = link.stats;
        // 5% of 20 000 is 1000; a binomial with that mean stays well inside ±25%.
        for (what, n) in [
            ("dropped", s.dropped),
            ("duplicated", s.duplicated),
            ("reordered", s.reordered),
        ] {
            assert!((750..=1250).contains(&n), "{what} = {n}, seed 42");
        }
        let delivered = std::iter::from_fn(|| link.pop_due(Instant::from_secs(5))).count() as u64;
        assert_eq!(delivered, s.offered - s.dropped + s.duplicated);
        assert!(link.next_due().is_none());
    }

    #[test]
    fn reordered_packets_are_overtaken_but_none_lost() {
        let imp = Impairment {
            reorder: 0.3,
            reorder_by: Duration::from_millis(5),
            ..Impairment::NONE
        };
        let mut link = Link::new(imp, 3);
        for i in 0..100u8 {
            link.push(Instant::from_millis(u64::from(i)), &[i]);
        }
        let got: Vec<u8> = std::iter::from_fn(|| link.pop_due(Instant::from_secs(1)))
            .map(|p| p[0])
            .collect();
        let mut sorted = got.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, (0..100).collect::<Vec<_>>());
        assert_ne!(got, sorted, "seed 3 reordered nothing");
        assert!(link.stats.reordered > 0);
    }

    #[test]
    fn bad_probability_is_rejected() {
        let imp = Impairment {
            loss: 1.5,
            ..Impairment::NONE
        };
        assert!(imp.validate().unwrap_err().contains("loss"));
    }
}
