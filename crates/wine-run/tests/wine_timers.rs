//! The bench's timers under Wine (issue 14, item 3): jobs whose render DPC must re-arm its own
//! timer from inside itself (a chord, several messages and a sysex due at one time, more
//! bytes than the card's FIFO takes at once) play to the end on both render pins with every
//! byte on the wire in order and none before its time, and a capture job hands over exactly
//! the injected messages. Each runs the bench copy of the packaged x64 rdmus.sys with
//! wineshim.sys (`wine_run::shim`) and the stand-in portcls.sys under Wine, and prints its
//! time.
//!
//! Skipped, saying why, without wine, without mingw-w64's gcc (the shim), or without the
//! packaged image and the stand-in (`cargo xtask package`, `cargo xtask standin`). The Wine
//! template prefix is this checkout's `target/wine/template` (made on first use).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::Duration;

use wine_run::{Outcome, WineError, WineRun};

/// One Wine run at a time: two cores, and the figures printed are for one run alone.
static ONE_RUN: Mutex<()> = Mutex::new(());

/// A chord (3 note-ons, 9 bytes) and a program/volume change at time 0; the chord's note-offs
/// at one time; then a burst of a note, a sysex, a pitch bend and a controller at one time
/// (26 bytes); each burst more than the emulated card's FIFO takes at once.
const RENDER_EVENTS: &str = "\
event 0 c0 05
event 0 b0 07 64
event 0 90 3c 60
event 0 90 40 61
event 0 90 43 62
event 2000000 80 3c 40
event 2000000 80 40 40
event 2000000 80 43 40
event 3000000 90 48 70
event 3000000 f0 43 10 4c 00 00 7e 00 f7
event 3000000 91 30 50
event 3000000 e0 00 50
event 3000000 b0 0a 40
event 4000000 80 48 40
event 4000000 81 30 40
event 4000000 f0 7e 7f 09 01 f7
";

/// Input at wire speed (320 µs a byte): a chord of three full note-ons, a sysex, the chord's
/// note-offs, a program change; times in 100 ns.
const CAPTURE_INPUT: &str = "\
input 1000000 90
input 1003200 3c
input 1006400 40
input 1009600 90
input 1012800 40
input 1016000 41
input 1019200 90
input 1022400 43
input 1025600 42
input 2000000 f0
input 2003200 7e
input 2006400 7f
input 2009600 09
input 2012800 01
input 2016000 f7
input 3000000 80
input 3003200 3c
input 3006400 00
input 3009600 80
input 3012800 40
input 3016000 00
input 3019200 80
input 3022400 43
input 3025600 00
input 3500000 c0
input 3503200 07
";

/// The messages [`CAPTURE_INPUT`] carries, in order.
const CAPTURED: [&str; 8] = [
    "90 3c 40",
    "90 40 41",
    "90 43 42",
    "f0 7e 7f 09 01 f7",
    "80 3c 00",
    "80 40 00",
    "80 43 00",
    "c0 07",
];

fn target_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target")
}

/// The packaged image and the stand-in, or `None` after saying which is missing.
fn modules() -> Option<(PathBuf, PathBuf)> {
    let target = target_dir();
    let rdmus = target.join("package/x64/rdmus.sys");
    let portcls = target.join("standin/x64/portcls.sys");
    for (path, how) in [
        (&rdmus, "cargo xtask package"),
        (&portcls, "cargo xtask standin"),
    ] {
        if !path.is_file() {
            eprintln!("skipped: {} is absent ({how})", path.display());
            return None;
        }
    }
    if let Err(error) = wine_run::find_wine() {
        eprintln!("skipped: {error}");
        return None;
    }
    Some((rdmus, portcls))
}

/// Runs `job` (its text) through the bench copy; `None` (skipped, said why) when the shim
/// cannot be built for want of mingw-w64.
fn run(name: &str, job: &str) -> Option<Outcome> {
    let (rdmus, portcls) = modules()?;
    let _one = ONE_RUN
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    let out = target_dir().join("wine-run-tests").join(name);
    let (image, shim, _) = match wine_run::shim::prepare(&rdmus, &out.join("shim")) {
        Ok(prepared) => prepared,
        Err(WineError::Missing(what)) => {
            eprintln!("skipped: missing {what}");
            return None;
        }
        Err(error) => panic!("preparing the bench copy: {error}"),
    };
    std::fs::create_dir_all(&out).unwrap();
    let job_path = out.join("job.txt");
    std::fs::write(&job_path, job).unwrap();
    let outcome = wine_run::run(&WineRun {
        rdmus_sys: image,
        portcls_sys: portcls,
        extra_modules: vec![shim],
        job: Some(job_path),
        out_dir: out.join("run"),
        template: target_dir().join("wine/template"),
        job_timeout: Duration::from_secs(30),
    })
    .unwrap_or_else(|error| panic!("{name}: the Wine run failed: {error}"));
    println!(
        "{name}: Wine run {:.1} s (prefix copy to teardown), log {}",
        outcome.elapsed.as_secs_f64(),
        outcome.log.display()
    );
    Some(outcome)
}

fn output(outcome: &Outcome, name: &str) -> String {
    let path = outcome
        .outputs
        .iter()
        .find(|path| path.file_name().is_some_and(|file| file == name))
        .unwrap_or_else(|| {
            panic!(
                "the stand-in wrote no {name}; outputs {:?}",
                outcome.outputs
            )
        });
    std::fs::read_to_string(path).unwrap()
}

