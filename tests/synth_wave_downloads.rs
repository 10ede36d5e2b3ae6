//! Download types 4–6 through the driver in wdm-sim: one-shot and streaming wave buffers and
//! the wave articulations that name them go through `KSPROPERTY_SYNTH_DLS_DOWNLOAD` while the
//! synth plays; malformed ones and ones naming the wrong buffers are refused with
//! `STATUS_INVALID_PARAMETER` and the synth plays on; a buffer an articulation plays cannot be
//! unloaded before it; everything unloads in order, the pool is back where it was and the
//! machine finds nothing.
//!
//! The driver keeps process-wide state, so the tests take turns through one lock.

use std::sync::{Mutex, MutexGuard};

use dls::download::APPEND_SAMPLES;
use dls::download::build::{
    WaveDownload, build_collection, build_wave_articulation, build_wave_buffer,
};
use dls::model::WaveFormat;
use dls::wire::file::DlsFile;
use dls::wire::riff_writer::{chunk, le16s as le16, le32s as le, list};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPSETID_Synth, SYNTH_EFFECT_NONE, SYNTH_PORTPARAMS_EFFECTS,
};
use dmus_sys::kernel::{NTSTATUS, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND, STATUS_SUCCESS};
use dmus_sys::ks::{KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET, KSSTATE_RUN, KSSTATE_STOP};
use rdmus_driver::{
    KSPROPERTY_RDMUS_SYNTH_PLAYVOICE, KSPROPERTY_RDMUS_SYNTH_STOPVOICE,
    KSPROPSETID_RdmusSynthVoice, RDMUS_SYNTH_PLAYVOICE,
};
use wdm_sim::portcls::{
    Device, Driver, Filter, PinFormat, PropertyTarget, Resources, WaveSink, WaveSinkConfig,
    dls_download, dls_unload,
};
use wdm_sim::{Machine, MachineConfig};

static DRIVER: Mutex<()> = Mutex::new(());

const PIN_DMUSIC: u32 = 1;
const PIN_WAVE: u32 = 2;

fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// One `DMUS_EVENTHEADER` event at `time` (100 ns), padded to 8 bytes.
fn dmus_event(time: i64, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&u32::try_from(bytes.len()).unwrap().to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(&time.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes());
    out.extend_from_slice(bytes);
    out.resize(out.len().next_multiple_of(8), 0);
    out
}

/// A one-instrument collection (a looped square wave on every key), to have a note playing
/// while the wave downloads come and go.
fn instrument_buffers() -> dls::download::build::CollectionBuffers {
    let square: Vec<u8> = (0..64)
        .flat_map(|n: i16| if n < 32 { 12_000i16 } else { -12_000 }.to_le_bytes())
        .collect();
    let fmt = [le16(&[1, 1]), le(&[22_050, 44_100]), le16(&[2, 16])].concat();
    let wsmp = [le(&[20]), le16(&[60, 0]), le(&[0, 0, 1, 16, 0, 0, 64])].concat();
    let wave = list(
        *b"wave",
        &[
            chunk(*b"fmt ", &fmt),
            chunk(*b"wsmp", &wsmp),
            chunk(*b"data", &square),
        ],
    );
    let region = list(
        *b"rgn ",
        &[
            chunk(*b"rgnh", &le16(&[0, 127, 0, 127, 1, 0])),
            chunk(*b"wlnk", &[le16(&[0, 0]), le(&[1, 0])].concat()),
        ],
    );
    let ins = list(
        *b"ins ",
        &[chunk(*b"insh", &le(&[1, 0, 0])), list(*b"lrgn", &[region])],
    );
    let body = [
        &b"DLS "[..],
        &chunk(*b"colh", &le(&[1])),
        &list(*b"lins", &[ins]),
        &chunk(*b"ptbl", &le(&[8, 1, 0])),
        &list(*b"wvpl", &[wave]),
    ]
    .concat();
    let file = chunk(*b"RIFF", &body);
    let parsed = DlsFile::parse(&file).expect("the fixture parses");
    build_collection(&parsed, 1, APPEND_SAMPLES).expect("buffers")
}

