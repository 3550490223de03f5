//! The interop tests (issue 7): the engine against the Linux kernel's TCP over
//! a TUN device in a private network namespace.
//!
//! This file is its own test runner (`harness = false`), because whether these
//! tests can run is only known at run time (root, `/dev/net/tun`, unshare,
//! tshark), and libtest on stable Rust can only skip at compile time. A test
//! that cannot run prints `SKIPPED: <why>` and is counted as *ignored*, never
//! as passed. The output follows libtest's format, so `cargo test` summaries
//! and filters (`cargo test --test interop -- handshake`) work as usual.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitCode;
use std::sync::mpsc;
use std::time::Instant;

use synack_checks::interop::scenario::{self, Aborter, Closer, Role};
use synack_checks::interop::{selftest, table, Failure, Impairment, Outcome, TestCtx};

type TestFn = fn(&TestCtx) -> Result<Outcome, Failure>;

/// 1 MiB, the transfer size the issue asks for.
const MIB: usize = 1 << 20;

/// Every interop test: name (also the pcap's file name) and body.
const TESTS: &[(&str, TestFn)] = &[
    (
        "harness_namespace_is_private",
        selftest::namespace_is_private,
    ),
    ("harness_syn_gets_syn_ack", selftest::syn_gets_syn_ack),
    (
        "harness_state_lookup_agrees_with_proc",
        selftest::state_lookup_agrees_with_proc,
    ),
    (
        "harness_syn_to_closed_port_gets_rst",
        selftest::syn_to_closed_port_gets_rst,
    ),
    ("handshake_engine_client", |c| {
        scenario::handshake(c, Role::EngineClient)
    }),
    ("transfer_1mib_clean_engine_client", |c| {
        scenario::transfer(c, Role::EngineClient, MIB, Impairment::NONE)
    }),
    ("transfer_1mib_lossy_engine_client", |c| {
        scenario::transfer(c, Role::EngineClient, MIB, Impairment::lossy(0.05))
    }),
    ("close_by_engine_engine_client", |c| {
        scenario::close(c, Role::EngineClient, Closer::Engine)
    }),
    ("close_by_kernel_engine_client", |c| {
        scenario::close(c, Role::EngineClient, Closer::Kernel)
    }),
    ("close_simultaneous_engine_client", |c| {
        scenario::close(c, Role::EngineClient, Closer::Both)
    }),
    ("abort_by_engine_engine_client", |c| {
        scenario::abort(c, Role::EngineClient, Aborter::Engine)
    }),
    ("abort_by_kernel_engine_client", |c| {
        scenario::abort(c, Role::EngineClient, Aborter::Kernel)
    }),
    ("fin_wait_2_engine_client", |c| {
        scenario::fin_wait_2(c, Role::EngineClient)
    }),
    ("keepalive_engine_client", |c| {
        scenario::keepalive(c, Role::EngineClient)
    }),
    ("retransmission_engine_client", |c| {
        scenario::retransmission(c, Role::EngineClient)
    }),
    ("handshake_engine_server", |c| {
        scenario::handshake(c, Role::EngineServer)
    }),
    ("transfer_1mib_clean_engine_server", |c| {
        scenario::transfer(c, Role::EngineServer, MIB, Impairment::NONE)
    }),
    ("transfer_1mib_lossy_engine_server", |c| {
        scenario::transfer(c, Role::EngineServer, MIB, Impairment::lossy(0.05))
    }),
    ("close_by_engine_engine_server", |c| {
        scenario::close(c, Role::EngineServer, Closer::Engine)
    }),
    ("close_by_kernel_engine_server", |c| {
        scenario::close(c, Role::EngineServer, Closer::Kernel)
    }),
    ("close_simultaneous_engine_server", |c| {
        scenario::close(c, Role::EngineServer, Closer::Both)
    }),
    ("abort_by_engine_engine_server", |c| {
        scenario::abort(c, Role::EngineServer, Aborter::Engine)
    }),
    ("abort_by_kernel_engine_server", |c| {
        scenario::abort(c, Role::EngineServer, Aborter::Kernel)
    }),
    ("fin_wait_2_engine_server", |c| {
        scenario::fin_wait_2(c, Role::EngineServer)
    }),
    ("keepalive_engine_server", |c| {
        scenario::keepalive(c, Role::EngineServer)
    }),
    ("retransmission_engine_server", |c| {
        scenario::retransmission(c, Role::EngineServer)
    }),
    ("table_refuses_closed_port", table::refuses_closed_port),
    ("table_serves_four_kernel_clients", |c| {
        table::serves_several_clients(c, 4, 200_000)
    }),
    (
        "table_time_wait_acks_retransmitted_fin",
        table::time_wait_acks_retransmitted_fin,
    ),
    ("syn_retransmission_engine_client", |c| {
        scenario::syn_retransmission(c, Role::EngineClient)
    }),
    ("syn_retransmission_engine_server", |c| {
        scenario::syn_retransmission(c, Role::EngineServer)
    }),
];

/// The seed every test uses unless `SYNACK_INTEROP_SEED` says otherwise.
const DEFAULT_SEED: u64 = 0x5EED_07C9;

struct Options {
    filters: Vec<String>,
    skip: Vec<String>,
    exact: bool,
    list: bool,
    nocapture: bool,
    ignored_only: bool,
    threads: usize,
}

