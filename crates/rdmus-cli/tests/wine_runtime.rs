//! `--runtime wine` against `--runtime sim` (issue 14's "done when"): the packaged x64
//! rdmus.sys under Wine puts the same bytes on the MIDI wire in the same order as the
//! driver's host build in the simulation, renders the same samples bit for bit, captures the
//! same messages from an injected byte stream, and a device without a card fails its start
//! and unloads cleanly. Real files from ../shared/data (crates/test-data).
//!
//! Needs wine, mingw-w64 and both modules (`cargo xtask package --arch x64`, `cargo xtask
//! standin`); each missing piece makes the tests report themselves skipped with its name.
//! Wine runs take seconds each, in real time: they run one at a time.

use std::ffi::{OsStr, OsString};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard};

use rdmus_cli::cli::main_with;
use rdmus_cli::wine::images::{default_image, default_standin};

/// One Wine run at a time (two cores; each run is real time).
static WINE: Mutex<()> = Mutex::new(());

/// Takes the Wine turn: held while a test runs Wine.
fn wine_turn() -> MutexGuard<'static, ()> {
    WINE.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `run_with` under the simulation, then under Wine (holding the Wine turn), each
/// required to exit 0; gives both runs' standard output (simulation, Wine).
fn sim_then_wine(run_with: impl Fn(&str) -> (u8, String, String)) -> (String, String) {
    let (code, sim_out, err) = run_with("sim");
    assert_eq!(code, 0, "sim: {sim_out}{err}");
    let _turn = wine_turn();
    let (code, wine_out, err) = run_with("wine");
    assert_eq!(code, 0, "wine: {wine_out}{err}");
    (sim_out, wine_out)
}

/// Short real files whose wire the tests compare: (file, pin format): single notes, bursts of
/// chords (a DPC that re-arms its own timer: the shim's re-armable timers), sysex.
const WIRE_FILES: [(&str, &str); 3] = [
    ("test-c-major-scale.mid", "ksmusic"),
    ("test-gs-doggy-01-00-7b.mid", "dmus"),
    ("test-running-status-sysex.mid", "ksmusic"),
];

/// Whether Wine runs can be made here; if not, the test is reported skipped with why.
fn wine_ready() -> bool {
    if let Err(error) = wine_run::find_wine() {
        test_data::skip(&format!("Wine is not installed: {error}"));
        return false;
    }
    for (path, command) in [
        (default_image(), "cargo xtask package --arch x64"),
        (default_standin(), "cargo xtask standin"),
    ] {
        if !path.is_file() {
            test_data::skip(&format!("{} is absent ({command})", path.display()));
            return false;
        }
    }
    true
}

fn midi(name: &str) -> Option<PathBuf> {
    test_data::find(&format!("midi/jazz-soft/{name}"))
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("rdmus-cli-wine-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn run(args: &[&OsStr]) -> (u8, String, String) {
    let command_line = std::iter::once(OsStr::new("rdmus"))
        .chain(args.iter().copied())
        .map(OsString::from);
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let code = main_with(command_line, &mut out, &mut err);
    (
        code,
        String::from_utf8_lossy(&out).into_owned(),
        String::from_utf8_lossy(&err).into_owned(),
    )
}

/// The bytes column of a wire log (or of captured messages), in order.
fn bytes_column(path: &Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|line| !line.starts_with('#') && !line.starts_with("time_us"))
        .filter_map(|line| line.split_once('\t').map(|(_, hex)| hex.to_owned()))
        .collect()
}

#[test]
fn the_wire_under_wine_carries_the_simulations_bytes_in_order() {
    if !wine_ready() {
        return;
    }
    for (name, format) in WIRE_FILES {
        let Some(file) = midi(name) else { return };
        let sim_wire = scratch(&format!("{name}.sim.tsv"));
        let wine_wire = scratch(&format!("{name}.wine.tsv"));
        let play = |runtime: &str, wire: &Path| {
            run(&[
                "play".as_ref(),
                file.as_os_str(),
                "--format".as_ref(),
                format.as_ref(),
                "--wire".as_ref(),
                wire.as_os_str(),
                "--runtime".as_ref(),
                runtime.as_ref(),
            ])
        };
        let (_, out) = sim_then_wine(|runtime| {
            play(
                runtime,
                if runtime == "sim" {
                    &sim_wire
                } else {
                    &wine_wire
                },
            )
        });
        let sim_bytes = bytes_column(&sim_wire);
        assert!(
            !sim_bytes.is_empty(),
            "{name}: the simulation's wire is empty"
        );
        assert_eq!(
            bytes_column(&wine_wire),
            sim_bytes,
            "{name} ({format}): the wire under Wine differs from the simulation's"
        );
        assert!(
            out.contains("wire:        ") && out.contains("exactly the file's messages in order"),
            "{out}"
        );
        assert!(out.contains("lateness:    p50 "), "{out}");
        assert!(
            out.contains("clock:       Wine: real time, the host's clock"),
            "{out}"
        );
        assert!(out.contains("loss:        none"), "{out}");
        println!("{name} ({format}) under Wine:\n{out}");
    }
}

