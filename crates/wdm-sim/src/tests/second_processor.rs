//! A second processor runs the driver's DPCs while processor 0 goes on: a DPC running there
//! is not queued, freeing what it uses is a finding, and `KeFlushQueuedDpcs` (`PASSIVE_LEVEL`
//! only) or `ExDeleteTimer` with `Wait` waits for it.

use dmus_sys::kernel::{
    EX_TIMER_HIGH_RESOLUTION, FALSE, KDPC, KTIMER, PEX_TIMER, POOL_FLAG_NON_PAGED, PVOID, TRUE,
};

use super::support::{
    TAG, init_dpc, init_timer, insert_dpc, lower, raise, recording_dpc, see, seen, set_timer,
};
use crate::exports::{dpc_timer, pool};
use crate::{Finding, Machine, MachineConfig, ms};

fn two_processors() -> MachineConfig {
    MachineConfig {
        second_processor: true,
        ..MachineConfig::default()
    }
}

fn alloc(size: usize) -> *mut u8 {
    // SAFETY: no pointer arguments.
    unsafe { pool::ExAllocatePool2(POOL_FLAG_NON_PAGED, size, TAG) }.cast()
}

fn free(p: *mut u8) {
    // SAFETY: the simulation checks `p` against its table.
    unsafe { pool::ExFreePoolWithTag(p.cast(), TAG) }
}

fn flush() {
    // SAFETY: no arguments.
    unsafe { dpc_timer::KeFlushQueuedDpcs() }
}

fn remove(dpc: *mut KDPC) -> bool {
    // SAFETY: `dpc` is an initialised KDPC in live storage.
    unsafe { dpc_timer::KeRemoveQueueDpc(dpc) == TRUE }
}

/// A KTIMER at the start of a pool block and its KDPC 128 bytes in, the DPC's context 0 (the
/// recording DPC does not stall); the timer set for 1 ms.
fn pool_timer() -> (*mut u8, *mut KTIMER, *mut KDPC) {
    let block = alloc(256);
    let timer = block.cast::<core::ffi::c_void>().cast::<KTIMER>();
    let dpc = block
        .wrapping_add(128)
        .cast::<core::ffi::c_void>()
        .cast::<KDPC>();
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    set_timer(timer, -10_000, 0, dpc);
    (block, timer, dpc)
}

#[test]
fn a_dpc_running_on_the_other_processor_is_not_queued_and_finishes_when_processor_0_idles() {
    let machine = Machine::new(two_processors());
    let (block, _, dpc) = pool_timer();
    // The timer expires on the first clock tick; its DPC starts on processor 1 at once.
    machine.advance_without_idling(ms(16));
    assert!(!remove(dpc), "a running DPC is not in the queue");
    assert!(seen().is_empty(), "its routine has not finished yet");
    machine.run_pending();
    assert_eq!(seen().len(), 1, "processor 0 idled: the DPC finished");
    free(block);
    assert!(machine.findings().is_empty());
}

#[test]
fn freeing_the_kdpc_of_a_running_dpc_is_a_finding_and_it_never_finishes() {
    let machine = Machine::new(two_processors());
    let (block, _, dpc) = pool_timer();
    machine.advance_without_idling(ms(16));
    // What a teardown without KeFlushQueuedDpcs does: cancel and remove find nothing to stop.
    free(block);
    machine.run_until(ms(50));
    assert!(
        seen().is_empty(),
        "the routine is never called on freed memory"
    );
    assert_eq!(
        machine.take_findings(),
        [Finding::FreedPoolHoldsActiveObject {
            tag: TAG,
            pool: block as usize,
            kind: "KDPC (running)",
            object: dpc as usize
        }]
    );
}

unsafe extern "system" fn seeing_dpc(_: *mut KDPC, _context: PVOID, _: PVOID, _: PVOID) {
    see("dpc");
}

