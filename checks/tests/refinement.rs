//! The engine refines the model: proptest-state-machine drives the model
//! (`TcpModel::next_state`, the reference) and two engines joined by a
//! simulated network (the system under test) with the same transitions, and
//! compares them after every one (see `synack_checks::refine`).
//!
//! Environment:
//! - `SYNACK_REFINE_CASES`: cases (default 500 000, about a minute on one
//!   core; a 100x soak is 50 000 000);
//! - `SYNACK_REFINE_SEED`: the seed (decimal u64); without it one is drawn
//!   and printed. A failure prints its seed and the command that replays it;
//! - `SYNACK_REFINE_STRICT=1`: keep the steps that run into a known
//!   difference between engine and model (`synack_checks::refine::known`).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use proptest::prelude::*;
use proptest::test_runner::{Config as PtConfig, RngAlgorithm, TestError, TestRng, TestRunner};
use proptest_state_machine::{ReferenceStateMachine, StateMachineTest};
use synack_checks::refine::artifacts::{rerun, write_failure};
use synack_checks::refine::known::{self, KNOWN};
use synack_checks::refine::{Harness, RefState, Step};
use synack_model::{Config, Variant};

/// Engine ISS = model ISS + base. Zero, and a base just below 2^32 so that
/// the engine's sequence numbers wrap in the middle of every connection.
const BASES: [u32; 2] = [0, u32::MAX - 0x1ff];

/// About a minute on an idle 2-core machine (~470,000 cases a minute).
const DEFAULT_CASES: u32 = 500_000;
const STEPS: std::ops::RangeInclusive<usize> = 1..=80;

/// The model's CI configuration for `variant`, with every kind of fault:
/// the network loses, duplicates and delays segments, a host crashes, a user
/// aborts.
fn model_config(variant: Variant) -> Config {
    Config {
        drops: 2,
        duplicates: 2,
        delays: 1,
        crashes: 1,
        aborts: 1,
        ..Config::default_for(variant)
    }
}

/// `SYNACK_REFINE_STRICT=1`: do not leave out the known differences.
fn strict() -> bool {
    std::env::var("SYNACK_REFINE_STRICT").is_ok_and(|v| v == "1")
}

/// Steps left out per known difference (index into `KNOWN`).
static LEFT_OUT: [AtomicUsize; 8] = [const { AtomicUsize::new(0) }; 8];

fn left_out(state: &RefState, step: &Step) -> bool {
    if strict() {
        return false;
    }
    match KNOWN.iter().position(|k| (k.hits)(state, step)) {
        Some(i) => {
            LEFT_OUT[i.min(7)].fetch_add(1, Ordering::Relaxed);
            true
        }
        None => false,
    }
}

thread_local! {
    static VARIANT: std::cell::Cell<Variant> = const { std::cell::Cell::new(Variant::Standard) };
}

struct Reference;

impl ReferenceStateMachine for Reference {
    type State = RefState;
    type Transition = Step;

    fn init_state() -> BoxedStrategy<RefState> {
        let variant = VARIANT.with(|v| v.get());
        proptest::sample::select(BASES.to_vec())
            .prop_map(move |base| {
                RefState::new(model_config(variant), base).expect("the CI configuration is valid")
            })
            .boxed()
    }

    fn transitions(state: &RefState) -> BoxedStrategy<Step> {
        let mut steps = state.steps(&state.model());
        steps.retain(|s| !left_out(state, s));
        if steps.is_empty() {
            Just(Step::Idle).boxed()
        } else {
            proptest::sample::select(steps).boxed()
        }
    }

    fn preconditions(state: &RefState, step: &Step) -> bool {
        let excluded = |s: &Step| !strict() && known::hit(state, s).is_some();
        match step {
            // Idle only when nothing else is left.
            Step::Idle => state.steps(&state.model()).iter().all(excluded),
            _ => state.allows(&state.model(), step) && !excluded(step),
        }
    }

