//! The `DMus` port: `PcNewPort(CLSID_PortDMus)` and its `IPortDMus` object.
//!
//! `IPort::Init` binds the miniport: it takes the miniport's `IMiniportDMus`, makes the port's
//! allocator, master clock and service sink, calls `IMiniportDMus::Init` (`PASSIVE_LEVEL`),
//! joins the service group the miniport returns, and reads the filter descriptor
//! (`GetDescription`). The port's last `Release` gives back everything it holds.

use alloc::format;

use com_object::{ComObject, PortDMusImpl, PortImpl};
use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::{CLSID_PortDMus, IID_IMiniportDMus, IMiniportDMusVtbl, IPortDMus};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    ACCESS_MASK, DEVICE_REGISTRY_PROPERTY, NT_SUCCESS, NTSTATUS, PASSIVE_LEVEL, PDEVICE_OBJECT,
    PIRP, POBJECT_ATTRIBUTES, PVOID, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER,
    STATUS_NOT_SUPPORTED, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::portcls::{
    IMiniportVtbl, PCFILTER_DESCRIPTOR, PPORT, PREGISTRYKEY, PRESOURCELIST, PSERVICEGROUP,
};

use super::allocator::{new_allocator, new_clock};
use super::objects::{add_ref_foreign, query_foreign, release_foreign, vtable_of};
use super::service::{add_member_to, new_port_sink, remove_member_from, request_service};
use super::state::PortRecord;
use crate::current::with_state;
use crate::dispatch::call_driver;
use crate::finding::Finding;
use crate::sim_object::{Registered, SimObject, address_of, new_object};

const KIND: &str = "IPortDMus";

/// A `DMus` port: what it holds lives in the machine's table, keyed by its address.
struct Port;

com_object::class!(Port, Registered<Port>: IPortDMus);

/// Makes a `DMus` port (one reference, the caller's).
#[must_use]
pub fn new_port() -> usize {
    let object = new_object::<_, IPortDMus>(Port).as_ptr() as usize;
    with_state(KIND, |m| {
        m.portcls.ports.insert(object, PortRecord::default());
    });
    object
}

/// Gives back everything a port record holds (the port's own references), outside any borrow.
fn release_holdings(record: &PortRecord) {
    for &group in &record.service_groups {
        if record.sink != 0 {
            // SAFETY: the port holds a reference on the group and on its sink.
            unsafe { remove_member_from(group as PSERVICEGROUP, record.sink as *mut _) };
        }
        // SAFETY: the port's reference on the group.
        unsafe { release_foreign(group as PUNKNOWN) };
    }
    for object in [record.miniport, record.allocator, record.clock, record.sink] {
        if object != 0 {
            // SAFETY: the port holds exactly one reference on each.
            unsafe { release_foreign(object as PUNKNOWN) };
        }
    }
}

impl SimObject for Port {
    const KIND: &'static str = KIND;
    const QUERY_INTERFACE: &'static str = "IPortDMus::QueryInterface";

    fn destroyed(object: usize) {
        let record = with_state("IPortDMus::Release", |m| m.portcls.ports.remove(&object));
        if let Some(record) = record {
            release_holdings(&record);
        }
    }
}

