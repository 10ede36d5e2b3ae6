//! The kernel routines rdmus finds at DriverEntry instead of importing them.
//!
//! `ExAllocatePool2` (Windows 10 2004), the `Ex*Timer` family and `MmCopyMemory` (Windows 8.1)
//! are newer than some kernel the driver must load on: a static import of one of them stops
//! the image loading there (and under Wine, whose ntoskrnl lacks all six, kills the host process
//! when called). [`resolve`] asks `MmGetSystemRoutineAddress` for each at DriverEntry and keeps
//! the answer; the accessors below hand out the routine or say it is missing, and the callers
//! take the documented fallback (see `dmus_sys::imports::late_bound`):
//!
//! - pool: [`allocate_pool`] uses `ExAllocatePool2`, else `ExAllocatePoolWithTag(NonPagedPoolNx)`
//!   and zeroes the block itself unless asked not to (wdm.h's `ExAllocatePoolZero` under
//!   `POOL_ZERO_DOWN_LEVEL_SUPPORT`); `ExFreePoolWithTag` frees either kind;
//! - timers: [`ex_timers`] gives all four `Ex*Timer` routines or none ([`ExTimers`] holds four
//!   pointers, so a kernel with only some of them gets none, and a stream never holds a timer it
//!   cannot set or delete); without them the
//!   stream timer is a `KTIMER` + `KDPC` set with `KeSetTimerEx` (`miniport/timer.rs`);
//! - copies: [`copy_memory`] gives `MmCopyMemory` or nothing (`synth/download.rs` decides).
//!
//! ## Why the table needs no lock
//! Each slot is one word, written only by [`resolve`] in DriverEntry at PASSIVE_LEVEL, before
//! PortCls has AddDevice and so before any other code of the driver can run (no device, no
//! stream, no timer, no allocation by the miniports yet), and never written again while the image
//! stays loaded. Every later reader runs after DriverEntry returned: the kernel starts AddDevice,
//! IRP dispatch and every callback only after that, through its own synchronisation. The slots
//! are atomics anyway (a release store, acquire loads: plain `mov`s on x64) so the ordering does
//! not rest on that argument alone; a reader at any IRQL sees either the resolved value or
//! nothing of it half-written.
//!
//! ## On the host
//! The tests run many drivers in one process (one per test thread), while a slot is process-wide
//! as on Windows (one image per kernel). A test binary therefore runs one kind of kernel: the
//! down-level tests have their own binary (`tests/down_level_kernel.rs`). Before any DriverEntry
//! has run (the many tests that build a miniport without one), a slot reads as wdm-sim's own
//! definition of the routine: the modern kernel, as if DriverEntry had resolved it there.

use core::sync::atomic::{AtomicUsize, Ordering};

use dmus_sys::imports::{
    ExAllocatePoolWithTag, LATE_BOUND_ROUTINES, MmGetSystemRoutineAddress, PFN_EX_ALLOCATE_POOL2,
    PFN_EX_ALLOCATE_TIMER, PFN_EX_CANCEL_TIMER, PFN_EX_DELETE_TIMER, PFN_EX_SET_TIMER,
    PFN_MM_COPY_MEMORY,
};
use dmus_sys::kernel::{
    NonPagedPoolNx, POOL_FLAG_NON_PAGED, POOL_FLAG_UNINITIALIZED, POOL_FLAGS, PVOID, SIZE_T,
    UNICODE_STRING,
};

/// The routines, in the order of `LATE_BOUND_ROUTINES` (checked below).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Routine {
    AllocatePool2,
    AllocateTimer,
    SetTimer,
    CancelTimer,
    DeleteTimer,
    CopyMemory,
}

impl Routine {
    const ALL: [Self; 6] = [
        Self::AllocatePool2,
        Self::AllocateTimer,
        Self::SetTimer,
        Self::CancelTimer,
        Self::DeleteTimer,
        Self::CopyMemory,
    ];

    /// The routine's export name.
    const fn name(self) -> &'static str {
        LATE_BOUND_ROUTINES[self as usize]
    }
}

const _: () = {
    let mut index = 0;
    while index < Routine::ALL.len() {
        assert!(
            Routine::ALL[index] as usize == index,
            "Routine::ALL in slot order"
        );
        index += 1;
    }
};

