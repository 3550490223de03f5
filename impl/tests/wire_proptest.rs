//! Property tests of the wire format: round trips, hostile input, checksum
//! paths against the reference.

mod wire_common;

use std::net::{Ipv4Addr, Ipv6Addr};

use proptest::prelude::*;
use proptest::test_runner::TestRunner;
use synack_tcp::wire::checksum::{self, Checksum, Implementation};
use synack_tcp::wire::ip::{emit_tcp_packet, parse_tcp_packet, IpPacket};
use synack_tcp::wire::options::{SackBlock, SackBlocks, MAX_OPTIONS_LEN};
use synack_tcp::wire::{Flags, PseudoHeader, Segment, TcpHeader, TcpOptions, WireError};
use synack_tcp::SeqNum;

fn pseudo() -> impl Strategy<Value = PseudoHeader> {
    prop_oneof![
        (any::<u32>(), any::<u32>())
            .prop_map(|(s, d)| PseudoHeader::v4(Ipv4Addr::from(s), Ipv4Addr::from(d))),
        (any::<u128>(), any::<u128>())
            .prop_map(|(s, d)| PseudoHeader::v6(Ipv6Addr::from(s), Ipv6Addr::from(d))),
    ]
}

fn options() -> impl Strategy<Value = TcpOptions> {
    (
        proptest::option::of(any::<u16>()),
        proptest::option::of(any::<u8>()),
        any::<bool>(),
        proptest::option::of((any::<u32>(), any::<u32>())),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 0..=4),
    )
        .prop_map(|(mss, window_scale, sack_permitted, timestamps, blocks)| {
            let blocks: Vec<SackBlock> = blocks
                .into_iter()
                .map(|(l, r)| SackBlock {
                    left: SeqNum(l),
                    right: SeqNum(r),
                })
                .collect();
            TcpOptions {
                mss,
                window_scale,
                sack_permitted,
                timestamps,
                sack: SackBlocks::from_slice(&blocks).expect("at most 4"),
            }
        })
}

fn header() -> impl Strategy<Value = TcpHeader> {
    (
        (any::<u16>(), any::<u16>(), any::<u32>(), any::<u32>()),
        (0u8..16, any::<u8>(), any::<u16>(), any::<u16>()),
        options(),
    )
        .prop_map(
            |((src_port, dst_port, seq, ack), (reserved, flags, window, urgent), options)| {
                TcpHeader {
                    src_port,
                    dst_port,
                    seq: SeqNum(seq),
                    ack: SeqNum(ack),
                    reserved,
                    flags: Flags(flags),
                    window,
                    urgent,
                    options,
                }
            },
        )
}

/// Checks that a successfully parsed view stays within its bytes.
fn assert_view_in_bounds(seg: &Segment<'_>, bytes: &[u8]) {
    assert!(seg.header_len() >= 20 && seg.header_len() <= 60);
    assert!(seg.header_len() <= bytes.len());
    assert_eq!(seg.header_len() % 4, 0);
    assert_eq!(seg.header_len() + seg.payload().len(), bytes.len());
    assert_eq!(seg.options_bytes().len(), seg.header_len() - 20);
    assert_eq!(seg.as_bytes(), bytes);
    assert_eq!(usize::from(seg.data_offset()) * 4, seg.header_len());
    assert!(seg.options().sack.len() <= 4);
    // Reading every accessor must not panic.
    let _ = (
        seg.src_port(),
        seg.dst_port(),
        seg.seq(),
        seg.ack(),
        seg.flags(),
        seg.window(),
        seg.checksum(),
        seg.urgent(),
        seg.reserved(),
        seg.seg_len(),
        seg.header(),
    );
}

