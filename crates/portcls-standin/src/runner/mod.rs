//! The job: the PnP manager's and PortCls' part, played on a system thread once the adapter's
//! DriverEntry has returned. See the crate docs for the order of calls and the output files.
//!
//! - this module: the thread, the device's life (AddDevice, StartDevice, removal), the log
//!   and the output files;
//! - `stream`: opening a stream on a pin, its KS states, handing it events;
//! - `uart`: the MPU-401's render and capture streams and the clock loop;
//! - `synth`: the synth's bank, its render pin and the wave sink.

mod job_file;
mod stream;
mod synth;
mod uart;
mod wire_out;

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use dmus_sys::kernel::{DRIVER_OBJECT, LARGE_INTEGER, NT_SUCCESS, NTSTATUS, PDEVICE_OBJECT, PVOID};
use dmus_sys::portcls::IResourceList;
use mpu401::WIRE_BYTE_100NS;

use crate::card::EmulatedCard;
use crate::devices::{self, Device};
use crate::job::{self, Device as Subdevice, Job};
use crate::kernel::{
    FILE_DEVICE_UNKNOWN, HANDLE, IoAllocateIrp, IoCreateDevice, IoDeleteDevice, IoFreeIrp,
    KERNEL_MODE, KeDelayExecutionThread, PsCreateSystemThread, THREAD_ALL_ACCESS, ZwClose,
    ZwWaitForSingleObject,
};
use crate::objects::release;
use crate::objects::resource_list::ResourceList;
use crate::{adapter_driver, files, pool, veh};
use wire_out::{CARD_LOG_CAPACITY, WireOut};

/// The job file.
pub const JOB_PATH: &str = "\\??\\C:\\rdmus\\job.txt";
/// The step log.
pub const LOG_PATH: &str = "\\??\\C:\\rdmus\\standin.log";
/// The wire log (`rdmus play --wire` format).
pub const WIRE_PATH: &str = "\\??\\C:\\rdmus\\wire.tsv";
/// The pool accounting after the device is removed.
pub const POOL_PATH: &str = "\\??\\C:\\rdmus\\pool.txt";
/// The pool accounting after the driver unloaded.
pub const UNLOAD_PATH: &str = "\\??\\C:\\rdmus\\unload.txt";
/// The synth's audio (`rdmus play --wav` format).
pub const WAV_PATH: &str = "\\??\\C:\\rdmus\\out.wav";
/// The captured messages (`rdmus record` format).
pub const CAPTURE_PATH: &str = "\\??\\C:\\rdmus\\capture.tsv";
/// The synth's figures (`name<TAB>value` lines: voices, lost notes by cause, clipped samples).
pub const STATS_PATH: &str = "\\??\\C:\\rdmus\\stats.txt";
/// Written last by the job: `ok` or `failed: REASON`.
pub const DONE_PATH: &str = "\\??\\C:\\rdmus\\done.txt";

/// The legacy render pin (rdmus's MPU-401 `PIN_LEGACY_RENDER`, KSMUSICFORMAT).
pub(super) const LEGACY_RENDER_PIN: u32 = 0;
/// The DirectMusic render pin (rdmus's MPU-401 `PIN_DMUSIC_RENDER`, DMUS_EVENTHEADER).
pub(super) const DMUSIC_RENDER_PIN: u32 = 1;
/// The capture pin the job opens (rdmus's MPU-401 `PIN_CAPTURE`).
pub(super) const CAPTURE_PIN: u32 = 4;
/// The synth's legacy MIDI render pin (rdmus's synth `PIN_LEGACY_RENDER`, KSMUSICFORMAT).
pub(super) const SYNTH_LEGACY_RENDER_PIN: u32 = 0;
/// The synth's DirectMusic render pin (rdmus's synth `PIN_DMUSIC_RENDER`).
pub(super) const SYNTH_DMUSIC_RENDER_PIN: u32 = 1;
/// The synth's wave-out pin (rdmus's synth `PIN_WAVE_OUT`).
pub(super) const SYNTH_WAVE_OUT_PIN: u32 = 2;
/// Where the job's other files are (the DLS bank).
pub(super) const BANK_DIR: &str = "\\??\\C:\\rdmus\\";
/// The most bytes a DLS bank may have.
pub(super) const MAX_BANK_BYTES: usize = 256 << 20;
/// How long before an event's time the port hands it to the stream, at least.
pub(super) const MIN_LEAD_100NS: i64 = 50_000;
/// The job thread's tick: 1 ms.
pub(super) const TICK_100NS: i64 = 10_000;
/// Delay between presentation time 0 and the RUN transition (so the first events are not late).
pub(super) const START_LEAD_100NS: i64 = 200_000;
/// The longest the job waits for DriverEntry to return, in ticks.
pub(super) const ENTRY_WAIT_TICKS: u32 = 5_000;
/// The longest unload waits for the job thread, in 100 ns.
pub(super) const UNLOAD_WAIT_100NS: i64 = 600_000_000;

