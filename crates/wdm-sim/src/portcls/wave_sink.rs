//! The port's wave sink: the output pin of a kernel-mode software synth.
//!
//! "A Wave Sink for Kernel-Mode Software Synthesizers": the `DMus` port implements the wave
//! sink; it opens the miniport's wave-out pin as a `DMUS_STREAM_WAVE_SINK` stream, asks the
//! stream for `ISynthSinkDMus`, pulls audio with `Render` and keeps the synth's sample clock
//! on the master clock with `SyncToMaster`. This model does that on a fixed cadence:
//!
//! - Opening ([`open`]): the pin must flow out and have a `KSDATARANGE_AUDIO` range (PCM,
//!   `WAVEFORMATEX` specifier) that holds the requested format; the stream gets a
//!   `KSDATAFORMAT_WAVEFORMATEX` (the 64-byte header, then the packed 18-byte
//!   `WAVEFORMATEX`). A stream without `ISynthSinkDMus` fails the open.
//! - Entering RUN starts the cadence: one render every `period_frames` frames of the audio
//!   device's clock. The first render is preceded by `SyncToMaster(now, TRUE)` (sample 0
//!   plays now); every later one by `SyncToMaster(sink_time, FALSE)`, where `sink_time` is
//!   the master time of the sink's position as the device's own clock counts it. A device
//!   clock that runs `drift_ppm` fast reaches each period early in master time, so the
//!   miniport sees the drift and must follow it.
//! - `Render(buffer, frames, position)` counts frames (as Microsoft's ddksynth sample takes
//!   them; the DDI page says bytes) and runs at `PASSIVE_LEVEL` from the port's worker, as
//!   ddksynth's `PAGED_CODE` Render requires. The sink renders each period when it starts
//!   playing (no extra latency is modelled).
//! - With `latency_frames`, the sink renders that far ahead of playback: sample 0 plays
//!   (`SyncToMaster(.., TRUE)`) one latency after the first render, and while block `k` is
//!   rendered the device plays `latency_frames` behind it, which is what the sink's clock
//!   reports. A real sink renders ahead like this; the default (0) renders each period as it
//!   starts playing.
//! - Leaving RUN stops the cadence; the next RUN starts the sample clock again.
//!
//! Rendered audio waits in the pin until a test (or `rdmus-cli`) takes it with
//! [`WaveSink::pull`], which runs the machine as long as the frames asked for need.
//!
//! Rendering a file to WAV through the simulation (what `rdmus play --device synth --wav`
//! needs):
//!
//! ```text
//! let synth = device.filter("Synth").unwrap();
//! for buffer in dls_buffers { dls_download(&synth, &buffer)?; }   // waves, then instruments
//! let sink = WaveSink::open(&synth, 2, WaveSinkConfig { rate: 48_000, ..Default::default() })?;
//! let pin = synth.open_pin(1, PinFormat::DirectMusic)?;
//! sink.set_state(KSSTATE_RUN)?; pin.set_state(KSSTATE_RUN)?;       // same master time
//! pin.write(0, &dmus_event_buffer)?;                               // times from the run start
//! let samples = sink.pull(frames)?;                                // interleaved i16 stereo
//! ```

use alloc::boxed::Box;
use alloc::collections::VecDeque;
use alloc::vec::Vec;

use dmus_sys::com::PUNKNOWN;
use dmus_sys::dls::WAVEFORMATEX;
use dmus_sys::dmus_com::{IID_ISynthSinkDMus, ISynthSinkDMusVtbl, PMXF};
use dmus_sys::dmusic::DMUS_STREAM_WAVE_SINK;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_DLS_DOWNLOAD, KSPROPERTY_SYNTH_DLS_UNLOAD, KSPROPSETID_Synth_Dls,
    SYNTH_BUFFER, SYNTHDOWNLOAD,
};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{
    KPROCESSOR_MODE, NT_SUCCESS, NTSTATUS, NonPagedPool, PASSIVE_LEVEL,
    STATUS_INSUFFICIENT_RESOURCES, STATUS_INVALID_PARAMETER, STATUS_UNSUCCESSFUL, UserMode,
};
use dmus_sys::ks::{
    KSDATAFORMAT, KSDATARANGE, KSPIN_DATAFLOW_OUT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET,
    KSSTATE, KSSTATE_RUN, KSSTATE_STOP,
};
use dmus_sys::ks_guids::{
    KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO,
};
use dmus_sys::ksmedia::{KSDATAFORMAT_PACKED, KSDATAFORMAT_WAVEFORMATEX, KSDATARANGE_AUDIO};
use dmus_sys::portcls::PSERVICEGROUP;

