//! The stateright model: two endpoints running [`crate::endpoint::step`], an
//! unreliable network, explicit time, incarnations, crashes, and the properties.
//!
//! # Why the graph is finite and acyclic
//!
//! Every action makes progress in a well-founded order:
//! `Tick` increases `now`, which stops at the horizon; every other action keeps
//! `now` and either spends a budget (drops, duplicates, crashes, aborts, opens,
//! the application's data bytes, CLOSE once per connection) or consumes a
//! segment from the network. A delivered segment can make its receiver emit
//! new ones, but only while the receiver moves forward (a new connection, new
//! data or FIN acknowledged, a state change) or once per tick: the ACK that
//! answers an unacceptable segment is throttled to one per endpoint per tick
//! (RFC 5961 §7), so two endpoints cannot bounce ACKs forever within a tick;
//! a RST is never answered. `tests/acyclic.rs` checks the claim by DFS.
//!
//! # Modelling choices that keep the state space checkable
//!
//! - Reordering is free within a tick: any segment in flight may be delivered
//!   next. Time passes only when every segment sent during the tick has been
//!   delivered, lost or *delayed*; delaying a segment past the tick is a
//!   budgeted fault (`Config::delays`), after which it ages and is gone when
//!   its age reaches MSL.
//! - Users are prompt (an open connection gets its SEND and CLOSE/ABORT calls
//!   before time passes) and space their calls (a call waits until the
//!   segments of the previous one have left the network).
//! - ISS = `rate × now` with `rate` above what one connection consumes, so
//!   connections opened in different ticks never overlap in sequence space;
//!   but a whole connection fits in one tick, so a reconnect in the same tick
//!   reuses the ISS. A host therefore starts its next connection on the
//!   4-tuple only at the next tick, except right after TIME-WAIT: that is
//!   what the TIME-WAIT variants change, and where their counterexamples are.
//! - The client may listen once (before its first connection) and the
//!   server may open actively once (to meet the client's first SYN), so that
//!   every state is reachable on both sides, including simultaneous open.
//!
//! # Ghost state
//!
//! Incarnation tags, byte offsets, segment marks and the flags in
//! [`Ghost`] are read only by properties and diagrams, never by the protocol.

use crate::check::{Expectations, Verdict};
use crate::diagram::{Diagram, Event, Lane};
use crate::endpoint::{step, CloseReason, Input, Outputs, Params};
use crate::network::{mark, Flight, Net};
use crate::tcb::{State, Tcb};
use crate::variant::{Config, ConfigError, Variant};
use stateright::{Model, Property};

pub const CLIENT: usize = 0;
pub const SERVER: usize = 1;

/// Whether a host is running.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Host {
    Up,
    /// Crashed; it restarts when the count reaches zero (RFC 9293 §3.4.2).
    Down(u8),
    /// Restarted but keeping quiet (no segment out, none in) for MSL (§3.4.3).
    Quiet(u8),
}

/// How a connection ended, for the ghost record.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum End {
    None,
    Closed(CloseReason),
    Crash,
}

/// One endpoint: its TCB, its host, and ghost bookkeeping.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    pub tcb: Tcb,
    pub host: Host,
    /// Ghost: incarnation of the current connection (0: none).
    pub inc: u8,
    /// Ghost: the highest incarnation this endpoint reached ESTABLISHED in.
    pub est: u8,
    /// Ghost: bytes this endpoint's application has SENT in the connection.
    pub tx: u8,
    /// Ghost: bytes delivered to this endpoint's application in the connection.
    pub rx: u8,
    /// Ghost: the incarnation whose end `end` records.
    pub end_inc: u8,
    pub end: End,
    /// Ghost: `end` came after this endpoint had sent its FIN (it was closing).
    pub end_closing: bool,
    /// The connection ended during this tick other than through TIME-WAIT: the
    /// user opens (client) or listens (server) again only at the next tick.
    pub backoff: bool,
}

impl Endpoint {
    fn new(tcb: Tcb) -> Endpoint {
        Endpoint {
            tcb,
            host: Host::Up,
            inc: 0,
            est: 0,
            tx: 0,
            rx: 0,
            end_inc: 0,
            end: End::None,
            end_closing: false,
            backoff: false,
        }
    }

    /// The state name, with the host's condition when it is not up.
    pub fn describe(&self) -> String {
        match self.host {
            Host::Up => self.tcb.state.name().to_string(),
            Host::Down(_) => format!("{} (down)", self.tcb.state.name()),
            Host::Quiet(_) => format!("{} (quiet)", self.tcb.state.name()),
        }
    }
}

/// Ghost flags: facts about the path so far.
pub mod flag {
    pub const OLD_ACCEPTED: u32 = 1 << 0;
    pub const UNREQUESTED: u32 = 1 << 1;
    pub const BAD_DELIVERY: u32 = 1 << 2;
    pub const OVERFLOW: u32 = 1 << 3;
    pub const SIM_OPEN: u32 = 1 << 4;
    pub const SIM_CLOSE: u32 = 1 << 5;
    pub const FINAL_ACK_RECOVERED: u32 = 1 << 7;
    pub const FINAL_ACK_GAVE_UP: u32 = 1 << 8;
    pub const HALF_OPEN_RESET: u32 = 1 << 9;
    pub const ESTABLISHED_BY_DATA: u32 = 1 << 11;
    pub const GRACEFUL_BROKEN: u32 = 1 << 12;
    pub const ABORTED: u32 = 1 << 13;
    pub const CRASHED: u32 = 1 << 14;
}

