//! tshark as an outside judge of the pcaps the project writes.
//!
//! [`judge`] runs tshark with checksum validation on, asking for fields only
//! (no text parsing of the summary line), and returns a typed report: which
//! frames are malformed, which carry a bad TCP or IPv4 checksum, which tshark's
//! TCP analysis flags, the expert-info severities, and the options it decoded.
//! If tshark is not installed the result says so ([`Judgement::NotAvailable`]),
//! so a caller reports SKIPPED, never passed.

use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;

use thiserror::Error;

/// Fields requested, in this order (names as in Wireshark 4.0).
const FIELDS: &[&str] = &[
    "frame.number",
    "tcp.checksum.status",
    "ip.checksum.status",
    "tcp.analysis.flags",
    "_ws.expert.severity",
    "_ws.expert.message",
    "_ws.malformed",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.seq",
    "tcp.ack",
    "tcp.len",
    "tcp.window_size_value",
    "tcp.option_kind",
    "tcp.options.mss_val",
    "tcp.options.wscale.shift",
    "tcp.options.sack_perm",
    "tcp.options.timestamp.tsval",
    "tcp.options.timestamp.tsecr",
    "tcp.options.sack_le",
    "tcp.options.sack_re",
];

/// Separates repeated occurrences of a field within one column.
const AGGREGATOR: char = '\u{1f}';

/// Wireshark's expert severities (epan/proto.h, PI_SEVERITY_MASK values).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    Comment,
    Chat,
    Note,
    Warning,
    Error,
    Other(u32),
}

impl Severity {
    fn from_raw(v: u32) -> Severity {
        match v {
            0x0010_0000 => Severity::Comment,
            0x0020_0000 => Severity::Chat,
            0x0040_0000 => Severity::Note,
            0x0060_0000 => Severity::Warning,
            0x0080_0000 => Severity::Error,
            other => Severity::Other(other),
        }
    }
}

/// tshark's verdict on a checksum (proto_checksum_enum_e).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ChecksumStatus {
    Bad,
    Good,
    Unverified,
    NotPresent,
    Illegal,
    Other(u32),
}

impl ChecksumStatus {
    fn from_raw(v: u32) -> ChecksumStatus {
        match v {
            0 => ChecksumStatus::Bad,
            1 => ChecksumStatus::Good,
            2 => ChecksumStatus::Unverified,
            3 => ChecksumStatus::NotPresent,
            4 => ChecksumStatus::Illegal,
            other => ChecksumStatus::Other(other),
        }
    }
}

/// The TCP options of one frame as tshark decoded them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DecodedOptions {
    /// Every option kind in order, NOP and EOL included.
    pub kinds: Vec<u8>,
    pub mss: Option<u16>,
    pub wscale_shift: Option<u8>,
    pub sack_permitted: bool,
    pub timestamps: Option<(u32, u32)>,
    /// (left edge, right edge), absolute sequence numbers.
    pub sack_blocks: Vec<(u32, u32)>,
}

/// One frame of the capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Frame {
    pub number: u32,
    /// None if tshark found no TCP header in the frame.
    pub tcp_checksum: Option<ChecksumStatus>,
    /// None for IPv6 (no header checksum) or no IP header.
    pub ip_checksum: Option<ChecksumStatus>,
    /// tshark set `tcp.analysis.flags` (retransmission, lost segment, ...).
    pub analysis_flagged: bool,
    pub expert: Vec<(Severity, String)>,
    pub malformed: bool,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub tcp_flags: Option<u16>,
    pub seq: Option<u32>,
    pub ack: Option<u32>,
    pub tcp_len: Option<u32>,
    pub window: Option<u16>,
    pub options: DecodedOptions,
}

impl Frame {
    /// The most severe expert info of the frame, if any.
    pub fn worst_severity(&self) -> Option<Severity> {
        self.expert.iter().map(|(s, _)| *s).max()
    }
}

/// What tshark said about a whole capture.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    pub frames: Vec<Frame>,
}

impl Report {
    /// Frames tshark marked malformed (a dissector exception). A bad checksum
    /// is an expert error too but not malformed: see [`Report::bad_checksums`]
    /// and [`Report::at_least`].
    pub fn malformed(&self) -> Vec<u32> {
        self.numbers(|f| f.malformed)
    }