use crate::user_space::UserBuffer;

use super::descriptor::pin_factory;
use super::objects::{add_ref_object, query_foreign, release_foreign, vtable_of};
use super::pin::{self, OpenError, StateError};
use super::port::{miniport_vtable, port_binding};
use super::property::{self, PropertyResult, PropertyTarget};
use super::state::{PinFlow, PinFormat, PinRecord};
use crate::current::with_state;
use crate::dispatch::call_driver;
use crate::state::HostLevel;

/// 100 ns ticks per second.
const TICKS_PER_SECOND: u64 = 10_000_000;
/// `WAVE_FORMAT_PCM` (mmreg.h).
const WAVE_FORMAT_PCM: u16 = 1;

/// The format and cadence of a wave sink.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaveSinkConfig {
    /// Frames per second.
    pub rate: u32,
    /// Output channels (interleaved).
    pub channels: u16,
    /// Bits per sample.
    pub bits: u16,
    /// Frames per render (10 ms at 48 kHz by default).
    pub period_frames: u32,
    /// How fast the audio device's clock runs against the master clock, parts per million
    /// (positive: the device consumes frames early).
    pub drift_ppm: i32,
    /// How far ahead of playback the sink renders, in frames: a frame rendered now plays
    /// this much later (0: as it is rendered).
    pub latency_frames: u32,
}

impl Default for WaveSinkConfig {
    fn default() -> Self {
        Self {
            rate: 48_000,
            channels: 2,
            bits: 16,
            period_frames: 480,
            drift_ppm: 0,
            latency_frames: 0,
        }
    }
}

/// The wave-sink side of a pin (its `PinFlow::WaveSink`).
#[derive(Debug)]
pub struct WaveSinkFlow {
    /// The stream's `ISynthSinkDMus` (the pin's stream reference keeps it alive).
    sink: usize,
    config: WaveSinkConfig,
    /// The format given to `NewStream`, alive as long as the stream.
    format: Box<KSDATAFORMAT_WAVEFORMATEX>,
    /// Bumped when the pin leaves RUN: older render callbacks do nothing.
    generation: u64,
    /// Whether `SyncToMaster(.., TRUE)` was sent in this run.
    started: bool,
    /// Master time of sample 0 of this run.
    start: u64,
    /// Frames rendered in this run.
    position: u64,
    /// Rendered samples (interleaved) not yet pulled.
    audio: VecDeque<i16>,
    /// Frames rendered since the pin opened.
    total_frames: u64,
}

impl WaveSinkFlow {
    fn bytes_per_frame(&self) -> usize {
        usize::from(self.config.channels) * usize::from(self.config.bits / 8)
    }

    /// The master time the device reaches frame `frames` of this run.
    fn master_time_of(&self, frames: u64) -> u64 {
        let nominal =
            u128::from(frames) * u128::from(TICKS_PER_SECOND) / u128::from(self.config.rate.max(1));
        let speed = i128::from(1_000_000 + i64::from(self.config.drift_ppm)).max(1);
        let actual = i128::try_from(nominal).unwrap_or(i128::MAX) * 1_000_000 / speed;
        self.start
            .saturating_add(u64::try_from(actual.max(0)).unwrap_or(u64::MAX))
    }

    /// The sink's own clock at frame `frames`: the master time it would be without drift.
    fn sink_time_of(&self, frames: u64) -> i64 {
        let nominal =
            u128::from(frames) * u128::from(TICKS_PER_SECOND) / u128::from(self.config.rate.max(1));
        i64::try_from(u128::from(self.start) + nominal).unwrap_or(i64::MAX)
    }
}

/// Why pulling audio stopped.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PullError {
    /// No such wave-sink pin.
    NoSink,
    /// The pin is not in RUN, so no audio will come.
    NotRunning,
}

/// An open wave-sink pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaveSink {
    id: u32,
    port: usize,
}

