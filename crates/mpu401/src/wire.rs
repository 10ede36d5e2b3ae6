//! The one MIDI wire several render streams share: who may write the next
//! byte, and who wrote the last message.
//!
//! A MIDI cable carries one byte stream, so the streams of one card merge onto
//! it whole message by whole message: a stream that has begun a message (or a
//! sysex, which may arrive as several `DMUS_KEF_EVENT_INCOMPLETE` pieces) owns
//! the wire until it has finished it, and no other stream writes meanwhile.
//! Between messages the wire is free, and a stream refused while another held
//! it is next in line: the holder starts no new message before the waiting
//! stream has had its turn, so one client's backlog cannot starve another's.
//!
//! Running status belongs to the stream that set it. The wire remembers which
//! stream wrote last ([`SharedWire::last_writer`]); a stream whose message
//! relies on running status re-sends its own status byte when another stream
//! wrote in between (see `RenderEngine`).
//!
//! The driver keeps one [`SharedWire`] per card under a spin lock and hands it
//! to each stream's service call; stream ids are the driver's (small, unique
//! among the card's open streams).

/// The card's output as the streams share it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SharedWire {
    /// The stream in the middle of a message or sysex, if any.
    owner: Option<u32>,
    /// The stream that wrote the last byte, if any.
    last: Option<u32>,
    /// A stream refused while another held the wire: it starts next.
    next: Option<u32>,
}

impl SharedWire {
    /// A free wire nobody has written to.
    #[must_use]
    pub const fn new() -> Self {
        Self {
            owner: None,
            last: None,
            next: None,
        }
    }

    /// Whether stream `me` may write now: it holds the wire (finishing a
    /// message), or the wire is free and no other stream is next in line.
    /// A refused stream becomes next in line if none is.
    pub fn may_write(&mut self, me: u32) -> bool {
        let allowed = match self.owner {
            Some(owner) => owner == me,
            None => self.next.is_none_or(|next| next == me),
        };
        if !allowed && self.next.is_none() && self.owner != Some(me) {
            self.next = Some(me);
        }
        allowed
    }

    /// Stream `me` has written a byte; it holds the wire while `mid_message`.
    pub fn wrote(&mut self, me: u32, mid_message: bool) {
        self.last = Some(me);
        if self.next == Some(me) {
            self.next = None;
        }
        self.set_holding(me, mid_message);
    }

    /// Stream `me` holds the wire (`true`) or lets it go (`false`); a stream
    /// that does not hold it changes nothing by letting go.
    pub fn set_holding(&mut self, me: u32, holding: bool) {
        if holding {
            self.owner = Some(me);
        } else if self.owner == Some(me) {
            self.owner = None;
        }
    }

    /// Stream `me` wants nothing now (nothing due, stopped, or closed): it
    /// gives up the wire and its place in line.
    pub fn leave(&mut self, me: u32) {
        self.set_holding(me, false);
        if self.next == Some(me) {
            self.next = None;
        }
    }

    /// Stream `me` is gone: as [`Self::leave`], and its running status no
    /// longer stands on the wire for a stream that might get its id later.
    pub fn forget(&mut self, me: u32) {
        self.leave(me);
        if self.last == Some(me) {
            self.last = None;
        }
    }

    /// The stream that wrote the last byte, if any.
    #[must_use]
    pub const fn last_writer(&self) -> Option<u32> {
        self.last
    }

    /// The stream in the middle of a message, if any.
    #[must_use]
    pub const fn owner(&self) -> Option<u32> {
        self.owner
    }
}

#[cfg(test)]
mod tests {
    use super::SharedWire;

    #[test]
    fn a_message_in_progress_keeps_the_wire() {
        let mut wire = SharedWire::new();
        assert!(wire.may_write(1));
        wire.wrote(1, true);
        assert!(!wire.may_write(2), "1 is mid-message");
        assert!(wire.may_write(1));
        wire.wrote(1, false);
        assert_eq!(wire.owner(), None);
        assert_eq!(wire.last_writer(), Some(1));
    }

    #[test]
    fn a_refused_stream_goes_next() {
        let mut wire = SharedWire::new();
        wire.wrote(1, true);
        assert!(!wire.may_write(2));
        assert!(!wire.may_write(3), "3 queues behind 2");
        wire.wrote(1, false);
        assert!(!wire.may_write(1), "1 starts no new message before 2");
        assert!(!wire.may_write(3), "nor does 3");
        assert!(wire.may_write(2));
        wire.wrote(2, false);
        assert!(wire.may_write(1), "the line is empty again");
    }

    #[test]
    fn a_stream_that_leaves_gives_up_its_turn_and_its_hold() {
        let mut wire = SharedWire::new();
        wire.wrote(1, true);
        assert!(!wire.may_write(2));
        wire.leave(2);
        wire.wrote(1, false);
        assert!(wire.may_write(1), "2 left the line");
        wire.wrote(1, true);
        wire.forget(1);
        assert_eq!((wire.owner(), wire.last_writer()), (None, None));
        assert!(wire.may_write(2));
    }
}
