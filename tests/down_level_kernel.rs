//! The driver on a kernel without the routines it resolves at `DriverEntry` (Windows 8, Wine
//! 8.0): no `ExAllocatePool2`, no `Ex*Timer` family, no `MmCopyMemory`. The simulated machine
//! hides them from `MmGetSystemRoutineAddress` and reports any call to one as a finding, so
//! a clean run proves the driver took every fallback: pool from `ExAllocatePoolWithTag`
//! (zeroed by the driver), stream timers on `KeSetTimerEx` (quantised to the clock interval),
//! downloads of a kernel-mode requestor copied directly and of a user-mode one refused.
//!
//! The routine table is process-wide (one image per kernel, as on Windows), so this file is its
//! own test binary, and its tests take turns through one lock: each loads the driver (its
//! `DriverEntry` fills the table for the kernel of that test) before anything uses it. One test
//! is the control: the same play on a current kernel keeps the high-resolution timer.

use std::sync::{Mutex, MutexGuard};

use dmus_sys::dmusprop::SYNTH_BUFFER;
use dmus_sys::kernel::STATUS_NOT_SUPPORTED;
use dmus_sys::ks::{KSSTATE_RUN, KSSTATE_STOP};
use rdmus_driver::{Requestor, copy_client_buffer};
use wdm_sim::portcls::{Driver, PinFormat, Resources};
use wdm_sim::{
    DOWN_LEVEL_MISSING_ROUTINES, KernelBuffer, Machine, MachineConfig, UserBuffer, ms, us,
};

static DRIVER: Mutex<()> = Mutex::new(());

fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A down-level kernel with the original MPU-401 (DPC bound 1 ms, as in `lifecycle.rs`).
fn down_level() -> MachineConfig {
    MachineConfig {
        dpc_bound: ms(1),
        missing_routines: DOWN_LEVEL_MISSING_ROUTINES,
        ..MachineConfig::default()
    }
}

fn load() -> Driver {
    Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry succeeds")
}

/// KSMUSICFORMAT record: delta, byte count, bytes, padded to a DWORD.
fn ksmusic(delta_ms: u32, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&delta_ms.to_le_bytes());
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend_from_slice(bytes);
    while out.len() % 4 != 0 {
        out.push(0);
    }
    out
}

/// Loads the driver on `config`, plays a note-on and, 3 ms later, a note-off through the UART's
/// render pin, unloads; checks the notes reached the wire and no finding; returns how long
/// after the start the note-off went out, and the driver's debug log.
fn note_off_delay(config: MachineConfig) -> (u64, Vec<String>) {
    let machine = Machine::new(config);
    let driver = load();
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::of_machine()).expect("StartDevice");
    let filter = device.filter("UART").expect("the UART subdevice");
    let pin = filter.open_pin(0, PinFormat::Midi).expect("render pin");
    pin.set_state(KSSTATE_RUN).expect("RUN");
    let start = machine.now();
    let irp = [ksmusic(0, &[0x90, 60, 100]), ksmusic(3, &[0x80, 60, 0])].concat();
    pin.write(0, &irp).expect("write");
    machine.run_for(ms(60));
    pin.set_state(KSSTATE_STOP).expect("STOP");
    pin.close();
    let wire = machine.wire_log();
    let bytes: Vec<u8> = wire.iter().map(|&(_, b)| b).collect();
    assert!(
        bytes.ends_with(&[0x90, 60, 100, 0x80, 60, 0]),
        "the notes reach the wire: {bytes:02x?}"
    );
    device.stop();
    device.remove();
    driver.unload();
    machine.unload_checks();
    assert_eq!(
        machine.findings(),
        [],
        "no call to a routine this kernel lacks, no leak"
    );
    (wire[wire.len() - 3].0 - start, machine.debug_log())
}

/// The note-off is due 3 ms after the note-on; a `KeSetTimerEx` timer only expires on a clock
/// tick (15.625 ms), where an `EX_TIMER_HIGH_RESOLUTION` one fires within 1 ms.
const CLOCK_TICK_AT_LEAST: u64 = 15_625 - 1_000;

#[test]
fn the_mpu401_plays_on_kernel_timers_and_ordinary_pool() {
    let _lock = driver_lock();
    let (note_off, log) = note_off_delay(down_level());
    assert!(
        log.iter().any(|line| line.contains("down-level kernel")),
        "DriverEntry says it found a down-level kernel: {log:?}"
    );
    assert!(
        note_off >= us(CLOCK_TICK_AT_LEAST),
        "the note-off waited for a clock-interval timer: {note_off} ticks after the start"
    );
}

#[test]
fn part_of_the_timer_family_is_as_good_as_none() {
    let _lock = driver_lock();
    // Only ExSetTimer missing: a stream must not hold an EX_TIMER it could not set, so the
    // driver takes none of the four (ExAllocateTimer stays exported and unused).
    let (note_off, _) = note_off_delay(MachineConfig {
        dpc_bound: ms(1),
        missing_routines: &["ExSetTimer"],
        ..MachineConfig::default()
    });
    assert!(
        note_off >= us(CLOCK_TICK_AT_LEAST),
        "the stream fell back to KeSetTimerEx: note-off {note_off} ticks after the start"
    );
}

#[test]
fn a_current_kernel_keeps_the_high_resolution_timer() {
    let _lock = driver_lock();
    // The control: the same play on a kernel with every routine fires within the clock tick.
    let (note_off, log) = note_off_delay(MachineConfig {
        dpc_bound: ms(1),
        ..MachineConfig::default()
    });
    assert!(
        note_off < us(CLOCK_TICK_AT_LEAST),
        "an EX_TIMER_HIGH_RESOLUTION timer: note-off {note_off} ticks after the start"
    );
    assert!(!log.iter().any(|line| line.contains("down-level kernel")));
}

#[test]
fn the_synth_starts_and_downloads_copy_without_mm_copy_memory() {
    let _lock = driver_lock();
    let machine = Machine::new(down_level());
    let driver = load();
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::none()).expect("StartDevice");
    let bytes: Vec<u8> = (0..=255).collect();
    let kernel = KernelBuffer::new(&bytes).unwrap();
    let user = UserBuffer::map(&bytes).unwrap();
    let buffer = |address: usize| SYNTH_BUFFER {
        BufferSize: 256,
        BufferAddress: address as *mut core::ffi::c_void,
    };
    assert_eq!(
        copy_client_buffer(&buffer(kernel.address()), Requestor::Kernel).as_deref(),
        Ok(&bytes[..]),
        "a kernel component's buffer is copied directly"
    );
    assert_eq!(
        copy_client_buffer(&buffer(user.address()), Requestor::User),
        Err(STATUS_NOT_SUPPORTED),
        "an application's buffer cannot be read safely without MmCopyMemory"
    );
    drop((kernel, user));
    device.stop();
    device.remove();
    driver.unload();
    machine.unload_checks();
    assert_eq!(machine.findings(), []);
}
