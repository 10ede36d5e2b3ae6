//! Ownership tests: every event and buffer comes back exactly once.

use super::*;
use core::ptr::NonNull;
use dmus_sys::dmusic::{DMUS_KEF, DMUS_KERNEL_EVENT};

fn pool(events: usize, buffers: usize, size: usize) -> CountingPool<FixedPool, 256> {
    CountingPool::new(FixedPool::leaked(events, buffers, size).unwrap())
}

fn short(p: &mut impl EventPool, time: i64, data: &[u8]) -> Chain {
    Chain::event(p, time, 1, DMUS_KEF::EVENT_COMPLETE, data).unwrap()
}

fn times(c: &Chain) -> Vec<i64> {
    c.iter().map(|e| e.time()).collect()
}

#[test]
fn short_and_long_events_keep_their_bytes() {
    let mut p = pool(8, 2, 32);
    let long: Vec<u8> = (0..20).collect();
    let mut c = short(&mut p, 5, &[0x90, 60, 100]);
    c.push_back(Chain::event(&mut p, 6, 2, DMUS_KEF::EVENT_INCOMPLETE, &long).unwrap());
    assert_eq!(c.len(), 2);
    let events: Vec<_> = c.iter().collect();
    assert_eq!(events[0].data(), &[0x90, 60, 100]);
    assert_eq!(events[1].data(), &long[..]);
    assert_eq!(events[1].channel_group(), 2);
    assert!(events[1].is_incomplete());
    assert_eq!(p.stats().buffers_in_use, 1);
    let freed = c.free(&mut p);
    assert_eq!(
        freed,
        FreeCount {
            events: 2,
            buffers: 1
        }
    );
    p.check().unwrap();
}

#[test]
fn too_long_and_exhaustion_are_errors_that_keep_the_pool_whole() {
    let mut p = pool(1, 1, 16);
    assert_eq!(
        Chain::event(&mut p, 0, 1, DMUS_KEF::EVENT_COMPLETE, &[0; 17]).unwrap_err(),
        BuildError::TooLong { len: 17, max: 16 }
    );
    assert_eq!(
        Chain::event(&mut p, 0, 1, DMUS_KEF::PACKAGE_EVENT, &[0xF8]).unwrap_err(),
        BuildError::PackageFlag
    );
    let a = Chain::event(&mut p, 0, 1, DMUS_KEF::EVENT_COMPLETE, &[0; 16]).unwrap();
    assert_eq!(
        Chain::event(&mut p, 0, 1, DMUS_KEF::EVENT_COMPLETE, &[1]).unwrap_err(),
        BuildError::NoEvent
    );
    assert_eq!(p.stats().event_failures, 1);
    a.free(&mut p);
    // An event is available but no buffer: the event goes back.
    let mut q = pool(2, 0, 16);
    assert_eq!(
        Chain::event(&mut q, 0, 1, DMUS_KEF::EVENT_COMPLETE, &[0; 12]).unwrap_err(),
        BuildError::NoBuffer
    );
    assert_eq!(q.stats().events_in_use, 0);
    p.check().unwrap();
    q.check().unwrap();
}

#[test]
fn packages_free_their_contents_exactly_once() {
    let mut p = pool(16, 4, 16);
    let mut inner = short(&mut p, 1, &[0x90, 1, 2]);
    inner.push_back(Chain::event(&mut p, 1, 1, DMUS_KEF::EVENT_COMPLETE, &[7; 12]).unwrap());
    let clock = short(&mut p, 1, &[0xF8]);
    let nested = Chain::package(&mut p, 1, 1, clock).unwrap();
    inner.push_back(nested);
    let mut c = short(&mut p, 0, &[0xFA]);
    c.push_back(Chain::package(&mut p, 1, 3, inner).unwrap());
    c.push_back(short(&mut p, 2, &[0xFC]));
    assert_eq!(c.len(), 3);
    let pkg = c.iter().nth(1).unwrap();
    assert!(pkg.is_package());
    assert_eq!(pkg.data(), &[] as &[u8]);
    assert_eq!(pkg.package().count(), 3);
    assert_eq!(p.stats().events_in_use, 7);
    assert_eq!(
        c.free(&mut p),
        FreeCount {
            events: 7,
            buffers: 1
        }
    );
    p.check().unwrap();
}

#[test]
fn insert_by_time_is_ordered_and_stable() {
    let mut p = pool(64, 0, 16);
    let mut q = Chain::new();
    for (i, t) in [5, 3, 5, 1, 9, 3, 5, 0, 9].into_iter().enumerate() {
        let tag = u8::try_from(i).unwrap();
        q.insert_by_time(short(&mut p, t, &[0x90, tag, 1]));
    }
    assert_eq!(times(&q), [0, 1, 3, 3, 5, 5, 5, 9, 9]);
    let tags: Vec<u8> = q.iter().map(|e| e.data()[1]).collect();
    assert_eq!(tags, [7, 3, 1, 5, 0, 2, 6, 4, 8]);
    // A whole unsorted chain at once.
    let mut batch = Chain::new();
    for t in [4, 4, 2, 10] {
        batch.push_back(short(&mut p, t, &[0xF8]));
    }
    q.insert_by_time(batch);
    assert_eq!(times(&q), [0, 1, 2, 3, 3, 4, 4, 5, 5, 5, 9, 9, 10]);
    assert_eq!(q.len(), 13);
    let due = q.split_due(4);
    assert_eq!(times(&due), [0, 1, 2, 3, 3, 4, 4]);
    assert_eq!(times(&q), [5, 5, 5, 9, 9, 10]);
    assert_eq!(q.split_due(-1).len(), 0);
    let rest = q.split_due(i64::MAX);
    assert!(q.is_empty());
    assert_eq!(q.back_time(), None);
    due.free(&mut p);
    rest.free(&mut p);
    p.check().unwrap();
}