/// Opens pin factory `factory` of the filter on `port` as the port's wave sink.
///
/// # Errors
/// [`OpenError`]; nothing is left open then.
#[allow(
    clippy::too_many_lines,
    reason = "opening is one sequence of steps, each undone on failure (as pin::open)"
)]
pub fn open(port: usize, factory: u32, config: WaveSinkConfig) -> Result<WaveSink, OpenError> {
    let (miniport, descriptor) = port_binding(port).ok_or(OpenError::NoPort)?;
    // SAFETY: the descriptor of a live, initialised port's miniport.
    let pin = unsafe { pin_factory(descriptor, factory) }.map_err(OpenError::Descriptor)?;
    if pin.data_flow != KSPIN_DATAFLOW_OUT {
        return Err(OpenError::FormatNotSupported);
    }
    let accepts = pin
        .ranges
        .iter()
        // SAFETY: each range is the miniport's static descriptor data.
        .any(|&(header, address)| unsafe { range_holds(&header, address.cast(), &config) });
    if !accepts {
        return Err(OpenError::FormatNotSupported);
    }
    let (allocator, clock, open_now) = with_state("open wave sink", |m| {
        let record = m.portcls.ports.get(&port)?;
        let open_now = m
            .portcls
            .pins
            .values()
            .filter(|p| p.port == port && p.factory == factory)
            .count();
        Some((record.allocator, record.clock, open_now))
    })
    .ok_or(OpenError::NoPort)?;
    if u32::try_from(open_now).unwrap_or(u32::MAX) >= pin.max_instances {
        return Err(OpenError::TooManyInstances);
    }
    let mut format = Box::new(wave_format(&config));
    let id = with_state("open wave sink", |m| {
        m.portcls.next_pin += 1;
        m.portcls.next_pin
    });
    add_ref_object(port, "open wave sink (port reference)");
    let mut stream: PMXF = core::ptr::null_mut();
    let mut group: PSERVICEGROUP = core::ptr::null_mut();
    let mut prefetch = 0_u64;
    // SAFETY: the port holds a reference on the miniport; PASSIVE_LEVEL.
    let vtable = unsafe { miniport_vtable(miniport) };
    let routine = vtable.NewStream;
    // SAFETY: NewStream at PASSIVE_LEVEL with writable out pointers, the live allocator and
    // clock the port holds, and a format that outlives the stream (kept in the pin).
    let status = call_driver(routine as usize, PASSIVE_LEVEL, || unsafe {
        routine(
            miniport as *mut _,
            &raw mut stream,
            core::ptr::null_mut(),
            NonPagedPool,
            factory,
            DMUS_STREAM_WAVE_SINK,
            (&raw mut *format).cast(),
            &raw mut group,
            allocator as *mut _,
            clock as *mut _,
            &raw mut prefetch,
        )
    });
    let fail = |status: NTSTATUS, stream: PMXF, group: PSERVICEGROUP| {
        for object in [stream as usize, group as usize, port] {
            if object != 0 {
                // SAFETY: references this open holds.
                unsafe { release_foreign(object as PUNKNOWN) };
            }
        }
        OpenError::NewStream(status)
    };
    if !NT_SUCCESS(status) || stream.is_null() {
        let status = if NT_SUCCESS(status) {
            STATUS_UNSUCCESSFUL
        } else {
            status
        };
        return Err(fail(status, stream, group));
    }
    // SAFETY: the live stream NewStream handed us.
    let sink = match unsafe { query_foreign(stream.cast(), &IID_ISynthSinkDMus) } {
        Ok(sink) => sink,
        Err(status) => return Err(fail(status, stream, group)),
    };
    // SAFETY: the reference QueryInterface added; the pin's stream reference keeps the
    // object (and so this interface) alive.
    unsafe { release_foreign(sink.cast()) };
    let header = KSDATAFORMAT::from(format.DataFormat);
    let flow = WaveSinkFlow {
        sink: sink as usize,
        config,
        format,
        generation: 0,
        started: false,
        start: 0,
        position: 0,
        audio: VecDeque::new(),
        total_frames: 0,
    };
    with_state("open wave sink", |m| {
        m.portcls.pins.insert(
            id,
            PinRecord {
                port,
                factory,
                // A wave pin has no music format; the wave format is in the flow.
                format: PinFormat::DirectMusic,
                state: KSSTATE_STOP,
                stream: stream as usize,
                service_group: group as usize,
                outer: 0,
                data_format: Box::new(header),
                flow: PinFlow::WaveSink(Box::new(flow)),
            },
        );
        if let Some(record) = m.portcls.ports.get_mut(&port) {
            record.pins.insert(id);
        }
    });
    Ok(WaveSink { id, port })
}

