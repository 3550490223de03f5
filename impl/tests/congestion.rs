//! Congestion control invariants under arbitrary ACK sequences.

use proptest::prelude::*;
use synack_tcp::congestion::{AckAction, Congestion};
use synack_tcp::SeqNum;

#[derive(Debug, Clone)]
enum Ev {
    NewAck(u32),
    Dup,
    Timeout,
}

fn ev() -> impl Strategy<Value = Ev> {
    prop_oneof![
        (1u32..5000).prop_map(Ev::NewAck),
        Just(Ev::Dup),
        Just(Ev::Timeout),
    ]
}

proptest! {
    /// cwnd never drops below one segment, ssthresh never below two (RFC 5681
    /// eq. 4), and exactly the third duplicate outside recovery (past
    /// `recover`) triggers fast retransmit.
    #[test]
    fn windows_stay_sane(smss in 100u16..9000, events in proptest::collection::vec(ev(), 0..300)) {
        let mut c = Congestion::new(smss, SeqNum(0));
        let smss = u32::from(smss);
        let mut una = SeqNum(1);
        let mut nxt = una + 100_000;
        for e in events {
            match e {
                Ev::NewAck(n) => {
                    una += n;
                    if una > nxt { nxt = una + 50_000; }
                    c.on_new_ack(una, n, nxt.distance_from(una));
                    prop_assert_eq!(c.duplicate_acks(), 0);
                }
                Ev::Dup => {
                    let was = (c.in_recovery(), c.duplicate_acks());
                    let a = c.on_duplicate_ack(una, nxt.distance_from(una), nxt);
                    if a == AckAction::RetransmitFirstUnacked {
                        prop_assert!(!was.0 && was.1 == 2 && c.in_recovery());
                        prop_assert!(c.ssthresh() >= 2 * smss);
                    }
                }
                Ev::Timeout => {
                    c.on_timeout(nxt.distance_from(una), nxt);
                    prop_assert_eq!(c.cwnd(), smss);
                    prop_assert!(!c.in_recovery());
                }
            }
            prop_assert!(c.cwnd() >= smss);
            prop_assert!(c.ssthresh() >= 2 * smss);
        }
    }
}
