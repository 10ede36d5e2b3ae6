//! Download buffers: build (host) → parse (kernel) → store, on fixtures and on the GM bank;
//! every fault the kernel parser must refuse; property tests for round-trips and mutations.

mod common;

use common::{gm_bank, item_offset, put_u32, small_collection};
use dls::download::build::{build_collection, build_instrument, build_wave};
use dls::download::{Articulation, DownloadError, InstrumentStore, Parsed, WaveSamples, parse};
use dls::model::{
    ArticulationLevel, Connection, ConnectionBlock, KeyRange, Patch, SampleInfo, WaveFormat,
    WaveLoop,
};
use dls::wire::file::{DlsFile, Instrument, Region, Wave, WaveLink};
use dmus_sys::dls::{DMUS_DOWNLOADINFO_INSTRUMENT, DMUS_DOWNLOADINFO_STREAMINGWAVE};
use proptest::prelude::*;

const APPEND: u32 = 1;

fn small_buffers() -> dls::download::build::CollectionBuffers {
    let bytes = small_collection();
    let file = DlsFile::parse(&bytes).unwrap();
    build_collection(&file, 100, APPEND).unwrap()
}

fn store_with_small_collection() -> InstrumentStore<Vec<u8>> {
    let built = small_buffers();
    let mut store = InstrumentStore::new(APPEND);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).unwrap();
    }
    store
}

#[test]
fn small_collection_round_trips_through_the_store() {
    let built = small_buffers();
    assert_eq!(
        built.waves.iter().map(|b| b.dlid).collect::<Vec<_>>(),
        vec![100, 101]
    );
    assert_eq!(
        built.instruments.iter().map(|b| b.dlid).collect::<Vec<_>>(),
        vec![102, 103]
    );

    let Parsed::Instrument(piano) = parse(&built.instruments[0].bytes, APPEND).unwrap() else {
        panic!("not an instrument")
    };
    assert_eq!(piano.dlid, 102);
    assert_eq!(piano.patch, Patch(0x0001_0205));
    assert_eq!(piano.regions.len(), 2);
    let r0 = &piano.regions[0];
    assert_eq!(
        (r0.key, r0.wave_dlid, r0.options, r0.channel),
        (KeyRange { low: 0, high: 59 }, 100, 1, 1)
    );
    assert_eq!(
        r0.sample.wave_loop,
        Some(WaveLoop {
            kind: 0,
            start: 10,
            length: 90
        })
    );
    assert_eq!(r0.sample.fine_tune, -5);
    // Region 1 has no wsmp: it takes its wave's (unity 62, loop 4 + 60).
    let r1 = &piano.regions[1];
    assert_eq!(
        (r1.wave_dlid, r1.key_group, r1.sample.unity_note),
        (101, 3, 62)
    );
    assert_eq!(
        r1.sample.wave_loop,
        Some(WaveLoop {
            kind: 0,
            start: 4,
            length: 60
        })
    );
    assert_eq!(r1.articulation, None);
    let Some(Articulation::Dls2(global)) = &piano.articulation else {
        panic!("no global articulation")
    };
    assert_eq!(global[0].connections[0].scale, 960 << 16);
    let Some(Articulation::Dls2(own)) = &r0.articulation else {
        panic!("no region articulation")
    };
    assert_eq!(own[0].connections[0].destination, 0x206);

    let store = store_with_small_collection();
    assert_eq!((store.wave_count(), store.instrument_count()), (2, 2));
    assert_eq!(store.sample_bytes(), 200 + 128);
    let hits: Vec<_> = store
        .regions_for(Patch(0x0001_0205), 64, 50)
        .map(|(r, w)| (r.key, w.dlid()))
        .collect();
    assert_eq!(hits, vec![(KeyRange { low: 60, high: 127 }, 101)]);
    assert_eq!(
        store.regions_for(Patch(0x0001_0205), 64, 101).count(),
        0,
        "velocity 101 is outside 1..=100"
    );
    let kit = store.instrument(Patch(0x8000_0000)).unwrap();
    assert_eq!(kit.regions[0].key, KeyRange { low: 35, high: 35 });

    // The wave's samples are read in place, followed by one zeroed guard frame.
    let wave = store.wave(100).unwrap();
    assert_eq!(wave.frames(), 100);
    let WaveSamples::I16Le(samples) = wave.samples_with_guard() else {
        panic!("not 16-bit")
    };
    assert_eq!(samples.len(), 202);
    assert_eq!(&samples[2..4], &1i16.to_le_bytes());
    assert_eq!(&samples[200..], &[0, 0]);
}

