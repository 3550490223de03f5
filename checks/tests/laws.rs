//! Laws with quickcheck that `impl/tests/wire_quickcheck.rs` and
//! `impl/tests/wire_proptest.rs` do not already state. Those cover: SeqNum
//! antisymmetry, wrap arithmetic and window edges; checksum linearity over a
//! concatenation, a checksummed buffer verifying, one RFC 1624 update (16 and
//! 32 bit) against a recompute; TCP/IP emit→parse identity (proptest). Here:
//!
//! - the sequence-space abstraction the refinement test relies on: shifting
//!   the model's small numbers by any base (so that they wrap in the engine)
//!   keeps every comparison and window test of RFC 9293 §3.4;
//! - SeqNum order within half the circle is transitive, and `max`/`min`,
//!   `between_inclusive` agree with it;
//! - the model's abstract segments survive the engine's codec and the
//!   abstraction function, for any base: emit → parse → abstract is identity;
//! - the checksum is linear in the incremental builder too (`Checksum`
//!   fed in parts, words and 32-bit values, at odd offsets), a chain of
//!   RFC 1624 updates equals a recompute, and `TcpHeader::update_checksum` on
//!   any header word keeps an emitted segment valid.
//!
//! Seeds: `SYNACK_LAWS_SEED` (decimal u64) replays a run; without it one is
//! drawn and printed on failure.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use quickcheck::{Gen, QuickCheck, TestResult};
use synack_checks::refine::abstraction;
use synack_model::segment::Segment as ModelSegment;
use synack_tcp::wire::checksum::{self, Checksum};
use synack_tcp::wire::{Flags, PseudoHeader, Segment, TcpHeader};
use synack_tcp::SeqNum;

fn seed() -> u64 {
    match std::env::var("SYNACK_LAWS_SEED") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("SYNACK_LAWS_SEED={v:?} is not a decimal number")),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| d.as_nanos() as u64)
            .unwrap_or(1),
    }
}

/// A QuickCheck with a printed seed: a failing law names the seed that replays it.
fn check<A: quickcheck::Testable>(name: &str, prop: A) {
    let seed = seed();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        QuickCheck::new()
            .rng(Gen::from_size_and_seed(200, seed))
            .tests(4000)
            .quickcheck(prop)
    }));
    if let Err(e) = result {
        let msg = e
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
            .unwrap_or_default();
        panic!("law {name} failed (replay: SYNACK_LAWS_SEED={seed} cargo test -p synack-checks --test laws {name}): {msg}");
    }
}

// ---------------------------------------------------------------------------
// Sequence numbers

/// The model compares plain integers; the engine compares modulo 2^32. With
/// engine = model + base, the two must agree for every base, as long as the
/// model's numbers stay within half the circle of each other (they are u16).
#[test]
fn shifted_sequence_numbers_compare_as_the_model_does() {
    fn prop(base: u32, x: u16, y: u16, wnd: u8) -> bool {
        let (ex, ey) = (
            SeqNum(base.wrapping_add(u32::from(x))),
            SeqNum(base.wrapping_add(u32::from(y))),
        );
        let model_in = x <= y && u32::from(y) < u32::from(x) + u32::from(wnd);
        (ex < ey) == (x < y)
            && (ex == ey) == (x == y)
            && (ex > ey) == (x > y)
            && ey.in_window(ex, u32::from(wnd)) == model_in
            && ey.distance_from(ex) == u32::from(y).wrapping_sub(u32::from(x))
            && abstraction::seq(ey, base, "y").ok() == Some(y)
    }
    check(
        "shifted_sequence_numbers_compare_as_the_model_does",
        prop as fn(u32, u16, u16, u8) -> bool,
    );
}

/// Bases near the wrap, where the law matters, drawn on purpose.
#[test]
fn shifted_sequence_numbers_across_the_wrap() {
    fn prop(below: u16, x: u16, y: u16) -> bool {
        let base = u32::MAX - u32::from(below);
        let (ex, ey) = (
            SeqNum(base.wrapping_add(u32::from(x))),
            SeqNum(base.wrapping_add(u32::from(y))),
        );
        (ex < ey) == (x < y)
            && ex.max(ey) == SeqNum(base.wrapping_add(u32::from(x.max(y))))
            && ex.min(ey) == SeqNum(base.wrapping_add(u32::from(x.min(y))))
    }
    check(
        "shifted_sequence_numbers_across_the_wrap",
        prop as fn(u16, u16, u16) -> bool,
    );
}

