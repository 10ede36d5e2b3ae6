//! The record framing both wire formats share, written once: a buffer is a
//! sequence of records, each a fixed-size header holding (among its fields)
//! the count of data bytes that follow it, then those bytes, then padding to
//! the next record boundary.
//!
//! A [`RecordFormat`] says what differs between `KSMUSICFORMAT` and
//! `DMUS_EVENTHEADER`: the header's size and alignment, where its byte count
//! lies, and what plain values a record carries. [`Record`] (the checked view
//! of one record), [`Reader`] and [`Writer`] are generic over it.

use core::marker::PhantomData;
use core::ops::Range;

use super::{EmitError, WireError};

/// The layout of one wire format's records.
pub trait RecordFormat {
    /// Size of the header in front of each record's data.
    const HEADER_LEN: usize;
    /// Byte range, within the header, of the data byte count (a little-endian
    /// `u32` that excludes the padding).
    const BYTE_COUNT: Range<usize>;
    /// The boundary every record starts on, a power of two.
    const ALIGN: usize;

    /// A record as plain values, borrowing its data bytes.
    type Repr<'a>;

    /// The plain values of a checked record.
    fn parse<'a>(record: &Record<Self, &'a [u8]>) -> Self::Repr<'a>
    where
        Self: Sized;

    /// The data bytes `record` carries.
    fn data<'a>(record: &Self::Repr<'a>) -> &'a [u8];

    /// Writes every header field except the byte count into `header`, which
    /// is exactly [`HEADER_LEN`](Self::HEADER_LEN) bytes long.
    fn emit_fields(record: &Self::Repr<'_>, header: &mut [u8]);
}

/// `len` rounded up to `F`'s record boundary.
const fn align_up<F: RecordFormat>(len: usize) -> usize {
    (len + (F::ALIGN - 1)) & !(F::ALIGN - 1)
}

/// The padded size a record of format `F` with `data_len` data bytes occupies.
#[must_use]
pub const fn record_len<F: RecordFormat>(data_len: usize) -> usize {
    align_up::<F>(F::HEADER_LEN + data_len)
}

/// A checked view of one record of format `F` at the start of `buffer`.
#[derive(Clone, Copy, Debug)]
pub struct Record<F, T: AsRef<[u8]>> {
    buffer: T,
    format: PhantomData<fn() -> F>,
}

impl<F: RecordFormat, T: AsRef<[u8]>> Record<F, T> {
    /// Checks that the header and all its data bytes are present and that the
    /// record is not empty; after this no accessor can panic.
    ///
    /// # Errors
    /// [`WireError`] with offset 0 when the header or data is cut short or the
    /// record has no data.
    pub fn new_checked(buffer: T) -> Result<Self, WireError> {
        const {
            assert!(F::ALIGN.is_power_of_two());
            assert!(F::BYTE_COUNT.end - F::BYTE_COUNT.start == 4);
            assert!(F::BYTE_COUNT.end <= F::HEADER_LEN);
        }
        let total = buffer.as_ref().len();
        if total < F::HEADER_LEN {
            return Err(WireError::HeaderTruncated { offset: 0 });
        }
        let record = Self {
            buffer,
            format: PhantomData,
        };
        let byte_count = record.byte_count();
        let available = total - F::HEADER_LEN;
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

    /// The little-endian `u32` at `range` of the header. Each format asserts
    /// at compile time that its field ranges are 4 bytes inside the header,
    /// which `new_checked` proved present.
    pub(super) fn u32_at(&self, range: Range<usize>) -> u32 {
        let mut le = [0u8; 4];
        le.copy_from_slice(&self.buffer.as_ref()[range]);
        u32::from_le_bytes(le)
    }

    /// The little-endian `i64` at `range` of the header (see [`Self::u32_at`]).
    pub(super) fn i64_at(&self, range: Range<usize>) -> i64 {
        let mut le = [0u8; 8];
        le.copy_from_slice(&self.buffer.as_ref()[range]);
        i64::from_le_bytes(le)
    }

    /// The header's byte count (`ByteCount`, `cbEvent`): data bytes, padding
    /// excluded.
    #[must_use]
    pub fn byte_count(&self) -> u32 {
        self.u32_at(F::BYTE_COUNT)
    }

    /// The record's data bytes.
    #[must_use]
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[self.data_range()]
    }

