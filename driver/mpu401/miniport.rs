//! The MPU-401 miniport COM object (`IMiniportDMus`).
//!
//! Layout (style.md, windows-rs): `#[repr(C)]`, one vtable pointer per
//! interface first (`IMiniportDMus`, then `IPowerNotify`, whose thunks step
//! back to the object by the field's offset), then the reference count and
//! the state; `IUnknown` is always the first pointer (one COM identity). The object lives
//! in nonpaged pool ([`pool_box`]) and is freed by the `Release` that drops
//! the last reference.
//!
//! Life: the subdevice seam creates it ([`new_miniport`]); PortCls calls
//! `Init` once (PASSIVE_LEVEL) with the adapter's resources, which brings the
//! card into UART mode *before* the interrupt is connected (mpu401's rule),
//! then creates the service group and, when the list has an IRQ, an
//! `IInterruptSync` with its ISR (`isr`) as its first routine. Without an IRQ the
//! capture stream polls the card from a timer instead. Streams hold a
//! reference to the miniport, so it outlives them.

use core::cell::UnsafeCell;
use core::ptr::NonNull;
use core::sync::atomic::{AtomicI32, AtomicPtr, AtomicU32, Ordering};

use dmus_sys::GUID;
use dmus_sys::com::{IID_IUnknown, IUnknown, IUnknownVtbl, PUNKNOWN};
use dmus_sys::dmus_com::{
    IAllocatorMXF, IID_IMiniportDMus, IMXF, IMasterClock, IMiniportDMus, IMiniportDMusVtbl,
    IPortDMus,
};
use dmus_sys::dmusic::{DMUS_STREAM_MIDI_CAPTURE, DMUS_STREAM_MIDI_RENDER, DMUS_STREAM_TYPE};
use dmus_sys::imports::{PcNewInterruptSync, PcNewServiceGroup};
use dmus_sys::kernel::{
    NT_SUCCESS, NTSTATUS, POOL_TYPE, POWER_STATE, PVOID, PowerDeviceD0, PowerDeviceUnspecified,
    STATUS_DEVICE_CONFIGURATION_ERROR, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NO_MATCH, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::{KSDATAFORMAT, PKSDATARANGE};
use dmus_sys::portcls::{
    IID_IMiniport, IID_IPowerNotify, IInterruptSync, IMiniport, IMiniportVtbl, IPowerNotify,
    IPowerNotifyVtbl, IServiceGroup, InterruptSyncModeNormal, PCFILTER_DESCRIPTOR, PINTERRUPTSYNC,
    PRESOURCELIST, PSERVICEGROUP,
};
use mpu401::{ControlPort, InitBudget, InputRing};

use super::capture::CaptureStream;
use super::descriptor::{FILTER, PIN_CAPTURE, PIN_DMUSIC_RENDER, PIN_LEGACY_RENDER, our_range};
use super::hardware::{CardIo, StallDelay, init_status};
use super::render::RenderStream;
use crate::miniport::com_object::begin_new_stream;
use crate::miniport::com_object::query_interface;
use crate::miniport::intersection::data_range_intersection;
use crate::miniport::pool_box::{self, init_fields};
use crate::miniport::spin_lock::SpinLock;
use crate::resources::AdapterResources;
use com_object::{RefCount, Released, release_result};

/// Bytes of timestamped input the ISR can hold for the capture DPC: 41 ms of
/// a saturated wire (the DDK sample keeps 128 bytes too). 16 bytes each.
pub const INPUT_RING_BYTES: usize = 128;
/// The input ring of a new miniport, evaluated at compile time: copied into the pool
/// block from the image rather than built element by element on the stack first.
const EMPTY_INPUT: InputRing<INPUT_RING_BYTES> = InputRing::new();
/// Input bytes one interrupt (or one synchronized drain) reads at most: two
/// ISA cycles a byte keep the ISR within the 25 µs Microsoft recommends. Bytes
/// left on the card are read by the capture DPC's next synchronized drain.
pub const ISR_MAX_READS: u32 = 8;
/// How far ahead the port hands render events over (100 ns): 20 ms, so the
/// stream's own timer, not the port's sequencer, decides when each goes out.
pub const RENDER_PREFETCH_100NS: u64 = 200_000;

/// What Init set up; written once in Init, read-only afterwards.
pub(crate) struct Setup {
    pub(crate) io: CardIo,
    pub(crate) port: NonNull<IPortDMus>,
    pub(crate) service_group: NonNull<IServiceGroup>,
    pub(crate) polled: bool,
}

/// The MPU-401 miniport.
#[repr(C)]
pub struct Miniport {
    interface: IMiniportDMus,
    /// The second interface: PortCls tells the miniport about device power changes.
    power: IPowerNotify,
    refs: RefCount,
    /// The device power state last notified (`PowerDeviceUnspecified` until then).
    power_state: AtomicI32,
    /// Set by Init (PASSIVE_LEVEL, before any stream or interrupt exists).
    setup: UnsafeCell<Option<Setup>>,
    /// The connected interrupt, or null when polled.
    sync: AtomicPtr<IInterruptSync>,
    /// One bit per pin with an open stream.
    open_pins: AtomicU32,
    /// The open capture stream (not a reference: the stream clears it before it is freed).
    capture: SpinLock<Option<NonNull<CaptureStream>>>,
    /// The card's output, shared by the render streams: the pin whose message
    /// is half on the wire, if any. Held while a stream writes, so two streams'
    /// bytes never interleave (lock order: a stream's own lock, then this).
    wire: SpinLock<Option<u32>>,
    /// Input bytes with their arrival time (QPC in 100 ns). Touched only with the
    /// interrupt lock held (the ISR, synchronized routines) or, when polled,
    /// with the capture lock held.
    input: UnsafeCell<InputRing<INPUT_RING_BYTES>>,
}

static VTABLE: IMiniportDMusVtbl = IMiniportDMusVtbl {
    base: IMiniportVtbl {
        base: IUnknownVtbl {
            QueryInterface: query_interface_thunk,
            AddRef: add_ref_thunk,
            Release: release_thunk,
        },
        GetDescription: get_description,
        DataRangeIntersection: data_range_intersection_thunk,
    },
    Init: init,
    Service: service,
    NewStream: new_stream,
};

const INTERFACES: [GUID; 3] = [IID_IUnknown, IID_IMiniport, IID_IMiniportDMus];

static POWER_VTABLE: IPowerNotifyVtbl = IPowerNotifyVtbl {
    base: IUnknownVtbl {
        QueryInterface: power_query_interface,
        AddRef: power_add_ref,
        Release: power_release,
    },
    PowerChangeNotify: power_change_notify,
};

/// The subdevice seam's constructor: a miniport with one reference for the
/// caller. Hardware is touched only in Init. PASSIVE_LEVEL.
///
/// The object (2 KiB of it the input ring) is made in place in its pool
/// block, never on the stack.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when the pool is exhausted.
pub fn new_miniport(_resources: &AdapterResources) -> Result<PUNKNOWN, NTSTATUS> {
    let object = pool_box::try_new_with(|place| {
        Ok(init_fields!(
            place,
            Miniport {
                interface: IMiniportDMus {
                    lpVtbl: &raw const VTABLE,
                },
                power: IPowerNotify {
                    lpVtbl: &raw const POWER_VTABLE,
                },
                refs: RefCount::new(),
                power_state: AtomicI32::new(PowerDeviceUnspecified),
                setup: UnsafeCell::new(None),
                sync: AtomicPtr::new(core::ptr::null_mut()),
                open_pins: AtomicU32::new(0),
                capture: SpinLock::new(None),
                wire: SpinLock::new(None),
                input: UnsafeCell::new(EMPTY_INPUT),
            }
        ))
    })?;
    Ok(object.as_ptr().cast())
}

impl Miniport {
    /// The object behind one of its interface pointers.
    ///
    /// # Safety
    /// `this` points to a live `Miniport` (its first field).
    unsafe fn from_this<'a, T>(this: *mut T) -> &'a Self {
        // SAFETY: the interface is the object's first field (repr(C)), so the
        // addresses agree; live per the caller. Any IRQL (memory only).
        unsafe { &*this.cast::<Self>() }
    }

    /// The card's base port, if `unknown` is an initialised miniport.
    ///
    /// # Safety
    /// `unknown` is null or this driver's live MPU-401 miniport (PortCls passes
    /// the miniport whose automation table matched as `MajorTarget`).
    pub unsafe fn base_of(unknown: PUNKNOWN) -> Option<usize> {
        if unknown.is_null() {
            return None;
        }
        // SAFETY: our live miniport (caller's contract). Any IRQL (memory only).
        let miniport = unsafe { Self::from_this(unknown) };
        miniport.setup().map(|setup| setup.io.base())
    }

    pub(crate) fn setup(&self) -> Option<&Setup> {
        // SAFETY: `setup` is written only by Init, at PASSIVE_LEVEL before any
        // stream, interrupt or property request can read it (PortCls calls
        // Init first and once); afterwards it is only read.
        unsafe { (*self.setup.get()).as_ref() }
    }

    /// Adds a reference (a stream keeps its miniport alive).
    pub(crate) fn add_ref(&self) {
        self.refs.add_ref();
    }

    /// Drops a reference taken with [`Self::add_ref`].
    ///
    /// # Safety
    /// The caller owns the reference and does not use `this` afterwards. PASSIVE_LEVEL.
    pub(crate) unsafe fn release(this: NonNull<Self>) {
        // SAFETY: forwarded. IRQL ≤ DISPATCH_LEVEL.
        unsafe { release_thunk(this.as_ptr().cast()) };
    }

    /// Marks `pin` as having its stream; false if it already has one.
    fn claim_pin(&self, pin: u32) -> bool {
        let bit = 1 << pin;
        self.open_pins.fetch_or(bit, Ordering::AcqRel) & bit == 0
    }

    /// Frees `pin` for a new stream.
    pub(crate) fn release_pin(&self, pin: u32) {
        self.open_pins.fetch_and(!(1 << pin), Ordering::AcqRel);
    }

    /// The card's output lock (see the field).
    pub(crate) fn wire(&self) -> &SpinLock<Option<u32>> {
        &self.wire
    }

    /// The capture stream slot.
    pub(crate) fn capture_slot(&self) -> &SpinLock<Option<NonNull<CaptureStream>>> {
        &self.capture
    }

    /// The connected interrupt, if any.
    pub(crate) fn interrupt(&self) -> Option<NonNull<IInterruptSync>> {
        NonNull::new(self.sync.load(Ordering::Acquire))
    }

    /// The input ring.
    ///
    /// # Safety
    /// The caller holds the interrupt lock (ISR or synchronized routine) or,
    /// with no interrupt connected, the capture stream's lock, and keeps the
    /// borrow within that hold.
    #[allow(
        clippy::mut_from_ref,
        reason = "exclusivity comes from the lock the caller holds"
    )]
    pub(crate) unsafe fn input(&self) -> &mut InputRing<INPUT_RING_BYTES> {
        // SAFETY: exclusive per the caller's lock. Any IRQL (memory only).
        unsafe { &mut *self.input.get() }
    }

    /// Releases what Init took (interrupt, service group, port). PASSIVE_LEVEL.
    fn teardown(&self) {
        let sync = self.sync.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if let Some(sync) = NonNull::new(sync) {
            // SAFETY: the interrupt object this miniport created and owns one
            // reference to. PASSIVE_LEVEL.
            let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
            // SAFETY: Disconnect at PASSIVE_LEVEL: the ISR does not run after it returns.
            unsafe { (vtable.Disconnect)(sync.as_ptr()) };
            // SAFETY: our one reference, released once. IRQL ≤ DISPATCH_LEVEL.
            unsafe { crate::com::release(sync.as_ptr()) };
        }
        // SAFETY: teardown runs from the last Release or a failed Init, when no
        // one else reads `setup`. PASSIVE_LEVEL.
        if let Some(setup) = unsafe { (*self.setup.get()).take() } {
            // SAFETY: references Init took on the service group and the port. IRQL ≤
            // DISPATCH_LEVEL.
            unsafe { crate::com::release(setup.service_group.as_ptr()) };
            // SAFETY: as above. IRQL ≤ DISPATCH_LEVEL.
            unsafe { crate::com::release(setup.port.as_ptr()) };
        }
    }
}

