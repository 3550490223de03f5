//! A variant's counterexamples, found by the model checker, replayed on the
//! engine: once on an engine configured with the variant's design decision
//! (it should fail the same way) and once on an engine configured as the
//! standard model (it should resist).
//!
//! The events are the model's path: user calls, ticks, and network actions
//! naming a segment by sender, control bits, SEQ, ACK, length and age. The
//! path is the shortest one to the violation that steps around the known
//! differences between engine and model (`known`), so that an engine can
//! follow it. Both engines run in lock step with the variant's model: the
//! misconfigured one must follow every step (and so reach the violating
//! state), the standard one must leave the path.

use std::fmt;

use stateright::{Checker, Model};
use synack_model::endpoint::Params;
use synack_model::{Config, ConfigError, TcpModel, Variant};

use super::harness::{Divergence, Harness};
use super::reference::{RefState, Step};

/// Why a variant cannot be replayed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayError {
    /// The engine has no option for this design decision.
    NotExpressible { variant: Variant, why: &'static str },
    /// The configuration does not validate.
    Config(String),
}

impl fmt::Display for ReplayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReplayError::NotExpressible { variant, why } => {
                write!(
                    f,
                    "variant `{variant}` cannot be replayed on the engine: {why}"
                )
            }
            ReplayError::Config(e) => write!(f, "invalid configuration: {e}"),
        }
    }
}

impl std::error::Error for ReplayError {}

impl From<ConfigError> for ReplayError {
    fn from(e: ConfigError) -> Self {
        ReplayError::Config(e.to_string())
    }
}

/// How one engine fared on one counterexample.
#[derive(Debug, Clone)]
pub struct EngineRun {
    /// The engine's own history breaks the property.
    pub fails: bool,
    /// What was seen (the violation, or the states at the end).
    pub detail: String,
    /// Where the engine and the model parted ways, if they did (the
    /// misconfigured run only).
    pub divergence: Option<Divergence>,
    /// Network steps skipped because the engine never sent that segment.
    pub skipped: Vec<String>,
    /// Final states (client, server).
    pub end: (String, String),
}

/// One violated property of the variant, replayed.
#[derive(Debug, Clone)]
pub struct PropertyReplay {
    pub property: &'static str,
    pub steps: Vec<Step>,
    /// The engine with the variant's decision.
    pub misconfigured: EngineRun,
    /// The engine with the standard decision.
    pub standard: EngineRun,
}

impl PropertyReplay {
    /// The misconfigured engine fails as the model does and the standard one resists.
    pub fn confirmed(&self) -> bool {
        self.misconfigured.fails && !self.standard.fails
    }
}

/// The outcome of replaying a variant's counterexamples.
#[derive(Debug, Clone)]
pub struct ReplayReport {
    pub variant: Variant,
    pub config: Config,
    pub properties: Vec<PropertyReplay>,
}

impl ReplayReport {
    /// Every counterexample reproduced on the misconfigured engine and resisted by the standard one.
    pub fn all_confirmed(&self) -> bool {
        !self.properties.is_empty() && self.properties.iter().all(PropertyReplay::confirmed)
    }
}

fn run_text(r: &EngineRun) -> String {
    let mut s = if r.fails {
        format!("FAILS ({})", r.detail)
    } else {
        format!("holds ({})", r.detail)
    };
    if let Some(d) = &r.divergence {
        s.push_str(&format!(
            "; left the model's path at step {} ({}): {}",
            d.step_index,
            d.step,
            d.problems.join("; ")
        ));
    }
    if !r.skipped.is_empty() {
        s.push_str(&format!(
            "; {} network step(s) skipped, segment never sent: {}",
            r.skipped.len(),
            r.skipped.join(", ")
        ));
    }
    s
}

impl fmt::Display for ReplayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "replay of variant `{}` on the engine", self.variant)?;
        if self.properties.is_empty() {
            return writeln!(
                f,
                "  the model checker found no counterexample: nothing to replay"
            );
        }
        for p in &self.properties {
            writeln!(
                f,
                "  {} ({} steps): {}",
                p.property,
                p.steps.len(),
                if p.confirmed() {
                    "confirmed"
                } else {
                    "NOT confirmed"
                }
            )?;
            for (i, s) in p.steps.iter().enumerate() {
                writeln!(f, "    {:>2}. {s}", i + 1)?;
            }
            writeln!(
                f,
                "    engine with the variant's decision: {}",
                run_text(&p.misconfigured)
            )?;
            writeln!(
                f,
                "    engine as standard:                 {}",
                run_text(&p.standard)
            )?;
        }
        Ok(())
    }
}

