//! The `rdmus` command: Standard MIDI Files read to a timeline (the `smf`
//! crate), the timeline to the IRP buffers a Windows application sends
//! ([`irp`]), the driver itself run in wdm-sim's simulated kernel, PortCls
//! port and MPU-401 ([`sim`]: streaming IRPs to a render pin, feeding the
//! card's input and reading the capture pin, rendering with the DLS synth
//! through the port's wave sink), the ideal MIDI wire and how an
//! observed one compares ([`wire_log`], [`play_report`]), and the commands
//! ([`cli`], [`commands`], [`inspect`]).
#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod inspect;
pub mod irp;
pub mod loss;
pub mod ntstatus;
pub mod play_report;
pub mod sim;
pub mod wine;
pub mod wire_log;