unsafe extern "system" fn query_interface_thunk(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: PortCls calls through our vtable, so `this` is a live Miniport. Any IRQL (memory
    // only).
    let miniport = unsafe { Miniport::from_this(this) };
    // SAFETY: forwarded QueryInterface arguments. IRQL ≤ DISPATCH_LEVEL.
    unsafe { miniport.query(iid, out) }
}

impl Miniport {
    /// `QueryInterface` for either interface: `IPowerNotify` is the second
    /// vtable pointer, everything else (IUnknown included: one identity) the first.
    ///
    /// # Safety
    /// `iid` is null or readable, `out` null or writable (QueryInterface's contract).
    unsafe fn query(&self, iid: *const GUID, out: *mut PVOID) -> NTSTATUS {
        // SAFETY: null or a readable GUID (caller's contract). Any IRQL (memory only).
        let wants_power = unsafe { iid.as_ref() } == Some(&IID_IPowerNotify);
        let (target, interfaces): (PVOID, &[GUID]) = if wants_power {
            (
                core::ptr::from_ref(&self.power).cast_mut().cast(),
                &[IID_IPowerNotify],
            )
        } else {
            (
                core::ptr::from_ref(&self.interface).cast_mut().cast(),
                &INTERFACES,
            )
        };
        // SAFETY: forwarded arguments; add_ref adds one reference to this live object.
        // Any IRQL ≤ DISPATCH_LEVEL.
        unsafe {
            query_interface(target, iid, out, interfaces, || {
                self.refs.add_ref();
            })
        }
    }

    /// The object behind its `IPowerNotify` pointer.
    ///
    /// # Safety
    /// `this` is the `power` field of a live `Miniport`.
    unsafe fn from_power<'a>(this: *mut IPowerNotify) -> &'a Self {
        let object = this.wrapping_byte_sub(core::mem::offset_of!(Self, power));
        // SAFETY: `power` sits at that offset inside a live Miniport (caller's contract). Any IRQL
        // (memory only).
        unsafe { &*object.cast::<Self>() }
    }

    /// Brings the card back into UART mode after the device was powered down: the
    /// interrupt is disconnected around it (init reads the ACKs itself). PASSIVE_LEVEL.
    fn power_up(&self) {
        let Some(setup) = self.setup() else {
            return;
        };
        let sync = self.interrupt();
        if let Some(sync) = sync {
            // SAFETY: our connected interrupt object; PASSIVE_LEVEL.
            let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
            // SAFETY: Disconnect at PASSIVE_LEVEL; no ISR runs until Connect.
            unsafe { (vtable.Disconnect)(sync.as_ptr()) };
        }
        let mut io = setup.io;
        let init = mpu401::initialize(&mut io, &mut StallDelay, &InitBudget::DEFAULT);
        if init.is_err() {
            crate::trace::trace(
                dmus_sys::imports::DPFLTR_ERROR_LEVEL,
                "MPU-401 did not come back after power-up",
            );
        }
        if let Some(sync) = sync {
            // SAFETY: as above. Any IRQL (reads the vtable pointer).
            let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
            // SAFETY: reconnects the routine registered in Init; PASSIVE_LEVEL.
            let status = unsafe { (vtable.Connect)(sync.as_ptr()) };
            if !NT_SUCCESS(status) {
                crate::trace::trace(
                    dmus_sys::imports::DPFLTR_ERROR_LEVEL,
                    "MPU-401 interrupt did not reconnect after power-up",
                );
            }
        }
    }
}

unsafe extern "system" fn power_query_interface(
    this: *mut IUnknown,
    iid: *const GUID,
    out: *mut PVOID,
) -> NTSTATUS {
    // SAFETY: called through POWER_VTABLE: `this` is a live miniport's `power` field. Any IRQL
    // (memory only).
    let miniport = unsafe { Miniport::from_power(this.cast()) };
    // SAFETY: forwarded QueryInterface arguments. IRQL ≤ DISPATCH_LEVEL.
    unsafe { miniport.query(iid, out) }
}

unsafe extern "system" fn power_add_ref(this: *mut IUnknown) -> u32 {
    // SAFETY: as in power_query_interface. Any IRQL (memory only).
    unsafe { Miniport::from_power(this.cast()) }.refs.add_ref()
}

unsafe extern "system" fn power_release(this: *mut IUnknown) -> u32 {
    let object = this.wrapping_byte_sub(core::mem::offset_of!(Miniport, power));
    // SAFETY: the same object through its first interface, which Release frees
    // when this was the last reference. IRQL ≤ DISPATCH_LEVEL.
    unsafe { release_thunk(object) }
}

/// `IPowerNotify::PowerChangeNotify` (PASSIVE_LEVEL): on the way back to D0 the
/// card is re-initialised, as it may have lost its UART mode while off.
unsafe extern "system" fn power_change_notify(this: *mut IPowerNotify, state: POWER_STATE) {
    // SAFETY: called through POWER_VTABLE on a live miniport. Any IRQL (memory only).
    let miniport = unsafe { Miniport::from_power(this) };
    // SAFETY: PortCls passes a device power state (the DeviceState member); any
    // bit pattern is a valid i32. Any IRQL (memory only).
    let device_state = unsafe { state.DeviceState };
    let previous = miniport.power_state.swap(device_state, Ordering::AcqRel);
    if device_state == PowerDeviceD0
        && previous != PowerDeviceD0
        && previous != PowerDeviceUnspecified
    {
        miniport.power_up();
    }
}

unsafe extern "system" fn add_ref_thunk(this: *mut IUnknown) -> u32 {
    // SAFETY: called through our vtable on a live object. Any IRQL (memory only).
    unsafe { Miniport::from_this(this) }.refs.add_ref()
}

/// `Release`: takes the raw pointer because the object may be gone when it returns.
unsafe extern "system" fn release_thunk(this: *mut IUnknown) -> u32 {
    // SAFETY: called through our vtable on an object the caller holds a reference to. IRQL ≤
    // DISPATCH_LEVEL.
    let outcome = unsafe { Miniport::from_this(this) }.refs.release();
    if outcome == Released::Last {
        // SAFETY: the last reference is gone: nothing else uses the object.
        // Streams hold references, so none is open. PASSIVE_LEVEL (PortCls
        // releases miniports when the device stops).
        let miniport = unsafe { Miniport::from_this(this) };
        miniport.teardown();
        #[allow(
            clippy::cast_ptr_alignment,
            reason = "`this` is the object's own address: the interface is its first field"
        )]
        let object = NonNull::new(this.cast::<Miniport>());
        if let Some(object) = object {
            // SAFETY: made by pool_box::try_new_with in new_miniport; last use. IRQL ≤ DISPATCH_LEVEL.
            unsafe { pool_box::free(object) };
        }
    }
    release_result(outcome)
}

