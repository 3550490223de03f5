//! The [`Engine`] adapter for synack's own engine: a `synack_tcp::table::Stack`
//! behind a socket-like interface.

use std::net::SocketAddr;

use synack_tcp::table::{ConnId, ListenerId, Stack};
use synack_tcp::{
    Config, Error, Instant, IsnSource, KeepAlive, RetryLimit, SeqNum, State, TimeWaitRst,
};

use super::engine::{CallError, ConnectStatus, Engine, EngineSettings, SocketOptions};

/// The engine's configuration under a script's settings.
pub fn engine_config(s: &EngineSettings) -> Result<Config, String> {
    let mut c = Config::default();
    if let Some(v) = s.recv_buffer {
        c.recv_buffer = v;
    }
    if let Some(v) = s.send_buffer {
        c.send_buffer = v;
    }
    if let Some(v) = s.mss {
        c.mss = v;
    }
    if let Some(v) = s.window_scale {
        c.window_scale = v;
    }
    if let Some(v) = s.timestamps {
        c.timestamps = v;
    }
    if let Some(v) = s.sack {
        c.sack = v;
    }
    if let Some(v) = s.initial_rto {
        c.initial_rto = v;
        // A script that asks for a short first RTO means it; the floor only
        // stays above it when the script sets the floor too.
        if s.min_rto.is_none() && c.min_rto > v {
            c.min_rto = v;
        }
    }
    if let Some(v) = s.min_rto {
        c.min_rto = v;
    }
    if let Some(v) = s.delayed_ack {
        c.delayed_ack = (!v.is_zero()).then_some(v);
    }
    if let Some(v) = s.msl {
        c.msl = v;
    }
    if let Some(v) = s.fin_wait_2_timeout {
        c.fin_wait_2_timeout = (!v.is_zero()).then_some(v);
    }
    if let Some(v) = s.isn {
        c.isn = IsnSource::Fixed(SeqNum(v));
    }
    if let Some(v) = s.nagle {
        c.nagle = v;
    }
    if let Some(v) = s.rfc1337 {
        c.time_wait_rst = if v {
            TimeWaitRst::Rfc1337Ignore
        } else {
            TimeWaitRst::Rfc9293Accept
        };
    }
    if let Some(v) = s.time_wait_reopen {
        c.time_wait_reopen = v;
    }
    c.validate().map_err(|e| e.to_string())?;
    Ok(c)
}

fn map_error(e: Error) -> CallError {
    match e {
        Error::ConnectionDoesNotExist => CallError::NotConnected,
        Error::ConnectionAlreadyExists => CallError::AddrInUse,
        Error::ConnectionClosing => CallError::Closing,
        Error::ConnectionReset => CallError::Reset,
        Error::ConnectionRefused => CallError::Refused,
        Error::TimedOut => CallError::TimedOut,
        Error::InsufficientResources => CallError::WouldBlock,
        other => CallError::Invalid(other.to_string()),
    }
}

/// A `Stack` for one script run.
pub struct StackEngine {
    stack: Stack,
    base: Config,
    settings: EngineSettings,
    /// Nothing has been opened yet: the stack may still be rebuilt with the
    /// options of the first active open.
    pristine: bool,
}

impl StackEngine {
    pub fn new(settings: &EngineSettings) -> Result<StackEngine, String> {
        let base = engine_config(settings)?;
        let stack = Stack::new(base.clone(), 0x5eed_5eed).map_err(|e| e.to_string())?;
        Ok(StackEngine {
            stack,
            base,
            settings: settings.clone(),
            pristine: true,
        })
    }

    pub fn stack(&self) -> &Stack {
        &self.stack
    }

    /// The configuration a connection made with these socket options gets.
    fn config_for(&self, o: &SocketOptions) -> Config {
        let mut c = self.base.clone();
        if o.keepalive {
            let d = KeepAlive::default();
            let s = &self.settings;
            c.keepalive = Some(KeepAlive {
                idle: o.keepalive_idle.or(s.keepalive_idle).unwrap_or(d.idle),
                interval: o
                    .keepalive_interval
                    .or(s.keepalive_interval)
                    .unwrap_or(d.interval),
                probes: o
                    .keepalive_probes
                    .or(s.keepalive_probes)
                    .unwrap_or(d.probes),
            });
        }
        if o.nodelay {
            c.nagle = false;
        }
        if let Some(t) = o.user_timeout {
            c.r2 = RetryLimit::Time(t);
        }
        if let Some(b) = o.recv_buffer {
            c.recv_buffer = b;
        }
        if let Some(b) = o.send_buffer {
            c.send_buffer = b;
        }
        c
    }
}

impl Engine for StackEngine {
    type Conn = ConnId;
    type Listener = ListenerId;

    fn on_packet(&mut self, now: Instant, packet: &[u8]) {
        // A packet the stack rejects is counted in its statistics; the script
        // sees the consequence (no answer) in what is sent next.
        let _ = self.stack.on_packet(now, packet);
    }

