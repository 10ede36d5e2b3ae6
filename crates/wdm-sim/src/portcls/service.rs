//! Service groups (`PcNewServiceGroup`, `IServiceGroup`) and the port's own service sink.
//!
//! `RequestService` on a group queues a DPC that calls `RequestService` on every member (the
//! group holds a reference on itself while the DPC is queued); delayed service fires the same
//! at a virtual time. The port's sink, a member of the miniport's group, calls
//! `IMiniportDMus::Service` when serviced: that is how `IPortDMus::Notify` reaches the miniport.

use alloc::boxed::Box;
use alloc::format;
use alloc::vec::Vec;

use com_object::{ComObject, ServiceGroupImpl, ServiceSinkImpl};
use dmus_sys::com::PUNKNOWN;
use dmus_sys::dmus_com::IMiniportDMusVtbl;
use dmus_sys::kernel::{
    DISPATCH_LEVEL, NTSTATUS, PASSIVE_LEVEL, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED,
    STATUS_SUCCESS,
};
use dmus_sys::portcls::{
    IServiceGroup, IServiceGroupVtbl, IServiceSink, IServiceSinkVtbl, PSERVICEGROUP, PSERVICESINK,
};

use super::objects::{add_ref_foreign, add_ref_object, release_foreign, vtable_of};
use super::state::ServiceGroupRecord;
use crate::current::with_state;
use crate::dispatch::call_driver;
use crate::finding::Finding;
use crate::sim_object::{Registered, SimObject, address_of, new_object};
use crate::state::HostLevel;

const GROUP: &str = "IServiceGroup";
const PORT_SINK: &str = "IServiceSink (port)";

/// A service group: its members live in the machine's table, keyed by its address.
struct Group;

com_object::class!(Group, Registered<Group>: IServiceGroup);

/// The port's service sink (the machine's table maps it to its port).
struct PortSink;

com_object::class!(PortSink, Registered<PortSink>: IServiceSink);

/// Makes a service group (one reference, the caller's).
#[must_use]
pub fn new_service_group() -> usize {
    let object = new_object::<_, IServiceGroup>(Group).as_ptr() as usize;
    with_state(GROUP, |m| {
        m.portcls
            .service_groups
            .insert(object, ServiceGroupRecord::default());
    });
    object
}

/// Makes the port's service sink for the port at `port` (one reference, the caller's).
#[must_use]
pub fn new_port_sink(port: usize) -> usize {
    let object = new_object::<_, IServiceSink>(PortSink).as_ptr() as usize;
    with_state(PORT_SINK, |m| m.portcls.port_sinks.insert(object, port));
    object
}

/// Asks `group` (ours or the driver's) for service: `IServiceSink::RequestService`.
///
/// # Safety
/// `group` is a live service group.
pub unsafe fn request_service(group: PSERVICEGROUP) {
    // SAFETY: the caller's contract; IServiceGroup starts with IServiceSink's vtable.
    let vtable = unsafe { vtable_of::<IServiceSinkVtbl>(group.cast()) };
    // SAFETY: RequestService may be called at any IRQL up to DIRQL.
    unsafe { (vtable.RequestService)(group.cast()) };
}

/// Adds `sink` to `group` (ours or the driver's).
///
/// # Safety
/// Both are live; `PASSIVE_LEVEL`.
pub unsafe fn add_member_to(group: PSERVICEGROUP, sink: PSERVICESINK) -> NTSTATUS {
    // SAFETY: the caller's contract.
    let vtable = unsafe { vtable_of::<IServiceGroupVtbl>(group.cast()) };
    // SAFETY: AddMember on a live group with a live sink.
    unsafe { (vtable.AddMember)(group, sink) }
}

/// Removes `sink` from `group` (ours or the driver's).
///
/// # Safety
/// Both are live; `PASSIVE_LEVEL`.
pub unsafe fn remove_member_from(group: PSERVICEGROUP, sink: PSERVICESINK) {
    // SAFETY: the caller's contract.
    let vtable = unsafe { vtable_of::<IServiceGroupVtbl>(group.cast()) };
    // SAFETY: RemoveMember on a live group.
    unsafe { (vtable.RemoveMember)(group, sink) };
}

