//! Kernel mutexes and waits (wdm.h): `KMUTEX` (`KMUTANT`), `KWAIT_REASON`, `KPROCESSOR_MODE`.

use super::{DISPATCHER_HEADER, LIST_ENTRY, PVOID};
use crate::pin_layout;

/// `KMUTANT` / `KMUTEX` (wdm.h): a dispatcher object a thread owns between
/// `KeWaitForSingleObject` and `KeReleaseMutex`. Opaque to drivers past initialization.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct KMUTEX {
    /// Dispatcher header (`SignalState` 1 = free).
    pub Header: DISPATCHER_HEADER,
    /// Link in the owner thread's list of held mutants.
    pub MutantListEntry: LIST_ENTRY,
    /// The owning thread (`struct _KTHREAD *`), null when free.
    pub OwnerThread: PVOID,
    /// Whether the owner ended without releasing it.
    pub Abandoned: u8,
    /// Kernel APCs disabled while held.
    pub ApcDisable: u8,
}

/// `PKMUTEX`.
pub type PKMUTEX = *mut KMUTEX;

pin_layout!(KMUTEX, "wdm.h (mingw-w64 ddk/wdm.h _KMUTANT)", size (0x20, 0x38), align (4, 8), {
    Header: (0, 0),
    MutantListEntry: (0x10, 0x18),
    OwnerThread: (0x18, 0x28),
    Abandoned: (0x1c, 0x30),
    ApcDisable: (0x1d, 0x31),
});

/// `KWAIT_REASON` (wdm.h; an enum, passed as a 32-bit value).
pub type KWAIT_REASON = i32;
/// `Executive`: the reason drivers pass for their own waits (the enum's first value).
pub const Executive: KWAIT_REASON = 0;

/// `KPROCESSOR_MODE` (wdm.h: `CCHAR`).
pub type KPROCESSOR_MODE = i8;
/// `KernelMode`.
pub const KernelMode: KPROCESSOR_MODE = 0;
/// `UserMode`.
pub const UserMode: KPROCESSOR_MODE = 1;
