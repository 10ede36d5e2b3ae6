//! Rendering a file with the driver's DLS synth in the simulation: a
//! root-enumerated device, the voices and rate asked through
//! `KSPROPERTY_SYNTH_PORTPARAMETERS`, the bank downloaded through
//! `KSPROPERTY_SYNTH_DLS_DOWNLOAD` as `DirectMusic` does (waves, then
//! instruments), the IRPs streamed ahead of the audio clock by the same
//! writer as the MPU-401 stream, and the port's wave sink pulled in 10 ms
//! steps (its render period), with `KSPROPERTY_SYNTH_RUNNINGSTATS` read
//! after each step and the lost notes by cause (rdmus's
//! `KSPROPSETID_RdmusSynthLostNotes`, as an application would read it through
//! `IKsControl` on its port) at the end. Each step's audio goes to the
//! caller as it is pulled (a WAV on disk): memory does not grow with the
//! file's length.

use std::time::{Duration, Instant};

use dls::download::build::CollectionBuffers;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPSETID_Synth,
    SYNTH_PORTPARAMS, SYNTH_PORTPARAMS_SAMPLERATE, SYNTH_PORTPARAMS_VOICES, SYNTH_STATS,
};
use dmus_sys::kernel::NT_SUCCESS;
use dmus_sys::ks::{KSPROPERTY_TYPE_GET, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
use rdmus_driver::{
    KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES, KSPROPERTY_RDMUS_SYNTH_LOST_NOTES,
    KSPROPSETID_RdmusSynthLostNotes, RDMUS_SYNTH_LOST_NOTES,
};
use wdm_sim::portcls::{
    Filter, PropertyTarget, WaveSink, WaveSinkConfig, dls_download, dls_unload,
};

use super::render_stream::{RenderPin, WriteTrouble, Writer};
use super::rig::{Rig, RigReport, SimConfig, SimError};
use crate::irp::StreamPacket;

/// The synth filter's pin factories (driver/synth/descriptor.rs): the legacy
/// MIDI render pin, the `DirectMusic` render pin, the wave-sink output.
const PIN_LEGACY: u32 = 0;
const PIN_DMUSIC: u32 = 1;
const PIN_WAVE_SINK: u32 = 2;

/// 100 ns ticks per second.
const TICKS_PER_SECOND: u64 = 10_000_000;

/// How a file is rendered.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SynthOptions {
    /// The render pin (and buffer format).
    pub pin: RenderPin,
    /// How far ahead of the audio clock IRPs are written, 100 ns.
    pub queue_ahead: u64,
    /// Sample rate asked for (and the wave sink's rate), Hz.
    pub rate: u32,
    /// Voices asked for; `None` takes the synth's default.
    pub voices: Option<u32>,
    /// The machine.
    pub sim: SimConfig,
}

/// Why rendering stopped.
#[derive(Debug)]
pub enum SynthError {
    /// The simulated device failed.
    Sim(SimError),
    /// The audio could not be handed on (writing the WAV failed).
    Audio(std::io::Error),
}

impl From<SimError> for SynthError {
    fn from(error: SimError) -> Self {
        Self::Sim(error)
    }
}

/// What rendering showed.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthRun {
    /// Frames rendered (and handed on), frame 0 at the presentation time of
    /// tick 0.
    pub frames: u64,
    /// The largest sample magnitude.
    pub peak: i32,
    /// Samples at full scale (32,767 or −32,768): where the mix clipped, or
    /// came within one step of it.
    pub full_scale: u64,
    /// The sample rate granted by PORTPARAMETERS (the sink runs at it).
    pub rate: u32,
    /// The voices granted by PORTPARAMETERS.
    pub voices_granted: u32,
    /// The most voices RUNNINGSTATS reported sounding, read every 10 ms.
    pub voices_peak: u32,
    /// RUNNINGSTATS' `LostNotes` at the end (stolen voices, late or dropped events).
    pub lost_notes: u32,
    /// `LostNotes` by cause at the end, read through rdmus's
    /// `KSPROPSETID_RdmusSynthLostNotes` at the same moment (the steal count is its
    /// `StolenVoices`).
    pub lost_causes: RDMUS_SYNTH_LOST_NOTES,
    /// Output samples the synth clamped to the 16-bit range, read through
    /// rdmus's `KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES` at the end.
    pub clipped_samples: u64,
    /// Buffers downloaded (waves and instruments).
    pub downloads: usize,
    /// IRPs written.
    pub irps: usize,
    /// IRPs the port did not take whole.
    pub write_troubles: Vec<WriteTrouble>,
    /// IRPs written again with the rest of one the port took part of.
    pub irps_resent: usize,
    /// Host wall time of the streaming and rendering (not the setup).
    pub render_time: Duration,
    /// The machine's report.
    pub rig: RigReport,
}