/// Whether the `KSDATARANGE_AUDIO` at `address` (header `header`) holds `config`.
///
/// # Safety
/// `address` is the miniport's range, readable for `header.FormatSize` bytes.
unsafe fn range_holds(header: &KSDATARANGE, address: *const u8, config: &WaveSinkConfig) -> bool {
    if header.MajorFormat != KSDATAFORMAT_TYPE_AUDIO
        || header.SubFormat != KSDATAFORMAT_SUBTYPE_PCM
        || header.Specifier != KSDATAFORMAT_SPECIFIER_WAVEFORMATEX
        || usize::try_from(header.FormatSize).unwrap_or(0) < size_of::<KSDATARANGE_AUDIO>()
    {
        return false;
    }
    // SAFETY: FormatSize ≥ size_of::<KSDATARANGE_AUDIO>() readable bytes (checked);
    // unaligned read, so the range's placement does not matter.
    let range = unsafe { address.cast::<KSDATARANGE_AUDIO>().read_unaligned() };
    let (channels, min_bits, max_bits, min_rate, max_rate) = (
        range.MaximumChannels,
        range.MinimumBitsPerSample,
        range.MaximumBitsPerSample,
        range.MinimumSampleFrequency,
        range.MaximumSampleFrequency,
    );
    u32::from(config.channels) <= channels
        && (min_bits..=max_bits).contains(&u32::from(config.bits))
        && (min_rate..=max_rate).contains(&config.rate)
        && config.period_frames > 0
}

fn wave_format(config: &WaveSinkConfig) -> KSDATAFORMAT_WAVEFORMATEX {
    let block = config.channels.saturating_mul(config.bits / 8);
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
            nChannels: config.channels,
            nSamplesPerSec: config.rate,
            nAvgBytesPerSec: config.rate.saturating_mul(u32::from(block)),
            nBlockAlign: block,
            wBitsPerSample: config.bits,
            cbSize: 0,
        },
    }
}

/// The port's side of a state step of a wave-sink pin, before the stream hears of it:
/// leaving RUN stops the cadence.
pub fn before_state(flow: &mut WaveSinkFlow, next: KSSTATE) {
    if next != KSSTATE_RUN {
        flow.generation += 1;
        flow.started = false;
    }
}

/// After the stream entered `state`: RUN starts the render cadence now.
pub fn after_state(id: u32, state: KSSTATE) {
    if state != KSSTATE_RUN {
        return;
    }
    let scheduled = with_state("wave sink", |m| {
        let now = m.now();
        let pin = m.portcls.pins.get_mut(&id)?;
        let PinFlow::WaveSink(flow) = &mut pin.flow else {
            return None;
        };
        flow.generation += 1;
        flow.started = false;
        let generation = flow.generation;
        let callback: crate::state::HostCallback = Box::new(move || tick(id, generation));
        m.schedule_host(now, HostLevel::Passive, callback);
        Some(())
    });
    let _ = scheduled;
}

