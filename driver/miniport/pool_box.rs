//! COM objects in nonpaged pool, tagged `rdmu`, allocated fallibly.
//!
//! The miniports' objects come straight from `ExAllocatePool2` with rdmus's
//! pool tag rather than through the global allocator: `Box::new` aborts when
//! memory runs out, where a driver must fail the call; and on the host the
//! simulated pool then sees (and its verifier checks) every object, tag and
//! leak exactly as Windows' pool would.

use core::mem::MaybeUninit;
use core::ptr::NonNull;

use dmus_sys::imports::ExFreePoolWithTag;
use dmus_sys::kernel::{
    NTSTATUS, POOL_FLAG_NON_PAGED, STATUS_INSUFFICIENT_RESOURCES, STATUS_UNSUCCESSFUL,
};

use crate::pool::{POOL_ALIGNMENT, POOL_TAG};

/// Moves `value` into a new nonpaged pool block. IRQL ≤ DISPATCH_LEVEL.
///
/// For an object of more than a few hundred bytes, use [`try_new_with`]: a
/// value passed here is built on the caller's stack first.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted (`value` is dropped).
pub fn try_new<T>(value: T) -> Result<NonNull<T>, NTSTATUS> {
    try_new_with(|place| Ok(place.write(value)))
}

/// Makes a `T` in place in a new nonpaged pool block: the block is allocated
/// first, then `init` initialises it where it lies (with
/// [`MaybeUninit::write`], field by field, or through in-place constructors),
/// so an object too big for a kernel stack frame is never built on the stack
/// (a frame over a page makes the compiler call `__chkstk`, and kernel stacks
/// are 12 to 24 KiB). `init` hands back the initialised object: the
/// `&mut T` it returns must be the block it was given. IRQL ≤ DISPATCH_LEVEL.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted (`init` is not
/// called); `init`'s own error, after the block is freed (nothing in it is
/// dropped: `init` drops whatever it made before it failed);
/// `STATUS_UNSUCCESSFUL` if `init` returned some other object than the one
/// in the block (the block is freed unread, whatever `init` wrote is leaked).
pub fn try_new_with<T>(
    init: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Result<&'a mut T, NTSTATUS>,
) -> Result<NonNull<T>, NTSTATUS> {
    const {
        assert!(
            align_of::<T>() <= POOL_ALIGNMENT,
            "pool blocks are MEMORY_ALLOCATION_ALIGNMENT-aligned"
        );
    }
    // SAFETY: nonpaged pool may be allocated at IRQL ≤ DISPATCH_LEVEL (the
    // caller's IRQL); a null result is handled below. A zero-sized request
    // still returns a distinct block.
    let raw = unsafe {
        crate::kernel_routines::allocate_pool(POOL_FLAG_NON_PAGED, size_of::<T>().max(1), POOL_TAG)
    };
    let Some(block) = NonNull::new(raw.cast::<MaybeUninit<T>>()) else {
        return Err(STATUS_INSUFFICIENT_RESOURCES);
    };
    // SAFETY: a fresh block of at least size_of::<T>() bytes, aligned for T
    // (checked at compile time above), used by nothing else; a MaybeUninit<T>
    // may hold any bytes. Any IRQL (memory only).
    let place = unsafe { &mut *block.as_ptr() };
    let status = match init(place) {
        Ok(object) if core::ptr::eq(object, block.as_ptr().cast::<T>()) => {
            return Ok(block.cast());
        }
        Ok(_) => STATUS_UNSUCCESSFUL,
        Err(status) => status,
    };
    // SAFETY: the block ExAllocatePool2 returned with POOL_TAG, freed once,
    // without reading it, at IRQL ≤ DISPATCH_LEVEL.
    unsafe { ExFreePoolWithTag(raw, POOL_TAG) };
    Err(status)
}

/// Initialises a `MaybeUninit<T>` field by field, where it lies, and evaluates
/// to the `&mut T` (what a [`try_new_with`] initialiser returns):
/// `init_fields!(place, Type { a: value_a, b: value_b })`. Each value is
/// written straight into its field, so no whole `T` is built on the stack
/// first (Rust does not promise that `MaybeUninit::write(T { .. })` builds in
/// place, and for the miniports it did not). Every field is named exactly
/// once, checked at compile time (a struct pattern without `..` names them: a
/// field left out fails the build with "pattern requires `..`"); the caller's
/// module must see them all. Values are computed before the macro
/// (or infallibly in it): a value that returned early would leave the
/// fields before it written, and they would leak. Not for a `repr(packed)`
/// type, whose fields may be unaligned (rdmus has none).
macro_rules! init_fields {
    ($place:expr, $ty:path { $($field:ident: $value:expr),+ $(,)? }) => {{
        let place: &mut ::core::mem::MaybeUninit<$ty> = $place;
        let object = place.as_mut_ptr();
        $(
            let value = $value;
            // SAFETY: `object` is the address of the place borrowed just above;
            // `&raw mut` of one of its fields reads nothing. Any IRQL (memory only).
            let field = unsafe { &raw mut (*object).$field };
            // SAFETY: the field lies inside the borrowed place, writable, and
            // aligned (the place is aligned for the type, which is not packed);
            // it holds nothing to drop yet. Any IRQL (memory only).
            unsafe { field.write(value) };
        )+
        // Every field is named, each once: a struct pattern without `..` fails
        // to compile otherwise. (Never called; only type-checked.)
        let _every_field_named = |whole: &$ty| {
            let $ty { $($field: _),+ } = whole;
        };
        // SAFETY: every field was written above (the pattern proves that none is
        // missing); padding needs no value. Any IRQL (memory only).
        unsafe { place.assume_init_mut() }
    }};
}
pub(crate) use init_fields;

