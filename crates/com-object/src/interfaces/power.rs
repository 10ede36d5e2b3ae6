//! `IPowerNotify`: a miniport's power-change callback.

use dmus_sys::com::IUnknown;
use dmus_sys::kernel::POWER_STATE;
use dmus_sys::portcls::{IPowerNotify, IPowerNotifyVtbl};

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IPowerNotify`.
pub trait PowerNotifyImpl: Class {
    /// `PowerChangeNotify` (PASSIVE_LEVEL).
    fn power_change_notify(this: &ComObject<Self>, state: POWER_STATE);
}

thunk!(safe power_change_notify: PowerNotifyImpl::power_change_notify(IPowerNotify, state: POWER_STATE));

impl Vtable<IPowerNotify> {
    /// `IPowerNotify`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: PowerNotifyImpl, const N: usize>() -> IPowerNotifyVtbl {
        IPowerNotifyVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            PowerChangeNotify: power_change_notify::<C, N>,
        }
    }
}
