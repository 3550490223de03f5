//! The reference side: the model's own state and transition function
//! (`TcpModel::next_state`), and the transitions the test draws from it.

use std::fmt;

use serde::Serialize;
use stateright::Model;
use synack_model::model::{describe_action, Action, TcpState};
use synack_model::network::Flight;
use synack_model::segment::Segment;
use synack_model::{Config, TcpModel};

/// A transition of the whole system. Network transitions name the segment
/// they act on (sender, abstract segment, age) rather than a position, so a
/// transition keeps its meaning when shrinking removes earlier ones.
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Step {
    Deliver(Wire),
    Drop(Wire),
    Duplicate(Wire),
    /// The network holds the segment past the end of the tick.
    Delay(Wire),
    Tick,
    Open {
        side: u8,
        active: bool,
    },
    Send(u8),
    Close(u8),
    Abort(u8),
    Crash(u8),
    /// Nothing is enabled (every budget spent, nothing in flight): a no-op
    /// that lets a case end early.
    Idle,
}

/// A segment in flight as the transitions name it: the model's `Flight`
/// without its ghost tags.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Wire {
    /// 0: sent by the client; 1: by the server.
    pub from: u8,
    pub seg: Segment,
    pub age: u8,
    pub delayed: bool,
}

impl Wire {
    pub fn of(f: &Flight) -> Wire {
        Wire {
            from: f.from,
            seg: f.seg,
            age: f.age,
            delayed: f.delayed,
        }
    }

    /// A flight with these fields and no ghost tags (for the model's
    /// network functions).
    pub fn flight(&self) -> Flight {
        Flight {
            from: self.from,
            seg: self.seg,
            age: self.age,
            inc: 0,
            off: 0,
            mark: 0,
            delayed: self.delayed,
        }
    }

    fn matches(&self, f: &Flight) -> bool {
        Wire::of(f) == *self
    }
}

pub fn side_name(side: u8) -> &'static str {
    if side == 0 {
        "client"
    } else {
        "server"
    }
}

impl fmt::Display for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let arrow = if self.from == 0 {
            "client->server"
        } else {
            "server->client"
        };
        write!(f, "{arrow} [{}] (age {}", self.seg.label(), self.age)?;
        if self.delayed {
            f.write_str(", delayed")?;
        }
        f.write_str(")")
    }
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Step::Deliver(w) => write!(f, "deliver {w}"),
            Step::Drop(w) => write!(f, "lose {w}"),
            Step::Duplicate(w) => write!(f, "duplicate {w}"),
            Step::Delay(w) => write!(f, "delay {w}"),
            Step::Tick => f.write_str("tick"),
            Step::Open { side, active } => write!(
                f,
                "{} OPEN ({})",
                side_name(side),
                if active { "active" } else { "passive" }
            ),
            Step::Send(s) => write!(f, "{} SEND", side_name(s)),
            Step::Close(s) => write!(f, "{} CLOSE", side_name(s)),
            Step::Abort(s) => write!(f, "{} ABORT", side_name(s)),
            Step::Crash(s) => write!(f, "{} host crash", side_name(s)),
            Step::Idle => f.write_str("(nothing enabled)"),
        }
    }
}

impl fmt::Debug for Wire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

// proptest prints the minimal failing input with `Debug`: keep it one short line each.
impl fmt::Debug for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// The model's state plus what the comparison needs to know about the case.
#[derive(Clone)]
pub struct RefState {
    pub config: Config,
    /// Added to every model sequence number to get the engine's.
    pub base: u32,
    pub s: TcpState,
    /// Per side, duplicate ACKs delivered since SND.UNA last moved (in the
    /// sense of RFC 5681 §2: pure ACK at SND.UNA with something outstanding).
    /// Not the model's: bookkeeping for the known difference on fast
    /// retransmit (see `known`).
    pub dupacks: [u8; 2],
}

impl fmt::Debug for RefState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} model, base {:#x}, now {}, client {}, server {}, {} in flight",
            self.config.variant,
            self.base,
            self.s.now,
            self.s.ep[0].describe(),
            self.s.ep[1].describe(),
            self.s.net.len()
        )
    }
}

impl RefState {
    pub fn new(config: Config, base: u32) -> Result<RefState, synack_model::ConfigError> {
        let model = TcpModel::new(config)?;
        let s = model.init_states()[0];
        Ok(RefState {
            config,
            base,
            s,
            dupacks: [0; 2],
        })
    }

