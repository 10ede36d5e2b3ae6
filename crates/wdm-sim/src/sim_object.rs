//! The storage of the simulation's COM objects on the COM layer (crates/com-object): each
//! object is a block on the host heap, and its reference count is the machine's
//! [`ComRegistry`](crate::com::ComRegistry) record, keyed by the object's address, so an
//! over-release is a finding and references left at unload are reported, as before.
//!
//! A freed object's block is never given back to the heap (its value is dropped, its memory
//! kept, as Driver Verifier's special pool keeps freed memory): a driver that calls through a
//! stale pointer reaches the registry's check (a count of 0, a finding) rather than another
//! object that reused the address.

use alloc::boxed::Box;
use core::ffi::c_void;
use core::marker::PhantomData;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use com_object::{Class, ComObject, ComRef, HasInterface, Interface, Refusal, Released, Storage};
use dmus_sys::kernel::NTSTATUS;

use crate::current::{KernelCode, fatal, with_state};
use crate::finding::Finding;

/// A class of the simulation's objects: its name in the registry and findings, and what the
/// machine keeps for an object until its last reference goes.
pub trait SimObject: Class {
    /// The interface name the registry reports (`"IPortDMus"`).
    const KIND: &'static str;
    /// The call a refused `QueryInterface` is reported as (`"IPortDMus::QueryInterface"`).
    const QUERY_INTERFACE: &'static str;

    /// The last reference to the object at `object` went: give back what the machine keeps
    /// for it (its table entries, the references it holds). Runs before its value is
    /// dropped, with no borrow of the machine held.
    fn destroyed(object: usize) {
        let _ = object;
    }
}

/// The [`Storage`] of a [`SimObject`] class `C`: the host heap, counted in the machine's
/// registry.
pub struct Registered<C>(PhantomData<C>);

/// The address that identifies `object` in the machine's tables (its `IUnknown`).
#[must_use]
pub fn address_of<C: Class>(object: &ComObject<C>) -> usize {
    object.identity().as_ptr() as usize
}

/// Makes an object of class `C` (registered, one reference: the caller's) and gives that
/// reference away as its `I` pointer.
pub fn new_object<C, I>(value: C) -> NonNull<I>
where
    C: SimObject<Storage = Registered<C>> + HasInterface<I>,
    I: Interface,
{
    // The simulation's object, even when the driver's call made it: the host's memory.
    let _kernel = KernelCode::enter();
    match ComRef::try_new(value) {
        Ok(object) => object.into_raw(),
        Err(status) => fatal(&alloc::format!(
            "wdm-sim: a {} could not be made ({status:#x})",
            C::KIND
        )),
    }
}

// SAFETY: `allocate` hands back the box `init` initialised; `free` drops its value once (the
// registry says `Last` once per object: its count starts at one and refuses every release
// after 0). The block itself is kept (module docs).
unsafe impl<C: SimObject> Storage for Registered<C> {
    type Count = ();

    fn first_count(identity: NonNull<c_void>, _name: &'static str) {
        with_state(C::KIND, |m| {
            m.register_com(identity.as_ptr() as usize, C::KIND);
        });
    }

    fn add_ref((): &(), identity: NonNull<c_void>) -> u32 {
        with_state(C::KIND, |m| m.com_add_ref(identity.as_ptr() as usize))
    }

    fn release((): &(), identity: NonNull<c_void>) -> Released {
        // An over-release (or an address the sim never handed out) is the registry's finding.
        match with_state(C::KIND, |m| m.com_release(identity.as_ptr() as usize)) {
            Some(0) => Released::Last,
            Some(count) => Released::Alive(count),
            None => Released::OverReleased,
        }
    }

    fn allocate<T>(
        init: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Result<&'a mut T, NTSTATUS>,
    ) -> Result<NonNull<T>, NTSTATUS> {
        let block = Box::leak(Box::<T>::new_uninit());
        init(block).map(NonNull::from)
    }

    unsafe fn free<T>(object: NonNull<T>) {
        C::destroyed(object.as_ptr() as usize);
        // SAFETY: a live T that `allocate` made, dropped once (caller's contract: the last
        // reference went). The block stays allocated (module docs). The sim runs on the
        // test's thread: no IRQL.
        unsafe { object.as_ptr().drop_in_place() };
    }

    fn refused(_identity: NonNull<c_void>, _name: &'static str, _refusal: Refusal) {
        with_state(C::QUERY_INTERFACE, |m| {
            m.record(Finding::NullArgument {
                call: C::QUERY_INTERFACE,
                argument: "InterfaceId/Interface",
            });
        });
    }
}
