//! The synth data path on downloaded instruments: note parameters from articulation, voices
//! reading from the store, on the small fixture and on the GM bank.

mod common;

use common::{gm_bank, small_collection};
use dls::download::build::build_collection;
use dls::download::{Articulation, InstrumentStore};
use dls::model::{ArticulationLevel, Connection, ConnectionBlock, Patch};
use dls::synth::articulation::{FilterParams, NoteParams, note_params};
use dls::synth::envelope::EnvelopeParams;
use dls::synth::fixed::TIME_CENTS_ZERO;
use dls::synth::modulation::LfoParams;
use dls::synth::voice::{LoopMode, Voice};
use dls::wire::file::DlsFile;
use dmus_sys::dls::{
    CONN_DST_EG1_ATTACKTIME, CONN_DST_EG1_DECAYTIME, CONN_DST_EG1_SUSTAINLEVEL,
    CONN_DST_EG2_ATTACKTIME, CONN_DST_EG2_SUSTAINLEVEL, CONN_DST_FILTER_CUTOFF, CONN_DST_FILTER_Q,
    CONN_DST_GAIN, CONN_DST_LFO_FREQUENCY, CONN_DST_LFO_STARTDELAY, CONN_DST_PITCH, CONN_SRC_EG2,
    CONN_SRC_KEYNUMBER, CONN_SRC_KEYONVELOCITY, CONN_SRC_LFO, CONN_SRC_NONE, CONN_SRC_VIBRATO,
};

fn store_of(bytes: &[u8]) -> InstrumentStore<Vec<u8>> {
    let file = DlsFile::parse(bytes).unwrap();
    let built = build_collection(&file, 1, 1).unwrap();
    let mut store = InstrumentStore::new(1);
    for b in built.waves.into_iter().chain(built.instruments) {
        store.download(b.bytes).unwrap();
    }
    store
}

fn constant(destination: u16, whole: i32) -> Connection {
    Connection {
        source: CONN_SRC_NONE,
        control: CONN_SRC_NONE,
        destination,
        transform: 0,
        scale: whole << 16,
    }
}

fn dls2(connections: Vec<Connection>) -> Articulation {
    Articulation::Dls2(vec![ConnectionBlock {
        level: ArticulationLevel::Dls2,
        connections,
    }])
}

#[test]
fn note_params_follow_the_dls_rules() {
    let store = store_of(&small_collection());
    let piano = store.instrument(Patch(0x0001_0205)).unwrap();
    let region = &piano.regions[0];
    // Unity 60, fine tune -5 cents, sample attenuation -10 cb (gain), default velocity curve.
    let p = note_params(piano.articulation.as_ref(), region, 72, 127);
    assert_eq!(p.pitch_cents, 1200 - 5);
    assert_eq!(p.attenuation_cb, 10);
    let soft = note_params(piano.articulation.as_ref(), region, 60, 64);
    assert_eq!((soft.pitch_cents, soft.attenuation_cb), (-5, 10 + 119));

    // Region connections replace the instrument's with the same slot; others add.
    let global = dls2(vec![
        constant(CONN_DST_EG1_ATTACKTIME, -1200),
        constant(CONN_DST_EG1_SUSTAINLEVEL, 500),
        constant(CONN_DST_GAIN, -60),
        Connection {
            source: CONN_SRC_KEYONVELOCITY,
            ..constant(CONN_DST_EG1_ATTACKTIME, -1280)
        },
    ]);
    let mut own = region.clone();
    own.articulation = Some(dls2(vec![
        constant(CONN_DST_EG1_ATTACKTIME, 0),
        constant(CONN_DST_EG1_DECAYTIME, -2400),
        Connection {
            source: CONN_SRC_KEYNUMBER,
            ..constant(CONN_DST_EG1_DECAYTIME, 256)
        },
        Connection {
            source: CONN_SRC_KEYNUMBER,
            ..constant(CONN_DST_PITCH, 0)
        },
        Connection {
            source: CONN_SRC_KEYONVELOCITY,
            ..constant(CONN_DST_GAIN, -960)
        },
    ]));
    let p = note_params(Some(&global), &own, 64, 64);
    // Attack: region's 0 tc replaces the global -1200; velocity 64 adds -1280 * 64/128.
    assert_eq!(p.envelope.attack_tc, -640);
    // Decay: the region's -2400 plus, from key 64, 256 * 64/128.
    assert_eq!(p.envelope.decay_tc, -2400 + 128);
    // Without a constant the decay is the default, 0 s, which "cannot be modified by other
    // sources" (DLS2 Table 5, §1.14.3): the key scaling alone adds nothing.
    let mut key_only = region.clone();
    key_only.articulation = Some(dls2(vec![Connection {
        source: CONN_SRC_KEYNUMBER,
        ..constant(CONN_DST_EG1_DECAYTIME, 256)
    }]));
    let p_key_only = note_params(None, &key_only, 64, 64);
    assert_eq!(p_key_only.envelope.decay_tc, TIME_CENTS_ZERO);
    assert_eq!(p.envelope.sustain_permille, 500);
    assert_eq!(
        (p.envelope.delay_tc, p.envelope.release_tc),
        (TIME_CENTS_ZERO, TIME_CENTS_ZERO)
    );
    // Key tracking 0: every key plays at the sample's pitch (plus fine tune).
    assert_eq!(p.pitch_cents, -5);
    // Gain: -10 (sample) + 60 (global) + 480 (explicit velocity connection replaces the curve).
    assert_eq!(p.attenuation_cb, 10 + 60 + 480);
}