#[test]
fn freeing_the_context_of_a_running_dpc_is_a_finding() {
    let machine = Machine::new(two_processors());
    let (mut t, mut d) = (super::support::storage(), super::support::storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    let stream = alloc(64);
    init_dpc(dpc, Some(seeing_dpc), stream as usize);
    init_timer(timer);
    set_timer(timer, -10_000, 0, dpc);
    machine.advance_without_idling(ms(16));
    free(stream);
    machine.run_pending();
    assert!(seen().is_empty());
    assert_eq!(
        machine.take_findings(),
        [Finding::FreedPoolHoldsActiveObject {
            tag: TAG,
            pool: stream as usize,
            kind: "context of the running DPC",
            object: stream as usize
        }]
    );
}

#[test]
fn ke_flush_queued_dpcs_waits_for_the_running_dpc_and_the_queued_ones() {
    let machine = Machine::new(two_processors());
    let (block, timer, dpc) = pool_timer();
    let mut other = super::support::storage();
    let queued_dpc = other.as_ptr::<KDPC>();
    init_dpc(queued_dpc, Some(recording_dpc), 0);
    machine.advance_without_idling(ms(16));
    // A second DPC queued while the first runs waits for processor 1.
    assert!(insert_dpc(queued_dpc));
    assert!(!super::support::cancel_timer(timer));
    assert!(!remove(dpc));
    flush();
    assert_eq!(
        seen().len(),
        2,
        "both ran before KeFlushQueuedDpcs returned"
    );
    free(block);
    machine.run_pending();
    assert!(machine.findings().is_empty());
}

#[test]
fn ke_flush_queued_dpcs_above_passive_level_is_a_finding_and_waits_for_nothing() {
    let machine = Machine::new(two_processors());
    let (block, _, _) = pool_timer();
    machine.advance_without_idling(ms(16));
    let old = raise(2);
    flush();
    lower(old);
    assert!(seen().is_empty());
    assert_eq!(
        machine.take_findings(),
        [Finding::IrqlTooHigh {
            call: "KeFlushQueuedDpcs",
            irql: 2,
            max: 0
        }]
    );
    machine.run_pending();
    assert_eq!(seen().len(), 1);
    free(block);
}

#[test]
fn ke_flush_queued_dpcs_on_one_processor_runs_the_queue() {
    let machine = Machine::new(MachineConfig::default());
    let (block, _, _) = pool_timer();
    machine.advance_without_idling(ms(16));
    flush();
    assert_eq!(seen().len(), 1);
    free(block);
    assert!(machine.findings().is_empty());
}

#[test]
fn a_dpc_still_running_at_unload_is_a_finding() {
    let machine = Machine::new(two_processors());
    let (mut t, mut d) = (super::support::storage(), super::support::storage());
    let (timer, dpc) = (t.as_ptr::<KTIMER>(), d.as_ptr::<KDPC>());
    init_dpc(dpc, Some(recording_dpc), 0);
    init_timer(timer);
    set_timer(timer, -10_000, 0, dpc);
    machine.advance_without_idling(ms(16));
    machine.unload_checks();
    assert_eq!(
        machine.take_findings(),
        [Finding::ActiveAtUnload {
            kind: "KDPC (running)",
            object: dpc as usize
        }]
    );
    machine.run_pending();
    assert_eq!(seen().len(), 1);
}

unsafe extern "system" fn seeing_ex_timer(_timer: PEX_TIMER, _context: PVOID) {
    see("ex timer");
}

fn ex_timer_with_context(context: *mut u8) -> PEX_TIMER {
    // SAFETY: the callback only records; the context is never dereferenced.
    let timer = unsafe {
        dpc_timer::ExAllocateTimer(
            Some(seeing_ex_timer),
            context.cast(),
            EX_TIMER_HIGH_RESOLUTION,
        )
    };
    // SAFETY: a live handle; no parameters.
    unsafe { dpc_timer::ExSetTimer(timer, -10_000, 0, core::ptr::null_mut()) };
    timer
}

#[test]
fn ex_delete_timer_with_wait_waits_for_the_running_callback() {
    let machine = Machine::new(two_processors());
    let stream = alloc(64);
    let timer = ex_timer_with_context(stream);
    machine.advance_without_idling(ms(2));
    // SAFETY: a live handle, deleted once, at PASSIVE_LEVEL.
    let cancelled = unsafe { dpc_timer::ExDeleteTimer(timer, TRUE, TRUE, core::ptr::null_mut()) };
    assert_eq!(cancelled, FALSE, "it had expired: running, not set");
    assert_eq!(
        seen().len(),
        1,
        "the callback finished before ExDeleteTimer returned"
    );
    free(stream);
    assert!(machine.findings().is_empty());
}

#[test]
fn ex_delete_timer_without_wait_leaves_the_callback_running_on_freed_context() {
    let machine = Machine::new(two_processors());
    let stream = alloc(64);
    let timer = ex_timer_with_context(stream);
    machine.advance_without_idling(ms(2));
    // SAFETY: a live handle, deleted once.
    unsafe { dpc_timer::ExDeleteTimer(timer, TRUE, FALSE, core::ptr::null_mut()) };
    free(stream);
    machine.run_pending();
    assert!(seen().is_empty());
    assert_eq!(
        machine.take_findings(),
        [Finding::FreedPoolHoldsActiveObject {
            tag: TAG,
            pool: stream as usize,
            kind: "context of the running EX_TIMER callback",
            object: stream as usize
        }]
    );
}

/// An `EX_TIMER` callback that sets its own timer again (its context is the handle's slot).
unsafe extern "system" fn rearming_ex_timer(timer: PEX_TIMER, _context: PVOID) {
    see("ex timer");
    // SAFETY: the handle the kernel passes its callback, valid while the callback runs.
    let set = unsafe { dpc_timer::ExSetTimer(timer, -10_000, 0, core::ptr::null_mut()) };
    assert_eq!(
        set, FALSE,
        "a timer being deleted is disabled: set does nothing"
    );
}

#[test]
fn a_callback_setting_its_timer_while_ex_delete_timer_waits_for_it_is_refused_quietly() {
    let machine = Machine::new(two_processors());
    // SAFETY: the callback only records and sets its own timer.
    let timer = unsafe {
        dpc_timer::ExAllocateTimer(
            Some(rearming_ex_timer),
            core::ptr::null_mut(),
            EX_TIMER_HIGH_RESOLUTION,
        )
    };
    // SAFETY: a live handle; no parameters.
    unsafe { dpc_timer::ExSetTimer(timer, -10_000, 0, core::ptr::null_mut()) };
    machine.advance_without_idling(ms(2));
    // SAFETY: a live handle, deleted once, at PASSIVE_LEVEL.
    unsafe { dpc_timer::ExDeleteTimer(timer, TRUE, TRUE, core::ptr::null_mut()) };
    assert_eq!(seen().len(), 1);
    machine.run_until(ms(10));
    assert!(seen().is_empty(), "the refused set armed nothing");
    // The handle is gone once the callback returned.
    // SAFETY: a dead handle, which the simulation checks against its table.
    unsafe { dpc_timer::ExCancelTimer(timer, core::ptr::null_mut()) };
    assert_eq!(
        machine.take_findings(),
        [Finding::UninitializedObject {
            call: "ExCancelTimer",
            kind: "EX_TIMER",
            object: timer as usize
        }]
    );
}
