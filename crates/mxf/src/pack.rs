//! Packing event chains into capture buffers: `KSMUSICFORMAT` (legacy MIDI
//! pins) and `DMUS_EVENTHEADER` (`DirectMusic` pins).
//!
//! The [`Packer`] holds captured events in arrival order and fills one IRP
//! buffer per call. An event that does not fit in what is left of a buffer is
//! carried whole to the next one; only an event larger than an empty buffer
//! can hold is split, its first part filling this buffer. Packages are opened
//! and their events packed in order. Packed events go back to the pool.
//!
//! Times: the buffer's presentation time is its first record's time. In
//! `KSMUSICFORMAT` each delta is in whole milliseconds from the previous
//! record (times are floored to milliseconds from the buffer's start, so
//! rounding never accumulates); in `DMUS_EVENTHEADER` `rtDelta` is 100 ns from
//! the buffer's start. A time earlier than the previous record's is packed as
//! the previous record's time (deltas cannot be negative).

use crate::midi::message::is_complete_short_message;
use crate::raw::{Chain, EventPool, FreeCount};
use crate::wire::{dmus, ksmusic};
use core::fmt;

/// Why nothing could be packed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PackError {
    /// The buffer cannot hold a record header and one data byte.
    BufferTooSmall {
        /// The buffer's size.
        len: usize,
    },
}

impl fmt::Display for PackError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::BufferTooSmall { len } => write!(f, "a {len}-byte buffer cannot hold one record"),
        }
    }
}

/// What one call filled.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Packed {
    /// Bytes used: the stream header's `DataUsed`.
    pub data_used: usize,
    /// The first record's time (the stream header's `PresentationTime`, 100 ns
    /// units); `None` when nothing was packed.
    pub presentation_time: Option<i64>,
    /// Records written.
    pub records: usize,
    /// Events finished and given back to the pool.
    pub events: usize,
}

/// A record writer for one format.
trait RecordSink {
    fn data_capacity(&self) -> usize;
    fn is_empty(&self) -> bool;
    /// Writes one record (`whole_message` when it holds a whole event);
    /// `false` when it did not fit, which the caller's capacity check rules
    /// out, and which it treats as a full buffer all the same.
    fn write(&mut self, time: i64, channel_group: u16, whole_message: bool, data: &[u8]) -> bool;
    fn finish(&self) -> Packed;
}

/// Time bookkeeping shared by both formats.
#[derive(Default)]
struct Times {
    base: Option<i64>,
    last: i64,
}

impl Times {
    /// The record's time, never before the previous record's, as an offset
    /// from the buffer's first record.
    fn offset(&mut self, time: i64) -> i64 {
        let base = *self.base.get_or_insert(time);
        self.last = self.last.max(time.saturating_sub(base));
        self.last
    }
}

struct KsSink<'a> {
    writer: ksmusic::Writer<'a>,
    times: Times,
    last_ms: i64,
}

impl RecordSink for KsSink<'_> {
    fn data_capacity(&self) -> usize {
        self.writer.data_capacity()
    }
    fn is_empty(&self) -> bool {
        self.writer.is_empty()
    }
    fn write(&mut self, time: i64, _channel_group: u16, _whole_message: bool, data: &[u8]) -> bool {
        let ms = self.times.offset(time) / 10_000;
        let delta = u32::try_from(ms - self.last_ms).unwrap_or(u32::MAX);
        let record = ksmusic::RecordRepr {
            delta_ms: delta,
            data,
        };
        let written = self.writer.push(&record).is_ok();
        if written {
            self.last_ms = ms;
        }
        written
    }
    fn finish(&self) -> Packed {
        Packed {
            data_used: self.writer.len(),
            presentation_time: self.times.base,
            records: self.writer.records(),
            events: 0,
        }
    }
}

struct DmusSink<'a> {
    writer: dmus::Writer<'a>,
    times: Times,
}

