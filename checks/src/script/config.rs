//! Run settings: from the command line first, then from the script's own
//! header lines (`--name=value`), which win because the script knows what
//! it was written for.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use super::engine::EngineSettings;

/// packetdrill's default timing tolerance.
pub const DEFAULT_TOLERANCE_USECS: u64 = 4_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum IpVersion {
    V4,
    V6,
}

/// Everything a run of one script depends on besides the script itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunConfig {
    /// Names for `#ifdef`.
    pub defines: BTreeSet<String>,
    pub ignore_window: bool,
    pub ignore_options: bool,
    /// Record every event as it is run.
    pub verbose: bool,
    /// How far (µs) a segment or a blocking call's return may stray from its scripted time.
    pub tolerance_usecs: u64,
    pub ip_version: IpVersion,
    /// Explicit addresses; `None` takes packetdrill's defaults for the IP version.
    pub local_ip: Option<IpAddr>,
    pub remote_ip: Option<IpAddr>,
    /// The engine's port (bind/listen, and the source port of `connect`).
    pub local_port: u16,
    /// The script's (remote peer's) port.
    pub remote_port: u16,
    /// Window of injected segments that do not say `win N`.
    pub remote_window: u16,
    pub engine: EngineSettings,
}

impl Default for RunConfig {
    fn default() -> Self {
        RunConfig {
            defines: BTreeSet::new(),
            ignore_window: false,
            ignore_options: false,
            verbose: false,
            tolerance_usecs: DEFAULT_TOLERANCE_USECS,
            ip_version: IpVersion::V4,
            local_ip: None,
            remote_ip: None,
            local_port: 8080,
            remote_port: 40_000,
            remote_window: 65_535,
            engine: EngineSettings::default(),
        }
    }
}

/// What applying one setting did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Applied {
    Set,
    /// A packetdrill option synack has no use for; the run goes on without it.
    Ignored,
}

/// A setting whose value could not be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingError {
    #[error("`--{name}` needs {what}, got `{value}`")]
    BadValue {
        name: String,
        what: &'static str,
        value: String,
    },
    /// A value synack understands but cannot run (the script is skipped).
    #[error("`--{name}={value}` is not supported")]
    Unsupported { name: String, value: String },
}

/// The settings `--set`/header lines accept, with what each means.
pub const SETTINGS: &[(&str, &str)] = &[
    ("tolerance_usecs", "timing tolerance in µs (default 4000)"),
    ("ip_version", "ipv4 or ipv6"),
    (
        "local_ip / remote_ip",
        "addresses of the engine and of the script",
    ),
    (
        "local_port / remote_port",
        "ports of the engine and of the script",
    ),
    ("remote_win", "window of injected segments without `win`"),
    (
        "ignore_window / ignore_options",
        "do not compare windows / options",
    ),
    (
        "rcvbuf / sndbuf",
        "engine buffers in bytes (rcvbuf bounds the receive window)",
    ),
    ("mss", "MSS the engine advertises"),
    (
        "wscale / timestamps / sack",
        "0 or 1: options the engine offers",
    ),
    (
        "initial_rto_ms / min_rto_ms",
        "engine RTO before any sample / its floor",
    ),
    ("delayed_ack_ms", "engine delayed-ACK timeout, 0 for none"),
    ("msl_ms", "maximum segment lifetime (TIME-WAIT is 2 MSL)"),
    (
        "fin_wait_2_timeout_ms",
        "engine FIN-WAIT-2 timeout, 0 for none",
    ),
    ("isn", "the engine's initial sequence number, fixed"),
    ("nagle", "0 or 1"),
    (
        "rfc1337",
        "1: ignore RST in TIME-WAIT (RFC 1337); 0: RFC 9293's reset",
    ),
    (
        "keepalive_idle_ms / keepalive_interval_ms / keepalive_probes",
        "keep-alive timing",
    ),
];

