//! Every variant at its CI-sized default configuration: a complete BFS, and
//! every property's verdict equal to what the variant declares it expects
//! (the standard model's promises hold; each variant's counterexample exists).

use stateright::{Checker, Expectation, Model};
use synack_model::check::{Expectations, Verdict};
use synack_model::generals::GeneralsModel;
use synack_model::{Config, TcpModel, Variant};

fn verdicts<M>(model: M) -> (Vec<(&'static str, Verdict, Verdict)>, usize)
where
    M: Model + Expectations + Clone + Send + Sync + 'static,
    M::State: std::hash::Hash + Clone + PartialEq + std::fmt::Debug + Send + Sync,
    M::Action: Clone + PartialEq + std::fmt::Debug,
{
    let props = model.properties();
    let expect = model.clone();
    let checker = model.checker().threads(2).spawn_bfs().join();
    assert!(checker.is_done(), "the search must complete");
    let rows = props
        .iter()
        .map(|p| {
            let found = checker.discovery(p.name).is_some();
            let got = match (&p.expectation, found) {
                (Expectation::Sometimes, true) => Verdict::Found,
                (Expectation::Sometimes, false) => Verdict::NotFound,
                (_, true) => Verdict::Violated,
                (_, false) => Verdict::Holds,
            };
            (p.name, expect.expected(p.name), got)
        })
        .collect();
    (rows, checker.unique_state_count())
}

fn assert_expected(v: Variant) {
    let model = TcpModel::new(Config::default_for(v)).expect("valid default config");
    let (rows, states) = verdicts(model);
    let wrong: Vec<String> = rows
        .iter()
        .filter(|(_, e, g)| e != g)
        .map(|(n, e, g)| format!("{n}: expected {e:?}, got {g:?}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "{v} ({states} states):\n  {}",
        wrong.join("\n  ")
    );
    // Each variant must break what it is about, not pass vacuously.
    let violated = rows.iter().filter(|r| r.2 == Verdict::Violated).count();
    if v == Variant::Standard {
        assert_eq!(violated, 0);
    } else {
        assert!(violated > 0, "{v} violates nothing");
    }
}

#[test]
fn standard() {
    assert_expected(Variant::Standard);
}

#[test]
fn two_way_handshake() {
    assert_expected(Variant::TwoWayHandshake);
}

#[test]
fn short_time_wait() {
    assert_expected(Variant::ShortTimeWait);
}

#[test]
fn no_time_wait() {
    assert_expected(Variant::NoTimeWait);
}

#[test]
fn fixed_isn() {
    assert_expected(Variant::FixedIsn);
}

#[test]
fn time_wait_assassination() {
    assert_expected(Variant::TimeWaitAssassination);
}

#[test]
fn no_fin_wait_2_timeout() {
    assert_expected(Variant::NoFinWait2Timeout);
}

#[test]
fn generals_is_violated_for_every_k() {
    for k in 1..=4 {
        let mut c = Config::default_for(Variant::Generals);
        c.rounds = k;
        let model = GeneralsModel::new(c).expect("valid config");
        let (rows, _) = verdicts(model);
        for (name, expected, got) in rows {
            assert_eq!(expected, got, "generals K={k}: {name}");
        }
    }
}

#[test]
fn generals_counterexample_loses_the_last_message() {
    let mut c = Config::default_for(Variant::Generals);
    c.rounds = 3;
    let model = GeneralsModel::new(c).expect("valid config");
    let checker = model.checker().spawn_bfs().join();
    let path = checker
        .discovery("both_act_or_neither")
        .expect("a counterexample");
    let actions = path.into_actions();
    // Send and deliver m0..m2, then send m3 and lose it.
    assert_eq!(actions.len(), 2 * 4);
    assert_eq!(
        actions.last(),
        Some(&synack_model::generals::GeneralsAction::Lose)
    );
}

#[test]
fn bad_configs_are_refused_with_a_message() {
    let mut c = Config::default_for(Variant::Standard);
    c.msl = 0;
    let e = TcpModel::new(c).expect_err("msl 0");
    assert_eq!(e.to_string(), "msl must be between 1 and 8, not 0");
    let mut c = Config::default_for(Variant::Standard);
    c.incarnations = 0;
    assert!(TcpModel::new(c).is_err());
    assert!(TcpModel::new(Config::default_for(Variant::Generals)).is_err());
    assert!(GeneralsModel::new(Config::default_for(Variant::Standard)).is_err());
    let mut c = Config::default_for(Variant::Standard);
    c.msl = 1;
    assert_eq!(
        TcpModel::new(c).expect_err("rto above msl").to_string(),
        "rto (2) must not exceed msl (1): TIME-WAIT must outlast a retransmitted FIN"
    );
    c.set_msl(1);
    assert!(TcpModel::new(c).is_ok());
    let err = "nope".parse::<Variant>().expect_err("unknown");
    assert!(err.to_string().contains("two-way-handshake"));
    for v in Variant::ALL {
        assert_eq!(v.name().parse::<Variant>(), Ok(v));
    }
}

#[test]
fn two_losses_reach_the_generals_limit_in_the_standard_model() {
    // TIME-WAIT absorbs one loss; with the final ACK and a FIN retransmission
    // both lost, the server can only end by RST or timeout once TIME-WAIT is
    // over. One incarnation keeps the check small.
    let mut c = Config::default_for(Variant::Standard);
    c.incarnations = 1;
    c.drops = 2;
    c.duplicates = 0;
    let model = TcpModel::new(c).expect("valid config");
    let (rows, _) = verdicts(model);
    for (name, expected, got) in &rows {
        assert_eq!(expected, got, "{name}");
    }
    assert!(rows
        .iter()
        .any(|r| r.0 == "final_ack_lost_peer_gave_up" && r.2 == Verdict::Found));
}
