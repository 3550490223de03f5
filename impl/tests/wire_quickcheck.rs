//! Laws with quickcheck: sequence-number arithmetic across the wrap, checksum
//! linearity, and RFC 1624 incremental update against a full recompute.

mod wire_common;

use std::cmp::Ordering;

use quickcheck::{Gen, QuickCheck, TestResult};
use synack_tcp::wire::checksum::{self, ones_complement_sum};
use synack_tcp::SeqNum;

fn qc(test: &'static str) -> (QuickCheck, wire_common::SeedGuard) {
    let guard = wire_common::seed(test);
    let q = QuickCheck::new()
        .rng(Gen::from_size_and_seed(200, guard.seed))
        .tests(5000);
    (q, guard)
}

/// Ones' complement addition of two folded sums.
fn oc_add(a: u16, b: u16) -> u16 {
    let s = u32::from(a) + u32::from(b);
    ((s & 0xffff) + (s >> 16)) as u16
}

#[test]
fn seq_antisymmetry() {
    // Exactly one of a < b, a == b, b < a holds, except at exactly 2^31 apart,
    // where RFC 1982 leaves the order undefined (and this SeqNum says both).
    fn prop(a: u32, b: u32) -> TestResult {
        let (a, b) = (SeqNum(a), SeqNum(b));
        if b.distance_from(a) == 1 << 31 {
            return TestResult::discard();
        }
        let count = [a < b, a == b, b < a].iter().filter(|x| **x).count();
        let ab = a.partial_cmp(&b);
        let ba = b.partial_cmp(&a);
        TestResult::from_bool(count == 1 && ab.is_some() && ab == ba.map(Ordering::reverse))
    }
    let (mut q, _g) = qc("seq_antisymmetry");
    q.quickcheck(prop as fn(u32, u32) -> TestResult);
}

#[test]
fn seq_wrap() {
    fn prop(a: u32, n: u32) -> bool {
        let s = SeqNum(a);
        let ahead = s + n;
        (ahead - n) == s
            && ahead.distance_from(s) == n
            && ahead.diff(s) == n as i32
            // Anything less than half the circle ahead compares greater,
            // whether or not the u32 wrapped on the way.
            && (n == 0 || n >= 1 << 31 || ahead.partial_cmp(&s) == Some(Ordering::Greater))
    }
    let (mut q, _g) = qc("seq_wrap");
    q.quickcheck(prop as fn(u32, u32) -> bool);
    // And the deterministic edge: the wrap itself.
    assert!(SeqNum(u32::MAX) < SeqNum(0));
    assert_eq!(SeqNum(u32::MAX) + 1, SeqNum(0));
}

#[test]
fn seq_window_edges() {
    // RFC 9293 §3.10.7.4: start <= x < start + len, the window size unsigned
    // (MUST-1).
    fn prop(start: u32, len: u32, k: u32) -> bool {
        let start = SeqNum(start);
        let x = start + k;
        let inside = x.in_window(start, len);
        let first_ok = len == 0 || start.in_window(start, len);
        let last_ok = len == 0 || (start + (len - 1)).in_window(start, len);
        let past_end = !(start + len).in_window(start, len) || len == 0;
        let before = !(start - 1).in_window(start, len);
        let incl = if len > 0 {
            x.between_inclusive(start, start + (len - 1)) == inside
        } else {
            !inside
        };
        inside == (k < len) && first_ok && last_ok && past_end && before && incl
    }
    let (mut q, _g) = qc("seq_window_edges");
    q.quickcheck(prop as fn(u32, u32, u32) -> bool);
    // Zero-length window holds nothing, the largest holds all but one.
    let s = SeqNum(7);
    assert!(!s.in_window(s, 0));
    assert!((s - 2).in_window(s, u32::MAX));
    assert!(!(s - 1).in_window(s, u32::MAX));
}

#[test]
fn checksum_is_linear_over_concatenation() {
    // sum(a ++ b) = sum(a) +' sum(b), with b's sum byte-swapped when a has odd
    // length (RFC 1071 §2).
    fn prop(a: Vec<u8>, b: Vec<u8>) -> bool {
        let mut ab = a.clone();
        ab.extend_from_slice(&b);
        let sb = ones_complement_sum(&b);
        let sb = if a.len() % 2 == 1 {
            sb.swap_bytes()
        } else {
            sb
        };
        // Both sides are folded into 1..=0xffff for non-zero data (0 only for
        // all-zero data), so they must be equal, not merely congruent.
        ones_complement_sum(&ab) == oc_add(ones_complement_sum(&a), sb)
    }
    let (mut q, _g) = qc("checksum_is_linear_over_concatenation");
    q.quickcheck(prop as fn(Vec<u8>, Vec<u8>) -> bool);
}

#[test]
fn a_checksummed_buffer_verifies() {
    fn prop(mut data: Vec<u8>, at: usize) -> TestResult {
        if data.len() < 2 {
            return TestResult::discard();
        }
        let at = (at % (data.len() / 2)) * 2;
        data[at] = 0;
        data[at + 1] = 0;
        let c = checksum::checksum(&data);
        data[at..at + 2].copy_from_slice(&c.to_be_bytes());
        TestResult::from_bool(checksum::checksum(&data) == 0)
    }
    let (mut q, _g) = qc("a_checksummed_buffer_verifies");
    q.quickcheck(prop as fn(Vec<u8>, usize) -> TestResult);
}

#[test]
fn incremental_update_equals_recompute() {
    // RFC 1624: change one word (and then a 32-bit field) and update the
    // checksum without re-summing; it must equal a full recompute. The one
    // permitted difference is the representation of zero when every byte of
    // the new data is zero (eqn. 3 yields 0x0000 where a recompute of an
    // all-zero buffer yields 0xffff); the result must still verify.
    fn prop(mut data: Vec<u8>, word: usize, new16: u16, new32: u32) -> TestResult {
        if data.len() < 4 {
            return TestResult::discard();
        }
        let w = (word % (data.len() / 2)) * 2;
        let old = u16::from_be_bytes([data[w], data[w + 1]]);
        let c0 = checksum::checksum(&data);
        data[w..w + 2].copy_from_slice(&new16.to_be_bytes());
        let inc = checksum::update(c0, old, new16);
        let full = checksum::checksum(&data);
        let all_zero = data.iter().all(|&b| b == 0);
        if !(inc == full || (all_zero && inc == 0 && full == 0xffff)) {
            return TestResult::error(format!("16-bit: inc {inc:#x} full {full:#x}"));
        }
        let w4 = (word % (data.len() / 4)) * 4;
        let old32 = u32::from_be_bytes([data[w4], data[w4 + 1], data[w4 + 2], data[w4 + 3]]);
        data[w4..w4 + 4].copy_from_slice(&new32.to_be_bytes());
        let inc = checksum::update_u32(full, old32, new32);
        let full = checksum::checksum(&data);
        let all_zero = data.iter().all(|&b| b == 0);
        TestResult::from_bool(inc == full || (all_zero && inc == 0 && full == 0xffff))
    }
    let (mut q, _g) = qc("incremental_update_equals_recompute");
    q.quickcheck(prop as fn(Vec<u8>, usize, u16, u32) -> TestResult);
}
