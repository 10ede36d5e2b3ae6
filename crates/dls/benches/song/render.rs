//! A Standard MIDI File through the dls synth engine, with the bank downloaded the way the
//! driver receives it.

use dls::download::build::build_collection;
use dls::download::{APPEND_SAMPLES, InstrumentStore};
use dls::synth::effects::EffectSwitches;
use dls::synth::engine::Engine;
use dls::wire::file::DlsFile;
use smf::MessageKind;
use smf::read_smf;

/// Output rate (Hz).
pub const RATE: u32 = 48_000;
/// Voices, as `fluidsynth -o synth.polyphony=64`.
pub const VOICES: usize = 64;
/// Frames rendered per engine call at most (10 ms, a typical driver period).
const BLOCK: usize = 480;
/// Time units of the smf crate's timeline per second (100 ns).
const TIMELINE_UNITS_PER_SECOND: u64 = 10_000_000;
/// The first download id, as a fresh `DirectMusic` port hands them out.
const FIRST_DLID: u32 = 1;

/// A `.dls` file downloaded into a store through the driver's path: the host builder makes the
/// `DirectMusic` download buffers, the store validates and keeps them (waves first).
///
/// # Errors
/// The file does not parse, a buffer cannot be built, or the store refuses one.
pub fn load_bank(bytes: &[u8]) -> Result<InstrumentStore<Vec<u8>>, String> {
    load_bank_read_as(bytes, BankReading::Dls)
}

/// How much of a DLS bank the synth is given.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BankReading {
    /// Everything in the file.
    Dls,
    /// What `FluidSynth` 2.3 takes from a DLS bank through libinstpatch 1.1: key and velocity
    /// ranges, waves, loops, unity note and fine tune only. libinstpatch's DLS-to-voice
    /// converter (`IpatchSF2VoiceCache_DLS.c`, `_dls2_inst_to_sf2_voice_cache_convert`) has the
    /// call that would turn connection blocks into generators commented out and never reads
    /// `lAttenuation` or the key group, so `FluidSynth` plays every DLS instrument with no
    /// envelope, LFO or filter, no sample attenuation and no exclusive classes. This reading
    /// drops the same parts before the download, so the comparison measures the data path that
    /// both synths apply.
    AsFluidSynth,
}

/// [`load_bank`], with the bank read as `reading` says.
///
/// # Errors
/// As [`load_bank`].
pub fn load_bank_read_as(
    bytes: &[u8],
    reading: BankReading,
) -> Result<InstrumentStore<Vec<u8>>, String> {
    let mut file = DlsFile::parse(bytes).map_err(|e| format!("bank: {e:?}"))?;
    if reading == BankReading::AsFluidSynth {
        strip_to_fluidsynth_reading(&mut file);
    }
    let built =
        build_collection(&file, FIRST_DLID, APPEND_SAMPLES).map_err(|e| format!("build: {e:?}"))?;
    let mut store = InstrumentStore::new(APPEND_SAMPLES);
    for buffer in built.waves.into_iter().chain(built.instruments) {
        let dlid = buffer.dlid;
        store
            .download(buffer.bytes)
            .map_err(|refused| format!("download of dlid {dlid}: {:?}", refused.error))?;
    }
    Ok(store)
}

fn strip_to_fluidsynth_reading(file: &mut DlsFile<'_>) {
    for instrument in &mut file.instruments {
        instrument.articulation.clear();
        for region in &mut instrument.regions {
            region.articulation.clear();
            region.key_group = 0;
            if let Some(sample) = &mut region.sample {
                sample.attenuation = 0;
            }
        }
    }
    for wave in &mut file.waves {
        if let Some(sample) = &mut wave.sample {
            sample.attenuation = 0;
        }
    }
}

/// A song: channel messages at their output frame, in order, and its length in frames.
#[derive(Clone, Debug)]
pub struct Song {
    /// (frame, message bytes), frames non-decreasing.
    pub events: Vec<(u64, Vec<u8>)>,
    /// The end of the file (its last End of Track) in frames.
    pub frames: u64,
}

impl Song {
    /// Reads a Standard MIDI File; only channel messages play (the engine ignores the rest).
    ///
    /// # Errors
    /// The reader's fault (a file that is not a playable SMF).
    pub fn read(bytes: &[u8]) -> Result<Self, String> {
        let timeline = read_smf(bytes).map_err(|e| e.to_string())?;
        let events = timeline
            .messages
            .into_iter()
            .filter(|m| m.kind == MessageKind::Channel)
            .map(|m| (frame_at(m.time), m.bytes))
            .collect();
        Ok(Self {
            events,
            frames: frame_at(timeline.end_time),
        })
    }

    /// The first `seconds` of the song (all of it if shorter).
    #[must_use]
    pub fn first_seconds(&self, seconds: u32) -> Self {
        let frames = self.frames.min(u64::from(seconds) * u64::from(RATE));
        Self {
            events: self
                .events
                .iter()
                .filter(|(at, _)| *at < frames)
                .cloned()
                .collect(),
            frames,
        }
    }

