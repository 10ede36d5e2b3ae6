//! `IPort` and `IPortDMus` (derives `IPort`): the port PortCls binds a miniport to.

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

/// `IPort`: a port's base interface.
pub trait PortImpl: Class {
    /// `Init` (PASSIVE_LEVEL, once): binds the miniport.
    ///
    /// # Safety
    /// `device` and `irp` are null or the adapter's; `miniport`, `adapter` and `resources`
    /// are null or live objects.
    unsafe fn init(
        this: &ComObject<Self>,
        device: PDEVICE_OBJECT,
        irp: PIRP,
        miniport: PUNKNOWN,
        adapter: PUNKNOWN,
        resources: PRESOURCELIST,
    ) -> NTSTATUS;

    /// `GetDeviceProperty` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `buffer` is null or writable for `length` bytes; `result` null or writable.
    unsafe fn get_device_property(
        this: &ComObject<Self>,
        property: DEVICE_REGISTRY_PROPERTY,
        length: u32,
        buffer: PVOID,
        result: *mut u32,
    ) -> NTSTATUS;

    /// `NewRegistryKey` (PASSIVE_LEVEL).
    ///
    /// # Safety
    /// `key` and `disposition` null or writable; `outer` null or live; `attributes` null or
    /// readable.
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

thunk!(unsafe init: PortImpl::init(IPort, device: PDEVICE_OBJECT, irp: PIRP, miniport: PUNKNOWN, adapter: PUNKNOWN, resources: PRESOURCELIST) -> NTSTATUS);
thunk!(unsafe get_device_property: PortImpl::get_device_property(IPort, property: DEVICE_REGISTRY_PROPERTY, length: u32, buffer: PVOID, result: *mut u32) -> NTSTATUS);
thunk!(unsafe new_registry_key: PortImpl::new_registry_key(IPort, key: *mut PREGISTRYKEY, outer: PUNKNOWN, key_type: u32, access: ACCESS_MASK, attributes: POBJECT_ATTRIBUTES, options: u32, disposition: *mut u32) -> NTSTATUS);

impl Vtable<IPort> {
    /// `IPort`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: PortImpl, const N: usize>() -> IPortVtbl {
        IPortVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            Init: init::<C, N>,
            GetDeviceProperty: get_device_property::<C, N>,
            NewRegistryKey: new_registry_key::<C, N>,
        }
    }
}

/// `IPortDMus`: the DirectMusic port.
pub trait PortDMusImpl: PortImpl {
    /// `Notify` (any IRQL ≤ DISPATCH_LEVEL): asks `group` for service.
    ///
    /// # Safety
    /// `group` is null or a live service group.
    unsafe fn notify(this: &ComObject<Self>, group: PSERVICEGROUP);

    /// `RegisterServiceGroup` (PASSIVE_LEVEL): the port's sink joins `group`.
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
