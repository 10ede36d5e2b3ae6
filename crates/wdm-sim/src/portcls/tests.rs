//! Unit tests of the port model's COM objects through their vtables, as a driver calls them:
//! resource lists, service groups (immediate and delayed service), the allocator's contract
//! checks, and the adapter exports' argument checks.

use alloc::rc::Rc;
use alloc::vec::Vec;
use core::cell::RefCell;

use com_object::{ComObject, ComRef, ServiceSinkImpl};
use dmus_sys::com::{IUnknown, IUnknownVtbl, PUNKNOWN};
use dmus_sys::dmus_com::{CLSID_PortDMus, IAllocatorMXF, IAllocatorMXFVtbl, IID_IPortDMus};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    CmResourceTypeInterrupt, CmResourceTypePort, NT_SUCCESS, NTSTATUS, PVOID,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use dmus_sys::portcls::{
    IResourceListVtbl, IServiceGroupVtbl, IServiceSink, PPORT, PRESOURCELIST, PSERVICEGROUP,
};

use super::adapter::{PcDispatchIrp, PcRegisterSubdevice};
use super::allocator::new_allocator;
use super::api::{Device, Resources};
use super::event_memory::PoolSize;
use super::objects::{release_foreign, vtable_of};
use super::port::PcNewPort;
use super::resource_list::PcNewResourceSublist;
use super::service::PcNewServiceGroup;
use crate::config::Mpu401Config;
use crate::finding::Finding;
use crate::tests::support::{TestHeap, refs_of};
use crate::{Machine, MachineConfig, ms};

fn resource_vtable<'a>(list: PRESOURCELIST) -> &'a IResourceListVtbl {
    // SAFETY: a live resource list made by the test.
    unsafe { vtable_of::<IResourceListVtbl>(list.cast()) }
}

#[test]
fn a_resource_list_answers_by_type_and_index_and_sublists_take_from_it() {
    let machine = Machine::new(MachineConfig::default());
    let card = Mpu401Config::default();
    let resources = Resources::mpu401(&card);
    let list = resources.to_list();
    let v = resource_vtable(list);
    let port = i32::from(CmResourceTypePort);
    let interrupt = i32::from(CmResourceTypeInterrupt);
    // SAFETY: calls on the live list at PASSIVE_LEVEL.
    let all = unsafe { (v.NumberOfEntries)(list) };
    // SAFETY: as above.
    let ports = unsafe { (v.NumberOfEntriesOfType)(list, port) };
    // SAFETY: as above.
    let interrupts = unsafe { (v.NumberOfEntriesOfType)(list, interrupt) };
    let counts = (all, ports, interrupts);
    assert_eq!(counts, (2, 1, 1));
    // SAFETY: as above.
    let range = unsafe { (v.FindTranslatedEntry)(list, port, 0) };
    // SAFETY: a descriptor inside the live list.
    let range = unsafe { range.read_unaligned() };
    // SAFETY: a port descriptor's active member.
    let range = unsafe { range.u.Port };
    let start = range.Start;
    // SAFETY: LARGE_INTEGER's QuadPart covers all of it.
    assert_eq!((unsafe { start.QuadPart }, range.Length), (0x330, 2));
    // SAFETY: as above.
    let raw = unsafe { (v.FindUntranslatedEntry)(list, interrupt, 0) };
    // SAFETY: a descriptor inside the live list.
    let raw = unsafe { raw.read_unaligned() };
    // SAFETY: the interrupt member is the active one.
    let raw = unsafe { raw.u.Interrupt };
    assert_eq!({ raw.Level }, 9, "untranslated: the ISA IRQ");
    // SAFETY: as above.
    assert!(unsafe { (v.FindTranslatedEntry)(list, port, 1) }.is_null());
    // The whole-list image: Count 1, then a full descriptor whose partial list counts 2.
    // SAFETY: as above.
    let image = unsafe { (v.TranslatedList)(list) };
    // SAFETY: the list's own image, valid while the list lives.
    let image = unsafe { image.read_unaligned() };
    assert_eq!(
        ({ image.Count }, { image.List[0].PartialResourceList.Count }),
        (1, 2)
    );

    let mut sub: PRESOURCELIST = core::ptr::null_mut();
    // SAFETY: PASSIVE_LEVEL; a writable out pointer and the live parent.
    let status = unsafe { PcNewResourceSublist(&raw mut sub, core::ptr::null_mut(), 0, list, 1) };
    assert_eq!(status, STATUS_SUCCESS);
    let s = resource_vtable(sub);
    // SAFETY: calls on live lists.
    let first = unsafe { (s.AddEntryFromParent)(sub, list, interrupt, 0) };
    // SAFETY: as above.
    let second = unsafe { (s.AddEntryFromParent)(sub, list, port, 0) };
    // SAFETY: as above.
    let added = (first, second, unsafe { (s.NumberOfEntries)(sub) });
    assert_eq!(added, (STATUS_SUCCESS, STATUS_INSUFFICIENT_RESOURCES, 1));
    for object in [sub, list] {
        // SAFETY: the references the test holds.
        unsafe { release_foreign(object.cast()) };
    }
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}