/// Ghost record of the path.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Ghost {
    pub flags: u32,
    /// The incarnation whose final ACK was lost (0: none).
    pub final_ack_lost: u8,
    /// The incarnation whose handshake-completing ACK was lost (0: none).
    pub handshake_ack_lost: u8,
    /// Segments lost so far (dropped, or expired in the network), counted up to 2:
    /// only "at most one" matters.
    pub losses: u8,
}

/// Remaining budgets of the environment's nondeterminism.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Budget {
    pub drops: u8,
    pub dups: u8,
    pub delays: u8,
    pub crashes: u8,
    pub aborts: u8,
    /// Active OPENs the server's user may still make (to meet a client's).
    pub server_opens: u8,
    /// Passive OPENs the client's user may still make.
    pub client_listens: u8,
}

/// A state of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TcpState {
    pub now: u8,
    pub ep: [Endpoint; 2],
    pub net: Net,
    pub budget: Budget,
    /// Ghost: incarnations started so far (the latest one's number).
    pub incs: u8,
    pub ghost: Ghost,
}

impl TcpState {
    pub fn flag(&self, f: u32) -> bool {
        self.ghost.flags & f != 0
    }
}

/// An action of the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// The network delivers the segment at this index.
    Deliver(u8),
    /// The network loses it.
    Drop(u8),
    /// The network duplicates it.
    Duplicate(u8),
    /// The network holds it past the end of the tick.
    Delay(u8),
    /// One tick of time.
    Tick,
    /// A user call: `side` is 0 (client) or 1 (server).
    Open {
        side: u8,
        active: bool,
    },
    Send(u8),
    Close(u8),
    Abort(u8),
    /// A host crashes, losing its TCB.
    Crash(u8),
}

/// TCP's connection lifecycle as a stateright model.
#[derive(Clone, Debug)]
pub struct TcpModel {
    pub config: Config,
    params: [Params; 2],
    horizon: u8,
}

fn lane(side: usize) -> Lane {
    if side == CLIENT {
        Lane::Left
    } else {
        Lane::Right
    }
}

fn side_name(side: usize) -> &'static str {
    if side == CLIENT {
        "client"
    } else {
        "server"
    }
}

fn reason_text(r: CloseReason) -> &'static str {
    match r {
        CloseReason::Normal => "connection closed",
        CloseReason::Reset => "connection reset",
        CloseReason::Refused => "connection refused",
        CloseReason::Timeout => "gave up after R2 retransmissions",
        CloseReason::FinWait2Timeout => "FIN-WAIT-2 timeout",
        CloseReason::Aborted => "connection aborted",
        CloseReason::TimeWaitReset => "TIME-WAIT ended by a RST",
    }
}

impl TcpModel {
    /// Builds the model for a TCP variant (not `generals`).
    pub fn new(config: Config) -> Result<TcpModel, ConfigError> {
        config.validate()?;
        if config.variant == Variant::Generals {
            return Err(ConfigError::WrongModel(config.variant));
        }
        Ok(TcpModel {
            config,
            params: [config.params(CLIENT), config.params(SERVER)],
            horizon: config.effective_horizon(),
        })
    }

    pub fn params(&self, side: usize) -> &Params {
        &self.params[side]
    }

    fn initial(&self) -> TcpState {
        let c = &self.config;
        TcpState {
            now: 0,
            ep: [Endpoint::new(Tcb::closed()), Endpoint::new(Tcb::listen())],
            net: Net::new(),
            budget: Budget {
                drops: c.drops,
                dups: c.duplicates,
                delays: c.delays,
                crashes: c.crashes,
                aborts: c.aborts,
                server_opens: 1,
                client_listens: 1,
            },
            incs: 0,
            ghost: Ghost {
                flags: 0,
                final_ack_lost: 0,
                handshake_ack_lost: 0,
                losses: 0,
            },
        }
    }

    /// Whether anything is pending that needs time to pass.
    fn time_matters(s: &TcpState) -> bool {
        !s.net.is_empty()
            || s.ep
                .iter()
                .any(|e| e.tcb.timer_running() || e.host != Host::Up || e.backoff)
    }

    /// Time passes only once the network has delivered, lost or chosen to
    /// delay every segment sent during the tick, and only while something
    /// waits for time (a timer, a restarting host, a delayed segment).
    ///
    /// Users are prompt: an application with an open connection (ESTABLISHED
    /// or CLOSE-WAIT) makes its calls (SEND, then CLOSE or ABORT) before time
    /// passes. What happens after CLOSE still takes time (retransmissions,
    /// FIN-WAIT-2, TIME-WAIT). This removes runs that differ only in how long
    /// an application sat idle, which would multiply the state space by the
    /// horizon without reaching anything new.
    fn tick_enabled(&self, s: &TcpState) -> bool {
        s.now < self.horizon
            && s.net.all_delayed()
            && Self::time_matters(s)
            && !s.ep.iter().any(|e| {
                e.host == Host::Up
                    && matches!(e.tcb.state, State::Established | State::CloseWait)
                    && !e.tcb.close_queued
            })
    }

