//! The driver's side of the COM layer (crates/com-object): its objects live in rdmus's
//! tagged nonpaged pool (`miniport::pool_box`) with their reference count inside, and calls through
//! interface pointers of objects PortCls made go through the layer's [`vtable`].

use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

pub use com_object::{Interface, add_ref, release, vtable};
use com_object::{RefCount, Released, Storage};
use dmus_sys::kernel::NTSTATUS;

use crate::miniport::pool_box;

/// The storage of every rdmus COM object: a nonpaged pool block tagged `rdmu`, made and
/// freed at IRQL ≤ DISPATCH_LEVEL, with a [`RefCount`] in the object.
pub enum Pool {}

// SAFETY: `allocate` hands back pool_box's block, which `init` initialised and `free` frees;
// RefCount's `release` says `Last` once, when the count reaches zero.
unsafe impl Storage for Pool {
    type Count = RefCount;

    fn first_count(_identity: NonNull<c_void>, _name: &'static str) -> RefCount {
        RefCount::new()
    }

    fn add_ref(count: &RefCount, _identity: NonNull<c_void>) -> u32 {
        count.add_ref()
    }

    fn release(count: &RefCount, _identity: NonNull<c_void>) -> Released {
        count.release()
    }

    fn allocate<T>(
        init: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Result<&'a mut T, NTSTATUS>,
    ) -> Result<NonNull<T>, NTSTATUS> {
        pool_box::try_new_with(init)
    }

    unsafe fn free<T>(object: NonNull<T>) {
        // SAFETY: a block pool_box made (objects are only made by `allocate`), unused from
        // here (caller's contract). IRQL ≤ DISPATCH_LEVEL.
        unsafe { pool_box::free(object) };
    }
}
