//! Sequence diagrams of a path through a model: time flows down, the first lane
//! (the client, or general A) on the left, the second on the right.
//!
//! A model describes each step of a path as a list of [`Event`]s; this module
//! lays them out as text (for the terminal) and as SVG (for the Explorer and
//! for files). It knows nothing of TCP.

use serde::Serialize;

/// One of the two columns of the diagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
pub enum Lane {
    Left,
    Right,
}

impl Lane {
    pub fn other(self) -> Lane {
        match self {
            Lane::Left => Lane::Right,
            Lane::Right => Lane::Left,
        }
    }
}

/// Something that happened in one step, in the order it happened.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub enum Event {
    /// The lane's endpoint is now in `state` (e.g. "SYN-SENT").
    State { lane: Lane, state: String },
    /// A segment (or message) left `from`; `label` like "SYN seq=100".
    Send { from: Lane, label: String },
    /// A segment sent by `from` arrived at the other lane; `note` says what the
    /// receiver made of it when that is not obvious ("old duplicate", "ignored").
    Deliver {
        from: Lane,
        label: String,
        note: Option<String>,
    },
    /// The network lost a segment sent by `from`.
    Lost { from: Lane, label: String },
    /// The network duplicated a segment sent by `from`.
    Duplicated { from: Lane, label: String },
    /// A segment sent by `from` outlived the maximum segment lifetime and is gone.
    Expired { from: Lane, label: String },
    /// A user call, a timer firing, a crash: anything that happens at one lane.
    Note { lane: Lane, text: String },
    /// Time advanced; `now` is the new time in ticks.
    Tick { now: u32 },
}

/// What the runner and the diagrams need from a model beyond `stateright::Model`.
pub trait Diagram: stateright::Model {
    /// The two column headings, e.g. ("client", "server").
    fn lanes(&self) -> (&'static str, &'static str);

    /// The state each lane starts in, shown at the top of the diagram.
    fn initial_events(&self, state: &Self::State) -> Vec<Event>;

    /// What happened when `action` took `prev` to `next`.
    fn describe_step(
        &self,
        prev: &Self::State,
        action: &Self::Action,
        next: &Self::State,
    ) -> Vec<Event>;

    /// Each lane's state name, for the JSON trace (e.g. ("ESTABLISHED", "CLOSE-WAIT")).
    fn lane_states(&self, state: &Self::State) -> (String, String);
}
