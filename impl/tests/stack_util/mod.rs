//! Helpers for tests that drive two connection tables against each other.

use synack_tcp::table::Stack;
use synack_tcp::Instant;

/// Every packet `from` wants to send now.
pub fn drain(from: &mut Stack, now: Instant) -> Vec<Vec<u8>> {
    let mut buf = [0u8; 2048];
    let mut out = Vec::new();
    while let Some(n) = from.poll_transmit(now, &mut buf) {
        out.push(buf[..n].to_vec());
    }
    out
}

/// Moves packets both ways until neither side has anything to say.
pub fn pump(a: &mut Stack, b: &mut Stack, now: Instant) {
    for _ in 0..1000 {
        let ab = drain(a, now);
        let ba = drain(b, now);
        if ab.is_empty() && ba.is_empty() {
            return;
        }
        for p in ab {
            let _ = b.on_packet(now, &p);
        }
        for p in ba {
            let _ = a.on_packet(now, &p);
        }
    }
    panic!("the two stacks never went quiet");
}
