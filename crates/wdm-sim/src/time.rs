//! Virtual time: 100 ns ticks, the unit of `KeQueryInterruptTime`, `REFERENCE_TIME` and the
//! simulated performance counter (which runs at 10 MHz, as on current Windows).

/// Ticks (100 ns) in one microsecond.
pub const TICKS_PER_US: u64 = 10;
/// Ticks (100 ns) in one millisecond.
pub const TICKS_PER_MS: u64 = 10_000;
/// Ticks (100 ns) in one second.
pub const TICKS_PER_SECOND: u64 = 10_000_000;
/// Frequency of the simulated performance counter (`KeQueryPerformanceCounter`).
pub const PERFORMANCE_FREQUENCY: u64 = TICKS_PER_SECOND;

/// The default clock interval: 64 Hz, 15.625 ms, the interval `KeSetTimer(Ex)` expiries are
/// quantised to on an idle Windows system.
pub const DEFAULT_CLOCK_INTERVAL: u64 = 156_250;

/// `n` microseconds in ticks.
#[must_use]
pub const fn us(n: u64) -> u64 {
    n * TICKS_PER_US
}

/// `n` milliseconds in ticks.
#[must_use]
pub const fn ms(n: u64) -> u64 {
    n * TICKS_PER_MS
}

/// The first multiple of `interval` at or after `t`: when a timer due at `t` expires if the
/// kernel only looks at its timers on ticks `interval` apart (a tick exactly at `t` fires it).
/// An `interval` of 0 means no quantisation.
#[must_use]
pub const fn quantise_up(t: u64, interval: u64) -> u64 {
    if interval == 0 {
        return t;
    }
    t.div_ceil(interval).saturating_mul(interval)
}

/// Resolves a kernel due time (`KeSetTimerEx`, `ExSetTimer`): negative is relative to `now`,
/// positive or zero is an absolute system time. The simulated system time starts at 0 at boot
/// and runs with the interrupt time, so an absolute time is a tick count.
#[must_use]
pub const fn resolve_due_time(due: i64, now: u64) -> u64 {
    if due < 0 {
        now.saturating_add(due.unsigned_abs())
    } else {
        due.unsigned_abs()
    }
}

/// Formats ticks as microseconds with one decimal, for messages: `412.3 µs`.
#[must_use]
pub fn format_ticks(t: u64) -> alloc::string::String {
    alloc::format!("{}.{} µs", t / TICKS_PER_US, t % TICKS_PER_US)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantise_rounds_up_to_the_next_tick_and_keeps_exact_ticks() {
        assert_eq!(quantise_up(1, DEFAULT_CLOCK_INTERVAL), 156_250);
        assert_eq!(quantise_up(156_250, DEFAULT_CLOCK_INTERVAL), 156_250);
        assert_eq!(quantise_up(156_251, DEFAULT_CLOCK_INTERVAL), 312_500);
        assert_eq!(quantise_up(0, DEFAULT_CLOCK_INTERVAL), 0);
        assert_eq!(quantise_up(12_345, ms(1)), 20_000);
        assert_eq!(quantise_up(12_345, 0), 12_345);
    }

    #[test]
    fn due_times_are_relative_when_negative() {
        assert_eq!(resolve_due_time(-50_000, 1_000), 51_000);
        assert_eq!(resolve_due_time(70_000, 1_000), 70_000);
        assert_eq!(resolve_due_time(0, 1_000), 0);
    }

    #[test]
    fn ticks_format_as_microseconds() {
        assert_eq!(format_ticks(4_123), "412.3 µs");
        assert_eq!(format_ticks(us(100)), "100.0 µs");
    }
}
