//! The checked view of a `DirectMusic` download buffer: `DMUS_DOWNLOADINFO`, then
//! `dwNumOffsetTableEntries` offsets (`DMUS_OFFSETTABLE`), then the items they point at.
//!
//! [`DownloadView::new_checked`] checks the header and every offset once; after it no accessor
//! can panic or read outside the buffer, and every item slice ends at `cbSize`.

use super::bytes::{to_usize, u32_at};
use crate::download::DownloadError;

/// Size of `DMUS_DOWNLOADINFO`.
pub const INFO_LEN: usize = 16;

/// A validated download buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DownloadView<'a> {
    buffer: &'a [u8],
    kind: u32,
    dlid: u32,
    entries: u32,
    size: usize,
}

impl<'a> DownloadView<'a> {
    /// Checks `buffer` (the whole buffer the client passed, `SYNTH_BUFFER::BufferSize` bytes):
    /// the header fits, `cbSize` lies within the buffer and holds the offset table, there is at
    /// least one entry, and every offset points past the table and before `cbSize`.
    ///
    /// # Errors
    /// [`DownloadError::Truncated`] or [`DownloadError::BadOffsetTable`].
    pub fn new_checked(buffer: &'a [u8]) -> Result<Self, DownloadError> {
        let field = |at| u32_at(buffer, at).ok_or(DownloadError::Truncated);
        let kind = field(0)?;
        let dlid = field(4)?;
        let entries = field(8)?;
        let size = to_usize(field(12)?);
        if size > buffer.len() {
            return Err(DownloadError::Truncated);
        }
        let table_end = to_usize(entries)
            .checked_mul(4)
            .and_then(|n| n.checked_add(INFO_LEN));
        let table_end = table_end
            .filter(|&end| end <= size)
            .ok_or(DownloadError::BadOffsetTable)?;
        if entries == 0 {
            return Err(DownloadError::BadOffsetTable);
        }
        let view = Self {
            buffer,
            kind,
            dlid,
            entries,
            size,
        };
        for index in 0..entries {
            let offset = view.raw_offset(index);
            if offset < table_end || offset >= size {
                return Err(DownloadError::BadOffsetTable);
            }
        }
        Ok(view)
    }

    fn raw_offset(&self, index: u32) -> usize {
        let at = INFO_LEN + 4 * to_usize(index);
        u32_at(self.buffer, at).map_or(usize::MAX, to_usize)
    }

    /// `dwDLType`.
    #[must_use]
    pub fn kind(&self) -> u32 {
        self.kind
    }

    /// `dwDLId`.
    #[must_use]
    pub fn dlid(&self) -> u32 {
        self.dlid
    }

    /// `dwNumOffsetTableEntries` (at least 1).
    #[must_use]
    pub fn entries(&self) -> u32 {
        self.entries
    }

    /// `cbSize`: the end of the download data.
    #[must_use]
    pub fn size(&self) -> usize {
        self.size
    }

    /// The whole buffer, including any bytes after `cbSize`.
    #[must_use]
    pub fn buffer(&self) -> &'a [u8] {
        self.buffer
    }

    /// The offset of item `index`.
    ///
    /// # Errors
    /// [`DownloadError::BadIndex`] when `index` is not in the table.
    pub fn offset(&self, index: u32) -> Result<usize, DownloadError> {
        if index >= self.entries {
            return Err(DownloadError::BadIndex);
        }
        Ok(self.raw_offset(index))
    }

    /// Item `index`: the bytes from its offset to `cbSize`, checked to hold at least `min_len`.
    ///
    /// # Errors
    /// [`DownloadError::BadIndex`], or [`DownloadError::Truncated`] when fewer than `min_len`
    /// bytes remain.
    pub fn item(&self, index: u32, min_len: usize) -> Result<&'a [u8], DownloadError> {
        let offset = self.offset(index)?;
        let item = self
            .buffer
            .get(offset..self.size)
            .ok_or(DownloadError::Truncated)?;
        if item.len() < min_len {
            return Err(DownloadError::Truncated);
        }
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec::Vec;

    fn buffer(kind: u32, entries: u32, size: u32, offsets: &[u32], total: usize) -> Vec<u8> {
        let mut b = Vec::new();
        for v in [kind, 7, entries, size] {
            b.extend_from_slice(&v.to_le_bytes());
        }
        for o in offsets {
            b.extend_from_slice(&o.to_le_bytes());
        }
        b.resize(total, 0xaa);
        b
    }

    #[test]
    fn valid_buffer_gives_items_ending_at_cb_size() {
        let b = buffer(2, 2, 40, &[24, 32], 48);
        let v = DownloadView::new_checked(&b).unwrap();
        assert_eq!((v.kind(), v.dlid(), v.entries(), v.size()), (2, 7, 2, 40));
        assert_eq!(v.item(0, 16).unwrap().len(), 16);
        assert_eq!(v.item(1, 8).unwrap().len(), 8);
        assert_eq!(v.item(1, 9), Err(DownloadError::Truncated));
        assert_eq!(v.item(2, 0), Err(DownloadError::BadIndex));
        assert_eq!(v.buffer().len(), 48);
    }

    #[test]
    fn header_and_table_faults_are_refused() {
        assert_eq!(
            DownloadView::new_checked(&[0; 15]),
            Err(DownloadError::Truncated)
        );
        // cbSize past the buffer.
        assert_eq!(
            DownloadView::new_checked(&buffer(2, 1, 64, &[20], 40)),
            Err(DownloadError::Truncated)
        );
        // No entries.
        assert_eq!(
            DownloadView::new_checked(&buffer(2, 0, 32, &[], 32)),
            Err(DownloadError::BadOffsetTable)
        );
        // Table larger than cbSize.
        assert_eq!(
            DownloadView::new_checked(&buffer(2, 0x4000_0000, 32, &[], 32)),
            Err(DownloadError::BadOffsetTable)
        );
        // Offset into the table, and offset at cbSize.
        assert_eq!(
            DownloadView::new_checked(&buffer(2, 1, 32, &[16], 32)),
            Err(DownloadError::BadOffsetTable)
        );
        assert_eq!(
            DownloadView::new_checked(&buffer(2, 1, 32, &[32], 40)),
            Err(DownloadError::BadOffsetTable)
        );
    }
}
