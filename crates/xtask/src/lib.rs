//! rdmus's build tasks: package the driver, check its image, stamp the INF,
//! and run every check CI runs. The `xtask` binary is the command line over
//! these modules; `tests/image.rs` at the workspace root uses the image check.
// Host tooling: reads files and runs commands, never needs `unsafe`.
#![forbid(unsafe_code)]

pub mod abi;
pub mod abi_list;
pub mod ci;
pub mod cmd;
pub mod fuzz;
pub mod image;
pub mod import_audit;
pub mod inf;
pub mod instruction_audit;
pub mod package;
pub mod sign;
pub mod standin;
pub mod toolchain;
pub mod wine;
