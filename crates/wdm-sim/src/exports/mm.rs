//! Memory manager: `MmCopyMemory`, `MmGetSystemRoutineAddress` and the exported variable
//! `MmUserProbeAddress`.
//!
//! `MmGetSystemRoutineAddress` (wdm.h; windows-driver-docs-ddi
//! `nf-wdm-mmgetsystemroutineaddress`): `PASSIVE_LEVEL`; `SystemRoutineName` is a
//! `UNICODE_STRING` naming an ntoskrnl.exe or hal.dll export; the export's address, or NULL
//! when the kernel has none. The simulation answers for the ntoskrnl/hal routines it defines
//! (and `MmUserProbeAddress`), minus those its [`MachineConfig::missing_routines`] hide: a
//! machine modelling a kernel older than a routine (or Wine's). Calling a hidden routine anyway
//! (an image that imported it statically would not even load there) is a
//! [`Finding::UnexportedRoutine`].
//!
//! `MmCopyMemory` (ntddk.h; windows-driver-docs-ddi `nf-ntddk-mmcopymemory`): IRQL ≤
//! `APC_LEVEL`; `MM_COPY_MEMORY_VIRTUAL` copies from system space or from the current process's
//! user space; `STATUS_SUCCESS` when the whole range was copied, otherwise an error status with
//! the bytes copied so far in `*NumberOfBytesTransferred`; an invalid address fails the copy
//! instead of crashing. The docs do not name the error; the simulation returns
//! `STATUS_PARTIAL_COPY` (ntstatus.h: not all the requested bytes could be copied), so a
//! driver must check the status and the count, not one particular code.
//!
//! What the simulation can read: user addresses through its [`UserSpace`](crate::user_space)
//! (only the mapped bytes), system addresses inside a live pool block (up to the block's
//! end). Anything else, including host memory the pool does not know, is unreadable. The
//! target is written for the bytes copied (`NumberOfBytes` of nonpaged memory are the
//! caller's contract).

use alloc::vec::Vec;

use dmus_sys::kernel::{
    APC_LEVEL, MM_COPY_ADDRESS, MM_COPY_MEMORY_PHYSICAL, MM_COPY_MEMORY_VIRTUAL, NTSTATUS,
    PASSIVE_LEVEL, PUNICODE_STRING, PVOID, SIZE_T, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED,
    STATUS_PARTIAL_COPY, STATUS_SUCCESS, ULONG_PTR,
};

#[cfg(doc)]
use crate::config::MachineConfig;
use crate::current::with_state;
use crate::finding::Finding;
use crate::user_space::{USER_PROBE_ADDRESS, UserSpace};

/// `MmUserProbeAddress`: the simulation's boundary of user space (see
/// [`USER_PROBE_ADDRESS`]). An exported variable, as in ntoskrnl.
#[unsafe(no_mangle)]
#[allow(non_upper_case_globals, reason = "the kernel variable's Windows name")]
pub static MmUserProbeAddress: ULONG_PTR = USER_PROBE_ADDRESS;

/// What the source range holds that can be read.
enum Readable {
    /// A copy of the readable bytes.
    Bytes(Vec<u8>),
    /// The call was refused before any copy.
    Refused(NTSTATUS),
}

