//! The functions rdmus imports from ntoskrnl.exe, hal.dll and portcls.sys.
//!
//! On Windows targets each block links through `raw-dylib`, so rustc writes the import tables
//! itself and no WDK `.lib` is needed. x86 kernel exports carry undecorated names (`KeInitializeDpc`,
//! not `_KeInitializeDpc@12` or `@KfAcquireSpinLock@4`), hence `import_name_type = "undecorated"`
//! there. On the host the same names resolve to `#[no_mangle]` definitions in wdm-sim.
//!
//! Routines newer than the oldest kernel rdmus loads on (`ExAllocatePool2`, the `Ex*Timer`
//! family, `MmCopyMemory`) are never imported: [`late_bound`] gives their pointer types, and
//! the driver finds them with `MmGetSystemRoutineAddress` at DriverEntry.
//!
//! ks.sys: rdmus imports nothing from it. PortCls does all KS work (property routing, pin
//! factories, IRP dispatch via `PcDispatchIrp`) for a miniport, so no ks module exists.
//!
//! Per-architecture differences (wdm.h per-architecture sections; mingw-w64 ddk/wdm.h):
//! - Spin locks: x64/ARM64 export `KeAcquireSpinLockRaiseToDpc`, `KeReleaseSpinLock`,
//!   `KeAcquireSpinLockAtDpcLevel`, `KeReleaseSpinLockFromDpcLevel` (ntoskrnl). x86 macros map
//!   them to `KfAcquireSpinLock` / `KfReleaseSpinLock` (hal.dll, `__fastcall`) and
//!   `KefAcquireSpinLockAtDpcLevel` / `KefReleaseSpinLockFromDpcLevel` (ntoskrnl, `__fastcall`).
//! - SLists: 64-bit exports `ExpInterlockedPopEntrySList` / `ExpInterlockedPushEntrySList` /
//!   `ExpInterlockedFlushSList` (ntoskrnl); x86 exports `InterlockedPopEntrySList` /
//!   `InterlockedPushEntrySList` / `ExInterlockedFlushSList` (`__fastcall`).
//! - IRQL: x86 exports `KeGetCurrentIrql` (stdcall), `KfRaiseIrql`, `KfLowerIrql` (`__fastcall`)
//!   from hal.dll; x64 inlines them (CR8) and ARM64 inlines them (the PCR via x18), so there is
//!   nothing to import there (the driver's arch module implements them).
//! - Port I/O: `READ_PORT_UCHAR` / `WRITE_PORT_UCHAR` are hal.dll exports on x86 only; x64
//!   inlines `in`/`out` and ARM64 maps ports as memory.
//! - `KeSaveExtendedProcessorState` / `KeRestoreExtendedProcessorState`: x86 and x64 only
//!   (`XSTATE_SAVE` is not needed on ARM64; see `kernel::xstate`).
//! - `DbgPrintEx` and `memcpy`/`memmove`/`memset`/`memcmp` are `__cdecl` (`extern "C"`).
//! - x86 only: the compiler's 64-bit arithmetic helpers (`_alldiv`, `_aulldiv`, `_allrem`,
//!   `_aullrem`, `_allmul`), `__stdcall` ntoskrnl.exe exports; build.rs points the
//!   compiler's undecorated calls at them (`/ALTERNATENAME`).
//!
//! The x86 conventions are checked on the linked image: `cargo xtask import-audit` compares
//! each import's decorated symbol in the x86 link map with mingw-w64's i686 import libraries
//! and with what its headers declare (xtask `import_audit::conventions`).

pub mod hal;
#[cfg(not(target_os = "windows"))]
pub mod host_arch;
pub mod late_bound;
pub mod ntoskrnl;
pub mod portcls;

pub use hal::*;
#[cfg(not(target_os = "windows"))]
pub use host_arch::*;
pub use late_bound::*;
pub use ntoskrnl::*;
pub use portcls::*;