/// A slot no DriverEntry has filled yet.
const UNRESOLVED: usize = 0;
/// A slot DriverEntry filled: this kernel does not export the routine. (No routine lies at
/// address 1.)
const MISSING: usize = 1;

/// One word per routine: [`UNRESOLVED`], [`MISSING`] or the routine's address.
static SLOTS: [AtomicUsize; Routine::ALL.len()] =
    [const { AtomicUsize::new(UNRESOLVED) }; Routine::ALL.len()];

/// The longest routine name [`find`] can widen.
const MAX_NAME: usize = 32;

const _: () = {
    let mut index = 0;
    while index < LATE_BOUND_ROUTINES.len() {
        assert!(LATE_BOUND_ROUTINES[index].len() <= MAX_NAME, "name fits");
        index += 1;
    }
};

/// Finds every routine with `MmGetSystemRoutineAddress` and fills the table. Returns how many
/// are missing (for the trace).
///
/// # Safety
/// DriverEntry only, at PASSIVE_LEVEL, before `PcInitializeAdapterDriver` (so before any other
/// code of the driver runs; see the module docs).
pub unsafe fn resolve() -> usize {
    let mut missing = 0;
    for routine in Routine::ALL {
        // SAFETY: PASSIVE_LEVEL (the caller's contract).
        let address = unsafe { find(routine.name()) };
        let value = if address == 0 {
            missing += 1;
            MISSING
        } else {
            address
        };
        SLOTS[routine as usize].store(value, Ordering::Release);
    }
    missing
}

/// `MmGetSystemRoutineAddress` for the ASCII `name`: the address, or 0.
///
/// # Safety
/// PASSIVE_LEVEL.
unsafe fn find(name: &str) -> usize {
    let mut wide = [0_u16; MAX_NAME];
    for (unit, byte) in wide.iter_mut().zip(name.bytes()) {
        *unit = u16::from(byte);
    }
    let length = name.len().min(MAX_NAME);
    #[allow(
        clippy::cast_possible_truncation,
        reason = "at most MAX_NAME UTF-16 units: 64 bytes"
    )]
    let mut string = UNICODE_STRING {
        Length: (length * 2) as u16,
        MaximumLength: (MAX_NAME * 2) as u16,
        Buffer: wide.as_mut_ptr(),
    };
    // SAFETY: a counted UTF-16 string on our stack, alive for the call; the kernel only reads
    // it. PASSIVE_LEVEL (the caller's contract).
    unsafe { MmGetSystemRoutineAddress(&raw mut string) as usize }
}

/// The routine's address, or `None` when this kernel lacks it.
fn address(routine: Routine) -> Option<usize> {
    match SLOTS[routine as usize].load(Ordering::Acquire) {
        MISSING => None,
        UNRESOLVED => unresolved(routine),
        address => Some(address),
    }
}

/// A slot before DriverEntry: never read so on Windows (DriverEntry resolves first).
#[cfg(target_os = "windows")]
fn unresolved(_routine: Routine) -> Option<usize> {
    None
}

/// A slot before DriverEntry on the host: wdm-sim's definition (see the module docs).
#[cfg(not(target_os = "windows"))]
#[allow(
    clippy::unnecessary_wraps,
    reason = "the Windows twin answers None; one signature for both"
)]
fn unresolved(routine: Routine) -> Option<usize> {
    use dmus_sys::imports::{
        ExAllocatePool2, ExAllocateTimer, ExCancelTimer, ExDeleteTimer, ExSetTimer, MmCopyMemory,
    };
    Some(match routine {
        Routine::AllocatePool2 => ExAllocatePool2 as *const () as usize,
        Routine::AllocateTimer => ExAllocateTimer as *const () as usize,
        Routine::SetTimer => ExSetTimer as *const () as usize,
        Routine::CancelTimer => ExCancelTimer as *const () as usize,
        Routine::DeleteTimer => ExDeleteTimer as *const () as usize,
        Routine::CopyMemory => MmCopyMemory as *const () as usize,
    })
}

