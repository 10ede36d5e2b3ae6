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
//!
//! The stand-in reads the job twice, a line at a time (its memory does not grow with the
//! song): first whole, with [`LineParser`], to check every line (an error names its line)
//! and learn the settings and counts (settings may come anywhere), keeping the capture
//! input but not the events; then again as the clock needs the events ([`LineParser`] over
//! the same lines, taking only the events). [`parse`] reads a whole text at once and keeps
//! the events too (the tests, and jobs built in memory).

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
    /// What the job's lines hold (counted whether or not the events are kept).
    pub counts: Counts,
}

/// What a job's event and input lines hold, counted as they are read.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    /// `event` lines.
    pub events: usize,
    /// Bytes the events put on the wire.
    pub wire_bytes: usize,
    /// Input bytes.
    pub input_bytes: usize,
    /// The last event's time (0 for none).
    pub last_event: i64,
    /// The last input byte's time (0 for none).
    pub last_input: i64,
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
            counts: Counts::default(),
        }
    }
}

impl Job {
    /// Bytes the render events put on the wire.
    #[must_use]
    pub fn wire_bytes(&self) -> usize {
        self.counts.wire_bytes
    }

    /// The time of the last event or input byte (0 for none).
    #[must_use]
    pub fn last_time(&self) -> i64 {
        self.counts.last_event.max(self.counts.last_input)
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

/// A line of a job that is not a setting.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Item {
    /// An `event` line.
    Event(Event),
    /// An `input` line: its time and bytes.
    Input(i64, Vec<u8>),
}

/// Reads a job a line at a time: settings go into [`LineParser::job`], its counts grow, and
/// each event or input line comes back as an [`Item`] (checked in time order).
#[derive(Debug, Default)]
pub struct LineParser {
    job: Job,
    line: usize,
}

impl LineParser {
    /// A parser before the first line.
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The settings and counts of the lines so far (no events or input: the caller keeps
    /// what it needs of the items).
    #[must_use]
    pub fn job(&self) -> &Job {
        &self.job
    }

    /// Lines read so far.
    #[must_use]
    pub fn lines_read(&self) -> usize {
        self.line
    }

    /// The settings and counts.
    #[must_use]
    pub fn into_job(self) -> Job {
        self.job
    }

    /// The next line (without its line end; a trailing `\r` is ignored).
    ///
    /// # Errors
    /// [`JobError`] naming this line when it is not a directive of the module docs.
    pub fn line(&mut self, line: &[u8]) -> Result<Option<Item>, JobError> {
        self.line += 1;
        let number = self.line;
        let fail = |reason| JobError {
            line: number,
            reason,
        };
        let line = core::str::from_utf8(line).map_err(|_| fail("not UTF-8"))?;
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            return Ok(None);
        }
        let job = &mut self.job;
        let mut words = line.split_ascii_whitespace();
        let directive = words.next().unwrap_or_default();
        let mut item = None;
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
                let base = number_of(words.next()).ok_or(fail("port needs a number"))?;
                job.port = u16::try_from(base)
                    .ok()
                    .filter(|&base| base < u16::MAX)
                    .ok_or(fail("port out of range"))?;
            }
            "irq" => match words.next() {
                Some("none") => job.irq = None,
                word => {
                    let irq = number_of(word).ok_or(fail("irq needs a number or none"))?;
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
                synth_option(job, directive, words.next()).map_err(fail)?;
            }
            "tail_ms" => {
                let ms = number_of(words.next()).ok_or(fail("tail_ms needs a number"))?;
                job.tail_ms = u32::try_from(ms).map_err(|_| fail("tail_ms out of range"))?;
            }
            "event" | "input" => {
                let time = number_of(words.next()).ok_or(fail("needs a time"))?;
                let time = i64::try_from(time).map_err(|_| fail("time out of range"))?;
                let mut bytes = Vec::new();
                for word in words.by_ref() {
                    let byte = u8::from_str_radix(word, 16)
                        .ok()
                        .filter(|_| word.len() == 2)
                        .ok_or(fail("bytes are two hex digits each"))?;
                    bytes
                        .try_reserve(1)
                        .map_err(|_| fail("no memory for the line's bytes"))?;
                    bytes.push(byte);
                }
                if bytes.is_empty() {
                    return Err(fail("no bytes"));
                }
                let counts = &mut job.counts;
                if directive == "event" {
                    if counts.events > 0 && counts.last_event > time {
                        return Err(fail("events out of time order"));
                    }
                    counts.events += 1;
                    counts.wire_bytes += bytes.len();
                    counts.last_event = time;
                    item = Some(Item::Event(Event { time, bytes }));
                } else {
                    if counts.input_bytes > 0 && counts.last_input > time {
                        return Err(fail("input out of time order"));
                    }
                    counts.input_bytes += bytes.len();
                    counts.last_input = time;
                    item = Some(Item::Input(time, bytes));
                }
            }
            _ => return Err(fail("unknown directive")),
        }
        if words.next().is_some() {
            return Err(fail("extra words"));
        }
        Ok(item)
    }
}

