//! The model's variants (one design decision changed each) and its configuration.

use crate::endpoint::{IsnClock, Params};
use serde::Serialize;

/// The standard model and the variants that each change one decision.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Variant {
    /// RFC 9293 as written (with RFC 5961 and RFC 1337's TIME-WAIT fix).
    Standard,
    /// A passive OPEN trusts the first SYN: ESTABLISHED without the third segment.
    TwoWayHandshake,
    /// TIME-WAIT lasts MSL instead of 2×MSL.
    ShortTimeWait,
    /// No TIME-WAIT: the active closer is CLOSED as soon as it acknowledges the FIN.
    NoTimeWait,
    /// Every connection starts at the same ISN instead of one read from a clock.
    FixedIsn,
    /// A RST ends TIME-WAIT (RFC 9293's rule, which RFC 1337 shows is hazardous).
    TimeWaitAssassination,
    /// FIN-WAIT-2 waits for the peer's FIN forever.
    NoFinWait2Timeout,
    /// The two generals with K rounds of acknowledgement (a separate model).
    Generals,
}

impl Variant {
    pub const ALL: [Variant; 8] = [
        Variant::Standard,
        Variant::TwoWayHandshake,
        Variant::ShortTimeWait,
        Variant::NoTimeWait,
        Variant::FixedIsn,
        Variant::TimeWaitAssassination,
        Variant::NoFinWait2Timeout,
        Variant::Generals,
    ];

    /// The name used on the command line and in JSON.
    pub fn name(self) -> &'static str {
        match self {
            Variant::Standard => "standard",
            Variant::TwoWayHandshake => "two-way-handshake",
            Variant::ShortTimeWait => "short-time-wait",
            Variant::NoTimeWait => "no-time-wait",
            Variant::FixedIsn => "fixed-isn",
            Variant::TimeWaitAssassination => "time-wait-assassination",
            Variant::NoFinWait2Timeout => "no-fin-wait-2-timeout",
            Variant::Generals => "generals",
        }
    }

    /// The classic question the variant answers.
    pub fn question(self) -> &'static str {
        match self {
            Variant::Standard => "does RFC 9293's lifecycle keep its promises?",
            Variant::TwoWayHandshake => "why three segments to open, not two?",
            Variant::ShortTimeWait => "why does TIME-WAIT last 2 MSL and not 1?",
            Variant::NoTimeWait => "why TIME-WAIT at all?",
            Variant::FixedIsn => "why are ISNs read from a clock?",
            Variant::TimeWaitAssassination => "why should TIME-WAIT ignore a RST (RFC 1337)?",
            Variant::NoFinWait2Timeout => "why does FIN-WAIT-2 need a timeout?",
            Variant::Generals => "can any finite handshake make both sides certain?",
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown variant name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UnknownVariant(pub String);

impl std::fmt::Display for UnknownVariant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = Variant::ALL.iter().map(|v| v.name()).collect();
        write!(
            f,
            "unknown variant `{}` (valid: {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownVariant {}

impl std::str::FromStr for Variant {
    type Err = UnknownVariant;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Variant::ALL
            .iter()
            .copied()
            .find(|v| v.name() == s)
            .ok_or_else(|| UnknownVariant(s.to_string()))
    }
}

/// Everything that sizes a check. `Config::default_for` gives the CI-sized
/// defaults; every field can be changed before `TcpModel::new` validates it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct Config {
    pub variant: Variant,
    /// Maximum segment lifetime, in ticks.
    pub msl: u8,
    /// Connections the client may open, one after the other, on the same 4-tuple.
    pub incarnations: u8,
    /// Rounds of acknowledgement (generals only).
    pub rounds: u8,
    /// Abstract data bytes each side's application may send per connection.
    pub data_bytes: u8,
    /// RCV.WND of both sides.
    pub rcv_wnd: u8,
    /// Retransmission timeout, in ticks.
    pub rto: u8,
    /// R2: retransmissions of one segment before the connection is given up.
    pub max_retries: u8,
    /// Segments the network may lose (it may also delay them past MSL).
    pub drops: u8,
    /// Segments the network may duplicate.
    pub duplicates: u8,
    /// Segments the network may hold past the end of the tick they were sent
    /// in (each then lives until its age reaches MSL). Within a tick the
    /// network delivers in any order; holding a segment across ticks is the
    /// budgeted fault that makes old duplicates and late arrivals possible.
    pub delays: u8,
    /// Host crashes (either host; the TCB is lost).
    pub crashes: u8,
    /// User ABORT calls (either side).
    pub aborts: u8,
    /// Time bound, in ticks: time stops here; 0 picks one from the other
    /// fields ([`Config::effective_horizon`]) that no run should reach with
    /// work pending (property `within_horizon` checks that).
    pub horizon: u8,
}

/// A configuration that cannot be checked, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConfigError {
    /// A number outside its range.
    OutOfRange {
        field: &'static str,
        value: u8,
        min: u8,
        max: u8,
    },
    /// The generals model was asked for with a TCP model's constructor or vice versa.
    WrongModel(Variant),
    /// The retransmission timeout exceeds MSL: a FIN retransmitted after the
    /// final ACK is lost could outlive even a 2 MSL TIME-WAIT.
    RtoAboveMsl { rto: u8, msl: u8 },
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::OutOfRange {
                field,
                value,
                min,
                max,
            } => write!(f, "{field} must be between {min} and {max}, not {value}"),
            ConfigError::WrongModel(v) => {
                write!(f, "variant `{v}` is not built by this constructor")
            }
            ConfigError::RtoAboveMsl { rto, msl } => write!(
                f,
                "rto ({rto}) must not exceed msl ({msl}): TIME-WAIT must outlast a retransmitted FIN"
            ),
        }
    }
}