#[test]
fn store_refusals_leave_it_unchanged_and_return_the_buffer() {
    let built = small_buffers();
    let mut store = InstrumentStore::new(APPEND);
    // An instrument before its waves.
    let refused = store
        .download(built.instruments[0].bytes.clone())
        .unwrap_err();
    assert_eq!(refused.error, DownloadError::UnknownWave);
    assert_eq!(refused.buffer, built.instruments[0].bytes);
    assert_eq!(store.instrument_count(), 0);

    let kept = store.download(built.waves[0].bytes.clone()).unwrap();
    assert_eq!((kept.dlid, kept.returned), (100, None));
    let dup = store.download(built.waves[0].bytes.clone()).unwrap_err();
    assert_eq!(dup.error, DownloadError::DuplicateId);
    store.download(built.waves[1].bytes.clone()).unwrap();
    let ins = store.download(built.instruments[0].bytes.clone()).unwrap();
    assert_eq!(
        ins.returned.as_deref(),
        Some(&built.instruments[0].bytes[..]),
        "instrument buffers are handed back"
    );

    assert_eq!(store.unload(100).unwrap_err(), DownloadError::WaveInUse);
    assert_eq!(store.unload(999).unwrap_err(), DownloadError::NotFound);
    assert_eq!(store.unload(102), Ok(None));
    let wave_buffer = store.unload(100).unwrap().unwrap();
    assert_eq!(wave_buffer.len(), built.waves[0].bytes.len());
    assert_eq!((store.wave_count(), store.instrument_count()), (1, 0));
}

#[test]
fn loop_outside_the_wave_is_refused() {
    let built = small_buffers();
    let mut store = InstrumentStore::new(APPEND);
    store.download(built.waves[0].bytes.clone()).unwrap();
    store.download(built.waves[1].bytes.clone()).unwrap();
    let mut ins = built.instruments[0].bytes.clone();
    let region = item_offset(&ins, usize::try_from(first_region_index(&ins)).unwrap());
    put_u32(&mut ins, region + 64, 50); // loop start 50 + length 90 > 100 frames
    assert_eq!(
        store.download(ins).unwrap_err().error,
        DownloadError::BadRegion
    );
}

/// Finds the offset-table index of the first region of an instrument buffer.
fn first_region_index(buffer: &[u8]) -> u32 {
    let ins = item_offset(buffer, 0);
    u32::from_le_bytes(buffer[ins + 4..ins + 8].try_into().unwrap())
}

#[test]
fn chains_that_loop_are_refused() {
    let built = small_buffers();
    let base = built.instruments[0].bytes.clone();
    // Region chain: second region points back to the first.
    let mut regions = base.clone();
    let first = first_region_index(&regions);
    let first_at = item_offset(&regions, usize::try_from(first).unwrap());
    let second = u32::from_le_bytes(regions[first_at + 16..first_at + 20].try_into().unwrap());
    let second_at = item_offset(&regions, usize::try_from(second).unwrap());
    put_u32(&mut regions, second_at + 16, first);
    assert_eq!(parse(&regions, APPEND), Err(DownloadError::Cycle));
    // A region pointing at itself.
    let mut self_loop = base.clone();
    put_u32(&mut self_loop, first_at + 16, first);
    assert_eq!(parse(&self_loop, APPEND), Err(DownloadError::Cycle));
    // Articulation chain: the global link points at itself.
    let mut art = base.clone();
    let ins = item_offset(&art, 0);
    let link = u32::from_le_bytes(art[ins + 8..ins + 12].try_into().unwrap());
    let link_at = item_offset(&art, usize::try_from(link).unwrap());
    put_u32(&mut art, link_at + 8, link);
    assert_eq!(parse(&art, APPEND), Err(DownloadError::Cycle));
    // Two regions sharing one item: point the second region's articulation at the global link.
    let mut shared = base.clone();
    put_u32(&mut shared, second_at + 12, link);
    assert_eq!(parse(&shared, APPEND), Err(DownloadError::Cycle));
    // Extension chain on the instrument that loops: give it an index whose "next" is itself.
    let mut ext = base;
    put_u32(&mut ext, ins + 12, link);
    put_u32(&mut ext, link_at + 4, link);
    assert_eq!(parse(&ext, APPEND), Err(DownloadError::Cycle));
}

