//! The few system calls the harness needs, kept in one place: a private network
//! namespace for the calling thread, a TUN device, and the addresses on it.
//!
//! Everything here acts on the namespace of the *calling thread*: Linux keeps
//! namespaces per thread, so after [`unshare_net`] the thread (and every thread
//! or process it starts later) sees only the namespace's own interfaces.

use std::ffi::CString;
use std::fs::File;
use std::io::{self, Read, Write};
use std::net::Ipv4Addr;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;
use std::time::Duration;

/// The TUN character device.
pub const TUN_PATH: &str = "/dev/net/tun";

/// Whether the process runs with effective user id 0.
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// Moves the calling thread into a fresh, empty network namespace.
pub fn unshare_net() -> io::Result<()> {
    // SAFETY: unshare takes a flag word and touches only this thread's namespaces.
    let rc = unsafe { libc::unshare(libc::CLONE_NEWNET) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The inode of the calling thread's network namespace, to tell namespaces apart.
pub fn netns_inode() -> io::Result<u64> {
    use std::os::unix::fs::MetadataExt;
    Ok(std::fs::metadata("/proc/thread-self/ns/net")?.ino())
}

fn ifreq_for(name: &str) -> io::Result<libc::ifreq> {
    let bytes = name.as_bytes();
    if bytes.is_empty() || bytes.len() >= libc::IFNAMSIZ || bytes.contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("bad interface name {name:?}"),
        ));
    }
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut req: libc::ifreq = unsafe { std::mem::zeroed() };
    for (slot, &b) in req.ifr_name.iter_mut().zip(bytes) {
        *slot = b as libc::c_char;
    }
    Ok(req)
}

fn sockaddr_v4(addr: Ipv4Addr) -> libc::sockaddr {
    let sin = libc::sockaddr_in {
        sin_family: libc::AF_INET as libc::sa_family_t,
        sin_port: 0,
        sin_addr: libc::in_addr {
            s_addr: u32::from_ne_bytes(addr.octets()),
        },
        sin_zero: [0; 8],
    };
    // SAFETY: sockaddr_in and sockaddr have the same size on Linux and both are
    // plain old data; the kernel reads it back as sockaddr_in for AF_INET.
    unsafe { std::mem::transmute::<libc::sockaddr_in, libc::sockaddr>(sin) }
}

/// A datagram socket used only as a handle for interface ioctls in this namespace.
struct CtlSocket(OwnedFd);

impl CtlSocket {
    fn new() -> io::Result<Self> {
        // SAFETY: plain socket(2) call; the result is checked before use.
        let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
        if fd < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: fd is a freshly created descriptor that nothing else owns.
        Ok(CtlSocket(unsafe { OwnedFd::from_raw_fd(fd) }))
    }

    fn ioctl(&self, what: &str, request: libc::Ioctl, req: &mut libc::ifreq) -> io::Result<()> {
        // SAFETY: every request used here reads or writes one ifreq, which `req` is.
        let rc = unsafe { libc::ioctl(self.0.as_raw_fd(), request, req as *mut libc::ifreq) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            Err(io::Error::new(e.kind(), format!("{what}: {e}")))
        } else {
            Ok(())
        }
    }
}

/// Sets IFF_UP on an interface of the calling thread's namespace.
pub fn set_link_up(name: &str) -> io::Result<()> {
    let sock = CtlSocket::new()?;
    let mut req = ifreq_for(name)?;
    sock.ioctl("SIOCGIFFLAGS", libc::SIOCGIFFLAGS as libc::Ioctl, &mut req)?;
    // SAFETY: SIOCGIFFLAGS filled the flags member of the union.
    unsafe {
        req.ifr_ifru.ifru_flags |= (libc::IFF_UP | libc::IFF_RUNNING) as libc::c_short;
    }
    sock.ioctl("SIOCSIFFLAGS", libc::SIOCSIFFLAGS as libc::Ioctl, &mut req)
}

/// Gives `name` the local address `local` and the point-to-point peer `peer`
/// with a /32 mask: the kernel then routes exactly one address (the peer) over
/// the link, and there is no default route, so nothing can go anywhere else.
pub fn configure_point_to_point(name: &str, local: Ipv4Addr, peer: Ipv4Addr) -> io::Result<()> {
    let sock = CtlSocket::new()?;
    let mut req = ifreq_for(name)?;
    req.ifr_ifru.ifru_addr = sockaddr_v4(local);
    sock.ioctl("SIOCSIFADDR", libc::SIOCSIFADDR as libc::Ioctl, &mut req)?;
    let mut req = ifreq_for(name)?;
    req.ifr_ifru.ifru_dstaddr = sockaddr_v4(peer);
    sock.ioctl(
        "SIOCSIFDSTADDR",
        libc::SIOCSIFDSTADDR as libc::Ioctl,
        &mut req,
    )?;
    let mut req = ifreq_for(name)?;
    req.ifr_ifru.ifru_netmask = sockaddr_v4(Ipv4Addr::BROADCAST);
    sock.ioctl(
        "SIOCSIFNETMASK",
        libc::SIOCSIFNETMASK as libc::Ioctl,
        &mut req,
    )
}