fn format() -> WaveFormat {
    WaveFormat {
        format_tag: 1,
        channels: 1,
        sample_rate: 22_050,
        avg_bytes_per_sec: 44_100,
        block_align: 2,
        bits_per_sample: 16,
    }
}

/// A sawtooth of 200-frame periods, `frames` frames from frame `from` on.
fn samples_from(from: usize, frames: usize) -> Vec<u8> {
    (from..from + frames)
        .flat_map(|n| (i16::try_from(n % 200).unwrap() * 100 - 10_000).to_le_bytes())
        .collect()
}

fn samples(frames: usize) -> Vec<u8> {
    samples_from(0, frames)
}

fn wave_buffer(dlid: u32, kind: WaveDownload, frames: usize) -> Vec<u8> {
    build_wave_buffer(dlid, kind, format(), &samples(frames), APPEND_SAMPLES).unwrap()
}

fn articulation(dlid: u32, buffers: &[u32]) -> Vec<u8> {
    build_wave_articulation(dlid, buffers, 0, 0, 0).unwrap()
}

fn peak(audio: &[i16]) -> i32 {
    audio.iter().map(|&s| i32::from(s).abs()).max().unwrap_or(0)
}

/// The port dry, as a client asks it: the reverb is on until PORTPARAMETERS turns it off,
/// and its tail would blur the extents measured here.
fn ask_for_no_effects(filter: Filter) {
    let mut asked: Vec<u8> = [SYNTH_PORTPARAMS_EFFECTS, 0, 0, 0, 0, SYNTH_EFFECT_NONE, 0]
        .iter()
        .flat_map(|v| v.to_le_bytes())
        .collect();
    let mut granted = vec![0u8; asked.len()];
    let dry = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_PORTPARAMETERS,
        KSPROPERTY_TYPE_GET,
        &mut asked,
        &mut granted,
    );
    assert_eq!(dry.status, STATUS_SUCCESS, "no effects");
}

