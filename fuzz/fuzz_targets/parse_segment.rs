//! Arbitrary bytes through every wire parser: TCP segment (as given and with
//! its checksum fixed), options, IPv4/IPv6, checksum routines. The checks
//! live in `synack_tcp::wire::fuzz::parse_invariants`, which the seeded
//! proptest run in `impl/tests/wire_fuzz.rs` drives too.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    synack_tcp::wire::fuzz::parse_invariants(data);
});