#[test]
fn wave_faults_are_refused() {
    let built = small_buffers();
    let wave = built.waves[0].bytes.clone();
    let data_at = item_offset(&wave, 1);
    // Declared data longer than the buffer.
    let mut long = wave.clone();
    put_u32(&mut long, data_at, 10_000);
    assert_eq!(parse(&long, APPEND), Err(DownloadError::TruncatedWave));
    // Data that fills the buffer (200 bytes, the guard frame, 2 bytes of padding) leaves no
    // room for the append frame.
    assert_eq!(wave.len(), data_at + 4 + 204);
    let mut no_guard = wave.clone();
    put_u32(&mut no_guard, data_at, 204);
    assert_eq!(parse(&no_guard, APPEND), Err(DownloadError::TruncatedWave));
    assert!(
        parse(&no_guard, 0).is_ok(),
        "without append the same buffer is fine"
    );
    // Stereo, 24-bit, non-PCM, zero rate.
    let header = item_offset(&wave, 0);
    for (at, value) in [(14, 2u16), (26, 24), (12, 3)] {
        let mut bad = wave.clone();
        bad[header + at..header + at + 2].copy_from_slice(&value.to_le_bytes());
        assert_eq!(
            parse(&bad, APPEND),
            Err(DownloadError::BadWave),
            "field at {at}"
        );
    }
    let mut zero_rate = wave.clone();
    put_u32(&mut zero_rate, header + 16, 0);
    assert_eq!(parse(&zero_rate, APPEND), Err(DownloadError::BadWave));
    // Wave data index 0 (the wave itself) or past the table.
    let mut idx0 = wave.clone();
    put_u32(&mut idx0, header + 8, 0);
    assert_eq!(parse(&idx0, APPEND), Err(DownloadError::BadIndex));
    let mut idx9 = wave.clone();
    put_u32(&mut idx9, header + 8, 9);
    assert_eq!(parse(&idx9, APPEND), Err(DownloadError::BadIndex));
    // Unknown download types; a type-2 wave relabelled as a streaming wave has no
    // `DMUS_WAVEDL` where that type's main item is (its `ulFirstExtCkIdx`, 0, as `cbWaveData`).
    let mut kind = wave.clone();
    put_u32(&mut kind, 0, 7);
    assert_eq!(parse(&kind, APPEND), Err(DownloadError::UnknownType));
    let mut streaming = wave;
    put_u32(&mut streaming, 0, DMUS_DOWNLOADINFO_STREAMINGWAVE);
    assert!(parse(&streaming, APPEND).is_err());
}

#[test]
fn region_faults_are_refused() {
    let built = small_buffers();
    let base = built.instruments[0].bytes.clone();
    let first = first_region_index(&base);
    let at = item_offset(&base, usize::try_from(first).unwrap());
    let mut key = base.clone();
    key[at..at + 4].copy_from_slice(&[10, 0, 9, 0]);
    assert_eq!(parse(&key, APPEND), Err(DownloadError::BadRegion));
    let mut vel = base.clone();
    vel[at + 6..at + 8].copy_from_slice(&200u16.to_le_bytes());
    assert_eq!(parse(&vel, APPEND), Err(DownloadError::BadRegion));
    let mut loops = base.clone();
    put_u32(&mut loops, at + 52, 1000);
    assert_eq!(parse(&loops, APPEND), Err(DownloadError::Truncated));
    let mut art = base;
    put_u32(&mut art, at + 12, 77);
    assert_eq!(parse(&art, APPEND), Err(DownloadError::BadIndex));
}

