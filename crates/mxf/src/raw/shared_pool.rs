//! A host pool shared by handle: a test builds events from one handle while
//! the code under test holds another and gives them back, so both reach the
//! same pool (events go back where they came from).

use core::cell::RefCell;
use core::ptr::NonNull;
use std::rc::Rc;

use dmus_sys::dmusic::DMUS_KERNEL_EVENT;

use super::{Discard, EventPool, PoolStats};

/// One pool, many handles (clones share it). Single-threaded, host only.
#[derive(Debug)]
pub struct SharedPool<P>(Rc<RefCell<P>>);

impl<P> Clone for SharedPool<P> {
    fn clone(&self) -> Self {
        Self(Rc::clone(&self.0))
    }
}

impl<P: EventPool> SharedPool<P> {
    /// Shares `pool`.
    #[must_use]
    pub fn new(pool: P) -> Self {
        Self(Rc::new(RefCell::new(pool)))
    }

    /// Runs `f` on the one pool (for its own checks, such as
    /// [`super::CountingPool::check`]).
    ///
    /// # Panics
    /// If called from inside another `with` on the same pool.
    pub fn with<R>(&self, f: impl FnOnce(&mut P) -> R) -> R {
        f(&mut self.0.borrow_mut())
    }
}

// SAFETY: forwards every call to the one inner pool, which keeps EventPool's
// promises; what one handle hands out, any handle may give back, since they
// are the same pool.
unsafe impl<P: EventPool> EventPool for SharedPool<P> {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        self.0.borrow_mut().get_event()
    }

    unsafe fn put_event(&mut self, event: NonNull<DMUS_KERNEL_EVENT>) {
        // SAFETY: forwarded: the event came from the inner pool (the caller's
        // promise) and is not used again. Host only.
        unsafe { self.0.borrow_mut().put_event(event) };
    }

    fn buffer_size(&self) -> usize {
        self.0.borrow().buffer_size()
    }

    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        self.0.borrow_mut().get_buffer()
    }

    unsafe fn put_buffer(&mut self, buffer: NonNull<u8>) {
        // SAFETY: forwarded: the buffer came from the inner pool (the
        // caller's promise) and is not used again. Host only.
        unsafe { self.0.borrow_mut().put_buffer(buffer) };
    }

    fn stats(&self) -> PoolStats {
        self.0.borrow().stats()
    }
}

impl<P: EventPool> Discard for SharedPool<P> {}