    /// Runs one endpoint step and folds its effects into the state: segments
    /// into the network (with ghost tags), ghost bookkeeping, and the
    /// server's user listening again once its connection is gone.
    fn run_step(
        &self,
        s: &mut TcpState,
        side: usize,
        input: Input,
        arrived: Option<&Flight>,
        ev: &mut Option<&mut Vec<Event>>,
    ) -> Outputs {
        let before = s.ep[side].tcb;
        let (after, out) = step(&before, input, &self.params[side], s.now);
        let peer = 1 - side;

        // Ghost: an incarnation for a new connection.
        if !before.state.has_connection() && after.state.has_connection() {
            match input {
                Input::Segment(_) => {
                    // A passive open belongs to the incarnation of the SYN.
                    s.ep[side].inc = arrived.map(|f| f.inc).unwrap_or(0);
                }
                _ => {
                    // An active open meets the peer's attempt, or starts a new one.
                    if s.ep[peer].tcb.state == State::SynSent && s.ep[peer].inc != 0 {
                        s.ep[side].inc = s.ep[peer].inc;
                    } else {
                        s.incs += 1;
                        s.ep[side].inc = s.incs;
                    }
                }
            }
            s.ep[side].tx = 0;
            s.ep[side].rx = 0;
            if input == Input::Send {
                s.ep[side].tx = 1;
            }
        } else if input == Input::Send && out.error.is_none() {
            s.ep[side].tx += 1;
        }
        let inc = s.ep[side].inc;

        // Ghost: a segment of an earlier incarnation accepted.
        if let Some(f) = arrived {
            let changed = {
                let mut a = after;
                let mut b = before;
                a.ack_throttled = false;
                b.ack_throttled = false;
                a != b
            };
            let matters = before.state.is_synchronized()
                || after.state.is_synchronized()
                || out.delivered > 0;
            if before.state.has_connection() && f.inc != 0 && f.inc < inc && changed && matters {
                s.ghost.flags |= flag::OLD_ACCEPTED;
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Note {
                        lane: lane(side),
                        text: format!("accepted a segment of incarnation {}", f.inc),
                    });
                }
            }
            // Ghost: delivered bytes must be the peer's, in order, of this incarnation.
            if out.delivered > 0 {
                let ok = f.inc == inc && f.off == s.ep[side].rx;
                if !ok {
                    s.ep[side].rx = s.ep[side].rx.saturating_add(out.delivered);
                    s.ghost.flags |= flag::BAD_DELIVERY;
                } else {
                    s.ep[side].rx += out.delivered;
                }
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Note {
                        lane: lane(side),
                        text: format!("delivers byte {} of incarnation {}", f.off, f.inc),
                    });
                }
            }
            // Sometimes-properties about how handshakes complete.
            if before.state == State::SynSent && after.state == State::SynReceived {
                s.ghost.flags |= flag::SIM_OPEN;
            }
            if before.state == State::SynReceived
                && after.state.is_synchronized()
                && f.seg.data > 0
                && s.ghost.handshake_ack_lost == inc
                && inc != 0
            {
                s.ghost.flags |= flag::ESTABLISHED_BY_DATA;
            }
            if f.seg.rst
                && f.mark & mark::UNSYNC_RST != 0
                && before.state.is_synchronized()
                && out.closed == Some(CloseReason::Reset)
            {
                s.ghost.flags |= flag::HALF_OPEN_RESET;
            }
        }
        if before.state == State::Closing
            && (after.state == State::TimeWait || out.closed == Some(CloseReason::Normal))
        {
            s.ghost.flags |= flag::SIM_CLOSE;
        }

        // Ghost: entering ESTABLISHED for an incarnation that is not the latest,
        // or a second time: a connection nobody asked for.
        if after.state == State::Established && before.state != State::Established {
            if inc != s.incs || inc <= s.ep[side].est {
                s.ghost.flags |= flag::UNREQUESTED;
            }
            s.ep[side].est = s.ep[side].est.max(inc);
        }

        // Segments out, with ghost tags.
        let quiet = s.ep[side].host != Host::Up;
        for seg in out.segs.iter() {
            let mut m = 0;
            if seg.rst && !before.state.is_synchronized() {
                m |= mark::UNSYNC_RST;
            }
            // The ACK of the peer's FIN that completes our close: into
            // TIME-WAIT, or straight to CLOSED where TIME-WAIT is configured away.
            if seg.ack
                && !seg.syn
                && !seg.fin
                && !seg.rst
                && seg.data == 0
                && out.fin_received
                && matches!(
                    before.state,
                    State::FinWait1 | State::FinWait2 | State::Closing
                )
                && matches!(after.state, State::TimeWait | State::Closed)
            {
                m |= mark::FINAL_ACK;
            }
            if before.state == State::TimeWait
                && after.state == State::TimeWait
                && arrived.is_some_and(|f| f.seg.fin)
                && seg.ack
                && seg.data == 0
            {
                m |= mark::TIME_WAIT_ACK;
            }
            if before.state == State::SynSent
                && after.state.is_synchronized()
                && seg.ack
                && seg.data == 0
                && !seg.syn
                && !seg.fin
            {
                m |= mark::HANDSHAKE_ACK;
            }
            // A reply from a connection-less endpoint belongs to the
            // incarnation of the segment it answers.
            let tag = if before.state.has_connection() || after.state.has_connection() {
                inc
            } else {
                arrived.map(|f| f.inc).unwrap_or(0)
            };
            let off = if seg.data > 0 {
                (seg.seq - before.iss.max(after.iss) - 1) as u8
            } else {
                0
            };
            if quiet {
                continue;
            }
            if let Some(ev) = ev.as_deref_mut() {
                ev.push(Event::Send {
                    from: lane(side),
                    label: seg.label(),
                });
            }
            let ok = s.net.insert(Flight {
                from: side as u8,
                seg: *seg,
                age: 0,
                inc: tag,
                off,
                mark: m,
                delayed: false,
            });
            if !ok {
                s.ghost.flags |= flag::OVERFLOW;
            }
        }
        if out.segs.overflowed() {
            s.ghost.flags |= flag::OVERFLOW;
        }

        // Ghost: how the connection ended.
        if let Some(reason) = out.closed {
            // The lost final ACK made good by TIME-WAIT answering the FIN again.
            let by_tw = arrived.is_some_and(|f| f.mark & mark::TIME_WAIT_ACK != 0);
            self.record_end(s, side, End::Closed(reason), before.state, by_tw, ev);
        }
        // A connection can run within one tick of the model's ISN clock (a
        // real one never does), so a host that just lost a connection starts
        // the next one on this 4-tuple at the next tick, with a new ISS. The
        // exception is the path the variants change: a connection that ended
        // through TIME-WAIT (however short) may be followed at once.
        if out.closed.is_some() && !after.state.has_connection() {
            let via_time_wait = matches!(
                before.state,
                State::FinWait1 | State::FinWait2 | State::Closing | State::TimeWait
            ) && matches!(
                out.closed,
                Some(CloseReason::Normal | CloseReason::TimeWaitReset)
            );
            if !via_time_wait {
                s.ep[side].backoff = true;
            }
        }
        s.ep[side].tcb = after;
        if !after.state.has_connection() {
            s.ep[side].inc = 0;
            s.ep[side].tx = 0;
            s.ep[side].rx = 0;
        }
        // The server's user listens again as soon as its connection is gone
        // (after a failure, at the next tick).
        if side == SERVER
            && after.state == State::Closed
            && s.ep[side].host == Host::Up
            && !s.ep[side].backoff
        {
            s.ep[side].tcb = Tcb::listen();
        }
        if let Some(ev) = ev.as_deref_mut() {
            if s.ep[side].tcb.state != before.state {
                ev.push(Event::State {
                    lane: lane(side),
                    state: s.ep[side].describe(),
                });
            }
        }
        out
    }

    fn record_end(
        &self,
        s: &mut TcpState,
        side: usize,
        end: End,
        from_state: State,
        recovered_by_time_wait: bool,
        ev: &mut Option<&mut Vec<Event>>,
    ) {
        let inc = s.ep[side].inc;
        if let Some(ev) = ev.as_deref_mut() {
            let text = match end {
                End::Closed(r) => reason_text(r).to_string(),
                End::Crash => "crash: TCB lost".to_string(),
                End::None => String::new(),
            };
            if !text.is_empty() {
                ev.push(Event::Note {
                    lane: lane(side),
                    text,
                });
            }
        }
        if inc == 0 || s.ep[side].end_inc == inc {
            // No connection, or its end is already on record (TIME-WAIT after ABORT).
            return;
        }
        s.ep[side].end_inc = inc;
        s.ep[side].end = end;
        s.ep[side].end_closing = matches!(
            from_state,
            State::FinWait1 | State::FinWait2 | State::Closing | State::LastAck | State::TimeWait
        );
        let peer = 1 - side;
        // Final ACK lost: did the LAST-ACK side recover or give up?
        if from_state == State::LastAck && s.ghost.final_ack_lost == inc {
            match end {
                End::Closed(CloseReason::Normal) if recovered_by_time_wait => {
                    s.ghost.flags |= flag::FINAL_ACK_RECOVERED
                }
                End::Closed(CloseReason::Reset | CloseReason::Timeout)
                    if s.ep[peer].end_inc == inc
                        && matches!(
                            s.ep[peer].end,
                            End::Closed(CloseReason::Normal | CloseReason::TimeWaitReset)
                        ) =>
                {
                    s.ghost.flags |= flag::FINAL_ACK_GAVE_UP
                }
                _ => {}
            }
        }
        // One side closed gracefully, the other had sent its FIN too but was
        // reset or gave up, with at most one segment lost and no crash or
        // abort: the lost final ACK was not recovered.
        if s.ep[peer].end_inc == inc
            && s.ep[side].end_closing
            && s.ep[peer].end_closing
            && s.ghost.losses <= 1
            && !s.flag(flag::ABORTED | flag::CRASHED)
        {
            let graceful = |e: End| {
                matches!(
                    e,
                    End::Closed(CloseReason::Normal | CloseReason::TimeWaitReset)
                )
            };
            let broken =
                |e: End| matches!(e, End::Closed(CloseReason::Reset | CloseReason::Timeout));
            let (a, b) = (end, s.ep[peer].end);
            if (graceful(a) && broken(b)) || (broken(a) && graceful(b)) {
                s.ghost.flags |= flag::GRACEFUL_BROKEN;
            }
        }
    }

    /// Applies `action`; with `ev`, also describes what happened.
    fn apply(
        &self,
        prev: &TcpState,
        action: Action,
        mut ev: Option<&mut Vec<Event>>,
    ) -> Option<TcpState> {
        let mut s = *prev;
        match action {
            Action::Deliver(i) => {
                let f = s.net.remove(usize::from(i))?;
                let to = 1 - usize::from(f.from);
                let label = f.seg.label();
                if s.ep[to].host != Host::Up {
                    if let Some(ev) = ev.as_deref_mut() {
                        ev.push(Event::Deliver {
                            from: lane(usize::from(f.from)),
                            label,
                            note: Some("host down or quiet: discarded".into()),
                        });
                    }
                    return Some(s);
                }
                if let Some(ev) = ev.as_deref_mut() {
                    let note = if f.inc != 0 && s.ep[to].inc != 0 && f.inc < s.ep[to].inc {
                        Some(format!("old duplicate from incarnation {}", f.inc))
                    } else {
                        None
                    };
                    ev.push(Event::Deliver {
                        from: lane(usize::from(f.from)),
                        label,
                        note,
                    });
                }
                self.run_step(&mut s, to, Input::Segment(f.seg), Some(&f), &mut ev);
            }
            Action::Drop(i) => {
                let f = s.net.remove(usize::from(i))?;
                s.budget.drops -= 1;
                s.ghost.losses = (s.ghost.losses + 1).min(2);
                if f.mark & mark::FINAL_ACK != 0 {
                    s.ghost.final_ack_lost = f.inc;
                }
                if f.mark & mark::HANDSHAKE_ACK != 0 {
                    s.ghost.handshake_ack_lost = f.inc;
                }
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Lost {
                        from: lane(usize::from(f.from)),
                        label: f.seg.label(),
                    });
                }
            }
            Action::Duplicate(i) => {
                let mut f = *s.net.get(usize::from(i))?;
                f.mark |= mark::DUPLICATE;
                s.budget.dups -= 1;
                if !s.net.insert(f) {
                    s.ghost.flags |= flag::OVERFLOW;
                }
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Duplicated {
                        from: lane(usize::from(f.from)),
                        label: f.seg.label(),
                    });
                }
            }
            Action::Delay(i) => {
                let f = s.net.delay(usize::from(i))?;
                s.budget.delays -= 1;
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Note {
                        lane: lane(usize::from(f.from)),
                        text: format!("network delays {}", f.seg.label()),
                    });
                }
            }
            Action::Tick => {
                s.now += 1;
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Tick {
                        now: u32::from(s.now),
                    });
                }
                for f in s.net.age(self.config.msl) {
                    s.ghost.losses = (s.ghost.losses + 1).min(2);
                    if f.mark & mark::FINAL_ACK != 0 {
                        s.ghost.final_ack_lost = f.inc;
                    }
                    if f.mark & mark::HANDSHAKE_ACK != 0 {
                        s.ghost.handshake_ack_lost = f.inc;
                    }
                    if let Some(ev) = ev.as_deref_mut() {
                        ev.push(Event::Expired {
                            from: lane(usize::from(f.from)),
                            label: f.seg.label(),
                        });
                    }
                }
                for side in [CLIENT, SERVER] {
                    if s.ep[side].backoff {
                        s.ep[side].backoff = false;
                        if side == SERVER
                            && s.ep[side].host == Host::Up
                            && s.ep[side].tcb.state == State::Closed
                        {
                            s.ep[side].tcb = Tcb::listen();
                            if let Some(ev) = ev.as_deref_mut() {
                                ev.push(Event::State {
                                    lane: lane(side),
                                    state: s.ep[side].describe(),
                                });
                            }
                        }
                    }
                    match s.ep[side].host {
                        Host::Up => {
                            let t = s.ep[side].tcb;
                            if t.timer_running() || t.ack_throttled {
                                let fires = t.rtx_timer == 1 || t.timer2 == 1;
                                if fires {
                                    if let Some(ev) = ev.as_deref_mut() {
                                        let what = if t.rtx_timer == 1 {
                                            "retransmission timeout"
                                        } else if t.state == State::TimeWait {
                                            "TIME-WAIT timeout"
                                        } else {
                                            "FIN-WAIT-2 timeout"
                                        };
                                        ev.push(Event::Note {
                                            lane: lane(side),
                                            text: what.into(),
                                        });
                                    }
                                }
                                self.run_step(&mut s, side, Input::Tick, None, &mut ev);
                            }
                        }
                        Host::Down(n) => {
                            s.ep[side].host = if n <= 1 {
                                Host::Quiet(self.config.msl)
                            } else {
                                Host::Down(n - 1)
                            };
                            if let Some(ev) = ev.as_deref_mut() {
                                if n <= 1 {
                                    ev.push(Event::Note {
                                        lane: lane(side),
                                        text: "restart, quiet for MSL".into(),
                                    });
                                }
                            }
                        }
                        Host::Quiet(n) => {
                            if n <= 1 {
                                s.ep[side].host = Host::Up;
                                if side == SERVER {
                                    s.ep[side].tcb = Tcb::listen();
                                }
                                if let Some(ev) = ev.as_deref_mut() {
                                    ev.push(Event::State {
                                        lane: lane(side),
                                        state: s.ep[side].describe(),
                                    });
                                }
                            } else {
                                s.ep[side].host = Host::Quiet(n - 1);
                            }
                        }
                    }
                }
            }
            Action::Open { side, active } => {
                let side = usize::from(side);
                if side == SERVER {
                    s.budget.server_opens -= 1;
                } else if !active {
                    s.budget.client_listens -= 1;
                }
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Note {
                        lane: lane(side),
                        text: if active {
                            "OPEN (active)"
                        } else {
                            "OPEN (passive)"
                        }
                        .into(),
                    });
                }
                self.run_step(&mut s, side, Input::Open { active }, None, &mut ev);
            }
            Action::Send(side) => {
                let side = usize::from(side);
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Note {
                        lane: lane(side),
                        text: format!("SEND byte {}", s.ep[side].tx),
                    });
                }
                self.run_step(&mut s, side, Input::Send, None, &mut ev);
            }
            Action::Close(side) => {
                let side = usize::from(side);
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Note {
                        lane: lane(side),
                        text: "CLOSE".into(),
                    });
                }
                self.run_step(&mut s, side, Input::Close, None, &mut ev);
            }
            Action::Abort(side) => {
                let side = usize::from(side);
                s.budget.aborts -= 1;
                s.ghost.flags |= flag::ABORTED;
                if let Some(ev) = ev.as_deref_mut() {
                    ev.push(Event::Note {
                        lane: lane(side),
                        text: "ABORT".into(),
                    });
                }
                self.run_step(&mut s, side, Input::Abort, None, &mut ev);
            }
            Action::Crash(side) => {
                let side = usize::from(side);
                s.budget.crashes -= 1;
                s.ghost.flags |= flag::CRASHED;
                let st = s.ep[side].tcb.state;
                self.record_end(&mut s, side, End::Crash, st, false, &mut ev);
                s.ep[side].tcb = Tcb::closed();
                s.ep[side].inc = 0;
                s.ep[side].tx = 0;
                s.ep[side].rx = 0;
                s.ep[side].host = Host::Down(1);
                if let Some(ev) = ev {
                    ev.push(Event::State {
                        lane: lane(side),
                        state: s.ep[side].describe(),
                    });
                }
            }
        }
        Some(s)
    }

    /// The actions enabled in `s`, in a fixed order.
    pub fn enabled(&self, s: &TcpState, actions: &mut Vec<Action>) {
        let c = &self.config;
        for i in 0..s.net.len() {
            if !s.net.is_first_copy(i) {
                continue;
            }
            actions.push(Action::Deliver(i as u8));
            if s.budget.drops > 0 {
                actions.push(Action::Drop(i as u8));
            }
            if s.budget.dups > 0 && !s.net.is_full() {
                actions.push(Action::Duplicate(i as u8));
            }
            if s.budget.delays > 0 && !s.net.as_slice()[i].delayed {
                actions.push(Action::Delay(i as u8));
            }
        }
        if self.tick_enabled(s) {
            actions.push(Action::Tick);
        }
        for side in [CLIENT, SERVER] {
            let e = &s.ep[side];
            if e.host != Host::Up {
                continue;
            }
            // A user makes a call only once the segments of its previous call
            // have left the network (delivered, lost or delayed; copies the
            // network made are unknown to it): calls are spaced out, which
            // keeps the interleavings of user calls and deliveries to the
            // ones that lead somewhere different.
            if s.net
                .as_slice()
                .iter()
                .any(|f| usize::from(f.from) == side && !f.delayed)
            {
                continue;
            }
            let st = e.tcb.state;
            let peer = &s.ep[1 - side];
            if side == CLIENT {
                // A new connection, or one that meets the server's attempt.
                let can_start =
                    s.incs < c.incarnations || (peer.tcb.state == State::SynSent && peer.inc != 0);
                if matches!(st, State::Closed | State::Listen) && can_start && !e.backoff {
                    actions.push(Action::Open {
                        side: 0,
                        active: true,
                    });
                }
                // The client listens (to reach LISTEN, RFC 9293 §3.10.1) only
                // before its first connection, to keep the state space small.
                if st == State::Closed && s.budget.client_listens > 0 && s.incs == 0 && !e.backoff {
                    actions.push(Action::Open {
                        side: 0,
                        active: false,
                    });
                }
            } else if st == State::Listen
                && s.budget.server_opens > 0
                && peer.tcb.state == State::SynSent
                && s.incs == 1
            {
                // The server's user opens actively only to meet the client's
                // first attempt: a simultaneous open.
                actions.push(Action::Open {
                    side: 1,
                    active: true,
                });
            }
            let open = matches!(st, State::Established | State::CloseWait);
            if open && !e.tcb.close_queued && e.tx < c.data_bytes {
                actions.push(Action::Send(side as u8));
            }
            if open && !e.tcb.close_queued {
                actions.push(Action::Close(side as u8));
            }
            if s.budget.aborts > 0
                && matches!(
                    st,
                    State::Established | State::FinWait1 | State::FinWait2 | State::CloseWait
                )
            {
                actions.push(Action::Abort(side as u8));
            }
            if s.budget.crashes > 0 && st.has_connection() {
                actions.push(Action::Crash(side as u8));
            }
        }
    }

    /// Whether no action is enabled in `s`.
    pub fn is_terminal(&self, s: &TcpState) -> bool {
        let mut v = Vec::new();
        self.enabled(s, &mut v);
        v.is_empty()
    }
}

