//! Where a class's objects live and how their references are counted.

use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use dmus_sys::kernel::NTSTATUS;

use crate::refcount::Released;

/// A `QueryInterface` the object refused for a bad argument (a [`Storage`] may report it: the
/// simulation records a finding).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// The out-pointer was null.
    NullOut,
    /// The interface id was null.
    NullId,
}

/// Where a class's objects live and how their references are counted: the driver's
/// nonpaged pool with the count in the object, or the simulation's host heap with its
/// registry's count.
///
/// # Safety
/// [`Self::allocate`] hands back the block `init` initialised, which [`Self::free`] can free;
/// [`Self::release`] returns [`Released::Last`] once per object, when no reference is left
/// (the count starts at one, [`Self::first_count`]).
pub unsafe trait Storage {
    /// The reference count kept in each object (`()` when it is kept elsewhere).
    type Count;

    /// A count of one for a new object at `identity` (its `IUnknown`) of class `name`.
    fn first_count(identity: NonNull<c_void>, name: &'static str) -> Self::Count;

    /// `AddRef`: the new count.
    fn add_ref(count: &Self::Count, identity: NonNull<c_void>) -> u32;

    /// `Release`: see [`Released`]. The last release orders every earlier use before the
    /// free that follows.
    fn release(count: &Self::Count, identity: NonNull<c_void>) -> Released;

    /// A new block holding a `T` made in place by `init` (which hands back the `&mut T` it
    /// was given).
    ///
    /// # Errors
    /// `init`'s error, or the storage's own when it has no memory (`init` not called).
    fn allocate<T>(
        init: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Result<&'a mut T, NTSTATUS>,
    ) -> Result<NonNull<T>, NTSTATUS>;

    /// Drops the `T` in a block [`Self::allocate`] made and frees the block.
    ///
    /// # Safety
    /// `object` came from [`Self::allocate`] and nothing uses it afterwards.
    unsafe fn free<T>(object: NonNull<T>);

    /// The last reference to the object at `identity` (of class `name`) is gone: called
    /// once, just before its value is dropped and [`Self::free`] frees it. Does nothing
    /// unless the storage keeps records of its objects (the simulation's registry).
    fn destroying(identity: NonNull<c_void>, name: &'static str) {
        let _ = (identity, name);
    }

    /// A `QueryInterface` on the object at `identity` was refused for a bad argument. Does
    /// nothing unless the storage reports it.
    fn refused(identity: NonNull<c_void>, name: &'static str, refusal: Refusal) {
        let _ = (identity, name, refusal);
    }
}
