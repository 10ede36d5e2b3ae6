//! The paced writer the render DPC uses to put bytes on the card.
//!
//! A card takes a byte only while DRR is clear; a real MPU-401 has a small
//! output FIFO (one byte on many clones, 16 on some) that drains at 320 µs per
//! byte, so a burst soon finds DRR set. Instead of spinning until it clears
//! (the WDK 7.1 dmusuart sample, once inside a 3-byte group, spins up to
//! 50 ms per byte at DIRQL under its interrupt lock), [`PacedWriter::write`]
//! polls at most a given number of times, writes whatever whole bytes DRR
//! allows, and says how far it got so that the DPC can re-arm its timer for the
//! rest. Across calls it counts status polls that found DRR set without any
//! byte going out since; past a limit it reports [`OutputState::Stuck`], which
//! the caller turns into an error status (the DDK's equivalent is
//! `STATUS_IO_DEVICE_ERROR` after 100 writes that moved nothing).

use crate::port::{ControlPort, DataPort};

/// How a [`PacedWriter::write`] call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputState {
    /// Every byte given was written.
    Complete,
    /// The poll budget ran out with DRR still set: the card is backed up; call
    /// again later with the unwritten rest.
    BackedUp,
    /// DRR has stayed set for the writer's stall limit of consecutive polls
    /// (counted across calls) with no byte accepted: the output never drains.
    Stuck,
}

/// What one [`PacedWriter::write`] call did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriteProgress {
    /// Bytes written, from the start of the given slice; the caller resumes
    /// from `bytes[written..]`.
    pub written: usize,
    /// Status reads performed by this call (never more than its budget).
    pub polls: u32,
    /// Why the call returned.
    pub state: OutputState,
}

/// Writes bytes as DRR allows, with stall detection that spans calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PacedWriter {
    stall_limit: u32,
    polls_without_progress: u32,
}

impl PacedWriter {
    /// A writer that reports [`OutputState::Stuck`] once `stall_limit`
    /// consecutive status polls found DRR set with no byte accepted between
    /// them. A limit of 0 is treated as 1.
    #[must_use]
    pub const fn new(stall_limit: u32) -> Self {
        let stall_limit = if stall_limit == 0 { 1 } else { stall_limit };
        Self {
            stall_limit,
            polls_without_progress: 0,
        }
    }

    /// The stall limit in polls.
    #[must_use]
    pub const fn stall_limit(&self) -> u32 {
        self.stall_limit
    }

    /// Consecutive polls that have found DRR set since the last accepted byte.
    #[must_use]
    pub const fn polls_without_progress(&self) -> u32 {
        self.polls_without_progress
    }

    /// Forgets the stall count (after the caller has reset the card or the
    /// stream was stopped).
    pub fn clear_stall(&mut self) {
        self.polls_without_progress = 0;
    }

