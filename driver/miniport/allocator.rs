//! The port's allocator (`IAllocatorMXF`), held by reference, as an mxf
//! [`EventPool`] and as the last stop of spent chains.
//!
//! Render streams give spent events back with [`Allocator::give_back`]: one
//! `PutMessage` per chain, which frees attached buffers and package contents
//! too (dmusicks.h; miniports never call `PutBuffer` on that path). Capture
//! builds its events with the pool methods: `GetMessage` for a zeroed event,
//! `GetBuffer` for long data.

use core::ptr::NonNull;

use dmus_sys::dmus_com::IAllocatorMXF;
use dmus_sys::dmusic::DMUS_KERNEL_EVENT;
use dmus_sys::kernel::NT_SUCCESS;
use mxf::{Chain, EventPool, PoolStats};

use mxf::Discard;

/// One reference to the port's allocator; released on drop.
pub struct Allocator {
    mxf: NonNull<IAllocatorMXF>,
    buffer_size: usize,
    stats: PoolStats,
}

// SAFETY: PortCls' allocator is callable from any thread at IRQL ≤
// DISPATCH_LEVEL; this handle owns one reference and is used under its
// stream's lock.
unsafe impl Send for Allocator {}

impl Allocator {
    /// Takes a new reference on `allocator` (null gives `None`) and reads its buffer size.
    ///
    /// # Safety
    /// `allocator` is null or a live `IAllocatorMXF`. IRQL ≤ DISPATCH_LEVEL.
    #[must_use]
    pub unsafe fn add_ref(allocator: *mut IAllocatorMXF) -> Option<Self> {
        let allocator = NonNull::new(allocator)?;
        // SAFETY: a live COM object (the caller's contract). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(allocator.as_ptr()) };
        // SAFETY: AddRef on a live object; the reference is this handle's. IRQL ≤ DISPATCH_LEVEL.
        unsafe { (vtable.base.base.AddRef)(allocator.as_ptr().cast()) };
        // SAFETY: GetBufferSize has no preconditions beyond a live allocator. IRQL ≤
        // DISPATCH_LEVEL.
        let buffer_size = usize::from(unsafe { (vtable.GetBufferSize)(allocator.as_ptr()) });
        Some(Self {
            mxf: allocator,
            buffer_size,
            stats: PoolStats::default(),
        })
    }

    /// The allocator as an `IMXF` (the default output of an unconnected stream).
    #[must_use]
    pub fn as_mxf(&self) -> *mut dmus_sys::dmus_com::IMXF {
        self.mxf.as_ptr().cast()
    }

    /// Gives a whole chain back (`IMXF::PutMessage` on the allocator), buffers
    /// and package contents included. An empty chain costs nothing.
    /// IRQL ≤ DISPATCH_LEVEL.
    pub fn give_back(&mut self, chain: Chain) {
        let events = chain.len();
        let head = chain.into_raw();
        if head.is_null() {
            return;
        }
        self.stats.events_in_use = self.stats.events_in_use.saturating_sub(events);
        self.put_raw(head);
    }

    fn put_raw(&self, head: *mut DMUS_KERNEL_EVENT) {
        // SAFETY: the allocator is live (we hold a reference). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(self.mxf.as_ptr()) };
        // SAFETY: `head` is a chain this stream owned and now hands over
        // whole; PutMessage on the allocator takes it at IRQL ≤ DISPATCH_LEVEL.
        unsafe { (vtable.base.PutMessage)(self.mxf.as_ptr().cast(), head) };
    }
}

// SAFETY: events come from GetMessage (zeroed, ours until PutMessage) and
// buffers from GetBuffer (GetBufferSize bytes, ours until given back); the
// size is read once and PortCls keeps it fixed per port; memory handed out
// belongs to the port, which outlives this handle's users.
unsafe impl EventPool for Allocator {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        let mut event: *mut DMUS_KERNEL_EVENT = core::ptr::null_mut();
        // SAFETY: the allocator is live (we hold a reference). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(self.mxf.as_ptr()) };
        // SAFETY: GetMessage writes one event pointer; IRQL ≤ DISPATCH_LEVEL.
        let status = unsafe { (vtable.GetMessage)(self.mxf.as_ptr(), &raw mut event) };
        let event = NonNull::new(event).filter(|_| NT_SUCCESS(status));
        match event {
            Some(_) => self.stats.event_taken(),
            None => self.stats.event_failures += 1,
        }
        event
    }

    unsafe fn put_event(&mut self, event: NonNull<DMUS_KERNEL_EVENT>) {
        self.stats.events_in_use = self.stats.events_in_use.saturating_sub(1);
        self.put_raw(event.as_ptr());
    }

    fn buffer_size(&self) -> usize {
        self.buffer_size
    }

    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        if self.buffer_size == 0 {
            return None;
        }
        let mut buffer: *mut u8 = core::ptr::null_mut();
        // SAFETY: the allocator is live (we hold a reference). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(self.mxf.as_ptr()) };
        // SAFETY: GetBuffer writes one buffer pointer; IRQL ≤ DISPATCH_LEVEL.
        let status = unsafe { (vtable.GetBuffer)(self.mxf.as_ptr(), &raw mut buffer) };
        let buffer = NonNull::new(buffer).filter(|_| NT_SUCCESS(status));
        match buffer {
            Some(_) => self.stats.buffer_taken(),
            None => self.stats.buffer_failures += 1,
        }
        buffer
    }

    unsafe fn put_buffer(&mut self, buffer: NonNull<u8>) {
        self.stats.buffers_in_use = self.stats.buffers_in_use.saturating_sub(1);
        // SAFETY: the allocator is live (we hold a reference). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(self.mxf.as_ptr()) };
        // SAFETY: the buffer came from this allocator's GetBuffer and is not
        // used again (EventPool contract); IRQL ≤ DISPATCH_LEVEL. (rdmus gives
        // chains back whole with `give_back`, never with `Chain::free`, so no
        // rdmus path reaches this today.)
        unsafe { (vtable.PutBuffer)(self.mxf.as_ptr(), buffer.as_ptr()) };
    }

    fn stats(&self) -> PoolStats {
        self.stats
    }
}

impl Drop for Allocator {
    fn drop(&mut self) {
        // SAFETY: the allocator is live (we hold a reference). Any IRQL (reads the vtable pointer).
        let vtable = unsafe { crate::com::vtable(self.mxf.as_ptr()) };
        // SAFETY: releases this handle's one reference, once, IRQL ≤ DISPATCH_LEVEL.
        unsafe { (vtable.base.base.Release)(self.mxf.as_ptr().cast()) };
    }
}

impl Discard for Allocator {
    fn discard(&mut self, chain: Chain) {
        self.give_back(chain);
    }
}