unsafe extern "system" fn get_description(
    _this: *mut IMiniport,
    description: *mut *mut PCFILTER_DESCRIPTOR,
) -> NTSTATUS {
    if description.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: a writable out-pointer from PortCls; the descriptor is a static
    // PortCls only reads. PASSIVE_LEVEL.
    unsafe { description.write(FILTER.as_mut_ptr()) };
    STATUS_SUCCESS
}

unsafe extern "system" fn data_range_intersection_thunk(
    _this: *mut IMiniport,
    pin: u32,
    client: PKSDATARANGE,
    matching: PKSDATARANGE,
    output_length: u32,
    result: PVOID,
    result_length: *mut u32,
) -> NTSTATUS {
    if matching.is_null() {
        return STATUS_INVALID_PARAMETER;
    }
    // SAFETY: `matching` is one of the pin's ranges PortCls read from our
    // descriptor (a readable KSDATARANGE); unaligned read of its header. Any IRQL (memory only).
    let matching = unsafe { matching.read_unaligned() };
    let ours = our_range(pin, &matching);
    // SAFETY: PortCls' buffers per DataRangeIntersection's contract. PASSIVE_LEVEL.
    unsafe { data_range_intersection(ours, client, output_length, result, result_length) }
}

unsafe extern "system" fn init(
    this: *mut IMiniportDMus,
    _adapter: PUNKNOWN,
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
    // SAFETY: called through our vtable on a live object. Any IRQL (memory only).
    let miniport = unsafe { Miniport::from_this(this) };
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
    // SAFETY: the port PortCls passed, live; our reference is released in teardown. Any IRQL (reads
    // the vtable pointer).
    let port_vtable = unsafe { crate::com::vtable(port.as_ptr()) };
    // SAFETY: AddRef on the live port. IRQL ≤ DISPATCH_LEVEL.
    unsafe { (port_vtable.base.base.AddRef)(port.as_ptr().cast()) };
    // SAFETY: Init runs first and once, before anything reads `setup`. PASSIVE_LEVEL.
    unsafe {
        *miniport.setup.get() = Some(Setup {
            io,
            port,
            service_group: group,
            polled: resources.interrupt.is_none(),
        });
    }
    // SAFETY: the live port; registering our live group early so interrupts can notify it.
    // PASSIVE_LEVEL.
    unsafe { (port_vtable.RegisterServiceGroup)(port.as_ptr(), group.as_ptr()) };
    if resources.interrupt.is_some() {
        // SAFETY: PortCls' resource list; PASSIVE_LEVEL.
        let connected = unsafe { connect_interrupt(miniport, list) };
        if let Err(status) = connected {
            miniport.teardown();
            return status;
        }
    }
    // SAFETY: the group is live (we hold a reference); the port gets its own. Any IRQL (reads the
    // vtable pointer).
    let group_vtable = unsafe { crate::com::vtable(group.as_ptr()) };
    // SAFETY: AddRef for the reference handed out through the out-pointer. IRQL ≤ DISPATCH_LEVEL.
    unsafe { (group_vtable.base.base.AddRef)(group.as_ptr().cast()) };
    // SAFETY: writable out-pointer (checked above). Any IRQL (memory only).
    unsafe { service_group_out.write(group.as_ptr()) };
    STATUS_SUCCESS
}

