//! The job: the PnP manager's and PortCls' part, played on a system thread once the adapter's
//! DriverEntry has returned. See the crate docs for the order of calls and the output files.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use com_object::{ComObject, ComRef};
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, IMasterClock, PMXF};
use dmus_sys::dmusic::{
    DMUS_STREAM_MIDI_CAPTURE, DMUS_STREAM_MIDI_RENDER, DMUS_STREAM_TYPE, DONT_HOLD_FOR_SEQUENCING,
};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    DRIVER_OBJECT, LARGE_INTEGER, NT_SUCCESS, NTSTATUS, NonPagedPool, PDEVICE_OBJECT, PVOID,
};
use dmus_sys::ks::{
    KSDATAFORMAT, KSSTATE, KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP,
};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI,
    KSDATAFORMAT_TYPE_MUSIC,
};
use dmus_sys::portcls::{IResourceList, PSERVICEGROUP};
use mpu401::WIRE_BYTE_100NS;
use mxf::Chain;

use crate::card::EmulatedCard;
use crate::devices::{self, Device};
use crate::job::{self, Job, RenderFormat};
use crate::kernel::{
    FILE_DEVICE_UNKNOWN, HANDLE, IoAllocateIrp, IoCreateDevice, IoDeleteDevice, IoFreeIrp,
    KERNEL_MODE, KeDelayExecutionThread, PsCreateSystemThread, THREAD_ALL_ACCESS, ZwClose,
    ZwWaitForSingleObject,
};
use crate::objects::allocator::Allocator;
use crate::objects::capture_sink::{CaptureSink, Record};
use crate::objects::clock::{self, Clock};
use crate::objects::port::{Bound, Port};
use crate::objects::resource_list::ResourceList;
use crate::objects::{interrupt, release, service};
use crate::spin::SpinMutex;
use crate::{adapter_driver, files, pool, veh, wire_log};

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
/// The captured messages (`rdmus record` format).
pub const CAPTURE_PATH: &str = "\\??\\C:\\rdmus\\capture.tsv";
/// Written last by the job: `ok` or `failed: REASON`.
pub const DONE_PATH: &str = "\\??\\C:\\rdmus\\done.txt";

/// The legacy render pin (rdmus's MPU-401 `PIN_LEGACY_RENDER`, KSMUSICFORMAT).
const LEGACY_RENDER_PIN: u32 = 0;
/// The DirectMusic render pin (rdmus's MPU-401 `PIN_DMUSIC_RENDER`, DMUS_EVENTHEADER).
const DMUSIC_RENDER_PIN: u32 = 1;
/// The capture pin the job opens (rdmus's MPU-401 `PIN_CAPTURE`).
const CAPTURE_PIN: u32 = 4;
/// How long before an event's time the port hands it to the stream, at least.
const MIN_LEAD_100NS: i64 = 50_000;
/// The job thread's tick: 1 ms.
const TICK_100NS: i64 = 10_000;
/// Delay between presentation time 0 and the RUN transition (so the first events are not late).
const START_LEAD_100NS: i64 = 200_000;
/// The longest the job waits for DriverEntry to return, in ticks.
const ENTRY_WAIT_TICKS: u32 = 5_000;
/// The longest unload waits for the job thread, in 100 ns.
const UNLOAD_WAIT_100NS: i64 = 600_000_000;

static DRIVER: AtomicUsize = AtomicUsize::new(0);
static OUR_UNLOAD: AtomicUsize = AtomicUsize::new(0);
static THREAD: AtomicUsize = AtomicUsize::new(0);

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

fn accounting_text() -> String {
    accounting_text_without(0, 0)
}

/// The accounting, less `blocks` blocks of `bytes` bytes the caller still holds on purpose.
fn accounting_text_without(blocks: usize, bytes: usize) -> String {
    let mut counts = pool::accounting();
    counts.blocks -= i64::try_from(blocks).unwrap_or(0);
    counts.bytes -= i64::try_from(bytes).unwrap_or(0);
    let mut text = String::new();
    let _ = writeln!(text, "blocks_outstanding\t{}", counts.blocks);
    let _ = writeln!(text, "bytes_outstanding\t{}", counts.bytes);
    let _ = writeln!(text, "objects_alive\t{}", counts.objects);
    let _ = writeln!(text, "allocations\t{}", counts.allocations);
    let _ = writeln!(text, "allocation_failures\t{}", counts.failures);
    text
}

