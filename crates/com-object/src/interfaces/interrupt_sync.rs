//! `IInterruptSync`: PortCls' interrupt object (`PcNewInterruptSync`).

use dmus_sys::com::IUnknown;
use dmus_sys::kernel::{BOOLEAN, NTSTATUS, PKINTERRUPT, PVOID};
use dmus_sys::portcls::{IInterruptSync, IInterruptSyncVtbl, PINTERRUPTSYNCROUTINE};

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IInterruptSync`.
pub trait InterruptSyncImpl: Class {
    /// `CallSynchronizedRoutine` (≤ DISPATCH_LEVEL): runs `routine` at the interrupt's DIRQL.
    fn call_synchronized_routine(
        this: &ComObject<Self>,
        routine: PINTERRUPTSYNCROUTINE,
        context: PVOID,
    ) -> NTSTATUS;

    /// `GetKInterrupt`: the kernel interrupt object while connected, else null.
    fn get_kinterrupt(this: &ComObject<Self>) -> PKINTERRUPT;

    /// `Connect` (PASSIVE_LEVEL).
    fn connect(this: &ComObject<Self>) -> NTSTATUS;

    /// `Disconnect` (PASSIVE_LEVEL).
    fn disconnect(this: &ComObject<Self>);

    /// `RegisterServiceRoutine` (PASSIVE_LEVEL): adds `routine` first or last.
    fn register_service_routine(
        this: &ComObject<Self>,
        routine: PINTERRUPTSYNCROUTINE,
        context: PVOID,
        first: BOOLEAN,
    ) -> NTSTATUS;
}

thunk!(safe call_synchronized_routine: InterruptSyncImpl::call_synchronized_routine(IInterruptSync, routine: PINTERRUPTSYNCROUTINE, context: PVOID) -> NTSTATUS);
thunk!(safe get_kinterrupt: InterruptSyncImpl::get_kinterrupt(IInterruptSync) -> PKINTERRUPT);
thunk!(safe connect: InterruptSyncImpl::connect(IInterruptSync) -> NTSTATUS);
thunk!(safe disconnect: InterruptSyncImpl::disconnect(IInterruptSync));
thunk!(safe register_service_routine: InterruptSyncImpl::register_service_routine(IInterruptSync, routine: PINTERRUPTSYNCROUTINE, context: PVOID, first: BOOLEAN) -> NTSTATUS);

impl Vtable<IInterruptSync> {
    /// `IInterruptSync`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: InterruptSyncImpl, const N: usize>() -> IInterruptSyncVtbl {
        IInterruptSyncVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            CallSynchronizedRoutine: call_synchronized_routine::<C, N>,
            GetKInterrupt: get_kinterrupt::<C, N>,
            Connect: connect::<C, N>,
            Disconnect: disconnect::<C, N>,
            RegisterServiceRoutine: register_service_routine::<C, N>,
        }
    }
}