#[test]
fn emit_then_parse_is_identity() {
    let guard = wire_common::seed("emit_then_parse_is_identity");
    let mut runner = TestRunner::new(wire_common::proptest_config(guard.seed, 2000));
    runner
        .run(
            &(
                header(),
                proptest::collection::vec(any::<u8>(), 0..1600),
                pseudo(),
            ),
            |(h, payload, ph)| {
                let mut buf = vec![0u8; 60 + payload.len()];
                match h.emit(&ph, &payload, &mut buf) {
                    Err(WireError::OptionsTooLong { len }) => {
                        prop_assert!(h.options.encoded_len() > MAX_OPTIONS_LEN);
                        prop_assert_eq!(len, h.options.encoded_len());
                    }
                    Err(e) => prop_assert!(false, "unexpected {e:?}"),
                    Ok(n) => {
                        prop_assert_eq!(n, h.header_len() + payload.len());
                        let seg = Segment::parse(&buf[..n], &ph)
                            .map_err(|e| TestCaseError::fail(format!("{e}")))?;
                        prop_assert_eq!(seg.header(), h);
                        prop_assert_eq!(seg.payload(), &payload[..]);
                        assert_view_in_bounds(&seg, &buf[..n]);
                        // A different pseudo-header must fail verification
                        // unless it sums the same (e.g. swapped addresses).
                        let other = match ph {
                            PseudoHeader::V4 { src, dst } => {
                                PseudoHeader::v4(Ipv4Addr::from(u32::from(src) ^ 0x0100), dst)
                            }
                            PseudoHeader::V6 { src, dst } => {
                                PseudoHeader::v6(Ipv6Addr::from(u128::from(src) ^ 0x0100), dst)
                            }
                        };
                        let is_bad_checksum = matches!(
                            Segment::parse(&buf[..n], &other),
                            Err(WireError::BadChecksum { .. })
                        );
                        prop_assert!(is_bad_checksum);
                    }
                }
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn ip_emit_then_parse_is_identity() {
    let guard = wire_common::seed("ip_emit_then_parse_is_identity");
    let mut runner = TestRunner::new(wire_common::proptest_config(guard.seed, 500));
    runner
        .run(
            &(
                header(),
                proptest::collection::vec(any::<u8>(), 0..1500),
                pseudo(),
                any::<u8>(),
            ),
            |(h, payload, ph, ttl)| {
                prop_assume!(h.options.encoded_len() <= MAX_OPTIONS_LEN);
                let mut buf = vec![0u8; 100 + payload.len()];
                let n = emit_tcp_packet(ph.src(), ph.dst(), ttl, &h, &payload, &mut buf)
                    .map_err(|e| TestCaseError::fail(format!("{e}")))?;
                let (ip, seg) =
                    parse_tcp_packet(&buf[..n]).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                prop_assert_eq!((ip.src(), ip.dst()), (ph.src(), ph.dst()));
                prop_assert_eq!(seg.header(), h);
                prop_assert_eq!(seg.payload(), &payload[..]);
                Ok(())
            },
        )
        .unwrap();
}

/// One option as a test writes it by hand, possibly unaligned.
#[derive(Debug, Clone)]
enum RawOpt {
    Nop,
    Mss(u16),
    Ws(u8),
    SackPerm,
    Ts(u32, u32),
    Sack(Vec<(u32, u32)>),
    Unknown(u8, Vec<u8>),
}

fn raw_opt() -> impl Strategy<Value = RawOpt> {
    prop_oneof![
        Just(RawOpt::Nop),
        any::<u16>().prop_map(RawOpt::Mss),
        any::<u8>().prop_map(RawOpt::Ws),
        Just(RawOpt::SackPerm),
        (any::<u32>(), any::<u32>()).prop_map(|(a, b)| RawOpt::Ts(a, b)),
        proptest::collection::vec((any::<u32>(), any::<u32>()), 1..=4).prop_map(RawOpt::Sack),
        (
            (6u8..=255).prop_filter("not a known kind", |k| *k != 8),
            proptest::collection::vec(any::<u8>(), 0..8)
        )
            .prop_map(|(k, d)| RawOpt::Unknown(k, d)),
    ]
}

fn encode(opts: &[RawOpt], area: &mut Vec<u8>, expect: &mut TcpOptions) {
    for o in opts {
        match o {
            RawOpt::Nop => area.push(1),
            RawOpt::Mss(v) => {
                area.extend_from_slice(&[2, 4]);
                area.extend_from_slice(&v.to_be_bytes());
                expect.mss = Some(*v);
            }
            RawOpt::Ws(v) => {
                area.extend_from_slice(&[3, 3, *v]);
                expect.window_scale = Some(*v);
            }
            RawOpt::SackPerm => {
                area.extend_from_slice(&[4, 2]);
                expect.sack_permitted = true;
            }
            RawOpt::Ts(a, b) => {
                area.extend_from_slice(&[8, 10]);
                area.extend_from_slice(&a.to_be_bytes());
                area.extend_from_slice(&b.to_be_bytes());
                expect.timestamps = Some((*a, *b));
            }
            RawOpt::Sack(blocks) => {
                area.extend_from_slice(&[5, 2 + 8 * blocks.len() as u8]);
                let mut s = SackBlocks::new();
                for (l, r) in blocks {
                    area.extend_from_slice(&l.to_be_bytes());
                    area.extend_from_slice(&r.to_be_bytes());
                    s.push(SackBlock {
                        left: SeqNum(*l),
                        right: SeqNum(*r),
                    });
                }
                expect.sack = s;
            }
            RawOpt::Unknown(k, d) => {
                area.extend_from_slice(&[*k, 2 + d.len() as u8]);
                area.extend_from_slice(d);
            }
        }
    }
}

/// Hand-built option lists at any alignment (MUST-64), with unknown kinds
/// (MUST-6) and EOL plus zero padding (MUST-69), in any segment (MUST-5):
/// the parser must find exactly what was written, the last of a kind winning.
#[test]
fn hand_built_options_parse_as_written() {
    let guard = wire_common::seed("hand_built_options_parse_as_written");
    let mut runner = TestRunner::new(wire_common::proptest_config(guard.seed, 3000));
    runner
        .run(
            &(
                proptest::collection::vec(raw_opt(), 0..8),
                any::<bool>(),
                any::<u8>(),
                pseudo(),
            ),
            |(opts, eol, flags, ph)| {
                let mut area = Vec::new();
                let mut expect = TcpOptions::new();
                encode(&opts, &mut area, &mut expect);
                prop_assume!(area.len() <= MAX_OPTIONS_LEN);
                if eol && area.len() < MAX_OPTIONS_LEN {
                    area.push(0);
                }
                while area.len() % 4 != 0 {
                    area.push(0);
                }
                let mut bytes = vec![0u8; 20];
                bytes[12] = ((20 + area.len()) / 4) as u8 * 16;
                bytes[13] = flags;
                bytes.extend_from_slice(&area);
                bytes.extend_from_slice(b"data");
                let mut c = ph.checksum(bytes.len());
                c.add_bytes(&bytes);
                let sum = c.finish();
                bytes[16..18].copy_from_slice(&sum.to_be_bytes());
                let seg =
                    Segment::parse(&bytes, &ph).map_err(|e| TestCaseError::fail(format!("{e}")))?;
                prop_assert_eq!(*seg.options(), expect);
                prop_assert_eq!(seg.payload(), b"data");
                Ok(())
            },
        )
        .unwrap();
}

/// Arbitrary bytes, and valid segments with bytes changed, never panic; a
/// success is a view inside the slice.
#[test]
fn parse_never_panics() {
    let guard = wire_common::seed("parse_never_panics");
    let mut runner = TestRunner::new(wire_common::proptest_config(guard.seed, 20_000));
    let ph = PseudoHeader::v4(Ipv4Addr::new(1, 2, 3, 4), Ipv4Addr::new(5, 6, 7, 8));
    runner
        .run(
            &(
                proptest::collection::vec(any::<u8>(), 0..120),
                proptest::collection::vec((0usize..120, any::<u8>()), 0..4),
                any::<u8>(),
            ),
            |(mut bytes, edits, doff)| {
                // Half the time start from a plausible header so the options
                // walker, not only the length checks, sees hostile bytes.
                if bytes.len() >= 20 && doff % 2 == 0 {
                    bytes[12] = (doff % 16) << 4;
                }
                for (at, b) in edits {
                    if let Some(x) = bytes.get_mut(at) {
                        *x = b;
                    }
                }
                if let Ok(seg) = Segment::parse_unverified(&bytes) {
                    assert_view_in_bounds(&seg, &bytes);
                }
                if let Ok(seg) = Segment::parse(&bytes, &ph) {
                    assert_view_in_bounds(&seg, &bytes);
                }
                if let Ok(ip) = IpPacket::parse(&bytes) {
                    prop_assert!(ip.as_bytes().len() <= bytes.len());
                    let _ = ip.tcp();
                }
                Ok(())
            },
        )
        .unwrap();
}

/// Every checksum path equals the reference, at any length and alignment,
/// and the accumulator equals it for any split.
#[test]
fn checksum_paths_equal_reference() {
    let guard = wire_common::seed("checksum_paths_equal_reference");
    let mut runner = TestRunner::new(wire_common::proptest_config(guard.seed, 3000));
    runner
        .run(
            &(
                proptest::collection::vec(any::<u8>(), 0..4200),
                0usize..64,
                any::<prop::sample::Index>(),
            ),
            |(data, offset, split)| {
                let data = &data[offset.min(data.len())..];
                let want = checksum::reference_checksum(data);
                for imp in Implementation::ALL {
                    if let Some(sum) = imp.sum(data) {
                        prop_assert_eq!(!sum, want, "{:?} len {}", imp, data.len());
                    }
                }
                prop_assert_eq!(checksum::checksum(data), want);
                let cut = if data.is_empty() {
                    0
                } else {
                    split.index(data.len() + 1)
                };
                let mut c = Checksum::new();
                c.add_bytes(&data[..cut]).add_bytes(&data[cut..]);
                prop_assert_eq!(c.finish(), want);
                Ok(())
            },
        )
        .unwrap();
}

#[test]
fn typed_errors_name_the_problem() {
    let ph = PseudoHeader::v4(Ipv4Addr::LOCALHOST, Ipv4Addr::LOCALHOST);
    assert_eq!(
        Segment::parse(&[0; 19], &ph),
        Err(WireError::TooShort {
            needed: 20,
            got: 19
        })
    );
    let mut b = [0u8; 24];
    b[12] = 4 << 4;
    assert_eq!(Segment::parse(&b, &ph), Err(WireError::BadDataOffset(4)));
    b[12] = 7 << 4;
    assert_eq!(
        Segment::parse(&b, &ph),
        Err(WireError::TooShort {
            needed: 28,
            got: 24
        })
    );
    b[12] = 6 << 4;
    b[20..24].copy_from_slice(&[1, 1, 2, 0]); // MSS with length 0 (MUST-7)
    assert_eq!(
        Segment::parse(&b, &ph),
        Err(WireError::BadOptionLength { kind: 2, len: 0 })
    );
    b[20..24].copy_from_slice(&[1, 1, 1, 3]); // window scale cut off
    assert_eq!(
        Segment::parse(&b, &ph),
        Err(WireError::OptionOverrunsHeader { kind: 3, at: 3 })
    );
    b[20..24].copy_from_slice(&[1, 1, 1, 1]);
    match Segment::parse(&b, &ph) {
        Err(WireError::BadChecksum { expected, found }) => {
            assert_eq!(found, 0);
            b[16..18].copy_from_slice(&expected.to_be_bytes());
            assert!(Segment::parse(&b, &ph).is_ok());
        }
        other => panic!("expected a checksum error, got {other:?}"),
    }
}

/// The hot-path options parser and the public iterator agree on any bytes:
/// same options, or the same first error.
#[test]
fn options_parser_agrees_with_iterator() {
    use synack_tcp::wire::{OptionIter, TcpOption};
    let guard = wire_common::seed("options_parser_agrees_with_iterator");
    let mut runner = TestRunner::new(wire_common::proptest_config(guard.seed, 20_000));
    // Bytes biased towards known kinds and small lengths, so that valid and
    // nearly-valid options both occur often.
    let byte = prop_oneof![0u8..=12, any::<u8>()];
    runner
        .run(&proptest::collection::vec(byte, 0..=44), |area| {
            let mut folded = TcpOptions::new();
            let mut error = None;
            for opt in OptionIter::new(&area) {
                match opt {
                    Ok(TcpOption::Mss(v)) => folded.mss = Some(v),
                    Ok(TcpOption::WindowScale(v)) => folded.window_scale = Some(v),
                    Ok(TcpOption::SackPermitted) => folded.sack_permitted = true,
                    Ok(TcpOption::Timestamps { tsval, tsecr }) => {
                        folded.timestamps = Some((tsval, tsecr))
                    }
                    Ok(TcpOption::Sack(b)) => folded.sack = b,
                    Ok(TcpOption::Nop | TcpOption::Unknown { .. }) => {}
                    Err(e) => {
                        error = Some(e);
                        break;
                    }
                }
            }
            let want = match error {
                Some(e) => Err(e),
                None => Ok(folded),
            };
            prop_assert_eq!(TcpOptions::parse(&area), want);
            Ok(())
        })
        .unwrap();
}
