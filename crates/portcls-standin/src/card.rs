//! The emulated MPU-401 behind the faulting `in`/`out` instructions: a card at a base port
//! with the data register at base+0 and the status/command register at base+1.
//!
//! - Commands (base+1): reset (`0xFF`) leaves UART mode and is acknowledged (`0xFE` on the
//!   data port) in either mode, as PCem's card does; enter-UART (`0x3F`) and any other
//!   command in command mode are acknowledged; in UART mode other commands are ignored.
//! - Data writes (base+0) in UART mode go on the MIDI wire: each byte starts when the wire is
//!   free (31,250 baud: [`WIRE_BYTE_100NS`] a byte) and is logged with its start time; in
//!   command mode they are ignored.
//! - Status (base+1): DRR while the output FIFO ([`FIFO_DEPTH`] bytes) is full, DSR while no
//!   input byte waits.
//! - Input: bytes injected with a time become readable when due ([`EmulatedCard::input_due`]
//!   says whether the line should interrupt).
//! - An absent card ([`EmulatedCard::absent`]) is a floating ISA bus: every read is `0xFF`,
//!   writes vanish (nothing decodes the address).
//! - A broken card ([`EmulatedCard::with_fault`]) has the faults of wdm-sim's card
//!   (`wdm_sim::Mpu401Fault`), meaning the same: [`CardFault::NeverAcks`] changes mode on
//!   reset and enter-UART but never queues an ACK; [`CardFault::NeverDrains`] takes data
//!   bytes into its FIFO but never puts one on the wire, so once [`FIFO_DEPTH`] bytes are
//!   held DRR stays set for good (a write then is an overrun).
//!
//! Times are 100 ns ticks of whatever clock the caller reads; the wire log keeps them
//! relative to the moment given to [`EmulatedCard::set_origin`] (the presentation time 0 of
//! the stream). The log's memory is given at construction, so the card never allocates: the
//! exception handler that drives it may run on any thread at any time; the job thread drains
//! it to the file ([`EmulatedCard::drain_wire`]), and bytes beyond its capacity between two
//! drains are counted as dropped.

use alloc::vec::Vec;

use mpu401::{ACK, CMD_ENTER_UART, CMD_RESET, Status, WIRE_BYTE_100NS};

/// Output FIFO depth in bytes (the holding register counts as one).
pub const FIFO_DEPTH: i64 = 16;
/// Input bytes the card holds before it drops more.
const INPUT_CAPACITY: usize = 64;

/// One byte on the MIDI wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WireByte {
    /// When the byte starts on the wire, in 100 ns from the origin.
    pub time: i64,
    /// The byte.
    pub byte: u8,
}

/// What the card counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CardCounts {
    /// Port reads.
    pub reads: u64,
    /// Port writes.
    pub writes: u64,
    /// Commands received.
    pub commands: u64,
    /// Wire bytes that did not fit the log.
    pub wire_dropped: u64,
    /// Data writes while the FIFO was full (DRR set): a protocol violation by the driver.
    pub overruns: u64,
    /// Input bytes dropped because the card's input queue was full.
    pub input_dropped: u64,
}

/// How a present card is broken (wdm-sim's `Mpu401Fault` less `Absent`, which is
/// [`EmulatedCard::absent`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CardFault {
    /// The card never acknowledges a command (it still changes mode).
    NeverAcks,
    /// The card takes bytes into its FIFO but never sends them.
    NeverDrains,
}

/// The card's mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Intelligent (command) mode, as after power-on or reset.
    Command,
    /// UART mode.
    Uart,
}

/// The emulated card.
#[derive(Debug)]
pub struct EmulatedCard {
    base: u16,
    present: bool,
    fault: Option<CardFault>,
    /// Bytes a card that never drains holds in its FIFO.
    held: i64,
    mode: Mode,
    origin: i64,
    wire_free_at: i64,
    wire: Vec<WireByte>,
    input: [u8; INPUT_CAPACITY],
    input_head: usize,
    input_len: usize,
    scheduled: Vec<(i64, u8)>,
    next_scheduled: usize,
    counts: CardCounts,
}

