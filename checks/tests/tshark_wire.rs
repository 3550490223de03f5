//! tshark judges a pcap written with synack-tcp's wire module: an IPv4
//! conversation (handshake with every SYN option, data, a loss with SACK and a
//! retransmission, a close) and an IPv6 handshake. No frame may be malformed
//! or carry a bad checksum, and every option must decode as written.
//!
//! libtest cannot say "skipped", so this file has its own main: without
//! tshark it prints one SKIPPED line (a failure if SYNACK_REQUIRE_TSHARK is
//! set, as CI may do), never a pass.

use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use synack_checks::tshark::{judge, Judgement, Report, Severity};
use synack_tcp::pcap::PcapWriter;
use synack_tcp::wire::options::{SackBlock, SackBlocks};
use synack_tcp::wire::{emit_tcp_packet, Flags, TcpHeader, TcpOptions};
use synack_tcp::{Instant, SeqNum};

/// One segment as written, kept to compare with what tshark decoded.
struct Written {
    header: TcpHeader,
    payload_len: usize,
    /// Part of the staged loss episode: tshark may flag it in analysis.
    in_loss_episode: bool,
}

struct Capture {
    pcap: PcapWriter<std::io::BufWriter<std::fs::File>>,
    written: Vec<Written>,
    t: u64,
}

impl Capture {
    fn send(
        &mut self,
        src: (IpAddr, u16),
        dst: (IpAddr, u16),
        header: TcpHeader,
        payload: &[u8],
        in_loss_episode: bool,
        captured: bool,
    ) {
        let header = TcpHeader {
            src_port: src.1,
            dst_port: dst.1,
            ..header
        };
        let mut buf = [0u8; 1600];
        let n = emit_tcp_packet(src.0, dst.0, 64, &header, payload, &mut buf)
            .expect("emit a test packet");
        self.t += 1_000;
        if captured {
            self.pcap
                .write_packet(Instant::from_micros(self.t), &buf[..n])
                .expect("write pcap");
            self.written.push(Written {
                header,
                payload_len: payload.len(),
                in_loss_episode,
            });
        }
    }
}

fn opts() -> TcpOptions {
    TcpOptions::new()
}

fn ts(tsval: u32, tsecr: u32) -> TcpOptions {
    TcpOptions {
        timestamps: Some((tsval, tsecr)),
        ..opts()
    }
}

