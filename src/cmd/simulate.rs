//! `synack simulate`: two engines over a seeded lossy network, N bytes each
//! way, then close; prints a summary, optionally a pcap and a sequence
//! diagram with the real sequence and acknowledgment numbers.

use std::io::Write;
use std::process::ExitCode;

use synack_model::diagram::{self, Event as DiagramEvent, Lane};
use synack_tcp::pcap::PcapWriter;
use synack_tcp::sim::{self, Outcome, Side, SimConfig, SimReport, TraceEvent};

#[derive(clap::Args)]
pub struct Args {
    /// Seed of the network's randomness (the same seed replays the same run).
    #[arg(long, value_name = "S", default_value = "1")]
    seed: String,
    /// Probability that a packet is lost, 0 <= P < 1.
    #[arg(long, value_name = "P", default_value = "0")]
    loss: String,
    /// Probability that a packet is duplicated, 0 <= P <= 1.
    #[arg(long, value_name = "P", default_value = "0")]
    dup: String,
    /// Probability that a packet is held back and overtaken, 0 <= P <= 1.
    #[arg(long, value_name = "P", default_value = "0")]
    reorder: String,
    /// Bytes each side sends to the other.
    #[arg(long, value_name = "N", default_value = "100000")]
    bytes: String,
    /// Write every packet, as sent, to this pcap file (raw IP).
    #[arg(long, value_name = "FILE")]
    pcap: Option<std::path::PathBuf>,
    /// Print a sequence diagram of the whole exchange.
    #[arg(long)]
    diagram: bool,
}

/// Largest transfer accepted: the simulator keeps the run in memory.
const MAX_BYTES: usize = 1 << 30;

fn parse_args(args: &Args) -> Result<SimConfig, String> {
    let seed: u64 = args
        .seed
        .trim()
        .parse()
        .map_err(|_| format!("--seed: '{}' is not an unsigned 64-bit integer", args.seed))?;
    let loss = super::probability("loss", &args.loss, true)?;
    let dup = super::probability("dup", &args.dup, false)?;
    let reorder = super::probability("reorder", &args.reorder, false)?;
    let bytes: usize = args
        .bytes
        .trim()
        .parse()
        .map_err(|_| format!("--bytes: '{}' is not a byte count", args.bytes))?;
    if bytes > MAX_BYTES {
        return Err(format!(
            "--bytes: {bytes} is above the limit of {MAX_BYTES}"
        ));
    }
    let mut cfg = SimConfig::new(seed, loss, dup, reorder, bytes);
    cfg.trace = args.diagram;
    cfg.capture = args.pcap.is_some();
    cfg.validate().map_err(|e| e.to_string())?;
    Ok(cfg)
}

pub fn run(args: Args) -> ExitCode {
    let cfg = match parse_args(&args) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("synack simulate: {e}");
            return ExitCode::from(2);
        }
    };
    let report = match sim::run(&cfg) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("synack simulate: {e}");
            return ExitCode::from(2);
        }
    };
    // Write errors (a closed pipe, as with `| head`) end the output quietly.
    let mut out = std::io::stdout().lock();
    if args.diagram {
        let text = diagram::text(("A (client)", "B (server)"), &diagram_events(&report));
        let _ = writeln!(out, "{text}(t = virtual time in milliseconds)\n");
    }
    let _ = write!(out, "{}", summary(&cfg, &report));
    if let Some(path) = &args.pcap {
        if let Err(e) = write_pcap(path, &report) {
            eprintln!("synack simulate: writing {}: {e}", path.display());
            return ExitCode::from(1);
        }
        let _ = writeln!(
            out,
            "pcap: {} packets written to {}",
            report.packets.len(),
            path.display()
        );
    }
    if report.success() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn write_pcap(path: &std::path::Path, report: &SimReport) -> Result<(), String> {
    let mut w = PcapWriter::create(path).map_err(|e| e.to_string())?;
    for (at, bytes) in &report.packets {
        w.write_packet(*at, bytes).map_err(|e| e.to_string())?;
    }
    w.finish().map_err(|e| e.to_string())?;
    Ok(())
}

fn percent(p: f64) -> String {
    format!("{}%", (p * 1000.0).round() / 10.0)
}

