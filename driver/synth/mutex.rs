//! A kernel mutex (`KMUTEX`) guarding a value: held at PASSIVE_LEVEL for as long as the work
//! takes (the synth's mix, downloads), where a spin lock would hold the processor at
//! DISPATCH_LEVEL.
//!
//! IRQL rules (wdm.h pages): `lock` waits, so it is called at IRQL ≤ APC_LEVEL with no spin
//! lock held; the guard releases at IRQL ≤ DISPATCH_LEVEL. The mutex is never acquired
//! recursively. The `KMUTEX` must be initialized where it lives ([`KMutex::init`]), since
//! its wait list points at itself.

use core::cell::UnsafeCell;
use core::mem::MaybeUninit;
use core::ptr::NonNull;

use dmus_sys::imports::{KeInitializeMutex, KeReleaseMutex, KeWaitForSingleObject};
use dmus_sys::kernel::{Executive, FALSE, KMUTEX, KernelMode, NTSTATUS, STATUS_UNSUCCESSFUL};

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

    /// [`KMutex::new`], made in place, for a value too big for a kernel stack (the synth):
    /// the mutex is written into `place` (zeroed, as `new` does) and `make` builds the value
    /// in its own place there, handing it back. Call [`KMutex::init`] once `place` is at its
    /// final address (a pool block is), before any `lock`.
    ///
    /// # Errors
    /// `make`'s error; `STATUS_UNSUCCESSFUL` if `make` hands back another value than the one
    /// in the place it was given (whatever it wrote there is then left unused, never dropped).
    pub fn try_new_in(
        place: &mut MaybeUninit<Self>,
        make: impl for<'a> FnOnce(&'a mut MaybeUninit<T>) -> Result<&'a mut T, NTSTATUS>,
    ) -> Result<&mut Self, NTSTATUS> {
        let this = place.as_mut_ptr();
        // SAFETY: `this` is the place borrowed above; `&raw mut` of a field reads nothing.
        // Any IRQL (memory only).
        let mutex = unsafe { &raw mut (*this).mutex };
        // SAFETY: the field lies inside the place, aligned and writable; an all-zero KMUTEX
        // is plain data (integers, null pointers) that KeInitializeMutex fills in later.
        // Any IRQL (memory only).
        unsafe { mutex.write_bytes(0, 1) };
        // SAFETY: as for `mutex`.
        let data = unsafe { &raw mut (*this).data }.cast::<MaybeUninit<T>>();
        // SAFETY: `UnsafeCell<T>` and `MaybeUninit<T>` both have `T`'s layout, so this is
        // the value's place, inside `place` and reached only through it. Any IRQL (memory only).
        let value_place = unsafe { &mut *data };
        let value = make(value_place)?;
        if !core::ptr::eq(value, data.cast::<T>()) {
            return Err(STATUS_UNSUCCESSFUL);
        }
        // SAFETY: both fields are initialized: the mutex above, the value by `make` (it
        // handed back a reference to it, so a valid `T` is there). Any IRQL (memory only).
        Ok(unsafe { place.assume_init_mut() })
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

#[cfg(test)]
mod tests {
    use core::mem::MaybeUninit;
    use std::boxed::Box;

    use dmus_sys::kernel::{STATUS_NO_MEMORY, STATUS_UNSUCCESSFUL};

    use super::KMutex;

    #[test]
    fn made_in_place_it_holds_the_value_made_in_its_place() {
        let mut place = Box::new(MaybeUninit::<KMutex<[u64; 64]>>::uninit());
        let mutex = KMutex::try_new_in(&mut place, |value| Ok(value.write([9; 64])))
            .expect("made in place");
        assert_eq!(mutex.get_mut(), &[9; 64]);
    }

    #[test]
    fn the_value_maker_s_error_is_passed_on() {
        let mut place = Box::new(MaybeUninit::<KMutex<u64>>::uninit());
        let failed = KMutex::try_new_in(&mut place, |_| Err(STATUS_NO_MEMORY));
        assert_eq!(failed.err(), Some(STATUS_NO_MEMORY));
    }

    #[test]
    fn a_value_from_elsewhere_is_refused() {
        let mut place = Box::new(MaybeUninit::<KMutex<u64>>::uninit());
        let elsewhere: &'static mut u64 = Box::leak(Box::new(3));
        let elsewhere_address = core::ptr::from_mut(elsewhere);
        let refused = KMutex::try_new_in(&mut place, |_| Ok(elsewhere));
        assert_eq!(refused.err(), Some(STATUS_UNSUCCESSFUL));
        // SAFETY: the leaked box above, which the refused maker did not keep. Host test.
        drop(unsafe { Box::from_raw(elsewhere_address) });
    }
}
