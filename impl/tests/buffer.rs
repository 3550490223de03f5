//! Property tests of the send and receive buffers against a plain `Vec` model.

use proptest::prelude::*;
use synack_tcp::buffer::{RecvBuffer, SendBuffer};

proptest! {
    /// Segments of a stream arriving in any order, duplicated and overlapping,
    /// with the application reading in between: what is read is exactly the
    /// stream's prefix, each byte once, in order.
    #[test]
    fn reassembly_yields_the_stream_in_order(
        capacity in 1usize..64,
        stream in proptest::collection::vec(any::<u8>(), 0..300),
        cuts in proptest::collection::vec((0usize..300, 1usize..40, any::<bool>()), 0..200),
    ) {
        let mut b = RecvBuffer::new(capacity);
        let mut rcv_nxt = 0usize; // stream position of offset 0
        let mut read = Vec::new();
        for (start, len, read_now) in cuts {
            if start >= stream.len() { continue; }
            let end = (start + len).min(stream.len());
            // The connection trims what lies before RCV.NXT.
            let s = start.max(rcv_nxt);
            if s < end {
                let advanced = b.write(s - rcv_nxt, &stream[s..end]);
                rcv_nxt += advanced;
            }
            prop_assert_eq!(read.len() + b.readable(), rcv_nxt);
            prop_assert!(b.readable() <= capacity);
            if read_now {
                let mut out = vec![0u8; 7];
                let n = b.read(&mut out);
                read.extend_from_slice(&out[..n]);
            }
        }
        let (x, y) = b.peek();
        read.extend_from_slice(x);
        read.extend_from_slice(y);
        prop_assert_eq!(&read[..], &stream[..read.len()]);
        for (s, e) in b.out_of_order_ranges() {
            prop_assert!(s > 0 && s < e && e <= b.window());
        }
    }

    /// Writes, acknowledgements and reads at offsets behave like a `Vec`
    /// from which acknowledged bytes are drained.
    #[test]
    fn send_buffer_matches_a_vec(
        capacity in 1usize..64,
        ops in proptest::collection::vec((0u8..3, 0usize..80), 0..200),
    ) {
        let mut b = SendBuffer::new(capacity);
        let mut model: Vec<u8> = Vec::new();
        let mut counter = 0u8;
        for (op, n) in ops {
            match op {
                0 => {
                    let data: Vec<u8> = (0..n).map(|_| { counter = counter.wrapping_add(1); counter }).collect();
                    let took = b.write(&data);
                    prop_assert_eq!(took, data.len().min(capacity - model.len()));
                    model.extend_from_slice(&data[..took]);
                }
                1 => {
                    let dropped = b.ack(n);
                    prop_assert_eq!(dropped, n.min(model.len()));
                    model.drain(..dropped);
                }
                _ => {
                    let off = n % (capacity + 1);
                    let mut out = vec![0u8; 9];
                    let got = b.read_at(off, &mut out);
                    let want: &[u8] = if off < model.len() { &model[off..(off + 9).min(model.len())] } else { &[] };
                    prop_assert_eq!(&out[..got], want);
                    let (x, y) = b.slices(off, 9);
                    prop_assert_eq!([x, y].concat(), want.to_vec());
                }
            }
            prop_assert_eq!(b.len(), model.len());
        }
    }
}
