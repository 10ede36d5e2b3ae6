//! portcls-standin: a stand-in `portcls.sys`, written by us, that plays PortCls' part for the
//! real x64 `rdmus.sys` under Wine's kernel (issue 14, item 2).
//!
//! Wine has no portcls.sys. A module of that name in the prefix's
//! `C:\windows\system32\drivers` satisfies rdmus.sys's imports, and Wine's loader maps it into
//! winedevice.exe as a dependency of the driver. This crate is that module: a `#![no_std]`
//! cdylib cross-built for `x86_64-pc-windows-msvc` exactly like rdmus.sys (raw-dylib imports,
//! rust-lld), built and renamed by `cargo xtask standin` (output
//! `target/standin/x64/portcls.sys`).
//!
//! # What it exports
//! What rdmus.sys imports from portcls.sys (`llvm-readobj --coff-imports`):
//! `PcInitializeAdapterDriver`, `PcAddAdapterDevice`, `PcNewPort`, `PcNewServiceGroup`,
//! `PcNewInterruptSync`, `PcRegisterSubdevice` ([`exports`]).
//!
//! # Module entry
//! The module's entry is `DllMain(hinst, reason, reserved)` and returns TRUE: Wine initialises
//! a native-subsystem module that imports from ntdll.dll as a DLL (issue 14's trial).
//!
//! # Host build
//! On the host the crate builds too (cargo builds every member of the workspace, as for the
//! rdmus.sys image crate) and runs the unit tests of its kernel-free parts; the exports, the
//! entry and everything that calls the kernel exist only for `target_os = "windows"`.
#![no_std]
// The docs quote the DDK's vocabulary (PortCls, DriverEntry, PASSIVE_LEVEL, AddDevice).
#![allow(clippy::doc_markdown)]

// A host cdylib takes its panic runtime from std; on Windows targets the module has its own
// panic handler.
#[cfg(not(target_os = "windows"))]
extern crate std;

pub mod adapter_driver;
#[cfg(target_os = "windows")]
pub mod exports;
#[cfg(target_os = "windows")]
mod runtime;
