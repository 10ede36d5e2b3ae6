//! Memory manager: `MmCopyMemory` and the exported variable `MmUserProbeAddress`.
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
    APC_LEVEL, MM_COPY_ADDRESS, MM_COPY_MEMORY_PHYSICAL, MM_COPY_MEMORY_VIRTUAL, NTSTATUS, PVOID,
    SIZE_T, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_PARTIAL_COPY, STATUS_SUCCESS,
    ULONG_PTR,
};

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