#[test]
fn modulators_and_filter_come_from_connections() {
    let store = store_of(&small_collection());
    let piano = store.instrument(Patch(0x0001_0205)).unwrap();
    let region = &piano.regions[0];
    // Modulators: depths, LFO frequency and delay, and EG2 land in the modulation parameters.
    let mut modulated = region.clone();
    modulated.articulation = Some(dls2(vec![
        Connection {
            source: CONN_SRC_LFO,
            ..constant(CONN_DST_PITCH, 50)
        },
        Connection {
            source: CONN_SRC_LFO,
            ..constant(CONN_DST_GAIN, 30)
        },
        Connection {
            source: CONN_SRC_VIBRATO,
            ..constant(CONN_DST_PITCH, 20)
        },
        Connection {
            source: CONN_SRC_EG2,
            ..constant(CONN_DST_PITCH, 1200)
        },
        constant(CONN_DST_LFO_FREQUENCY, -1118),
        constant(CONN_DST_LFO_STARTDELAY, -1200),
        constant(CONN_DST_EG2_ATTACKTIME, 0),
        constant(CONN_DST_EG2_SUSTAINLEVEL, 250),
        constant(CONN_DST_FILTER_CUTOFF, 8875),
        constant(CONN_DST_FILTER_Q, 70),
        Connection {
            source: CONN_SRC_EG2,
            ..constant(CONN_DST_FILTER_CUTOFF, 5168)
        },
    ]));
    let m = note_params(None, &modulated, 60, 100).modulation;
    assert_eq!(
        (
            m.lfo_to_pitch_cents,
            m.lfo_to_gain_cb,
            m.vibrato_to_pitch_cents,
            m.eg2_to_pitch_cents
        ),
        (50, 30, 20, 1200)
    );
    assert_eq!((m.lfo.frequency_cents, m.lfo.delay_tc), (-1118, -1200));
    assert_eq!(m.vibrato, LfoParams::default());
    assert_eq!(
        (
            m.pitch_envelope.attack_tc,
            m.pitch_envelope.sustain_permille
        ),
        (0, 250)
    );
    assert_eq!(m.eg2_to_cutoff_cents, 5168);
    assert_eq!(
        note_params(None, &modulated, 60, 100).filter,
        Some(FilterParams {
            cutoff_cents: 8875,
            resonance_cb: 70
        })
    );
    assert_eq!(
        note_params(None, region, 60, 100).filter,
        None,
        "no cutoff, no filter"
    );
    // Modulators do not touch the static values.
    let q = note_params(None, &modulated, 60, 100);
    assert_eq!((q.pitch_cents, q.envelope), (-5, EnvelopeParams::default()));
}

#[test]
fn voices_play_downloaded_waves() {
    let store = store_of(&small_collection());
    let patch = Patch(0x0001_0205);
    let (region, wave) = store.regions_for(patch, 60, 100).next().unwrap();
    let piano = store.instrument(patch).unwrap();
    let params = note_params(piano.articulation.as_ref(), region, 60, 100);
    let mut voice = Voice::start(wave.format(), wave.frames(), &region.sample, &params, 44100);
    assert_eq!(voice.loop_mode(), LoopMode::Forward);
    let mut out = vec![0i32; 1000];
    assert_eq!(
        voice.render(wave.samples_with_guard(), &mut out),
        1000,
        "a looped voice plays until released"
    );
    assert!(out.iter().any(|&s| s != 0));
    voice.release();
    assert!(
        voice.is_finished(),
        "no release time: the note ends at once"
    );
}

