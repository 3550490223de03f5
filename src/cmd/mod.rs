//! One module per subcommand. Each exposes `Args` (clap) and `run(Args) -> ExitCode`.

pub mod bench_report;
pub mod check;
pub mod explore;
pub mod interop;
pub mod model_args;
pub mod script;
pub mod simulate;

/// Parses `--NAME P` as a probability: 0 <= P < 1 when `below_one` (a loss
/// rate of 1 would never finish), else 0 <= P <= 1. The error is one line.
pub fn probability(name: &str, text: &str, below_one: bool) -> Result<f64, String> {
    let p: f64 = text
        .trim()
        .parse()
        .map_err(|_| format!("--{name}: '{text}' is not a number"))?;
    let in_range = p.is_finite() && p >= 0.0 && if below_one { p < 1.0 } else { p <= 1.0 };
    if !in_range {
        let range = if below_one {
            "0 <= P < 1"
        } else {
            "0 <= P <= 1"
        };
        return Err(format!("--{name}: {text} is not a probability in {range}"));
    }
    Ok(p)
}
