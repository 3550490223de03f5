//! Interop with the Linux kernel's TCP over a TUN device in a private network
//! namespace (issue 7).
//!
//! [`netns`] builds the namespace and the link, [`pump`] moves packets between
//! the TUN device and a sans-IO endpoint on real time through the seeded
//! [`impair`]ed links, and [`capture`] writes the pcap every test leaves in
//! `target/synack-interop/`. [`selftest`] holds the harness against the kernel
//! with hand-made segments.

pub mod capture;
pub mod engine;
pub mod impair;
pub mod kernel;
pub mod netns;
pub mod packet;
pub mod pump;
pub mod report;
pub mod scenario;
pub mod selftest;
pub mod sys;
pub mod table;

use std::io;
use std::path::PathBuf;
use std::sync::Mutex;

pub use capture::default_output_dir;
pub use impair::{Impairment, LinkStats, Rng};
pub use netns::{run_in_namespace, Namespace, SetupError, Unavailable, ENGINE_ADDR, KERNEL_ADDR};
pub use pump::{Dir, Endpoint, Fate, LogEntry, Pump, PumpConfig, PumpError, RawPeer};

/// How an interop test ended, when it did not fail.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    /// It could not run (or could not be judged) here; never counted as passed.
    Skipped(String),
}

/// Why an interop test failed.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    #[error(transparent)]
    Setup(SetupError),
    #[error(transparent)]
    Pump(#[from] PumpError),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: io::Error,
    },
    #[error("building a packet: {0}")]
    Wire(#[from] synack_tcp::WireError),
    #[error("{0}")]
    Check(String),
}

impl From<io::Error> for Failure {
    fn from(source: io::Error) -> Self {
        Failure::Io {
            what: "I/O".into(),
            source,
        }
    }
}

impl Failure {
    pub fn check(msg: impl Into<String>) -> Failure {
        Failure::Check(msg.into())
    }

    /// Fails with the message `msg()` unless `cond` holds.
    pub fn ensure(cond: bool, msg: impl FnOnce() -> String) -> Result<(), Failure> {
        if cond {
            Ok(())
        } else {
            Err(Failure::Check(msg()))
        }
    }

    pub fn io(what: &str) -> impl FnOnce(io::Error) -> Failure + '_ {
        move |source| Failure::Io {
            what: what.to_string(),
            source,
        }
    }
}

/// What one interop test knows about itself: its name, its seed, where its
/// pcap goes, and the notes it makes along the way.
pub struct TestCtx {
    pub name: String,
    pub seed: u64,
    pub pcap: PathBuf,
    notes: Mutex<Vec<String>>,
    echo: bool,
}

impl TestCtx {
    pub fn new(name: &str, seed: u64) -> TestCtx {
        TestCtx {
            name: name.to_string(),
            seed,
            pcap: default_output_dir().join(format!("{name}.pcap")),
            notes: Mutex::new(Vec::new()),
            echo: false,
        }
    }

    /// Prints notes as they are made (the CLI), instead of keeping them for a
    /// failure report (the tests).
    pub fn echoing(mut self) -> TestCtx {
        self.echo = true;
        self
    }

    pub fn say(&self, note: impl Into<String>) {
        let note = note.into();
        if self.echo {
            println!("{note}");
        }
        if let Ok(mut v) = self.notes.lock() {
            v.push(note);
        }
    }

    pub fn notes(&self) -> Vec<String> {
        self.notes.lock().map(|v| v.clone()).unwrap_or_default()
    }

    /// Runs `f` in a fresh namespace; `Ok(Err(reason))` if interop cannot run here.
    pub fn in_namespace_or_skip<T, F>(&self, f: F) -> Result<Result<T, String>, Failure>
    where
        T: Send,
        F: FnOnce(Namespace) -> Result<T, Failure> + Send,
    {
        match run_in_namespace(&self.name, f) {
            Ok(result) => result.map(Ok),
            Err(SetupError::Unavailable(why)) => Ok(Err(why.to_string())),
            Err(e) => Err(Failure::Setup(e)),
        }
    }

    /// Runs `f` in a fresh namespace; a missing facility becomes a skip.
    pub fn in_namespace<F>(&self, f: F) -> Result<Outcome, Failure>
    where
        F: FnOnce(Namespace) -> Result<Outcome, Failure> + Send,
    {
        match run_in_namespace(&self.name, f) {
            Ok(result) => result,
            Err(SetupError::Unavailable(why)) => Ok(Outcome::Skipped(why.to_string())),
            Err(e) => Err(Failure::Setup(e)),
        }
    }
}