/// One period: sync the sample clock, render, schedule the next.
fn tick(id: u32, generation: u64) {
    let Some((sink, start_now, sync_time, frames, position, bytes)) =
        with_state("wave sink", |m| {
            let now = m.now();
            let pin = m.portcls.pins.get_mut(&id)?;
            if pin.state != KSSTATE_RUN {
                return None;
            }
            let PinFlow::WaveSink(flow) = &mut pin.flow else {
                return None;
            };
            if flow.generation != generation {
                return None;
            }
            let start_now = !flow.started;
            if start_now {
                flow.started = true;
                flow.start = now;
                flow.position = 0;
            }
            let sync_time = if start_now {
                // Sample 0 plays one latency after the first render.
                flow.sink_time_of(u64::from(flow.config.latency_frames))
            } else {
                flow.sink_time_of(flow.position)
            };
            let frames = flow.config.period_frames;
            let bytes = usize::try_from(frames).unwrap_or(0) * flow.bytes_per_frame();
            let position = i64::try_from(flow.position).unwrap_or(i64::MAX);
            Some((flow.sink, start_now, sync_time, frames, position, bytes))
        })
    else {
        return;
    };
    // SAFETY: the pin holds the stream, whose ISynthSinkDMus this is.
    let vtable = unsafe { vtable_of::<ISynthSinkDMusVtbl>(sink as *mut core::ffi::c_void) };
    let sync = vtable.SyncToMaster;
    // SAFETY: SyncToMaster on the live sink at PASSIVE_LEVEL.
    let status = call_driver(sync as usize, PASSIVE_LEVEL, || unsafe {
        sync(sink as *mut _, sync_time, i32::from(start_now))
    });
    if !NT_SUCCESS(status) {
        with_state("wave sink", |m| {
            m.report_port_contract(alloc::format!(
                "ISynthSinkDMus::SyncToMaster on pin {id} failed with {status:#x}"
            ));
        });
    }
    let mut buffer = alloc::vec![0xA5_u8; bytes];
    let render = vtable.Render;
    // SAFETY: Render on the live sink at PASSIVE_LEVEL with a buffer of `frames` frames.
    call_driver(render as usize, PASSIVE_LEVEL, || unsafe {
        render(sink as *mut _, buffer.as_mut_ptr(), frames, position);
    });
    with_state("wave sink", |m| {
        let Some(pin) = m.portcls.pins.get_mut(&id) else {
            return;
        };
        let PinFlow::WaveSink(flow) = &mut pin.flow else {
            return;
        };
        if flow.generation != generation {
            return;
        }
        flow.audio.extend(
            buffer
                .chunks_exact(2)
                .map(|pair| i16::from_le_bytes([pair[0], pair[1]])),
        );
        flow.position += u64::from(frames);
        flow.total_frames += u64::from(frames);
        let next = flow.master_time_of(flow.position);
        let callback: crate::state::HostCallback = Box::new(move || tick(id, generation));
        m.schedule_host(next, HostLevel::Passive, callback);
    });
}

impl WaveSink {
    /// Opens pin factory `factory` of `filter` as the port's wave sink.
    ///
    /// # Errors
    /// [`OpenError`].
    pub fn open(
        filter: &super::api::Filter,
        factory: u32,
        config: WaveSinkConfig,
    ) -> Result<Self, OpenError> {
        open(filter.port(), factory, config)
    }

    /// The pin id.
    #[must_use]
    pub const fn id(&self) -> u32 {
        self.id
    }

    /// Moves the pin to `state` one KS step at a time (RUN starts the render cadence).
    ///
    /// # Errors
    /// [`StateError`].
    pub fn set_state(&self, state: KSSTATE) -> Result<(), StateError> {
        pin::set_state(self.id, state)
    }

    /// The pin's state (`None` once closed).
    #[must_use]
    pub fn state(&self) -> Option<KSSTATE> {
        pin::state(self.id)
    }

    /// The `WAVEFORMATEX` the stream was opened with.
    #[must_use]
    pub fn wave_format(&self) -> Option<WAVEFORMATEX> {
        with_flow(self.id, |flow| flow.format.WaveFormatEx)
    }

    /// Frames rendered since the pin opened.
    #[must_use]
    pub fn frames_rendered(&self) -> u64 {
        with_flow(self.id, |flow| flow.total_frames).unwrap_or(0)
    }

    /// Takes the next `frames` frames of rendered audio (interleaved samples), running the
    /// machine's clock as far as rendering them needs.
    ///
    /// # Errors
    /// [`PullError`]; no audio is taken then.
    pub fn pull(&self, frames: usize) -> Result<Vec<i16>, PullError> {
        let channels = with_flow(self.id, |flow| usize::from(flow.config.channels))
            .ok_or(PullError::NoSink)?;
        let wanted = frames.saturating_mul(channels);
        // Each pass renders one more period: bounded by the frames asked for.
        loop {
            let (have, running, next) = with_state("wave sink pull", |m| {
                let pin = m.portcls.pins.get(&self.id)?;
                let PinFlow::WaveSink(flow) = &pin.flow else {
                    return None;
                };
                Some((
                    flow.audio.len(),
                    pin.state == KSSTATE_RUN,
                    flow.master_time_of(flow.position),
                ))
            })
            .ok_or(PullError::NoSink)?;
            if have >= wanted {
                break;
            }
            if !running {
                return Err(PullError::NotRunning);
            }
            let now = with_state("wave sink pull", |m| {
                m.check_call("WaveSink::pull", PASSIVE_LEVEL, false);
                m.now()
            });
            crate::scheduler::run_until(next.max(now));
        }
        with_flow(self.id, |flow| flow.audio.drain(..wanted).collect()).ok_or(PullError::NoSink)
    }