    /// Writes bytes from `bytes` in order, reading the status register before
    /// each byte, at most `max_polls` status reads in all. Never blocks: the
    /// call returns after at most `max_polls` status reads and `max_polls`
    /// data writes. Each status read costs one ISA I/O cycle (about 1 µs), so
    /// `max_polls` is also the busy-wait budget in µs.
    ///
    /// Returns [`OutputState::Complete`] when all bytes went out,
    /// [`OutputState::BackedUp`] when the budget ran out first (including a
    /// budget of 0 with bytes left), and [`OutputState::Stuck`] as soon as the
    /// stall limit is reached; `written` counts the bytes accepted either way.
    pub fn write<P>(&mut self, io: &mut P, bytes: &[u8], max_polls: u32) -> WriteProgress
    where
        P: DataPort + ControlPort,
    {
        let mut progress = WriteProgress {
            written: 0,
            polls: 0,
            state: OutputState::Complete,
        };
        while let Some(&byte) = bytes.get(progress.written) {
            if progress.polls == max_polls {
                progress.state = OutputState::BackedUp;
                return progress;
            }
            progress.polls += 1;
            if io.read_status().output_ready() {
                io.write_data(byte);
                progress.written += 1;
                self.polls_without_progress = 0;
            } else {
                self.polls_without_progress = self.polls_without_progress.saturating_add(1);
                if self.polls_without_progress >= self.stall_limit {
                    progress.state = OutputState::Stuck;
                    return progress;
                }
            }
        }
        progress
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_card::{Behaviour, FakeCard, Mode};

    fn card(fifo_depth: usize, never_drains: bool) -> FakeCard {
        FakeCard::new(
            Behaviour {
                fifo_depth,
                never_drains,
                ..Behaviour::WORKING
            },
            Mode::Uart,
        )
    }

    #[test]
    fn fifo_depth_1_paces_a_note_on_at_wire_speed() {
        let mut card = card(1, false);
        let mut writer = PacedWriter::new(1_000);
        let progress = writer.write(&mut card, &[0x90, 0x3C, 0x64], 2_000);
        assert_eq!(progress.state, OutputState::Complete);
        assert_eq!(progress.written, 3);
        // Byte 0 goes straight to the wire at 1 µs; byte 1 waits in the holding
        // register; byte 2 is accepted once byte 1 reaches the wire at 321 µs.
        assert_eq!(progress.polls, 320);
        card.now += 1_000;
        let _ = card.read_status();
        assert_eq!(card.wire, [(1, 0x90), (321, 0x3C), (641, 0x64)]);
        assert_eq!(card.writes_while_busy, 0);
        assert_eq!(writer.polls_without_progress(), 0);
    }

    #[test]
    fn fifo_depth_16_takes_a_burst_then_backs_up() {
        let mut card = card(16, false);
        let mut writer = PacedWriter::new(1_000);
        let bytes: std::vec::Vec<u8> = (0..20).collect();
        let progress = writer.write(&mut card, &bytes, 20);
        // One byte on the wire plus 16 waiting, then three polls find DRR set.
        assert_eq!(
            progress,
            WriteProgress {
                written: 17,
                polls: 20,
                state: OutputState::BackedUp
            }
        );
        assert_eq!(writer.polls_without_progress(), 3);
        // Three more bytes have reached the wire by 1 ms; the rest fits.
        card.now += 1_000;
        let rest = writer.write(&mut card, &bytes[17..], 20);
        assert_eq!(
            rest,
            WriteProgress {
                written: 3,
                polls: 3,
                state: OutputState::Complete
            }
        );
        assert_eq!(card.writes_while_busy, 0);
    }

    #[test]
    fn zero_budget_writes_nothing() {
        let mut card = card(1, false);
        let mut writer = PacedWriter::new(10);
        let progress = writer.write(&mut card, &[0xF8], 0);
        assert_eq!(
            progress,
            WriteProgress {
                written: 0,
                polls: 0,
                state: OutputState::BackedUp
            }
        );
        assert_eq!(card.status_reads, 0);
    }

    #[test]
    fn empty_input_is_complete_without_io() {
        let mut card = card(1, false);
        let progress = PacedWriter::new(10).write(&mut card, &[], 100);
        assert_eq!(
            progress,
            WriteProgress {
                written: 0,
                polls: 0,
                state: OutputState::Complete
            }
        );
        assert_eq!(card.status_reads, 0);
    }

    #[test]
    fn output_that_never_drains_is_stuck_across_calls() {
        let mut card = card(1, true);
        let mut writer = PacedWriter::new(100);
        let bytes = [0x90, 0x3C, 0x64, 0x80, 0x3C];
        let first = writer.write(&mut card, &bytes, 50);
        assert_eq!(
            first,
            WriteProgress {
                written: 1,
                polls: 50,
                state: OutputState::BackedUp
            }
        );
        assert_eq!(writer.polls_without_progress(), 49);
        let second = writer.write(&mut card, &bytes[1..], 500);
        assert_eq!(
            second,
            WriteProgress {
                written: 0,
                polls: 51,
                state: OutputState::Stuck
            }
        );
        assert_eq!(writer.polls_without_progress(), 100);
        assert_eq!(card.writes_while_busy, 0);
        writer.clear_stall();
        assert_eq!(writer.polls_without_progress(), 0);
    }

    #[test]
    fn stall_limit_below_one_byte_time_misreads_a_slow_card() {
        // A byte takes 320 polls of 1 µs to clear a one-byte holding register,
        // so a limit of 100 polls calls a working card stuck: the limit must
        // exceed the wire time of the FIFO's bytes in polls.
        let mut card = card(1, false);
        let mut writer = PacedWriter::new(100);
        let progress = writer.write(&mut card, &[1, 2, 3], 1_000);
        assert_eq!(progress.state, OutputState::Stuck);
        assert_eq!(progress.written, 2);
        let mut card = self::card(1, false);
        let mut writer = PacedWriter::new(400);
        assert_eq!(
            writer.write(&mut card, &[1, 2, 3], 1_000).state,
            OutputState::Complete
        );
    }

    #[test]
    fn absent_card_never_takes_a_byte() {
        let mut card = FakeCard::new(
            Behaviour {
                absent: true,
                ..Behaviour::WORKING
            },
            Mode::Uart,
        );
        let mut writer = PacedWriter::new(8);
        assert_eq!(
            writer.write(&mut card, &[0x90], 100),
            WriteProgress {
                written: 0,
                polls: 8,
                state: OutputState::Stuck
            }
        );
    }

    #[test]
    fn zero_stall_limit_means_one() {
        assert_eq!(PacedWriter::new(0).stall_limit(), 1);
    }
}