/// packetdrill options that do not change anything here.
const IGNORED: &[&str] = &[
    "mtu",
    "non_fatal",
    "send_omit_free",
    "speed",
    "init_scripts",
    "bind_port",
    "connect_port",
    "wire_client",
    "wire_server",
    "so_filename",
    "gateway_ip",
    "netmask_ip",
    "strict_segments",
    "dry_run",
    "verbose",
    "define",
];

fn parse_num<T: std::str::FromStr>(
    name: &str,
    value: &str,
    what: &'static str,
) -> Result<T, SettingError> {
    let v = value.trim();
    let parsed = if let Some(hex) = v.strip_prefix("0x") {
        u64::from_str_radix(hex, 16)
            .ok()
            .and_then(|n| n.to_string().parse().ok())
    } else {
        v.parse().ok()
    };
    parsed.ok_or_else(|| SettingError::BadValue {
        name: name.into(),
        what,
        value: value.into(),
    })
}

fn parse_bool(name: &str, value: Option<&str>) -> Result<bool, SettingError> {
    match value.map(str::trim) {
        None | Some("1") | Some("true") | Some("yes") | Some("on") => Ok(true),
        Some("0") | Some("false") | Some("no") | Some("off") => Ok(false),
        Some(v) => Err(SettingError::BadValue {
            name: name.into(),
            what: "0 or 1",
            value: v.into(),
        }),
    }
}

fn millis(name: &str, value: &str) -> Result<Duration, SettingError> {
    parse_num::<u64>(name, value, "milliseconds").map(Duration::from_millis)
}

impl RunConfig {
    /// The engine's address.
    pub fn local_ip(&self) -> IpAddr {
        self.local_ip.unwrap_or(match self.ip_version {
            IpVersion::V4 => IpAddr::V4(Ipv4Addr::new(192, 168, 0, 1)),
            IpVersion::V6 => IpAddr::V6(Ipv6Addr::new(0xfd3d, 0xfa7b, 0xd17d, 0, 0, 0, 0, 1)),
        })
    }

    /// The script's address (the remote peer).
    pub fn remote_ip(&self) -> IpAddr {
        self.remote_ip.unwrap_or(match self.ip_version {
            IpVersion::V4 => IpAddr::V4(Ipv4Addr::new(192, 0, 2, 1)),
            IpVersion::V6 => IpAddr::V6(Ipv6Addr::new(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1)),
        })
    }

