//! Per-connection configuration: every knob RFC 9293 says an application or
//! administrator must be able to set, and the switches the model's variants need.

use core::time::Duration;

use crate::error::Error;
use crate::seq::SeqNum;

/// What to do with an in-window RST that arrives in TIME-WAIT.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimeWaitRst {
    /// Ignore it (RFC 1337: a RST must not assassinate TIME-WAIT). Default.
    #[default]
    Rfc1337Ignore,
    /// Close the connection, as RFC 9293 §3.10.7.4 describes.
    Rfc9293Accept,
}

/// Where initial sequence numbers come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum IsnSource {
    /// RFC 6528 / RFC 9293 §3.4.1: a 4 µs clock plus a keyed hash of the
    /// 4-tuple and this secret (MUST-8, SHLD-1).
    Rfc6528 { secret: [u8; 16] },
    /// Always this value (tests, and the model's "fixed ISN" variant).
    Fixed(SeqNum),
}

/// A retransmission threshold (R2 of RFC 9293 §3.8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RetryLimit {
    /// Give up when the same segment's retransmission timer expires after this
    /// many retransmissions.
    Count(u32),
    /// Give up when the same segment has been outstanding this long.
    Time(Duration),
    /// Never give up (MUST-21 allows "infinity"; the application decides).
    Infinite,
}

/// Keep-alive settings (RFC 9293 §3.8.4). Off unless set (MUST-25).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct KeepAlive {
    /// Idle time before the first probe (MUST-27; default two hours, MUST-28).
    pub idle: Duration,
    /// Time between unanswered probes.
    pub interval: Duration,
    /// Unanswered probes before the connection is declared dead (MUST-29:
    /// one lost ACK must not kill the connection, so this must be > 1).
    pub probes: u32,
}

impl Default for KeepAlive {
    fn default() -> Self {
        KeepAlive {
            idle: Duration::from_secs(2 * 60 * 60),
            interval: Duration::from_secs(75),
            probes: 9,
        }
    }
}

/// Configuration of one connection.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Config {
    /// The MSS we advertise: the largest segment payload we accept (MUST-14, MUST-67).
    pub mss: u16,
    /// Receive buffer size in bytes (the most we ever advertise as window).
    pub recv_buffer: usize,
    /// Send buffer size in bytes.
    pub send_buffer: usize,
    /// Maximum segment lifetime; TIME-WAIT lasts twice this (MUST-13). Zero
    /// makes TIME-WAIT end at once (a model variant).
    pub msl: Duration,
    /// Override of the TIME-WAIT duration (a model variant: shorter than 2×MSL).
    /// `None` means 2×MSL.
    pub time_wait: Option<Duration>,
    /// RST handling in TIME-WAIT.
    pub time_wait_rst: TimeWaitRst,
    /// Accept a new SYN in TIME-WAIT and reopen (MAY-2), if its sequence number
    /// lies beyond the old connection's.
    pub time_wait_reopen: bool,
    /// How long FIN-WAIT-2 may last once our FIN is acknowledged and the user
    /// has closed; `None` waits forever (a model variant).
    pub fin_wait_2_timeout: Option<Duration>,
    /// R1: retransmissions of the same segment after which the application is
    /// warned (MUST-20, SHLD-10: at least 3).
    pub r1: u32,
    /// R2 for data and FIN segments (MUST-20/21; SHLD-11: at least 100 s).
    pub r2: RetryLimit,
    /// R2 for SYN segments (MUST-22; MUST-23: at least 3 minutes).
    pub syn_r2: RetryLimit,
    /// First RTO before any RTT sample (RFC 6298 §2.1: 1 s).
    pub initial_rto: Duration,
    /// Lower bound of the RTO (RFC 6298 §2.4: 1 s).
    pub min_rto: Duration,
    /// Upper bound of the RTO (RFC 6298 §2.5: at least 60 s).
    pub max_rto: Duration,
    /// Keep-alives; `None` is off (MUST-25).
    pub keepalive: Option<KeepAlive>,
    /// Nagle's algorithm (SHLD-7); the application can turn it off (MUST-17).
    pub nagle: bool,
    /// Delayed ACK timeout; `None` acknowledges every segment at once. Must be
    /// under 500 ms (MUST-40).
    pub delayed_ack: Option<Duration>,
    /// Offer window scaling (RFC 7323), with a shift fitted to `recv_buffer`.
    pub window_scale: bool,
    /// Offer timestamps (RFC 7323: RTTM and PAWS).
    pub timestamps: bool,
    /// Offer SACK-permitted (RFC 2018).
    pub sack: bool,
    /// Source of initial sequence numbers.
    pub isn: IsnSource,
    /// At most this many challenge ACKs per second (RFC 5961 §7).
    pub challenge_ack_limit: u32,
    /// After ABORT sends its RST, linger in TIME-WAIT (RFC 9293 §3.5.2 says
    /// the side issuing a reset should) instead of deleting the TCB at once
    /// (§3.10.5, the default).
    pub abort_time_wait: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mss: 1460,
            recv_buffer: 64 * 1024,
            send_buffer: 64 * 1024,
            msl: Duration::from_secs(120),
            time_wait: None,
            time_wait_rst: TimeWaitRst::Rfc1337Ignore,
            time_wait_reopen: true,
            fin_wait_2_timeout: Some(Duration::from_secs(60)),
            r1: 3,
            r2: RetryLimit::Time(Duration::from_secs(100)),
            syn_r2: RetryLimit::Time(Duration::from_secs(180)),
            initial_rto: Duration::from_secs(1),
            min_rto: Duration::from_secs(1),
            max_rto: Duration::from_secs(60),
            keepalive: None,
            nagle: true,
            delayed_ack: Some(Duration::from_millis(200)),
            window_scale: true,
            timestamps: true,
            sack: true,
            isn: IsnSource::Rfc6528 { secret: [0x5a; 16] },
            challenge_ack_limit: 100,
            abort_time_wait: false,
        }
    }
}

