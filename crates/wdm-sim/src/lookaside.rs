//! Lookaside lists: which `NPAGED_LOOKASIDE_LIST`s the driver initialised, what the exported
//! `SList` primitives did to their heads, and the check at `ExDeleteNPagedLookasideList` that the
//! counters the driver's inline allocate/free routines keep add up.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// The depth `ExInitializeNPagedLookasideList` starts a list at (`ExMinimumLookasideDepth`);
/// the simulation does not run the balance-set manager that would trim or grow it.
pub const INITIAL_DEPTH: u16 = 4;
/// The upper bound of a list's depth (`MaximumDepth`).
pub const MAXIMUM_DEPTH: u16 = 256;

/// What the simulation knows about one list.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookasideRecord {
    /// Entry size.
    pub size: usize,
    /// Pool tag.
    pub tag: u32,
    /// Non-empty pops of its `ListHead` through the exported primitives.
    pub pops: u64,
    /// Pushes onto its `ListHead`.
    pub pushes: u64,
}

/// The counters of a list's `GENERAL_LOOKASIDE`, as read at delete.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LookasideCounters {
    /// `Depth`.
    pub depth: u16,
    /// `MaximumDepth`.
    pub maximum_depth: u16,
    /// `TotalAllocates`.
    pub total_allocates: u32,
    /// `AllocateMisses`.
    pub allocate_misses: u32,
    /// `TotalFrees`.
    pub total_frees: u32,
    /// `FreeMisses`.
    pub free_misses: u32,
    /// Entries on `ListHead`.
    pub list_depth: u16,
}

/// Lists by address.
#[derive(Debug, Default)]
pub struct Lookasides {
    /// Live lists by address (their `ListHead` is at offset 0).
    pub lists: BTreeMap<usize, LookasideRecord>,
}

impl Lookasides {
    /// Notes a push onto the `SList` head at `head` (if it is a list's).
    pub fn note_push(&mut self, head: usize) {
        if let Some(list) = self.lists.get_mut(&head) {
            list.pushes += 1;
        }
    }

    /// Notes a non-empty pop of the `SList` head at `head` (if it is a list's).
    pub fn note_pop(&mut self, head: usize) {
        if let Some(list) = self.lists.get_mut(&head) {
            list.pops += 1;
        }
    }
}

/// Checks a list's counters against each other and against what the `SList` primitives saw.
/// Returns one line per inconsistency.
#[must_use]
pub fn check_counters(record: &LookasideRecord, c: &LookasideCounters) -> Vec<String> {
    let mut problems = Vec::new();
    let allocs = u64::from(c.total_allocates);
    let frees = u64::from(c.total_frees);
    if c.allocate_misses > c.total_allocates {
        problems.push(format!(
            "AllocateMisses {} > TotalAllocates {}",
            c.allocate_misses, c.total_allocates
        ));
    }
    if c.free_misses > c.total_frees {
        problems.push(format!(
            "FreeMisses {} > TotalFrees {}",
            c.free_misses, c.total_frees
        ));
    }
    if frees != allocs {
        problems.push(format!(
            "TotalAllocates {} but TotalFrees {}: {} entr(ies) not freed to the list",
            c.total_allocates,
            c.total_frees,
            allocs.abs_diff(frees)
        ));
    }
    let hits = allocs.saturating_sub(u64::from(c.allocate_misses));
    if hits != record.pops {
        problems.push(format!(
            "TotalAllocates - AllocateMisses = {hits}, but the list head was popped {} time(s)",
            record.pops
        ));
    }
    let pushed = frees.saturating_sub(u64::from(c.free_misses));
    if pushed != record.pushes {
        problems.push(format!(
            "TotalFrees - FreeMisses = {pushed}, but the list head was pushed {} time(s)",
            record.pushes
        ));
    }
    let expected_depth = record.pushes.saturating_sub(record.pops);
    if u64::from(c.list_depth) != expected_depth {
        problems.push(format!(
            "list depth {} but {} push(es) and {} pop(s)",
            c.list_depth, record.pushes, record.pops
        ));
    }
    if c.list_depth > c.depth.max(c.maximum_depth) {
        problems.push(format!(
            "list holds {} entries, above its Depth {}",
            c.list_depth, c.depth
        ));
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balanced_counters_pass() {
        // 10 allocations: 4 misses + 6 pops; 10 frees: 2 misses + 8 pushes; 2 left on the list.
        let record = LookasideRecord {
            size: 40,
            tag: 1,
            pops: 6,
            pushes: 8,
        };
        let c = LookasideCounters {
            depth: 4,
            maximum_depth: 256,
            total_allocates: 10,
            allocate_misses: 4,
            total_frees: 10,
            free_misses: 2,
            list_depth: 2,
        };
        assert!(check_counters(&record, &c).is_empty());
    }

    #[test]
    fn unbalanced_counters_are_each_reported() {
        let record = LookasideRecord {
            size: 40,
            tag: 1,
            pops: 1,
            pushes: 0,
        };
        let c = LookasideCounters {
            depth: 4,
            maximum_depth: 256,
            total_allocates: 2,
            allocate_misses: 3,
            total_frees: 1,
            free_misses: 0,
            list_depth: 0,
        };
        let problems = check_counters(&record, &c);
        assert_eq!(
            problems,
            [
                "AllocateMisses 3 > TotalAllocates 2",
                "TotalAllocates 2 but TotalFrees 1: 1 entr(ies) not freed to the list",
                "TotalAllocates - AllocateMisses = 0, but the list head was popped 1 time(s)",
                "TotalFrees - FreeMisses = 1, but the list head was pushed 0 time(s)",
            ]
        );
    }
}
