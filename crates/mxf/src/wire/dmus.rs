//! `DMUS_EVENTHEADER` buffers (dmusbuff.h), used by `DirectMusic` pins.
//!
//! A buffer is a sequence of records. Each record is a 20-byte header
//! (`#pragma pack(4)`: `{ DWORD cbEvent; DWORD dwChannelGroup; REFERENCE_TIME
//! rtDelta; DWORD dwFlags; }`) followed by `cbEvent` bytes; each record
//! occupies `QWORD_ALIGN(sizeof(DMUS_EVENTHEADER) + cbEvent)` bytes.
//! `rtDelta` is in 100 ns units after the buffer's start time.
//! `DMUS_EVENT_STRUCTURED` marks a complete MIDI message; without it the bytes
//! are unstructured data (sysex).

use super::{EmitError, WireError};
use dmus_sys::dmusic::QWORD_ALIGN;

pub use dmus_sys::dmusic::DMUS_EVENT_STRUCTURED;

/// Byte ranges of the header fields.
mod field {
    use core::ops::Range;
    pub const CB_EVENT: Range<usize> = 0..4;
    pub const CHANNEL_GROUP: Range<usize> = 4..8;
    pub const RT_DELTA: Range<usize> = 8..16;
    pub const FLAGS: Range<usize> = 16..20;
    pub const DATA: usize = 20;
}

/// Size of the `DMUS_EVENTHEADER` header.
pub const HEADER_LEN: usize = field::DATA;

/// The padded size a record with `data_len` bytes occupies.
#[must_use]
pub const fn record_len(data_len: usize) -> usize {
    QWORD_ALIGN(HEADER_LEN + data_len)
}

/// A checked view of one record at the start of `buffer`.
#[derive(Clone, Copy, Debug)]
pub struct Record<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Record<T> {
    /// Checks that the header and all `cbEvent` data bytes are present and that
    /// the record is not empty; after this no accessor can panic.
    ///
    /// # Errors
    /// [`WireError`] with offset 0 when the header or data is cut short or the
    /// record has no data.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        let total = buffer.as_ref().len();
        if total < HEADER_LEN {
            return Err(WireError::HeaderTruncated { offset: 0 });
        }
        let record = Self { buffer };
        let byte_count = record.cb_event();
        let available = total - HEADER_LEN;
        if byte_count == 0 {
            return Err(WireError::EmptyRecord { offset: 0 });
        }
        if usize::try_from(byte_count).map_or(true, |n| n > available) {
            return Err(WireError::DataTruncated {
                offset: 0,
                byte_count,
                available,
            });
        }
        Ok(record)
    }

    fn u32_at(&self, range: core::ops::Range<usize>) -> u32 {
        let mut le = [0u8; 4];
        le.copy_from_slice(&self.buffer.as_ref()[range]);
        u32::from_le_bytes(le)
    }

    /// `cbEvent`: data bytes, padding excluded.
    #[must_use]
    pub fn cb_event(&self) -> u32 {
        self.u32_at(field::CB_EVENT)
    }

    /// `dwChannelGroup`.
    #[must_use]
    pub fn channel_group(&self) -> u32 {
        self.u32_at(field::CHANNEL_GROUP)
    }

    /// `rtDelta`: 100 ns units after the buffer's start time.
    #[must_use]
    pub fn rt_delta(&self) -> i64 {
        let mut le = [0u8; 8];
        le.copy_from_slice(&self.buffer.as_ref()[field::RT_DELTA]);
        i64::from_le_bytes(le)
    }

    /// `dwFlags` (`DMUS_EVENT_*`).
    #[must_use]
    pub fn flags(&self) -> u32 {
        self.u32_at(field::FLAGS)
    }

    /// The record's data bytes.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        // new_checked proved cbEvent fits in the buffer after the header.
        let len = self.cb_event() as usize;
        &self.buffer.as_ref()[field::DATA..field::DATA + len]
    }

    /// The record's padded length: the offset of the next record.
    #[must_use]
    pub fn padded_len(&self) -> usize {
        record_len(self.cb_event() as usize)
    }
}

