//! The object in memory: interface pointers, reference count, value; and the one place an
//! interface pointer becomes its object again (this-pointer recovery).

use core::ffi::c_void;
use core::mem::MaybeUninit;
use core::ops::Deref;
use core::ptr::NonNull;

use dmus_sys::kernel::{NTSTATUS, STATUS_UNSUCCESSFUL};

use crate::class::{Class, HasInterface, Slots, VtablePointer};
use crate::interface::Interface;
use crate::refcount::Released;
use crate::storage::Storage;

/// A COM object of class `C` (windows-rs's layout, style.md): `#[repr(C)]`, one vtable
/// pointer per interface first (slot 0 is the `IUnknown`, the object's identity), then the
/// reference count, then the class's value, which the object derefs to.
///
/// Objects are only made by [`ComRef::try_new_with`](crate::ComRef::try_new_with), in their
/// storage, and freed by the `Release` that drops the last reference.
#[repr(C)]
pub struct ComObject<C: Class> {
    interfaces: C::Interfaces,
    count: <C::Storage as Storage>::Count,
    value: C,
}

impl<C: Class> ComObject<C> {
    /// Where the value starts inside the object, in bytes.
    pub const VALUE_OFFSET: usize = core::mem::offset_of!(Self, value);

    /// Makes the object in `place`: `init` makes the value where it lies (handing back the
    /// `&mut C` it was given), then the interface pointers and the count (one reference)
    /// are written.
    ///
    /// # Errors
    /// `init`'s error (nothing else is written), or `STATUS_UNSUCCESSFUL` if `init` handed back
    /// some other value than the one in `place`.
    pub(crate) fn init_in(
        place: &mut MaybeUninit<Self>,
        init: impl for<'a> FnOnce(&'a mut MaybeUninit<C>) -> Result<&'a mut C, NTSTATUS>,
    ) -> Result<&mut Self, NTSTATUS> {
        let object = place.as_mut_ptr();
        // SAFETY: `&raw mut` of a field of the place borrowed above reads nothing. Any IRQL
        // (memory only).
        let value = unsafe { &raw mut (*object).value };
        // SAFETY: the field lies inside the borrowed place, aligned, and may hold any bytes as
        // a MaybeUninit; nothing else borrows it while `init` runs. Any IRQL (memory only).
        let value_place = unsafe { &mut *value.cast::<MaybeUninit<C>>() };
        let made = init(value_place)?;
        if !core::ptr::eq(made, value) {
            return Err(STATUS_UNSUCCESSFUL);
        }
        let identity = NonNull::new(object.cast::<c_void>()).ok_or(STATUS_UNSUCCESSFUL)?;
        // SAFETY: `&raw mut` of a field of the borrowed place reads nothing. Any IRQL.
        let interfaces = unsafe { &raw mut (*object).interfaces };
        // SAFETY: a field of the borrowed place, aligned, holding nothing to drop yet. Any
        // IRQL (memory only).
        unsafe { interfaces.write(C::INTERFACES) };
        let count = <C::Storage as Storage>::first_count(identity, C::NAME);
        // SAFETY: as for `interfaces`. Any IRQL.
        let count_field = unsafe { &raw mut (*object).count };
        // SAFETY: as for `interfaces`. Any IRQL (memory only).
        unsafe { count_field.write(count) };
        // SAFETY: every field is written (value by `init`, checked to be this one); padding
        // needs no value. Any IRQL (memory only).
        Ok(unsafe { place.assume_init_mut() })
    }

    /// The object's `IUnknown`: its identity, slot 0.
    #[must_use]
    pub fn identity(&self) -> NonNull<c_void> {
        NonNull::from(self).cast()
    }

    /// The object's pointer for interface `I` (no reference is added).
    #[must_use]
    pub fn as_interface<I: Interface>(&self) -> NonNull<I>
    where
        C: HasInterface<I>,
    {
        // Stays inside the object: SLOT < the number of interface pointers at its start.
        const { assert!(<C as HasInterface<I>>::SLOT < <C::Interfaces as Slots>::COUNT) };
        let slots = NonNull::from(self).cast::<VtablePointer>();
        // SAFETY: SLOT is inside the array of interface pointers the object starts with
        // (asserted above). Any IRQL (address arithmetic only).
        unsafe { slots.add(<C as HasInterface<I>>::SLOT) }.cast()
    }

    /// `AddRef`: the new count. IRQL ≤ DISPATCH_LEVEL (memory only).
    pub fn add_ref(&self) -> u32 {
        <C::Storage as Storage>::add_ref(&self.count, self.identity())
    }

    /// The object behind its slot-`N` interface pointer, as a raw pointer (this-adjustment:
    /// the slot's pointer sits `N` pointers after the object's start).
    #[must_use]
    pub(crate) fn from_slot<const N: usize>(this: *mut c_void) -> *mut Self {
        this.cast::<VtablePointer>().wrapping_sub(N).cast()
    }

    /// The object behind its pointer for interface `I`.
    ///
    /// # Safety
    /// `this` is `I`'s pointer (from [`Self::as_interface`] or a `QueryInterface`) of a live
    /// `ComObject<C>`.
    #[must_use]
    pub(crate) unsafe fn object_of<I: Interface>(this: NonNull<I>) -> NonNull<Self>
    where
        C: HasInterface<I>,
    {
        // SAFETY: `I`'s pointer sits SLOT pointers after the start of the same live object
        // (the class's layout, `class!`; caller's contract), so the result stays inside it.
        // Any IRQL (memory only).
        unsafe {
            this.cast::<VtablePointer>()
                .sub(<C as HasInterface<I>>::SLOT)
        }
        .cast()
    }

    /// The object behind its pointer for interface `I`.
    ///
    /// # Safety
    /// `this` is null or `I`'s pointer (from [`Self::as_interface`] or a `QueryInterface`)
    /// of a live `ComObject<C>`, which stays alive for `'a`. Any IRQL (memory only).
    #[must_use]
    pub unsafe fn from_interface<'a, I: Interface>(this: *mut I) -> Option<&'a Self>
    where
        C: HasInterface<I>,
    {
        let this = NonNull::new(this)?;
        // SAFETY: the caller's interface pointer of a live object.
        let object = unsafe { Self::object_of(this) };
        // SAFETY: the live object (caller's contract), shared for 'a. Any IRQL (memory only).
        Some(unsafe { object.as_ref() })
    }

    /// `Release` on the object at `object`: the new count; the last reference frees it
    /// (its value dropped first) through the class's storage.
    ///
    /// # Safety
    /// `object` is a live object on which the caller owns the reference it gives up here, and
    /// does not use afterwards. IRQL ≤ DISPATCH_LEVEL, or what the value's `Drop` needs.
    pub(crate) unsafe fn release_raw(object: NonNull<Self>) -> u32 {
        let outcome = {
            // SAFETY: live while the caller's reference is (caller's contract); the borrow
            // ends before the object may be freed. Any IRQL (memory only).
            let live = unsafe { object.as_ref() };
            <C::Storage as Storage>::release(&live.count, live.identity())
        };
        match outcome {
            Released::Alive(count) => count,
            Released::Last => {
                <C::Storage as Storage>::destroying(object.cast(), C::NAME);
                // SAFETY: the last reference is gone, so nothing else uses the object; made
                // by the same storage's `allocate` (objects are only made by
                // ComRef::try_new_with). The storage's IRQL rule applies (≤ DISPATCH_LEVEL).
                unsafe { <C::Storage as Storage>::free(object) };
                0
            }
            // Nothing changed: an object is never freed twice.
            Released::OverReleased => 0,
        }
    }
}

impl<C: Class> Deref for ComObject<C> {
    type Target = C;

    fn deref(&self) -> &C {
        &self.value
    }
}