pub(super) static DRIVER: AtomicUsize = AtomicUsize::new(0);
pub(super) static OUR_UNLOAD: AtomicUsize = AtomicUsize::new(0);
pub(super) static THREAD: AtomicUsize = AtomicUsize::new(0);

/// Starts the job thread for `driver`; `our_unload` is the routine PcInitializeAdapterDriver
/// installed (DriverEntry has returned once the driver has put its own in front).
pub fn start(
    driver: *mut DRIVER_OBJECT,
    our_unload: unsafe extern "system" fn(*mut DRIVER_OBJECT),
) {
    DRIVER.store(driver as usize, Ordering::Release);
    OUR_UNLOAD.store(our_unload as usize, Ordering::Release);
    let mut handle: HANDLE = core::ptr::null_mut();
    // SAFETY: a kernel thread running `job_thread` (PKSTART_ROUTINE's signature) with no
    // context; the handle is waited for at unload. PASSIVE_LEVEL.
    let status = unsafe {
        PsCreateSystemThread(
            &raw mut handle,
            THREAD_ALL_ACCESS,
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            core::ptr::null_mut(),
            job_thread,
            core::ptr::null_mut(),
        )
    };
    if NT_SUCCESS(status) {
        THREAD.store(handle as usize, Ordering::Release);
    } else {
        let _ = files::write(DONE_PATH, b"failed: PsCreateSystemThread\n");
    }
}

/// Unload: waits (bounded) for the job thread and writes the accounting. PASSIVE_LEVEL.
pub fn unload() {
    let handle = THREAD.swap(0, Ordering::AcqRel);
    if handle != 0 {
        let mut timeout = LARGE_INTEGER::from_quad(-UNLOAD_WAIT_100NS);
        // SAFETY: the thread handle from PsCreateSystemThread; a relative timeout. PASSIVE_LEVEL.
        let _ = unsafe { ZwWaitForSingleObject(handle as HANDLE, 0, &raw mut timeout) };
        // SAFETY: the handle, closed once.
        let _ = unsafe { ZwClose(handle as HANDLE) };
    }
    let _ = files::write(UNLOAD_PATH, accounting_text().as_bytes());
}

pub(super) fn accounting_text() -> String {
    accounting_text_without(0, 0)
}

/// The accounting, less `blocks` blocks of `bytes` bytes the caller still holds on purpose.
pub(super) fn accounting_text_without(blocks: usize, bytes: usize) -> String {
    let mut counts = pool::accounting();
    counts.blocks -= i64::try_from(blocks).unwrap_or(0);
    counts.bytes -= i64::try_from(bytes).unwrap_or(0);
    let mut text = String::new();
    let _ = writeln!(text, "blocks_outstanding\t{}", counts.blocks);
    let _ = writeln!(text, "bytes_outstanding\t{}", counts.bytes);
    let _ = writeln!(text, "objects_alive\t{}", counts.objects);
    let _ = writeln!(text, "allocations\t{}", counts.allocations);
    let _ = writeln!(text, "allocation_failures\t{}", counts.failures);
    let _ = writeln!(text, "peak_bytes\t{}", counts.peak_bytes);
    text
}

/// Sleeps `ticks` of 100 ns (relative). PASSIVE_LEVEL.
pub(super) fn sleep(ticks: i64) {
    let mut interval = LARGE_INTEGER::from_quad(-ticks);
    // SAFETY: a relative, non-alertable kernel-mode wait on the job thread.
    let _ = unsafe { KeDelayExecutionThread(KERNEL_MODE, 0, &raw mut interval) };
}

/// A log of what the job did, written as `standin.log`.
pub(super) struct Log(String);

impl Log {
    fn line(&mut self, args: core::fmt::Arguments<'_>) {
        let _ = self.0.write_fmt(args);
        self.0.push('\n');
        // Written after every line: if the driver takes the process down, the log says how far
        // it got.
        let _ = files::write(LOG_PATH, self.0.as_bytes());
    }

    fn status(&mut self, step: &str, status: NTSTATUS) -> bool {
        self.line(format_args!(
            "{step}: {:#010x}",
            u32::from_ne_bytes(status.to_ne_bytes())
        ));
        NT_SUCCESS(status)
    }

    fn status_of(&mut self, what: &str, step: &str, status: NTSTATUS) -> bool {
        self.line(format_args!(
            "{what} {step}: {:#010x}",
            u32::from_ne_bytes(status.to_ne_bytes())
        ));
        NT_SUCCESS(status)
    }
}

