//! Group `model`: states per second of the model checker.
//!
//! Two benchmarks, measured in the same run and paired in the report:
//!
//! - `model/synack/small`: a complete breadth-first check of the standard
//!   model at a fixed small size ([`small_config`]), on one thread, with all of
//!   its properties;
//! - `model/stateright-plain/small`: a complete breadth-first check of a plain
//!   stateright model written here, whose state has the same size in bytes,
//!   with about as many unique states, about the same number of successors per
//!   state, and one trivial `always` property.
//!
//! Both report throughput in unique states. The plain model's cost per state
//! is stateright's own (hashing, queueing, bookkeeping for a state of that
//! size); the rest of the standard model's cost per state is the project's:
//! its transition function, its properties, its state layout. The report's
//! ratio (plain cost per state over ours) is therefore below 1, and one minus
//! it is the project's share of the checker's time.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stateright::{Checker, Model, Property};
use synack_benches::record_fact;
use synack_model::{Config, TcpModel, Variant};

/// The number of bytes in one state of the standard model, which the plain
/// model copies so that cloning and hashing cost the same per state.
const STATE_BYTES: usize = std::mem::size_of::<<TcpModel as Model>::State>();

/// The fixed small size: two incarnations, one data byte each way, one loss
/// and one retransmission, MSL of one tick; no duplication, delay past a
/// tick, crash or abort. About 64 000 unique states, under a second per
/// search on one thread. Every field that sizes the search is spelled out, so
/// that a change of the model's defaults does not silently change what this
/// bench measures.
fn small_config() -> Config {
    Config {
        msl: 1,
        incarnations: 2,
        data_bytes: 1,
        rcv_wnd: 3,
        rto: 1,
        max_retries: 1,
        drops: 1,
        duplicates: 0,
        delays: 0,
        crashes: 0,
        aborts: 0,
        horizon: 40,
        ..Config::default_for(Variant::Standard)
    }
}

/// The counts of one complete single-threaded check of the standard model.
struct Counts {
    unique: usize,
    generated: usize,
}

fn check_synack(model: TcpModel) -> Counts {
    let properties = model.properties().len();
    let checker = model.checker().threads(1).spawn_bfs().join();
    assert!(checker.is_done(), "standard model: search did not complete");
    // stateright stops early once every property has a discovery; the
    // standard model's invariants hold, so the search must have been full.
    assert!(
        checker.discoveries().len() < properties,
        "standard model: every property has a discovery, so the search may have stopped early"
    );
    Counts {
        unique: checker.unique_state_count(),
        generated: checker.state_count(),
    }
}

/// A plain stateright model: `digits` counters in a byte array, each of which
/// may be incremented up to `bound`. The graph is a lattice, finite and
/// acyclic, with `(bound + 1)^digits` states and up to `digits` successors
/// each; the remaining bytes are carried along unchanged so that every clone
/// and every hash touches `N` bytes, as the real model's state does.
struct PlainModel<const N: usize> {
    digits: usize,
    bound: u8,
}

#[derive(Clone, Debug, PartialEq, Eq, Hash)]
struct PlainState<const N: usize>([u8; N]);

impl<const N: usize> PlainModel<N> {
    /// The smallest lattice with at least `target` states whose states have
    /// about `successors` successors each, as the real model's do.
    fn near(target: usize, successors: usize) -> Self {
        let digits = successors.clamp(1, N.min(8));
        let mut bound: u8 = 1;
        while (usize::from(bound) + 1).pow(digits as u32) < target && bound < u8::MAX {
            bound += 1;
        }
        PlainModel { digits, bound }
    }

    fn state_count(&self) -> usize {
        (usize::from(self.bound) + 1).pow(self.digits as u32)
    }
}

impl<const N: usize> Model for PlainModel<N> {
    type State = PlainState<N>;
    type Action = usize;

    fn init_states(&self) -> Vec<Self::State> {
        vec![PlainState([0; N])]
    }

    fn actions(&self, state: &Self::State, actions: &mut Vec<Self::Action>) {
        for i in 0..self.digits {
            if state.0[i] < self.bound {
                actions.push(i);
            }
        }
    }

    fn next_state(&self, last: &Self::State, i: Self::Action) -> Option<Self::State> {
        let mut next = last.clone();
        next.0[i] += 1;
        Some(next)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        // stateright stops a search once every property has a discovery, so a
        // model without properties would stop at once; this one never fires
        // and forces the full search, as the real model's invariants do.
        vec![Property::always(
            "within_bound",
            |m: &Self, s: &Self::State| s.0[..m.digits].iter().all(|&d| d <= m.bound),
        )]
    }
}

/// One complete single-threaded BFS; returns the unique state count.
fn check_plain<const N: usize>(model: PlainModel<N>) -> usize {
    let checker = model.checker().threads(1).spawn_bfs().join();
    assert!(checker.is_done(), "plain model: search did not complete");
    assert!(
        checker.discoveries().is_empty(),
        "plain model: its invariant was violated"
    );
    checker.unique_state_count()
}

fn model(c: &mut Criterion) {
    let config = small_config();
    let synack = check_synack(TcpModel::new(config).expect("the small config is valid"));
    // Successors generated per unique state, rounded: the plain model's
    // counters, so that both checkers hash about as many successors.
    let successors = (synack.generated + synack.unique / 2) / synack.unique.max(1);
    let plain = PlainModel::<STATE_BYTES>::near(synack.unique, successors);
    let plain_states = check_plain(PlainModel::<STATE_BYTES> {
        digits: plain.digits,
        bound: plain.bound,
    });
    assert_eq!(
        plain_states,
        plain.state_count(),
        "plain model: state count"
    );
    record_fact("model.state_bytes", STATE_BYTES as f64, "B");
    record_fact("model.synack_unique_states", synack.unique as f64, "states");
    record_fact(
        "model.synack_generated_states",
        synack.generated as f64,
        "states",
    );
    record_fact("model.plain_unique_states", plain_states as f64, "states");

    let mut group = c.benchmark_group("model");
    // Each iteration is a whole search; ten samples keep a run short.
    group.sample_size(10);

    group.throughput(Throughput::Elements(synack.unique as u64));
    group.bench_function(BenchmarkId::new("synack", "small"), |b| {
        b.iter(|| {
            let model = TcpModel::new(black_box(config)).expect("valid");
            let unique = check_synack(model).unique;
            assert_eq!(unique, synack.unique, "standard model: state count changed");
            unique
        })
    });

    group.throughput(Throughput::Elements(plain_states as u64));
    group.bench_function(BenchmarkId::new("stateright-plain", "small"), |b| {
        b.iter(|| {
            let unique = check_plain(PlainModel::<STATE_BYTES> {
                digits: black_box(plain.digits),
                bound: black_box(plain.bound),
            });
            assert_eq!(unique, plain_states, "plain model: state count changed");
            unique
        })
    });
    group.finish();
}

criterion_group!(benches, model);
criterion_main!(benches);
