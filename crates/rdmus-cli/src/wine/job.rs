//! The stand-in's job file (crates/portcls-standin/src/job.rs has the format) written from a
//! timeline or a wire log, line by line through the caller's writer: the host holds nothing
//! of the job itself, so its memory does not grow with the file's length beyond the
//! timeline the simulation holds too.

use std::io::{self, Write};

use smf::Timeline;

use crate::cli::{CardFault, PinFormat};
use crate::irp::round_to_ms;
use crate::wire_log::WireByte;

/// What the job asks of the stand-in besides the events.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JobDevice {
    /// The MPU-401 with its card: working, `absent` (no card answers; `StartDevice` must
    /// fail) or broken (`fault never-acks`, `fault never-drains`: wdm-sim's faults).
    Mpu401 {
        /// How the card is broken ([`CardFault::None`]: working).
        card: CardFault,
    },
    /// The synth with its bank (a file name in the job's directory) and its parameters.
    Synth {
        /// The bank's file name beside the job (`C:\rdmus\NAME`).
        bank: String,
        /// Sample rate asked for, Hz.
        rate: u32,
        /// Voices asked for (`None`: the synth's default).
        voices: Option<u32>,
        /// `SYNTH_EFFECT_*` flags asked for.
        effects: u32,
        /// Frames of audio wanted (the simulation's WAV length).
        frames: u64,
    },
}

/// How long the MPU-401's pin keeps running after the ideal wire's end, ms: the driver
/// settles. The synth's length is given in frames instead.
pub const MPU401_TAIL_MS: u32 = 300;

/// The MPU-401 job's `tail_ms`: from the last event's presented time to the end of the ideal
/// wire (a burst or a long sysex plays on after its time), plus [`MPU401_TAIL_MS`].
#[must_use]
pub fn mpu401_tail_ms(timeline: &Timeline, format: PinFormat) -> u32 {
    let mut free_at = 0_u64;
    let mut last = 0_u64;
    for message in &timeline.messages {
        let due = presented(message.time, format);
        let bytes = u64::try_from(message.bytes.len()).unwrap_or(u64::MAX);
        free_at = due
            .max(free_at)
            .saturating_add(bytes.saturating_mul(mpu401::WIRE_BYTE_100NS.unsigned_abs()));
        last = due;
    }
    let drain_ms = free_at.saturating_sub(last).div_ceil(10_000);
    u32::try_from(drain_ms)
        .unwrap_or(u32::MAX)
        .saturating_add(MPU401_TAIL_MS)
}

/// The time the render pin presents `time` (100 ns from tick 0) at: a KSMUSICFORMAT record
/// carries whole milliseconds (the simulation's packer rounds the same way,
/// [`round_to_ms`]); a DirectMusic one carries 100 ns.
#[must_use]
pub fn presented(time: u64, format: PinFormat) -> u64 {
    match format {
        PinFormat::Ksmusic => round_to_ms(time) * 10_000,
        PinFormat::Dmus => time,
    }
}

/// Writes the job that plays `timeline` on `device` through the pin of `format`.
///
/// # Errors
/// Any error of `out`.
pub fn write_play_job(
    out: &mut dyn Write,
    timeline: &Timeline,
    device: &JobDevice,
    format: PinFormat,
) -> io::Result<()> {
    writeln!(out, "# rdmus play --runtime wine")?;
    match device {
        JobDevice::Mpu401 { card } => {
            writeln!(out, "device mpu401")?;
            match card {
                CardFault::None => {}
                CardFault::Absent => writeln!(out, "absent")?,
                CardFault::NeverAcks => writeln!(out, "fault never-acks")?,
                CardFault::NeverDrains => writeln!(out, "fault never-drains")?,
            }
            writeln!(out, "tail_ms {}", mpu401_tail_ms(timeline, format))?;
        }
        JobDevice::Synth {
            bank,
            rate,
            voices,
            effects,
            frames,
        } => {
            writeln!(out, "device synth")?;
            writeln!(out, "dls {bank}")?;
            writeln!(out, "rate {rate}")?;
            if let Some(voices) = voices {
                writeln!(out, "voices {voices}")?;
            }
            writeln!(out, "effects {effects:#x}")?;
            writeln!(out, "frames {frames}")?;
            writeln!(out, "tail_ms 0")?;
        }
    }
    let pin = match format {
        PinFormat::Ksmusic => "midi",
        PinFormat::Dmus => "dmus",
    };
    writeln!(out, "format {pin}")?;
    for message in &timeline.messages {
        if message.bytes.is_empty() {
            continue;
        }
        write!(out, "event {}", presented(message.time, format))?;
        write_hex(out, &message.bytes)?;
        writeln!(out)?;
    }
    Ok(())
}

