//! Recording: a byte stream with times arrives at the emulated MPU-401's
//! MIDI input while an application reads the driver's capture pin, as
//! `midiInStart` or a DirectMusic capture port would, every few
//! milliseconds.

use dmus_sys::ks::{KSSTATE_RUN, KSSTATE_STOP};
use mxf::wire::{dmus, ksmusic};
use wdm_sim::ms;
use wdm_sim::portcls::PinFormat as SimPinFormat;

use super::rig::{Rig, RigReport, SimConfig, SimError};
use crate::wire_log::{BYTE_TIME_100NS, WireByte};

/// The capture pin's buffer format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CaptureFormat {
    /// `KSMUSICFORMAT`: millisecond deltas.
    Legacy,
    /// `DMUS_EVENTHEADER`: 100 ns deltas, sysex unstructured.
    DirectMusic,
}

/// One record read back from the capture pin.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedRecord {
    /// When its first byte started on the input wire, by the driver's
    /// stamp, 100 ns, in the input log's time frame (the stamp is taken when
    /// the byte has been received, one byte time after its start).
    pub time: i64,
    /// Its bytes.
    pub bytes: Vec<u8>,
    /// `DMUS_EVENT_STRUCTURED` (a whole channel message); always true for
    /// `KSMUSICFORMAT`, which has no such flag.
    pub structured: bool,
}

/// The outcome of a recording.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureRun {
    /// The records read, in order.
    pub records: Vec<CapturedRecord>,
    /// Capture buffers that held something.
    pub reads: usize,
    /// The machine's report.
    pub rig: RigReport,
    /// Capture buffers whose records could not be read back (never expected:
    /// the port packs them).
    pub unreadable: usize,
    /// Times the application stopped the clock to read: bounded by the
    /// input's bytes and busy time, not by the gaps between them.
    pub clock_stops: u64,
}

/// How often the application reads, and how much: every 10 ms, 4 KiB.
const READ_EVERY: u64 = 100_000;
const READ_SIZE: usize = 4_096;

/// Plays `input` (byte start times in 100 ns, any origin) into the card's
/// input and reads the capture pin in `format` until everything has had
/// time to arrive.
///
/// # Errors
/// [`SimError`] when the driver cannot be started or the pin opened or run.
pub fn capture(
    input: &[WireByte],
    format: CaptureFormat,
    sim: &SimConfig,
) -> Result<CaptureRun, SimError> {
    let rig = Rig::start(sim)?;
    let (factory, pin_format) = match format {
        CaptureFormat::Legacy => (rdmus_driver::UART_PIN_CAPTURE, SimPinFormat::Midi),
        CaptureFormat::DirectMusic => (rdmus_driver::UART_PIN_CAPTURE, SimPinFormat::DirectMusic),
    };
    let pin = rig.open_pin(factory, pin_format)?;
    let state = |state| {
        pin.set_state(state)
            .map_err(|error| SimError::State(format!("{error:?}")))
    };
    state(KSSTATE_RUN)?;
    // The log's time 0 lands 1 ms after RUN (or later, for a log that
    // starts before its 0).
    let earliest = input.iter().map(|b| b.time).min().unwrap_or(0);
    let origin = i64::try_from(rig.now() + ms(1)).unwrap_or(i64::MAX) - earliest.min(0);
    for byte in input {
        // The card has a byte once its stop bit is in: one byte time after its start.
        let received = origin + byte.time + BYTE_TIME_100NS;
        rig.machine()
            .inject_midi_input(u64::try_from(received).unwrap_or(0), &[byte.byte]);
    }
    let last = input.iter().map(|b| b.time).max().unwrap_or(0);
    let end = u64::try_from(origin + last + BYTE_TIME_100NS).unwrap_or(0) + ms(50);
    let mut run = CaptureRun {
        records: Vec::new(),
        reads: 0,
        rig: RigReport::default(),
        unreadable: 0,
        clock_stops: 0,
    };
    loop {
        let now = rig.now();
        let read = pin
            .read(READ_SIZE)
            .map_err(|error| SimError::State(format!("capture read refused: {error:?}")))?;
        if let Some(start) = read.presentation_time {
            run.reads += 1;
            let before = run.records.len();
            let ok = match format {
                CaptureFormat::Legacy => read_ksmusic(&read.data, start, &mut run.records),
                CaptureFormat::DirectMusic => read_dmus(&read.data, start, &mut run.records),
            };
            if !ok || run.records.len() - before != read.records {
                run.unreadable += 1;
            }
            continue;
        }
        if now >= end {
            break;
        }
        let next_read = now + READ_EVERY;
        rig.machine()
            .run_until(skip_idle_reads(rig.machine(), next_read).min(end));
        run.clock_stops += 1;
    }
    state(KSSTATE_STOP)?;
    pin.close();
    run.rig = rig.finish();
    // Into the log's time frame: master time − origin − one byte time.
    for record in &mut run.records {
        record.time -= origin + BYTE_TIME_100NS;
    }
    Ok(run)
}

