//! The port's `IAllocatorMXF`: the events and data buffers the port and the miniport's streams
//! share, and the last stop of every spent chain (`PutMessage` takes a whole chain back, its
//! buffers and package contents too). As PortCls keeps them, events and buffers come from two
//! nonpaged lookaside lists (the `lookaside` module: initialised by the kernel, allocated from
//! and freed to with wdm.h's inline routines), one of event entries and one of
//! `BUFFER_SIZE`-byte buffers, so the allocator has no fixed capacity: a miss takes a new
//! block from the stand-in's counted pool. Its counters say how many events and buffers are out, which the
//! job reports (a stream that loses events leaks here, and the pool accounting shows every
//! entry not freed by the unload).
//!
//! Each entry carries a mark after its payload (an event's `DMUS_KERNEL_EVENT`, a buffer's
//! bytes): handed out, or back. An entry given back twice while cached is refused and counted
//! ([`Allocator::bad_returns`]) instead of corrupting the list (what mxf's fixed pool caught
//! with its bounds; a pointer that never came from the lists is not caught).

mod lookaside;

use core::ffi::c_void;
use core::ptr::NonNull;

use com_object::{AllocatorMxfImpl, ComObject, ComRef, MxfImpl};
use dmus_sys::dmus_com::{IAllocatorMXF, PMXF};
use dmus_sys::dmusic::{DMUS_KERNEL_EVENT, PDMUS_KERNEL_EVENT};
use dmus_sys::kernel::{
    NTSTATUS, PVOID, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::KSSTATE;
use mxf::{Chain, EventPool, PoolStats};

pub use self::lookaside::LookasideCounters;
use self::lookaside::LookasideList;
use crate::pool::Pool;
use crate::spin::SpinMutex;

/// Bytes per data buffer (`GetBufferSize`).
pub const BUFFER_SIZE: usize = 256;

/// The mark of an entry handed out.
const HANDED_OUT: u64 = u64::from_le_bytes(*b"PcStUsed");
/// The mark of an entry given back.
const GIVEN_BACK: u64 = u64::from_le_bytes(*b"PcStBack");

/// An event list entry: the event, then its mark.
#[repr(C)]
struct EventEntry {
    event: DMUS_KERNEL_EVENT,
    mark: u64,
}

/// A buffer list entry: the buffer's bytes, then its mark.
#[repr(C)]
struct BufferEntry {
    bytes: [u8; BUFFER_SIZE],
    mark: u64,
}

/// The mark of the event entry that starts at `event` (address arithmetic only).
fn event_mark(event: NonNull<DMUS_KERNEL_EVENT>) -> *mut u64 {
    event
        .as_ptr()
        .wrapping_byte_add(core::mem::offset_of!(EventEntry, mark))
        .cast()
}

/// The mark of the buffer entry that starts at `buffer` (address arithmetic only).
fn buffer_mark(buffer: NonNull<u8>) -> *mut u64 {
    #[allow(
        clippy::cast_ptr_alignment,
        reason = "a buffer starts an entry, 16-byte aligned; the mark is at an 8-byte multiple"
    )]
    let mark = buffer
        .as_ptr()
        .wrapping_add(core::mem::offset_of!(BufferEntry, mark))
        .cast::<u64>();
    mark
}

/// Size of an event entry.
const EVENT_ENTRY: usize = size_of::<EventEntry>();
/// Size of a buffer entry.
const BUFFER_ENTRY: usize = size_of::<BufferEntry>();

/// The event list's `Free` routine (`FREE_FUNCTION`). IRQL ≤ DISPATCH_LEVEL.
unsafe extern "system" fn free_event_entry(entry: PVOID) {
    // SAFETY: an entry of the event list, which allocate_block(EVENT_ENTRY) made (the list's
    // Allocate), given up by the list. IRQL ≤ DISPATCH_LEVEL.
    unsafe { crate::pool::free_block(entry, EVENT_ENTRY) };
}