    /// Apply one `name[=value]` setting (a header line or `--set`).
    pub fn apply(&mut self, name: &str, value: Option<&str>) -> Result<Applied, SettingError> {
        let need = |what: &'static str| SettingError::BadValue {
            name: name.into(),
            what,
            value: String::new(),
        };
        let e = &mut self.engine;
        match name {
            "ignore_window" => self.ignore_window = parse_bool(name, value)?,
            "ignore_options" => self.ignore_options = parse_bool(name, value)?,
            "wscale" => e.window_scale = Some(parse_bool(name, value)?),
            "timestamps" => e.timestamps = Some(parse_bool(name, value)?),
            "sack" => e.sack = Some(parse_bool(name, value)?),
            "nagle" => e.nagle = Some(parse_bool(name, value)?),
            "rfc1337" => e.rfc1337 = Some(parse_bool(name, value)?),
            "time_wait_reopen" => e.time_wait_reopen = Some(parse_bool(name, value)?),
            n if IGNORED.contains(&n) => return Ok(Applied::Ignored),
            _ => {
                let Some(v) = value else {
                    return if is_known(name) {
                        Err(need("a value"))
                    } else {
                        Ok(Applied::Ignored)
                    };
                };
                match name {
                    "tolerance_usecs" => self.tolerance_usecs = parse_num(name, v, "microseconds")?,
                    "ip_version" => {
                        self.ip_version = match v.trim() {
                            "ipv4" => IpVersion::V4,
                            "ipv6" => IpVersion::V6,
                            other => {
                                return Err(SettingError::Unsupported {
                                    name: name.into(),
                                    value: other.into(),
                                })
                            }
                        }
                    }
                    "local_ip" => self.local_ip = Some(parse_num(name, v, "an IP address")?),
                    "remote_ip" => self.remote_ip = Some(parse_num(name, v, "an IP address")?),
                    "local_port" => self.local_port = parse_num(name, v, "a port")?,
                    "remote_port" => self.remote_port = parse_num(name, v, "a port")?,
                    "remote_win" => self.remote_window = parse_num(name, v, "a 16-bit window")?,
                    "rcvbuf" => e.recv_buffer = Some(parse_num(name, v, "a size in bytes")?),
                    "sndbuf" => e.send_buffer = Some(parse_num(name, v, "a size in bytes")?),
                    "mss" => e.mss = Some(parse_num(name, v, "an MSS (16 bits)")?),
                    "initial_rto_ms" => e.initial_rto = Some(millis(name, v)?),
                    "min_rto_ms" => e.min_rto = Some(millis(name, v)?),
                    "delayed_ack_ms" => e.delayed_ack = Some(millis(name, v)?),
                    "msl_ms" => e.msl = Some(millis(name, v)?),
                    "fin_wait_2_timeout_ms" => e.fin_wait_2_timeout = Some(millis(name, v)?),
                    "isn" => e.isn = Some(parse_num(name, v, "a 32-bit sequence number")?),
                    "keepalive_idle_ms" => e.keepalive_idle = Some(millis(name, v)?),
                    "keepalive_interval_ms" => e.keepalive_interval = Some(millis(name, v)?),
                    "keepalive_probes" => e.keepalive_probes = Some(parse_num(name, v, "a count")?),
                    _ => return Ok(Applied::Ignored),
                }
            }
        }
        Ok(Applied::Set)
    }
}

fn is_known(name: &str) -> bool {
    SETTINGS
        .iter()
        .any(|(n, _)| n.split(" / ").any(|part| part == name))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_apply_and_reject() {
        let mut c = RunConfig::default();
        assert_eq!(c.apply("tolerance_usecs", Some("10000")), Ok(Applied::Set));
        assert_eq!(c.tolerance_usecs, 10_000);
        assert_eq!(c.apply("ignore_window", None), Ok(Applied::Set));
        assert!(c.ignore_window);
        assert_eq!(c.apply("timestamps", Some("0")), Ok(Applied::Set));
        assert_eq!(c.engine.timestamps, Some(false));
        assert_eq!(c.apply("initial_rto_ms", Some("250")), Ok(Applied::Set));
        assert_eq!(c.engine.initial_rto, Some(Duration::from_millis(250)));
        assert_eq!(c.apply("isn", Some("0xfffffff0")), Ok(Applied::Set));
        assert_eq!(c.engine.isn, Some(0xffff_fff0));
        assert_eq!(c.apply("mtu", Some("1500")), Ok(Applied::Ignored));
        assert_eq!(c.apply("no_such_thing", Some("1")), Ok(Applied::Ignored));
        assert!(matches!(
            c.apply("mss", Some("70000")),
            Err(SettingError::BadValue { .. })
        ));
        assert!(matches!(
            c.apply("mss", None),
            Err(SettingError::BadValue { .. })
        ));
        assert!(matches!(
            c.apply("sack", Some("maybe")),
            Err(SettingError::BadValue { .. })
        ));
        assert!(matches!(
            c.apply("ip_version", Some("ipv4-mapped-ipv6")),
            Err(SettingError::Unsupported { .. })
        ));
        assert_eq!(c.apply("ip_version", Some("ipv6")), Ok(Applied::Set));
        assert!(c.local_ip().is_ipv6() && c.remote_ip().is_ipv6());
        assert_eq!(c.apply("remote_ip", Some("10.0.0.2")), Ok(Applied::Set));
        assert_eq!(c.remote_ip(), "10.0.0.2".parse::<IpAddr>().unwrap());
    }
}
