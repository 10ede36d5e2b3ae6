//! The driver-wide list of started adapters, emptied at unload.
//!
//! StartDevice keeps each [`Adapter`] here (one slot per device object; a
//! restart replaces the old one), and unload releases every one, so
//! everything StartDevice took is given back. Slots are atomic pointers: PnP
//! may start two devices at once, and no lock is needed to claim a slot.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicPtr, Ordering};

use dmus_sys::kernel::{NTSTATUS, PDEVICE_OBJECT, STATUS_INSUFFICIENT_RESOURCES};

use crate::adapter::Adapter;

/// How many adapters one driver instance serves at once.
pub const MAX_ADAPTERS: usize = 8;

/// The slots; null = free.
static SLOTS: [AtomicPtr<Adapter>; MAX_ADAPTERS] =
    [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_ADAPTERS];

/// Keeps a started adapter, replacing (and releasing) any earlier one of the
/// same device. PASSIVE_LEVEL.
///
/// # Errors
/// `STATUS_INSUFFICIENT_RESOURCES` when every slot is taken (the adapter is released).
pub fn keep(adapter: Box<Adapter>) -> Result<(), NTSTATUS> {
    let device = adapter.device();
    let new = Box::into_raw(adapter);
    for slot in &SLOTS {
        let current = slot.load(Ordering::Acquire);
        // SAFETY: a non-null slot holds a Box::into_raw pointer that only
        // `keep` (replacing it with a swap) and `release_all` free; PnP
        // serialises start, stop and remove for one device, so the adapter of
        // `device` is not freed while read here. PASSIVE_LEVEL.
        let same_device = !current.is_null() && unsafe { (*current).device() } == device;
        if same_device {
            let old = slot.swap(new, Ordering::AcqRel);
            if !old.is_null() {
                // SAFETY: PASSIVE_LEVEL (dropping releases the port). `old`
                // came from Box::into_raw and left the slot in the
                // swap above, so this is its only owner.
                drop(unsafe { Box::from_raw(old) });
            }
            return Ok(());
        }
    }
    for slot in &SLOTS {
        if slot
            .compare_exchange(
                core::ptr::null_mut(),
                new,
                Ordering::AcqRel,
                Ordering::Acquire,
            )
            .is_ok()
        {
            return Ok(());
        }
    }
    // SAFETY: `new` came from Box::into_raw above and was stored nowhere;
    // dropping it releases its port at PASSIVE_LEVEL, where StartDevice runs.
    drop(unsafe { Box::from_raw(new) });
    Err(STATUS_INSUFFICIENT_RESOURCES)
}

/// How many adapters are kept.
#[must_use]
pub fn count() -> usize {
    SLOTS
        .iter()
        .filter(|slot| !slot.load(Ordering::Acquire).is_null())
        .count()
}

/// Whether an adapter for `device` is kept, and if so whether its subdevice was registered.
#[must_use]
pub fn registered(device: PDEVICE_OBJECT) -> Option<bool> {
    for slot in &SLOTS {
        let adapter = slot.load(Ordering::Acquire);
        if adapter.is_null() {
            continue;
        }
        // SAFETY: as in `keep`: a slot's adapter lives until `keep` replaces it
        // for the same device or `release_all` runs, neither of which PnP
        // overlaps with a query for that device. PASSIVE_LEVEL.
        let adapter = unsafe { &*adapter };
        if adapter.device() == device {
            return Some(adapter.registered());
        }
    }
    None
}

/// Releases every kept adapter (DriverUnload, PASSIVE_LEVEL).
pub fn release_all() {
    for slot in &SLOTS {
        let adapter = slot.swap(core::ptr::null_mut(), Ordering::AcqRel);
        if !adapter.is_null() {
            // SAFETY: PASSIVE_LEVEL (unload; dropping releases the port). The
            // pointer came from Box::into_raw and the swap took it
            // out of the slot, so this is its only owner.
            drop(unsafe { Box::from_raw(adapter) });
        }
    }
}