impl EmulatedCard {
    /// A card at `base` in command mode, logging into `wire` (its capacity is the most bytes
    /// logged; what is in it is kept) and delivering `input` (times in 100 ns from the
    /// origin, ascending) as it falls due.
    #[must_use]
    pub fn new(base: u16, wire: Vec<WireByte>, input: Vec<(i64, u8)>) -> Self {
        Self {
            base,
            present: true,
            fault: None,
            held: 0,
            mode: Mode::Command,
            origin: 0,
            wire_free_at: 0,
            wire,
            input: [0; INPUT_CAPACITY],
            input_head: 0,
            input_len: 0,
            scheduled: input,
            next_scheduled: 0,
            counts: CardCounts::default(),
        }
    }

    /// No card at `base`: the two ports float.
    #[must_use]
    pub fn absent(base: u16) -> Self {
        Self {
            present: false,
            ..Self::new(base, Vec::new(), Vec::new())
        }
    }

    /// This card, broken as `fault` says (`None`: working).
    #[must_use]
    pub fn with_fault(self, fault: Option<CardFault>) -> Self {
        Self { fault, ..self }
    }

    /// Whether `port` is one of the card's two registers.
    #[must_use]
    pub fn decodes(&self, port: u16) -> bool {
        port == self.base || Some(port) == self.base.checked_add(1)
    }

    /// Sets time 0 of the wire log and of the injected input to `now`.
    pub fn set_origin(&mut self, now: i64) {
        self.origin = now;
    }

    /// The card's mode.
    #[must_use]
    pub fn mode(&self) -> Mode {
        self.mode
    }

    /// The counters.
    #[must_use]
    pub fn counts(&self) -> CardCounts {
        self.counts
    }

    /// The wire so far.
    #[must_use]
    pub fn wire(&self) -> &[WireByte] {
        &self.wire
    }

    /// Moves the bytes logged so far to the end of `out` and empties the log, keeping its
    /// capacity: the job thread drains it every millisecond, so the log's memory is bounded
    /// by a burst, not by the song. (`out` should have the log's capacity free: then nothing
    /// is allocated under the card's lock.)
    pub fn drain_wire(&mut self, out: &mut Vec<WireByte>) {
        out.extend_from_slice(&self.wire);
        self.wire.clear();
    }

    /// Moves injected input that is due at `now` into the data register's queue; true when a
    /// byte waits (the card raises its interrupt).
    pub fn input_due(&mut self, now: i64) -> bool {
        let relative = now - self.origin;
        while let Some(&(time, byte)) = self.scheduled.get(self.next_scheduled) {
            if time > relative {
                break;
            }
            self.next_scheduled += 1;
            self.push_input(byte);
        }
        self.input_len > 0
    }

    /// Injected bytes not yet delivered.
    #[must_use]
    pub fn input_pending(&self) -> usize {
        self.scheduled.len() - self.next_scheduled
    }

    fn push_input(&mut self, byte: u8) {
        if self.input_len == INPUT_CAPACITY {
            self.counts.input_dropped += 1;
            return;
        }
        self.input[(self.input_head + self.input_len) % INPUT_CAPACITY] = byte;
        self.input_len += 1;
    }

    fn pop_input(&mut self) -> Option<u8> {
        if self.input_len == 0 {
            return None;
        }
        let byte = self.input[self.input_head];
        self.input_head = (self.input_head + 1) % INPUT_CAPACITY;
        self.input_len -= 1;
        Some(byte)
    }

    fn fifo_full(&self, now: i64) -> bool {
        if self.fault == Some(CardFault::NeverDrains) {
            return self.held >= FIFO_DEPTH;
        }
        self.wire_free_at - now >= FIFO_DEPTH * WIRE_BYTE_100NS
    }

    /// Queues an acknowledgement, unless the card never acknowledges.
    fn acknowledge(&mut self) {
        if self.fault != Some(CardFault::NeverAcks) {
            self.push_input(ACK);
        }
    }

