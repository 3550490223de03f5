//! Running the checker over a model and reporting one verdict per property.

use serde::Serialize;

/// The outcome of checking one property.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// An `always` or `eventually` property held on every path of a complete search.
    Holds,
    /// An `always` or `eventually` property has a counterexample.
    Violated,
    /// A `sometimes` property has an example.
    Found,
    /// A `sometimes` property has no example in a complete search.
    NotFound,
}

/// What a model says it should find, so that a variant's counterexample is a
/// pass and not a failure.
pub trait Expectations: crate::diagram::Diagram {
    /// The verdict this configuration is meant to produce for `property`.
    fn expected(&self, property: &str) -> Verdict;
}

/// The verdict of a property whose search was cut short: neither holds nor
/// violated can be claimed. Kept apart from [`Verdict`], which a model expects.
pub const INCONCLUSIVE: &str = "inconclusive";

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::fmt::Debug;
use std::hash::{Hash, Hasher};
use std::time::{Duration, Instant};

use stateright::{Checker, Expectation, Model};

use crate::diagram::{path_events, Diagram, Event};

/// The kind of a property, as stateright names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Always,
    Eventually,
    Sometimes,
}

impl Kind {
    fn of(e: &Expectation) -> Kind {
        match e {
            Expectation::Always => Kind::Always,
            Expectation::Eventually => Kind::Eventually,
            Expectation::Sometimes => Kind::Sometimes,
        }
    }
}

/// One step of a trace: the action taken (none for the initial state) and
/// each lane's state after it.
#[derive(Clone, Debug, Serialize)]
pub struct TraceStep {
    pub action: Option<String>,
    pub left: String,
    pub right: String,
}

/// The outcome for one property.
#[derive(Clone, Debug, Serialize)]
pub struct PropertyReport {
    pub name: &'static str,
    pub kind: Kind,
    pub expected: Verdict,
    /// `None` when the search was cut short before a verdict could be given.
    pub verdict: Option<Verdict>,
    /// The shortest counterexample (always/eventually) or example (sometimes).
    pub trace: Vec<TraceStep>,
    /// The same path as diagram events.
    #[serde(skip)]
    pub events: Vec<Event>,
}

impl PropertyReport {
    pub fn met(&self) -> bool {
        self.verdict == Some(self.expected)
    }
}

/// The outcome of a whole check.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub lanes: (&'static str, &'static str),
    /// Every reachable state was visited (no timeout, no early stop).
    pub complete: bool,
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub seconds: f64,
    /// Time spent finding shortest traces after the main search.
    pub shortest_seconds: f64,
    pub properties: Vec<PropertyReport>,
}

impl Report {
    pub fn all_met(&self) -> bool {
        self.properties.iter().all(PropertyReport::met)
    }
}

/// A snapshot of a running search, for progress output.
#[derive(Clone, Copy, Debug)]
pub struct Progress {
    pub states: usize,
    pub unique_states: usize,
    pub max_depth: usize,
    pub elapsed: Duration,
}

/// How to run a check.
pub struct Options<'a> {
    pub threads: usize,
    /// Give up after this long; the report is then marked incomplete.
    pub timeout: Option<Duration>,
    /// Called about once a second while the main search runs.
    pub progress: Option<&'a mut dyn FnMut(Progress)>,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
            timeout: None,
            progress: None,
        }
    }
}

