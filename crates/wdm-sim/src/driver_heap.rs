//! The driver's heap on the host: the global allocator of every host binary that runs the
//! driver, which hands what the driver's code allocates to the driver's own pool allocator
//! (so to `ExAllocatePool2` and the machine's pool: tag, leak check at unload, quarantine,
//! fault injection) and everything else to the host's.
//!
//! The driver declares it (driver/pool.rs) over its Windows allocator, so the code path is
//! the image's: `DriverHeap::new(PoolAllocator)`.
//!
//! Who allocates is decided by [`crate::driver_running`]: a routine the
//! simulation called, and none of the simulation's kernel functions inside it. Who frees is
//! decided by the address: each block handed out from the driver's allocator is kept in this
//! thread's register until freed, so a block goes back to the allocator it came from whoever
//! drops it (the driver's `Vec` dropped by a test, or a test's `Vec` dropped by the driver).
//! The register lives on the machine's thread, as the machine and the driver's objects do; a
//! block of the driver's freed on another thread would reach the host's allocator (the
//! driver hands none of its memory to another thread).
//!
//! When the machine goes, its pool goes with it (its unload checks reported what was left):
//! the blocks still registered are marked orphaned and their later frees do nothing.

use alloc::collections::BTreeMap;
use core::alloc::{GlobalAlloc, Layout};
use core::cell::{Cell, RefCell};
use std::alloc::System;

use crate::current::{KernelCode, driver_running};

/// Whose a registered block is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Owner {
    /// The live machine's pool, through the driver's allocator.
    Pool,
    /// A pool that went with its machine: nothing to free.
    Orphan,
}

std::thread_local! {
    /// The blocks the driver's allocator handed out on this thread, by address.
    static REGISTER: RefCell<BTreeMap<usize, Owner>> = const { RefCell::new(BTreeMap::new()) };
    /// Whether [`REGISTER`] may hold anything: false until the first block of the thread
    /// (most threads of a test process never run the driver, and the host's frees then skip
    /// the register).
    static EVER_REGISTERED: Cell<bool> = const { Cell::new(false) };
}

/// Registers `address` as the driver allocator's. The register's own nodes come from the
/// host (kernel code runs meanwhile).
fn register(address: usize) {
    let _kernel = KernelCode::enter();
    let _ = EVER_REGISTERED.try_with(|ever| ever.set(true));
    let _ = REGISTER.try_with(|register| {
        if let Ok(mut register) = register.try_borrow_mut() {
            register.insert(address, Owner::Pool);
        }
    });
}

/// Takes `address` out of the register: whose it was, or `None` for a host block (and for a
/// free made by the register itself, whose nodes are the host's). A removal frees nodes but
/// allocates none, so no kernel-code mark is needed here (the host's frees stay cheap).
fn unregister(address: usize) -> Option<Owner> {
    if !EVER_REGISTERED.try_with(Cell::get).unwrap_or(false) {
        return None;
    }
    REGISTER
        .try_with(|register| {
            register
                .try_borrow_mut()
                .ok()
                .and_then(|mut register| register.remove(&address))
        })
        .ok()
        .flatten()
}

/// Whether `address` is a block of the driver's allocator.
fn registered(address: usize) -> bool {
    if !EVER_REGISTERED.try_with(Cell::get).unwrap_or(false) {
        return false;
    }
    REGISTER
        .try_with(|register| {
            register
                .try_borrow()
                .is_ok_and(|register| register.contains_key(&address))
        })
        .unwrap_or(false)
}

/// Marks every registered block orphaned: the machine that owned the pool is gone.
pub(crate) fn orphan_all() {
    let _ = REGISTER.try_with(|register| {
        if let Ok(mut register) = register.try_borrow_mut() {
            for owner in register.values_mut() {
                *owner = Owner::Orphan;
            }
        }
    });
}

/// Blocks of the driver's allocator still registered on this thread (live or orphaned).
#[must_use]
pub fn registered_blocks() -> usize {
    REGISTER
        .try_with(|register| register.try_borrow().map_or(0, |register| register.len()))
        .unwrap_or(0)
}

/// The host's global allocator for binaries that run the driver: the driver's code
/// allocates from `driver` (its pool allocator), everyone else from the host.
#[derive(Debug)]
pub struct DriverHeap<A> {
    driver: A,
}

impl<A> DriverHeap<A> {
    /// A heap that gives the driver's allocations to `driver`.
    pub const fn new(driver: A) -> Self {
        Self { driver }
    }
}

