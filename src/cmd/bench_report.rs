//! `synack bench-report`: criterion's JSON output turned into a Markdown report.
//!
//! Input: a criterion output directory (`target/criterion` by default). Every
//! benchmark criterion measured has a directory `.../new/` holding
//! `benchmark.json` (its group, function and value ids and its throughput)
//! and `estimates.json` (point estimates and confidence intervals, in
//! nanoseconds per iteration). The directory names are made file-name-safe by
//! criterion and can be ambiguous, so the ids are always read from
//! `benchmark.json`. Quantities that are not times (bytes per TIME-WAIT entry)
//! are written by the benches next to it, in `synack-facts/<name>.json`.
//!
//! Output: the report (`benches/REPORT.md` by default) and one SVG plot per
//! group that has a cost-against-size curve, written beside the report as
//! `<report stem>-<group>.svg`.
//!
//! # Peers and ratios
//!
//! A benchmark is a *peer* when its function id names one of [`PEERS`]
//! (case-insensitive); every other benchmark is *ours*. Ours and a peer are
//! paired when they are in the same criterion group, have the same value id
//! (e.g. the same payload size), and either
//!
//! 1. their *residual names* are equal: the function id, lower-cased, with
//!    `synack` and the peer names taken out and what is left joined by `_`
//!    (`in_order` and `smoltcp_in_order` both leave `in_order`; `synack`
//!    and `smoltcp` both leave nothing); or
//! 2. failing that, the peer has no partner by rule 1 and ours is the only
//!    benchmark of ours in that group with that value.
//!
//! The ratio is the peer's cost divided by ours, per byte when both declare
//! bytes, else per element (segment, state) when both declare elements, else
//! per iteration: above 1 means synack is faster. Its range is the
//! widest ratio the two medians' confidence intervals allow. Two benchmarks
//! whose results were written more than [`SAME_RUN_WINDOW`] apart are flagged:
//! their ratio does not come from one run.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use serde_json::Value;

/// Function ids that name one of these are peers, not synack.
pub const PEERS: [&str; 4] = [
    "smoltcp",
    "etherparse",
    "copy_from_slice",
    "stateright-plain",
];

/// Groups the suite is meant to produce; each is listed, "not run" if absent.
pub const EXPECTED_GROUPS: [&str; 6] = [
    "wire/parse",
    "wire/checksum",
    "wire/emit",
    "engine",
    "table",
    "model",
];

/// Two results written further apart than this are not one run.
pub const SAME_RUN_WINDOW: Duration = Duration::from_secs(30 * 60);

/// The directory of facts (non-time measurements) inside the criterion dir.
pub const FACTS_DIR: &str = "synack-facts";

/// The fact holding the bytes one TIME-WAIT entry costs in the table.
pub const TIME_WAIT_FACT: &str = "table.time_wait_bytes_per_entry";

#[derive(clap::Args)]
pub struct Args {
    /// Criterion's output directory.
    #[arg(long, default_value = "target/criterion")]
    pub criterion_dir: PathBuf,
    /// The Markdown report to write; the SVG plots go beside it.
    #[arg(long, default_value = "benches/REPORT.md")]
    pub out: PathBuf,
}

pub fn run(args: Args) -> ExitCode {
    match generate(&args.criterion_dir, &args.out) {
        Ok(written) => {
            for path in written {
                println!("wrote {}", path.display());
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("synack bench-report: {e}");
            ExitCode::from(2)
        }
    }
}

/// Reads `criterion_dir`, writes the report to `out` and its plots beside
/// it, and returns the paths written.
pub fn generate(criterion_dir: &Path, out: &Path) -> Result<Vec<PathBuf>, ReportError> {
    let benches = load_benches(criterion_dir)?;
    let facts = load_facts(criterion_dir)?;
    let machine = Machine::probe();
    let stem = out.file_stem().map_or_else(
        || "REPORT".to_string(),
        |s| s.to_string_lossy().into_owned(),
    );
    let out_dir = match out.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    fs::create_dir_all(&out_dir).map_err(|e| ReportError::io(&out_dir, e))?;

    let mut written = Vec::new();
    let mut plots = BTreeMap::new();
    for (group, series) in plot_series(&benches) {
        let file = format!("{stem}-{}.svg", slug(&group));
        let path = out_dir.join(&file);
        draw_plot(&path, &group, &series)?;
        plots.insert(group, file);
        written.push(path);
    }
    let text = render(criterion_dir, &benches, &facts, &machine, &plots);
    fs::write(out, text).map_err(|e| ReportError::io(out, e))?;
    written.insert(0, out.to_path_buf());
    Ok(written)
}

// ---------------------------------------------------------------------------
// Errors

/// Why no report could be written. Each names the file at fault.
#[derive(Debug)]
pub enum ReportError {
    /// A file or directory the report needs is not there.
    Missing(PathBuf),
    /// A file is there but is not what criterion (or a bench) writes.
    Malformed { path: PathBuf, reason: String },
    /// Reading or writing failed.
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl ReportError {
    fn io(path: &Path, error: std::io::Error) -> Self {
        if error.kind() == std::io::ErrorKind::NotFound {
            ReportError::Missing(path.to_path_buf())
        } else {
            ReportError::Io {
                path: path.to_path_buf(),
                error,
            }
        }
    }

    fn malformed(path: &Path, reason: impl Into<String>) -> Self {
        ReportError::Malformed {
            path: path.to_path_buf(),
            reason: reason.into(),
        }
    }

    /// The file the error is about.
    #[cfg(test)]
    pub fn path(&self) -> &Path {
        match self {
            ReportError::Missing(p) => p,
            ReportError::Malformed { path, .. } | ReportError::Io { path, .. } => path,
        }
    }
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ReportError::Missing(p) => write!(f, "{}: missing", p.display()),
            ReportError::Malformed { path, reason } => {
                write!(f, "{}: malformed: {reason}", path.display())
            }
            ReportError::Io { path, error } => write!(f, "{}: {error}", path.display()),
        }
    }
}

impl std::error::Error for ReportError {}

// ---------------------------------------------------------------------------
// Criterion's files

/// What one iteration of a benchmark processes, as criterion records it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Throughput {
    Bytes(u64),
    BytesDecimal(u64),
    Bits(u64),
    Elements(u64),
    ElementsAndBytes { elements: u64, bytes: u64 },
}

/// The unit a ratio is normalised by.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Unit {
    Bytes,
    Elements,
}

impl Throughput {
    /// How many of `unit` one iteration processes, if it declares that unit.
    fn amount(self, unit: Unit) -> Option<f64> {
        match (self, unit) {
            (Throughput::Bytes(n) | Throughput::BytesDecimal(n), Unit::Bytes) => Some(n as f64),
            (Throughput::Bits(n), Unit::Bytes) => Some(n as f64 / 8.0),
            (Throughput::ElementsAndBytes { bytes, .. }, Unit::Bytes) => Some(bytes as f64),
            (Throughput::Elements(n), Unit::Elements) => Some(n as f64),
            (Throughput::ElementsAndBytes { elements, .. }, Unit::Elements) => {
                Some(elements as f64)
            }
            _ => None,
        }
    }

    fn parse(v: &Value) -> Result<Option<Throughput>, String> {
        if v.is_null() {
            return Ok(None);
        }
        let obj = v.as_object().ok_or("throughput is not an object")?;
        let (kind, n) = obj.iter().next().ok_or("throughput is empty")?;
        let count = |v: &Value| {
            v.as_u64()
                .ok_or(format!("throughput {kind} is not a count"))
        };
        Ok(Some(match kind.as_str() {
            "Bytes" => Throughput::Bytes(count(n)?),
            "BytesDecimal" => Throughput::BytesDecimal(count(n)?),
            "Bits" => Throughput::Bits(count(n)?),
            "Elements" => Throughput::Elements(count(n)?),
            "ElementsAndBytes" => Throughput::ElementsAndBytes {
                elements: count(&n["elements"])?,
                bytes: count(&n["bytes"])?,
            },
            other => return Err(format!("unknown throughput kind {other:?}")),
        }))
    }
}

/// A point estimate with its confidence interval, in nanoseconds.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub point: f64,
    pub lower: f64,
    pub upper: f64,
    pub confidence: f64,
}

impl Estimate {
    fn parse(v: &Value, name: &str) -> Result<Estimate, String> {
        let e = &v[name];
        if !e.is_object() {
            return Err(format!("no {name:?} estimate"));
        }
        let num = |v: &Value, what: &str| {
            v.as_f64()
                .filter(|x| x.is_finite() && *x >= 0.0)
                .ok_or(format!("{name}.{what} is not a non-negative number"))
        };
        let ci = &e["confidence_interval"];
        let est = Estimate {
            point: num(&e["point_estimate"], "point_estimate")?,
            lower: num(&ci["lower_bound"], "confidence_interval.lower_bound")?,
            upper: num(&ci["upper_bound"], "confidence_interval.upper_bound")?,
            confidence: num(
                &ci["confidence_level"],
                "confidence_interval.confidence_level",
            )?,
        };
        if est.point <= 0.0 {
            return Err(format!("{name}.point_estimate is zero"));
        }
        Ok(est)
    }
}

