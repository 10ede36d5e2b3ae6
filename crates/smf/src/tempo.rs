//! From ticks to absolute time in 100 ns units, exactly.
//!
//! Each conversion is computed from the start of the file in exact integer
//! arithmetic (`Σ Δticks × tempo` kept in µs·ticks, divided once), so no
//! rounding accumulates however many tempo changes or events there are.

/// The default tempo before any Set Tempo meta event: 120 BPM.
pub const DEFAULT_TEMPO_US_PER_QUARTER: u32 = 500_000;

/// How a file's ticks relate to time (the header's division field).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeBase {
    /// Ticks per quarter note; the tempo map sets the quarter-note length.
    Metrical {
        /// Ticks per quarter note (non-zero).
        ticks_per_quarter: u16,
    },
    /// SMPTE timecode: a fixed number of ticks per second, tempo ignored.
    /// `ticks_per_second = ticks_num / ticks_den` (29.97 fps is 30000/1001).
    Timecode {
        /// Numerator of ticks per second.
        ticks_num: u64,
        /// Denominator of ticks per second.
        ticks_den: u64,
    },
}

impl TimeBase {
    /// The time base for a midly header timing.
    ///
    /// # Errors
    /// A zero division (zero ticks per quarter, or zero ticks per frame),
    /// which would make every time infinite.
    pub fn from_timing(timing: midly::Timing) -> Result<Self, ZeroDivision> {
        match timing {
            midly::Timing::Metrical(tpq) => match tpq.as_int() {
                0 => Err(ZeroDivision),
                ticks_per_quarter => Ok(Self::Metrical { ticks_per_quarter }),
            },
            midly::Timing::Timecode(fps, subframes) => {
                if subframes == 0 {
                    return Err(ZeroDivision);
                }
                let sub = u64::from(subframes);
                let (ticks_num, ticks_den) = match fps {
                    midly::Fps::Fps24 => (24 * sub, 1),
                    midly::Fps::Fps25 => (25 * sub, 1),
                    midly::Fps::Fps29 => (30_000 * sub, 1_001),
                    midly::Fps::Fps30 => (30 * sub, 1),
                };
                Ok(Self::Timecode {
                    ticks_num,
                    ticks_den,
                })
            }
        }
    }
}

/// The header's division is zero.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ZeroDivision;

/// One segment of constant tempo.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Segment {
    start_tick: u64,
    /// µs·ticks elapsed from tick 0 to `start_tick`, times ticks per quarter.
    start_acc: u128,
    us_per_quarter: u32,
}

/// Converts ticks to 100 ns units.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TempoMap {
    base: TimeBase,
    segments: Vec<Segment>,
}

impl TempoMap {
    /// A map from the time base and the tempo changes `(tick, µs per quarter)`.
    /// Changes need not be sorted; at equal ticks the last one given wins (so
    /// pass them in file order).
    #[must_use]
    pub fn new(base: TimeBase, changes: &[(u64, u32)]) -> Self {
        let mut sorted = changes.to_vec();
        sorted.sort_by_key(|&(tick, _)| tick); // stable: file order kept per tick
        let mut segments = vec![Segment {
            start_tick: 0,
            start_acc: 0,
            us_per_quarter: DEFAULT_TEMPO_US_PER_QUARTER,
        }];
        for (tick, tempo) in sorted {
            let Some(last) = segments.last_mut() else {
                continue;
            };
            if last.start_tick == tick {
                last.us_per_quarter = tempo;
                continue;
            }
            let start_acc = last.start_acc
                + u128::from(tick - last.start_tick) * u128::from(last.us_per_quarter);
            segments.push(Segment {
                start_tick: tick,
                start_acc,
                us_per_quarter: tempo,
            });
        }
        Self { base, segments }
    }

    /// The time base.
    #[must_use]
    pub const fn base(&self) -> TimeBase {
        self.base
    }

