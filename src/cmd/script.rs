//! `synack script`: run packetdrill-syntax scenario scripts against the engine.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use synack_checks::script::{
    collect_scripts, config::SETTINGS, run_files, stack::StackEngine, Applied, RunConfig, Summary,
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
    let stdout = std::io::stdout();
    let stderr = std::io::stderr();
    ExitCode::from(execute(args, &mut stdout.lock(), &mut stderr.lock()))
}

/// The whole command; returns the exit status: 0 when no script failed,
/// 1 when one did, 2 for a usage error.
fn execute(args: Args, out: &mut dyn Write, err: &mut dyn Write) -> u8 {
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
            Ok(Applied::Set) => {}
            Ok(Applied::Ignored) => {
                let _ = writeln!(
                    err,
                    "synack script: --set {s}: unknown setting (see --help)"
                );
                return 2;
            }
            Err(e) => {
                let _ = writeln!(err, "synack script: --set {s}: {e}");
                return 2;
            }
        }
    }
    let files = match collect_scripts(&args.paths) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "synack script: {e}");
            return 2;
        }
    };
    let reports = run_files(&files, &cfg, &mut |c: &RunConfig| {
        StackEngine::new(&c.engine)
    });
    for r in &reports {
        let _ = writeln!(out, "{r}");
        if cfg.verbose {
            for n in &r.notes {
                let _ = writeln!(out, "    note: {n}");
            }
            for t in &r.trace {
                let _ = writeln!(out, "    {t}");
            }
        }
    }
    let summary = Summary::of(&reports);
    let _ = writeln!(out, "{summary}");
    u8::from(summary.failed > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        args: Args,
    }

    fn exec(argv: &[&str]) -> (u8, String, String) {
        let cli = Cli::try_parse_from(std::iter::once("script").chain(argv.iter().copied()))
            .expect("arguments parse");
        let (mut out, mut err) = (Vec::new(), Vec::new());
        let code = execute(cli.args, &mut out, &mut err);
        (
            code,
            String::from_utf8(out).expect("utf-8"),
            String::from_utf8(err).expect("utf-8"),
        )
    }

    fn scratch(name: &str) -> PathBuf {
        let dir =
            std::env::temp_dir().join(format!("synack-script-cli-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir
    }

    const PASSING: &str = "\
--wscale=0
--timestamps=0
--sack=0
0 socket(..., SOCK_STREAM, IPPROTO_TCP) = 3
+0 bind(3, ..., ...) = 0
+0 listen(3, 1) = 0
+0 < . 1000:1000(0) ack 5000 win 8000
+0 > R 5000:5000(0)
";

    #[test]
    fn per_script_lines_summary_and_exit_status() {
        let dir = scratch("mixed");
        std::fs::write(dir.join("a-pass.pkt"), PASSING).unwrap();
        std::fs::write(
            dir.join("b-fail.pkt"),
            PASSING.replace("> R 5000:5000(0)", "> R 5001:5001(0)"),
        )
        .unwrap();
        std::fs::write(dir.join("c-skip.pkt"), "`only a shell command`\n").unwrap();
        std::fs::write(dir.join("d-bad.pkt"), "0 < Q 0:0(0)\n").unwrap();
        std::fs::write(dir.join("notes.txt"), "not a script").unwrap();
        let (code, out, _) = exec(&[dir.to_str().unwrap()]);
        assert_eq!(code, 1, "{out}");
        let lines: Vec<&str> = out.lines().collect();
        assert!(
            lines[0].starts_with("ok   ") && lines[0].contains("a-pass.pkt"),
            "{out}"
        );
        assert!(
            lines[1].starts_with("FAIL ")
                && lines[1].contains("b-fail.pkt:8: sequence number mismatch"),
            "{out}"
        );
        assert!(out.contains("skip ") && out.contains("c-skip.pkt"), "{out}");
        assert!(out.contains("d-bad.pkt:1: expected TCP flags"), "{out}");
        assert_eq!(
            lines.last(),
            Some(&"1 passed, 2 failed, 1 skipped"),
            "{out}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn all_passing_exits_zero_and_flags_reach_the_runner() {
        let dir = scratch("pass");
        let file = dir.join("x.pkt");
        std::fs::write(
            &file,
            PASSING.replace(
                "--wscale=0\n",
                "#ifdef WITH_CALL\n0 close(9) = -1 EBADF\n#endif\n",
            ),
        )
        .unwrap();
        let (code, out, _) = exec(&["--define", "WITH_CALL", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("(6 events)"), "{out}");
        assert_eq!(out.lines().last(), Some("1 passed, 0 failed"));
        let (code, out, _) = exec(&["-v", file.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("inject < . 1000:1000(0) ack 5000 win 8000"),
            "{out}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn usage_errors_exit_two() {
        let (code, _, err) = exec(&["/no/such/dir/anywhere"]);
        assert_eq!(code, 2);
        assert!(err.contains("no such file or directory"), "{err}");
        let (code, _, err) = exec(&["--set", "mss=abc", "/tmp"]);
        assert_eq!(code, 2);
        assert!(err.contains("mss"), "{err}");
        let (code, _, err) = exec(&["--set", "no_such_setting=1", "/tmp"]);
        assert_eq!(code, 2);
        assert!(err.contains("unknown setting"), "{err}");
    }
}
