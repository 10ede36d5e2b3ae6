//! The sequencer: presentation order with ties in arrival order, and the
//! KSSTATE rules. A counting pool proves no event is lost or freed twice.
#![allow(missing_docs)] // Test crate.

mod common;

use common::{Failures, pool};
use dmus_sys::dmusic::DMUS_KEF;
use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
use mxf::sequencer::{MasterTimeline, Sequencer};
use mxf::{Chain, Discard};
use proptest::prelude::*;

/// An event whose data carries a 14-bit arrival tag.
fn tagged(p: &mut common::Pool, time: i64, tag: usize) -> Chain {
    let tag = u16::try_from(tag).unwrap();
    let data = [
        0x90,
        u8::try_from(tag >> 7).unwrap(),
        u8::try_from(tag & 0x7F).unwrap(),
    ];
    Chain::event(p, time, 1, DMUS_KEF::EVENT_COMPLETE, &data).unwrap()
}

fn tag_of(data: &[u8]) -> usize {
    usize::from(data[1]) << 7 | usize::from(data[2])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    /// Random batches (each a chain, possibly unsorted) interleaved with pops
    /// at increasing times: everything comes out once, each pop in
    /// (time, arrival) order, and nothing comes out early.
    #[test]
    fn emits_in_presentation_order_ties_in_arrival_order(
        batches in prop::collection::vec((prop::collection::vec(0i64..50, 0..12), 0i64..8), 0..30),
    ) {
        let mut p = pool(512, 0, 16);
        let mut seq = Sequencer::new();
        seq.set_state(KSSTATE_RUN, 0, &mut p);
        let mut arrival = 0;
        let mut now = 0;
        let mut sent = Vec::new();
        let mut received: Vec<(i64, usize)> = Vec::new();
        for (times, advance) in batches {
            let mut batch = Chain::new();
            for t in times {
                batch.push_back(tagged(&mut p, t, arrival));
                sent.push((t, arrival));
                arrival += 1;
            }
            seq.put(batch, &mut p);
            now += advance;
            let due = seq.pop_due(now);
            let popped: Vec<(i64, usize)> = due.iter().map(|e| (e.time(), tag_of(e.data()))).collect();
            prop_assert!(popped.iter().all(|&(t, _)| t <= now));
            prop_assert!(popped.windows(2).all(|w| w[0] < w[1]), "pop out of order: {:?}", popped);
            received.extend(popped);
            due.free(&mut p);
            if let Some(next) = seq.next_due_time() {
                prop_assert!(next > now);
            }
        }
        let rest = seq.pop_due(i64::MAX);
        let popped: Vec<(i64, usize)> = rest.iter().map(|e| (e.time(), tag_of(e.data()))).collect();
        prop_assert!(popped.windows(2).all(|w| w[0] < w[1]), "pop out of order: {:?}", popped);
        received.extend(popped);
        rest.free(&mut p);
        // Across pops, a late arrival is due at once, so only the multiset is
        // compared: every event out exactly once.
        let mut all = received.clone();
        all.sort_unstable();
        let mut expected = sent.clone();
        expected.sort_unstable();
        prop_assert_eq!(all, expected);
        prop_assert!(seq.is_empty());
        prop_assert!(p.check().is_ok());
    }

    /// With everything queued before one pop, the output is exactly the
    /// stable sort by time.
    #[test]
    fn one_pop_is_the_stable_sort(times in prop::collection::vec(-5i64..20, 0..200)) {
        let mut p = pool(512, 0, 16);
        let mut seq = Sequencer::new();
        seq.set_state(KSSTATE_PAUSE, 0, &mut p);
        for (i, &t) in times.iter().enumerate() {
            seq.put(tagged(&mut p, t, i), &mut p);
        }
        seq.set_state(KSSTATE_RUN, 0, &mut p);
        let out = seq.pop_due(i64::MAX);
        let got: Vec<(i64, usize)> = out.iter().map(|e| (e.time(), tag_of(e.data()))).collect();
        let mut expected: Vec<(i64, usize)> = times.iter().copied().zip(0..).collect();
        expected.sort_by_key(|&(t, _)| t); // stable
        prop_assert_eq!(got, expected);
        out.free(&mut p);
        prop_assert!(p.check().is_ok());
    }
}