#[test]
fn wave_downloads_go_through_the_driver_and_wrong_ones_are_refused() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
    let device: Device = driver.add_device().expect("AddDevice");
    device.start(&Resources::none()).expect("StartDevice");
    let filter = device.filter("Synth").expect("the Synth subdevice");
    let pool_before = machine.with(|m| (m.pool().live(), m.pool().live_bytes()));

    let instrument = instrument_buffers();
    let mut instrument_handles = Vec::new();
    for b in instrument.waves.iter().chain(&instrument.instruments) {
        instrument_handles.push(dls_download(&filter, &b.bytes).expect("instrument download"));
    }
    let pin = filter
        .open_pin(PIN_DMUSIC, PinFormat::DirectMusic)
        .expect("DirectMusic pin");
    let sink = WaveSink::open(&filter, PIN_WAVE, WaveSinkConfig::default()).expect("wave sink");
    sink.set_state(KSSTATE_RUN).expect("sink RUN");
    pin.set_state(KSSTATE_RUN).expect("pin RUN");
    pin.write(0, &dmus_event(100_000, &[0x90, 60, 100]))
        .expect("render IRP");
    assert!(
        peak(&sink.pull(4_800).expect("audio")) > 1_000,
        "the note plays"
    );

    // Types 6 and 5, then the type-4 articulations that name them.
    let one_shot = dls_download(&filter, &wave_buffer(100, WaveDownload::OneShot, 500));
    let streams: Vec<_> = (101..=103)
        .map(|dlid| dls_download(&filter, &wave_buffer(dlid, WaveDownload::Streaming, 256)))
        .collect();
    let one_shot = one_shot.expect("one-shot wave kept");
    let streams: Vec<usize> = streams
        .into_iter()
        .map(|h| h.expect("streaming buffer kept"))
        .collect();
    let art_once = dls_download(&filter, &articulation(110, &[100])).expect("articulation kept");
    let art_stream =
        dls_download(&filter, &articulation(111, &[101, 102, 103])).expect("articulation kept");

    let mut lying = wave_buffer(120, WaveDownload::Streaming, 256);
    // DMUS_WAVEDL.cbWaveData (item 0, right after the 3-entry table) says more than it holds.
    lying[28..32].copy_from_slice(&600u32.to_le_bytes());
    let mut no_ids = articulation(121, &[101]);
    no_ids[32..36].copy_from_slice(&0u32.to_le_bytes()); // DMUS_WAVEARTDL.ulBuffers = 0
    let refused = [
        ("cbWaveData that lies", dls_download(&filter, &lying)),
        ("no buffers", dls_download(&filter, &no_ids)),
        (
            "unknown buffer",
            dls_download(&filter, &articulation(122, &[101, 999])),
        ),
        (
            "two one-shots",
            dls_download(&filter, &articulation(123, &[100, 100])),
        ),
        (
            "one-shot among streams",
            dls_download(&filter, &articulation(124, &[101, 100])),
        ),
        (
            "a type-2 wave",
            dls_download(&filter, &articulation(125, &[1])),
        ),
        (
            "duplicate id",
            dls_download(&filter, &wave_buffer(110, WaveDownload::OneShot, 8)),
        ),
    ];
    for (what, result) in refused {
        assert_eq!(result, Err(STATUS_INVALID_PARAMETER), "{what}");
    }
    assert!(
        peak(&sink.pull(4_800).expect("audio")) > 1_000,
        "the synth plays on"
    );

    // A buffer stays while an articulation plays it.
    assert_eq!(
        dls_unload(&filter, streams[1]),
        Err(STATUS_INVALID_PARAMETER)
    );
    assert_eq!(dls_unload(&filter, one_shot), Err(STATUS_INVALID_PARAMETER));
    for handle in [art_stream, art_once] {
        assert_eq!(dls_unload(&filter, handle), Ok(()));
    }
    for handle in streams.into_iter().chain([one_shot]) {
        assert_eq!(dls_unload(&filter, handle), Ok(()));
    }
    assert_eq!(dls_unload(&filter, art_once), Err(STATUS_INVALID_PARAMETER));

    pin.set_state(KSSTATE_STOP).expect("pin STOP");
    sink.set_state(KSSTATE_STOP).expect("sink STOP");
    pin.close();
    sink.close();
    for handle in instrument_handles.into_iter().rev() {
        assert_eq!(dls_unload(&filter, handle), Ok(()));
    }
    assert_eq!(
        machine.with(|m| (m.pool().live(), m.pool().live_bytes())),
        pool_before,
        "every download's copy is freed"
    );
    device.stop();
    device.remove();
    driver.unload();
    machine.unload_checks();
    assert_eq!(machine.findings(), [], "verifier findings, leaks at unload");
}

/// A SET of rdmus's wave voice set with `value`'s bytes.
fn voice_set<T: Copy>(filter: Filter, id: u32, value: &T) -> NTSTATUS {
    // SAFETY: a plain-data value read as its bytes for the call.
    let mut bytes = unsafe {
        std::slice::from_raw_parts(std::ptr::from_ref(value).cast::<u8>(), size_of::<T>())
    }
    .to_vec();
    filter
        .property(
            PropertyTarget::Filter,
            &KSPROPSETID_RdmusSynthVoice,
            id,
            KSPROPERTY_TYPE_SET,
            &mut [],
            &mut bytes,
        )
        .status
}

fn play_voice(filter: Filter, voice: u32, dlid: u32) -> NTSTATUS {
    let value = RDMUS_SYNTH_PLAYVOICE {
        VoiceId: voice,
        ChannelGroup: 1,
        Channel: 0,
        DLId: dlid,
        Pitch: 0,
        Volume: 0,
    };
    voice_set(filter, KSPROPERTY_RDMUS_SYNTH_PLAYVOICE, &value)
}

/// First and last frame with sound.
fn extent(audio: &[i16]) -> Option<(usize, usize)> {
    let first = audio.iter().position(|&s| s != 0)? / 2;
    let last = audio.iter().rposition(|&s| s != 0)? / 2;
    Some((first, last))
}

