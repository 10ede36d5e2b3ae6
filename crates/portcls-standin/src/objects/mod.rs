//! The COM objects the stand-in hands to rdmus.sys, declared with com-object's `class!` on
//! the stand-in's counted pool ([`crate::pool::Pool`]): the DMus port, its allocator and
//! master clock, service groups, interrupt syncs and resource lists.

pub mod allocator;
pub mod capture_sink;
pub mod clock;
pub mod interrupt;
pub mod port;
pub mod resource_list;
pub mod service;

use dmus_sys::com::{IUnknown, PUNKNOWN};

/// `AddRef` on an object rdmus.sys (or we) made.
///
/// # Safety
/// `object` is a live COM object. IRQL ≤ DISPATCH_LEVEL.
pub unsafe fn add_ref(object: PUNKNOWN) {
    // SAFETY: the caller's live object; AddRef touches memory only.
    unsafe { com_object::add_ref::<IUnknown>(object) };
}

/// `Release` on an object rdmus.sys (or we) made.
///
/// # Safety
/// `object` is a live COM object and the caller gives up one reference. IRQL ≤ DISPATCH_LEVEL.
pub unsafe fn release(object: PUNKNOWN) {
    // SAFETY: the caller's reference, given up once.
    unsafe { com_object::release::<IUnknown>(object) };
}
