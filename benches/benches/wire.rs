//! Groups `wire/parse`, `wire/checksum`, `wire/emit`: the wire format against
//! smoltcp and etherparse, measured in the same run.
//!
//! - `wire/parse/{synack,smoltcp,etherparse}/N`: parse one TCP segment with N
//!   bytes of payload and verify its checksum over the IPv4 pseudo-header.
//!   The segment carries a timestamps option (12 bytes: the common case on an
//!   established connection). synack also parses that option into
//!   `TcpOptions`; smoltcp (`TcpPacket::new_checked` + `verify_checksum`) and
//!   etherparse (`TcpSlice::from_slice` + `calc_checksum_ipv4`) only check
//!   the data offset, so they do less work.
//! - `wire/checksum/{synack,synack-portable,synack-sse2,smoltcp,copy}/N`: the
//!   Internet checksum of N bytes; `copy` is `copy_from_slice` of the same
//!   buffer, the memory-bandwidth reference.
//! - `wire/emit/{synack,smoltcp}/N`: write a header with timestamps and N
//!   bytes of payload, checksum included.

use std::hint::black_box;
use std::net::Ipv4Addr;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use smoltcp::phy::ChecksumCapabilities;
use smoltcp::wire::{IpAddress, TcpControl, TcpPacket, TcpRepr, TcpSeqNumber, TcpTimestampRepr};
use synack_tcp::wire::checksum::{self, Implementation};
use synack_tcp::wire::{Flags, PseudoHeader, Segment, TcpHeader, TcpOptions};
use synack_tcp::SeqNum;

const SRC: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
const DST: Ipv4Addr = Ipv4Addr::new(198, 51, 100, 7);

fn header() -> TcpHeader {
    TcpHeader {
        src_port: 40_000,
        dst_port: 80,
        seq: SeqNum(0x1234_5678),
        ack: SeqNum(0x9abc_def0),
        flags: Flags::ACK | Flags::PSH,
        window: 512,
        options: TcpOptions {
            timestamps: Some((1_000, 2_000)),
            ..TcpOptions::new()
        },
        ..TcpHeader::default()
    }
}

fn payload(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 31 + 7) as u8).collect()
}

fn segment(n: usize) -> Vec<u8> {
    let pseudo = PseudoHeader::v4(SRC, DST);
    let mut buf = vec![0u8; 60 + n];
    let len = header()
        .emit(&pseudo, &payload(n), &mut buf)
        .expect("emit bench segment");
    buf.truncate(len);
    buf
}

fn parse(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire/parse");
    let pseudo = PseudoHeader::v4(SRC, DST);
    let (s_src, s_dst) = (IpAddress::Ipv4(SRC), IpAddress::Ipv4(DST));
    for n in [0usize, 64, 1460, 9000] {
        let bytes = segment(n);
        // Every parser must accept the segment before it is timed.
        assert!(Segment::parse(&bytes, &pseudo).is_ok());
        assert!(TcpPacket::new_checked(&bytes[..])
            .unwrap()
            .verify_checksum(&s_src, &s_dst));
        let es = etherparse::TcpSlice::from_slice(&bytes).unwrap();
        assert_eq!(
            es.calc_checksum_ipv4(SRC.octets(), DST.octets()).unwrap(),
            es.checksum()
        );
        g.throughput(Throughput::Bytes(bytes.len() as u64));
        g.bench_with_input(BenchmarkId::new("synack", n), &bytes, |b, bytes| {
            b.iter(|| {
                let seg = Segment::parse(black_box(bytes), black_box(&pseudo)).unwrap();
                black_box((seg.seq(), seg.timestamps(), seg.payload().len()))
            })
        });
        g.bench_with_input(
            BenchmarkId::new("synack-unverified", n),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let seg = Segment::parse_unverified(black_box(bytes)).unwrap();
                    black_box((seg.seq(), seg.timestamps(), seg.payload().len()))
                })
            },
        );
        g.bench_with_input(
            BenchmarkId::new("synack-checksum-only", n),
            &bytes,
            |b, bytes| {
                b.iter(|| {
                    let mut c = black_box(&pseudo).checksum(bytes.len());
                    c.add_bytes(black_box(bytes));
                    black_box(c.sum())
                })
            },
        );
        g.bench_with_input(BenchmarkId::new("smoltcp", n), &bytes, |b, bytes| {
            b.iter(|| {
                let p = TcpPacket::new_checked(black_box(&bytes[..])).unwrap();
                assert!(p.verify_checksum(black_box(&s_src), black_box(&s_dst)));
                black_box((p.seq_number(), p.payload().len()))
            })
        });
        g.bench_with_input(BenchmarkId::new("etherparse", n), &bytes, |b, bytes| {
            b.iter(|| {
                let s = etherparse::TcpSlice::from_slice(black_box(bytes)).unwrap();
                let sum = s
                    .calc_checksum_ipv4(black_box(SRC.octets()), black_box(DST.octets()))
                    .unwrap();
                assert_eq!(sum, s.checksum());
                black_box((s.sequence_number(), s.payload().len()))
            })
        });
    }
    g.finish();
}