    pub fn model(&self) -> TcpModel {
        // Validated in `new`.
        TcpModel::new(self.config).expect("configuration validated at construction")
    }

    /// The model action a step stands for in this state, if it is enabled.
    pub fn action(&self, model: &TcpModel, step: &Step) -> Option<Action> {
        let mut enabled = Vec::new();
        model.enabled(&self.s, &mut enabled);
        let find = |w: &Wire| {
            self.s
                .net
                .as_slice()
                .iter()
                .position(|f| w.matches(f))
                .map(|i| i as u8)
        };
        let a = match *step {
            Step::Deliver(w) => Action::Deliver(find(&w)?),
            Step::Drop(w) => Action::Drop(find(&w)?),
            Step::Duplicate(w) => Action::Duplicate(find(&w)?),
            Step::Delay(w) => Action::Delay(find(&w)?),
            Step::Tick => Action::Tick,
            Step::Open { side, active } => Action::Open { side, active },
            Step::Send(s) => Action::Send(s),
            Step::Close(s) => Action::Close(s),
            Step::Abort(s) => Action::Abort(s),
            Step::Crash(s) => Action::Crash(s),
            Step::Idle => return None,
        };
        // `enabled` lists only the first of equal copies; `find` returns it.
        enabled.contains(&a).then_some(a)
    }

    /// The steps enabled here (one per model action).
    pub fn steps(&self, model: &TcpModel) -> Vec<Step> {
        let mut enabled = Vec::new();
        model.enabled(&self.s, &mut enabled);
        let wire = |i: u8| Wire::of(&self.s.net.as_slice()[usize::from(i)]);
        enabled
            .into_iter()
            .map(|a| match a {
                Action::Deliver(i) => Step::Deliver(wire(i)),
                Action::Drop(i) => Step::Drop(wire(i)),
                Action::Duplicate(i) => Step::Duplicate(wire(i)),
                Action::Delay(i) => Step::Delay(wire(i)),
                Action::Tick => Step::Tick,
                Action::Open { side, active } => Step::Open { side, active },
                Action::Send(s) => Step::Send(s),
                Action::Close(s) => Step::Close(s),
                Action::Abort(s) => Step::Abort(s),
                Action::Crash(s) => Step::Crash(s),
            })
            .collect()
    }

    /// Whether `step` may be taken here.
    pub fn allows(&self, model: &TcpModel, step: &Step) -> bool {
        match step {
            Step::Idle => model.is_terminal(&self.s),
            _ => self.action(model, step).is_some(),
        }
    }

    /// The model's transition (`TcpModel::next_state`); `None` if the step
    /// is not enabled.
    pub fn next(&self, model: &TcpModel, step: &Step) -> Option<RefState> {
        let s = match step {
            Step::Idle => self.s,
            _ => model.next_state(&self.s, self.action(model, step)?)?,
        };
        let mut dupacks = self.dupacks;
        for (side, n) in dupacks.iter_mut().enumerate() {
            let (b, a) = (self.s.ep[side].tcb, s.ep[side].tcb);
            // The engine's count (RFC 5681 §2) survives a change of state (a FIN
            // arriving in the middle of a run of duplicates) and restarts on
            // new data acknowledged, a retransmission timeout, or a new
            // connection.
            if a.snd_una != b.snd_una || a.retries > b.retries || !a.state.has_connection() {
                *n = 0;
            }
        }
        if let Step::Deliver(w) = step {
            let to = 1 - usize::from(w.from);
            if self.is_duplicate_ack(to, &w.seg) {
                dupacks[to] = dupacks[to].saturating_add(1);
            }
        }
        Some(RefState {
            s,
            dupacks,
            ..self.clone()
        })
    }

    /// Whether `seg` would be a duplicate ACK for `side` (RFC 5681 §2, as the
    /// engine counts them: FIN counts as outstanding).
    pub fn is_duplicate_ack(&self, side: usize, seg: &Segment) -> bool {
        let t = self.s.ep[side].tcb;
        t.state.is_synchronized()
            && seg.ack
            && !seg.syn
            && !seg.fin
            && !seg.rst
            && seg.data == 0
            && seg.ack_no == t.snd_una
            && t.snd_una < t.snd_nxt
    }
}

/// The model's own wording of an action, for traces.
pub fn model_words(a: &Action) -> String {
    describe_action(a)
}