#[test]
fn holds_outside_run_and_flushes_on_stop() {
    let mut p = pool(64, 0, 16);
    let mut seq = Sequencer::new();
    // STOP discards what arrives.
    let dropped = seq.put(tagged(&mut p, 0, 0), &mut p);
    assert_eq!(dropped.events, 1);
    assert_eq!(p.stats_in_use(), 0);
    for state in [KSSTATE_ACQUIRE, KSSTATE_PAUSE] {
        seq.set_state(state, 0, &mut p);
        seq.put(tagged(&mut p, 0, 1), &mut p);
        assert!(seq.pop_due(1_000_000).is_empty(), "held in state {state}");
        assert_eq!(seq.next_due_time(), None);
    }
    assert_eq!(seq.len(), 2);
    let flushed = seq.set_state(KSSTATE_STOP, 5, &mut p);
    assert_eq!(flushed.events, 2);
    assert!(seq.is_empty());
    p.check().unwrap();
}

#[test]
fn presentation_time_freezes_in_pause_and_resets_on_stop() {
    let mut p = pool(64, 0, 16);
    let mut seq = Sequencer::new();
    seq.set_state(KSSTATE_PAUSE, 0, &mut p);
    seq.put(tagged(&mut p, 100, 0), &mut p);
    seq.put(tagged(&mut p, 300, 1), &mut p);
    // RUN at master 1000: presentation 0 there.
    seq.set_state(KSSTATE_RUN, 1000, &mut p);
    assert_eq!(seq.clock().now(1050), 50);
    assert_eq!(seq.next_due_time(), Some(1100));
    assert!(seq.pop_due(1099).is_empty());
    let due = seq.pop_due(1100);
    assert_eq!(due.len(), 1);
    due.free(&mut p);
    // PAUSE at master 1200 (presentation 200); time stands still.
    seq.set_state(KSSTATE_PAUSE, 1200, &mut p);
    assert_eq!(seq.clock().now(5000), 200);
    assert!(seq.pop_due(5000).is_empty());
    // RUN again at master 5000: presentation 200 there, event at 300 due at 5100.
    seq.set_state(KSSTATE_RUN, 5000, &mut p);
    assert_eq!(seq.next_due_time(), Some(5100));
    assert!(seq.pop_due(5099).is_empty());
    seq.pop_due(5100).free(&mut p);
    // STOP resets presentation time to 0.
    seq.put(tagged(&mut p, 50, 2), &mut p);
    seq.set_state(KSSTATE_STOP, 6000, &mut p);
    assert_eq!(seq.clock().now(7000), 0);
    seq.set_state(KSSTATE_RUN, 7000, &mut p);
    assert_eq!(seq.clock().now(7010), 10);
    p.check().unwrap();
}

#[test]
fn packages_are_sequenced_whole() {
    let mut p = pool(64, 0, 16);
    let mut seq = Sequencer::new();
    seq.set_state(KSSTATE_RUN, 0, &mut p);
    let mut contents = tagged(&mut p, 10, 0);
    contents.push_back(tagged(&mut p, 10, 1));
    let package = Chain::package(&mut p, 10, 1, contents).unwrap();
    seq.put(tagged(&mut p, 20, 2), &mut p);
    seq.put(package, &mut p);
    let due = seq.pop_due(15);
    assert_eq!(due.len(), 1);
    assert_eq!(due.front().unwrap().package().count(), 2);
    due.free(&mut p);
    assert_eq!(seq.set_state(KSSTATE_STOP, 0, &mut p).events, 1);
    p.check().unwrap();
}

#[test]
fn detached_variants_hand_chains_back_whole() {
    let mut p = pool(64, 0, 16);
    let mut seq = Sequencer::new();
    let refused = seq.put_detach(tagged(&mut p, 0, 0));
    assert_eq!(refused.len(), 1);
    refused.free(&mut p);
    assert!(seq.set_state_detach(KSSTATE_PAUSE, 0).is_empty());
    assert!(seq.put_detach(tagged(&mut p, 7, 1)).is_empty());
    assert!(seq.put_detach(tagged(&mut p, 3, 2)).is_empty());
    let flushed = seq.set_state_detach(KSSTATE_STOP, 0);
    let times: Vec<i64> = flushed.iter().map(|e| e.time()).collect();
    assert_eq!(times, [3, 7]);
    flushed.free(&mut p);
    seq.set_state(KSSTATE_RUN, 0, &mut p);
    seq.put(tagged(&mut p, 1_000, 3), &mut p);
    let all = seq.take_all();
    assert_eq!(all.len(), 1);
    assert!(seq.is_empty());
    all.free(&mut p);
    p.check().unwrap();
}

