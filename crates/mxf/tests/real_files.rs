//! Every Standard MIDI File of the shared test data, turned into the IRPs an
//! application sends (built with the wire writers), goes through
//! unpack → sequencer → pop and comes out as the file's own messages, in
//! order, at their times (exact for `DMUS_EVENTHEADER`, on the millisecond
//! grid for `KSMUSICFORMAT`), with the pool whole at the end. Reports itself
//! skipped (`test_data`) when the shared data is absent.
#![allow(missing_docs)] // Test crate.

mod common;

use common::pool;
use dmus_sys::ks::KSSTATE_RUN;
use midly::{MetaMessage, Smf, Timing, TrackEventKind};
use mxf::sequencer::Sequencer;
use mxf::unpack::{DmusUnpacker, IrpHeader, KsMusicUnpacker, Limits};
use mxf::wire::{dmus, ksmusic};

const IRP_SIZE: usize = 512;

/// The file's messages as (time in 100 ns, bytes), all tracks merged in
/// (tick, track, index) order.
fn messages(smf: &Smf<'_>) -> Vec<(i64, Vec<u8>)> {
    let mut all = Vec::new();
    for (track_index, track) in smf.tracks.iter().enumerate() {
        let mut tick = 0u64;
        for (i, event) in track.iter().enumerate() {
            tick += u64::from(event.delta.as_int());
            all.push((tick, track_index, i, event.kind));
        }
    }
    all.sort_by_key(|&(tick, track, i, _)| (tick, track, i));
    let ticks_per_beat = match smf.header.timing {
        Timing::Metrical(tpb) => i128::from(tpb.as_int().max(1)),
        Timing::Timecode(fps, sub) => -i128::from(fps.as_int()) * i128::from(sub),
    };
    let (mut tempo_us, mut last_tick, mut time) = (500_000i128, 0u64, 0i128);
    let mut out = Vec::new();
    for (tick, _, _, kind) in all {
        let ticks = i128::from(tick - last_tick);
        time += if ticks_per_beat > 0 {
            ticks * tempo_us * 10 / ticks_per_beat
        } else {
            ticks * 10_000_000 / -ticks_per_beat
        };
        last_tick = tick;
        if let TrackEventKind::Meta(MetaMessage::Tempo(t)) = kind {
            tempo_us = i128::from(t.as_int());
        }
        // Only what a live MIDI port carries: channel messages and complete sysex.
        match kind {
            TrackEventKind::Midi { .. } => {}
            TrackEventKind::SysEx(data) if data.last() == Some(&0xF7) => {}
            _ => continue,
        }
        if let Some(live) = kind.as_live_event() {
            let mut bytes = Vec::new();
            live.write(&mut bytes).unwrap();
            out.push((i64::try_from(time).unwrap(), bytes));
        }
    }
    out
}

fn ksmusic_irps(messages: &[(i64, Vec<u8>)]) -> Vec<(IrpHeader, Vec<u8>)> {
    let mut irps = Vec::new();
    let mut rest = messages;
    while let Some(((start, _), _)) = rest.split_first() {
        let mut buf = vec![0u8; IRP_SIZE];
        let mut writer = ksmusic::Writer::new(&mut buf);
        let (mut last_ms, mut taken) = (0, 0);
        for (time, bytes) in rest {
            let ms = (time - start) / 10_000;
            if writer
                .push(&ksmusic::RecordRepr {
                    delta_ms: u32::try_from(ms - last_ms).unwrap(),
                    data: bytes,
                })
                .is_err()
            {
                break;
            }
            last_ms = ms;
            taken += 1;
        }
        assert!(taken > 0, "a message larger than an IRP");
        let used = writer.len();
        buf.truncate(used);
        irps.push((IrpHeader::for_buffer(*start, used), buf));
        rest = &rest[taken..];
    }
    irps
}

fn dmus_irps(messages: &[(i64, Vec<u8>)]) -> Vec<(IrpHeader, Vec<u8>)> {
    let mut irps = Vec::new();
    let mut rest = messages;
    while let Some(((start, _), _)) = rest.split_first() {
        let mut buf = vec![0u8; IRP_SIZE];
        let mut writer = dmus::Writer::new(&mut buf);
        let mut taken = 0;
        for (time, bytes) in rest {
            let flags = u32::from(bytes[0] != 0xF0);
            let record = dmus::RecordRepr {
                rt_delta: time - start,
                channel_group: 1,
                flags,
                data: bytes,
            };
            if writer.push(&record).is_err() {
                break;
            }
            taken += 1;
        }
        assert!(taken > 0, "a message larger than an IRP");
        let used = writer.len();
        buf.truncate(used);
        irps.push((IrpHeader::for_buffer(*start, used), buf));
        rest = &rest[taken..];
    }
    irps
}

/// Plays the IRPs through unpack → sequencer → pop (popping at each IRP's
/// time, then everything) and returns the events as (time, bytes), sysex
/// pieces joined.
fn play(irps: &[(IrpHeader, Vec<u8>)], dmus: bool) -> Vec<(i64, Vec<u8>)> {
    let mut p = pool(4096, 512, 32);
    let mut ks = KsMusicUnpacker::new(1, Limits::DEFAULT);
    let mut dm = DmusUnpacker::new(Limits::DEFAULT);
    let mut seq = Sequencer::new();
    seq.set_state(KSSTATE_RUN, 0, &mut p);
    let mut out: Vec<(i64, Vec<u8>)> = Vec::new();
    let mut joining = false;
    let mut take = |chain: mxf::Chain, p: &mut common::Pool| {
        for e in &chain {
            if joining {
                out.last_mut().unwrap().1.extend_from_slice(e.data());
            } else {
                out.push((e.time(), e.data().to_vec()));
            }
            joining = e.is_incomplete();
        }
        chain.free(p);
    };
    for (header, buffer) in irps {
        let unpacked = if dmus {
            dm.unpack(header, buffer, &mut p)
        } else {
            ks.unpack(header, buffer, &mut p)
        };
        assert_eq!(unpacked.error, None);
        seq.put(unpacked.chain, &mut p);
        take(seq.pop_due(header.presentation_time), &mut p);
    }
    take(seq.pop_due(i64::MAX), &mut p);
    p.check().unwrap();
    out
}

#[test]
fn shared_midi_files_play_back_in_order() {
    let Some(dir) = test_data::find("midi/jazz-soft") else {
        return;
    };
    let entries = std::fs::read_dir(&dir).unwrap();
    let mut files = 0;
    let mut total = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) != Some("mid") {
            continue;
        }
        let bytes = std::fs::read(&path).unwrap();
        // Corrupt and non-MIDI files are the SMF reader's business, not ours.
        let Ok(smf) = Smf::parse(&bytes) else {
            continue;
        };
        let expected = messages(&smf);
        if expected.is_empty() {
            continue;
        }
        let exact = play(&dmus_irps(&expected), true);
        assert_eq!(exact, expected, "{} (DMUS_EVENTHEADER)", path.display());
        let on_grid = play(&ksmusic_irps(&expected), false);
        assert_eq!(on_grid.len(), expected.len(), "{}", path.display());
        // KSMUSICFORMAT: times on the millisecond grid from each IRP's start.
        for ((t, b), (te, be)) in on_grid.iter().zip(&expected) {
            assert_eq!(b, be, "{}", path.display());
            assert!(
                *t <= *te && te - t < 10_000,
                "{}: {t} vs {te}",
                path.display()
            );
        }
        files += 1;
        total += expected.len();
    }
    println!("{files} files, {total} messages played back in order");
    assert!(files > 40);
}
