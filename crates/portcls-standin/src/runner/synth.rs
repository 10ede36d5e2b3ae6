//! The synth job: the port parameters and the DLS bank through the filter's properties, the
//! DirectMusic render pin, and the wave sink played period by period on the held master clock.

use alloc::string::String;
use alloc::vec::Vec;
use core::fmt::Write;

use com_object::{ComObject, ComRef};
use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dmus_sys::com::IUnknown;
use dmus_sys::dmus_com::{IID_ISynthSinkDMus, ISynthSinkDMus};
use dmus_sys::dmusic::{DMUS_STREAM_MIDI_RENDER, DMUS_STREAM_WAVE_SINK};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_DLS_DOWNLOAD, KSPROPERTY_SYNTH_DLS_UNLOAD, KSPROPERTY_SYNTH_PORTPARAMETERS,
    KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPSETID_Synth, KSPROPSETID_Synth_Dls, SYNTH_BUFFER,
    SYNTH_PORTPARAMS, SYNTH_PORTPARAMS_EFFECTS, SYNTH_PORTPARAMS_SAMPLERATE,
    SYNTH_PORTPARAMS_VOICES, SYNTH_STATS, SYNTHDOWNLOAD,
};
use dmus_sys::guid::GUID;
use dmus_sys::kernel::{NT_SUCCESS, NTSTATUS, STATUS_INVALID_PARAMETER};
use dmus_sys::ks::{KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN};
use dmus_sys::ks_guids::{KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI};

use crate::job::{Job, RenderFormat};
use crate::objects::allocator::Allocator;
use crate::objects::clock::{self, Clock};
use crate::objects::port::{Bound, Port};
use crate::objects::{release, service};
use crate::property::filter_property;
use crate::{files, wav};

use super::stream::{DOWN, Delivery, PinFormat, PinSpec, Stream, UP, free_formats};
use super::{
    BANK_DIR, Log, MAX_BANK_BYTES, MIN_LEAD_100NS, START_LEAD_100NS, STATS_PATH,
    SYNTH_DMUSIC_RENDER_PIN, SYNTH_LEGACY_RENDER_PIN, SYNTH_WAVE_OUT_PIN, TICK_100NS, WAV_PATH,
    sleep,
};

/// rdmus's own property set for `LostNotes` by cause and the clipped-sample count
/// (rdmus-driver's `KSPROPSETID_RdmusSynthLostNotes`, driver/synth/lost_notes.rs). The stand-in
/// cannot link the driver's crate, so `stats.txt` names the set it asked, and `rdmus play
/// --runtime wine` refuses a run whose set is not the driver's.
pub const RDMUS_LOST_NOTES_SET: GUID = GUID::parse("9a4be1c6-2f7d-4e58-b3a0-6c51d8e9f247");
/// rdmus's `KSPROPERTY_RDMUS_SYNTH_LOST_NOTES`: three `ULONG`s (stolen, late, dropped).
const RDMUS_LOST_NOTES: u32 = 0;
/// rdmus's `KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES`: a `ULONGLONG`.
const RDMUS_CLIPPED_SAMPLES: u32 = 1;

/// What the synth's properties said, written as `stats.txt`.
#[derive(Default)]
pub(super) struct SynthStats {
    voices_granted: u32,
    voices_peak: u32,
    lost_notes: u32,
    lost_causes: [u32; 3],
    clipped_samples: u64,
}

impl SynthStats {
    fn text(&self) -> String {
        let mut text = String::new();
        let mut line = |name: &str, value: &dyn core::fmt::Display| {
            let _ = writeln!(text, "{name}\t{value}");
        };
        line("voices_granted", &self.voices_granted);
        line("voices_peak", &self.voices_peak);
        line("lost_notes", &self.lost_notes);
        line("stolen_voices", &self.lost_causes[0]);
        line("late_events", &self.lost_causes[1]);
        line("dropped_events", &self.lost_causes[2]);
        line("clipped_samples", &self.clipped_samples);
        line("lost_notes_set", &GuidText(&RDMUS_LOST_NOTES_SET));
        text
    }
}