// ---------------------------------------------------------------------------
// Properties

/// Names of the 22 state-reachability properties: `client_closed` ... `server_time_wait`.
pub const REACH: [[&str; 11]; 2] = [
    [
        "client_closed",
        "client_listen",
        "client_syn_sent",
        "client_syn_received",
        "client_established",
        "client_fin_wait_1",
        "client_fin_wait_2",
        "client_close_wait",
        "client_closing",
        "client_last_ack",
        "client_time_wait",
    ],
    [
        "server_closed",
        "server_listen",
        "server_syn_sent",
        "server_syn_received",
        "server_established",
        "server_fin_wait_1",
        "server_fin_wait_2",
        "server_close_wait",
        "server_closing",
        "server_last_ack",
        "server_time_wait",
    ],
];

fn in_state(s: &TcpState, side: usize, st: State) -> bool {
    s.ep[side].tcb.state == st
}

macro_rules! reach {
    ($side:expr, $st:expr) => {
        |_: &TcpModel, s: &TcpState| in_state(s, $side, $st)
    };
}

fn isn_agreement(_: &TcpModel, s: &TcpState) -> bool {
    let (c, v) = (&s.ep[CLIENT], &s.ep[SERVER]);
    let both = c.tcb.state == State::Established && v.tcb.state == State::Established;
    !(both && c.inc == v.inc && c.inc != 0) || (c.tcb.irs == v.tcb.iss && v.tcb.irs == c.tcb.iss)
}

