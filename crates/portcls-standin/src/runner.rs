//! The job: the PnP manager's and PortCls' part, played on a system thread once the adapter's
//! DriverEntry has returned. See the crate docs for the order of calls and the output files.

use alloc::boxed::Box;
use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;
use core::sync::atomic::{AtomicUsize, Ordering};

use com_object::{ComObject, ComRef};
use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dmus_sys::com::IUnknown;
use dmus_sys::dls::{WAVE_FORMAT_PCM, WAVEFORMATEX};
use dmus_sys::dmus_com::{IAllocatorMXF, IMXF, IMasterClock, PMXF};
use dmus_sys::dmus_com::{IID_ISynthSinkDMus, ISynthSinkDMus};
use dmus_sys::dmusic::{
    DMUS_STREAM_MIDI_CAPTURE, DMUS_STREAM_MIDI_RENDER, DMUS_STREAM_TYPE, DMUS_STREAM_WAVE_SINK,
    DONT_HOLD_FOR_SEQUENCING,
};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_DLS_DOWNLOAD, KSPROPERTY_SYNTH_DLS_UNLOAD, KSPROPERTY_SYNTH_PORTPARAMETERS,
    KSPROPSETID_Synth, KSPROPSETID_Synth_Dls, SYNTH_BUFFER, SYNTH_PORTPARAMS,
    SYNTH_PORTPARAMS_SAMPLERATE, SYNTHDOWNLOAD,
};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    DRIVER_OBJECT, LARGE_INTEGER, NT_SUCCESS, NTSTATUS, NonPagedPool, PDEVICE_OBJECT, PVOID,
    STATUS_INVALID_PARAMETER,
};
use dmus_sys::ks::{
    KSDATAFORMAT, KSSTATE, KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP,
};
use dmus_sys::ks::{KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_NONE, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI,
    KSDATAFORMAT_TYPE_MUSIC,
};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO,
};
use dmus_sys::ksmedia::{KSDATAFORMAT_PACKED, KSDATAFORMAT_WAVEFORMATEX};
use dmus_sys::portcls::{IResourceList, PSERVICEGROUP};
use mpu401::WIRE_BYTE_100NS;
use mxf::Chain;

use crate::card::EmulatedCard;
use crate::devices::{self, Device};
use crate::job::{self, Device as Subdevice, Job, RenderFormat};
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
use crate::property::filter_property;
use crate::spin::SpinMutex;
use crate::{adapter_driver, files, pool, veh, wav, wire_log};

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
/// Written last by the job: `ok` or `failed: REASON`.
pub const DONE_PATH: &str = "\\??\\C:\\rdmus\\done.txt";

