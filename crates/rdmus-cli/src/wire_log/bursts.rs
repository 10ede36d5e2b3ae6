//! Throughput through bursts: where the ideal wire is saturated (messages
//! queued back to back, each starting when the previous one ends), how fast
//! the observed wire carried the same bytes.

use super::{BYTE_TIME_100NS, WireByte};

/// Bursts shorter than this many bytes are not counted: a lone message or
/// two says little about sustained throughput. 9 bytes are a three-note
/// chord, 2.88 ms on the wire.
pub const MIN_BURST_BYTES: usize = 9;

/// Bytes per second over bursts, or `None` when the file has no burst.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BurstRate {
    /// Bursts counted.
    pub bursts: usize,
    /// Bytes in them.
    pub bytes: usize,
    /// All burst bytes over all burst durations, bytes/s.
    pub overall: u32,
    /// The slowest single burst, bytes/s.
    pub worst: u32,
}

/// Index ranges of `ideal` (an ideal wire) where bytes follow each other
/// back to back, of at least [`MIN_BURST_BYTES`].
#[must_use]
pub fn bursts(ideal: &[WireByte]) -> Vec<core::ops::Range<usize>> {
    let mut out = Vec::new();
    let mut start = 0;
    for i in 1..=ideal.len() {
        let contiguous = match (ideal.get(i - 1), ideal.get(i)) {
            (Some(a), Some(b)) => b.time == a.time + BYTE_TIME_100NS,
            _ => false,
        };
        if !contiguous {
            if i - start >= MIN_BURST_BYTES {
                out.push(start..i);
            }
            start = i;
        }
    }
    out
}

/// Bytes/s of `bytes` bytes whose first starts at `first` and last at `last`.
fn rate(bytes: usize, first: i64, last: i64) -> u32 {
    let span = (last - first + BYTE_TIME_100NS).max(1);
    let bytes = i64::try_from(bytes).unwrap_or(i64::MAX);
    u32::try_from(bytes.saturating_mul(10_000_000) / span).unwrap_or(u32::MAX)
}

/// The observed rate through the ideal wire's bursts. `observed` must carry
/// the ideal wire's bytes one for one (same bytes, same order); `None` when
/// it does not, or when there is no burst.
#[must_use]
pub fn burst_rate(ideal: &[WireByte], observed: &[WireByte]) -> Option<BurstRate> {
    if ideal.len() != observed.len() || ideal.iter().zip(observed).any(|(a, b)| a.byte != b.byte) {
        return None;
    }
    let mut result = BurstRate {
        bursts: 0,
        bytes: 0,
        overall: 0,
        worst: u32::MAX,
    };
    let mut span_total = 0i64;
    for range in bursts(ideal) {
        let n = range.len();
        let first = observed.get(range.start)?.time;
        let last = observed.get(range.end - 1)?.time;
        result.bursts += 1;
        result.bytes += n;
        span_total += last - first + BYTE_TIME_100NS;
        result.worst = result.worst.min(rate(n, first, last));
    }
    if result.bursts == 0 {
        return None;
    }
    result.overall = rate(result.bytes, 0, span_total - BYTE_TIME_100NS);
    Some(result)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(times: &[i64]) -> Vec<WireByte> {
        times
            .iter()
            .map(|&time| WireByte { time, byte: 0x7F })
            .collect()
    }

    #[test]
    fn saturated_runs_are_bursts_and_short_ones_are_not() {
        let mut times: Vec<i64> = (0..40).map(|i| i * 3_200).collect();
        times.extend((0..8).map(|i| 1_000_000 + i * 3_200));
        times.extend((0..9).map(|i| 2_000_000 + i * 3_200));
        assert_eq!(bursts(&wire(&times)), [0..40, 48..57]);
    }

    #[test]
    fn a_wire_at_full_speed_carries_3125_bytes_per_second() {
        let ideal = wire(&(0..64).map(|i| i * 3_200).collect::<Vec<_>>());
        let rate = burst_rate(&ideal, &ideal).unwrap();
        assert_eq!(
            rate,
            BurstRate {
                bursts: 1,
                bytes: 64,
                overall: 3_125,
                worst: 3_125
            }
        );
    }

    #[test]
    fn gaps_slow_the_burst_down() {
        let ideal = wire(&(0..64).map(|i| i * 3_200).collect::<Vec<_>>());
        // Every second byte waits an extra 320 µs: half speed.
        let observed = wire(&(0..64).map(|i| i * 6_400).collect::<Vec<_>>());
        let rate = burst_rate(&ideal, &observed).unwrap();
        // 64 bytes over 63 × 640 µs + 320 µs.
        assert_eq!(rate.worst, 64 * 10_000_000 / (63 * 6_400 + 3_200));
        assert_eq!(rate.overall, rate.worst);
    }

    #[test]
    fn a_different_wire_has_no_rate() {
        let ideal = wire(&(0..64).map(|i| i * 3_200).collect::<Vec<_>>());
        assert_eq!(burst_rate(&ideal, &ideal[1..]), None);
        let mut other = ideal.clone();
        other[5].byte = 0x10;
        assert_eq!(burst_rate(&ideal, &other), None);
        let sparse = wire(&[0, 100_000]);
        assert_eq!(burst_rate(&sparse, &sparse), None);
    }
}
