//! `KSMUSICFORMAT` buffers (ksmedia.h), used by legacy MIDI pins.
//!
//! A buffer is a sequence of records. Each record is an 8-byte header
//! `{ ULONG TimeDeltaMs; ULONG ByteCount; }` followed by `ByteCount` bytes of
//! MIDI data; the next record starts at the next DWORD boundary (padding is not
//! counted in `ByteCount`). The first record's delta counts from the stream
//! header's `PresentationTime`, each later one from the previous record. The
//! buffer may end right after the last record's data, without its padding.

use super::{EmitError, WireError};
use dmus_sys::dmusic::DWORD_ALIGN;

/// Byte ranges of the header fields.
mod field {
    use core::ops::Range;
    pub const TIME_DELTA_MS: Range<usize> = 0..4;
    pub const BYTE_COUNT: Range<usize> = 4..8;
    pub const DATA: usize = 8;
}

/// Size of the `KSMUSICFORMAT` header.
pub const HEADER_LEN: usize = field::DATA;

/// The padded size a record with `data_len` bytes occupies.
#[must_use]
pub const fn record_len(data_len: usize) -> usize {
    DWORD_ALIGN(HEADER_LEN + data_len)
}

/// A checked view of one record at the start of `buffer`.
#[derive(Clone, Copy, Debug)]
pub struct Record<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> Record<T> {
    /// Checks that the header and all `ByteCount` data bytes are present and
    /// that the record is not empty; after this no accessor can panic.
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
        let byte_count = record.byte_count();
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

    /// `TimeDeltaMs`.
    #[must_use]
    pub fn time_delta_ms(&self) -> u32 {
        self.u32_at(field::TIME_DELTA_MS)
    }

    /// `ByteCount`: data bytes, padding excluded.
    #[must_use]
    pub fn byte_count(&self) -> u32 {
        self.u32_at(field::BYTE_COUNT)
    }

    /// The record's data bytes.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        // new_checked proved ByteCount fits in the buffer after the header.
        let len = self.byte_count() as usize;
        &self.buffer.as_ref()[field::DATA..field::DATA + len]
    }

    /// The record's padded length: the offset of the next record.
    #[must_use]
    pub fn padded_len(&self) -> usize {
        record_len(self.byte_count() as usize)
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

impl<'a> RecordRepr<'a> {
    /// Reads a checked record.
    #[must_use]
    pub fn parse(record: &Record<&'a [u8]>) -> Self {
        let len = record.byte_count() as usize;
        Self {
            delta_ms: record.time_delta_ms(),
            data: &record.buffer[field::DATA..field::DATA + len],
        }
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

/// Appends records to a buffer, DWORD-padding each one.
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
        let start = DWORD_ALIGN(self.len);
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
    pub fn push(&mut self, delta_ms: u32, data: &[u8]) -> Result<(), EmitError> {
        if data.is_empty() {
            return Err(EmitError::Empty);
        }
        let byte_count = u32::try_from(data.len()).map_err(|_| EmitError::TooLong)?;
        if data.len() > self.data_capacity() {
            return Err(EmitError::Full);
        }
        let start = DWORD_ALIGN(self.len);
        let end = start + HEADER_LEN + data.len();
        let record = &mut self.buffer[start..end];
        record[field::TIME_DELTA_MS].copy_from_slice(&delta_ms.to_le_bytes());
        record[field::BYTE_COUNT].copy_from_slice(&byte_count.to_le_bytes());
        record[field::DATA..].copy_from_slice(data);
        // Zero the padding that fits, so no stale bytes leak to user mode.
        let padded_end = DWORD_ALIGN(end).min(self.buffer.len());
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
    fn header_layout_matches_ksmusicformat() {
        // ksmedia.h: typedef struct { ULONG TimeDeltaMs; ULONG ByteCount; } KSMUSICFORMAT;
        assert_eq!(
            HEADER_LEN,
            core::mem::size_of::<dmus_sys::dmusic::KSMUSICFORMAT>()
        );
        assert_eq!(record_len(3), 12);
        assert_eq!(record_len(4), 12);
        assert_eq!(record_len(5), 16);
    }

    #[test]
    fn writer_pads_and_reader_reads_back() {
        let mut buf = [0xAAu8; 64];
        let mut w = Writer::new(&mut buf);
        w.push(0, &[0x90, 0x3C, 0x40]).unwrap();
        w.push(7, &[0xF0, 1, 2, 3, 0xF7]).unwrap();
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
        w.push(1, &[0x90, 1, 2]).unwrap();
        assert_eq!(w.data_capacity(), 0);
        assert_eq!(w.push(1, &[0xF8]), Err(EmitError::Full));
        assert_eq!(w.push(1, &[]), Err(EmitError::Empty));
        assert_eq!(w.len(), 12);
        assert_eq!(w.records(), 1);
    }

    #[test]
    fn last_record_without_padding_is_accepted() {
        let mut buf = [0u8; 11];
        let mut w = Writer::new(&mut buf);
        w.push(5, &[0x80, 1, 2]).unwrap();
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
