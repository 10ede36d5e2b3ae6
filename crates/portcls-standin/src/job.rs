//! The job file: what the stand-in plays through rdmus.sys once the driver is loaded.
//!
//! Path: `C:\rdmus\job.txt` in the Wine prefix (`\??\C:\rdmus\job.txt` to the kernel). Text,
//! one directive a line; blank lines and lines starting with `#` are skipped; numbers are
//! decimal or `0x` hex; bytes are two hex digits each, separated by spaces.
//!
//! | directive | meaning |
//! |---|---|
//! | `device mpu401` | the MPU-401 UART subdevice (default) |
//! | `device synth` | the DLS synth subdevice (no resources); events go to its DirectMusic pin, audio comes from its wave-out pin |
//! | `dls NAME` | synth: the DLS bank, a file `C:\rdmus\NAME` (downloaded wave by wave, then instrument by instrument, as DirectMusic does) |
//! | `rate HZ` | synth: the sample rate asked for with `KSPROPERTY_SYNTH_PORTPARAMETERS` (default 48000) |
//! | `format midi` / `format dmus` | the render pin: the legacy `KSDATAFORMAT_SUBTYPE_MIDI` pin (default) or the `KSDATAFORMAT_SUBTYPE_DIRECTMUSIC` pin |
//! | `port BASE` | the card's I/O base (default `0x330`); two ports |
//! | `irq N` | the card's interrupt (default 5); `irq none` gives no interrupt resource |
//! | `absent` | no card answers at the port (StartDevice must fail and unload cleanly) |
//! | `fault never-acks` / `fault never-drains` | the card is broken as wdm-sim's card can be ([`CardFault`]); a StartDevice that fails on it is an outcome, logged, not a failed job |
//! | `event TIME BYTES` | one MIDI message to render at `TIME` (100 ns ticks from the render pin's presentation time 0) |
//! | `input TIME BYTES` | bytes the card receives at `TIME` (capture) |
//! | `tail_ms N` | how long the pin keeps running after the last event's time (default 500) |
//!
//! Events must come in time order (the stream gets them in the order given).

use alloc::string::String;
use alloc::vec::Vec;

pub use crate::card::CardFault;

/// The subdevice a job drives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Device {
    /// The MPU-401 UART.
    Mpu401,
    /// The DLS synth.
    Synth,
}

/// The render pin's format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderFormat {
    /// `KSDATAFORMAT_SUBTYPE_MIDI` (the legacy pin).
    Midi,
    /// `KSDATAFORMAT_SUBTYPE_DIRECTMUSIC`.
    DirectMusic,
}

/// One MIDI message to render.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Event {
    /// 100 ns ticks from presentation time 0.
    pub time: i64,
    /// The message's bytes.
    pub bytes: Vec<u8>,
}

/// A parsed job.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Job {
    /// The subdevice.
    pub device: Device,
    /// The render pin's format.
    pub format: RenderFormat,
    /// The card's I/O base.
    pub port: u16,
    /// The card's interrupt, if it has one.
    pub irq: Option<u32>,
    /// Whether a card answers at the port.
    pub card_present: bool,
    /// How the card is broken, if it is.
    pub fault: Option<CardFault>,
    /// Messages to render, in time order.
    pub events: Vec<Event>,
    /// Bytes the card receives, with their times (100 ns), in time order.
    pub input: Vec<(i64, u8)>,
    /// Milliseconds the pin keeps running after the last event.
    pub tail_ms: u32,
    /// Synth: the DLS bank's file name in `C:\rdmus`.
    pub dls: Option<String>,
    /// Synth: the sample rate asked for, Hz.
    pub rate: u32,
    /// Synth: the voices asked for (`None`: not asked).
    pub voices: Option<u32>,
    /// Synth: the `SYNTH_EFFECT_*` flags asked for (`None`: not asked).
    pub effects: Option<u32>,
    /// Synth: the WAV's length in frames (`None`: the events' end plus the tail).
    pub frames: Option<u64>,
}

impl Default for Job {
    fn default() -> Self {
        Self {
            device: Device::Mpu401,
            format: RenderFormat::Midi,
            port: 0x330,
            irq: Some(5),
            card_present: true,
            fault: None,
            events: Vec::new(),
            input: Vec::new(),
            tail_ms: 500,
            dls: None,
            rate: 48_000,
            voices: None,
            effects: None,
            frames: None,
        }
    }
}

impl Job {
    /// Bytes the render events put on the wire.
    #[must_use]
    pub fn wire_bytes(&self) -> usize {
        self.events.iter().map(|event| event.bytes.len()).sum()
    }

