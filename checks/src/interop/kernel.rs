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
///
/// Asks sock_diag for that one socket (a hash lookup, as `ss` does), and
/// falls back to reading `/proc/thread-self/net/tcp`, which walks the whole
/// established hash table (milliseconds on a large machine: too slow to
/// sample between two steps of the pump).
pub fn state_of(
    local: SocketAddrV4,
    remote: SocketAddrV4,
) -> Result<Option<KernelState>, ProcNetError> {
    if let Ok(found) = diag_lookup(local, remote) {
        return Ok(found);
    }
    Ok(sockets()?
        .into_iter()
        .find(|s| s.local == local && s.remote == remote)
        .map(|s| s.state))
}

// linux/sock_diag.h and linux/inet_diag.h, which libc does not carry.
const SOCK_DIAG_BY_FAMILY: u16 = 20;
const INET_DIAG_NOCOOKIE: u32 = !0;

#[repr(C)]
#[derive(Clone, Copy)]
struct InetDiagSockId {
    sport: [u8; 2],
    dport: [u8; 2],
    src: [[u8; 4]; 4],
    dst: [[u8; 4]; 4],
    interface: u32,
    cookie: [u32; 2],
}

#[repr(C)]
struct DiagRequest {
    // struct nlmsghdr
    len: u32,
    kind: u16,
    flags: u16,
    seq: u32,
    pid: u32,
    // struct inet_diag_req_v2
    family: u8,
    protocol: u8,
    ext: u8,
    pad: u8,
    states: u32,
    id: InetDiagSockId,
}

/// One exact sock_diag lookup of an IPv4 TCP socket (TIME-WAIT included).
pub fn diag_lookup(local: SocketAddrV4, remote: SocketAddrV4) -> io::Result<Option<KernelState>> {
    use std::os::fd::{FromRawFd, OwnedFd};
    // SAFETY: plain socket(2); the result is checked and owned below.
    let fd = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_DGRAM | libc::SOCK_CLOEXEC,
            libc::NETLINK_SOCK_DIAG,
        )
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: a fresh descriptor nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let mut id = InetDiagSockId {
        sport: local.port().to_be_bytes(),
        dport: remote.port().to_be_bytes(),
        src: [[0; 4]; 4],
        dst: [[0; 4]; 4],
        interface: 0,
        cookie: [INET_DIAG_NOCOOKIE; 2],
    };
    id.src[0] = local.ip().octets();
    id.dst[0] = remote.ip().octets();
    let req = DiagRequest {
        len: std::mem::size_of::<DiagRequest>() as u32,
        kind: SOCK_DIAG_BY_FAMILY,
        flags: libc::NLM_F_REQUEST as u16,
        seq: 1,
        pid: 0,
        family: libc::AF_INET as u8,
        protocol: libc::IPPROTO_TCP as u8,
        ext: 0,
        pad: 0,
        states: !0,
        id,
    };
    // SAFETY: sends the bytes of a fully initialised repr(C) struct.
    let sent = unsafe {
        libc::send(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            &req as *const DiagRequest as *const libc::c_void,
            std::mem::size_of::<DiagRequest>(),
            0,
        )
    };
    if sent < 0 {
        return Err(io::Error::last_os_error());
    }
    let mut buf = [0u8; 4096];
    // SAFETY: receives into a buffer of the given size.
    let n = unsafe {
        libc::recv(
            std::os::fd::AsRawFd::as_raw_fd(&fd),
            buf.as_mut_ptr() as *mut libc::c_void,
            buf.len(),
            0,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    let reply = &buf[..n as usize];
    if reply.len() < 16 {
        return Err(io::Error::other("short sock_diag reply"));
    }
    let kind = u16::from_ne_bytes([reply[4], reply[5]]);
    if kind == libc::NLMSG_ERROR as u16 {
        let code = reply
            .get(16..20)
            .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
            .unwrap_or(-libc::EIO);
        return if code == -libc::ENOENT {
            Ok(None)
        } else {
            Err(io::Error::from_raw_os_error(-code))
        };
    }
    if kind != SOCK_DIAG_BY_FAMILY || reply.len() < 18 {
        return Err(io::Error::other(format!(
            "unexpected sock_diag reply type {kind}"
        )));
    }
    // inet_diag_msg: family, state, timer, retrans, then the socket id
    // (sport, dport, src[16], dst[16], ...).
    let Some(msg) = reply.get(16..16 + 4 + 40) else {
        return Err(io::Error::other("short inet_diag_msg"));
    };
    // With no connection for the tuple, the kernel's lookup falls back to a
    // listener on the local port: that is not this connection.
    let dport = u16::from_be_bytes([msg[6], msg[7]]);
    let dst = [msg[24], msg[25], msg[26], msg[27]];
    if dport != remote.port() || dst != remote.ip().octets() {
        return Ok(None);
    }
    Ok(Some(KernelState::from_code(msg[1])))
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

/// The namespace's nonzero TCP counters (`/proc/thread-self/net/netstat` and
/// `snmp`), for failure reports: they say why the kernel dropped a segment.
pub fn nonzero_counters() -> String {
    let mut out = Vec::new();
    for file in [
        "/proc/thread-self/net/netstat",
        "/proc/thread-self/net/snmp",
    ] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        let lines: Vec<&str> = text.lines().collect();
        for pair in lines.chunks(2) {
            let [names, values] = pair else { continue };
            let (prefix, names) = names.split_once(':').unwrap_or(("", names));
            let (_, values) = values.split_once(':').unwrap_or(("", values));
            if prefix != "TcpExt" && prefix != "Tcp" {
                continue;
            }
            for (n, v) in names.split_whitespace().zip(values.split_whitespace()) {
                if v != "0" {
                    out.push(format!("{prefix}.{n}={v}"));
                }
            }
        }
    }
    out.join(" ")
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
