//! Play and record take time in proportion to events, not to duration: over
//! silence the application runs the simulated clock straight to its next
//! write or read (the machine has nothing due before it), so a year-long gap
//! costs a handful of clock stops, and what reaches the wire or the capture
//! pin is what stepping through the silence would have given.

use rdmus_cli::cli::{DEFAULT_IRP_SIZE, PinFormat};
use rdmus_cli::play_report::{DEFAULT_IRP_SPAN, PlayOptions, play};
use rdmus_cli::sim::{CaptureFormat, DEFAULT_QUEUE_AHEAD, SimConfig, capture, join_sysex};
use rdmus_cli::wire_log::WireByte;
use smf::read_smf;

/// A variable-length quantity (SMF delta time).
fn vlq(mut n: u32) -> Vec<u8> {
    let mut out = vec![u8::try_from(n & 0x7F).unwrap()];
    n >>= 7;
    while n > 0 {
        out.insert(0, 0x80 | u8::try_from(n & 0x7F).unwrap());
        n >>= 7;
    }
    out
}

/// A format-0 file, one tick a quarter note at the slowest tempo (16.78 s a
/// tick): two notes `gap_ticks` apart.
fn two_notes_apart(gap_ticks: u32) -> Vec<u8> {
    let mut track = Vec::new();
    track.extend(vlq(0));
    track.extend([0xFF, 0x51, 3, 0xFF, 0xFF, 0xFF]);
    for (delta, bytes) in [
        (0, [0x90, 60, 64]),
        (1, [0x80, 60, 0]),
        (gap_ticks, [0x90, 62, 64]),
        (1, [0x80, 62, 0]),
    ] {
        track.extend(vlq(delta));
        track.extend(bytes);
    }
    track.extend(vlq(0));
    track.extend([0xFF, 0x2F, 0]);
    let mut file = b"MThd".to_vec();
    file.extend(6_u32.to_be_bytes());
    file.extend([0, 0, 0, 1, 0, 1]);
    file.extend(b"MTrk");
    file.extend(u32::try_from(track.len()).unwrap().to_be_bytes());
    file.extend(track);
    file
}

/// Ticks of 16.777215 s in a year.
const YEAR_TICKS: u32 = 1_879_695;

#[test]
fn a_year_of_silence_costs_a_bounded_number_of_clock_stops() {
    let timeline = read_smf(&two_notes_apart(YEAR_TICKS)).unwrap();
    assert!(timeline.end_time > 365 * 86_400 * 10_000_000);
    for format in [PinFormat::Dmus, PinFormat::Ksmusic] {
        let options = PlayOptions {
            format,
            irp_size: DEFAULT_IRP_SIZE,
            irp_span: DEFAULT_IRP_SPAN,
            queue_ahead: DEFAULT_QUEUE_AHEAD,
            sim: SimConfig::default(),
        };
        let mut stops = 0_u32;
        let report = play(&timeline, &options, &mut |_| stops += 1).unwrap();
        assert!(report.exact, "{report}");
        assert!(report.findings.is_empty(), "{report}");
        // Two 17 s notes, each busy for a few steps, and the drain: not 3e8
        // steps of 100 ms.
        assert!(stops < 1_000, "{format:?}: {stops} clock stops");
        // Every byte within 1.5 ms of its time (the legacy pin rounds to
        // the millisecond), the second note a year on.
        let p = report.lateness.lateness.unwrap();
        assert!(p.max < 15_000, "{report}");
        let last = report.wire.last().unwrap();
        assert!(last.time > 365 * 86_400 * 10_000_000, "{last:?}");
    }
}

#[test]
fn a_gap_of_ten_to_the_fifteen_microseconds_records_in_a_few_reads() {
    let gap = 10_000_000_000_000_000_i64; // 10^15 µs in 100 ns
    let times_and_bytes = [
        (0, 0x90),
        (3_200, 0x3C),
        (6_400, 0x40),
        (gap, 0x80),
        (gap + 3_200, 0x3C),
        (gap + 6_400, 0x00),
    ];
    let input: Vec<WireByte> = times_and_bytes
        .iter()
        .map(|&(time, byte)| WireByte { time, byte })
        .collect();
    for format in [CaptureFormat::DirectMusic, CaptureFormat::Legacy] {
        let run = capture(&input, format, &SimConfig::default()).unwrap();
        assert!(run.rig.findings.is_empty(), "{:?}", run.rig.findings);
        assert!(run.clock_stops < 100, "{} clock stops", run.clock_stops);
        let messages = join_sysex(&run.records);
        let got: Vec<(i64, Vec<u8>)> = messages.into_iter().map(|m| (m.time, m.bytes)).collect();
        assert_eq!(got.len(), 2, "{got:?}");
        assert_eq!(got[0].1, [0x90, 0x3C, 0x40]);
        assert_eq!(got[1].1, [0x80, 0x3C, 0x00]);
        // Stamped where the first byte started, to the format's resolution.
        let resolution = match format {
            CaptureFormat::DirectMusic => 100,
            CaptureFormat::Legacy => 10_000,
        };
        assert!((got[1].0 - gap).abs() <= resolution, "{got:?}");
    }
}

#[test]
fn skipping_idle_reads_keeps_the_read_grid_and_the_stamps() {
    // One note, a 2.5 s gap, another: the records' times are what reading
    // every 10 ms through the gap gives (stamps are the driver's, at
    // receipt), and the skipped reads are gone.
    let input: Vec<WireByte> = [(0, 0x90), (3_200, 0x3C), (6_400, 0x40)]
        .into_iter()
        .chain([(25_000_000, 0x80), (25_003_200, 0x3C), (25_006_400, 0x00)])
        .map(|(time, byte)| WireByte { time, byte })
        .collect();
    let run = capture(&input, CaptureFormat::DirectMusic, &SimConfig::default()).unwrap();
    let times: Vec<i64> = run.records.iter().map(|r| r.time).collect();
    assert_eq!(run.records.len(), 2, "{:?}", run.records);
    assert!(
        times[0].abs() <= 100 && (times[1] - 25_000_000).abs() <= 100,
        "{times:?}"
    );
    // 250 reads of 10 ms would span the gap.
    assert!(run.clock_stops < 50, "{} clock stops", run.clock_stops);
}