fn write_conversation(path: &PathBuf) -> Vec<Written> {
    let mut cap = Capture {
        pcap: PcapWriter::create(path).expect("create pcap"),
        written: Vec::new(),
        t: 0,
    };
    let client: (IpAddr, u16) = ("192.0.2.1".parse().unwrap(), 40_000);
    let server: (IpAddr, u16) = ("198.51.100.7".parse().unwrap(), 80);
    // Near the wrap, so the sequence space crosses 2^32 mid-conversation.
    let iss_c = SeqNum(u32::MAX - 10);
    let iss_s = SeqNum(1_000_000);
    let ack = Flags::ACK;
    let h = |seq: SeqNum, ackn: SeqNum, flags: Flags, options: TcpOptions| TcpHeader {
        seq,
        ack: ackn,
        flags,
        window: 1024,
        options,
        ..TcpHeader::default()
    };
    // Handshake, every SYN option.
    let syn_opts = TcpOptions {
        mss: Some(1460),
        window_scale: Some(7),
        sack_permitted: true,
        timestamps: Some((100, 0)),
        ..opts()
    };
    cap.send(
        client,
        server,
        h(iss_c, SeqNum(0), Flags::SYN, syn_opts),
        b"",
        false,
        true,
    );
    let synack_opts = TcpOptions {
        mss: Some(1400),
        window_scale: Some(8),
        sack_permitted: true,
        timestamps: Some((5000, 100)),
        ..opts()
    };
    let (c1, s1) = (iss_c + 1, iss_s + 1);
    cap.send(
        server,
        client,
        h(iss_s, c1, Flags::SYN | ack, synack_opts),
        b"",
        false,
        true,
    );
    cap.send(
        client,
        server,
        h(c1, s1, ack, ts(101, 5000)),
        b"",
        false,
        true,
    );
    // In-order data both ways.
    cap.send(
        client,
        server,
        h(c1, s1, Flags::PSH | ack, ts(102, 5000)),
        b"hello",
        false,
        true,
    );
    let c2 = c1 + 5;
    cap.send(
        server,
        client,
        h(s1, c2, Flags::PSH | ack, ts(5001, 102)),
        b"world!",
        false,
        true,
    );
    let s2 = s1 + 6;
    cap.send(
        client,
        server,
        h(c2, s2, ack, ts(103, 5001)),
        b"",
        false,
        true,
    );
    // Loss: the segment [c2, c2+8) never reaches the capture; the next one
    // does, the server SACKs it, the client retransmits.
    let c3 = c2 + 8;
    let c4 = c3 + 8;
    cap.send(
        client,
        server,
        h(c2, s2, ack, ts(104, 5001)),
        b"AAAAAAAA",
        true,
        false,
    );
    cap.send(
        client,
        server,
        h(c3, s2, ack, ts(105, 5001)),
        b"BBBBBBBB",
        true,
        true,
    );
    let sack = TcpOptions {
        timestamps: Some((5002, 105)),
        sack: SackBlocks::from_slice(&[SackBlock {
            left: c3,
            right: c4,
        }])
        .unwrap(),
        ..opts()
    };
    cap.send(server, client, h(s2, c2, ack, sack), b"", true, true);
    cap.send(
        client,
        server,
        h(c2, s2, ack, ts(106, 5002)),
        b"AAAAAAAA",
        true,
        true,
    );
    // A SACK with several blocks (the most that fit next to timestamps),
    // acknowledging everything cumulatively so the blocks are D-SACK-like
    // reports below the ACK: still decodable options.
    let three = TcpOptions {
        timestamps: Some((5003, 106)),
        sack: SackBlocks::from_slice(&[
            SackBlock {
                left: c3,
                right: c4,
            },
            SackBlock {
                left: c2,
                right: c3,
            },
            SackBlock {
                left: c1,
                right: c2,
            },
        ])
        .unwrap(),
        ..opts()
    };
    cap.send(server, client, h(s2, c4, ack, three), b"", true, true);
    // Close: FIN, FIN+ACK, ACK.
    cap.send(
        client,
        server,
        h(c4, s2, Flags::FIN | ack, ts(107, 5003)),
        b"",
        false,
        true,
    );
    cap.send(
        server,
        client,
        h(s2, c4 + 1, Flags::FIN | ack, ts(5004, 107)),
        b"",
        false,
        true,
    );
    cap.send(
        client,
        server,
        h(c4 + 1, s2 + 1, ack, ts(108, 5004)),
        b"",
        false,
        true,
    );

    // IPv6: a handshake and an RST, options included.
    let c6: (IpAddr, u16) = ("2001:db8::1".parse().unwrap(), 50_000);
    let s6: (IpAddr, u16) = ("2001:db8::2".parse().unwrap(), 443);
    let v6syn = TcpOptions {
        mss: Some(1440),
        window_scale: Some(14),
        sack_permitted: true,
        timestamps: Some((1, 0)),
        ..opts()
    };
    cap.send(
        c6,
        s6,
        h(SeqNum(7), SeqNum(0), Flags::SYN, v6syn),
        b"",
        false,
        true,
    );
    let v6synack = TcpOptions {
        mss: Some(1220),
        window_scale: Some(0),
        ..opts()
    };
    cap.send(
        s6,
        c6,
        h(SeqNum(900), SeqNum(8), Flags::SYN | ack, v6synack),
        b"",
        false,
        true,
    );
    cap.send(
        c6,
        s6,
        h(SeqNum(8), SeqNum(901), ack, opts()),
        b"",
        false,
        true,
    );
    cap.send(
        c6,
        s6,
        h(SeqNum(8), SeqNum(0), Flags::RST, opts()),
        b"",
        false,
        true,
    );

    cap.pcap.finish().expect("flush pcap");
    cap.written
}

