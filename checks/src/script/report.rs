//! Results of running scripts: one per script, and the summary line.

use std::fmt;

use super::ast::SkipCounts;

/// Why a script failed, with the script line it is charged to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    pub line: usize,
    pub kind: FailureKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FailureKind {
    /// The script could not be parsed (the message is `FILE:LINE: ...` already).
    Parse(String),
    /// A header line's value was unusable.
    Setting(String),
    /// The engine sent a segment that differs from the expected one.
    Mismatch {
        field: &'static str,
        expected: String,
        sent: String,
    },
    /// The engine sent a segment the script did not expect (here); the last
    /// line acted on before it was sent is `after_line` (0: none).
    Unexpected {
        sent: String,
        at_usecs: u64,
        after_line: usize,
    },
    /// The expected segment never came.
    Missing { expected: String, by_usecs: u64 },
    /// A segment or a blocking call's return came outside its time window.
    Timing {
        what: String,
        expected_usecs: (u64, u64),
        actual_usecs: u64,
    },
    /// A system call returned something else than scripted.
    Syscall {
        call: String,
        expected: String,
        actual: String,
    },
    /// A call that would block was not written as a blocking call (`A...B`),
    /// or a blocking call never returned.
    Blocking(String),
    /// Something this runner or the engine cannot do.
    Unsupported(String),
    /// A segment could not be built or the engine's output not read.
    Wire(String),
}

fn secs(us: u64) -> String {
    format!("{}.{:06}", us / 1_000_000, us % 1_000_000)
}

impl fmt::Display for FailureKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FailureKind::Parse(m) | FailureKind::Setting(m) => f.write_str(m),
            FailureKind::Mismatch {
                field,
                expected,
                sent,
            } => write!(
                f,
                "{field} mismatch\n    expected: {expected}\n    sent:     {sent}"
            ),
            FailureKind::Unexpected {
                sent,
                at_usecs,
                after_line,
            } => write!(
                f,
                "unexpected segment sent by the engine at {}s, after line {after_line}\n    sent:     {sent}",
                secs(*at_usecs)
            ),
            FailureKind::Missing { expected, by_usecs } => write!(
                f,
                "expected segment not sent by {}s\n    expected: {expected}",
                secs(*by_usecs)
            ),
            FailureKind::Timing {
                what,
                expected_usecs: (lo, hi),
                actual_usecs,
            } => write!(
                f,
                "timing: {what} at {}s, expected between {}s and {}s",
                secs(*actual_usecs),
                secs(*lo),
                if *hi == u64::MAX {
                    "any later time".to_string()
                } else {
                    secs(*hi)
                }
            ),
            FailureKind::Syscall {
                call,
                expected,
                actual,
            } => write!(f, "{call}: expected {expected}, returned {actual}"),
            FailureKind::Blocking(m) | FailureKind::Unsupported(m) | FailureKind::Wire(m) => {
                f.write_str(m)
            }
        }
    }
}

/// How one script ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failed(Failure),
    /// The whole script was skipped (nothing to run, or a setting it needs is
    /// not supported); the text says why.
    Skipped(String),
}

/// The result of one script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptReport {
    pub path: String,
    pub outcome: Outcome,
    pub skipped: SkipCounts,
    /// Events run (segments injected or matched, calls made).
    pub events_run: usize,
    /// Ignored header options and other remarks.
    pub notes: Vec<String>,
    /// With `verbose`: one line per event run.
    pub trace: Vec<String>,
}

impl ScriptReport {
    pub fn passed(&self) -> bool {
        self.outcome == Outcome::Passed
    }

    pub fn failed(&self) -> bool {
        matches!(self.outcome, Outcome::Failed(_))
    }
}

impl fmt::Display for ScriptReport {
    /// `ok FILE (n events)` / `FAIL FILE:LINE: ...` / `skip FILE: why`, with
    /// skipped shell commands and code blocks counted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let SkipCounts {
            shell_commands,
            code_blocks,
        } = self.skipped;
        let counts = if shell_commands + code_blocks > 0 {
            format!(" [not run: {shell_commands} shell command(s), {code_blocks} code block(s)]")
        } else {
            String::new()
        };
        let text = match &self.outcome {
            Outcome::Passed => format!("ok   {} ({} events)", self.path, self.events_run),
            Outcome::Failed(fail) => match &fail.kind {
                FailureKind::Parse(m) => format!("FAIL {m}"),
                kind => format!("FAIL {}:{}: {kind}", self.path, fail.line),
            },
            Outcome::Skipped(why) => format!("skip {}: {why}", self.path),
        };
        // The counts go on the first line; details of a failure follow it.
        match text.split_once('\n') {
            Some((first, rest)) => write!(f, "{first}{counts}\n{rest}"),
            None => write!(f, "{text}{counts}"),
        }
    }
}

/// The counts of a run over many scripts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Summary {
    pub passed: usize,
    pub failed: usize,
    pub skipped: usize,
}

impl Summary {
    pub fn of<'a>(reports: impl IntoIterator<Item = &'a ScriptReport>) -> Summary {
        let mut s = Summary::default();
        for r in reports {
            match r.outcome {
                Outcome::Passed => s.passed += 1,
                Outcome::Failed(_) => s.failed += 1,
                Outcome::Skipped(_) => s.skipped += 1,
            }
        }
        s
    }
}

impl fmt::Display for Summary {
    /// `N passed, M failed`, plus `, K skipped` when scripts were skipped.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} passed, {} failed", self.passed, self.failed)?;
        if self.skipped > 0 {
            write!(f, ", {} skipped", self.skipped)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(outcome: Outcome) -> ScriptReport {
        ScriptReport {
            path: "a.pkt".into(),
            outcome,
            skipped: SkipCounts::default(),
            events_run: 3,
            notes: vec![],
            trace: vec![],
        }
    }

    #[test]
    fn summary_line() {
        let rs = [
            report(Outcome::Passed),
            report(Outcome::Failed(Failure {
                line: 4,
                kind: FailureKind::Blocking("x".into()),
            })),
            report(Outcome::Passed),
        ];
        assert_eq!(Summary::of(&rs).to_string(), "2 passed, 1 failed");
        let rs = [report(Outcome::Skipped("empty".into()))];
        assert_eq!(
            Summary::of(&rs).to_string(),
            "0 passed, 0 failed, 1 skipped"
        );
    }

    #[test]
    fn failure_lines_name_file_and_line() {
        let r = report(Outcome::Failed(Failure {
            line: 7,
            kind: FailureKind::Mismatch {
                field: "ack",
                expected: "> . 1:1(0) ack 2".into(),
                sent: ". 1:1(0) ack 1 win 100".into(),
            },
        }));
        let text = r.to_string();
        assert!(text.starts_with("FAIL a.pkt:7: ack mismatch"), "{text}");
        assert!(text.contains("expected: > . 1:1(0) ack 2"));
        assert!(text.contains("sent:     . 1:1(0) ack 1 win 100"));
        let mut r = report(Outcome::Passed);
        r.skipped.shell_commands = 2;
        assert_eq!(
            r.to_string(),
            "ok   a.pkt (3 events) [not run: 2 shell command(s), 0 code block(s)]"
        );
    }
}