/// One benchmark's result.
#[derive(Clone, Debug)]
pub struct Bench {
    pub group: String,
    pub function: Option<String>,
    pub value: Option<String>,
    pub throughput: Option<Throughput>,
    /// The median time of one iteration.
    pub median: Estimate,
    /// When `estimates.json` was written, to tell one run from another.
    pub written: Option<SystemTime>,
}

impl Bench {
    /// `function/value`, or whichever of them exists.
    pub fn name(&self) -> String {
        match (&self.function, &self.value) {
            (Some(f), Some(v)) => format!("{f}/{v}"),
            (Some(f), None) => f.clone(),
            (None, Some(v)) => v.clone(),
            (None, None) => "(unnamed)".to_string(),
        }
    }

    /// The peer this benchmark is, if it is one.
    pub fn peer(&self) -> Option<&'static str> {
        let f = self.function.as_deref()?.to_ascii_lowercase();
        PEERS.iter().copied().find(|p| f.contains(p))
    }

    /// The function id without `synack` and peer names; see the module docs.
    pub fn residual(&self) -> String {
        let mut f = self.function.as_deref().unwrap_or("").to_ascii_lowercase();
        for word in PEERS.iter().chain(std::iter::once(&"synack")) {
            f = f.replace(word, " ");
        }
        f.split(|c: char| !c.is_ascii_alphanumeric())
            .filter(|s| !s.is_empty())
            .collect::<Vec<_>>()
            .join("_")
    }

    /// The value id read as a size (`64`, `64B`, `1460 B`, `64KiB`, `1M`),
    /// for plots and for finding a target's benchmark.
    pub fn size(&self) -> Option<u64> {
        parse_size(self.value.as_deref()?)
    }

    /// Nanoseconds per iteration, or per unit of `unit` if declared.
    fn cost_per(&self, unit: Option<Unit>, e: f64) -> f64 {
        match unit.and_then(|u| self.throughput?.amount(u)) {
            Some(n) if n > 0.0 => e / n,
            _ => e,
        }
    }
}

/// Reads a size such as `9000`, `64B`, `64 KiB`, `1MiB`, `1k`, `1M`.
pub fn parse_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let digits = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    if digits == 0 {
        return None;
    }
    let n: u64 = s[..digits].parse().ok()?;
    let scale: u64 = match s[digits..].trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1_000,
        "kib" => 1 << 10,
        "m" | "mb" => 1_000_000,
        "mib" => 1 << 20,
        "g" | "gb" => 1_000_000_000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

fn read_json(path: &Path) -> Result<Value, ReportError> {
    let text = fs::read_to_string(path).map_err(|e| ReportError::io(path, e))?;
    serde_json::from_str(&text).map_err(|e| ReportError::malformed(path, e.to_string()))
}

/// Reads one `new/` directory.
fn load_bench(dir: &Path) -> Result<Bench, ReportError> {
    let meta_path = dir.join("benchmark.json");
    let est_path = dir.join("estimates.json");
    let meta = read_json(&meta_path)?;
    let text_field = |name: &str| -> Result<Option<String>, ReportError> {
        match &meta[name] {
            Value::Null => Ok(None),
            Value::String(s) => Ok(Some(s.clone())),
            _ => Err(ReportError::malformed(
                &meta_path,
                format!("{name} is not a string"),
            )),
        }
    };
    let group =
        text_field("group_id")?.ok_or_else(|| ReportError::malformed(&meta_path, "no group_id"))?;
    let function = text_field("function_id")?;
    let value = text_field("value_str")?;
    let throughput = Throughput::parse(&meta["throughput"])
        .map_err(|r| ReportError::malformed(&meta_path, r))?;

    let estimates = read_json(&est_path)?;
    let median =
        Estimate::parse(&estimates, "median").map_err(|r| ReportError::malformed(&est_path, r))?;
    let written = fs::metadata(&est_path).and_then(|m| m.modified()).ok();
    Ok(Bench {
        group,
        function,
        value,
        throughput,
        median,
        written,
    })
}

/// Every benchmark under `root`, sorted by group, then function, then size.
pub fn load_benches(root: &Path) -> Result<Vec<Bench>, ReportError> {
    if !root.is_dir() {
        return Err(ReportError::Missing(root.to_path_buf()));
    }
    let mut found = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries = fs::read_dir(&dir).map_err(|e| ReportError::io(&dir, e))?;
        for entry in entries {
            let entry = entry.map_err(|e| ReportError::io(&dir, e))?;
            let path = entry.path();
            if !path.is_dir() {
                continue;
            }
            let name = entry.file_name();
            // criterion's HTML output and our facts hold no estimates.
            if name == "report" || (dir == root && name == FACTS_DIR) {
                continue;
            }
            // A `new/` directory with either file is a result; a benchmark
            // whose function is itself called "new" has neither, only
            // sub-directories, and is walked into like any other.
            if name == "new"
                && (path.join("benchmark.json").exists() || path.join("estimates.json").exists())
            {
                found.push(load_bench(&path)?);
            } else if name != "base" && name != "change" {
                stack.push(path);
            }
        }
    }
    found.sort_by(|a, b| {
        (&a.group, &a.function, a.size(), &a.value).cmp(&(
            &b.group,
            &b.function,
            b.size(),
            &b.value,
        ))
    });
    Ok(found)
}

/// A measured quantity that is not a time.
#[derive(Clone, Debug, PartialEq)]
pub struct Fact {
    pub value: f64,
    pub unit: String,
}

/// Every fact under `<root>/synack-facts/`, by name.
pub fn load_facts(root: &Path) -> Result<BTreeMap<String, Fact>, ReportError> {
    let dir = root.join(FACTS_DIR);
    let mut facts = BTreeMap::new();
    if !dir.is_dir() {
        return Ok(facts);
    }
    for entry in fs::read_dir(&dir).map_err(|e| ReportError::io(&dir, e))? {
        let path = entry.map_err(|e| ReportError::io(&dir, e))?.path();
        if path.extension().is_none_or(|x| x != "json") {
            continue;
        }
        let v = read_json(&path)?;
        let name = v["name"]
            .as_str()
            .ok_or_else(|| ReportError::malformed(&path, "no name"))?;
        let value = v["value"]
            .as_f64()
            .filter(|x| x.is_finite())
            .ok_or_else(|| ReportError::malformed(&path, "value is not a number"))?;
        let unit = v["unit"]
            .as_str()
            .ok_or_else(|| ReportError::malformed(&path, "no unit"))?;
        facts.insert(
            name.to_string(),
            Fact {
                value,
                unit: unit.to_string(),
            },
        );
    }
    Ok(facts)
}

// ---------------------------------------------------------------------------
// Pairing and ratios

/// Ours against one peer.
#[derive(Clone, Debug)]
pub struct Ratio {
    pub peer: &'static str,
    /// Peer cost over our cost: above 1, synack is faster.
    pub point: f64,
    pub lower: f64,
    pub upper: f64,
    /// What the ratio is normalised by.
    pub per: &'static str,
    /// The two results were not written within [`SAME_RUN_WINDOW`].
    pub separate_runs: bool,
}

/// Whether results written at these times are further apart than one run.
fn spans_runs(written: &[SystemTime]) -> bool {
    match (written.iter().min(), written.iter().max()) {
        (Some(first), Some(last)) => last
            .duration_since(*first)
            .is_ok_and(|gap| gap > SAME_RUN_WINDOW),
        _ => false,
    }
}

/// The ratio of `ours` to `peer`, per unit when both have the same one.
pub fn ratio(ours: &Bench, peer: &Bench) -> Ratio {
    // Bytes first: a transfer declaring segments and bytes is judged on
    // bytes, since the two stacks may cut the same bytes into different
    // numbers of segments.
    let unit = [Unit::Bytes, Unit::Elements].into_iter().find(|&u| {
        let has = |b: &Bench| {
            b.throughput
                .and_then(|t| t.amount(u))
                .is_some_and(|n| n > 0.0)
        };
        has(ours) && has(peer)
    });
    let per = match unit {
        Some(Unit::Bytes) => "per byte",
        Some(Unit::Elements) => "per element",
        None => "per iteration",
    };
    let o = |e: f64| ours.cost_per(unit, e);
    let p = |e: f64| peer.cost_per(unit, e);
    let separate_runs = spans_runs(
        &[ours.written, peer.written]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>(),
    );
    Ratio {
        peer: peer.peer().unwrap_or("?"),
        point: p(peer.median.point) / o(ours.median.point),
        lower: p(peer.median.lower) / o(ours.median.upper).max(f64::MIN_POSITIVE),
        upper: p(peer.median.upper) / o(ours.median.lower).max(f64::MIN_POSITIVE),
        per,
        separate_runs,
    }
}

