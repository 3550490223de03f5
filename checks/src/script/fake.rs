//! A toy engine for testing the runner itself (not TCP): just enough of a
//! passive open, data and close to exercise matching, timing and system calls.

use std::collections::VecDeque;
use std::net::SocketAddr;

use synack_tcp::Instant;

use super::ast::{FlagSet, OptionSpec};
use super::engine::{CallError, ConnectStatus, Engine, SocketOptions};
use super::segment::Seg;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    SynSent,
    SynRcvd,
    Est,
    Closed,
}

pub struct Fake {
    pub isn: u32,
    /// The ISN of the next connection, once the first is gone.
    pub next_isn: Option<u32>,
    listener: Option<SocketAddr>,
    conn: Option<(St, SocketAddr, SocketAddr)>,
    snd_nxt: u32,
    rcv_nxt: u32,
    accepted: bool,
    out: VecDeque<Seg>,
    /// Retransmit the SYN-ACK / SYN at this time if still unanswered.
    rto_at: Option<Instant>,
    data: Vec<u8>,
}

impl Fake {
    pub fn new(isn: u32) -> Self {
        Fake {
            isn,
            next_isn: None,
            listener: None,
            conn: None,
            snd_nxt: isn,
            rcv_nxt: 0,
            accepted: false,
            out: VecDeque::new(),
            rto_at: None,
            data: Vec::new(),
        }
    }

    fn emit(&mut self, flags: u8, seq: u32, payload: usize, options: Vec<OptionSpec>) {
        let (_, local, remote) = self.conn.expect("a connection");
        self.out.push_back(Seg {
            src: local,
            dst: remote,
            flags: FlagSet(flags),
            seq,
            ack: if flags & FlagSet::ACK != 0 {
                self.rcv_nxt
            } else {
                0
            },
            win: 1000,
            urg: 0,
            options,
            unknown_options: vec![],
            payload: vec![0; payload],
        });
    }
}

impl Engine for Fake {
    type Conn = u8;
    type Listener = u8;

    fn on_packet(&mut self, now: Instant, packet: &[u8]) {
        let seg = Seg::from_packet(packet).expect("runner sends valid packets");
        let f = seg.flags;
        match self.conn {
            None if self.listener == Some(seg.dst) && f == FlagSet(FlagSet::SYN) => {
                self.conn = Some((St::SynRcvd, seg.dst, seg.src));
                self.rcv_nxt = seg.seq.wrapping_add(1);
                self.emit(
                    FlagSet::SYN | FlagSet::ACK,
                    self.isn,
                    0,
                    vec![OptionSpec::Mss(1460)],
                );
                self.snd_nxt = self.isn.wrapping_add(1);
                self.rto_at = Some(now + std::time::Duration::from_secs(1));
            }
            Some((St::SynRcvd, l, r)) if f.has(FlagSet::ACK) && seg.ack == self.snd_nxt => {
                self.conn = Some((St::Est, l, r));
                self.rto_at = None;
            }
            Some((St::SynSent, l, r)) if f == FlagSet(FlagSet::SYN | FlagSet::ACK) => {
                self.rcv_nxt = seg.seq.wrapping_add(1);
                self.conn = Some((St::Est, l, r));
                self.rto_at = None;
                self.emit(FlagSet::ACK, self.snd_nxt, 0, vec![]);
            }
            Some((St::Est, ..)) if !seg.payload.is_empty() && seg.seq == self.rcv_nxt => {
                self.rcv_nxt = self.rcv_nxt.wrapping_add(seg.payload.len() as u32);
                self.data.extend_from_slice(&seg.payload);
                self.emit(FlagSet::ACK, self.snd_nxt, 0, vec![]);
            }
            Some((_, l, r)) if f.has(FlagSet::RST) => {
                self.conn = Some((St::Closed, l, r));
            }
            Some((St::Closed, ..))
                if self.listener == Some(seg.dst) && f == FlagSet(FlagSet::SYN) =>
            {
                if let Some(isn) = self.next_isn.take() {
                    self.isn = isn;
                }
                self.conn = None;
                self.accepted = false;
                self.on_packet(now, packet);
            }
            _ => {}
        }
    }

