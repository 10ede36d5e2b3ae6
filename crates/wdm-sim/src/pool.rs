//! Pool: allocations by tag, their leak report, and injected allocation failures.
//!
//! Each allocation is its own 16-byte-aligned host buffer (the x64 pool's alignment), kept in
//! a map by address so a free can be checked: NULL, not allocated (double free), or freed with
//! another tag are findings and leave the pool intact.
//!
//! Like Driver Verifier's special pool, a freed block is not returned to the host at once: it
//! is filled with [`FREED_FILL`] and held in a quarantine of the last [`QUARANTINE_BLOCKS`]
//! frees. A write through a stale pointer lands there instead of in someone else's memory, and
//! is found when the block leaves the quarantine (or at the unload checks).

use alloc::collections::{BTreeMap, VecDeque};
use alloc::vec;
use alloc::vec::Vec;

use crate::config::FaultInjection;
use crate::prng::SplitMix64;

/// The unit pool memory is made of: gives every allocation 16-byte alignment.
#[repr(C, align(16))]
#[derive(Clone, Copy, Debug)]
struct Chunk([u8; 16]);

/// One live allocation.
#[derive(Debug)]
struct Block {
    /// The memory; its address is the allocation's and never changes while it lives here.
    memory: Vec<Chunk>,
    size: usize,
    tag: u32,
}

/// A live allocation, as the leak report and the active-object check see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BlockInfo {
    /// Start address.
    pub address: usize,
    /// Bytes requested.
    pub size: usize,
    /// Pool tag.
    pub tag: u32,
}

/// Why a free was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FreeError {
    /// The pointer was NULL.
    Null,
    /// Not a live allocation: already freed, or never allocated.
    NotAllocated,
}

/// Leaked pool, summed for one tag.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TagUsage {
    /// Allocations.
    pub count: usize,
    /// Their bytes.
    pub bytes: usize,
}

/// Everything allocated with one tag over the machine's life (freed or not).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TagTotals {
    /// Allocations made.
    pub allocations: u64,
    /// Their bytes.
    pub bytes: u64,
    /// Of them freed.
    pub frees: u64,
    /// The most bytes live at once.
    pub peak_bytes: u64,
}

/// The byte uninitialised pool (`POOL_FLAG_UNINITIALIZED`) is filled with, so a driver that
/// reads it before writing sees something other than zero.
pub const UNINITIALIZED_FILL: u8 = 0xA5;

/// The byte a freed block is filled with while in quarantine.
pub const FREED_FILL: u8 = 0xFD;
/// How many freed blocks the quarantine holds.
pub const QUARANTINE_BLOCKS: usize = 256;

/// A freed block written after its free.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ModifiedAfterFree {
    /// The block as it was allocated.
    pub block: BlockInfo,
    /// Offset of the first modified byte.
    pub offset: usize,
}

/// The pool.
#[derive(Debug)]
pub struct Pool {
    blocks: BTreeMap<usize, Block>,
    quarantine: VecDeque<(usize, Block)>,
    attempts: u64,
    failures: u64,
    faults: FaultInjection,
    rng: SplitMix64,
    totals: BTreeMap<u32, TagTotals>,
    live_by_tag: BTreeMap<u32, u64>,
}

impl Pool {
    /// An empty pool that injects `faults`.
    #[must_use]
    pub fn new(faults: FaultInjection) -> Self {
        let rng = SplitMix64::new(faults.seed);
        Self {
            blocks: BTreeMap::new(),
            quarantine: VecDeque::new(),
            attempts: 0,
            failures: 0,
            faults,
            rng,
            totals: BTreeMap::new(),
            live_by_tag: BTreeMap::new(),
        }
    }

    /// Counts one allocation attempt (of any allocating kernel call) and says whether fault
    /// injection makes it fail.
    pub fn inject_failure(&mut self) -> bool {
        self.attempts += 1;
        let nth = self.faults.fail_nth == Some(self.attempts)
            || self
                .faults
                .fail_from
                .is_some_and(|from| self.attempts >= from);
        let random = self.faults.fail_ppm != 0 && self.rng.chance_ppm(self.faults.fail_ppm);
        if nth || random {
            self.failures += 1;
        }
        nth || random
    }

    /// Allocation attempts so far (including failed ones).
    #[must_use]
    pub const fn attempts(&self) -> u64 {
        self.attempts
    }

    /// Allocations fault injection failed so far.
    #[must_use]
    pub const fn injected_failures(&self) -> u64 {
        self.failures
    }

    /// Allocates `size` bytes (at least one) with `tag`, zeroed or filled with
    /// [`UNINITIALIZED_FILL`]. Returns the address.
    pub fn allocate(&mut self, size: usize, tag: u32, zeroed: bool) -> usize {
        let fill = if zeroed { 0 } else { UNINITIALIZED_FILL };
        let chunks = size.max(1).div_ceil(16);
        let mut memory = vec![Chunk([fill; 16]); chunks];
        let address = memory.as_mut_ptr() as usize;
        self.blocks.insert(address, Block { memory, size, tag });
        let live = self.live_by_tag.entry(tag).or_default();
        *live += size as u64;
        let totals = self.totals.entry(tag).or_default();
        totals.allocations += 1;
        totals.bytes += size as u64;
        totals.peak_bytes = totals.peak_bytes.max(*live);
        address
    }

