//! A kernel mutex (`KMUTEX`) guarding a value: held at PASSIVE_LEVEL for as long as the work
//! takes (the synth's mix, downloads), where a spin lock would hold the processor at
//! DISPATCH_LEVEL.
//!
//! IRQL rules (wdm.h pages): `lock` waits, so it is called at IRQL ≤ APC_LEVEL with no spin
//! lock held; the guard releases at IRQL ≤ DISPATCH_LEVEL. The mutex is never acquired
//! recursively. The `KMUTEX` must be initialized where it lives ([`KMutex::init`]), since
//! its wait list points at itself.

use core::cell::UnsafeCell;
use core::ptr::NonNull;

use dmus_sys::imports::{KeInitializeMutex, KeReleaseMutex, KeWaitForSingleObject};
use dmus_sys::kernel::{Executive, FALSE, KMUTEX, KernelMode};

/// A value behind a kernel mutex.
pub struct KMutex<T> {
    mutex: UnsafeCell<KMUTEX>,
    data: UnsafeCell<T>,
}

// SAFETY: the data is reached only through a guard, which exists only while this thread
// owns the kernel mutex; T moves between threads with it.
unsafe impl<T: Send> Sync for KMutex<T> {}
// SAFETY: as above.
unsafe impl<T: Send> Send for KMutex<T> {}

impl<T> KMutex<T> {
    /// `data` behind a mutex not yet initialized: call [`KMutex::init`] once it is at its
    /// final address, before any `lock`.
    pub const fn new(data: T) -> Self {
        Self {
            // SAFETY: an all-zero KMUTEX is plain data (integers, null pointers); the
            // kernel fills it in KeInitializeMutex.
            mutex: UnsafeCell::new(unsafe { core::mem::zeroed() }),
            data: UnsafeCell::new(data),
        }
    }

    /// Initializes the kernel mutex in place (free). Any IRQL.
    ///
    /// # Safety
    /// `this` is live, will not move, and no one locks it yet.
    pub unsafe fn init(this: NonNull<Self>) {
        // SAFETY: live and unshared (caller's contract); only the field's address is taken.
        let mutex = unsafe { UnsafeCell::raw_get(&raw const (*this.as_ptr()).mutex) };
        // SAFETY: writable KMUTEX storage at its final address. Any IRQL.
        unsafe { KeInitializeMutex(mutex, 0) };
    }

    /// Waits for the mutex (forever). IRQL ≤ APC_LEVEL, no spin lock held.
    pub fn lock(&self) -> KMutexGuard<'_, T> {
        // SAFETY: an initialized KMUTEX (init ran before any lock, per its contract); a
        // kernel-mode wait with no timeout. IRQL ≤ APC_LEVEL (this method's contract).
        let status = unsafe {
            KeWaitForSingleObject(
                self.mutex.get().cast(),
                Executive,
                KernelMode,
                FALSE,
                core::ptr::null_mut(),
            )
        };
        // An infinite, non-alertable kernel-mode wait on a mutex returns only once it owns
        // it (STATUS_SUCCESS; STATUS_ABANDONED cannot happen to a kernel-mode mutex).
        let _ = status;
        KMutexGuard { owner: self }
    }

    /// The value, through exclusive access (no lock needed).
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

/// Access to a [`KMutex`]'s value while its mutex is held; releases on drop.
pub struct KMutexGuard<'a, T> {
    owner: &'a KMutex<T>,
}

impl<T> core::ops::Deref for KMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard exists only while this thread holds the mutex.
        unsafe { &*self.owner.data.get() }
    }
}

impl<T> core::ops::DerefMut for KMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as for deref; `&mut self` makes the access unique.
        unsafe { &mut *self.owner.data.get() }
    }
}

impl<T> Drop for KMutexGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: the mutex `lock` acquired; released once. IRQL ≤ DISPATCH_LEVEL.
        unsafe { KeReleaseMutex(self.owner.mutex.get(), FALSE) };
    }
}
