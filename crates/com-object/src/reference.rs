//! An owned reference to one of our objects.

use core::mem::MaybeUninit;
use core::ops::Deref;
use core::ptr::NonNull;

use dmus_sys::kernel::NTSTATUS;

use crate::class::{Class, HasInterface};
use crate::interface::Interface;
use crate::object::ComObject;
use crate::storage::Storage;

/// One reference to a [`ComObject`] of class `C`: cloning adds a reference, dropping
/// releases it (the last frees the object).
pub struct ComRef<C: Class>(NonNull<ComObject<C>>);

impl<C: Class> ComRef<C> {
    /// Makes an object in its storage with `value`; the one reference is the caller's.
    /// IRQL: the storage's (the driver's pool: ≤ DISPATCH_LEVEL).
    ///
    /// For a value of more than a few hundred bytes use [`Self::try_new_with`]: `value` is
    /// built on the caller's stack first.
    ///
    /// # Errors
    /// The storage's, when it has no memory (`value` is dropped).
    pub fn try_new(value: C) -> Result<Self, NTSTATUS> {
        Self::try_new_with(|place| Ok(place.write(value)))
    }

    /// Makes an object in its storage, the value made in place by `init` (which hands back
    /// the `&mut C` it was given), so a large value is never on the stack; the one reference
    /// is the caller's. IRQL: the storage's.
    ///
    /// # Errors
    /// The storage's when it has no memory (`init` not called); `init`'s (the block is freed,
    /// nothing in it dropped: `init` drops what it made before it failed).
    pub fn try_new_with(
        init: impl for<'a> FnOnce(&'a mut MaybeUninit<C>) -> Result<&'a mut C, NTSTATUS>,
    ) -> Result<Self, NTSTATUS> {
        let object = <C::Storage as Storage>::allocate(|place| ComObject::init_in(place, init))?;
        Ok(Self(object))
    }

    /// Gives the reference away as the object's `I` pointer (what a COM out-parameter takes).
    #[must_use]
    pub fn into_raw<I: Interface>(self) -> NonNull<I>
    where
        C: HasInterface<I>,
    {
        let raw = self.as_interface::<I>();
        core::mem::forget(self);
        raw
    }

    /// Takes over a reference held as the object's `I` pointer.
    ///
    /// # Safety
    /// `this` is `I`'s pointer of a live `ComObject<C>` and the caller owns one reference
    /// through it, which the `ComRef` now owns.
    #[must_use]
    pub unsafe fn from_raw<I: Interface>(this: NonNull<I>) -> Self
    where
        C: HasInterface<I>,
    {
        // SAFETY: the caller's interface pointer of a live object. Any IRQL (memory only).
        Self(unsafe { ComObject::<C>::object_of(this) })
    }
}

impl<C: Class> ComObject<C> {
    /// A new reference to this object. IRQL ≤ DISPATCH_LEVEL (memory only).
    #[must_use]
    pub fn to_ref(&self) -> ComRef<C> {
        self.add_ref();
        ComRef(NonNull::from(self))
    }
}

impl<C: Class> Deref for ComRef<C> {
    type Target = ComObject<C>;

    fn deref(&self) -> &ComObject<C> {
        // SAFETY: the reference this ComRef owns keeps the object alive while it exists.
        // Any IRQL (memory only).
        unsafe { self.0.as_ref() }
    }
}

impl<C: Class> Clone for ComRef<C> {
    fn clone(&self) -> Self {
        self.to_ref()
    }
}

impl<C: Class> Drop for ComRef<C> {
    fn drop(&mut self) {
        // SAFETY: the reference this ComRef owns, given up once. The caller's IRQL: the
        // value's Drop rule if this is the last.
        unsafe { ComObject::release_raw(self.0) };
    }
}