/// `MmCopyMemory`: see the module docs.
///
/// # Safety
/// `TargetAddress` is writable for `NumberOfBytes` bytes and `NumberOfBytesTransferred` is
/// writable (the kernel's contract; both are checked for NULL). The source is never
/// dereferenced unless it lies inside a live pool block.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn MmCopyMemory(
    TargetAddress: PVOID,
    SourceAddress: MM_COPY_ADDRESS,
    NumberOfBytes: SIZE_T,
    Flags: u32,
    NumberOfBytesTransferred: *mut SIZE_T,
) -> NTSTATUS {
    const CALL: &str = "MmCopyMemory";
    // SAFETY: both members of the union are plain 8-byte integers or pointers; reading the
    // virtual address of a physical request only yields a number that is not used.
    let source = unsafe { SourceAddress.VirtualAddress } as usize;
    let readable = with_state(CALL, |m| {
        m.check_call(CALL, APC_LEVEL, false);
        m.check_exported(CALL);
        let mut invalid = |detail: &str| {
            m.record(Finding::InvalidArgument {
                call: CALL,
                detail: detail.into(),
            });
            Readable::Refused(STATUS_INVALID_PARAMETER)
        };
        if NumberOfBytesTransferred.is_null() {
            return invalid("NumberOfBytesTransferred is NULL");
        }
        if TargetAddress.is_null() && NumberOfBytes != 0 {
            return invalid("TargetAddress is NULL");
        }
        match Flags {
            MM_COPY_MEMORY_VIRTUAL => {}
            // Valid for the kernel, but the simulation has no physical memory.
            MM_COPY_MEMORY_PHYSICAL => return Readable::Refused(STATUS_NOT_SUPPORTED),
            _ => {
                return invalid("Flags must be MM_COPY_MEMORY_VIRTUAL or MM_COPY_MEMORY_PHYSICAL");
            }
        }
        if UserSpace::is_user_address(source) {
            return Readable::Bytes(m.user.readable(source, NumberOfBytes).to_vec());
        }
        let Some(block) = m.pool().containing(source) else {
            return Readable::Bytes(Vec::new());
        };
        let len = (block.address + block.size - source).min(NumberOfBytes);
        let mut bytes = alloc::vec![0_u8; len];
        // SAFETY: `source..source + len` lies inside a live pool block (checked above), whose
        // memory the pool owns for as long as the block lives; plain bytes at any IRQL.
        unsafe {
            core::ptr::copy_nonoverlapping(source as *const u8, bytes.as_mut_ptr(), len);
        }
        Readable::Bytes(bytes)
    });
    match readable {
        Readable::Refused(status) => {
            if !NumberOfBytesTransferred.is_null() {
                // SAFETY: a non-null out parameter of the caller (kernel contract).
                unsafe { NumberOfBytesTransferred.write(0) };
            }
            status
        }
        Readable::Bytes(bytes) => {
            if !bytes.is_empty() {
                // SAFETY: the target holds NumberOfBytes ≥ bytes.len() writable bytes (kernel
                // contract, non-null checked above) and does not overlap the copy.
                unsafe {
                    core::ptr::copy_nonoverlapping(
                        bytes.as_ptr(),
                        TargetAddress.cast::<u8>(),
                        bytes.len(),
                    );
                }
            }
            // SAFETY: a non-null out parameter of the caller (checked above; kernel contract).
            unsafe { NumberOfBytesTransferred.write(bytes.len()) };
            if bytes.len() == NumberOfBytes {
                STATUS_SUCCESS
            } else {
                STATUS_PARTIAL_COPY
            }
        }
    }
}