/// A GUID as `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`, lowercase.
struct GuidText<'a>(&'a GUID);

impl core::fmt::Display for GuidText<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let g = self.0;
        write!(f, "{:08x}-{:04x}-{:04x}-", g.Data1, g.Data2, g.Data3)?;
        write!(f, "{:02x}{:02x}-", g.Data4[0], g.Data4[1])?;
        g.Data4[2..]
            .iter()
            .try_for_each(|byte| write!(f, "{byte:02x}"))
    }
}

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
    let (rate, voices_granted) = port_parameters(log, &bound, job)?;
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
    let mut stats = SynthStats {
        voices_granted,
        ..SynthStats::default()
    };
    if result.is_ok() {
        result = render_synth(log, &bound, &allocator, &clock, job, rate, &mut stats);
    }
    let _ = files::write(STATS_PATH, stats.text().as_bytes());
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

/// `KSPROPERTY_SYNTH_PORTPARAMETERS` asking for the job's rate (and its voices and effects
/// when it names them): the rate and the voices granted.
pub(super) fn port_parameters(
    log: &mut Log,
    bound: &Bound,
    job: &Job,
) -> Result<(u32, u32), &'static str> {
    let asked = SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_SAMPLERATE
            | job.voices.map_or(0, |_| SYNTH_PORTPARAMS_VOICES)
            | job.effects.map_or(0, |_| SYNTH_PORTPARAMS_EFFECTS),
        Voices: job.voices.unwrap_or(0),
        ChannelGroups: 0,
        AudioChannels: 0,
        SampleRate: job.rate,
        EffectsFlags: job.effects.unwrap_or(0),
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
    let granted = field_u32(&value, core::mem::offset_of!(SYNTH_PORTPARAMS, SampleRate));
    let voices = field_u32(&value, core::mem::offset_of!(SYNTH_PORTPARAMS, Voices));
    log.line(format_args!(
        "sample rate granted: {granted} Hz, {voices} voices"
    ));
    if granted == 0 {
        return Err("no sample rate granted");
    }
    Ok((granted, voices))
}

