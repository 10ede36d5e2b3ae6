//! The ISR's input drain: every waiting byte, each with its own timestamp.
//!
//! The DDK sample stamps a whole ISR batch with one time; here the clock is
//! read once per byte, so a burst keeps its real spacing (bytes arrive 320 µs
//! apart on the wire, and a card with an input FIFO may hold several).

use crate::port::{ControlPort, DataPort};
use crate::ring::{InputRing, TimedByte};

/// What one [`drain_input`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DrainReport {
    /// Bytes read from the card (stored or dropped). Zero means the interrupt
    /// was not this card's, on a shared line.
    pub read: u32,
    /// Of those, bytes dropped because the ring was full.
    pub dropped: u32,
    /// True when the read bound was reached with DSR still clear: more input
    /// is waiting, and the card will interrupt again or the DPC should drain.
    pub more_pending: bool,
}

/// Reads the data port while DSR is clear, at most `max_reads` bytes, pushing
/// each with `clock()` (read right after the byte) into `ring`. Bytes that do
/// not fit are still read, so the card stops interrupting, and are counted in
/// both the report and [`InputRing::dropped`]. Runs at `DIRQL`: no allocation,
/// at most `max_reads + 1` status reads.
pub fn drain_input<P, C, const N: usize>(
    io: &mut P,
    ring: &mut InputRing<N>,
    max_reads: u32,
    mut clock: C,
) -> DrainReport
where
    P: DataPort + ControlPort,
    C: FnMut() -> u64,
{
    let mut report = DrainReport {
        read: 0,
        dropped: 0,
        more_pending: false,
    };
    while report.read < max_reads {
        if !io.read_status().input_available() {
            return report;
        }
        let byte = io.read_data();
        let time = clock();
        report.read += 1;
        if ring.push(TimedByte { byte, time }).is_err() {
            report.dropped += 1;
        }
    }
    report.more_pending = io.read_status().input_available();
    report
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_card::{Behaviour, FakeCard, Mode};
    use std::vec::Vec;

    fn uart_card() -> FakeCard {
        FakeCard::new(Behaviour::WORKING, Mode::Uart)
    }

    fn stepping_clock(start: u64, step: u64) -> impl FnMut() -> u64 {
        let mut now = start;
        move || {
            now += step;
            now
        }
    }

    fn contents<const N: usize>(ring: &mut InputRing<N>) -> Vec<(u8, u64)> {
        core::iter::from_fn(|| ring.pop())
            .map(|t| (t.byte, t.time))
            .collect()
    }

    #[test]
    fn burst_gets_one_timestamp_per_byte() {
        let mut card = uart_card();
        card.inject_input(0, &[0x90, 0x3C, 0x64]);
        card.now = 1_000;
        let mut ring = InputRing::<16>::new();
        let report = drain_input(&mut card, &mut ring, 32, stepping_clock(100, 7));
        assert_eq!(
            report,
            DrainReport {
                read: 3,
                dropped: 0,
                more_pending: false
            }
        );
        assert_eq!(contents(&mut ring), [(0x90, 107), (0x3C, 114), (0x64, 121)]);
        assert_eq!(card.reads_while_empty, 0);
        assert_eq!(card.status_reads, 4);
    }

    #[test]
    fn nothing_waiting_reads_status_once() {
        let mut card = uart_card();
        let mut ring = InputRing::<4>::new();
        let report = drain_input(&mut card, &mut ring, 32, stepping_clock(0, 1));
        assert_eq!(
            report,
            DrainReport {
                read: 0,
                dropped: 0,
                more_pending: false
            }
        );
        assert_eq!(card.status_reads, 1);
        assert!(ring.is_empty());
    }

    #[test]
    fn overflow_is_counted_and_keeps_the_oldest() {
        let mut card = uart_card();
        card.inject_input(0, &[1, 2, 3, 4, 5, 6]);
        card.now = 5_000;
        let mut ring = InputRing::<4>::new();
        let report = drain_input(&mut card, &mut ring, 32, stepping_clock(0, 1));
        assert_eq!(
            report,
            DrainReport {
                read: 6,
                dropped: 2,
                more_pending: false
            }
        );
        assert_eq!(ring.dropped(), 2);
        assert!(
            card.input.is_empty(),
            "dropped bytes are still read off the card"
        );
        assert_eq!(contents(&mut ring), [(1, 1), (2, 2), (3, 3), (4, 4)]);
    }

    #[test]
    fn read_bound_leaves_the_rest_pending() {
        let mut card = uart_card();
        card.inject_input(0, &[1, 2, 3, 4, 5, 6]);
        card.now = 5_000;
        let mut ring = InputRing::<16>::new();
        let report = drain_input(&mut card, &mut ring, 3, stepping_clock(0, 1));
        assert_eq!(
            report,
            DrainReport {
                read: 3,
                dropped: 0,
                more_pending: true
            }
        );
        assert_eq!(card.input.len(), 3);
    }

    #[test]
    fn bytes_not_yet_arrived_are_left_for_the_next_interrupt() {
        let mut card = uart_card();
        card.inject_input(0, &[0xF8, 0xFA]);
        let mut ring = InputRing::<16>::new();
        let report = drain_input(&mut card, &mut ring, 32, stepping_clock(0, 1));
        assert_eq!(report.read, 1);
        assert_eq!(ring.peek().map(|t| t.byte), Some(0xF8));
    }

    #[test]
    fn absent_card_yields_nothing() {
        let mut card = FakeCard::new(
            Behaviour {
                absent: true,
                ..Behaviour::WORKING
            },
            Mode::Uart,
        );
        let mut ring = InputRing::<4>::new();
        assert_eq!(drain_input(&mut card, &mut ring, 32, || 0).read, 0);
    }
}