#[test]
fn order_is_transitive_within_half_the_circle() {
    fn prop(a: u32, d1: u32, d2: u32) -> TestResult {
        // a < b < c with c less than 2^31 ahead of a.
        let (d1, d2) = (d1 % ((1 << 30) - 1) + 1, d2 % ((1 << 30) - 1) + 1);
        let a = SeqNum(a);
        let (b, c) = (a + d1, a + d1 + d2);
        TestResult::from_bool(
            a < b
                && b < c
                && a < c
                && c.between_inclusive(a, c)
                && b.between_inclusive(a, c)
                && !a.between_inclusive(b, c)
                && a.max(c) == c
                && c.min(a) == a,
        )
    }
    check(
        "order_is_transitive_within_half_the_circle",
        prop as fn(u32, u32, u32) -> TestResult,
    );
}

#[test]
fn between_inclusive_is_two_comparisons_within_half_the_circle() {
    fn prop(low: u32, span: u32, k: u32) -> bool {
        let span = span % (1 << 31);
        let low = SeqNum(low);
        let high = low + span;
        let x = low + (k % (1 << 31));
        x.between_inclusive(low, high) == (low <= x && x <= high)
    }
    check(
        "between_inclusive_is_two_comparisons_within_half_the_circle",
        prop as fn(u32, u32, u32) -> bool,
    );
}

// ---------------------------------------------------------------------------
// Codec and abstraction

fn model_segment(g: &mut Gen) -> ModelSegment {
    let pick = u8::arbitrary_in(g, 7);
    let seq = u16::arbitrary_in(g, 60_000);
    let ack = u16::arbitrary_in(g, 60_000);
    match pick {
        0 => ModelSegment::syn(seq),
        1 => ModelSegment::syn_ack(seq, ack),
        2 => ModelSegment::ack(seq, ack),
        3 => ModelSegment::data(seq, ack),
        4 => ModelSegment::fin(seq, ack),
        5 => ModelSegment::rst(seq),
        // The model's only RST,ACK: <SEQ=0><ACK=...> (RFC 9293 §3.10.7.1).
        _ => ModelSegment::rst_ack(0, ack),
    }
}

trait ArbitraryIn {
    fn arbitrary_in(g: &mut Gen, below: u32) -> Self;
}
impl ArbitraryIn for u8 {
    fn arbitrary_in(g: &mut Gen, below: u32) -> u8 {
        (<u32 as quickcheck::Arbitrary>::arbitrary(g) % below) as u8
    }
}
impl ArbitraryIn for u16 {
    fn arbitrary_in(g: &mut Gen, below: u32) -> u16 {
        (<u32 as quickcheck::Arbitrary>::arbitrary(g) % below) as u16
    }
}

#[derive(Clone, Debug)]
struct Case {
    seg: ModelSegment,
    base: u32,
    v6: bool,
}

impl quickcheck::Arbitrary for Case {
    fn arbitrary(g: &mut Gen) -> Case {
        Case {
            seg: model_segment(g),
            base: u32::arbitrary(g),
            v6: bool::arbitrary(g),
        }
    }
}

fn pseudo(v6: bool) -> PseudoHeader {
    let (a, b): (IpAddr, IpAddr) = if v6 {
        (
            Ipv6Addr::LOCALHOST.into(),
            "fe80::2".parse::<Ipv6Addr>().expect("literal").into(),
        )
    } else {
        (
            Ipv4Addr::new(10, 0, 0, 1).into(),
            Ipv4Addr::new(10, 0, 0, 2).into(),
        )
    };
    PseudoHeader::new(a, b).expect("same family")
}

/// A model segment written by the engine's codec with engine numbers
/// (model + base), parsed back with checksum verification, and abstracted:
/// the same segment.
#[test]
fn model_segment_survives_codec_and_abstraction() {
    fn prop(c: Case) -> TestResult {
        let s = c.seg;
        let mut flags = Flags::empty();
        for (on, f) in [
            (s.syn, Flags::SYN),
            (s.ack, Flags::ACK),
            (s.fin, Flags::FIN),
            (s.rst, Flags::RST),
        ] {
            if on {
                flags |= f;
            }
        }
        let shift = |x: u16| SeqNum(c.base.wrapping_add(u32::from(x)));
        let hdr = TcpHeader {
            src_port: 49152,
            dst_port: 80,
            seq: shift(s.seq),
            ack: if s.ack { shift(s.ack_no) } else { SeqNum(0) },
            flags,
            window: 2,
            ..TcpHeader::default()
        };
        let payload = vec![0xa5u8; usize::from(s.data)];
        let p = pseudo(c.v6);
        let mut buf = [0u8; 128];
        let n = match hdr.emit(&p, &payload, &mut buf) {
            Ok(n) => n,
            Err(e) => return TestResult::error(format!("emit: {e}")),
        };
        let parsed = match Segment::parse(&buf[..n], &p) {
            Ok(seg) => seg,
            Err(e) => return TestResult::error(format!("parse: {e}")),
        };
        match abstraction::segment(&parsed, c.base) {
            Ok(back) if back == s => TestResult::passed(),
            Ok(back) => TestResult::error(format!("{s} came back as {back}")),
            Err(e) => TestResult::error(e),
        }
    }
    check(
        "model_segment_survives_codec_and_abstraction",
        prop as fn(Case) -> TestResult,
    );
}

