//! The synth job: the port parameters and the DLS bank through the filter's properties, the
//! DirectMusic render pin, and the wave sink played period by period on the held master clock.

use alloc::string::String;
use alloc::vec::Vec;

use com_object::{ComObject, ComRef};
use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dmus_sys::com::IUnknown;
use dmus_sys::dmus_com::{IID_ISynthSinkDMus, ISynthSinkDMus};
use dmus_sys::dmusic::{DMUS_STREAM_MIDI_RENDER, DMUS_STREAM_WAVE_SINK};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_DLS_DOWNLOAD, KSPROPERTY_SYNTH_DLS_UNLOAD, KSPROPERTY_SYNTH_PORTPARAMETERS,
    KSPROPSETID_Synth, KSPROPSETID_Synth_Dls, SYNTH_BUFFER, SYNTH_PORTPARAMS,
    SYNTH_PORTPARAMS_SAMPLERATE, SYNTHDOWNLOAD,
};
use dmus_sys::kernel::{NT_SUCCESS, NTSTATUS, STATUS_INVALID_PARAMETER};
use dmus_sys::ks::{KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN};
use dmus_sys::ks_guids::KSDATAFORMAT_SUBTYPE_DIRECTMUSIC;

use crate::job::Job;
use crate::objects::allocator::Allocator;
use crate::objects::clock::{self, Clock};
use crate::objects::port::{Bound, Port};
use crate::objects::{release, service};
use crate::property::filter_property;
use crate::{files, wav};

use super::stream::{DOWN, Delivery, PinFormat, PinSpec, Stream, UP, free_formats};
use super::{
    BANK_DIR, Log, MAX_BANK_BYTES, MIN_LEAD_100NS, START_LEAD_100NS, SYNTH_DMUSIC_RENDER_PIN,
    SYNTH_WAVE_OUT_PIN, TICK_100NS, WAV_PATH, sleep,
};

/// The synth's part of a job: the port parameters, the bank downloaded, the DirectMusic render
/// pin fed with the job's events and the wave-out pin pulled as the port's wave sink does
/// (`SyncToMaster`, then `Render` of one 10 ms period when the period starts playing), the
/// audio written as `out.wav`, the bank unloaded.
pub(super) fn play_synth(
    log: &mut Log,
    port: &ComObject<Port>,
    job: &Job,
) -> Result<(), &'static str> {
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
pub(super) fn port_parameters(
    log: &mut Log,
    bound: &Bound,
    rate: u32,
) -> Result<u32, &'static str> {
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
pub(super) fn download(bound: &Bound, buffer: &[u8]) -> Result<usize, NTSTATUS> {
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
pub(super) fn plain_bytes<T: Copy>(value: &T) -> Vec<u8> {
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
pub(super) fn render_synth(
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