/// A miniport's render stream: master-clock times, a pause moves held events.
fn master_sequencer() -> Sequencer<MasterTimeline> {
    Sequencer::with_timeline(MasterTimeline::new())
}

fn note(p: &mut common::Pool, time: i64, data: &[u8]) -> Chain {
    Chain::event(p, time, 1, DMUS_KEF::EVENT_COMPLETE, data).unwrap()
}

fn times(chain: &Chain) -> Vec<i64> {
    chain.iter().map(|event| event.time()).collect()
}

#[test]
fn on_master_time_events_are_held_outside_run_and_released_in_order_when_due() {
    let mut p = pool(256, 16, 64);
    let mut queue = master_sequencer();
    assert!(queue.set_state_detach(KSSTATE_ACQUIRE, 0).is_empty());
    assert!(queue.set_state_detach(KSSTATE_PAUSE, 0).is_empty());
    for time in [530, 510, 520, 510] {
        assert!(
            queue
                .put_detach(note(&mut p, time, &[0x90, 60, 100]))
                .is_empty()
        );
    }
    assert!(queue.pop_due(1_000).is_empty(), "PAUSE holds everything");
    assert_eq!(queue.next_due_time(), None);
    let _ = queue.set_state_detach(KSSTATE_RUN, 500);
    assert_eq!(
        queue.next_due_time(),
        Some(510),
        "master-clock times, as given"
    );
    let due = queue.pop_due(520);
    assert_eq!(times(&due), [510, 510, 520]);
    p.discard(due);
    assert_eq!(queue.len(), 1);
    let stopped = queue.set_state_detach(KSSTATE_STOP, 600);
    assert_eq!(times(&stopped), [530]);
    p.discard(stopped);
    p.check().expect("every event back once");
}

#[test]
fn on_master_time_a_pause_moves_held_events_later_and_stop_discards_new_data() {
    let mut p = pool(256, 16, 64);
    let mut queue = master_sequencer();
    let _ = queue.set_state_detach(KSSTATE_ACQUIRE, 0);
    let _ = queue.set_state_detach(KSSTATE_PAUSE, 0);
    let _ = queue.set_state_detach(KSSTATE_RUN, 100);
    assert!(queue.put_detach(note(&mut p, 1_000, &[0xC0, 5])).is_empty());
    assert!(queue.put_detach(note(&mut p, 1_200, &[0xC0, 6])).is_empty());
    let _ = queue.set_state_detach(KSSTATE_PAUSE, 400);
    let _ = queue.set_state_detach(KSSTATE_ACQUIRE, 450);
    let _ = queue.set_state_detach(KSSTATE_PAUSE, 500);
    let _ = queue.set_state_detach(KSSTATE_RUN, 10_400);
    assert_eq!(
        queue.next_due_time(),
        Some(11_000),
        "time stood still for 10,000"
    );
    let due = queue.pop_due(11_100);
    assert_eq!(times(&due), [11_000]);
    p.discard(due);
    let held = queue.set_state_detach(KSSTATE_STOP, 10_500);
    assert_eq!(times(&held), [11_200]);
    p.discard(held);
    let refused = queue.put_detach(note(&mut p, 0, &[0xF8]));
    assert_eq!(
        refused.len(),
        1,
        "a stopped stream hands data straight back"
    );
    p.discard(refused);
    let _ = queue.set_state_detach(KSSTATE_ACQUIRE, 20_000);
    let _ = queue.set_state_detach(KSSTATE_PAUSE, 20_000);
    let _ = queue.set_state_detach(KSSTATE_RUN, 30_000);
    assert!(queue.put_detach(note(&mut p, 30_500, &[0xF8])).is_empty());
    assert_eq!(
        queue.next_due_time(),
        Some(30_500),
        "no pause since the last STOP"
    );
    p.discard(queue.take_all());
    p.check().expect("every event back once");
}
