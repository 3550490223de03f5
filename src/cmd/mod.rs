//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> ExitCode`.

pub mod bench_report;
pub mod check;
pub mod explore;
pub mod interop;
pub mod model_args;
pub mod script;
pub mod simulate;