/// Sleeps `ticks` of 100 ns (relative). PASSIVE_LEVEL.
fn sleep(ticks: i64) {
    let mut interval = LARGE_INTEGER::from_quad(-ticks);
    // SAFETY: a relative, non-alertable kernel-mode wait on the job thread.
    let _ = unsafe { KeDelayExecutionThread(KERNEL_MODE, 0, &raw mut interval) };
}

/// A log of what the job did, written as `standin.log`.
struct Log(String);

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
    let outcome = run(&mut log);
    let wire = veh::CARD.lock().as_mut().map(EmulatedCard::take_wire);
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
    if let Some(wire) = wire {
        let _ = files::write(WIRE_PATH, wire_log::to_tsv(&wire).as_bytes());
    }
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
fn wait_for_driver_entry(driver: *mut DRIVER_OBJECT) {
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

fn run(log: &mut Log) -> Result<(), &'static str> {
    let driver = DRIVER.load(Ordering::Acquire) as *mut DRIVER_OBJECT;
    wait_for_driver_entry(driver);
    log.line(format_args!("DriverEntry returned"));
    let text = files::read(JOB_PATH).map_err(|_| "cannot read C:\\rdmus\\job.txt")?;
    let job = match job::parse(&text) {
        Ok(job) => job,
        Err(error) => {
            log.line(format_args!("{error}"));
            return Err("job file refused");
        }
    };
    log.line(format_args!(
        "job: MPU-401 at {:#x}, irq {:?}, card {}, {} events ({} wire bytes), {} input bytes",
        job.port,
        job.irq,
        if job.card_present {
            "present"
        } else {
            "absent"
        },
        job.events.len(),
        job.wire_bytes(),
        job.input.len()
    ));
    if job.card_present {
        let mut wire = Vec::new();
        wire.try_reserve_exact(job.wire_bytes() * 2 + 4096)
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
        *veh::CARD.lock() = Some(EmulatedCard::new(job.port, wire, input));
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
    let result = run_device(log, driver, pdo, &job);
    // SAFETY: the PDO made above; nothing refers to it any more. PASSIVE_LEVEL.
    unsafe { IoDeleteDevice(pdo) };
    result
}

fn run_device(
    log: &mut Log,
    driver: *mut DRIVER_OBJECT,
    pdo: PDEVICE_OBJECT,
    job: &Job,
) -> Result<(), &'static str> {
    let (_, add_device) = adapter_driver::recorded().ok_or("no AddDevice recorded")?;
    // SAFETY: the adapter's AddDevice with its driver object and our PDO. PASSIVE_LEVEL.
    let status = unsafe { add_device(driver, pdo) };
    if !log.status("AddDevice", status) {
        return Err("AddDevice failed");
    }
    let device = devices::find(pdo).ok_or("AddDevice made no adapter device")?;
    let result = start_and_play(log, &device, job);
    remove(log, &device);
    result
}

fn start_and_play(log: &mut Log, device: &Device, job: &Job) -> Result<(), &'static str> {
    let start = device.start.ok_or("no StartDevice")?;
    let list = ResourceList::try_new(Some(job.port), job.irq).map_err(|_| "no memory")?;
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
    if !log.status("StartDevice", status) {
        return if job.card_present {
            Err("StartDevice failed")
        } else {
            log.line(format_args!("no card: StartDevice failed as it must"));
            Ok(())
        };
    }
    if !job.card_present {
        return Err("StartDevice succeeded without a card");
    }
    let subdevice = device_subdevice(device).ok_or("no subdevice registered")?;
    // SAFETY: a subdevice registered by the driver: a port PcNewPort made, alive on the
    // device's reference.
    let port = unsafe { crate::exports::port_of(subdevice) }.ok_or("no port")?;
    play(log, port, job)
}

fn device_subdevice(device: &Device) -> Option<dmus_sys::com::PUNKNOWN> {
    devices::find(device.fdo)?
        .subdevices
        .into_iter()
        .find(|subdevice| !subdevice.is_null())
}