/// Writes a value to a sysctl under `/proc/sys/net`, which resolves to the
/// namespace of the calling thread.
pub fn write_net_sysctl(path: &str, value: &str) -> io::Result<()> {
    let full = Path::new("/proc/sys/net").join(path);
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .open(&full)
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", full.display())))?;
    f.write_all(value.as_bytes())
        .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", full.display())))
}

/// Turns IPv6 off for `name` (and for interfaces created later), so the kernel
/// sends no router solicitations or MLD reports down the link. A kernel without
/// IPv6 has no such file, which is just as good.
pub fn disable_ipv6(name: &str) -> io::Result<()> {
    for path in [
        "ipv6/conf/default/disable_ipv6".to_string(),
        format!("ipv6/conf/{name}/disable_ipv6"),
    ] {
        match write_net_sysctl(&path, "1") {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A TUN device (layer 3, no packet-information prefix): every read returns one
/// IP packet the kernel routed to it, every write hands one IP packet to the kernel.
pub struct Tun {
    file: File,
    name: String,
}

impl Tun {
    /// Creates the device `name` in the calling thread's namespace.
    pub fn create(name: &str) -> io::Result<Tun> {
        let path = CString::new(TUN_PATH).expect("constant path has no NUL");
        // SAFETY: plain open(2) of a constant path; the result is checked.
        let fd = unsafe {
            libc::open(
                path.as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if fd < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("open {TUN_PATH}: {e}")));
        }
        // SAFETY: fd is a fresh descriptor nothing else owns.
        let file = File::from(unsafe { OwnedFd::from_raw_fd(fd) });
        let mut req = ifreq_for(name)?;
        req.ifr_ifru.ifru_flags = (libc::IFF_TUN | libc::IFF_NO_PI) as libc::c_short;
        // SAFETY: TUNSETIFF reads (and may write back the name of) one struct ifreq.
        let rc = unsafe {
            libc::ioctl(
                file.as_raw_fd(),
                libc::TUNSETIFF,
                &mut req as *mut libc::ifreq,
            )
        };
        if rc < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(e.kind(), format!("TUNSETIFF {name}: {e}")));
        }
        Ok(Tun {
            file,
            name: name.to_string(),
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Reads one packet, or `None` if none is waiting.
    pub fn try_read(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        match self.file.read(buf) {
            Ok(n) => Ok(Some(n)),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => Ok(None),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Hands one IP packet to the kernel.
    pub fn write_packet(&mut self, packet: &[u8]) -> io::Result<()> {
        let n = self.file.write(packet)?;
        if n != packet.len() {
            return Err(io::Error::new(
                io::ErrorKind::WriteZero,
                format!("TUN took {n} of {} bytes", packet.len()),
            ));
        }
        Ok(())
    }

    /// Waits until a packet is readable or `timeout` passes; true if readable.
    pub fn wait_readable(&self, timeout: Duration) -> io::Result<bool> {
        let mut pfd = libc::pollfd {
            fd: self.file.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        };
        let ms = timeout.as_millis().min(i32::MAX as u128) as libc::c_int;
        // Round a sub-millisecond wait up, so the pump does not spin.
        let ms = if ms == 0 && !timeout.is_zero() { 1 } else { ms };
        // SAFETY: one valid pollfd, count 1.
        let rc = unsafe { libc::poll(&mut pfd, 1, ms) };
        if rc < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                return Ok(false);
            }
            return Err(e);
        }
        Ok(rc > 0 && pfd.revents & libc::POLLIN != 0)
    }
}

/// `getsockopt(TCP_INFO)` for a kernel socket: what the kernel negotiated.
pub fn tcp_info(fd: &impl AsRawFd) -> io::Result<libc::tcp_info> {
    // SAFETY: tcp_info is plain old data; all-zero is valid.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: info and len describe a writable buffer of the given size.
    let rc = unsafe {
        libc::getsockopt(
            fd.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            &mut info as *mut libc::tcp_info as *mut libc::c_void,
            &mut len,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(info)
}

/// Sets SO_LINGER to zero seconds, so that closing the socket aborts the
/// connection with a RST instead of a FIN (the kernel's ABORT call).
pub fn set_linger_zero(fd: &impl AsRawFd) -> io::Result<()> {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: a valid linger struct of the size given.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        )
    };
    if rc < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(())
    }
}