/// The TCP analysis flag an expert message of tshark's stands for (Wireshark
/// 4.x wording), or `None` for expert infos that are not analysis flags (the
/// "connection establish/finish/reset" chats).
pub fn analysis_flag_of(message: &str) -> Option<&'static str> {
    const TABLE: &[(&str, &str)] = &[
        (
            "spurious retransmission",
            "tcp.analysis.spurious_retransmission",
        ),
        ("fast retransmission", "tcp.analysis.fast_retransmission"),
        ("retransmission", "tcp.analysis.retransmission"),
        ("out-of-order", "tcp.analysis.out_of_order"),
        (
            "Previous segment(s) not captured",
            "tcp.analysis.lost_segment",
        ),
        (
            "ACKed segment that wasn't captured",
            "tcp.analysis.ack_lost_segment",
        ),
        ("Duplicate ACK", "tcp.analysis.duplicate_ack"),
        (
            "Zero Window Probe Ack",
            "tcp.analysis.zero_window_probe_ack",
        ),
        ("Zero Window Probe", "tcp.analysis.zero_window_probe"),
        ("Zero Window", "tcp.analysis.zero_window"),
        ("completely full", "tcp.analysis.window_full"),
        ("window update", "tcp.analysis.window_update"),
        ("ACK to a TCP keep-alive", "tcp.analysis.keep_alive_ack"),
        ("keep-alive", "tcp.analysis.keep_alive"),
        (
            "same ports as an earlier session",
            "tcp.analysis.reused_ports",
        ),
        // Not an analysis flag but reported in analysed frames: a duplicate
        // SACK block (RFC 2883), the receiver saying it got data twice.
        ("D-SACK", "tcp.options.sack.dsack"),
    ];
    let lower = message.to_ascii_lowercase();
    TABLE
        .iter()
        .find(|(needle, _)| lower.contains(&needle.to_ascii_lowercase()))
        .map(|(_, flag)| *flag)
}

/// Expert infos that are not analysis flags and need no explanation.
fn is_plain_chat(message: &str) -> bool {
    message.starts_with("Connection establish")
        || message.starts_with("Connection finish")
        || message.starts_with("Connection reset")
        || message.starts_with("This frame initiates the connection closing")
        || message.starts_with("This frame undergoes the connection closing")
}

/// RFC 7323 §3.2: once both SYNs carried the timestamps option, every
/// non-RST segment of the connection must carry it. Returns the engine's
/// segments that do not, per 4-tuple, as descriptions.
pub fn missing_timestamps(pump: &Pump) -> Vec<String> {
    use packet::SegInfo;
    use std::collections::HashMap;
    // (engine end, kernel end) -> (engine's SYN had TS, kernel's SYN had TS)
    let mut negotiated: HashMap<(std::net::SocketAddrV4, std::net::SocketAddrV4), (bool, bool)> =
        HashMap::new();
    let mut out = Vec::new();
    for e in pump.log() {
        if e.fate != Fate::Sent || e.injected {
            continue;
        }
        let Ok(p) = SegInfo::parse(&e.packet) else {
            continue;
        };
        let (key, from_engine) = match e.dir {
            Dir::EngineToKernel => ((p.src, p.dst), true),
            Dir::KernelToEngine => ((p.dst, p.src), false),
        };
        let entry = negotiated.entry(key).or_insert((false, false));
        if p.has(synack_tcp::Flags::SYN) {
            if from_engine {
                entry.0 = p.options.timestamps.is_some();
            } else {
                entry.1 = p.options.timestamps.is_some();
            }
            continue;
        }
        if from_engine
            && entry.0
            && entry.1
            && !p.has(synack_tcp::Flags::RST)
            && p.options.timestamps.is_none()
        {
            out.push(format!("at {}: {p}", e.at));
        }
    }
    out
}