fn checksum_alone(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire/checksum");
    for n in [1460usize, 65_536] {
        let data = payload(n);
        let mut dst = vec![0u8; n];
        let want = checksum::reference_checksum(&data);
        assert_eq!(checksum::checksum(&data), want);
        assert_eq!(smoltcp::wire::checksum::data(&data), !want);
        g.throughput(Throughput::Bytes(n as u64));
        g.bench_with_input(BenchmarkId::new("synack", n), &data, |b, d| {
            b.iter(|| checksum::checksum(black_box(d)))
        });
        for (name, imp) in [
            ("synack-portable", Implementation::Portable),
            ("synack-sse2", Implementation::Sse2),
            ("synack-avx2", Implementation::Avx2),
        ] {
            if imp.is_available() {
                g.bench_with_input(BenchmarkId::new(name, n), &data, |b, d| {
                    b.iter(|| imp.sum(black_box(d)))
                });
            }
        }
        g.bench_with_input(BenchmarkId::new("smoltcp", n), &data, |b, d| {
            b.iter(|| smoltcp::wire::checksum::data(black_box(d)))
        });
        g.bench_with_input(BenchmarkId::new("copy_from_slice", n), &data, |b, d| {
            b.iter(|| {
                dst.copy_from_slice(black_box(d));
                black_box(&mut dst);
            })
        });
    }
    g.finish();
}

fn emit(c: &mut Criterion) {
    let mut g = c.benchmark_group("wire/emit");
    let pseudo = PseudoHeader::v4(SRC, DST);
    let (s_src, s_dst) = (IpAddress::Ipv4(SRC), IpAddress::Ipv4(DST));
    let caps = ChecksumCapabilities::default();
    for n in [0usize, 1460] {
        let data = payload(n);
        let mut out = vec![0u8; 60 + n];
        let h = header();
        g.throughput(Throughput::Bytes((32 + n) as u64));
        g.bench_with_input(BenchmarkId::new("synack", n), &data, |b, d| {
            b.iter(|| h.emit(black_box(&pseudo), black_box(d), &mut out).unwrap())
        });
        let repr = TcpRepr {
            src_port: 40_000,
            dst_port: 80,
            control: TcpControl::Psh,
            seq_number: TcpSeqNumber(0x1234_5678),
            ack_number: Some(TcpSeqNumber(0x9abc_def0_u32 as i32)),
            window_len: 512,
            window_scale: None,
            max_seg_size: None,
            sack_permitted: false,
            sack_ranges: [None; 3],
            timestamp: Some(TcpTimestampRepr {
                tsval: 1_000,
                tsecr: 2_000,
            }),
            payload: &data,
        };
        let len = repr.buffer_len();
        g.bench_function(BenchmarkId::new("smoltcp", n), |b| {
            b.iter(|| {
                let mut p = TcpPacket::new_unchecked(&mut out[..len]);
                black_box(&repr).emit(&mut p, &s_src, &s_dst, &caps);
            })
        });
    }
    g.finish();
}

criterion_group!(benches, parse, checksum_alone, emit);
criterion_main!(benches);