    /// Frames whose TCP or IPv4 checksum tshark found bad (or not verified,
    /// which with validation on means it could not check).
    pub fn bad_checksums(&self) -> Vec<u32> {
        self.numbers(|f| {
            f.tcp_checksum != Some(ChecksumStatus::Good)
                || matches!(f.ip_checksum, Some(s) if s != ChecksumStatus::Good)
        })
    }

    pub fn analysis_flagged(&self) -> Vec<u32> {
        self.numbers(|f| f.analysis_flagged)
    }

    /// Frames with an expert info of at least `level`.
    pub fn at_least(&self, level: Severity) -> Vec<u32> {
        self.numbers(|f| f.worst_severity() >= Some(level))
    }

    pub fn frame(&self, number: u32) -> Option<&Frame> {
        self.frames.iter().find(|f| f.number == number)
    }

    fn numbers(&self, pred: impl Fn(&Frame) -> bool) -> Vec<u32> {
        self.frames
            .iter()
            .filter(|f| pred(f))
            .map(|f| f.number)
            .collect()
    }
}

/// Either a report or the reason there is none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Judgement {
    Report(Report),
    /// tshark is not installed (or not runnable); the check did not run.
    NotAvailable(String),
}

#[derive(Debug, Error)]
pub enum TsharkError {
    #[error("running tshark: {0}")]
    Io(#[from] std::io::Error),
    #[error("tshark exited with {status}: {stderr}")]
    Failed { status: String, stderr: String },
    #[error("tshark output line {line}: {problem}")]
    Output { line: usize, problem: String },
}

/// The tshark binary: `$TSHARK` if set, else `tshark` on the PATH.
fn tshark_binary() -> String {
    std::env::var("TSHARK").unwrap_or_else(|_| "tshark".to_string())
}

/// Run tshark on `pcap` and return its typed verdict.
pub fn judge(pcap: &Path) -> Result<Judgement, TsharkError> {
    let mut cmd = Command::new(tshark_binary());
    cmd.arg("-r")
        .arg(pcap)
        .args(["-n", "-o", "tcp.check_checksum:TRUE"])
        .args(["-o", "ip.check_checksum:TRUE"])
        .args(["-o", "tcp.relative_sequence_numbers:FALSE"])
        .args(["-T", "fields", "-E", "header=n", "-E", "separator=/t"])
        .args(["-E", "occurrence=a"])
        .arg(format!("-Eaggregator={AGGREGATOR}"));
    for f in FIELDS {
        cmd.args(["-e", f]);
    }
    let out = match cmd.output() {
        Ok(o) => o,
        Err(e) if e.kind() == ErrorKind::NotFound => {
            return Ok(Judgement::NotAvailable(format!(
                "{} not found on PATH",
                tshark_binary()
            )))
        }
        Err(e) => return Err(e.into()),
    };
    if !out.status.success() {
        return Err(TsharkError::Failed {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        });
    }
    parse_fields(&String::from_utf8_lossy(&out.stdout)).map(Judgement::Report)
}

fn parse_num<T: std::str::FromStr>(s: &str, line: usize, field: &str) -> Result<T, TsharkError> {
    let t = s.trim();
    let parsed = if let Some(hex) = t.strip_prefix("0x") {
        u64::from_str_radix(hex, 16)
            .ok()
            .and_then(|v| v.to_string().parse().ok())
    } else {
        t.parse().ok()
    };
    parsed.ok_or_else(|| TsharkError::Output {
        line,
        problem: format!("{field}: cannot read {t:?} as a number"),
    })
}

fn occurrences(col: &str) -> impl Iterator<Item = &str> {
    col.split(AGGREGATOR).filter(|s| !s.is_empty())
}

fn first<T: std::str::FromStr>(
    col: &str,
    line: usize,
    field: &str,
) -> Result<Option<T>, TsharkError> {
    occurrences(col)
        .next()
        .map(|s| parse_num(s, line, field))
        .transpose()
}

fn all<T: std::str::FromStr>(col: &str, line: usize, field: &str) -> Result<Vec<T>, TsharkError> {
    occurrences(col)
        .map(|s| parse_num(s, line, field))
        .collect()
}

/// Parse tshark's `-T fields` output for [`FIELDS`].
pub fn parse_fields(text: &str) -> Result<Report, TsharkError> {
    let mut frames = Vec::new();
    for (i, row) in text.lines().enumerate() {
        let line = i + 1;
        if row.trim().is_empty() {
            continue;
        }
        let cols: Vec<&str> = row.split('\t').collect();
        if cols.len() != FIELDS.len() {
            return Err(TsharkError::Output {
                line,
                problem: format!("{} columns, expected {}", cols.len(), FIELDS.len()),
            });
        }
        let c = |name: &str| cols[FIELDS.iter().position(|f| *f == name).unwrap_or(0)];
        let severities: Vec<u32> = all(c("_ws.expert.severity"), line, "_ws.expert.severity")?;
        let messages: Vec<&str> = occurrences(c("_ws.expert.message")).collect();
        let expert = severities
            .iter()
            .enumerate()
            .map(|(k, s)| {
                (
                    Severity::from_raw(*s),
                    messages.get(k).copied().unwrap_or("").to_string(),
                )
            })
            .collect();
        let tsval: Option<u32> = first(c("tcp.options.timestamp.tsval"), line, "tsval")?;
        let tsecr: Option<u32> = first(c("tcp.options.timestamp.tsecr"), line, "tsecr")?;
        let le: Vec<u32> = all(c("tcp.options.sack_le"), line, "sack_le")?;
        let re: Vec<u32> = all(c("tcp.options.sack_re"), line, "sack_re")?;
        if le.len() != re.len() {
            return Err(TsharkError::Output {
                line,
                problem: format!("{} SACK left edges but {} right edges", le.len(), re.len()),
            });
        }
        frames.push(Frame {
            number: parse_num(c("frame.number"), line, "frame.number")?,
            tcp_checksum: first(c("tcp.checksum.status"), line, "tcp.checksum.status")?
                .map(ChecksumStatus::from_raw),
            ip_checksum: first(c("ip.checksum.status"), line, "ip.checksum.status")?
                .map(ChecksumStatus::from_raw),
            analysis_flagged: !c("tcp.analysis.flags").trim().is_empty(),
            expert,
            malformed: !c("_ws.malformed").trim().is_empty(),
            src_port: first(c("tcp.srcport"), line, "tcp.srcport")?,
            dst_port: first(c("tcp.dstport"), line, "tcp.dstport")?,
            tcp_flags: first(c("tcp.flags"), line, "tcp.flags")?,
            seq: first(c("tcp.seq"), line, "tcp.seq")?,
            ack: first(c("tcp.ack"), line, "tcp.ack")?,
            tcp_len: first(c("tcp.len"), line, "tcp.len")?,
            window: first(c("tcp.window_size_value"), line, "tcp.window_size_value")?,
            options: DecodedOptions {
                kinds: all(c("tcp.option_kind"), line, "tcp.option_kind")?,
                mss: first(c("tcp.options.mss_val"), line, "mss_val")?,
                wscale_shift: first(c("tcp.options.wscale.shift"), line, "wscale.shift")?,
                sack_permitted: !c("tcp.options.sack_perm").trim().is_empty(),
                timestamps: tsval.zip(tsecr),
                sack_blocks: le.into_iter().zip(re).collect(),
            },
        });
    }
    Ok(Report { frames })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_fields_row() {
        let mut cols = vec![""; FIELDS.len()];
        cols[0] = "3";
        cols[1] = "1";
        cols[2] = "0";
        cols[4] = "2097152\u{1f}6291456";
        cols[5] = "Connection establish request (SYN)\u{1f}something odd";
        cols[9] = "0x0002";
        cols[14] = "2\u{1f}1\u{1f}3";
        cols[15] = "1460";
        cols[20] = "100\u{1f}300";
        cols[21] = "200\u{1f}400";
        let r = parse_fields(&(cols.join("\t") + "\n")).unwrap();
        let f = &r.frames[0];
        assert_eq!(f.number, 3);
        assert_eq!(f.tcp_checksum, Some(ChecksumStatus::Good));
        assert_eq!(f.ip_checksum, Some(ChecksumStatus::Bad));
        assert_eq!(f.tcp_flags, Some(2));
        assert_eq!(f.worst_severity(), Some(Severity::Warning));
        assert_eq!(f.options.kinds, vec![2, 1, 3]);
        assert_eq!(f.options.mss, Some(1460));
        assert_eq!(f.options.sack_blocks, vec![(100, 200), (300, 400)]);
        assert_eq!(r.bad_checksums(), vec![3]);
        assert!(parse_fields("1\t2\n").is_err());
    }
}
