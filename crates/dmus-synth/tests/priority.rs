//! Voice stealing follows `KSPROPERTY_SYNTH_VOICEPRIORITY`: with every voice busy, a
//! note-on takes the voice of the lowest channel priority (the oldest among equals), and a
//! released voice before any sounding one. Driven through the synth core with a
//! purpose-built one-instrument collection, so nothing outside the repository is needed.

use std::ptr::NonNull;

use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dls::wire::riff_writer::{chunk, le16s as le16, le32s as le, list};
use dmus_synth::synth::{ENGINE_GROUPS, MAX_RATE, SynthCore, SynthEngine};
use dmus_sys::dmusic::DMUS_KERNEL_EVENT;
use mxf::Discard;
use mxf::{EventPool, PoolStats};

/// The core plays no stream here: an event pool that has none.
struct NoEvents;

// SAFETY: hands out nothing, so it is never given anything back.
unsafe impl EventPool for NoEvents {
    fn get_event(&mut self) -> Option<NonNull<DMUS_KERNEL_EVENT>> {
        None
    }
    unsafe fn put_event(&mut self, _event: NonNull<DMUS_KERNEL_EVENT>) {}
    fn buffer_size(&self) -> usize {
        0
    }
    fn get_buffer(&mut self) -> Option<NonNull<u8>> {
        None
    }
    unsafe fn put_buffer(&mut self, _buffer: NonNull<u8>) {}
    fn stats(&self) -> PoolStats {
        PoolStats::default()
    }
}

impl Discard for NoEvents {}

/// Program 0 of bank 0 on every key: a looped square wave that sounds until released.
fn looped_collection() -> Vec<u8> {
    let frames = 441u32;
    let wsmp = {
        let mut d = le(&[20]);
        d.extend(le16(&[60, 0]));
        d.extend(0i32.to_le_bytes());
        d.extend(le(&[0, 1, 16, 0, 0, frames]));
        chunk(*b"wsmp", &d)
    };
    let region = list(
        *b"rgn2",
        &[
            chunk(*b"rgnh", &le16(&[0, 127, 0, 127, 0, 0, 0])),
            wsmp.clone(),
            chunk(*b"wlnk", &[le16(&[0, 0]), le(&[1, 0])].concat()),
        ],
    );
    let instrument = list(
        *b"ins ",
        &[chunk(*b"insh", &le(&[1, 0, 0])), list(*b"lrgn", &[region])],
    );
    let samples: Vec<u8> = (0..frames)
        .flat_map(|i| if i < frames / 2 { 8_000i16 } else { -8_000 }.to_le_bytes())
        .collect();
    let wave = list(
        *b"wave",
        &[
            chunk(
                *b"fmt ",
                &[le16(&[1, 1]), le(&[44_100, 88_200]), le16(&[2, 16])].concat(),
            ),
            wsmp,
            chunk(*b"data", &samples),
        ],
    );
    let mut body = b"DLS ".to_vec();
    body.extend(chunk(*b"colh", &le(&[1])));
    body.extend(list(*b"lins", &[instrument]));
    body.extend(chunk(*b"ptbl", &le(&[8, 1, 0])));
    body.extend(list(*b"wvpl", &[wave]));
    chunk(*b"RIFF", &body)
}

/// A core with `voices` voices and the looped instrument downloaded.
fn core_with(voices: usize) -> Box<SynthCore<NoEvents>> {
    let mut core = Box::new(SynthCore::<NoEvents>::try_new(48_000, voices).expect("engine"));
    let bytes = looped_collection();
    let file = DlsFile::parse(&bytes).expect("the fixture is a valid DLS file");
    let built = build_collection(&file, 1, APPEND_SAMPLES).expect("download buffers");
    for buffer in built.waves.into_iter().chain(built.instruments) {
        assert!(core.store.download(buffer.bytes.into_boxed_slice()).is_ok());
    }
    core
}

/// Sounding (channel, key) pairs of input 0's group 1, sorted.
fn sounding(core: &SynthCore<NoEvents>) -> Vec<(u8, u8)> {
    let mut keys: Vec<(u8, u8)> = core
        .voices()
        .filter(|&(input, group, _, _)| (input, group) == (0, 1))
        .map(|(_, _, channel, key)| (channel, key))
        .collect();
    keys.sort_unstable();
    keys
}

#[test]
fn the_lowest_priority_channel_loses_its_voice_first() {
    let mut core = core_with(3);
    assert!(core.set_priority(1, 0, 300));
    assert!(core.set_priority(1, 1, 100));
    assert!(core.set_priority(1, 2, 200));
    assert!(!core.set_priority(17, 0, 1), "no channel group 17");
    // The oldest note is on the highest-priority channel.
    core.message_now(1, &[0x90, 60, 100]);
    core.message_now(1, &[0x91, 62, 100]);
    core.message_now(1, &[0x92, 64, 100]);
    assert_eq!(sounding(&core), [(0, 60), (1, 62), (2, 64)]);
    core.message_now(1, &[0x92, 65, 100]);
    assert_eq!(
        sounding(&core),
        [(0, 60), (2, 64), (2, 65)],
        "channel 1 (priority 100) is stolen, not the oldest voice"
    );
    core.message_now(1, &[0x90, 67, 100]);
    assert_eq!(
        sounding(&core),
        [(0, 60), (0, 67), (2, 65)],
        "then the older of channel 2's voices"
    );
    // Three voices, five held notes: two steals, RUNNINGSTATS' lost notes.
    assert_eq!(core.stats().stolen_voices, 2);
    // A new voice count (PORTPARAMETERS) makes a new engine; the statistic stays.
    let fresh = SynthEngine::try_new(MAX_RATE, 2, ENGINE_GROUPS).expect("engine");
    drop(core.replace_engine(fresh));
    assert_eq!(core.stats().stolen_voices, 2);
    for key in [70, 71, 72] {
        core.message_now(1, &[0x90, key, 100]);
    }
    assert_eq!(
        core.stats().stolen_voices,
        3,
        "two voices, three held notes"
    );
}

#[test]
fn a_released_voice_goes_before_any_sounding_one_and_equals_steal_the_oldest() {
    let mut core = core_with(2);
    assert!(core.set_priority(1, 0, 100));
    assert!(core.set_priority(1, 1, 900));
    core.message_now(1, &[0x91, 60, 100]);
    core.message_now(1, &[0x90, 62, 100]);
    // The high-priority note is released (it has no release time, but it is still a
    // voice until the next render), so it is taken before the low-priority one.
    core.message_now(1, &[0x81, 60, 0]);
    core.message_now(1, &[0x90, 64, 100]);
    assert_eq!(sounding(&core), [(0, 62), (0, 64)]);
    assert_eq!(
        core.stats().stolen_voices,
        0,
        "taking a released voice is not a steal"
    );
    // Equal priorities: the oldest goes.
    core.message_now(1, &[0x90, 65, 100]);
    assert_eq!(sounding(&core), [(0, 64), (0, 65)]);
    assert_eq!(core.stats().stolen_voices, 1);
}