/// Parses a whole job file, keeping its events and input.
///
/// # Errors
/// [`JobError`] for the first line that is not a directive above.
pub fn parse(text: &[u8]) -> Result<Job, JobError> {
    let mut parser = LineParser::new();
    let mut events = Vec::new();
    let mut input = Vec::new();
    for line in text.split(|&byte| byte == b'\n') {
        match parser.line(line)? {
            Some(Item::Event(event)) => events.push(event),
            Some(Item::Input(time, bytes)) => {
                input.extend(bytes.into_iter().map(|byte| (time, byte)));
            }
            None => {}
        }
    }
    let mut job = parser.into_job();
    job.events = events;
    job.input = input;
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
            let rate = number_of(word).ok_or("rate needs a number")?;
            job.rate = u32::try_from(rate)
                .ok()
                .filter(|rate| (8_000..=192_000).contains(rate))
                .ok_or("rate out of range")?;
        }
        "voices" => {
            let voices = number_of(word).ok_or("voices needs a number")?;
            job.voices = Some(
                u32::try_from(voices)
                    .ok()
                    .filter(|&voices| voices > 0)
                    .ok_or("voices out of range")?,
            );
        }
        "effects" => {
            let flags = number_of(word).ok_or("effects needs a number")?;
            job.effects = Some(u32::try_from(flags).map_err(|_| "effects out of range")?);
        }
        _ => job.frames = Some(number_of(word).ok_or("frames needs a number")?),
    }
    Ok(())
}

fn number_of(word: Option<&str>) -> Option<u64> {
    let word = word?;
    match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => word.parse().ok(),
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec;
    use alloc::vec::Vec;

    use super::{Counts, Device, Event, Item, Job, JobError, LineParser, RenderFormat, parse};

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
                counts: Counts {
                    events: 2,
                    wire_bytes: 6,
                    input_bytes: 0,
                    last_event: 5_000_000,
                    last_input: 0,
                },
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

    /// Line by line, the parser hands back each event and input line and keeps only the
    /// settings and counts: what the stand-in's two passes over the job file use.
    #[test]
    fn a_job_read_line_by_line_gives_its_items_and_counts() {
        let mut parser = LineParser::new();
        let lines: [&[u8]; 6] = [
            b"event 0 90 3c 64\r",
            b"# comment",
            b"tail_ms 7",
            b"input 3 f8 f8",
            b"event 10 80 3c 00",
            b"",
        ];
        let items: Vec<_> = lines
            .iter()
            .map(|line| parser.line(line).expect("valid"))
            .collect();
        assert_eq!(
            items,
            [
                Some(Item::Event(Event {
                    time: 0,
                    bytes: vec![0x90, 0x3C, 0x64]
                })),
                None,
                None,
                Some(Item::Input(3, vec![0xF8, 0xF8])),
                Some(Item::Event(Event {
                    time: 10,
                    bytes: vec![0x80, 0x3C, 0x00]
                })),
                None,
            ]
        );
        let job = parser.into_job();
        assert_eq!(job.tail_ms, 7);
        assert!(job.events.is_empty() && job.input.is_empty(), "not kept");
        assert_eq!(
            job.counts,
            Counts {
                events: 2,
                wire_bytes: 6,
                input_bytes: 2,
                last_event: 10,
                last_input: 3,
            }
        );
        assert_eq!(job.last_time(), 10);
        let mut parser = LineParser::new();
        parser.line(b"event 0 90").expect("valid");
        assert_eq!(
            parser.line(b"bogus"),
            Err(JobError {
                line: 2,
                reason: "unknown directive"
            })
        );
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
        assert_eq!(refused(b"# ok\n\xFF").line, 2, "not UTF-8: its line");
        assert_eq!(
            refused(b"input 5 90\ninput 4 90").reason,
            "input out of time order"
        );
    }
}
