//! The simulator: transfers survive loss, duplication and reordering with
//! every byte verified, or end in a reported timeout, never in corruption.

use synack_tcp::event::Ended;
use synack_tcp::sim::{self, Outcome, SimConfig};

fn replay(c: &SimConfig) -> String {
    format!(
        "replay: cargo run -- simulate --seed {} --loss {} --dup {} --reorder {} --bytes {}",
        c.seed, c.loss, c.duplicate, c.reorder, c.bytes
    )
}

#[test]
fn clean_network_transfers_and_closes() {
    let cfg = SimConfig::new(1, 0.0, 0.0, 0.0, 100_000);
    let r = sim::run(&cfg).expect("valid config");
    assert!(r.success(), "{r:?}\n{}", replay(&cfg));
    assert_eq!(r.transfers[0].delivered, 100_000);
    assert_eq!(r.transfers[1].delivered, 100_000);
    assert_eq!(r.retransmissions, [0, 0]);
    assert_eq!(r.outcomes, [Outcome::Closed(Ended::Graceful); 2]);
}

#[test]
fn the_same_seed_replays_the_same_run() {
    let mut cfg = SimConfig::new(77, 0.2, 0.1, 0.1, 20_000);
    cfg.capture = true;
    let x = sim::run(&cfg).expect("valid config");
    let y = sim::run(&cfg).expect("valid config");
    assert_eq!(x.packets, y.packets);
    assert_eq!(x.duration, y.duration);
}

/// Reordered packets held past the MSL die in the network (and TIME-WAIT,
/// 2×MSL, shrinks with it); the transfer still completes.
#[test]
fn packets_older_than_the_msl_expire() {
    let mut cfg = SimConfig::new(11, 0.05, 0.05, 0.3, 50_000);
    cfg.msl = std::time::Duration::from_millis(1500);
    cfg.reorder_hold = std::time::Duration::from_secs(3);
    let r = sim::run(&cfg).expect("valid config");
    assert!(r.expired > 0, "no packet outlived the MSL: {r:?}");
    assert!(
        r.success(),
        "{:?} {:?}\n{}",
        r.transfers,
        r.outcomes,
        replay(&cfg)
    );
}

/// The bar: 1,000 seeds at 20% loss, 10% duplication, 10%
/// reordering, every byte verified.
#[test]
fn a_thousand_lossy_seeds_deliver_every_byte() {
    let mut failures = Vec::new();
    for seed in 0..1000u64 {
        let cfg = SimConfig::new(seed, 0.2, 0.1, 0.1, 100_000);
        let r = sim::run(&cfg).expect("valid config");
        assert!(
            r.no_corruption(),
            "seed {seed}: corrupted or duplicated data: {:?}\n{}",
            r.transfers,
            replay(&cfg)
        );
        if !r.success() {
            failures.push(format!(
                "seed {seed}: transfers {:?}, outcomes {:?}, timed out {}\n  {}",
                r.transfers,
                r.outcomes,
                r.timed_out,
                replay(&cfg)
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failing seeds:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
