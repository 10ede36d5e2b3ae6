//! The synth itself, apart from COM: the instrument store, the voice engine, the events
//! waiting for their sample, the sample clock, the output volume and the running statistics.
//!
//! One `SynthCore` per miniport, behind the miniport's kernel mutex (`PASSIVE_LEVEL`): the
//! property handlers download and unload into its store, the render takes the events the
//! MIDI streams left in the miniport's inbox (`PutMessage`, `DISPATCH_LEVEL`) and files them
//! into its inputs, and the wave sink's `Render` pulls audio out of it. Everything the render
//! path touches is allocated when the core is made (voices, channel state, the mix buffer),
//! or when `PORTPARAMETERS` changes the voice count ([`SynthCore::replace_engine`], with an
//! engine allocated outside the lock); [`SynthCore::render`] allocates nothing and its loops
//! are bounded by the frames asked for and the events held.
//!
//! Event placement: events carry master-clock times (the port adds the presentation offset);
//! [`SampleClock::ref_to_sample`] gives the sample each one starts at, and the render loop
//! splits the buffer at those samples, so a note starts at its own sample, not at the start
//! of the buffer it falls in. An event whose sample was already rendered when it arrived
//! plays at the start of the next buffer and counts as late.

use alloc::boxed::Box;
use alloc::vec::Vec;
use core::mem::MaybeUninit;

use dls::download::InstrumentStore;
use dls::synth::engine::{AllocError, Engine};
use dls::synth::fixed::attenuation_to_gain_q15;
use dmus_sys::ks::KSSTATE;
use mxf::raw::ChainIter;
use mxf::sequencer::{MasterTimeline, Sequencer};
use mxf::{Chain, Discard, EventRef};

use crate::clock::SampleClock;
use crate::messages::Messages;

/// Voices the engine mixes at most (ddksynth: 32).
pub const MAX_VOICES: usize = 256;
/// Channel groups (16 MIDI channels each) each MIDI render stream has: what `SYNTH_CAPS`
/// reports as `MaxChannelGroups`. A `DirectMusic` port is one stream, and its channel
/// groups are its own (`DMUS_KERNEL_EVENT.usChannelGroup` names one of the stream's
/// groups, 1-based, 0 = all of them): two streams' group 1 are different channels. The
/// docs set no number (`SYNTHCAPS`: each group holds the state a MIDI device holds; DLS
/// downloads are the driver's, shared by every group). 16 groups, 256 MIDI channels per
/// stream, is far beyond a General MIDI file (one group) and what a `DirectMusic`
/// performance asks of a port in practice; each group costs 16 channel states and voice
/// priorities for each of [`RENDER_INPUTS`] streams, allocated once.
pub const MAX_CHANNEL_GROUPS: usize = 16;
/// Frames mixed per engine pass (the preallocated mix buffer).
pub const MIX_FRAMES: usize = 256;
/// MIDI render streams that can feed the synth at once: four on each of its two MIDI pins
/// (legacy MIDI and `DirectMusic`), one per client. They share the voices.
pub const RENDER_INPUTS: usize = 8;
/// The engine's channel groups: each input's own [`MAX_CHANNEL_GROUPS`], side by side
/// (see [`engine_group`]).
pub const ENGINE_GROUPS: usize = RENDER_INPUTS * MAX_CHANNEL_GROUPS;
/// Lowest output rate the synth renders, Hz.
pub const MIN_RATE: u32 = 22_050;
/// Highest output rate, Hz (and the default).
pub const MAX_RATE: u32 = 48_000;
/// Output channels (interleaved stereo).
pub const AUDIO_CHANNELS: usize = 2;
/// Lowest volume, 1/100 dB (the engine's 96 dB range).
pub const MIN_VOLUME: i32 = -9_600;

/// The engine at rdmus's size (its ceilings; the voices it has are chosen at run time;
/// make it with [`ENGINE_GROUPS`] channel groups).
pub type SynthEngine = Engine<MAX_VOICES, ENGINE_GROUPS>;

