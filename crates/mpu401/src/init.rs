//! Bringing a card into UART mode, with bounded polling.
//!
//! # The sequence
//! 1. **Drain stale input**: read the data port while DSR is clear, at most
//!    [`InitBudget::max_discard`] bytes, so that an old byte (a late ACK, MIDI
//!    input received in UART mode) cannot pass for an acknowledge.
//! 2. **Reset**: wait for DRR clear (at most [`InitBudget::ready_polls`] polls),
//!    write [`CMD_RESET`], then wait up to [`InitBudget::reset_ack_polls`] polls
//!    for [`ACK`]. A card that was already in UART mode may leave it silently
//!    (DOSBox) or acknowledge (PCem, real Roland cards), so **both are
//!    accepted**; [`InitReport::reset_acked`] says which happened.
//! 3. **Drain stale input** again (an ACK arriving after the window must not be
//!    taken for the next one).
//! 4. **Enter UART mode**: wait for DRR clear, write [`CMD_ENTER_UART`], then wait
//!    up to [`InitBudget::uart_ack_polls`] polls for [`ACK`]. This one **must**
//!    be acknowledged: a card in command mode always does, and without it we
//!    cannot know the card is in UART mode.
//!
//! A card slower to acknowledge than the reset window (10 ms by default) has
//! its reset ACK taken for the UART ACK; its real UART ACK then reaches the
//! ISR as a 0xFE byte, which MIDI receivers ignore as active sensing.
//!
//! Every poll is one status read followed, when the awaited condition is not
//! met, by [`Delay::delay_us`]`(`[`InitBudget::poll_interval_us`]`)`.
//!
//! # Errors, and telling them apart
//! - [`InitError::Absent`]: every status read during a DRR wait returned 0xFF
//!   (a floating ISA bus: nothing decodes the address). A card whose
//!   undefined status bits read 1 (DOSBox, wdm-sim's card: idle status 0x3F)
//!   and whose output is stuck also reads 0xFF throughout; the status
//!   register cannot tell the two apart, so that card is reported absent too.
//! - [`InitError::Timeout`]: DRR never cleared although the card answered with
//!   something other than 0xFF: a card is there but its output is stuck.
//! - [`InitError::NoAck`]: the enter-UART command went out but no [`ACK`]
//!   arrived within the window (bytes that did arrive are counted).
//!
//! # Why this and not the DDK's "reset twice, 50 ms each"
//! Microsoft's sample (WDK 7.1 `audio/dmusuart/mpu.cpp`, `InitMPU`, read in
//! `KunYi/WDK7.1-Samples`) runs its whole reset sequence through
//! `IInterruptSync::CallSynchronizedRoutine`, i.e. at DIRQL holding the
//! interrupt spin lock: each of its two resets spins up to 50 ms for DRR and
//! then up to 50 ms (25 µs stalls) for any input byte, and only the second
//! must be 0xFE. A silent card thus holds a CPU at DIRQL for up to 200 ms,
//! and the enter-UART command that follows (`ResetHardware`) is never
//! checked for its ACK, which the ISR later reads as if it were MIDI input.
//!
//! This sequence instead runs at `PASSIVE_LEVEL` from `StartDevice`, **before
//! the interrupt is connected** (so no ISR can race it for the ACK bytes,
//! which is what the DDK's lock was for), where [`Delay`] may sleep instead
//! of spin; it resets once (the second reset only existed to provoke the ACK
//! a UART-mode card may withhold, and the enter-UART ACK is the proof that
//! matters); it checks that the ACK byte is 0xFE; and every wait ends as
//! soon as its condition holds. Its worst case is fixed by the budget:
//! [`InitBudget::worst_case_us`], 90 ms plus 1,156 status reads with
//! [`InitBudget::DEFAULT`] — reached only by a card that is stuck or silent,
//! never by a working one, which finishes within a few polls (under 0.3 ms
//! against the tests' fake card).

use crate::port::{ACK, CMD_ENTER_UART, CMD_RESET, ControlPort, DataPort, Delay};

