//! `InterruptSyncModeRepeat` livelock: a service routine that claims every interrupt, even
//! when its device has nothing for it, keeps the repeat mode calling it for ever; the
//! simulation stops after `MAX_REPEAT_PASSES` passes and reports `Finding::Livelock`. A
//! routine that claims only what it serviced ends the loop on the next pass, finding-free.

use dmus_sys::kernel::{NTSTATUS, PVOID, STATUS_SUCCESS, STATUS_UNSUCCESSFUL};
use dmus_sys::portcls::{IInterruptSync, IResourceList, PINTERRUPTSYNC};

use super::support::{TestResources, boolean, inb, outb};
use crate::exports::interrupt_sync::PcNewInterruptSync;
use crate::interrupt::{MAX_REPEAT_PASSES, MODE_REPEAT};
use crate::{Finding, Machine, MachineConfig, us};

const DATA: usize = 0x330;
const STATUS: usize = 0x331;

/// Drains the card, then claims the interrupt whatever it found: the livelock bug.
unsafe extern "system" fn always_claims(_sync: *mut IInterruptSync, _context: PVOID) -> NTSTATUS {
    while inb(STATUS) & 0x80 == 0 {
        let _ = inb(DATA);
    }
    STATUS_SUCCESS
}

/// Claims the interrupt only when it read a byte.
unsafe extern "system" fn claims_what_it_serviced(
    _sync: *mut IInterruptSync,
    _context: PVOID,
) -> NTSTATUS {
    let mut any = false;
    while inb(STATUS) & 0x80 == 0 {
        let _ = inb(DATA);
        any = true;
    }
    if any {
        STATUS_SUCCESS
    } else {
        STATUS_UNSUCCESSFUL
    }
}

/// Puts the card in UART mode (reset, then UART), reading each ACK.
fn init_uart() {
    for command in [0xFF, 0x3F] {
        outb(STATUS, command);
        while inb(STATUS) & 0x80 != 0 {}
        assert_eq!(inb(DATA), 0xFE, "the card acknowledges {command:#x}");
    }
}

/// One byte of MIDI input delivered to a repeat-mode `IInterruptSync` running `isr`; the
/// findings it caused.
fn input_through_repeat_mode(
    isr: unsafe extern "system" fn(*mut IInterruptSync, PVOID) -> NTSTATUS,
) -> alloc::vec::Vec<Finding> {
    let machine = Machine::new(MachineConfig::default());
    init_uart();
    let resources = TestResources::new(9, 8);
    let mut sync: PINTERRUPTSYNC = core::ptr::null_mut();
    // SAFETY: a writable out-pointer and a live resource list, at PASSIVE_LEVEL.
    let status = unsafe {
        PcNewInterruptSync(
            &raw mut sync,
            core::ptr::null_mut(),
            resources.as_interface::<IResourceList>().as_ptr(),
            0,
            MODE_REPEAT,
        )
    };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: a live IInterruptSync starts with its vtable pointer.
    let vtbl = unsafe { (*sync).lpVtbl };
    // SAFETY: the sim's vtable is a static.
    let vtbl = unsafe { &*vtbl };
    // SAFETY: a live IInterruptSync at PASSIVE_LEVEL; the routine is a valid ISR.
    let status = unsafe {
        (vtbl.RegisterServiceRoutine)(sync, Some(isr), core::ptr::null_mut(), boolean(false))
    };
    assert_eq!(status, STATUS_SUCCESS);
    // SAFETY: as above.
    assert_eq!(unsafe { (vtbl.Connect)(sync) }, STATUS_SUCCESS);
    machine.inject_midi_input(us(1000), &[0xF8]);
    machine.run_until(us(5000));
    // SAFETY: as above; then the reference PcNewInterruptSync returned.
    unsafe { (vtbl.Disconnect)(sync) };
    // SAFETY: the reference PcNewInterruptSync returned, released once.
    assert_eq!(unsafe { (vtbl.base.Release)(sync.cast()) }, 0);
    machine.take_findings()
}

#[test]
fn a_repeat_mode_routine_that_always_claims_the_interrupt_is_a_livelock() {
    let findings = input_through_repeat_mode(always_claims);
    assert_eq!(findings.len(), 1, "{findings:?}");
    let Finding::Livelock { detail } = &findings[0] else {
        panic!("not a livelock: {findings:?}");
    };
    assert!(
        detail.contains("InterruptSyncModeRepeat")
            && detail.contains(&alloc::format!("{MAX_REPEAT_PASSES} passes")),
        "{detail}"
    );
}

#[test]
fn a_repeat_mode_routine_that_claims_what_it_serviced_ends_the_loop() {
    assert_eq!(input_through_repeat_mode(claims_what_it_serviced), []);
}