/// For each of our benchmarks (by index into `benches`), its peers' indices,
/// by the rules in the module docs.
pub fn pair(benches: &[Bench]) -> BTreeMap<usize, Vec<usize>> {
    let mut pairs: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    let same_slot = |a: &Bench, b: &Bench| a.group == b.group && a.value == b.value;
    for (pi, p) in benches.iter().enumerate() {
        if p.peer().is_none() {
            continue;
        }
        let slot: Vec<usize> = benches
            .iter()
            .enumerate()
            .filter(|(_, o)| o.peer().is_none() && same_slot(o, p))
            .map(|(i, _)| i)
            .collect();
        let exact: Vec<usize> = slot
            .iter()
            .copied()
            .filter(|&oi| benches[oi].residual() == p.residual())
            .collect();
        let partners = if !exact.is_empty() {
            exact
        } else if slot.len() == 1 {
            slot
        } else {
            Vec::new()
        };
        for oi in partners {
            pairs.entry(oi).or_default().push(pi);
        }
    }
    pairs
}

// ---------------------------------------------------------------------------
// Targets

/// How a target fared.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Met(String),
    Missed(String),
    /// The benchmark the target needs was not in this run.
    NotRun(String),
}

/// One target of issue 8 and its outcome.
#[derive(Clone, Debug)]
pub struct TargetResult {
    pub target: &'static str,
    pub required: &'static str,
    pub outcome: Outcome,
}

/// Our benchmark in `group` whose residual name contains `key` and whose
/// value reads as `size` (if given).
fn find_ours<'a>(
    benches: &'a [Bench],
    group: &str,
    key: &str,
    size: Option<u64>,
) -> Option<(usize, &'a Bench)> {
    let candidate = |b: &Bench| {
        b.group == group && b.peer().is_none() && size.is_none_or(|s| b.size() == Some(s))
    };
    // An exact residual name first (`synack` itself for an empty key), so
    // that `synack-portable` is never taken for `synack`.
    let mut all = benches.iter().enumerate();
    all.clone()
        .find(|(_, b)| candidate(b) && b.residual() == key)
        .or_else(|| all.find(|(_, b)| candidate(b) && b.residual().contains(key)))
}

/// The ratio of benchmark `oi` to its paired `peer`, if both ran.
fn paired_ratio(
    benches: &[Bench],
    pairs: &BTreeMap<usize, Vec<usize>>,
    oi: usize,
    peer: &str,
) -> Option<Ratio> {
    pairs
        .get(&oi)?
        .iter()
        .find(|&&pi| benches[pi].peer() == Some(peer))
        .map(|&pi| ratio(&benches[oi], &benches[pi]))
}

fn describe_ratio(r: &Ratio) -> String {
    let mut s = format!(
        "{} ({}–{}) vs {}, {}",
        times(r.point),
        times(r.lower),
        times(r.upper),
        r.peer,
        r.per
    );
    if r.separate_runs {
        s.push_str(", not from one run");
    }
    s
}

/// A speedup target: met when the point ratio reaches `min`, else missed by
/// the share of our time that would have to go.
fn speedup_outcome(r: &Ratio, min: f64) -> Outcome {
    let text = describe_ratio(r);
    if r.separate_runs {
        return Outcome::NotRun(format!("{text}: rerun both in one run"));
    }
    if r.point >= min {
        Outcome::Met(text)
    } else {
        let cut = (1.0 - r.point / min) * 100.0;
        Outcome::Missed(format!(
            "{text}: short of {} by {}; synack needs {cut:.0}% less time",
            times(min),
            times(min / r.point)
        ))
    }
}

fn speedup_target(
    benches: &[Bench],
    pairs: &BTreeMap<usize, Vec<usize>>,
    (group, key, size): (&str, &str, Option<u64>),
    peer: &str,
    min: f64,
) -> Outcome {
    let named = if key.is_empty() {
        format!("`{group}` benchmark of synack")
    } else {
        format!("`{group}` benchmark named `*{key}*`")
    };
    let what = match size {
        Some(s) => format!("{named} at {s}"),
        None => named,
    };
    let Some((oi, _)) = find_ours(benches, group, key, size) else {
        return Outcome::NotRun(format!("no {what}"));
    };
    match paired_ratio(benches, pairs, oi, peer) {
        Some(r) => speedup_outcome(&r, min),
        None => Outcome::NotRun(format!("{what} has no {peer} peer in this run")),
    }
}

/// The checksum targets: every size at least as fast as smoltcp; at 1460 B
/// and 64 KiB at least as fast as `copy_from_slice`.
fn checksum_targets(benches: &[Bench], pairs: &BTreeMap<usize, Vec<usize>>) -> Vec<TargetResult> {
    const GROUP: &str = "wire/checksum";
    let ours: Vec<usize> = (0..benches.len())
        .filter(|&i| benches[i].group == GROUP && benches[i].peer().is_none())
        .collect();
    let smoltcp = {
        let ratios: Vec<(String, Ratio)> = ours
            .iter()
            .filter_map(|&i| {
                paired_ratio(benches, pairs, i, "smoltcp").map(|r| (benches[i].name(), r))
            })
            .collect();
        let outcome = if ratios.is_empty() {
            Outcome::NotRun(format!("no `{GROUP}` benchmark with a smoltcp peer"))
        } else {
            let worst = ratios
                .iter()
                .min_by(|a, b| a.1.point.total_cmp(&b.1.point))
                .expect("not empty");
            let outcome = speedup_outcome(&worst.1, 1.0);
            let sizes = ratios.len();
            match outcome {
                Outcome::Met(t) => {
                    Outcome::Met(format!("slowest of {sizes} sizes: {} {t}", worst.0))
                }
                Outcome::Missed(t) => Outcome::Missed(format!("{}: {t}", worst.0)),
                other => other,
            }
        };
        TargetResult {
            target: "checksum vs smoltcp",
            required: "≥ 1× at every size",
            outcome,
        }
    };
    let mut out = vec![smoltcp];
    for (size, label) in [(1460, "1460 B"), (65536, "64 KiB")] {
        let outcome = speedup_target(
            benches,
            pairs,
            (GROUP, "", Some(size)),
            "copy_from_slice",
            1.0,
        );
        out.push(TargetResult {
            target: if label == "1460 B" {
                "checksum vs copy_from_slice, 1460 B"
            } else {
                "checksum vs copy_from_slice, 64 KiB"
            },
            required: "≥ 1×",
            outcome,
        });
    }
    out
}

/// Table lookup cost flat within 2× from 1 to 1 000 000 connections.
fn lookup_target(benches: &[Bench]) -> Outcome {
    let sizes = [1u64, 1_000, 100_000, 1_000_000];
    let mut found = Vec::new();
    let mut absent = Vec::new();
    let mut written = Vec::new();
    for s in sizes {
        match find_ours(benches, "table", "lookup", Some(s)) {
            Some((_, b)) => {
                found.push((s, b.median.point));
                written.extend(b.written);
            }
            None => absent.push(s.to_string()),
        }
    }
    if !absent.is_empty() {
        return Outcome::NotRun(format!(
            "no `table` benchmark named `*lookup*` at {}",
            absent.join(", ")
        ));
    }
    if spans_runs(&written) {
        return Outcome::NotRun(
            "the four lookups are not from one run: rerun them together".into(),
        );
    }
    let (min_s, min_t) = found
        .iter()
        .copied()
        .min_by(|a, b| a.1.total_cmp(&b.1))
        .expect("four sizes");
    let (max_s, max_t) = found
        .iter()
        .copied()
        .max_by(|a, b| a.1.total_cmp(&b.1))
        .expect("four sizes");
    let spread = max_t / min_t;
    let text = format!(
        "{} at {max_s} vs {} at {min_s}: spread {}",
        duration(max_t),
        duration(min_t),
        times(spread)
    );
    if spread <= 2.0 {
        Outcome::Met(text)
    } else {
        Outcome::Missed(format!(
            "{text}, over 2× by {}; the lookup at {max_s} needs {:.0}% less time",
            times(spread / 2.0),
            (1.0 - 2.0 / spread) * 100.0
        ))
    }
}

/// TIME-WAIT entries at most 100 bytes each.
fn time_wait_target(facts: &BTreeMap<String, Fact>) -> Outcome {
    let Some(f) = facts.get(TIME_WAIT_FACT) else {
        return Outcome::NotRun(format!("no fact `{TIME_WAIT_FACT}` recorded"));
    };
    if f.unit != "B" {
        return Outcome::NotRun(format!(
            "fact `{TIME_WAIT_FACT}` is in {:?}, expected \"B\"",
            f.unit
        ));
    }
    let text = format!("{:.1} B per entry", f.value);
    if f.value <= 100.0 {
        Outcome::Met(text)
    } else {
        Outcome::Missed(format!(
            "{text}: {:.1} B ({:.0}%) over",
            f.value - 100.0,
            (f.value / 100.0 - 1.0) * 100.0
        ))
    }
}