#[test]
fn the_synth_under_wine_renders_the_simulations_samples_bit_for_bit() {
    if !wine_ready() {
        return;
    }
    let Some(bank) = test_data::find("dls/sf_GMbank.dls") else {
        return;
    };
    let Some(file) = midi("test-c-major-scale.mid") else {
        return;
    };
    let sim_wav = scratch("synth.sim.wav");
    let wine_wav = scratch("synth.wine.wav");
    let play = |runtime: &str, wav: &Path| {
        run(&[
            "play".as_ref(),
            file.as_os_str(),
            "--device".as_ref(),
            "synth".as_ref(),
            "--format".as_ref(),
            "dmus".as_ref(),
            "--dls".as_ref(),
            bank.as_os_str(),
            "--wav".as_ref(),
            wav.as_os_str(),
            "--runtime".as_ref(),
            runtime.as_ref(),
        ])
    };
    let (out, wine_out) = sim_then_wine(|runtime| {
        play(
            runtime,
            if runtime == "sim" {
                &sim_wav
            } else {
                &wine_wav
            },
        )
    });
    let sim = std::fs::read(&sim_wav).unwrap();
    let wine = std::fs::read(&wine_wav).unwrap();
    assert!(
        sim.len() > 44 + 4 * 48_000,
        "the simulation's WAV is too short"
    );
    let first_difference = sim.iter().zip(&wine).position(|(a, b)| a != b);
    assert_eq!(
        (wine.len(), first_difference),
        (sim.len(), None),
        "the WAV under Wine differs from the simulation's"
    );
    // The summaries agree on every figure both runtimes read.
    for prefix in ["audio:", "voices:", "lost notes:", "clipped:", "synth:"] {
        let line = |text: &str| {
            text.lines()
                .find(|line| line.starts_with(prefix))
                .map(str::to_owned)
        };
        assert_eq!(line(&wine_out), line(&out), "{prefix}\n{wine_out}\n{out}");
    }
    println!("synth under Wine:\n{wine_out}");
}