/// The engine's channel group (1-based) for group `group` (1-based) of input `slot`, if
/// both exist: input `s`'s groups are engine groups `s × MAX_CHANNEL_GROUPS + 1 ..`.
#[must_use]
pub fn engine_group(slot: usize, group: u16) -> Option<u16> {
    if slot >= RENDER_INPUTS || group == 0 || usize::from(group) > MAX_CHANNEL_GROUPS {
        return None;
    }
    u16::try_from(slot * MAX_CHANNEL_GROUPS + usize::from(group)).ok()
}
/// A downloaded buffer: the driver's one copy of the client's bytes.
pub type DownloadBuffer = Box<[u8]>;
/// The store the engine plays from.
pub type Store = InstrumentStore<DownloadBuffer>;

/// Events from one MIDI render stream: held under the `KSSTATE` rules (played in RUN only,
/// moved later by the length of a pause, given back on STOP) by `mxf`'s sequencer on the
/// master clock, as every rdmus render stream holds them.
struct Input<D> {
    queue: Sequencer<MasterTimeline>,
    pool: D,
}

/// What `RUNNINGSTATS` reports.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Voices sounding after the last render.
    pub voices: u32,
    /// Events that arrived after their sample was rendered (played late).
    pub late_events: u32,
    /// Events refused because their stream was stopped or gone.
    pub dropped_events: u32,
    /// Voices taken from held notes to start others (`dls::synth::engine::Engine::
    /// stolen_voices`), over every engine this synth has had.
    pub stolen_voices: u32,
    /// Events played.
    pub events: u64,
    /// Frames rendered since the sink started.
    pub frames: u64,
    /// Output samples (left and right apart) whose mix was beyond the 16-bit
    /// range and was clamped to it, since the synth was made.
    pub clipped_samples: u64,
}

/// Why an input could not be attached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InputError {
    /// The slot is out of range or taken.
    Busy,
}

/// The synth state behind the miniport's lock.
pub struct SynthCore<D: Discard> {
    /// Downloaded waves and instruments.
    pub store: Store,
    engine: SynthEngine,
    /// [`MIX_FRAMES`] interleaved stereo frames, on the heap so that the core itself stays
    /// small enough to be built on a kernel stack and moved into place.
    mix: Box<[i32]>,
    clock: SampleClock,
    inputs: [Option<Input<D>>; RENDER_INPUTS],
    channel_groups: u32,
    volume: i32,
    gain_q15: i32,
    /// The next sample the sink will ask for (where the last render ended).
    position: i64,
    stats: Stats,
    /// Voices stolen by engines since replaced (a new voice count starts a new engine).
    stolen_before: u64,
}

impl<D: Discard> SynthCore<D> {
    /// A silent synth at `rate` Hz (clamped to [`MIN_RATE`]..=[`MAX_RATE`]) with `voices`
    /// voices (at most [`MAX_VOICES`]), every channel group enabled, full volume, an empty
    /// store. The voices and the mix buffer are allocated here, on the heap, fallibly; the
    /// value itself is a few hundred bytes.
    ///
    /// # Errors
    /// [`AllocError`] when the engine's storage or the mix buffer cannot be allocated.
    pub fn try_new(rate: u32, voices: usize) -> Result<Self, AllocError> {
        let rate = clamp_rate(rate);
        let engine = SynthEngine::try_new(rate, voices, ENGINE_GROUPS)?;
        let mut mix = Vec::new();
        mix.try_reserve_exact(MIX_FRAMES * AUDIO_CHANNELS)
            .map_err(|_| AllocError)?;
        mix.resize(MIX_FRAMES * AUDIO_CHANNELS, 0);
        Ok(Self {
            store: InstrumentStore::new(dls::download::APPEND_SAMPLES),
            engine,
            mix: mix.into_boxed_slice(),
            clock: SampleClock::new(rate),
            inputs: [const { None }; RENDER_INPUTS],
            channel_groups: u32::try_from(MAX_CHANNEL_GROUPS).unwrap_or(1),
            volume: 0,
            gain_q15: 32_767,
            position: 0,
            stats: Stats::default(),
            stolen_before: 0,
        })
    }

