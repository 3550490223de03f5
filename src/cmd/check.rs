//! `synack check`: the exhaustive model check, one row per property.

use std::fmt::Debug;
use std::hash::Hash;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use serde_json::{json, Value};
use synack_model::check::{self, Kind, Progress, Report, Verdict};
use synack_model::diagram;

use super::model_args::{ModelArgs, Selected};

#[derive(clap::Args)]
pub struct Args {
    #[command(flatten)]
    pub model: ModelArgs,

    /// Checker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256))]
    pub threads: Option<u16>,

    /// Give up after this many seconds; properties not yet decided are then
    /// reported as inconclusive, never as holding.
    #[arg(long, value_name = "SECS")]
    pub timeout: Option<u64>,

    /// Print one JSON document instead of the table.
    #[arg(long)]
    pub json: bool,

    /// Also print the example found for each `sometimes` property as a diagram.
    #[arg(long)]
    pub examples: bool,

    /// Write every trace as an SVG sequence diagram into this directory.
    #[arg(long, value_name = "DIR")]
    pub svg_dir: Option<PathBuf>,

    /// No progress on stderr.
    #[arg(long, short)]
    pub quiet: bool,

    /// Replay the variant's counterexamples on the engine: once configured
    /// like the variant (it must fail the same way) and once with the
    /// standard configuration (it must not).
    #[arg(long)]
    pub replay: bool,
}

pub fn run(args: Args) -> ExitCode {
    if args.model.wants_list() {
        ModelArgs::print_list();
        return ExitCode::SUCCESS;
    }
    if args.replay {
        return replay(&args);
    }
    match args.model.select() {
        Ok(Selected::Tcp(name, model)) => check(&name, model, &args),
        Ok(Selected::Generals(name, model)) => check(&name, model, &args),
        Err(msg) => {
            eprintln!("synack check: {msg}");
            ExitCode::from(2)
        }
    }
}

fn check<M>(variant: &str, model: M, args: &Args) -> ExitCode
where
    M: check::Expectations + Send + Sync + 'static,
    M::State: Hash + Clone + PartialEq + Debug + Send + Sync + 'static,
    M::Action: Clone + PartialEq + Debug + Send + Sync + 'static,
{
    if let Some(dir) = &args.svg_dir {
        if let Err(e) = std::fs::create_dir_all(dir) {
            eprintln!("synack check: cannot create {}: {e}", dir.display());
            return ExitCode::from(2);
        }
    }
    let interactive = std::io::stderr().is_terminal();
    let mut next_line_at = Duration::from_secs(10);
    let mut progress = |p: Progress| {
        let rate = p.states as f64 / p.elapsed.as_secs_f64().max(1e-9);
        let line = format!(
            "checking {variant}: {} states, {} unique, depth {}, {:.0}s, {} states/s",
            group(p.states),
            group(p.unique_states),
            p.max_depth,
            p.elapsed.as_secs_f64(),
            group(rate as usize)
        );
        if interactive {
            eprint!("\r\x1b[2K{line}");
        } else if p.elapsed >= next_line_at {
            // Logs get a line every ten seconds rather than a redrawn one.
            next_line_at = p.elapsed + Duration::from_secs(10);
            eprintln!("{line}");
        }
    };
    let options = check::Options {
        threads: args.threads.map_or_else(
            || std::thread::available_parallelism().map_or(1, |n| n.get()),
            usize::from,
        ),
        timeout: args.timeout.map(Duration::from_secs),
        progress: if args.quiet {
            None
        } else {
            Some(&mut progress)
        },
    };
    if !args.quiet {
        eprintln!("checking {variant} with {} thread(s) ...", options.threads);
    }
    let report = check::run(model, options);
    if interactive && !args.quiet {
        eprint!("\r\x1b[2K");
    }

    if let Some(dir) = &args.svg_dir {
        for p in report.properties.iter().filter(|p| !p.events.is_empty()) {
            let file = dir.join(format!("{variant}-{}.svg", p.name));
            let svg = diagram::svg_from_events(report.lanes, &p.events);
            if let Err(e) = std::fs::write(&file, svg) {
                eprintln!("synack check: cannot write {}: {e}", file.display());
                return ExitCode::from(2);
            }
        }
    }

    let mut out = std::io::stdout().lock();
    let written = if args.json {
        writeln!(out, "{}", to_json(variant, &report))
    } else {
        write!(out, "{}", to_table(variant, &report, args.examples))
    };
    if written.is_err() {
        return ExitCode::from(2); // stdout closed (e.g. piped into `head`)
    }
    if report.all_met() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn replay(args: &Args) -> ExitCode {
    let config = match args.model.config() {
        Ok(c) => c,
        Err(msg) => {
            eprintln!("synack check: {msg}");
            return ExitCode::from(2);
        }
    };
    if !args.quiet {
        eprintln!(
            "replaying the {} counterexamples on the engine ...",
            config.variant.name()
        );
    }
    match synack_checks::refine::replay_variant(config.variant, &config) {
        Ok(report) => {
            print!("{report}");
            if report.all_confirmed() {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            }
        }
        Err(e) => {
            eprintln!("synack check --replay: {e}");
            ExitCode::from(2)
        }
    }
}

/// 1234567 -> "1,234,567".
pub fn group(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Always => "always",
        Kind::Eventually => "eventually",
        Kind::Sometimes => "sometimes",
    }
}