/// Checks every property of `model`: first one complete breadth-first search
/// with stateright's checker on all threads (the verdicts and the state counts),
/// then a single-threaded search for the shortest trace of each discovery.
///
/// The second pass exists because stateright's BFS records a discovery each
/// time a state qualifies, so the path it keeps is the last one found, not the
/// first, and with several threads not even the last in depth order. A plain
/// breadth-first search on one thread that stops at the first qualifying state
/// per property gives a shortest trace; it is bounded by the depth of the
/// discovery stateright already made, so it never searches deeper than needed.
pub fn run<M>(model: M, mut options: Options<'_>) -> Report
where
    M: Expectations + Send + Sync + 'static,
    M::State: Hash + Clone + PartialEq + Debug + Send + Sync + 'static,
    M::Action: Clone + PartialEq + Debug + Send + Sync + 'static,
{
    let started = Instant::now();
    let mut builder = model.checker().threads(options.threads.max(1));
    if let Some(t) = options.timeout {
        builder = builder.timeout(t);
    }
    let checker = builder.spawn_bfs();
    let mut last = Instant::now();
    while !checker.is_done() {
        std::thread::sleep(Duration::from_millis(50));
        if last.elapsed() >= Duration::from_secs(1) {
            last = Instant::now();
            if let Some(report) = options.progress.as_mut() {
                report(Progress {
                    states: checker.state_count(),
                    unique_states: checker.unique_state_count(),
                    max_depth: checker.max_depth(),
                    elapsed: started.elapsed(),
                });
            }
        }
        if options
            .timeout
            .is_some_and(|t| started.elapsed() > t + Duration::from_secs(5))
        {
            break; // the checker's own timeout should have stopped it by now
        }
    }
    let checker = checker.join();
    let seconds = started.elapsed().as_secs_f64();
    let properties = checker.model().properties();
    let discoveries = checker.discoveries();
    let timed_out = options.timeout.is_some_and(|t| started.elapsed() >= t);
    // stateright stops early once every property has a discovery; the counts
    // are then partial even though every verdict is decided.
    let complete = !timed_out && discoveries.len() < properties.len();

    let wanted: Vec<(usize, usize)> = properties
        .iter()
        .enumerate()
        .filter_map(|(i, p)| {
            discoveries
                .get(p.name)
                .map(|path| (i, path.clone().into_vec().len()))
        })
        .collect();
    let shortest_started = Instant::now();
    let shortest = shortest_paths(checker.model(), &wanted);
    let shortest_seconds = shortest_started.elapsed().as_secs_f64();

    let model = checker.model();
    let reports = properties
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let kind = Kind::of(&p.expectation);
            let found = discoveries.contains_key(p.name);
            let verdict = match (kind, found) {
                (Kind::Sometimes, true) => Some(Verdict::Found),
                (_, true) => Some(Verdict::Violated),
                (_, false) if !complete => None,
                (Kind::Sometimes, false) => Some(Verdict::NotFound),
                (_, false) => Some(Verdict::Holds),
            };
            let steps = shortest
                .get(&i)
                .cloned()
                .or_else(|| discoveries.get(p.name).map(|d| d.clone().into_vec()))
                .unwrap_or_default();
            PropertyReport {
                name: p.name,
                kind,
                expected: model.expected(p.name),
                verdict,
                trace: trace(model, &steps),
                events: if steps.is_empty() {
                    Vec::new()
                } else {
                    path_events(model, &steps)
                },
            }
        })
        .collect();
    Report {
        lanes: model.lanes(),
        complete,
        states: checker.state_count(),
        unique_states: checker.unique_state_count(),
        max_depth: checker.max_depth(),
        seconds,
        shortest_seconds,
        properties: reports,
    }
}

fn trace<M: Diagram>(model: &M, steps: &[(M::State, Option<M::Action>)]) -> Vec<TraceStep>
where
    M::Action: Debug,
{
    let mut out = Vec::with_capacity(steps.len());
    let mut taken: Option<String> = None;
    for (state, action) in steps {
        let (left, right) = model.lane_states(state);
        out.push(TraceStep {
            action: taken.take(),
            left,
            right,
        });
        taken = action.as_ref().map(|a| model.format_action(a));
    }
    out
}

fn fingerprint<T: Hash>(value: &T) -> u64 {
    let mut h = DefaultHasher::new();
    value.hash(&mut h);
    h.finish()
}

type Steps<M> = Vec<(<M as Model>::State, Option<<M as Model>::Action>)>;