    /// [`SynthCore::try_new`] written into `place` (the miniport's pool block, where the
    /// driver keeps it behind its mutex).
    ///
    /// # Errors
    /// [`AllocError`] when the engine's storage cannot be allocated (`place` is untouched).
    pub fn try_new_in(
        place: &mut MaybeUninit<Self>,
        rate: u32,
        voices: usize,
    ) -> Result<&mut Self, AllocError> {
        Ok(place.write(Self::try_new(rate, voices)?))
    }

    /// The output rate.
    #[must_use]
    pub fn rate(&self) -> u32 {
        self.engine.rate()
    }

    /// Starts over at `rate` Hz with no voice sounding and every channel as after power-on
    /// (a new wave sink); the store and the inputs stay. In place: allocates nothing.
    pub fn restart(&mut self, rate: u32) {
        let rate = clamp_rate(rate);
        self.engine.reset(rate);
        self.clock = SampleClock::new(rate);
        self.position = 0;
        self.stats.frames = 0;
    }

    /// Voices the engine can sound at once.
    #[must_use]
    pub fn voice_limit(&self) -> usize {
        self.engine.voice_limit()
    }

    /// Puts `engine` (made outside the lock with [`SynthEngine::try_new`]) in place of the
    /// current one, at the current rate with no voice sounding, and hands the old one back
    /// to be freed outside the lock. For a new voice count (`PORTPARAMETERS`).
    pub fn replace_engine(&mut self, mut engine: SynthEngine) -> SynthEngine {
        engine.reset(self.engine.rate());
        // The voice priorities are settings: the new engine keeps them.
        for group in 1..=u16::try_from(ENGINE_GROUPS).unwrap_or(1) {
            for channel in 0..16u8 {
                if let Some(priority) = self.engine.priority(group, channel) {
                    engine.set_priority(group, channel, priority);
                }
            }
        }
        core::mem::swap(&mut self.engine, &mut engine);
        // The statistic outlives the engine.
        self.stolen_before = self.stolen_before.saturating_add(engine.stolen_voices());
        engine
    }

    /// Sets the voice priority of `channel` in channel group `group` (1-based) of every
    /// input (a port setting, `KSPROPERTY_SYNTH_VOICEPRIORITY`), which voice stealing
    /// follows (see `Engine::set_priority`); false for a group or channel the synth does
    /// not have.
    pub fn set_priority(&mut self, group: u16, channel: u8, priority: u32) -> bool {
        let mut set = false;
        for slot in 0..RENDER_INPUTS {
            if let Some(engine_group) = engine_group(slot, group) {
                set = self.engine.set_priority(engine_group, channel, priority);
            }
        }
        set
    }