/// How long [`initialize`] may poll, in status reads and the delay between them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitBudget {
    /// Microseconds passed to [`Delay::delay_us`] after a poll that did not succeed.
    pub poll_interval_us: u32,
    /// Polls allowed for DRR to clear before each command (0 is taken as 1:
    /// a command is never sent without reading DRR first).
    pub ready_polls: u32,
    /// Polls allowed for the reset's ACK (its absence is tolerated).
    pub reset_ack_polls: u32,
    /// Polls allowed for the enter-UART ACK (its absence is an error).
    pub uart_ack_polls: u32,
    /// Stale or non-ACK input bytes that may be read and discarded per drain or wait.
    pub max_discard: u32,
}

impl InitBudget {
    /// 100 µs between polls; 20 ms for DRR before each command, 10 ms for the
    /// reset ACK, 40 ms for the UART ACK; up to 64 discarded bytes per step.
    pub const DEFAULT: Self = Self {
        poll_interval_us: 100,
        ready_polls: 200,
        reset_ack_polls: 100,
        uart_ack_polls: 400,
        max_discard: 64,
    };

    /// The most status reads [`initialize`] can perform with this budget.
    #[must_use]
    pub const fn max_status_reads(&self) -> u64 {
        // Two stale drains, two DRR waits, two ACK waits; a byte read in an
        // ACK wait costs a status read without using up a poll.
        let discards = 4 * self.max_discard as u64;
        let ready = 2 * self.ready_polls as u64;
        let acks = self.reset_ack_polls as u64 + self.uart_ack_polls as u64;
        discards + ready + acks
    }

    /// The most time [`initialize`] can spend in [`Delay::delay_us`], in µs.
    /// Add one ISA I/O cycle (about 1 µs) per [`Self::max_status_reads`].
    #[must_use]
    pub const fn worst_case_us(&self) -> u64 {
        let polls =
            2 * self.ready_polls as u64 + self.reset_ack_polls as u64 + self.uart_ack_polls as u64;
        polls * self.poll_interval_us as u64
    }
}

impl Default for InitBudget {
    fn default() -> Self {
        Self::DEFAULT
    }
}

/// Which command [`initialize`] was working on when it failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitStage {
    /// Sending [`CMD_RESET`] or waiting for its ACK.
    Reset,
    /// Sending [`CMD_ENTER_UART`] or waiting for its ACK.
    EnterUart,
}

/// Why [`initialize`] failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InitError {
    /// Every status read of a DRR wait returned 0xFF: no card decodes this
    /// address (or a stuck card whose undefined status bits read 1).
    Absent,
    /// DRR never cleared within [`InitBudget::ready_polls`] though the card answered.
    Timeout {
        /// The command that could not be sent.
        stage: InitStage,
        /// The last status byte read.
        last_status: u8,
    },
    /// The enter-UART command was sent but no [`ACK`] came back in time.
    NoAck {
        /// The command left unacknowledged (always [`InitStage::EnterUart`] today).
        stage: InitStage,
        /// Non-ACK bytes read from the data port while waiting.
        other_bytes: u32,
        /// The last such byte, if any.
        last_byte: Option<u8>,
    },
}

impl core::fmt::Display for InitError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Self::Absent => {
                f.write_str("no MPU-401 at this address (status reads 0xFF: floating bus)")
            }
            Self::Timeout { stage, last_status } => {
                write!(
                    f,
                    "MPU-401 never became ready to accept the {stage:?} command (status {last_status:#04x})"
                )
            }
            Self::NoAck {
                stage,
                other_bytes,
                last_byte,
            } => {
                write!(
                    f,
                    "MPU-401 did not acknowledge the {stage:?} command ({other_bytes} other bytes"
                )?;
                if let Some(byte) = last_byte {
                    write!(f, ", last {byte:#04x}")?;
                }
                f.write_str(")")
            }
        }
    }
}

/// What a successful [`initialize`] observed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct InitReport {
    /// True if the reset was acknowledged (false: the card was probably in
    /// UART mode already and, like DOSBox, left it silently).
    pub reset_acked: bool,
    /// Bytes read and thrown away: stale input and non-ACK bytes.
    pub discarded: u32,
    /// Status reads performed in total.
    pub status_reads: u32,
}

