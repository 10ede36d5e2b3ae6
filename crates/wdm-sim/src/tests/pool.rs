//! Pool through `ExAllocatePool2` / `ExFreePoolWithTag`: leaks by tag, bad frees, freed
//! objects still queued, fault injection.

use alloc::string::ToString;
use alloc::vec::Vec;

use dmus_sys::kernel::{
    KDPC, KTIMER, POOL_FLAG_NON_PAGED, POOL_FLAG_PAGED, POOL_FLAG_UNINITIALIZED, POOL_FLAGS,
};

use super::support::{
    TAG, init_dpc, init_timer, insert_dpc, lower, raise, recording_dpc, seen, set_timer,
};
use crate::exports::pool;
use crate::{FaultInjection, Finding, Machine, MachineConfig, ms};

fn alloc(flags: POOL_FLAGS, size: usize, tag: u32) -> *mut u8 {
    // SAFETY: no pointer arguments.
    unsafe { pool::ExAllocatePool2(flags, size, tag) }.cast()
}

fn free(p: *mut u8, tag: u32) {
    // SAFETY: the simulation checks `p` against its table.
    unsafe { pool::ExFreePoolWithTag(p.cast(), tag) }
}

#[test]
fn allocations_are_aligned_zeroed_or_filled_and_freed_quietly() {
    let machine = Machine::new(MachineConfig::default());
    let zeroed = alloc(POOL_FLAG_NON_PAGED, 40, TAG);
    let filled = alloc(POOL_FLAG_NON_PAGED | POOL_FLAG_UNINITIALIZED, 40, TAG);
    assert_eq!((zeroed as usize % 16, filled as usize % 16), (0, 0));
    // SAFETY: a live 40-byte allocation.
    let z = unsafe { core::slice::from_raw_parts(zeroed, 40) };
    // SAFETY: as above.
    let f = unsafe { core::slice::from_raw_parts(filled, 40) };
    assert!(z.iter().all(|&b| b == 0));
    assert!(f.iter().all(|&b| b == crate::pool::UNINITIALIZED_FILL));
    free(zeroed, TAG);
    free(filled, TAG);
    machine.unload_checks();
    assert!(machine.findings().is_empty());
}

#[test]
fn pool_left_at_unload_is_reported_by_tag() {
    let machine = Machine::new(MachineConfig::default());
    let other = u32::from_le_bytes(*b"Rdm2");
    alloc(POOL_FLAG_NON_PAGED, 16, TAG);
    alloc(POOL_FLAG_NON_PAGED, 32, TAG);
    let freed = alloc(POOL_FLAG_NON_PAGED, 8, other);
    free(freed, other);
    machine.unload_checks();
    let findings = machine.take_findings();
    assert_eq!(
        findings,
        [Finding::PoolLeaked {
            tag: TAG,
            count: 2,
            bytes: 48
        }]
    );
    assert!(
        findings[0]
            .to_string()
            .contains("tag 'Test' has 2 allocation(s), 48 bytes")
    );
}

#[test]
fn double_free_null_free_and_wrong_tag_are_findings_and_leave_the_pool_sane() {
    let machine = Machine::new(MachineConfig::default());
    let p = alloc(POOL_FLAG_NON_PAGED, 16, TAG);
    let q = alloc(POOL_FLAG_NON_PAGED, 16, TAG);
    free(p, TAG);
    free(p, TAG);
    free(core::ptr::null_mut(), TAG);
    free(q, u32::from_le_bytes(*b"Oops"));
    machine.unload_checks();
    assert_eq!(
        machine.take_findings(),
        [
            Finding::FreeInvalidPool {
                address: p as usize
            },
            Finding::FreeNullPool,
            Finding::PoolTagMismatch {
                address: q as usize,
                allocated: TAG,
                freed: u32::from_le_bytes(*b"Oops")
            },
        ]
    );
}

#[test]
fn bad_flags_zero_tag_and_paged_pool_at_dispatch_are_findings() {
    let machine = Machine::new(MachineConfig::default());
    assert!(alloc(POOL_FLAG_NON_PAGED | POOL_FLAG_PAGED, 16, TAG).is_null());
    let zero = alloc(POOL_FLAG_NON_PAGED, 16, 0);
    free(zero, 0);
    let old = raise(2);
    let paged = alloc(POOL_FLAG_PAGED, 16, TAG);
    lower(old);
    free(paged, TAG);
    let findings = machine.take_findings();
    assert!(matches!(
        findings[0],
        Finding::InvalidArgument {
            call: "ExAllocatePool2",
            ..
        }
    ));
    assert_eq!(
        findings[1..],
        [
            Finding::ZeroPoolTag {
                call: "ExAllocatePool2"
            },
            Finding::IrqlTooHigh {
                call: "ExAllocatePool2",
                irql: 2,
                max: 1
            }
        ]
    );
}