impl RenderPin {
    /// The synth filter's pin factory for this format.
    const fn synth_factory(self) -> u32 {
        match self {
            Self::Legacy => PIN_LEGACY,
            Self::DirectMusic => PIN_DMUSIC,
        }
    }
}

/// Renders `packets` with the bank `buffers` into `frames` frames of audio,
/// handing each step's interleaved 16-bit stereo to `audio` as it comes (at
/// most one 10 ms step is held). `progress` hears the presentation time
/// reached, 100 ns.
///
/// # Errors
/// [`SynthError::Sim`] when the device, a download, a property, a pin or the
/// sink fails; [`SynthError::Audio`] with the first error of `audio`.
/// Verifier findings are in the report, not an error.
pub fn render_synth(
    packets: &[StreamPacket],
    buffers: &CollectionBuffers,
    frames: u64,
    options: &SynthOptions,
    progress: &mut dyn FnMut(u64),
    audio: &mut dyn FnMut(&[i16]) -> std::io::Result<()>,
) -> Result<SynthRun, SynthError> {
    let rig = Rig::start_synth(&options.sim)?;
    let filter = *rig.filter();
    let granted = port_parameters(filter, options.rate, options.voices)?;
    let mut handles = Vec::with_capacity(buffers.waves.len() + buffers.instruments.len());
    for (index, buffer) in buffers.waves.iter().chain(&buffers.instruments).enumerate() {
        let handle = dls_download(&filter, &buffer.bytes)
            .map_err(|status| SimError::Download { index, status })?;
        handles.push(handle);
    }
    let pin = rig.open_pin(options.pin.synth_factory(), options.pin.format())?;
    let sink_config = WaveSinkConfig {
        rate: granted.SampleRate,
        ..WaveSinkConfig::default()
    };
    let sink =
        WaveSink::open(&filter, PIN_WAVE_SINK, sink_config).map_err(|error| SimError::OpenPin {
            pin: PIN_WAVE_SINK,
            error,
        })?;
    let state_error = |error| SimError::State(format!("{error:?}"));
    pin.set_state(KSSTATE_PAUSE).map_err(state_error)?;
    let mut writer = Writer::new(packets);
    let started = Instant::now();
    // Prefill while paused, then start the sink and the pin at one master
    // time: frame 0 is the presentation time of tick 0.
    writer.write_due(&pin, options.queue_ahead, None);
    sink.set_state(KSSTATE_RUN).map_err(state_error)?;
    pin.set_state(KSSTATE_RUN).map_err(state_error)?;
    let rate = u64::from(granted.SampleRate.max(1));
    // One sink period (10 ms): RUNNINGSTATS sees every render.
    let step = (rate / 100).max(1);
    let mut pulled = 0_u64;
    let mut peak = 0;
    let mut full_scale = 0_u64;
    let mut voices_peak = 0;
    while pulled < frames {
        let at = pulled * TICKS_PER_SECOND / rate;
        writer.write_due(&pin, at.saturating_add(options.queue_ahead), None);
        progress(at);
        let chunk = step.min(frames - pulled);
        let pulled_audio = sink
            .pull(usize::try_from(chunk).unwrap_or(usize::MAX))
            .map_err(|error| SimError::Pull(format!("{error:?}")))?;
        for &sample in &pulled_audio {
            peak = peak.max(i32::from(sample).abs());
            full_scale += u64::from(sample == i16::MAX || sample == i16::MIN);
        }
        audio(&pulled_audio).map_err(SynthError::Audio)?;
        pulled += chunk;
        voices_peak = voices_peak.max(running_stats(filter)?.Voices);
    }
    writer.give_up();
    let render_time = started.elapsed();
    let lost_notes = running_stats(filter)?.LostNotes;
    let lost_causes = lost_note_causes(filter)?;
    let clipped_samples = clipped_samples(filter)?;
    pin.set_state(KSSTATE_STOP).map_err(state_error)?;
    sink.set_state(KSSTATE_STOP).map_err(state_error)?;
    pin.close();
    sink.close();
    for handle in handles.iter().rev() {
        dls_unload(&filter, *handle).map_err(|status| SimError::Property {
            what: "KSPROPERTY_SYNTH_DLS_UNLOAD",
            status,
        })?;
    }
    Ok(SynthRun {
        frames: pulled,
        peak,
        full_scale,
        rate: granted.SampleRate,
        voices_granted: granted.Voices,
        voices_peak,
        lost_notes,
        lost_causes,
        clipped_samples,
        downloads: handles.len(),
        irps: writer.next,
        write_troubles: writer.troubles,
        irps_resent: writer.resent,
        render_time,
        rig: rig.finish(),
    })
}

/// A plain `u32` field of a property buffer (native order, as the kernel
/// hands the structure over).
fn field(bytes: &[u8], at: usize) -> u32 {
    bytes
        .get(at..at + 4)
        .and_then(|b| b.try_into().ok())
        .map_or(0, u32::from_ne_bytes)
}