    /// The sounding voices as (input, channel group of that input, channel, key), for
    /// diagnostics.
    pub fn voices(&self) -> impl Iterator<Item = (usize, u16, u8, u8)> + '_ {
        let groups = u16::try_from(MAX_CHANNEL_GROUPS).unwrap_or(u16::MAX);
        self.engine.voices().map(move |(group, channel, key, _)| {
            let index = group.saturating_sub(1);
            (
                usize::from(index / groups),
                index % groups + 1,
                channel,
                key,
            )
        })
    }

    /// Plays one MIDI channel message at once, outside any stream's timing (for channel group
    /// `group` of input 0, 0 = all of its groups): the next render hears it from its first
    /// frame.
    pub fn message_now(&mut self, group: u16, bytes: &[u8]) {
        if u32::from(group) > self.channel_groups {
            return;
        }
        for message in Messages::new(bytes) {
            play_message(
                &mut self.engine,
                &self.store,
                self.channel_groups,
                0,
                group,
                message.bytes(),
            );
        }
    }

    /// The sample clock.
    #[must_use]
    pub fn clock(&self) -> &SampleClock {
        &self.clock
    }

    /// `SyncToMaster`: see [`SampleClock`].
    pub fn sync_to_master(&mut self, time: i64, start: bool, master_now: i64) {
        if start {
            self.clock.start(time);
            self.position = 0;
        } else {
            self.clock.sync(time, master_now);
        }
    }

    /// The earliest master time an event sent now can still be placed exactly: the time of
    /// the first sample not yet rendered (`master_now` before the sink has started).
    #[must_use]
    pub fn latency_time(&self, master_now: i64) -> i64 {
        if self.clock.is_started() {
            self.clock.sample_to_ref(self.position).max(master_now)
        } else {
            master_now
        }
    }

    /// Channel groups enabled (events for higher groups are ignored).
    #[must_use]
    pub fn channel_groups(&self) -> u32 {
        self.channel_groups
    }

    /// Enables groups `1..=groups`; false (and no change) outside `1..=MAX_CHANNEL_GROUPS`.
    pub fn set_channel_groups(&mut self, groups: u32) -> bool {
        let allowed = usize::try_from(groups).is_ok_and(|g| (1..=MAX_CHANNEL_GROUPS).contains(&g));
        if allowed {
            self.channel_groups = groups;
        }
        allowed
    }

    /// The output volume, 1/100 dB (0 = unity).
    #[must_use]
    pub fn volume(&self) -> i32 {
        self.volume
    }

    /// Sets the output volume (1/100 dB); values outside [`MIN_VOLUME`]..=0 are clamped
    /// (the synth attenuates only). Returns the volume applied.
    pub fn set_volume(&mut self, volume: i32) -> i32 {
        self.volume = volume.clamp(MIN_VOLUME, 0);
        // 1/100 dB of gain to centibels (1/10 dB) of attenuation.
        self.gain_q15 = i32::from(attenuation_to_gain_q15(-self.volume / 10));
        self.volume
    }

    /// The statistics so far.
    #[must_use]
    pub fn stats(&self) -> Stats {
        let stolen = self
            .stolen_before
            .saturating_add(self.engine.stolen_voices());
        Stats {
            voices: u32::try_from(self.engine.active_voices()).unwrap_or(u32::MAX),
            stolen_voices: u32::try_from(stolen).unwrap_or(u32::MAX),
            ..self.stats
        }
    }

    /// Attaches the event source of render input `slot` (its allocator), in STOP.
    ///
    /// # Errors
    /// [`InputError::Busy`] when the slot is out of range or taken; `pool` comes back.
    pub fn attach(&mut self, slot: usize, pool: D) -> Result<(), (InputError, D)> {
        match self.inputs.get_mut(slot) {
            Some(place @ None) => {
                *place = Some(Input {
                    queue: Sequencer::with_timeline(MasterTimeline::new()),
                    pool,
                });
                Ok(())
            }
            _ => Err((InputError::Busy, pool)),
        }
    }

    /// Detaches input `slot`, giving back whatever it still holds; its pool comes back.
    pub fn detach(&mut self, slot: usize) -> Option<D> {
        let mut input = self.inputs.get_mut(slot)?.take()?;
        let held = input.queue.take_all();
        input.pool.discard(held);
        Some(input.pool)
    }

    /// Events input `slot` holds.
    #[must_use]
    pub fn held(&self, slot: usize) -> usize {
        self.inputs
            .get(slot)
            .and_then(Option::as_ref)
            .map_or(0, |input| input.queue.len())
    }

    /// `IMXF::SetState` of input `slot` at master time `master_now`: events are played in
    /// RUN only, held in ACQUIRE and PAUSE (and moved later by the pause's length, since
    /// presentation time stands still), and given back on STOP.
    pub fn set_state(&mut self, slot: usize, state: KSSTATE, master_now: i64) {
        let Some(input) = self.inputs.get_mut(slot).and_then(Option::as_mut) else {
            return;
        };
        let released = input.queue.set_state_detach(state, master_now);
        input.pool.discard(released);
    }

    /// `IMXF::PutMessage` of input `slot`: keeps the chain in time order, or gives it back
    /// to the input's allocator when the input is stopped.
    ///
    /// # Errors
    /// The chain itself when no stream is attached at `slot` (its owner gives it back).
    pub fn put(&mut self, slot: usize, chain: Chain) -> Result<(), Chain> {
        let Some(input) = self.inputs.get_mut(slot).and_then(Option::as_mut) else {
            self.stats.dropped_events = self
                .stats
                .dropped_events
                .saturating_add(u32::try_from(chain.len()).unwrap_or(u32::MAX));
            return Err(chain);
        };
        let refused = input.queue.put_detach(chain);
        if !refused.is_empty() {
            self.stats.dropped_events = self
                .stats
                .dropped_events
                .saturating_add(u32::try_from(refused.len()).unwrap_or(u32::MAX));
            input.pool.discard(refused);
        }
        Ok(())
    }

    /// `ISynthSinkDMus::Render`: fills `out` (interleaved stereo 16-bit frames) with the
    /// frames starting at sample `position`, playing each due event at its sample.
    pub fn render(&mut self, out: &mut [i16], position: i64) {
        let frames = out.len() / AUDIO_CHANNELS;
        let mut done = 0;
        // Each pass renders at least one frame, so this runs at most `frames` times, plus
        // one pass per event position.
        while done < frames {
            let at = position.saturating_add(i64::try_from(done).unwrap_or(i64::MAX));
            self.play_due(at, at == position);
            let next_event = self.next_event_sample().map_or(i64::MAX, |s| s.max(at + 1));
            let until_event = usize::try_from(next_event - at).unwrap_or(usize::MAX);
            let len = (frames - done).min(MIX_FRAMES).min(until_event);
            let mix = &mut self.mix[..len * AUDIO_CHANNELS];
            mix.fill(0);
            self.engine.render(&self.store, mix);
            let gain = self.gain_q15;
            let target = &mut out[done * AUDIO_CHANNELS..(done + len) * AUDIO_CHANNELS];
            let mut clipped = 0_u64;
            for (sample, &mixed) in target.iter_mut().zip(mix.iter()) {
                let scaled = (i64::from(mixed) * i64::from(gain)) >> 15;
                let clamped = scaled.clamp(i64::from(i16::MIN), i64::from(i16::MAX));
                clipped += u64::from(clamped != scaled);
                *sample = i16::try_from(clamped).unwrap_or(0);
            }
            self.stats.clipped_samples = self.stats.clipped_samples.saturating_add(clipped);
            done += len;
        }
        self.position = position.saturating_add(i64::try_from(frames).unwrap_or(i64::MAX));
        self.stats.frames = self
            .stats
            .frames
            .saturating_add(u64::try_from(frames).unwrap_or(u64::MAX));
    }

    /// The sample of the earliest event held by a running input.
    fn next_event_sample(&self) -> Option<i64> {
        self.inputs
            .iter()
            .flatten()
            .filter_map(|input| input.queue.next_due_time())
            .map(|time| self.clock.ref_to_sample(time))
            .min()
    }

    /// Plays every event of a running input whose sample is at or before `at`. Events due
    /// before `at` at the start of a render (`first`) arrived too late to be placed.
    fn play_due(&mut self, at: i64, first: bool) {
        for slot in 0..RENDER_INPUTS {
            // Bounded by the events held: each pass takes at least one.
            while let Some(input) = self.inputs.get_mut(slot).and_then(Option::as_mut) {
                // Nothing is due outside RUN.
                let Some(time) = input.queue.next_due_time() else {
                    break;
                };
                let sample = self.clock.ref_to_sample(time);
                if sample > at {
                    break;
                }
                let due = input.queue.pop_due(time);
                let count = u32::try_from(due.len()).unwrap_or(u32::MAX);
                if first && sample < at {
                    self.stats.late_events = self.stats.late_events.saturating_add(count);
                }
                self.stats.events = self.stats.events.saturating_add(u64::from(count));
                for event in &due {
                    let groups = (self.channel_groups, slot);
                    play_event(&mut self.engine, &self.store, groups, event);
                }
                if let Some(input) = self.inputs.get_mut(slot).and_then(Option::as_mut) {
                    input.pool.discard(due);
                }
            }
        }
    }
}