/// Turns a slot's address back into the routine's pointer type.
macro_rules! routine_pointer {
    ($routine:expr, $pfn:ty) => {
        address($routine).map(|address| {
            // SAFETY: `address` is what MmGetSystemRoutineAddress returned for this routine's
            // export name (or, on the host, the simulation's definition of it), non-null, and
            // the export has the documented signature `$pfn` spells (dmus-sys). A value
            // conversion at any IRQL.
            unsafe { core::mem::transmute::<usize, $pfn>(address) }
        })
    };
}

/// The four executive timer routines (Windows 8.1+), all present together.
#[derive(Clone, Copy)]
pub struct ExTimers {
    /// `ExAllocateTimer`.
    pub allocate: PFN_EX_ALLOCATE_TIMER,
    /// `ExSetTimer`.
    pub set: PFN_EX_SET_TIMER,
    /// `ExCancelTimer`.
    pub cancel: PFN_EX_CANCEL_TIMER,
    /// `ExDeleteTimer`.
    pub delete: PFN_EX_DELETE_TIMER,
}

/// The `Ex*Timer` routines, or `None` on a kernel without (all of) them. Any IRQL.
pub fn ex_timers() -> Option<ExTimers> {
    Some(ExTimers {
        allocate: routine_pointer!(Routine::AllocateTimer, PFN_EX_ALLOCATE_TIMER)?,
        set: routine_pointer!(Routine::SetTimer, PFN_EX_SET_TIMER)?,
        cancel: routine_pointer!(Routine::CancelTimer, PFN_EX_CANCEL_TIMER)?,
        delete: routine_pointer!(Routine::DeleteTimer, PFN_EX_DELETE_TIMER)?,
    })
}

/// `MmCopyMemory`, or `None` on a kernel without it. Any IRQL (the routine itself: ≤ APC_LEVEL).
pub fn copy_memory() -> Option<PFN_MM_COPY_MEMORY> {
    routine_pointer!(Routine::CopyMemory, PFN_MM_COPY_MEMORY)
}

/// Allocates `size` bytes of pool tagged `tag`, as `ExAllocatePool2(flags, size, tag)` would:
/// zeroed unless `flags` has `POOL_FLAG_UNINITIALIZED`. Without `ExAllocatePool2`, the flags
/// rdmus uses (`POOL_FLAG_NON_PAGED`, optionally `POOL_FLAG_UNINITIALIZED`) become
/// `ExAllocatePoolWithTag(NonPagedPoolNx)` and a zeroing; any other flag comes back null there
/// (no caller passes one). Null when the pool is exhausted.
///
/// # Safety
/// IRQL ≤ DISPATCH_LEVEL (non-paged pool).
pub unsafe fn allocate_pool(flags: POOL_FLAGS, size: SIZE_T, tag: u32) -> PVOID {
    if let Some(allocate_pool2) = routine_pointer!(Routine::AllocatePool2, PFN_EX_ALLOCATE_POOL2) {
        // SAFETY: the kernel's ExAllocatePool2 at the caller's IRQL ≤ DISPATCH_LEVEL; a null
        // result is passed on as allocation failure.
        return unsafe { allocate_pool2(flags, size, tag) };
    }
    if flags & !POOL_FLAG_UNINITIALIZED != POOL_FLAG_NON_PAGED {
        return core::ptr::null_mut();
    }
    // SAFETY: non-paged pool at the caller's IRQL ≤ DISPATCH_LEVEL; null is passed on.
    let block = unsafe { ExAllocatePoolWithTag(NonPagedPoolNx, size, tag) };
    if !block.is_null() && flags & POOL_FLAG_UNINITIALIZED == 0 {
        // SAFETY: a fresh block of `size` writable bytes nobody else uses yet; memory only,
        // any IRQL.
        unsafe { core::ptr::write_bytes(block.cast::<u8>(), 0, size) };
    }
    block
}

#[cfg(test)]
mod tests {
    use super::{MAX_NAME, Routine};

    #[test]
    fn routine_names_follow_the_import_list() {
        let names: std::vec::Vec<&str> = Routine::ALL.iter().map(|r| r.name()).collect();
        assert_eq!(
            names,
            [
                "ExAllocatePool2",
                "ExAllocateTimer",
                "ExSetTimer",
                "ExCancelTimer",
                "ExDeleteTimer",
                "MmCopyMemory"
            ]
        );
        assert!(names.iter().all(|name| name.len() <= MAX_NAME));
    }
}
