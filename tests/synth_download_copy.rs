//! The DLS download's copy of the client's buffer (`rdmus_driver::
//! copy_client_buffer`) on the simulated kernel: user buffers are read through
//! `MmCopyMemory` when the range lies in user space, kernel buffers when a kernel component
//! asked, a short copy is refused, and above `MmCopyMemory`'s `APC_LEVEL` nothing is read
//! at all.

use dmus_sys::dmusprop::SYNTH_BUFFER;
use dmus_sys::kernel::{
    DISPATCH_LEVEL, PASSIVE_LEVEL, STATUS_ACCESS_VIOLATION, STATUS_INVALID_DEVICE_STATE,
};
use rdmus_driver::{Requestor, copy_client_buffer};
use wdm_sim::user_space::USER_PROBE_ADDRESS;
use wdm_sim::{KernelBuffer, Machine, MachineConfig, UserBuffer};

fn synth_buffer(address: usize, size: usize) -> SYNTH_BUFFER {
    SYNTH_BUFFER {
        BufferSize: u32::try_from(size).unwrap(),
        BufferAddress: address as *mut core::ffi::c_void,
    }
}

#[test]
fn the_copy_reads_what_the_requestor_may_name_and_nothing_else() {
    let machine = Machine::new(MachineConfig::default());
    let bytes: Vec<u8> = (0..=255).collect();
    let user = UserBuffer::map(&bytes).unwrap();
    let kernel = KernelBuffer::new(&bytes).unwrap();
    let from_user = copy_client_buffer(&synth_buffer(user.address(), 256), Requestor::User);
    assert_eq!(from_user.as_deref(), Ok(&bytes[..]));
    let from_kernel = copy_client_buffer(&synth_buffer(kernel.address(), 256), Requestor::Kernel);
    assert_eq!(from_kernel.as_deref(), Ok(&bytes[..]));
    // A kernel address named by an application: refused before any read.
    let stolen = copy_client_buffer(&synth_buffer(kernel.address(), 256), Requestor::User);
    assert_eq!(stolen, Err(STATUS_ACCESS_VIOLATION));
    assert!(kernel.address() >= USER_PROBE_ADDRESS);
    // A range past the buffer's end: MmCopyMemory copies 256 bytes, not 300: refused.
    let short = copy_client_buffer(&synth_buffer(user.address(), 300), Requestor::User);
    assert_eq!(short, Err(STATUS_ACCESS_VIOLATION));
    drop((user, kernel));
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}

#[test]
fn above_apc_level_nothing_is_read() {
    let machine = Machine::new(MachineConfig::default());
    let user = UserBuffer::map(&[7; 64]).unwrap();
    // SAFETY: a legal raise from PASSIVE_LEVEL on the simulated processor, lowered below.
    let old = unsafe { dmus_sys::imports::KfRaiseIrql(DISPATCH_LEVEL) };
    let refused = copy_client_buffer(&synth_buffer(user.address(), 64), Requestor::User);
    // SAFETY: back to the IRQL raised from.
    unsafe { dmus_sys::imports::KeLowerIrql(old) };
    assert_eq!(old, PASSIVE_LEVEL);
    assert_eq!(refused, Err(STATUS_INVALID_DEVICE_STATE));
    assert_eq!(
        machine.findings(),
        [],
        "MmCopyMemory was not called above its APC_LEVEL"
    );
}