#[test]
fn freeing_pool_with_a_set_timer_or_queued_dpc_inside_is_a_finding_and_they_never_run() {
    let machine = Machine::new(MachineConfig::default());
    let block = alloc(POOL_FLAG_NON_PAGED, 256, TAG);
    let timer = block.cast::<core::ffi::c_void>().cast::<KTIMER>();
    let dpc = block
        .wrapping_add(128)
        .cast::<core::ffi::c_void>()
        .cast::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    set_timer(timer, -100_000, 0, dpc);
    let old = raise(2);
    insert_dpc(dpc);
    free(block, TAG);
    lower(old);
    machine.run_until(ms(50));
    assert!(seen().is_empty());
    assert_eq!(
        machine.take_findings(),
        [
            Finding::FreedPoolHoldsActiveObject {
                tag: TAG,
                pool: block as usize,
                kind: "KTIMER",
                object: timer as usize
            },
            Finding::FreedPoolHoldsActiveObject {
                tag: TAG,
                pool: block as usize,
                kind: "KDPC",
                object: dpc as usize
            },
        ]
    );
}

#[test]
fn freeing_pool_whose_objects_are_idle_is_quiet() {
    let machine = Machine::new(MachineConfig::default());
    let block = alloc(POOL_FLAG_NON_PAGED, 256, TAG);
    let timer = block.cast::<core::ffi::c_void>().cast::<KTIMER>();
    let dpc = block
        .wrapping_add(128)
        .cast::<core::ffi::c_void>()
        .cast::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    set_timer(timer, -100_000, 0, dpc);
    machine.run_until(ms(20));
    assert_eq!(seen().len(), 1);
    free(block, TAG);
    machine.unload_checks();
    assert!(machine.findings().is_empty());
}

#[test]
fn the_nth_allocation_fails() {
    let config = MachineConfig {
        faults: FaultInjection {
            fail_nth: Some(2),
            ..FaultInjection::default()
        },
        ..MachineConfig::default()
    };
    let machine = Machine::new(config);
    let got: Vec<*mut u8> = (0..3).map(|_| alloc(POOL_FLAG_NON_PAGED, 8, TAG)).collect();
    assert_eq!(
        got.iter().map(|p| p.is_null()).collect::<Vec<_>>(),
        [false, true, false]
    );
    for p in got.into_iter().filter(|p| !p.is_null()) {
        free(p, TAG);
    }
    assert!(machine.findings().is_empty());
}

#[test]
fn a_seeded_fraction_of_allocations_fails_the_same_way_every_run() {
    let pattern = || {
        let config = MachineConfig {
            faults: FaultInjection {
                fail_ppm: 300_000,
                seed: 99,
                ..FaultInjection::default()
            },
            ..MachineConfig::default()
        };
        let _machine = Machine::new(config);
        let got: Vec<*mut u8> = (0..200)
            .map(|_| alloc(POOL_FLAG_NON_PAGED, 8, TAG))
            .collect();
        let failed: Vec<bool> = got.iter().map(|p| p.is_null()).collect();
        for p in got.into_iter().filter(|p| !p.is_null()) {
            free(p, TAG);
        }
        failed
    };
    let first = pattern();
    assert_eq!(first, pattern());
    let failures = first.iter().filter(|&&f| f).count();
    assert!((40..80).contains(&failures), "{failures} of 200 at 30%");
}

#[test]
fn a_write_through_a_freed_pointer_is_caught_at_unload() {
    let machine = Machine::new(MachineConfig::default());
    let block = alloc(POOL_FLAG_NON_PAGED, 32, TAG);
    free(block, TAG);
    // The bug under test: a stale pointer written after the free. The quarantine still holds
    // the block, so the write lands in memory the simulation owns.
    // SAFETY: the quarantine keeps the 32-byte block allocated; offset 9 is inside it.
    unsafe { block.wrapping_add(9).write(1) };
    machine.unload_checks();
    let findings = machine.take_findings();
    assert_eq!(
        findings,
        [Finding::PoolModifiedAfterFree {
            address: block as usize,
            tag: TAG,
            offset: 9
        }]
    );
    assert!(
        findings[0]
            .to_string()
            .starts_with("SPECIAL_POOL_DETECTED_MEMORY_CORRUPTION (c1): pool 0x")
    );
}
