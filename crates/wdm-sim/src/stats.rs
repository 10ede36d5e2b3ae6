//! Duration statistics of the driver routines the simulation ran (virtual time).

use alloc::collections::BTreeMap;

/// Runs of one routine.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoutineStats {
    /// Runs.
    pub count: u64,
    /// Total ticks.
    pub total: u64,
    /// Longest run, ticks.
    pub longest: u64,
}

impl RoutineStats {
    fn record(&mut self, duration: u64) {
        self.count += 1;
        self.total += duration;
        self.longest = self.longest.max(duration);
    }
}

/// Runs of one kind of routine (DPCs, or ISRs), overall and per routine address.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DurationStats {
    /// All routines together.
    pub all: RoutineStats,
    /// By routine address.
    pub per_routine: BTreeMap<usize, RoutineStats>,
}

impl DurationStats {
    /// Records one run.
    pub fn record(&mut self, routine: usize, duration: u64) {
        self.all.record(duration);
        self.per_routine
            .entry(routine)
            .or_default()
            .record(duration);
    }

    /// The stats of the routine at `routine` (e.g. `my_dpc as usize`).
    #[must_use]
    pub fn routine(&self, routine: usize) -> Option<RoutineStats> {
        self.per_routine.get(&routine).copied()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_count_total_and_longest_per_routine() {
        let mut stats = DurationStats::default();
        stats.record(1, 10);
        stats.record(1, 30);
        stats.record(2, 20);
        assert_eq!(
            stats.all,
            RoutineStats {
                count: 3,
                total: 60,
                longest: 30
            }
        );
        assert_eq!(
            stats.routine(1),
            Some(RoutineStats {
                count: 2,
                total: 40,
                longest: 30
            })
        );
        assert_eq!(stats.routine(3), None);
    }
}
