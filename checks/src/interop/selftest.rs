//! The harness checked against the kernel itself, before any engine takes
//! part: a hand-built SYN (made with the engine's wire module) goes through the
//! TUN device to a kernel listener, which must answer SYN-ACK, and to a closed
//! port, which must answer RST. And the namespace must be private.

use std::net::{SocketAddrV4, TcpListener};
use std::time::Duration;

use synack_tcp::Flags;

use super::kernel;
use super::netns::{ENGINE_ADDR, KERNEL_ADDR, TUN_NAME};
use super::packet::{self, SegInfo};
use super::pump::{Pump, PumpConfig, RawPeer};
use super::{judge_pcap, Failure, Outcome, TestCtx};

const ISS: u32 = 0x1234_5678;

fn first_from_kernel(peer: &RawPeer) -> Result<SegInfo, Failure> {
    let (_, p) = peer
        .received
        .first()
        .ok_or_else(|| Failure::check("the kernel sent nothing"))?;
    SegInfo::parse(p).map_err(|e| Failure::check(format!("kernel packet does not parse: {e}")))
}

/// A SYN to a kernel listener is answered with a SYN-ACK acknowledging it,
/// carrying the options offered.
pub fn syn_gets_syn_ack(ctx: &TestCtx) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let local = SocketAddrV4::new(KERNEL_ADDR, 47_010);
        let remote = SocketAddrV4::new(ENGINE_ADDR, 47_012);
        let _listener = TcpListener::bind(local).map_err(Failure::io("binding the listener"))?;
        let mut pump = Pump::new(ns.tun, &PumpConfig::clean(ctx.seed), &ctx.pcap)?;
        let mut peer = RawPeer::default();
        peer.outbox.push_back(packet::syn(remote, local, ISS)?);
        pump.run_until(
            &mut peer,
            "the kernel's SYN-ACK",
            Duration::from_secs(3),
            |p| !p.received.is_empty(),
        )?;
        let s = first_from_kernel(&peer)?;
        ctx.say(format!("kernel answered: {s}"));
        Failure::ensure(s.flags == Flags::SYN | Flags::ACK, || {
            format!("expected SYN-ACK, got {s}")
        })?;
        Failure::ensure(s.src == local && s.dst == remote, || {
            format!("wrong addresses: {s}")
        })?;
        Failure::ensure(s.ack == ISS.wrapping_add(1), || {
            format!("ack {} is not ISS+1", s.ack)
        })?;
        let o = s.options;
        Failure::ensure(
            o.mss.is_some()
                && o.window_scale.is_some()
                && o.sack_permitted
                && o.timestamps.is_some(),
            || format!("kernel's SYN-ACK lacks an option it was offered: {o:?}"),
        )?;
        let tsecr = o.timestamps.map(|t| t.1);
        Failure::ensure(tsecr == Some(1), || {
            format!("TSecr {tsecr:?} does not echo TSval 1")
        })?;
        // Abort our half of the handshake so the kernel stops retransmitting.
        pump.inject_to_kernel(&packet::bare(
            remote,
            local,
            Flags::RST,
            ISS.wrapping_add(1),
            0,
            &[],
        )?)?;
        pump.finish_capture()?;
        judge_pcap(ctx, &pump, &[])
    })
}

/// A SYN to a port nobody listens on is answered with RST,ACK (RFC 9293 §3.5.2).
pub fn syn_to_closed_port_gets_rst(ctx: &TestCtx) -> Result<Outcome, Failure> {
    ctx.in_namespace(|ns| {
        let local = SocketAddrV4::new(KERNEL_ADDR, 47_011);
        let remote = SocketAddrV4::new(ENGINE_ADDR, 47_013);
        let mut pump = Pump::new(ns.tun, &PumpConfig::clean(ctx.seed), &ctx.pcap)?;
        let mut peer = RawPeer::default();
        peer.outbox.push_back(packet::syn(remote, local, ISS)?);
        pump.run_until(&mut peer, "the kernel's RST", Duration::from_secs(3), |p| {
            !p.received.is_empty()
        })?;
        let s = first_from_kernel(&peer)?;
        ctx.say(format!("kernel answered: {s}"));
        // No ACK in the SYN, so the reset takes seq 0 and acknowledges the SYN.
        Failure::ensure(s.flags == Flags::RST | Flags::ACK, || {
            format!("expected RST,ACK, got {s}")
        })?;
        Failure::ensure(s.seq == 0 && s.ack == ISS.wrapping_add(1), || {
            format!("RST should have seq 0 ack ISS+1, got {s}")
        })?;
        pump.finish_capture()?;
        judge_pcap(ctx, &pump, &[])
    })
}