#[test]
fn gm_bank_piano_and_drum_notes_render() {
    let Some(bytes) = gm_bank() else { return };
    let store = store_of(&bytes);
    let rate = 22050;

    let piano = store.instrument(Patch(0)).unwrap();
    let (region, wave) = store.regions_for(Patch(0), 60, 100).next().unwrap();
    let p: NoteParams = note_params(piano.articulation.as_ref(), region, 60, 100);
    // Region 10 of "Piano 1" (keys 58-62): dlsdump pins the region, the raw chunks its unity
    // note 76 and its fine tune -48 cents.
    assert_eq!(
        (region.sample.unity_note, region.sample.fine_tune),
        (76, -48)
    );
    assert_eq!(p.pitch_cents, (60 - 76) * 100 - 48);
    let mut voice = Voice::start(wave.format(), wave.frames(), &region.sample, &p, rate);
    let mut out = vec![0i32; rate as usize];
    assert_eq!(voice.render(wave.samples_with_guard(), &mut out), out.len());
    let peak = out.iter().map(|s| s.unsigned_abs()).max().unwrap();
    assert!(peak > 1000, "piano peak {peak}");
    voice.release();
    let mut tail = 0usize;
    let mut block = vec![0i32; 1024];
    while !voice.is_finished() && tail < 30 * rate as usize {
        tail += voice.render(wave.samples_with_guard(), &mut block);
    }
    assert!(voice.is_finished(), "the release ends the note");
    println!("GM piano C4: peak {peak}, release tail {tail} samples at {rate} Hz");

    // Drum kit "Standard", key 36: the raw chunks give unity note 48, fine tune 66 and no
    // key-to-pitch connection, so the default key tracking applies from the unity note.
    let kit = store.instrument(Patch(0x8000_0000)).unwrap();
    let (kick, kick_wave) = store
        .regions_for(Patch(0x8000_0000), 36, 100)
        .next()
        .unwrap();
    assert_eq!((kick.sample.unity_note, kick.sample.fine_tune), (48, 66));
    let p = note_params(kit.articulation.as_ref(), kick, 36, 100);
    assert_eq!(p.pitch_cents, (36 - 48) * 100 + 66);
    let mut voice = Voice::start(
        kick_wave.format(),
        kick_wave.frames(),
        &kick.sample,
        &p,
        rate,
    );
    let mut out = vec![0i32; 4096];
    voice.render(kick_wave.samples_with_guard(), &mut out);
    assert!(out.iter().any(|&s| s != 0));
}

/// The lag (in samples, interpolated) of the strongest autocorrelation peak between `lo` and
/// `hi`, over `signal`.
fn autocorrelation_peak(signal: &[f64], lo: usize, hi: usize) -> f64 {
    let corr = |lag: usize| -> f64 { signal.iter().zip(&signal[lag..]).map(|(a, b)| a * b).sum() };
    let (best, _) = (lo..=hi)
        .map(|lag| (lag, corr(lag)))
        .fold((lo, f64::MIN), |acc, x| if x.1 > acc.1 { x } else { acc });
    let (a, b, c) = (corr(best - 1), corr(best), corr(best + 1));
    let shift = 0.5 * (a - c) / (a - 2.0 * b + c);
    f64::from(u32::try_from(best).unwrap()) + shift
}

#[test]
fn gm_bank_notes_sound_at_their_pitch() {
    let Some(bytes) = gm_bank() else { return };
    let store = store_of(&bytes);
    let rate = 22050u32;
    let piano = store.instrument(Patch(0)).unwrap();
    for key in [48u8, 60, 69, 72] {
        let (region, wave) = store.regions_for(Patch(0), key, 100).next().unwrap();
        let params = note_params(piano.articulation.as_ref(), region, key, 100);
        let mut voice = Voice::start(wave.format(), wave.frames(), &region.sample, &params, rate);
        let mut out = vec![0i32; 8192];
        voice.render(wave.samples_with_guard(), &mut out);
        // Skip the attack; analyse 4096 samples.
        let signal: Vec<f64> = out[2048..6144].iter().map(|&s| f64::from(s)).collect();
        let hz = 440.0 * 2f64.powf((f64::from(key) - 69.0) / 12.0);
        let expected = f64::from(rate) / hz;
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "small positive lags"
        )]
        let (lo, hi) = ((expected * 0.85) as usize, (expected * 1.15) as usize);
        let lag = autocorrelation_peak(&signal, lo, hi);
        let cents = 1200.0 * (expected / lag).log2();
        println!("key {key}: expected period {expected:.2}, measured {lag:.2} ({cents:+.1} cents)");
        assert!(cents.abs() < 25.0, "key {key} is {cents:+.1} cents off");
    }
}

