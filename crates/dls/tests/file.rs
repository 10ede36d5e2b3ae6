//! The `.dls` file model: hand-built fixtures, malformed files, and the shared GM bank
//! (values pinned from libgig's `dlsdump` 4.3.0 and from reading the raw chunks).

mod common;

use common::{chunk, dls, gm_bank, instrument, list, region, small_collection, u32s, wave16, wsmp};
use dls::model::{ArticulationLevel, Connection, KeyRange, Patch, WaveLoop};
use dls::wire::file::DlsFile;
use dls::wire::riff::{RiffError, RiffErrorKind};
use dmus_sys::dls::{FOURCC_COLH, FOURCC_INSH, FOURCC_PTBL, FOURCC_WLNK, mmioFOURCC};
use proptest::prelude::*;

#[test]
fn small_collection_parses_to_its_values() {
    let bytes = small_collection();
    let file = DlsFile::parse(&bytes).unwrap();
    assert_eq!(file.declared_instruments, 2);
    assert_eq!(file.version, Some((0x0001_0002, 0x0003_0004)));
    assert_eq!(file.instruments.len(), 2);
    assert_eq!(file.waves.len(), 2);
    assert_eq!(file.pool, vec![0, 1]);

    let piano = &file.instruments[0];
    assert_eq!(piano.name, b"Tiny Piano");
    assert_eq!(piano.patch(), Patch(0x0001_0205));
    assert!(!piano.patch().is_drum());
    assert_eq!(piano.articulation.len(), 1);
    assert_eq!(piano.articulation[0].level, ArticulationLevel::Dls2);
    assert_eq!(
        piano.articulation[0].connections,
        vec![Connection {
            source: 4,
            control: 0,
            destination: 1,
            transform: 0,
            scale: 960 << 16
        }]
    );
    let r0 = &piano.regions[0];
    assert!(r0.level2);
    assert_eq!(
        (r0.key, r0.velocity),
        (KeyRange { low: 0, high: 59 }, KeyRange::FULL)
    );
    assert_eq!((r0.options, r0.key_group, r0.layer), (1, 0, 0));
    let s0 = r0.sample.unwrap();
    assert_eq!(
        (s0.unity_note, s0.fine_tune, s0.attenuation, s0.options),
        (60, -5, -655_360, 1)
    );
    assert_eq!(
        s0.wave_loop,
        Some(WaveLoop {
            kind: 0,
            start: 10,
            length: 90
        })
    );
    assert_eq!(r0.articulation[0].connections[0].destination, 0x206);
    let r1 = &piano.regions[1];
    assert_eq!(
        (r1.velocity, r1.key_group, r1.sample),
        (KeyRange { low: 1, high: 100 }, 3, None)
    );
    assert_eq!(file.wave_of(r1).unwrap().format.sample_rate, 44100);

    let kit = &file.instruments[1];
    assert!(kit.patch().is_drum());
    assert_eq!(kit.patch().program(), 0);

    let w0 = &file.waves[0];
    assert_eq!(
        (
            w0.format.channels,
            w0.format.bits_per_sample,
            w0.format.sample_rate
        ),
        (1, 16, 22050)
    );
    assert_eq!(w0.data.len(), 200);
    assert_eq!(&w0.data[2..4], &1i16.to_le_bytes());
    assert_eq!(
        file.waves[1].sample.unwrap().wave_loop,
        Some(WaveLoop {
            kind: 0,
            start: 4,
            length: 60
        })
    );
}

#[test]
fn dls1_regions_and_art1_are_read() {
    let rgn = list(
        *b"rgn ",
        &[
            chunk(*b"rgnh", &common::u16s(&[10, 20, 0, 127, 0, 0])),
            chunk(*b"wlnk", &[common::u16s(&[0, 0]), u32s(&[1, 0])].concat()),
            list(*b"lart", &[common::art(*b"art1", &[(0, 0, 3, 0, 100)])]),
        ],
    );
    let bytes = dls(
        &[instrument("Old", 0, 1, &[rgn], None)],
        &[wave16(11025, 8, None)],
    );
    let file = DlsFile::parse(&bytes).unwrap();
    let r = &file.instruments[0].regions[0];
    assert!(!r.level2);
    assert_eq!(r.layer, 0);
    assert_eq!(r.articulation[0].level, ArticulationLevel::Dls1);
    assert_eq!(r.articulation[0].connections[0].scale, 100);
}