impl RecordSink for DmusSink<'_> {
    fn data_capacity(&self) -> usize {
        self.writer.data_capacity()
    }
    fn is_empty(&self) -> bool {
        self.writer.is_empty()
    }
    fn write(&mut self, time: i64, channel_group: u16, whole_message: bool, data: &[u8]) -> bool {
        let structured = whole_message && is_complete_short_message(data);
        let record = dmus::RecordRepr {
            rt_delta: self.times.offset(time),
            channel_group: u32::from(channel_group),
            flags: if structured {
                dmus::DMUS_EVENT_STRUCTURED
            } else {
                0
            },
            data,
        };
        self.writer.push(&record).is_ok()
    }
    fn finish(&self) -> Packed {
        Packed {
            data_used: self.writer.len(),
            presentation_time: self.times.base,
            records: self.writer.records(),
            events: 0,
        }
    }
}

/// Captured events waiting to be packed into IRP buffers.
#[derive(Debug, Default)]
pub struct Packer {
    queue: Chain,
    /// Bytes of the first event already packed (it was split).
    front_offset: usize,
}

impl Packer {
    /// An empty packer.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            queue: Chain::new(),
            front_offset: 0,
        }
    }

    /// Queues captured events after those already waiting.
    pub fn push(&mut self, chain: Chain) {
        self.queue.push_back(chain);
    }

    /// Events waiting (a package counts as one).
    #[must_use]
    pub const fn pending(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// Gives everything waiting back to the pool (capture stopped).
    pub fn discard<P: EventPool + ?Sized>(&mut self, pool: &mut P) -> FreeCount {
        self.front_offset = 0;
        core::mem::take(&mut self.queue).free(pool)
    }

    /// Fills `out` with `KSMUSICFORMAT` records.
    ///
    /// # Errors
    /// [`PackError::BufferTooSmall`] when events wait but `out` cannot hold
    /// one record.
    pub fn pack_ksmusic<P: EventPool + ?Sized>(
        &mut self,
        out: &mut [u8],
        pool: &mut P,
    ) -> Result<Packed, PackError> {
        let len = out.len();
        let mut sink = KsSink {
            writer: ksmusic::Writer::new(out),
            times: Times::default(),
            last_ms: 0,
        };
        self.fill(&mut sink, pool, len)
    }

    /// Fills `out` with `DMUS_EVENTHEADER` records.
    ///
    /// # Errors
    /// [`PackError::BufferTooSmall`] when events wait but `out` cannot hold
    /// one record.
    pub fn pack_dmus<P: EventPool + ?Sized>(
        &mut self,
        out: &mut [u8],
        pool: &mut P,
    ) -> Result<Packed, PackError> {
        let len = out.len();
        let mut sink = DmusSink {
            writer: dmus::Writer::new(out),
            times: Times::default(),
        };
        self.fill(&mut sink, pool, len)
    }

    fn fill<P: EventPool + ?Sized>(
        &mut self,
        sink: &mut impl RecordSink,
        pool: &mut P,
        len: usize,
    ) -> Result<Packed, PackError> {
        let mut events = 0;
        // Each iteration opens a package, finishes an event, or ends the call.
        while !self.queue.is_empty() {
            if self.queue.open_front_package(pool) {
                continue;
            }
            let finished = {
                let Some(event) = self.queue.front() else {
                    break;
                };
                let data = event.data().get(self.front_offset..).unwrap_or_default();
                let capacity = sink.data_capacity();
                if data.is_empty() {
                    true
                } else if data.len() <= capacity {
                    let whole = self.front_offset == 0 && !event.is_incomplete();
                    sink.write(event.time(), event.channel_group(), whole, data);
                    true
                } else if sink.is_empty() {
                    if capacity == 0 {
                        return Err(PackError::BufferTooSmall { len });
                    }
                    sink.write(
                        event.time(),
                        event.channel_group(),
                        false,
                        &data[..capacity],
                    );
                    self.front_offset += capacity;
                    break;
                } else {
                    // Carried whole to the next buffer.
                    break;
                }
            };
            if finished {
                self.front_offset = 0;
                self.queue.pop_front().free(pool);
                events += 1;
            }
        }
        Ok(Packed {
            events,
            ..sink.finish()
        })
    }
}
