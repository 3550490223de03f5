//! What `synack interop` shows a user: the main scenario (a verified transfer
//! each way and an orderly close) and a sequence diagram of its handshake and
//! close, drawn with the model crate's diagram renderer.

use std::time::Duration;

use synack_model::diagram::{self, Event as DEvent, Lane};
use synack_tcp::connection::State;
use synack_tcp::Instant;

use super::engine::EngineNote;
use super::kernel::KernelState;
use super::packet::SegInfo;
use super::pump::{Dir, Fate};
use super::scenario::{self, Role, Session, TransferSummary};
use super::{Failure, Impairment, Outcome, TestCtx};

/// Everything `synack interop` prints.
#[derive(Clone, Debug)]
pub struct MainReport {
    pub role: Role,
    pub transfer: TransferSummary,
    /// The engine's states, in order, from the first to CLOSED.
    pub engine_states: Vec<State>,
    /// The kernel's states as sampled (None: no socket any more).
    pub kernel_states: Vec<Option<KernelState>>,
    pub time_wait: Option<Duration>,
    pub link: (super::LinkStats, super::LinkStats),
    pub frames: u64,
    pub pcap: std::path::PathBuf,
    /// The tshark verdict: passed, or skipped with the reason.
    pub judged: Outcome,
    pub diagram: String,
}

/// The scenario `synack interop` runs: handshake, `bytes` each way verified,
/// engine-initiated close, TIME-WAIT to its end; pcap judged by tshark.
/// `Ok(Err(reason))` when interop cannot run on this machine.
pub fn main_scenario(
    ctx: &TestCtx,
    role: Role,
    bytes: usize,
    impairment: Impairment,
) -> Result<Result<MainReport, String>, Failure> {
    ctx.in_namespace_or_skip(|ns| {
        let expected = scenario::transfer_flags(&impairment);
        let (mut s, transfer) = scenario::transfer_session(ctx, ns, role, bytes, impairment)?;
        let time_wait = scenario::base_config().time_wait_duration();
        s.run_until(
            "TIME-WAIT to end",
            time_wait + Duration::from_secs(3),
            |e, _| e.state() == State::Closed,
        )?;
        let time_wait = match (
            s.engine.entered(State::TimeWait),
            s.engine.entered(State::Closed),
        ) {
            (Some(a), Some(b)) => Some(b - a),
            _ => None,
        };
        let judged = s.judge(ctx, &expected)?;
        Ok(MainReport {
            role,
            transfer,
            engine_states: s.engine.states(),
            kernel_states: s.kernel_states.iter().map(|(_, k)| *k).collect(),
            time_wait,
            link: s.pump.link_stats(),
            frames: s.pump.frames(),
            pcap: s.pump.pcap_path().to_path_buf(),
            judged,
            diagram: handshake_and_close_diagram(&s),
        })
    })
}

/// The lanes: the client on the left.
pub fn lanes(role: Role) -> (&'static str, &'static str) {
    match role {
        Role::EngineClient => ("synack engine (client)", "Linux kernel (server)"),
        Role::EngineServer => ("Linux kernel (client)", "synack engine (server)"),
    }
}

