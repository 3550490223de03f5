//! The user calls of RFC 9293 §3.10.1-6: OPEN, SEND, RECEIVE, CLOSE, ABORT
//! (STATUS is `Connection::status` in `mod.rs`).

use std::net::SocketAddr;

use super::{Connection, Origin, RstReply, State, EV_READABLE};
use crate::config::{Config, IsnSource};
use crate::error::Error;
use crate::event::{Ended, ResetReason};
use crate::isn::IsnGenerator;
use crate::{Instant, SeqNum};

impl Connection {
    /// Active OPEN (§3.10.1, CLOSED state): create a TCB, pick an ISS and
    /// queue a SYN; the connection is in SYN-SENT.
    pub fn connect(
        config: &Config,
        tuple: super::FourTuple,
        now: Instant,
    ) -> Result<Connection, Error> {
        config.validate()?;
        check_families(tuple.local, tuple.remote)?;
        let mut c = Connection::new(config, tuple.local, Some(tuple.remote), now);
        c.start_active_open(now, tuple.remote);
        Ok(c)
    }

    /// Passive OPEN (§3.10.1, CLOSED state): a TCB in LISTEN on `local`,
    /// waiting for a SYN from any remote.
    pub fn listen(config: &Config, local: SocketAddr) -> Result<Connection, Error> {
        config.validate()?;
        let mut c = Connection::new(config, local, None, Instant::ZERO);
        c.state = State::Listen;
        c.origin = Origin::Passive;
        Ok(c)
    }

    /// A TCB-less endpoint on `local` (CLOSED): answers every segment with a
    /// RST, as a host that rebooted does (§3.10.7.1). OPEN calls revive it.
    pub fn closed(config: &Config, local: SocketAddr) -> Connection {
        Connection::new(config, local, None, Instant::ZERO)
    }

    /// OPEN on an existing connection object (§3.10.1): from CLOSED, an
    /// active open to `remote` (or a passive one when `remote` is `None`);
    /// from LISTEN, turn the listener into an active open; anything else
    /// already exists.
    pub fn open(&mut self, now: Instant, remote: Option<SocketAddr>) -> Result<(), Error> {
        match self.state {
            State::Closed => match remote {
                Some(r) => {
                    check_families(self.local, r)?;
                    self.reset_tcb(now);
                    self.start_active_open(now, r);
                    Ok(())
                }
                None => {
                    self.reset_tcb(now);
                    self.state = State::Listen;
                    self.origin = Origin::Passive;
                    Ok(())
                }
            },
            State::Listen => match remote {
                Some(r) => {
                    check_families(self.local, r)?;
                    self.start_active_open(now, r);
                    Ok(())
                }
                None => Err(Error::RemoteUnspecified),
            },
            _ => Err(Error::ConnectionAlreadyExists),
        }
    }

    /// SEND (§3.10.2): queue as much of `data` as the send buffer holds and
    /// return the count. In SYN-SENT/SYN-RECEIVED the data waits for
    /// ESTABLISHED. A full buffer gives `InsufficientResources` for non-empty
    /// data. Every SEND is treated as pushed (MUST-60/61).
    pub fn send(&mut self, data: &[u8]) -> Result<usize, Error> {
        match self.state {
            State::Closed => Err(self.closed_error()),
            State::Listen => Err(Error::RemoteUnspecified),
            State::SynSent | State::SynReceived | State::Established | State::CloseWait => {
                if self.fin_seq.is_some() {
                    return Err(Error::ConnectionClosing);
                }
                if data.is_empty() {
                    return Ok(0);
                }
                let n = self.send_buf.write(data);
                if n == 0 {
                    return Err(Error::InsufficientResources);
                }
                Ok(n)
            }
            State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait => Err(Error::ConnectionClosing),
        }
    }

    /// SEND with the URGENT flag (§3.10.2, MUST-30/31): queue `data` and mark
    /// everything up to its last byte as urgent; SND.UP points just past it
    /// (MUST-62). Only where SEND is allowed, and only if all of it fits.
    pub fn send_urgent(&mut self, data: &[u8]) -> Result<usize, Error> {
        if data.len() > self.send_buf.free() {
            return Err(Error::InsufficientResources);
        }
        let n = self.send(data)?;
        if n > 0 {
            self.snd_up = Some(self.buf_seq + self.send_buf.len() as u32);
        }
        Ok(n)
    }

