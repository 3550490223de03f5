//! Sequence numbers: 32-bit values compared modulo 2^32 (RFC 9293 §3.4).
//!
//! Comparisons treat the space as a circle: `a < b` when `b` lies less than
//! 2^31 ahead of `a`. That is not a total order (it is not transitive across
//! half the circle), so `SeqNum` implements `PartialOrd` only, and code that
//! needs a window test uses [`SeqNum::in_window`], which is exact.

use core::fmt;
use core::ops::{Add, AddAssign, Sub};

#[derive(Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct SeqNum(pub u32);

impl SeqNum {
    pub const fn new(value: u32) -> Self {
        SeqNum(value)
    }

    pub const fn get(self) -> u32 {
        self.0
    }

    /// How far `self` lies ahead of `earlier`, going forward round the circle.
    pub const fn distance_from(self, earlier: SeqNum) -> u32 {
        self.0.wrapping_sub(earlier.0)
    }

    /// Signed difference `self - other`, valid when the two are within 2^31.
    pub const fn diff(self, other: SeqNum) -> i32 {
        self.0.wrapping_sub(other.0) as i32
    }

    /// `start <= self < start + len` on the circle: the window test of
    /// RFC 9293 §3.10.7.4. The window size is unsigned (MUST-1), so a window
    /// of length zero contains nothing and one of 2^32 - 1 contains all but one.
    pub const fn in_window(self, start: SeqNum, len: u32) -> bool {
        self.distance_from(start) < len
    }

    /// `low <= self <= high` on the circle, measured forward from `low`
    /// (e.g. SND.UNA =< SEG.ACK =< SND.NXT).
    pub const fn between_inclusive(self, low: SeqNum, high: SeqNum) -> bool {
        self.distance_from(low) <= high.distance_from(low)
    }

    pub fn max(self, other: SeqNum) -> SeqNum {
        if self >= other {
            self
        } else {
            other
        }
    }

    pub fn min(self, other: SeqNum) -> SeqNum {
        if self <= other {
            self
        } else {
            other
        }
    }
}

impl PartialOrd for SeqNum {
    fn partial_cmp(&self, other: &SeqNum) -> Option<core::cmp::Ordering> {
        // Exactly 2^31 apart, neither is ahead of the other (RFC 1982 §3.2
        // leaves it undefined): incomparable, so `<` and `>` are both false.
        match self.diff(*other) {
            i32::MIN => None,
            d => Some(d.cmp(&0)),
        }
    }
}

impl Add<u32> for SeqNum {
    type Output = SeqNum;
    fn add(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_add(n))
    }
}

impl AddAssign<u32> for SeqNum {
    fn add_assign(&mut self, n: u32) {
        self.0 = self.0.wrapping_add(n);
    }
}

impl Sub<u32> for SeqNum {
    type Output = SeqNum;
    fn sub(self, n: u32) -> SeqNum {
        SeqNum(self.0.wrapping_sub(n))
    }
}

impl fmt::Debug for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl fmt::Display for SeqNum {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comparisons_hold_across_the_wrap() {
        let a = SeqNum(u32::MAX - 1);
        let b = a + 3; // wraps to 1
        assert_eq!(b, SeqNum(1));
        assert!(a < b);
        assert!(b > a);
        assert_eq!(b.distance_from(a), 3);
        assert_eq!(b.diff(a), 3);
        assert_eq!(a.diff(b), -3);
        assert_eq!(b - 3, a);
    }

    #[test]
    fn half_the_circle_apart_is_incomparable() {
        let a = SeqNum(5);
        let b = a + (1 << 31);
        assert_eq!(a.partial_cmp(&b), None);
        assert_eq!(b.partial_cmp(&a), None);
        // One step either way and the order is defined again.
        assert!(a < b - 1);
        assert!(b + 1 < a);
    }

    #[test]
    fn window_edges() {
        let start = SeqNum(u32::MAX - 1);
        assert!(start.in_window(start, 1));
        assert!(!start.in_window(start, 0));
        assert!((start + 9).in_window(start, 10));
        assert!(!(start + 10).in_window(start, 10));
        assert!(!(start - 1).in_window(start, 10));
        assert!((start + 2).between_inclusive(start, start + 2));
        assert!(!(start + 3).between_inclusive(start, start + 2));
    }
}