/// A record as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRepr<'a> {
    /// 100 ns units after the buffer's start time.
    pub rt_delta: i64,
    /// `dwChannelGroup`.
    pub channel_group: u32,
    /// `dwFlags` (`DMUS_EVENT_*`).
    pub flags: u32,
    /// Event data bytes.
    pub data: &'a [u8],
}

impl<'a> RecordRepr<'a> {
    /// Reads a checked record.
    #[must_use]
    pub fn parse(record: &Record<&'a [u8]>) -> Self {
        let len = record.cb_event() as usize;
        Self {
            rt_delta: record.rt_delta(),
            channel_group: record.channel_group(),
            flags: record.flags(),
            data: &record.buffer[field::DATA..field::DATA + len],
        }
    }

    /// Whether `DMUS_EVENT_STRUCTURED` is set (a complete MIDI message).
    #[must_use]
    pub const fn is_structured(&self) -> bool {
        self.flags & DMUS_EVENT_STRUCTURED != 0
    }

    /// Bytes this record occupies, padding included.
    #[must_use]
    pub const fn padded_len(&self) -> usize {
        record_len(self.data.len())
    }
}

/// Iterates over the records of a buffer, yielding each record with its
/// offset, and stops after the first error (which it yields).
#[derive(Clone, Debug)]
pub struct Reader<'a> {
    buffer: &'a [u8],
    offset: usize,
    failed: bool,
}

impl<'a> Reader<'a> {
    /// A reader over the used part of a buffer (`DataUsed` bytes).
    #[must_use]
    pub const fn new(buffer: &'a [u8]) -> Self {
        Self {
            buffer,
            offset: 0,
            failed: false,
        }
    }

    /// Offset of the next record to read.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a> Iterator for Reader<'a> {
    type Item = Result<(usize, RecordRepr<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.buffer.len() {
            return None;
        }
        let offset = self.offset;
        let rest = self.buffer.get(offset..).unwrap_or_default();
        match Record::new_checked(rest) {
            Ok(record) => {
                self.offset = offset.saturating_add(record.padded_len());
                Some(Ok((offset, RecordRepr::parse(&record))))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error.at(offset)))
            }
        }
    }
}

impl core::iter::FusedIterator for Reader<'_> {}

/// Appends records to a buffer, QWORD-aligning each one.
#[derive(Debug)]
pub struct Writer<'a> {
    buffer: &'a mut [u8],
    len: usize,
    records: usize,
}

impl<'a> Writer<'a> {
    /// A writer that starts at the beginning of `buffer`.
    pub fn new(buffer: &'a mut [u8]) -> Self {
        Self {
            buffer,
            len: 0,
            records: 0,
        }
    }

    /// Bytes written so far, the padding of the last record included when it
    /// fitted: the buffer's `DataUsed`.
    #[must_use]
    pub const fn len(&self) -> usize {
        self.len
    }

    /// Whether no record was written.
    #[must_use]
    pub const fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// Records written so far.
    #[must_use]
    pub const fn records(&self) -> usize {
        self.records
    }

    /// The most data bytes a record appended now could carry (0 when not even
    /// a header fits).
    #[must_use]
    pub fn data_capacity(&self) -> usize {
        let start = QWORD_ALIGN(self.len);
        self.buffer
            .len()
            .saturating_sub(start)
            .saturating_sub(HEADER_LEN)
    }