impl PortImpl for Port {
    #[allow(
        clippy::too_many_lines,
        reason = "Init is one sequence of steps, each undone on failure"
    )]
    unsafe fn init(
        this: &ComObject<Self>,
        device: PDEVICE_OBJECT,
        irp: PIRP,
        unknown_miniport: PUNKNOWN,
        unknown_adapter: PUNKNOWN,
        resources: PRESOURCELIST,
    ) -> NTSTATUS {
        const CALL: &str = "IPortDMus::Init";
        // PortCls' own work (the miniport's Init it calls runs as the driver's again).
        let _kernel = crate::current::KernelCode::enter();
        let port = address_of(this);
        let _ = irp;
        let checked = with_state(CALL, |m| {
            m.check_call(CALL, PASSIVE_LEVEL, true);
            if unknown_miniport.is_null() || device.is_null() {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "UnknownMiniport/DeviceObject",
                });
                return Err(STATUS_INVALID_PARAMETER);
            }
            match m.portcls.ports.get(&port) {
                None => {
                    m.record(Finding::UninitializedObject {
                        call: CALL,
                        kind: KIND,
                        object: port,
                    });
                    Err(STATUS_INVALID_PARAMETER)
                }
                Some(record) if record.miniport != 0 => {
                    m.report_port_contract(format!("{CALL}: port {port:#x} initialised twice"));
                    Err(STATUS_UNSUCCESSFUL)
                }
                Some(_) => Ok(()),
            }
        });
        if let Err(status) = checked {
            return status;
        }
        // SAFETY: a live miniport IUnknown (caller's contract). PASSIVE_LEVEL.
        let miniport = match unsafe { query_foreign(unknown_miniport, &IID_IMiniportDMus) } {
            Ok(miniport) => miniport as usize,
            Err(status) => return status,
        };
        let allocator = new_allocator(with_state(CALL, |m| m.portcls.pool_size));
        let clock = new_clock();
        let sink = new_port_sink(port);
        let mut record = PortRecord {
            device: device as usize,
            miniport,
            allocator,
            clock,
            sink,
            ..PortRecord::default()
        };
        with_state(CALL, |m| {
            if let Some(r) = m.portcls.ports.get_mut(&port) {
                *r = record.clone();
            }
        });
        // SAFETY: the miniport is live (we hold a reference); its vtable is IMiniportDMus's.
        let vtable = unsafe { vtable_of::<IMiniportDMusVtbl>(miniport as *mut core::ffi::c_void) };
        let mut group: PSERVICEGROUP = core::ptr::null_mut();
        // SAFETY: IMiniportDMus::Init at PASSIVE_LEVEL with the adapter's objects, this port as
        // its IPortDMus, and a writable out pointer for the service group.
        let status = call_driver(vtable.Init as usize, PASSIVE_LEVEL, || unsafe {
            (vtable.Init)(
                miniport as *mut _,
                unknown_adapter,
                resources,
                this.as_interface::<IPortDMus>().as_ptr(),
                &raw mut group,
            )
        });
        // Init may have called RegisterServiceGroup: take the record as it is now.
        record = with_state(CALL, |m| m.portcls.ports.get(&port).cloned()).unwrap_or(record);
        if !NT_SUCCESS(status) {
            undo(port, &record, group);
            return status;
        }
        if !group.is_null() {
            // SAFETY: Init handed us a reference on a live group; our sink is live.
            let joined = unsafe { add_member_to(group, sink as *mut _) };
            let _ = joined; // A group that already has the sink (RegisterServiceGroup) refuses it.
            record.service_groups.push(group as usize);
        }
        let mut descriptor: *mut PCFILTER_DESCRIPTOR = core::ptr::null_mut();
        // SAFETY: IMiniport's vtable is the start of IMiniportDMus's; a writable out pointer.
        let described = call_driver(
            vtable.base.GetDescription as usize,
            PASSIVE_LEVEL,
            || unsafe { (vtable.base.GetDescription)(miniport as *mut _, &raw mut descriptor) },
        );
        if !NT_SUCCESS(described) || descriptor.is_null() {
            if NT_SUCCESS(described) {
                with_state(CALL, |m| {
                    m.report_port_contract(format!(
                    "IMiniport::GetDescription succeeded without a descriptor (miniport {miniport:#x})"
                ));
                });
            }
            undo(port, &record, core::ptr::null_mut());
            return if NT_SUCCESS(described) {
                STATUS_UNSUCCESSFUL
            } else {
                described
            };
        }
        record.descriptor = descriptor as usize;
        record.initialised = true;
        with_state(CALL, |m| {
            if let Some(r) = m.portcls.ports.get_mut(&port) {
                *r = record;
            }
        });
        STATUS_SUCCESS
    }

    unsafe fn get_device_property(
        _this: &ComObject<Self>,
        property: DEVICE_REGISTRY_PROPERTY,
        length: u32,
        buffer: PVOID,
        result: *mut u32,
    ) -> NTSTATUS {
        const CALL: &str = "IPortDMus::GetDeviceProperty";
        // The simulated machine has no PnP registry: every property is absent.
        with_state(CALL, |m| m.check_call(CALL, PASSIVE_LEVEL, true));
        let _ = (property, length, buffer);
        if !result.is_null() {
            // SAFETY: non-null and writable (caller's contract).
            unsafe { result.write(0) };
        }
        STATUS_INVALID_DEVICE_REQUEST
    }

    unsafe fn new_registry_key(
        _this: &ComObject<Self>,
        out: *mut PREGISTRYKEY,
        outer: PUNKNOWN,
        key_type: u32,
        access: ACCESS_MASK,
        attributes: POBJECT_ATTRIBUTES,
        options: u32,
        disposition: *mut u32,
    ) -> NTSTATUS {
        const CALL: &str = "IPortDMus::NewRegistryKey";
        // The simulated machine has no registry; a driver must cope with the key being absent.
        with_state(CALL, |m| m.check_call(CALL, PASSIVE_LEVEL, true));
        let _ = (outer, key_type, access, attributes, options, disposition);
        if !out.is_null() {
            // SAFETY: non-null and writable (caller's contract).
            unsafe { out.write(core::ptr::null_mut()) };
        }
        STATUS_NOT_SUPPORTED
    }
}

/// Undoes a failed `Init`: releases what it took and leaves the port uninitialised.
fn undo(port: usize, record: &PortRecord, extra_group: PSERVICEGROUP) {
    with_state("IPortDMus::Init", |m| {
        if let Some(r) = m.portcls.ports.get_mut(&port) {
            *r = PortRecord::default();
        }
    });
    release_holdings(record);
    if !extra_group.is_null() {
        // SAFETY: a failed Init may still have written a referenced group; give it back.
        unsafe { release_foreign(extra_group.cast()) };
    }
}