/// A text sequence diagram of the handshake and the close of a session (the
/// data in between is summarised in one line).
pub fn handshake_and_close_diagram(s: &Session) -> String {
    let (engine_lane, kernel_lane) = match s.role {
        Role::EngineClient => (Lane::Left, Lane::Right),
        Role::EngineServer => (Lane::Right, Lane::Left),
    };
    // Sequence numbers relative to each side's ISN, as Wireshark shows them.
    let iss_of = |dir: Dir| {
        s.pump
            .log()
            .iter()
            .filter(|e| e.dir == dir && e.fate == Fate::Sent)
            .filter_map(|e| SegInfo::parse(&e.packet).ok())
            .find(|p| p.has(synack_tcp::Flags::SYN))
            .map(|p| p.seq)
            .unwrap_or(0)
    };
    let engine_iss = iss_of(Dir::EngineToKernel);
    let kernel_iss = iss_of(Dir::KernelToEngine);

    // (time, order within the same instant, event)
    let mut timeline: Vec<(Instant, u8, DEvent)> = Vec::new();
    let mut data_segments = 0u64;
    let mut data_bytes = 0u64;
    let mut in_data = false;
    let mut closing = false;
    // Packets whose sending was part of the (undrawn) data phase: their later
    // delivery or loss is not drawn either.
    let mut undrawn: std::collections::HashSet<&[u8]> = std::collections::HashSet::new();
    for e in s.pump.log() {
        let Ok(p) = SegInfo::parse(&e.packet) else {
            continue;
        };
        if e.fate != Fate::Sent && undrawn.contains(e.packet.as_slice()) {
            continue;
        }
        let (from, bases) = match e.dir {
            Dir::EngineToKernel => (engine_lane, (engine_iss, kernel_iss)),
            Dir::KernelToEngine => (kernel_lane, (kernel_iss, engine_iss)),
        };
        if p.has(synack_tcp::Flags::FIN) || p.has(synack_tcp::Flags::RST) {
            closing = true;
        }
        if !closing && p.len > 0 {
            // The data phase: count it, draw none of it.
            if e.fate == Fate::Sent {
                data_segments += 1;
                data_bytes += p.len as u64;
                undrawn.insert(e.packet.as_slice());
            }
            if !in_data {
                in_data = true;
                timeline.push((
                    e.at,
                    0,
                    DEvent::Note {
                        lane: from,
                        text: "data transfer begins".into(),
                    },
                ));
            }
            continue;
        }
        if in_data && !closing {
            // Pure ACKs during the transfer are part of the data phase too.
            if e.fate == Fate::Sent {
                undrawn.insert(e.packet.as_slice());
            }
            continue;
        }
        let label = p.label(Some(bases));
        let ev = match e.fate {
            Fate::Sent => DEvent::Send { from, label },
            Fate::Delivered => DEvent::Deliver {
                from,
                label,
                note: None,
            },
            Fate::Lost => DEvent::Lost { from, label },
            Fate::Duplicated => DEvent::Duplicated { from, label },
        };
        timeline.push((e.at, 0, ev));
    }
    if in_data {
        // The summary goes where the data phase ends: just before the first
        // FIN or RST, or the engine's leaving ESTABLISHED, whichever is first.
        let first_close = s
            .pump
            .log()
            .iter()
            .find(|e| {
                SegInfo::parse(&e.packet)
                    .is_ok_and(|p| p.has(synack_tcp::Flags::FIN) || p.has(synack_tcp::Flags::RST))
            })
            .map(|e| e.at);
        let left_established = s
            .engine
            .notes
            .iter()
            .skip_while(|(_, n)| *n != EngineNote::State(State::Established))
            .find(|(_, n)| matches!(n, EngineNote::State(st) if *st != State::Established))
            .map(|(at, _)| *at);
        let end = [first_close, left_established]
            .into_iter()
            .flatten()
            .min()
            .unwrap_or_else(|| s.now());
        timeline.push((
            end - Duration::from_micros(1),
            2,
            DEvent::Note {
                lane: engine_lane,
                text: format!("... {data_segments} data segments, {data_bytes} B (not drawn) ..."),
            },
        ));
    }
    for (at, note) in &s.engine.notes {
        if let EngineNote::State(state) = note {
            timeline.push((
                *at,
                1,
                DEvent::State {
                    lane: engine_lane,
                    state: state.rfc_name().to_string(),
                },
            ));
        }
    }
    for (at, state) in &s.kernel_states {
        let name = match state {
            Some(k) => k.ss_name(),
            // The kernel keeps no socket for a closed connection.
            None => "CLOSED".to_string(),
        };
        timeline.push((
            *at,
            1,
            DEvent::State {
                lane: kernel_lane,
                state: name,
            },
        ));
    }
    timeline.sort_by_key(|(at, order, _)| (*at, *order));
    let events: Vec<DEvent> = timeline.into_iter().map(|(_, _, e)| e).collect();
    diagram::text(lanes(s.role), &events)
}

impl MainReport {
    /// The summary lines `synack interop` prints above the diagram.
    pub fn summary(&self, impairment: &Impairment, seed: u64) -> String {
        let mut out = String::new();
        let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease")
            .map(|s| s.trim().to_string())
            .unwrap_or_else(|_| "?".into());
        let (client, server) = lanes(self.role);
        out.push_str(&format!(
            "synack interop: {client} <-> {server}, Linux {kernel}, over a TUN device in a private network namespace\n"
        ));
        out.push_str(&format!(
            "link: loss {:.1}%, duplication {:.1}%, reordering {:.1}% (by {:?}), delay {:?} + up to {:?}; seed {seed:#x}\n",
            impairment.loss * 100.0,
            impairment.duplicate * 100.0,
            impairment.reorder * 100.0,
            impairment.reorder_by,
            impairment.delay,
            impairment.jitter
        ));
        let t = &self.transfer;
        out.push_str(&format!(
            "transfer: {} B each way in {:.2} s, every byte verified (engine->kernel digest {:016x}, kernel->engine {:016x})\n",
            t.bytes,
            t.took.as_secs_f64(),
            t.engine_to_kernel_digest,
            t.kernel_to_engine_digest
        ));
        let (to_engine, to_kernel) = self.link;
        out.push_str(&format!(
            "link to kernel: {} offered, {} dropped, {} duplicated, {} reordered; to engine: {} offered, {} dropped, {} duplicated, {} reordered\n",
            to_kernel.offered, to_kernel.dropped, to_kernel.duplicated, to_kernel.reordered,
            to_engine.offered, to_engine.dropped, to_engine.duplicated, to_engine.reordered
        ));
        out.push_str(&format!(
            "retransmissions: engine {}, kernel {}\n",
            t.engine_retransmissions, t.kernel_retransmissions
        ));
        let states: Vec<&str> = self.engine_states.iter().map(|s| s.rfc_name()).collect();
        out.push_str(&format!("engine states: {}\n", states.join(" -> ")));
        let kstates: Vec<String> = self
            .kernel_states
            .iter()
            .map(|k| k.map(|k| k.ss_name()).unwrap_or_else(|| "CLOSED".into()))
            .collect();
        out.push_str(&format!(
            "kernel states (sampled): {}\n",
            kstates.join(" -> ")
        ));
        if let Some(tw) = self.time_wait {
            out.push_str(&format!(
                "engine TIME-WAIT lasted {:.3} s (2 x MSL = {:?})\n",
                tw.as_secs_f64(),
                scenario::base_config().time_wait_duration()
            ));
        }
        match &self.judged {
            Outcome::Passed => out.push_str(&format!(
                "tshark: {} frames, none malformed, no bad checksum, every analysis flag expected\n",
                self.frames
            )),
            Outcome::Skipped(why) => out.push_str(&format!("tshark: SKIPPED: {why}\n")),
        }
        out.push_str(&format!("pcap: {}\n", self.pcap.display()));
        out
    }
}
