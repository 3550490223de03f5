//! Measures a full check of one variant: `cargo run --release -p synack-model
//! --example measure -- [variant] [key=value ...]` (keys: the `Config` fields).

use stateright::{Checker, Model};
use std::time::Instant;
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
    let mut threads = 2;
    let mut timeout = 0u64;
    let show: Vec<String> = std::env::var("SHOW")
        .map(|v| v.split(',').map(String::from).collect())
        .unwrap_or_default();
    for kv in args {
        let (k, v) = kv.split_once('=').unwrap_or((&kv, ""));
        let v: u8 = v.parse().unwrap_or_else(|_| {
            eprintln!("bad value in {kv}");
            std::process::exit(2)
        });
        match k {
            "msl" => c.msl = v,
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
    let props = model.properties();
    let start = Instant::now();
    let mut builder = model.checker().threads(threads);
    if timeout > 0 {
        builder = builder.timeout(std::time::Duration::from_secs(timeout));
    }
    let checker = builder.spawn_bfs().join();
    let secs = start.elapsed().as_secs_f64();
    println!(
        "{variant}: done={} states={} unique={} depth={} {:.1}s {:.0} states/s",
        checker.is_done(),
        checker.state_count(),
        checker.unique_state_count(),
        checker.max_depth(),
        secs,
        checker.state_count() as f64 / secs
    );
    for p in &props {
        let d = checker.discovery(p.name);
        println!(
            "  {:<34} {:?} {}",
            p.name,
            p.expectation,
            match &d {
                Some(path) => format!("discovered (len {})", path.clone().into_actions().len()),
                None => "-".into(),
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