/// States per second of the model, beside the plain stateright model.
fn model_target(benches: &[Bench], pairs: &BTreeMap<usize, Vec<usize>>) -> Outcome {
    let Some((oi, ours)) = find_ours(benches, "model", "", None) else {
        return Outcome::NotRun("no `model` benchmark of synack's model".into());
    };
    let rate = |b: &Bench| {
        let n = b.throughput?.amount(Unit::Elements)?;
        Some(n / (b.median.point * 1e-9))
    };
    let Some(our_rate) = rate(ours) else {
        return Outcome::NotRun(format!(
            "`model/{}` declares no throughput in states",
            ours.name()
        ));
    };
    match paired_ratio(benches, pairs, oi, "stateright-plain") {
        Some(r) if !r.separate_runs => Outcome::Met(format!(
            "{} states/s; the plain model is {} faster per state, so {:.0}% of the checker's time is synack's own",
            si(our_rate),
            times(1.0 / r.point),
            (1.0 - r.point).max(0.0) * 100.0
        )),
        Some(r) => Outcome::NotRun(format!("{}: rerun both in one run", describe_ratio(&r))),
        None => Outcome::NotRun(format!(
            "{} states/s, but no stateright-plain peer in this run",
            si(our_rate)
        )),
    }
}

/// Every target of issue 8, in the order.
pub fn evaluate_targets(benches: &[Bench], facts: &BTreeMap<String, Fact>) -> Vec<TargetResult> {
    let pairs = pair(benches);
    let mut out = vec![
        TargetResult {
            target: "in-order data segment in ESTABLISHED, 64 B",
            required: "≥ 2× smoltcp",
            outcome: speedup_target(
                benches,
                &pairs,
                ("engine", "in_order", Some(64)),
                "smoltcp",
                2.0,
            ),
        },
        TargetResult {
            target: "in-order data segment in ESTABLISHED, 1460 B",
            required: "≥ 1.5× smoltcp",
            outcome: speedup_target(
                benches,
                &pairs,
                ("engine", "in_order", Some(1460)),
                "smoltcp",
                1.5,
            ),
        },
        TargetResult {
            target: "1 MiB in-memory transfer",
            required: "≥ 2× smoltcp's throughput",
            outcome: speedup_target(
                benches,
                &pairs,
                ("engine", "transfer", None),
                "smoltcp",
                2.0,
            ),
        },
    ];
    out.extend(checksum_targets(benches, &pairs));
    out.push(TargetResult {
        target: "table lookup, 1 to 1 000 000 connections",
        required: "slowest ≤ 2× fastest",
        outcome: lookup_target(benches),
    });
    out.push(TargetResult {
        target: "TIME-WAIT entry size",
        required: "≤ 100 B",
        outcome: time_wait_target(facts),
    });
    out.push(TargetResult {
        target: "model checker states per second",
        required: "reported beside a plain stateright model",
        outcome: model_target(benches, &pairs),
    });
    out
}

// ---------------------------------------------------------------------------
// Machine

/// The machine the report was written on (the benches' machine, when the
/// report is generated right after them, as the README says to).
#[derive(Clone, Debug)]
pub struct Machine {
    pub cpu: String,
    pub logical_cpus: Option<usize>,
    pub physical_cores: Option<usize>,
    pub available: Option<usize>,
    pub kernel: Option<String>,
}

impl Machine {
    pub fn probe() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let mut m = Machine::from_cpuinfo(&cpuinfo);
        m.available = std::thread::available_parallelism().ok().map(|n| n.get());
        m.kernel = fs::read_to_string("/proc/sys/kernel/osrelease")
            .ok()
            .map(|s| s.trim().to_string());
        m
    }

    /// The CPU model and core counts as `/proc/cpuinfo` gives them.
    pub fn from_cpuinfo(text: &str) -> Machine {
        let mut cpu = None;
        let mut logical = 0;
        let mut cores = BTreeSet::new();
        let mut physical_id = None;
        for line in text.lines() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let (key, value) = (key.trim(), value.trim());
            match key {
                "processor" => logical += 1,
                "model name" | "Processor" | "cpu model" if cpu.is_none() => {
                    cpu = Some(value.to_string())
                }
                "physical id" => physical_id = Some(value.to_string()),
                "core id" => {
                    cores.insert((physical_id.clone(), value.to_string()));
                }
                _ => {}
            }
        }
        Machine {
            cpu: cpu.unwrap_or_else(|| "unknown (no model name in /proc/cpuinfo)".into()),
            logical_cpus: (logical > 0).then_some(logical),
            physical_cores: (!cores.is_empty()).then_some(cores.len()),
            available: None,
            kernel: None,
        }
    }
}

// ---------------------------------------------------------------------------
// Formatting

/// A time in nanoseconds, to three significant digits.
pub fn duration(ns: f64) -> String {
    let (v, unit) = if ns < 1e3 {
        (ns, "ns")
    } else if ns < 1e6 {
        (ns / 1e3, "µs")
    } else if ns < 1e9 {
        (ns / 1e6, "ms")
    } else {
        (ns / 1e9, "s")
    };
    format!("{} {unit}", sig3(v))
}

fn sig3(v: f64) -> String {
    if v >= 100.0 {
        format!("{v:.0}")
    } else if v >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A fact's value: whole numbers as they are, others to one decimal.
fn number(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v:.1}")
    }
}

/// A ratio, e.g. `2.41×`.
pub fn times(r: f64) -> String {
    format!("{}×", sig3(r))
}

/// A rate with an SI prefix, e.g. `1.83 M`.
fn si(v: f64) -> String {
    let (v, p) = if v >= 1e9 {
        (v / 1e9, " G")
    } else if v >= 1e6 {
        (v / 1e6, " M")
    } else if v >= 1e3 {
        (v / 1e3, " k")
    } else {
        (v, " ")
    };
    format!("{}{p}", sig3(v)).trim_end().to_string()
}

fn throughput_text(b: &Bench) -> String {
    let Some(t) = b.throughput else {
        return "—".into();
    };
    let per_sec = |n: f64| n / (b.median.point * 1e-9);
    let bytes = |n: f64| {
        let r = per_sec(n);
        if r >= (1u64 << 30) as f64 {
            format!("{} GiB/s", sig3(r / (1u64 << 30) as f64))
        } else if r >= (1u64 << 20) as f64 {
            format!("{} MiB/s", sig3(r / (1u64 << 20) as f64))
        } else {
            format!("{} KiB/s", sig3(r / 1024.0))
        }
    };
    match t {
        Throughput::Bytes(n) | Throughput::BytesDecimal(n) => bytes(n as f64),
        Throughput::Bits(n) => bytes(n as f64 / 8.0),
        Throughput::Elements(n) => format!("{} elem/s", si(per_sec(n as f64))),
        Throughput::ElementsAndBytes { elements, bytes: n } => {
            format!(
                "{} elem/s, {}",
                si(per_sec(elements as f64)),
                bytes(n as f64)
            )
        }
    }
}

/// A group name as a file-name fragment: `wire/parse` → `wire-parse`.
fn slug(group: &str) -> String {
    let s: String = group
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    s.trim_matches('-').to_string()
}

