//! RFC 6298 estimator properties over arbitrary sample and timeout sequences.

use core::time::Duration;
use proptest::prelude::*;
use synack_tcp::rtt::RttEstimator;

proptest! {
    /// The RTO always stays within [min_rto, max_rto], backoff never shrinks
    /// it, and a sample always ends the backoff (RFC 6298 §2.4, §2.5, §5.5).
    #[test]
    fn rto_stays_clamped_and_backoff_is_monotone(
        events in proptest::collection::vec(prop_oneof![
            (0u64..5_000_000).prop_map(Some),
            Just(None),
        ], 0..100),
    ) {
        let min = Duration::from_millis(200);
        let max = Duration::from_secs(60);
        let mut e = RttEstimator::new(Duration::from_secs(1), min, max);
        for ev in events {
            let before = e.rto();
            match ev {
                Some(us) => {
                    e.sample(Duration::from_micros(us));
                    prop_assert_eq!(e.backoffs(), 0);
                    let srtt = e.srtt().unwrap();
                    prop_assert!(e.rto() >= srtt.min(max));
                }
                None => {
                    e.on_timeout();
                    prop_assert!(e.rto() >= before);
                    prop_assert!(e.rto() == max || e.rto() == before * 2);
                }
            }
            prop_assert!(e.rto() >= min && e.rto() <= max);
        }
    }
}