    /// The length in seconds.
    #[must_use]
    pub fn seconds(&self) -> f64 {
        #[allow(
            clippy::cast_precision_loss,
            reason = "frame counts are far below 2^52"
        )]
        let frames = self.frames as f64;
        frames / f64::from(RATE)
    }
}

/// The output frame of a timeline time (100 ns units), rounded to the nearest.
fn frame_at(time_100ns: u64) -> u64 {
    let scaled =
        u128::from(time_100ns) * u128::from(RATE) + u128::from(TIMELINE_UNITS_PER_SECOND / 2);
    u64::try_from(scaled / u128::from(TIMELINE_UNITS_PER_SECOND)).unwrap_or(u64::MAX)
}

/// A mix sample saturated to 16 bits.
#[allow(
    clippy::cast_possible_truncation,
    reason = "clamped to the i16 range first"
)]
fn to_i16(sample: i32) -> i16 {
    sample.clamp(i32::from(i16::MIN), i32::from(i16::MAX)) as i16
}

/// A render and what it took.
#[derive(Clone, Debug)]
pub struct Rendered {
    /// Interleaved 16-bit stereo.
    pub samples: Vec<i16>,
    /// Sounding voices per output frame, on average (counted at the start of each part).
    pub mean_voices: f64,
    /// Most voices sounding at once.
    pub peak_voices: usize,
    /// Samples the 16-bit conversion clipped.
    pub clipped: usize,
}

/// Renders `song` through a 64-voice engine (one channel group) at 48 kHz: interleaved
/// 16-bit stereo, `song.frames` frames, each message applied at its exact frame, the mix
/// clipped to 16 bits.
#[must_use]
pub fn render(store: &InstrumentStore<Vec<u8>>, song: &Song) -> Vec<i16> {
    render_counted(store, song).samples
}

/// [`render`], with the voice counts and the clipping.
#[must_use]
pub fn render_counted(store: &InstrumentStore<Vec<u8>>, song: &Song) -> Rendered {
    render_counted_into(store, song, Vec::new())
}

/// [`render_counted`] into `out` (cleared first), whose memory a caller that renders again
/// can hand back: the driver, too, writes into a buffer it is given, and a fresh 60 MB vector
/// per run would time the kernel's page faults along with the synth.
#[must_use]
pub fn render_counted_into(
    store: &InstrumentStore<Vec<u8>>,
    song: &Song,
    out: Vec<i16>,
) -> Rendered {
    render_with_effects_into(store, song, EffectSwitches::default(), out)
}

/// Both send effects on, as `rdmus play --reverb on --chorus on` sets the synth
/// (`SYNTH_EFFECT_REVERB | SYNTH_EFFECT_CHORUS` turn on both of the engine's switches).
pub const EFFECTS_ON: EffectSwitches = EffectSwitches {
    reverb: true,
    chorus: true,
};

/// [`render_counted_into`] with the engine's send effects switched as `effects` says.
#[must_use]
pub fn render_with_effects_into(
    store: &InstrumentStore<Vec<u8>>,
    song: &Song,
    effects: EffectSwitches,
    mut out: Vec<i16>,
) -> Rendered {
    let mut engine = Box::new(Engine::<VOICES, 1>::new(RATE));
    engine.set_effects(effects);
    let total = usize::try_from(song.frames).unwrap_or(usize::MAX);
    out.clear();
    out.reserve(2 * total);
    let mut mix = [0i32; 2 * BLOCK];
    let mut next = 0;
    let mut frame = 0usize;
    let (mut voice_frames, mut peak_voices, mut clipped) = (0u64, 0usize, 0usize);
    while frame < total {
        while let Some((at, bytes)) = song.events.get(next)
            && usize::try_from(*at).unwrap_or(usize::MAX) <= frame
        {
            engine.message(store, 1, bytes);
            next += 1;
        }
        let until_event = song
            .events
            .get(next)
            .map_or(total, |(at, _)| usize::try_from(*at).unwrap_or(usize::MAX));
        let frames = BLOCK.min(total - frame).min(until_event - frame);
        let voices = engine.active_voices();
        peak_voices = peak_voices.max(voices);
        voice_frames += u64::try_from(voices * frames).unwrap_or(u64::MAX);
        let part = &mut mix[..2 * frames];
        part.fill(0);
        engine.render(store, part);
        // One plain pass that converts and counts the clipping (the compiler vectorises it),
        // not a push per sample nor a second pass over the block.
        let range = i32::from(i16::MIN)..=i32::from(i16::MAX);
        out.extend(part.iter().map(|&s| {
            clipped += usize::from(!range.contains(&s));
            to_i16(s)
        }));
        frame += frames;
    }
    #[allow(clippy::cast_precision_loss, reason = "counts far below 2^52")]
    let mean_voices = voice_frames as f64 / (total.max(1) as f64);
    Rendered {
        samples: out,
        mean_voices,
        peak_voices,
        clipped,
    }
}
