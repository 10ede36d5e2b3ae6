//! The port's master clock (`IMasterClock`), held by reference.

use core::ptr::NonNull;

use dmus_sys::dmus_com::IMasterClock;
use dmus_sys::kernel::NT_SUCCESS;

/// One reference to the port's master clock; released on drop.
pub struct MasterClock {
    clock: NonNull<IMasterClock>,
}

// SAFETY: PortCls' master clock is a thread-safe COM object (GetTime is
// callable from any thread at IRQL ≤ DISPATCH_LEVEL); this handle only adds
// the reference it owns.
unsafe impl Send for MasterClock {}
// SAFETY: as above: shared use only calls GetTime.
unsafe impl Sync for MasterClock {}

impl MasterClock {
    /// Takes a new reference on `clock` (null gives `None`).
    ///
    /// # Safety
    /// `clock` is null or a live `IMasterClock`. IRQL ≤ DISPATCH_LEVEL.
    #[must_use]
    pub unsafe fn add_ref(clock: *mut IMasterClock) -> Option<Self> {
        let clock = NonNull::new(clock)?;
        // SAFETY: a live COM object (the caller's contract). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(clock.as_ptr()) };
        // SAFETY: AddRef on a live object; the new reference is this handle's. IRQL ≤
        // DISPATCH_LEVEL.
        unsafe { (vtable.base.AddRef)(clock.as_ptr().cast()) };
        Some(Self { clock })
    }

    /// The master time in 100 ns units (0 if the clock fails, which PortCls'
    /// clock never does). IRQL ≤ DISPATCH_LEVEL.
    #[must_use]
    pub fn now(&self) -> i64 {
        let mut time = 0i64;
        // SAFETY: this handle holds a reference, so the clock is live. Any IRQL (reads the vtable
        // pointer).
        let vtable = unsafe { crate::com::vtable(self.clock.as_ptr()) };
        // SAFETY: GetTime writes one REFERENCE_TIME to a valid pointer; callable
        // at IRQL ≤ DISPATCH_LEVEL.
        let status = unsafe { (vtable.GetTime)(self.clock.as_ptr(), &raw mut time) };
        if NT_SUCCESS(status) { time } else { 0 }
    }
}

impl Drop for MasterClock {
    fn drop(&mut self) {
        // SAFETY: the clock is live (we hold a reference). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(self.clock.as_ptr()) };
        // SAFETY: releases the one reference this handle owns, once, at IRQL ≤
        // DISPATCH_LEVEL.
        unsafe { (vtable.base.Release)(self.clock.as_ptr().cast()) };
    }
}