    /// A read of `port` at `now` (a port the card decodes; others read as a floating bus).
    pub fn read(&mut self, port: u16, now: i64) -> u8 {
        self.counts.reads += 1;
        if !self.present {
            Status::FLOATING_BUS
        } else if port == self.base {
            self.pop_input().unwrap_or(0)
        } else if self.decodes(port) {
            let mut status = 0;
            if self.fifo_full(now) {
                status |= Status::DRR;
            }
            if self.input_len == 0 {
                status |= Status::DSR;
            }
            status
        } else {
            Status::FLOATING_BUS
        }
    }

    /// A write of `value` to `port` at `now`.
    pub fn write(&mut self, port: u16, value: u8, now: i64) {
        self.counts.writes += 1;
        if !self.present {
            // Nothing decodes the address.
        } else if port == self.base {
            if self.mode == Mode::Uart {
                self.send(value, now);
            }
        } else if self.decodes(port) {
            self.counts.commands += 1;
            match (self.mode, value) {
                (_, CMD_RESET) => {
                    self.mode = Mode::Command;
                    self.input_len = 0;
                    self.acknowledge();
                }
                (Mode::Command, CMD_ENTER_UART) => {
                    self.mode = Mode::Uart;
                    self.acknowledge();
                }
                (Mode::Command, _) => self.acknowledge(),
                (Mode::Uart, _) => {}
            }
        }
    }

