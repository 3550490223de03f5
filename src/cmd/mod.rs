//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> ExitCode`.

pub mod bench_report;
pub mod check;
pub mod interop;
pub mod script;
pub mod simulate;
