//! Lateness of an observed wire log against the ideal wire, message by
//! message.
//!
//! Both logs are split into messages the same way (see
//! [`super::split_messages`]). Each observed message is matched to the
//! earliest not yet matched ideal message with the same bytes; its lateness
//! is the difference of their first-byte times (negative = early). Observed
//! messages without a match are *extra*; ideal messages never matched are
//! *missing*; a matched message whose ideal position comes before that of a
//! message matched earlier is *reordered*. Matching by bytes, earliest
//! first, means that when one of several identical messages is lost, the
//! loss is counted against the last of them and the others look later.

use std::collections::{HashMap, VecDeque};

use super::{WireByte, split_messages};

/// Summary statistics of lateness, in 100 ns units.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Percentiles {
    /// Median (nearest rank).
    pub p50: i64,
    /// 99th percentile (nearest rank).
    pub p99: i64,
    /// Largest.
    pub max: i64,
}

impl Percentiles {
    /// Nearest-rank percentiles of `values`; `None` when empty.
    #[must_use]
    pub fn of(values: &[i64]) -> Option<Self> {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        // Nearest rank: the ceil(p/100 × n)-th value (1-based), at least the first.
        let rank = |p: usize| sorted.get((p * n).div_ceil(100).max(1) - 1).copied();
        Some(Self {
            p50: rank(50)?,
            p99: rank(99)?,
            max: *sorted.last()?,
        })
    }
}

/// How an observed wire compares with the ideal one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lateness {
    /// Messages on the ideal wire.
    pub ideal_messages: usize,
    /// Observed messages matched to an ideal one.
    pub matched: usize,
    /// Lateness of the matched messages; `None` if none matched.
    pub lateness: Option<Percentiles>,
    /// Ideal messages not observed.
    pub missing_messages: usize,
    /// Their bytes.
    pub missing_bytes: usize,
    /// Observed messages with no ideal counterpart.
    pub extra_messages: usize,
    /// Their bytes.
    pub extra_bytes: usize,
    /// Matched messages observed after a message that was due after them.
    pub reordered: usize,
}

/// 100 ns units as microseconds with one decimal.
struct Micros(i64);

impl core::fmt::Display for Micros {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{} us", abs / 10, abs % 10)
    }
}

impl core::fmt::Display for Lateness {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(
            f,
            "{} of {} messages matched",
            self.matched, self.ideal_messages
        )?;
        if let Some(p) = self.lateness {
            write!(
                f,
                "; lateness p50 {}, p99 {}, max {}",
                Micros(p.p50),
                Micros(p.p99),
                Micros(p.max)
            )?;
        }
        write!(
            f,
            "; missing {} messages ({} bytes), extra {} messages ({} bytes), reordered {}",
            self.missing_messages,
            self.missing_bytes,
            self.extra_messages,
            self.extra_bytes,
            self.reordered
        )
    }
}