    fn send(&mut self, byte: u8, now: i64) {
        if self.fifo_full(now) {
            self.counts.overruns += 1;
        }
        if self.fault == Some(CardFault::NeverDrains) {
            // Held in the FIFO for good (a byte written to a full FIFO is lost).
            self.held = (self.held + 1).min(FIFO_DEPTH);
            return;
        }
        let start = self.wire_free_at.max(now);
        self.wire_free_at = start + WIRE_BYTE_100NS;
        if self.wire.len() < self.wire.capacity() {
            self.wire.push(WireByte {
                time: start - self.origin,
                byte,
            });
        } else {
            self.counts.wire_dropped += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use alloc::vec::Vec;

    use mpu401::{ACK, CMD_ENTER_UART, CMD_RESET, Status, WIRE_BYTE_100NS};

    use super::{CardFault, EmulatedCard, FIFO_DEPTH, Mode, WireByte};

    const BASE: u16 = 0x330;

    fn card(wire: usize) -> EmulatedCard {
        EmulatedCard::new(BASE, Vec::with_capacity(wire), Vec::new())
    }

    #[test]
    fn a_card_that_never_acks_still_changes_mode() {
        let mut card = card(4).with_fault(Some(CardFault::NeverAcks));
        card.write(BASE + 1, CMD_RESET, 0);
        assert_eq!(card.read(BASE + 1, 0), Status::DSR, "no ACK waits");
        card.write(BASE + 1, CMD_ENTER_UART, 0);
        assert_eq!(card.mode(), Mode::Uart);
        assert_eq!(card.read(BASE + 1, 0), Status::DSR, "no ACK waits");
        card.write(BASE, 0x90, 0);
        assert_eq!(card.wire().len(), 1, "data still goes on the wire");
    }

    #[test]
    fn a_card_that_never_drains_fills_its_fifo_and_stays_busy() {
        let mut card = card(64).with_fault(Some(CardFault::NeverDrains));
        card.write(BASE + 1, CMD_ENTER_UART, 0);
        assert_eq!(card.read(BASE, 0), ACK, "it acknowledges");
        for _ in 0..FIFO_DEPTH {
            assert_eq!(card.read(BASE + 1, 0) & Status::DRR, 0, "room in the FIFO");
            card.write(BASE, 0x90, 0);
        }
        let an_hour = 36_000_000_000;
        assert_eq!(card.read(BASE + 1, an_hour) & Status::DRR, Status::DRR);
        card.write(BASE, 0x90, an_hour);
        assert_eq!(card.counts().overruns, 1);
        assert!(card.wire().is_empty(), "nothing reaches the wire");
    }

    #[test]
    fn reset_and_uart_mode_are_acknowledged() {
        let mut card = card(4);
        assert_eq!(card.read(BASE + 1, 0), Status::DSR, "idle: no input, ready");
        card.write(BASE + 1, CMD_RESET, 0);
        assert_eq!(card.read(BASE + 1, 0) & Status::DSR, 0, "ACK waiting");
        assert_eq!(card.read(BASE, 0), ACK);
        card.write(BASE + 1, CMD_ENTER_UART, 0);
        assert_eq!(card.read(BASE, 0), ACK);
        assert_eq!(card.mode(), Mode::Uart);
        card.write(BASE + 1, CMD_ENTER_UART, 0);
        assert_eq!(card.read(BASE + 1, 0), Status::DSR, "no ACK in UART mode");
        card.write(BASE + 1, CMD_RESET, 0);
        assert_eq!(card.mode(), Mode::Command);
        assert_eq!(
            card.read(BASE, 0),
            ACK,
            "reset in UART mode is acknowledged"
        );
        assert_eq!(card.read(0x331 + 1, 0), Status::FLOATING_BUS);
    }

    #[test]
    fn uart_bytes_go_on_the_wire_back_to_back_from_the_origin() {
        let mut card = card(3);
        card.write(BASE, 0x90, 5);
        assert!(card.wire().is_empty(), "command mode: data is ignored");
        card.write(BASE + 1, CMD_ENTER_UART, 0);
        card.set_origin(1000);
        card.write(BASE, 0x90, 1000);
        card.write(BASE, 0x3C, 1000);
        card.write(BASE, 0x64, 1000 + 10 * WIRE_BYTE_100NS);
        card.write(BASE, 0x80, 1000 + 10 * WIRE_BYTE_100NS);
        assert_eq!(
            card.wire(),
            &[
                WireByte {
                    time: 0,
                    byte: 0x90
                },
                WireByte {
                    time: WIRE_BYTE_100NS,
                    byte: 0x3C
                },
                WireByte {
                    time: 10 * WIRE_BYTE_100NS,
                    byte: 0x64
                },
            ]
        );
        assert_eq!(card.counts().wire_dropped, 1, "the log holds 3");
    }

    #[test]
    fn drr_is_set_while_the_fifo_is_full() {
        let mut card = card(64);
        card.write(BASE + 1, CMD_ENTER_UART, 0);
        let _ack = card.read(BASE, 0);
        for _ in 0..FIFO_DEPTH {
            assert_eq!(card.read(BASE + 1, 0) & Status::DRR, 0);
            card.write(BASE, 0xF8, 0);
        }
        assert_eq!(card.read(BASE + 1, 0) & Status::DRR, Status::DRR);
        assert_eq!(card.read(BASE + 1, WIRE_BYTE_100NS) & Status::DRR, 0);
        card.write(BASE, 0xF8, 0);
        assert_eq!(card.counts().overruns, 1);
    }

    #[test]
    fn an_absent_card_floats() {
        let mut card = EmulatedCard::absent(BASE);
        assert!(
            card.decodes(BASE + 1),
            "the handler still answers its ports"
        );
        card.write(BASE + 1, CMD_RESET, 0);
        assert_eq!(card.read(BASE + 1, 0), Status::FLOATING_BUS);
        assert_eq!(card.read(BASE, 0), Status::FLOATING_BUS);
        assert_eq!(card.counts().commands, 0);
    }

    #[test]
    fn injected_input_arrives_when_due() {
        let mut card = EmulatedCard::new(BASE, Vec::new(), alloc::vec![(10, 0x90), (20, 0x40)]);
        card.set_origin(100);
        assert!(!card.input_due(105));
        assert!(card.input_due(110));
        assert_eq!(card.read(BASE, 110), 0x90);
        assert!(!card.input_due(119));
        assert_eq!(card.input_pending(), 1);
        assert!(card.input_due(500));
        assert_eq!(card.read(BASE, 500), 0x40);
        assert_eq!(card.input_pending(), 0);
    }
}