    /// Everything allocated so far, by tag (tags in ascending order).
    #[must_use]
    pub const fn totals_by_tag(&self) -> &BTreeMap<u32, TagTotals> {
        &self.totals
    }

    /// Frees the allocation at `address` into the quarantine. Returns the block, and a block
    /// the quarantine let go that had been written after its free, if any.
    ///
    /// # Errors
    /// [`FreeError`] when `address` is NULL or not a live allocation; nothing changes then.
    pub fn free(
        &mut self,
        address: usize,
    ) -> Result<(BlockInfo, Option<ModifiedAfterFree>), FreeError> {
        if address == 0 {
            return Err(FreeError::Null);
        }
        let mut block = self
            .blocks
            .remove(&address)
            .ok_or(FreeError::NotAllocated)?;
        let info = BlockInfo {
            address,
            size: block.size,
            tag: block.tag,
        };
        if let Some(live) = self.live_by_tag.get_mut(&block.tag) {
            *live -= block.size as u64;
        }
        if let Some(totals) = self.totals.get_mut(&block.tag) {
            totals.frees += 1;
        }
        block.memory.fill(Chunk([FREED_FILL; 16]));
        self.quarantine.push_back((address, block));
        let evicted = if self.quarantine.len() > QUARANTINE_BLOCKS {
            self.quarantine
                .pop_front()
                .and_then(|(a, b)| Self::modified(a, &b))
        } else {
            None
        };
        Ok((info, evicted))
    }

    fn modified(address: usize, block: &Block) -> Option<ModifiedAfterFree> {
        // Chunk by chunk first (a freed block can be megabytes), then the byte in it.
        let freed = [FREED_FILL; 16];
        let chunk = block.memory.iter().position(|c| c.0 != freed)?;
        let byte = block.memory[chunk]
            .0
            .iter()
            .position(|&b| b != FREED_FILL)?;
        let offset = chunk * 16 + byte;
        Some(ModifiedAfterFree {
            block: BlockInfo {
                address,
                size: block.size,
                tag: block.tag,
            },
            offset,
        })
    }

    /// Empties the quarantine, returning the blocks written after their free.
    pub fn drain_quarantine(&mut self) -> Vec<ModifiedAfterFree> {
        self.quarantine
            .drain(..)
            .filter_map(|(a, b)| Self::modified(a, &b))
            .collect()
    }

    /// The live allocation containing `address`, if any.
    #[must_use]
    pub fn containing(&self, address: usize) -> Option<BlockInfo> {
        let (&start, block) = self.blocks.range(..=address).next_back()?;
        (address < start + block.size.max(1)).then_some(BlockInfo {
            address: start,
            size: block.size,
            tag: block.tag,
        })
    }

    /// Writes `bytes` at the start of the live allocation at `address` (a simulated kernel
    /// component filling its own pool); false, and nothing written, when `address` is not a
    /// live allocation or `bytes` is longer than it.
    pub fn write(&mut self, address: usize, bytes: &[u8]) -> bool {
        let Some(block) = self.blocks.get_mut(&address) else {
            return false;
        };
        if bytes.len() > block.size {
            return false;
        }
        for (chunk, part) in block.memory.iter_mut().zip(bytes.chunks(16)) {
            chunk.0[..part.len()].copy_from_slice(part);
        }
        true
    }

    /// The live allocation starting at `address`, if any.
    #[must_use]
    pub fn block(&self, address: usize) -> Option<BlockInfo> {
        self.blocks.get(&address).map(|b| BlockInfo {
            address,
            size: b.size,
            tag: b.tag,
        })
    }

    /// Live allocations.
    #[must_use]
    pub fn live(&self) -> usize {
        self.blocks.len()
    }

    /// Live bytes.
    #[must_use]
    pub fn live_bytes(&self) -> usize {
        self.blocks.values().map(|b| b.size).sum()
    }

    /// Live allocations summed by tag, tags in ascending order.
    #[must_use]
    pub fn usage_by_tag(&self) -> BTreeMap<u32, TagUsage> {
        let mut usage = BTreeMap::<u32, TagUsage>::new();
        for block in self.blocks.values() {
            let entry = usage.entry(block.tag).or_default();
            entry.count += 1;
            entry.bytes += block.size;
        }
        usage
    }

