//! Kernel routines rdmus never imports statically: newer than some kernel it must load on.
//!
//! A driver image whose import table names a routine the kernel does not export does not load
//! on Windows (the loader fails the whole image) and dies when it calls it under Wine
//! ("Unimplemented function ntoskrnl.exe.ExAllocatePool2 called"). So these are found at
//! DriverEntry with `MmGetSystemRoutineAddress` (the driver's `kernel_routines` module), each
//! through the function-pointer type below, and a kernel without them gets the documented
//! fallback:
//!
//! | routine | since | fallback |
//! |---|---|---|
//! | `ExAllocatePool2` | Windows 10 2004 | `ExAllocatePoolWithTag(NonPagedPoolNx)` and zeroing (wdm.h's `ExAllocatePoolZero` under `POOL_ZERO_DOWN_LEVEL_SUPPORT`) |
//! | `ExAllocateTimer`, `ExSetTimer`, `ExCancelTimer`, `ExDeleteTimer` | Windows 8.1 | `KeSetTimerEx` on a `KTIMER` + `KDPC` |
//! | `MmCopyMemory` | Windows 8.1 | none for a user-mode buffer (refused); a kernel-mode requestor's buffer is copied directly |
//!
//! Wine 8.0's ntoskrnl exports none of these six. On the host the same names are declared here
//! without a library (wdm-sim defines them, and resolves them by name for its
//! `MmGetSystemRoutineAddress`), so the simulation's own definitions and tests can name them.

use crate::kernel::{
    BOOLEAN, EXT_SET_PARAMETERS, MM_COPY_ADDRESS, NTSTATUS, PEX_TIMER, PEXT_CALLBACK,
    PEXT_CANCEL_PARAMETERS, PEXT_DELETE_PARAMETERS, POOL_FLAGS, PVOID, SIZE_T,
};

/// `ExAllocatePool2` (wdm.h, Windows 10 2004+): IRQL ≤ DISPATCH_LEVEL for non-paged pool.
/// Zeroes the block unless `POOL_FLAG_UNINITIALIZED`.
pub type PFN_EX_ALLOCATE_POOL2 =
    unsafe extern "system" fn(Flags: POOL_FLAGS, NumberOfBytes: SIZE_T, Tag: u32) -> PVOID;

/// `ExAllocateTimer` (wdm.h, Windows 8.1+): IRQL ≤ DISPATCH_LEVEL.
pub type PFN_EX_ALLOCATE_TIMER = unsafe extern "system" fn(
    Callback: PEXT_CALLBACK,
    CallbackContext: PVOID,
    Attributes: u32,
) -> PEX_TIMER;

/// `ExSetTimer`: IRQL ≤ DISPATCH_LEVEL; TRUE if the timer was already set (and is reset).
pub type PFN_EX_SET_TIMER = unsafe extern "system" fn(
    Timer: PEX_TIMER,
    DueTime: i64,
    Period: i64,
    Parameters: *mut EXT_SET_PARAMETERS,
) -> BOOLEAN;

/// `ExCancelTimer`: IRQL ≤ DISPATCH_LEVEL; `Parameters` must be null.
pub type PFN_EX_CANCEL_TIMER =
    unsafe extern "system" fn(Timer: PEX_TIMER, Parameters: PEXT_CANCEL_PARAMETERS) -> BOOLEAN;

/// `ExDeleteTimer`: IRQL ≤ DISPATCH_LEVEL (PASSIVE_LEVEL with `Wait`).
pub type PFN_EX_DELETE_TIMER = unsafe extern "system" fn(
    Timer: PEX_TIMER,
    Cancel: BOOLEAN,
    Wait: BOOLEAN,
    Parameters: PEXT_DELETE_PARAMETERS,
) -> BOOLEAN;

/// `MmCopyMemory` (ntddk.h, Windows 8.1+): IRQL ≤ APC_LEVEL. Copies `NumberOfBytes` from a
/// system or current-process user address (`MM_COPY_MEMORY_VIRTUAL`) into the nonpaged
/// `TargetAddress`; an unreadable source is an error status with the bytes copied in
/// `*NumberOfBytesTransferred`, never an exception or a bugcheck.
pub type PFN_MM_COPY_MEMORY = unsafe extern "system" fn(
    TargetAddress: PVOID,
    SourceAddress: MM_COPY_ADDRESS,
    NumberOfBytes: SIZE_T,
    Flags: u32,
    NumberOfBytesTransferred: *mut SIZE_T,
) -> NTSTATUS;

/// The late-bound routines' names, as `MmGetSystemRoutineAddress` takes them (ASCII here; the
/// driver widens them to UTF-16).
pub const LATE_BOUND_ROUTINES: [&str; 6] = [
    "ExAllocatePool2",
    "ExAllocateTimer",
    "ExSetTimer",
    "ExCancelTimer",
    "ExDeleteTimer",
    "MmCopyMemory",
];

// Host only: the simulation defines these under their names (no import library: a Windows
// image must never name them statically).
#[cfg(not(target_os = "windows"))]
unsafe extern "system" {
    /// `ExAllocatePool2` (see [`PFN_EX_ALLOCATE_POOL2`]).
    pub fn ExAllocatePool2(Flags: POOL_FLAGS, NumberOfBytes: SIZE_T, Tag: u32) -> PVOID;
    /// `ExAllocateTimer` (see [`PFN_EX_ALLOCATE_TIMER`]).
    pub fn ExAllocateTimer(
        Callback: PEXT_CALLBACK,
        CallbackContext: PVOID,
        Attributes: u32,
    ) -> PEX_TIMER;
    /// `ExSetTimer` (see [`PFN_EX_SET_TIMER`]).
    pub fn ExSetTimer(
        Timer: PEX_TIMER,
        DueTime: i64,
        Period: i64,
        Parameters: *mut EXT_SET_PARAMETERS,
    ) -> BOOLEAN;
    /// `ExCancelTimer` (see [`PFN_EX_CANCEL_TIMER`]).
    pub fn ExCancelTimer(Timer: PEX_TIMER, Parameters: PEXT_CANCEL_PARAMETERS) -> BOOLEAN;
    /// `ExDeleteTimer` (see [`PFN_EX_DELETE_TIMER`]).
    pub fn ExDeleteTimer(
        Timer: PEX_TIMER,
        Cancel: BOOLEAN,
        Wait: BOOLEAN,
        Parameters: PEXT_DELETE_PARAMETERS,
    ) -> BOOLEAN;
    /// `MmCopyMemory` (see [`PFN_MM_COPY_MEMORY`]).
    pub fn MmCopyMemory(
        TargetAddress: PVOID,
        SourceAddress: MM_COPY_ADDRESS,
        NumberOfBytes: SIZE_T,
        Flags: u32,
        NumberOfBytesTransferred: *mut SIZE_T,
    ) -> NTSTATUS;
}

// Each host declaration has exactly its pointer type, or this does not compile.
#[cfg(not(target_os = "windows"))]
const _: () = {
    let _: PFN_EX_ALLOCATE_POOL2 = ExAllocatePool2;
    let _: PFN_EX_ALLOCATE_TIMER = ExAllocateTimer;
    let _: PFN_EX_SET_TIMER = ExSetTimer;
    let _: PFN_EX_CANCEL_TIMER = ExCancelTimer;
    let _: PFN_EX_DELETE_TIMER = ExDeleteTimer;
    let _: PFN_MM_COPY_MEMORY = MmCopyMemory;
};
