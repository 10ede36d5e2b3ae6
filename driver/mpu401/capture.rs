//! The capture stream COM object (`IMXF`): the MPU-401's input, parsed into
//! events from the port's allocator and sent to the capture sink.
//!
//! Several capture streams may be open (one per client): every one gets every
//! message. Bytes arrive in the miniport's input ring with one timestamp each
//! (the ISR's, or a poll timer's when the card has no IRQ). [`pump`]
//! (DISPATCH_LEVEL: the miniport's `Service`, a `PutMessage(NULL)` from the
//! port, or a poll timer) takes them out in batches under the interrupt
//! lock and hands each batch to every open stream, which parses it with its
//! own parser, in its own KS state — running status, realtime bytes inside
//! other messages, sysex in pieces — and stamps each message with the
//! time of its own first byte, converted to master time. Whole messages are
//! `DMUS_KEF_EVENT_COMPLETE`; sysex pieces other than the last are
//! `DMUS_KEF_EVENT_INCOMPLETE`. In STOP and ACQUIRE input is thrown away
//! (reference.md); a full ring counts its overflow and keeps what it has.

use core::ptr::NonNull;

use com_object::{ComObject, ComRef, MxfImpl};
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, IMasterClock, PMXF};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::kernel::{
    EX_TIMER, KDPC, NTSTATUS, PVOID, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_SUCCESS, STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
use dmus_sys::portcls::IInterruptSync;
use mpu401::TimedByte;
use mxf::Chain;
use mxf::capture::{CaptureParser, capture_passes_data};

use super::hardware::CardIo;
use super::miniport::{ISR_MAX_READS, Miniport, Setup};
use super::properties::StreamReport;
use super::time::StreamKind;
use crate::com::Pool;
use crate::miniport::allocator::Allocator;
use crate::miniport::clock::MasterClock;
use crate::miniport::spin_lock::SpinLock;
use crate::miniport::timer::StreamTimer;

/// Bytes moved out of the ring per synchronized call (bounds time at DIRQL).
pub const BATCH: usize = 32;
/// Batches one pump handles before it asks the port for another service
/// (bounds the DPC).
pub const PUMP_BATCHES: usize = 2;
/// The largest sysex piece one event carries.
pub const SYSEX_PIECE: usize = 64;
/// The poll period without an IRQ (100 ns): 1 ms.
pub const POLL_PERIOD_100NS: i64 = 10_000;
/// Channel group of captured events (the MPU-401 has one).
pub const CAPTURE_GROUP: u16 = 1;

/// Counters of a capture stream.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureStats {
    /// Events sent to the sink.
    pub events: u64,
    /// Messages lost because the allocator had no event.
    pub no_event: u64,
    /// Bytes the full ring could not take.
    pub overflow: u64,
    /// Bytes thrown away because the stream was in STOP or ACQUIRE.
    pub discarded: u64,
}

struct CaptureInner {
    parser: CaptureParser<SYSEX_PIECE>,
    allocator: Allocator,
    /// The connected sink (one reference held), or none: the allocator.
    sink: Option<NonNull<IMXF>>,
    state: KSSTATE,
    stats: CaptureStats,
}

// SAFETY: the sink is a COM reference usable from any thread at IRQL ≤
// DISPATCH_LEVEL; everything else is plain data. Reached only under the lock.
unsafe impl Send for CaptureInner {}

/// A capture stream on pin 4.
#[repr(C)]
pub struct CaptureStream {
    /// Always [`StreamKind::Capture`]; first in both stream types (see `StreamKind`).
    kind: StreamKind,
    /// The stream's id among the miniport's streams.
    id: u32,
    io: CardIo,
    polled: bool,
    clock: MasterClock,
    /// The poll timer (no IRQ only); made with the stream.
    timer: Option<StreamTimer>,
    inner: SpinLock<CaptureInner>,
    /// The stream's reference on its miniport: the last field, so it is released after
    /// everything else the stream holds.
    miniport: ComRef<Miniport>,
}