    /// A property request to this pin.
    #[must_use]
    pub fn property(
        &self,
        set: &GUID,
        id: u32,
        verb: u32,
        instance: &mut [u8],
        value: &mut [u8],
    ) -> PropertyResult {
        property::request(
            self.port,
            PropertyTarget::Pin(self.id),
            set,
            id,
            verb,
            instance,
            value,
        )
    }

    /// Closes the pin (a pin not in STOP is a finding).
    pub fn close(self) {
        pin::close(self.id);
    }
}

/// What an application does to download one DLS buffer (`IDirectMusicPortDownload::Download`
/// ends in `KSPROPERTY_SYNTH_DLS_DOWNLOAD`): `buffer` mapped in the application's user space
/// for the call, then a GET on the filter from user mode with a `SYNTH_BUFFER` naming that
/// user address as the instance and a `SYNTHDOWNLOAD` as the value. The download handle, or
/// the miniport's status.
///
/// # Errors
/// The handler's status (`STATUS_INVALID_PARAMETER` for a malformed buffer);
/// `STATUS_INSUFFICIENT_RESOURCES` when the user address space is used up.
pub fn dls_download(filter: &super::api::Filter, buffer: &[u8]) -> Result<usize, NTSTATUS> {
    let size = u32::try_from(buffer.len()).map_err(|_| STATUS_INVALID_PARAMETER)?;
    let mapped = UserBuffer::map(buffer).map_err(|_| STATUS_INSUFFICIENT_RESOURCES)?;
    let result = dls_download_at(filter, UserMode, mapped.address(), size);
    // The application frees its buffer once the call returns (the synth said `Free`).
    drop(mapped);
    result
}

/// `KSPROPERTY_SYNTH_DLS_DOWNLOAD` of `size` bytes at `address`, sent with `RequestorMode`
/// `mode`: any address, mapped or not, for tests of what the driver refuses. The download
/// handle, or the miniport's status.
///
/// # Errors
/// The handler's status.
pub fn dls_download_at(
    filter: &super::api::Filter,
    mode: KPROCESSOR_MODE,
    address: usize,
    size: u32,
) -> Result<usize, NTSTATUS> {
    let request = SYNTH_BUFFER {
        BufferSize: size,
        BufferAddress: address as *mut core::ffi::c_void,
    };
    let mut instance = plain_bytes(&request);
    let mut value = alloc::vec![0_u8; core::mem::size_of::<SYNTHDOWNLOAD>()];
    let result = filter.property_as(
        mode,
        PropertyTarget::Filter,
        &KSPROPSETID_Synth_Dls,
        KSPROPERTY_SYNTH_DLS_DOWNLOAD,
        KSPROPERTY_TYPE_GET,
        &mut instance,
        &mut value,
    );
    if !NT_SUCCESS(result.status) {
        return Err(result.status);
    }
    let handle = value
        .get(..core::mem::size_of::<usize>())
        .and_then(|b| b.try_into().ok())
        .map(usize::from_ne_bytes)
        .ok_or(STATUS_UNSUCCESSFUL)?;
    Ok(handle)
}

/// `KSPROPERTY_SYNTH_DLS_UNLOAD` of a handle [`dls_download`] returned.
///
/// # Errors
/// The handler's status.
pub fn dls_unload(filter: &super::api::Filter, handle: usize) -> Result<(), NTSTATUS> {
    let mut value = handle.to_ne_bytes();
    let result = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth_Dls,
        KSPROPERTY_SYNTH_DLS_UNLOAD,
        KSPROPERTY_TYPE_SET,
        &mut [],
        &mut value,
    );
    if NT_SUCCESS(result.status) {
        Ok(())
    } else {
        Err(result.status)
    }
}

