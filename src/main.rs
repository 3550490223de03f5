//! `synack`: the command-line front end. Each subcommand lives in `src/cmd/`.

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod cmd;

/// synack: TCP's connection lifecycle, model-checked, implemented, and held against each other.
#[derive(Parser)]
#[command(name = "synack", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Model-check the TCP lifecycle model (or a variant) and print a verdict per property.
    Check(cmd::check::Args),
    /// Serve stateright's Explorer: walk the model by hand, with the sequence diagram of the path so far.
    Explore(cmd::explore::Args),
    /// Turn criterion's results into benches/REPORT.md with ratios to peers, targets and plots.
    BenchReport(cmd::bench_report::Args),
    /// Run packetdrill-syntax scenario scripts against the engine on virtual time.
    Script(cmd::script::Args),
    /// Two engines over a seeded lossy network: transfer, close, verify every byte.
    Simulate(cmd::simulate::Args),
    /// The engine against the Linux kernel's TCP over a TUN device (root): transfer, close, judge.
    Interop(cmd::interop::Args),
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with status 0; usage errors are status 2.
            let _ = e.print();
            return if e.use_stderr() {
                ExitCode::from(2)
            } else {
                ExitCode::SUCCESS
            };
        }
    };
    match cli.command {
        Command::Check(args) => cmd::check::run(args),
        Command::Explore(args) => cmd::explore::run(args),
        Command::BenchReport(args) => cmd::bench_report::run(args),
        Command::Script(args) => cmd::script::run(args),
        Command::Simulate(args) => cmd::simulate::run(args),
        Command::Interop(args) => cmd::interop::run(args),
    }
}