/// Whether the engine can be configured with the variant's decision.
pub fn expressible(variant: Variant) -> Result<(), ReplayError> {
    match variant {
        Variant::TwoWayHandshake => Err(ReplayError::NotExpressible {
            variant,
            why: "the engine always completes a three-way handshake (RFC 9293 §3.5); no option turns it off",
        }),
        Variant::Generals => Err(ReplayError::NotExpressible {
            variant,
            why: "the two generals is a separate model, not a TCP configuration",
        }),
        _ => Ok(()),
    }
}

/// The properties the checker finds violated (`always`/`eventually`).
fn violated(model: &TcpModel) -> Vec<&'static str> {
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let checker = model.clone().checker().threads(threads).spawn_bfs().join();
    TcpModel::property_list()
        .into_iter()
        .filter(|p| p.expectation != stateright::Expectation::Sometimes)
        .filter(|p| checker.discovery(p.name).is_some())
        .map(|p| p.name)
        .collect()
}

/// Most model states the search for an engine-expressible counterexample
/// visits (`SYNACK_REPLAY_SEARCH_LIMIT` overrides).
fn search_limit() -> usize {
    std::env::var("SYNACK_REPLAY_SEARCH_LIMIT")
        .ok()
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(3_000_000)
}

/// Why no engine-expressible counterexample was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SearchEnd {
    /// Every reachable state was seen: each counterexample runs into a known difference.
    Exhausted(usize),
    /// The search stopped at the state limit.
    Limit(usize),
}

/// The shortest path (breadth first, on the model's own transitions) to a
/// state that violates `property`, using no step that runs into a known
/// difference between engine and model (`known`): a counterexample the
/// engine can follow step by step, or why there is none.
pub fn shortest_expressible(
    model: &TcpModel,
    config: Config,
    property: &str,
) -> Result<Vec<Step>, SearchEnd> {
    let Some(prop) = TcpModel::property_list()
        .into_iter()
        .find(|p| p.name == property)
    else {
        return Err(SearchEnd::Exhausted(0));
    };
    let limit = search_limit();
    let eventually = prop.expectation == stateright::Expectation::Eventually;
    let Ok(start) = RefState::new(config, 0) else {
        return Err(SearchEnd::Exhausted(0));
    };
    let key = |r: &RefState| (r.s, r.dupacks);
    let mut seen = std::collections::HashSet::new();
    seen.insert(key(&start));
    let mut nodes: Vec<(usize, Option<Step>)> = vec![(usize::MAX, None)];
    let mut queue = std::collections::VecDeque::new();
    queue.push_back((start, 0usize));
    while let Some((r, id)) = queue.pop_front() {
        let bad = if eventually {
            model.is_terminal(&r.s) && !(prop.condition)(model, &r.s)
        } else {
            !(prop.condition)(model, &r.s)
        };
        if bad {
            let mut steps = Vec::new();
            let mut at = id;
            while let (parent, Some(step)) = nodes[at] {
                steps.push(step);
                at = parent;
            }
            steps.reverse();
            return Ok(steps);
        }
        if seen.len() > limit {
            return Err(SearchEnd::Limit(seen.len()));
        }
        for step in r.steps(model) {
            if super::known::hit(&r, &step).is_some() {
                continue;
            }
            let Some(next) = r.next(model, &step) else {
                continue;
            };
            if seen.insert(key(&next)) {
                nodes.push((id, Some(step)));
                queue.push_back((next, nodes.len() - 1));
            }
        }
    }
    Err(SearchEnd::Exhausted(seen.len()))
}

