//! pcap files with the raw-IP link type (LINKTYPE_RAW, 101): every packet is a
//! bare IPv4 or IPv6 packet, which is what the engine and a TUN device speak.
//! Wireshark and tshark open these directly.

use std::fs::File;
use std::io::{BufWriter, Read, Write};
use std::path::Path;
use std::time::Duration;

use pcap_file::pcap::{PcapHeader, PcapPacket, PcapReader};
use pcap_file::{DataLink, Endianness, TsResolution};
use thiserror::Error;

use crate::Instant;

/// Longest packet recorded whole.
pub const SNAPLEN: u32 = 65_535;

#[derive(Debug, Error)]
pub enum PcapError {
    #[error("pcap I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("pcap format: {0}")]
    Format(#[from] pcap_file::PcapError),
    #[error("packet of {len} bytes exceeds the snap length {SNAPLEN}")]
    PacketTooLong { len: usize },
    #[error("pcap link type is {0:?}, expected raw IP")]
    WrongLinkType(DataLink),
}

/// Writes raw-IP packets with microsecond timestamps taken from [`Instant`].
pub struct PcapWriter<W: Write> {
    inner: pcap_file::pcap::PcapWriter<W>,
}

fn header() -> PcapHeader {
    PcapHeader {
        version_major: 2,
        version_minor: 4,
        ts_correction: 0,
        ts_accuracy: 0,
        snaplen: SNAPLEN,
        datalink: DataLink::RAW,
        ts_resolution: TsResolution::MicroSecond,
        endianness: Endianness::native(),
    }
}

impl<W: Write> PcapWriter<W> {
    /// Write the file header to `writer`.
    pub fn new(writer: W) -> Result<Self, PcapError> {
        Ok(PcapWriter {
            inner: pcap_file::pcap::PcapWriter::with_header(writer, header())?,
        })
    }

    /// Record one IP packet seen at `at`.
    pub fn write_packet(&mut self, at: Instant, packet: &[u8]) -> Result<(), PcapError> {
        if packet.len() > SNAPLEN as usize {
            return Err(PcapError::PacketTooLong { len: packet.len() });
        }
        let ts = Duration::from_micros(at.micros());
        self.inner
            .write_packet(&PcapPacket::new(ts, packet.len() as u32, packet))?;
        Ok(())
    }

    /// Flush and hand back the underlying writer.
    pub fn finish(self) -> Result<W, PcapError> {
        let mut w = self.inner.into_writer();
        w.flush()?;
        Ok(w)
    }
}

impl PcapWriter<BufWriter<File>> {
    /// Create (or truncate) the file at `path`. Call [`PcapWriter::finish`]
    /// to see write errors; dropping the writer flushes silently.
    pub fn create(path: impl AsRef<Path>) -> Result<Self, PcapError> {
        PcapWriter::new(BufWriter::new(File::create(path)?))
    }
}

/// Read back every packet of a raw-IP pcap with its timestamp.
pub fn read_packets<R: Read>(reader: R) -> Result<Vec<(Instant, Vec<u8>)>, PcapError> {
    let mut r = PcapReader::new(reader)?;
    let link = r.header().datalink;
    if link != DataLink::RAW {
        return Err(PcapError::WrongLinkType(link));
    }
    let mut out = Vec::new();
    while let Some(p) = r.next_packet() {
        let p = p?;
        let micros = u64::try_from(p.timestamp.as_micros()).unwrap_or(u64::MAX);
        out.push((Instant::from_micros(micros), p.data.into_owned()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_in_memory() {
        let mut w = PcapWriter::new(Vec::new()).unwrap();
        w.write_packet(Instant::from_micros(1_500_001), &[0x45, 0, 0, 20])
            .unwrap();
        w.write_packet(Instant::from_secs(3), &[0x60; 40]).unwrap();
        assert!(matches!(
            w.write_packet(Instant::ZERO, &vec![0; 70_000]),
            Err(PcapError::PacketTooLong { len: 70_000 })
        ));
        let bytes = w.finish().unwrap();
        // Global header: magic, v2.4, snaplen, link type 101 (raw IP).
        assert_eq!(bytes.len(), 24 + 16 + 4 + 16 + 40);
        let got = read_packets(&bytes[..]).unwrap();
        assert_eq!(
            got,
            vec![
                (Instant::from_micros(1_500_001), vec![0x45, 0, 0, 20]),
                (Instant::from_secs(3), vec![0x60; 40]),
            ]
        );
    }
}
