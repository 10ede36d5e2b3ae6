//! The emulated MPU-401 (Roland's UART mode, as clones implement it).
//!
//! - Data port (`base`): writes in UART mode go to the output FIFO; reads take the next input
//!   byte (an empty queue re-reads the last byte, as the data latch holds it).
//! - Status/command port (`base + 1`): status bit 0x40 (DRR) set = the FIFO is full, bit 0x80
//!   (DSR) set = no input; the other bits read 1 (0x3F, as `DOSBox`'s card). Commands: 0xFF reset
//!   (ACK 0xFE, except in UART mode on cards configured not to ACK there; leaves UART mode and
//!   drops unsent and unread bytes), 0x3F enter UART mode (ACK 0xFE; ignored in UART mode),
//!   other commands ACK in intelligent mode and are ignored in UART mode.
//! - Output: a byte written while the transmitter is idle starts on the wire at once; others
//!   wait in the FIFO (`fifo_depth` bytes) and start back to back, `byte_time` apart. The wire
//!   log records each byte's start time.
//! - Input: injected bytes arrive at their times; each byte entering the input queue (MIDI
//!   input or an ACK) raises the interrupt (an ISA edge: one interrupt per byte, coalesced
//!   while pending). The card keeps at most [`INPUT_QUEUE_CAPACITY`] unread bytes.
//! - Faults: absent (reads 0xFF, writes vanish), never ACKs, never drains.

use alloc::collections::{BTreeMap, VecDeque};
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use crate::config::{Mpu401Config, Mpu401Fault};

/// Status bit: Data Receive Ready clear = the card takes a byte. Set = busy.
pub const STATUS_DRR: u8 = 0x40;
/// Status bit: Data Set Ready clear = an input byte is waiting. Set = empty.
pub const STATUS_DSR: u8 = 0x80;
/// The bits of the status register the card drives high.
pub const STATUS_IDLE_BITS: u8 = 0x3F;
/// The acknowledge byte.
pub const ACK: u8 = 0xFE;
/// Command: reset.
pub const CMD_RESET: u8 = 0xFF;
/// Command: enter UART mode.
pub const CMD_UART: u8 = 0x3F;
/// Unread input bytes the card holds; more are lost.
pub const INPUT_QUEUE_CAPACITY: usize = 64;

/// Which register a port address reaches.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Register {
    /// `base`: data.
    Data,
    /// `base + 1`: status (read) and command (write).
    StatusCommand,
}

/// Counters of what the card saw.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Mpu401Stats {
    /// Bytes written to the data port.
    pub data_writes: u64,
    /// Bytes sent on the wire.
    pub bytes_sent: u64,
    /// Data bytes ignored because the card was not in UART mode.
    pub ignored_data: u64,
    /// Data bytes lost because they were written while DRR was set.
    pub overruns: u64,
    /// Commands written.
    pub commands: u64,
    /// ACKs the card queued.
    pub acks: u64,
    /// Input bytes lost (queue full, card not in UART mode, card absent).
    pub input_lost: u64,
    /// Interrupts raised.
    pub interrupts: u64,
}

/// The card.
#[derive(Debug)]
pub struct Mpu401 {
    config: Mpu401Config,
    uart: bool,
    fifo: VecDeque<u8>,
    tx_end: u64,
    input: VecDeque<u8>,
    latch: u8,
    wire: Vec<(u64, u8)>,
    arrivals: BTreeMap<(u64, u64), u8>,
    arrival_seq: u64,
    irq_pending: bool,
    stats: Mpu401Stats,
}

impl Mpu401 {
    /// A card in its power-on state (intelligent mode, nothing queued).
    #[must_use]
    pub fn new(config: Mpu401Config) -> Self {
        Self {
            config,
            uart: false,
            fifo: VecDeque::new(),
            tx_end: 0,
            input: VecDeque::new(),
            latch: 0xFF,
            wire: Vec::new(),
            arrivals: BTreeMap::new(),
            arrival_seq: 0,
            irq_pending: false,
            stats: Mpu401Stats::default(),
        }
    }

    /// Its configuration.
    #[must_use]
    pub const fn config(&self) -> &Mpu401Config {
        &self.config
    }

    /// The register `port` reaches, if it is one of the card's.
    #[must_use]
    pub fn register(&self, port: usize) -> Option<Register> {
        let base = usize::from(self.config.base_port);
        match port.checked_sub(base)? {
            0 => Some(Register::Data),
            1 => Some(Register::StatusCommand),
            _ => None,
        }
    }

    /// Whether the card is in UART mode.
    #[must_use]
    pub const fn in_uart_mode(&self) -> bool {
        self.uart
    }