#[test]
fn dls1_instrument_with_articparams_is_read() {
    // DMUS_DOWNLOADINFO_INSTRUMENT: instrument, region, DMUS_ARTICULATION, DMUS_ARTICPARAMS.
    let entries = 4u32;
    let table_end = 16 + 4 * entries;
    let (ins, rgn, art, params) = (
        table_end,
        table_end + 24,
        table_end + 24 + 72,
        table_end + 24 + 72 + 8,
    );
    let size = params + 80;
    let mut b = common::u32s(&[
        DMUS_DOWNLOADINFO_INSTRUMENT,
        9,
        entries,
        size,
        ins,
        rgn,
        art,
        params,
    ]);
    b.extend(common::u32s(&[0x0000_0007, 1, 2, 0, 0, 0]));
    let mut region = common::u16s(&[0, 127, 0, 127, 0, 0]);
    region.extend(common::u32s(&[0, 0, 0]));
    region.extend(common::u16s(&[0, 0]));
    region.extend(common::u32s(&[1, 5, 20]));
    region.extend(common::u16s(&[60, 0]));
    region.extend(common::u32s(&[0, 0, 0, 16, 0, 0, 0]));
    b.extend(region);
    b.extend(common::u32s(&[3, 0]));
    b.extend((0..20i32).flat_map(|v| (v * 10 - 50).to_le_bytes()));
    let Parsed::Instrument(i) = parse(&b, 0).unwrap() else {
        panic!("not an instrument")
    };
    assert_eq!(
        (i.dlid, i.patch.program(), i.regions[0].wave_dlid),
        (9, 7, 5)
    );
    let Some(Articulation::Dls1(p)) = i.articulation else {
        panic!("no DLS1 articulation")
    };
    assert_eq!(
        (
            p.LFO.pcFrequency,
            p.VolEG.tcAttack,
            p.PitchEG.pcRange,
            p.Misc.ptDefaultPan
        ),
        (-50, 10, 130, 140)
    );
}

#[test]
fn gm_bank_downloads_completely() {
    let Some(bytes) = gm_bank() else { return };
    let file = DlsFile::parse(&bytes).unwrap();
    let built = build_collection(&file, 1, APPEND).unwrap();
    assert_eq!((built.waves.len(), built.instruments.len()), (488, 329));
    let mut store = InstrumentStore::new(APPEND);
    let mut total = 0usize;
    for b in built.waves.iter().chain(&built.instruments) {
        total += b.bytes.len();
        store.download(b.bytes.clone()).unwrap();
    }
    println!(
        "GM bank: {} download buffers, {total} bytes",
        built.waves.len() + built.instruments.len()
    );
    assert_eq!((store.wave_count(), store.instrument_count()), (488, 329));
    let expected: usize = file.waves.iter().map(|w| w.data.len() / 2 * 2).sum();
    assert_eq!(store.sample_bytes(), expected);
    // dlsdump: "Piano 1" region 10 plays "Piano Db3" over keys 58-62.
    let hits: Vec<_> = store
        .regions_for(Patch(0), 60, 100)
        .map(|(r, w)| (r.key, w.frames()))
        .collect();
    let db3 = file.waves.iter().find(|w| w.name == b"Piano Db3").unwrap();
    assert_eq!(
        hits,
        vec![(KeyRange { low: 58, high: 62 }, db3.data.len() / 2)]
    );
    // Unload everything, instruments first as DirectMusic does.
    for b in built.instruments.iter().chain(&built.waves) {
        store.unload(b.dlid).unwrap();
    }
    assert_eq!((store.wave_count(), store.instrument_count()), (0, 0));
}

// ---------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------

