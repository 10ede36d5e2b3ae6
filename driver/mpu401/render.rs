//! The render stream COM object (`IMXF`): PortCls hands it events with
//! `PutMessage` (DISPATCH_LEVEL), it keeps them in its [`RenderEngine`] and
//! writes them from its timer's callback when due.
//!
//! Several streams may be open on each render pin: each has its own engine (sequencer, KS
//! state, timer) and they share the card's one wire through the miniport's
//! [`SharedWire`](mpu401::SharedWire), message by message (mpu401's `wire` module).
//!
//! One timer per stream, armed for the engine's next wake time: the earliest
//! held event, or a retry one wire byte later while the card is backed up.
//! `PutMessage` services at once (events already due go out without waiting
//! for a timer tick) and re-arms. Everything runs under the stream's spin
//! lock at DISPATCH_LEVEL; the lock is never held across a call into the port
//! other than the allocator's `PutMessage`, which does not call back.

use core::ptr::NonNull;

use com_object::{ComObject, ComRef, MxfImpl};
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, IMasterClock, PMXF};
use dmus_sys::dmusic::PDMUS_KERNEL_EVENT;
use dmus_sys::kernel::{
    EX_TIMER, KDPC, NTSTATUS, PVOID, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_DEVICE_REQUEST,
    STATUS_INVALID_PARAMETER, STATUS_IO_DEVICE_ERROR, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
use mxf::Chain;

use super::hardware::CardIo;
use super::miniport::{Miniport, Setup};
use super::properties::StreamReport;
use super::time::StreamKind;
use crate::com::Pool;
use crate::miniport::allocator::Allocator;
use crate::miniport::clock::MasterClock;
use crate::miniport::spin_lock::SpinLock;
use crate::miniport::timer::StreamTimer;
use mpu401::render_engine::{RenderConfig, RenderEngine, TimerGrain};

/// What the lock protects.
struct RenderInner {
    engine: RenderEngine,
    allocator: Allocator,
    /// What the timer's next callback is measured from: the master time it
    /// was armed for (an event's wake) or the start of the call that armed it
    /// (a retry); see [`TimerGrain::observe`].
    armed_since: Option<i64>,
    /// How long after a call the next may come: how long the card must play on its own.
    grain: TimerGrain,
}

/// A render stream on pin 0 (legacy MIDI) or 1 (DirectMusic).
#[repr(C)]
pub struct RenderStream {
    /// Always [`StreamKind::Render`]; first in both stream types (see `StreamKind`).
    kind: StreamKind,
    pin: u32,
    /// The stream's id among the miniport's streams: its name on the shared wire.
    id: u32,
    io: CardIo,
    clock: MasterClock,
    /// Made with the stream; its callbacks get the stream.
    timer: Option<StreamTimer>,
    inner: SpinLock<RenderInner>,
    /// The stream's reference on its miniport: the last field, so it is released after
    /// everything else the stream holds.
    miniport: ComRef<Miniport>,
}

com_object::class!(RenderStream, Pool: IMXF);

const KIND: StreamKind = StreamKind::Render;

impl RenderStream {
    /// Makes a stream with one reference for the caller. PASSIVE_LEVEL.
    ///
    /// # Errors
    /// `STATUS_INSUFFICIENT_RESOURCES` (pool or timer), `STATUS_INVALID_PARAMETER`
    /// for a null allocator or clock.
    ///
    /// # Safety
    /// `allocator` and `clock` are PortCls' live objects.
    pub(crate) unsafe fn create(
        miniport: ComRef<Miniport>,
        pin: u32,
        id: u32,
        setup: &Setup,
        allocator: *mut IAllocatorMXF,
        clock: *mut IMasterClock,
    ) -> Result<NonNull<IMXF>, NTSTATUS> {
        // SAFETY: PortCls' live allocator. PASSIVE_LEVEL (NewStream).
        let allocator = unsafe { Allocator::add_ref(allocator) }.ok_or(STATUS_INVALID_PARAMETER)?;
        // SAFETY: PortCls' live clock. PASSIVE_LEVEL (NewStream).
        let clock = unsafe { MasterClock::add_ref(clock) }.ok_or(STATUS_INVALID_PARAMETER)?;
        let io = setup.io;
        let stream = ComRef::<Self>::try_new_with(|place| {
            // SAFETY: the callbacks run at DISPATCH_LEVEL with the stream made in this
            // place, which outlives the timer (its destructor deletes it first); the timer
            // is not armed before the stream is made. PASSIVE_LEVEL.
            let timer = unsafe { StreamTimer::new(on_timer, on_dpc, place.as_mut_ptr().cast()) }
                .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
            Ok(place.write(Self {
                kind: KIND,
                pin,
                id,
                io,
                clock,
                timer: Some(timer),
                inner: SpinLock::new(RenderInner {
                    engine: RenderEngine::new(RenderConfig::DEFAULT),
                    allocator,
                    armed_since: None,
                    grain: TimerGrain::new(),
                }),
                miniport,
            }))
        })?;
        Ok(stream.into_raw())
    }

    /// What the property handler reports. IRQL ≤ DISPATCH_LEVEL.
    pub(crate) fn report(&self) -> StreamReport {
        let now = self.clock.now();
        let inner = self.inner.lock();
        StreamReport {
            now,
            backlog_bytes: inner.engine.backlog_bytes(),
            lost: inner.engine.stats().events_lost,
        }
    }

    /// Services the engine and re-arms the timer; `from_timer` when the timer's
    /// own callback calls, which teaches the grain how late it fired. IRQL ≤
    /// DISPATCH_LEVEL.
    fn service(&self, from_timer: bool) {
        let mut inner = self.inner.lock();
        let now = self.clock.now();
        let mut io = self.io;
        let RenderInner {
            engine,
            allocator,
            armed_since,
            grain,
        } = &mut *inner;
        if from_timer {
            if let Some(at) = armed_since.take() {
                grain.observe(at, now);
            }
        }
        engine.set_grain(grain.estimate());
        let mut wire = self.miniport.wire().lock();
        let outcome = engine.service_shared(now, &mut io, allocator, &mut wire, self.id);
        drop(wire);
        if let (Some(timer), Some(at)) = (&self.timer, outcome.wake_at) {
            // Relative to the clock after the card's polls, which took time.
            timer.arm(at.saturating_sub(self.clock.now()));
            *armed_since = Some(if outcome.retry { now } else { at });
        }
    }
}

impl Drop for RenderStream {
    fn drop(&mut self) {
        if let Some(timer) = &self.timer {
            // Deleted first, in place (a callback on another processor may be reading
            // `self.timer` until it returns), and waited for: no callback runs after this.
            timer.delete();
        }
        let inner = self.inner.get_mut();
        inner.engine.drain(&mut inner.allocator);
        self.miniport.wire().lock().forget(self.id);
        self.miniport.release_pin(self.pin, self.id);
    }
}

unsafe extern "system" fn on_timer(_timer: *mut EX_TIMER, context: PVOID) {
    // SAFETY: the context is the stream, alive until its timer is deleted. DISPATCH_LEVEL.
    unsafe { &*context.cast::<RenderStream>() }.service(true);
}

unsafe extern "system" fn on_dpc(_dpc: *mut KDPC, context: PVOID, _a: PVOID, _b: PVOID) {
    // SAFETY: as in on_timer. Any IRQL (memory only).
    unsafe { &*context.cast::<RenderStream>() }.service(true);
}

impl MxfImpl for RenderStream {
    fn set_state(this: &ComObject<Self>, state: KSSTATE) -> NTSTATUS {
        if !(KSSTATE_STOP..=KSSTATE_RUN).contains(&state) {
            return STATUS_INVALID_PARAMETER;
        }
        {
            let mut inner = this.inner.lock();
            let now = this.clock.now();
            let RenderInner {
                engine, allocator, ..
            } = &mut *inner;
            engine.set_state(state, now, allocator);
        }
        if state == KSSTATE_STOP {
            if let Some(timer) = &this.timer {
                timer.cancel();
            }
        }
        this.service(false);
        STATUS_SUCCESS
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        // SAFETY: PortCls hands over a whole chain of its allocator's events (or
        // null); from here this stream owns it until it goes back. DISPATCH_LEVEL.
        let chain = unsafe { Chain::from_raw(event) };
        let accepted = {
            let mut inner = this.inner.lock();
            let RenderInner {
                engine, allocator, ..
            } = &mut *inner;
            engine.put(chain, allocator)
        };
        this.service(false);
        match accepted {
            Ok(()) => STATUS_SUCCESS,
            Err(_) => STATUS_IO_DEVICE_ERROR,
        }
    }

    unsafe fn connect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        // A render stream's output is the wire, not another IMXF.
        STATUS_INVALID_DEVICE_REQUEST
    }

    unsafe fn disconnect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_INVALID_DEVICE_REQUEST
    }
}