    /// RECEIVE (§3.10.3): copy readable bytes into `buf`. `Ok(0)` means
    /// nothing is there yet; once the peer's FIN has been read past,
    /// `Err(ConnectionClosing)` is the end of the stream. Data already
    /// received stays readable in every state until a reset flushes it.
    pub fn recv(&mut self, buf: &mut [u8]) -> Result<usize, Error> {
        if self.recv_buf.readable() > 0 {
            if buf.is_empty() {
                return Ok(0);
            }
            let n = self.recv_buf.read(buf);
            if self.recv_buf.readable() == 0 {
                self.events &= !EV_READABLE;
            }
            self.maybe_window_update();
            return Ok(n);
        }
        match self.state {
            State::Closed => Err(self.closed_error()),
            State::Listen | State::SynSent | State::SynReceived => Ok(0),
            State::Established | State::FinWait1 | State::FinWait2 => Ok(0),
            State::CloseWait | State::Closing | State::LastAck | State::TimeWait => {
                Err(Error::ConnectionClosing)
            }
        }
    }

    /// Bytes ready to be read.
    pub fn recv_queued(&self) -> usize {
        self.recv_buf.readable()
    }

    /// Room in the send buffer.
    pub fn send_capacity(&self) -> usize {
        self.send_buf.free()
    }

    /// CLOSE (§3.10.4): no more data from us. A FIN follows the queued data.
    pub fn close(&mut self, now: Instant) -> Result<(), Error> {
        let _ = now;
        match self.state {
            State::Closed => Err(self.closed_error()),
            State::Listen | State::SynSent => {
                // Delete the TCB; nothing was synchronized.
                self.enter_closed(Ended::Graceful);
                Ok(())
            }
            State::SynReceived | State::Established => {
                // SYN-RECEIVED: the FIN follows the SYN,ACK and any queued data
                // (queued data makes the RFC wait for ESTABLISHED; sending the
                // FIN after it in sequence order is the same on the wire).
                self.queue_fin();
                self.state = State::FinWait1;
                Ok(())
            }
            State::CloseWait => {
                self.queue_fin();
                self.state = State::LastAck;
                Ok(())
            }
            State::FinWait1
            | State::FinWait2
            | State::Closing
            | State::LastAck
            | State::TimeWait => Err(Error::ConnectionClosing),
        }
    }

    /// ABORT (§3.10.5): drop everything; in the states where the peer may
    /// hold state, send `<SEQ=SND.NXT><CTL=RST>`.
    pub fn abort(&mut self, now: Instant) -> Result<(), Error> {
        match self.state {
            State::Closed => Err(self.closed_error()),
            State::Listen | State::SynSent => {
                self.enter_closed(Ended::Reset(ResetReason::Aborted));
                Ok(())
            }
            State::SynReceived
            | State::Established
            | State::FinWait1
            | State::FinWait2
            | State::CloseWait => {
                if let Some(dst) = self.remote {
                    self.queue_rst(RstReply {
                        dst,
                        seq: self.snd_nxt,
                        ack: None,
                    });
                }
                if self.cfg.abort_time_wait {
                    // §3.5.2: the side that resets lingers in TIME-WAIT.
                    self.send_buf.clear();
                    self.recv_buf.clear();
                    self.events = 0;
                    self.ack_now = false;
                    self.enter_time_wait(now);
                    self.time_wait_ends = Ended::Reset(ResetReason::Aborted);
                    self.ended = Some(Ended::Reset(ResetReason::Aborted));
                    self.terminal[0] = Some(crate::event::Event::Reset(ResetReason::Aborted));
                } else {
                    self.enter_closed(Ended::Reset(ResetReason::Aborted));
                }
                Ok(())
            }
            State::Closing | State::LastAck | State::TimeWait => {
                self.enter_closed(Ended::Reset(ResetReason::Aborted));
                Ok(())
            }
        }
    }

    /// Turn Nagle's algorithm on or off for this connection (MUST-17).
    pub fn set_nagle(&mut self, on: bool) {
        self.cfg.nagle = on;
    }

    /// Set R2 for data segments (MUST-21).
    pub fn set_r2(&mut self, r2: crate::config::RetryLimit) {
        self.cfg.r2 = r2;
    }