/// The legacy render pin (rdmus's MPU-401 `PIN_LEGACY_RENDER`, KSMUSICFORMAT).
const LEGACY_RENDER_PIN: u32 = 0;
/// The DirectMusic render pin (rdmus's MPU-401 `PIN_DMUSIC_RENDER`, DMUS_EVENTHEADER).
const DMUSIC_RENDER_PIN: u32 = 1;
/// The capture pin the job opens (rdmus's MPU-401 `PIN_CAPTURE`).
const CAPTURE_PIN: u32 = 4;
/// The synth's DirectMusic render pin (rdmus's synth `PIN_DMUSIC_RENDER`).
const SYNTH_DMUSIC_RENDER_PIN: u32 = 1;
/// The synth's wave-out pin (rdmus's synth `PIN_WAVE_OUT`).
const SYNTH_WAVE_OUT_PIN: u32 = 2;
/// Where the job's other files are (the DLS bank).
const BANK_DIR: &str = "\\??\\C:\\rdmus\\";
/// The most bytes a DLS bank may have.
const MAX_BANK_BYTES: usize = 256 << 20;
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
    match job.device {
        Subdevice::Mpu401 => log.line(format_args!(
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
        )),
        Subdevice::Synth => log.line(format_args!(
            "job: synth, bank {:?}, {} Hz asked, {} events",
            job.dls,
            job.rate,
            job.events.len()
        )),
    }
    if job.device == Subdevice::Synth {
        // No card: port I/O goes on to Wine's handler (the synth does none).
    } else if job.card_present {
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
        return if job.card_present || synth {
            Err("StartDevice failed")
        } else {
            log.line(format_args!("no card: StartDevice failed as it must"));
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
        play_synth(log, port, job)
    } else {
        play(log, port, job)
    }
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

/// The pin a stream is opened on: factory id, data format, stream type.
#[derive(Clone, Copy)]
struct PinSpec {
    pin: u32,
    format: PinFormat,
    stream_type: DMUS_STREAM_TYPE,
}

/// A pin's data format.
#[derive(Clone, Copy)]
enum PinFormat {
    /// `KSDATAFORMAT_TYPE_MUSIC` of this subformat.
    Music(GUID),
    /// 16-bit stereo PCM at this rate (`KSDATAFORMAT_WAVEFORMATEX`).
    Wave(u32),
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
        let format = match pin.format {
            PinFormat::Music(subformat) => {
                FormatBox::Music(Box::into_raw(Box::new(music_format(subformat))))
            }
            PinFormat::Wave(rate) => FormatBox::Wave(Box::into_raw(Box::new(wave_format(rate)))),
        };
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
                format.as_format(),
                &raw mut group,
                allocator.as_interface::<IAllocatorMXF>().as_ptr(),
                clock.as_interface::<IMasterClock>().as_ptr(),
                &raw mut prefetch,
            )
        };
        let opened = log.status_of(what, "NewStream", status) && !stream.is_null();
        if !opened {
            if !group.is_null() {
                // SAFETY: a group NewStream handed out.
                unsafe { release(group.cast()) };
            }
            format.free();
            return None;
        }
        FORMATS.lock().keep(format);
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

/// A data format handed to NewStream, in a box of its own type.
#[derive(Clone, Copy)]
enum FormatBox {
    Music(*mut KSDATAFORMAT),
    Wave(*mut KSDATAFORMAT_WAVEFORMATEX),
}

impl FormatBox {
    /// The format as NewStream takes it (a wave format starts with the header).
    fn as_format(self) -> *mut KSDATAFORMAT {
        match self {
            Self::Music(format) => format,
            Self::Wave(format) => format.cast(),
        }
    }

    /// Frees the box; no stream may use it any more.
    fn free(self) {
        match self {
            // SAFETY: a box made by `Stream::open` (Box::into_raw), freed once.
            Self::Music(format) => drop(unsafe { Box::from_raw(format) }),
            // SAFETY: as above.
            Self::Wave(format) => drop(unsafe { Box::from_raw(format) }),
        }
    }
}

/// The data formats handed to NewStream: kept until the job ends (a stream may keep the
/// pointer for its life, as KS keeps a pin's format).
struct Formats(Vec<FormatBox>);

// SAFETY: plain pointers to boxes, freed once by `free_formats` on the job thread.
unsafe impl Send for Formats {}

impl Formats {
    /// Keeps `format` until `free_formats` (leaks it if there is no memory to keep it).
    fn keep(&mut self, format: FormatBox) {
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
        format.free();
    }
}