fn range_strategy() -> impl Strategy<Value = KeyRange> {
    (0u16..128, 0u16..128).prop_map(|(a, b)| KeyRange {
        low: a.min(b),
        high: a.max(b),
    })
}

fn connection_strategy() -> impl Strategy<Value = Connection> {
    (
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<u16>(),
        any::<i32>(),
    )
        .prop_map(
            |(source, control, destination, transform, scale)| Connection {
                source,
                control,
                destination,
                transform,
                scale,
            },
        )
}

fn blocks_strategy() -> impl Strategy<Value = Vec<ConnectionBlock>> {
    prop::collection::vec(
        prop::collection::vec(connection_strategy(), 0..5).prop_map(|connections| {
            ConnectionBlock {
                level: ArticulationLevel::Dls2,
                connections,
            }
        }),
        0..3,
    )
}

fn sample_strategy(frames: u32) -> impl Strategy<Value = SampleInfo> {
    (
        0u16..128,
        any::<i16>(),
        any::<i32>(),
        0u32..4,
        prop::option::of((0..frames, 0..frames)),
    )
        .prop_map(
            move |(unity_note, fine_tune, attenuation, options, lp)| SampleInfo {
                unity_note,
                fine_tune,
                attenuation,
                options,
                wave_loop: lp.map(|(a, b)| WaveLoop {
                    kind: 0,
                    start: a.min(b),
                    length: a.max(b) - a.min(b),
                }),
            },
        )
}

#[derive(Debug, Clone)]
struct RandomRegion {
    key: KeyRange,
    velocity: KeyRange,
    options: u16,
    key_group: u16,
    cue: u32,
    sample: SampleInfo,
    articulation: Vec<ConnectionBlock>,
}

fn region_strategy() -> impl Strategy<Value = RandomRegion> {
    (
        range_strategy(),
        range_strategy(),
        0u16..2,
        0u16..16,
        0u32..2,
        sample_strategy(64),
        blocks_strategy(),
    )
        .prop_map(
            |(key, velocity, options, key_group, cue, sample, articulation)| RandomRegion {
                key,
                velocity,
                options,
                key_group,
                cue,
                sample,
                articulation,
            },
        )
}

fn instrument_of<'a>(
    bank: u32,
    program: u32,
    regions: &[RandomRegion],
    global: Vec<ConnectionBlock>,
) -> Instrument<'a> {
    Instrument {
        name: b"",
        bank,
        program,
        regions: regions
            .iter()
            .map(|r| Region {
                level2: true,
                key: r.key,
                velocity: r.velocity,
                options: r.options,
                key_group: r.key_group,
                layer: 0,
                wave_link: WaveLink {
                    options: 0,
                    phase_group: 0,
                    channel: 1,
                    table_index: r.cue,
                },
                sample: Some(r.sample),
                articulation: r.articulation.clone(),
            })
            .collect(),
        articulation: global,
    }
}

fn wave_of(data: &[u8], bits: u16) -> Wave<'_> {
    let block = bits / 8;
    Wave {
        pool_offset: 0,
        name: b"",
        format: WaveFormat {
            format_tag: 1,
            channels: 1,
            sample_rate: 22050,
            avg_bytes_per_sec: 22050 * u32::from(block),
            block_align: block,
            bits_per_sample: bits,
        },
        sample: None,
        data,
    }
}

