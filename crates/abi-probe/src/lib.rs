//! dmus-sys's side of the ABI test (`cargo xtask abi`): every value in `abi.list`
//! (sizes, alignments, offsets, vtable slots, constants) and every GUID, computed by the
//! Rust compiler for the target this crate is built for and exported as two `#[no_mangle]`
//! statics. xtask builds it for x86_64- and i686-pc-windows-msvc, reads the statics' bytes
//! from the object file and compares them with the same list compiled by mingw-w64's gcc.
#![no_std]
#![allow(
    clippy::cast_possible_truncation,
    clippy::cast_sign_loss,
    clippy::cast_lossless
)]

include!(concat!(env!("OUT_DIR"), "/abi_table.rs"));