impl PortDMusImpl for Port {
    unsafe fn notify(this: &ComObject<Self>, group: PSERVICEGROUP) {
        const CALL: &str = "IPortDMus::Notify";
        let known = with_state(CALL, |m| {
            if group.is_null() {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "ServiceGroup",
                });
                return false;
            }
            m.portcls.ports.contains_key(&address_of(this))
        });
        if known {
            // SAFETY: the miniport passes a live group (it holds a reference); any IRQL.
            unsafe { request_service(group) };
        }
    }

    unsafe fn register_service_group(this: &ComObject<Self>, group: PSERVICEGROUP) {
        const CALL: &str = "IPortDMus::RegisterServiceGroup";
        let port = address_of(this);
        let sink = with_state(CALL, |m| {
            m.check_call(CALL, PASSIVE_LEVEL, true);
            if group.is_null() {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "ServiceGroup",
                });
                return None;
            }
            let record = m.portcls.ports.get_mut(&port)?;
            record.service_groups.push(group as usize);
            Some(record.sink)
        });
        let Some(sink) = sink else {
            return;
        };
        // SAFETY: a live group from the miniport; the port keeps this reference.
        unsafe { add_ref_foreign(group.cast()) };
        if sink != 0 {
            // SAFETY: both live; PASSIVE_LEVEL.
            unsafe { add_member_to(group, sink as *mut _) };
        }
    }
}

/// `PcNewPort`: a new port of class `ClassId` (only `CLSID_PortDMus` is modelled), one
/// reference (the caller's). `PASSIVE_LEVEL`.
///
/// # Safety
/// `OutPort` is NULL (a finding) or writable; `ClassId` NULL (a finding) or readable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewPort(OutPort: *mut PPORT, ClassId: *const GUID) -> NTSTATUS {
    const CALL: &str = "PcNewPort";
    let checked = with_state(CALL, |m| {
        m.check_call(CALL, PASSIVE_LEVEL, true);
        if OutPort.is_null() || ClassId.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "OutPort/ClassId",
            });
            return Err(STATUS_INVALID_PARAMETER);
        }
        if m.pool.inject_failure() {
            return Err(dmus_sys::kernel::STATUS_INSUFFICIENT_RESOURCES);
        }
        Ok(())
    });
    if let Err(status) = checked {
        return status;
    }
    // SAFETY: non-null and readable (checked; caller's contract).
    let class = unsafe { ClassId.read_unaligned() };
    if class != CLSID_PortDMus {
        // SAFETY: non-null and writable.
        unsafe { OutPort.write(core::ptr::null_mut()) };
        return STATUS_NOT_SUPPORTED;
    }
    let port = new_port();
    // SAFETY: non-null and writable (checked; caller's contract).
    unsafe { OutPort.write(port as PPORT) };
    STATUS_SUCCESS
}

/// What `PortCls` does to a subdevice's port when the device stops or is removed (its
/// `ISubdevice::ReleaseChildren`): the port lets go of its miniport and the service groups it
/// holds, breaking the cycle a miniport that keeps its `IPortDMus` forms with it. The port
/// itself lives on until its last reference goes, uninitialised.
pub fn release_children(port: usize) {
    let children = with_state("ReleaseChildren", |m| {
        let record = m.portcls.ports.get_mut(&port)?;
        record.initialised = false;
        record.descriptor = 0;
        Some((
            core::mem::take(&mut record.miniport),
            core::mem::take(&mut record.service_groups),
            record.sink,
        ))
    });
    let Some((miniport, groups, sink)) = children else {
        return;
    };
    for group in groups {
        if sink != 0 {
            // SAFETY: the port holds a reference on the group and on its own sink.
            unsafe { remove_member_from(group as PSERVICEGROUP, sink as *mut _) };
        }
        // SAFETY: the port's reference on the group.
        unsafe { release_foreign(group as PUNKNOWN) };
    }
    if miniport != 0 {
        // SAFETY: the port's reference on its miniport.
        unsafe { release_foreign(miniport as PUNKNOWN) };
    }
}

/// The filter descriptor and miniport of an initialised port.
#[must_use]
pub fn port_binding(port: usize) -> Option<(usize, usize)> {
    with_state("port", |m| {
        let record = m.portcls.ports.get(&port)?;
        record
            .initialised
            .then_some((record.miniport, record.descriptor))
    })
}

/// `IMiniport`'s vtable of a miniport the port holds.
///
/// # Safety
/// `miniport` is a live `IMiniportDMus` the port holds a reference on.
#[must_use]
pub unsafe fn miniport_vtable<'a>(miniport: usize) -> &'a IMiniportDMusVtbl {
    // SAFETY: the caller's contract.
    unsafe { vtable_of::<IMiniportDMusVtbl>(miniport as *mut core::ffi::c_void) }
}

/// `IMiniport`'s part of the vtable.
///
/// # Safety
/// As [`miniport_vtable`].
#[must_use]
pub unsafe fn miniport_base_vtable<'a>(miniport: usize) -> &'a IMiniportVtbl {
    // SAFETY: the caller's contract; IMiniportDMus's vtable starts with IMiniport's.
    unsafe { &miniport_vtable(miniport).base }
}