#[test]
fn wave_voices_play_through_the_driver() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
    let device: Device = driver.add_device().expect("AddDevice");
    device.start(&Resources::none()).expect("StartDevice");
    let filter = device.filter("Synth").expect("the Synth subdevice");
    ask_for_no_effects(filter);

    // One sawtooth of 768 frames, once as a one-shot, once as three streaming buffers.
    let fmt = format();
    let whole = build_wave_buffer(1, WaveDownload::OneShot, fmt, &samples(768), APPEND_SAMPLES);
    let mut handles = vec![dls_download(&filter, &whole.unwrap()).expect("one-shot")];
    for (n, dlid) in (2..=4).enumerate() {
        let part = build_wave_buffer(
            dlid,
            WaveDownload::Streaming,
            fmt,
            &samples_from(256 * n, 256),
            APPEND_SAMPLES,
        );
        handles.push(dls_download(&filter, &part.unwrap()).expect("streaming buffer"));
    }
    handles.push(dls_download(&filter, &articulation(10, &[1])).expect("articulation"));
    handles.push(dls_download(&filter, &articulation(11, &[2, 3, 4])).expect("articulation"));

    let pin = filter
        .open_pin(PIN_DMUSIC, PinFormat::DirectMusic)
        .expect("DirectMusic pin");
    let sink = WaveSink::open(&filter, PIN_WAVE, WaveSinkConfig::default()).expect("wave sink");
    sink.set_state(KSSTATE_RUN).expect("sink RUN");
    pin.set_state(KSSTATE_RUN).expect("pin RUN");
    assert_eq!(
        extent(&sink.pull(2_400).expect("audio")),
        None,
        "silence first"
    );

    assert_eq!(play_voice(filter, 1, 10), STATUS_SUCCESS);
    let once = sink.pull(4_800).expect("audio");
    let (start, end) = extent(&once).expect("the one-shot sounds");
    assert_eq!(
        extent(&sink.pull(2_400).expect("audio")),
        None,
        "and plays once"
    );

    assert_eq!(play_voice(filter, 2, 11), STATUS_SUCCESS);
    let streamed = sink.pull(4_800).expect("audio");
    let (s_start, s_end) = extent(&streamed).expect("the stream sounds");
    // 768 frames at 22.05 kHz are about 1672 at the sink's 48 kHz; one buffer is a third.
    assert!(
        (1_600..1_750).contains(&(end - start)),
        "one-shot {start}..{end}"
    );
    assert_eq!(
        (s_start, s_end),
        (start, end),
        "the streamed buffers play as the one-shot of their samples"
    );
    assert!(peak(&streamed) > 1_000);

    // Stopping releases a voice early; unknown ids and articulations are refused.
    assert_eq!(play_voice(filter, 3, 11), STATUS_SUCCESS);
    let begun = sink.pull(200).expect("audio");
    assert!(peak(&begun) > 0);
    assert_eq!(
        voice_set(filter, KSPROPERTY_RDMUS_SYNTH_STOPVOICE, &3u32),
        STATUS_SUCCESS
    );
    let after_stop = sink.pull(4_800).expect("audio");
    let (_, stop_end) = extent(&after_stop).unwrap_or((0, 0));
    assert!(
        stop_end < end - start - 200,
        "released before its end: {stop_end}"
    );
    assert_eq!(
        voice_set(filter, KSPROPERTY_RDMUS_SYNTH_STOPVOICE, &3u32),
        STATUS_NOT_FOUND
    );
    assert_eq!(play_voice(filter, 4, 99), STATUS_INVALID_PARAMETER);
    assert_eq!(
        play_voice(filter, 4, 1),
        STATUS_INVALID_PARAMETER,
        "a wave, not an articulation"
    );

    pin.set_state(KSSTATE_STOP).expect("pin STOP");
    sink.set_state(KSSTATE_STOP).expect("sink STOP");
    pin.close();
    sink.close();
    for handle in handles.into_iter().rev() {
        assert_eq!(dls_unload(&filter, handle), Ok(()));
    }
    device.stop();
    device.remove();
    driver.unload();
    assert_eq!(machine.findings(), [], "verifier findings");
}
