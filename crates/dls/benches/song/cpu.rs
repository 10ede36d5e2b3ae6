//! CPU time, read from Linux's `/proc` (no `unsafe`, no extra crate).
//!
//! Real-time factors divide audio seconds by CPU seconds rather than wall time: the build
//! machine is shared, and CPU time does not count the time another process held the core.

/// CPU time of the calling thread in seconds (`/proc/thread-self/schedstat`: nanoseconds on
/// the CPU), or `None` where `/proc` does not have it.
#[must_use]
pub fn thread_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    let ns: u64 = text.split_whitespace().next()?.parse().ok()?;
    #[allow(
        clippy::cast_precision_loss,
        reason = "nanoseconds below 2^52 are exact"
    )]
    Some(ns as f64 / 1e9)
}

/// User + system CPU time of this process's waited-for children in seconds (`/proc/self/stat`
/// fields 16 and 17, `cutime` and `cstime`, in clock ticks of 1/100 s), or `None` where `/proc`
/// does not have it.
#[must_use]
pub fn children_cpu_seconds() -> Option<f64> {
    let text = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name (field 2) is in parentheses and may hold spaces: count after it.
    let after_name = text.get(text.rfind(')')? + 1..)?;
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    // after_name starts at field 3 (state): field n is fields[n - 3].
    let ticks = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    let total = ticks(16)? + ticks(17)?;
    #[allow(clippy::cast_precision_loss, reason = "tick counts are far below 2^52")]
    Some(total as f64 / USER_HZ)
}

/// Linux's `USER_HZ`, the unit of `/proc/<pid>/stat` times (100 on every architecture Linux
/// exports to user space).
const USER_HZ: f64 = 100.0;
