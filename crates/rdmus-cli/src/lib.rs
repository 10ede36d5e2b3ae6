//! The host side of the `rdmus` command: Standard MIDI Files to a timeline,
//! the timeline to the IRP buffers a Windows application sends, the ideal
//! MIDI wire and the lateness of an observed one.
#![forbid(unsafe_code)]

pub mod cli;
pub mod commands;
pub mod inspect;
pub mod irp;
pub mod play;
pub mod sim;
pub mod smf;
pub mod timeline;
pub mod wire;

#[cfg(test)]
mod tests;
