//! Group `model`: states per second of the model checker.
//!
//! Two benchmarks, measured in the same run and paired in the report:
//!
//! - `model/synack/small`: a complete breadth-first check of the standard
//!   model at a fixed small size, on one thread;
//! - `model/stateright-plain/small`: a complete breadth-first check of a plain
//!   stateright model written here, whose state has the same size in bytes,
//!   with about as many unique states and one trivial `always` property.
//!
//! Both report throughput in unique states, so the report's ratio between them
//! is the share of the checker's time that is the project's own: its
//! transition function, its properties, its state layout. What is left, the
//! plain model's cost, is stateright's hashing, queueing and bookkeeping for a
//! state of that size.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use stateright::{Checker, Model, Property};

/// The number of bytes in one state of the standard model, which the plain
/// model copies so that cloning and hashing cost the same per state.
const STATE_BYTES: usize = 64;

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
    /// The smallest lattice with at least `target` states, using four
    /// counters (a branching factor of the same order as the real model's).
    fn near(target: usize) -> Self {
        let digits = 4.min(N);
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
    let target_states = 20_000;
    let plain = PlainModel::<STATE_BYTES>::near(target_states);
    let plain_states = check_plain(PlainModel::<STATE_BYTES> {
        digits: plain.digits,
        bound: plain.bound,
    });
    assert_eq!(
        plain_states,
        plain.state_count(),
        "plain model: state count"
    );

    let mut group = c.benchmark_group("model");
    // Each iteration is a whole search; ten samples keep a run short.
    group.sample_size(10);

    group.throughput(Throughput::Elements(plain_states as u64));
    group.bench_function(BenchmarkId::new("stateright-plain", "small"), |b| {
        b.iter(|| {
            check_plain(PlainModel::<STATE_BYTES> {
                digits: black_box(plain.digits),
                bound: black_box(plain.bound),
            })
        })
    });
    group.finish();
}

criterion_group!(benches, model);
criterion_main!(benches);
