//! A failing case written out: `trace.json` (the steps, what each side did,
//! the difference), `segments.pcap` (the engines' real segments as raw IP) and
//! `diagram.txt` (the engines' history as a sequence diagram).

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use serde::Serialize;
use synack_model::{diagram, Config};
use synack_tcp::pcap::PcapWriter;

use super::harness::{Divergence, Harness, LogStep};
use super::reference::Step;

/// Where failures go: `$CARGO_TARGET_DIR/synack-failures`, else the
/// workspace's `target/synack-failures`.
pub fn failures_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => PathBuf::from(d).join("synack-failures"),
        None => Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .join("target")
            .join("synack-failures"),
    }
}

#[derive(Serialize)]
struct Trace<'a> {
    name: &'a str,
    seed: u64,
    replay: &'a str,
    config: &'a Config,
    sequence_base: u32,
    steps: Vec<String>,
    transitions: &'a [Step],
    log: &'a [LogStep],
    divergence: &'a Divergence,
}

/// Writes the three files for a failing case into
/// `target/synack-failures/<name>-<seed>/` and returns the directory.
pub fn write_failure(
    name: &str,
    seed: u64,
    replay: &str,
    steps: &[Step],
    harness: &Harness,
    divergence: &Divergence,
) -> io::Result<PathBuf> {
    let dir = failures_dir().join(format!("{name}-{seed}"));
    fs::create_dir_all(&dir)?;
    let trace = Trace {
        name,
        seed,
        replay,
        config: &harness.reference.config,
        sequence_base: harness.reference.base,
        steps: steps.iter().map(|s| s.to_string()).collect(),
        transitions: steps,
        log: &harness.log,
        divergence,
    };
    let json = serde_json::to_string_pretty(&trace).map_err(io::Error::other)?;
    fs::write(dir.join("trace.json"), json)?;

    let mut pcap = PcapWriter::create(dir.join("segments.pcap")).map_err(io::Error::other)?;
    for (at, packet) in &harness.system.packets {
        pcap.write_packet(*at, packet).map_err(io::Error::other)?;
    }
    pcap.finish().map_err(io::Error::other)?;

    let mut text = diagram::text(
        ("client (engine)", "server (engine)"),
        &harness.system.events,
    );
    text.push('\n');
    text.push_str(&divergence.to_string());
    fs::write(dir.join("diagram.txt"), text)?;
    Ok(dir)
}

/// Replays `steps` from the start on a fresh harness, stopping at the first
/// difference: the harness as it was then, and the difference.
pub fn rerun(config: Config, base: u32, steps: &[Step]) -> (Harness, Option<Divergence>) {
    let mut h = match Harness::new(config, base) {
        Ok(h) => h,
        Err(e) => {
            let d = Divergence {
                step_index: 0,
                step: "configuration".into(),
                problems: vec![e.to_string()],
            };
            // A harness on the default configuration, only to carry the log.
            let h = Harness::new(Config::default_for(config.variant), base)
                .or_else(|_| {
                    Harness::new(Config::default_for(synack_model::Variant::Standard), base)
                })
                .expect("the standard configuration is valid");
            return (h, Some(d));
        }
    };
    for step in steps {
        if let Err(d) = h.step(step) {
            return (h, Some(d));
        }
    }
    (h, None)
}