    fn poll_transmit(&mut self, _now: Instant, buf: &mut [u8]) -> Option<usize> {
        let seg = self.out.pop_front()?;
        let bytes = seg.to_packet().expect("valid");
        buf[..bytes.len()].copy_from_slice(&bytes);
        Some(bytes.len())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        self.rto_at
    }

    fn on_timeout(&mut self, now: Instant) {
        if self.rto_at.is_some_and(|t| t <= now) {
            self.rto_at = Some(now + std::time::Duration::from_secs(2));
            match self.conn {
                Some((St::SynRcvd, ..)) => self.emit(
                    FlagSet::SYN | FlagSet::ACK,
                    self.isn,
                    0,
                    vec![OptionSpec::Mss(1460)],
                ),
                Some((St::SynSent, ..)) => self.emit(FlagSet::SYN, self.isn, 0, vec![]),
                _ => self.rto_at = None,
            }
        }
    }

    fn listen(
        &mut self,
        _now: Instant,
        local: SocketAddr,
        _backlog: usize,
        _opts: &SocketOptions,
    ) -> Result<u8, CallError> {
        self.listener = Some(local);
        Ok(0)
    }

    fn accept(&mut self, _now: Instant, _l: u8) -> Result<(u8, SocketAddr), CallError> {
        match self.conn {
            Some((St::Est, _, r)) if !self.accepted => {
                self.accepted = true;
                Ok((1, r))
            }
            _ => Err(CallError::WouldBlock),
        }
    }

    fn close_listener(&mut self, _now: Instant, _l: u8) {
        self.listener = None;
    }

    fn connect(
        &mut self,
        now: Instant,
        local: SocketAddr,
        remote: SocketAddr,
        _opts: &SocketOptions,
    ) -> Result<u8, CallError> {
        self.conn = Some((St::SynSent, local, remote));
        self.emit(FlagSet::SYN, self.isn, 0, vec![]);
        self.snd_nxt = self.isn.wrapping_add(1);
        self.rto_at = Some(now + std::time::Duration::from_secs(1));
        Ok(1)
    }

    fn connect_status(&mut self, _c: u8) -> ConnectStatus {
        match self.conn {
            Some((St::Est, ..)) => ConnectStatus::Connected,
            Some((St::Closed, ..)) => ConnectStatus::Failed(CallError::Refused),
            _ => ConnectStatus::InProgress,
        }
    }

    fn send(&mut self, _now: Instant, _c: u8, data: &[u8]) -> Result<usize, CallError> {
        match self.conn {
            Some((St::Est, ..)) => {
                let seq = self.snd_nxt;
                self.emit(FlagSet::PSH | FlagSet::ACK, seq, data.len(), vec![]);
                self.snd_nxt = seq.wrapping_add(data.len() as u32);
                Ok(data.len())
            }
            Some((St::Closed, ..)) => Err(CallError::Reset),
            _ => Err(CallError::WouldBlock),
        }
    }

    fn recv(&mut self, _now: Instant, _c: u8, buf: &mut [u8]) -> Result<usize, CallError> {
        if self.data.is_empty() {
            return Err(CallError::WouldBlock);
        }
        let n = buf.len().min(self.data.len());
        self.data.drain(..n);
        Ok(n)
    }

    fn shutdown_write(&mut self, _now: Instant, _c: u8) -> Result<(), CallError> {
        let seq = self.snd_nxt;
        self.emit(FlagSet::FIN | FlagSet::ACK, seq, 0, vec![]);
        self.snd_nxt = seq.wrapping_add(1);
        Ok(())
    }

    fn close(&mut self, now: Instant, c: u8, abort: bool) -> Result<(), CallError> {
        if abort {
            let seq = self.snd_nxt;
            self.emit(FlagSet::RST | FlagSet::ACK, seq, 0, vec![]);
            self.conn = None;
            Ok(())
        } else {
            self.shutdown_write(now, c)
        }
    }

    fn set_options(&mut self, _now: Instant, _c: u8, _o: &SocketOptions) -> Result<(), CallError> {
        Ok(())
    }

    fn default_buffers(&self) -> (usize, usize) {
        (4096, 8192)
    }

    fn take_error(&mut self, _c: u8) -> Option<CallError> {
        match self.conn {
            Some((St::Closed, ..)) => Some(CallError::Refused),
            _ => None,
        }
    }
}