/// Device removal: the ports let go of their miniports (PortCls' ReleaseChildren), the
/// registrations' references go, the FDO is deleted.
fn remove(log: &mut Log, device: &Device) {
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

/// `IMXF::SetState` on the stream.
fn set_state(log: &mut Log, what: &str, stream: PMXF, state: KSSTATE) -> bool {
    // SAFETY: the live stream NewStream gave; a plain vtable read.
    let vtable = unsafe { com_object::vtable::<IMXF>(stream) };
    // SAFETY: SetState at PASSIVE_LEVEL, one KS step.
    let status = unsafe { (vtable.SetState)(stream, state) };
    let name = match state {
        KSSTATE_STOP => "STOP",
        KSSTATE_ACQUIRE => "ACQUIRE",
        KSSTATE_PAUSE => "PAUSE",
        _ => "RUN",
    };
    log.status_of(what, name, status)
}

/// The pin a stream is opened on: factory id, data subformat, stream type.
#[derive(Clone, Copy)]
struct PinSpec {
    pin: u32,
    subformat: GUID,
    stream_type: DMUS_STREAM_TYPE,
}

/// One stream the job opened: the stream and the service group NewStream handed out (one
/// reference each).
struct Stream {
    what: &'static str,
    mxf: PMXF,
    group: PSERVICEGROUP,
    prefetch: u64,
}

impl Stream {
    /// `IMiniportDMus::NewStream` for `pin`.
    fn open(
        log: &mut Log,
        what: &'static str,
        bound: &Bound,
        pin: PinSpec,
        allocator: &ComRef<Allocator>,
        clock: &ComRef<Clock>,
    ) -> Option<Self> {
        // KS keeps a pin's data format for the pin's life; the stream may keep the pointer.
        let format = Box::leak(Box::new(music_format(pin.subformat)));
        let mut stream: PMXF = core::ptr::null_mut();
        let mut group: PSERVICEGROUP = core::ptr::null_mut();
        let mut prefetch = 0_u64;
        // SAFETY: the port holds the miniport; a plain vtable read.
        let vtable = unsafe { com_object::vtable(bound.miniport) };
        // SAFETY: NewStream at PASSIVE_LEVEL with writable out pointers, the port's live
        // allocator and clock (the stream takes its own references), and a format that
        // outlives the stream (freed in `close`).
        let status = unsafe {
            (vtable.NewStream)(
                bound.miniport,
                &raw mut stream,
                core::ptr::null_mut(),
                NonPagedPool,
                pin.pin,
                pin.stream_type,
                &raw mut *format,
                &raw mut group,
                allocator.as_interface::<IAllocatorMXF>().as_ptr(),
                clock.as_interface::<IMasterClock>().as_ptr(),
                &raw mut prefetch,
            )
        };
        let format: *mut KSDATAFORMAT = format;
        let opened = log.status_of(what, "NewStream", status) && !stream.is_null();
        if !opened {
            if !group.is_null() {
                // SAFETY: a group NewStream handed out.
                unsafe { release(group.cast()) };
            }
            // SAFETY: the format leaked above; no stream keeps it.
            drop(unsafe { Box::from_raw(format) });
            return None;
        }
        FORMATS.lock().push_within_capacity_or_leak(format);
        log.line(format_args!("{what}: SchedulePreFetch {prefetch:#x}"));
        Some(Self {
            what,
            mxf: stream,
            group,
            prefetch,
        })
    }

    /// STOP → ACQUIRE → PAUSE → RUN (or the reverse), one step at a time; false at the first
    /// failure.
    fn walk(&self, log: &mut Log, states: &[KSSTATE]) -> bool {
        states
            .iter()
            .all(|&state| set_state(log, self.what, self.mxf, state))
    }

    /// Releases the stream and its group.
    fn close(self) {
        // SAFETY: NewStream's reference on the stream, given up once. PASSIVE_LEVEL.
        unsafe { release(self.mxf.cast()) };
        if !self.group.is_null() {
            // SAFETY: NewStream's reference on the group.
            unsafe { release(self.group.cast()) };
        }
    }
}

/// The data formats handed to NewStream: kept until the job ends (a stream may keep the
/// pointer for its life, as KS keeps a pin's format).
struct Formats(Vec<*mut KSDATAFORMAT>);

// SAFETY: plain pointers to leaked boxes, freed once by `free_formats` on the job thread.
unsafe impl Send for Formats {}

impl Formats {
    fn push_within_capacity_or_leak(&mut self, format: *mut KSDATAFORMAT) {
        if self.0.try_reserve(1).is_ok() {
            self.0.push(format);
        }
    }
}

static FORMATS: SpinMutex<Formats> = SpinMutex::new(Formats(Vec::new()));

/// Frees the formats once every stream is gone.
fn free_formats() {
    let formats = core::mem::take(&mut FORMATS.lock().0);
    for format in formats {
        // SAFETY: a box leaked by `Stream::open`; no stream is left to use it.
        drop(unsafe { Box::from_raw(format) });
    }
}

/// A `KSDATAFORMAT_TYPE_MUSIC` format of `subformat`.
fn music_format(subformat: GUID) -> KSDATAFORMAT {
    KSDATAFORMAT {
        FormatSize: u32::try_from(core::mem::size_of::<KSDATAFORMAT>()).unwrap_or(0),
        Flags: 0,
        SampleSize: 0,
        Reserved: 0,
        MajorFormat: KSDATAFORMAT_TYPE_MUSIC,
        SubFormat: subformat,
        Specifier: KSDATAFORMAT_SPECIFIER_NONE,
    }
}

const UP: [KSSTATE; 3] = [KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN];
const DOWN: [KSSTATE; 3] = [KSSTATE_PAUSE, KSSTATE_ACQUIRE, KSSTATE_STOP];

fn play(log: &mut Log, port: &ComObject<Port>, job: &Job) -> Result<(), &'static str> {
    let bound = port.bound().ok_or("port not initialised")?;
    let allocator = port.allocator().ok_or("no allocator")?;
    let clock = port.clock().ok_or("no clock")?;
    let result = play_streams(log, &bound, &allocator, &clock, job);
    free_formats();
    let pool_stats = allocator.stats();
    log.line(format_args!(
        "allocator after the streams closed: {} events and {} buffers out (high water {} events)",
        pool_stats.events_in_use, pool_stats.buffers_in_use, pool_stats.events_high_water
    ));
    result?;
    if pool_stats.events_in_use + pool_stats.buffers_in_use > 0 {
        return Err("events not returned to the allocator");
    }
    Ok(())
}