/// The bytes of a plain-data value, as a property buffer carries it.
fn plain_bytes(request: &SYNTH_BUFFER) -> Vec<u8> {
    let mut out = Vec::with_capacity(core::mem::size_of::<SYNTH_BUFFER>());
    let size_at = core::mem::offset_of!(SYNTH_BUFFER, BufferSize);
    let address_at = core::mem::offset_of!(SYNTH_BUFFER, BufferAddress);
    out.resize(core::mem::size_of::<SYNTH_BUFFER>(), 0);
    out[size_at..size_at + 4].copy_from_slice(&request.BufferSize.to_ne_bytes());
    let address = request.BufferAddress as usize;
    out[address_at..address_at + core::mem::size_of::<usize>()]
        .copy_from_slice(&address.to_ne_bytes());
    out
}

fn with_flow<R>(id: u32, f: impl FnOnce(&mut WaveSinkFlow) -> R) -> Option<R> {
    with_state("wave sink", |m| {
        let pin = m.portcls.pins.get_mut(&id)?;
        match &mut pin.flow {
            PinFlow::WaveSink(flow) => Some(f(flow)),
            _ => None,
        }
    })
}

#[cfg(test)]
mod tests {
    use alloc::boxed::Box;
    use alloc::collections::VecDeque;

    use dmus_sys::ks::KSDATARANGE;
    use dmus_sys::ks_guids::{
        KSDATAFORMAT_SPECIFIER_WAVEFORMATEX, KSDATAFORMAT_SUBTYPE_PCM, KSDATAFORMAT_TYPE_AUDIO,
    };

    use super::{WaveSinkConfig, WaveSinkFlow, range_holds, wave_format};

    fn flow(config: WaveSinkConfig) -> WaveSinkFlow {
        WaveSinkFlow {
            sink: 0,
            config,
            format: Box::new(wave_format(&config)),
            generation: 0,
            started: true,
            start: 1_000,
            position: 0,
            audio: VecDeque::new(),
            total_frames: 0,
        }
    }

    #[test]
    fn a_fast_device_reaches_its_frames_early_in_master_time() {
        let exact = flow(WaveSinkConfig::default());
        assert_eq!(exact.master_time_of(48_000), 1_000 + 10_000_000);
        assert_eq!(exact.sink_time_of(48_000), 1_000 + 10_000_000);
        let fast = flow(WaveSinkConfig {
            drift_ppm: 2_000,
            ..WaveSinkConfig::default()
        });
        // One second of the device's frames takes 1/1.002 s of master time.
        assert_eq!(fast.master_time_of(48_000), 1_000 + 9_980_039);
        assert_eq!(
            fast.sink_time_of(48_000),
            1_000 + 10_000_000,
            "the device believes a second passed"
        );
        assert_eq!(fast.bytes_per_frame(), 4);
    }

    #[test]
    fn the_format_and_the_range_check_follow_ksmedia() {
        let config = WaveSinkConfig {
            rate: 44_100,
            ..WaveSinkConfig::default()
        };
        let format = wave_format(&config);
        assert_eq!(
            { format.DataFormat.FormatSize },
            82,
            "64 + 18, packed (ksmedia.h)"
        );
        assert_eq!({ format.WaveFormatEx.nBlockAlign }, 4);
        assert_eq!({ format.WaveFormatEx.nAvgBytesPerSec }, 176_400);
        let mut range = [0u8; 88];
        let header = KSDATARANGE {
            FormatSize: 88,
            MajorFormat: KSDATAFORMAT_TYPE_AUDIO,
            SubFormat: KSDATAFORMAT_SUBTYPE_PCM,
            Specifier: KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
            ..KSDATARANGE::default()
        };
        for (index, value) in [2u32, 16, 16, 22_050, 48_000].into_iter().enumerate() {
            range[64 + 4 * index..68 + 4 * index].copy_from_slice(&value.to_ne_bytes());
        }
        // SAFETY: an 88-byte local range.
        assert!(unsafe { range_holds(&header, range.as_ptr(), &config) });
        let fast = WaveSinkConfig {
            rate: 96_000,
            ..config
        };
        // SAFETY: as above.
        assert!(!unsafe { range_holds(&header, range.as_ptr(), &fast) });
        let short = KSDATARANGE {
            FormatSize: 64,
            ..header
        };
        // SAFETY: as above (refused on its size before any read).
        assert!(!unsafe { range_holds(&short, range.as_ptr(), &config) });
    }
}