#[cfg(test)]
mod in_place_tests {
    use core::mem::MaybeUninit;
    use std::boxed::Box;

    use mxf::FixedPool;
    use mxf::raw::CountingPool;

    use super::{MAX_VOICES, MIN_RATE, SynthCore};

    type TestPool = CountingPool<FixedPool, 256>;

    #[test]
    fn made_in_place_it_starts_as_try_new_does() {
        for (rate, voices) in [(48_000, MAX_VOICES), (8_000, 24)] {
            let mut place = Box::new(MaybeUninit::<SynthCore<TestPool>>::uninit());
            let in_place = SynthCore::try_new_in(&mut place, rate, voices).expect("engine");
            let mut moved = SynthCore::<TestPool>::try_new(rate, voices).expect("engine");
            assert_eq!(in_place.rate(), moved.rate());
            assert_eq!(in_place.rate(), rate.max(MIN_RATE));
            assert_eq!(in_place.voice_limit(), moved.voice_limit());
            assert_eq!(in_place.stats(), moved.stats());
            assert_eq!(in_place.channel_groups(), moved.channel_groups());
            assert_eq!(in_place.volume(), moved.volume());
            assert_eq!(in_place.latency_time(1_000), moved.latency_time(1_000));
            assert_eq!((in_place.held(0), in_place.held(1)), (0, 0));
            let mut rendered = [1i16; 2 * 300];
            let mut expected = [1i16; 2 * 300];
            in_place.render(&mut rendered, 0);
            moved.render(&mut expected, 0);
            assert_eq!(rendered, expected, "both render silence alike");
            assert!(rendered.iter().all(|&sample| sample == 0));
            assert_eq!(in_place.stats(), moved.stats());
            assert!(
                core::ptr::eq(in_place, place.as_ptr()),
                "made where it was asked"
            );
            // A MaybeUninit never drops its value: this one core's engine buffers leak, as
            // they may in a host test (its owner, the driver, drops it in place).
        }
    }
}