    /// The time of the last event or input byte (0 for none).
    #[must_use]
    pub fn last_time(&self) -> i64 {
        let events = self.events.last().map_or(0, |event| event.time);
        let input = self.input.last().map_or(0, |&(time, _)| time);
        events.max(input)
    }
}

/// Why a job file was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct JobError {
    /// 1-based line number.
    pub line: usize,
    /// What is wrong.
    pub reason: &'static str,
}

impl core::fmt::Display for JobError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "job line {}: {}", self.line, self.reason)
    }
}

/// Parses a job file.
///
/// # Errors
/// [`JobError`] for the first line that is not a directive above.
pub fn parse(text: &[u8]) -> Result<Job, JobError> {
    let text = core::str::from_utf8(text).map_err(|_| JobError {
        line: 0,
        reason: "not UTF-8",
    })?;
    let mut job = Job::default();
    for (index, line) in text.lines().enumerate() {
        let fail = |reason| JobError {
            line: index + 1,
            reason,
        };
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_ascii_whitespace();
        let directive = words.next().unwrap_or_default();
        match directive {
            "device" => match words.next() {
                Some("mpu401") => job.device = Device::Mpu401,
                Some("synth") => job.device = Device::Synth,
                _ => return Err(fail("unknown device (mpu401, synth)")),
            },
            "format" => match words.next() {
                Some("midi") => job.format = RenderFormat::Midi,
                Some("dmus") => job.format = RenderFormat::DirectMusic,
                _ => return Err(fail("unknown format (midi, dmus)")),
            },
            "port" => {
                let base = number(words.next()).ok_or(fail("port needs a number"))?;
                job.port = u16::try_from(base)
                    .ok()
                    .filter(|&base| base < u16::MAX)
                    .ok_or(fail("port out of range"))?;
            }
            "irq" => match words.next() {
                Some("none") => job.irq = None,
                word => {
                    let irq = number(word).ok_or(fail("irq needs a number or none"))?;
                    job.irq = Some(u32::try_from(irq).map_err(|_| fail("irq out of range"))?);
                }
            },
            "absent" => job.card_present = false,
            "fault" => {
                job.fault = Some(match words.next() {
                    Some("never-acks") => CardFault::NeverAcks,
                    Some("never-drains") => CardFault::NeverDrains,
                    _ => return Err(fail("unknown fault (never-acks, never-drains)")),
                });
            }
            "dls" | "rate" | "voices" | "effects" | "frames" => {
                synth_option(&mut job, directive, words.next()).map_err(fail)?;
            }
            "tail_ms" => {
                let ms = number(words.next()).ok_or(fail("tail_ms needs a number"))?;
                job.tail_ms = u32::try_from(ms).map_err(|_| fail("tail_ms out of range"))?;
            }
            "event" | "input" => {
                let time = number(words.next()).ok_or(fail("needs a time"))?;
                let time = i64::try_from(time).map_err(|_| fail("time out of range"))?;
                let mut bytes = Vec::new();
                for word in words.by_ref() {
                    let byte = u8::from_str_radix(word, 16)
                        .ok()
                        .filter(|_| word.len() == 2)
                        .ok_or(fail("bytes are two hex digits each"))?;
                    bytes.push(byte);
                }
                if bytes.is_empty() {
                    return Err(fail("no bytes"));
                }
                if directive == "event" {
                    if job.events.last().is_some_and(|last| last.time > time) {
                        return Err(fail("events out of time order"));
                    }
                    job.events.push(Event { time, bytes });
                } else {
                    if job.input.last().is_some_and(|&(last, _)| last > time) {
                        return Err(fail("input out of time order"));
                    }
                    job.input.extend(bytes.into_iter().map(|byte| (time, byte)));
                }
            }
            _ => return Err(fail("unknown directive")),
        }
        if words.next().is_some() {
            return Err(fail("extra words"));
        }
    }
    Ok(job)
}

/// A synth directive's one word into `job`.
fn synth_option(job: &mut Job, directive: &str, word: Option<&str>) -> Result<(), &'static str> {
    match directive {
        "dls" => {
            let name = word.ok_or("dls needs a file name")?;
            if name.contains(['\\', '/', ':']) {
                return Err("dls names a file in C:\\rdmus");
            }
            job.dls = Some(String::from(name));
        }
        "rate" => {
            let rate = number(word).ok_or("rate needs a number")?;
            job.rate = u32::try_from(rate)
                .ok()
                .filter(|rate| (8_000..=192_000).contains(rate))
                .ok_or("rate out of range")?;
        }
        "voices" => {
            let voices = number(word).ok_or("voices needs a number")?;
            job.voices = Some(
                u32::try_from(voices)
                    .ok()
                    .filter(|&voices| voices > 0)
                    .ok_or("voices out of range")?,
            );
        }
        "effects" => {
            let flags = number(word).ok_or("effects needs a number")?;
            job.effects = Some(u32::try_from(flags).map_err(|_| "effects out of range")?);
        }
        _ => job.frames = Some(number(word).ok_or("frames needs a number")?),
    }
    Ok(())
}