/// Puts the card in UART mode. See the [module documentation](self) for the
/// exact sequence and its worst-case duration.
///
/// Runs at `PASSIVE_LEVEL` (it calls [`Delay::delay_us`], which may sleep),
/// before the card's interrupt is connected: an ISR draining input at the
/// same time would swallow the ACK bytes.
///
/// # Errors
/// [`InitError::Absent`] for a floating bus, [`InitError::Timeout`] when DRR
/// never clears, [`InitError::NoAck`] when UART mode is not acknowledged.
pub fn initialize<P, D>(
    io: &mut P,
    delay: &mut D,
    budget: &InitBudget,
) -> Result<InitReport, InitError>
where
    P: DataPort + ControlPort,
    D: Delay,
{
    let mut run = Run {
        io,
        delay,
        budget,
        report: InitReport {
            reset_acked: false,
            discarded: 0,
            status_reads: 0,
        },
    };
    run.drain_stale();
    run.send_command(CMD_RESET, InitStage::Reset)?;
    let reset_ack = run.wait_ack(budget.reset_ack_polls);
    run.report.reset_acked = reset_ack.acked;
    run.drain_stale();
    run.send_command(CMD_ENTER_UART, InitStage::EnterUart)?;
    let uart_ack = run.wait_ack(budget.uart_ack_polls);
    if uart_ack.acked {
        Ok(run.report)
    } else {
        Err(InitError::NoAck {
            stage: InitStage::EnterUart,
            other_bytes: uart_ack.other_bytes,
            last_byte: uart_ack.last_byte,
        })
    }
}

/// The outcome of one ACK wait.
struct AckWait {
    acked: bool,
    other_bytes: u32,
    last_byte: Option<u8>,
}

/// One initialisation in progress: the port, the delay and the running report.
struct Run<'a, P, D> {
    io: &'a mut P,
    delay: &'a mut D,
    budget: &'a InitBudget,
    report: InitReport,
}