/// A rate the synth renders: `rate` clamped to [`MIN_RATE`]..=[`MAX_RATE`].
#[must_use]
pub fn clamp_rate(rate: u32) -> u32 {
    rate.clamp(MIN_RATE, MAX_RATE)
}

/// Plays one event of input `slot` (`(groups, slot)`: the channel groups enabled and the
/// input): a package's events in order (one level deep; `DirectMusic` does not nest them),
/// a message's bytes. Sysex and fragments are not for this synth.
fn play_event(engine: &mut SynthEngine, store: &Store, groups: (u32, usize), event: EventRef<'_>) {
    if event.is_package() {
        play_package(engine, store, groups, event.package());
        return;
    }
    play_bytes(engine, store, groups, event);
}

fn play_package(
    engine: &mut SynthEngine,
    store: &Store,
    groups: (u32, usize),
    events: ChainIter<'_>,
) {
    for event in events {
        if !event.is_package() {
            play_bytes(engine, store, groups, event);
        }
    }
}

fn play_bytes(
    engine: &mut SynthEngine,
    store: &Store,
    (groups, slot): (u32, usize),
    event: EventRef<'_>,
) {
    if event.is_incomplete() {
        return;
    }
    for message in Messages::new(event.data()) {
        play_message(
            engine,
            store,
            groups,
            slot,
            event.channel_group(),
            message.bytes(),
        );
    }
}

