//! The checks that hold the engine (`synack-tcp`) against the model (`synack-model`)
//! and against outside judges.
pub mod interop;
pub mod refine;
pub mod script;
pub mod tshark;