    fn apply(state: RefState, step: &Step) -> RefState {
        state
            .next(&state.model(), step)
            .expect("preconditions admit only enabled steps")
    }
}

struct Refinement;

impl StateMachineTest for Refinement {
    type SystemUnderTest = Harness;
    type Reference = Reference;

    fn init_test(r: &RefState) -> Harness {
        let mut h = Harness::new(r.config, r.base).expect("valid configuration");
        let problems = h.compare();
        assert!(problems.is_empty(), "initial states differ: {problems:?}");
        h
    }

    fn apply(mut h: Harness, r: &RefState, step: Step) -> Harness {
        if let Err(d) = h.step(&step) {
            panic!("{d}");
        }
        assert_eq!(
            h.reference.s, r.s,
            "the harness's model copy left the reference"
        );
        h
    }

    fn teardown(h: Harness, r: RefState) {
        // Properties on the engines' history: the harness already failed any
        // violation the model does not share. In the standard model none may
        // be shared either: the model checker proves they hold.
        if r.config.variant == Variant::Standard {
            assert!(
                h.shared.is_empty(),
                "the standard model and the engines both break a property: {:?}",
                h.shared
            );
        }
    }
}

fn env_u64(name: &str) -> Option<u64> {
    let v = std::env::var(name).ok()?;
    match v.trim().parse() {
        Ok(n) => Some(n),
        Err(_) => panic!("{name}={v:?} is not a decimal number"),
    }
}

fn seed() -> u64 {
    env_u64("SYNACK_REFINE_SEED").unwrap_or_else(|| {
        let t = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(0);
        t ^ (u64::from(std::process::id()) << 32)
    })
}

fn rng(seed: u64) -> TestRng {
    let mut bytes = [0u8; 32];
    for (i, chunk) in bytes.chunks_mut(8).enumerate() {
        chunk.copy_from_slice(
            &(seed.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))).to_le_bytes(),
        );
    }
    TestRng::from_seed(RngAlgorithm::ChaCha, &bytes)
}

/// Runs `cases` cases of the refinement for `variant`; on failure writes the
/// artifacts and panics with the minimal trace, its directory and the replay
/// command.
fn run(name: &str, test: &str, variant: Variant, cases: u32) {
    VARIANT.with(|v| v.set(variant));
    let seed = seed();
    let started = Instant::now();
    let config = PtConfig {
        cases,
        failure_persistence: None,
        max_shrink_iters: 10_000,
        ..PtConfig::default()
    };
    let mut runner = TestRunner::new_with_rng(config.clone(), rng(seed));
    let strategy = Reference::sequential_strategy(STEPS);
    // Shrinking runs the failing case many times; its panics are expected
    // and would bury the result.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = runner.run(
        &strategy,
        |(initial, steps, seen): (RefState, Vec<Step>, Option<Arc<AtomicUsize>>)| {
            Refinement::test_sequential(config.clone(), initial, steps, seen);
            Ok(())
        },
    );
    std::panic::set_hook(hook);
    let elapsed = started.elapsed().as_secs_f64();
    eprintln!(
        "{name}: {cases} cases in {elapsed:.1} s ({:.0} cases/min), seed {seed}",
        f64::from(cases) * 60.0 / elapsed.max(1e-9)
    );
    for (i, k) in KNOWN.iter().enumerate() {
        let n = LEFT_OUT[i.min(7)].swap(0, Ordering::Relaxed);
        if n > 0 {
            eprintln!(
                "{name}: left out {n} step(s) that run into known difference {}",
                k.id
            );
        }
    }
    let replay = format!(
        "SYNACK_REFINE_SEED={seed} SYNACK_REFINE_CASES={cases} cargo test -p synack-checks --test refinement -- --exact {test}"
    );
    match result {
        Ok(()) => {}
        Err(TestError::Fail(reason, (initial, steps, _))) => {
            let (harness, divergence) = rerun(initial.config, initial.base, &steps);
            let mut msg = format!(
                "\n{name}: the engine differs from the model (seed {seed}).\nMinimal trace ({} steps, sequence base {:#x}):\n",
                steps.len(),
                initial.base
            );
            for (i, s) in steps.iter().enumerate() {
                msg.push_str(&format!("  {:>2}. {s}\n", i + 1));
            }
            match divergence {
                Some(d) => {
                    msg.push_str(&d.to_string());
                    match write_failure(name, seed, &replay, &steps, &harness, &d) {
                        Ok(dir) => msg.push_str(&format!(
                            "artifacts: {} (trace.json, segments.pcap, diagram.txt)\n",
                            dir.display()
                        )),
                        Err(e) => msg.push_str(&format!("could not write the artifacts: {e}\n")),
                    }
                }
                None => msg.push_str(&format!(
                    "(the steps run clean outside proptest; its failure was: {reason})\n"
                )),
            }
            msg.push_str(&format!("replay: {replay}\n"));
            panic!("{msg}");
        }
        Err(TestError::Abort(why)) => panic!("{name}: proptest gave up: {why} (seed {seed})"),
    }
}

