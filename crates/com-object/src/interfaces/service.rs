//! `IServiceSink` and `IServiceGroup` (derives `IServiceSink`).

use dmus_sys::com::IUnknown;
use dmus_sys::kernel::NTSTATUS;
use dmus_sys::portcls::{
    IServiceGroup, IServiceGroupVtbl, IServiceSink, IServiceSinkVtbl, PSERVICESINK,
};

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IServiceSink`: something a service group calls back.
pub trait ServiceSinkImpl: Class {
    /// `RequestService` (DISPATCH_LEVEL).
    fn request_service(this: &ComObject<Self>);
}

thunk!(safe request_service: ServiceSinkImpl::request_service(IServiceSink));

impl Vtable<IServiceSink> {
    /// `IServiceSink`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: ServiceSinkImpl, const N: usize>() -> IServiceSinkVtbl {
        IServiceSinkVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            RequestService: request_service::<C, N>,
        }
    }
}

/// `IServiceGroup`: fans a service request out to its members.
pub trait ServiceGroupImpl: ServiceSinkImpl {
    /// `AddMember` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `sink` is null or a live `IServiceSink`.
    unsafe fn add_member(this: &ComObject<Self>, sink: PSERVICESINK) -> NTSTATUS;

    /// `RemoveMember` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `sink` is null or a live `IServiceSink`.
    unsafe fn remove_member(this: &ComObject<Self>, sink: PSERVICESINK);

    /// `SupportDelayedService`.
    fn support_delayed_service(this: &ComObject<Self>);

    /// `RequestDelayedService`: 100 ns units, negative relative (as `KeSetTimer`).
    fn request_delayed_service(this: &ComObject<Self>, delay: u64);

    /// `CancelDelayedService`.
    fn cancel_delayed_service(this: &ComObject<Self>);
}

thunk!(unsafe add_member: ServiceGroupImpl::add_member(IServiceGroup, sink: PSERVICESINK) -> NTSTATUS);
thunk!(unsafe remove_member: ServiceGroupImpl::remove_member(IServiceGroup, sink: PSERVICESINK));
thunk!(safe support_delayed_service: ServiceGroupImpl::support_delayed_service(IServiceGroup));
thunk!(safe request_delayed_service: ServiceGroupImpl::request_delayed_service(IServiceGroup, delay: u64));
thunk!(safe cancel_delayed_service: ServiceGroupImpl::cancel_delayed_service(IServiceGroup));

impl Vtable<IServiceGroup> {
    /// `IServiceGroup`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: ServiceGroupImpl, const N: usize>() -> IServiceGroupVtbl {
        IServiceGroupVtbl {
            base: Vtable::<IServiceSink>::new::<C, N>(),
            AddMember: add_member::<C, N>,
            RemoveMember: remove_member::<C, N>,
            SupportDelayedService: support_delayed_service::<C, N>,
            RequestDelayedService: request_delayed_service::<C, N>,
            CancelDelayedService: cancel_delayed_service::<C, N>,
        }
    }
}
