//! Arbitrary segment sequences, user calls and timer advances driven into a
//! connection that starts in any of the eleven states (issue 4, "Bad
//! input"). The driver checks the TCB's invariants after every step; see
//! `synack_tcp::connection::fuzzing`.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = synack_tcp::connection::fuzzing::drive(data);
});