fn verdict_name(v: Option<Verdict>) -> &'static str {
    match v {
        Some(Verdict::Holds) => "holds",
        Some(Verdict::Violated) => "violated",
        Some(Verdict::Found) => "found",
        Some(Verdict::NotFound) => "not_found",
        None => check::INCONCLUSIVE,
    }
}

fn to_table(variant: &str, report: &Report, examples: bool) -> String {
    let mut s = String::new();
    let name_w = report
        .properties
        .iter()
        .map(|p| p.name.len())
        .max()
        .unwrap_or(8)
        .max(8);
    s.push_str(&format!(
        "{:<name_w$}  {:<10}  {:<9}  {:<12}  {:>5}\n",
        "PROPERTY", "KIND", "EXPECTED", "VERDICT", "TRACE"
    ));
    for p in &report.properties {
        let trace = if p.trace.is_empty() {
            "-".to_string()
        } else {
            (p.trace.len() - 1).to_string()
        };
        s.push_str(&format!(
            "{:<name_w$}  {:<10}  {:<9}  {:<12}  {:>5}  {}\n",
            p.name,
            kind_name(p.kind),
            verdict_name(Some(p.expected)),
            verdict_name(p.verdict),
            trace,
            if p.met() { "ok" } else { "UNEXPECTED" }
        ));
    }
    let rate = report.states as f64 / report.seconds.max(1e-9);
    s.push_str(&format!(
        "\nvariant {variant}: {} states, {} unique, max depth {}, {:.1} s, {} states/s, search {}\n",
        group(report.states),
        group(report.unique_states),
        report.max_depth,
        report.seconds,
        group(rate as usize),
        if report.complete {
            "complete"
        } else if report.properties.iter().all(|p| p.verdict.is_some()) {
            "stopped early: every property had its verdict"
        } else {
            "INCOMPLETE (no property is claimed to hold)"
        }
    ));
    s.push_str(&format!(
        "shortest traces found in {:.1} s; trace lengths are in steps\n",
        report.shortest_seconds
    ));
    let met = report.properties.iter().filter(|p| p.met()).count();
    s.push_str(&format!(
        "{met} of {} properties got their expected verdict\n",
        report.properties.len()
    ));

    for p in &report.properties {
        let counterexample = p.kind != Kind::Sometimes && p.verdict == Some(Verdict::Violated);
        let example = p.kind == Kind::Sometimes && p.verdict == Some(Verdict::Found);
        if p.events.is_empty() || !(counterexample || (examples && example) || !p.met()) {
            continue;
        }
        let what = if counterexample {
            "counterexample"
        } else {
            "example"
        };
        s.push_str(&format!(
            "\n── {what} for {} ({} steps) ──\n",
            p.name,
            p.trace.len().saturating_sub(1)
        ));
        s.push_str(&diagram::text(report.lanes, &p.events));
    }
    s
}

fn to_json(variant: &str, report: &Report) -> Value {
    let (left, right) = report.lanes;
    let properties: Vec<Value> = report
        .properties
        .iter()
        .map(|p| {
            let trace: Vec<Value> = p
                .trace
                .iter()
                .map(|step| {
                    let mut m = serde_json::Map::new();
                    m.insert("action".into(), json!(step.action));
                    m.insert(left.into(), json!(step.left));
                    m.insert(right.into(), json!(step.right));
                    Value::Object(m)
                })
                .collect();
            json!({
                "name": p.name,
                "kind": kind_name(p.kind),
                "expected": verdict_name(Some(p.expected)),
                "verdict": verdict_name(p.verdict),
                "met": p.met(),
                "trace": trace,
            })
        })
        .collect();
    json!({
        "variant": variant,
        "complete": report.complete,
        "states": report.states,
        "unique_states": report.unique_states,
        "max_depth": report.max_depth,
        "seconds": report.seconds,
        "shortest_trace_seconds": report.shortest_seconds,
        "properties": properties,
    })
}

#[cfg(test)]
mod tests {
    use super::group;

    #[test]
    fn groups_thousands() {
        assert_eq!(group(0), "0");
        assert_eq!(group(999), "999");
        assert_eq!(group(1000), "1,000");
        assert_eq!(group(1234567), "1,234,567");
    }
}