/// Compares an observed wire log with the ideal wire.
#[must_use]
pub fn compare(ideal: &[WireByte], observed: &[WireByte]) -> Lateness {
    let ideal = split_messages(ideal);
    let observed = split_messages(observed);
    let mut unmatched: HashMap<&[u8], VecDeque<usize>> = HashMap::new();
    for (index, message) in ideal.iter().enumerate() {
        unmatched
            .entry(message.bytes.as_slice())
            .or_default()
            .push_back(index);
    }
    let mut late = Vec::with_capacity(observed.len());
    let mut result = Lateness {
        ideal_messages: ideal.len(),
        matched: 0,
        lateness: None,
        missing_messages: 0,
        missing_bytes: 0,
        extra_messages: 0,
        extra_bytes: 0,
        reordered: 0,
    };
    let mut latest_matched: Option<usize> = None;
    for message in &observed {
        let found = unmatched
            .get_mut(message.bytes.as_slice())
            .and_then(VecDeque::pop_front);
        let Some(index) = found else {
            result.extra_messages += 1;
            result.extra_bytes += message.bytes.len();
            continue;
        };
        result.matched += 1;
        if latest_matched.is_some_and(|latest| index < latest) {
            result.reordered += 1;
        }
        latest_matched = latest_matched.max(Some(index));
        if let Some(due) = ideal.get(index) {
            late.push(message.time.saturating_sub(due.time));
        }
    }
    for indices in unmatched.values() {
        result.missing_messages += indices.len();
        result.missing_bytes += indices
            .iter()
            .filter_map(|&i| ideal.get(i))
            .map(|m| m.bytes.len())
            .sum::<usize>();
    }
    result.lateness = Percentiles::of(&late);
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    fn log(items: &[(i64, u8)]) -> Vec<WireByte> {
        items
            .iter()
            .map(|&(time, byte)| WireByte { time, byte })
            .collect()
    }

    #[test]
    fn percentiles_nearest_rank() {
        let values: Vec<i64> = (1..=100).collect();
        assert_eq!(
            Percentiles::of(&values),
            Some(Percentiles {
                p50: 50,
                p99: 99,
                max: 100
            })
        );
        assert_eq!(
            Percentiles::of(&[7]),
            Some(Percentiles {
                p50: 7,
                p99: 7,
                max: 7
            })
        );
        assert_eq!(Percentiles::of(&[]), None);
    }

    #[test]
    fn identical_wires_are_on_time() {
        let ideal = log(&[
            (0, 0x90),
            (3_200, 0x3C),
            (6_400, 0x40),
            (10_000, 0x80),
            (13_200, 0x3C),
            (16_400, 0x40),
        ]);
        let result = compare(&ideal, &ideal);
        assert_eq!(result.matched, 2);
        assert_eq!(
            result.lateness,
            Some(Percentiles {
                p50: 0,
                p99: 0,
                max: 0
            })
        );
        assert_eq!(
            (
                result.missing_messages,
                result.extra_messages,
                result.reordered
            ),
            (0, 0, 0)
        );
    }

    #[test]
    fn late_missing_extra_and_reordered_are_counted() {
        let ideal = log(&[
            (0, 0x90),
            (3_200, 0x3C),
            (6_400, 0x40), // A at 0
            (10_000, 0xC0),
            (13_200, 0x05), // B at 1 ms
            (20_000, 0x80),
            (23_200, 0x3C),
            (26_400, 0x40), // C at 2 ms
        ]);
        // B observed first (early by 5,000), then A 12,000 late, C missing,
        // and a stray tune request.
        let observed = log(&[
            (5_000, 0xC0),
            (8_200, 0x05),
            (12_000, 0x90),
            (15_200, 0x3C),
            (18_400, 0x40),
            (30_000, 0xF6),
        ]);
        let result = compare(&ideal, &observed);
        assert_eq!(result.ideal_messages, 3);
        assert_eq!(result.matched, 2);
        assert_eq!(result.reordered, 1);
        assert_eq!((result.missing_messages, result.missing_bytes), (1, 3));
        assert_eq!((result.extra_messages, result.extra_bytes), (1, 1));
        assert_eq!(
            result.lateness,
            Some(Percentiles {
                p50: -5_000,
                p99: 12_000,
                max: 12_000
            })
        );
    }

    #[test]
    fn running_status_on_the_observed_wire_still_matches() {
        let ideal = log(&[
            (0, 0x90),
            (3_200, 0x3C),
            (6_400, 0x40),
            (9_600, 0x90),
            (12_800, 0x3E),
            (16_000, 0x40),
        ]);
        let observed = log(&[
            (0, 0x90),
            (3_200, 0x3C),
            (6_400, 0x40),
            (9_600, 0x3E),
            (12_800, 0x40),
        ]);
        let result = compare(&ideal, &observed);
        assert_eq!(result.matched, 2);
        assert_eq!(result.lateness.map(|p| p.max), Some(0));
    }
}