impl Config {
    /// Checks every value against the range RFC 9293 (or plain sense) allows.
    pub fn validate(&self) -> Result<(), Error> {
        if self.mss < 64 {
            return Err(Error::InvalidConfig("mss below 64"));
        }
        if self.recv_buffer == 0 || self.recv_buffer > (1 << 30) {
            return Err(Error::InvalidConfig("recv_buffer must be 1..=2^30 bytes"));
        }
        if self.send_buffer == 0 || self.send_buffer > (1 << 30) {
            return Err(Error::InvalidConfig("send_buffer must be 1..=2^30 bytes"));
        }
        if let Some(d) = self.delayed_ack {
            if d >= Duration::from_millis(500) {
                return Err(Error::InvalidConfig(
                    "delayed_ack must be under 500 ms (MUST-40)",
                ));
            }
        }
        if self.min_rto.is_zero() || self.min_rto > self.max_rto {
            return Err(Error::InvalidConfig("need 0 < min_rto <= max_rto"));
        }
        if self.initial_rto.is_zero() {
            return Err(Error::InvalidConfig("initial_rto must be positive"));
        }
        if let Some(k) = self.keepalive {
            if k.idle.is_zero() || k.interval.is_zero() {
                return Err(Error::InvalidConfig(
                    "keep-alive idle and interval must be positive",
                ));
            }
            if k.probes < 2 {
                return Err(Error::InvalidConfig(
                    "keep-alive probes must be at least 2 (MUST-29)",
                ));
            }
        }
        Ok(())
    }

    /// TIME-WAIT duration: the override if set, else 2×MSL (MUST-13).
    pub fn time_wait_duration(&self) -> Duration {
        self.time_wait.unwrap_or(self.msl * 2)
    }

    /// The window-scale shift we offer: the smallest that lets the whole receive
    /// buffer be advertised (RFC 7323 §2.3, at most 14).
    pub fn rcv_wscale(&self) -> u8 {
        let mut shift = 0u8;
        while shift < 14 && (self.recv_buffer >> shift) > 65535 {
            shift += 1;
        }
        shift
    }
}