    /// Drops every live and quarantined allocation (the machine is going away).
    pub fn clear(&mut self) {
        self.blocks.clear();
        self.quarantine.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAG: u32 = u32::from_le_bytes(*b"Test");

    #[test]
    fn allocations_are_aligned_zeroed_and_freed_once() {
        let mut pool = Pool::new(FaultInjection::default());
        let a = pool.allocate(40, TAG, true);
        assert_eq!(a % 16, 0);
        assert_eq!(
            pool.block(a),
            Some(BlockInfo {
                address: a,
                size: 40,
                tag: TAG
            })
        );
        assert_eq!(pool.containing(a + 39).map(|b| b.address), Some(a));
        assert_eq!(pool.containing(a + 48), None);
        assert_eq!(pool.live_bytes(), 40);
        assert_eq!(
            pool.free(a),
            Ok((
                BlockInfo {
                    address: a,
                    size: 40,
                    tag: TAG
                },
                None
            ))
        );
        assert_eq!(pool.free(a), Err(FreeError::NotAllocated));
        assert_eq!(pool.free(0), Err(FreeError::Null));
        assert_eq!(pool.live(), 0);
    }

    #[test]
    fn a_write_after_free_is_found_when_the_block_leaves_quarantine() {
        let mut pool = Pool::new(FaultInjection::default());
        let stale = pool.allocate(24, TAG, true);
        pool.free(stale).unwrap();
        let stale_ptr = stale as *mut u8;
        // The driver's bug, simulated: a write through the freed pointer (the block is still
        // host memory, held by the quarantine).
        // SAFETY: the quarantine keeps the 32-byte block alive; offset 5 is inside it.
        unsafe { stale_ptr.wrapping_add(5).write(0x42) };
        let mut evicted = None;
        for _ in 0..QUARANTINE_BLOCKS {
            let a = pool.allocate(8, TAG, true);
            evicted = evicted.or(pool.free(a).unwrap().1);
        }
        assert_eq!(
            evicted,
            Some(ModifiedAfterFree {
                block: BlockInfo {
                    address: stale,
                    size: 24,
                    tag: TAG
                },
                offset: 5
            })
        );
        assert!(pool.drain_quarantine().is_empty());
    }

    #[test]
    fn untouched_freed_blocks_pass_the_quarantine_check() {
        let mut pool = Pool::new(FaultInjection::default());
        for _ in 0..10 {
            let a = pool.allocate(100, TAG, false);
            pool.free(a).unwrap();
        }
        assert!(pool.drain_quarantine().is_empty());
    }

    #[test]
    fn usage_is_summed_by_tag() {
        let mut pool = Pool::new(FaultInjection::default());
        let other = u32::from_le_bytes(*b"Othr");
        pool.allocate(10, TAG, true);
        pool.allocate(20, TAG, false);
        pool.allocate(5, other, true);
        let usage = pool.usage_by_tag();
        assert_eq!(
            usage[&TAG],
            TagUsage {
                count: 2,
                bytes: 30
            }
        );
        assert_eq!(usage[&other], TagUsage { count: 1, bytes: 5 });
    }

    #[test]
    fn totals_count_every_allocation_free_and_the_peak() {
        let mut pool = Pool::new(FaultInjection::default());
        let a = pool.allocate(10, TAG, true);
        let b = pool.allocate(20, TAG, false);
        pool.free(a).unwrap();
        let c = pool.allocate(5, TAG, true);
        pool.free(b).unwrap();
        pool.free(c).unwrap();
        assert_eq!(
            pool.totals_by_tag()[&TAG],
            TagTotals {
                allocations: 3,
                bytes: 35,
                frees: 3,
                peak_bytes: 30
            }
        );
        assert_eq!(pool.live(), 0);
    }

    #[test]
    fn nth_allocation_fails_exactly_once() {
        let mut pool = Pool::new(FaultInjection {
            fail_nth: Some(3),
            ..FaultInjection::default()
        });
        let failed: Vec<bool> = (0..5).map(|_| pool.inject_failure()).collect();
        assert_eq!(failed, [false, false, true, false, false]);
        assert_eq!((pool.attempts(), pool.injected_failures()), (5, 1));
    }

    #[test]
    fn every_allocation_from_the_nth_on_fails() {
        let mut pool = Pool::new(FaultInjection {
            fail_from: Some(3),
            ..FaultInjection::default()
        });
        let failed: Vec<bool> = (0..5).map(|_| pool.inject_failure()).collect();
        assert_eq!(failed, [false, false, true, true, true]);
    }

    #[test]
    fn seeded_fraction_fails_the_same_allocations_every_run() {
        let faults = FaultInjection {
            fail_ppm: 250_000,
            seed: 7,
            ..FaultInjection::default()
        };
        let run = |faults: &FaultInjection| {
            let mut pool = Pool::new(faults.clone());
            (0..1000).map(|_| pool.inject_failure()).collect::<Vec<_>>()
        };
        let first = run(&faults);
        assert_eq!(first, run(&faults));
        let failures = first.iter().filter(|&&f| f).count();
        assert!((200..300).contains(&failures), "{failures} of 1000 at 25%");
    }
}
