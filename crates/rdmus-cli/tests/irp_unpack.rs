//! The IRPs `rdmus` builds, unpacked by the driver's own unpackers
//! (`mxf::unpack`, the code the port model and the driver run): every
//! message of real files arrives whole, in order, at the time the pin
//! format allows (exact for DirectMusic, the rounded millisecond grid for
//! KSMUSICFORMAT).

use std::path::Path;

use mxf::raw::{CountingPool, FixedPool};
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits};
use rdmus_cli::irp::{StreamPacket, build_dmus, build_ksmusic, round_to_ms};
use smf::Timeline;
use smf::read_smf;

type Pool = CountingPool<FixedPool, 4096>;

fn timeline(name: &str) -> Timeline {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../smf/tests/data/jazz-soft")
        .join(name);
    read_smf(&std::fs::read(path).unwrap()).unwrap()
}

/// (time, bytes) of every event the unpacker builds from `packets`, with
/// incomplete (sysex) pieces joined to the message they continue.
fn unpack(packets: &[StreamPacket], legacy: bool) -> Vec<(i64, Vec<u8>)> {
    let mut pool: Pool = CountingPool::new(FixedPool::leaked(4096, 512, 64).unwrap());
    let mut ks = KsMusicUnpacker::new(1, Limits::DEFAULT);
    let mut dm = DmusUnpacker::new(Limits::DEFAULT);
    let mut events: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut open = false;
    for packet in packets {
        let header = IrpHeader::for_buffer(packet.presentation_time, packet.data.len());
        let unpacked = if legacy {
            ks.unpack(&header, &packet.data, &mut pool)
        } else {
            dm.unpack(&header, &packet.data, &mut pool)
        };
        assert_eq!(unpacked.error, None);
        assert_eq!(unpacked.records, packet.records);
        for event in &unpacked.chain {
            let data = event.data().to_vec();
            match events.last_mut() {
                Some((_, bytes)) if open => bytes.extend(&data),
                _ => events.push((event.time(), data)),
            }
            open = events
                .last()
                .is_some_and(|(_, b)| b.first() == Some(&0xF0) && b.last() != Some(&0xF7));
        }
        unpacked.chain.free(&mut pool);
    }
    pool.check().unwrap();
    events
}

#[test]
fn real_files_survive_the_drivers_unpackers() {
    let files = [
        "test-c-major-scale.mid",
        "test-karaoke-kar.mid",
        "test-running-status-sysex.mid",
        "test-sysex-7e-09-01-gm1-enable.mid",
        "test-2-tracks-type-2.mid",
        "test-vlq-4-byte.mid",
    ];
    for name in files {
        let t = timeline(name);
        let exact: Vec<(i64, Vec<u8>)> = t
            .messages
            .iter()
            .map(|m| (m.time.cast_signed(), m.bytes.clone()))
            .collect();
        let on_ms_grid: Vec<(i64, Vec<u8>)> = t
            .messages
            .iter()
            .map(|m| (round_to_ms(m.time).cast_signed() * 10_000, m.bytes.clone()))
            .collect();
        for size in [24, 64, 4096] {
            let dmus = build_dmus(&t, size, 1).unwrap();
            assert_eq!(
                unpack(&dmus, false),
                exact,
                "{name}, DMUS_EVENTHEADER, {size}-byte IRPs"
            );
            let ksmusic = build_ksmusic(&t, size).unwrap();
            assert_eq!(
                unpack(&ksmusic, true),
                on_ms_grid,
                "{name}, KSMUSICFORMAT, {size}-byte IRPs"
            );
        }
    }
}