/// 16-bit stereo PCM at `rate`, as a wave-out pin's `KSDATAFORMAT_WAVEFORMATEX`.
fn wave_format(rate: u32) -> KSDATAFORMAT_WAVEFORMATEX {
    let block = wav::CHANNELS * (wav::BITS / 8);
    KSDATAFORMAT_WAVEFORMATEX {
        DataFormat: KSDATAFORMAT_PACKED {
            FormatSize: u32::try_from(core::mem::size_of::<KSDATAFORMAT_WAVEFORMATEX>())
                .unwrap_or(0),
            Flags: 0,
            SampleSize: u32::from(block),
            Reserved: 0,
            MajorFormat: KSDATAFORMAT_TYPE_AUDIO,
            SubFormat: KSDATAFORMAT_SUBTYPE_PCM,
            Specifier: KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
        },
        WaveFormatEx: WAVEFORMATEX {
            wFormatTag: WAVE_FORMAT_PCM,
            nChannels: wav::CHANNELS,
            nSamplesPerSec: rate,
            nAvgBytesPerSec: rate.saturating_mul(u32::from(block)),
            nBlockAlign: block,
            wBitsPerSample: wav::BITS,
            cbSize: 0,
        },
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
                    format: PinFormat::Music(render_subformat),
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
                format: PinFormat::Music(KSDATAFORMAT_SUBTYPE_MIDI),
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

/// The captured messages as `time_us<TAB>bytes` lines (as `rdmus record` writes them): an
/// event flagged incomplete (a sysex split across interrupts) is joined with the events that
/// continue it; a message's time is its first event's, in the input's frame (master time −
/// presentation 0 − one byte time, since the card stamps a byte when its stop bit is in).
fn capture_tsv(record: &Record, origin: i64) -> String {
    let mut text = String::from("time_us\tmessage\n");
    let mut continuing = false;
    for event in &record.events {
        if !continuing {
            let time = event.time - origin - WIRE_BYTE_100NS;
            let sign = if time < 0 { "-" } else { "" };
            let abs = time.unsigned_abs();
            let _ = write!(text, "{sign}{}.{}\t", abs / 10, abs % 10);
        }
        let bytes = record
            .bytes
            .get(event.start..event.start + event.len)
            .unwrap_or(&[]);
        for (index, byte) in bytes.iter().enumerate() {
            let separator = if index == 0 && !continuing { "" } else { " " };
            let _ = write!(text, "{separator}{byte:02x}");
        }
        continuing = event.incomplete;
        if !continuing {
            text.push('\n');
        }
    }
    if continuing {
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
    let mut deliver = Delivery::new(origin, lead);
    let mut next_progress = origin;
    let ok = loop {
        let now = clock::now();
        if now >= next_progress {
            log.line(format_args!(
                "t = {} ms: {} events delivered",
                (now - origin) / TICK_100NS,
                deliver.next
            ));
            next_progress = now + 10_000_000;
        }
        let input = veh::CARD
            .lock()
            .as_mut()
            .is_some_and(|card| card.input_due(now));
        if input {
            let _ = interrupt::raise();
        }
        service::run_pending(now);
        if let Some(stream) = render {
            deliver.due(log, stream, allocator, job, now);
        }
        let pending = veh::CARD
            .lock()
            .as_ref()
            .map_or(0, EmulatedCard::input_pending);
        if deliver.next == job.events.len() && pending == 0 && now >= end {
            break true;
        }
        if now >= end + 600_000_000 {
            log.line(format_args!("the job ran a minute past its end: stopped"));
            break false;
        }
        sleep(TICK_100NS);
    };
    deliver.report(log, job);
    ok
}

/// Hands a render stream the job's events `lead` ahead of their master time.
struct Delivery {
    origin: i64,
    lead: i64,
    next: usize,
    dropped: usize,
}

impl Delivery {
    fn new(origin: i64, lead: i64) -> Self {
        Self {
            origin,
            lead,
            next: 0,
            dropped: 0,
        }
    }

    /// `PutMessage` of one chain with every event due by `now` + lead.
    fn due(
        &mut self,
        log: &mut Log,
        stream: &Stream,
        allocator: &ComRef<Allocator>,
        job: &Job,
        now: i64,
    ) {
        let mut chain = Chain::new();
        while let Some(event) = job.events.get(self.next) {
            let due = self.origin + event.time;
            if due.saturating_sub(self.lead) > now {
                break;
            }
            let built = allocator.with_pool(|pool| {
                mxf::build::push_bytes(&mut chain, pool, due, 1, &event.bytes, true)
            });
            if built.is_err() {
                self.dropped += 1;
            }
            self.next += 1;
        }
        if !chain.is_empty() {
            // SAFETY: the live stream; a plain vtable read.
            let vtable = unsafe { com_object::vtable::<IMXF>(stream.mxf) };
            // SAFETY: PutMessage with a chain of the port's allocator events, given up here.
            let status = unsafe { (vtable.PutMessage)(stream.mxf, chain.into_raw()) };
            if !NT_SUCCESS(status) {
                log.status_of(stream.what, "PutMessage", status);
            }
        }
    }

    fn report(&self, log: &mut Log, job: &Job) {
        if self.dropped > 0 {
            log.line(format_args!(
                "{} events not built: allocator exhausted",
                self.dropped
            ));
        }
        log.line(format_args!(
            "render: {} of {} events delivered",
            self.next,
            job.events.len()
        ));
    }
}

/// The synth's part of a job: the port parameters, the bank downloaded, the DirectMusic render
/// pin fed with the job's events and the wave-out pin pulled as the port's wave sink does
/// (`SyncToMaster`, then `Render` of one 10 ms period when the period starts playing), the
/// audio written as `out.wav`, the bank unloaded.
fn play_synth(log: &mut Log, port: &ComObject<Port>, job: &Job) -> Result<(), &'static str> {
    let bound = port.bound().ok_or("port not initialised")?;
    let allocator = port.allocator().ok_or("no allocator")?;
    let clock = port.clock().ok_or("no clock")?;
    let name = job.dls.as_deref().ok_or("a synth job needs `dls NAME`")?;
    let mut path = String::from(BANK_DIR);
    path.push_str(name);
    let bank =
        files::read_limited(&path, MAX_BANK_BYTES).map_err(|_| "cannot read the DLS bank")?;
    let parsed = DlsFile::parse(&bank).map_err(|_| "the DLS bank does not parse")?;
    let buffers = build_collection(&parsed, 1, APPEND_SAMPLES)
        .map_err(|_| "the DLS bank cannot be downloaded")?;
    log.line(format_args!(
        "bank {name}: {} waves, {} instruments",
        buffers.waves.len(),
        buffers.instruments.len()
    ));
    let rate = port_parameters(log, &bound, job.rate)?;
    let mut handles = Vec::new();
    handles
        .try_reserve_exact(buffers.waves.len() + buffers.instruments.len())
        .map_err(|_| "no memory")?;
    let mut result = Ok(());
    for buffer in buffers.waves.iter().chain(&buffers.instruments) {
        match download(&bound, &buffer.bytes) {
            Ok(handle) => handles.push(handle),
            Err(status) => {
                log.status("KSPROPERTY_SYNTH_DLS_DOWNLOAD", status);
                result = Err("a download failed");
                break;
            }
        }
    }
    log.line(format_args!("{} buffers downloaded", handles.len()));
    if result.is_ok() {
        result = render_synth(log, &bound, &allocator, &clock, job, rate);
    }
    free_formats();
    for &handle in handles.iter().rev() {
        let mut value = handle.to_ne_bytes();
        // SAFETY: the bound port's miniport and descriptor. PASSIVE_LEVEL.
        let unloaded = unsafe {
            filter_property(
                bound.miniport.cast(),
                bound.descriptor,
                &KSPROPSETID_Synth_Dls,
                KSPROPERTY_SYNTH_DLS_UNLOAD,
                KSPROPERTY_TYPE_SET,
                &mut [],
                &mut value,
            )
        };
        if !NT_SUCCESS(unloaded.status) {
            log.status("KSPROPERTY_SYNTH_DLS_UNLOAD", unloaded.status);
            result = Err("an unload failed");
        }
    }
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

/// `KSPROPERTY_SYNTH_PORTPARAMETERS` asking for `rate`: the rate granted.
fn port_parameters(log: &mut Log, bound: &Bound, rate: u32) -> Result<u32, &'static str> {
    let asked = SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_SAMPLERATE,
        Voices: 0,
        ChannelGroups: 0,
        AudioChannels: 0,
        SampleRate: rate,
        EffectsFlags: 0,
        Share: 0,
    };
    let mut instance = plain_bytes(&asked);
    let mut value = plain_bytes(&asked);
    // SAFETY: the bound port's miniport and descriptor. PASSIVE_LEVEL.
    let result = unsafe {
        filter_property(
            bound.miniport.cast(),
            bound.descriptor,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_PORTPARAMETERS,
            KSPROPERTY_TYPE_GET,
            &mut instance,
            &mut value,
        )
    };
    if !log.status("KSPROPERTY_SYNTH_PORTPARAMETERS", result.status) {
        return Err("KSPROPERTY_SYNTH_PORTPARAMETERS failed");
    }
    let at = core::mem::offset_of!(SYNTH_PORTPARAMS, SampleRate);
    let granted = value
        .get(at..at + 4)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, u32::from_ne_bytes);
    log.line(format_args!("sample rate granted: {granted} Hz"));
    if granted == 0 {
        return Err("no sample rate granted");
    }
    Ok(granted)
}