/// The buffer list's `Free` routine. IRQL ≤ DISPATCH_LEVEL.
unsafe extern "system" fn free_buffer_entry(entry: PVOID) {
    // SAFETY: as in free_event_entry, for BUFFER_ENTRY.
    unsafe { crate::pool::free_block(entry, BUFFER_ENTRY) };
}

/// The allocator's memory: the two lists and the counters (under the allocator's lock).
pub struct LookasidePool {
    events: LookasideList,
    buffers: LookasideList,
    stats: PoolStats,
    bad_returns: u64,
}

impl LookasidePool {
    fn try_new() -> Result<Self, NTSTATUS> {
        Ok(Self {
            events: LookasideList::try_new(EVENT_ENTRY, free_event_entry)?,
            buffers: LookasideList::try_new(BUFFER_ENTRY, free_buffer_entry)?,
            stats: PoolStats::default(),
            bad_returns: 0,
        })
    }
}

// SAFETY: every event and buffer is a list entry of its own (a pool block of the entry's size,
// 16-byte aligned) that the list hands out once until it comes back (the mark refuses a second
// return while it is cached); events are zeroed before they are handed out; an entry is
// freed only by the list, after it came back, so memory handed out stays valid until then,
// whatever happens to the pool.
unsafe impl EventPool for LookasidePool {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        let Some(entry) = NonNull::new(self.events.allocate().cast::<EventEntry>()) else {
            self.stats.event_failures += 1;
            return None;
        };
        // SAFETY: all-zero bytes are a valid DMUS_KERNEL_EVENT (integers, null pointers, no
        // flags). Any IRQL (memory only).
        let event: DMUS_KERNEL_EVENT = unsafe { core::mem::zeroed() };
        // SAFETY: a fresh entry of EVENT_ENTRY bytes from the list, aligned, ours alone. Any
        // IRQL (memory only).
        unsafe {
            entry.as_ptr().write(EventEntry {
                event,
                mark: HANDED_OUT,
            });
        };
        self.stats.event_taken();
        Some(entry.cast())
    }

    unsafe fn put_event(&mut self, event: NonNull<DMUS_KERNEL_EVENT>) {
        let mark = event_mark(event);
        // SAFETY: an event this pool handed out (the caller's contract) starts an entry whose
        // mark follows it: a u64 inside the entry. Any IRQL.
        if unsafe { mark.read() } != HANDED_OUT {
            self.bad_returns += 1;
            return;
        }
        // SAFETY: as above.
        unsafe { mark.write(GIVEN_BACK) };
        // SAFETY: an entry of the event list, given up (the caller's contract).
        unsafe { self.events.free(event.cast::<c_void>()) };
        self.stats.events_in_use -= 1;
    }

    fn buffer_size(&self) -> usize {
        BUFFER_SIZE
    }

    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        let Some(entry) = NonNull::new(self.buffers.allocate().cast::<BufferEntry>()) else {
            self.stats.buffer_failures += 1;
            return None;
        };
        let buffer = entry.cast::<u8>();
        // SAFETY: the mark of a fresh entry of BUFFER_ENTRY bytes, ours alone. Any IRQL.
        unsafe { buffer_mark(buffer).write(HANDED_OUT) };
        self.stats.buffer_taken();
        Some(buffer)
    }

    unsafe fn put_buffer(&mut self, buffer: NonNull<u8>) {
        let mark = buffer_mark(buffer);
        // SAFETY: a buffer this pool handed out (the caller's contract) starts an entry whose
        // mark follows its BUFFER_SIZE bytes. Any IRQL.
        if unsafe { mark.read() } != HANDED_OUT {
            self.bad_returns += 1;
            return;
        }
        // SAFETY: as above.
        unsafe { mark.write(GIVEN_BACK) };
        // SAFETY: an entry of the buffer list, given up (the caller's contract).
        unsafe { self.buffers.free(buffer.cast::<c_void>()) };
        self.stats.buffers_in_use -= 1;
    }

    fn stats(&self) -> PoolStats {
        self.stats
    }
}