fn error_of(bytes: &[u8]) -> RiffError {
    DlsFile::parse(bytes).unwrap_err()
}

#[test]
fn wave_link_outside_the_pool_is_refused_naming_wlnk() {
    let bytes = dls(
        &[instrument(
            "A",
            0,
            0,
            &[region((0, 127), (0, 127), 0, 5, None, &[])],
            None,
        )],
        &[wave16(8000, 4, None)],
    );
    let err = error_of(&bytes);
    assert_eq!((err.kind, err.chunk), (RiffErrorKind::Invalid, FOURCC_WLNK));
    assert_eq!(&bytes[err.offset..err.offset + 4], b"wlnk");
}

#[test]
fn bad_ranges_counts_and_cues_are_refused() {
    let bad_key = dls(
        &[instrument(
            "A",
            0,
            0,
            &[region((5, 4), (0, 127), 0, 0, None, &[])],
            None,
        )],
        &[wave16(8000, 4, None)],
    );
    assert_eq!(error_of(&bad_key).kind, RiffErrorKind::Invalid);
    let bad_vel = dls(
        &[instrument(
            "A",
            0,
            0,
            &[region((0, 4), (0, 128), 0, 0, None, &[])],
            None,
        )],
        &[wave16(8000, 4, None)],
    );
    assert_eq!(error_of(&bad_vel).kind, RiffErrorKind::Invalid);

    // insh says 1 region, none present.
    let ins = list(
        *b"ins ",
        &[chunk(*b"insh", &u32s(&[1, 0, 0])), list(*b"lrgn", &[])],
    );
    let err = error_of(&dls(&[ins], &[wave16(8000, 4, None)]));
    assert_eq!((err.kind, err.chunk), (RiffErrorKind::Invalid, FOURCC_INSH));

    // colh count disagrees with the instruments present.
    let mut bytes = small_collection();
    let colh = bytes.windows(4).position(|w| w == b"colh").unwrap();
    bytes[colh + 8] = 3;
    let err = error_of(&bytes);
    assert_eq!(
        (err.kind, err.chunk, err.offset),
        (RiffErrorKind::Invalid, FOURCC_COLH, colh)
    );

    // A pool cue that points at no wave.
    let mut bytes = small_collection();
    let ptbl = bytes.windows(4).position(|w| w == b"ptbl").unwrap();
    bytes[ptbl + 8 + 8 + 4] = 7;
    let err = error_of(&bytes);
    assert_eq!(
        (err.kind, err.chunk, err.offset),
        (RiffErrorKind::Invalid, FOURCC_PTBL, ptbl)
    );
}

#[test]
fn short_structures_are_refused_naming_the_chunk() {
    let short_wsmp = chunk(*b"wsmp", &u32s(&[20, 0]));
    let bytes = dls(
        &[instrument(
            "A",
            0,
            0,
            &[region((0, 1), (0, 1), 0, 0, Some(short_wsmp), &[])],
            None,
        )],
        &[wave16(8000, 4, None)],
    );
    let err = error_of(&bytes);
    assert_eq!(
        (err.kind, err.chunk),
        (RiffErrorKind::TooShort, mmioFOURCC(*b"wsmp"))
    );
    // A wsmp that declares more loops than it holds.
    let lying = wsmp(60, 0, 0, 0, None);
    let mut lying = lying.clone();
    lying[8 + 16] = 2;
    let bytes = dls(
        &[instrument(
            "A",
            0,
            0,
            &[region((0, 1), (0, 1), 0, 0, Some(lying), &[])],
            None,
        )],
        &[wave16(8000, 4, None)],
    );
    assert_eq!(error_of(&bytes).kind, RiffErrorKind::TooShort);
}

