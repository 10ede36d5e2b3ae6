//! `IPort` and `IPortDMus` (derives `IPort`): the port driver's side (the simulation's).

use dmus_sys::com::{IUnknown, PUNKNOWN};
use dmus_sys::dmus_com::{IPortDMus, IPortDMusVtbl};
use dmus_sys::kernel::{
    ACCESS_MASK, DEVICE_REGISTRY_PROPERTY, NTSTATUS, PDEVICE_OBJECT, PIRP, POBJECT_ATTRIBUTES,
    PVOID,
};
use dmus_sys::portcls::{IPort, IPortVtbl, PREGISTRYKEY, PRESOURCELIST, PSERVICEGROUP};

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IPort`.
pub trait PortImpl: Class {
    /// `Init` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// Every pointer is null or live (`device` a device object, `irp` its start IRP,
    /// `miniport`/`adapter` COM objects, `list` a resource list).
    unsafe fn init(
        this: &ComObject<Self>,
        device: PDEVICE_OBJECT,
        irp: PIRP,
        miniport: PUNKNOWN,
        adapter: PUNKNOWN,
        list: PRESOURCELIST,
    ) -> NTSTATUS;

    /// `GetDeviceProperty` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `buffer` is null or writable for `length` bytes; `result_length` null or writable.
    unsafe fn get_device_property(
        this: &ComObject<Self>,
        property: DEVICE_REGISTRY_PROPERTY,
        length: u32,
        buffer: PVOID,
        result_length: *mut u32,
    ) -> NTSTATUS;

    /// `NewRegistryKey` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `key` and `disposition` are null or writable; `outer` null or live; `attributes`
    /// null or readable.
    #[allow(
        clippy::too_many_arguments,
        reason = "IPort::NewRegistryKey's signature"
    )]
    unsafe fn new_registry_key(
        this: &ComObject<Self>,
        key: *mut PREGISTRYKEY,
        outer: PUNKNOWN,
        key_type: u32,
        access: ACCESS_MASK,
        attributes: POBJECT_ATTRIBUTES,
        options: u32,
        disposition: *mut u32,
    ) -> NTSTATUS;
}

thunk!(unsafe port_init: PortImpl::init(IPort, device: PDEVICE_OBJECT, irp: PIRP, miniport: PUNKNOWN, adapter: PUNKNOWN, list: PRESOURCELIST) -> NTSTATUS);
thunk!(unsafe get_device_property: PortImpl::get_device_property(IPort, property: DEVICE_REGISTRY_PROPERTY, length: u32, buffer: PVOID, result_length: *mut u32) -> NTSTATUS);
thunk!(unsafe new_registry_key: PortImpl::new_registry_key(IPort, key: *mut PREGISTRYKEY, outer: PUNKNOWN, key_type: u32, access: ACCESS_MASK, attributes: POBJECT_ATTRIBUTES, options: u32, disposition: *mut u32) -> NTSTATUS);

impl Vtable<IPort> {
    /// `IPort`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: PortImpl, const N: usize>() -> IPortVtbl {
        IPortVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            Init: port_init::<C, N>,
            GetDeviceProperty: get_device_property::<C, N>,
            NewRegistryKey: new_registry_key::<C, N>,
        }
    }
}

/// `IPortDMus`: the DMus port.
pub trait PortDMusImpl: PortImpl {
    /// `Notify` (any IRQL up to DIRQL: it queues the group's service).
    ///
    /// # Safety
    /// `group` is null or a live service group.
    unsafe fn notify(this: &ComObject<Self>, group: PSERVICEGROUP);

    /// `RegisterServiceGroup` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `group` is null or a live service group.
    unsafe fn register_service_group(this: &ComObject<Self>, group: PSERVICEGROUP);
}

thunk!(unsafe notify: PortDMusImpl::notify(IPortDMus, group: PSERVICEGROUP));
thunk!(unsafe register_service_group: PortDMusImpl::register_service_group(IPortDMus, group: PSERVICEGROUP));

impl Vtable<IPortDMus> {
    /// `IPortDMus`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: PortDMusImpl, const N: usize>() -> IPortDMusVtbl {
        IPortDMusVtbl {
            base: Vtable::<IPort>::new::<C, N>(),
            Notify: notify::<C, N>,
            RegisterServiceGroup: register_service_group::<C, N>,
        }
    }
}
