//! A fake MPU-401 for the unit tests: a virtual microsecond clock advanced by
//! every port access (1 µs, like an ISA I/O cycle) and by [`Delay`], an output
//! FIFO of settable depth drained onto a logged wire at 320 µs per byte, an
//! input queue with arrival times, and switchable misbehaviours.

use std::cell::Cell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::vec::Vec;

use crate::port::{
    ACK, CMD_ENTER_UART, CMD_RESET, ControlPort, DataPort, Delay, Status, WIRE_BYTE_US,
};

/// The card's mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Intelligent (command) mode, as after power-on or reset.
    Command,
    /// UART mode.
    Uart,
}

/// How the fake behaves.
// Each flag is an independent misbehaviour a test switches on.
#[allow(clippy::struct_excessive_bools)]
#[derive(Clone, Copy, Debug)]
pub struct Behaviour {
    /// Nothing decodes the address: every read is 0xFF, writes vanish.
    pub absent: bool,
    /// A reset received in UART mode is acknowledged (PCem) or not (DOSBox).
    pub ack_reset_in_uart: bool,
    /// Commands received in command mode are acknowledged.
    pub acks_commands: bool,
    /// µs between a command and its ACK becoming readable.
    pub ack_delay_us: u64,
    /// Output FIFO depth (the holding register counts as 1); DRR is set while
    /// this many bytes wait.
    pub fifo_depth: usize,
    /// The wire never takes a byte (output never drains).
    pub never_drains: bool,
    /// Status bits 0–5, which the MPU-401 leaves undefined: 0 here by
    /// default; DOSBox (and wdm-sim's card) read them as 1 (0x3F).
    pub idle_bits: u8,
}

impl Behaviour {
    /// A working card in command mode with a one-byte holding register.
    pub const WORKING: Self = Self {
        absent: false,
        ack_reset_in_uart: true,
        acks_commands: true,
        ack_delay_us: 5,
        fifo_depth: 1,
        never_drains: false,
        idle_bits: 0,
    };
}

/// The fake card.
pub struct FakeCard {
    pub behaviour: Behaviour,
    pub mode: Mode,
    /// Virtual time in µs.
    pub now: u64,
    /// Bytes waiting to be read: (readable from, byte).
    pub input: VecDeque<(u64, u8)>,
    /// Bytes written but not yet on the wire: (written at, byte).
    fifo: VecDeque<(u64, u8)>,
    wire_free_at: u64,
    /// Every byte put on the wire: (start time µs, byte).
    pub wire: Vec<(u64, u8)>,
    /// Every command written: (time, command).
    pub commands: Vec<(u64, u8)>,
    /// Data writes made while DRR was set (protocol violations by the caller).
    pub writes_while_busy: u32,
    /// Data reads made while DSR was set (protocol violations by the caller).
    pub reads_while_empty: u32,
    pub status_reads: u32,
    /// µs of delay requested through [`CardDelay`] and not yet added to `now`.
    pending_delay: Rc<Cell<u64>>,
    /// µs of delay already added to `now`.
    synced_delay_us: u64,
}

impl FakeCard {
    pub fn new(behaviour: Behaviour, mode: Mode) -> Self {
        Self {
            behaviour,
            mode,
            now: 0,
            input: VecDeque::new(),
            fifo: VecDeque::new(),
            wire_free_at: 0,
            wire: Vec::new(),
            commands: Vec::new(),
            writes_while_busy: 0,
            reads_while_empty: 0,
            status_reads: 0,
            pending_delay: Rc::new(Cell::new(0)),
            synced_delay_us: 0,
        }
    }

    /// A [`Delay`] that advances this card's clock.
    pub fn delay(&self) -> CardDelay {
        CardDelay(Rc::clone(&self.pending_delay))
    }

    /// Total µs requested through [`CardDelay`].
    pub fn delayed_us(&self) -> u64 {
        self.synced_delay_us + self.pending_delay.get()
    }

    /// Adds requested delays to the clock.
    fn sync(&mut self) {
        let waited = self.pending_delay.replace(0);
        self.synced_delay_us += waited;
        self.now += waited;
    }

    /// Queues MIDI input bytes arriving at `at`, 320 µs apart.
    pub fn inject_input(&mut self, at: u64, bytes: &[u8]) {
        for (i, &byte) in bytes.iter().enumerate() {
            self.input
                .push_back((at + i as u64 * u64::from(WIRE_BYTE_US), byte));
        }
    }

    /// Moves FIFO bytes onto the wire up to `now`.
    fn settle(&mut self) {
        if self.behaviour.never_drains {
            return;
        }
        while let Some(&(written, byte)) = self.fifo.front() {
            let start = written.max(self.wire_free_at);
            if start > self.now {
                break;
            }
            self.fifo.pop_front();
            self.wire.push((start, byte));
            self.wire_free_at = start + u64::from(WIRE_BYTE_US);
        }
    }

    fn tick(&mut self) {
        self.settle();
        self.now += 1;
    }

    fn current_status(&mut self) -> Status {
        self.sync();
        self.settle();
        if self.behaviour.absent {
            return Status(0xFF);
        }
        let mut bits = self.behaviour.idle_bits & 0x3F;
        if self.fifo.len() >= self.behaviour.fifo_depth {
            bits |= Status::DRR;
        }
        if self.input.front().is_none_or(|&(at, _)| at > self.now) {
            bits |= Status::DSR;
        }
        Status(bits)
    }

    fn queue_ack(&mut self) {
        let at = self.now + self.behaviour.ack_delay_us;
        self.input.push_back((at, ACK));
    }
}

impl ControlPort for FakeCard {
    fn read_status(&mut self) -> Status {
        self.status_reads += 1;
        let status = self.current_status();
        self.tick();
        status
    }

    fn write_command(&mut self, command: u8) {
        self.sync();
        if !self.behaviour.absent {
            self.commands.push((self.now, command));
            let acks = match (self.mode, command) {
                (Mode::Uart, CMD_RESET) => {
                    self.mode = Mode::Command;
                    self.behaviour.ack_reset_in_uart
                }
                (Mode::Command, CMD_RESET) => true,
                (Mode::Command, CMD_ENTER_UART) => {
                    self.mode = Mode::Uart;
                    true
                }
                // UART mode ignores every command but reset.
                _ => false,
            };
            if acks && self.behaviour.acks_commands {
                self.queue_ack();
            }
        }
        self.tick();
    }
}

impl DataPort for FakeCard {
    fn read_data(&mut self) -> u8 {
        let status = self.current_status();
        let byte = if self.behaviour.absent {
            0xFF
        } else if status.input_available() {
            self.input.pop_front().map_or(0xFF, |(_, byte)| byte)
        } else {
            self.reads_while_empty += 1;
            0xFF
        };
        self.tick();
        byte
    }

    fn write_data(&mut self, byte: u8) {
        let status = self.current_status();
        if !self.behaviour.absent {
            if status.output_ready() {
                self.fifo.push_back((self.now, byte));
            } else {
                self.writes_while_busy += 1;
            }
        }
        self.tick();
    }
}

/// Waiting on a [`FakeCard`]'s clock (a separate object because
/// [`crate::initialize`] borrows the port and the delay separately).
pub struct CardDelay(Rc<Cell<u64>>);

impl Delay for CardDelay {
    fn delay_us(&mut self, microseconds: u32) {
        self.0.set(self.0.get() + u64::from(microseconds));
    }
}
