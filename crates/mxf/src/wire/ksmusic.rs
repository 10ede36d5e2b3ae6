//! `KSMUSICFORMAT` buffers (ksmedia.h), used by legacy MIDI pins.
//!
//! A buffer is a sequence of records. Each record is an 8-byte header
//! `{ ULONG TimeDeltaMs; ULONG ByteCount; }` followed by `ByteCount` bytes of
//! MIDI data; the next record starts at the next DWORD boundary (padding is not
//! counted in `ByteCount`). The first record's delta counts from the stream
//! header's `PresentationTime`, each later one from the previous record. The
//! buffer may end right after the last record's data, without its padding.

use super::framing::{self, RecordFormat};

/// Byte ranges of the header fields.
mod field {
    use core::ops::Range;
    pub const TIME_DELTA_MS: Range<usize> = 0..4;
    pub const BYTE_COUNT: Range<usize> = 4..8;
    pub const DATA: usize = 8;
}

// The accessor below reads a field inside the header, which `new_checked` proved present.
const _: () = assert!(field::TIME_DELTA_MS.end - field::TIME_DELTA_MS.start == 4);
const _: () = assert!(field::TIME_DELTA_MS.end <= HEADER_LEN);

/// Size of the `KSMUSICFORMAT` header.
pub const HEADER_LEN: usize = field::DATA;

/// The padded size a record with `data_len` bytes occupies.
#[must_use]
pub const fn record_len(data_len: usize) -> usize {
    framing::record_len::<KsMusicFormat>(data_len)
}

/// The `KSMUSICFORMAT` record layout: the byte count follows the delta, and
/// records start on DWORD boundaries (`DWORD_ALIGN`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KsMusicFormat {}

/// A checked view of one `KSMUSICFORMAT` record at the start of a buffer.
pub type Record<T> = framing::Record<KsMusicFormat, T>;

impl<T: AsRef<[u8]>> Record<T> {
    /// `TimeDeltaMs`.
    #[must_use]
    pub fn time_delta_ms(&self) -> u32 {
        self.u32_at(field::TIME_DELTA_MS)
    }
}

/// A record as plain values.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RecordRepr<'a> {
    /// Milliseconds after the previous record (or the stream header's time).
    pub delta_ms: u32,
    /// MIDI data bytes.
    pub data: &'a [u8],
}

impl RecordRepr<'_> {
    /// Bytes this record occupies, padding included.
    #[must_use]
    pub const fn padded_len(&self) -> usize {
        record_len(self.data.len())
    }
}

impl RecordFormat for KsMusicFormat {
    const HEADER_LEN: usize = HEADER_LEN;
    const BYTE_COUNT: core::ops::Range<usize> = field::BYTE_COUNT;
    const ALIGN: usize = 4;
    type Repr<'a> = RecordRepr<'a>;

    fn data<'a>(record: &Self::Repr<'a>) -> &'a [u8] {
        record.data
    }

    fn parse<'a>(record: &Record<&'a [u8]>) -> RecordRepr<'a> {
        RecordRepr {
            delta_ms: record.time_delta_ms(),
            data: record.into_data(),
        }
    }

    fn emit_fields(record: &RecordRepr<'_>, header: &mut [u8]) {
        header[field::TIME_DELTA_MS].copy_from_slice(&record.delta_ms.to_le_bytes());
    }
}

/// Iterates over the records of a `KSMUSICFORMAT` buffer.
pub type Reader<'a> = framing::Reader<'a, KsMusicFormat>;