fn play_streams(
    log: &mut Log,
    bound: &Bound,
    allocator: &ComRef<Allocator>,
    clock: &ComRef<Clock>,
    job: &Job,
) -> Result<(), &'static str> {
    let (render_pin, render_subformat) = match job.format {
        RenderFormat::Midi => (LEGACY_RENDER_PIN, KSDATAFORMAT_SUBTYPE_MIDI),
        RenderFormat::DirectMusic => (DMUSIC_RENDER_PIN, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC),
    };
    let render = if job.events.is_empty() {
        None
    } else {
        Some(
            Stream::open(
                log,
                "render",
                bound,
                PinSpec {
                    pin: render_pin,
                    subformat: render_subformat,
                    stream_type: DMUS_STREAM_MIDI_RENDER,
                },
                allocator,
                clock,
            )
            .ok_or("render NewStream failed")?,
        )
    };
    let capture = if job.input.is_empty() {
        None
    } else {
        let Some(stream) = Stream::open(
            log,
            "capture",
            bound,
            PinSpec {
                pin: CAPTURE_PIN,
                subformat: KSDATAFORMAT_SUBTYPE_MIDI,
                stream_type: DMUS_STREAM_MIDI_CAPTURE,
            },
            allocator,
            clock,
        ) else {
            if let Some(render) = render {
                render.close();
            }
            return Err("capture NewStream failed");
        };
        let sink = CaptureSink::try_new(allocator.to_ref(), job.input.len(), job.input.len())
            .map_err(|_| "no memory for the capture sink")?;
        let sink_mxf = sink.as_interface::<IMXF>().as_ptr();
        // SAFETY: the live capture stream; a plain vtable read.
        let vtable = unsafe { com_object::vtable::<IMXF>(stream.mxf) };
        // SAFETY: ConnectOutput with our live sink (the stream takes its own reference).
        let status = unsafe { (vtable.ConnectOutput)(stream.mxf, sink_mxf) };
        if !log.status_of("capture", "ConnectOutput", status) {
            stream.close();
            if let Some(render) = render {
                render.close();
            }
            return Err("capture ConnectOutput failed");
        }
        Some((stream, sink))
    };
    let mut ok = render.as_ref().is_none_or(|stream| stream.walk(log, &UP))
        && capture
            .as_ref()
            .is_none_or(|(stream, _)| stream.walk(log, &UP));
    let origin = clock::now() + START_LEAD_100NS;
    if let Some(card) = veh::CARD.lock().as_mut() {
        card.set_origin(origin);
    }
    log.line(format_args!(
        "RUN; presentation time 0 is master time {origin}"
    ));
    if ok {
        ok = run_loop(log, render.as_ref(), allocator, origin, job);
    }
    let stopped = render.as_ref().is_none_or(|stream| stream.walk(log, &DOWN))
        && capture
            .as_ref()
            .is_none_or(|(stream, _)| stream.walk(log, &DOWN));
    service::run_pending(clock::now());
    if let Some(render) = render {
        render.close();
    }
    if let Some((stream, sink)) = capture {
        // SAFETY: the live capture stream; a plain vtable read.
        let vtable = unsafe { com_object::vtable::<IMXF>(stream.mxf) };
        let sink_mxf = sink.as_interface::<IMXF>().as_ptr();
        // SAFETY: DisconnectOutput of the sink ConnectOutput connected. PASSIVE_LEVEL.
        let status = unsafe { (vtable.DisconnectOutput)(stream.mxf, sink_mxf) };
        log.status_of("capture", "DisconnectOutput", status);
        stream.close();
        let record = sink.take();
        log.line(format_args!(
            "capture: {} events ({} bytes), {} dropped",
            record.events.len(),
            record.bytes.len(),
            record.dropped
        ));
        let _ = files::write(CAPTURE_PATH, capture_tsv(&record, origin).as_bytes());
    }
    if ok && stopped {
        Ok(())
    } else {
        Err("a state change failed")
    }
}

