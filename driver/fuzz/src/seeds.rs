//! The seed corpus: sessions a real client runs, from which the fuzzer mutates. Each is
//! written to `seeds/session/<name>` by this crate's test (`RDMUS_WRITE_SEEDS=1 cargo test`
//! writes them; without it the test checks the files are current and that every seed runs
//! clean).

use crate::script::{Op, Setup};

const UART: Setup = Setup {
    devices: 1,
    fifo16: false,
    card_fault: 0,
    fail_nth: 0,
    fail_permille: 0,
    outer_unknown: false,
};
const SYNTH: Setup = Setup {
    devices: 2,
    fifo16: false,
    card_fault: 0,
    fail_nth: 0,
    fail_permille: 0,
    outer_unknown: false,
};
const BOTH: Setup = Setup {
    devices: 3,
    fifo16: true,
    card_fault: 0,
    fail_nth: 0,
    fail_permille: 0,
    outer_unknown: false,
};

/// `KSMUSICFORMAT` records: (delta ms, bytes), DWORD-aligned.
fn ksmusic(records: &[(u32, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (delta, bytes) in records {
        out.extend_from_slice(&delta.to_le_bytes());
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(bytes);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out
}

/// `DMUS_EVENTHEADER` records: (rtDelta in 100 ns, bytes), channel group 1, structured,
/// QWORD-aligned.
fn dmus(records: &[(i64, &[u8])]) -> Vec<u8> {
    let mut out = Vec::new();
    for (delta, bytes) in records {
        let start = out.len();
        out.extend_from_slice(&u32::try_from(bytes.len()).unwrap_or(0).to_le_bytes());
        out.extend_from_slice(&1_u32.to_le_bytes());
        out.extend_from_slice(&delta.to_le_bytes());
        out.extend_from_slice(&1_u32.to_le_bytes());
        out.extend_from_slice(bytes);
        while (out.len() - start) % 8 != 0 {
            out.push(0);
        }
    }
    out
}

fn run_ms(ms: u16) -> Op {
    Op::Run { tenths_ms: ms * 10 }
}

fn state(stream: u8, state: u8) -> Op {
    Op::SetState { stream, state }
}

fn get(filter: u8, target: (u8, u8), set: u8, id: u8, value_len: u16) -> Op {
    Op::Property {
        filter,
        target: target.0,
        index: target.1,
        set,
        id,
        verb: 0,
        instance: Vec::new(),
        value_len,
        value: Vec::new(),
    }
}

/// The whole small collection downloaded: its two waves, then its two instruments (a
/// melodic one, bank 1/2 program 5, and a drum kit).
fn download_all(filter: u8) -> [Op; 4] {
    [0, 1, 2, 3].map(|buffer| Op::Download {
        filter,
        buffer,
        size_delta: 0,
        flips: Vec::new(),
    })
}

/// The seed sessions, by file name.
#[must_use]
#[allow(clippy::too_many_lines, reason = "one list of scenarios")]
pub fn scenarios() -> Vec<(&'static str, Setup, Vec<Op>)> {
    let note = [0x90_u8, 60, 100];
    let off = [0x80_u8, 60, 0];
    vec![
        (
            "uart_legacy_render",
            UART,
            vec![
                Op::OpenPin {
                    filter: 0,
                    factory: 0,
                    dmusic: false,
                },
                state(0, 3),
                Op::Write {
                    stream: 0,
                    time_ms: 0,
                    data: ksmusic(&[
                        (0, &note),
                        (20, &off),
                        (5, &[0xC0, 5]),
                        (0, &[0xF0, 1, 2, 0xF7]),
                    ]),
                },
                run_ms(60),
                state(0, 0),
                Op::Close { stream: 0 },
            ],
        ),
        (
            "uart_dmusic_render_and_legacy_together",
            UART,
            vec![
                Op::OpenPin {
                    filter: 0,
                    factory: 1,
                    dmusic: true,
                },
                Op::OpenPin {
                    filter: 0,
                    factory: 0,
                    dmusic: false,
                },
                state(0, 3),
                state(1, 3),
                Op::Write {
                    stream: 0,
                    time_ms: 2,
                    data: dmus(&[(0, &note), (100_000, &off)]),
                },
                Op::Write {
                    stream: 1,
                    time_ms: 0,
                    data: ksmusic(&[(1, &[0x91, 64, 90]), (3, &[0x81, 64, 0])]),
                },
                run_ms(30),
                state(0, 2),
                run_ms(5),
                state(0, 3),
                run_ms(20),
            ],
        ),
        (
            "uart_capture",
            UART,
            vec![
                Op::OpenPin {
                    filter: 0,
                    factory: 4,
                    dmusic: false,
                },
                Op::OpenPin {
                    filter: 0,
                    factory: 4,
                    dmusic: true,
                },
                state(0, 3),
                state(1, 3),
                Op::Input {
                    bytes: vec![
                        0x90, 60, 100, 62, 90, 0xF8, 0xF0, 1, 2, 3, 0xF7, 0x80, 60, 0,
                    ],
                },
                run_ms(10),
                Op::Read {
                    stream: 0,
                    len: 256,
                },
                Op::Read {
                    stream: 1,
                    len: 512,
                },
            ],
        ),
        (
            "synth_download_and_play",
            SYNTH,
            [
                download_all(0).to_vec(),
                vec![
                    Op::OpenPin {
                        filter: 0,
                        factory: 1,
                        dmusic: true,
                    },
                    Op::OpenSink {
                        filter: 0,
                        factory: 2,
                        rate: 0,
                        channels: 2,
                        bits: 0,
                        period: 480,
                        drift: 0,
                        latency: 0,
                    },
                    state(1, 3),
                    state(0, 3),
                    Op::Write {
                        stream: 0,
                        time_ms: 1,
                        data: dmus(&[
                            (0, &[0xB0, 0, 1]),
                            (0, &[0xB0, 32, 2]),
                            (0, &[0xC0, 5]),
                            (0, &note),
                            (0, &[0x99, 35, 100]),
                            (500_000, &off),
                        ]),
                    },
                    Op::Pull {
                        stream: 1,
                        frames: 4_800,
                    },
                    Op::Unload {
                        filter: 0,
                        handle: 3,
                        bogus: 0,
                    },
                    Op::Unload {
                        filter: 0,
                        handle: 0,
                        bogus: 0,
                    },
                    Op::Pull {
                        stream: 1,
                        frames: 960,
                    },
                ],
            ]
            .concat(),
        ),
        (
            "synth_legacy_pin_and_properties",
            SYNTH,
            vec![
                Op::OpenPin {
                    filter: 0,
                    factory: 0,
                    dmusic: false,
                },
                get(0, (0, 0), 0, 2, 64),
                get(0, (0, 0), 0, 3, 64),
                get(0, (0, 0), 0, 4, 4),
                get(0, (0, 0), 0, 5, 16),
                get(0, (2, 0), 0, 6, 8),
                get(0, (2, 0), 0, 7, 64),
                get(0, (0, 0), 1, 4, 32),
                get(0, (0, 0), 3, 0, 16),
                Op::Property {
                    filter: 0,
                    target: 0,
                    index: 0,
                    set: 0,
                    id: 0,
                    verb: 1,
                    instance: Vec::new(),
                    value_len: 4,
                    value: vec![0x10, 0x27, 0, 0],
                },
                state(0, 3),
                Op::Write {
                    stream: 0,
                    time_ms: 0,
                    data: ksmusic(&[(0, &note), (10, &off)]),
                },
                run_ms(20),
            ],
        ),
        (
            "broken_downloads",
            SYNTH,
            [
                download_all(0).to_vec(),
                vec![
                    Op::Download {
                        filter: 0,
                        buffer: 1,
                        size_delta: -4,
                        flips: Vec::new(),
                    },
                    Op::Download {
                        filter: 0,
                        buffer: 0,
                        size_delta: 0,
                        flips: vec![(8, 0xFF), (40, 0x80)],
                    },
                    Op::DownloadRaw {
                        filter: 0,
                        data: vec![0; 64],
                    },
                    Op::Unload {
                        filter: 0,
                        handle: 0xFF,
                        bogus: 12_345,
                    },
                    Op::Unload {
                        filter: 0,
                        handle: 0,
                        bogus: 0,
                    },
                ],
            ]
            .concat(),
        ),
        (
            "both_devices_power_cycle",
            BOTH,
            vec![
                Op::OpenPin {
                    filter: 0,
                    factory: 1,
                    dmusic: true,
                },
                Op::OpenPin {
                    filter: 1,
                    factory: 1,
                    dmusic: true,
                },
                state(0, 3),
                Op::Write {
                    stream: 0,
                    time_ms: 0,
                    data: dmus(&[(0, &note), (200_000, &off)]),
                },
                run_ms(5),
                Op::Power {
                    device: 0,
                    off: true,
                },
                run_ms(5),
                Op::Power {
                    device: 0,
                    off: false,
                },
                run_ms(30),
            ],
        ),
        (
            "both_devices_short_of_memory",
            Setup {
                devices: 3,
                fifo16: true,
                card_fault: 0,
                fail_nth: 0,
                fail_permille: 20,
                outer_unknown: false,
            },
            [
                download_all(1).to_vec(),
                vec![
                    Op::OpenPin {
                        filter: 0,
                        factory: 1,
                        dmusic: true,
                    },
                    Op::OpenPin {
                        filter: 1,
                        factory: 1,
                        dmusic: true,
                    },
                    Op::OpenSink {
                        filter: 1,
                        factory: 2,
                        rate: 0,
                        channels: 2,
                        bits: 0,
                        period: 480,
                        drift: 0,
                        latency: 0,
                    },
                    state(2, 3),
                    state(1, 3),
                    state(0, 3),
                    Op::Write {
                        stream: 1,
                        time_ms: 0,
                        data: dmus(&[
                            (0, &[0xB0, 0, 1]),
                            (0, &[0xB0, 32, 2]),
                            (0, &[0xC0, 5]),
                            (0, &note),
                        ]),
                    },
                    Op::Write {
                        stream: 0,
                        time_ms: 0,
                        data: dmus(&[(0, &note), (100_000, &off)]),
                    },
                    Op::Pull {
                        stream: 2,
                        frames: 2_400,
                    },
                ],
            ]
            .concat(),
        ),
        (
            "low_resources",
            Setup {
                devices: 3,
                fifo16: false,
                card_fault: 0,
                fail_nth: 9,
                fail_permille: 0,
                outer_unknown: false,
            },
            [
                vec![Op::OpenPin {
                    filter: 0,
                    factory: 0,
                    dmusic: false,
                }],
                download_all(1).to_vec(),
            ]
            .concat(),
        ),
    ]
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::scenarios;
    use crate::script::{decode, encode};
    use crate::session;

    fn seed_dir() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("seeds/session")
    }

    #[test]
    fn the_committed_seeds_are_the_scenarios() {
        let write = std::env::var_os("RDMUS_WRITE_SEEDS").is_some();
        for (name, setup, ops) in scenarios() {
            let bytes = encode(&setup, &ops);
            assert_eq!(decode(&bytes), (setup, ops), "{name} decodes back");
            let path = seed_dir().join(name);
            if write {
                std::fs::create_dir_all(seed_dir()).expect("seed directory");
                std::fs::write(&path, &bytes).expect("seed written");
            }
            let on_disk = std::fs::read(&path).unwrap_or_default();
            assert!(
                on_disk == bytes,
                "{} is not current: RDMUS_WRITE_SEEDS=1 cargo test rewrites it",
                path.display()
            );
        }
    }

    #[test]
    fn every_seed_runs_clean() {
        let _lock = session::driver_lock();
        for (name, setup, ops) in scenarios() {
            let leftovers = session::run(&setup, ops);
            assert!(leftovers.is_clean(), "{name}: {leftovers:#?}");
        }
    }
}