impl<P: DataPort + ControlPort, D: Delay> Run<'_, P, D> {
    fn status(&mut self) -> crate::port::Status {
        self.report.status_reads = self.report.status_reads.saturating_add(1);
        self.io.read_status()
    }

    /// Reads and discards waiting input, at most `max_discard` bytes.
    fn drain_stale(&mut self) {
        for _ in 0..self.budget.max_discard {
            if !self.status().input_available() {
                return;
            }
            let _stale = self.io.read_data();
            self.report.discarded = self.report.discarded.saturating_add(1);
        }
    }

    /// Waits for DRR clear, then writes `command`.
    fn send_command(&mut self, command: u8, stage: InitStage) -> Result<(), InitError> {
        let mut all_floating = true;
        let mut last_status = 0;
        for _ in 0..self.budget.ready_polls.max(1) {
            let status = self.status();
            if status.output_ready() {
                self.io.write_command(command);
                return Ok(());
            }
            all_floating &= status.is_floating();
            last_status = status.0;
            self.delay.delay_us(self.budget.poll_interval_us);
        }
        if all_floating {
            Err(InitError::Absent)
        } else {
            Err(InitError::Timeout { stage, last_status })
        }
    }

    /// Waits up to `polls` polls for [`ACK`]; other bytes are discarded (at
    /// most `max_discard`, after which the wait gives up).
    fn wait_ack(&mut self, polls: u32) -> AckWait {
        let mut wait = AckWait {
            acked: false,
            other_bytes: 0,
            last_byte: None,
        };
        let mut polls_left = polls;
        while polls_left > 0 {
            if self.status().input_available() {
                let byte = self.io.read_data();
                if byte == ACK {
                    wait.acked = true;
                    return wait;
                }
                wait.other_bytes += 1;
                wait.last_byte = Some(byte);
                self.report.discarded = self.report.discarded.saturating_add(1);
                if wait.other_bytes >= self.budget.max_discard {
                    return wait;
                }
            } else {
                polls_left -= 1;
                self.delay.delay_us(self.budget.poll_interval_us);
            }
        }
        wait
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fake_card::{Behaviour, FakeCard, Mode};

    fn run(card: &mut FakeCard) -> Result<InitReport, InitError> {
        let mut delay = card.delay();
        initialize(card, &mut delay, &InitBudget::DEFAULT)
    }

    #[test]
    fn default_budget_worst_case_is_90_ms() {
        assert_eq!(InitBudget::DEFAULT.worst_case_us(), 90_000);
        assert_eq!(InitBudget::DEFAULT.max_status_reads(), 1_156);
        assert_eq!(InitBudget::default(), InitBudget::DEFAULT);
    }

    #[test]
    fn card_in_command_mode_acks_both() {
        let mut card = FakeCard::new(Behaviour::WORKING, Mode::Command);
        let report = run(&mut card).unwrap();
        assert_eq!(
            report,
            InitReport {
                reset_acked: true,
                discarded: 0,
                status_reads: report.status_reads
            }
        );
        assert_eq!(card.mode, Mode::Uart);
        let commands: std::vec::Vec<u8> = card.commands.iter().map(|&(_, c)| c).collect();
        assert_eq!(commands, [CMD_RESET, CMD_ENTER_UART]);
        assert!(card.input.is_empty(), "both ACKs consumed");
        // ACK after 5 µs at 100 µs per failed poll: one wait per ACK.
        assert_eq!(card.delayed_us(), 200);
        assert!(
            card.now < 300,
            "a working card is done in well under a millisecond: {} µs",
            card.now
        );
    }

    #[test]
    fn card_in_uart_mode_that_acks_reset_pcem() {
        let mut card = FakeCard::new(Behaviour::WORKING, Mode::Uart);
        let report = run(&mut card).unwrap();
        assert!(report.reset_acked);
        assert_eq!(card.mode, Mode::Uart);
    }

    #[test]
    fn card_in_uart_mode_that_does_not_ack_reset_dosbox() {
        let behaviour = Behaviour {
            ack_reset_in_uart: false,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Uart);
        let report = run(&mut card).unwrap();
        assert!(!report.reset_acked);
        assert_eq!(card.mode, Mode::Uart);
        // The whole reset-ACK window (100 polls × 100 µs) plus one UART-ACK poll.
        assert_eq!(card.delayed_us(), 10_000 + 100);
        assert!(
            card.now <= InitBudget::DEFAULT.worst_case_us() + u64::from(report.status_reads) * 2
        );
    }

    #[test]
    fn absent_card_is_reported_as_absent() {
        let behaviour = Behaviour {
            absent: true,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Command);
        assert_eq!(run(&mut card), Err(InitError::Absent));
        assert!(card.commands.is_empty());
        assert_eq!(card.delayed_us(), 200 * 100);
        assert_eq!(
            card.status_reads,
            1 + 200,
            "one stale-drain read (DSR set), then 200 DRR polls"
        );
    }

    #[test]
    fn card_with_high_idle_bits_initialises() {
        // DOSBox and wdm-sim read the undefined status bits as 1: ready with no
        // input is 0xBF, ready with input 0x3F; neither is the floating 0xFF.
        let behaviour = Behaviour {
            idle_bits: 0x3F,
            ack_reset_in_uart: false,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Uart);
        let report = run(&mut card).unwrap();
        assert!(!report.reset_acked);
        assert_eq!(card.mode, Mode::Uart);
    }

    #[test]
    fn stuck_card_with_high_idle_bits_reads_as_absent() {
        let behaviour = Behaviour {
            idle_bits: 0x3F,
            never_drains: true,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Uart);
        card.write_data(0x90);
        assert_eq!(run(&mut card), Err(InitError::Absent));
    }

    #[test]
    fn card_that_never_acks_fails_with_no_ack() {
        let behaviour = Behaviour {
            acks_commands: false,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Command);
        assert_eq!(
            run(&mut card),
            Err(InitError::NoAck {
                stage: InitStage::EnterUart,
                other_bytes: 0,
                last_byte: None
            })
        );
        assert_eq!(card.delayed_us(), (100 + 400) * 100);
    }

    #[test]
    fn card_whose_output_never_drains_times_out() {
        let behaviour = Behaviour {
            never_drains: true,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Uart);
        card.write_data(0x90); // fills the one-byte holding register for good
        assert_eq!(
            run(&mut card),
            Err(InitError::Timeout {
                stage: InitStage::Reset,
                last_status: 0xC0
            })
        );
        assert!(card.commands.is_empty());
    }

    #[test]
    fn stale_input_including_active_sensing_is_discarded_first() {
        let mut card = FakeCard::new(
            Behaviour {
                ack_reset_in_uart: false,
                ..Behaviour::WORKING
            },
            Mode::Uart,
        );
        card.inject_input(0, &[0x90, 0x3C, 0x40, 0xFE]);
        card.now = 2_000;
        let report = run(&mut card).unwrap();
        assert_eq!(report.discarded, 4);
        assert!(
            !report.reset_acked,
            "0xFE active sensing must not pass for the reset ACK"
        );
        assert_eq!(card.mode, Mode::Uart);
    }

    #[test]
    fn input_flood_during_ack_wait_is_bounded() {
        // A card that answers the UART command with garbage only.
        let behaviour = Behaviour {
            acks_commands: false,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Command);
        // 200 bytes arriving right after the reset window, one every µs.
        for i in 0..200 {
            card.input.push_back((10_050 + i, 0x55));
        }
        let err = run(&mut card).unwrap_err();
        assert_eq!(
            err,
            InitError::NoAck {
                stage: InitStage::EnterUart,
                other_bytes: 64,
                last_byte: Some(0x55)
            }
        );
        assert!(card.status_reads <= 1_156);
    }

    #[test]
    fn zero_budget_still_reads_drr_and_fails_cleanly() {
        let budget = InitBudget {
            poll_interval_us: 0,
            ready_polls: 0,
            reset_ack_polls: 0,
            uart_ack_polls: 0,
            max_discard: 0,
        };
        let mut card = FakeCard::new(
            Behaviour {
                ack_delay_us: 0,
                ..Behaviour::WORKING
            },
            Mode::Command,
        );
        let mut delay = card.delay();
        // Both commands go out (DRR read first); an ACK that is already there
        // still needs one poll to be seen, so UART mode is unconfirmed.
        let result = initialize(&mut card, &mut delay, &budget);
        assert_eq!(
            result,
            Err(InitError::NoAck {
                stage: InitStage::EnterUart,
                other_bytes: 0,
                last_byte: None
            })
        );
        let commands: std::vec::Vec<u8> = card.commands.iter().map(|&(_, c)| c).collect();
        assert_eq!(commands, [CMD_RESET, CMD_ENTER_UART]);
    }

    #[test]
    fn ack_later_than_the_reset_window_is_taken_for_the_uart_ack() {
        // A card that answers every command after 15 ms: the reset's ACK
        // arrives after its 10 ms window and after the stale drain, so it is
        // read as the UART ACK; the UART's own ACK stays queued and will reach
        // the ISR as 0xFE, which MIDI receivers ignore as active sensing.
        let behaviour = Behaviour {
            ack_delay_us: 15_000,
            ..Behaviour::WORKING
        };
        let mut card = FakeCard::new(behaviour, Mode::Command);
        let report = run(&mut card).unwrap();
        assert!(!report.reset_acked);
        assert_eq!(card.mode, Mode::Uart);
        assert_eq!(
            card.input
                .iter()
                .map(|&(_, b)| b)
                .collect::<std::vec::Vec<u8>>(),
            [ACK]
        );
    }

    #[test]
    fn errors_display_clearly() {
        let text = std::format!(
            "{}",
            InitError::NoAck {
                stage: InitStage::EnterUart,
                other_bytes: 2,
                last_byte: Some(0x90)
            }
        );
        assert_eq!(
            text,
            "MPU-401 did not acknowledge the EnterUart command (2 other bytes, last 0x90)"
        );
        assert!(std::format!("{}", InitError::Absent).contains("floating bus"));
    }
}
