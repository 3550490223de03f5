//! The parsed form of a packetdrill-syntax script.

use std::fmt;

/// One script: its header options, its events in file order, and what was skipped.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Script {
    /// `--name=value` lines, in file order.
    pub headers: Vec<Header>,
    pub events: Vec<Event>,
    /// Backquoted shell commands and `%{ }%` code blocks: not run, only counted.
    pub skipped: SkipCounts,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SkipCounts {
    pub shell_commands: usize,
    pub code_blocks: usize,
}

/// A header line `--name=value` (or `--name` alone).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    pub line: usize,
    pub name: String,
    pub value: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// 1-based line in the script file where the event starts.
    pub line: usize,
    pub time: TimeSpec,
    pub kind: EventKind,
}

/// A point in script time, in microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimePoint {
    /// Since the start of the script (`0.100`).
    Absolute(u64),
    /// After the previous event (`+0.1`).
    Relative(u64),
}

/// The time column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeSpec {
    /// `0.100` or `+0.1`.
    At(TimePoint),
    /// `*`: any time.
    Any,
    /// `0.1~0.2`: anywhere in the range (for expected segments).
    Range(TimePoint, TimePoint),
    /// `0.1...0.2`: a blocking call that starts at the first and returns at the second time.
    Blocking(TimePoint, TimePoint),
}

#[derive(Debug, Clone, PartialEq)]
pub enum EventKind {
    Packet(PacketSpec),
    Syscall(Syscall),
    /// A backquoted shell command (not run).
    Shell,
    /// A `%{ ... }%` code block (not run).
    CodeBlock,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// `<`: the script injects a segment into the engine.
    Inbound,
    /// `>`: the script expects the engine to send a segment.
    Outbound,
}

/// TCP control bits as written in a script.
#[derive(Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct FlagSet(pub u8);

impl FlagSet {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;
    pub const URG: u8 = 0x20;
    pub const ECE: u8 = 0x40;
    pub const CWR: u8 = 0x80;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }
}

impl fmt::Display for FlagSet {
    /// packetdrill's spelling: `S`, `S.`, `F.`, `P.`, `R`, `-` for none.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0 == 0 {
            return f.write_str("-");
        }
        for (bit, c) in [
            (Self::SYN, 'S'),
            (Self::FIN, 'F'),
            (Self::RST, 'R'),
            (Self::PSH, 'P'),
            (Self::URG, 'U'),
            (Self::ECE, 'E'),
            (Self::CWR, 'W'),
            (Self::ACK, '.'),
        ] {
            if self.has(bit) {
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

impl fmt::Debug for FlagSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// `start:end(len)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeqRange {
    pub start: u32,
    pub end: u32,
    pub len: u32,
}

/// A TCP option as written in a script's `<...>` list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptionSpec {
    Nop,
    Eol,
    Mss(u16),
    WindowScale(u8),
    SackPermitted,
    Timestamp {
        val: u32,
        ecr: u32,
    },
    /// Up to four `left:right` blocks.
    Sack([(u32, u32); 4], usize),
}

impl fmt::Display for OptionSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OptionSpec::Nop => f.write_str("nop"),
            OptionSpec::Eol => f.write_str("eol"),
            OptionSpec::Mss(m) => write!(f, "mss {m}"),
            OptionSpec::WindowScale(w) => write!(f, "wscale {w}"),
            OptionSpec::SackPermitted => f.write_str("sackOK"),
            OptionSpec::Timestamp { val, ecr } => write!(f, "TS val {val} ecr {ecr}"),
            OptionSpec::Sack(blocks, n) => {
                f.write_str("sack")?;
                for (l, r) in &blocks[..*n] {
                    write!(f, " {l}:{r}")?;
                }
                Ok(())
            }
        }
    }
}

/// The option list of a segment line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OptionsSpec {
    /// `<...>`: any options.
    Any,
    List(Vec<OptionSpec>),
}

/// A `<` or `>` line.
#[derive(Debug, Clone, PartialEq)]
pub struct PacketSpec {
    pub direction: Direction,
    pub flags: FlagSet,
    pub seq: SeqRange,
    pub ack: Option<u32>,
    pub win: Option<u32>,
    pub urg: Option<u16>,
    /// `None` when the line has no option list (no options on the wire).
    pub options: Option<OptionsSpec>,
    /// `>?` (a synack extension, not packetdrill's): the engine may send this
    /// segment here or nothing; for behaviour the RFC leaves optional (MAY).
    pub optional: bool,
}

/// An argument or return-value expression in a system call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `...`: anything.
    Ellipsis,
    Int(i64),
    /// A symbolic constant: `SOCK_STREAM`, `SO_LINGER`, `O_NONBLOCK`.
    Name(String),
    /// `O_RDWR|O_NONBLOCK`.
    BitOr(Vec<Expr>),
    /// `[1]`.
    Array(Vec<Expr>),
    /// `{l_onoff=1, l_linger=0}`.
    Struct(Vec<(String, Expr)>),
    Str(String),
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Expr::Ellipsis => f.write_str("..."),
            Expr::Int(i) => write!(f, "{i}"),
            Expr::Name(n) => f.write_str(n),
            Expr::BitOr(v) => {
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str("|")?;
                    }
                    write!(f, "{e}")?;
                }
                Ok(())
            }
            Expr::Array(v) => {
                f.write_str("[")?;
                for (i, e) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
            Expr::Struct(v) => {
                f.write_str("{")?;
                for (i, (k, e)) in v.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{k}={e}")?;
                }
                f.write_str("}")
            }
            Expr::Str(s) => write!(f, "{s:?}"),
        }
    }
}

/// `name(args) = ret [ERRNO] [(note)]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Syscall {
    pub name: String,
    pub args: Vec<Expr>,
    pub ret: Expr,
    pub errno: Option<String>,
}