/// A native-order `u32` of a property value at `at` (0 past its end).
fn field_u32(value: &[u8], at: usize) -> u32 {
    value
        .get(at..at + 4)
        .and_then(|bytes| bytes.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

/// A GET of a filter property with no instance data into `value`: its status.
fn get_filter(bound: &Bound, set: &GUID, id: u32, value: &mut [u8]) -> NTSTATUS {
    // SAFETY: the bound port's miniport and descriptor. PASSIVE_LEVEL.
    let result = unsafe {
        filter_property(
            bound.miniport.cast(),
            bound.descriptor,
            set,
            id,
            KSPROPERTY_TYPE_GET,
            &mut [],
            value,
        )
    };
    result.status
}

/// `KSPROPERTY_SYNTH_RUNNINGSTATS`: (voices sounding, notes lost).
fn running_stats(bound: &Bound) -> Option<(u32, u32)> {
    let mut value = [0_u8; core::mem::size_of::<SYNTH_STATS>()];
    let status = get_filter(
        bound,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_RUNNINGSTATS,
        &mut value,
    );
    NT_SUCCESS(status).then(|| {
        (
            field_u32(&value, core::mem::offset_of!(SYNTH_STATS, Voices)),
            field_u32(&value, core::mem::offset_of!(SYNTH_STATS, LostNotes)),
        )
    })
}

/// Reads the end-of-render figures into `figures` as the simulation's `rdmus play` does: the
/// `LostNotes` of `RUNNINGSTATS`, rdmus's lost notes by cause and clipped samples. False when
/// a property failed.
fn final_stats(log: &mut Log, bound: &Bound, figures: &mut SynthStats) -> bool {
    let Some((_, lost)) = running_stats(bound) else {
        log.line(format_args!("KSPROPERTY_SYNTH_RUNNINGSTATS failed"));
        return false;
    };
    figures.lost_notes = lost;
    let mut causes = [0_u8; 12];
    let status = get_filter(bound, &RDMUS_LOST_NOTES_SET, RDMUS_LOST_NOTES, &mut causes);
    if !log.status("KSPROPERTY_RDMUS_SYNTH_LOST_NOTES", status) {
        return false;
    }
    for (slot, at) in figures.lost_causes.iter_mut().zip([0, 4, 8]) {
        *slot = field_u32(&causes, at);
    }
    let mut clipped = [0_u8; 8];
    let status = get_filter(
        bound,
        &RDMUS_LOST_NOTES_SET,
        RDMUS_CLIPPED_SAMPLES,
        &mut clipped,
    );
    if !log.status("KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES", status) {
        return false;
    }
    figures.clipped_samples = u64::from_ne_bytes(clipped);
    true
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
    figures: &mut SynthStats,
) -> Result<(), &'static str> {
    let (pin, subformat) = match job.format {
        RenderFormat::Midi => (SYNTH_LEGACY_RENDER_PIN, KSDATAFORMAT_SUBTYPE_MIDI),
        RenderFormat::DirectMusic => (SYNTH_DMUSIC_RENDER_PIN, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC),
    };
    let render = Stream::open(
        log,
        "synth render",
        bound,
        PinSpec {
            pin,
            format: PinFormat::Music(subformat),
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
    // The WAV's frames; rendering runs whole periods (the simulation's wave sink renders whole
    // periods too, and hands out the frames asked for).
    let wanted = job.frames.unwrap_or_else(|| {
        u64::try_from(i128::from(end.max(0)) * i128::from(rate) / 10_000_000).unwrap_or(0)
    });
    let frames = wanted.div_ceil(period) * period;
    let end = end.max(
        i64::try_from(u128::from(frames) * 10_000_000 / u128::from(rate.max(1)))
            .unwrap_or(i64::MAX),
    );
    // The WAV streams to the file a period at a time (memory does not grow with the song):
    // its header says 0 bytes until the end fixes it up, as the host's WAV writer does.
    let data_bytes = wanted.saturating_mul(4);
    wav::header(data_bytes, rate).ok_or("the audio would not fit a WAV")?;
    let mut out = files::Writer::create(WAV_PATH).map_err(|_| "cannot create out.wav")?;
    let mut written = 0_u64;
    let mut ok = wav::header(0, rate).is_some_and(|empty| out.append(&empty).is_ok());
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
        deliver.due(log, &render, allocator, clock::now());
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
            // The last period is cut to the frames wanted.
            let keep = usize::try_from(data_bytes.saturating_sub(written))
                .unwrap_or(usize::MAX)
                .min(buffer.len());
            if out.append(&buffer[..keep]).is_err() {
                log.line(format_args!("cannot write out.wav at byte {written}"));
                ok = false;
            }
            written += u64::try_from(keep).unwrap_or(0);
            position += period;
            // RUNNINGSTATS after every period, as the simulation's `rdmus play` reads it.
            if let Some((voices, _)) = running_stats(bound) {
                figures.voices_peak = figures.voices_peak.max(voices);
            }
            continue;
        }
        if now >= hard_end {
            log.line(format_args!("the job ran a minute past its end: stopped"));
            ok = false;
        }
        sleep(TICK_100NS);
    }
    ok = deliver.report(log, job) && ok;
    ok = ok && final_stats(log, bound, figures);
    let stopped = render.walk(log, &DOWN) && wave.walk(log, &DOWN);
    clock::release();
    service::run_pending(clock::now());
    // SAFETY: the reference QueryInterface gave.
    unsafe { release(sink.cast()) };
    render.close();
    wave.close();
    log.line(format_args!(
        "{position} frames rendered at {rate} Hz, {wanted} written"
    ));
    let header = wav::header(written, rate).ok_or("the audio would not fit a WAV")?;
    out.write_at(0, &header)
        .map_err(|_| "cannot fix up out.wav's header")?;
    drop(out);
    if ok && stopped {
        Ok(())
    } else {
        Err("a state change failed")
    }
}
