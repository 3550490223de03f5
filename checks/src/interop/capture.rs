//! The pcap of the TUN traffic: every packet the kernel sent into the TUN
//! device and every packet the harness wrote to it, as raw IPv4 frames,
//! written with the engine's own raw-IP pcap writer.

use std::fs::File;
use std::io::{self, BufWriter};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use synack_tcp::pcap::PcapWriter;
use synack_tcp::Instant;

/// Where the interop pcaps go: `$CARGO_TARGET_DIR/synack-interop`, or the
/// workspace's `target/synack-interop` when that variable is not set.
pub fn default_output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            let checks = Path::new(env!("CARGO_MANIFEST_DIR"));
            checks.parent().unwrap_or(checks).join("target")
        });
    target.join("synack-interop")
}

pub struct Capture {
    path: PathBuf,
    writer: Option<PcapWriter<BufWriter<File>>>,
    wall_origin: Duration,
    frames: u64,
}

impl Capture {
    /// Creates (truncating) `path`, making its directory if needed.
    pub fn create(path: &Path) -> io::Result<Capture> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let writer = PcapWriter::create(path)
            .map_err(|e| io::Error::other(format!("{}: {e}", path.display())))?;
        Ok(Capture {
            path: path.to_path_buf(),
            writer: Some(writer),
            // Frames carry wall-clock time, so Wireshark shows when the test ran.
            wall_origin: SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .unwrap_or(Duration::ZERO),
            frames: 0,
        })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// Records one IP packet seen `elapsed` after the capture began.
    pub fn record(&mut self, elapsed: Duration, packet: &[u8]) -> io::Result<()> {
        let Some(writer) = self.writer.as_mut() else {
            return Err(io::Error::other("capture already finished"));
        };
        let at = Instant::ZERO + self.wall_origin + elapsed;
        writer
            .write_packet(at, packet)
            .map_err(|e| io::Error::other(format!("{}: {e}", self.path.display())))?;
        self.frames += 1;
        Ok(())
    }

    /// Flushes and closes the file; later records fail.
    pub fn finish(&mut self) -> io::Result<()> {
        if let Some(writer) = self.writer.take() {
            writer
                .finish()
                .map_err(|e| io::Error::other(format!("{}: {e}", self.path.display())))?;
        }
        Ok(())
    }
}

impl Drop for Capture {
    fn drop(&mut self) {
        let _ = self.finish();
    }
}