    /// Appends one record.
    ///
    /// # Errors
    /// [`EmitError::Empty`] for no data, [`EmitError::TooLong`] for more than
    /// `u32::MAX` bytes, [`EmitError::Full`] when header and data do not fit;
    /// nothing is written then.
    pub fn push(&mut self, record: &RecordRepr<'_>) -> Result<(), EmitError> {
        let data = record.data;
        if data.is_empty() {
            return Err(EmitError::Empty);
        }
        let cb_event = u32::try_from(data.len()).map_err(|_| EmitError::TooLong)?;
        if data.len() > self.data_capacity() {
            return Err(EmitError::Full);
        }
        let start = QWORD_ALIGN(self.len);
        let end = start + HEADER_LEN + data.len();
        // Zero the alignment gap left by the previous record.
        self.buffer[self.len..start].fill(0);
        let out = &mut self.buffer[start..end];
        out[field::CB_EVENT].copy_from_slice(&cb_event.to_le_bytes());
        out[field::CHANNEL_GROUP].copy_from_slice(&record.channel_group.to_le_bytes());
        out[field::RT_DELTA].copy_from_slice(&record.rt_delta.to_le_bytes());
        out[field::FLAGS].copy_from_slice(&record.flags.to_le_bytes());
        out[field::DATA..].copy_from_slice(data);
        let padded_end = QWORD_ALIGN(end).min(self.buffer.len());
        self.buffer[end..padded_end].fill(0);
        self.len = padded_end;
        self.records += 1;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_layout_matches_dmus_eventheader() {
        // dmusbuff.h, #pragma pack(4): cbEvent@0, dwChannelGroup@4, rtDelta@8, dwFlags@16, size 20.
        assert_eq!(
            HEADER_LEN,
            core::mem::size_of::<dmus_sys::dmusic::DMUS_EVENTHEADER>()
        );
        assert_eq!(record_len(3), 24);
        assert_eq!(record_len(4), 24);
        assert_eq!(record_len(5), 32);
        assert_eq!(DMUS_EVENT_STRUCTURED, 1);
    }

    #[test]
    fn writer_aligns_and_reader_reads_back() {
        let mut buf = [0xAAu8; 96];
        let mut w = Writer::new(&mut buf);
        let a = RecordRepr {
            rt_delta: 0,
            channel_group: 1,
            flags: DMUS_EVENT_STRUCTURED,
            data: &[0x90, 60, 100],
        };
        let b = RecordRepr {
            rt_delta: -5,
            channel_group: 2,
            flags: 0,
            data: &[0xF0, 1, 2, 3, 4, 0xF7],
        };
        w.push(&a).unwrap();
        w.push(&b).unwrap();
        assert_eq!(w.len(), 24 + 32);
        let used = w.len();
        assert_eq!(&buf[..8], &[3, 0, 0, 0, 1, 0, 0, 0]);
        assert_eq!(&buf[16..24], &[1, 0, 0, 0, 0x90, 60, 100, 0]);
        let recs: Vec<_> = Reader::new(&buf[..used]).collect::<Result<_, _>>().unwrap();
        assert_eq!(recs, vec![(0, a), (24, b)]);
        assert!(recs[0].1.is_structured());
        assert!(!recs[1].1.is_structured());
    }

    #[test]
    fn writer_reports_full_and_writes_nothing() {
        let mut buf = [0u8; 40];
        let mut w = Writer::new(&mut buf);
        let a = RecordRepr {
            rt_delta: 0,
            channel_group: 1,
            flags: 1,
            data: &[0x90, 60, 100],
        };
        w.push(&a).unwrap();
        assert_eq!(w.data_capacity(), 0);
        assert_eq!(w.push(&a), Err(EmitError::Full));
        assert_eq!(
            w.push(&RecordRepr { data: &[], ..a }),
            Err(EmitError::Empty)
        );
        assert_eq!(w.len(), 24);
    }

    #[test]
    fn malformed_records_stop_with_offset() {
        let mut buf = [0u8; 24];
        let mut w = Writer::new(&mut buf);
        w.push(&RecordRepr {
            rt_delta: 1,
            channel_group: 1,
            flags: 1,
            data: &[0xF8],
        })
        .unwrap();
        let mut bad = buf.to_vec();
        bad.extend_from_slice(&[
            9, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0x90,
        ]);
        let items: Vec<_> = Reader::new(&bad).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(
            items[1],
            Err(WireError::DataTruncated {
                offset: 24,
                byte_count: 9,
                available: 1
            })
        );
        assert_eq!(
            Reader::new(&bad[..30]).nth(1),
            Some(Err(WireError::HeaderTruncated { offset: 24 }))
        );
        assert_eq!(
            Reader::new(&[0u8; 24]).next(),
            Some(Err(WireError::EmptyRecord { offset: 0 }))
        );
    }
}
