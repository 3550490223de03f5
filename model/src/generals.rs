//! The two generals: no finite exchange over a lossy channel makes both sides
//! certain. General A proposes ("attack at dawn"), then the generals
//! acknowledge each other's last message for K rounds, each message sent once.
//! A general acts if every message meant for it arrived. Whatever K, the
//! sender of the last message cannot know whether it arrived: if it is lost,
//! one general acts alone. TCP faces the same limit with its final ACK and
//! settles for TIME-WAIT.

use crate::check::{Expectations, Verdict};
use crate::diagram::{Diagram, Event, Lane};
use crate::variant::{Config, ConfigError, Variant};
use stateright::{Model, Property};

/// Where the exchange stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Message `next` is about to be sent.
    Ready,
    /// Message `next` is in the channel.
    InFlight,
    /// Message `next` was lost; nobody sends again.
    Lost,
    /// Every message arrived.
    Done,
}

/// A state: how far the exchange got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GeneralsState {
    /// Index of the current message (0: the proposal, 1..=K: acknowledgements).
    pub next: u8,
    pub phase: Phase,
}

/// An action of the generals model.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum GeneralsAction {
    Send,
    Deliver,
    Lose,
}

/// The two generals with `rounds` rounds of acknowledgement.
#[derive(Clone, Debug)]
pub struct GeneralsModel {
    pub rounds: u8,
}

impl GeneralsModel {
    pub fn new(config: Config) -> Result<GeneralsModel, ConfigError> {
        config.validate()?;
        if config.variant != Variant::Generals {
            return Err(ConfigError::WrongModel(config.variant));
        }
        Ok(GeneralsModel {
            rounds: config.rounds,
        })
    }

    /// Messages in all: the proposal and K acknowledgements.
    pub fn messages(&self) -> u8 {
        self.rounds + 1
    }

    /// Message `i` is sent by A when `i` is even, by B when odd.
    fn sender(i: u8) -> Lane {
        if i.is_multiple_of(2) {
            Lane::Left
        } else {
            Lane::Right
        }
    }

    fn label(i: u8) -> String {
        if i == 0 {
            "m0: attack at dawn".to_string()
        } else {
            format!("m{i}: got m{}", i - 1)
        }
    }

    /// Messages delivered so far.
    fn delivered(&self, s: &GeneralsState) -> u8 {
        match s.phase {
            Phase::Done => self.messages(),
            _ => s.next,
        }
    }

    /// Whether the exchange is over.
    pub fn finished(&self, s: &GeneralsState) -> bool {
        matches!(s.phase, Phase::Lost | Phase::Done)
    }

    /// Whether `lane`'s general acts: every message addressed to it arrived.
    pub fn acts(&self, s: &GeneralsState, lane: Lane) -> bool {
        let delivered = self.delivered(s);
        (0..self.messages())
            .filter(|&i| Self::sender(i) != lane)
            .all(|i| i < delivered)
    }
}

fn both_act_or_neither(m: &GeneralsModel, s: &GeneralsState) -> bool {
    !m.finished(s) || m.acts(s, Lane::Left) == m.acts(s, Lane::Right)
}

impl Model for GeneralsModel {
    type State = GeneralsState;
    type Action = GeneralsAction;

    fn init_states(&self) -> Vec<GeneralsState> {
        vec![GeneralsState {
            next: 0,
            phase: Phase::Ready,
        }]
    }

    fn actions(&self, s: &GeneralsState, actions: &mut Vec<GeneralsAction>) {
        match s.phase {
            Phase::Ready => actions.push(GeneralsAction::Send),
            Phase::InFlight => {
                actions.push(GeneralsAction::Deliver);
                actions.push(GeneralsAction::Lose);
            }
            Phase::Lost | Phase::Done => {}
        }
    }

    fn next_state(&self, s: &GeneralsState, a: GeneralsAction) -> Option<GeneralsState> {
        let mut n = *s;
        match (s.phase, a) {
            (Phase::Ready, GeneralsAction::Send) => n.phase = Phase::InFlight,
            (Phase::InFlight, GeneralsAction::Deliver) => {
                if s.next + 1 == self.messages() {
                    n.phase = Phase::Done;
                } else {
                    n.next += 1;
                    n.phase = Phase::Ready;
                }
            }
            (Phase::InFlight, GeneralsAction::Lose) => n.phase = Phase::Lost,
            _ => return None,
        }
        Some(n)
    }

    fn properties(&self) -> Vec<Property<Self>> {
        vec![
            Property::always("both_act_or_neither", both_act_or_neither),
            Property::sometimes("both_act", |m: &GeneralsModel, s: &GeneralsState| {
                m.finished(s) && m.acts(s, Lane::Left) && m.acts(s, Lane::Right)
            }),
            Property::sometimes("neither_acts", |m: &GeneralsModel, s: &GeneralsState| {
                m.finished(s) && !m.acts(s, Lane::Left) && !m.acts(s, Lane::Right)
            }),
        ]
    }

    fn format_action(&self, a: &GeneralsAction) -> String {
        format!("{a:?}")
    }

    fn as_svg(&self, path: stateright::Path<GeneralsState, GeneralsAction>) -> Option<String> {
        Some(crate::diagram::svg(self, &path))
    }
}

impl Diagram for GeneralsModel {
    fn lanes(&self) -> (&'static str, &'static str) {
        ("general A", "general B")
    }

    fn initial_events(&self, s: &GeneralsState) -> Vec<Event> {
        let (a, b) = self.lane_states(s);
        vec![
            Event::State {
                lane: Lane::Left,
                state: a,
            },
            Event::State {
                lane: Lane::Right,
                state: b,
            },
        ]
    }

    fn describe_step(
        &self,
        prev: &GeneralsState,
        a: &GeneralsAction,
        next: &GeneralsState,
    ) -> Vec<Event> {
        let i = prev.next;
        let from = Self::sender(i);
        let mut ev = Vec::new();
        match a {
            GeneralsAction::Send => {
                ev.push(Event::Send {
                    from,
                    label: Self::label(i),
                });
                if i + 1 == self.messages() {
                    ev.push(Event::Note {
                        lane: from,
                        text: "last message: its sender can never learn whether it arrived".into(),
                    });
                }
            }
            GeneralsAction::Deliver => ev.push(Event::Deliver {
                from,
                label: Self::label(i),
                note: None,
            }),
            GeneralsAction::Lose => ev.push(Event::Lost {
                from,
                label: Self::label(i),
            }),
        }
        if self.finished(next) {
            for lane in [Lane::Left, Lane::Right] {
                ev.push(Event::State {
                    lane,
                    state: self.decision(next, lane).into(),
                });
            }
        }
        ev
    }

    fn lane_states(&self, s: &GeneralsState) -> (String, String) {
        (
            self.decision(s, Lane::Left).into(),
            self.decision(s, Lane::Right).into(),
        )
    }
}

impl GeneralsModel {
    fn decision(&self, s: &GeneralsState, lane: Lane) -> &'static str {
        if !self.finished(s) {
            "waiting"
        } else if self.acts(s, lane) {
            "ATTACKS"
        } else {
            "stays home"
        }
    }
}

impl Expectations for GeneralsModel {
    fn expected(&self, property: &str) -> Verdict {
        match property {
            // No number of rounds helps: losing the last message splits them.
            "both_act_or_neither" => Verdict::Violated,
            _ => Verdict::Found,
        }
    }
}