/// Compare what tshark decoded with what was written; one message per problem.
fn compare(report: &Report, written: &[Written]) -> Vec<String> {
    let mut problems = Vec::new();
    if report.frames.len() != written.len() {
        problems.push(format!(
            "tshark read {} frames, {} were written",
            report.frames.len(),
            written.len()
        ));
    }
    for n in report.malformed() {
        problems.push(format!("frame {n} malformed: {:?}", report.frame(n)));
    }
    for n in report.bad_checksums() {
        problems.push(format!(
            "frame {n} checksum not good: {:?}",
            report.frame(n)
        ));
    }
    for frame in &report.frames {
        let Some(w) = written.get(frame.number as usize - 1) else {
            continue;
        };
        // Warnings belong only to the loss episode, except the one tshark
        // attaches to every RST.
        let unexpected: Vec<_> = frame
            .expert
            .iter()
            .filter(|(sev, msg)| {
                *sev >= Severity::Warning
                    && !w.in_loss_episode
                    && !(w.header.flags.rst() && msg.starts_with("Connection reset"))
            })
            .collect();
        if !unexpected.is_empty() {
            problems.push(format!("frame {} warnings: {unexpected:?}", frame.number));
        }
    }
    for n in report.analysis_flagged() {
        if !written[n as usize - 1].in_loss_episode {
            problems.push(format!(
                "frame {n} flagged by TCP analysis outside the loss episode"
            ));
        }
    }
    for (frame, w) in report.frames.iter().zip(written) {
        let n = frame.number;
        let h = &w.header;
        let o = &h.options;
        let mut check = |what: &str, ok: bool, got: String, want: String| {
            if !ok {
                problems.push(format!("frame {n} {what}: tshark {got}, written {want}"));
            }
        };
        check(
            "src port",
            frame.src_port == Some(h.src_port),
            format!("{:?}", frame.src_port),
            h.src_port.to_string(),
        );
        check(
            "dst port",
            frame.dst_port == Some(h.dst_port),
            format!("{:?}", frame.dst_port),
            h.dst_port.to_string(),
        );
        check(
            "seq",
            frame.seq == Some(h.seq.0),
            format!("{:?}", frame.seq),
            h.seq.to_string(),
        );
        if h.flags.ack() {
            check(
                "ack",
                frame.ack == Some(h.ack.0),
                format!("{:?}", frame.ack),
                h.ack.to_string(),
            );
        }
        check(
            "flags",
            frame.tcp_flags == Some(u16::from(h.flags.0)),
            format!("{:?}", frame.tcp_flags),
            format!("{:?}", h.flags),
        );
        check(
            "window",
            frame.window == Some(h.window),
            format!("{:?}", frame.window),
            h.window.to_string(),
        );
        check(
            "len",
            frame.tcp_len == Some(w.payload_len as u32),
            format!("{:?}", frame.tcp_len),
            w.payload_len.to_string(),
        );
        let d = &frame.options;
        check(
            "mss",
            d.mss == o.mss,
            format!("{:?}", d.mss),
            format!("{:?}", o.mss),
        );
        check(
            "wscale",
            d.wscale_shift == o.window_scale,
            format!("{:?}", d.wscale_shift),
            format!("{:?}", o.window_scale),
        );
        check(
            "sack_perm",
            d.sack_permitted == o.sack_permitted,
            d.sack_permitted.to_string(),
            o.sack_permitted.to_string(),
        );
        check(
            "timestamps",
            d.timestamps == o.timestamps,
            format!("{:?}", d.timestamps),
            format!("{:?}", o.timestamps),
        );
        let want_sack: Vec<(u32, u32)> = o
            .sack
            .as_slice()
            .iter()
            .map(|b| (b.left.0, b.right.0))
            .collect();
        check(
            "sack blocks",
            d.sack_blocks == want_sack,
            format!("{:?}", d.sack_blocks),
            format!("{want_sack:?}"),
        );
        // The kinds tshark saw, NOPs included, must be exactly what we emit.
        let mut raw = [0u8; 40];
        let len = o.emit(&mut raw).unwrap_or(0);
        let mut want_kinds = Vec::new();
        let mut i = 0;
        while i < len {
            want_kinds.push(raw[i]);
            i += if raw[i] <= 1 {
                1
            } else {
                usize::from(raw[i + 1])
            };
        }
        check(
            "option kinds",
            d.kinds == want_kinds,
            format!("{:?}", d.kinds),
            format!("{want_kinds:?}"),
        );
    }
    problems
}

