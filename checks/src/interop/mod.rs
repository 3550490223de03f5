//! Interop with the Linux kernel's TCP over a TUN device in a private network
//! namespace (issue 7).
//!
//! [`netns`] builds the namespace and the link, [`pump`] moves packets between
//! the TUN device and a sans-IO endpoint on real time through the seeded
//! [`impair`]ed links, and [`capture`] writes the pcap every test leaves in
//! `target/synack-interop/`.

pub mod capture;
pub mod impair;
pub mod kernel;
pub mod netns;
pub mod pump;
pub mod sys;

pub use capture::default_output_dir;
pub use impair::{Impairment, LinkStats, Rng};
pub use netns::{run_in_namespace, Namespace, SetupError, Unavailable, ENGINE_ADDR, KERNEL_ADDR};
pub use pump::{Dir, Endpoint, Fate, LogEntry, Pump, PumpConfig, PumpError, RawPeer};