#[test]
fn raw_round_trip_keeps_ownership() {
    let mut p = pool(8, 1, 16);
    let mut c = short(&mut p, 1, &[0x80, 1, 1]);
    c.push_back(short(&mut p, 2, &[0x80, 2, 2]));
    let raw = c.into_raw();
    // SAFETY: `raw` is the chain we just gave up, from this pool.
    let back = unsafe { Chain::from_raw(raw) };
    assert_eq!(times(&back), [1, 2]);
    assert_eq!(back.back_time(), Some(2));
    // SAFETY: null is allowed.
    assert!(unsafe { Chain::from_raw(core::ptr::null_mut()) }.is_empty());
    back.free(&mut p);
    p.check().unwrap();
}

#[test]
fn counting_pool_catches_double_and_foreign_returns_and_writes_after_return() {
    let mut p = pool(4, 1, 16);
    let c = short(&mut p, 0, &[0xF8]);
    let raw = NonNull::new(c.into_raw()).unwrap();
    // SAFETY: returning an event we own, once.
    unsafe { p.put_event(raw) };
    // SAFETY: (deliberate misuse that the checker must catch) the event sits in
    // quarantine, its memory stays valid; a second return must not reach the
    // inner pool.
    unsafe { p.put_event(raw) };
    assert_eq!(p.violations().double_returns, 1);
    let mut foreign = FixedPool::leaked(1, 0, 1).unwrap();
    let stranger = foreign.get_event().unwrap();
    // SAFETY: (deliberate misuse) the stranger is valid memory from another pool.
    unsafe { p.put_event(stranger) };
    assert_eq!(p.violations().foreign_returns, 1);
    // SAFETY: (deliberate misuse) the memory is still valid (quarantine), the
    // write is what the checker must notice.
    unsafe { (*raw.as_ptr()).ullPresTime100ns = 42 };
    let (violations, _) = p.check().unwrap_err();
    assert_eq!(violations.use_after_return, 1);
    // The fixed pool alone refuses double returns too.
    let mut f = FixedPool::leaked(2, 0, 1).unwrap();
    let e = f.get_event().unwrap();
    // SAFETY: returned once legitimately, then once more (deliberate misuse,
    // the memory is 'static).
    unsafe { f.put_event(e) };
    // SAFETY: see above.
    unsafe { f.put_event(e) };
    assert_eq!(f.bad_returns(), 1);
    assert_eq!(f.stats().events_in_use, 0);
}

#[test]
fn fixed_pool_hands_out_zeroed_events_and_counts() {
    let mut f = FixedPool::leaked(2, 1, 8).unwrap();
    let a = Chain::event(&mut f, 9, 9, DMUS_KEF::EVENT_INCOMPLETE, &[1, 2, 3]).unwrap();
    a.free(&mut f);
    let e = f.get_event().unwrap();
    // SAFETY: just handed out, exclusively ours.
    let event: DMUS_KERNEL_EVENT = unsafe { e.as_ptr().read() };
    assert_eq!(
        (event.cbEvent, event.usChannelGroup, event.ullPresTime100ns),
        (0, 0, 0)
    );
    assert!(event.pNextEvt.is_null());
    let _second = f.get_event().unwrap();
    assert!(f.get_event().is_none());
    let s = f.stats();
    assert_eq!(
        (s.events_in_use, s.events_high_water, s.event_failures),
        (2, 2, 1)
    );
    assert_eq!(
        FixedPool::leaked(1, 1, 0).unwrap_err(),
        PoolConfigError::ZeroBufferSize
    );
}

#[test]
fn shift_times_moves_top_level_events_and_keeps_package_contents() {
    let mut p = pool(8, 0, 16);
    let mut contents = short(&mut p, 3, &[0xC0, 5]);
    contents.push_back(short(&mut p, 4, &[0xC0, 6]));
    let mut c = short(&mut p, 10, &[0x90, 60, 100]);
    c.push_back(
        Chain::package(&mut p, 20, 1, contents)
            .map_err(|e| e.0)
            .unwrap(),
    );
    c.push_back(short(&mut p, i64::MAX - 5, &[0xF8]));
    c.shift_times(100);
    assert_eq!(times(&c), [110, 120, i64::MAX], "saturates at the top");
    let package: Vec<i64> = c
        .iter()
        .nth(1)
        .unwrap()
        .package()
        .map(|e| e.time())
        .collect();
    assert_eq!(package, [3, 4], "contents play with their package");
    assert_eq!(c.len(), 3);
    let mut empty = Chain::new();
    empty.shift_times(5);
    assert!(empty.is_empty());
    c.free(&mut p);
    p.check().unwrap();
}