    /// Counters.
    #[must_use]
    pub const fn stats(&self) -> Mpu401Stats {
        self.stats
    }

    fn absent(&self) -> bool {
        self.config.fault == Mpu401Fault::Absent
    }

    fn depth(&self) -> usize {
        self.config.fifo_depth.max(1)
    }

    /// Moves FIFO bytes onto the wire as the transmitter frees up, up to `now`.
    pub fn sync(&mut self, now: u64) {
        if self.config.fault == Mpu401Fault::NeverDrains {
            return;
        }
        while self.tx_end <= now {
            let Some(byte) = self.fifo.pop_front() else {
                break;
            };
            self.transmit(self.tx_end, byte);
        }
    }

    fn transmit(&mut self, start: u64, byte: u8) {
        self.wire.push((start, byte));
        self.stats.bytes_sent += 1;
        self.tx_end = start + self.config.byte_time;
    }

    /// The wire log up to `now`: (start time, byte).
    pub fn wire(&mut self, now: u64) -> &[(u64, u8)] {
        self.sync(now);
        &self.wire
    }

    /// Reads `register` at `now`.
    pub fn read(&mut self, register: Register, now: u64) -> u8 {
        if self.absent() {
            return 0xFF;
        }
        self.sync(now);
        match register {
            Register::StatusCommand => {
                let mut status = STATUS_IDLE_BITS;
                if self.fifo.len() >= self.depth() {
                    status |= STATUS_DRR;
                }
                if self.input.is_empty() {
                    status |= STATUS_DSR;
                }
                status
            }
            Register::Data => {
                if let Some(byte) = self.input.pop_front() {
                    self.latch = byte;
                }
                self.latch
            }
        }
    }

    /// Writes `value` to `register` at `now`. Returns a description of a protocol violation
    /// (a data byte written while DRR was set: the byte is lost).
    pub fn write(&mut self, register: Register, value: u8, now: u64) -> Option<String> {
        if self.absent() {
            return None;
        }
        self.sync(now);
        match register {
            Register::Data => self.write_data(value, now),
            Register::StatusCommand => {
                self.command(value);
                None
            }
        }
    }

    fn write_data(&mut self, byte: u8, now: u64) -> Option<String> {
        self.stats.data_writes += 1;
        if !self.uart {
            self.stats.ignored_data += 1;
            return None;
        }
        let drains = self.config.fault != Mpu401Fault::NeverDrains;
        if drains && self.fifo.is_empty() && self.tx_end <= now {
            self.transmit(now, byte);
            None
        } else if self.fifo.len() < self.depth() {
            self.fifo.push_back(byte);
            None
        } else {
            self.stats.overruns += 1;
            Some(format!(
                "MPU-401 data port {:#x} written while DRR (0x40) was set: byte {byte:#04x} lost",
                self.config.base_port
            ))
        }
    }

    fn command(&mut self, command: u8) {
        self.stats.commands += 1;
        match command {
            CMD_RESET => {
                let was_uart = self.uart;
                self.uart = false;
                self.fifo.clear();
                self.input.clear();
                if !was_uart || self.config.ack_reset_in_uart_mode {
                    self.acknowledge();
                }
            }
            CMD_UART if !self.uart => {
                self.uart = true;
                self.acknowledge();
            }
            _ if !self.uart => self.acknowledge(),
            _ => {}
        }
    }

    fn acknowledge(&mut self) {
        if self.config.fault != Mpu401Fault::NeverAcks {
            self.stats.acks += 1;
            self.queue_input(ACK);
        }
    }

    fn queue_input(&mut self, byte: u8) {
        if self.input.len() >= INPUT_QUEUE_CAPACITY {
            self.stats.input_lost += 1;
            return;
        }
        self.input.push_back(byte);
        if !self.irq_pending {
            self.stats.interrupts += 1;
        }
        self.irq_pending = true;
    }

    /// Schedules MIDI input: `bytes` arrive back to back, the first fully received at `at`.
    pub fn inject(&mut self, at: u64, bytes: &[u8]) {
        let mut t = at;
        for &byte in bytes {
            self.arrival_seq += 1;
            self.arrivals.insert((t, self.arrival_seq), byte);
            t += self.config.byte_time;
        }
    }

    /// When the next injected byte arrives.
    #[must_use]
    pub fn next_arrival(&self) -> Option<u64> {
        self.arrivals.keys().next().map(|&(t, _)| t)
    }

    /// Delivers the injected bytes due by `now` into the input queue.
    pub fn deliver_arrivals(&mut self, now: u64) {
        while let Some(entry) = self.arrivals.first_entry() {
            if entry.key().0 > now {
                break;
            }
            let byte = entry.remove();
            if self.uart && !self.absent() {
                self.queue_input(byte);
            } else {
                self.stats.input_lost += 1;
            }
        }
    }