/// The judge itself must be able to fail: a pcap with one good frame, one
/// with a corrupted TCP checksum, one with a corrupted IPv4 header checksum
/// and one whose TCP header claims more bytes than the packet has.
fn write_bad_frames(path: &PathBuf) {
    let mut pcap = PcapWriter::create(path).expect("create pcap");
    let header = TcpHeader {
        src_port: 1,
        dst_port: 2,
        seq: SeqNum(1),
        flags: Flags::SYN,
        window: 100,
        options: TcpOptions {
            mss: Some(536),
            ..TcpOptions::new()
        },
        ..TcpHeader::default()
    };
    let (src, dst): (IpAddr, IpAddr) = ("10.0.0.1".parse().unwrap(), "10.0.0.2".parse().unwrap());
    let mut buf = [0u8; 100];
    let n = emit_tcp_packet(src, dst, 64, &header, b"", &mut buf).expect("emit");
    let good = buf[..n].to_vec();
    let mut bad_tcp = good.clone();
    bad_tcp[20 + 16] ^= 0x40;
    let mut bad_ip = good.clone();
    bad_ip[10] ^= 0x01;
    let mut bogus_offset = good.clone();
    bogus_offset[20 + 12] = 0xf0; // 60-byte TCP header in a 24-byte segment
    for (i, p) in [good, bad_tcp, bad_ip, bogus_offset].iter().enumerate() {
        pcap.write_packet(Instant::from_millis(i as u64), p)
            .expect("write");
    }
    pcap.finish().expect("flush");
}

fn judge_can_fail(path: &PathBuf) -> Result<Vec<String>, String> {
    write_bad_frames(path);
    let report = match judge(path) {
        Ok(Judgement::Report(r)) => r,
        Ok(Judgement::NotAvailable(why)) => return Err(why),
        Err(e) => return Ok(vec![format!("tshark failed: {e}")]),
    };
    let mut problems = Vec::new();
    if report.bad_checksums() != [2, 3, 4] {
        problems.push(format!(
            "bad checksums reported for frames {:?}, expected [2, 3, 4]",
            report.bad_checksums()
        ));
    }
    if report.malformed() != [4] {
        problems.push(format!(
            "malformed frames {:?}, expected [4]: {:?}",
            report.malformed(),
            report.frame(4)
        ));
    }
    Ok(problems)
}

fn main() -> ExitCode {
    let name = "tshark_wire::conversation_decodes_as_written";
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("pcaps");
    std::fs::create_dir_all(&dir).expect("create pcap dir");
    let path = dir.join("tshark_wire.pcap");
    let written = write_conversation(&path);
    let report = match judge(&path) {
        Ok(Judgement::Report(r)) => r,
        Ok(Judgement::NotAvailable(why)) => {
            if std::env::var_os("SYNACK_REQUIRE_TSHARK").is_some() {
                println!("test {name} ... FAILED (tshark required but {why})");
                return ExitCode::FAILURE;
            }
            println!(
                "test {name} ... SKIPPED ({why}); pcap left at {}",
                path.display()
            );
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            println!("test {name} ... FAILED: {e}");
            return ExitCode::FAILURE;
        }
    };
    let mut problems = compare(&report, &written);
    match judge_can_fail(&dir.join("tshark_bad_frames.pcap")) {
        Ok(p) => problems.extend(p),
        Err(why) => problems.push(format!("tshark vanished mid-test: {why}")),
    }
    if problems.is_empty() {
        println!(
            "test {name} ... ok ({} frames judged by tshark, {}; analysis flags only in the loss episode: {:?})",
            report.frames.len(),
            path.display(),
            report.analysis_flagged()
        );
        ExitCode::SUCCESS
    } else {
        println!("test {name} ... FAILED ({}):", path.display());
        for p in problems {
            println!("  {p}");
        }
        ExitCode::FAILURE
    }
}
