//! Runs the model and the engines side by side, one step at a time, and
//! compares them after every step.

use std::fmt;

use serde::Serialize;
use synack_model::diagram::Diagram;
use synack_model::endpoint::Params;
use synack_model::model::{Host, TcpState};
use synack_model::{Config, ConfigError, TcpModel};

use super::abstraction;
use super::reference::{side_name, RefState, Step, Wire};
use super::system::{HostState, System, Violation, TICK};

/// One step of a case as recorded for the trace.
#[derive(Clone, Debug, Serialize)]
pub struct LogStep {
    pub step: String,
    pub now: u8,
    pub client: String,
    pub server: String,
    /// Segments the engines emitted (abstract label and real numbers).
    pub emitted: Vec<super::system::Emitted>,
    /// What the model did in the same step, in its own words.
    pub model: Vec<String>,
}

/// The engines and the model parted ways.
#[derive(Clone, Debug, Serialize)]
pub struct Divergence {
    /// 1-based index of the step after which the difference was seen (0: initial state).
    pub step_index: usize,
    pub step: String,
    pub problems: Vec<String>,
}

impl fmt::Display for Divergence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "engine and model differ after step {} ({}):",
            self.step_index, self.step
        )?;
        for p in &self.problems {
            writeln!(f, "  - {p}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Divergence {}

/// The model (reference) and the system under test, in lock step.
pub struct Harness {
    pub model: TcpModel,
    pub reference: RefState,
    pub system: System,
    pub log: Vec<LogStep>,
    /// Property violations seen on the engines' history that the model shares
    /// (a variant's counterexample reproduced).
    pub shared: Vec<Violation>,
}

/// The model's `Host` as the system's.
fn host_state(h: Host) -> HostState {
    match h {
        Host::Up => HostState::Up,
        Host::Down(n) => HostState::Down(n),
        Host::Quiet(n) => HostState::Quiet(n),
    }
}

fn sorted_wires(mut v: Vec<Wire>) -> Vec<Wire> {
    v.sort();
    v
}

fn list(v: &[Wire]) -> String {
    if v.is_empty() {
        return "nothing".into();
    }
    v.iter()
        .map(|w| w.to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the model's property `name` holds in `s`.
pub fn model_property(model: &TcpModel, s: &TcpState, name: &str) -> Option<bool> {
    TcpModel::property_list()
        .into_iter()
        .find(|p| p.name == name)
        .map(|p| (p.condition)(model, s))
}

impl Harness {
    /// A harness for `config`, the engines configured as the model's sides.
    pub fn new(config: Config, base: u32) -> Result<Harness, ConfigError> {
        let reference = RefState::new(config, base)?;
        let model = reference.model();
        let params = [*model.params(0), *model.params(1)];
        Ok(Harness::with_engine_params(model, reference, params))
    }

    /// A harness whose engines run with `params` (possibly not the model's:
    /// a replay on a differently configured engine).
    pub fn with_engine_params(
        model: TcpModel,
        reference: RefState,
        params: [Params; 2],
    ) -> Harness {
        let mut system = System::new(params, reference.config.msl, reference.base);
        system.auto_relisten = false;
        Harness {
            model,
            reference,
            system,
            log: Vec::new(),
            shared: Vec::new(),
        }
    }

    /// Takes `step` on both sides and compares. A step the model does not
    /// allow is an error of the caller, reported as a divergence.
    pub fn step(&mut self, step: &Step) -> Result<(), Divergence> {
        let index = self.log.len() + 1;
        let Some(next) = self.reference.next(&self.model, step) else {
            return Err(Divergence {
                step_index: index,
                step: step.to_string(),
                problems: vec!["the model does not allow this step here".into()],
            });
        };
        let model_events = match self.reference.action(&self.model, step) {
            Some(a) => self
                .model
                .describe_step(&self.reference.s, &a, &next.s)
                .into_iter()
                .map(|e| format!("{e:?}"))
                .collect(),
            None => Vec::new(),
        };
        self.system.throttled = [
            self.reference.s.ep[0].tcb.ack_throttled,
            self.reference.s.ep[1].tcb.ack_throttled,
        ];
        self.system.apply(step);
        self.system
            .user_listens(next.s.ep[1].tcb.state == synack_model::tcb::State::Listen);
        self.reference = next;
        self.log.push(LogStep {
            step: step.to_string(),
            now: self.system.now,
            client: self.system.describe(0),
            server: self.system.describe(1),
            emitted: self.system.last_emitted.clone(),
            model: model_events,
        });
        let problems = self.compare();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(Divergence {
                step_index: index,
                step: step.to_string(),
                problems,
            })
        }
    }

    /// Everything that differs between the model's state and the engines'.
    pub fn compare(&mut self) -> Vec<String> {
        let mut p = Vec::new();
        let s = &self.reference.s;
        let sys = &mut self.system;
        p.append(&mut sys.errors);
        if s.now != sys.now {
            p.push(format!("time: model {}, system {}", s.now, sys.now));
        }
        let now = sys.instant();
        for side in 0..2 {
            let name = side_name(side as u8);
            let e = &s.ep[side];
            let h = &sys.hosts[side];
            if host_state(e.host) != h.host {
                p.push(format!(
                    "{name} host: model {:?}, system {:?}",
                    e.host, h.host
                ));
            }
            match abstraction::tcb(&h.conn.status(), h.tx, sys.base, now, TICK) {
                Ok(t) => {
                    for d in abstraction::tcb_diff(&e.tcb, &t) {
                        p.push(format!("{name} {d}"));
                    }
                }
                Err(err) => p.push(format!("{name}: {err}")),
            }
            if e.tcb.state.has_connection() {
                if e.tx != h.tx {
                    p.push(format!(
                        "{name} bytes SENT: model {}, engine {}",
                        e.tx, h.tx
                    ));
                }
                if usize::from(e.rx) != h.rx.len() {
                    p.push(format!(
                        "{name} bytes delivered: model {}, engine {}",
                        e.rx,
                        h.rx.len()
                    ));
                }
            }
        }
        let model_net = sorted_wires(s.net.as_slice().iter().map(Wire::of).collect());
        let mut sys_net = sorted_wires(sys.net.iter().map(|p| p.wire()).collect());
        if let Some(w) = sys.surplus.take() {
            // The engine answered an unacceptable segment that the model,
            // having answered one this tick already, did not: that answer
            // and nothing else is the difference (see `abstraction`).
            if multiset_minus(&sys_net, &model_net) == [w]
                && multiset_minus(&model_net, &sys_net).is_empty()
                && sys.lose_surplus(&w)
            {
                sys_net = sorted_wires(sys.net.iter().map(|p| p.wire()).collect());
            }
        }
        if model_net != sys_net {
            let only_model: Vec<Wire> = multiset_minus(&model_net, &sys_net);
            let only_engine: Vec<Wire> = multiset_minus(&sys_net, &model_net);
            p.push(format!(
                "in flight: only in the model: {}; only from the engines: {}",
                list(&only_model),
                list(&only_engine)
            ));
        }
        // Properties on the engines' own history: a violation the model does
        // not share is the engine's.
        for v in std::mem::take(&mut sys.violations) {
            match model_property(&self.model, s, v.property) {
                Some(false) => self.shared.push(v),
                _ => p.push(format!(
                    "the engines' history breaks {} while the model's holds: {}",
                    v.property, v.detail
                )),
            }
        }
        p
    }
}

fn multiset_minus(a: &[Wire], b: &[Wire]) -> Vec<Wire> {
    let mut rest = b.to_vec();
    let mut out = Vec::new();
    for w in a {
        if let Some(i) = rest.iter().position(|x| x == w) {
            rest.remove(i);
        } else {
            out.push(*w);
        }
    }
    out
}