/// A service sink that records when it was serviced and at which IRQL.
struct RecordingSink {
    log: Rc<RefCell<Vec<(u64, u8)>>>,
}

com_object::class!(RecordingSink, TestHeap: IServiceSink);

impl ServiceSinkImpl for RecordingSink {
    fn request_service(this: &ComObject<Self>) {
        let now = crate::current::with_state("test", |m| (m.now(), m.irql()));
        this.log.borrow_mut().push(now);
    }
}

#[test]
fn service_groups_service_members_from_a_dpc_now_or_after_a_delay() {
    let machine = Machine::new(MachineConfig::default());
    let log = Rc::new(RefCell::new(Vec::new()));
    let sink = ComRef::try_new(RecordingSink {
        log: Rc::clone(&log),
    })
    .unwrap();
    let sink_ptr = sink.as_interface::<IServiceSink>().as_ptr();
    let mut group: PSERVICEGROUP = core::ptr::null_mut();
    // SAFETY: PASSIVE_LEVEL, a writable out pointer, no aggregation.
    let status = unsafe { PcNewServiceGroup(&raw mut group, core::ptr::null_mut()) };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: the live group.
    let v = unsafe { vtable_of::<IServiceGroupVtbl>(group.cast()) };
    // SAFETY: AddMember at PASSIVE_LEVEL with a live sink (the group takes a reference).
    assert_eq!(unsafe { (v.AddMember)(group, sink_ptr) }, STATUS_SUCCESS);
    assert_eq!(refs_of(&sink), 2);
    // SAFETY: RequestService on the live group.
    unsafe { (v.base.RequestService)(group.cast()) };
    assert_eq!(*log.borrow(), [(0, 2)], "serviced at once, from a DPC");
    // Delayed service needs SupportDelayedService first.
    // SAFETY: calls on the live group.
    unsafe { (v.RequestDelayedService)(group, (-i64::try_from(ms(5)).unwrap()).cast_unsigned()) };
    assert!(matches!(
        &machine.take_findings()[..],
        [Finding::PortContract { detail }] if detail.contains("without SupportDelayedService")
    ));
    // SAFETY: as above.
    unsafe { (v.SupportDelayedService)(group) };
    // SAFETY: as above.
    unsafe { (v.RequestDelayedService)(group, (-i64::try_from(ms(5)).unwrap()).cast_unsigned()) };
    machine.run_for(ms(10));
    assert_eq!(*log.borrow(), [(0, 2), (ms(5), 2)]);
    // A cancelled request does nothing; a later one replaces an earlier one.
    // SAFETY: as above.
    unsafe { (v.RequestDelayedService)(group, (-i64::try_from(ms(1)).unwrap()).cast_unsigned()) };
    // SAFETY: as above.
    unsafe { (v.CancelDelayedService)(group) };
    // SAFETY: as above.
    unsafe { (v.RequestDelayedService)(group, (-i64::try_from(ms(3)).unwrap()).cast_unsigned()) };
    // SAFETY: as above.
    unsafe { (v.RequestDelayedService)(group, (-i64::try_from(ms(4)).unwrap()).cast_unsigned()) };
    machine.run_for(ms(10));
    assert_eq!(*log.borrow(), [(0, 2), (ms(5), 2), (ms(14), 2)]);
    // SAFETY: RemoveMember gives the sink's reference back.
    unsafe { (v.RemoveMember)(group, sink_ptr) };
    assert_eq!(refs_of(&sink), 1);
    // SAFETY: the test's reference on the group.
    unsafe { release_foreign(group.cast()) };
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}