fn tcb_ok(t: &Tcb, data_bytes: u8, max_retries: u8) -> bool {
    if !t.state.has_connection() {
        return *t == Tcb::closed() || *t == Tcb::listen();
    }
    let max_nxt = t.iss + 1 + u16::from(data_bytes) + 1;
    let basic = t.iss <= t.snd_una && t.snd_una <= t.snd_nxt && t.snd_nxt <= max_nxt;
    let state_specific = match t.state {
        State::SynSent => t.snd_una == t.iss && t.snd_nxt == t.iss + 1 && t.rtx_timer > 0,
        State::SynReceived => t.rcv_nxt == t.irs + 1,
        State::TimeWait => t.timer2 > 0,
        _ => true,
    };
    let outstanding = t.snd_una == t.snd_nxt || t.rtx_timer > 0 || t.state == State::TimeWait;
    let receive = !t.state.is_synchronized() || t.rcv_nxt > t.irs;
    basic && state_specific && outstanding && receive && t.retries <= max_retries
}

fn tcb_invariants(m: &TcpModel, s: &TcpState) -> bool {
    !s.flag(flag::OVERFLOW)
        && s.ep.iter().all(|e| {
            tcb_ok(&e.tcb, m.config.data_bytes, m.config.max_retries)
                && e.tx <= m.config.data_bytes
                && (e.host == Host::Up || e.tcb == Tcb::closed())
        })
}