    /// Absolute time of `tick` in 100 ns units (rounded down), or `None` if it
    /// does not fit in a `u64` (hundreds of thousands of years).
    #[must_use]
    pub fn time_100ns(&self, tick: u64) -> Option<u64> {
        let exact = match self.base {
            TimeBase::Metrical { ticks_per_quarter } => {
                let index = self
                    .segments
                    .partition_point(|s| s.start_tick <= tick)
                    .checked_sub(1)?;
                let seg = self.segments.get(index)?;
                let acc = seg.start_acc
                    + u128::from(tick - seg.start_tick) * u128::from(seg.us_per_quarter);
                acc * 10 / u128::from(ticks_per_quarter)
            }
            TimeBase::Timecode {
                ticks_num,
                ticks_den,
            } => u128::from(tick) * 10_000_000 * u128::from(ticks_den) / u128::from(ticks_num),
        };
        u64::try_from(exact).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TPQ_96: TimeBase = TimeBase::Metrical {
        ticks_per_quarter: 96,
    };

    #[test]
    fn default_tempo_is_120_bpm() {
        let map = TempoMap::new(TPQ_96, &[]);
        assert_eq!(map.time_100ns(0), Some(0));
        assert_eq!(map.time_100ns(96), Some(5_000_000)); // one quarter = 0.5 s
        assert_eq!(map.time_100ns(1), Some(52_083)); // 5208.33 µs, rounded down
    }

    #[test]
    fn tempo_changes_apply_from_their_tick() {
        // 60 BPM from tick 96, 240 BPM from tick 192.
        let map = TempoMap::new(TPQ_96, &[(192, 250_000), (96, 1_000_000)]);
        assert_eq!(map.time_100ns(96), Some(5_000_000));
        assert_eq!(map.time_100ns(144), Some(10_000_000));
        assert_eq!(map.time_100ns(192), Some(15_000_000));
        assert_eq!(map.time_100ns(288), Some(17_500_000));
    }

    #[test]
    fn last_change_at_a_tick_wins() {
        let map = TempoMap::new(TPQ_96, &[(0, 1_000_000), (0, 250_000)]);
        assert_eq!(map.time_100ns(96), Some(2_500_000));
    }

    #[test]
    fn no_drift_over_many_odd_ticks() {
        // 1 tick at 120 BPM, 96 TPQ = 5208.333 µs: summing rounded ticks would
        // drift by 3.3 ms per 10,000 ticks; the exact map does not.
        let map = TempoMap::new(TPQ_96, &[]);
        assert_eq!(map.time_100ns(96 * 10_000), Some(50_000_000_000));
        assert_eq!(map.time_100ns(10_000), Some(520_833_333));
    }

    #[test]
    fn timecode_ignores_tempo() {
        let base = TimeBase::from_timing(midly::Timing::Timecode(midly::Fps::Fps25, 40)).unwrap();
        let map = TempoMap::new(base, &[(0, 1)]);
        assert_eq!(map.time_100ns(1_000), Some(10_000_000)); // 1000 ticks at 1000/s
        let ntsc = TimeBase::from_timing(midly::Timing::Timecode(midly::Fps::Fps29, 4)).unwrap();
        assert_eq!(TempoMap::new(ntsc, &[]).time_100ns(120), Some(10_010_000)); // 30 frames at 29.97
    }

    #[test]
    fn zero_division_is_refused() {
        assert_eq!(
            TimeBase::from_timing(midly::Timing::Metrical(0.into())),
            Err(ZeroDivision)
        );
        assert_eq!(
            TimeBase::from_timing(midly::Timing::Timecode(midly::Fps::Fps24, 0)),
            Err(ZeroDivision)
        );
    }

    proptest::proptest! {
        #[test]
        fn time_never_decreases(
            changes in proptest::collection::vec((0u64..10_000, 1u32..0xFF_FFFF), 0..8),
            ticks in proptest::collection::vec(0u64..20_000, 1..40),
        ) {
            let map = TempoMap::new(TimeBase::Metrical { ticks_per_quarter: 480 }, &changes);
            let mut sorted = ticks.clone();
            sorted.sort_unstable();
            let times: Vec<u64> = sorted.iter().map(|&t| map.time_100ns(t).unwrap()).collect();
            proptest::prop_assert!(times.windows(2).all(|w| w[0] <= w[1]));
        }
    }
}