/// Has tshark judge the pcap the pump wrote, with checksum validation on:
/// no malformed frame, no bad checksum, and every TCP analysis flag tshark
/// raises must be in `expected_flags` (else the test fails, naming the frame).
/// Before tshark, the pump's log is checked for RFC 7323 §3.2 (see
/// [`missing_timestamps`]). Without tshark the test is skipped, never passed.
pub fn judge_pcap(ctx: &TestCtx, pump: &Pump, expected_flags: &[&str]) -> Result<Outcome, Failure> {
    let path = pump.pcap_path();
    ctx.say(format!(
        "pcap: {} ({} frames)",
        path.display(),
        pump.frames()
    ));
    let untimed = missing_timestamps(pump);
    Failure::ensure(untimed.is_empty(), || {
        format!(
            "RFC 7323 §3.2: timestamps were negotiated, yet {} engine segments lack the option: {}",
            untimed.len(),
            untimed.join("; ")
        )
    })?;
    let report = match crate::tshark::judge(path) {
        Ok(crate::tshark::Judgement::Report(r)) => r,
        Ok(crate::tshark::Judgement::NotAvailable(why)) => {
            return Ok(Outcome::Skipped(format!(
                "tshark not available ({why}): {} not judged",
                path.display()
            )))
        }
        Err(e) => return Err(Failure::check(format!("tshark on {}: {e}", path.display()))),
    };
    Failure::ensure(report.frames.len() as u64 == pump.frames(), || {
        format!(
            "tshark read {} frames of the {} written to {}",
            report.frames.len(),
            pump.frames(),
            path.display()
        )
    })?;
    let malformed = report.malformed();
    Failure::ensure(malformed.is_empty(), || {
        format!(
            "tshark: malformed frames {malformed:?} in {}",
            path.display()
        )
    })?;
    let bad = report.bad_checksums();
    Failure::ensure(bad.is_empty(), || {
        format!(
            "tshark: bad or unverified checksums in frames {bad:?} of {}",
            path.display()
        )
    })?;
    let mut seen = std::collections::BTreeMap::<&'static str, u32>::new();
    let mut unexpected = Vec::new();
    for frame in &report.frames {
        if !frame.analysis_flagged {
            continue;
        }
        let mut named = false;
        for (_, message) in &frame.expert {
            match analysis_flag_of(message) {
                Some(flag) => {
                    named = true;
                    *seen.entry(flag).or_default() += 1;
                    if !expected_flags.contains(&flag) {
                        unexpected.push(format!("frame {}: {flag} ({message})", frame.number));
                    }
                }
                None if is_plain_chat(message) => {}
                None => unexpected.push(format!(
                    "frame {}: unknown expert info {message:?}",
                    frame.number
                )),
            }
        }
        if !named {
            unexpected.push(format!(
                "frame {}: analysis flagged with no recognised flag ({:?})",
                frame.number, frame.expert
            ));
        }
    }
    ctx.say(format!(
        "tshark: {} frames, 0 malformed, 0 bad checksums, analysis flags {seen:?}",
        report.frames.len()
    ));
    Failure::ensure(unexpected.is_empty(), || {
        format!(
            "tshark raised analysis flags this test does not expect in {}:\n    {}",
            path.display(),
            unexpected.join("\n    ")
        )
    })?;
    Ok(Outcome::Passed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expert_messages_map_to_analysis_flags() {
        // Wireshark 4.x wording of the TCP analysis expert infos.
        let cases = [
            (
                "This frame is a (suspected) retransmission",
                Some("tcp.analysis.retransmission"),
            ),
            (
                "This frame is a (suspected) fast retransmission",
                Some("tcp.analysis.fast_retransmission"),
            ),
            (
                "This frame is a (suspected) spurious retransmission",
                Some("tcp.analysis.spurious_retransmission"),
            ),
            (
                "This frame is a (suspected) out-of-order segment",
                Some("tcp.analysis.out_of_order"),
            ),
            (
                "Previous segment(s) not captured (common at capture start)",
                Some("tcp.analysis.lost_segment"),
            ),
            (
                "ACKed segment that wasn't captured (common at capture start)",
                Some("tcp.analysis.ack_lost_segment"),
            ),
            ("Duplicate ACK (#3)", Some("tcp.analysis.duplicate_ack")),
            ("TCP Zero Window segment", Some("tcp.analysis.zero_window")),
            (
                "TCP Zero Window Probe",
                Some("tcp.analysis.zero_window_probe"),
            ),
            (
                "TCP window specified by the receiver is now completely full",
                Some("tcp.analysis.window_full"),
            ),
            ("TCP window update", Some("tcp.analysis.window_update")),
            ("TCP keep-alive segment", Some("tcp.analysis.keep_alive")),
            (
                "ACK to a TCP keep-alive segment",
                Some("tcp.analysis.keep_alive_ack"),
            ),
            ("D-SACK Sequence", Some("tcp.options.sack.dsack")),
            ("Connection finish (FIN)", None),
            ("Connection reset (RST)", None),
        ];
        for (message, flag) in cases {
            assert_eq!(analysis_flag_of(message), flag, "{message}");
        }
        assert!(is_plain_chat(
            "Connection establish request (SYN): server port 47001"
        ));
        assert!(!is_plain_chat("This frame is a (suspected) retransmission"));
    }
}
