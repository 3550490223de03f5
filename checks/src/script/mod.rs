//! Scenario scripts in packetdrill's syntax, run against the engine on virtual time.
//!
//! The script plays the remote peer: `<` lines are segments it injects into the
//! engine, `>` lines are segments it expects the engine to send, and system calls
//! drive the engine's user interface (RFC 9293 §3.10.1-6). See [`runner`] for the
//! time and sequence-number model.
//!
//! Entry points: [`run_text`] for one script held in memory; [`collect_scripts`]
//! and [`run_files`] for files and directories (every `*.pkt` below a
//! directory, in name order). [`stack::StackEngine`] binds the runner to the
//! engine's `Stack`; any other engine can implement [`Engine`].
//!
//! # What is understood
//!
//! - the time column: `0.100`, `+0.1`, `*`, `0.1~0.2` (a range), `A...B` (a
//!   blocking call from A returning at B); `--tolerance_usecs` (default 4000);
//! - `<` and `>` segments: flags `S F R P . U E W` or `-`, `start:end(len)`,
//!   `ack N`, `win N`, `urg N`, options `mss`, `wscale`, `sackOK`,
//!   `TS val X ecr Y`, `sack A:B ...`, `nop`, `eol`, or `<...>` for any;
//!   `[ect0]`-style IP annotations are skipped;
//! - system calls `socket bind listen accept connect write read send recv
//!   sendto recvfrom shutdown close setsockopt getsockopt fcntl` with return
//!   values and errno names (Linux's numbering); blocking calls block unless
//!   the socket is non-blocking (`fcntl` O_NONBLOCK or `SOCK_NONBLOCK`);
//! - header lines `--name=value` (see [`config::SETTINGS`]; unknown ones are
//!   noted and ignored), `//` and `/* */` comments, `#ifdef`/`#ifndef`/`#else`/
//!   `#endif`; backquoted shell commands and `%{ }%` blocks are counted, not run.
//!
//! # Differences from packetdrill
//!
//! - injected options are laid out by the engine's wire encoder (its own NOP
//!   padding), so `nop`/`eol` in a `<` line do not reach the wire as written;
//! - the TS value of an expected segment is not compared (the engine's clock
//!   is its own); its echo is;
//! - `>?` marks a segment the engine may send or omit (for RFC MAYs);
//! - the engine's ISN is learned afresh for each new incarnation the script
//!   starts (see [`runner`]).

pub mod ast;
pub mod config;
pub mod engine;
pub mod lexer;
pub mod parser;
pub mod report;
pub mod runner;
pub mod segment;
pub mod stack;

#[cfg(test)]
mod fake;

use std::path::{Path, PathBuf};

pub use ast::*;
pub use config::{Applied, IpVersion, RunConfig, SettingError};
pub use engine::{CallError, ConnectStatus, Engine, EngineSettings, SocketOptions};
pub use parser::{parse, ParseError, ParseErrorKind};
pub use report::{Failure, FailureKind, Outcome, ScriptReport, Summary};
pub use runner::Runner;

/// Parse and run one script given as text (`path` names it in messages).
/// `make_engine` builds a fresh engine from the settings in force for this
/// script (command line, then its header lines).
pub fn run_text<E: Engine>(
    path: &str,
    text: &str,
    base: &RunConfig,
    make_engine: &mut dyn FnMut(&RunConfig) -> Result<E, String>,
) -> ScriptReport {
    let mut report = ScriptReport {
        path: path.to_string(),
        outcome: Outcome::Passed,
        skipped: SkipCounts::default(),
        events_run: 0,
        notes: Vec::new(),
        trace: Vec::new(),
    };
    let script = match parse(path, text, &base.defines) {
        Ok(s) => s,
        Err(e) => {
            report.outcome = Outcome::Failed(Failure {
                line: e.line,
                kind: FailureKind::Parse(e.to_string()),
            });
            return report;
        }
    };
    report.skipped = script.skipped;
    let mut cfg = base.clone();
    for h in &script.headers {
        match cfg.apply(&h.name, h.value.as_deref()) {
            Ok(Applied::Set) => {}
            Ok(Applied::Ignored) => report
                .notes
                .push(format!("{path}:{}: header `--{}` ignored", h.line, h.name)),
            Err(e @ SettingError::Unsupported { .. }) => {
                report.outcome = Outcome::Skipped(format!("line {}: {e}", h.line));
                return report;
            }
            Err(e) => {
                report.outcome = Outcome::Failed(Failure {
                    line: h.line,
                    kind: FailureKind::Setting(e.to_string()),
                });
                return report;
            }
        }
    }
    // The flags given on the command line stay on whatever the header says.
    cfg.ignore_window |= base.ignore_window;
    cfg.ignore_options |= base.ignore_options;
    let runnable = script
        .events
        .iter()
        .any(|e| matches!(e.kind, EventKind::Packet(_) | EventKind::Syscall(_)));
    if !runnable {
        report.outcome = Outcome::Skipped("no segments or system calls to run".into());
        return report;
    }
    let engine = match make_engine(&cfg) {
        Ok(e) => e,
        Err(why) => {
            report.outcome = Outcome::Failed(Failure {
                line: script.headers.first().map_or(1, |h| h.line),
                kind: FailureKind::Setting(format!("engine settings rejected: {why}")),
            });
            return report;
        }
    };
    let mut runner = Runner::new(engine, cfg);
    let result = runner.run(&script);
    report.events_run = runner.events_run();
    report.trace = runner.take_trace();
    if let Err(f) = result {
        report.outcome = Outcome::Failed(f);
    }
    report
}

/// Every script file named by `paths`: files as given, directories searched
/// recursively for `*.pkt`, each directory's files in name order.
pub fn collect_scripts(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), String> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                walk(&p, out)?;
            } else if p.extension().is_some_and(|x| x == "pkt") {
                out.push(p);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            walk(p, &mut out)?;
        } else if p.exists() {
            out.push(p.clone());
        } else {
            return Err(format!("{}: no such file or directory", p.display()));
        }
    }
    Ok(out)
}

/// Run each script file; one report per file, in order.
pub fn run_files<E: Engine>(
    files: &[PathBuf],
    base: &RunConfig,
    make_engine: &mut dyn FnMut(&RunConfig) -> Result<E, String>,
) -> Vec<ScriptReport> {
    files
        .iter()
        .map(|f| {
            let name = f.display().to_string();
            match std::fs::read(f) {
                Ok(bytes) => {
                    let text = String::from_utf8_lossy(&bytes);
                    run_text(&name, &text, base, make_engine)
                }
                Err(e) => ScriptReport {
                    path: name.clone(),
                    outcome: Outcome::Failed(Failure {
                        line: 0,
                        kind: FailureKind::Parse(format!("{name}: cannot read: {e}")),
                    }),
                    skipped: SkipCounts::default(),
                    events_run: 0,
                    notes: Vec::new(),
                    trace: Vec::new(),
                },
            }
        })
        .collect()
}
