//! The 64-bit `SLIST_HEADER` encoding (wdm.h `HeaderX64`): the low word holds `Depth` (16 bits)
//! and `Sequence` (48), the high word `HeaderType` (bit 0, 1 for this 16-byte header), 3
//! reserved bits and `NextEntry` (the first entry's address >> 4, entries being 16-byte
//! aligned). `InitializeSListHead` writes (0, `HeaderType` = 1), as Wine's
//! `RtlInitializeSListHead` does for 64-bit.

/// `HeaderX64.HeaderType` for the 16-byte header.
pub const HEADER_TYPE_X64: u64 = 1;

/// A decoded header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SListHeader {
    /// Entries on the list.
    pub depth: u16,
    /// Bumped by every push and pop.
    pub sequence: u64,
    /// Address of the first entry (0 when empty).
    pub first: usize,
}

impl SListHeader {
    /// Decodes the header's two words (`Alignment`, `Region`).
    #[must_use]
    pub fn decode(alignment: u64, region: u64) -> Self {
        Self {
            depth: u16::try_from(alignment & 0xFFFF).unwrap_or(u16::MAX),
            sequence: alignment >> 16,
            first: usize::try_from(region & !0xF).unwrap_or(0),
        }
    }

    /// Encodes the header's two words (`Alignment`, `Region`).
    #[must_use]
    pub fn encode(self) -> (u64, u64) {
        let alignment = u64::from(self.depth) | ((self.sequence & 0xFFFF_FFFF_FFFF) << 16);
        let region = (self.first as u64 & !0xF) | HEADER_TYPE_X64;
        (alignment, region)
    }

    /// The header after pushing the entry at `entry`.
    #[must_use]
    pub const fn pushed(self, entry: usize) -> Self {
        Self {
            depth: self.depth.wrapping_add(1),
            sequence: self.sequence + 1,
            first: entry,
        }
    }

    /// The header after popping the first entry, whose `Next` is `next`.
    #[must_use]
    pub const fn popped(self, next: usize) -> Self {
        Self {
            depth: self.depth.wrapping_sub(1),
            sequence: self.sequence + 1,
            first: next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn initialised_header_decodes_empty() {
        assert_eq!(
            SListHeader::decode(0, HEADER_TYPE_X64),
            SListHeader {
                depth: 0,
                sequence: 0,
                first: 0
            }
        );
    }

    #[test]
    fn push_and_pop_round_trip_through_the_encoding() {
        let empty = SListHeader::decode(0, HEADER_TYPE_X64);
        let one = empty.pushed(0x1234_5670);
        let (a, r) = one.encode();
        assert_eq!((a, r), (0x1_0001, 0x1234_5671));
        assert_eq!(SListHeader::decode(a, r), one);
        let back = SListHeader::decode(a, r).popped(0);
        assert_eq!(
            back,
            SListHeader {
                depth: 0,
                sequence: 2,
                first: 0
            }
        );
    }
}
