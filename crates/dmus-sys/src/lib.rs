//! The ABI that rdmus shares with Windows, written from the public headers.
//!
//! Raw bindings only, in the DDK's own spellings (`DMUS_KERNEL_EVENT`,
//! `IMiniportDMus`, `KSMUSICFORMAT`): `#[repr(C)]` types, constants, GUIDs, COM
//! vtables and the `extern "system"` functions of ntoskrnl.exe, hal.dll and
//! portcls.sys (nothing is imported from ks.sys: PortCls does the KS work). No
//! logic lives here; safe wrappers live in the crates above. Every layout is
//! pinned for x86, x64 and ARM64 by compile-time assertions (they fire when
//! cross-building each Windows target, `cargo check --target ...`), each naming
//! the public header it was checked against; tests/ pins every GUID to its
//! header's fields and every vtable's slot count.
//!
//! Modules: [`kernel`] (ntdef.h / ntstatus.h / wdm.h), [`imports`] (the imported
//! functions, per architecture), [`com`] (`IUnknown`), [`portcls`] (PortCls
//! interfaces, descriptors, ids), [`dmus_com`] (the DirectMusic kernel
//! interfaces), [`dmusic`] (kernel events and wire records), [`dmusprop`]
//! (synth properties), [`ks`], [`ks_guids`], [`ksmedia`], [`dls`] (DLS download
//! structures), [`guid`].
#![no_std]
// Every unsafe block is explained, one operation a block, with no exception.
#![forbid(
    clippy::undocumented_unsafe_blocks,
    clippy::multiple_unsafe_ops_per_block
)]
// The DDK's spellings are the point of this crate.
#![allow(
    non_camel_case_types,
    non_snake_case,
    non_upper_case_globals,
    clippy::upper_case_acronyms
)]
// Docs quote the DDK's vocabulary (PortCls, DISPATCH_LEVEL, ntoskrnl) in almost every line;
// backticking each would bury the prose.
#![allow(clippy::doc_markdown)]

pub mod com;
pub mod dls;
pub mod dmus_com;
pub mod dmusic;
pub mod dmusprop;
pub mod guid;
pub mod imports;
pub mod kernel;
pub mod ks;
pub mod ks_guids;
pub mod ksmedia;
mod layout;
pub mod portcls;

pub use guid::GUID;