/// The human-readable summary.
pub fn summary(cfg: &SimConfig, r: &SimReport) -> String {
    let mut s = String::new();
    s.push_str(&format!(
        "synack simulate: seed {}, loss {}, dup {}, reorder {}, {} bytes each way\n",
        cfg.seed,
        percent(cfg.loss),
        percent(cfg.duplicate),
        percent(cfg.reorder),
        cfg.bytes
    ));
    for (name, t) in [("A -> B", &r.transfers[0]), ("B -> A", &r.transfers[1])] {
        let mut line = format!(
            "{name}: {}/{} bytes delivered in order and verified",
            t.delivered, cfg.bytes
        );
        if let Some(at) = t.corrupt_at {
            line.push_str(&format!("; CORRUPT from byte {at}"));
        }
        if t.excess > 0 {
            line.push_str(&format!("; {} bytes beyond the stream", t.excess));
        }
        s.push_str(&line);
        s.push('\n');
    }
    s.push_str(&format!(
        "retransmissions: A {}, B {}\n",
        r.retransmissions[0], r.retransmissions[1]
    ));
    s.push_str(&format!(
        "packets: A sent {}, B sent {}; the network lost {}, duplicated {}, reordered {}, expired {}\n",
        r.packets_sent[0], r.packets_sent[1], r.lost, r.duplicated, r.reordered, r.expired
    ));
    s.push_str(&format!(
        "virtual duration: {:.6} s (TIME-WAIT included)\n",
        r.duration.as_secs_f64()
    ));
    let end = |o: &Outcome| o.to_string();
    s.push_str(&format!("A (active open): {}\n", end(&r.outcomes[0])));
    s.push_str(&format!("B (passive open): {}\n", end(&r.outcomes[1])));
    let gave_up = r
        .outcomes
        .iter()
        .zip(["A", "B"])
        .find_map(|(o, side)| match o {
            Outcome::Closed(synack_tcp::Ended::TimedOut(kind)) => {
                Some(format!("{side} gave up ({kind:?})"))
            }
            _ => None,
        });
    let verdict = if !r.no_corruption() {
        "FAILED: data corrupted or duplicated".to_string()
    } else if r.success() {
        "OK: every byte delivered once, in order; both sides closed gracefully".to_string()
    } else if let Some(who) = gave_up {
        format!("TIMED OUT: {who}; no byte was delivered wrong")
    } else if r.transfers.iter().all(|t| t.complete(r.bytes)) {
        "DELIVERED: every byte once, in order, but a close was not graceful (see above)".to_string()
    } else if r.timed_out {
        "TIMED OUT: the virtual time limit passed before both sides finished".to_string()
    } else {
        "INCOMPLETE: see the outcomes above; no byte was delivered wrong".to_string()
    };
    s.push_str(&format!("result: {verdict}\n"));
    if !r.success() {
        s.push_str(&format!(
            "replay: synack simulate --seed {} --loss {} --dup {} --reorder {} --bytes {}\n",
            cfg.seed, cfg.loss, cfg.duplicate, cfg.reorder, cfg.bytes
        ));
    }
    s
}

fn lane(side: Side) -> Lane {
    match side {
        Side::A => Lane::Left,
        Side::B => Lane::Right,
    }
}

/// The simulator's trace as diagram events. Time shows as a tick row (in
/// milliseconds of virtual time) wherever at least 100 ms passed.
pub fn diagram_events(r: &SimReport) -> Vec<DiagramEvent> {
    let mut out = Vec::with_capacity(r.trace.len());
    let mut last_ms: Option<u64> = None;
    for (at, ev) in &r.trace {
        let ms = at.micros() / 1000;
        if last_ms.is_some_and(|l| ms >= l + 100) {
            out.push(DiagramEvent::Tick {
                now: u32::try_from(ms).unwrap_or(u32::MAX),
            });
        }
        last_ms = Some(ms);
        out.push(match ev {
            TraceEvent::State { side, state } => DiagramEvent::State {
                lane: lane(*side),
                state: state.rfc_name().to_string(),
            },
            TraceEvent::Send { from, seg } => DiagramEvent::Send {
                from: lane(*from),
                label: seg.to_string(),
            },
            TraceEvent::Deliver { from, seg } => DiagramEvent::Deliver {
                from: lane(*from),
                label: seg.to_string(),
                note: None,
            },
            TraceEvent::Lost { from, seg } => DiagramEvent::Lost {
                from: lane(*from),
                label: seg.to_string(),
            },
            TraceEvent::Duplicated { from, seg } => DiagramEvent::Duplicated {
                from: lane(*from),
                label: seg.to_string(),
            },
            TraceEvent::Expired { from, seg } => DiagramEvent::Expired {
                from: lane(*from),
                label: seg.to_string(),
            },
            TraceEvent::Note { side, text } => DiagramEvent::Note {
                lane: lane(*side),
                text: text.clone(),
            },
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(loss: &str, bytes: &str) -> Args {
        Args {
            seed: "3".into(),
            loss: loss.into(),
            dup: "0.1".into(),
            reorder: "0.1".into(),
            bytes: bytes.into(),
            pcap: None,
            diagram: false,
        }
    }

    #[test]
    fn bad_arguments_are_one_line_errors() {
        for (loss, bytes, needle) in [
            ("1", "10", "--loss: 1 is not a probability"),
            ("-0.1", "10", "--loss: -0.1 is not a probability"),
            ("abc", "10", "--loss: 'abc' is not a number"),
            ("NaN", "10", "--loss: NaN is not a probability"),
            ("0.1", "ten", "--bytes: 'ten' is not a byte count"),
        ] {
            let e = parse_args(&args(loss, bytes)).expect_err("must be refused");
            assert!(e.contains(needle), "{e}");
            assert!(!e.contains('\n'));
        }
        assert!(parse_args(&args("0.2", "1000")).is_ok());
    }

    #[test]
    fn diagram_shows_the_handshake_with_real_numbers() {
        let mut cfg = SimConfig::new(5, 0.0, 0.0, 0.0, 100);
        cfg.trace = true;
        let r = sim::run(&cfg).expect("valid");
        assert!(r.success());
        let text = diagram::text(("A", "B"), &diagram_events(&r));
        let syn = r
            .trace
            .iter()
            .find_map(|(_, e)| match e {
                TraceEvent::Send { from: Side::A, seg } if seg.flags.syn() => Some(seg.seq),
                _ => None,
            })
            .expect("A sent a SYN");
        assert!(text.contains(&format!("SYN seq={syn}")), "{text}");
        assert!(text.contains("SYN,ACK seq="), "{text}");
        assert!(
            text.contains(&format!("ack={}", syn.wrapping_add(1))),
            "{text}"
        );
        assert!(text.contains("[TIME-WAIT]"), "{text}");
        let s = summary(&cfg, &r);
        assert!(s.contains("A -> B: 100/100 bytes"), "{s}");
        assert!(s.contains("result: OK"), "{s}");
    }
}