/// Today's date and time in UTC from the system clock, without a date crate.
fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Civil date from a day count (the proleptic Gregorian calendar, eras of
    // 400 years starting 0000-03-01).
    let z = days as i64 + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

// ---------------------------------------------------------------------------
// The report

fn render(
    criterion_dir: &Path,
    benches: &[Bench],
    facts: &BTreeMap<String, Fact>,
    machine: &Machine,
    plots: &BTreeMap<String, String>,
) -> String {
    use std::fmt::Write as _;
    let mut s = String::new();
    let pairs = pair(benches);
    // Criterion keeps every result it ever wrote; rows far older than the
    // newest one are leftovers of an earlier run (or of a renamed benchmark).
    let newest = benches.iter().filter_map(|b| b.written).max();
    let _ = writeln!(s, "# synack benchmark report\n");
    let _ = writeln!(
        s,
        "Written by `synack bench-report` from `{}` on {}. Times are criterion's \
         median per iteration with its {} confidence interval; see \
         [How to read this report](#how-to-read-this-report).\n",
        criterion_dir.display(),
        utc_now(),
        benches.first().map_or("95%".into(), |b| format!(
            "{:.0}%",
            b.median.confidence * 100.0
        ))
    );

    let _ = writeln!(s, "## Machine\n");
    let _ = writeln!(s, "- CPU: {}", machine.cpu);
    let count = |n: Option<usize>| n.map_or("unknown".into(), |n| n.to_string());
    let _ = writeln!(
        s,
        "- Cores: {} physical, {} logical; {} available to the report's process",
        count(machine.physical_cores),
        count(machine.logical_cpus),
        count(machine.available)
    );
    if let Some(k) = &machine.kernel {
        let _ = writeln!(s, "- Linux {k}");
    }
    let _ = writeln!(s);

    let _ = writeln!(s, "## Targets (issue 8)\n");
    let _ = writeln!(s, "| Target | Required | Verdict | Measured |");
    let _ = writeln!(s, "|---|---|---|---|");
    for t in evaluate_targets(benches, facts) {
        let (verdict, detail) = match &t.outcome {
            Outcome::Met(d) => ("met", d),
            Outcome::Missed(d) => ("**missed**", d),
            Outcome::NotRun(d) => ("not run", d),
        };
        let _ = writeln!(
            s,
            "| {} | {} | {verdict} | {detail} |",
            t.target, t.required
        );
    }
    let _ = writeln!(s);

    let mut groups: Vec<String> = EXPECTED_GROUPS.iter().map(|g| g.to_string()).collect();
    for b in benches {
        if !groups.contains(&b.group) {
            groups.push(b.group.clone());
        }
    }
    for group in &groups {
        let _ = writeln!(s, "## `{group}`\n");
        let members: Vec<usize> = (0..benches.len())
            .filter(|&i| &benches[i].group == group)
            .collect();
        if members.is_empty() {
            let _ = writeln!(s, "not run: no results for this group in this run\n");
            continue;
        }
        let peers: Vec<&str> = PEERS
            .iter()
            .copied()
            .filter(|p| members.iter().any(|&i| benches[i].peer() == Some(p)))
            .collect();
        let _ = write!(s, "| Benchmark | Median | CI | Throughput |");
        for p in &peers {
            let _ = write!(s, " vs {p} |");
        }
        let _ = write!(s, "\n|---|--:|--:|--:|");
        for _ in &peers {
            let _ = write!(s, "--:|");
        }
        let _ = writeln!(s);
        for &i in &members {
            let b = &benches[i];
            let stale = match (newest, b.written) {
                (Some(n), Some(w)) => spans_runs(&[w, n]),
                _ => false,
            };
            let _ = write!(
                s,
                "| {}{}{} | {} | {} – {} | {} |",
                b.name(),
                if b.peer().is_some() { " (peer)" } else { "" },
                if stale { " ⚠ older run" } else { "" },
                duration(b.median.point),
                duration(b.median.lower),
                duration(b.median.upper),
                throughput_text(b)
            );
            for p in &peers {
                let cell = pairs
                    .get(&i)
                    .and_then(|ps| ps.iter().find(|&&pi| benches[pi].peer() == Some(p)))
                    .map(|&pi| {
                        let r = ratio(b, &benches[pi]);
                        format!(
                            "{} ({}–{}){}",
                            times(r.point),
                            times(r.lower),
                            times(r.upper),
                            if r.separate_runs {
                                " ⚠ not one run"
                            } else {
                                ""
                            }
                        )
                    })
                    .unwrap_or_else(|| "—".into());
                let _ = write!(s, " {cell} |");
            }
            let _ = writeln!(s);
        }
        let _ = writeln!(s);
        let group_facts: Vec<(&String, &Fact)> = facts
            .iter()
            .filter(|(k, _)| k.split('.').next() == Some(group.split('/').next().unwrap_or("")))
            .collect();
        for (k, f) in group_facts {
            let _ = writeln!(s, "- `{k}`: {} {}", number(f.value), f.unit);
        }
        if let Some(file) = plots.get(group) {
            let _ = writeln!(s, "\n![{group}: cost against size]({file})\n");
        } else {
            let _ = writeln!(s);
        }
    }

    let _ = writeln!(s, "## How to read this report\n");
    let _ = writeln!(
        s,
        "- **Median** is criterion's median time per iteration; **CI** is its confidence \
         interval. **Throughput** is the benchmark's declared bytes or elements (states, \
         segments) per iteration divided by the median."
    );
    let _ = writeln!(
        s,
        "- A benchmark is a **peer** when its function id names {}. A ratio column \
         `vs P` gives P's cost divided by synack's, per byte when both declare bytes, \
         else per element when both declare elements, else per iteration: **above 1× \
         synack is faster**. The range in brackets is the widest ratio the two \
         confidence intervals allow.",
        PEERS.map(|p| format!("`{p}`")).join(", ")
    );
    let _ = writeln!(
        s,
        "- Pairing: synack's benchmark and a peer are compared only within one group and \
         at the same value id (payload or table size), and (1) when their function ids are \
         equal once `synack` and the peer's name are removed, or else (2) when synack has \
         only that one benchmark at that value in the group. Results written more than {} \
         minutes apart are marked ⚠ and count as not run for the targets: a ratio is only \
         trusted from one run on one machine. A row marked ⚠ older run was written that \
         long before the newest result here: a leftover of an earlier run or of a renamed \
         benchmark.",
        SAME_RUN_WINDOW.as_secs() / 60
    );
    let _ = writeln!(
        s,
        "- A target reads **met** or **missed** (with the gap: the factor it falls short by \
         and the share of synack's time that would have to go) only from measured numbers; \
         **not run** means the benchmark it needs has no result here. Non-time quantities \
         (bytes per TIME-WAIT entry) are written by the benches to `{FACTS_DIR}/` in the \
         criterion directory."
    );
    s
}

// ---------------------------------------------------------------------------
// Plots

/// One line in a plot: a function's median cost at each size.
#[derive(Clone, Debug)]
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// For each group with at least one function measured at two sizes or more,
/// its series (one per function).
pub fn plot_series(benches: &[Bench]) -> BTreeMap<String, Vec<Series>> {
    let mut by_fn: BTreeMap<(String, String), Vec<(f64, f64)>> = BTreeMap::new();
    for b in benches {
        if let Some(size) = b.size() {
            let label = b.function.clone().unwrap_or_else(|| b.group.clone());
            by_fn
                .entry((b.group.clone(), label))
                .or_default()
                .push((size as f64, b.median.point));
        }
    }
    let mut out: BTreeMap<String, Vec<Series>> = BTreeMap::new();
    for ((group, label), mut points) in by_fn {
        if points.len() < 2 {
            continue;
        }
        points.sort_by(|a, b| a.0.total_cmp(&b.0));
        out.entry(group).or_default().push(Series { label, points });
    }
    out
}

fn draw_plot(path: &Path, group: &str, series: &[Series]) -> Result<(), ReportError> {
    draw_plot_inner(path, group, series).map_err(|e| ReportError::Io {
        path: path.to_path_buf(),
        error: std::io::Error::other(e.to_string()),
    })
}

fn draw_plot_inner(
    path: &Path,
    group: &str,
    series: &[Series],
) -> Result<(), Box<dyn std::error::Error>> {
    use plotters::prelude::*;

    const COLOURS: [RGBColor; 6] = [
        RGBColor(31, 119, 180),
        RGBColor(214, 39, 40),
        RGBColor(44, 160, 44),
        RGBColor(255, 127, 14),
        RGBColor(148, 103, 189),
        RGBColor(140, 86, 75),
    ];
    let xs = series.iter().flat_map(|s| s.points.iter().map(|p| p.0));
    let ys = series.iter().flat_map(|s| s.points.iter().map(|p| p.1));
    let (x_min, x_max) = xs.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
    let (y_min, y_max) = ys.fold((f64::MAX, f64::MIN), |(a, b), y| (a.min(y), b.max(y)));
    // Sizes spanning decades (table sizes, 1460 B to 64 KiB) read best on a
    // log axis; a size of 0 cannot go on one. Plotted as log10 on a linear
    // axis, labelled with the real value.
    let x_log = x_min > 0.0 && x_max / x_min >= 100.0;
    let fx = |x: f64| if x_log { x.log10() } else { x };
    let (x0, x1) = if x_log {
        (x_min.log10() - 0.1, x_max.log10() + 0.1)
    } else {
        (0.0, x_max * 1.05 + 1.0)
    };
    let (y0, y1) = (y_min / 1.4, y_max * 1.4);
    let x_desc = if group.starts_with("table") {
        "connections in the table"
    } else {
        "payload size (bytes)"
    };

    let root = SVGBackend::new(path, (800, 500)).into_drawing_area();
    root.fill(&WHITE)?;
    let mut chart = ChartBuilder::on(&root)
        .caption(
            format!("{group}: median cost per iteration"),
            ("sans-serif", 22),
        )
        .margin(15)
        .x_label_area_size(45)
        .y_label_area_size(80)
        .build_cartesian_2d(x0..x1, (y0..y1).log_scale())?;
    let x_fmt = |v: &f64| {
        let real = if x_log { 10f64.powf(*v) } else { *v };
        format!("{:.0}", real)
    };
    let y_fmt = |v: &f64| duration(*v);
    chart
        .configure_mesh()
        .x_desc(x_desc)
        .y_desc("median time (log scale)")
        .light_line_style(WHITE)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .draw()?;
    for (i, s) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let pts: Vec<(f64, f64)> = s.points.iter().map(|&(x, y)| (fx(x), y)).collect();
        chart
            .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))?
            .label(s.label.clone())
            .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 20, y)], colour));
        chart.draw_series(pts.into_iter().map(|p| Circle::new(p, 4, colour.filled())))?;
    }
    chart
        .configure_series_labels()
        .position(SeriesLabelPosition::UpperLeft)
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .draw()?;
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A fresh directory under the workspace's `target/` for one test.
    fn scratch(name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("target")
            .join("bench-report-tests")
            .join(name);
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    /// Writes one result the way criterion 0.8 lays it out: the directory
    /// names made file-name-safe, the ids in `benchmark.json`, times in ns.
    fn put(
        root: &Path,
        group: &str,
        function: &str,
        value: Option<&str>,
        median: (f64, f64, f64),
        throughput: &str,
    ) -> PathBuf {
        let mut dir = root.join(group.replace('/', "_")).join(function);
        if let Some(v) = value {
            dir = dir.join(v);
        }
        let new = dir.join("new");
        fs::create_dir_all(&new).unwrap();
        let value_json = value.map_or("null".to_string(), |v| format!("\"{v}\""));
        fs::write(
            new.join("benchmark.json"),
            format!(
                "{{\"group_id\":\"{group}\",\"function_id\":\"{function}\",\"value_str\":{value_json},\
                 \"throughput\":{throughput},\"full_id\":\"x\",\"directory_name\":\"x\",\"title\":\"x\"}}"
            ),
        )
        .unwrap();
        let est = |(p, lo, hi): (f64, f64, f64)| {
            format!(
                "{{\"confidence_interval\":{{\"confidence_level\":0.95,\"lower_bound\":{lo},\
                 \"upper_bound\":{hi}}},\"point_estimate\":{p},\"standard_error\":1.0}}"
            )
        };
        fs::write(
            new.join("estimates.json"),
            format!(
                "{{\"mean\":{m},\"median\":{m},\"median_abs_dev\":{m},\"slope\":null,\"std_dev\":{m}}}",
                m = est(median)
            ),
        )
        .unwrap();
        // criterion keeps the previous run in `base/`; it must be ignored.
        let base = dir.join("base");
        fs::create_dir_all(&base).unwrap();
        fs::write(base.join("estimates.json"), "not json: must not be read").unwrap();
        new
    }

    fn put_fact(root: &Path, name: &str, value: f64, unit: &str) {
        let dir = root.join(FACTS_DIR);
        fs::create_dir_all(&dir).unwrap();
        fs::write(
            dir.join(format!("{name}.json")),
            format!("{{\"name\":\"{name}\",\"value\":{value},\"unit\":\"{unit}\"}}"),
        )
        .unwrap();
    }

    fn find<'a>(benches: &'a [Bench], group: &str, name: &str) -> (usize, &'a Bench) {
        benches
            .iter()
            .enumerate()
            .find(|(_, b)| b.group == group && b.name() == name)
            .unwrap_or_else(|| panic!("{group}/{name} not loaded"))
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
    }

    #[test]
    fn reads_ids_medians_intervals_and_throughput() {
        let root = scratch("parse");
        put(
            root.as_path(),
            "wire/checksum",
            "synack",
            Some("1460"),
            (100.0, 90.0, 110.0),
            "{\"Bytes\":1460}",
        );
        put(
            &root,
            "model",
            "stateright-plain",
            Some("small"),
            (2e6, 1.9e6, 2.2e6),
            "{\"Elements\":20736}",
        );
        put(
            &root,
            "engine",
            "pure_ack",
            None,
            (30.5, 30.0, 31.0),
            "null",
        );
        put(
            &root,
            "engine",
            "transfer",
            Some("1MiB"),
            (1e6, 1e6, 1e6),
            "{\"ElementsAndBytes\":{\"elements\":719,\"bytes\":1048576}}",
        );
        let benches = load_benches(&root).unwrap();
        assert_eq!(benches.len(), 4);

        let (_, c) = find(&benches, "wire/checksum", "synack/1460");
        assert_eq!(c.function.as_deref(), Some("synack"));
        assert_eq!(c.value.as_deref(), Some("1460"));
        assert_eq!(c.throughput, Some(Throughput::Bytes(1460)));
        assert_eq!(
            (c.median.point, c.median.lower, c.median.upper),
            (100.0, 90.0, 110.0)
        );
        assert_eq!(c.median.confidence, 0.95);
        assert_eq!(c.size(), Some(1460));
        assert!(c.peer().is_none());

        let (_, m) = find(&benches, "model", "stateright-plain/small");
        assert_eq!(m.throughput, Some(Throughput::Elements(20736)));
        assert_eq!(m.peer(), Some("stateright-plain"));
        assert_eq!(m.size(), None);

        let (_, a) = find(&benches, "engine", "pure_ack");
        assert_eq!((a.value.clone(), a.throughput), (None, None));
        assert_eq!(a.median.point, 30.5);

        let (_, t) = find(&benches, "engine", "transfer/1MiB");
        assert_eq!(
            t.throughput,
            Some(Throughput::ElementsAndBytes {
                elements: 719,
                bytes: 1 << 20
            })
        );
        assert_eq!(t.size(), Some(1 << 20));
        assert_eq!(throughput_text(c), "13.6 GiB/s");
    }

    #[test]
    fn ratios_are_peer_cost_over_ours_per_unit() {
        let root = scratch("ratio");
        put(
            &root,
            "wire/checksum",
            "synack",
            Some("1460"),
            (100.0, 90.0, 110.0),
            "{\"Bytes\":1460}",
        );
        put(
            &root,
            "wire/checksum",
            "smoltcp",
            Some("1460"),
            (250.0, 240.0, 260.0),
            "{\"Bytes\":1460}",
        );
        // Different state counts per iteration: the ratio must be per state.
        put(
            &root,
            "model",
            "synack",
            Some("small"),
            (1e6, 1e6, 1e6),
            "{\"Elements\":1000}",
        );
        put(
            &root,
            "model",
            "stateright-plain",
            Some("small"),
            (5e5, 5e5, 5e5),
            "{\"Elements\":4000}",
        );
        // No throughput on one side: per iteration.
        put(
            &root,
            "engine",
            "pure_ack",
            None,
            (20.0, 20.0, 20.0),
            "null",
        );
        put(
            &root,
            "engine",
            "smoltcp_pure_ack",
            None,
            (70.0, 70.0, 70.0),
            "{\"Elements\":1}",
        );
        let benches = load_benches(&root).unwrap();

        let (_, ours) = find(&benches, "wire/checksum", "synack/1460");
        let (_, peer) = find(&benches, "wire/checksum", "smoltcp/1460");
        let r = ratio(ours, peer);
        assert!(close(r.point, 2.5), "{r:?}");
        assert!(
            close(r.lower, 240.0 / 110.0) && close(r.upper, 260.0 / 90.0),
            "{r:?}"
        );
        assert_eq!(
            (r.peer, r.per, r.separate_runs),
            ("smoltcp", "per byte", false)
        );

        let (_, ours) = find(&benches, "model", "synack/small");
        let (_, peer) = find(&benches, "model", "stateright-plain/small");
        let r = ratio(ours, peer);
        // ours: 1000 ns per state; plain: 125 ns per state.
        assert!(close(r.point, 0.125), "{r:?}");
        assert_eq!(r.per, "per element");

        let (_, ours) = find(&benches, "engine", "pure_ack");
        let (_, peer) = find(&benches, "engine", "smoltcp_pure_ack");
        let r = ratio(ours, peer);
        assert!(close(r.point, 3.5), "{r:?}");
        assert_eq!(r.per, "per iteration");

        // Segments and bytes on both sides, different segment counts: the
        // ratio is per byte, not per segment.
        let root = scratch("ratio-bytes-first");
        let tp = |segments: u64| {
            format!("{{\"ElementsAndBytes\":{{\"elements\":{segments},\"bytes\":1048576}}}}")
        };
        put(
            &root,
            "engine",
            "transfer",
            Some("1MiB"),
            (1e6, 1e6, 1e6),
            &tp(719),
        );
        put(
            &root,
            "engine",
            "smoltcp_transfer",
            Some("1MiB"),
            (3e6, 3e6, 3e6),
            &tp(1000),
        );
        let benches = load_benches(&root).unwrap();
        let r = ratio(&benches[1], &benches[0]);
        assert_eq!(benches[1].name(), "transfer/1MiB");
        assert!(close(r.point, 3.0), "{r:?}");
        assert_eq!(r.per, "per byte");
    }

    #[test]
    fn pairing_follows_the_documented_rules() {
        let root = scratch("pairing");
        let t = "null";
        let x = (10.0, 9.0, 11.0);
        for f in ["in_order", "smoltcp_in_order"] {
            put(&root, "engine", f, Some("64"), x, t);
            put(&root, "engine", f, Some("1460"), x, t);
        }
        put(&root, "engine", "pure_ack", None, x, t);
        put(&root, "engine", "transfer", None, x, t);
        put(&root, "engine", "smoltcp-transfer", None, x, t);
        // Rule 2: the only synack benchmark at that value.
        put(&root, "wire/parse", "parse_verify", Some("64"), x, t);
        put(&root, "wire/parse", "smoltcp", Some("64"), x, t);
        // Peer at a value synack did not run: unpaired.
        put(&root, "wire/parse", "etherparse", Some("9000"), x, t);
        // Several synack variants: `synack` pairs by rule 1, not its variants.
        for f in [
            "synack",
            "synack-avx2",
            "synack-portable",
            "smoltcp",
            "copy_from_slice",
        ] {
            put(&root, "wire/checksum", f, Some("1460"), x, t);
        }
        // Same names in another group never pair across groups.
        put(&root, "table", "smoltcp_in_order", Some("64"), x, t);
        let benches = load_benches(&root).unwrap();
        let pairs = pair(&benches);
        let peers_of = |group: &str, name: &str| -> Vec<String> {
            let (i, _) = find(&benches, group, name);
            let mut v: Vec<String> = pairs
                .get(&i)
                .map(|ps| {
                    ps.iter()
                        .map(|&p| format!("{}/{}", benches[p].group, benches[p].name()))
                        .collect()
                })
                .unwrap_or_default();
            v.sort();
            v
        };
        assert_eq!(
            peers_of("engine", "in_order/64"),
            ["engine/smoltcp_in_order/64"]
        );
        assert_eq!(
            peers_of("engine", "in_order/1460"),
            ["engine/smoltcp_in_order/1460"]
        );
        assert_eq!(peers_of("engine", "transfer"), ["engine/smoltcp-transfer"]);
        assert!(peers_of("engine", "pure_ack").is_empty());
        assert_eq!(
            peers_of("wire/parse", "parse_verify/64"),
            ["wire/parse/smoltcp/64"]
        );
        assert_eq!(
            peers_of("wire/checksum", "synack/1460"),
            [
                "wire/checksum/copy_from_slice/1460",
                "wire/checksum/smoltcp/1460"
            ]
        );
        assert!(peers_of("wire/checksum", "synack-avx2/1460").is_empty());
        assert!(peers_of("wire/checksum", "synack-portable/1460").is_empty());
        // Peers are never "ours": nothing maps from a peer.
        for (i, b) in benches.iter().enumerate() {
            if b.peer().is_some() {
                assert!(!pairs.contains_key(&i), "{} has peers", b.name());
            }
        }
        assert_eq!(pairs.len(), 5);
    }

    fn outcome<'a>(results: &'a [TargetResult], target: &str) -> &'a Outcome {
        &results
            .iter()
            .find(|t| t.target == target)
            .unwrap_or_else(|| panic!("no target {target}"))
            .outcome
    }

    #[test]
    fn targets_are_met_missed_by_how_much_or_not_run() {
        let root = scratch("targets");
        let e = |ns: f64| (ns, ns * 0.95, ns * 1.05);
        let none = "null";
        // 64 B: smoltcp 250 ns against our 100 ns: 2.5×, met.
        put(&root, "engine", "in_order", Some("64"), e(100.0), none);
        put(
            &root,
            "engine",
            "smoltcp_in_order",
            Some("64"),
            e(250.0),
            none,
        );
        // 1460 B: 1.2×, short of 1.5× by 1.25×: we need 20% less time.
        put(&root, "engine", "in_order", Some("1460"), e(500.0), none);
        put(
            &root,
            "engine",
            "smoltcp_in_order",
            Some("1460"),
            e(600.0),
            none,
        );
        // Transfer exactly at 2× throughput: met (the bound is inclusive).
        let mib = "{\"Bytes\":1048576}";
        put(&root, "engine", "transfer", Some("1MiB"), e(1e6), mib);
        put(
            &root,
            "engine",
            "smoltcp_transfer",
            Some("1MiB"),
            e(2e6),
            mib,
        );
        // Checksum: slower than smoltcp at 64 KiB (0.9×), faster at 1460.
        let b = |n: u64| format!("{{\"Bytes\":{n}}}");
        put(
            &root,
            "wire/checksum",
            "synack",
            Some("1460"),
            e(40.0),
            &b(1460),
        );
        put(
            &root,
            "wire/checksum",
            "smoltcp",
            Some("1460"),
            e(80.0),
            &b(1460),
        );
        put(
            &root,
            "wire/checksum",
            "copy_from_slice",
            Some("1460"),
            e(44.0),
            &b(1460),
        );
        put(
            &root,
            "wire/checksum",
            "synack",
            Some("65536"),
            e(2000.0),
            &b(65536),
        );
        put(
            &root,
            "wire/checksum",
            "smoltcp",
            Some("65536"),
            e(1800.0),
            &b(65536),
        );
        // Lookup: 10 to 25 ns is a 2.5× spread: missed by 1.25×.
        for (n, ns) in [
            ("1", 10.0),
            ("1000", 12.0),
            ("100000", 15.0),
            ("1000000", 25.0),
        ] {
            put(&root, "table", "lookup", Some(n), e(ns), none);
        }
        put_fact(&root, TIME_WAIT_FACT, 48.0, "B");
        put(
            &root,
            "model",
            "synack",
            Some("small"),
            e(1e6),
            "{\"Elements\":1000}",
        );
        put(
            &root,
            "model",
            "stateright-plain",
            Some("small"),
            e(5e5),
            "{\"Elements\":4000}",
        );

        let benches = load_benches(&root).unwrap();
        let facts = load_facts(&root).unwrap();
        assert_eq!(
            facts[TIME_WAIT_FACT],
            Fact {
                value: 48.0,
                unit: "B".into()
            }
        );
        let results = evaluate_targets(&benches, &facts);
        assert_eq!(results.len(), 9);

        let o = outcome(&results, "in-order data segment in ESTABLISHED, 64 B");
        assert!(
            matches!(o, Outcome::Met(t) if t.starts_with("2.50×")),
            "{o:?}"
        );
        let o = outcome(&results, "in-order data segment in ESTABLISHED, 1460 B");
        assert!(
            matches!(o, Outcome::Missed(t) if t.starts_with("1.20×")
                && t.contains("short of 1.50× by 1.25×") && t.contains("20% less time")),
            "{o:?}"
        );
        let o = outcome(&results, "1 MiB in-memory transfer");
        assert!(
            matches!(o, Outcome::Met(t) if t.starts_with("2.00×")),
            "{o:?}"
        );
        let o = outcome(&results, "checksum vs smoltcp");
        assert!(
            matches!(o, Outcome::Missed(t) if t.starts_with("synack/65536: 0.90×")),
            "{o:?}"
        );
        let o = outcome(&results, "checksum vs copy_from_slice, 1460 B");
        assert!(
            matches!(o, Outcome::Met(t) if t.starts_with("1.10×")),
            "{o:?}"
        );
        let o = outcome(&results, "checksum vs copy_from_slice, 64 KiB");
        assert!(
            matches!(o, Outcome::NotRun(t) if t.contains("no copy_from_slice peer")),
            "{o:?}"
        );
        let o = outcome(&results, "table lookup, 1 to 1 000 000 connections");
        assert!(
            matches!(o, Outcome::Missed(t) if t.contains("spread 2.50×")
                && t.contains("over 2× by 1.25×") && t.contains("at 1000000 needs 20% less time")),
            "{o:?}"
        );
        let o = outcome(&results, "TIME-WAIT entry size");
        assert_eq!(o, &Outcome::Met("48.0 B per entry".into()));
        let o = outcome(&results, "model checker states per second");
        assert!(
            matches!(o, Outcome::Met(t) if t.starts_with("1.00 M states/s")
                && t.contains("plain model is 8.00× faster per state")),
            "{o:?}"
        );
    }

    #[test]
    fn edges_of_the_targets() {
        let root = scratch("target-edges");
        let e = |ns: f64| (ns, ns, ns);
        // Lookup at three sizes only: not run, naming the missing size.
        for (n, ns) in [("1", 10.0), ("1000", 10.0), ("1000000", 19.0)] {
            put(&root, "table", "lookup", Some(n), e(ns), "null");
        }
        put_fact(&root, TIME_WAIT_FACT, 120.0, "B");
        let benches = load_benches(&root).unwrap();
        let facts = load_facts(&root).unwrap();
        let results = evaluate_targets(&benches, &facts);
        let o = outcome(&results, "table lookup, 1 to 1 000 000 connections");
        assert!(
            matches!(o, Outcome::NotRun(t) if t.ends_with("at 100000")),
            "{o:?}"
        );
        let o = outcome(&results, "TIME-WAIT entry size");
        assert_eq!(
            o,
            &Outcome::Missed("120.0 B per entry: 20.0 B (20%) over".into())
        );
        for t in &results {
            if !t.target.starts_with("table") && !t.target.starts_with("TIME") {
                assert!(matches!(t.outcome, Outcome::NotRun(_)), "{t:?}");
            }
        }

        // Flat within 2× is met; a unit other than bytes is not trusted.
        put(&root, "table", "lookup", Some("100000"), e(12.0), "null");
        put_fact(&root, TIME_WAIT_FACT, 100.0, "KiB");
        let benches = load_benches(&root).unwrap();
        let facts = load_facts(&root).unwrap();
        let results = evaluate_targets(&benches, &facts);
        let o = outcome(&results, "table lookup, 1 to 1 000 000 connections");
        assert!(
            matches!(o, Outcome::Met(t) if t.ends_with("spread 1.90×")),
            "{o:?}"
        );
        let o = outcome(&results, "TIME-WAIT entry size");
        assert!(matches!(o, Outcome::NotRun(_)), "{o:?}");
    }

    #[test]
    fn results_from_different_runs_are_flagged_and_not_judged() {
        let root = scratch("separate-runs");
        put(
            &root,
            "engine",
            "in_order",
            Some("64"),
            (100.0, 100.0, 100.0),
            "null",
        );
        let old = put(
            &root,
            "engine",
            "smoltcp_in_order",
            Some("64"),
            (900.0, 900.0, 900.0),
            "null",
        );
        let two_hours_ago = SystemTime::now() - Duration::from_secs(2 * 3600);
        fs::File::options()
            .write(true)
            .open(old.join("estimates.json"))
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        let benches = load_benches(&root).unwrap();
        let (_, ours) = find(&benches, "engine", "in_order/64");
        let (_, peer) = find(&benches, "engine", "smoltcp_in_order/64");
        assert!(ratio(ours, peer).separate_runs);
        let results = evaluate_targets(&benches, &BTreeMap::new());
        let o = outcome(&results, "in-order data segment in ESTABLISHED, 64 B");
        assert!(
            matches!(o, Outcome::NotRun(t) if t.contains("not from one run")),
            "{o:?}"
        );

        // Lookups that would pass, but one of them is from an older run.
        let mut lookups = Vec::new();
        for n in ["1", "1000", "100000", "1000000"] {
            lookups.push(put(
                &root,
                "table",
                "lookup",
                Some(n),
                (10.0, 10.0, 10.0),
                "null",
            ));
        }
        let benches = load_benches(&root).unwrap();
        let o = lookup_target(&benches);
        assert!(matches!(&o, Outcome::Met(_)), "{o:?}");
        fs::File::options()
            .write(true)
            .open(lookups[2].join("estimates.json"))
            .unwrap()
            .set_modified(two_hours_ago)
            .unwrap();
        let benches = load_benches(&root).unwrap();
        let o = lookup_target(&benches);
        assert!(
            matches!(&o, Outcome::NotRun(t) if t.contains("not from one run")),
            "{o:?}"
        );

        // In the report, the old rows are marked and the fresh ones are not.
        let out = root.join("REPORT.md");
        generate(&root, &out).unwrap();
        let report = fs::read_to_string(&out).unwrap();
        assert!(
            report.contains("| smoltcp_in_order/64 (peer) ⚠ older run |"),
            "{report}"
        );
        assert!(report.contains("| lookup/100000 ⚠ older run |"), "{report}");
        assert!(report.contains("| lookup/1000 |"), "{report}");
        assert!(report.contains("| in_order/64 |"), "{report}");
        assert!(report.contains("⚠ not one run"), "{report}");
    }

    #[test]
    fn bad_files_are_errors_naming_the_file() {
        let root = scratch("bad-files");
        let new = put(
            &root,
            "engine",
            "in_order",
            Some("64"),
            (1.0, 1.0, 1.0),
            "null",
        );
        let est = new.join("estimates.json");

        fs::write(&est, "{\"median\": ").unwrap();
        let e = load_benches(&root).unwrap_err();
        assert!(matches!(e, ReportError::Malformed { .. }), "{e}");
        assert_eq!(e.path(), est);
        assert!(e
            .to_string()
            .starts_with(&format!("{}: malformed", est.display())));
        assert!(!e.to_string().contains('\n'));

        fs::write(&est, "{\"mean\": {}}").unwrap();
        let e = load_benches(&root).unwrap_err();
        assert!(e.to_string().ends_with("no \"median\" estimate"), "{e}");
        assert_eq!(e.path(), est);

        fs::write(
            &est,
            "{\"median\":{\"confidence_interval\":{\"confidence_level\":0.95,\"lower_bound\":1,\
             \"upper_bound\":2},\"point_estimate\":\"fast\"}}",
        )
        .unwrap();
        let e = load_benches(&root).unwrap_err();
        assert!(e.to_string().contains("median.point_estimate"), "{e}");

        fs::remove_file(&est).unwrap();
        let e = load_benches(&root).unwrap_err();
        assert!(matches!(&e, ReportError::Missing(p) if p == &est), "{e}");
        assert_eq!(e.to_string(), format!("{}: missing", est.display()));

        let meta = new.join("benchmark.json");
        put(
            &root,
            "engine",
            "in_order",
            Some("64"),
            (1.0, 1.0, 1.0),
            "null",
        );
        fs::write(&meta, "{\"group_id\": 7}").unwrap();
        let e = load_benches(&root).unwrap_err();
        assert_eq!(e.path(), meta);
        fs::write(
            &meta,
            "{\"group_id\":\"engine\",\"throughput\":{\"Furlongs\":3}}",
        )
        .unwrap();
        let e = load_benches(&root).unwrap_err();
        assert!(e.to_string().contains("unknown throughput kind"), "{e}");

        let absent = root.join("no-such-dir");
        let e = generate(&absent, &root.join("REPORT.md")).unwrap_err();
        assert!(matches!(&e, ReportError::Missing(p) if p == &absent), "{e}");

        put_fact(&root, "table.broken", 1.0, "B");
        fs::write(
            root.join(FACTS_DIR).join("table.broken.json"),
            "{\"name\":\"x\"}",
        )
        .unwrap();
        let e = load_facts(&root).unwrap_err();
        assert!(e.to_string().ends_with("value is not a number"), "{e}");

        // The command turns any of these into exit status 2.
        let code = run(Args {
            criterion_dir: root.clone(),
            out: root.join("out").join("REPORT.md"),
        });
        assert_eq!(code, ExitCode::from(2));
        assert!(!root.join("out").join("REPORT.md").exists());
    }

    #[test]
    fn writes_the_report_with_not_run_groups_and_linked_plots() {
        let root = scratch("generate");
        let crit = root.join("criterion");
        for (n, ours, peer) in [("0", 30.0, 40.0), ("64", 35.0, 50.0), ("1460", 60.0, 55.0)] {
            let tp = format!("{{\"Bytes\":{}}}", 40 + n.parse::<u64>().unwrap());
            put(
                &crit,
                "wire/parse",
                "synack",
                Some(n),
                (ours, ours, ours),
                &tp,
            );
            put(
                &crit,
                "wire/parse",
                "smoltcp",
                Some(n),
                (peer, peer, peer),
                &tp,
            );
        }
        for (n, ns) in [
            ("1", 10.0),
            ("1000", 11.0),
            ("100000", 14.0),
            ("1000000", 19.0),
        ] {
            put(&crit, "table", "lookup", Some(n), (ns, ns, ns), "null");
        }
        let out = root.join("out").join("REPORT.md");
        let written = generate(&crit, &out).unwrap();
        let parse_svg = root.join("out").join("REPORT-wire-parse.svg");
        let table_svg = root.join("out").join("REPORT-table.svg");
        assert_eq!(
            written,
            vec![out.clone(), table_svg.clone(), parse_svg.clone()]
        );
        for svg in [&parse_svg, &table_svg] {
            let text = fs::read_to_string(svg).unwrap();
            assert!(text.starts_with("<svg") && text.trim_end().ends_with("</svg>"));
        }
        let report = fs::read_to_string(&out).unwrap();
        assert!(report.contains("![wire/parse: cost against size](REPORT-wire-parse.svg)"));
        assert!(report.contains("![table: cost against size](REPORT-table.svg)"));
        for group in ["wire/checksum", "wire/emit", "engine", "model"] {
            assert!(
                report.contains(&format!("## `{group}`\n\nnot run: no results")),
                "{group} not marked not run"
            );
        }
        assert!(report.contains(
            "| synack/64 | 35.0 ns | 35.0 ns – 35.0 ns | 2.77 GiB/s | 1.43× (1.43×–1.43×) |"
        ));
        assert!(report.contains("| smoltcp/64 (peer) | 50.0 ns |"));
        assert!(report
            .contains("| table lookup, 1 to 1 000 000 connections | slowest ≤ 2× fastest | met |"));
        assert!(report.contains("| TIME-WAIT entry size | ≤ 100 B | not run |"));
        assert!(report.contains("## Machine\n\n- CPU: "));
    }

    #[test]
    fn cpuinfo_gives_model_and_cores() {
        let text = "processor\t: 0\nmodel name\t: Example CPU 9000\nphysical id\t: 0\ncore id\t\t: 0\n\n\
                    processor\t: 1\nmodel name\t: Example CPU 9000\nphysical id\t: 0\ncore id\t\t: 0\n\n\
                    processor\t: 2\nmodel name\t: Example CPU 9000\nphysical id\t: 0\ncore id\t\t: 1\n";
        let m = Machine::from_cpuinfo(text);
        assert_eq!(m.cpu, "Example CPU 9000");
        assert_eq!((m.logical_cpus, m.physical_cores), (Some(3), Some(2)));
        let m = Machine::from_cpuinfo("");
        assert!(m.cpu.starts_with("unknown"));
        assert_eq!((m.logical_cpus, m.physical_cores), (None, None));
    }

    #[test]
    fn sizes_and_formats() {
        assert_eq!(parse_size("9000"), Some(9000));
        assert_eq!(parse_size("64B"), Some(64));
        assert_eq!(parse_size("64 KiB"), Some(65536));
        assert_eq!(parse_size("1MiB"), Some(1 << 20));
        assert_eq!(parse_size("1M"), Some(1_000_000));
        assert_eq!(parse_size("small"), None);
        assert_eq!(parse_size("64x"), None);
        assert_eq!(parse_size("99999999999999999999"), None);
        assert_eq!(duration(12.345), "12.3 ns");
        assert_eq!(duration(1234.0), "1.23 µs");
        assert_eq!(duration(10_600_000.0), "10.6 ms");
        assert_eq!(times(2.0), "2.00×");
        assert_eq!(number(85.983232), "86.0");
        assert_eq!(number(64516.0), "64516");
        assert_eq!(slug("wire/parse"), "wire-parse");
    }
}
