//! The job file read twice, a line at a time ([`files::LineReader`]), so the stand-in's
//! memory does not grow with the song: [`scan`] checks every line and learns the settings
//! and counts (keeping only the capture input, which the card is given whole); [`Events`]
//! then reads the events again as the clock needs them.

use alloc::vec::Vec;

use crate::files::{LineReader, MAX_JOB_LINE_BYTES};
use crate::job::{Event, Item, Job, LineParser};

use super::{JOB_PATH, Log};

/// The first pass: every line checked (an error is logged with its line number), the
/// settings and counts, and the capture input as (time, byte) pairs.
pub(super) fn scan(log: &mut Log) -> Result<Job, &'static str> {
    let mut reader = LineReader::open(JOB_PATH).map_err(|_| "cannot read C:\\rdmus\\job.txt")?;
    let mut parser = LineParser::new();
    let mut input = Vec::new();
    let mut line = Vec::new();
    loop {
        match reader.next_line(&mut line, MAX_JOB_LINE_BYTES) {
            Ok(true) => {}
            Ok(false) => break,
            Err(_) => {
                log.line(format_args!(
                    "job line {}: unreadable or longer than {MAX_JOB_LINE_BYTES} bytes",
                    parser.lines_read() + 1
                ));
                return Err("job file refused");
            }
        }
        match parser.line(&line) {
            Ok(Some(Item::Input(time, bytes))) => {
                input
                    .try_reserve(bytes.len())
                    .map_err(|_| "no memory for the input")?;
                input.extend(bytes.into_iter().map(|byte| (time, byte)));
            }
            Ok(_) => {}
            Err(error) => {
                log.line(format_args!("{error}"));
                return Err("job file refused");
            }
        }
    }
    let mut job = parser.into_job();
    job.input = input;
    Ok(job)
}

/// The second pass: the job's events in order, one line read at a time (the file was
/// checked by [`scan`]; a line that fails now ends the events and is counted).
pub(super) struct Events {
    reader: Option<LineReader>,
    parser: LineParser,
    line: Vec<u8>,
    pending: Option<Event>,
    /// Lines that failed on the second reading (the file changed under the job).
    pub(super) failed: usize,
}

impl Events {
    /// The events of the job file, from its start.
    pub(super) fn open() -> Self {
        let reader = LineReader::open(JOB_PATH).ok();
        let failed = usize::from(reader.is_none());
        Self {
            reader,
            parser: LineParser::new(),
            line: Vec::new(),
            pending: None,
            failed,
        }
    }

    /// The next event, read when first asked for.
    pub(super) fn peek(&mut self) -> Option<&Event> {
        while self.pending.is_none() {
            let reader = self.reader.as_mut()?;
            match reader.next_line(&mut self.line, MAX_JOB_LINE_BYTES) {
                Ok(true) => match self.parser.line(&self.line) {
                    Ok(Some(Item::Event(event))) => self.pending = Some(event),
                    Ok(_) => {}
                    Err(_) => self.stop(),
                },
                Ok(false) => self.reader = None,
                Err(_) => self.stop(),
            }
        }
        self.pending.as_ref()
    }

    /// Takes the event [`Events::peek`] showed.
    pub(super) fn take(&mut self) -> Option<Event> {
        self.peek();
        self.pending.take()
    }

    fn stop(&mut self) {
        self.failed += 1;
        self.reader = None;
    }
}
