//! MIDI 1.0 byte streams: message lengths and the byte-stream parser.

pub mod message;
pub mod parser;

pub use message::message_len;
pub use parser::{Parsed, Parser, ParserStats, SysExEnd};
