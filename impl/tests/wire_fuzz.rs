//! The fuzz target's function (`synack_tcp::wire::fuzz::parse_invariants`,
//! also driven by `fuzz/fuzz_targets/parse_segment.rs`) under a seeded
//! proptest run. `WIRE_FUZZ_CASES` sets the number of cases (default 20 000;
//! the recorded long run used millions).

mod wire_common;

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use synack_tcp::wire::fuzz::parse_invariants;
use synack_tcp::wire::{Flags, PseudoHeader, TcpHeader, TcpOptions};
use synack_tcp::SeqNum;

/// Inputs: raw bytes, and valid segments and IP packets with a few bytes
/// changed, so that the deep paths are reached as often as the shallow ones.
fn input() -> impl Strategy<Value = Vec<u8>> {
    let raw = proptest::collection::vec(any::<u8>(), 0..200);
    let mutated = (
        any::<u8>(),
        any::<(u16, u32, u32)>(),
        proptest::collection::vec(any::<u8>(), 0..80),
        proptest::collection::vec((any::<usize>(), any::<u8>()), 0..6),
        0u8..3,
    )
        .prop_map(|(opt_bits, (mss, tsval, sack), payload, edits, shape)| {
            let options = TcpOptions {
                mss: (opt_bits & 1 != 0).then_some(mss),
                window_scale: (opt_bits & 2 != 0).then_some(opt_bits >> 4),
                sack_permitted: opt_bits & 4 != 0,
                timestamps: (opt_bits & 8 != 0).then_some((tsval, !tsval)),
                sack: if opt_bits & 16 != 0 {
                    synack_tcp::wire::SackBlocks::from_slice(&[synack_tcp::wire::SackBlock {
                        left: SeqNum(sack),
                        right: SeqNum(sack.wrapping_add(100)),
                    }])
                    .unwrap_or_default()
                } else {
                    Default::default()
                },
            };
            let header = TcpHeader {
                src_port: mss,
                dst_port: 80,
                seq: SeqNum(tsval),
                ack: SeqNum(sack),
                flags: Flags(opt_bits),
                window: mss,
                options,
                ..TcpHeader::default()
            };
            let mut buf = vec![0u8; 200];
            let n = match shape {
                0 => {
                    let ph =
                        PseudoHeader::v4("10.1.2.3".parse().unwrap(), "192.0.2.9".parse().unwrap());
                    header.emit(&ph, &payload, &mut buf).unwrap_or(0)
                }
                1 => synack_tcp::wire::emit_tcp_packet(
                    "10.0.0.1".parse().unwrap(),
                    "10.0.0.2".parse().unwrap(),
                    64,
                    &header,
                    &payload,
                    &mut buf,
                )
                .unwrap_or(0),
                _ => synack_tcp::wire::emit_tcp_packet(
                    "fe80::1".parse().unwrap(),
                    "fe80::2".parse().unwrap(),
                    64,
                    &header,
                    &payload,
                    &mut buf,
                )
                .unwrap_or(0),
            };
            buf.truncate(n);
            for (at, b) in edits {
                if !buf.is_empty() {
                    let i = at % buf.len();
                    buf[i] = b;
                }
            }
            buf
        });
    prop_oneof![raw, mutated]
}

#[test]
fn parse_invariants_hold_on_seeded_inputs() {
    let guard = wire_common::seed("parse_invariants_hold_on_seeded_inputs");
    let cases = std::env::var("WIRE_FUZZ_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let mut runner = TestRunner::new(wire_common::proptest_config(guard.seed, cases));
    runner
        .run(&input(), |data| {
            parse_invariants(&data);
            Ok(())
        })
        .unwrap();
}