/// Replays every counterexample the checker finds for `variant` (with the
/// rest of `config`) on the engine, misconfigured and standard.
pub fn replay_variant(variant: Variant, config: &Config) -> Result<ReplayReport, ReplayError> {
    expressible(variant)?;
    let mut config = *config;
    config.variant = variant;
    let model = TcpModel::new(config)?;
    let standard_config = Config {
        variant: Variant::Standard,
        ..config
    };
    let standard = TcpModel::new(standard_config)?;
    let variant_params = [*model.params(0), *model.params(1)];
    let standard_params = [*standard.params(0), *standard.params(1)];
    let mut properties = Vec::new();
    for property in violated(&model) {
        let steps = match shortest_expressible(&model, config, property) {
            Ok(steps) => steps,
            Err(end) => {
                properties.push(PropertyReplay {
                    property,
                    steps: Vec::new(),
                    misconfigured: not_followed(end),
                    standard: not_followed(end),
                });
                continue;
            }
        };
        properties.push(replay_steps(
            &model,
            config,
            variant_params,
            standard_params,
            property,
            steps,
        )?);
    }
    Ok(ReplayReport {
        variant,
        config,
        properties,
    })
}

/// The record of a counterexample that every path reaches only through a
/// known difference between engine and model: not replayable.
fn not_followed(end: SearchEnd) -> EngineRun {
    EngineRun {
        fails: false,
        detail: match end {
            SearchEnd::Exhausted(n) => format!(
                "not replayed: every counterexample runs into a known difference between engine and model (refine::known; {n} states searched)"
            ),
            SearchEnd::Limit(n) => format!(
                "not replayed: no counterexample avoiding the known differences within {n} states (SYNACK_REPLAY_SEARCH_LIMIT raises it)"
            ),
        },
        divergence: None,
        skipped: Vec::new(),
        end: (String::new(), String::new()),
    }
}

/// Replays one path on both engines, each in lock step with the variant's
/// model. The misconfigured engine confirms the counterexample when it
/// follows every step (its abstract state equals the model's after each,
/// so it ends in the violating state) or its own history breaks the
/// property; the standard engine resists when it leaves the path (its state
/// or its segments differ from the variant's at some step) and its history
/// keeps the property.
pub fn replay_steps(
    model: &TcpModel,
    config: Config,
    variant_params: [Params; 2],
    standard_params: [Params; 2],
    property: &'static str,
    steps: Vec<Step>,
) -> Result<PropertyReplay, ReplayError> {
    let mis = lock_step(model, config, variant_params, property, &steps)?;
    let std_run = lock_step(model, config, standard_params, property, &steps)?;
    Ok(PropertyReplay {
        property,
        steps,
        misconfigured: mis,
        standard: std_run,
    })
}

/// One engine configuration along the variant model's path.
fn lock_step(
    model: &TcpModel,
    config: Config,
    params: [Params; 2],
    property: &'static str,
    steps: &[Step],
) -> Result<EngineRun, ReplayError> {
    let reference = RefState::new(config, 0)?;
    let mut h = Harness::with_engine_params(model.clone(), reference, params);
    let mut divergence = None;
    for step in steps {
        if let Err(d) = h.step(step) {
            divergence = Some(d);
            break;
        }
    }
    let end = (h.system.describe(0), h.system.describe(1));
    // Violations on the engines' own history: the harness keeps those the
    // model shares in `shared` and reports the others as differences.
    let own: Vec<String> = h
        .shared
        .iter()
        .filter(|v| v.property == property)
        .map(|v| v.detail.clone())
        .chain(
            divergence
                .iter()
                .flat_map(|d| d.problems.iter())
                .filter(|p| p.contains(property) && p.contains("history"))
                .cloned(),
        )
        .collect();
    let followed = divergence.is_none();
    let (fails, detail) = if followed {
        (
            true,
            format!(
                "followed all {} steps in lock step with the model, into the state that breaks {property}{}",
                steps.len(),
                if own.is_empty() {
                    String::new()
                } else {
                    format!("; its own history shows it: {}", own.join("; "))
                }
            ),
        )
    } else if !own.is_empty() {
        (
            true,
            format!("its own history breaks {property}: {}", own.join("; ")),
        )
    } else {
        (
            false,
            format!("ends with client {}, server {}", end.0, end.1),
        )
    };
    Ok(EngineRun {
        fails,
        detail,
        divergence,
        skipped: Vec::new(),
        end,
    })
}