/// Drops and frees an object made by [`try_new`] or [`try_new_with`]. IRQL ≤ DISPATCH_LEVEL.
///
/// # Safety
/// `object` came from [`try_new`] or [`try_new_with`] and nothing uses it afterwards.
pub unsafe fn free<T>(object: NonNull<T>) {
    // SAFETY: a live T that try_new(_with) made and no one else uses (caller's contract). Any IRQL
    // (memory only).
    unsafe { object.as_ptr().drop_in_place() };
    // SAFETY: the block ExAllocatePool2 returned with POOL_TAG, freed once at
    // IRQL ≤ DISPATCH_LEVEL.
    unsafe { ExFreePoolWithTag(object.as_ptr().cast(), POOL_TAG) };
}

#[cfg(test)]
mod tests {
    use core::mem::MaybeUninit;
    use std::boxed::Box;
    use std::rc::Rc;

    use dmus_sys::kernel::{STATUS_INSUFFICIENT_RESOURCES, STATUS_NO_MEMORY, STATUS_UNSUCCESSFUL};
    use wdm_sim::{FaultInjection, Machine, MachineConfig};

    use super::{free, try_new, try_new_with};
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
    fn objects_are_made_in_place_in_their_block() {
        let machine = Machine::new(MachineConfig::default());
        let mut seen = core::ptr::null();
        let block = try_new_with(|place: &mut MaybeUninit<[u64; 512]>| {
            seen = place.as_ptr();
            Ok(place.write([3u64; 512]))
        })
        .expect("pool");
        assert_eq!(
            block.as_ptr().cast_const(),
            seen,
            "init saw the pool block itself"
        );
        // SAFETY: the block was just made and is exclusively ours. Host test, PASSIVE_LEVEL.
        assert!(unsafe { block.as_ref() }.iter().all(|&word| word == 3));
        let usage = machine.with(|m| m.pool().usage_by_tag());
        assert_eq!(
            usage.get(&POOL_TAG).map(|u| (u.count, u.bytes)),
            Some((1, 4096))
        );
        // SAFETY: made by try_new_with, not used afterwards. Host test, PASSIVE_LEVEL.
        unsafe { free(block) };
        assert_eq!(machine.findings(), []);
    }

    #[test]
    fn a_failed_init_frees_the_block_and_passes_its_error_on() {
        let machine = Machine::new(MachineConfig::default());
        let failed = try_new_with(|_: &mut MaybeUninit<u64>| Err(STATUS_NO_MEMORY));
        assert_eq!(failed.err(), Some(STATUS_NO_MEMORY));
        let usage = machine.with(|m| m.pool().usage_by_tag());
        assert_eq!(usage.get(&POOL_TAG).map_or(0, |u| u.count), 0);
        assert_eq!(machine.findings(), []);
    }

    #[test]
    fn an_init_that_hands_back_another_object_is_refused() {
        let machine = Machine::new(MachineConfig::default());
        let elsewhere: &'static mut u64 = Box::leak(Box::new(5));
        let elsewhere_address = core::ptr::from_mut(elsewhere);
        let refused = try_new_with(|_: &mut MaybeUninit<u64>| Ok(elsewhere));
        assert_eq!(refused.err(), Some(STATUS_UNSUCCESSFUL));
        let usage = machine.with(|m| m.pool().usage_by_tag());
        assert_eq!(usage.get(&POOL_TAG).map_or(0, |u| u.count), 0);
        assert_eq!(machine.findings(), []);
        // SAFETY: the leaked box above, which the refused init did not keep. Host test.
        drop(unsafe { Box::from_raw(elsewhere_address) });
    }

    #[test]
    fn a_value_moved_in_is_dropped_when_the_pool_is_exhausted() {
        let machine = Machine::new(MachineConfig {
            faults: FaultInjection {
                fail_nth: Some(1),
                ..FaultInjection::default()
            },
            ..MachineConfig::default()
        });
        let value = Rc::new(());
        assert_eq!(
            try_new(Rc::clone(&value)).err(),
            Some(STATUS_INSUFFICIENT_RESOURCES)
        );
        assert_eq!(
            Rc::strong_count(&value),
            1,
            "the moved-in clone was dropped"
        );
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
        assert_eq!(try_new(1u32).err(), Some(STATUS_INSUFFICIENT_RESOURCES));
        assert_eq!(machine.findings(), []);
    }
}