/// Writes the job that feeds `input` (a wire log: each byte's start) to the card and reads
/// the capture pin.
///
/// # Errors
/// Any error of `out`.
pub fn write_capture_job(out: &mut dyn Write, input: &[WireByte]) -> io::Result<()> {
    writeln!(out, "# rdmus record --runtime wine")?;
    writeln!(out, "device mpu401")?;
    writeln!(out, "tail_ms 100")?;
    // The card receives every byte at its time: in time order, as `rdmus record` sorts them.
    let mut sorted: Vec<&WireByte> = input.iter().collect();
    sorted.sort_by_key(|byte| byte.time);
    for byte in sorted {
        writeln!(out, "input {} {:02x}", byte.time.max(0), byte.byte)?;
    }
    Ok(())
}

fn write_hex(out: &mut dyn Write, bytes: &[u8]) -> io::Result<()> {
    for byte in bytes {
        write!(out, " {byte:02x}")?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use smf::{MessageKind, SmfFormat, TimedMessage, Timeline};

    use super::{JobDevice, write_capture_job, write_play_job};
    use crate::cli::{CardFault, PinFormat};
    use crate::wire_log::WireByte;

    fn timeline() -> Timeline {
        let mut timeline = Timeline::empty(SmfFormat::SingleTrack);
        for (time, bytes) in [(0, vec![0xC0, 5]), (14_999, vec![0x90, 0x3C, 0x64])] {
            timeline.messages.push(TimedMessage {
                time,
                track: 0,
                kind: MessageKind::Channel,
                bytes,
            });
        }
        timeline.end_time = 20_000;
        timeline
    }

    fn text(device: &JobDevice, format: PinFormat) -> String {
        let mut out = Vec::new();
        write_play_job(&mut out, &timeline(), device, format).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn a_ksmusic_job_presents_whole_milliseconds() {
        assert_eq!(
            text(
                &JobDevice::Mpu401 {
                    card: CardFault::None
                },
                PinFormat::Ksmusic
            ),
            "# rdmus play --runtime wine\ndevice mpu401\ntail_ms 301\nformat midi\n\
             event 0 c0 05\nevent 10000 90 3c 64\n"
        );
    }

    #[test]
    fn a_dmus_synth_job_keeps_100_ns_and_names_its_parameters() {
        let synth = JobDevice::Synth {
            bank: "bank.dls".into(),
            rate: 44_100,
            voices: Some(32),
            effects: 1,
            frames: 1234,
        };
        assert_eq!(
            text(&synth, PinFormat::Dmus),
            "# rdmus play --runtime wine\ndevice synth\ndls bank.dls\nrate 44100\nvoices 32\n\
             effects 0x1\nframes 1234\ntail_ms 0\nformat dmus\nevent 0 c0 05\nevent 14999 90 3c 64\n"
        );
        for (card, line) in [
            (CardFault::Absent, "\nabsent\n"),
            (CardFault::NeverAcks, "\nfault never-acks\n"),
            (CardFault::NeverDrains, "\nfault never-drains\n"),
        ] {
            assert!(
                text(&JobDevice::Mpu401 { card }, PinFormat::Dmus).contains(line),
                "{card:?}"
            );
        }
    }

    #[test]
    fn the_tail_covers_a_long_sysex_on_the_wire() {
        let mut timeline = timeline();
        // 1,000 bytes at 10 ms: 320 ms of wire after their time.
        timeline.messages.push(TimedMessage {
            time: 100_000,
            track: 0,
            kind: MessageKind::SysEx,
            bytes: vec![0x7F; 1_000],
        });
        assert_eq!(super::mpu401_tail_ms(&timeline, PinFormat::Dmus), 320 + 300);
    }

    #[test]
    fn a_capture_job_lists_the_input_in_time_order() {
        let input = [
            WireByte {
                time: 6400,
                byte: 0x7F,
            },
            WireByte {
                time: 0,
                byte: 0x90,
            },
        ];
        let mut out = Vec::new();
        write_capture_job(&mut out, &input).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "# rdmus record --runtime wine\ndevice mpu401\ntail_ms 100\ninput 0 90\ninput 6400 7f\n"
        );
    }
}