/// Queues a DPC that services every member of our group `group` (holding a reference on it
/// until the DPC ran), at virtual time `at`, if `generation` (when given) still matches.
fn queue_service(group: usize, at: u64, generation: Option<u64>) {
    // PortCls' queued DPC: the host's memory, not the driver's.
    let _kernel = crate::current::KernelCode::enter();
    add_ref_object(group, "IServiceGroup (queued service)");
    let callback: crate::state::HostCallback = Box::new(move || {
        let members: Option<Vec<usize>> = with_state("IServiceGroup DPC", |m| {
            let record = m.portcls.service_groups.get(&group)?;
            if generation.is_some_and(|g| g != record.delayed_generation) {
                return None;
            }
            Some(record.members.clone())
        });
        for member in members.unwrap_or_default() {
            // SAFETY: the group holds a reference on each member until RemoveMember or its
            // destruction, and holds itself alive while this DPC is queued.
            unsafe { request_service(member as PSERVICEGROUP) };
        }
        // SAFETY: the reference taken when the DPC was queued.
        unsafe { release_foreign(group as PUNKNOWN) };
    });
    with_state("IServiceGroup", |m| {
        m.schedule_host(at, HostLevel::Dispatch, callback);
    });
    let irql = with_state("IServiceGroup", |m| m.irql());
    if irql < DISPATCH_LEVEL {
        crate::scheduler::service();
    }
}

impl SimObject for Group {
    const KIND: &'static str = GROUP;
    const QUERY_INTERFACE: &'static str = "IServiceGroup::QueryInterface";

    fn destroyed(object: usize) {
        let record = with_state("IServiceGroup::Release", |m| {
            m.portcls.service_groups.remove(&object)
        });
        for member in record.map(|r| r.members).unwrap_or_default() {
            // SAFETY: the group held one reference on each member.
            unsafe { release_foreign(member as PUNKNOWN) };
        }
    }
}

impl ServiceSinkImpl for Group {
    fn request_service(this: &ComObject<Self>) {
        let now = with_state("IServiceGroup::RequestService", |m| m.now());
        queue_service(address_of(this), now, None);
    }
}

impl ServiceGroupImpl for Group {
    unsafe fn add_member(this: &ComObject<Self>, sink: PSERVICESINK) -> NTSTATUS {
        const CALL: &str = "IServiceGroup::AddMember";
        let group = address_of(this);
        let ok = with_state(CALL, |m| {
            m.check_call(CALL, PASSIVE_LEVEL, true);
            if sink.is_null() {
                m.record(Finding::NullArgument {
                    call: CALL,
                    argument: "pServiceSink",
                });
                return false;
            }
            let Some(record) = m.portcls.service_groups.get_mut(&group) else {
                m.record(Finding::UninitializedObject {
                    call: CALL,
                    kind: GROUP,
                    object: group,
                });
                return false;
            };
            if record.members.contains(&(sink as usize)) {
                return false;
            }
            record.members.push(sink as usize);
            true
        });
        if !ok {
            return STATUS_INVALID_PARAMETER;
        }
        // SAFETY: a live sink (COM's contract); the group keeps this reference.
        unsafe { add_ref_foreign(sink.cast()) };
        STATUS_SUCCESS
    }

    unsafe fn remove_member(this: &ComObject<Self>, sink: PSERVICESINK) {
        const CALL: &str = "IServiceGroup::RemoveMember";
        let group = address_of(this);
        let removed = with_state(CALL, |m| {
            m.check_call(CALL, PASSIVE_LEVEL, true);
            let record = m.portcls.service_groups.get_mut(&group)?;
            let index = record.members.iter().position(|&s| s == sink as usize)?;
            Some(record.members.remove(index))
        });
        if let Some(member) = removed {
            // SAFETY: the reference AddMember took.
            unsafe { release_foreign(member as PUNKNOWN) };
        }
    }