/// `KSPROPERTY_SYNTH_DLS_DOWNLOAD` of one buffer (a kernel-mode request: the buffer is ours):
/// the download handle.
fn download(bound: &Bound, buffer: &[u8]) -> Result<usize, NTSTATUS> {
    let request = SYNTH_BUFFER {
        BufferSize: u32::try_from(buffer.len()).map_err(|_| STATUS_INVALID_PARAMETER)?,
        BufferAddress: buffer.as_ptr().cast_mut().cast(),
    };
    let mut instance = plain_bytes(&request);
    let mut value = [0_u8; core::mem::size_of::<SYNTHDOWNLOAD>()];
    // SAFETY: the bound port's miniport and descriptor; the buffer outlives the call (the synth
    // copies what it keeps). PASSIVE_LEVEL.
    let result = unsafe {
        filter_property(
            bound.miniport.cast(),
            bound.descriptor,
            &KSPROPSETID_Synth_Dls,
            KSPROPERTY_SYNTH_DLS_DOWNLOAD,
            KSPROPERTY_TYPE_GET,
            &mut instance,
            &mut value,
        )
    };
    if !NT_SUCCESS(result.status) {
        return Err(result.status);
    }
    let handle = value
        .get(..core::mem::size_of::<usize>())
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, usize::from_ne_bytes);
    Ok(handle)
}

