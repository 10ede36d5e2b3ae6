//! `IMXF` (every stream, the allocator, the capture sink) and the two interfaces that derive
//! it: `IAllocatorMXF` and `ISynthSinkDMus`.

use dmus_sys::com::IUnknown;
use dmus_sys::dmus_com::{
    IAllocatorMXF, IAllocatorMXFVtbl, IMXF, IMXFVtbl, ISynthSinkDMus, ISynthSinkDMusVtbl, PMXF,
};
use dmus_sys::dmusic::{PDMUS_KERNEL_EVENT, REFERENCE_TIME};
use dmus_sys::kernel::NTSTATUS;
use dmus_sys::ks::KSSTATE;

use super::{Vtable, thunk};
use crate::class::Class;
use crate::object::ComObject;

/// `IMXF`: a MIDI transform filter.
pub trait MxfImpl: Class {
    /// `SetState` (PASSIVE_LEVEL).
    fn set_state(this: &ComObject<Self>, state: KSSTATE) -> NTSTATUS;

    /// `PutMessage` (DISPATCH_LEVEL): takes over a chain of events.
    ///
    /// # Safety
    /// `event` is null or the head of a chain of the port allocator's events that the object
    /// now owns.
    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS;

    /// `ConnectOutput`: where the object's events go next.
    ///
    /// # Safety
    /// `sink` is null or a live `IMXF`.
    unsafe fn connect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS;

    /// `DisconnectOutput`.
    ///
    /// # Safety
    /// `sink` is null or a live `IMXF`.
    unsafe fn disconnect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS;
}

thunk!(safe set_state: MxfImpl::set_state(IMXF, state: KSSTATE) -> NTSTATUS);
thunk!(unsafe put_message: MxfImpl::put_message(IMXF, event: PDMUS_KERNEL_EVENT) -> NTSTATUS);
thunk!(unsafe connect_output: MxfImpl::connect_output(IMXF, sink: PMXF) -> NTSTATUS);
thunk!(unsafe disconnect_output: MxfImpl::disconnect_output(IMXF, sink: PMXF) -> NTSTATUS);

impl Vtable<IMXF> {
    /// `IMXF`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: MxfImpl, const N: usize>() -> IMXFVtbl {
        IMXFVtbl {
            base: Vtable::<IUnknown>::new::<C, N>(),
            SetState: set_state::<C, N>,
            PutMessage: put_message::<C, N>,
            ConnectOutput: connect_output::<C, N>,
            DisconnectOutput: disconnect_output::<C, N>,
        }
    }
}

/// `IAllocatorMXF` (derives `IMXF`): the port's event and buffer pool.
pub trait AllocatorMxfImpl: MxfImpl {
    /// `GetMessage`: a zeroed event.
    ///
    /// # Safety
    /// `event` is null or writable.
    unsafe fn get_message(this: &ComObject<Self>, event: *mut PDMUS_KERNEL_EVENT) -> NTSTATUS;

    /// `GetBufferSize`.
    fn get_buffer_size(this: &ComObject<Self>) -> u16;

    /// `GetBuffer`.
    ///
    /// # Safety
    /// `buffer` is null or writable.
    unsafe fn get_buffer(this: &ComObject<Self>, buffer: *mut *mut u8) -> NTSTATUS;

    /// `PutBuffer`: takes a buffer back.
    ///
    /// # Safety
    /// `buffer` is null or a buffer `GetBuffer` handed out, which the allocator now owns.
    unsafe fn put_buffer(this: &ComObject<Self>, buffer: *mut u8) -> NTSTATUS;
}

thunk!(unsafe get_message: AllocatorMxfImpl::get_message(IAllocatorMXF, event: *mut PDMUS_KERNEL_EVENT) -> NTSTATUS);
thunk!(safe get_buffer_size: AllocatorMxfImpl::get_buffer_size(IAllocatorMXF) -> u16);
thunk!(unsafe get_buffer: AllocatorMxfImpl::get_buffer(IAllocatorMXF, buffer: *mut *mut u8) -> NTSTATUS);
thunk!(unsafe put_buffer: AllocatorMxfImpl::put_buffer(IAllocatorMXF, buffer: *mut u8) -> NTSTATUS);

impl Vtable<IAllocatorMXF> {
    /// `IAllocatorMXF`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: AllocatorMxfImpl, const N: usize>() -> IAllocatorMXFVtbl {
        IAllocatorMXFVtbl {
            base: Vtable::<IMXF>::new::<C, N>(),
            GetMessage: get_message::<C, N>,
            GetBufferSize: get_buffer_size::<C, N>,
            GetBuffer: get_buffer::<C, N>,
            PutBuffer: put_buffer::<C, N>,
        }
    }
}

/// `ISynthSinkDMus` (derives `IMXF`): the synth stream the port's wave sink pulls audio from.
pub trait SynthSinkDMusImpl: MxfImpl {
    /// `Render`: `frames` frames into `buffer`, the first at sample `position`.
    ///
    /// # Safety
    /// `buffer` is null or writable for `frames` frames.
    unsafe fn render(this: &ComObject<Self>, buffer: *mut u8, frames: u32, position: i64);

    /// `SyncToMaster`.
    fn sync_to_master(this: &ComObject<Self>, time: REFERENCE_TIME, start: i32) -> NTSTATUS;

    /// `SampleToRefTime`.
    ///
    /// # Safety
    /// `time` is null or writable (not necessarily aligned).
    unsafe fn sample_to_ref_time(
        this: &ComObject<Self>,
        sample: i64,
        time: *mut REFERENCE_TIME,
    ) -> NTSTATUS;

    /// `RefTimeToSample`.
    ///
    /// # Safety
    /// `sample` is null or writable (not necessarily aligned).
    unsafe fn ref_time_to_sample(
        this: &ComObject<Self>,
        time: REFERENCE_TIME,
        sample: *mut i64,
    ) -> NTSTATUS;
}

thunk!(unsafe render: SynthSinkDMusImpl::render(ISynthSinkDMus, buffer: *mut u8, frames: u32, position: i64));
thunk!(safe sync_to_master: SynthSinkDMusImpl::sync_to_master(ISynthSinkDMus, time: REFERENCE_TIME, start: i32) -> NTSTATUS);
thunk!(unsafe sample_to_ref_time: SynthSinkDMusImpl::sample_to_ref_time(ISynthSinkDMus, sample: i64, time: *mut REFERENCE_TIME) -> NTSTATUS);
thunk!(unsafe ref_time_to_sample: SynthSinkDMusImpl::ref_time_to_sample(ISynthSinkDMus, time: REFERENCE_TIME, sample: *mut i64) -> NTSTATUS);

impl Vtable<ISynthSinkDMus> {
    /// `ISynthSinkDMus`'s vtable for class `C` at slot `N`.
    #[must_use]
    pub const fn new<C: SynthSinkDMusImpl, const N: usize>() -> ISynthSinkDMusVtbl {
        ISynthSinkDMusVtbl {
            base: Vtable::<IMXF>::new::<C, N>(),
            Render: render::<C, N>,
            SyncToMaster: sync_to_master::<C, N>,
            SampleToRefTime: sample_to_ref_time::<C, N>,
            RefTimeToSample: ref_time_to_sample::<C, N>,
        }
    }
}
