//! The invariants the fuzz target (`fuzz/`) and the long seeded property run
//! (`impl/tests/wire_fuzz.rs`) check on arbitrary bytes. Not for the engine:
//! it panics when an invariant breaks, which is how a fuzzer reports.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::checksum::{self, Implementation};
use super::ip::IpPacket;
use super::options::{OptionIter, TcpOption, TcpOptions};
use super::tcp::{PseudoHeader, Segment};
use super::WireError;

/// Run every parser over `data` and check what they return.
pub fn parse_invariants(data: &[u8]) {
    let v4 = PseudoHeader::v4(Ipv4Addr::new(10, 1, 2, 3), Ipv4Addr::new(192, 0, 2, 9));
    let v6 = PseudoHeader::v6(Ipv6Addr::LOCALHOST, Ipv6Addr::UNSPECIFIED);

    // The segment as given, and with its checksum made right, so the full
    // path past verification is reached too.
    segment_invariants(data, &v4);
    if data.len() >= 18 {
        for pseudo in [v4, v6] {
            let mut fixed = data.to_vec();
            fixed[16] = 0;
            fixed[17] = 0;
            let mut c = pseudo.checksum(fixed.len());
            c.add_bytes(&fixed);
            let sum = c.finish();
            fixed[16..18].copy_from_slice(&sum.to_be_bytes());
            segment_invariants(&fixed, &pseudo);
            if fixed.len() >= 20 {
                // A header whose data offset is valid: 20 <= offset <= len.
                assert!(
                    !matches!(
                        Segment::parse(&fixed, &pseudo),
                        Err(WireError::BadChecksum { .. })
                    ),
                    "checksum patched in but still reported bad"
                );
            }
        }
    }

    // The options walker, on the bytes taken as an options area.
    options_invariants(&data[..data.len().min(40)]);

    // IP packets.
    if let Ok(ip) = IpPacket::parse(data) {
        assert!(ip.as_bytes().len() <= data.len());
        if let Ok((pseudo, bytes)) = ip.tcp_bytes() {
            segment_invariants(bytes, &pseudo);
        }
    }

    // Every checksum routine equals the reference.
    let want = checksum::reference_checksum(data);
    assert_eq!(checksum::checksum(data), want);
    for imp in Implementation::ALL {
        if let Some(sum) = imp.sum(data) {
            assert_eq!(!sum, want, "{imp:?}");
        }
    }
}

fn segment_invariants(bytes: &[u8], pseudo: &PseudoHeader) {
    let unverified = Segment::parse_unverified(bytes);
    let verified = Segment::parse(bytes, pseudo);
    match (&unverified, &verified) {
        (Ok(u), Ok(v)) => assert_eq!(u, v),
        (Ok(_), Err(WireError::BadChecksum { expected, found })) => {
            assert_ne!(expected, found);
        }
        (Ok(_), Err(WireError::TooLong { .. })) => {}
        (Err(a), Err(b)) => assert_eq!(a, b, "checksum must be checked after the header"),
        (u, v) => panic!("unverified {u:?} but verified {v:?}"),
    }
    let Ok(seg) = unverified else { return };
    // The view lies within the slice.
    assert!(seg.header_len() >= 20 && seg.header_len() <= 60 && seg.header_len() <= bytes.len());
    assert_eq!(seg.header_len() + seg.payload().len(), bytes.len());
    assert_eq!(seg.options_bytes().len(), seg.header_len() - 20);
    assert!(seg.sack_blocks().len() <= 4);
    // The options agree with a walk of the raw area.
    assert_eq!(
        TcpOptions::parse(seg.options_bytes()).as_ref(),
        Ok(&*seg.options())
    );
    // Re-emitting the header and payload parses back to the same values,
    // unless the canonical option layout needs more than 40 bytes.
    let header = seg.header();
    let mut out = vec![0u8; 60 + seg.payload().len()];
    match header.emit(pseudo, seg.payload(), &mut out) {
        Ok(n) => {
            let again = Segment::parse(&out[..n], pseudo).expect("re-emitted segment parses");
            assert_eq!(again.header(), header);
            assert_eq!(again.payload(), seg.payload());
        }
        Err(WireError::OptionsTooLong { len }) => assert!(len > 40),
        Err(WireError::TooLong { .. }) => {}
        Err(e) => panic!("re-emit failed: {e}"),
    }
}

fn options_invariants(area: &[u8]) {
    let mut folded = TcpOptions::new();
    let mut error = None;
    for opt in OptionIter::new(area) {
        match opt {
            Ok(TcpOption::Mss(v)) => folded.mss = Some(v),
            Ok(TcpOption::WindowScale(v)) => folded.window_scale = Some(v),
            Ok(TcpOption::SackPermitted) => folded.sack_permitted = true,
            Ok(TcpOption::Timestamps { tsval, tsecr }) => folded.timestamps = Some((tsval, tsecr)),
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
    assert_eq!(TcpOptions::parse(area), want);
}
