//! The port-I/O traits a card is reached through, and the register facts.
//!
//! Following Tock's `hil` style, the data register and the control
//! (status/command) register are separate traits, so a function's bounds say
//! which side of the card it touches. The driver implements both with
//! `READ_PORT_UCHAR`/`WRITE_PORT_UCHAR` on base+0 and base+1 of its I/O range;
//! tests and the simulation implement them with an emulated card.

/// Command byte: reset the card (leaves UART mode on every known card).
pub const CMD_RESET: u8 = 0xFF;
/// Command byte: enter UART ("dumb") mode.
pub const CMD_ENTER_UART: u8 = 0x3F;
/// The acknowledge byte a card puts on the data port after a command.
pub const ACK: u8 = 0xFE;
/// Microseconds one byte occupies on the MIDI wire: 10 bits at 31,250 baud.
pub const WIRE_BYTE_US: u32 = 320;
/// The same in 100 ns units, the unit of every time in this crate's callers.
// Widening a small constant: `i64::from` is not const.
#[allow(clippy::cast_lossless)]
pub const WIRE_BYTE_100NS: i64 = WIRE_BYTE_US as i64 * 10;

/// The status register (base+1) as read from the card.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Status(pub u8);

impl Status {
    /// Bit 0x40, DRR: set while the card cannot accept a data or command byte.
    pub const DRR: u8 = 0x40;
    /// Bit 0x80, DSR: set while no input byte is waiting on the data port.
    pub const DSR: u8 = 0x80;
    /// What a read of an unpopulated ISA I/O address returns.
    pub const FLOATING_BUS: u8 = 0xFF;

    /// True when DRR is clear: one byte may be written now.
    #[must_use]
    pub const fn output_ready(self) -> bool {
        self.0 & Self::DRR == 0
    }

    /// True when DSR is clear: one byte may be read from the data port now.
    #[must_use]
    pub const fn input_available(self) -> bool {
        self.0 & Self::DSR == 0
    }

    /// True when every bit reads as one, as on a floating (absent) bus. A
    /// present card can read like this briefly (busy, no input, undefined low
    /// bits high), so only a whole wait of such reads means "absent".
    #[must_use]
    pub const fn is_floating(self) -> bool {
        self.0 == Self::FLOATING_BUS
    }
}

/// The data register (base+0). Reads and writes never fail at this level: the
/// protocol decides when they are allowed by reading [`ControlPort::read_status`]
/// first, and a read of an absent card simply returns 0xFF.
pub trait DataPort {
    /// Reads one byte from the data register. Only meaningful when the last
    /// status read showed [`Status::input_available`]; the read consumes the byte.
    fn read_data(&mut self) -> u8;

    /// Writes one byte to the data register. Only allowed when the last status
    /// read showed [`Status::output_ready`]; a card that was not ready may drop it.
    fn write_data(&mut self, byte: u8);
}

/// The status/command register (base+1).
pub trait ControlPort {
    /// Reads the status register. Has no side effect on the card; an absent
    /// card returns `Status(0xFF)`.
    fn read_status(&mut self) -> Status;

    /// Writes one command byte ([`CMD_RESET`], [`CMD_ENTER_UART`]). Only allowed
    /// when the last status read showed [`Status::output_ready`].
    fn write_command(&mut self, command: u8);
}

/// Waiting between status polls during [`crate::initialize`], which runs at
/// `PASSIVE_LEVEL`: the driver may sleep here (`KeDelayExecutionThread`) or stall
/// (`KeStallExecutionProcessor`); tests advance a fake clock.
pub trait Delay {
    /// Waits at least `microseconds` before returning.
    fn delay_us(&mut self, microseconds: u32);
}
