//! A private network namespace with one TUN link in it: the kernel on one end
//! (`KERNEL_ADDR`), the engine behind the TUN file descriptor on the other
//! (`ENGINE_ADDR`). Addresses are from TEST-NET-1 (RFC 5737), which is never
//! routed anywhere, and the namespace has no other interface than `lo` and no
//! default route: nothing the kernel sends can go anywhere but to the harness.

use std::io;
use std::net::Ipv4Addr;
use std::path::Path;

use super::sys::{self, Tun};

/// The kernel's address on the link.
pub const KERNEL_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
/// The engine's address on the link (the kernel's point-to-point peer).
pub const ENGINE_ADDR: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 2);
/// The TUN device's name inside the namespace.
pub const TUN_NAME: &str = "synack0";

/// Why interop cannot run on this machine at all: a test reports itself as
/// skipped with this reason, never as passed.
#[derive(Debug, thiserror::Error)]
pub enum Unavailable {
    #[error("not running as root (euid {0}); interop needs CAP_NET_ADMIN for unshare and TUN")]
    NotRoot(u32),
    #[error("{} is missing (no TUN driver on this machine)", sys::TUN_PATH)]
    NoTunDevice,
    #[error("unshare(CLONE_NEWNET) failed: {0}")]
    Unshare(io::Error),
    #[error("cannot create a TUN device: {0}")]
    Tun(io::Error),
}

/// Setting up the namespace failed in a way that is a bug, not a missing facility.
#[derive(Debug, thiserror::Error)]
pub enum SetupError {
    #[error("interop unavailable: {0}")]
    Unavailable(#[from] Unavailable),
    #[error("namespace setup failed at {step}: {source}")]
    Failed {
        step: &'static str,
        #[source]
        source: io::Error,
    },
}

fn step(step: &'static str) -> impl FnOnce(io::Error) -> SetupError {
    move |source| SetupError::Failed { step, source }
}

/// Checks the cheap preconditions without changing anything.
pub fn precheck() -> Result<(), Unavailable> {
    if !sys::is_root() {
        // SAFETY: geteuid cannot fail.
        return Err(Unavailable::NotRoot(unsafe { libc::geteuid() }));
    }
    if !Path::new(sys::TUN_PATH).exists() {
        return Err(Unavailable::NoTunDevice);
    }
    Ok(())
}

/// The namespace of the current thread, set up: `lo` up, the TUN link
/// configured, IPv6 off on it.
pub struct Namespace {
    pub tun: Tun,
    pub netns_inode: u64,
}

/// Moves the *calling thread* into a fresh network namespace and builds the link.
/// Call it only on a thread made for the purpose (see [`run_in_namespace`]).
pub fn enter() -> Result<Namespace, SetupError> {
    precheck()?;
    let before = sys::netns_inode().map_err(step("reading /proc/thread-self/ns/net"))?;
    sys::unshare_net().map_err(Unavailable::Unshare)?;
    let after = sys::netns_inode().map_err(step("reading /proc/thread-self/ns/net"))?;
    if before == after {
        return Err(SetupError::Failed {
            step: "unshare",
            source: io::Error::other("the thread is still in its old network namespace"),
        });
    }
    sys::set_link_up("lo").map_err(step("bringing up lo"))?;
    // IPv6 off before the TUN device exists and before it goes up, so it never
    // gets a link-local address and never sends a solicitation.
    sys::disable_ipv6(TUN_NAME).map_err(step("disabling IPv6 (default)"))?;
    let tun = Tun::create(TUN_NAME).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT | libc::ENODEV | libc::ENXIO | libc::EPERM | libc::EACCES) => {
            SetupError::Unavailable(Unavailable::Tun(e))
        }
        _ => SetupError::Failed {
            step: "creating the TUN device",
            source: e,
        },
    })?;
    sys::disable_ipv6(TUN_NAME).map_err(step("disabling IPv6 on the TUN device"))?;
    sys::configure_point_to_point(TUN_NAME, KERNEL_ADDR, ENGINE_ADDR)
        .map_err(step("addressing the TUN device"))?;
    // The kernel's client ports come from a block no tshark dissector claims,
    // so the judge never decodes test payload as some application protocol.
    sys::write_net_sysctl("ipv4/ip_local_port_range", "47100 47999")
        .map_err(step("narrowing the ephemeral port range"))?;
    // No tail-loss probes or early retransmits: they fire after a couple of
    // milliseconds without an ACK, which a busy test machine can cause on a
    // loss-free link; the kernel's RTO (200 ms minimum) still applies.
    sys::write_net_sysctl("ipv4/tcp_early_retrans", "0")
        .map_err(step("turning off tail-loss probes"))?;
    sys::set_link_up(TUN_NAME).map_err(step("bringing up the TUN device"))?;
    Ok(Namespace {
        tun,
        netns_inode: after,
    })
}

/// Runs `f` on a new thread that first moves into a fresh namespace (so the
/// caller's thread, and the rest of the process, stay where they are). Threads
/// `f` spawns inherit the namespace. A panic in `f` is passed on to the caller.
pub fn run_in_namespace<T, F>(name: &str, f: F) -> Result<T, SetupError>
where
    T: Send,
    F: FnOnce(Namespace) -> T + Send,
{
    std::thread::scope(|scope| {
        let handle = std::thread::Builder::new()
            .name(format!("netns-{name}"))
            .spawn_scoped(scope, move || enter().map(f))
            .map_err(step("spawning the namespace thread"))?;
        match handle.join() {
            Ok(result) => result,
            Err(panic) => std::panic::resume_unwind(panic),
        }
    })
}