fn parse_args() -> Result<Options, String> {
    let mut o = Options {
        filters: Vec::new(),
        skip: Vec::new(),
        exact: false,
        list: false,
        nocapture: std::env::var_os("RUST_TEST_NOCAPTURE").is_some(),
        ignored_only: false,
        threads: std::env::var("RUST_TEST_THREADS")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(3),
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let (flag, inline) = match a.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (a.clone(), None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value"))
        };
        match flag.as_str() {
            "--exact" => o.exact = true,
            "--list" => o.list = true,
            "--nocapture" | "--no-capture" => o.nocapture = true,
            "--ignored" => o.ignored_only = true,
            "--include-ignored" | "--quiet" | "-q" | "--show-output" => {}
            "--test-threads" => {
                let v = value("--test-threads")?;
                o.threads = v.parse().map_err(|_| format!("bad --test-threads {v:?}"))?;
            }
            "--skip" => o.skip.push(value("--skip")?),
            "--color" | "--format" | "-Z" | "--logfile" => {
                value(&flag)?;
            }
            f if f.starts_with('-') => return Err(format!("unsupported option {f}")),
            _ => o.filters.push(a),
        }
    }
    o.threads = o.threads.max(1);
    Ok(o)
}

fn selected(o: &Options, name: &str) -> bool {
    let hit = |f: &String| {
        if o.exact {
            name == f
        } else {
            name.contains(f.as_str())
        }
    };
    (o.filters.is_empty() || o.filters.iter().any(hit))
        && !o.skip.iter().any(|s| name.contains(s.as_str()))
}

enum Verdict {
    Passed,
    Skipped(String),
    Failed(String),
}

fn run_one(name: &str, f: TestFn, seed: u64, echo: bool) -> (Verdict, Vec<String>) {
    let ctx = TestCtx::new(name, seed);
    let ctx = if echo { ctx.echoing() } else { ctx };
    let result = catch_unwind(AssertUnwindSafe(|| f(&ctx)));
    let replay = format!(
        "seed {seed:#x} (replay: SYNACK_INTEROP_SEED={seed:#x} cargo test -p synack-checks --test interop -- --exact {name})\n  pcap {}",
        ctx.pcap.display()
    );
    let verdict = match result {
        Ok(Ok(Outcome::Passed)) => Verdict::Passed,
        Ok(Ok(Outcome::Skipped(why))) => Verdict::Skipped(why),
        Ok(Err(e)) => Verdict::Failed(format!("{e}\n  {replay}")),
        Err(panic) => {
            let msg = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "panic".into());
            Verdict::Failed(format!("panicked: {msg}\n  {replay}"))
        }
    };
    (verdict, ctx.notes())
}

fn parse_seed() -> Result<u64, String> {
    match std::env::var("SYNACK_INTEROP_SEED") {
        Err(_) => Ok(DEFAULT_SEED),
        Ok(v) => {
            let t = v.trim();
            let parsed = match t.strip_prefix("0x") {
                Some(hex) => u64::from_str_radix(hex, 16),
                None => t.parse(),
            };
            parsed.map_err(|_| format!("SYNACK_INTEROP_SEED={v:?} is not a number"))
        }
    }
}

fn main() -> ExitCode {
    let (opts, seed) = match parse_args().and_then(|o| Ok((o, parse_seed()?))) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(101);
        }
    };
    let tests: Vec<(&str, TestFn)> = TESTS
        .iter()
        .copied()
        .filter(|(n, _)| selected(&opts, n))
        .collect();
    let filtered_out = TESTS.len() - tests.len();
    if opts.list {
        for (n, _) in &tests {
            println!("{n}: test");
        }
        return ExitCode::SUCCESS;
    }
    let started = Instant::now();
    println!();
    if opts.ignored_only {
        // Nothing here is ignored at compile time, so `--ignored` selects nothing.
        println!("running 0 tests");
        println!();
        println!(
            "test result: ok. 0 passed; 0 failed; 0 ignored; 0 measured; {} filtered out; finished in 0.00s",
            TESTS.len()
        );
        println!();
        return ExitCode::SUCCESS;
    }
    println!("running {} tests", tests.len());
    let (tx, rx) = mpsc::channel();
    let mut passed = 0;
    let mut ignored = 0;
    let mut failures = Vec::new();
    let queue = std::sync::Mutex::new(tests.into_iter());
    std::thread::scope(|scope| {
        for _ in 0..opts.threads {
            let tx = tx.clone();
            let queue = &queue;
            let echo = opts.nocapture;
            scope.spawn(move || loop {
                let next = queue.lock().ok().and_then(|mut q| q.next());
                let Some((name, f)) = next else { break };
                let began = Instant::now();
                let (verdict, notes) = run_one(name, f, seed, echo);
                if tx.send((name, verdict, notes, began.elapsed())).is_err() {
                    break;
                }
            });
        }
        drop(tx);
        for (name, verdict, notes, took) in rx {
            match verdict {
                Verdict::Passed => {
                    passed += 1;
                    println!("test {name} ... ok ({:.2}s)", took.as_secs_f64());
                }
                Verdict::Skipped(why) => {
                    ignored += 1;
                    println!("test {name} ... ignored, SKIPPED: {why}");
                }
                Verdict::Failed(msg) => {
                    println!("test {name} ... FAILED");
                    failures.push((name, msg, notes));
                }
            }
        }
    });
    if !failures.is_empty() {
        println!();
        println!("failures:");
        for (name, msg, notes) in &failures {
            println!();
            println!("---- {name} ----");
            for n in notes {
                println!("{n}");
            }
            println!("{msg}");
        }
        println!();
        println!("failures:");
        for (name, _, _) in &failures {
            println!("    {name}");
        }
    }
    println!();
    println!(
        "test result: {}. {passed} passed; {} failed; {ignored} ignored; 0 measured; {filtered_out} filtered out; finished in {:.2}s",
        if failures.is_empty() { "ok" } else { "FAILED" },
        failures.len(),
        started.elapsed().as_secs_f64()
    );
    println!();
    if failures.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(101)
    }
}