fn allocator_vtable<'a>(allocator: *mut IAllocatorMXF) -> &'a IAllocatorMXFVtbl {
    // SAFETY: a live allocator made by the test.
    unsafe { vtable_of::<IAllocatorMXFVtbl>(allocator.cast()) }
}

#[test]
fn the_allocator_runs_dry_honestly_and_refuses_an_output() {
    let machine = Machine::new(MachineConfig::default());
    let allocator = new_allocator(PoolSize {
        events: 2,
        buffers: 1,
        buffer_size: 64,
    }) as *mut IAllocatorMXF;
    let v = allocator_vtable(allocator);
    let mut events: [PDMUS_KERNEL_EVENT; 3] = [core::ptr::null_mut(); 3];
    let statuses: Vec<NTSTATUS> = events
        .iter_mut()
        // SAFETY: GetMessage at PASSIVE_LEVEL with writable out pointers.
        .map(|e| unsafe { (v.GetMessage)(allocator, e) })
        .collect();
    assert_eq!(
        statuses,
        [
            STATUS_SUCCESS,
            STATUS_SUCCESS,
            STATUS_INSUFFICIENT_RESOURCES
        ]
    );
    assert!(events[2].is_null(), "an empty pool hands out NULL");
    // SAFETY: a plain query.
    assert_eq!(unsafe { (v.GetBufferSize)(allocator) }, 64);
    // SAFETY: chaining the two events the allocator handed out, then returning the chain.
    unsafe { (*events[0]).pNextEvt = events[1] };
    // SAFETY: PutMessage with a chain of the allocator's events.
    let status = unsafe { (v.base.PutMessage)(allocator.cast(), events[0]) };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: a wrong call under test.
    let status = unsafe { (v.base.ConnectOutput)(allocator.cast(), allocator.cast()) };
    assert_eq!(status, STATUS_UNSUCCESSFUL);
    assert!(matches!(
        &machine.take_findings()[..],
        [Finding::PortContract { detail }] if detail.contains("last stop of every chain")
    ));
    // SAFETY: the test's reference.
    unsafe { release_foreign(allocator.cast()) };
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}

#[test]
fn an_allocator_destroyed_with_events_out_is_a_finding() {
    let machine = Machine::new(MachineConfig::default());
    let allocator = new_allocator(PoolSize::default()) as *mut IAllocatorMXF;
    let v = allocator_vtable(allocator);
    let mut event: PDMUS_KERNEL_EVENT = core::ptr::null_mut();
    // SAFETY: GetMessage with a writable out pointer.
    assert!(NT_SUCCESS(unsafe {
        (v.GetMessage)(allocator, &raw mut event)
    }));
    // SAFETY: the test's reference.
    unsafe { release_foreign(allocator.cast()) };
    assert!(matches!(
        &machine.take_findings()[..],
        [Finding::PortContract { detail }] if detail.contains("1 event(s) and 0 buffer(s) never returned")
    ));
}

