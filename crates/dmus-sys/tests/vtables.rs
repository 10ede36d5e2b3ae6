//! Vtable shapes: every vtable is exactly its header's number of pointer-sized slots, and the
//! methods the driver implements sit at the header's slot index (`IUnknown`'s three first).

use core::mem::{offset_of, size_of};
use dmus_sys::com::IUnknownVtbl;
use dmus_sys::dmus_com::{
    IAllocatorMXFVtbl, IMXFVtbl, IMasterClockVtbl, IMiniportDMusVtbl, IPortDMusVtbl,
    ISynthSinkDMusVtbl,
};
use dmus_sys::portcls::{
    IAdapterPowerManagementVtbl, IInterruptSyncVtbl, IMiniportVtbl, IPortVtbl, IPowerNotifyVtbl,
    IRegistryKeyVtbl, IResourceListVtbl, IServiceGroupVtbl, IServiceSinkVtbl,
};

const PTR: usize = size_of::<usize>();

#[test]
fn each_vtable_has_the_headers_slot_count() {
    // (size, slots, interface): slots = IUnknown's 3 + every method the header declares,
    // base interfaces included (portcls.h, dmusicks.h).
    let shapes = [
        (size_of::<IUnknownVtbl>(), 3, "IUnknown"),
        (size_of::<IResourceListVtbl>(), 3 + 8, "IResourceList"),
        (size_of::<IServiceSinkVtbl>(), 3 + 1, "IServiceSink"),
        (size_of::<IServiceGroupVtbl>(), 3 + 1 + 5, "IServiceGroup"),
        (size_of::<IInterruptSyncVtbl>(), 3 + 5, "IInterruptSync"),
        (size_of::<IPortVtbl>(), 3 + 3, "IPort"),
        (size_of::<IMiniportVtbl>(), 3 + 2, "IMiniport"),
        (size_of::<IRegistryKeyVtbl>(), 3 + 8, "IRegistryKey"),
        (
            size_of::<IAdapterPowerManagementVtbl>(),
            3 + 3,
            "IAdapterPowerManagement",
        ),
        (size_of::<IPowerNotifyVtbl>(), 3 + 1, "IPowerNotify"),
        (size_of::<IMasterClockVtbl>(), 3 + 1, "IMasterClock"),
        (size_of::<IMXFVtbl>(), 3 + 4, "IMXF"),
        (size_of::<IAllocatorMXFVtbl>(), 3 + 4 + 4, "IAllocatorMXF"),
        (size_of::<ISynthSinkDMusVtbl>(), 3 + 4 + 4, "ISynthSinkDMus"),
        (size_of::<IPortDMusVtbl>(), 3 + 3 + 2, "IPortDMus"),
        (size_of::<IMiniportDMusVtbl>(), 3 + 2 + 3, "IMiniportDMus"),
    ];
    for (size, slots, name) in shapes {
        assert_eq!(
            size,
            slots * PTR,
            "{name}: {size} bytes is not {slots} slots"
        );
    }
}

#[test]
fn methods_sit_at_their_header_slot() {
    let slot = |offset: usize| offset / PTR;
    // IUnknown.
    assert_eq!(slot(offset_of!(IUnknownVtbl, QueryInterface)), 0);
    assert_eq!(slot(offset_of!(IUnknownVtbl, AddRef)), 1);
    assert_eq!(slot(offset_of!(IUnknownVtbl, Release)), 2);
    // IMXF: SetState, PutMessage, ConnectOutput, DisconnectOutput.
    assert_eq!(slot(offset_of!(IMXFVtbl, SetState)), 3);
    assert_eq!(slot(offset_of!(IMXFVtbl, PutMessage)), 4);
    assert_eq!(slot(offset_of!(IMXFVtbl, ConnectOutput)), 5);
    assert_eq!(slot(offset_of!(IMXFVtbl, DisconnectOutput)), 6);
    // IAllocatorMXF: GetMessage, GetBufferSize, GetBuffer, PutBuffer after IMXF.
    assert_eq!(slot(offset_of!(IAllocatorMXFVtbl, GetMessage)), 7);
    assert_eq!(slot(offset_of!(IAllocatorMXFVtbl, GetBufferSize)), 8);
    assert_eq!(slot(offset_of!(IAllocatorMXFVtbl, GetBuffer)), 9);
    assert_eq!(slot(offset_of!(IAllocatorMXFVtbl, PutBuffer)), 10);
    // ISynthSinkDMus: Render, SyncToMaster, SampleToRefTime, RefTimeToSample after IMXF.
    assert_eq!(slot(offset_of!(ISynthSinkDMusVtbl, Render)), 7);
    assert_eq!(slot(offset_of!(ISynthSinkDMusVtbl, RefTimeToSample)), 10);
    // IMiniportDMus: GetDescription, DataRangeIntersection, Init, Service, NewStream.
    assert_eq!(
        slot(offset_of!(IMiniportDMusVtbl, base) + offset_of!(IMiniportVtbl, GetDescription)),
        3
    );
    assert_eq!(
        slot(
            offset_of!(IMiniportDMusVtbl, base) + offset_of!(IMiniportVtbl, DataRangeIntersection)
        ),
        4
    );
    assert_eq!(slot(offset_of!(IMiniportDMusVtbl, Init)), 5);
    assert_eq!(slot(offset_of!(IMiniportDMusVtbl, Service)), 6);
    assert_eq!(slot(offset_of!(IMiniportDMusVtbl, NewStream)), 7);
    // IPortDMus: Init, GetDeviceProperty, NewRegistryKey, Notify, RegisterServiceGroup.
    assert_eq!(
        slot(offset_of!(IPortDMusVtbl, base) + offset_of!(IPortVtbl, Init)),
        3
    );
    assert_eq!(slot(offset_of!(IPortDMusVtbl, Notify)), 6);
    assert_eq!(slot(offset_of!(IPortDMusVtbl, RegisterServiceGroup)), 7);
    // IServiceGroup: RequestService (IServiceSink), AddMember, RemoveMember,
    // SupportDelayedService, RequestDelayedService, CancelDelayedService.
    assert_eq!(
        slot(offset_of!(IServiceGroupVtbl, base) + offset_of!(IServiceSinkVtbl, RequestService)),
        3
    );
    assert_eq!(slot(offset_of!(IServiceGroupVtbl, AddMember)), 4);
    assert_eq!(slot(offset_of!(IServiceGroupVtbl, CancelDelayedService)), 8);
    // IInterruptSync: CallSynchronizedRoutine, GetKInterrupt, Connect, Disconnect,
    // RegisterServiceRoutine.
    assert_eq!(
        slot(offset_of!(IInterruptSyncVtbl, CallSynchronizedRoutine)),
        3
    );
    assert_eq!(
        slot(offset_of!(IInterruptSyncVtbl, RegisterServiceRoutine)),
        7
    );
    // IResourceList: NumberOfEntries … UntranslatedList.
    assert_eq!(slot(offset_of!(IResourceListVtbl, NumberOfEntries)), 3);
    assert_eq!(slot(offset_of!(IResourceListVtbl, FindTranslatedEntry)), 5);
    assert_eq!(slot(offset_of!(IResourceListVtbl, UntranslatedList)), 10);
    // IAdapterPowerManagement: PowerChangeState, QueryPowerChangeState, QueryDeviceCapabilities.
    assert_eq!(
        slot(offset_of!(IAdapterPowerManagementVtbl, PowerChangeState)),
        3
    );
    assert_eq!(
        slot(offset_of!(
            IAdapterPowerManagementVtbl,
            QueryDeviceCapabilities
        )),
        5
    );
}
