//! synack-tcp: a sans-IO TCP engine after RFC 9293.
//!
//! No sockets, threads or clocks live in here: time comes in as an [`Instant`],
//! bytes come in as slices, and segments go out into buffers the caller owns.

pub mod buffer;
pub mod config;
pub mod congestion;
pub mod connection;
pub mod error;
pub mod event;
pub mod isn;
pub mod pcap;
pub mod rtt;
pub mod seq;
pub mod sim;
pub mod table;
pub mod time;
pub mod wire;

pub use config::{Config, IsnSource, KeepAlive, RetryLimit, TimeWaitRst};
pub use connection::{Connection, Drops, FourTuple, State, Stats, Status, Timers, Transmit};
pub use error::Error;
pub use event::{Ended, Event, ResetReason, TimeoutKind};
pub use isn::IsnGenerator;
pub use seq::SeqNum;
pub use time::Instant;
pub use wire::{Flags, PseudoHeader, Segment, TcpHeader, TcpOptions, TcpSegment, WireError};
