//! The kernel's side of a test: its TCP sockets' states as the namespace's
//! `/proc/thread-self/net/tcp` lists them (what `ss -tan` shows), and what it
//! negotiated (`TCP_INFO`).

use std::fmt;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};

/// The kernel's TCP states, numbered as in `include/net/tcp_states.h`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KernelState {
    Established,
    SynSent,
    SynRecv,
    FinWait1,
    FinWait2,
    TimeWait,
    Close,
    CloseWait,
    LastAck,
    Listen,
    Closing,
    NewSynRecv,
    Other(u8),
}

impl KernelState {
    pub fn from_code(code: u8) -> Self {
        match code {
            1 => KernelState::Established,
            2 => KernelState::SynSent,
            3 => KernelState::SynRecv,
            4 => KernelState::FinWait1,
            5 => KernelState::FinWait2,
            6 => KernelState::TimeWait,
            7 => KernelState::Close,
            8 => KernelState::CloseWait,
            9 => KernelState::LastAck,
            10 => KernelState::Listen,
            11 => KernelState::Closing,
            12 => KernelState::NewSynRecv,
            other => KernelState::Other(other),
        }
    }

    /// The name `ss` prints.
    pub fn ss_name(self) -> String {
        match self {
            KernelState::Established => "ESTAB".into(),
            KernelState::SynSent => "SYN-SENT".into(),
            KernelState::SynRecv => "SYN-RECV".into(),
            KernelState::FinWait1 => "FIN-WAIT-1".into(),
            KernelState::FinWait2 => "FIN-WAIT-2".into(),
            KernelState::TimeWait => "TIME-WAIT".into(),
            KernelState::Close => "UNCONN".into(),
            KernelState::CloseWait => "CLOSE-WAIT".into(),
            KernelState::LastAck => "LAST-ACK".into(),
            KernelState::Listen => "LISTEN".into(),
            KernelState::Closing => "CLOSING".into(),
            KernelState::NewSynRecv => "NEW-SYN-RECV".into(),
            KernelState::Other(c) => format!("state-{c}"),
        }
    }
}

/// One row of `/proc/net/tcp`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelSocket {
    pub local: SocketAddrV4,
    pub remote: SocketAddrV4,
    pub state: KernelState,
}

impl fmt::Display for KernelSocket {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:<12} {} {}",
            self.state.ss_name(),
            self.local,
            self.remote
        )
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProcNetError {
    #[error("reading {path}: {source}")]
    Read {
        path: &'static str,
        #[source]
        source: io::Error,
    },
    #[error("line {line} of {path} is not a socket row: {text:?}")]
    BadRow {
        path: &'static str,
        line: usize,
        text: String,
    },
}

fn parse_endpoint(text: &str) -> Option<SocketAddrV4> {
    let (addr, port) = text.split_once(':')?;
    // The address is the raw network-order word printed as a host integer.
    let raw = u32::from_str_radix(addr, 16).ok()?;
    let port = u16::from_str_radix(port, 16).ok()?;
    Some(SocketAddrV4::new(Ipv4Addr::from(raw.to_ne_bytes()), port))
}

/// Parses the text of `/proc/net/tcp`.
pub fn parse_proc_net_tcp(text: &str) -> Result<Vec<KernelSocket>, usize> {
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate().skip(1) {
        if line.trim().is_empty() {
            continue;
        }
        let mut cols = line.split_whitespace();
        let row = (|| {
            let _slot = cols.next()?;
            let local = parse_endpoint(cols.next()?)?;
            let remote = parse_endpoint(cols.next()?)?;
            let state = u8::from_str_radix(cols.next()?, 16).ok()?;
            Some(KernelSocket {
                local,
                remote,
                state: KernelState::from_code(state),
            })
        })();
        out.push(row.ok_or(i + 1)?);
    }
    Ok(out)
}

const PROC_NET_TCP: &str = "/proc/thread-self/net/tcp";

/// The kernel's IPv4 TCP sockets in the calling thread's namespace.
pub fn sockets() -> Result<Vec<KernelSocket>, ProcNetError> {
    let text = std::fs::read_to_string(PROC_NET_TCP).map_err(|source| ProcNetError::Read {
        path: PROC_NET_TCP,
        source,
    })?;
    parse_proc_net_tcp(&text).map_err(|line| ProcNetError::BadRow {
        path: PROC_NET_TCP,
        line,
        text: text.lines().nth(line - 1).unwrap_or_default().to_string(),
    })
}

/// The state of the kernel's socket for exactly this pair of endpoints, if any.
pub fn state_of(
    local: SocketAddrV4,
    remote: SocketAddrV4,
) -> Result<Option<KernelState>, ProcNetError> {
    Ok(sockets()?
        .into_iter()
        .find(|s| s.local == local && s.remote == remote)
        .map(|s| s.state))
}

/// Renders the namespace's sockets the way `ss -tan` would (for reports).
pub fn ss_tan() -> String {
    match sockets() {
        Ok(list) => {
            let mut s = String::from("State        Local               Peer\n");
            for k in list {
                s.push_str(&format!("{k}\n"));
            }
            s
        }
        Err(e) => format!("(cannot read sockets: {e})\n"),
    }
}

/// The options the kernel negotiated on a connected socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Negotiated {
    pub timestamps: bool,
    pub sack: bool,
    pub window_scaling: bool,
    /// The shift the kernel applies to windows the peer advertises.
    pub snd_wscale: u8,
    /// The shift the kernel applies to the windows it advertises.
    pub rcv_wscale: u8,
    /// The segment size the kernel sends with (the peer's MSS less options).
    pub snd_mss: u32,
    pub retransmits_total: u32,
    pub state: KernelState,
}

/// `TCP_INFO` for a kernel socket.
pub fn negotiated(fd: &impl std::os::fd::AsRawFd) -> io::Result<Negotiated> {
    let info = super::sys::tcp_info(fd)?;
    Ok(Negotiated {
        timestamps: info.tcpi_options & 1 != 0, // TCPI_OPT_TIMESTAMPS
        sack: info.tcpi_options & 2 != 0,       // TCPI_OPT_SACK
        window_scaling: info.tcpi_options & 4 != 0, // TCPI_OPT_WSCALE
        snd_wscale: info.tcpi_snd_rcv_wscale & 0x0f,
        rcv_wscale: info.tcpi_snd_rcv_wscale >> 4,
        snd_mss: info.tcpi_snd_mss,
        retransmits_total: info.tcpi_total_retrans,
        state: KernelState::from_code(info.tcpi_state),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_a_proc_net_tcp_table() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n   0: 010200C0:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 123 1 0000000000000000 100 0 0 10 0\n   1: 010200C0:1F90 020200C0:C350 06 00000000:00000000 03:00000F9E 00000000     0        0 0 3 0000000000000000\n";
        let rows = parse_proc_net_tcp(text).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].local, "192.0.2.1:8080".parse().unwrap());
        assert_eq!(rows[0].state, KernelState::Listen);
        assert_eq!(rows[1].remote, "192.0.2.2:50000".parse().unwrap());
        assert_eq!(rows[1].state, KernelState::TimeWait);
        assert_eq!(parse_proc_net_tcp("header\n garbage\n"), Err(2));
    }
}