com_object::class!(CaptureStream, Pool: IMXF);

const KIND: StreamKind = StreamKind::Capture;

/// Bytes taken from the ring in one synchronized call.
struct Batch<'a> {
    miniport: &'a Miniport,
    io: CardIo,
    bytes: [TimedByte; BATCH],
    len: usize,
    overflow: u32,
    clear: bool,
}

impl<'a> Batch<'a> {
    fn new(miniport: &'a Miniport, io: CardIo) -> Self {
        Self {
            miniport,
            io,
            bytes: [TimedByte::default(); BATCH],
            len: 0,
            overflow: 0,
            clear: false,
        }
    }
}

/// Reads what the card holds (at most [`ISR_MAX_READS`] bytes, each stamped)
/// into the ring, then moves up to [`BATCH`] bytes out of it (or clears it).
/// Runs at DIRQL with the interrupt lock held, or at DISPATCH_LEVEL under the
/// capture lock when polled: either way no ISR touches card or ring meanwhile.
unsafe extern "system" fn take_batch(_sync: *mut IInterruptSync, context: PVOID) -> NTSTATUS {
    // SAFETY: the context is the caller's Batch, alive for the call. Any IRQL (memory only).
    let batch = unsafe { &mut *context.cast::<Batch<'_>>() };
    let miniport = batch.miniport;
    // SAFETY: the caller holds the lock that makes the ring ours (see Miniport::input). Any IRQL
    // (memory only).
    let ring = unsafe { miniport.input() };
    let _report = mpu401::drain_input(&mut batch.io, ring, ISR_MAX_READS, super::qpc_100ns);
    batch.overflow = ring.take_dropped();
    if batch.clear {
        ring.clear();
        return STATUS_SUCCESS;
    }
    while batch.len < BATCH {
        let Some(byte) = ring.pop() else { break };
        batch.bytes[batch.len] = byte;
        batch.len += 1;
    }
    STATUS_SUCCESS
}

/// Runs [`take_batch`] with the ring exclusively ours.
///
/// # Safety
/// Without an interrupt, the caller holds the capture list's lock.
unsafe fn synchronized(miniport: &Miniport, batch: &mut Batch) {
    let context = core::ptr::from_mut(batch).cast();
    match miniport.interrupt() {
        Some(sync) => {
            // SAFETY: the miniport's connected interrupt object (live while it is). Any IRQL (reads
            // the vtable pointer).
            let vtable = unsafe { crate::com::vtable(sync.as_ptr()) };
            // SAFETY: take_batch has PINTERRUPTSYNCROUTINE's signature and a
            // context valid for the call; callable at IRQL ≤ DISPATCH_LEVEL.
            unsafe { (vtable.CallSynchronizedRoutine)(sync.as_ptr(), Some(take_batch), context) };
        }
        // SAFETY: no ISR exists; the caller's capture list lock serialises the ring.
        // DISPATCH_LEVEL, under that lock.
        None => unsafe {
            take_batch(core::ptr::null_mut(), context);
        },
    }
}

/// Moves input from the card and the ring to every open capture stream, or
/// empties the ring when none is open. DISPATCH_LEVEL; bounded by
/// [`PUMP_BATCHES`] batches of [`BATCH`] bytes (more waiting input asks the
/// port for another service; poll timers cover polled cards).
pub(crate) fn pump(miniport: &Miniport) {
    let Some(setup) = miniport.setup() else {
        return;
    };
    let list = miniport.captures().lock();
    let open = || list.iter().flatten();
    let mut batch = Batch::new(miniport, setup.io);
    if open().next().is_none() {
        if miniport.interrupt().is_some() {
            // Polled cards only fill the ring from an open capture stream.
            batch.clear = true;
            // SAFETY: with an interrupt, the synchronized call holds its lock. DISPATCH_LEVEL.
            unsafe { synchronized(miniport, &mut batch) };
        }
        return;
    }
    let mut more = false;
    for _ in 0..PUMP_BATCHES {
        let mut batch = Batch::new(miniport, setup.io);
        // SAFETY: we hold the capture list's lock (needed when polled). DISPATCH_LEVEL.
        unsafe { synchronized(miniport, &mut batch) };
        more = batch.len == BATCH;
        for stream in open() {
            // SAFETY: a listed stream is live: it takes itself out under this lock
            // before it is freed. DISPATCH_LEVEL.
            unsafe { stream.as_ref() }.take(&batch.bytes[..batch.len], batch.overflow);
        }
        if batch.len == 0 {
            break;
        }
    }
    for stream in open() {
        // SAFETY: as above. DISPATCH_LEVEL.
        unsafe { stream.as_ref() }.release_held();
    }
    drop(list);
    if more && !setup.polled {
        // Input is still waiting: ask for another service rather than
        // stretch this DPC (the poll timers cover polled cards).
        // SAFETY: the live port and group from Init; Notify at DISPATCH_LEVEL.
        let vtable = unsafe { crate::com::vtable(setup.port.as_ptr()) };
        // SAFETY: as above. DISPATCH_LEVEL.
        unsafe { (vtable.Notify)(setup.port.as_ptr(), setup.service_group.as_ptr()) };
    }
}

impl CaptureStream {
    /// Makes stream `id` (a capture id from `Pins::claim`) with one reference for
    /// the caller and puts it in the miniport's capture list at `id`. PASSIVE_LEVEL.
    ///
    /// # Errors
    /// `STATUS_INSUFFICIENT_RESOURCES` (pool or timer) or `STATUS_INVALID_PARAMETER`.
    ///
    /// # Safety
    /// `allocator` and `clock` are PortCls' live objects.
    pub(crate) unsafe fn create(
        miniport: ComRef<Miniport>,
        id: u32,
        setup: &Setup,
        allocator: *mut IAllocatorMXF,
        clock: *mut IMasterClock,
    ) -> Result<NonNull<IMXF>, NTSTATUS> {
        // SAFETY: PortCls' live allocator. PASSIVE_LEVEL (NewStream).
        let allocator = unsafe { Allocator::add_ref(allocator) }.ok_or(STATUS_INVALID_PARAMETER)?;
        // SAFETY: PortCls' live clock. PASSIVE_LEVEL (NewStream).
        let clock = unsafe { MasterClock::add_ref(clock) }.ok_or(STATUS_INVALID_PARAMETER)?;
        let (io, polled) = (setup.io, setup.polled);
        let stream = ComRef::<Self>::try_new_with(|place| {
            let timer = if polled {
                // SAFETY: the callbacks get the stream made in this place, which deletes
                // the timer before it is freed; the timer is armed only once the stream is
                // made (SetState). PASSIVE_LEVEL.
                let timer =
                    unsafe { StreamTimer::new(on_timer, on_dpc, place.as_mut_ptr().cast()) };
                Some(timer.map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?)
            } else {
                None
            };
            Ok(place.write(Self {
                kind: KIND,
                id,
                io,
                polled,
                clock,
                timer,
                inner: SpinLock::new(CaptureInner {
                    parser: CaptureParser::new(CAPTURE_GROUP),
                    allocator,
                    sink: None,
                    state: KSSTATE_STOP,
                    stats: CaptureStats::default(),
                }),
                miniport,
            }))
        })?;
        // The id of a capture stream is its place in the list (`pins`).
        let mut list = stream.miniport.captures().lock();
        if let Some(entry) = usize::try_from(id).ok().and_then(|i| list.get_mut(i)) {
            *entry = Some(NonNull::from(&**stream));
        }
        drop(list);
        Ok(stream.into_raw())
    }

    /// What the property handler reports (capture has no backlog).
    pub(crate) fn report(&self) -> StreamReport {
        StreamReport {
            now: self.clock.now(),
            backlog_bytes: 0,
            lost: self.inner.lock().stats.no_event,
        }
    }

    /// Parses a batch of input for this stream's client and sends the events
    /// to its sink; counts what the ring could not take (`overflow`).
    /// DISPATCH_LEVEL, the capture list's lock held.
    fn take(&self, bytes: &[TimedByte], overflow: u32) {
        let mut inner = self.inner.lock();
        inner.stats.overflow += u64::from(overflow);
        if bytes.is_empty() {
            return;
        }
        if !capture_passes_data(inner.state) {
            inner.stats.discarded += bytes.len() as u64;
            return;
        }
        let offset = self.clock.now().wrapping_sub(signed(super::qpc_100ns()));
        let CaptureInner {
            parser,
            allocator,
            sink,
            stats,
            ..
        } = &mut *inner;
        let mut events = Chain::new();
        let timed = bytes
            .iter()
            .map(|byte| (byte.byte, signed(byte.time).wrapping_add(offset)));
        let report = parser.parse(timed, allocator, &mut events);
        stats.events += report.events as u64;
        stats.no_event += report.dropped as u64;
        deliver(events, *sink, allocator);
    }

    /// A sender stalled inside a message must not hold the clock bytes that
    /// arrived within it for longer than the parser's bound: sends them.
    /// DISPATCH_LEVEL, the capture list's lock held.
    fn release_held(&self) {
        let mut inner = self.inner.lock();
        if !capture_passes_data(inner.state) {
            return;
        }
        let CaptureInner {
            parser,
            allocator,
            sink,
            stats,
            ..
        } = &mut *inner;
        let mut events = Chain::new();
        let report = parser.release_held(self.clock.now(), allocator, &mut events);
        stats.events += report.events as u64;
        stats.no_event += report.dropped as u64;
        deliver(events, *sink, allocator);
    }
}

/// A counter time as the signed 100 ns of master time (counter times never reach 2^63).
fn signed(time: u64) -> i64 {
    i64::try_from(time).unwrap_or(i64::MAX)
}

/// Sends a chain to the sink (or back to the allocator when unconnected).
fn deliver(events: Chain, sink: Option<NonNull<IMXF>>, allocator: &mut Allocator) {
    match sink {
        None => allocator.give_back(events),
        Some(sink) => {
            let head = events.into_raw();
            if head.is_null() {
                return;
            }
            // SAFETY: the connected sink, referenced by this stream. Any IRQL (reads the vtable
            // pointer).
            let vtable = unsafe { crate::com::vtable(sink.as_ptr()) };
            // SAFETY: hands the whole chain (our allocator's events) to the
            // sink, which owns it from here. DISPATCH_LEVEL.
            unsafe { (vtable.PutMessage)(sink.as_ptr(), head) };
        }
    }
}

impl Drop for CaptureStream {
    fn drop(&mut self) {
        if let Some(timer) = &self.timer {
            // Deleted first, in place (a poll on another processor may be reading
            // `self.timer` until it returns), and waited for: no poll runs after this.
            timer.delete();
        }
        let miniport: &Miniport = &self.miniport;
        // After this no pump can reach the stream (it takes the same lock).
        let me = NonNull::from(&*self);
        for entry in miniport.captures().lock().iter_mut() {
            if *entry == Some(me) {
                *entry = None;
            }
        }
        let inner = self.inner.get_mut();
        if let Some(sink) = inner.sink.take() {
            // SAFETY: the reference ConnectOutput took, released once. IRQL ≤ DISPATCH_LEVEL.
            unsafe { crate::com::release(sink.as_ptr()) };
        }
        miniport.release_pin(super::descriptor::PIN_CAPTURE, self.id);
    }
}

unsafe extern "system" fn on_timer(_timer: *mut EX_TIMER, context: PVOID) {
    // SAFETY: the stream, alive until its timer is deleted. DISPATCH_LEVEL.
    unsafe { &*context.cast::<CaptureStream>() }.poll();
}

unsafe extern "system" fn on_dpc(_dpc: *mut KDPC, context: PVOID, _a: PVOID, _b: PVOID) {
    // SAFETY: as in on_timer. Any IRQL (memory only).
    unsafe { &*context.cast::<CaptureStream>() }.poll();
}

impl CaptureStream {
    /// The poll timer's work: pump (for every capture stream), then poll again
    /// while this stream wants input.
    fn poll(&self) {
        pump(&self.miniport);
        let wanted = capture_passes_data(self.inner.lock().state);
        if let (true, Some(timer)) = (wanted, &self.timer) {
            timer.arm(POLL_PERIOD_100NS);
        }
    }
}

impl MxfImpl for CaptureStream {
    fn set_state(this: &ComObject<Self>, state: KSSTATE) -> NTSTATUS {
        if !(KSSTATE_STOP..=KSSTATE_RUN).contains(&state) {
            return STATUS_INVALID_PARAMETER;
        }
        let stream = this;
        {
            let mut inner = stream.inner.lock();
            inner.state = state;
            if state == KSSTATE_STOP {
                inner.parser = CaptureParser::new(CAPTURE_GROUP);
            }
        }
        if state == KSSTATE_STOP {
            // Old input must not reach a later RUN: empty the ring, unless another
            // stream still takes input (each stream drops what arrives while it does not).
            let miniport: &Miniport = &stream.miniport;
            let me = NonNull::from(&**stream);
            let list = miniport.captures().lock();
            let others_listen = list.iter().flatten().any(|&other| {
                // SAFETY: a listed stream is live while the list lock is held. DISPATCH_LEVEL.
                other != me && capture_passes_data(unsafe { other.as_ref() }.inner.lock().state)
            });
            if !others_listen {
                let mut batch = Batch::new(miniport, stream.io);
                batch.clear = true;
                // SAFETY: we hold the capture list's lock (needed when polled). DISPATCH_LEVEL.
                unsafe { synchronized(miniport, &mut batch) };
            }
        }
        if let Some(timer) = &stream.timer {
            if capture_passes_data(state) {
                timer.arm(POLL_PERIOD_100NS);
            } else {
                timer.cancel();
            }
        }
        STATUS_SUCCESS
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        let stream = this;
        if event.is_null() {
            // The port asks for input (as the DDK's port does): pump it.
            pump(&stream.miniport);
            return STATUS_SUCCESS;
        }
        // SAFETY: a chain the port hands over; a capture stream takes no data, so
        // it goes straight back. DISPATCH_LEVEL.
        let chain = unsafe { Chain::from_raw(event) };
        stream.inner.lock().allocator.give_back(chain);
        STATUS_INVALID_DEVICE_REQUEST
    }

    unsafe fn connect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS {
        let Some(sink) = NonNull::new(sink) else {
            return STATUS_INVALID_PARAMETER;
        };
        let stream = this;
        let mut inner = stream.inner.lock();
        if inner.sink.is_some() {
            return STATUS_UNSUCCESSFUL;
        }
        // SAFETY: the port's live sink (ConnectOutput's contract); the reference is ours until
        // disconnect. IRQL ≤ DISPATCH_LEVEL.
        unsafe { crate::com::add_ref(sink.as_ptr()) };
        inner.sink = Some(sink);
        STATUS_SUCCESS
    }

    unsafe fn disconnect_output(this: &ComObject<Self>, sink: PMXF) -> NTSTATUS {
        let stream = this;
        let mut inner = stream.inner.lock();
        match inner.sink {
            Some(current) if sink.is_null() || current.as_ptr() == sink => {
                inner.sink = None;
                drop(inner);
                // SAFETY: the reference ConnectOutput took, released once. IRQL ≤ DISPATCH_LEVEL.
                unsafe { crate::com::release(current.as_ptr()) };
                STATUS_SUCCESS
            }
            _ => STATUS_UNSUCCESSFUL,
        }
    }
}
