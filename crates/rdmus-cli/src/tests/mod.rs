//! Tests over the whole crate: real files, the command line, the IRPs.
//!
//! They live inside the library instead of in `tests/` on purpose: a package
//! with integration tests makes `cargo test` also build its binary with the
//! dev profile (`panic = "abort"` in the root manifest) while the tests build
//! their dependencies with unwinding, so the driver package (`rdmus`, whose
//! cdylib crate type keeps its output file names free of hashes) would be
//! built twice into the same `librdmus.rlib`, and whichever build wrote it
//! last would break the other.

mod cli;
mod irp_roundtrip;
mod irp_unpack;
mod jazz_soft;
mod play_files;
mod record_midly;
mod synth;
mod wire_targets;
