//! dmus-sys's side of the ABI test (`cargo xtask abi`): every value in `abi.list`
//! (sizes, alignments, offsets, vtable slots, constants) and every GUID, computed by the
//! Rust compiler for the target this crate is built for and exported as two `#[no_mangle]`
//! statics. xtask builds it for `x86_64-pc-windows-msvc` and `i686-pc-windows-msvc`, reads
//! the statics' bytes from the object file and compares them with the same list compiled
//! by mingw-w64's gcc from the headers.
//!
//! A crate of its own rather than a test of dmus-sys: the table must be compiled for the
//! Windows targets into an object file xtask reads, and dmus-sys stays free of a build
//! script and of the list's format.
#![no_std]
// The table is generated: every value is widened to u64 as the C side widens it to
// `unsigned long long` (sign-extending negative constants), whatever the source type.
#![allow(
    clippy::unnecessary_cast,
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)]

include!(concat!(env!("OUT_DIR"), "/abi_table.rs"));
