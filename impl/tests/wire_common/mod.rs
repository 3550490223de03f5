//! Seeds for the wire tests: every randomized test takes one, from
//! `SYNACK_SEED` if set, else from the clock, and prints it when it fails.

#![allow(dead_code)]

use std::time::{SystemTime, UNIX_EPOCH};

/// Prints the seed and the replay command if the test panics while alive.
pub struct SeedGuard {
    pub seed: u64,
    test: &'static str,
}

impl Drop for SeedGuard {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "\n{} failed with seed {}; replay: SYNACK_SEED={} cargo test -p synack-tcp {}\n",
                self.test, self.seed, self.seed, self.test
            );
        }
    }
}

pub fn seed(test: &'static str) -> SeedGuard {
    let seed = match std::env::var("SYNACK_SEED") {
        Ok(s) => s.parse().expect("SYNACK_SEED must be a u64"),
        Err(_) => SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    };
    SeedGuard { seed, test }
}

/// A proptest config driven by the seed, with no regression files written
/// into the tree (a failure prints its seed and minimal case instead).
pub fn proptest_config(seed: u64, cases: u32) -> proptest::test_runner::Config {
    proptest::test_runner::Config {
        cases,
        rng_seed: proptest::test_runner::RngSeed::Fixed(seed),
        failure_persistence: None,
        ..proptest::test_runner::Config::default()
    }
}