/// Creates, hooks and connects the interrupt. PASSIVE_LEVEL.
///
/// # Safety
/// `list` is PortCls' live resource list; `miniport` has its setup.
unsafe fn connect_interrupt(miniport: &Miniport, list: PRESOURCELIST) -> Result<(), NTSTATUS> {
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
    let _report = mpu401::drain_input(&mut io, ring, ISR_MAX_READS, super::qpc_100ns);
    // SAFETY: the live port and group from Init; Notify may be called from an
    // ISR (it queues the service group's DPC). Any IRQL (reads the vtable pointer).
    let vtable = unsafe { crate::com::vtable(setup.port.as_ptr()) };
    // SAFETY: as above. DIRQL, in the ISR: Notify only queues the service group's DPC.
    unsafe { (vtable.Notify)(setup.port.as_ptr(), setup.service_group.as_ptr()) };
    STATUS_SUCCESS
}

/// `Service` (DISPATCH_LEVEL, from the service group): hands captured input to
/// the capture stream, or drops it when none is open.
unsafe extern "system" fn service(this: *mut IMiniportDMus) {
    // SAFETY: called through our vtable on a live object. Any IRQL (memory only).
    let miniport = unsafe { Miniport::from_this(this) };
    let slot = miniport.capture.lock();
    match *slot {
        // SAFETY: the slot holds the stream until its destructor clears it
        // under this lock, so it is live while we hold the lock. DISPATCH_LEVEL.
        Some(stream) => unsafe { stream.as_ref() }.pump(),
        None => super::capture::discard_input(miniport),
    }
}

