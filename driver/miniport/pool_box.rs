//! COM objects in nonpaged pool, tagged `rdmu`, allocated fallibly.
//!
//! The miniports' objects come straight from `ExAllocatePool2` with rdmus's
//! pool tag rather than through the global allocator: `Box::new` aborts when
//! memory runs out, where a driver must fail the call; and on the host the
//! simulated pool then sees (and its verifier checks) every object, tag and
//! leak exactly as Windows' pool would.

use core::ptr::NonNull;

use dmus_sys::imports::{ExAllocatePool2, ExFreePoolWithTag};
use dmus_sys::kernel::{NTSTATUS, POOL_FLAG_NON_PAGED, STATUS_INSUFFICIENT_RESOURCES};

use crate::pool::{POOL_ALIGNMENT, POOL_TAG};

/// Moves `value` into a new nonpaged pool block. IRQL ≤ DISPATCH_LEVEL.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted (`value` is dropped).
pub fn try_new<T>(value: T) -> Result<NonNull<T>, NTSTATUS> {
    const {
        assert!(
            align_of::<T>() <= POOL_ALIGNMENT,
            "pool blocks are MEMORY_ALLOCATION_ALIGNMENT-aligned"
        );
    }
    // SAFETY: nonpaged pool may be allocated at IRQL ≤ DISPATCH_LEVEL (the
    // caller's IRQL); a null result is handled below. A zero-sized request
    // still returns a distinct block.
    let raw = unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, size_of::<T>().max(1), POOL_TAG) };
    let Some(block) = NonNull::new(raw.cast::<T>()) else {
        return Err(STATUS_INSUFFICIENT_RESOURCES);
    };
    // SAFETY: a fresh block of at least size_of::<T>() bytes, aligned for T
    // (checked at compile time above), used by nothing else. Any IRQL (memory only).
    unsafe { block.as_ptr().write(value) };
    Ok(block)
}

/// Drops and frees an object made by [`try_new`]. IRQL ≤ DISPATCH_LEVEL.
///
/// # Safety
/// `object` came from [`try_new`] and nothing uses it afterwards.
pub unsafe fn free<T>(object: NonNull<T>) {
    // SAFETY: a live T that try_new wrote and no one else uses (caller's contract). Any IRQL
    // (memory only).
    unsafe { object.as_ptr().drop_in_place() };
    // SAFETY: the block ExAllocatePool2 returned with POOL_TAG, freed once at
    // IRQL ≤ DISPATCH_LEVEL.
    unsafe { ExFreePoolWithTag(object.as_ptr().cast(), POOL_TAG) };
}

#[cfg(test)]
mod tests {
    use wdm_sim::{FaultInjection, Machine, MachineConfig};

    use super::{free, try_new};
    use crate::pool::POOL_TAG;

    #[test]
    fn objects_live_in_tagged_pool_and_go_back() {
        let machine = Machine::new(MachineConfig::default());
        let block = try_new([7u64; 4]).expect("pool");
        // SAFETY: the block was just made and is exclusively ours. Host test, PASSIVE_LEVEL.
        assert_eq!(unsafe { block.as_ptr().read() }, [7u64; 4]);
        let usage = machine.with(|m| m.pool().usage_by_tag());
        assert_eq!(
            usage.get(&POOL_TAG).map(|u| (u.count, u.bytes)),
            Some((1, 32))
        );
        // SAFETY: made by try_new, not used afterwards. Host test, PASSIVE_LEVEL.
        unsafe { free(block) };
        let usage = machine.with(|m| m.pool().usage_by_tag());
        assert_eq!(usage.get(&POOL_TAG).map_or(0, |u| u.count), 0);
        assert_eq!(machine.findings(), []);
    }

    #[test]
    fn an_exhausted_pool_is_an_error_not_a_crash() {
        let machine = Machine::new(MachineConfig {
            faults: FaultInjection {
                fail_nth: Some(1),
                ..FaultInjection::default()
            },
            ..MachineConfig::default()
        });
        assert_eq!(
            try_new(1u32).err(),
            Some(dmus_sys::kernel::STATUS_INSUFFICIENT_RESOURCES)
        );
        assert_eq!(machine.findings(), []);
    }
}
