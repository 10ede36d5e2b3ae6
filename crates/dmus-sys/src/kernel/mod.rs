//! The kernel subset rdmus uses: ntdef.h, ntstatus.h and wdm.h types, in the DDK's spellings.

pub mod basic;
pub mod dpc_timer;
pub mod ex_timer;
pub mod io;
pub mod irql;
pub mod lookaside;
pub mod mm;
pub mod mutex;
pub mod pool;
pub mod power;
pub mod resource;
pub mod slist;
pub mod status;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub mod xstate;

pub use basic::*;
pub use dpc_timer::*;
pub use ex_timer::*;
pub use io::*;
pub use irql::*;
pub use lookaside::*;
pub use mm::*;
pub use mutex::*;
pub use pool::*;
pub use power::*;
pub use resource::*;
pub use slist::*;
pub use status::*;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
pub use xstate::*;
