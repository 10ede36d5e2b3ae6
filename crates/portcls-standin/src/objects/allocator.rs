//! The port's `IAllocatorMXF`: the events and data buffers the port and the miniport's streams
//! share, and the last stop of every spent chain (`PutMessage` takes a whole chain back, its
//! buffers and package contents too). The memory is a fixed pool (mxf's [`FixedPool`]) over
//! nonpaged blocks made when the port is initialised; the pool's counters say how many events
//! and buffers are out, which the job reports (a stream that loses events leaks here).

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::ptr::NonNull;

use com_object::{AllocatorMxfImpl, ComObject, ComRef, MxfImpl};
use dmus_sys::dmus_com::{IAllocatorMXF, PMXF};
use dmus_sys::dmusic::{DMUS_KERNEL_EVENT, PDMUS_KERNEL_EVENT};
use dmus_sys::kernel::{
    NTSTATUS, STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_SUCCESS,
    STATUS_UNSUCCESSFUL,
};
use dmus_sys::ks::KSSTATE;
use mxf::{Chain, EventPool, FixedPool, PoolStats};

use crate::pool::Pool;
use crate::spin::SpinMutex;

/// Events in the pool.
pub const EVENTS: usize = 2048;
/// Data buffers in the pool.
pub const BUFFERS: usize = 64;
/// Bytes per data buffer (`GetBufferSize`).
pub const BUFFER_SIZE: usize = 256;

/// The pool's memory, kept to be freed with the allocator.
struct Memory {
    events: NonNull<[DMUS_KERNEL_EVENT]>,
    event_links: NonNull<[u32]>,
    buffers: NonNull<[u8]>,
    buffer_links: NonNull<[u32]>,
}

/// The allocator.
pub struct Allocator {
    pool: SpinMutex<FixedPool>,
    memory: Memory,
}

// SAFETY: the pool's memory is reached only through `pool`, under its lock; the memory
// pointers are only used to free it in Drop, when no reference is left.
unsafe impl Send for Allocator {}

com_object::class!(Allocator, Pool: IAllocatorMXF);

/// A zeroed slice of `len` `T`s in the pool, leaked (freed by [`Allocator`]'s Drop).
fn zeroed<T: Copy>(len: usize, zero: T) -> Result<&'static mut [T], NTSTATUS> {
    let mut memory = Vec::new();
    memory
        .try_reserve_exact(len)
        .map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
    memory.resize(len, zero);
    Ok(Box::leak(memory.into_boxed_slice()))
}

impl Allocator {
    /// A new allocator (one reference, the caller's).
    ///
    /// # Errors
    /// No memory.
    pub fn try_new() -> Result<ComRef<Self>, NTSTATUS> {
        // SAFETY: DMUS_KERNEL_EVENT is plain data for which all-zero bytes are valid (the
        // state GetMessage hands out).
        let zero_event: DMUS_KERNEL_EVENT = unsafe { core::mem::zeroed() };
        let events = zeroed(EVENTS, zero_event)?;
        let event_links = zeroed(EVENTS, 0_u32)?;
        let buffers = zeroed(BUFFERS * BUFFER_SIZE, 0_u8)?;
        let buffer_links = zeroed(BUFFERS, 0_u32)?;
        let memory = Memory {
            events: NonNull::from(&mut *events),
            event_links: NonNull::from(&mut *event_links),
            buffers: NonNull::from(&mut *buffers),
            buffer_links: NonNull::from(&mut *buffer_links),
        };
        let pool = FixedPool::new(events, event_links, buffers, buffer_links, BUFFER_SIZE)
            .map_err(|_| STATUS_UNSUCCESSFUL)?;
        ComRef::try_new(Self {
            pool: SpinMutex::new(pool),
            memory,
        })
    }

    /// The pool's counters (events and buffers out).
    pub fn stats(&self) -> PoolStats {
        self.pool.lock().stats()
    }

    /// Runs `f` on the pool (the port builds render chains from it).
    pub fn with_pool<R>(&self, f: impl FnOnce(&mut FixedPool) -> R) -> R {
        f(&mut self.pool.lock())
    }
}

impl Drop for Allocator {
    fn drop(&mut self) {
        let stats = self.pool.lock().stats();
        if stats.events_in_use + stats.buffers_in_use > 0 {
            // Someone may still write to them: keep the memory (the accounting reports it).
            return;
        }
        // SAFETY: each slice came from Box::leak in `try_new` and nothing holds a pointer
        // into it any more (every event and buffer is back). PASSIVE_LEVEL (the last Release).
        drop(unsafe { Box::from_raw(self.memory.events.as_ptr()) });
        // SAFETY: as above.
        drop(unsafe { Box::from_raw(self.memory.event_links.as_ptr()) });
        // SAFETY: as above.
        drop(unsafe { Box::from_raw(self.memory.buffers.as_ptr()) });
        // SAFETY: as above.
        drop(unsafe { Box::from_raw(self.memory.buffer_links.as_ptr()) });
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
