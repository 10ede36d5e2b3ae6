//! `MmGetSystemRoutineAddress`: names in, the simulation's definitions (or NULL) out, and the
//! configured kernel's missing routines hidden and checked.

use alloc::vec::Vec;

use dmus_sys::kernel::{PASSIVE_LEVEL, POOL_FLAG_NON_PAGED, PVOID, UNICODE_STRING};

use super::support::{lower, raise};
use crate::config::DOWN_LEVEL_MISSING_ROUTINES;
use crate::exports::{dpc_timer, mm, pool};
use crate::{Finding, Machine, MachineConfig};

/// `MmGetSystemRoutineAddress` for `name`, as a driver calls it.
fn find(name: &str) -> PVOID {
    let mut wide: Vec<u16> = name.encode_utf16().collect();
    let bytes = u16::try_from(wide.len() * 2).unwrap();
    let mut string = UNICODE_STRING {
        Length: bytes,
        MaximumLength: bytes,
        Buffer: wide.as_mut_ptr(),
    };
    // SAFETY: a valid counted string, alive for the call.
    unsafe { mm::MmGetSystemRoutineAddress(&raw mut string) }
}

#[test]
fn a_current_kernel_returns_the_routines_and_null_for_unknown_names() {
    let machine = Machine::new(MachineConfig::default());
    assert_eq!(
        find("ExAllocatePool2") as usize,
        pool::ExAllocatePool2 as *const () as usize
    );
    assert_eq!(
        find("ExSetTimer") as usize,
        dpc_timer::ExSetTimer as *const () as usize
    );
    assert_eq!(
        find("MmUserProbeAddress") as usize,
        &raw const mm::MmUserProbeAddress as usize
    );
    assert!(find("ExAllocatePool3").is_null());
    assert!(
        find("exallocatepool2").is_null(),
        "export names are case-sensitive"
    );
    assert!(find("").is_null());
    assert_eq!(machine.findings(), []);
}

#[test]
fn a_down_level_kernel_hides_its_missing_routines_and_flags_their_use() {
    let machine = Machine::new(MachineConfig {
        missing_routines: DOWN_LEVEL_MISSING_ROUTINES,
        ..MachineConfig::default()
    });
    for name in DOWN_LEVEL_MISSING_ROUTINES {
        assert!(find(name).is_null(), "{name} is hidden");
    }
    assert_eq!(
        find("ExAllocatePoolWithTag") as usize,
        pool::ExAllocatePoolWithTag as *const () as usize
    );
    assert_eq!(machine.findings(), []);
    // A driver that imported it anyway: the call works but is a finding.
    // SAFETY: non-paged pool at PASSIVE_LEVEL; freed below.
    let block = unsafe { pool::ExAllocatePool2(POOL_FLAG_NON_PAGED, 8, super::support::TAG) };
    // SAFETY: the block just allocated with this tag.
    unsafe { pool::ExFreePoolWithTag(block, super::support::TAG) };
    assert_eq!(
        machine.take_findings(),
        [Finding::UnexportedRoutine {
            call: "ExAllocatePool2"
        }]
    );
}

#[test]
fn bad_strings_and_a_raised_irql_are_findings() {
    let machine = Machine::new(MachineConfig::default());
    // SAFETY: NULL is what is being tested; the simulation does not dereference it.
    assert!(unsafe { mm::MmGetSystemRoutineAddress(core::ptr::null_mut()) }.is_null());
    let mut wide: Vec<u16> = "KeSetTimerEx".encode_utf16().collect();
    let mut odd = UNICODE_STRING {
        Length: 3,
        MaximumLength: 24,
        Buffer: wide.as_mut_ptr(),
    };
    // SAFETY: a readable buffer with an invalid (odd) length.
    assert!(unsafe { mm::MmGetSystemRoutineAddress(&raw mut odd) }.is_null());
    let findings = machine.take_findings();
    assert_eq!(findings.len(), 2, "{findings:?}");
    assert!(findings.iter().all(|f| matches!(
        f,
        Finding::InvalidArgument {
            call: "MmGetSystemRoutineAddress",
            ..
        }
    )));
    let old = raise(2);
    assert!(!find("KeSetTimerEx").is_null());
    lower(old);
    assert!(
        matches!(
            machine.take_findings().as_slice(),
            [Finding::IrqlTooHigh { call: "MmGetSystemRoutineAddress", max, .. }] if *max == PASSIVE_LEVEL
        ),
        "PASSIVE_LEVEL only"
    );
}