fn put(bytes: &mut [u8], at: usize, value: u32) {
    if let Some(slot) = bytes.get_mut(at..at + 4) {
        slot.copy_from_slice(&value.to_ne_bytes());
    }
}

/// `KSPROPERTY_SYNTH_PORTPARAMETERS`: asks for `rate` and `voices`, returns
/// what was granted.
fn port_parameters(
    filter: Filter,
    rate: u32,
    voices: Option<u32>,
) -> Result<SYNTH_PORTPARAMS, SimError> {
    use core::mem::{offset_of, size_of};
    let mut asked = vec![0_u8; size_of::<SYNTH_PORTPARAMS>()];
    let valid = SYNTH_PORTPARAMS_SAMPLERATE | voices.map_or(0, |_| SYNTH_PORTPARAMS_VOICES);
    put(&mut asked, offset_of!(SYNTH_PORTPARAMS, ValidParams), valid);
    put(&mut asked, offset_of!(SYNTH_PORTPARAMS, SampleRate), rate);
    put(
        &mut asked,
        offset_of!(SYNTH_PORTPARAMS, Voices),
        voices.unwrap_or(0),
    );
    let mut value = vec![0_u8; size_of::<SYNTH_PORTPARAMS>()];
    let result = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_PORTPARAMETERS,
        KSPROPERTY_TYPE_GET,
        &mut asked,
        &mut value,
    );
    if !NT_SUCCESS(result.status) {
        return Err(SimError::Property {
            what: "KSPROPERTY_SYNTH_PORTPARAMETERS",
            status: result.status,
        });
    }
    let get = |at| field(&value, at);
    Ok(SYNTH_PORTPARAMS {
        ValidParams: get(offset_of!(SYNTH_PORTPARAMS, ValidParams)),
        Voices: get(offset_of!(SYNTH_PORTPARAMS, Voices)),
        ChannelGroups: get(offset_of!(SYNTH_PORTPARAMS, ChannelGroups)),
        AudioChannels: get(offset_of!(SYNTH_PORTPARAMS, AudioChannels)),
        SampleRate: get(offset_of!(SYNTH_PORTPARAMS, SampleRate)),
        EffectsFlags: get(offset_of!(SYNTH_PORTPARAMS, EffectsFlags)),
        Share: get(offset_of!(SYNTH_PORTPARAMS, Share)),
    })
}

/// `KSPROPERTY_SYNTH_RUNNINGSTATS`: voices sounding and notes lost.
fn running_stats(filter: Filter) -> Result<SYNTH_STATS, SimError> {
    use core::mem::{offset_of, size_of};
    let mut value = vec![0_u8; size_of::<SYNTH_STATS>()];
    let result = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_RUNNINGSTATS,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    if !NT_SUCCESS(result.status) {
        return Err(SimError::Property {
            what: "KSPROPERTY_SYNTH_RUNNINGSTATS",
            status: result.status,
        });
    }
    Ok(SYNTH_STATS {
        Voices: field(&value, offset_of!(SYNTH_STATS, Voices)),
        LostNotes: field(&value, offset_of!(SYNTH_STATS, LostNotes)),
        ..SYNTH_STATS::default()
    })
}

/// rdmus's `KSPROPERTY_RDMUS_SYNTH_LOST_NOTES`: `LostNotes` by cause (stolen
/// voices, late events, dropped events).
fn lost_note_causes(filter: Filter) -> Result<RDMUS_SYNTH_LOST_NOTES, SimError> {
    use core::mem::{offset_of, size_of};
    let mut value = vec![0_u8; size_of::<RDMUS_SYNTH_LOST_NOTES>()];
    let result = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_RdmusSynthLostNotes,
        KSPROPERTY_RDMUS_SYNTH_LOST_NOTES,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    if !NT_SUCCESS(result.status) {
        return Err(SimError::Property {
            what: "KSPROPERTY_RDMUS_SYNTH_LOST_NOTES",
            status: result.status,
        });
    }
    Ok(RDMUS_SYNTH_LOST_NOTES {
        StolenVoices: field(&value, offset_of!(RDMUS_SYNTH_LOST_NOTES, StolenVoices)),
        LateEvents: field(&value, offset_of!(RDMUS_SYNTH_LOST_NOTES, LateEvents)),
        DroppedEvents: field(&value, offset_of!(RDMUS_SYNTH_LOST_NOTES, DroppedEvents)),
    })
}

/// rdmus's `KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES`: output samples clamped
/// to the 16-bit range.
fn clipped_samples(filter: Filter) -> Result<u64, SimError> {
    let mut value = [0_u8; 8];
    let result = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_RdmusSynthLostNotes,
        KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    if !NT_SUCCESS(result.status) {
        return Err(SimError::Property {
            what: "KSPROPERTY_RDMUS_SYNTH_CLIPPED_SAMPLES",
            status: result.status,
        });
    }
    Ok(u64::from_ne_bytes(value))
}
