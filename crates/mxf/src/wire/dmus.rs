//! `DMUS_EVENTHEADER` buffers (dmusbuff.h), used by `DirectMusic` pins.
//!
//! A buffer is a sequence of records. Each record is a 20-byte header
//! (`#pragma pack(4)`: `{ DWORD cbEvent; DWORD dwChannelGroup; REFERENCE_TIME
//! rtDelta; DWORD dwFlags; }`) followed by `cbEvent` bytes; each record
//! occupies `QWORD_ALIGN(sizeof(DMUS_EVENTHEADER) + cbEvent)` bytes.
//! `rtDelta` is in 100 ns units after the buffer's start time.
//! `DMUS_EVENT_STRUCTURED` marks a complete MIDI message; without it the bytes
//! are unstructured data (sysex).

use super::framing::{self, RecordFormat};

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

// The accessors below read fields inside the header, which `new_checked` proved present.
const _: () = assert!(field::CHANNEL_GROUP.end - field::CHANNEL_GROUP.start == 4);
const _: () = assert!(field::RT_DELTA.end - field::RT_DELTA.start == 8);
const _: () = assert!(field::FLAGS.end - field::FLAGS.start == 4);
const _: () = assert!(field::FLAGS.end <= HEADER_LEN);

/// Size of the `DMUS_EVENTHEADER` header.
pub const HEADER_LEN: usize = field::DATA;

/// The padded size a record with `data_len` bytes occupies.
#[must_use]
pub const fn record_len(data_len: usize) -> usize {
    framing::record_len::<EventHeader>(data_len)
}

/// The `DMUS_EVENTHEADER` record layout: the byte count (`cbEvent`) comes
/// first, and records start on QWORD boundaries (`QWORD_ALIGN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventHeader {}

/// A checked view of one `DMUS_EVENTHEADER` record at the start of a buffer.
pub type Record<T> = framing::Record<EventHeader, T>;

impl<T: AsRef<[u8]>> Record<T> {
    /// `dwChannelGroup`.
    #[must_use]
    pub fn channel_group(&self) -> u32 {
        self.u32_at(field::CHANNEL_GROUP)
    }

    /// `rtDelta`: 100 ns units after the buffer's start time.
    #[must_use]
    pub fn rt_delta(&self) -> i64 {
        self.i64_at(field::RT_DELTA)
    }

    /// `dwFlags` (`DMUS_EVENT_*`).
    #[must_use]
    pub fn flags(&self) -> u32 {
        self.u32_at(field::FLAGS)
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

impl RecordRepr<'_> {
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

impl RecordFormat for EventHeader {
    const HEADER_LEN: usize = HEADER_LEN;
    const BYTE_COUNT: core::ops::Range<usize> = field::CB_EVENT;
    const ALIGN: usize = 8;
    type Repr<'a> = RecordRepr<'a>;

    fn data<'a>(record: &Self::Repr<'a>) -> &'a [u8] {
        record.data
    }

    fn parse<'a>(record: &Record<&'a [u8]>) -> RecordRepr<'a> {
        RecordRepr {
            rt_delta: record.rt_delta(),
            channel_group: record.channel_group(),
            flags: record.flags(),
            data: record.into_data(),
        }
    }

    fn emit_fields(record: &RecordRepr<'_>, header: &mut [u8]) {
        header[field::CHANNEL_GROUP].copy_from_slice(&record.channel_group.to_le_bytes());
        header[field::RT_DELTA].copy_from_slice(&record.rt_delta.to_le_bytes());
        header[field::FLAGS].copy_from_slice(&record.flags.to_le_bytes());
    }
}

/// Iterates over the records of a `DMUS_EVENTHEADER` buffer.
pub type Reader<'a> = framing::Reader<'a, EventHeader>;

/// Appends `DMUS_EVENTHEADER` records to a buffer, QWORD-aligning each one.
pub type Writer<'a> = framing::Writer<'a, EventHeader>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{EmitError, WireError};

    #[test]
    fn header_layout_matches_dmus_eventheader() {
        // dmusbuff.h, #pragma pack(4): cbEvent@0, dwChannelGroup@4, rtDelta@8, dwFlags@16, size 20.
        assert_eq!(
            HEADER_LEN,
            core::mem::size_of::<dmus_sys::dmusic::DMUS_EVENTHEADER>()
        );
        // The framing's alignment is the header's own macro.
        for data_len in 0..64 {
            assert_eq!(
                record_len(data_len),
                dmus_sys::dmusic::QWORD_ALIGN(HEADER_LEN + data_len)
            );
        }
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