#[test]
fn the_adapter_exports_refuse_what_portcls_refuses() {
    let machine = Machine::new(MachineConfig::default());
    let device = Device::standalone();
    let mut port: PPORT = core::ptr::null_mut();
    let other = GUID::parse("00000000-0000-0000-0000-000000000001");
    // SAFETY: PASSIVE_LEVEL; a writable out pointer and a readable class id.
    let status = unsafe { PcNewPort(&raw mut port, &raw const other) };
    assert_eq!(status, STATUS_NOT_SUPPORTED);
    // SAFETY: as above.
    let status = unsafe { PcNewPort(&raw mut port, &CLSID_PortDMus) };
    assert_eq!(status, STATUS_SUCCESS);
    let name: Vec<u16> = "Test\0".encode_utf16().collect();
    // SAFETY: the device, a NUL-terminated name, and a port that was never initialised.
    let status = unsafe { PcRegisterSubdevice(device.object(), name.as_ptr(), port.cast()) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    // SAFETY: an IRP the simulation never issued (only looked up).
    let status = unsafe { PcDispatchIrp(device.object(), 0x1234 as *mut _) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    let findings = machine.take_findings();
    assert!(
        matches!(&findings[0], Finding::PortContract { detail } if detail.contains("not an initialised port")),
        "{findings:?}"
    );
    assert!(
        matches!(
            &findings[1],
            Finding::InvalidArgument {
                call: "PcDispatchIrp",
                ..
            }
        ),
        "{findings:?}"
    );
    // QueryInterface on the port: IPortDMus answers with the same object.
    let mut out: PVOID = core::ptr::null_mut();
    // SAFETY: the live port; QueryInterface with a valid IID and out pointer.
    let v = unsafe { vtable_of::<IUnknownVtbl>(port.cast()) };
    // SAFETY: as above.
    let status = unsafe { (v.QueryInterface)(port.cast(), &IID_IPortDMus, &raw mut out) };
    assert_eq!(status, STATUS_SUCCESS);
    assert_eq!(out, port.cast());
    for _ in 0..2 {
        // SAFETY: the creation reference and the one QueryInterface added.
        unsafe { release_foreign(port.cast::<IUnknown>() as PUNKNOWN) };
    }
    device.remove();
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}

#[test]
fn sim_objects_refuse_bad_queries_and_calls_after_their_last_release() {
    let machine = Machine::new(MachineConfig::default());
    let clock = super::allocator::new_clock() as *mut dmus_sys::dmus_com::IMasterClock;
    // SAFETY: the live clock the test made.
    let v = unsafe { vtable_of::<dmus_sys::dmus_com::IMasterClockVtbl>(clock.cast()) };
    // A null out-pointer is a finding; an interface the object lacks writes NULL and fails.
    // SAFETY: QueryInterface on the live clock; the null out-pointer is the point.
    let status =
        unsafe { (v.base.QueryInterface)(clock.cast(), &IID_IPortDMus, core::ptr::null_mut()) };
    assert_eq!(status, STATUS_INVALID_PARAMETER);
    assert_eq!(
        machine.take_findings(),
        [Finding::NullArgument {
            call: "IMasterClock::QueryInterface",
            argument: "InterfaceId/Interface"
        }]
    );
    let mut out: PVOID = core::ptr::dangling_mut();
    // SAFETY: as above, with a writable out-pointer.
    let status = unsafe { (v.base.QueryInterface)(clock.cast(), &IID_IPortDMus, &raw mut out) };
    assert_eq!(status, dmus_sys::kernel::STATUS_NOINTERFACE);
    assert!(out.is_null());
    let mut time = 0;
    // SAFETY: GetTime on the live clock with a writable out-pointer.
    assert_eq!(unsafe { (v.GetTime)(clock, &raw mut time) }, STATUS_SUCCESS);
    // SAFETY: the test's one reference.
    assert_eq!(unsafe { release_foreign(clock.cast()) }, 0);
    // The block is kept: calls through the stale pointer reach the machine's checks.
    // SAFETY: a released clock whose block the sim keeps (sim_object).
    let stale = unsafe { (v.GetTime)(clock, &raw mut time) };
    assert_eq!(stale, STATUS_INVALID_PARAMETER);
    // SAFETY: as above.
    assert_eq!(unsafe { release_foreign(clock.cast()) }, 0);
    assert_eq!(
        machine.take_findings(),
        [
            Finding::UninitializedObject {
                call: "IMasterClock::GetTime",
                kind: "IMasterClock",
                object: clock as usize
            },
            Finding::ComOverRelease {
                kind: "IMasterClock",
                object: clock as usize
            }
        ]
    );
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}
