//! The state graph must be acyclic: stateright's `eventually` is sound only
//! then, and the horizon argument in `model.rs` says it is. Checked by an
//! iterative depth-first search with three colours: an edge to a state still
//! on the stack (grey) is a cycle.

use stateright::Model;
use std::collections::HashMap;
use synack_model::{Config, TcpModel, Variant};

#[derive(Clone, Copy, PartialEq)]
enum Colour {
    Grey,
    Black,
}

/// Returns the number of states, or the first back edge found.
fn check_acyclic<M>(model: &M) -> Result<usize, String>
where
    M: Model,
    M::State: std::hash::Hash + Eq + Clone + std::fmt::Debug,
    M::Action: std::fmt::Debug,
{
    let mut colour: HashMap<M::State, Colour> = HashMap::new();
    for init in model.init_states() {
        if colour.contains_key(&init) {
            continue;
        }
        // Stack of (state, its successors, index of the next successor).
        let mut stack: Vec<(M::State, Vec<M::State>, usize)> = Vec::new();
        colour.insert(init.clone(), Colour::Grey);
        let succ = model.next_states(&init);
        stack.push((init, succ, 0));
        while let Some(top) = stack.last_mut() {
            if top.2 < top.1.len() {
                let next = top.1[top.2].clone();
                top.2 += 1;
                match colour.get(&next) {
                    Some(Colour::Grey) => {
                        return Err(format!("cycle through {next:?}"));
                    }
                    Some(Colour::Black) => {}
                    None => {
                        colour.insert(next.clone(), Colour::Grey);
                        let succ = model.next_states(&next);
                        stack.push((next, succ, 0));
                    }
                }
            } else {
                let (done, _, _) = stack.pop().expect("non-empty stack");
                colour.insert(done, Colour::Black);
            }
        }
    }
    Ok(colour.len())
}

#[test]
fn standard_graph_is_acyclic() {
    // One incarnation with loss, duplication, a crash and an abort: small
    // enough for a DFS in a test, large enough to contain unacceptable-segment
    // ACKs, retransmissions, crashes and every timer.
    let mut c = Config::default_for(Variant::Standard);
    c.incarnations = 1;
    c.drops = 1;
    c.duplicates = 1;
    c.delays = 0;
    c.crashes = 1;
    c.aborts = 1;
    let model = TcpModel::new(c).expect("valid config");
    let n = check_acyclic(&model).expect("acyclic");
    assert!(n > 10_000, "explored only {n} states");
}

#[test]
fn two_incarnations_without_faults_are_acyclic() {
    let mut c = Config::default_for(Variant::Standard);
    c.incarnations = 2;
    c.drops = 0;
    c.duplicates = 0;
    c.delays = 0;
    c.crashes = 0;
    c.aborts = 0;
    let model = TcpModel::new(c).expect("valid config");
    let n = check_acyclic(&model).expect("acyclic");
    assert!(n > 1_000, "explored only {n} states");
}

#[test]
fn every_variant_is_acyclic_without_faults() {
    for v in Variant::ALL {
        if v == Variant::Generals {
            continue;
        }
        let mut c = Config::default_for(v);
        c.incarnations = 1;
        c.drops = 1;
        c.duplicates = 0;
        c.delays = 1;
        c.crashes = 0;
        c.aborts = 1;
        let model = TcpModel::new(c).expect("valid config");
        check_acyclic(&model).unwrap_or_else(|e| panic!("{v}: {e}"));
    }
}
