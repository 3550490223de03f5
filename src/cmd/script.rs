//! `synack script`: run packetdrill-syntax scenario scripts against the engine.

use std::path::PathBuf;
use std::process::ExitCode;

use synack_checks::script::{
    collect_scripts, config::SETTINGS, run_files, stack::StackEngine, RunConfig, Summary,
};

#[derive(clap::Args)]
#[command(after_help = settings_help())]
pub struct Args {
    /// Define NAME for `#ifdef NAME` / `#ifndef NAME` (repeatable).
    #[arg(long = "define", value_name = "NAME")]
    defines: Vec<String>,
    /// Do not compare the window of expected segments.
    #[arg(long)]
    ignore_window: bool,
    /// Do not compare the options of expected segments.
    #[arg(long)]
    ignore_options: bool,
    /// Print every event as it runs, and notes on ignored header lines.
    #[arg(long, short)]
    verbose: bool,
    /// Engine and run settings, as a script's header lines take them
    /// (`--set mss=1000 --set initial_rto_ms=200`); header lines win.
    #[arg(long = "set", value_name = "NAME=VALUE")]
    settings: Vec<String>,
    /// Script files, or directories searched for `*.pkt`.
    #[arg(required = true, value_name = "FILE|DIR")]
    paths: Vec<PathBuf>,
}

fn settings_help() -> String {
    let mut s = String::from("Settings for --set (and header lines `--name=value`):\n");
    for (name, what) in SETTINGS {
        s += &format!("  {name:<58} {what}\n");
    }
    s
}

pub fn run(args: Args) -> ExitCode {
    let mut cfg = RunConfig {
        defines: args.defines.into_iter().collect(),
        ignore_window: args.ignore_window,
        ignore_options: args.ignore_options,
        verbose: args.verbose,
        ..RunConfig::default()
    };
    for s in &args.settings {
        let (name, value) = match s.split_once('=') {
            Some((n, v)) => (n.trim(), Some(v.trim())),
            None => (s.trim(), None),
        };
        match cfg.apply(name.trim_start_matches("--"), value) {
            Ok(synack_checks::script::Applied::Set) => {}
            Ok(synack_checks::script::Applied::Ignored) => {
                eprintln!("synack script: --set {s}: unknown setting");
                return ExitCode::from(2);
            }
            Err(e) => {
                eprintln!("synack script: --set {s}: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let files = match collect_scripts(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            eprintln!("synack script: {e}");
            return ExitCode::from(2);
        }
    };
    let reports = run_files(&files, &cfg, &mut |c: &RunConfig| {
        StackEngine::new(&c.engine)
    });
    for r in &reports {
        println!("{r}");
        if cfg.verbose {
            for n in &r.notes {
                println!("    note: {n}");
            }
            for t in &r.trace {
                println!("    {t}");
            }
        }
    }
    let summary = Summary::of(&reports);
    println!("{summary}");
    if summary.failed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}
