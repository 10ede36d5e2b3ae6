//! Shared by the fuzz targets: one pool per thread, built once, and the
//! checks every unpack must pass.
#![allow(dead_code)] // Each target uses a different subset.

use mxf::raw::FixedPool;
use mxf::{Chain, EventPool};
use std::cell::RefCell;

/// Pool buffer size: small, so that long data is split often.
pub const BUFFER_SIZE: usize = 24;

thread_local! {
    static POOL: RefCell<FixedPool> =
        RefCell::new(FixedPool::leaked(1 << 16, 1 << 14, BUFFER_SIZE).expect("pool"));
}

/// Runs `f` with the thread's pool and checks afterwards that everything came
/// back exactly once.
pub fn with_pool(f: impl FnOnce(&mut FixedPool)) {
    POOL.with(|pool| {
        let mut pool = pool.borrow_mut();
        f(&mut pool);
        let stats = pool.stats();
        assert_eq!(stats.events_in_use, 0, "events leaked");
        assert_eq!(stats.buffers_in_use, 0, "buffers leaked");
        assert_eq!(pool.bad_returns(), 0, "double or foreign return");
    });
}

/// Checks every event of an unpacked chain, then frees it.
pub fn check_and_free(chain: Chain, pool: &mut FixedPool) {
    for event in &chain {
        assert!(!event.is_package());
        let data = event.data();
        assert!(!data.is_empty());
        assert!(data.len() <= BUFFER_SIZE.max(mxf::raw::INLINE_CAPACITY));
    }
    chain.free(pool);
}

/// Splits the fuzz input into a stream-header prefix and a buffer.
pub fn split_header(data: &[u8]) -> Option<(i64, u32, u32, &[u8])> {
    let (head, buffer) = data.split_at_checked(12)?;
    let time = i64::from(u32::from_le_bytes(head[0..4].try_into().ok()?)) * 1000;
    let slack = u32::from(head[4]) | u32::from(head[5]) << 8;
    let mode = head[6];
    let len = u32::try_from(buffer.len()).ok()?;
    // Mostly consistent headers, sometimes DataUsed or FrameExtent off.
    let (data_used, frame_extent) = match mode % 4 {
        0 | 1 => (len, len),
        2 => (len.saturating_add(slack), len.saturating_add(slack)),
        _ => (len, len.saturating_sub(slack)),
    };
    Some((time, data_used, frame_extent, buffer))
}
