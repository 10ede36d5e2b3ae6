//! ntoskrnl.exe imports (wdm.h declarations; signatures checked against mingw-w64
//! ddk/wdm.h and learn.microsoft.com `wdm` reference pages).

#[cfg(not(target_arch = "x86"))]
use crate::kernel::KIRQL;
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
use crate::kernel::PXSTATE_SAVE;
use crate::kernel::{
    BOOLEAN, KDPC, KPROCESSOR_MODE, KSPIN_LOCK, KTIMER, KWAIT_REASON, LARGE_INTEGER,
    NPAGED_LOOKASIDE_LIST, PALLOCATE_FUNCTION, PDEVICE_OBJECT, PFREE_FUNCTION, PIO_WORKITEM,
    PIO_WORKITEM_ROUTINE, PKDEFERRED_ROUTINE, PKMUTEX, POOL_TYPE, PUNICODE_STRING, PVOID, SIZE_T,
    TIMER_TYPE, ULONG_PTR, WORK_QUEUE_TYPE,
};
use crate::kernel::{PSLIST_ENTRY, PSLIST_HEADER};

#[cfg_attr(
    all(target_os = "windows", not(target_arch = "x86")),
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[cfg_attr(
    all(target_os = "windows", target_arch = "x86"),
    link(
        name = "ntoskrnl.exe",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
unsafe extern "system" {
    /// `ExAllocatePoolWithTag`: IRQL ≤ DISPATCH_LEVEL for non-paged pool; the block is not
    /// zeroed. On every Windows (deprecated in favour of `ExAllocatePool2`, which is not: see
    /// [`super::late_bound`]).
    pub fn ExAllocatePoolWithTag(PoolType: POOL_TYPE, NumberOfBytes: SIZE_T, Tag: u32) -> PVOID;
    /// `ExFreePoolWithTag`: IRQL ≤ DISPATCH_LEVEL.
    pub fn ExFreePoolWithTag(P: PVOID, Tag: u32);
    /// `ExInitializeNPagedLookasideList`: IRQL ≤ DISPATCH_LEVEL.
    pub fn ExInitializeNPagedLookasideList(
        Lookaside: *mut NPAGED_LOOKASIDE_LIST,
        Allocate: PALLOCATE_FUNCTION,
        Free: PFREE_FUNCTION,
        Flags: u32,
        Size: SIZE_T,
        Tag: u32,
        Depth: u16,
    );
    /// `ExDeleteNPagedLookasideList`: IRQL ≤ DISPATCH_LEVEL; frees the cached entries.
    pub fn ExDeleteNPagedLookasideList(Lookaside: *mut NPAGED_LOOKASIDE_LIST);

    /// `MmGetSystemRoutineAddress`: PASSIVE_LEVEL. The address of the ntoskrnl.exe or hal.dll
    /// export named by `SystemRoutineName`, or null when this kernel has none (how a driver
    /// uses a routine newer than the oldest Windows it runs on: see [`super::late_bound`]).
    pub fn MmGetSystemRoutineAddress(SystemRoutineName: PUNICODE_STRING) -> PVOID;

    /// `KeInitializeDpc`: any IRQL.
    pub fn KeInitializeDpc(
        Dpc: *mut KDPC,
        DeferredRoutine: PKDEFERRED_ROUTINE,
        DeferredContext: PVOID,
    );
    /// `KeInsertQueueDpc`: any IRQL; FALSE if already queued.
    pub fn KeInsertQueueDpc(
        Dpc: *mut KDPC,
        SystemArgument1: PVOID,
        SystemArgument2: PVOID,
    ) -> BOOLEAN;
    /// `KeRemoveQueueDpc`: any IRQL; TRUE if it was queued.
    pub fn KeRemoveQueueDpc(Dpc: *mut KDPC) -> BOOLEAN;
    /// `KeFlushQueuedDpcs`: PASSIVE_LEVEL; returns once every DPC queued or running (on any
    /// processor) at the call has run. wdm.h: NTDDI_WINXPSP2 and later.
    pub fn KeFlushQueuedDpcs();
    /// `KeInitializeTimerEx`: IRQL ≤ DISPATCH_LEVEL.
    pub fn KeInitializeTimerEx(Timer: *mut KTIMER, Type: TIMER_TYPE);
    /// `KeSetTimerEx`: IRQL ≤ DISPATCH_LEVEL; due time negative = relative, 100 ns units;
    /// TRUE if the timer was already set.
    pub fn KeSetTimerEx(
        Timer: *mut KTIMER,
        DueTime: LARGE_INTEGER,
        Period: i32,
        Dpc: *mut KDPC,
    ) -> BOOLEAN;
    /// `KeCancelTimer`: IRQL ≤ DISPATCH_LEVEL; TRUE if it was set.
    pub fn KeCancelTimer(Timer: *mut KTIMER) -> BOOLEAN;

    /// `KeQueryInterruptTimePrecise` (Windows 8.1+): interrupt time in 100 ns units, and the
    /// QPC value it was derived from.
    pub fn KeQueryInterruptTimePrecise(QpcTimeStamp: *mut u64) -> u64;

    /// `KeBugCheckEx`: stops the system.
    pub fn KeBugCheckEx(
        BugCheckCode: u32,
        BugCheckParameter1: ULONG_PTR,
        BugCheckParameter2: ULONG_PTR,
        BugCheckParameter3: ULONG_PTR,
        BugCheckParameter4: ULONG_PTR,
    ) -> !;

    /// `KeInitializeMutex`: any IRQL; the mutex starts free (`Level` is ignored: pass 0).
    pub fn KeInitializeMutex(Mutex: PKMUTEX, Level: u32);
    /// `KeWaitForSingleObject`: IRQL ≤ APC_LEVEL to wait (at DISPATCH_LEVEL only with a zero
    /// timeout); a mutex is acquired when the wait returns `STATUS_SUCCESS`.
    pub fn KeWaitForSingleObject(
        Object: PVOID,
        WaitReason: KWAIT_REASON,
        WaitMode: KPROCESSOR_MODE,
        Alertable: BOOLEAN,
        Timeout: *mut LARGE_INTEGER,
    ) -> crate::kernel::NTSTATUS;
    /// `KeReleaseMutex`: IRQL ≤ DISPATCH_LEVEL (`Wait` FALSE); returns the previous signal
    /// state.
    pub fn KeReleaseMutex(Mutex: PKMUTEX, Wait: BOOLEAN) -> i32;

    /// `IoAllocateWorkItem`: IRQL ≤ DISPATCH_LEVEL.
    pub fn IoAllocateWorkItem(DeviceObject: PDEVICE_OBJECT) -> PIO_WORKITEM;
    /// `IoQueueWorkItem`: IRQL ≤ DISPATCH_LEVEL; the routine runs at PASSIVE_LEVEL.
    pub fn IoQueueWorkItem(
        IoWorkItem: PIO_WORKITEM,
        WorkerRoutine: PIO_WORKITEM_ROUTINE,
        QueueType: WORK_QUEUE_TYPE,
        Context: PVOID,
    );
    /// `IoFreeWorkItem`: IRQL ≤ DISPATCH_LEVEL.
    pub fn IoFreeWorkItem(IoWorkItem: PIO_WORKITEM);
}

// 64-bit spin-lock and SList exports (x64, ARM64, and the host simulation).
#[cfg(not(target_arch = "x86"))]
#[cfg_attr(
    target_os = "windows",
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
unsafe extern "system" {
    /// `KeAcquireSpinLockRaiseToDpc`: IRQL ≤ DISPATCH_LEVEL; returns the previous IRQL.
    pub fn KeAcquireSpinLockRaiseToDpc(SpinLock: *mut KSPIN_LOCK) -> KIRQL;
    /// `KeReleaseSpinLock`: at DISPATCH_LEVEL; lowers to `NewIrql`.
    pub fn KeReleaseSpinLock(SpinLock: *mut KSPIN_LOCK, NewIrql: KIRQL);
    /// `KeAcquireSpinLockAtDpcLevel`: at IRQL ≥ DISPATCH_LEVEL.
    pub fn KeAcquireSpinLockAtDpcLevel(SpinLock: *mut KSPIN_LOCK);
    /// `KeReleaseSpinLockFromDpcLevel`: at IRQL ≥ DISPATCH_LEVEL.
    pub fn KeReleaseSpinLockFromDpcLevel(SpinLock: *mut KSPIN_LOCK);

    /// `ExpInterlockedPopEntrySList` (`InterlockedPopEntrySList` on 64-bit): any IRQL.
    pub fn ExpInterlockedPopEntrySList(ListHead: PSLIST_HEADER) -> PSLIST_ENTRY;
    /// `ExpInterlockedPushEntrySList` (`InterlockedPushEntrySList` on 64-bit): any IRQL;
    /// returns the previous first entry.
    pub fn ExpInterlockedPushEntrySList(
        ListHead: PSLIST_HEADER,
        ListEntry: PSLIST_ENTRY,
    ) -> PSLIST_ENTRY;
    /// `ExpInterlockedFlushSList` (`InterlockedFlushSList` on 64-bit): any IRQL.
    pub fn ExpInterlockedFlushSList(ListHead: PSLIST_HEADER) -> PSLIST_ENTRY;
}

// x86 `__fastcall` exports.
#[cfg(target_arch = "x86")]
#[link(
    name = "ntoskrnl.exe",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
unsafe extern "fastcall" {
    /// `KefAcquireSpinLockAtDpcLevel` (x86 `KeAcquireSpinLockAtDpcLevel`).
    pub fn KefAcquireSpinLockAtDpcLevel(SpinLock: *mut KSPIN_LOCK);
    /// `KefReleaseSpinLockFromDpcLevel` (x86 `KeReleaseSpinLockFromDpcLevel`).
    pub fn KefReleaseSpinLockFromDpcLevel(SpinLock: *mut KSPIN_LOCK);
    /// `InterlockedPopEntrySList` (x86).
    pub fn InterlockedPopEntrySList(ListHead: PSLIST_HEADER) -> PSLIST_ENTRY;
    /// `InterlockedPushEntrySList` (x86).
    pub fn InterlockedPushEntrySList(
        ListHead: PSLIST_HEADER,
        ListEntry: PSLIST_ENTRY,
    ) -> PSLIST_ENTRY;
    /// `ExInterlockedFlushSList` (x86 `InterlockedFlushSList`).
    pub fn ExInterlockedFlushSList(ListHead: PSLIST_HEADER) -> PSLIST_ENTRY;
}

// x86 only: the 64-bit arithmetic helpers of the MSVC x86 ABI. A 32-bit CPU has no 64-bit
// divide, so for i686-pc-windows-msvc LLVM lowers `u64 / u64` and friends to calls of
// `_aulldiv` & co. (its RuntimeLibcalls for an MSVC x86 target, with the `__stdcall`
// convention: both operands on the stack, the callee pops 16 bytes, the result in EDX:EAX).
// x86 ntoskrnl.exe exports them under those names (mingw-w64's i686 libntoskrnl.a: hint/name
// `_alldiv` etc., its symbols `__alldiv@16`), so the image imports them like any routine.
// rustc decorates each as `__stdcall` (`__aulldiv@16`), and `undecorated` makes the image ask
// for `_aulldiv`, the kernel's export. The compiler's calls name the plain C symbol
// (`__aulldiv`, no `@16`: how MSVC's own libraries define these helpers), so build.rs maps
// each to its decorated import with `/ALTERNATENAME` (a link.exe directive lld-link
// implements). Rust code never calls these: they exist for LLVM's calls.
// Not declared: `_allshl`/`_allshr`/`_aullshr` (operands in EDX:EAX and CL) and
// `_alldvrm`/`_aulldvrm` (the remainder in EBX:ECX) have register conventions Rust cannot
// state, and LLVM inlines shifts and never asks for a combined divide.
#[cfg(all(target_os = "windows", target_arch = "x86"))]
#[link(
    name = "ntoskrnl.exe",
    kind = "raw-dylib",
    modifiers = "+verbatim",
    import_name_type = "undecorated"
)]
unsafe extern "stdcall" {
    /// `_alldiv`: signed 64-bit division (`i64 / i64`), truncating; any IRQL.
    #[link_name = "_alldiv"]
    pub fn alldiv(dividend: i64, divisor: i64) -> i64;
    /// `_aulldiv`: unsigned 64-bit division (`u64 / u64`); any IRQL.
    #[link_name = "_aulldiv"]
    pub fn aulldiv(dividend: u64, divisor: u64) -> u64;
    /// `_allrem`: signed 64-bit remainder (`i64 % i64`, the sign of the dividend); any IRQL.
    #[link_name = "_allrem"]
    pub fn allrem(dividend: i64, divisor: i64) -> i64;
    /// `_aullrem`: unsigned 64-bit remainder (`u64 % u64`); any IRQL.
    #[link_name = "_aullrem"]
    pub fn aullrem(dividend: u64, divisor: u64) -> u64;
    /// `_allmul`: 64-bit multiplication (the low 64 bits, the same for signed and unsigned).
    #[link_name = "_allmul"]
    pub fn allmul(multiplicand: i64, multiplier: i64) -> i64;
}

// Exported variables: data imports. Their own block because on x86 rustc cannot compute an
// `undecorated` import name for a static (it reads a function signature; an ICE in 1.95):
// `noprefix` imports the plain name there, as for the functions.
#[cfg_attr(
    all(target_os = "windows", not(target_arch = "x86")),
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[cfg_attr(
    all(target_os = "windows", target_arch = "x86"),
    link(
        name = "ntoskrnl.exe",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "noprefix"
    )
)]
unsafe extern "C" {
    /// `MmUserProbeAddress` (wdm.h: `extern NTKERNELAPI ULONG_PTR MmUserProbeAddress`, the
    /// value behind `MM_USER_PROBE_ADDRESS`): an exported variable, not a function. Every
    /// byte of a user-mode buffer lies below it (`ProbeForRead`'s rule: a range that
    /// reaches it is not in user space). A data import: read it, never write it.
    pub static MmUserProbeAddress: ULONG_PTR;
}

// Extended processor state: x86 and x64 only.
#[cfg(any(target_arch = "x86", target_arch = "x86_64"))]
#[cfg_attr(
    all(target_os = "windows", target_arch = "x86_64"),
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[cfg_attr(
    all(target_os = "windows", target_arch = "x86"),
    link(
        name = "ntoskrnl.exe",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
unsafe extern "system" {
    /// `KeSaveExtendedProcessorState`: IRQL ≤ DISPATCH_LEVEL.
    pub fn KeSaveExtendedProcessorState(
        Mask: u64,
        XStateSave: PXSTATE_SAVE,
    ) -> crate::kernel::NTSTATUS;
    /// `KeRestoreExtendedProcessorState`: same IRQL as the save.
    pub fn KeRestoreExtendedProcessorState(XStateSave: PXSTATE_SAVE);
}

// `__cdecl` exports. ntoskrnl exports the C memory routines; a kernel image links no CRT, so
// the compiler's own calls to `memcpy` & co. must resolve here. On the host they are libc's.
// On x86, LLVM's libcalls reference the cdecl-decorated `_memcpy`, while rustc names a
// raw-dylib cdecl import after its link name as is; `link_name = "_memcpy"` makes the import
// library define `_memcpy`, and `import_name_type = "undecorated"` still imports `memcpy`
// (checked with llvm-readobj --coff-imports on an i686 image).
#[cfg_attr(
    all(target_os = "windows", not(target_arch = "x86")),
    link(name = "ntoskrnl.exe", kind = "raw-dylib", modifiers = "+verbatim")
)]
#[cfg_attr(
    all(target_os = "windows", target_arch = "x86"),
    link(
        name = "ntoskrnl.exe",
        kind = "raw-dylib",
        modifiers = "+verbatim",
        import_name_type = "undecorated"
    )
)]
unsafe extern "C" {
    /// `DbgPrintEx`: IRQL ≤ DIRQL; `%` formats as printf.
    pub fn DbgPrintEx(ComponentId: u32, Level: u32, Format: *const core::ffi::c_char, ...) -> u32;
    /// `memcpy`.
    #[cfg_attr(all(target_os = "windows", target_arch = "x86"), link_name = "_memcpy")]
    pub fn memcpy(
        dest: *mut core::ffi::c_void,
        src: *const core::ffi::c_void,
        n: usize,
    ) -> *mut core::ffi::c_void;
    /// `memmove`.
    #[cfg_attr(
        all(target_os = "windows", target_arch = "x86"),
        link_name = "_memmove"
    )]
    pub fn memmove(
        dest: *mut core::ffi::c_void,
        src: *const core::ffi::c_void,
        n: usize,
    ) -> *mut core::ffi::c_void;
    /// `memset`.
    #[cfg_attr(all(target_os = "windows", target_arch = "x86"), link_name = "_memset")]
    pub fn memset(dest: *mut core::ffi::c_void, c: i32, n: usize) -> *mut core::ffi::c_void;
    /// `memcmp`.
    #[cfg_attr(all(target_os = "windows", target_arch = "x86"), link_name = "_memcmp")]
    pub fn memcmp(a: *const core::ffi::c_void, b: *const core::ffi::c_void, n: usize) -> i32;
}

/// `DPFLTR_IHVAUDIO_ID` (dpfilter.h `DPFLTR_TYPE`, ReactOS and mingw-w64): the DbgPrintEx
/// component for audio drivers.
pub const DPFLTR_IHVAUDIO_ID: u32 = 79;
/// `DPFLTR_ERROR_LEVEL`.
pub const DPFLTR_ERROR_LEVEL: u32 = 0;
/// `DPFLTR_WARNING_LEVEL`.
pub const DPFLTR_WARNING_LEVEL: u32 = 1;
/// `DPFLTR_TRACE_LEVEL`.
pub const DPFLTR_TRACE_LEVEL: u32 = 2;
/// `DPFLTR_INFO_LEVEL`.
pub const DPFLTR_INFO_LEVEL: u32 = 3;