    fn support_delayed_service(this: &ComObject<Self>) {
        with_state("IServiceGroup::SupportDelayedService", |m| {
            if let Some(record) = m.portcls.service_groups.get_mut(&address_of(this)) {
                record.delayed_supported = true;
            }
        });
    }

    fn request_delayed_service(this: &ComObject<Self>, delay: u64) {
        const CALL: &str = "IServiceGroup::RequestDelayedService";
        let group = address_of(this);
        let scheduled = with_state(CALL, |m| {
            let now = m.now();
            let record = m.portcls.service_groups.get_mut(&group)?;
            if !record.delayed_supported {
                m.report_port_contract(format!(
                    "{CALL} on service group {group:#x} without SupportDelayedService"
                ));
                return None;
            }
            record.delayed_generation += 1;
            // Like a kernel timer's due time: negative is relative, positive absolute.
            let signed = i64::from_ne_bytes(delay.to_ne_bytes());
            let at = if signed < 0 {
                now.saturating_add(signed.unsigned_abs())
            } else {
                signed.unsigned_abs().max(now)
            };
            Some((at, record.delayed_generation))
        });
        if let Some((at, generation)) = scheduled {
            queue_service(group, at, Some(generation));
        }
    }

    fn cancel_delayed_service(this: &ComObject<Self>) {
        with_state("IServiceGroup::CancelDelayedService", |m| {
            if let Some(record) = m.portcls.service_groups.get_mut(&address_of(this)) {
                record.delayed_generation += 1;
            }
        });
    }
}

impl SimObject for PortSink {
    const KIND: &'static str = PORT_SINK;
    const QUERY_INTERFACE: &'static str = "IServiceSink::QueryInterface";

    fn destroyed(object: usize) {
        with_state("IServiceSink::Release", |m| {
            m.portcls.port_sinks.remove(&object)
        });
    }
}

impl ServiceSinkImpl for PortSink {
    fn request_service(this: &ComObject<Self>) {
        const CALL: &str = "IServiceSink::RequestService (port)";
        let miniport = with_state(CALL, |m| {
            let port = *m.portcls.port_sinks.get(&address_of(this))?;
            let miniport = m.portcls.ports.get(&port)?.miniport;
            (miniport != 0).then_some(miniport)
        });
        if let Some(miniport) = miniport {
            // SAFETY: the port holds a reference on its miniport while it is initialised; the
            // miniport's Service runs at DISPATCH_LEVEL, where the group's DPC calls us.
            let vtable =
                unsafe { vtable_of::<IMiniportDMusVtbl>(miniport as *mut core::ffi::c_void) };
            // SAFETY: as above.
            call_driver(vtable.Service as usize, DISPATCH_LEVEL, || unsafe {
                (vtable.Service)(miniport as *mut _);
            });
        }
    }
}

/// `PcNewServiceGroup`: a new group (one reference, the caller's). `PASSIVE_LEVEL`.
/// Aggregation (a non-NULL `OuterUnknown`) is not modelled.
///
/// # Safety
/// `OutServiceGroup` is NULL (a finding) or writable.
#[unsafe(no_mangle)]
pub unsafe extern "system" fn PcNewServiceGroup(
    OutServiceGroup: *mut PSERVICEGROUP,
    OuterUnknown: PUNKNOWN,
) -> NTSTATUS {
    const CALL: &str = "PcNewServiceGroup";
    let ok = with_state(CALL, |m| {
        m.check_call(CALL, DISPATCH_LEVEL, false);
        if OutServiceGroup.is_null() {
            m.record(Finding::NullArgument {
                call: CALL,
                argument: "OutServiceGroup",
            });
            return Err(STATUS_INVALID_PARAMETER);
        }
        if OuterUnknown.is_null() {
            Ok(())
        } else {
            Err(STATUS_NOT_SUPPORTED)
        }
    });
    if let Err(status) = ok {
        return status;
    }
    let group = new_service_group();
    // SAFETY: non-null and writable (checked; caller's contract).
    unsafe { OutServiceGroup.write(group as PSERVICEGROUP) };
    STATUS_SUCCESS
}
