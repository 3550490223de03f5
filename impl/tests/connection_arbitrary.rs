//! Bad input (issue 4): arbitrary segment sequences, user calls and timer
//! advances, in every starting state, never panic and never break the TCB's
//! invariants. The driver is `synack_tcp::connection::fuzzing::drive`, the
//! same function the cargo-fuzz target runs; here its inputs come from a
//! seeded generator.
//!
//! Replay one seed: `CONNECTION_FUZZ_SEED=N cargo test -p synack-tcp --test connection_arbitrary`.
//! More seeds: `CONNECTION_FUZZ_CASES=N`.

use std::panic::{catch_unwind, AssertUnwindSafe};

use synack_tcp::connection::fuzzing::{drive, Coverage};

/// SplitMix64: small, seeded, good enough to make inputs.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

fn input(seed: u64) -> Vec<u8> {
    let mut r = Rng(seed);
    let len = (r.next() % 1500) as usize;
    let mut v = Vec::with_capacity(len);
    // Mostly small numbers (they steer the driver towards valid-looking
    // segments), some anything.
    while v.len() < len {
        let x = r.next();
        let b = if x.is_multiple_of(4) {
            (x >> 8) as u8
        } else {
            ((x >> 8) % 24) as u8
        };
        v.push(b);
    }
    // The first byte picks the starting state: cover all eleven evenly.
    if let Some(first) = v.first_mut() {
        *first = (seed % 11) as u8;
    }
    v
}

fn run(seed: u64) -> Coverage {
    let data = input(seed);
    match catch_unwind(AssertUnwindSafe(|| drive(&data))) {
        Ok(cov) => cov,
        Err(_) => panic!(
            "seed {seed} broke the connection (input {} bytes)\n  replay: CONNECTION_FUZZ_SEED={seed} cargo test -p synack-tcp --test connection_arbitrary",
            data.len()
        ),
    }
}

#[test]
fn arbitrary_inputs_in_every_state() {
    if let Ok(seed) = std::env::var("CONNECTION_FUZZ_SEED") {
        run(seed.parse().expect("CONNECTION_FUZZ_SEED must be a number"));
        return;
    }
    let cases: u64 = std::env::var("CONNECTION_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3000);
    let mut states = 0u16;
    let (mut segments, mut delivered) = (0u64, 0u64);
    for seed in 0..cases {
        let cov = run(seed);
        states |= cov.states;
        segments += cov.segments;
        delivered += cov.bytes_delivered;
    }
    // The driver must actually reach the state machine: every state, many
    // segments, some data accepted.
    assert_eq!(states, (1 << 11) - 1, "states reached: {states:#b}");
    assert!(
        segments > cases * 5,
        "{segments} segments over {cases} inputs"
    );
    assert!(delivered > 0);
    eprintln!("{cases} inputs: {segments} segments processed, {delivered} bytes delivered");
}

#[test]
fn empty_and_tiny_inputs() {
    drive(&[]);
    for state in 0..11u8 {
        drive(&[state]);
        drive(&[state, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
    }
}