fn articulation_of(blocks: &[ConnectionBlock]) -> Option<Articulation> {
    (!blocks.is_empty()).then(|| Articulation::Dls2(blocks.to_vec()))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// Random small instruments survive build → parse with every field intact.
    #[test]
    fn instruments_round_trip(
        bank in (0u32..128, 0u32..128, any::<bool>()).prop_map(|(m, l, d)| (m << 8) | l | if d { 0x8000_0000 } else { 0 }),
        program in 0u32..128,
        regions in prop::collection::vec(region_strategy(), 0..5),
        global in blocks_strategy(),
        dlid in any::<u32>(),
    ) {
        let instrument = instrument_of(bank, program, &regions, global.clone());
        let bytes = build_instrument(dlid, &instrument, |cue| Some((1000 + cue, None))).unwrap();
        let Ok(Parsed::Instrument(parsed)) = parse(&bytes, APPEND) else { panic!("built instrument refused") };
        prop_assert_eq!(parsed.dlid, dlid);
        prop_assert_eq!(parsed.patch, Patch::from_locale(bank, program));
        prop_assert_eq!(parsed.articulation, articulation_of(&global));
        prop_assert_eq!(parsed.regions.len(), regions.len());
        for (p, r) in parsed.regions.iter().zip(&regions) {
            prop_assert_eq!((p.key, p.velocity, p.options, p.key_group), (r.key, r.velocity, r.options, r.key_group));
            prop_assert_eq!(p.wave_dlid, 1000 + r.cue);
            prop_assert_eq!(p.sample, r.sample);
            prop_assert_eq!(&p.articulation, &articulation_of(&r.articulation));
        }
    }

    /// Random waves survive build → parse; the guard frames follow the data.
    #[test]
    fn waves_round_trip(data in prop::collection::vec(any::<u8>(), 0..300), sixteen in any::<bool>(), append in 0u32..4) {
        let bits = if sixteen { 16 } else { 8 };
        let wave = wave_of(&data, bits);
        let bytes = build_wave(7, &wave, append).unwrap();
        let Ok(Parsed::Wave(parsed)) = parse(&bytes, append) else { panic!("built wave refused") };
        let frames = data.len() / usize::from(bits / 8);
        prop_assert_eq!(parsed.frames(), frames);
        prop_assert_eq!(&bytes[parsed.data.clone()], &data[..frames * usize::from(bits / 8)]);
        prop_assert_eq!(parsed.guard.len(), usize::try_from(append).unwrap() * usize::from(bits / 8));
        prop_assert_eq!(parsed.guard.start, parsed.data.end);
        prop_assert_eq!(parsed.format, wave.format);
    }

    /// Any mutation of a valid buffer is refused or parsed consistently (twice the same, every
    /// range inside the buffer), never a panic.
    #[test]
    fn mutated_buffers_are_refused_or_consistent(
        which in 0usize..4,
        flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6),
        cut in prop::option::of(any::<prop::sample::Index>()),
    ) {
        let built = small_buffers();
        let all: Vec<_> = built.waves.iter().chain(&built.instruments).collect();
        let mut bytes = all[which].bytes.clone();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Some(cut) = cut {
            bytes.truncate(cut.index(bytes.len()));
        }
        let first = parse(&bytes, APPEND);
        prop_assert_eq!(&first, &parse(&bytes, APPEND));
        match first {
            Ok(Parsed::Wave(w)) => {
                prop_assert!(w.format.is_playable());
                prop_assert!(w.data.start <= w.data.end && w.guard.end <= bytes.len());
            }
            Ok(Parsed::Instrument(i)) => {
                for r in &i.regions {
                    prop_assert!(r.key.low <= r.key.high && r.key.high <= 127);
                    prop_assert!(r.velocity.low <= r.velocity.high && r.velocity.high <= 127);
                }
                let mut store = store_with_small_collection();
                // The store either takes it or refuses it whole.
                let before = store.instrument_count();
                let taken = usize::from(store.download(bytes).is_ok());
                prop_assert_eq!(store.instrument_count(), before + taken);
            }
            Ok(Parsed::WaveArticulation(a)) => prop_assert!(!a.buffers.is_empty()),
            Err(_) => {}
        }
    }
}

#[test]
fn store_takes_any_owned_byte_buffer() {
    let built = small_buffers();
    let mut store: InstrumentStore<Box<[u8]>> = InstrumentStore::new(APPEND);
    for b in built.waves.iter().chain(&built.instruments) {
        store.download(b.bytes.clone().into_boxed_slice()).unwrap();
    }
    assert_eq!((store.wave_count(), store.instrument_count()), (2, 2));
    assert_eq!(store.regions_for(Patch(0x8000_0000), 35, 1).count(), 1);
}