/// Breadth-first search on one thread for the first state that makes each
/// wanted property (index, length of a known discovery) a discovery, with
/// stateright's semantics: an `always` condition false, a `sometimes` condition
/// true, or a terminal state reached without the `eventually` condition ever
/// holding on the way.
fn shortest_paths<M>(model: &M, wanted: &[(usize, usize)]) -> HashMap<usize, Steps<M>>
where
    M: Model,
    M::State: Hash + Clone,
    M::Action: Clone,
{
    let mut found: HashMap<usize, Steps<M>> = HashMap::new();
    if wanted.is_empty() {
        return found;
    }
    let properties = model.properties();
    let max_len = wanted.iter().map(|&(_, len)| len).max().unwrap_or(0);
    // Nodes of the search tree: (parent, action that led here).
    let mut nodes: Vec<(usize, Option<M::Action>)> = Vec::new();
    let mut seen: HashMap<u64, ()> = HashMap::new();
    let mut queue: VecDeque<(M::State, usize, usize, u64)> = VecDeque::new();
    let eventually_bits: u64 = properties
        .iter()
        .enumerate()
        .filter(|(i, p)| p.expectation == Expectation::Eventually && *i < 64)
        .fold(0, |bits, (i, _)| bits | (1 << i));
    // Roots first, one per initial state, so that node `i < inits.len()` is
    // the root for `inits[i]`.
    let inits = model.init_states();
    for (i, s) in inits.iter().enumerate() {
        nodes.push((usize::MAX, None));
        if seen.insert(fingerprint(s), ()).is_none() {
            queue.push_back((s.clone(), i, 1, eventually_bits));
        }
    }
    let path_to = |nodes: &[(usize, Option<M::Action>)], mut node: usize| -> Steps<M> {
        let mut actions = Vec::new();
        while nodes[node].0 != usize::MAX {
            actions.push(nodes[node].1.clone().expect("non-root node has an action"));
            node = nodes[node].0;
        }
        actions.reverse();
        let mut steps: Steps<M> = Vec::with_capacity(actions.len() + 1);
        let mut state = inits[node].clone();
        for a in actions {
            let next = model
                .next_state(&state, a.clone())
                .expect("replayed action applies");
            steps.push((state, Some(a)));
            state = next;
        }
        steps.push((state, None));
        steps
    };
    let mut actions = Vec::new();
    while let Some((state, node, len, mut ebits)) = queue.pop_front() {
        for &(i, _) in wanted {
            if found.contains_key(&i) {
                continue;
            }
            let p = &properties[i];
            let hit = match p.expectation {
                Expectation::Always => !(p.condition)(model, &state),
                Expectation::Sometimes => (p.condition)(model, &state),
                Expectation::Eventually => false,
            };
            if hit {
                found.insert(i, path_to(&nodes, node));
            }
        }
        for (i, p) in properties.iter().enumerate() {
            if p.expectation == Expectation::Eventually && i < 64 && (p.condition)(model, &state) {
                ebits &= !(1 << i);
            }
        }
        if found.len() == wanted.len() {
            break;
        }
        model.actions(&state, &mut actions);
        let mut terminal = true;
        for action in actions.drain(..) {
            let Some(next) = model.next_state(&state, action.clone()) else {
                continue;
            };
            if !model.within_boundary(&next) {
                continue;
            }
            terminal = false;
            if len >= max_len || seen.insert(fingerprint(&next), ()).is_some() {
                continue;
            }
            nodes.push((node, Some(action)));
            queue.push_back((next, nodes.len() - 1, len + 1, ebits));
        }
        if terminal {
            for &(i, _) in wanted {
                if i < 64 && ebits & (1 << i) != 0 && !found.contains_key(&i) {
                    found.insert(i, path_to(&nodes, node));
                }
            }
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagram::Lane;
    use stateright::Property;

    /// A counter that climbs by 1 or 2 up to 10: small enough to know every
    /// answer by hand.
    struct Climb;

    impl Model for Climb {
        type State = u8;
        type Action = u8;
        fn init_states(&self) -> Vec<u8> {
            vec![0]
        }
        fn actions(&self, s: &u8, actions: &mut Vec<u8>) {
            actions.extend([1, 2].into_iter().filter(|step| s + step <= 10));
        }
        fn next_state(&self, s: &u8, step: u8) -> Option<u8> {
            Some(s + step)
        }
        fn properties(&self) -> Vec<Property<Self>> {
            vec![
                Property::always("below_nine", |_, s| *s < 9),
                Property::always("at_most_ten", |_, s| *s <= 10),
                Property::sometimes("seven", |_, s| *s == 7),
                Property::sometimes("eleven", |_, s| *s == 11),
                Property::eventually("ten", |_, s| *s == 10),
            ]
        }
    }

    impl Diagram for Climb {
        fn lanes(&self) -> (&'static str, &'static str) {
            ("left", "right")
        }
        fn initial_events(&self, s: &u8) -> Vec<Event> {
            vec![Event::State {
                lane: Lane::Left,
                state: s.to_string(),
            }]
        }
        fn describe_step(&self, _: &u8, step: &u8, next: &u8) -> Vec<Event> {
            vec![
                Event::Send {
                    from: Lane::Left,
                    label: format!("+{step}"),
                },
                Event::State {
                    lane: Lane::Left,
                    state: next.to_string(),
                },
            ]
        }
        fn lane_states(&self, s: &u8) -> (String, String) {
            (s.to_string(), String::new())
        }
    }

    impl Expectations for Climb {
        fn expected(&self, property: &str) -> Verdict {
            match property {
                "below_nine" => Verdict::Violated,
                "seven" => Verdict::Found,
                "eleven" => Verdict::NotFound,
                _ => Verdict::Holds,
            }
        }
    }

    #[test]
    fn verdicts_and_shortest_traces() {
        for threads in [1, 2] {
            let report = run(
                Climb,
                Options {
                    threads,
                    ..Options::default()
                },
            );
            assert!(report.complete);
            assert!(report.all_met(), "{report:#?}");
            assert_eq!(report.unique_states, 11);
            let by_name = |n: &str| report.properties.iter().find(|p| p.name == n).unwrap();
            // 0 -> 2 -> 4 -> 6 -> 8 -> 9: five steps, six states.
            assert_eq!(by_name("below_nine").trace.len(), 6);
            // 0 -> 2 -> 4 -> 6 -> 7 (or an ordering of it): four steps.
            assert_eq!(by_name("seven").trace.len(), 5);
            assert!(by_name("eleven").trace.is_empty());
            let last = by_name("below_nine").trace.last().unwrap();
            assert_eq!(last.left, "9");
            assert!(by_name("below_nine").trace[0].action.is_none());
        }
    }

    #[test]
    fn a_timed_out_search_gives_no_verdict_for_what_it_did_not_find() {
        let report = run(
            Climb,
            Options {
                threads: 1,
                timeout: Some(Duration::ZERO),
                progress: None,
            },
        );
        assert!(!report.complete);
        let holds = report
            .properties
            .iter()
            .find(|p| p.name == "at_most_ten")
            .unwrap();
        assert_eq!(holds.verdict, None);
        assert!(!report.all_met());
    }
}