/// The address of the ntoskrnl/hal export `name` the simulation defines, hidden or not.
fn system_routine(name: &str) -> Option<usize> {
    use super::{debug, dpc_timer, hal, mutex, pool, slist, sync, work};
    Some(match name {
        "DbgPrintEx" => debug::DbgPrintEx as *const () as usize,
        "ExAllocatePool2" => pool::ExAllocatePool2 as *const () as usize,
        "ExAllocatePoolWithTag" => pool::ExAllocatePoolWithTag as *const () as usize,
        "ExFreePool" => pool::ExFreePool as *const () as usize,
        "ExFreePoolWithTag" => pool::ExFreePoolWithTag as *const () as usize,
        "ExInitializeNPagedLookasideList" => {
            pool::ExInitializeNPagedLookasideList as *const () as usize
        }
        "ExDeleteNPagedLookasideList" => pool::ExDeleteNPagedLookasideList as *const () as usize,
        "ExAllocateTimer" => dpc_timer::ExAllocateTimer as *const () as usize,
        "ExSetTimer" => dpc_timer::ExSetTimer as *const () as usize,
        "ExCancelTimer" => dpc_timer::ExCancelTimer as *const () as usize,
        "ExDeleteTimer" => dpc_timer::ExDeleteTimer as *const () as usize,
        "KeInitializeDpc" => dpc_timer::KeInitializeDpc as *const () as usize,
        "KeInsertQueueDpc" => dpc_timer::KeInsertQueueDpc as *const () as usize,
        "KeRemoveQueueDpc" => dpc_timer::KeRemoveQueueDpc as *const () as usize,
        "KeFlushQueuedDpcs" => dpc_timer::KeFlushQueuedDpcs as *const () as usize,
        "KeInitializeTimerEx" => dpc_timer::KeInitializeTimerEx as *const () as usize,
        "KeSetTimerEx" => dpc_timer::KeSetTimerEx as *const () as usize,
        "KeCancelTimer" => dpc_timer::KeCancelTimer as *const () as usize,
        "KeQueryInterruptTimePrecise" => {
            dpc_timer::KeQueryInterruptTimePrecise as *const () as usize
        }
        "ExpInterlockedPopEntrySList" => slist::ExpInterlockedPopEntrySList as *const () as usize,
        "ExpInterlockedPushEntrySList" => slist::ExpInterlockedPushEntrySList as *const () as usize,
        "ExpInterlockedFlushSList" => slist::ExpInterlockedFlushSList as *const () as usize,
        "IoAllocateWorkItem" => work::IoAllocateWorkItem as *const () as usize,
        "IoQueueWorkItem" => work::IoQueueWorkItem as *const () as usize,
        "IoFreeWorkItem" => work::IoFreeWorkItem as *const () as usize,
        "KeAcquireSpinLockRaiseToDpc" => sync::KeAcquireSpinLockRaiseToDpc as *const () as usize,
        "KeReleaseSpinLock" => sync::KeReleaseSpinLock as *const () as usize,
        "KeAcquireSpinLockAtDpcLevel" => sync::KeAcquireSpinLockAtDpcLevel as *const () as usize,
        "KeReleaseSpinLockFromDpcLevel" => {
            sync::KeReleaseSpinLockFromDpcLevel as *const () as usize
        }
        "KeSaveExtendedProcessorState" => sync::KeSaveExtendedProcessorState as *const () as usize,
        "KeRestoreExtendedProcessorState" => {
            sync::KeRestoreExtendedProcessorState as *const () as usize
        }
        "KeInitializeMutex" => mutex::KeInitializeMutex as *const () as usize,
        "KeWaitForSingleObject" => mutex::KeWaitForSingleObject as *const () as usize,
        "KeReleaseMutex" => mutex::KeReleaseMutex as *const () as usize,
        "KeBugCheckEx" => debug::KeBugCheckEx as *const () as usize,
        "KeQueryPerformanceCounter" => hal::KeQueryPerformanceCounter as *const () as usize,
        "KeStallExecutionProcessor" => hal::KeStallExecutionProcessor as *const () as usize,
        "MmCopyMemory" => MmCopyMemory as *const () as usize,
        "MmGetSystemRoutineAddress" => MmGetSystemRoutineAddress as *const () as usize,
        "MmUserProbeAddress" => &raw const MmUserProbeAddress as usize,
        _ => return None,
    })
}

/// `MmGetSystemRoutineAddress`: see the module docs. A NULL string, an odd `Length`, a
/// `Length` above `MaximumLength` or a NULL buffer with a non-zero length are findings (NULL is
/// returned).
///
/// # Safety
/// `SystemRoutineName` is NULL (a finding) or a `UNICODE_STRING` whose `Buffer` holds `Length`
/// readable bytes (the kernel's contract).
#[unsafe(no_mangle)]
pub unsafe extern "system" fn MmGetSystemRoutineAddress(
    SystemRoutineName: PUNICODE_STRING,
) -> PVOID {
    const CALL: &str = "MmGetSystemRoutineAddress";
    // The name is copied before the machine is entered: kernel code, not the driver's
    // allocation (the driver heap's accounting and its fault injection must not see it).
    let _kernel = crate::current::KernelCode::enter();
    let name = if SystemRoutineName.is_null() {
        None
    } else {
        // SAFETY: a non-null UNICODE_STRING of the caller (kernel contract); read by value.
        Some(unsafe { SystemRoutineName.read() })
    };
    let units = match name {
        Some(string)
            if string.Length % 2 == 0
                && string.Length <= string.MaximumLength
                && (!string.Buffer.is_null() || string.Length == 0) =>
        {
            let count = usize::from(string.Length / 2);
            if count == 0 {
                Vec::new()
            } else {
                // SAFETY: `Buffer` holds `Length` readable bytes (the kernel's contract),
                // checked non-null above; UTF-16 units are 2-aligned in a UNICODE_STRING.
                unsafe { core::slice::from_raw_parts(string.Buffer, count) }.to_vec()
            }
        }
        _ => {
            with_state(CALL, |m| {
                m.check_call(CALL, PASSIVE_LEVEL, false);
                m.record(Finding::InvalidArgument {
                    call: CALL,
                    detail: "SystemRoutineName is NULL or not a valid UNICODE_STRING".into(),
                });
            });
            return core::ptr::null_mut();
        }
    };
    let name = alloc::string::String::from_utf16_lossy(&units);
    with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, false);
        if m.config().missing_routines.contains(&name.as_str()) {
            return core::ptr::null_mut();
        }
        system_routine(&name).map_or(core::ptr::null_mut(), |address| address as PVOID)
    })
}
