//! `MmCopyMemory` over the simulated user space and pool, and `MmUserProbeAddress`.

use alloc::vec;

use dmus_sys::kernel::{
    DISPATCH_LEVEL, MM_COPY_ADDRESS, MM_COPY_MEMORY_PHYSICAL, MM_COPY_MEMORY_VIRTUAL, NTSTATUS,
    PASSIVE_LEVEL, STATUS_INVALID_PARAMETER, STATUS_NOT_SUPPORTED, STATUS_PARTIAL_COPY,
    STATUS_SUCCESS,
};

use super::support::{lower, raise};
use crate::exports::mm;
use crate::user_space::{USER_PROBE_ADDRESS, USER_SPACE_BASE};
use crate::{Finding, KernelBuffer, Machine, MachineConfig, UserBuffer};

/// Copies `len` bytes from `source` into a fresh target: (status, bytes transferred, target).
fn copy(source: usize, len: usize, flags: u32) -> (NTSTATUS, usize, alloc::vec::Vec<u8>) {
    let mut target = vec![0xEE_u8; len];
    let mut transferred = usize::MAX;
    // SAFETY: a target of `len` writable bytes and a live out parameter.
    let status = unsafe {
        mm::MmCopyMemory(
            target.as_mut_ptr().cast(),
            MM_COPY_ADDRESS {
                VirtualAddress: source as *mut core::ffi::c_void,
            },
            len,
            flags,
            &raw mut transferred,
        )
    };
    (status, transferred, target)
}

#[test]
fn mapped_user_bytes_and_pool_blocks_copy_and_nothing_else_does() {
    let machine = Machine::new(MachineConfig::default());
    assert_eq!(mm::MmUserProbeAddress, USER_PROBE_ADDRESS);
    let user = UserBuffer::map(&[1, 2, 3, 4, 5]).unwrap();
    assert_eq!(
        copy(user.address(), 5, MM_COPY_MEMORY_VIRTUAL),
        (STATUS_SUCCESS, 5, vec![1, 2, 3, 4, 5])
    );
    assert_eq!(
        copy(user.address() + 3, 4, MM_COPY_MEMORY_VIRTUAL),
        (STATUS_PARTIAL_COPY, 2, vec![4, 5, 0xEE, 0xEE]),
        "stops where the mapping ends"
    );
    assert_eq!(
        copy(USER_SPACE_BASE - 1, 2, MM_COPY_MEMORY_VIRTUAL),
        (STATUS_PARTIAL_COPY, 0, vec![0xEE, 0xEE]),
        "unmapped"
    );
    let kernel = KernelBuffer::new(&[9, 8, 7]).unwrap();
    assert_eq!(
        copy(kernel.address() + 1, 2, MM_COPY_MEMORY_VIRTUAL),
        (STATUS_SUCCESS, 2, vec![8, 7])
    );
    assert_eq!(
        copy(kernel.address(), 4, MM_COPY_MEMORY_VIRTUAL).1,
        3,
        "not past the block"
    );
    let host = [1_u8; 4];
    assert_eq!(
        copy(host.as_ptr() as usize, 4, MM_COPY_MEMORY_VIRTUAL),
        (STATUS_PARTIAL_COPY, 0, vec![0xEE; 4]),
        "host memory the pool does not know is not readable"
    );
    assert_eq!(
        copy(kernel.address(), 2, MM_COPY_MEMORY_PHYSICAL).0,
        STATUS_NOT_SUPPORTED
    );
    let address = user.address();
    drop(user);
    assert_eq!(
        copy(address, 1, MM_COPY_MEMORY_VIRTUAL).1,
        0,
        "unmapped when dropped"
    );
    drop(kernel);
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}

#[test]
fn copies_above_apc_level_and_bad_flags_are_findings() {
    let machine = Machine::new(MachineConfig::default());
    let user = UserBuffer::map(&[1, 2]).unwrap();
    let old = raise(DISPATCH_LEVEL);
    let _ = copy(user.address(), 2, MM_COPY_MEMORY_VIRTUAL);
    lower(old);
    assert_eq!(old, PASSIVE_LEVEL);
    assert!(
        matches!(
            machine.take_findings().as_slice(),
            [Finding::IrqlTooHigh {
                call: "MmCopyMemory",
                ..
            }]
        ),
        "DISPATCH_LEVEL is above MmCopyMemory's APC_LEVEL"
    );
    assert_eq!(copy(user.address(), 2, 3).0, STATUS_INVALID_PARAMETER);
    assert!(matches!(
        machine.take_findings().as_slice(),
        [Finding::InvalidArgument {
            call: "MmCopyMemory",
            ..
        }]
    ));
}

/// The child half of [`a_direct_read_of_a_user_address_crashes_the_host`]: reads a user
/// address the way a driver must not.
#[test]
#[ignore = "run only as the child of a_direct_read_of_a_user_address_crashes_the_host"]
fn direct_read_child() {
    if std::env::var_os(DIRECT_READ_CHILD).is_none() {
        return;
    }
    let _machine = Machine::new(MachineConfig::default());
    let user = UserBuffer::map(&[1, 2, 3, 4]).unwrap();
    let address = user.address() as *const u8;
    // SAFETY: deliberately unsound: this child process exists to show that the read faults.
    let byte = unsafe { core::ptr::read_volatile(address) };
    std::println!("read {byte} from a user address: the host mapped it");
}

const DIRECT_READ_CHILD: &str = "WDM_SIM_DIRECT_READ_CHILD";

/// What the verifier cannot report, the host does: a driver that dereferences a user address
/// instead of copying it with `MmCopyMemory` dies with a segmentation fault (the simulation's
/// user addresses are not mapped on the host), as Windows would bugcheck or worse. Checked in
/// a child process running [`direct_read_child`].
#[cfg(unix)]
#[test]
fn a_direct_read_of_a_user_address_crashes_the_host() {
    use std::os::unix::process::ExitStatusExt;
    let status = std::process::Command::new(std::env::current_exe().unwrap())
        .args([
            "--ignored",
            "--exact",
            "tests::mm::direct_read_child",
            "--test-threads=1",
        ])
        .env(DIRECT_READ_CHILD, "1")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .unwrap();
    assert_eq!(status.signal(), Some(11), "SIGSEGV: {status:?}");
}
