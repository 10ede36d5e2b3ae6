//! `IMasterClock`: the port's master clock.

use dmus_sys::com::IUnknown;
use dmus_sys::dmus_com::{IMasterClock, IMasterClockVtbl};
use dmus_sys::dmusic::REFERENCE_TIME;
use dmus_sys::kernel::NTSTATUS;

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IMasterClock`.
pub trait MasterClockImpl: Class {
    /// `GetTime` (any IRQL ≤ DISPATCH_LEVEL): 100 ns units.
    ///
    /// # Safety
    /// `time` is null or writable.
    unsafe fn get_time(this: &ComObject<Self>, time: *mut REFERENCE_TIME) -> NTSTATUS;
}

thunk!(unsafe get_time: MasterClockImpl::get_time(IMasterClock, time: *mut REFERENCE_TIME) -> NTSTATUS);

impl Vtable<IMasterClock> {
    /// `IMasterClock`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: MasterClockImpl, const N: usize>() -> IMasterClockVtbl {
        IMasterClockVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            GetTime: get_time::<C, N>,
        }
    }
}