/// Keys 48, 60 and 72 of GM piano, one second each, as a format-0 SMF (480 ticks per beat at
/// the default 120 bpm: 960 ticks per second).
fn three_notes_smf() -> Vec<u8> {
    let mut track = Vec::new();
    for key in [48u8, 60, 72] {
        track.extend_from_slice(&[0x00, 0x90, key, 100]);
        track.extend_from_slice(&[0x87, 0x40, 0x80, key, 0]); // delta 960
    }
    track.extend_from_slice(&[0x00, 0xff, 0x2f, 0x00]);
    let mut smf = b"MThd".to_vec();
    smf.extend_from_slice(&[0, 0, 0, 6, 0, 0, 0, 1, 0x01, 0xe0]);
    smf.extend_from_slice(b"MTrk");
    smf.extend_from_slice(&u32::try_from(track.len()).unwrap().to_be_bytes());
    smf.extend(track);
    smf
}

/// Cross-check with `FluidSynth` (Debian's, which loads .dls through libinstpatch): the same
/// notes measured from its render and from ours agree within 3 cents. Skips without
/// `fluidsynth` or the bank.
#[test]
fn gm_bank_pitch_agrees_with_fluidsynth() {
    let Some(bytes) = gm_bank() else { return };
    let dir = std::env::temp_dir().join(format!("dls-fluid-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (mid, wav) = (dir.join("notes.mid"), dir.join("notes.wav"));
    std::fs::write(&mid, three_notes_smf()).unwrap();
    let run = std::process::Command::new("fluidsynth")
        .args(["-ni", "-F"])
        .arg(&wav)
        .args(["-r", "22050", "-R", "0", "-C", "0", "-g", "1.0"])
        .arg(test_data::path("dls/sf_GMbank.dls"))
        .arg(&mid)
        .output();
    let Ok(run) = run else {
        test_data::skip("fluidsynth is not runnable");
        return;
    };
    assert!(
        run.status.success(),
        "fluidsynth failed: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let mut reader = hound::WavReader::open(&wav).unwrap();
    let spec = reader.spec();
    assert_eq!(
        (spec.channels, spec.sample_rate, spec.bits_per_sample),
        (2, 22050, 16)
    );
    let left: Vec<f64> = reader
        .samples::<i16>()
        .step_by(2)
        .map(|s| f64::from(s.unwrap()))
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    if left.iter().all(|&s| s == 0.0) {
        test_data::skip("fluidsynth rendered silence (no DLS support in this build?)");
        return;
    }

    let store = store_of(&bytes);
    let piano = store.instrument(Patch(0)).unwrap();
    for (n, key) in [48u8, 60, 72].into_iter().enumerate() {
        let (region, wave) = store.regions_for(Patch(0), key, 100).next().unwrap();
        let params = note_params(piano.articulation.as_ref(), region, key, 100);
        let mut voice = Voice::start(wave.format(), wave.frames(), &region.sample, &params, 22050);
        let mut out = vec![0i32; 8192];
        voice.render(wave.samples_with_guard(), &mut out);
        let ours: Vec<f64> = out[2048..6144].iter().map(|&s| f64::from(s)).collect();
        let start = n * 22050 + 2048;
        let theirs = &left[start..start + 4096];
        let expected = 22050.0 / (440.0 * 2f64.powf((f64::from(key) - 69.0) / 12.0));
        #[allow(
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss,
            reason = "small positive lags"
        )]
        let (lo, hi) = ((expected * 0.85) as usize, (expected * 1.15) as usize);
        let (a, b) = (
            autocorrelation_peak(&ours, lo, hi),
            autocorrelation_peak(theirs, lo, hi),
        );
        let cents = 1200.0 * (b / a).log2();
        println!("key {key}: rdmus period {a:.3}, FluidSynth {b:.3} ({cents:+.2} cents)");
        assert!(
            cents.abs() < 3.0,
            "key {key}: {cents:+.2} cents from FluidSynth"
        );
    }
}