#[allow(
    clippy::too_many_arguments,
    reason = "IMiniportDMus::NewStream's signature"
)]
unsafe extern "system" fn new_stream(
    this: *mut IMiniportDMus,
    mxf_out: *mut *mut IMXF,
    outer: PUNKNOWN,
    _pool_type: POOL_TYPE,
    pin: u32,
    stream_type: DMUS_STREAM_TYPE,
    format: *mut KSDATAFORMAT,
    service_group_out: *mut PSERVICEGROUP,
    allocator: *mut IAllocatorMXF,
    clock: *mut IMasterClock,
    prefetch: *mut u64,
) -> NTSTATUS {
    // SAFETY: PortCls' out-pointers, null or writable. Any IRQL (memory only).
    if let Err(status) = unsafe {
        begin_new_stream(
            mxf_out,
            service_group_out,
            prefetch,
            outer,
            allocator,
            clock,
        )
    } {
        return status;
    }
    // SAFETY: called through our vtable on a live object. Any IRQL (memory only).
    let miniport = unsafe { Miniport::from_this(this) };
    let Some(setup) = miniport.setup() else {
        return STATUS_INVALID_DEVICE_REQUEST;
    };
    let capture = match (pin, stream_type) {
        (PIN_LEGACY_RENDER | PIN_DMUSIC_RENDER, DMUS_STREAM_MIDI_RENDER) => false,
        (PIN_CAPTURE, DMUS_STREAM_MIDI_CAPTURE) => true,
        _ => return STATUS_INVALID_DEVICE_REQUEST,
    };
    if !format.is_null() {
        // SAFETY: PortCls' format for the pin, readable; unaligned header read. Any IRQL (memory
        // only).
        let format = unsafe { format.read_unaligned() };
        if our_range(pin, &format).is_none() {
            return STATUS_NO_MATCH;
        }
    }
    if !miniport.claim_pin(pin) {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    let made = if capture {
        // SAFETY: live allocator and clock from PortCls; PASSIVE_LEVEL.
        unsafe { CaptureStream::create(NonNull::from(miniport), setup, allocator, clock) }
    } else {
        // SAFETY: as above. PASSIVE_LEVEL (NewStream).
        unsafe { RenderStream::create(NonNull::from(miniport), pin, setup, allocator, clock) }
    };
    let stream = match made {
        Ok(stream) => stream,
        Err(status) => {
            miniport.release_pin(pin);
            return status;
        }
    };
    // SAFETY: writable out-pointers (checked); the stream's one reference goes to PortCls. Any IRQL
    // (memory only).
    unsafe { mxf_out.write(stream.as_ptr()) };
    let ahead = if capture { 0 } else { RENDER_PREFETCH_100NS };
    // SAFETY: writable (checked). Any IRQL (memory only).
    unsafe { prefetch.write(ahead) };
    if capture {
        let group = setup.service_group;
        // SAFETY: our live group; the reference handed out is the port's. Any IRQL (reads the
        // vtable pointer).
        let vtable = unsafe { crate::com::vtable(group.as_ptr()) };
        // SAFETY: AddRef on a live object. IRQL ≤ DISPATCH_LEVEL.
        unsafe { (vtable.base.base.AddRef)(group.as_ptr().cast()) };
        // SAFETY: writable (checked). Any IRQL (memory only).
        unsafe { service_group_out.write(group.as_ptr()) };
    }
    STATUS_SUCCESS
}