/// Plays one channel message for channel group `group` of input `slot` (0: each of its
/// `groups` enabled groups; above `groups`: nowhere).
fn play_message(
    engine: &mut SynthEngine,
    store: &Store,
    groups: u32,
    slot: usize,
    group: u16,
    bytes: &[u8],
) {
    if group == 0 {
        let enabled = u16::try_from(groups).unwrap_or(u16::MAX);
        for each in 1..=enabled {
            if let Some(target) = engine_group(slot, each) {
                engine.message(store, target, bytes);
            }
        }
    } else if u32::from(group) <= groups {
        if let Some(target) = engine_group(slot, group) {
            engine.message(store, target, bytes);
        }
    }
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmusic::DMUS_KEF;
    use dmus_sys::ks::{KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
    use mxf::raw::{CountingPool, SharedPool};
    use mxf::{Chain, Discard, FixedPool};

    use super::SynthCore;

    /// One checked host pool shared by the test and the core's input (events go back
    /// where they came from).
    type Shared = SharedPool<CountingPool<FixedPool, 256>>;

    fn core() -> std::boxed::Box<SynthCore<Shared>> {
        std::boxed::Box::new(SynthCore::try_new(48_000, super::MAX_VOICES).expect("engine"))
    }

    fn shared() -> Shared {
        SharedPool::new(CountingPool::new(
            FixedPool::leaked(256, 16, 64).expect("pool"),
        ))
    }

    #[test]
    fn events_wait_for_run_and_stop_gives_them_back() {
        let events = shared();
        let mut core = core();
        assert!(core.attach(0, events.clone()).is_ok());
        assert!(core.attach(0, shared()).is_err(), "one stream per input");
        assert!(core.attach(super::RENDER_INPUTS, shared()).is_err());
        let mut source = events.clone();
        let mut make = |time: i64, data: &[u8]| {
            Chain::event(&mut source, time, 1, DMUS_KEF::EVENT_COMPLETE, data).expect("event")
        };
        core.sync_to_master(0, true, 0);
        core.set_state(0, KSSTATE_PAUSE, 0);
        assert!(core.put(0, make(10_000, &[0x90, 60, 100])).is_ok());
        let mut out = [0i16; 2 * 480];
        core.render(&mut out, 0);
        assert_eq!(core.held(0), 1, "held in PAUSE");
        assert_eq!(core.stats().events, 0);
        core.set_state(0, KSSTATE_RUN, 0);
        core.render(&mut out, 480);
        assert_eq!(core.held(0), 0);
        assert_eq!(core.stats().events, 1);
        assert_eq!(
            core.stats().late_events,
            1,
            "its sample (48) was already rendered"
        );
        assert!(core.put(0, make(200_000, &[0x80, 60, 0])).is_ok());
        core.set_state(0, KSSTATE_STOP, 0);
        assert_eq!(core.held(0), 0, "STOP gives held events back");
        assert!(core.put(0, make(300_000, &[0x80, 60, 0])).is_ok());
        assert_eq!(core.stats().dropped_events, 1);
        let refused = core
            .put(1, make(300_000, &[0x80, 60, 0]))
            .expect_err("no stream on input 1");
        assert_eq!(core.stats().dropped_events, 2);
        events.clone().discard(refused);
        assert!(core.detach(0).is_some());
        assert!(core.detach(0).is_none());
        events
            .with(CountingPool::check)
            .expect("every event back once");
    }

    #[test]
    fn each_input_has_its_own_channel_groups() {
        use dls::synth::engine::Channel;

        let events = shared();
        let mut core = core();
        assert!(core.set_channel_groups(2));
        for slot in [0, 5] {
            assert!(core.attach(slot, events.clone()).is_ok());
            core.set_state(slot, KSSTATE_RUN, 0);
        }
        core.sync_to_master(0, true, 0);
        let mut source = events.clone();
        let mut make = |group: u16, data: &[u8]| {
            Chain::event(&mut source, 0, group, DMUS_KEF::EVENT_COMPLETE, data).expect("event")
        };
        // Input 0 changes group 1's program; input 5 its own group 1's volume, and every
        // one of its groups' pan (group 0); group 3 is not enabled.
        assert!(core.put(0, make(1, &[0xC0, 19])).is_ok());
        assert!(core.put(5, make(1, &[0xB0, 7, 50])).is_ok());
        assert!(core.put(5, make(0, &[0xB0, 10, 0])).is_ok());
        assert!(core.put(5, make(3, &[0xC0, 33])).is_ok());
        let mut out = [0i16; 2 * 64];
        core.render(&mut out, 0);
        let channel = |slot: usize, group: u16| {
            let target = super::engine_group(slot, group).expect("a group of the input");
            core.engine.channel(target, 0).copied().expect("a channel")
        };
        assert_eq!(channel(0, 1).program, 19);
        assert_eq!(channel(0, 1).volume, Channel::RESET.volume, "not input 5's");
        assert_eq!(channel(5, 1).program, 0, "not input 0's");
        assert_eq!(channel(5, 1).volume, 50);
        assert_eq!(
            (channel(5, 1).pan, channel(5, 2).pan),
            (0, 0),
            "group 0: all"
        );
        assert_eq!(channel(0, 1).pan, 64, "group 0 of input 5 is not input 0's");
        assert_eq!(channel(5, 3), Channel::RESET, "group 3 is not enabled");
        assert_eq!(super::engine_group(0, 17), None);
        assert_eq!(super::engine_group(super::RENDER_INPUTS, 1), None);
        for slot in [0, 5] {
            core.set_state(slot, KSSTATE_STOP, 0);
            assert!(core.detach(slot).is_some());
        }
        events
            .with(CountingPool::check)
            .expect("every event back once");
    }

    #[test]
    fn silence_without_instruments_and_volume_is_clamped() {
        let mut core = core();
        core.sync_to_master(0, true, 0);
        let mut out = [1i16; 2 * 300];
        core.render(&mut out, 0);
        assert!(out.iter().all(|&s| s == 0));
        assert_eq!(core.stats().frames, 300);
        assert_eq!(core.latency_time(0), 300 * 10_000_000 / 48_000);
        assert_eq!(core.set_volume(500), 0);
        assert_eq!(core.set_volume(-20_000), super::MIN_VOLUME);
        assert_eq!(core.volume(), super::MIN_VOLUME);
        assert!(core.set_channel_groups(2));
        assert!(!core.set_channel_groups(0));
        assert!(!core.set_channel_groups(17));
        assert_eq!(core.channel_groups(), 2);
        core.restart(8_000);
        assert_eq!(core.rate(), super::MIN_RATE);
    }

    #[test]
    fn a_new_engine_changes_the_voice_count_and_keeps_the_rate() {
        let mut core = core();
        core.restart(44_100);
        assert_eq!(core.voice_limit(), super::MAX_VOICES);
        assert!(core.set_priority(3, 9, 1234));
        let fresh = super::SynthEngine::try_new(48_000, 24, super::ENGINE_GROUPS).expect("engine");
        let old = core.replace_engine(fresh);
        assert_eq!(old.voice_limit(), super::MAX_VOICES);
        assert_eq!((core.voice_limit(), core.rate()), (24, 44_100));
        assert_eq!(
            core.engine.priority(3, 9),
            Some(1234),
            "priorities carry over"
        );
    }

    #[test]
    fn a_restart_resets_every_channel_in_place() {
        use dls::synth::engine::Channel;
        let mut core = core();
        let bytes: [&[u8]; 6] = [
            &[0xC3, 40],
            &[0xB3, 7, 20],
            &[0xB3, 10, 0],
            &[0xB3, 64, 127],
            &[0xE3, 0, 0],
            &[0xB3, 0, 5],
        ];
        for message in bytes {
            core.engine.message(&core.store, 2, message);
        }
        assert_ne!(core.engine.channel(2, 3), Some(&Channel::RESET));
        core.restart(48_000);
        for group in 1..=16 {
            for channel in 0..16 {
                assert_eq!(
                    core.engine.channel(group, channel),
                    Some(&Channel::RESET),
                    "group {group} channel {channel}"
                );
            }
        }
        assert_eq!(core.engine.active_voices(), 0);
    }
}