    /// Turn keep-alives on or off (MUST-24).
    pub fn set_keepalive(
        &mut self,
        now: Instant,
        keepalive: Option<crate::config::KeepAlive>,
    ) -> Result<(), Error> {
        if let Some(k) = keepalive {
            if k.idle.is_zero() || k.interval.is_zero() || k.probes < 2 {
                return Err(Error::InvalidConfig(
                    "keep-alive idle/interval must be positive, probes >= 2",
                ));
            }
        }
        self.cfg.keepalive = keepalive;
        self.keepalive_probes = 0;
        self.arm_keepalive(now);
        Ok(())
    }

    /// The error a call on a CLOSED connection gets: why it closed, if it was
    /// open before, otherwise "does not exist".
    fn closed_error(&self) -> Error {
        match self.ended {
            Some(Ended::Reset(ResetReason::Refused)) => Error::ConnectionRefused,
            Some(Ended::Reset(_)) => Error::ConnectionReset,
            Some(Ended::TimedOut(_)) => Error::TimedOut,
            Some(Ended::Graceful) | None => Error::ConnectionDoesNotExist,
        }
    }

    fn queue_fin(&mut self) {
        if self.fin_seq.is_none() {
            self.fin_seq = Some(self.buf_seq + self.send_buf.len() as u32);
        }
    }

    /// ISS for a new incarnation (§3.4.1).
    pub(super) fn select_iss(&self, now: Instant, remote: SocketAddr) -> SeqNum {
        match self.cfg.isn {
            IsnSource::Fixed(iss) => iss,
            IsnSource::Rfc6528 { secret } => IsnGenerator::new(secret).isn(now, self.local, remote),
        }
    }

    fn start_active_open(&mut self, now: Instant, remote: SocketAddr) {
        self.remote = Some(remote);
        self.origin = Origin::Active;
        self.snd_mss = super::default_send_mss(&remote);
        let iss = self.select_iss(now, remote);
        self.init_send_side(now, iss);
        self.queue_syn();
        self.rcv_wscale = if self.cfg.window_scale {
            self.cfg.rcv_wscale()
        } else {
            0
        };
        self.state = State::SynSent;
        self.syn_pending = true;
    }

    /// Set the send sequence variables for a fresh ISS.
    pub(super) fn init_send_side(&mut self, now: Instant, iss: SeqNum) {
        self.iss = iss;
        self.snd_una = iss;
        self.snd_nxt = iss;
        self.send_ptr = iss;
        self.buf_seq = iss + 1;
        self.syn_acked = false;
        self.syn_lost = false;
        self.syn_transmitted = false;
        self.rtx_count = 0;
        self.rtx_epoch = now;
        self.r1_reported = false;
        self.cc = crate::congestion::Congestion::new(self.snd_mss, iss);
    }

    /// A SYN is formed: SND.UNA = ISS, SND.NXT = ISS+1 (§3.10.1, §3.10.7.2);
    /// `poll_transmit` puts it on the wire.
    pub(super) fn queue_syn(&mut self) {
        self.snd_nxt = self.iss + 1;
        self.send_ptr = self.iss + 1;
        self.syn_pending = true;
    }

    /// Forget the previous incarnation (before a new OPEN, or back to LISTEN).
    pub(super) fn reset_tcb(&mut self, now: Instant) {
        let keep_rsts = self.pending_rsts;
        let stats = core::mem::take(&mut self.stats);
        let cfg = self.cfg.clone();
        let local = self.local;
        let mut send_buf =
            core::mem::replace(&mut self.send_buf, crate::buffer::SendBuffer::new(0));
        let mut recv_buf =
            core::mem::replace(&mut self.recv_buf, crate::buffer::RecvBuffer::new(0));
        send_buf.clear();
        recv_buf.clear();
        // Rebuild from scratch without reallocating the buffers.
        let mut fresh = Connection::new(
            &Config {
                send_buffer: 0,
                recv_buffer: 0,
                ..cfg.clone()
            },
            local,
            None,
            now,
        );
        fresh.cfg = cfg;
        fresh.send_buf = send_buf;
        fresh.recv_buf = recv_buf;
        fresh.pending_rsts = keep_rsts;
        fresh.stats = stats;
        *self = fresh;
    }
}

fn check_families(local: SocketAddr, remote: SocketAddr) -> Result<(), Error> {
    if local.is_ipv4() != remote.is_ipv4() {
        return Err(Error::AddressFamilyMismatch);
    }
    Ok(())
}