/// The namespace has only `lo` and the TUN device, one route (to the engine's
/// address), and it is not the namespace the process started in.
pub fn namespace_is_private(ctx: &TestCtx) -> Result<Outcome, Failure> {
    let outer = super::sys::netns_inode().map_err(Failure::io("reading the outer namespace"))?;
    ctx.in_namespace(move |ns| {
        Failure::ensure(ns.netns_inode != outer, || {
            "still in the outer namespace".into()
        })?;
        let dev = std::fs::read_to_string("/proc/thread-self/net/dev")
            .map_err(Failure::io("reading /proc/thread-self/net/dev"))?;
        let mut names: Vec<String> = dev
            .lines()
            .skip(2)
            .filter_map(|l| l.split(':').next().map(|n| n.trim().to_string()))
            .collect();
        names.sort();
        Failure::ensure(names == ["lo", TUN_NAME], || {
            format!("interfaces: {names:?}")
        })?;
        let routes = std::fs::read_to_string("/proc/thread-self/net/route")
            .map_err(Failure::io("reading /proc/thread-self/net/route"))?;
        let rows: Vec<Vec<&str>> = routes
            .lines()
            .skip(1)
            .map(|l| l.split_whitespace().collect())
            .collect();
        // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...
        let expected_dst = format!("{:08X}", u32::from_ne_bytes(ENGINE_ADDR.octets()));
        Failure::ensure(
            rows.len() == 1
                && rows[0].first() == Some(&TUN_NAME)
                && rows[0].get(1) == Some(&expected_dst.as_str())
                && rows[0].get(7) == Some(&"FFFFFFFF"),
            || format!("routes other than the /32 to the engine:\n{routes}"),
        )?;
        let v6 =
            std::fs::read_to_string(format!("/proc/sys/net/ipv6/conf/{TUN_NAME}/disable_ipv6"));
        if let Ok(v) = v6 {
            Failure::ensure(v.trim() == "1", || {
                format!("IPv6 is on for {TUN_NAME}: {v}")
            })?;
        }
        ctx.say(kernel::ss_tan());
        Ok(Outcome::Passed)
    })
}

/// The fast state lookup (sock_diag) agrees with `/proc/thread-self/net/tcp`
/// on a loopback connection inside the namespace, and finds nothing for a
/// connection that does not exist.
pub fn state_lookup_agrees_with_proc(ctx: &TestCtx) -> Result<Outcome, Failure> {
    ctx.in_namespace(|_ns| {
        let listener = TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, 47_020))
            .map_err(Failure::io("binding on loopback"))?;
        let client = std::net::TcpStream::connect(("127.0.0.1", 47_020))
            .map_err(Failure::io("connecting on loopback"))?;
        let (_server, _) = listener.accept().map_err(Failure::io("accept"))?;
        let local = match client.local_addr() {
            Ok(std::net::SocketAddr::V4(a)) => a,
            other => return Err(Failure::check(format!("client address {other:?}"))),
        };
        let remote = SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 47_020);
        let fast = kernel::diag_lookup(local, remote).map_err(Failure::io("sock_diag lookup"))?;
        let slow = kernel::sockets()
            .map_err(|e| Failure::check(e.to_string()))?
            .into_iter()
            .find(|s| s.local == local && s.remote == remote)
            .map(|s| s.state);
        ctx.say(format!("sock_diag: {fast:?}, /proc: {slow:?}"));
        Failure::ensure(
            fast == Some(kernel::KernelState::Established) && fast == slow,
            || format!("sock_diag says {fast:?}, /proc says {slow:?}"),
        )?;
        let nobody = SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 47_021);
        let none = kernel::diag_lookup(local, nobody).map_err(Failure::io("sock_diag lookup"))?;
        Failure::ensure(none.is_none(), || {
            format!("found {none:?} for a connection that does not exist")
        })?;
        // Nor for one that would land on the listener's port: a listener is
        // not the connection asked for.
        let stranger = SocketAddrV4::new(std::net::Ipv4Addr::LOCALHOST, 47_022);
        let on_listener =
            kernel::diag_lookup(remote, stranger).map_err(Failure::io("sock_diag lookup"))?;
        Failure::ensure(on_listener.is_none(), || {
            format!("found {on_listener:?} for a tuple only the listener matches")
        })?;
        // TIME-WAIT sockets are found too: close the client first.
        drop(client);
        let mut waited = 0;
        let mut state = None;
        while waited < 100 {
            state = kernel::diag_lookup(local, remote).map_err(Failure::io("sock_diag lookup"))?;
            if state == Some(kernel::KernelState::FinWait2)
                || state == Some(kernel::KernelState::TimeWait)
            {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
            waited += 1;
        }
        Failure::ensure(state == Some(kernel::KernelState::FinWait2), || {
            format!("after the client's close, sock_diag says {state:?}, expected FIN-WAIT-2")
        })?;
        drop(_server);
        let mut state = None;
        for _ in 0..100 {
            state = kernel::diag_lookup(local, remote).map_err(Failure::io("sock_diag lookup"))?;
            if state == Some(kernel::KernelState::TimeWait) {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        Failure::ensure(state == Some(kernel::KernelState::TimeWait), || {
            format!("after both closed, sock_diag says {state:?}, expected TIME-WAIT")
        })?;
        Ok(Outcome::Passed)
    })
}