fn cases() -> u32 {
    env_u64("SYNACK_REFINE_CASES").map_or(DEFAULT_CASES, |n| n as u32)
}

#[test]
fn engine_refines_standard_model() {
    run(
        "standard",
        "engine_refines_standard_model",
        Variant::Standard,
        cases(),
    );
}

/// Kills mutants the model cannot reach (checks/MUTANTS.md): the model's
/// segments carry at most one sequence number, so the acceptability test's
/// second clause (the segment's last byte in the window, RFC 9293 §3.10.7.4
/// Table 6) is only exercised by a segment of two: one old byte, one new.
#[test]
fn segment_straddling_rcv_nxt_delivers_its_new_byte() {
    use synack_checks::refine::system::{System, CLIENT_ADDR, SERVER_ADDR};
    use synack_tcp::wire::{Flags, PseudoHeader, TcpHeader};
    use synack_tcp::{Instant, State};

    let config = model_config(Variant::Standard);
    let h = Harness::new(config, 0).expect("valid configuration");
    let mut sys: System = h.system;
    sys.apply(&Step::Open {
        side: 0,
        active: true,
    });
    // Deliver everything until both are ESTABLISHED.
    for _ in 0..6 {
        if let Some(p) = sys.net.first() {
            let w = p.wire();
            sys.apply(&Step::Deliver(w));
        }
    }
    assert_eq!(sys.hosts[1].conn.state(), State::Established);
    let st = sys.hosts[1].conn.status();
    let peer = sys.hosts[0].conn.status();
    // One byte before RCV.NXT (already "received") and one at RCV.NXT.
    let hdr = TcpHeader {
        src_port: CLIENT_ADDR.port(),
        dst_port: SERVER_ADDR.port(),
        seq: st.rcv_nxt - 1,
        ack: peer.rcv_nxt,
        flags: Flags::ACK,
        window: 2,
        ..TcpHeader::default()
    };
    let pseudo = PseudoHeader::new(CLIENT_ADDR.ip(), SERVER_ADDR.ip()).expect("IPv4");
    let mut buf = [0u8; 64];
    let n = hdr.emit(&pseudo, &[0xee, 0x42], &mut buf).expect("fits");
    sys.hosts[1]
        .conn
        .on_bytes(Instant::ZERO, &buf[..n], CLIENT_ADDR)
        .expect("a valid segment");
    let after = sys.hosts[1].conn.status();
    assert_eq!(after.rcv_nxt, st.rcv_nxt + 1, "the new byte is accepted");
    let mut got = [0u8; 4];
    let k = sys.hosts[1].conn.recv(&mut got).expect("readable");
    assert_eq!(&got[..k], &[0x42], "only the new byte is delivered");
}