    /// Where the data bytes lie in the buffer: `new_checked` proved the byte
    /// count fits after the header.
    fn data_range(&self) -> Range<usize> {
        F::HEADER_LEN..F::HEADER_LEN + self.byte_count() as usize
    }

    /// The record's padded length: the offset of the next record.
    #[must_use]
    pub fn padded_len(&self) -> usize {
        record_len::<F>(self.byte_count() as usize)
    }
}

impl<'a, F: RecordFormat> Record<F, &'a [u8]> {
    /// The record's data bytes, borrowed for as long as the buffer is.
    #[must_use]
    pub fn into_data(self) -> &'a [u8] {
        &self.buffer[self.data_range()]
    }
}

/// Iterates over the records of a buffer of format `F`, yielding each record
/// with its offset, and stops after the first error (which it yields).
#[derive(Clone, Debug)]
pub struct Reader<'a, F> {
    buffer: &'a [u8],
    offset: usize,
    failed: bool,
    format: PhantomData<fn() -> F>,
}

impl<'a, F> Reader<'a, F> {
    /// A reader over the used part of a buffer (`DataUsed` bytes).
    #[must_use]
    pub const fn new(buffer: &'a [u8]) -> Self {
        Self {
            buffer,
            offset: 0,
            failed: false,
            format: PhantomData,
        }
    }

    /// Offset of the next record to read.
    #[must_use]
    pub const fn offset(&self) -> usize {
        self.offset
    }
}

impl<'a, F: RecordFormat> Iterator for Reader<'a, F> {
    type Item = Result<(usize, F::Repr<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.failed || self.offset >= self.buffer.len() {
            return None;
        }
        let offset = self.offset;
        let rest = self.buffer.get(offset..).unwrap_or_default();
        match Record::<F, _>::new_checked(rest) {
            Ok(record) => {
                self.offset = offset.saturating_add(record.padded_len());
                Some(Ok((offset, F::parse(&record))))
            }
            Err(error) => {
                self.failed = true;
                Some(Err(error.at(offset)))
            }
        }
    }
}

impl<F: RecordFormat> core::iter::FusedIterator for Reader<'_, F> {}

/// Appends records of format `F` to a buffer, padding each one to the
/// format's boundary and zeroing the padding, so no stale bytes leak to user
/// mode.
#[derive(Debug)]
pub struct Writer<'a, F> {
    buffer: &'a mut [u8],
    len: usize,
    records: usize,
    format: PhantomData<fn() -> F>,
}

impl<'a, F: RecordFormat> Writer<'a, F> {
    /// A writer that starts at the beginning of `buffer`.
    pub fn new(buffer: &'a mut [u8]) -> Self {
        Self {
            buffer,
            len: 0,
            records: 0,
            format: PhantomData,
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
        let start = align_up::<F>(self.len);
        self.buffer
            .len()
            .saturating_sub(start)
            .saturating_sub(F::HEADER_LEN)
    }

    /// Appends one record.
    ///
    /// # Errors
    /// [`EmitError::Empty`] for no data, [`EmitError::TooLong`] for more than
    /// `u32::MAX` bytes, [`EmitError::Full`] when header and data do not fit;
    /// nothing is written then.
    pub fn push(&mut self, record: &F::Repr<'_>) -> Result<(), EmitError> {
        let data = F::data(record);
        if data.is_empty() {
            return Err(EmitError::Empty);
        }
        let byte_count = u32::try_from(data.len()).map_err(|_| EmitError::TooLong)?;
        if data.len() > self.data_capacity() {
            return Err(EmitError::Full);
        }
        let start = align_up::<F>(self.len);
        let end = start + F::HEADER_LEN + data.len();
        // Zero the alignment gap the previous record's padding left, if any.
        self.buffer[self.len..start].fill(0);
        let (header, body) = self.buffer[start..end].split_at_mut(F::HEADER_LEN);
        header[F::BYTE_COUNT].copy_from_slice(&byte_count.to_le_bytes());
        F::emit_fields(record, header);
        body.copy_from_slice(data);
        // Zero the padding that fits; the buffer may end before it.
        let padded_end = align_up::<F>(end).min(self.buffer.len());
        self.buffer[end..padded_end].fill(0);
        self.len = padded_end;
        self.records += 1;
        Ok(())
    }
}
