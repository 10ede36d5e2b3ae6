//! The driver's kernel glue running against wdm-sim: its arch intrinsics reach the simulated
//! processor and MPU-401, and its pool allocator the simulated pool (tag `rdmu`), whose
//! verifier sees what it leaks.

use core::alloc::{GlobalAlloc, Layout};

use rdmus_driver::{POOL_TAG, PoolAllocator, arch};
use wdm_sim::{Finding, Machine, MachineConfig, us};

#[test]
fn arch_irql_goes_to_the_simulated_processor() {
    let machine = Machine::new(MachineConfig::default());
    assert_eq!(arch::current_irql(), 0);
    // SAFETY: raising from PASSIVE_LEVEL to DISPATCH_LEVEL, lowered back below.
    let old = unsafe { arch::raise_irql(2) };
    assert_eq!((old, machine.with(|m| m.irql())), (0, 2));
    // SAFETY: lowering to the IRQL raised from.
    unsafe { arch::lower_irql(old) };
    assert_eq!(arch::current_irql(), 0);
    assert!(machine.findings().is_empty());
}

#[test]
fn arch_port_io_drives_the_emulated_mpu401() {
    let machine = Machine::new(MachineConfig::default());
    let (data, status) = (0x330 as *mut u8, 0x331 as *mut u8);
    // SAFETY: the MPU-401's ports on the simulated bus.
    unsafe {
        arch::write_port_u8(status, 0x3F);
    }
    // SAFETY: as above.
    assert_eq!(unsafe { arch::read_port_u8(data) }, 0xFE);
    // SAFETY: as above.
    unsafe { arch::write_port_u8(data, 0xF8) };
    machine.run_for(us(500));
    // UART command at 0, ACK read at 10, the clock byte written at 20.
    assert_eq!(machine.wire_log(), [(20, 0xF8)]);
}

#[test]
fn the_driver_pool_allocator_uses_simulated_pool_with_its_tag() {
    let machine = Machine::new(MachineConfig::default());
    let layout = Layout::from_size_align(100, 64).unwrap();
    // SAFETY: a non-zero layout at PASSIVE_LEVEL.
    let block = unsafe { PoolAllocator.alloc_zeroed(layout) };
    assert!(!block.is_null());
    assert_eq!(block as usize % 64, 0);
    let usage = machine.with(|m| m.pool().usage_by_tag());
    assert_eq!(
        usage.get(&POOL_TAG).map(|u| (u.count, u.bytes)),
        Some((1, 164))
    );
    // SAFETY: the block and layout alloc_zeroed returned.
    unsafe { PoolAllocator.dealloc(block, layout) };
    machine.unload_checks();
    assert!(machine.findings().is_empty());
}

#[test]
fn pool_the_driver_leaks_is_reported_under_its_tag() {
    let machine = Machine::new(MachineConfig::default());
    let layout = Layout::from_size_align(24, 8).unwrap();
    // SAFETY: a non-zero layout at PASSIVE_LEVEL; deliberately never freed.
    let block = unsafe { PoolAllocator.alloc(layout) };
    assert!(!block.is_null());
    machine.unload_checks();
    assert_eq!(
        machine.take_findings(),
        [Finding::PoolLeaked {
            tag: POOL_TAG,
            count: 1,
            bytes: 24
        }]
    );
}

#[test]
fn driver_trace_lines_reach_the_debug_log() {
    let machine = Machine::new(MachineConfig::default());
    rdmus_driver::trace(0, "started, 2 subdevices");
    assert_eq!(machine.debug_log(), ["rdmus: started, 2 subdevices\n"]);
}