/// The captured events as `time_us<TAB>bytes` lines (as `rdmus record` writes messages): the
/// time of each event in the input's frame (master time − presentation 0 − one byte time,
/// since the card stamps a byte when its stop bit is in), the bytes in hex.
fn capture_tsv(record: &Record, origin: i64) -> String {
    let mut text = String::from("time_us\tmessage\n");
    for event in &record.events {
        let time = event.time - origin - WIRE_BYTE_100NS;
        let sign = if time < 0 { "-" } else { "" };
        let abs = time.unsigned_abs();
        let _ = write!(text, "{sign}{}.{}\t", abs / 10, abs % 10);
        let bytes = record
            .bytes
            .get(event.start..event.start + event.len)
            .unwrap_or(&[]);
        for (index, byte) in bytes.iter().enumerate() {
            let _ = write!(text, "{}{byte:02x}", if index == 0 { "" } else { " " });
        }
        text.push('\n');
    }
    text
}

/// The job's clock loop: raises the card's interrupt when input is due, runs service
/// requests, hands render events to the stream `lead` ahead of their time; until everything
/// is delivered and the tail has passed (bounded: a minute past the end at most).
fn run_loop(
    log: &mut Log,
    render: Option<&Stream>,
    allocator: &ComRef<Allocator>,
    origin: i64,
    job: &Job,
) -> bool {
    let lead = match render {
        Some(stream) if stream.prefetch != DONT_HOLD_FOR_SEQUENCING => {
            i64::try_from(stream.prefetch)
                .unwrap_or(i64::MAX)
                .max(MIN_LEAD_100NS)
        }
        _ => i64::MAX,
    };
    let tail = i64::from(job.tail_ms) * TICK_100NS;
    let end = origin + job.last_time() + WIRE_BYTE_100NS + tail;
    let mut next = 0;
    let mut dropped = 0_usize;
    let ok = loop {
        let now = clock::now();
        let input = veh::CARD
            .lock()
            .as_mut()
            .is_some_and(|card| card.input_due(now));
        if input {
            let _ = interrupt::raise();
        }
        service::run_pending(now);
        if let Some(stream) = render {
            let mut chain = Chain::new();
            while let Some(event) = job.events.get(next) {
                let due = origin + event.time;
                if due.saturating_sub(lead) > now {
                    break;
                }
                let built = allocator.with_pool(|pool| {
                    mxf::build::push_bytes(&mut chain, pool, due, 1, &event.bytes, true)
                });
                if built.is_err() {
                    dropped += 1;
                }
                next += 1;
            }
            if !chain.is_empty() {
                // SAFETY: the live stream; a plain vtable read.
                let vtable = unsafe { com_object::vtable::<IMXF>(stream.mxf) };
                // SAFETY: PutMessage with a chain of the port's allocator events, given up here.
                let status = unsafe { (vtable.PutMessage)(stream.mxf, chain.into_raw()) };
                if !NT_SUCCESS(status) {
                    log.status_of("render", "PutMessage", status);
                }
            }
        }
        let pending = veh::CARD
            .lock()
            .as_ref()
            .map_or(0, EmulatedCard::input_pending);
        if next == job.events.len() && pending == 0 && now >= end {
            break true;
        }
        if now >= end + 600_000_000 {
            log.line(format_args!("the job ran a minute past its end: stopped"));
            break false;
        }
        sleep(TICK_100NS);
    };
    if dropped > 0 {
        log.line(format_args!(
            "{dropped} events not built: allocator exhausted"
        ));
    }
    log.line(format_args!(
        "render: {next} of {} events delivered",
        job.events.len()
    ));
    ok
}
