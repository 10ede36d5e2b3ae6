//! The card's wire log streamed to `wire.tsv`: the job thread drains the card's log every
//! millisecond ([`WireOut::drain`]) and appends its lines, so the log's memory is bounded by
//! what the card can put on the wire between two drains, not by the song.

use alloc::string::String;
use alloc::vec::Vec;

use crate::card::WireByte;
use crate::files::Writer;
use crate::{veh, wire_log};

use super::WIRE_PATH;

/// Wire bytes the card logs between two drains at most: 31,250 baud is 3 bytes a
/// millisecond, so this covers a job thread late by over a second.
pub(super) const CARD_LOG_CAPACITY: usize = 4096;

/// `wire.tsv`, written as the card logs (created, with its header, at the first drain).
pub(crate) struct WireOut {
    writer: Option<Writer>,
    drained: Vec<WireByte>,
    text: String,
    /// A write failed: the file is incomplete.
    pub(super) failed: bool,
}

impl WireOut {
    /// Nothing written yet.
    pub(super) fn new() -> Self {
        Self {
            writer: None,
            drained: Vec::new(),
            text: String::new(),
            failed: false,
        }
    }

    /// Moves what the card logged to the file (nothing when no card logs). At
    /// PASSIVE_LEVEL on the job thread.
    pub(super) fn drain(&mut self) {
        if self.drained.capacity() < CARD_LOG_CAPACITY
            && self.drained.try_reserve_exact(CARD_LOG_CAPACITY).is_err()
        {
            self.failed = true;
            return;
        }
        self.drained.clear();
        let logging = match veh::CARD.lock().as_mut() {
            Some(card) => {
                card.drain_wire(&mut self.drained);
                true
            }
            None => false,
        };
        if !logging {
            return;
        }
        self.text.clear();
        if self.writer.is_none() {
            let Ok(writer) = Writer::create(WIRE_PATH) else {
                self.failed = true;
                return;
            };
            self.writer = Some(writer);
            self.text.push_str(wire_log::HEADER);
            self.text.push('\n');
        }
        wire_log::push_lines(&mut self.text, &self.drained);
        if let Some(writer) = self.writer.as_mut()
            && !self.text.is_empty()
            && writer.append(self.text.as_bytes()).is_err()
        {
            self.failed = true;
        }
    }
}