fn in_order_exactly_once(m: &TcpModel, s: &TcpState) -> bool {
    !s.flag(flag::BAD_DELIVERY) && s.ep.iter().all(|e| e.rx <= m.config.data_bytes)
}

fn no_old_segment_accepted(_: &TcpModel, s: &TcpState) -> bool {
    !s.flag(flag::OLD_ACCEPTED)
}

fn no_unrequested_connection(_: &TcpModel, s: &TcpState) -> bool {
    !s.flag(flag::UNREQUESTED)
}

fn final_ack_recovery(_: &TcpModel, s: &TcpState) -> bool {
    !s.flag(flag::GRACEFUL_BROKEN)
}

fn within_horizon(m: &TcpModel, s: &TcpState) -> bool {
    s.now < m.horizon || !TcpModel::time_matters(s)
}

/// Both endpoints closed (the server back in LISTEN) and nothing left to do.
///
/// Stateright checks `eventually` only at terminal states and carries a
/// per-path bit that a DAG join can merge wrongly. This condition can hold
/// only where no action is enabled, so it is never discharged early on any
/// path: the bit is still set at every terminal state, each terminal state is
/// judged on its own, and one that is not all-closed is always reported. The
/// graph is acyclic (see the module comment), so every path ends in one.
fn all_closed(m: &TcpModel, s: &TcpState) -> bool {
    let c = s.ep[CLIENT].tcb.state;
    let v = s.ep[SERVER].tcb.state;
    c == State::Closed && matches!(v, State::Listen | State::Closed) && m.is_terminal(s)
}