#[test]
fn capture_under_wine_gives_the_simulations_messages() {
    if !wine_ready() {
        return;
    }
    let Some(file) = midi("test-c-major-scale.mid") else {
        return;
    };
    // The injected byte stream: the file's ideal wire.
    let input = scratch("capture.in.tsv");
    let (code, out, err) = run(&[
        "inspect".as_ref(),
        file.as_os_str(),
        "--ideal-wire".as_ref(),
        input.as_os_str(),
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let sim_out = scratch("capture.sim.tsv");
    let wine_out = scratch("capture.wine.tsv");
    let record = |runtime: &str, out: &Path| {
        run(&[
            "record".as_ref(),
            input.as_os_str(),
            "--out".as_ref(),
            out.as_os_str(),
            "--runtime".as_ref(),
            runtime.as_ref(),
        ])
    };
    sim_then_wine(|runtime| {
        record(
            runtime,
            if runtime == "sim" {
                &sim_out
            } else {
                &wine_out
            },
        )
    });
    let sim_messages = bytes_column(&sim_out);
    assert_eq!(sim_messages.len(), 16, "the scale's 16 messages");
    assert_eq!(bytes_column(&wine_out), sim_messages);
}

#[test]
fn without_a_card_start_device_fails_and_the_driver_unloads_cleanly_under_wine() {
    if !wine_ready() {
        return;
    }
    let Some(file) = midi("test-c-major-scale.mid") else {
        return;
    };
    let _one_at_a_time = wine_turn();
    let (code, out, err) = run(&[
        "play".as_ref(),
        file.as_os_str(),
        "--mpu-fault".as_ref(),
        "absent".as_ref(),
        "--runtime".as_ref(),
        "wine".as_ref(),
    ]);
    assert_eq!(
        code, 4,
        "a device that does not start is a failed run: {out}{err}"
    );
    assert!(
        err.contains("the device did not start: StartDevice: 0xc00000c0")
            && err.contains("the driver unloaded cleanly, nothing left in the stand-in's pool"),
        "{err}"
    );
}

/// `--mpu-fault never-acks` and `never-drains` under Wine give the simulation's outcome and
/// exit code: a card that never acknowledges fails `StartDevice` (exit 4, the same status), one
/// that never drains starts, puts nothing on the wire and loses the file's messages (exit 3).
#[test]
fn a_broken_card_under_wine_gives_the_simulations_outcome() {
    if !wine_ready() {
        return;
    }
    let Some(file) = midi("test-c-major-scale.mid") else {
        return;
    };
    for fault in ["never-acks", "never-drains"] {
        let play = |runtime: &str| {
            run(&[
                "play".as_ref(),
                file.as_os_str(),
                "--mpu-fault".as_ref(),
                fault.as_ref(),
                "--runtime".as_ref(),
                runtime.as_ref(),
            ])
        };
        let (sim_code, sim_out, sim_err) = play("sim");
        let _one_at_a_time = wine_turn();
        let (code, out, err) = play("wine");
        assert_eq!(
            code, sim_code,
            "{fault}: wine {out}{err}\nsim {sim_out}{sim_err}"
        );
        if fault == "never-acks" {
            assert_eq!(code, 4, "{sim_err}");
            // The simulation names the status, Wine's run prints it in hex: the same one.
            assert!(sim_err.contains("0xc00000a3"), "{sim_err}");
            assert!(
                err.contains("the device did not start: StartDevice: 0xc00000a3")
                    && err.contains("the driver unloaded cleanly"),
                "{err}"
            );
        } else {
            assert_eq!(code, 3, "{sim_out}{sim_err}");
            for text in [&out, &sim_out] {
                assert!(
                    text.contains("wire:        0 bytes, NOT the file's messages")
                        && text.contains("16 of the file's messages not on the wire"),
                    "{text}"
                );
            }
        }
        println!("--mpu-fault {fault} under Wine (exit {code}):\n{out}{err}");
    }
}

#[test]
fn options_without_meaning_under_wine_are_usage_errors_that_say_why() {
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../smf/tests/data/jazz-soft/test-c-major-scale.mid");
    for (extra, why) in [
        (
            &["--irp-size", "4096"][..],
            "--irp-size has no meaning under `--runtime wine`: no IRPs",
        ),
        (
            &["--timer-res-us", "1000"],
            "--timer-res-us has no meaning under `--runtime wine`",
        ),
        (&["--mpu-fifo", "16"], "fixed 16-byte FIFO"),
    ] {
        let mut args: Vec<&OsStr> = vec!["play".as_ref(), file.as_os_str()];
        args.extend(extra.iter().map(OsStr::new));
        args.extend(["--runtime", "wine"].iter().map(OsStr::new));
        let (code, _, err) = run(&args);
        assert_eq!(code, 2, "{extra:?}: {err}");
        assert!(err.contains(why), "{extra:?}: {err}");
    }
    let (code, _, err) = run(&[
        "play".as_ref(),
        file.as_os_str(),
        "--standin".as_ref(),
        "x.sys".as_ref(),
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--standin is for `--runtime wine`"), "{err}");
    let (code, _, err) = run(&[
        "play".as_ref(),
        file.as_os_str(),
        "--runtime".as_ref(),
        "wine".as_ref(),
        "--image".as_ref(),
        "/nonexistent/rdmus.sys".as_ref(),
    ]);
    assert_eq!(code, 5, "a missing image is a setup error: {err}");
    assert!(err.contains("cargo xtask package --arch x64"), "{err}");
}

/// Ctrl-C (SIGINT) and SIGTERM while the stand-in plays under Wine: the command exits
/// promptly with 128 + the signal, and leaves no process of the run's prefix (no wineserver,
/// no winedevice.exe) and no prefix or run directory behind.
#[test]
fn a_signal_during_a_wine_run_leaves_no_wine_process_and_no_prefix() {
    use std::process::{Command, Stdio};
    use std::time::{Duration, Instant};
    if !wine_ready() {
        return;
    }
    let Some(file) = midi("test-c-major-scale.mid") else {
        return;
    };
    let _one_at_a_time = wine_turn();
    for (signal, code) in [("INT", 130), ("TERM", 143)] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_rdmus"))
            .args(["play".as_ref(), file.as_os_str()])
            .args(["--runtime", "wine"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("rdmus starts");
        // The run's directory is named after the process (wine/run.rs), its prefix inside.
        let run_dir = rdmus_cli::wine::images::target_dir()
            .join("wine")
            .join(format!("play-{}-0", child.id()));
        let prefix = run_dir.join("prefix");
        let standin_log = prefix.join("drive_c/rdmus/standin.log");
        let deadline = Instant::now() + Duration::from_secs(120);
        while !standin_log.is_file() {
            assert!(
                Instant::now() < deadline,
                "the stand-in did not start within 120 s"
            );
            assert!(
                child.try_wait().unwrap().is_none(),
                "rdmus ended before the stand-in ran"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            !wine_run::process::prefix_processes(&prefix).is_empty(),
            "the run's Wine processes are found by their WINEPREFIX"
        );
        // Only this child, by its pid.
        let sent = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
        let signalled = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().unwrap() {
                break status;
            }
            assert!(
                signalled.elapsed() < Duration::from_secs(30),
                "rdmus did not exit within 30 s of SIG{signal}"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        let waited = signalled.elapsed();
        let mut err = String::new();
        std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut err).unwrap();
        assert_eq!(status.code(), Some(code), "SIG{signal}: {err}");
        assert!(err.contains("stopped by signal"), "{err}");
        assert_eq!(
            wine_run::process::prefix_processes(&prefix),
            Vec::<u32>::new(),
            "SIG{signal}: processes of the run's prefix are left"
        );
        assert!(!prefix.exists(), "SIG{signal}: the prefix is left");
        assert!(
            !run_dir.exists(),
            "SIG{signal}: the run's directory is left"
        );
        println!(
            "SIG{signal}: exit {code} {:.2} s after the signal",
            waited.as_secs_f64()
        );
    }
}

/// The stand-in's pool peak after a run (the `pool:` line's figure).
fn pool_peak(summary: &str) -> u64 {
    summary
        .lines()
        .find_map(|line| line.strip_prefix("pool:"))
        .and_then(|line| line.split(", peak ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pool peak in {summary}"))
}

/// The stand-in reads the job a line at a time and writes the wire as it goes: its pool peak
/// does not grow with the song (a 7.8 s job of 1,500 messages against the 4 s scale of 16).
#[test]
fn the_stand_ins_memory_does_not_grow_with_the_song() {
    if !wine_ready() {
        return;
    }
    let Some(short) = midi("test-c-major-scale.mid") else {
        return;
    };
    // 1,500 notes, one every tick (96 a quarter at 120 bpm: 5.2 ms).
    let mut track = Vec::new();
    for i in 0..1_500_u32 {
        let note = u8::try_from(36 + i % 48).unwrap();
        track.extend_from_slice(&[1, 0x90, note, if i % 2 == 0 { 100 } else { 0 }]);
    }
    track.extend_from_slice(&[0, 0xFF, 0x2F, 0]);
    let mut smf = b"MThd\0\0\0\x06\0\0\0\x01\0\x60MTrk".to_vec();
    smf.extend_from_slice(&u32::try_from(track.len()).unwrap().to_be_bytes());
    smf.extend_from_slice(&track);
    let long = scratch("long.mid");
    std::fs::write(&long, smf).unwrap();
    let _one_at_a_time = wine_turn();
    let mut peaks = Vec::new();
    for file in [&short, &long] {
        let (code, out, err) = run(&[
            "play".as_ref(),
            file.as_os_str(),
            "--runtime".as_ref(),
            "wine".as_ref(),
        ]);
        assert_eq!(code, 0, "{out}{err}");
        assert!(
            out.contains("exactly the file's messages in order"),
            "{out}"
        );
        peaks.push(pool_peak(&out));
    }
    println!(
        "stand-in pool peak: scale {} B, 1,500 notes {} B",
        peaks[0], peaks[1]
    );
    // Holding the long job's 4,500 wire bytes (16 B a logged byte) or its text would add
    // over 70 KB.
    assert!(
        peaks[1] < peaks[0] + 16 * 1024,
        "the pool peak grows with the song: {peaks:?}"
    );
}