impl std::error::Error for ConfigError {}

fn range(field: &'static str, value: u8, min: u8, max: u8) -> Result<(), ConfigError> {
    if value < min || value > max {
        Err(ConfigError::OutOfRange {
            field,
            value,
            min,
            max,
        })
    } else {
        Ok(())
    }
}

impl Config {
    /// The CI-sized defaults for `variant`: two incarnations, one loss and one
    /// duplicate (reordering is free within a tick), and whatever else the
    /// variant needs to show its counterexample (a crash, for a peer that is
    /// gone for good). A complete check takes seconds.
    pub fn default_for(variant: Variant) -> Config {
        let mut c = Config {
            variant,
            msl: 2,
            incarnations: 2,
            rounds: 2,
            data_bytes: 1,
            rcv_wnd: 3,
            rto: 2,
            max_retries: 2,
            drops: 1,
            duplicates: 1,
            delays: 0,
            crashes: 0,
            aborts: 0,
            horizon: 0,
        };
        match variant {
            // The peer must vanish without a trace: a crash.
            Variant::NoFinWait2Timeout => {
                c.duplicates = 0;
                c.crashes = 1;
            }
            // A half-open peer, after a crash, retransmits into the new connection.
            Variant::FixedIsn => {
                c.duplicates = 0;
                c.crashes = 1;
            }
            // An old SYN must outlive the tick of the connection it opened,
            // whose second opening (one incarnation is enough) is the point.
            Variant::TwoWayHandshake => {
                c.incarnations = 1;
                c.drops = 0;
                c.delays = 1;
            }
            // An old segment must outlive the tick in which TIME-WAIT is killed.
            Variant::TimeWaitAssassination => {
                c.drops = 0;
                c.delays = 1;
            }
            _ => {}
        }
        c
    }

    /// The full-size check measured in the README: the defaults plus a host
    /// crash (half-open connections, the quiet time).
    pub fn full(variant: Variant) -> Config {
        let mut c = Config::default_for(variant);
        c.duplicates = 1;
        c.crashes = 1;
        c
    }

    /// Checks every field's range.
    pub fn validate(&self) -> Result<(), ConfigError> {
        range("msl", self.msl, 1, 8)?;
        range("incarnations", self.incarnations, 1, 4)?;
        range("rounds", self.rounds, 1, 16)?;
        range("data_bytes", self.data_bytes, 0, 3)?;
        range("rcv_wnd", self.rcv_wnd, 1, 3)?;
        range("rto", self.rto, 1, 8)?;
        range("max_retries", self.max_retries, 0, 4)?;
        range("drops", self.drops, 0, 4)?;
        range("duplicates", self.duplicates, 0, 4)?;
        range("delays", self.delays, 0, 4)?;
        range("crashes", self.crashes, 0, 2)?;
        range("aborts", self.aborts, 0, 2)?;
        range("horizon", self.horizon, 0, 250)?;
        if self.rto > self.msl {
            return Err(ConfigError::RtoAboveMsl {
                rto: self.rto,
                msl: self.msl,
            });
        }
        Ok(())
    }

    /// Sets MSL, lowering the retransmission timeout if needed so that it
    /// does not exceed MSL (what the CLI's `--msl` should call).
    pub fn set_msl(&mut self, msl: u8) {
        self.msl = msl;
        self.rto = self.rto.min(msl.max(1));
    }

    /// The time bound: `horizon`, or when it is 0 a generous bound from the
    /// other fields (per connection: a handshake, data and FIN each
    /// retransmitted R2 times, FIN-WAIT-2, TIME-WAIT and a crash's restart
    /// and quiet time).
    pub fn effective_horizon(&self) -> u8 {
        if self.horizon != 0 {
            return self.horizon;
        }
        let per_connection = 3 * u32::from(self.rto) * (u32::from(self.max_retries) + 1)
            + 6 * u32::from(self.msl)
            + 4;
        let crashes = u32::from(self.crashes) * (u32::from(self.msl) + 2);
        let total = u32::from(self.incarnations) * per_connection + crashes + 4;
        total.min(250) as u8
    }

    /// Sequence numbers the ISN clock advances per tick: more than one
    /// connection can consume (SYN, data, FIN), so the clock protects
    /// connections opened in different ticks; a whole connection can still
    /// run within a single tick, like a fast connection outrunning the 4 µs
    /// clock, and then only TIME-WAIT or the quiet time keep incarnations apart.
    pub fn isn_rate(&self) -> u16 {
        u16::from(self.data_bytes) + 3
    }

    /// The endpoint parameters of `side` (0: client, 1: server) for this variant.
    pub fn params(&self, side: usize) -> Params {
        let offset: u16 = if side == 0 { 0 } else { 500 };
        let v = self.variant;
        Params {
            rcv_wnd: u16::from(self.rcv_wnd),
            snd_wnd: u16::from(self.rcv_wnd),
            rto: self.rto,
            max_retries: self.max_retries,
            time_wait: match v {
                Variant::ShortTimeWait => self.msl,
                Variant::NoTimeWait => 0,
                _ => 2 * self.msl,
            },
            fin_wait_2_timeout: match v {
                Variant::NoFinWait2Timeout => None,
                _ => Some(2 * self.msl),
            },
            rst_ends_time_wait: v == Variant::TimeWaitAssassination,
            two_way_handshake: v == Variant::TwoWayHandshake,
            abort_enters_time_wait: true,
            isn: match v {
                Variant::FixedIsn => IsnClock::Fixed(offset),
                _ => IsnClock::Clock {
                    rate: self.isn_rate(),
                    offset,
                },
            },
        }
    }
}
