//! Cycle detection for the index chains of a download buffer, in O(1) per step.

use alloc::vec;
use alloc::vec::Vec;

use super::DownloadError;

/// One stamp per offset-table entry; each chain walk uses a fresh stamp, so a repeat within
/// one chain is a cycle while links shared by different chains are allowed.
pub struct Visits {
    stamps: Vec<u32>,
    current: u32,
}

impl Visits {
    /// For a table of `entries` entries.
    pub fn new(entries: usize) -> Self {
        Self {
            stamps: vec![0; entries],
            current: 0,
        }
    }

    /// Starts a new chain.
    pub fn begin(&mut self) {
        self.current = self.current.wrapping_add(1);
        if self.current == 0 {
            self.stamps.iter_mut().for_each(|s| *s = 0);
            self.current = 1;
        }
    }

    /// Marks `index` as visited by the current chain.
    pub fn visit(&mut self, index: u32) -> Result<(), DownloadError> {
        let slot = self
            .stamps
            .get_mut(crate::wire::bytes::to_usize(index))
            .ok_or(DownloadError::BadIndex)?;
        if *slot == self.current {
            return Err(DownloadError::Cycle);
        }
        *slot = self.current;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeat_within_a_chain_is_a_cycle_but_not_across_chains() {
        let mut v = Visits::new(3);
        v.begin();
        assert_eq!(v.visit(1), Ok(()));
        assert_eq!(v.visit(2), Ok(()));
        assert_eq!(v.visit(1), Err(DownloadError::Cycle));
        v.begin();
        assert_eq!(v.visit(1), Ok(()));
        assert_eq!(v.visit(3), Err(DownloadError::BadIndex));
    }
}