fn number(word: Option<&str>) -> Option<u64> {
    let word = word?;
    match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;

    use super::{Device, Event, Job, JobError, RenderFormat, parse};

    #[test]
    fn a_render_job_parses() {
        let job = parse(
            b"# a note\n\ndevice mpu401\nformat dmus\nport 0x300\nirq none\nevent 0 90 3c 64\nevent 5000000 80 3c 00\ntail_ms 250\n",
        )
        .expect("valid");
        assert_eq!(
            job,
            Job {
                device: Device::Mpu401,
                format: RenderFormat::DirectMusic,
                port: 0x300,
                irq: None,
                card_present: true,
                fault: None,
                events: vec![
                    Event {
                        time: 0,
                        bytes: vec![0x90, 0x3C, 0x64]
                    },
                    Event {
                        time: 5_000_000,
                        bytes: vec![0x80, 0x3C, 0x00]
                    },
                ],
                input: vec![],
                tail_ms: 250,
                dls: None,
                rate: 48_000,
                voices: None,
                effects: None,
                frames: None,
            }
        );
        assert_eq!(job.wire_bytes(), 6);
        assert_eq!(job.last_time(), 5_000_000);
    }

    #[test]
    fn a_synth_job_parses() {
        let job = parse(
            b"device synth\ndls gm.dls\nrate 44100\nvoices 64\neffects 0x1\nframes 96000\nevent 0 90 3c 64",
        )
        .expect("valid");
        assert_eq!(job.device, Device::Synth);
        assert_eq!(job.dls.as_deref(), Some("gm.dls"));
        assert_eq!(job.rate, 44_100);
        assert_eq!(job.voices, Some(64));
        assert_eq!(job.effects, Some(1));
        assert_eq!(job.frames, Some(96_000));
    }

    #[test]
    fn card_faults_parse() {
        use super::CardFault;
        assert_eq!(
            parse(b"fault never-acks").expect("valid").fault,
            Some(CardFault::NeverAcks)
        );
        assert_eq!(
            parse(b"fault never-drains").expect("valid").fault,
            Some(CardFault::NeverDrains)
        );
        assert_eq!(parse(b"").expect("valid").fault, None);
    }

    #[test]
    fn input_and_absent_parse() {
        let job = parse(b"absent\ninput 10 f8\ninput 20 90 40 7f\nirq 9").expect("valid");
        assert!(!job.card_present);
        assert_eq!(job.irq, Some(9));
        assert_eq!(
            job.input,
            vec![(10, 0xF8), (20, 0x90), (20, 0x40), (20, 0x7F)]
        );
        assert_eq!(job.last_time(), 20);
    }

    #[test]
    fn bad_lines_are_refused_with_their_number() {
        let refused = |text: &[u8]| parse(text).expect_err("invalid");
        assert_eq!(
            refused(b"event 0 90\nevent x 90"),
            JobError {
                line: 2,
                reason: "needs a time"
            }
        );
        assert_eq!(
            refused(b"event 0 9").reason,
            "bytes are two hex digits each"
        );
        assert_eq!(refused(b"event 0").reason, "no bytes");
        assert_eq!(
            refused(b"event 9 90\nevent 1 90").reason,
            "events out of time order"
        );
        assert_eq!(
            refused(b"device wave").reason,
            "unknown device (mpu401, synth)"
        );
        assert_eq!(
            refused(b"dls C:\\x.dls").reason,
            "dls names a file in C:\\rdmus"
        );
        assert_eq!(refused(b"rate 100").reason, "rate out of range");
        assert_eq!(refused(b"voices 0").reason, "voices out of range");
        assert_eq!(
            refused(b"effects 0x100000000").reason,
            "effects out of range"
        );
        assert_eq!(refused(b"frames").reason, "frames needs a number");
        assert_eq!(refused(b"port 0xffff").reason, "port out of range");
        assert_eq!(refused(b"tail_ms 1 2").reason, "extra words");
        assert_eq!(refused(b"play").reason, "unknown directive");
        assert_eq!(
            refused(b"fault stuck").reason,
            "unknown fault (never-acks, never-drains)"
        );
        assert_eq!(refused(b"format wav").reason, "unknown format (midi, dmus)");
        assert_eq!(refused(&[0xFF]).line, 0);
    }
}
