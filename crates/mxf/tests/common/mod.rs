//! Helpers shared by the integration tests.
#![allow(dead_code)] // Each test crate uses a different subset.

use mxf::Chain;
use mxf::raw::{CountingPool, FixedPool};

/// The checked pool the tests use.
pub type Pool = CountingPool<FixedPool, 4096>;

/// Counters of a pool, shortened.
pub trait Failures {
    /// Event plus buffer failures.
    fn stats_failures(&self) -> u64;
    /// Events plus buffers in use.
    fn stats_in_use(&self) -> usize;
}

impl Failures for Pool {
    fn stats_failures(&self) -> u64 {
        use mxf::EventPool;
        let s = self.stats();
        s.event_failures + s.buffer_failures
    }

    fn stats_in_use(&self) -> usize {
        use mxf::EventPool;
        let s = self.stats();
        s.events_in_use + s.buffers_in_use
    }
}

/// A checked pool: `events` events, `buffers` buffers of `size` bytes.
pub fn pool(events: usize, buffers: usize, size: usize) -> Pool {
    CountingPool::new(FixedPool::leaked(events, buffers, size).expect("pool"))
}

/// (time, group, incomplete, bytes) of every event.
pub fn events(chain: &Chain) -> Vec<(i64, u16, bool, Vec<u8>)> {
    chain
        .iter()
        .map(|e| {
            (
                e.time(),
                e.channel_group(),
                e.is_incomplete(),
                e.data().to_vec(),
            )
        })
        .collect()
}

/// Milliseconds to 100 ns units.
pub const fn ms(n: i64) -> i64 {
    n * 10_000
}