impl TcpModel {
    /// The property list: the same for every TCP variant, so their tables compare.
    pub fn property_list() -> Vec<Property<TcpModel>> {
        let mut v = vec![
            Property::always("isn_agreement", isn_agreement),
            Property::always("no_old_segment_accepted", no_old_segment_accepted),
            Property::always("in_order_exactly_once", in_order_exactly_once),
            Property::always("tcb_invariants", tcb_invariants),
            Property::always("no_unrequested_connection", no_unrequested_connection),
            Property::always("final_ack_recovery", final_ack_recovery),
            Property::always("within_horizon", within_horizon),
            Property::eventually("all_closed", all_closed),
            Property::sometimes("simultaneous_open", |_, s: &TcpState| {
                s.flag(flag::SIM_OPEN)
            }),
            Property::sometimes("simultaneous_close", |_, s: &TcpState| {
                s.flag(flag::SIM_CLOSE)
            }),
            Property::sometimes("final_ack_lost_recovered", |_, s: &TcpState| {
                s.flag(flag::FINAL_ACK_RECOVERED)
            }),
            Property::sometimes("final_ack_lost_peer_gave_up", |_, s: &TcpState| {
                s.flag(flag::FINAL_ACK_GAVE_UP)
            }),
            Property::sometimes("half_open_reset", |_, s: &TcpState| {
                s.flag(flag::HALF_OPEN_RESET)
            }),
            Property::sometimes("third_ack_lost_data_establishes", |_, s: &TcpState| {
                s.flag(flag::ESTABLISHED_BY_DATA)
            }),
        ];
        type Cond = fn(&TcpModel, &TcpState) -> bool;
        let conds: [[Cond; 11]; 2] = [
            [
                reach!(0, State::Closed),
                reach!(0, State::Listen),
                reach!(0, State::SynSent),
                reach!(0, State::SynReceived),
                reach!(0, State::Established),
                reach!(0, State::FinWait1),
                reach!(0, State::FinWait2),
                reach!(0, State::CloseWait),
                reach!(0, State::Closing),
                reach!(0, State::LastAck),
                reach!(0, State::TimeWait),
            ],
            [
                reach!(1, State::Closed),
                reach!(1, State::Listen),
                reach!(1, State::SynSent),
                reach!(1, State::SynReceived),
                reach!(1, State::Established),
                reach!(1, State::FinWait1),
                reach!(1, State::FinWait2),
                reach!(1, State::CloseWait),
                reach!(1, State::Closing),
                reach!(1, State::LastAck),
                reach!(1, State::TimeWait),
            ],
        ];
        for side in 0..2 {
            for (i, name) in REACH[side].iter().enumerate() {
                v.push(Property::sometimes(name, conds[side][i]));
            }
        }
        v
    }
}

