//! Every offset-table entry may be used once per buffer.
//!
//! `DirectMusic` writes each item of a download buffer for one owner (one region's articulation,
//! one wave's data), and ddksynth clears the links it follows so that a loop cannot trap it.
//! Claiming each index at most once refuses loops in any chain (regions, articulation links,
//! extension chunks) and items shared between owners alike, and bounds the parser's total
//! work by the number of entries: a hostile buffer cannot make it walk one long chain many
//! times. One bit per entry.

use alloc::vec::Vec;

use super::DownloadError;
use super::error::try_with_capacity;
use crate::wire::bytes::to_usize;

/// The set of claimed offset-table indices.
pub struct Claims {
    bits: Vec<u64>,
    entries: usize,
}

impl Claims {
    /// For a table of `entries` entries; index 0 (the buffer's main item) is claimed.
    ///
    /// # Errors
    /// [`DownloadError::OutOfMemory`] when the claim bits cannot be allocated.
    pub fn new(entries: usize) -> Result<Self, DownloadError> {
        let words = entries.div_ceil(64);
        let mut bits = try_with_capacity(words)?;
        bits.resize(words, 0);
        let mut claims = Self { bits, entries };
        if entries > 0 {
            claims.bits[0] = 1;
        }
        Ok(claims)
    }

    /// Claims `index`.
    ///
    /// # Errors
    /// [`DownloadError::BadIndex`] outside the table, [`DownloadError::Cycle`] when the index
    /// was already used.
    pub fn claim(&mut self, index: u32) -> Result<(), DownloadError> {
        let i = to_usize(index);
        if i >= self.entries {
            return Err(DownloadError::BadIndex);
        }
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        let slot = self.bits.get_mut(word).ok_or(DownloadError::BadIndex)?;
        if *slot & bit != 0 {
            return Err(DownloadError::Cycle);
        }
        *slot |= bit;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_index_is_claimed_once() {
        let mut c = Claims::new(130).unwrap();
        assert_eq!(
            c.claim(0),
            Err(DownloadError::Cycle),
            "the main item is never a link"
        );
        assert_eq!(c.claim(1), Ok(()));
        assert_eq!(c.claim(129), Ok(()));
        assert_eq!(c.claim(1), Err(DownloadError::Cycle));
        assert_eq!(c.claim(130), Err(DownloadError::BadIndex));
        assert_eq!(c.claim(u32::MAX), Err(DownloadError::BadIndex));
    }
}