/// When the application reads next, its read due at `next_read` (master
/// time) having just come back empty: when the machine has nothing due
/// before then, the last read of its `READ_EVERY` grid before the machine's
/// next event (the next input byte, a timer). Every read skipped would have
/// come back empty too (nothing happens in an idle machine), and the grid is
/// kept, so the records and their stamps are those of reading throughout.
fn skip_idle_reads(machine: &wdm_sim::Machine, next_read: u64) -> u64 {
    match machine.next_due() {
        Some(due) if due > next_read => next_read + (due - next_read) / READ_EVERY * READ_EVERY,
        Some(_) => next_read,
        None => u64::MAX,
    }
}

/// Appends the records of a `KSMUSICFORMAT` buffer whose first record is
/// at master time `start`; false if a record could not be read.
fn read_ksmusic(data: &[u8], start: i64, out: &mut Vec<CapturedRecord>) -> bool {
    let mut time = start;
    for record in ksmusic::Reader::new(data) {
        let Ok((_, record)) = record else {
            return false;
        };
        time += i64::from(record.delta_ms) * 10_000;
        out.push(CapturedRecord {
            time,
            bytes: record.data.to_vec(),
            structured: true,
        });
    }
    true
}

/// Appends the records of a `DMUS_EVENTHEADER` buffer starting at master
/// time `start`; false if a record could not be read.
fn read_dmus(data: &[u8], start: i64, out: &mut Vec<CapturedRecord>) -> bool {
    for record in dmus::Reader::new(data) {
        let Ok((_, record)) = record else {
            return false;
        };
        out.push(CapturedRecord {
            time: start.saturating_add(record.rt_delta),
            bytes: record.data.to_vec(),
            structured: record.flags & dmus::DMUS_EVENT_STRUCTURED != 0,
        });
    }
    true
}

/// One MIDI message assembled from capture records.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CapturedMessage {
    /// The time of its first record, 100 ns.
    pub time: i64,
    /// Its bytes (a sysex message joined from its pieces).
    pub bytes: Vec<u8>,
}

/// Joins the pieces of system-exclusive messages: a record starting with
/// `F0` opens one, and records that start with a data byte or `F7` continue
/// it until an `F7`; real-time records inside it stay separate messages, in
/// the order they were read. Everything else is one message per record.
#[must_use]
pub fn join_sysex(records: &[CapturedRecord]) -> Vec<CapturedMessage> {
    let mut out: Vec<CapturedMessage> = Vec::new();
    // Index in `out` of the sysex message being assembled.
    let mut open: Option<usize> = None;
    for record in records {
        let first = record.bytes.first().copied().unwrap_or(0);
        let continues = first < 0x80 || first == 0xF7;
        match open {
            Some(index) if continues => {
                if let Some(message) = out.get_mut(index) {
                    message.bytes.extend_from_slice(&record.bytes);
                }
            }
            Some(_) if first >= 0xF8 && record.bytes.len() == 1 => {
                out.push(CapturedMessage {
                    time: record.time,
                    bytes: record.bytes.clone(),
                });
                continue;
            }
            _ => {
                open = (first == 0xF0).then_some(out.len());
                out.push(CapturedMessage {
                    time: record.time,
                    bytes: record.bytes.clone(),
                });
            }
        }
        if record.bytes.last() == Some(&0xF7) {
            open = None;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(time: i64, bytes: &[u8]) -> CapturedRecord {
        CapturedRecord {
            time,
            bytes: bytes.to_vec(),
            structured: false,
        }
    }

    #[test]
    fn sysex_pieces_join_around_realtime_bytes() {
        let records = [
            record(0, &[0x90, 0x3C, 0x40]),
            record(10, &[0xF0, 0x7E, 0x7F]),
            record(20, &[0xF8]),
            record(30, &[0x09, 0x01]),
            record(40, &[0xF7]),
            record(50, &[0x80, 0x3C, 0x00]),
        ];
        let joined: Vec<(i64, Vec<u8>)> = join_sysex(&records)
            .into_iter()
            .map(|m| (m.time, m.bytes))
            .collect();
        assert_eq!(
            joined,
            [
                (0, vec![0x90, 0x3C, 0x40]),
                (10, vec![0xF0, 0x7E, 0x7F, 0x09, 0x01, 0xF7]),
                (20, vec![0xF8]),
                (50, vec![0x80, 0x3C, 0x00]),
            ]
        );
    }

    #[test]
    fn a_whole_sysex_record_closes_itself() {
        let records = [record(0, &[0xF0, 0x01, 0xF7]), record(5, &[0x01])];
        let joined = join_sysex(&records);
        assert_eq!(joined.len(), 2, "{joined:?}");
        assert_eq!(joined[1].bytes, [0x01]);
    }
}