unsafe extern "system" fn job_thread(_context: PVOID) {
    let mut log = Log(String::new());
    let mut wire = WireOut::new();
    let outcome = run(&mut log, &mut wire);
    // What the card logged after the clock loop (the streams' STOP).
    wire.drain();
    if wire.failed {
        log.line(format_args!(
            "wire.tsv: a write failed, the log is incomplete"
        ));
    }
    drop(wire);
    if let Some(card) = veh::CARD.lock().as_ref() {
        let counts = card.counts();
        log.line(format_args!(
            "card: {} reads, {} writes, {} commands, {} overruns, {} wire bytes dropped, {} input dropped",
            counts.reads,
            counts.writes,
            counts.commands,
            counts.overruns,
            counts.wire_dropped,
            counts.input_dropped
        ));
    }
    veh::remove();
    *veh::CARD.lock() = None;
    log.line(format_args!(
        "port accesses emulated: {}",
        veh::EMULATED.load(Ordering::Relaxed)
    ));
    // The log's own buffer is the one block the job still holds: not counted.
    let held = usize::from(log.0.capacity() > 0);
    let _ = files::write(
        POOL_PATH,
        accounting_text_without(held, log.0.capacity()).as_bytes(),
    );
    let _ = files::write(LOG_PATH, log.0.as_bytes());
    let done = match outcome {
        Ok(()) => String::from("ok\n"),
        Err(reason) => {
            let mut text = String::from("failed: ");
            text.push_str(reason);
            text.push('\n');
            text
        }
    };
    let _ = files::write(DONE_PATH, done.as_bytes());
}

/// Waits until the adapter's DriverEntry has returned: it puts its own unload routine in
/// front of PortCls' just before it does.
pub(super) fn wait_for_driver_entry(driver: *mut DRIVER_OBJECT) {
    let ours = OUR_UNLOAD.load(Ordering::Acquire);
    for _ in 0..ENTRY_WAIT_TICKS {
        // SAFETY: the live driver object (it cannot unload while its PortCls thread runs:
        // unload waits for us). A plain read of a pointer-sized field.
        let field = unsafe { &raw const (*driver).DriverUnload };
        // SAFETY: as above: an aligned field of the live object.
        let unload = unsafe { core::ptr::read_volatile(field) };
        if unload.is_some_and(|routine| routine as usize != ours) {
            break;
        }
        sleep(TICK_100NS);
    }
    // The store of DriverUnload precedes DriverEntry's return by a few instructions.
    sleep(50 * TICK_100NS);
}

pub(super) fn run(log: &mut Log, wire_out: &mut WireOut) -> Result<(), &'static str> {
    let driver = DRIVER.load(Ordering::Acquire) as *mut DRIVER_OBJECT;
    wait_for_driver_entry(driver);
    log.line(format_args!("DriverEntry returned"));
    let job = job_file::scan(log)?;
    match job.device {
        Subdevice::Mpu401 => log.line(format_args!(
            "job: MPU-401 at {:#x}, irq {:?}, card {}, {} events ({} wire bytes), {} input bytes",
            job.port,
            job.irq,
            match (job.card_present, job.fault) {
                (false, _) => "absent",
                (true, None) => "present",
                (true, Some(job::CardFault::NeverAcks)) => "present, never acknowledges",
                (true, Some(job::CardFault::NeverDrains)) => "present, never drains",
            },
            job.counts.events,
            job.wire_bytes(),
            job.input.len()
        )),
        Subdevice::Synth => log.line(format_args!(
            "job: synth, bank {:?}, {} Hz asked, {} events",
            job.dls, job.rate, job.counts.events
        )),
    }
    if job.device == Subdevice::Synth {
        // No card: port I/O goes on to Wine's handler (the synth does none).
    } else if job.card_present {
        let mut wire = Vec::new();
        wire.try_reserve_exact(CARD_LOG_CAPACITY)
            .map_err(|_| "no memory for the wire log")?;
        let mut input = Vec::new();
        input
            .try_reserve_exact(job.input.len())
            .map_err(|_| "no memory for the input")?;
        // The card has a byte once its stop bit is in: one byte time after its start (the
        // job gives start times, as `rdmus record` reads its input log).
        input.extend(
            job.input
                .iter()
                .map(|&(time, byte)| (time + WIRE_BYTE_100NS, byte)),
        );
        *veh::CARD.lock() = Some(EmulatedCard::new(job.port, wire, input).with_fault(job.fault));
    } else {
        *veh::CARD.lock() = Some(EmulatedCard::absent(job.port));
    }
    if !veh::install() {
        return Err("RtlAddVectoredExceptionHandler failed");
    }
    let mut pdo: PDEVICE_OBJECT = core::ptr::null_mut();
    // SAFETY: an unnamed device for the adapter's driver object, standing for the bus's PDO.
    // PASSIVE_LEVEL.
    let status = unsafe {
        IoCreateDevice(
            driver,
            0,
            core::ptr::null_mut(),
            FILE_DEVICE_UNKNOWN,
            0,
            0,
            &raw mut pdo,
        )
    };
    if !log.status("IoCreateDevice (PDO)", status) {
        return Err("no PDO");
    }
    let result = run_device(log, driver, pdo, &job, wire_out);
    // SAFETY: the PDO made above; nothing refers to it any more. PASSIVE_LEVEL.
    unsafe { IoDeleteDevice(pdo) };
    result
}