// SAFETY: every block comes from exactly one of two sound allocators, the driver's `A` or
// the host's `System`, and is returned to the one it came from: the driver's are registered
// by address when handed out (and removed when freed), so `dealloc`/`realloc` find their
// owner whoever frees them; an orphaned block (its pool dropped with its machine) is not
// freed at all. Nothing here unwinds: the register is reached with `try_with`/`try_borrow`.
unsafe impl<A: GlobalAlloc> GlobalAlloc for DriverHeap<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !driver_running() {
            // SAFETY: forwarded contract (layout of non-zero size).
            return unsafe { System.alloc(layout) };
        }
        // SAFETY: forwarded contract; the driver's allocator runs at the routine's IRQL.
        let block = unsafe { self.driver.alloc(layout) };
        if !block.is_null() {
            register(block as usize);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        if !driver_running() {
            // SAFETY: forwarded contract (layout of non-zero size).
            return unsafe { System.alloc_zeroed(layout) };
        }
        // SAFETY: forwarded contract; the driver's allocator runs at the routine's IRQL.
        let block = unsafe { self.driver.alloc_zeroed(layout) };
        if !block.is_null() {
            register(block as usize);
        }
        block
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        match unregister(ptr as usize) {
            // SAFETY: `ptr` came from `self.driver` with `layout` (it was registered by
            // `alloc`), and is freed once (it left the register just now).
            Some(Owner::Pool) => unsafe { self.driver.dealloc(ptr, layout) },
            Some(Owner::Orphan) => {}
            // SAFETY: not the driver's, so the host's, with `layout` (the caller's contract).
            None => unsafe { System.dealloc(ptr, layout) },
        }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if !driver_running() && !registered(ptr as usize) {
            // SAFETY: a host block (not registered) grown for the host: forwarded contract.
            return unsafe { System.realloc(ptr, layout, new_size) };
        }
        // SAFETY: `new_size`, rounded up to `layout.align()`, does not overflow `isize`
        // (realloc's contract), so the layout is valid.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: forwarded contract (new_size is non-zero).
        let moved = unsafe { self.alloc(new_layout) };
        if !moved.is_null() {
            // SAFETY: both blocks are live, distinct, and at least the smaller size long.
            unsafe { core::ptr::copy_nonoverlapping(ptr, moved, layout.size().min(new_size)) };
            // SAFETY: `ptr` is a live block of `layout` (the caller's contract), freed once.
            unsafe { self.dealloc(ptr, layout) };
        }
        moved
    }
}

#[cfg(test)]
mod tests {
    use core::alloc::{GlobalAlloc, Layout};

    use dmus_sys::kernel::POOL_FLAG_NON_PAGED;

    use super::{DriverHeap, registered_blocks};
    use crate::cpu::PASSIVE_LEVEL;
    use crate::exports::pool::{ExAllocatePool2, ExFreePoolWithTag};
    use crate::{Machine, MachineConfig, call_driver};

    const TAG: u32 = u32::from_ne_bytes(*b"Test");

    /// A driver's pool allocator, as the driver's `PoolAllocator` is.
    struct TaggedPool;

    // SAFETY: blocks from ExAllocatePool2 (16-byte aligned, the layouts below ask no more),
    // freed with the same tag.
    unsafe impl GlobalAlloc for TaggedPool {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the simulation's ExAllocatePool2, at the routine's IRQL.
            unsafe { ExAllocatePool2(POOL_FLAG_NON_PAGED, layout.size(), TAG) }.cast()
        }

        unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
            // SAFETY: a block alloc returned with TAG.
            unsafe { ExFreePoolWithTag(ptr.cast(), TAG) };
        }
    }

    #[test]
    fn the_driver_s_allocations_reach_the_pool_whoever_frees_them() {
        let machine = Machine::new(MachineConfig::default());
        let heap = DriverHeap::new(TaggedPool);
        let layout = Layout::from_size_align(40, 8).unwrap();
        // SAFETY: a non-zero layout; the test's own allocation.
        let host = unsafe { heap.alloc(layout) };
        assert_eq!(
            machine.with(|m| m.pool().live()),
            0,
            "the test's is the host's"
        );
        // SAFETY: as above, inside a driver routine.
        let driver = call_driver(0x1000, PASSIVE_LEVEL, || unsafe { heap.alloc(layout) });
        let block = machine.with(|m| m.pool().block(driver as usize));
        assert_eq!(block.map(|b| (b.size, b.tag)), Some((40, TAG)));
        assert_eq!(registered_blocks(), 1);
        // SAFETY: the driver's block, freed once with its layout, by the test.
        unsafe { heap.dealloc(driver, layout) };
        // SAFETY: the test's block, freed once with its layout.
        unsafe { heap.dealloc(host, layout) };
        assert_eq!(machine.with(|m| m.pool().live()), 0);
        assert_eq!(registered_blocks(), 0);
        assert!(machine.take_findings().is_empty());
    }

    #[test]
    fn a_failed_driver_allocation_is_null_and_kernel_code_inside_a_routine_is_the_host_s() {
        let machine = Machine::new(MachineConfig {
            faults: crate::FaultInjection {
                fail_nth: Some(1),
                ..crate::FaultInjection::default()
            },
            ..MachineConfig::default()
        });
        let heap = DriverHeap::new(TaggedPool);
        let layout = Layout::from_size_align(24, 8).unwrap();
        // SAFETY: a non-zero layout, inside a driver routine.
        let failed = call_driver(0x1000, PASSIVE_LEVEL, || unsafe { heap.alloc(layout) });
        assert!(failed.is_null());
        let kernel = call_driver(0x1000, PASSIVE_LEVEL, || {
            let _kernel = crate::current::KernelCode::enter();
            // SAFETY: as above, in the simulation's code inside the routine.
            unsafe { heap.alloc(layout) }
        });
        assert_eq!(machine.with(|m| m.pool().live()), 0);
        // SAFETY: the host block just made, freed once.
        unsafe { heap.dealloc(kernel, layout) };
        assert!(machine.take_findings().is_empty());
    }
}