/// The bytes of a plain-data value, as a property buffer carries it.
fn plain_bytes<T: Copy>(value: &T) -> Vec<u8> {
    let size = core::mem::size_of::<T>();
    let mut out = Vec::new();
    if out.try_reserve_exact(size).is_err() {
        return out;
    }
    // SAFETY: `value` is a live plain-data value of `size` bytes (the property structures:
    // integers and pointers; their padding bytes are sent as they are, as a C caller would).
    let bytes =
        unsafe { core::slice::from_raw_parts(core::ptr::from_ref(value).cast::<u8>(), size) };
    out.extend_from_slice(bytes);
    out
}

/// Opens the synth's DirectMusic render pin and its wave-out pin, runs them, feeds events and
/// pulls audio until the job's end, and writes the WAV.
#[allow(clippy::too_many_lines, reason = "one wave sink's life, in order")]
fn render_synth(
    log: &mut Log,
    bound: &Bound,
    allocator: &ComRef<Allocator>,
    clock: &ComRef<Clock>,
    job: &Job,
    rate: u32,
) -> Result<(), &'static str> {
    let render = Stream::open(
        log,
        "synth render",
        bound,
        PinSpec {
            pin: SYNTH_DMUSIC_RENDER_PIN,
            format: PinFormat::Music(KSDATAFORMAT_SUBTYPE_DIRECTMUSIC),
            stream_type: DMUS_STREAM_MIDI_RENDER,
        },
        allocator,
        clock,
    )
    .ok_or("synth render NewStream failed")?;
    let Some(wave) = Stream::open(
        log,
        "wave sink",
        bound,
        PinSpec {
            pin: SYNTH_WAVE_OUT_PIN,
            format: PinFormat::Wave(rate),
            stream_type: DMUS_STREAM_WAVE_SINK,
        },
        allocator,
        clock,
    ) else {
        render.close();
        return Err("wave sink NewStream failed");
    };
    let mut sink: *mut ISynthSinkDMus = core::ptr::null_mut();
    // SAFETY: the live wave stream; a plain vtable read.
    let unknown = unsafe { com_object::vtable::<IUnknown>(wave.mxf.cast()) };
    // SAFETY: QueryInterface on the live stream with a valid id and out pointer.
    let status = unsafe {
        (unknown.QueryInterface)(wave.mxf.cast(), &IID_ISynthSinkDMus, (&raw mut sink).cast())
    };
    if !log.status("QueryInterface(ISynthSinkDMus)", status) || sink.is_null() {
        wave.close();
        render.close();
        return Err("the wave stream has no ISynthSinkDMus");
    }
    let period = u64::from((rate / 100).max(1));
    let end = job.last_time() + i64::from(job.tail_ms) * TICK_100NS;
    let frames = u64::try_from(i128::from(end.max(0)) * i128::from(rate) / 10_000_000)
        .unwrap_or(0)
        .div_ceil(period)
        * period;
    let mut samples: Vec<i16> = Vec::new();
    let total = usize::try_from(frames * 2).unwrap_or(usize::MAX);
    let mut ok = samples.try_reserve_exact(total).is_ok();
    let mut buffer: Vec<u8> = Vec::new();
    let period_bytes = usize::try_from(period * 4).unwrap_or(0);
    ok = ok && buffer.try_reserve_exact(period_bytes).is_ok();
    buffer.resize(period_bytes, 0);
    // The master clock stands still from here to the end of the render, stepping to each
    // period's time (see objects::clock).
    let origin = clock::real_now() + START_LEAD_100NS;
    clock::hold(origin);
    ok = ok
        && render.walk(log, &[KSSTATE_ACQUIRE, KSSTATE_PAUSE])
        && wave.walk(log, &UP)
        && render.walk(log, &[KSSTATE_RUN]);
    log.line(format_args!(
        "RUN; frame 0 plays at master time {origin}; {frames} frames in periods of {period}"
    ));
    // SAFETY: the sink (our reference); a plain vtable read.
    let sink_vtable = unsafe { com_object::vtable(sink) };
    let lead = i64::try_from(render.prefetch)
        .unwrap_or(i64::MAX)
        .max(MIN_LEAD_100NS);
    let mut deliver = Delivery::new(origin, lead);
    let mut position = 0_u64;
    let hard_end = origin + end + 600_000_000;
    while ok && position < frames {
        // Real time paces the loop; the driver sees the held master clock.
        let now = clock::real_now();
        service::run_pending(clock::now());
        deliver.due(log, &render, allocator, job, clock::now());
        let at = origin
            + i64::try_from(u128::from(position) * 10_000_000 / u128::from(rate))
                .unwrap_or(i64::MAX);
        if now >= at {
            clock::hold(at);
            // SAFETY: SyncToMaster on the live sink: frame `position` plays at `at`; TRUE
            // for the first period (the sample clock starts). PASSIVE_LEVEL.
            let synced = unsafe { (sink_vtable.SyncToMaster)(sink, at, i32::from(position == 0)) };
            if !NT_SUCCESS(synced) {
                log.status("ISynthSinkDMus::SyncToMaster", synced);
            }
            buffer.fill(0);
            // SAFETY: Render of `period` frames into a buffer of that many 4-byte frames, at
            // PASSIVE_LEVEL as the port's worker calls it.
            unsafe {
                (sink_vtable.Render)(
                    sink,
                    buffer.as_mut_ptr(),
                    u32::try_from(period).unwrap_or(0),
                    i64::try_from(position).unwrap_or(0),
                );
            }
            samples.extend(
                buffer
                    .chunks_exact(2)
                    .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
            );
            position += period;
            continue;
        }
        if now >= hard_end {
            log.line(format_args!("the job ran a minute past its end: stopped"));
            ok = false;
        }
        sleep(TICK_100NS);
    }
    deliver.report(log, job);
    let stopped = render.walk(log, &DOWN) && wave.walk(log, &DOWN);
    clock::release();
    service::run_pending(clock::now());
    // SAFETY: the reference QueryInterface gave.
    unsafe { release(sink.cast()) };
    render.close();
    wave.close();
    log.line(format_args!("{position} frames rendered at {rate} Hz"));
    let wav = wav::to_wav(&samples, rate).ok_or("no memory for the WAV")?;
    files::write(WAV_PATH, &wav).map_err(|_| "cannot write out.wav")?;
    if ok && stopped {
        Ok(())
    } else {
        Err("a state change failed")
    }
}