    fn poll_transmit(&mut self, now: Instant, buf: &mut [u8]) -> Option<usize> {
        self.stack.poll_transmit(now, buf)
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.stack.poll_timeout()
    }

    fn on_timeout(&mut self, now: Instant) {
        self.stack.on_timeout(now)
    }

    fn listen(
        &mut self,
        _now: Instant,
        local: SocketAddr,
        backlog: usize,
        opts: &SocketOptions,
    ) -> Result<ListenerId, CallError> {
        let config = self.config_for(opts);
        config
            .validate()
            .map_err(|e| CallError::Invalid(e.to_string()))?;
        self.pristine = false;
        self.stack
            .listen_with(local, backlog, config)
            .map_err(map_error)
    }

    fn accept(&mut self, _now: Instant, l: ListenerId) -> Result<(ConnId, SocketAddr), CallError> {
        let id = self.stack.accept(l).ok_or(CallError::WouldBlock)?;
        let remote = self
            .stack
            .status(id)
            .ok()
            .and_then(|s| s.remote)
            .ok_or(CallError::NotConnected)?;
        Ok((id, remote))
    }

    fn close_listener(&mut self, now: Instant, l: ListenerId) {
        let _ = self.stack.unlisten(now, l);
    }

    fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        opts: &SocketOptions,
    ) -> Result<ConnId, CallError> {
        let config = self.config_for(opts);
        if config != self.base {
            // The stack's active OPEN takes the stack's configuration; socket
            // options set before connect() are honoured by building the stack
            // anew, which is possible while nothing else is open.
            if !self.pristine {
                return Err(CallError::Unsupported(
                    "socket options on a second active open (Stack::connect has no per-connection configuration)"
                        .into(),
                ));
            }
            self.stack =
                Stack::new(config, 0x5eed_5eed).map_err(|e| CallError::Invalid(e.to_string()))?;
        }
        self.pristine = false;
        self.stack.connect(now, local, remote).map_err(map_error)
    }

    fn connect_status(&mut self, conn: ConnId) -> ConnectStatus {
        match self.stack.state(conn) {
            Ok(State::SynSent | State::SynReceived) => ConnectStatus::InProgress,
            Ok(State::Closed) | Err(_) => {
                ConnectStatus::Failed(self.take_error(conn).unwrap_or(CallError::NotConnected))
            }
            Ok(_) => ConnectStatus::Connected,
        }
    }

    fn send(&mut self, _now: Instant, conn: ConnId, data: &[u8]) -> Result<usize, CallError> {
        match self.stack.state(conn) {
            // Before ESTABLISHED a socket cannot write (the RFC would queue).
            Ok(State::SynSent | State::SynReceived) => return Err(CallError::WouldBlock),
            Ok(_) => {}
            Err(e) => return Err(map_error(e)),
        }
        self.stack.send(conn, data).map_err(map_error)
    }

    fn recv(&mut self, _now: Instant, conn: ConnId, buf: &mut [u8]) -> Result<usize, CallError> {
        match self.stack.recv(conn, buf) {
            Ok(0) if !buf.is_empty() => Err(CallError::WouldBlock),
            Ok(n) => Ok(n),
            // Past the peer's FIN: end of stream.
            Err(Error::ConnectionClosing) => Ok(0),
            Err(e) => Err(map_error(e)),
        }
    }

    fn shutdown_write(&mut self, now: Instant, conn: ConnId) -> Result<(), CallError> {
        self.stack.close(now, conn).map_err(map_error)
    }

    fn close(&mut self, now: Instant, conn: ConnId, abort: bool) -> Result<(), CallError> {
        let r = if abort {
            self.stack.abort(now, conn)
        } else {
            self.stack.close(now, conn)
        };
        let _ = self.stack.release(conn);
        match r {
            // close(2) succeeds on a socket already shut down or gone.
            Ok(())
            | Err(Error::ConnectionClosing)
            | Err(Error::ConnectionDoesNotExist)
            | Err(Error::ConnectionReset)
            | Err(Error::ConnectionRefused)
            | Err(Error::TimedOut) => Ok(()),
            Err(e) => Err(map_error(e)),
        }
    }

    fn set_options(
        &mut self,
        _now: Instant,
        conn: ConnId,
        opts: &SocketOptions,
    ) -> Result<(), CallError> {
        let wanted = self.config_for(opts);
        match self.stack.connection(conn) {
            // Nothing changes: fine.
            Some(c) if *c.config() == wanted => Ok(()),
            Some(_) => Err(CallError::Unsupported(
                "changing options on an open connection (the Stack gives no mutable access to a connection)"
                    .into(),
            )),
            None => Err(CallError::NotConnected),
        }
    }

    fn default_buffers(&self) -> (usize, usize) {
        (self.base.recv_buffer, self.base.send_buffer)
    }

    fn take_error(&mut self, conn: ConnId) -> Option<CallError> {
        match self.stack.state(conn) {
            Ok(State::Closed) => match self.stack.send(conn, &[]) {
                Err(e) => Some(map_error(e)),
                Ok(_) => None,
            },
            _ => None,
        }
    }
}
