//! The boundary between the script runner and a TCP engine.
//!
//! The runner speaks raw IP packets on one side (as the engine's `Stack`
//! does) and BSD-socket-like user calls on the other; an adapter maps them onto
//! the engine's own calls (RFC 9293 §3.10.1-6).

use std::net::SocketAddr;
use std::time::Duration;

use synack_tcp::Instant;

/// Settings a script (header lines) or the command line may give the engine,
/// so that scripts written for another stack's defaults can run. `None`
/// leaves the engine's own default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineSettings {
    /// Receive buffer, hence the most the engine advertises as its window.
    pub recv_buffer: Option<usize>,
    pub send_buffer: Option<usize>,
    /// The MSS the engine advertises.
    pub mss: Option<u16>,
    /// Whether the engine offers window scaling, timestamps, SACK-permitted.
    pub window_scale: Option<bool>,
    pub timestamps: Option<bool>,
    pub sack: Option<bool>,
    pub initial_rto: Option<Duration>,
    pub min_rto: Option<Duration>,
    /// Delayed-ACK timeout; `Some(Duration::ZERO)` acknowledges at once.
    pub delayed_ack: Option<Duration>,
    /// Maximum segment lifetime (TIME-WAIT lasts twice this).
    pub msl: Option<Duration>,
    pub fin_wait_2_timeout: Option<Duration>,
    /// The engine's initial sequence number, fixed (for window-edge tests).
    pub isn: Option<u32>,
    pub nagle: Option<bool>,
    /// RFC 1337 (ignore RST in TIME-WAIT) when true, RFC 9293's reset when false.
    pub rfc1337: Option<bool>,
    /// Reopen a connection in TIME-WAIT on a new SYN (MAY-2).
    pub time_wait_reopen: Option<bool>,
    pub keepalive_idle: Option<Duration>,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_probes: Option<u32>,
}

/// Per-socket options set with `setsockopt`, applied when the connection is
/// made (and again whenever they change on a live connection).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SocketOptions {
    /// `SO_LINGER` with `l_onoff=1, l_linger=0`: close aborts (sends RST).
    pub linger_abort: bool,
    pub keepalive: bool,
    pub nodelay: bool,
    pub user_timeout: Option<Duration>,
    pub recv_buffer: Option<usize>,
    pub send_buffer: Option<usize>,
    pub keepalive_idle: Option<Duration>,
    pub keepalive_interval: Option<Duration>,
    pub keepalive_probes: Option<u32>,
}

/// Why a user call did not succeed, in socket terms.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// Nothing can be done now; a blocking call would wait.
    #[error("would block")]
    WouldBlock,
    #[error("not connected")]
    NotConnected,
    #[error("connection reset")]
    Reset,
    #[error("connection refused")]
    Refused,
    #[error("timed out")]
    TimedOut,
    /// Sending after the local side closed.
    #[error("broken pipe: the connection is closing")]
    Closing,
    #[error("address in use")]
    AddrInUse,
    #[error("invalid argument: {0}")]
    Invalid(String),
    /// The engine has no counterpart for this call or option.
    #[error("unsupported by the engine: {0}")]
    Unsupported(String),
}

impl CallError {
    /// The Linux errno name a script would write.
    pub fn errno(&self) -> &'static str {
        match self {
            CallError::WouldBlock => "EAGAIN",
            CallError::NotConnected => "ENOTCONN",
            CallError::Reset => "ECONNRESET",
            CallError::Refused => "ECONNREFUSED",
            CallError::TimedOut => "ETIMEDOUT",
            CallError::Closing => "EPIPE",
            CallError::AddrInUse => "EADDRINUSE",
            CallError::Invalid(_) => "EINVAL",
            CallError::Unsupported(_) => "EOPNOTSUPP",
        }
    }
}

/// Where an active open stands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConnectStatus {
    InProgress,
    Connected,
    Failed(CallError),
}

/// What the runner needs from an engine. Times are virtual: the engine never
/// reads a clock, the runner passes `now` in.
pub trait Engine {
    type Conn: Copy + Eq + std::fmt::Debug;
    type Listener: Copy + Eq + std::fmt::Debug;

    /// A whole IP packet arrives from the network.
    fn on_packet(&mut self, now: Instant, packet: &[u8]);
    /// The next whole IP packet the engine sends, written into `buf`.
    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize>;
    fn poll_timeout(&mut self) -> Option<Instant>;
    fn on_timeout(&mut self, now: Instant);

    /// Passive OPEN on `local`.
    fn listen(
        &mut self,
        now: Instant,
        local: SocketAddr,
        backlog: usize,
        opts: &SocketOptions,
    ) -> Result<Self::Listener, CallError>;
    /// A connection the listener has completed, or `WouldBlock`.
    fn accept(
        &mut self,
        now: Instant,
        listener: Self::Listener,
    ) -> Result<(Self::Conn, SocketAddr), CallError>;
    fn close_listener(&mut self, now: Instant, listener: Self::Listener);
    /// Active OPEN from `local` to `remote`: the SYN goes out.
    fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        opts: &SocketOptions,
    ) -> Result<Self::Conn, CallError>;
    fn connect_status(&mut self, conn: Self::Conn) -> ConnectStatus;
    /// Queue data; the count accepted (`WouldBlock` if none fits).
    fn send(&mut self, now: Instant, conn: Self::Conn, data: &[u8]) -> Result<usize, CallError>;
    /// Read data; `Ok(0)` at end of stream, `WouldBlock` if none is there yet.
    fn recv(&mut self, now: Instant, conn: Self::Conn, buf: &mut [u8]) -> Result<usize, CallError>;
    /// CLOSE for sending only (`shutdown(SHUT_WR)`): the FIN follows the data.
    fn shutdown_write(&mut self, now: Instant, conn: Self::Conn) -> Result<(), CallError>;
    /// The socket is closed: CLOSE, or ABORT when `abort` (zero linger).
    fn close(&mut self, now: Instant, conn: Self::Conn, abort: bool) -> Result<(), CallError>;
    fn set_options(
        &mut self,
        now: Instant,
        conn: Self::Conn,
        opts: &SocketOptions,
    ) -> Result<(), CallError>;
    /// `SO_ERROR`: the error that ended the connection, if any.
    fn take_error(&mut self, conn: Self::Conn) -> Option<CallError>;
    /// The receive and send buffer sizes a socket gets unless it sets its own
    /// (what `getsockopt(SO_RCVBUF/SO_SNDBUF)` reports).
    fn default_buffers(&self) -> (usize, usize);
}
