//! `synack check`: the exhaustive model check.

use std::process::ExitCode;

#[derive(clap::Args)]
pub struct Args {}

pub fn run(_args: Args) -> ExitCode {
    eprintln!("synack check: the model is being built (issue 2)");
    ExitCode::from(1)
}