/// Appends `KSMUSICFORMAT` records to a buffer, DWORD-padding each one.
pub type Writer<'a> = framing::Writer<'a, KsMusicFormat>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::wire::{EmitError, WireError};

    const fn record(delta_ms: u32, data: &[u8]) -> RecordRepr<'_> {
        RecordRepr { delta_ms, data }
    }

    #[test]
    fn header_layout_matches_ksmusicformat() {
        // ksmedia.h: typedef struct { ULONG TimeDeltaMs; ULONG ByteCount; } KSMUSICFORMAT;
        assert_eq!(
            HEADER_LEN,
            core::mem::size_of::<dmus_sys::dmusic::KSMUSICFORMAT>()
        );
        // The framing's alignment is the header's own macro.
        for data_len in 0..64 {
            assert_eq!(
                record_len(data_len),
                dmus_sys::dmusic::DWORD_ALIGN(HEADER_LEN + data_len)
            );
        }
        assert_eq!(record_len(3), 12);
        assert_eq!(record_len(4), 12);
        assert_eq!(record_len(5), 16);
    }

    #[test]
    fn writer_pads_and_reader_reads_back() {
        let mut buf = [0xAAu8; 64];
        let mut w = Writer::new(&mut buf);
        w.push(&record(0, &[0x90, 0x3C, 0x40])).unwrap();
        w.push(&record(7, &[0xF0, 1, 2, 3, 0xF7])).unwrap();
        assert_eq!(w.len(), 12 + 16);
        assert_eq!(w.records(), 2);
        let used = w.len();
        assert_eq!(&buf[..12], &[0, 0, 0, 0, 3, 0, 0, 0, 0x90, 0x3C, 0x40, 0]);
        let recs: Vec<_> = Reader::new(&buf[..used]).collect::<Result<_, _>>().unwrap();
        assert_eq!(recs.len(), 2);
        assert_eq!(
            recs[0],
            (
                0,
                RecordRepr {
                    delta_ms: 0,
                    data: &[0x90, 0x3C, 0x40]
                }
            )
        );
        assert_eq!(
            recs[1],
            (
                12,
                RecordRepr {
                    delta_ms: 7,
                    data: &[0xF0, 1, 2, 3, 0xF7]
                }
            )
        );
    }

    #[test]
    fn writer_reports_full_and_writes_nothing() {
        let mut buf = [0u8; 20];
        let mut w = Writer::new(&mut buf);
        w.push(&record(1, &[0x90, 1, 2])).unwrap();
        assert_eq!(w.data_capacity(), 0);
        assert_eq!(w.push(&record(1, &[0xF8])), Err(EmitError::Full));
        assert_eq!(w.push(&record(1, &[])), Err(EmitError::Empty));
        assert_eq!(w.len(), 12);
        assert_eq!(w.records(), 1);
    }

    #[test]
    fn last_record_without_padding_is_accepted() {
        let mut buf = [0u8; 11];
        let mut w = Writer::new(&mut buf);
        w.push(&record(5, &[0x80, 1, 2])).unwrap();
        assert_eq!(w.len(), 11);
        let recs: Vec<_> = Reader::new(&buf).collect();
        assert_eq!(
            recs,
            vec![Ok((
                0,
                RecordRepr {
                    delta_ms: 5,
                    data: &[0x80, 1, 2]
                }
            ))]
        );
    }

    #[test]
    fn malformed_records_stop_with_offset() {
        // One good record, then a header claiming 200 bytes.
        let mut buf = vec![1, 0, 0, 0, 1, 0, 0, 0, 0xF8, 0, 0, 0];
        buf.extend_from_slice(&[0, 0, 0, 0, 200, 0, 0, 0, 0x90]);
        let items: Vec<_> = Reader::new(&buf).collect();
        assert_eq!(items.len(), 2);
        assert!(items[0].is_ok());
        assert_eq!(
            items[1],
            Err(WireError::DataTruncated {
                offset: 12,
                byte_count: 200,
                available: 1
            })
        );
        // A header cut short.
        let items: Vec<_> = Reader::new(&buf[..16]).collect();
        assert_eq!(items[1], Err(WireError::HeaderTruncated { offset: 12 }));
        // A zero-length record.
        let zero = [0u8; 8];
        assert_eq!(
            Reader::new(&zero).next(),
            Some(Err(WireError::EmptyRecord { offset: 0 }))
        );
        // Huge ByteCount cannot overflow.
        let huge = [0, 0, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF, 1];
        assert!(matches!(
            Reader::new(&huge).next(),
            Some(Err(WireError::DataTruncated { .. }))
        ));
    }
}