#[test]
fn every_truncation_is_an_error_never_a_panic() {
    let bytes = small_collection();
    for len in 0..bytes.len() {
        assert!(
            DlsFile::parse(&bytes[..len]).is_err(),
            "prefix of {len} bytes parsed"
        );
    }
    assert!(DlsFile::parse(&bytes).is_ok());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    /// Any corruption is either refused or parsed, never a panic; a parsed file's links resolve.
    #[test]
    fn corrupted_files_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = small_collection();
        for (at, value) in flips {
            let i = at.index(bytes.len());
            bytes[i] = value;
        }
        if let Ok(file) = DlsFile::parse(&bytes) {
            for ins in &file.instruments {
                for r in &ins.regions {
                    prop_assert!(file.wave_of(r).is_some());
                    prop_assert!(r.key.low <= r.key.high && r.key.high <= 127);
                }
            }
        }
    }
}

#[test]
fn gm_bank_matches_dlsdump() {
    let Some(bytes) = gm_bank() else { return };
    let file = DlsFile::parse(&bytes).unwrap();
    // dlsdump: 329 instruments, 488 samples, 3560 regions, 3171 of them with a loop.
    assert_eq!(file.instruments.len(), 329);
    assert_eq!(file.waves.len(), 488);
    assert_eq!(file.pool.len(), 488);
    let regions: Vec<_> = file.instruments.iter().flat_map(|i| &i.regions).collect();
    assert_eq!(regions.len(), 3560);
    let looped = regions
        .iter()
        .filter(|r| {
            r.sample
                .or_else(|| file.wave_of(r).and_then(|w| w.sample))
                .and_then(|s| s.wave_loop)
                .is_some()
        })
        .count();
    assert_eq!(looped, 3171);
    // Level 2 chunks only.
    assert!(regions.iter().all(|r| r.level2));
    assert!(
        regions
            .iter()
            .flat_map(|r| &r.articulation)
            .all(|a| a.level == ArticulationLevel::Dls2)
    );

    // dlsdump: Instrument 1) "Piano 1", MIDIBank=0, MIDIProgram=0, 22 regions; region 1 plays
    // "Piano D1" 44100 Hz over keys 0-29, velocities 0-127.
    let piano = &file.instruments[0];
    assert_eq!(piano.name, b"Piano 1");
    assert_eq!((piano.bank, piano.program, piano.regions.len()), (0, 0, 22));
    let r = &piano.regions[0];
    assert_eq!(
        (r.key, r.velocity),
        (KeyRange { low: 0, high: 29 }, KeyRange::FULL)
    );
    let wave = file.wave_of(r).unwrap();
    assert_eq!(wave.name, b"Piano D1");
    assert_eq!(
        (
            wave.format.sample_rate,
            wave.format.channels,
            wave.format.bits_per_sample
        ),
        (44100, 1, 16)
    );
    // Raw chunks: data is 68230 bytes; the wave's wsmp loops 20533 + 13574; the region's wsmp
    // has unity note 58, fine tune 16, attenuation -3538944.
    assert_eq!(wave.data.len(), 68230);
    assert_eq!(
        wave.sample.unwrap().wave_loop,
        Some(WaveLoop {
            kind: 0,
            start: 20533,
            length: 13574
        })
    );
    let s = r.sample.unwrap();
    assert_eq!(
        (s.unity_note, s.fine_tune, s.attenuation),
        (58, 16, -3_538_944)
    );

    // dlsdump: Instrument 2) "Acou Piano 1", MIDIBank=16256 (CC0 127), 22 regions.
    assert_eq!(file.instruments[1].patch().bank_msb(), 127);
    // dlsdump: Instrument 320) "Standard" (62 regions) and 329) "CM-64/32 Set" (program 127,
    // 87 regions) are drum kits; insh holds the drum flag on 10 instruments.
    let standard = &file.instruments[319];
    assert_eq!(
        (standard.name, standard.regions.len()),
        (&b"Standard"[..], 62)
    );
    assert!(standard.patch().is_drum());
    let cm = &file.instruments[328];
    assert_eq!(
        (cm.name, cm.program, cm.regions.len()),
        (&b"CM-64/32 Set"[..], 127, 87)
    );
    assert_eq!(
        file.instruments
            .iter()
            .filter(|i| i.patch().is_drum())
            .count(),
        10
    );
}
