//! Capture: raw MIDI bytes from the device, each with the time it arrived,
//! parsed into events (the capture DPC's job), and the capture `KSSTATE` rule.

use crate::build::push_parsed;
use crate::midi::{Parsed, Parser, ParserStats};
use crate::raw::{Chain, EventPool};
use dmus_sys::ks::{KSSTATE, KSSTATE_PAUSE, KSSTATE_RUN};

/// Whether a capture stream in `state` passes data upstream: in RUN and PAUSE;
/// in STOP and ACQUIRE it throws it away (reference.md, `IMXF::SetState`).
#[must_use]
pub const fn capture_passes_data(state: KSSTATE) -> bool {
    matches!(state, KSSTATE_RUN | KSSTATE_PAUSE)
}

/// What one batch of bytes gave.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CaptureReport {
    /// Events appended.
    pub events: usize,
    /// Messages (or sysex pieces) lost because the pool ran out.
    pub dropped: usize,
}

/// Parses captured bytes into events of one channel group.
#[derive(Clone, Debug)]
pub struct CaptureParser<const N: usize = 64> {
    parser: Parser<N>,
    channel_group: u16,
}

impl<const N: usize> CaptureParser<N> {
    /// A parser whose events go to `channel_group`.
    #[must_use]
    pub const fn new(channel_group: u16) -> Self {
        Self {
            parser: Parser::new(),
            channel_group,
        }
    }

    /// What the parser dropped (stray bytes and the like).
    #[must_use]
    pub const fn stats(&self) -> ParserStats {
        self.parser.stats()
    }

    /// Parses a batch of `(byte, time)` into events appended to `out`, then
    /// delivers any open sysex piece so that no data waits for the next
    /// batch. Bounded by the batch length; no allocation.
    pub fn parse<P: EventPool + ?Sized>(
        &mut self,
        bytes: impl IntoIterator<Item = (u8, i64)>,
        pool: &mut P,
        out: &mut Chain,
    ) -> CaptureReport {
        let mut report = CaptureReport::default();
        let group = self.channel_group;
        let mut sink = |parsed: Parsed<'_>| match push_parsed(out, pool, parsed, group) {
            Ok(added) => report.events += added,
            Err(_) => report.dropped += 1,
        };
        for (byte, time) in bytes {
            self.parser.feed(byte, time, &mut sink);
        }
        self.parser.flush_sysex(&mut sink);
        report
    }

    /// Appends to `out` the realtime bytes held behind an incomplete message
    /// that have waited longer than [`crate::midi::parser::MAX_REALTIME_HOLD_100NS`]
    /// at `now` (see [`Parser::release_held`]): for a DPC that finds no new
    /// byte, so that a sender stalled inside a message cannot stop the clock
    /// bytes. Bounded by the hold's capacity; no allocation.
    pub fn release_held<P: EventPool + ?Sized>(
        &mut self,
        now: i64,
        pool: &mut P,
        out: &mut Chain,
    ) -> CaptureReport {
        let mut report = CaptureReport::default();
        let group = self.channel_group;
        self.parser
            .release_held(
                now,
                &mut |parsed: Parsed<'_>| match push_parsed(out, pool, parsed, group) {
                    Ok(added) => report.events += added,
                    Err(_) => report.dropped += 1,
                },
            );
        report
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raw::{CountingPool, FixedPool};
    use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_STOP};

    #[test]
    fn bytes_become_timed_events() {
        let mut pool = CountingPool::<_, 64>::new(FixedPool::leaked(16, 4, 16).unwrap());
        let mut cap = CaptureParser::<8>::new(2);
        let mut out = Chain::new();
        let bytes = [
            (0x90, 10),
            (60, 11),
            (0xF8, 12),
            (100, 13),
            (61, 20),
            (0, 21),
            (0xF0, 30),
            (1, 31),
        ];
        let report = cap.parse(bytes, &mut pool, &mut out);
        assert_eq!(
            report,
            CaptureReport {
                events: 4,
                dropped: 0
            }
        );
        let got: Vec<(i64, Vec<u8>, bool)> = out
            .iter()
            .map(|e| (e.time(), e.data().to_vec(), e.is_incomplete()))
            .collect();
        assert_eq!(
            got,
            vec![
                (10, vec![0x90, 60, 100], false),
                (12, vec![0xF8], false),
                (20, vec![0x90, 61, 0], false),
                (30, vec![0xF0, 1], true),
            ]
        );
        assert!(out.iter().all(|e| e.channel_group() == 2));
        out.free(&mut pool);
        // Exhaustion is counted, not fatal.
        let mut tiny = CountingPool::<_, 64>::new(FixedPool::leaked(1, 0, 16).unwrap());
        let mut out = Chain::new();
        let report = cap.parse([(0xF8, 0), (0xFA, 1)], &mut tiny, &mut out);
        assert_eq!(
            report,
            CaptureReport {
                events: 1,
                dropped: 1
            }
        );
        out.free(&mut tiny);
        pool.check().unwrap();
        tiny.check().unwrap();
    }

    #[test]
    fn a_realtime_byte_inside_a_message_follows_it_and_a_stalled_one_is_released() {
        let mut pool = CountingPool::<_, 64>::new(FixedPool::leaked(16, 4, 16).unwrap());
        let mut cap = CaptureParser::<8>::new(1);
        let mut out = Chain::new();
        // B0 07 F8 5A, the bytes 320 µs apart, in two batches.
        let first = cap.parse([(0xB0, 60_000), (7, 63_200)], &mut pool, &mut out);
        let second = cap.parse([(0xF8, 66_400), (0x5A, 69_600)], &mut pool, &mut out);
        assert_eq!((first.events, second.events), (0, 2));
        // A sender stalls after a status byte; a clock byte is held, then released.
        let stalled = cap.parse([(0x90, 70_000), (0xF8, 70_100)], &mut pool, &mut out);
        assert_eq!(stalled.events, 0);
        let limit = crate::midi::parser::MAX_REALTIME_HOLD_100NS;
        let early = cap.release_held(70_100 + limit, &mut pool, &mut out);
        assert_eq!(early.events, 0);
        let late = cap.release_held(70_101 + limit, &mut pool, &mut out);
        assert_eq!(
            late,
            CaptureReport {
                events: 1,
                dropped: 0
            }
        );
        assert_eq!(cap.stats().realtime_released_early, 1);
        let got: Vec<(i64, Vec<u8>)> = out.iter().map(|e| (e.time(), e.data().to_vec())).collect();
        assert_eq!(
            got,
            vec![
                (60_000, vec![0xB0, 7, 0x5A]),
                (66_400, vec![0xF8]),
                (70_100, vec![0xF8]),
            ]
        );
        out.free(&mut pool);
        pool.check().unwrap();
    }

    #[test]
    fn capture_state_rule() {
        assert!(capture_passes_data(KSSTATE_RUN));
        assert!(capture_passes_data(KSSTATE_PAUSE));
        assert!(!capture_passes_data(KSSTATE_STOP));
        assert!(!capture_passes_data(KSSTATE_ACQUIRE));
    }
}