/// The allocator.
pub struct Allocator {
    pool: SpinMutex<LookasidePool>,
}

com_object::class!(Allocator, Pool: IAllocatorMXF);

impl Allocator {
    /// A new allocator (one reference, the caller's).
    ///
    /// # Errors
    /// No memory, or a kernel whose lookaside lists are not as wdm.h lays them out.
    pub fn try_new() -> Result<ComRef<Self>, NTSTATUS> {
        let pool = LookasidePool::try_new()?;
        ComRef::try_new(Self {
            pool: SpinMutex::new(pool),
        })
    }

    /// The pool's counters (events and buffers out).
    pub fn stats(&self) -> PoolStats {
        self.pool.lock().stats()
    }

    /// Events and buffers given back while already back (refused).
    pub fn bad_returns(&self) -> u64 {
        self.pool.lock().bad_returns
    }

    /// The two lists' counters: (events, buffers).
    pub fn lookaside_counters(&self) -> (LookasideCounters, LookasideCounters) {
        let pool = self.pool.lock();
        (pool.events.counters(), pool.buffers.counters())
    }

    /// Runs `f` on the pool (the port builds render chains from it).
    pub fn with_pool<R>(&self, f: impl FnOnce(&mut LookasidePool) -> R) -> R {
        f(&mut self.pool.lock())
    }
}

impl MxfImpl for Allocator {
    fn set_state(_this: &ComObject<Self>, _state: KSSTATE) -> NTSTATUS {
        // No data flow to start or stop.
        STATUS_SUCCESS
    }

    unsafe fn put_message(this: &ComObject<Self>, event: PDMUS_KERNEL_EVENT) -> NTSTATUS {
        if event.is_null() {
            return STATUS_SUCCESS;
        }
        // SAFETY: a chain of this allocator's events, given up by the caller (IMXF's contract).
        let chain = unsafe { Chain::from_raw(event) };
        let _count = chain.free(&mut *this.pool.lock());
        STATUS_SUCCESS
    }

    unsafe fn connect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        // The allocator is the last stop of every chain: it has no output.
        STATUS_UNSUCCESSFUL
    }

    unsafe fn disconnect_output(_this: &ComObject<Self>, _sink: PMXF) -> NTSTATUS {
        STATUS_UNSUCCESSFUL
    }
}

impl AllocatorMxfImpl for Allocator {
    unsafe fn get_message(this: &ComObject<Self>, out: *mut PDMUS_KERNEL_EVENT) -> NTSTATUS {
        if out.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        let event = this.pool.lock().get_event();
        // SAFETY: non-null and writable (the caller's contract).
        unsafe { out.write(event.map_or(core::ptr::null_mut(), NonNull::as_ptr)) };
        if event.is_some() {
            STATUS_SUCCESS
        } else {
            STATUS_INSUFFICIENT_RESOURCES
        }
    }

    fn get_buffer_size(_this: &ComObject<Self>) -> u16 {
        u16::try_from(BUFFER_SIZE).unwrap_or(u16::MAX)
    }

    unsafe fn get_buffer(this: &ComObject<Self>, out: *mut *mut u8) -> NTSTATUS {
        if out.is_null() {
            return STATUS_INVALID_PARAMETER;
        }
        let buffer = this.pool.lock().get_buffer();
        // SAFETY: non-null and writable (the caller's contract).
        unsafe { out.write(buffer.map_or(core::ptr::null_mut(), NonNull::as_ptr)) };
        if buffer.is_some() {
            STATUS_SUCCESS
        } else {
            STATUS_INSUFFICIENT_RESOURCES
        }
    }

    unsafe fn put_buffer(this: &ComObject<Self>, buffer: *mut u8) -> NTSTATUS {
        let Some(buffer) = NonNull::new(buffer) else {
            return STATUS_INVALID_PARAMETER;
        };
        // SAFETY: a buffer of this pool, given back once (the caller's contract).
        unsafe { this.pool.lock().put_buffer(buffer) };
        STATUS_SUCCESS
    }
}