impl Model for TcpModel {
    type State = TcpState;
    type Action = Action;

    fn init_states(&self) -> Vec<TcpState> {
        vec![self.initial()]
    }

    fn actions(&self, state: &TcpState, actions: &mut Vec<Action>) {
        self.enabled(state, actions);
    }

    fn next_state(&self, last: &TcpState, action: Action) -> Option<TcpState> {
        self.apply(last, action, None)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        Self::property_list()
    }

    fn format_action(&self, action: &Action) -> String {
        describe_action(action)
    }

    fn as_svg(&self, path: stateright::Path<TcpState, Action>) -> Option<String> {
        Some(crate::diagram::svg(self, &path))
    }
}

/// A short text for an action, e.g. "client CLOSE" or "deliver #2".
pub fn describe_action(a: &Action) -> String {
    match *a {
        Action::Deliver(i) => format!("deliver #{i}"),
        Action::Drop(i) => format!("lose #{i}"),
        Action::Duplicate(i) => format!("duplicate #{i}"),
        Action::Delay(i) => format!("delay #{i}"),
        Action::Tick => "tick".into(),
        Action::Open { side, active } => format!(
            "{} OPEN ({})",
            side_name(usize::from(side)),
            if active { "active" } else { "passive" }
        ),
        Action::Send(side) => format!("{} SEND", side_name(usize::from(side))),
        Action::Close(side) => format!("{} CLOSE", side_name(usize::from(side))),
        Action::Abort(side) => format!("{} ABORT", side_name(usize::from(side))),
        Action::Crash(side) => format!("{} host crash", side_name(usize::from(side))),
    }
}

impl Diagram for TcpModel {
    fn lanes(&self) -> (&'static str, &'static str) {
        ("client", "server")
    }

    fn initial_events(&self, state: &TcpState) -> Vec<Event> {
        vec![
            Event::State {
                lane: Lane::Left,
                state: state.ep[CLIENT].describe(),
            },
            Event::State {
                lane: Lane::Right,
                state: state.ep[SERVER].describe(),
            },
        ]
    }

    fn describe_step(&self, prev: &TcpState, action: &Action, _next: &TcpState) -> Vec<Event> {
        let mut ev = Vec::new();
        self.apply(prev, *action, Some(&mut ev));
        ev
    }

    fn lane_states(&self, state: &TcpState) -> (String, String) {
        (state.ep[CLIENT].describe(), state.ep[SERVER].describe())
    }
}

impl TcpModel {
    /// Whether `property` is an `always`, `eventually` or `sometimes` property.
    pub fn expectation_of(property: &str) -> Option<stateright::Expectation> {
        Self::property_list()
            .into_iter()
            .find(|p| p.name == property)
            .map(|p| p.expectation)
    }
}

impl Expectations for TcpModel {
    /// The standard model keeps every promise and reaches every scenario; each
    /// variant breaks the promise its design change is about, and cannot
    /// reach the scenarios that need what it removed.
    fn expected(&self, property: &str) -> Verdict {
        use Variant::*;
        let c = &self.config;
        let v = c.variant;
        let two = c.incarnations >= 2;
        let violated = match (v, property) {
            // An old duplicate SYN, still in the network after its connection
            // ended, opens a connection the client never asked for.
            (TwoWayHandshake, "no_unrequested_connection") => c.delays > 0,
            // The lost final ACK cannot be recovered: the retransmitted FIN
            // arrives after TIME-WAIT and is answered by a RST.
            (ShortTimeWait | NoTimeWait, "final_ack_recovery") => c.drops > 0,
            // A reconnect within the same tick of the ISN clock reuses the ISS
            // while segments of the old connection are still in the network.
            (NoTimeWait, "no_old_segment_accepted") => two && c.duplicates + c.delays > 0,
            // A half-open peer's retransmission reaches the new connection:
            // old data is delivered, and an old handshake segment completes a
            // second connection for an incarnation that already had one.
            (
                FixedIsn,
                "no_old_segment_accepted" | "in_order_exactly_once" | "no_unrequested_connection",
            ) => two && c.crashes > 0,
            // RFC 1337: a RST ends TIME-WAIT early, the client reconnects at
            // once and an old duplicate gets into the new connection.
            (TimeWaitAssassination, "no_old_segment_accepted") => two && c.delays > 0,
            // The peer is gone (crashed): FIN-WAIT-2 waits forever.
            (NoFinWait2Timeout, "all_closed") => c.crashes > 0,
            _ => false,
        };
        let not_found = match (v, property) {
            // No TIME-WAIT state at all.
            (NoTimeWait, "client_time_wait" | "server_time_wait" | "final_ack_lost_recovered") => {
                true
            }
            // Scenarios that need a fault the configuration leaves out.
            (_, "final_ack_lost_recovered") => c.drops == 0 && c.delays == 0,
            // TIME-WAIT absorbs one loss; giving up takes two.
            (
                Standard | TwoWayHandshake | FixedIsn | TimeWaitAssassination | NoFinWait2Timeout,
                "final_ack_lost_peer_gave_up",
            ) => c.drops < 2,
            (_, "final_ack_lost_peer_gave_up") => c.drops == 0,
            (_, "third_ack_lost_data_establishes") => c.drops == 0,
            _ => false,
        };
        match Self::expectation_of(property) {
            Some(stateright::Expectation::Sometimes) => {
                if not_found {
                    Verdict::NotFound
                } else {
                    Verdict::Found
                }
            }
            _ => {
                if violated {
                    Verdict::Violated
                } else {
                    Verdict::Holds
                }
            }
        }
    }
}