// ---------------------------------------------------------------------------
// Checksum

/// The incremental builder is linear: feeding the data in any split, and a
/// 16/32-bit value in place of its two/four bytes, gives the sum of the whole.
#[test]
fn checksum_builder_is_linear_over_any_split() {
    fn prop(data: Vec<u8>, cut1: usize, cut2: usize, v16: u16, v32: u32) -> bool {
        let n = data.len();
        let (mut a, mut b) = (cut1 % (n + 1), cut2 % (n + 1));
        if a > b {
            std::mem::swap(&mut a, &mut b);
        }
        let mut whole = data.clone();
        whole.extend_from_slice(&v16.to_be_bytes());
        whole.extend_from_slice(&v32.to_be_bytes());
        let mut c = Checksum::new();
        c.add_bytes(&data[..a])
            .add_bytes(&data[a..b])
            .add_bytes(&data[b..]);
        c.add_u16(v16).add_u32(v32);
        c.sum() == checksum::ones_complement_sum(&whole) && c.finish() == checksum::checksum(&whole)
    }
    check(
        "checksum_builder_is_linear_over_any_split",
        prop as fn(Vec<u8>, usize, usize, u16, u32) -> bool,
    );
}

/// Any number of RFC 1624 updates in a row equal one recompute (up to the
/// representation of zero for all-zero data, which must still verify).
#[test]
fn a_chain_of_incremental_updates_equals_recompute() {
    fn prop(mut data: Vec<u8>, edits: Vec<(usize, u16)>) -> TestResult {
        if data.len() < 2 {
            return TestResult::discard();
        }
        if data.len() % 2 == 1 {
            data.push(0);
        }
        let mut c = checksum::checksum(&data);
        for (at, new) in edits {
            let w = (at % (data.len() / 2)) * 2;
            let old = u16::from_be_bytes([data[w], data[w + 1]]);
            data[w..w + 2].copy_from_slice(&new.to_be_bytes());
            c = checksum::update(c, old, new);
        }
        let full = checksum::checksum(&data);
        let all_zero = data.iter().all(|&b| b == 0);
        TestResult::from_bool(
            c == full || (all_zero && c == 0 && full == 0xffff) || {
                // 0x0000 and 0xffff are the two representations of zero in
                // ones' complement: either verifies.
                c == !full && (c == 0 || c == 0xffff)
            },
        )
    }
    check(
        "a_chain_of_incremental_updates_equals_recompute",
        prop as fn(Vec<u8>, Vec<(usize, u16)>) -> TestResult,
    );
}

/// `TcpHeader::update_checksum` on any header word but the checksum itself
/// keeps an emitted segment valid, and the word holds the new value.
#[test]
fn update_checksum_keeps_a_segment_valid() {
    fn prop(c: Case, word: u8, new: u16, payload: Vec<u8>) -> TestResult {
        let hdr = TcpHeader {
            src_port: 1234,
            dst_port: 80,
            seq: SeqNum(c.base),
            ack: SeqNum(c.base ^ 0x5555),
            flags: Flags::ACK,
            window: 100,
            ..TcpHeader::default()
        };
        let payload: Vec<u8> = payload.into_iter().take(64).collect();
        let p = pseudo(c.v6);
        let mut buf = [0u8; 128];
        let n = match hdr.emit(&p, &payload, &mut buf) {
            Ok(n) => n,
            Err(e) => return TestResult::error(format!("emit: {e}")),
        };
        // Header words 0..10 except 8 (the checksum) and 6 (data offset and
        // flags: a new data offset would change the segment's shape).
        let words: [usize; 8] = [0, 1, 2, 3, 4, 5, 7, 9];
        let at = words[usize::from(word) % words.len()] * 2;
        if let Err(e) = TcpHeader::update_checksum(&mut buf[..n], at, new) {
            return TestResult::error(format!("update_checksum: {e}"));
        }
        if u16::from_be_bytes([buf[at], buf[at + 1]]) != new {
            return TestResult::error("the word does not hold the new value");
        }
        match Segment::parse(&buf[..n], &p) {
            Ok(_) => TestResult::passed(),
            Err(e) => TestResult::error(format!("after update: {e}")),
        }
    }
    check(
        "update_checksum_keeps_a_segment_valid",
        prop as fn(Case, u8, u16, Vec<u8>) -> TestResult,
    );
}
