//! `IMiniportDMus::Init` (PASSIVE_LEVEL, once): the card into UART mode from the adapter's
//! resources, the service group, the port's reference, and the interrupt when the list
//! has one (connected only once the card is in UART mode: mpu401's rule).

use core::ptr::NonNull;

use dmus_sys::dmus_com::IPortDMus;
use dmus_sys::imports::PcNewServiceGroup;
use dmus_sys::kernel::{
    NT_SUCCESS, NTSTATUS, STATUS_DEVICE_CONFIGURATION_ERROR, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
};
use dmus_sys::portcls::{PRESOURCELIST, PSERVICEGROUP};
use mpu401::InitBudget;

use super::object::{Miniport, Setup};
use crate::mpu401::hardware::{CardIo, StallDelay, init_status};
use crate::resources::AdapterResources;

/// `Init`.
///
/// # Safety
/// `list` and `port` are null or PortCls' live objects; `service_group_out` is null or
/// writable. PASSIVE_LEVEL.
pub(super) unsafe fn init(
    miniport: &Miniport,
    list: PRESOURCELIST,
    port: *mut IPortDMus,
    service_group_out: *mut PSERVICEGROUP,
) -> NTSTATUS {
    if service_group_out.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: a writable out-pointer; cleared so a failure hands out nothing. Any IRQL (memory
    // only).
    unsafe { service_group_out.write(core::ptr::null_mut()) };
    let Some(port) = NonNull::new(port) else {
        return STATUS_INVALID_PARAMETER;
    };
    if list.is_null() {
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    }
    if miniport.setup().is_some() {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    // SAFETY: PortCls' live resource list. PASSIVE_LEVEL.
    let resources = unsafe { AdapterResources::read(list) };
    let Some(range) = resources.port else {
        return STATUS_DEVICE_CONFIGURATION_ERROR;
    };
    let mut io = match CardIo::for_range(&range) {
        Ok(io) => io,
        Err(status) => return status,
    };
    if let Err(error) = mpu401::initialize(&mut io, &mut StallDelay, &InitBudget::DEFAULT) {
        crate::trace::trace(dmus_sys::imports::DPFLTR_ERROR_LEVEL, "MPU-401 init failed");
        return init_status(error);
    }
    let mut service_group: PSERVICEGROUP = core::ptr::null_mut();
    // SAFETY: writes one referenced service group on success. PASSIVE_LEVEL.
    let status = unsafe { PcNewServiceGroup(&raw mut service_group, core::ptr::null_mut()) };
    let Some(group) = NonNull::new(service_group).filter(|_| NT_SUCCESS(status)) else {
        return if NT_SUCCESS(status) {
            STATUS_INSUFFICIENT_RESOURCES
        } else {
            status
        };
    };
    // SAFETY: AddRef on the live port PortCls passed; our reference is released in
    // teardown. IRQL ≤ DISPATCH_LEVEL.
    unsafe { crate::com::add_ref(port.as_ptr()) };
    // SAFETY: Init runs first and once, before anything reads `setup`. PASSIVE_LEVEL.
    unsafe {
        *miniport.setup.get() = Some(Setup {
            io,
            port,
            service_group: group,
            polled: resources.interrupt.is_none(),
        });
    }
    // SAFETY: the live port; a plain read of its vtable pointer. Any IRQL.
    let port_vtable = unsafe { crate::com::vtable(port.as_ptr()) };
    // SAFETY: the live port; registering our live group early so interrupts can notify it.
    // PASSIVE_LEVEL.
    unsafe { (port_vtable.RegisterServiceGroup)(port.as_ptr(), group.as_ptr()) };
    if resources.interrupt.is_some() {
        // SAFETY: PortCls' resource list; PASSIVE_LEVEL.
        let connected = unsafe { super::interrupt::connect(miniport, list) };
        if let Err(status) = connected {
            miniport.teardown();
            return status;
        }
    }
    // SAFETY: AddRef on our live group for the reference handed out through the
    // out-pointer (the port's). IRQL ≤ DISPATCH_LEVEL.
    unsafe { crate::com::add_ref(group.as_ptr()) };
    // SAFETY: writable out-pointer (checked above). Any IRQL (memory only).
    unsafe { service_group_out.write(group.as_ptr()) };
    STATUS_SUCCESS
}