    /// Takes the pending interrupt, if any.
    pub fn take_interrupt(&mut self) -> bool {
        core::mem::take(&mut self.irq_pending)
    }

    /// Whether an interrupt is pending.
    #[must_use]
    pub const fn interrupt_pending(&self) -> bool {
        self.irq_pending
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::us;

    fn card(config: Mpu401Config) -> Mpu401 {
        Mpu401::new(config)
    }

    fn uart_card(config: Mpu401Config) -> Mpu401 {
        let mut mpu = card(config);
        mpu.write(Register::StatusCommand, CMD_UART, 0);
        assert_eq!(mpu.read(Register::Data, 0), ACK);
        mpu.take_interrupt();
        mpu
    }

    #[test]
    fn ports_map_to_registers() {
        let mpu = card(Mpu401Config::default());
        assert_eq!(mpu.register(0x330), Some(Register::Data));
        assert_eq!(mpu.register(0x331), Some(Register::StatusCommand));
        assert_eq!(mpu.register(0x332), None);
        assert_eq!(mpu.register(0x32f), None);
    }

    #[test]
    fn reset_and_uart_mode_are_acknowledged_and_raise_the_interrupt() {
        let mut mpu = card(Mpu401Config::default());
        assert_eq!(
            mpu.read(Register::StatusCommand, 0),
            STATUS_IDLE_BITS | STATUS_DSR
        );
        mpu.write(Register::StatusCommand, CMD_RESET, 0);
        assert!(mpu.take_interrupt());
        assert_eq!(mpu.read(Register::StatusCommand, 0), STATUS_IDLE_BITS);
        assert_eq!(mpu.read(Register::Data, 0), ACK);
        mpu.write(Register::StatusCommand, CMD_UART, 0);
        assert!(mpu.in_uart_mode());
        assert_eq!(mpu.read(Register::Data, 0), ACK);
        // In UART mode a second 0x3F is ignored.
        mpu.write(Register::StatusCommand, CMD_UART, 0);
        assert_eq!(
            mpu.read(Register::StatusCommand, 0),
            STATUS_IDLE_BITS | STATUS_DSR
        );
        assert_eq!(mpu.stats().acks, 2);
    }

    #[test]
    fn reset_in_uart_mode_acks_or_not_as_configured() {
        let mut acking = uart_card(Mpu401Config::default());
        acking.write(Register::StatusCommand, CMD_RESET, 0);
        assert!(!acking.in_uart_mode());
        assert_eq!(acking.read(Register::StatusCommand, 0) & STATUS_DSR, 0);

        let mut silent = uart_card(Mpu401Config {
            ack_reset_in_uart_mode: false,
            ..Mpu401Config::default()
        });
        silent.write(Register::StatusCommand, CMD_RESET, 0);
        assert!(!silent.in_uart_mode());
        assert_eq!(
            silent.read(Register::StatusCommand, 0) & STATUS_DSR,
            STATUS_DSR
        );
        // The second reset, now in intelligent mode, is acknowledged.
        silent.write(Register::StatusCommand, CMD_RESET, 0);
        assert_eq!(silent.read(Register::Data, 0), ACK);
    }

    #[test]
    fn depth_one_fifo_paces_bytes_320_us_apart() {
        let mut mpu = uart_card(Mpu401Config::default());
        let t0 = us(1000);
        assert_eq!(mpu.write(Register::Data, 0x90, t0), None);
        assert_eq!(mpu.read(Register::StatusCommand, t0) & STATUS_DRR, 0);
        assert_eq!(mpu.write(Register::Data, 0x3C, t0), None);
        assert_eq!(
            mpu.read(Register::StatusCommand, t0) & STATUS_DRR,
            STATUS_DRR
        );
        assert_eq!(
            mpu.read(Register::StatusCommand, t0 + us(320) - 1) & STATUS_DRR,
            STATUS_DRR
        );
        assert_eq!(
            mpu.read(Register::StatusCommand, t0 + us(320)) & STATUS_DRR,
            0
        );
        assert_eq!(mpu.write(Register::Data, 0x7F, t0 + us(320)), None);
        assert_eq!(
            mpu.wire(t0 + us(2000)),
            [(t0, 0x90), (t0 + us(320), 0x3C), (t0 + us(640), 0x7F)]
        );
    }

    #[test]
    fn deeper_fifo_takes_a_burst_and_drains_back_to_back() {
        let mut mpu = uart_card(Mpu401Config {
            fifo_depth: 4,
            ..Mpu401Config::default()
        });
        for b in 0..5 {
            assert_eq!(mpu.write(Register::Data, b, 0), None);
        }
        assert_eq!(
            mpu.read(Register::StatusCommand, 0) & STATUS_DRR,
            STATUS_DRR
        );
        let times: Vec<u64> = mpu.wire(us(5000)).iter().map(|&(t, _)| t).collect();
        assert_eq!(times, [0, us(320), us(640), us(960), us(1280)]);
    }

    #[test]
    fn writing_while_drr_is_set_loses_the_byte_and_says_so() {
        let mut mpu = uart_card(Mpu401Config::default());
        mpu.write(Register::Data, 0x90, 0);
        mpu.write(Register::Data, 0x3C, 0);
        let misuse = mpu.write(Register::Data, 0x7F, 0);
        assert_eq!(
            misuse.as_deref(),
            Some("MPU-401 data port 0x330 written while DRR (0x40) was set: byte 0x7f lost")
        );
        assert_eq!(mpu.wire(us(10_000)), [(0, 0x90), (us(320), 0x3C)]);
        assert_eq!(mpu.stats().overruns, 1);
    }

    #[test]
    fn data_outside_uart_mode_never_reaches_the_wire() {
        let mut mpu = card(Mpu401Config::default());
        assert_eq!(mpu.write(Register::Data, 0x90, 0), None);
        assert!(mpu.wire(us(1000)).is_empty());
        assert_eq!(mpu.stats().ignored_data, 1);
    }

    #[test]
    fn injected_input_arrives_at_its_times_and_interrupts() {
        let mut mpu = uart_card(Mpu401Config::default());
        mpu.inject(us(500), &[0x90, 0x40, 0x7F]);
        assert_eq!(mpu.next_arrival(), Some(us(500)));
        mpu.deliver_arrivals(us(499));
        assert!(!mpu.interrupt_pending());
        mpu.deliver_arrivals(us(820));
        assert!(mpu.take_interrupt());
        assert_eq!(mpu.read(Register::Data, us(820)), 0x90);
        assert_eq!(mpu.read(Register::Data, us(820)), 0x40);
        assert_eq!(
            mpu.read(Register::StatusCommand, us(820)) & STATUS_DSR,
            STATUS_DSR
        );
        assert_eq!(mpu.next_arrival(), Some(us(1140)));
        mpu.deliver_arrivals(us(1140));
        assert!(mpu.take_interrupt());
        assert_eq!(mpu.read(Register::Data, us(1140)), 0x7F);
        // An empty queue re-reads the latch.
        assert_eq!(mpu.read(Register::Data, us(1140)), 0x7F);
    }

    #[test]
    fn input_before_uart_mode_is_lost() {
        let mut mpu = card(Mpu401Config::default());
        mpu.inject(0, &[0x90]);
        mpu.deliver_arrivals(0);
        assert!(!mpu.interrupt_pending());
        assert_eq!(mpu.stats().input_lost, 1);
    }

    #[test]
    fn absent_card_floats_high_and_ignores_everything() {
        let mut mpu = card(Mpu401Config {
            fault: Mpu401Fault::Absent,
            ..Mpu401Config::default()
        });
        mpu.write(Register::StatusCommand, CMD_RESET, 0);
        assert_eq!(mpu.read(Register::StatusCommand, 0), 0xFF);
        assert_eq!(mpu.read(Register::Data, 0), 0xFF);
        assert!(!mpu.interrupt_pending());
    }

    #[test]
    fn card_that_never_acks_still_changes_mode() {
        let mut mpu = card(Mpu401Config {
            fault: Mpu401Fault::NeverAcks,
            ..Mpu401Config::default()
        });
        mpu.write(Register::StatusCommand, CMD_RESET, 0);
        mpu.write(Register::StatusCommand, CMD_UART, 0);
        assert!(mpu.in_uart_mode());
        assert_eq!(
            mpu.read(Register::StatusCommand, 0) & STATUS_DSR,
            STATUS_DSR
        );
        assert!(!mpu.interrupt_pending());
    }

    #[test]
    fn card_that_never_drains_fills_its_fifo_and_stays_busy() {
        let mut mpu = uart_card(Mpu401Config {
            fault: Mpu401Fault::NeverDrains,
            ..Mpu401Config::default()
        });
        assert_eq!(mpu.read(Register::StatusCommand, 0) & STATUS_DRR, 0);
        assert_eq!(mpu.write(Register::Data, 0x90, 0), None);
        assert_eq!(
            mpu.read(Register::StatusCommand, us(1_000_000)) & STATUS_DRR,
            STATUS_DRR
        );
        assert!(mpu.wire(us(1_000_000)).is_empty());
    }
}
