//! The event pool trait: where events and long-data buffers come from and go
//! back to. The driver implements it over nonpaged lookaside lists (or the
//! port's `IAllocatorMXF`); the host uses [`super::FixedPool`].

use core::ptr::NonNull;
use dmus_sys::dmusic::DMUS_KERNEL_EVENT;

/// Counters every pool keeps.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PoolStats {
    /// Events handed out and not yet given back.
    pub events_in_use: usize,
    /// The most events ever in use at once.
    pub events_high_water: usize,
    /// Event requests that failed (pool exhausted).
    pub event_failures: u64,
    /// Data buffers handed out and not yet given back.
    pub buffers_in_use: usize,
    /// The most data buffers ever in use at once.
    pub buffers_high_water: usize,
    /// Buffer requests that failed (pool exhausted).
    pub buffer_failures: u64,
}

impl PoolStats {
    /// Records one more event handed out.
    pub fn event_taken(&mut self) {
        self.events_in_use += 1;
        self.events_high_water = self.events_high_water.max(self.events_in_use);
    }

    /// Records one more buffer handed out.
    pub fn buffer_taken(&mut self) {
        self.buffers_in_use += 1;
        self.buffers_high_water = self.buffers_high_water.max(self.buffers_in_use);
    }
}

/// A source of zeroed events and fixed-size data buffers.
///
/// Exhaustion is an ordinary result (`None`), never a crash. Calls happen at
/// IRQL <= `DISPATCH_LEVEL` in the driver, so implementations must not block.
///
/// # Safety
///
/// Implementors promise that:
/// - [`get_event`](Self::get_event) returns a pointer to a properly aligned,
///   zero-filled `DMUS_KERNEL_EVENT`, valid for reads and writes and used by
///   nothing else until it is given back with [`put_event`](Self::put_event);
/// - [`get_buffer`](Self::get_buffer) returns a pointer to
///   [`buffer_size`](Self::buffer_size) bytes, valid for reads and writes and
///   used by nothing else until it is given back with
///   [`put_buffer`](Self::put_buffer);
/// - `buffer_size` never changes while buffers are out;
/// - memory handed out stays valid until it is given back, even if the pool
///   itself is dropped meanwhile.
pub unsafe trait EventPool {
    /// A zeroed event (`IAllocatorMXF::GetMessage`), or `None` when exhausted.
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>>;

    /// Gives back one event. [`super::Chain::free`] hands over only detached
    /// events: `pNextEvt` null, no buffer, no package.
    ///
    /// # Safety
    /// `event` came from this pool's `get_event` and is not used afterwards.
    unsafe fn put_event(&mut self, event: NonNull<DMUS_KERNEL_EVENT>);

    /// Size in bytes of every data buffer (`IAllocatorMXF::GetBufferSize`).
    fn buffer_size(&self) -> usize;

    /// A data buffer of [`buffer_size`](Self::buffer_size) bytes, or `None`
    /// when exhausted.
    fn get_buffer(&mut self) -> Option<NonNull<u8>>;

    /// Gives back one data buffer.
    ///
    /// # Safety
    /// `buffer` came from this pool's `get_buffer` and is not used afterwards.
    unsafe fn put_buffer(&mut self, buffer: NonNull<u8>);

    /// The pool's counters.
    fn stats(&self) -> PoolStats;
}

/// Where a stream's spent chains go: whole, in one call. A miniport gives
/// them to the port's allocator (`IAllocatorMXF::PutMessage`, which frees
/// buffers and packages itself: dmusicks.h says miniports do not call
/// `PutBuffer`); the default gives a chain back event by event with
/// [`super::Chain::free`], as a host pool takes it.
pub trait Discard: EventPool {
    /// Gives `chain` back, every event and buffer exactly once.
    fn discard(&mut self, chain: super::Chain) {
        let _count = chain.free(self);
    }
}

impl Discard for super::FixedPool {}

impl<P: EventPool, const N: usize> Discard for super::CountingPool<P, N> {}
