//! Measures a complete check of one TCP variant and prints each property's
//! verdict next to the expected one:
//!
//! ```text
//! cargo run --release -p synack-model --example measure -- [variant] [full] [key=value ...]
//! ```
//!
//! `full` starts from `Config::full` instead of `Config::default_for`; the
//! keys are `Config` fields plus `threads` and `timeout` (seconds; a search
//! cut by the timeout is reported as incomplete). `SHOW=name,...` prints the
//! events of those properties' discoveries.

use stateright::{Checker, Model};
use std::time::Instant;
use synack_model::check::{Expectations, Verdict};
use synack_model::diagram::Diagram;
use synack_model::{Config, TcpModel, Variant};

fn main() {
    let mut args = std::env::args().skip(1);
    let variant: Variant = args
        .next()
        .unwrap_or_else(|| "standard".into())
        .parse()
        .unwrap_or_else(|e| {
            eprintln!("{e}");
            std::process::exit(2)
        });
    let mut c = Config::default_for(variant);
    let args: Vec<String> = args.collect();
    if args.iter().any(|a| a == "full") {
        c = Config::full(variant);
    }
    let mut threads = 2;
    let mut timeout = 0u64;
    let show: Vec<String> = std::env::var("SHOW")
        .map(|v| v.split(',').map(String::from).collect())
        .unwrap_or_default();
    for kv in args.iter().filter(|a| *a != "full") {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        let v: u8 = v.parse().unwrap_or_else(|_| {
            eprintln!("bad value in {kv}");
            std::process::exit(2)
        });
        match k {
            "msl" => c.set_msl(v),
            "incarnations" => c.incarnations = v,
            "data_bytes" => c.data_bytes = v,
            "rcv_wnd" => c.rcv_wnd = v,
            "rto" => c.rto = v,
            "max_retries" => c.max_retries = v,
            "drops" => c.drops = v,
            "duplicates" => c.duplicates = v,
            "delays" => c.delays = v,
            "crashes" => c.crashes = v,
            "aborts" => c.aborts = v,
            "horizon" => c.horizon = v,
            "threads" => threads = usize::from(v),
            "timeout" => timeout = u64::from(v),
            _ => {
                eprintln!("unknown key {k}");
                std::process::exit(2)
            }
        }
    }
    let model = TcpModel::new(c).unwrap_or_else(|e| {
        eprintln!("{e}");
        std::process::exit(2)
    });
    let printer = model.clone();
    println!("{c:?}");
    let props = model.properties();
    let start = Instant::now();
    let mut builder = model.checker().threads(threads);
    if timeout > 0 {
        builder = builder.timeout(std::time::Duration::from_secs(timeout));
    }
    let checker = builder.spawn_bfs().join();
    let secs = start.elapsed().as_secs_f64();
    let complete = timeout == 0 || secs < timeout as f64;
    println!(
        "{variant}: complete={} states={} unique={} depth={} {:.1}s {:.0} states/s",
        complete,
        checker.state_count(),
        checker.unique_state_count(),
        checker.max_depth(),
        secs,
        checker.state_count() as f64 / secs
    );
    for p in &props {
        let d = checker.discovery(p.name);
        let got = match (&p.expectation, d.is_some()) {
            (stateright::Expectation::Sometimes, true) => Verdict::Found,
            (stateright::Expectation::Sometimes, false) => Verdict::NotFound,
            (_, true) => Verdict::Violated,
            (_, false) => Verdict::Holds,
        };
        let expected = printer.expected(p.name);
        println!(
            "  {:<34} {:<10} expected {:<9} got {:<9} {}{}",
            p.name,
            format!("{:?}", p.expectation),
            format!("{expected:?}"),
            format!("{got:?}"),
            if expected == got { "ok" } else { "MISMATCH" },
            match &d {
                Some(path) => format!(" (path of {} steps)", path.clone().into_actions().len()),
                None => String::new(),
            }
        );
        if let (Some(path), true) = (&d, show.iter().any(|n| n == p.name)) {
            let states = path.clone().into_states();
            let actions = path.clone().into_actions();
            for (i, a) in actions.iter().enumerate() {
                let ev = printer.describe_step(&states[i], a, &states[i + 1]);
                println!("    {:?}", a);
                for e in ev {
                    println!("        {:?}", e);
                }
            }
        }
    }
}
