//! The MPU-401 UART protocol, free of any kernel: a card is reached through the
//! two small port-I/O traits in [`port`], time is always an argument, nothing
//! allocates and every loop is bounded by a budget the caller chooses.
//!
//! - [`init`]: reset, then enter UART mode, tolerating cards that do not ACK a
//!   reset while already in UART mode, and telling an absent card (floating
//!   bus) from a stuck one.
//! - [`writer`]: a paced writer for the render DPC: writes whole bytes while
//!   DRR allows, within a poll budget, and detects output that never drains.
//! - [`drain`] and [`ring`]: the ISR's input drain into a fixed-capacity ring
//!   of (byte, timestamp) pairs, each byte stamped by a caller-supplied clock.
//! - [`wire`]: the one wire several render streams share, message by message.
//! - [`render_engine`]: what a render stream's timer DPC does: holds `mxf`
//!   event chains under the `KSSTATE` rules until due, then writes them through
//!   the paced writer, keeping a shallow FIFO fed and a deep one topped up,
//!   within a per-call budget, with a stuck card detected and faulted.
//!
//! Register facts (reference.md, "MPU-401 UART"): data port = base+0,
//! status/command port = base+1; status bit 0x40 (DRR) set = the card cannot
//! take a byte now; bit 0x80 (DSR) set = no input byte waiting; commands 0xFF
//! (reset) and 0x3F (enter UART mode) are acknowledged with 0xFE on the data
//! port. A byte takes 320 µs on the wire (31,250 baud, 8-N-1).
#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

pub mod drain;
pub mod init;
pub mod port;
pub mod render_engine;
pub mod ring;
pub mod wire;
pub mod writer;

#[cfg(test)]
mod fake_card;

pub use drain::{DrainReport, drain_input};
pub use init::{InitBudget, InitError, InitReport, InitStage, initialize};
pub use port::{
    ACK, CMD_ENTER_UART, CMD_RESET, ControlPort, DataPort, Delay, Status, WIRE_BYTE_100NS,
    WIRE_BYTE_US,
};
pub use render_engine::{
    RenderConfig, RenderEngine, RenderError, RenderStats, ServiceOutcome, TimerGrain,
};
pub use ring::{InputRing, TimedByte};
pub use wire::SharedWire;
pub use writer::{OutputState, PacedWriter, WriteProgress};
