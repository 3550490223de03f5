//! `synack interop`: the engine against the Linux kernel's own TCP, over a TUN
//! device in a private network namespace (needs root). Transfers N bytes each
//! way over a seeded impaired link, closes, and prints a summary, the pcap's
//! path and a sequence diagram of the handshake and the close.

use std::path::PathBuf;
use std::process::ExitCode;

use synack_checks::interop::report::main_scenario;
use synack_checks::interop::scenario::Role;
use synack_checks::interop::{Impairment, TestCtx};

#[derive(clap::Args)]
pub struct Args {
    /// Probability that a packet is lost, 0 <= P < 1, in each direction; the
    /// same probability of duplication and of reordering unless --dup or
    /// --reorder say otherwise.
    #[arg(long, value_name = "P", default_value = "0")]
    loss: String,
    /// Probability that a packet is duplicated, 0 <= P <= 1 (default: --loss).
    #[arg(long, value_name = "P")]
    dup: Option<String>,
    /// Probability that a packet is held back 3 ms and overtaken, 0 <= P <= 1
    /// (default: --loss).
    #[arg(long, value_name = "P")]
    reorder: Option<String>,
    /// Seed of the link's randomness and of the data (decimal or 0x-hex).
    #[arg(long, value_name = "S", default_value = "1")]
    seed: String,
    /// Bytes each side sends to the other, 1..=64 MiB.
    #[arg(long, value_name = "N", default_value = "1048576")]
    bytes: String,
    /// Which end the engine plays: client (it connects to a kernel listener)
    /// or server (a kernel socket connects to it).
    #[arg(long, value_name = "ROLE", default_value = "client")]
    role: String,
    /// Where to write the pcap (default: target/synack-interop/interop.pcap).
    #[arg(long, value_name = "FILE")]
    pcap: Option<PathBuf>,
}

/// Exit status when interop cannot run here (not root, no TUN): the automake
/// convention for "skipped".
const EXIT_SKIPPED: u8 = 77;

/// The transfer runs on real time; keep it to something that ends in minutes.
const MAX_BYTES: usize = 64 << 20;

struct Parsed {
    impairment: Impairment,
    seed: u64,
    bytes: usize,
    role: Role,
}

fn parse(args: &Args) -> Result<Parsed, String> {
    let loss = super::probability("loss", &args.loss, true)?;
    let dup = match &args.dup {
        Some(t) => super::probability("dup", t, false)?,
        None => loss,
    };
    let reorder = match &args.reorder {
        Some(t) => super::probability("reorder", t, false)?,
        None => loss,
    };
    let seed_text = args.seed.trim();
    let seed = match seed_text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => seed_text.parse(),
    }
    .map_err(|_| format!("--seed: '{}' is not an unsigned 64-bit number", args.seed))?;
    let bytes: usize = args
        .bytes
        .trim()
        .parse()
        .map_err(|_| format!("--bytes: '{}' is not a byte count", args.bytes))?;
    if bytes == 0 || bytes > MAX_BYTES {
        return Err(format!("--bytes: {bytes} is not in 1..={MAX_BYTES}"));
    }
    let role = match args.role.trim() {
        "client" => Role::EngineClient,
        "server" => Role::EngineServer,
        other => return Err(format!("--role: '{other}' is neither client nor server")),
    };
    let impairment = if loss == 0.0 && dup == 0.0 && reorder == 0.0 {
        Impairment::NONE
    } else {
        Impairment {
            loss,
            duplicate: dup,
            reorder,
            ..Impairment::lossy(loss)
        }
    };
    Ok(Parsed {
        impairment,
        seed,
        bytes,
        role,
    })
}

pub fn run(args: Args) -> ExitCode {
    let p = match parse(&args) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("synack interop: {e}");
            return ExitCode::from(2);
        }
    };
    let mut ctx = TestCtx::new("interop", p.seed);
    if let Some(path) = args.pcap {
        ctx.pcap = path;
    }
    match main_scenario(&ctx, p.role, p.bytes, p.impairment.clone()) {
        Ok(Ok(report)) => {
            print!("{}", report.summary(&p.impairment, p.seed));
            println!();
            println!("handshake and close (time flows down; seq/ack relative to each side's ISN):");
            print!("{}", report.diagram);
            ExitCode::SUCCESS
        }
        Ok(Err(why)) => {
            println!("synack interop: SKIPPED: {why}");
            ExitCode::from(EXIT_SKIPPED)
        }
        Err(e) => {
            for note in ctx.notes() {
                eprintln!("{note}");
            }
            eprintln!("synack interop: FAILED: {e}");
            eprintln!(
                "  seed {:#x}; pcap {}; replay: synack interop --seed {:#x} --loss {} --bytes {} --role {}",
                p.seed,
                ctx.pcap.display(),
                p.seed,
                args.loss,
                p.bytes,
                args.role
            );
            ExitCode::from(1)
        }
    }
}
