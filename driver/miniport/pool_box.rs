//! COM objects in nonpaged pool, allocated fallibly.
//!
//! `Box::new` aborts when memory runs out; a driver must fail the call
//! instead. [`try_new`] asks the global allocator (nonpaged pool with rdmus's
//! tag in the Windows image, see `pool.rs`) and reports failure as
//! `STATUS_INSUFFICIENT_RESOURCES`; [`free`] gives the object back through the
//! `Box` that owns it.

use alloc::alloc::{Layout, alloc};
use alloc::boxed::Box;
use core::ptr::NonNull;

use dmus_sys::kernel::{NTSTATUS, STATUS_INSUFFICIENT_RESOURCES};

/// Moves `value` into a new pool block. IRQL ≤ DISPATCH_LEVEL.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted (`value` is dropped).
pub fn try_new<T>(value: T) -> Result<NonNull<T>, NTSTATUS> {
    let layout = Layout::new::<T>();
    if layout.size() == 0 {
        return Ok(NonNull::from(Box::leak(Box::new(value))));
    }
    // SAFETY: the layout has a non-zero size (checked above). The global
    // allocator runs at IRQL ≤ DISPATCH_LEVEL, the caller's IRQL.
    let raw = unsafe { alloc(layout) }.cast::<T>();
    let Some(block) = NonNull::new(raw) else {
        return Err(STATUS_INSUFFICIENT_RESOURCES);
    };
    // SAFETY: `block` is a fresh, exclusive allocation of T's layout.
    unsafe { block.as_ptr().write(value) };
    Ok(block)
}

/// Drops and frees an object made by [`try_new`]. IRQL ≤ DISPATCH_LEVEL.
///
/// # Safety
/// `object` came from [`try_new`] and nothing uses it afterwards.
pub unsafe fn free<T>(object: NonNull<T>) {
    // SAFETY: try_new allocated with the global allocator and T's layout,
    // exactly what Box<T> frees with; the caller gives up every other use.
    drop(unsafe { Box::from_raw(object.as_ptr()) });
}

#[cfg(test)]
mod tests {
    use super::{free, try_new};

    #[test]
    fn a_value_round_trips_through_the_pool() {
        let block = try_new([7u64; 4]).expect("host allocation");
        // SAFETY: the block was just made and is exclusively ours.
        assert_eq!(unsafe { block.as_ptr().read() }, [7u64; 4]);
        // SAFETY: made by try_new, not used afterwards.
        unsafe { free(block) };
        let unit = try_new(()).expect("zero-sized values need no pool");
        // SAFETY: as above.
        unsafe { free(unit) };
    }
}