pub(super) fn run_device(
    log: &mut Log,
    driver: *mut DRIVER_OBJECT,
    pdo: PDEVICE_OBJECT,
    job: &Job,
    wire_out: &mut WireOut,
) -> Result<(), &'static str> {
    let (_, add_device) = adapter_driver::recorded().ok_or("no AddDevice recorded")?;
    // SAFETY: the adapter's AddDevice with its driver object and our PDO. PASSIVE_LEVEL.
    let status = unsafe { add_device(driver, pdo) };
    if !log.status("AddDevice", status) {
        return Err("AddDevice failed");
    }
    let device = devices::find(pdo).ok_or("AddDevice made no adapter device")?;
    let result = start_and_play(log, &device, job, wire_out);
    remove(log, &device);
    result
}

pub(super) fn start_and_play(
    log: &mut Log,
    device: &Device,
    job: &Job,
    wire_out: &mut WireOut,
) -> Result<(), &'static str> {
    let start = device.start.ok_or("no StartDevice")?;
    let list = match job.device {
        Subdevice::Mpu401 => ResourceList::try_new(Some(job.port), job.irq),
        Subdevice::Synth => ResourceList::try_new(None, None),
    }
    .map_err(|_| "no memory")?;
    // SAFETY: the FDO made by PcAddAdapterDevice. PASSIVE_LEVEL.
    let stack_size = unsafe { (*device.fdo).StackSize };
    // SAFETY: an IRP for the start request, freed below. PASSIVE_LEVEL.
    let irp = unsafe { IoAllocateIrp(stack_size.max(1), 0) };
    let list_pointer = list.as_interface::<IResourceList>().as_ptr();
    // SAFETY: the adapter's StartDevice with its FDO, the start IRP and a live resource list
    // (our reference outlives the call). PASSIVE_LEVEL.
    let status = unsafe { start(device.fdo, irp, list_pointer) };
    if !irp.is_null() {
        // SAFETY: the IRP allocated above, no longer used.
        unsafe { IoFreeIrp(irp) };
    }
    drop(list);
    let synth = job.device == Subdevice::Synth;
    if !log.status("StartDevice", status) {
        return if synth || (job.card_present && job.fault.is_none()) {
            Err("StartDevice failed")
        } else if !job.card_present {
            log.line(format_args!("no card: StartDevice failed as it must"));
            Ok(())
        } else {
            // What a broken card does to the start is the outcome the caller compares.
            log.line(format_args!("broken card: StartDevice failed"));
            Ok(())
        };
    }
    if !job.card_present && !synth {
        return Err("StartDevice succeeded without a card");
    }
    let subdevice = device_subdevice(device).ok_or("no subdevice registered")?;
    // SAFETY: a subdevice registered by the driver: a port PcNewPort made, alive on the
    // device's reference.
    let port = unsafe { crate::exports::port_of(subdevice) }.ok_or("no port")?;
    if synth {
        synth::play_synth(log, port, job)
    } else {
        uart::play(log, port, job, wire_out)
    }
}

pub(super) fn device_subdevice(device: &Device) -> Option<dmus_sys::com::PUNKNOWN> {
    devices::find(device.fdo)?
        .subdevices
        .into_iter()
        .find(|subdevice| !subdevice.is_null())
}

/// Device removal: the ports let go of their miniports (PortCls' ReleaseChildren), the
/// registrations' references go, the FDO is deleted.
pub(super) fn remove(log: &mut Log, device: &Device) {
    let Some(device) = devices::remove(device.fdo) else {
        return;
    };
    for subdevice in device.subdevices.into_iter().filter(|s| !s.is_null()) {
        // SAFETY: a registered port, alive on the registration's reference.
        if let Some(port) = unsafe { crate::exports::port_of(subdevice) } {
            crate::objects::port::Port::release_children(port);
        }
        // SAFETY: the registration's reference, given up once. PASSIVE_LEVEL.
        unsafe { release(subdevice) };
    }
    // SAFETY: the FDO PcAddAdapterDevice made; nothing refers to it any more. PASSIVE_LEVEL.
    unsafe { IoDeleteDevice(device.fdo) };
    log.line(format_args!("device removed"));
}
