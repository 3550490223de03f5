//! Each variant's counterexamples, found by the model checker, replayed on
//! the engine: the engine configured with the variant's decision must fail
//! the same way, and the engine configured as the standard model must not.

use synack_checks::refine::replay::{replay_variant, ReplayError};
use synack_model::{Config, Variant};

fn confirmed(variant: Variant) {
    let report = match replay_variant(variant, &Config::default_for(variant)) {
        Ok(r) => r,
        Err(e) => panic!("{e}"),
    };
    eprintln!("{report}");
    assert!(
        !report.properties.is_empty(),
        "the model checker found no counterexample for {variant}"
    );
    assert!(report.all_confirmed(), "{report}");
}

#[test]
fn short_time_wait() {
    confirmed(Variant::ShortTimeWait);
}

#[test]
fn no_time_wait() {
    confirmed(Variant::NoTimeWait);
}

#[test]
fn fixed_isn() {
    confirmed(Variant::FixedIsn);
}

#[test]
fn time_wait_assassination() {
    confirmed(Variant::TimeWaitAssassination);
}

#[test]
fn no_fin_wait_2_timeout() {
    confirmed(Variant::NoFinWait2Timeout);
}

#[test]
fn two_way_handshake_is_not_an_engine_option() {
    let e = replay_variant(
        Variant::TwoWayHandshake,
        &Config::default_for(Variant::TwoWayHandshake),
    )
    .expect_err("the engine has no two-way handshake");
    assert!(matches!(
        e,
        ReplayError::NotExpressible {
            variant: Variant::TwoWayHandshake,
            ..
        }
    ));
    assert!(e.to_string().contains("three-way handshake"), "{e}");
}

#[test]
fn generals_is_not_a_tcp_configuration() {
    let e = replay_variant(Variant::Generals, &Config::default_for(Variant::Generals))
        .expect_err("generals is another model");
    assert!(matches!(
        e,
        ReplayError::NotExpressible {
            variant: Variant::Generals,
            ..
        }
    ));
}

#[test]
fn standard_has_nothing_to_replay() {
    let report = replay_variant(Variant::Standard, &Config::default_for(Variant::Standard))
        .expect("the standard model replays");
    assert!(report.properties.is_empty(), "{report}");
    assert!(report.to_string().contains("nothing to replay"));
}
