//! The card's interrupt: connected through PortCls' `IInterruptSync` with the ISR as its
//! first routine, after the card is in UART mode.

use core::ptr::NonNull;
use core::sync::atomic::Ordering;

use dmus_sys::imports::PcNewInterruptSync;
use dmus_sys::kernel::{
    NT_SUCCESS, NTSTATUS, PVOID, STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::portcls::{IInterruptSync, InterruptSyncModeNormal, PINTERRUPTSYNC, PRESOURCELIST};
use mpu401::ControlPort;

use super::object::{ISR_MAX_READS, Miniport};

/// Creates, hooks and connects the interrupt. PASSIVE_LEVEL.
///
/// # Safety
/// `list` is PortCls' live resource list; `miniport` has its setup and outlives the
/// connection (its teardown disconnects first).
pub(super) unsafe fn connect(miniport: &Miniport, list: PRESOURCELIST) -> Result<(), NTSTATUS> {
    let mut sync: PINTERRUPTSYNC = core::ptr::null_mut();
    // SAFETY: writes one referenced object on success; the first interrupt
    // resource; PASSIVE_LEVEL.
    let status = unsafe {
        PcNewInterruptSync(
            &raw mut sync,
            core::ptr::null_mut(),
            list,
            0,
            InterruptSyncModeNormal,
        )
    };
    let Some(sync) = NonNull::new(sync).filter(|_| NT_SUCCESS(status)) else {
        return Err(if NT_SUCCESS(status) {
            STATUS_INSUFFICIENT_RESOURCES
        } else {
            status
        });
    };
    // Owned from here: teardown disconnects and releases it.
    miniport.sync.store(sync.as_ptr(), Ordering::Release);
    // SAFETY: the live interrupt object we own. Any IRQL (reads the vtable pointer).
    let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
    let context = core::ptr::from_ref(miniport).cast_mut().cast();
    // SAFETY: `isr` has PINTERRUPTSYNCROUTINE's signature; the miniport outlives
    // the connection (teardown disconnects first). First in line. PASSIVE_LEVEL.
    let status = unsafe { (vtable.RegisterServiceRoutine)(sync.as_ptr(), Some(isr), context, 1) };
    if !NT_SUCCESS(status) {
        return Err(status);
    }
    // SAFETY: the registered object; PASSIVE_LEVEL.
    let status = unsafe { (vtable.Connect)(sync.as_ptr()) };
    if NT_SUCCESS(status) {
        Ok(())
    } else {
        Err(status)
    }
}

/// The card's interrupt (DIRQL, interrupt lock held): drains the input into
/// the ring, one timestamp per byte, and asks the port for service. Bounded
/// by [`ISR_MAX_READS`].
unsafe extern "system" fn isr(_sync: *mut IInterruptSync, context: PVOID) -> NTSTATUS {
    // SAFETY: the context is the miniport, alive while the interrupt is connected. Any IRQL (memory
    // only).
    let miniport = unsafe { &*context.cast::<Miniport>() };
    let Some(setup) = miniport.setup() else {
        return STATUS_UNSUCCESSFUL;
    };
    let mut io = setup.io;
    if !io.read_status().input_available() {
        // Not our interrupt (shared line): let the next routine look.
        return STATUS_UNSUCCESSFUL;
    }
    // SAFETY: the ISR holds the interrupt lock. Any IRQL (memory only).
    let ring = unsafe { miniport.input() };
    let _report = mpu401::drain_input(&mut io, ring, ISR_MAX_READS, crate::mpu401::qpc_100ns);
    // SAFETY: the live port and group from Init; Notify may be called from an
    // ISR (it queues the service group's DPC). Any IRQL (reads the vtable pointer).
    let vtable = unsafe { crate::com::vtable(setup.port.as_ptr()) };
    // SAFETY: as above. DIRQL, in the ISR: Notify only queues the service group's DPC.
    unsafe { (vtable.Notify)(setup.port.as_ptr(), setup.service_group.as_ptr()) };
    STATUS_SUCCESS
}
