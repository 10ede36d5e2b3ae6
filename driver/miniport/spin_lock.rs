//! A kernel spin lock around the data it protects (wdk's `SpinLock` shape).
//!
//! The `KSPIN_LOCK` stays private, so the SAFETY of every acquire and release
//! rests on this module alone: the lock word lives inside the object (which
//! sits in nonpaged pool and does not move while shared), each
//! [`SpinLock::lock`] raises to DISPATCH_LEVEL and the guard lowers back to the
//! IRQL it found.

use core::cell::UnsafeCell;

use dmus_sys::kernel::{KIRQL, KSPIN_LOCK};

// x86 exports the spin-lock routines from hal.dll as `__fastcall`
// `KfAcquireSpinLock` / `KfReleaseSpinLock` (wdm.h maps
// `KeAcquireSpinLockRaiseToDpc` and `KeReleaseSpinLock` to them there).
#[cfg(not(target_arch = "x86"))]
use dmus_sys::imports::{KeAcquireSpinLockRaiseToDpc, KeReleaseSpinLock};
#[cfg(target_arch = "x86")]
use dmus_sys::imports::{
    KfAcquireSpinLock as KeAcquireSpinLockRaiseToDpc, KfReleaseSpinLock as KeReleaseSpinLock,
};

/// Data guarded by a kernel spin lock. Usable at IRQL ≤ DISPATCH_LEVEL.
pub struct SpinLock<T> {
    lock: UnsafeCell<KSPIN_LOCK>,
    data: UnsafeCell<T>,
}

// SAFETY: the data is only reached through a guard, which exists only while
// the kernel spin lock is held, so at most one thread touches it at a time.
unsafe impl<T: Send> Sync for SpinLock<T> {}
// SAFETY: moving the lock moves the data it owns; no thread holds it then.
unsafe impl<T: Send> Send for SpinLock<T> {}

impl<T> SpinLock<T> {
    /// An unlocked spin lock (`KeInitializeSpinLock` stores zero).
    pub const fn new(data: T) -> Self {
        Self {
            lock: UnsafeCell::new(0),
            data: UnsafeCell::new(data),
        }
    }

    /// The data, without locking: `&mut self` proves no one else can reach it.
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }

    /// Acquires the lock, raising to DISPATCH_LEVEL. Call at IRQL ≤ DISPATCH_LEVEL.
    pub fn lock(&self) -> SpinLockGuard<'_, T> {
        // SAFETY: the lock word belongs to this object and stays in place while
        // it is borrowed; the caller runs at IRQL ≤ DISPATCH_LEVEL, where
        // KeAcquireSpinLockRaiseToDpc may be called.
        let old_irql = unsafe { KeAcquireSpinLockRaiseToDpc(self.lock.get()) };
        SpinLockGuard {
            owner: self,
            old_irql,
        }
    }
}

/// Access to the data while the lock is held; releases on drop.
pub struct SpinLockGuard<'a, T> {
    owner: &'a SpinLock<T>,
    old_irql: KIRQL,
}

impl<T> core::ops::Deref for SpinLockGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock, so no other reference to the data exists. Any IRQL
        // (memory only).
        unsafe { &*self.owner.data.get() }
    }
}

impl<T> core::ops::DerefMut for SpinLockGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in deref; `&mut self` makes this the only borrow of the guard. Any IRQL
        // (memory only).
        unsafe { &mut *self.owner.data.get() }
    }
}

impl<T> Drop for SpinLockGuard<'_, T> {
    fn drop(&mut self) {
        // SAFETY: this guard acquired the lock at DISPATCH_LEVEL and releases
        // it once, restoring the IRQL it was acquired from.
        unsafe { KeReleaseSpinLock(self.owner.lock.get(), self.old_irql) };
    }
}