/// The job finished `ok`, the driver loaded and unloaded cleanly, nothing stopped the
/// system (a shim bug check included), and the stand-in holds nothing after the unload.
fn check_clean_run(outcome: &Outcome) {
    let log_text = String::from_utf8_lossy(&std::fs::read(&outcome.log).unwrap()).into_owned();
    let bug_checks: Vec<&str> = log_text
        .lines()
        .filter(|line| line.contains("KeBugCheck"))
        .collect();
    assert!(bug_checks.is_empty(), "bug check: {bug_checks:?}");
    assert!(
        outcome.job_done,
        "the job did not finish; standin.log:\n{}",
        output(outcome, "standin.log")
    );
    assert_eq!(output(outcome, "done.txt").trim(), "ok");
    assert!(
        outcome.loaded_and_unloaded(),
        "load/unload: {:?}",
        outcome.trace
    );
    let unload = output(outcome, "unload.txt");
    for line in unload.lines() {
        if let Some((name, value)) = line.split_once('\t') {
            if name.ends_with("_outstanding") || name == "objects_alive" {
                assert_eq!(value.trim(), "0", "after unload: {unload}");
            }
        }
    }
}

/// (time in 100 ns, byte) of every event byte of a job, in order.
fn job_bytes(job: &str) -> Vec<(i64, u8)> {
    job.lines()
        .filter_map(|line| line.strip_prefix("event "))
        .flat_map(|rest| {
            let mut fields = rest.split_whitespace();
            let time: i64 = fields.next().unwrap().parse().unwrap();
            fields
                .map(move |hex| (time, u8::from_str_radix(hex, 16).unwrap()))
                .collect::<Vec<_>>()
        })
        .collect()
}

/// (time in 100 ns, byte) of every line of a wire.tsv (`time_us<TAB>hex`).
fn wire_bytes(wire: &str) -> Vec<(i64, u8)> {
    wire.lines()
        .skip(1)
        .map(|line| {
            let (time, hex) = line.split_once('\t').unwrap();
            let magnitude = time.trim_start_matches('-');
            let (whole, tenth) = magnitude.split_once('.').unwrap_or((magnitude, "0"));
            let magnitude = whole.parse::<i64>().unwrap() * 10 + tenth.parse::<i64>().unwrap();
            let time = if time.starts_with('-') {
                -magnitude
            } else {
                magnitude
            };
            (time, u8::from_str_radix(hex, 16).unwrap())
        })
        .collect()
}

fn render(format: &str) {
    let job = format!("device mpu401\nformat {format}\ntail_ms 200\n{RENDER_EVENTS}");
    let Some(outcome) = run(&format!("render-{format}"), &job) else {
        return;
    };
    check_clean_run(&outcome);
    let wire = wire_bytes(&output(&outcome, "wire.tsv"));
    let expected = job_bytes(&job);
    let wire_only: Vec<u8> = wire.iter().map(|&(_, byte)| byte).collect();
    let expected_only: Vec<u8> = expected.iter().map(|&(_, byte)| byte).collect();
    assert_eq!(
        wire_only, expected_only,
        "the wire's bytes against the job's, in order"
    );
    let mut latest = 0_i64;
    for (&(sent, byte), &(due, _)) in wire.iter().zip(&expected) {
        assert!(
            sent >= due,
            "byte {byte:02x} went out at {sent} (100 ns), before its time {due}"
        );
        latest = latest.max(sent - due);
    }
    println!(
        "format {format}: {} bytes on the wire in order, none early, the latest {:.1} ms after its time",
        wire.len(),
        f64::from(u32::try_from(latest).unwrap_or(u32::MAX)) / 10_000.0
    );
}

#[test]
fn chords_and_bursts_play_in_order_on_the_legacy_midi_pin() {
    render("midi");
}

#[test]
fn chords_and_bursts_play_in_order_on_the_directmusic_pin() {
    render("dmus");
}

#[test]
fn capture_hands_over_exactly_the_injected_messages() {
    let job = format!("device mpu401\ntail_ms 200\n{CAPTURE_INPUT}");
    let Some(outcome) = run("capture", &job) else {
        return;
    };
    check_clean_run(&outcome);
    let capture = output(&outcome, "capture.tsv");
    let messages: Vec<&str> = capture
        .lines()
        .skip(1)
        .filter_map(|line| line.split_once('\t').map(|(_, message)| message))
        .collect();
    assert_eq!(messages, CAPTURED, "capture.tsv:\n{capture}");
    println!(
        "capture: the {} injected messages, in order",
        CAPTURED.len()
    );
}

#[test]
fn the_job_files_parse_as_the_checks_read_them() {
    // The checks above read the jobs and outputs with these helpers: pin them without Wine.
    let bytes = job_bytes("event 0 90 3c 60\n# x\nevent 25 c0 05\n");
    assert_eq!(
        bytes,
        [(0, 0x90), (0, 0x3c), (0, 0x60), (25, 0xc0), (25, 0x05)]
    );
    let wire = wire_bytes("time_us\thex\n-2.5\tf8\n0\t90\n1.5\t3c\n320\t60\n");
    assert_eq!(wire, [(-25, 0xf8), (0, 0x90), (15, 0x3c), (3200, 0x60)]);
}
