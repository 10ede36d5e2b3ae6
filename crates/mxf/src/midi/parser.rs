//! The MIDI 1.0 byte-stream parser used for capture (and for the bytes of
//! `KSMUSICFORMAT` records, which are raw MIDI too).
//!
//! Feed it one byte at a time with the time that byte arrived; it reports
//! whole messages, each with the time of its first byte:
//! - channel messages, with running status resolved (the status byte is
//!   always included in the reported bytes);
//! - system common messages (`F1`, `F2`, `F3`, `F6`), which clear running
//!   status;
//! - system realtime bytes (`F8`, `FA`, `FB`, `FC`, `FE`, `FF`), wherever they
//!   appear, inside sysex and between the data bytes of another message too,
//!   without disturbing it, each with the time it arrived;
//! - system exclusive in pieces of at most `N` bytes: the first starts with
//!   `F0`, the last ends with `F7` ([`SysExEnd::Terminated`]) or is cut by a
//!   status byte ([`SysExEnd::Aborted`]).
//!
//! # Order: the sink sees times that never go backwards
//!
//! Every item carries the time of its own first byte, and (given byte times
//! that do not go backwards) the items reach the sink in that time order,
//! because the capture packer cannot stamp a record earlier than the one
//! before it. A realtime byte that interrupts another message is the one
//! place where arrival order and first-byte order disagree, so:
//! - inside a channel or system common message (`B0 07 F8 5A`), the realtime
//!   byte is held until that message is complete, then reported right after it
//!   (the message keeps its status byte's time, the `F8` its own). If a status
//!   byte cuts the message short, the held bytes go out before whatever that
//!   status byte starts. The wait is bounded: a held byte goes out anyway once
//!   a later byte arrives more than [`MAX_REALTIME_HOLD_100NS`] after it, or
//!   when [`Parser::release_held`] is called that late, or when
//!   [`REALTIME_HOLD_CAPACITY`] bytes are already held; those early releases
//!   (a sender stalled inside a message) are counted in
//!   [`ParserStats::realtime_released_early`], and only then can the stalled
//!   message reach the sink after a later realtime byte;
//! - inside system exclusive, the realtime byte is never held: it ends the
//!   sysex piece gathered so far (reported as [`SysExEnd::Continues`], with
//!   its first byte's time), then goes out itself; the sysex goes on in a new
//!   piece stamped with its own first byte. A sysex is already delivered in
//!   `DMUS_KEF_EVENT_INCOMPLETE` pieces, so this costs one more piece per
//!   realtime byte and delays nothing.
//!
//! What it drops, and counts ([`ParserStats`]): data bytes with no status to
//! belong to, messages cut short by a status byte, and the undefined status
//! bytes `F4`/`F5` (system common: they also clear running status) and
//! `F9`/`FD` (realtime: ignored where they stand), as the MIDI specification
//! asks receivers to ignore undefined status.
//!
//! Bounded: each byte does O(1) work, except that a full sysex piece is
//! reported as it fills and at most [`REALTIME_HOLD_CAPACITY`] held realtime
//! bytes are reported at once; no allocation.

use super::message::{SYSEX_END, SYSEX_START, is_realtime, is_undefined, message_len};

/// The longest a realtime byte is held back behind the message it
/// interrupted (100 ns units): 5 ms. A whole channel message takes under 1 ms
/// on a 31.25 kBd cable; a sender that pauses inside one for longer is
/// stalled, and its clock bytes must not wait for it.
pub const MAX_REALTIME_HOLD_100NS: i64 = 50_000;

/// How many realtime bytes one interrupted message can hold back (about
/// 5 ms of back-to-back bytes at 31.25 kBd).
pub const REALTIME_HOLD_CAPACITY: usize = 16;

/// How a piece of system exclusive ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SysExEnd {
    /// More of the same sysex follows.
    Continues,
    /// This piece ends with `F7`.
    Terminated,
    /// A status byte cut the sysex short; this is its last piece (no `F7`).
    Aborted,
}

/// One thing the parser recognised.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A complete channel or system common message, status byte first.
    Message {
        /// The message's bytes (1 to 3).
        bytes: &'a [u8],
        /// Time of the message's first byte.
        time: i64,
    },
    /// A system realtime byte.
    Realtime {
        /// The byte.
        byte: u8,
        /// When it arrived.
        time: i64,
    },
    /// A piece of system exclusive.
    SysEx {
        /// The bytes of this piece (`F0` first in the first piece; `F7` last in
        /// a terminated last piece).
        bytes: &'a [u8],
        /// Time of this piece's first byte (of an empty last piece: the time
        /// of the item reported just before it for this sysex).
        time: i64,
        /// Whether this piece starts the sysex.
        first: bool,
        /// How this piece ends.
        end: SysExEnd,
    },
}

/// What the parser dropped, and how often it had to break time order.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ParserStats {
    /// Data bytes with no status byte to belong to.
    pub stray_data_bytes: u64,
    /// Undefined status bytes (`F4`, `F5`, `F9`, `FD`) and `F7` outside sysex.
    pub undefined_status_bytes: u64,
    /// Channel or system common messages cut short by a status byte.
    pub truncated_messages: u64,
    /// System exclusive messages cut short by a status byte.
    pub aborted_sysex: u64,
    /// Realtime bytes reported before the message they interrupted was
    /// complete (held longer than [`MAX_REALTIME_HOLD_100NS`], or more than
    /// [`REALTIME_HOLD_CAPACITY`] of them); that message then reaches the sink
    /// after them although its first byte came first. Nothing is lost.
    pub realtime_released_early: u64,
}

/// Realtime bytes held back while a message is incomplete, oldest first.
#[derive(Clone, Copy, Debug)]
struct HeldRealtime {
    bytes: [u8; REALTIME_HOLD_CAPACITY],
    times: [i64; REALTIME_HOLD_CAPACITY],
    len: usize,
}

impl HeldRealtime {
    const EMPTY: Self = Self {
        bytes: [0; REALTIME_HOLD_CAPACITY],
        times: [0; REALTIME_HOLD_CAPACITY],
        len: 0,
    };

    /// Holds a byte; when already full, first reports every held byte (their
    /// message is stalled) and returns how many that was.
    fn push(&mut self, byte: u8, time: i64, sink: &mut impl FnMut(Parsed<'_>)) -> usize {
        let mut released = 0;
        if self.len >= REALTIME_HOLD_CAPACITY {
            released = self.len;
            self.release(released, sink);
        }
        if let (Some(b), Some(t)) = (self.bytes.get_mut(self.len), self.times.get_mut(self.len)) {
            *b = byte;
            *t = time;
            self.len += 1;
        }
        released
    }

    /// How many of the oldest held bytes have waited longer than the limit at `now`.
    fn stale(&self, now: i64) -> usize {
        self.times
            .iter()
            .take(self.len)
            .take_while(|&&t| now.saturating_sub(t) > MAX_REALTIME_HOLD_100NS)
            .count()
    }

    /// Reports the `count` oldest held bytes, in arrival order, and forgets them.
    fn release(&mut self, count: usize, sink: &mut impl FnMut(Parsed<'_>)) {
        let count = count.min(self.len);
        for (&byte, &time) in self.bytes.iter().zip(&self.times).take(count) {
            sink(Parsed::Realtime { byte, time });
        }
        self.bytes.copy_within(count..self.len, 0);
        self.times.copy_within(count..self.len, 0);
        self.len -= count;
    }
}

/// The byte-stream parser; `N` is the largest sysex piece it reports.
#[derive(Clone, Debug)]
pub struct Parser<const N: usize = 64> {
    /// Running status: the last channel status byte, if still in force.
    running: Option<u8>,
    /// The message being gathered (status byte first).
    pending: [u8; 3],
    pending_len: usize,
    /// Its full length; 0 when no message is being gathered.
    pending_want: usize,
    pending_time: i64,
    /// Realtime bytes that arrived inside the pending message.
    held: HeldRealtime,
    /// Whether a sysex is open.
    in_sysex: bool,
    sysex: [u8; N],
    sysex_len: usize,
    sysex_time: i64,
    sysex_first: bool,
    stats: ParserStats,
}

impl<const N: usize> Default for Parser<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Parser<N> {
    /// A sysex piece of zero bytes could never hold anything: refused at
    /// compile time.
    const PIECE_NOT_EMPTY: () = assert!(N > 0, "Parser<N> needs N > 0");

    /// A parser with no running status and nothing pending.
    #[must_use]
    pub const fn new() -> Self {
        let () = Self::PIECE_NOT_EMPTY;
        Self {
            running: None,
            pending: [0; 3],
            pending_len: 0,
            pending_want: 0,
            pending_time: 0,
            held: HeldRealtime::EMPTY,
            in_sysex: false,
            sysex: [0; N],
            sysex_len: 0,
            sysex_time: 0,
            sysex_first: false,
            stats: ParserStats {
                stray_data_bytes: 0,
                undefined_status_bytes: 0,
                truncated_messages: 0,
                aborted_sysex: 0,
                realtime_released_early: 0,
            },
        }
    }

    /// What was dropped so far.
    #[must_use]
    pub const fn stats(&self) -> ParserStats {
        self.stats
    }

    /// Whether a sysex is open.
    #[must_use]
    pub const fn in_sysex(&self) -> bool {
        self.in_sysex
    }

    /// How many realtime bytes are held back behind an incomplete message.
    #[must_use]
    pub const fn held_realtime(&self) -> usize {
        self.held.len
    }

    /// Forgets running status and anything pending, held realtime bytes
    /// included (a stream restart, where input is thrown away).
    pub fn reset(&mut self) {
        let stats = self.stats;
        *self = Self::new();
        self.stats = stats;
    }

    /// Reports the held realtime bytes that have waited more than
    /// [`MAX_REALTIME_HOLD_100NS`] at `now` (counted as released early). For a
    /// caller with a clock (the capture DPC) when no byte has come for a
    /// while: without it a held byte waits for the next byte to arrive.
    pub fn release_held(&mut self, now: i64, sink: &mut impl FnMut(Parsed<'_>)) {
        let stale = self.held.stale(now);
        if stale > 0 {
            self.stats.realtime_released_early += stale as u64;
            self.held.release(stale, sink);
        }
    }

    /// Feeds one byte that arrived at `time`; `sink` receives what it
    /// completes: at most a sysex piece, a message, and realtime bytes (the
    /// one fed, or those held behind the message, at most
    /// [`REALTIME_HOLD_CAPACITY`], or held too long).
    pub fn feed(&mut self, byte: u8, time: i64, sink: &mut impl FnMut(Parsed<'_>)) {
        self.release_held(time, sink);
        if is_realtime(byte) {
            self.feed_realtime(byte, time, sink);
            return;
        }
        if byte < 0x80 {
            self.feed_data(byte, time, sink);
            return;
        }
        // A non-realtime status byte ends whatever was in progress.
        if byte == SYSEX_END && self.in_sysex {
            self.push_sysex(byte, time, sink);
            self.emit_sysex(SysExEnd::Terminated, sink);
            self.in_sysex = false;
            self.running = None;
            return;
        }
        self.abort_sysex(sink);
        if self.pending_want != 0 {
            self.stats.truncated_messages += 1;
            self.pending_want = 0;
            self.pending_len = 0;
            // They came before this status byte: report them before what it starts.
            self.held.release(self.held.len, sink);
        }
        if byte == SYSEX_START {
            self.running = None;
            self.in_sysex = true;
            self.sysex_first = true;
            self.sysex_len = 0;
            self.push_sysex(byte, time, sink);
            return;
        }
        let Some(len) = message_len(byte) else {
            // F4, F5, or F7 without a sysex: undefined system common.
            self.stats.undefined_status_bytes += 1;
            self.running = None;
            return;
        };
        // Channel messages set running status; system common clears it.
        self.running = (byte < 0xF0).then_some(byte);
        self.start_message(byte, len, time, sink);
    }

    /// Feeds a run of bytes that all arrived at `time`.
    pub fn feed_all(&mut self, bytes: &[u8], time: i64, sink: &mut impl FnMut(Parsed<'_>)) {
        for &byte in bytes {
            self.feed(byte, time, sink);
        }
    }

    /// Reports the open sysex piece, if it holds bytes, as
    /// [`SysExEnd::Continues`] (the next piece takes the time of its own first
    /// byte). Use at the end of a batch so that sysex data is not held back.
    pub fn flush_sysex(&mut self, sink: &mut impl FnMut(Parsed<'_>)) {
        if self.in_sysex && self.sysex_len > 0 {
            self.emit_sysex(SysExEnd::Continues, sink);
        }
    }

    /// A realtime byte: held behind an incomplete message, or reported now
    /// (after the sysex piece it interrupts), so that times stay in order.
    fn feed_realtime(&mut self, byte: u8, time: i64, sink: &mut impl FnMut(Parsed<'_>)) {
        if is_undefined(byte) {
            self.stats.undefined_status_bytes += 1;
            return;
        }
        if self.pending_want != 0 {
            let released = self.held.push(byte, time, sink);
            self.stats.realtime_released_early += released as u64;
            return;
        }
        if self.in_sysex {
            self.flush_sysex(sink);
            // An empty last piece, if the sysex is cut short next, comes after
            // this byte: it takes this byte's time, not an earlier one.
            self.sysex_time = time;
        }
        sink(Parsed::Realtime { byte, time });
    }

    fn start_message(
        &mut self,
        status: u8,
        len: usize,
        time: i64,
        sink: &mut impl FnMut(Parsed<'_>),
    ) {
        self.pending[0] = status;
        self.pending_len = 1;
        self.pending_want = len;
        self.pending_time = time;
        if len == 1 {
            self.complete_message(sink);
        }
    }

    /// Reports the pending message, then the realtime bytes that arrived inside it.
    fn complete_message(&mut self, sink: &mut impl FnMut(Parsed<'_>)) {
        let len = self.pending_len.min(self.pending.len());
        self.pending_want = 0;
        self.pending_len = 0;
        sink(Parsed::Message {
            bytes: &self.pending[..len],
            time: self.pending_time,
        });
        self.held.release(self.held.len, sink);
    }

    fn feed_data(&mut self, byte: u8, time: i64, sink: &mut impl FnMut(Parsed<'_>)) {
        if self.in_sysex {
            self.push_sysex(byte, time, sink);
        } else if self.pending_want != 0 {
            if let Some(slot) = self.pending.get_mut(self.pending_len) {
                *slot = byte;
                self.pending_len += 1;
            }
            if self.pending_len >= self.pending_want {
                self.complete_message(sink);
            }
        } else if let Some(status) = self.running {
            // Running status: this data byte starts a new message.
            let len = message_len(status).unwrap_or(2);
            self.pending[0] = status;
            self.pending[1] = byte;
            self.pending_len = 2;
            self.pending_want = len;
            self.pending_time = time;
            if len <= 2 {
                self.complete_message(sink);
            }
        } else {
            self.stats.stray_data_bytes += 1;
        }
    }

    fn push_sysex(&mut self, byte: u8, time: i64, sink: &mut impl FnMut(Parsed<'_>)) {
        if self.sysex_len >= N {
            self.emit_sysex(SysExEnd::Continues, sink);
        }
        if self.sysex_len == 0 {
            self.sysex_time = time;
        }
        if let Some(slot) = self.sysex.get_mut(self.sysex_len) {
            *slot = byte;
            self.sysex_len += 1;
        }
    }

    fn emit_sysex(&mut self, end: SysExEnd, sink: &mut impl FnMut(Parsed<'_>)) {
        let len = self.sysex_len.min(N);
        let first = self.sysex_first;
        self.sysex_first = false;
        self.sysex_len = 0;
        sink(Parsed::SysEx {
            bytes: &self.sysex[..len],
            time: self.sysex_time,
            first,
            end,
        });
    }

    fn abort_sysex(&mut self, sink: &mut impl FnMut(Parsed<'_>)) {
        if !self.in_sysex {
            return;
        }
        self.in_sysex = false;
        self.stats.aborted_sysex += 1;
        if self.sysex_len > 0 {
            self.emit_sysex(SysExEnd::Aborted, sink);
        } else {
            // Everything was already reported by flush_sysex: close it with an
            // empty last piece so the reader knows the sysex ended.
            let first = self.sysex_first;
            self.sysex_first = false;
            sink(Parsed::SysEx {
                bytes: &[],
                time: self.sysex_time,
                first,
                end: SysExEnd::Aborted,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An owned copy of a parsed item.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Item {
        Msg(Vec<u8>, i64),
        Rt(u8, i64),
        Sx(Vec<u8>, i64, bool, SysExEnd),
    }

    fn run<const N: usize>(p: &mut Parser<N>, bytes: &[(u8, i64)]) -> Vec<Item> {
        let mut out = Vec::new();
        for &(b, t) in bytes {
            p.feed(b, t, &mut |item| {
                out.push(match item {
                    Parsed::Message { bytes, time } => Item::Msg(bytes.to_vec(), time),
                    Parsed::Realtime { byte, time } => Item::Rt(byte, time),
                    Parsed::SysEx {
                        bytes,
                        time,
                        first,
                        end,
                    } => Item::Sx(bytes.to_vec(), time, first, end),
                });
            });
        }
        out
    }

    fn timed(bytes: &[u8]) -> Vec<(u8, i64)> {
        bytes.iter().zip(0..).map(|(&b, t)| (b, t)).collect()
    }

    #[test]
    fn running_status_and_time_of_first_byte() {
        let mut p = Parser::<64>::new();
        let out = run(&mut p, &timed(&[0x90, 60, 100, 62, 101, 0xC3, 5, 6]));
        assert_eq!(
            out,
            vec![
                Item::Msg(vec![0x90, 60, 100], 0),
                Item::Msg(vec![0x90, 62, 101], 3),
                Item::Msg(vec![0xC3, 5], 5),
                Item::Msg(vec![0xC3, 6], 7),
            ]
        );
    }

    #[test]
    fn realtime_anywhere_does_not_disturb() {
        let mut p = Parser::<64>::new();
        let out = run(
            &mut p,
            &timed(&[0x90, 0xF8, 60, 0xFE, 100, 0xF0, 1, 0xFA, 2, 0xF7]),
        );
        // Each item keeps the time of its own first byte and they come out in
        // that order: the realtime bytes inside the note after it, the one
        // inside the sysex between its two pieces.
        assert_eq!(
            out,
            vec![
                Item::Msg(vec![0x90, 60, 100], 0),
                Item::Rt(0xF8, 1),
                Item::Rt(0xFE, 3),
                Item::Sx(vec![0xF0, 1], 5, true, SysExEnd::Continues),
                Item::Rt(0xFA, 7),
                Item::Sx(vec![2, 0xF7], 8, false, SysExEnd::Terminated),
            ]
        );
        assert_eq!(p.stats(), ParserStats::default());
    }

    #[test]
    fn realtime_inside_a_message_goes_out_after_it_with_its_own_time() {
        // Helper I's case: B0 07 F8 5A, one byte every 320 µs.
        let mut p = Parser::<64>::new();
        let out = run(
            &mut p,
            &[(0xB0, 0), (7, 3_200), (0xF8, 6_400), (0x5A, 9_600)],
        );
        assert_eq!(
            out,
            vec![Item::Msg(vec![0xB0, 7, 0x5A], 0), Item::Rt(0xF8, 6_400)]
        );
        // Running status, several realtime bytes, between and inside messages.
        let mut p = Parser::<64>::new();
        let out = run(
            &mut p,
            &timed(&[
                0x90, 0xF8, 60, 0xFA, 0xFE, 100, 0xF8, 62, 0xFC, 101, 0xC0, 0xF8, 5,
            ]),
        );
        assert_eq!(
            out,
            vec![
                Item::Msg(vec![0x90, 60, 100], 0),
                Item::Rt(0xF8, 1),
                Item::Rt(0xFA, 3),
                Item::Rt(0xFE, 4),
                Item::Rt(0xF8, 6),
                Item::Msg(vec![0x90, 62, 101], 7),
                Item::Rt(0xFC, 8),
                Item::Msg(vec![0xC0, 5], 10),
                Item::Rt(0xF8, 11),
            ]
        );
        assert_eq!(p.held_realtime(), 0);
        assert_eq!(p.stats(), ParserStats::default());
    }

    #[test]
    fn held_realtime_goes_out_before_the_status_byte_that_cuts_the_message() {
        let mut p = Parser::<64>::new();
        let out = run(
            &mut p,
            &timed(&[0x90, 60, 0xF8, 0x80, 1, 2, 0xF2, 0xFE, 3, 0xF0]),
        );
        assert_eq!(
            out,
            vec![
                Item::Rt(0xF8, 2),
                Item::Msg(vec![0x80, 1, 2], 3),
                Item::Rt(0xFE, 7),
            ]
        );
        assert_eq!(p.stats().truncated_messages, 2);
        assert_eq!(p.stats().realtime_released_early, 0);
        assert_eq!(p.held_realtime(), 0);
    }

    #[test]
    fn held_realtime_waits_at_most_the_limit() {
        // The next byte comes too late: the held byte goes out first, early.
        let mut p = Parser::<64>::new();
        let late = 10 + MAX_REALTIME_HOLD_100NS + 1;
        let out = run(
            &mut p,
            &[(0x90, 0), (0xF8, 10), (60, late), (100, late + 1)],
        );
        assert_eq!(
            out,
            vec![Item::Rt(0xF8, 10), Item::Msg(vec![0x90, 60, 100], 0)]
        );
        assert_eq!(p.stats().realtime_released_early, 1);
        // No byte comes at all: a caller with a clock releases it.
        let mut p = Parser::<64>::new();
        let mut out = run(&mut p, &[(0x90, 0), (0xF8, 10), (0xFE, 20)]);
        assert!(out.is_empty());
        let mut collect = |item: Parsed<'_>| {
            if let Parsed::Realtime { byte, time } = item {
                out.push(Item::Rt(byte, time));
            }
        };
        p.release_held(10 + MAX_REALTIME_HOLD_100NS, &mut collect);
        assert_eq!(p.held_realtime(), 2, "exactly the limit is not too long");
        p.release_held(11 + MAX_REALTIME_HOLD_100NS, &mut collect);
        assert_eq!(p.held_realtime(), 1);
        assert_eq!(out, vec![Item::Rt(0xF8, 10)]);
        assert_eq!(p.stats().realtime_released_early, 1);
        let rest = run(&mut p, &[(60, 30), (100, 31)]);
        assert_eq!(
            rest,
            vec![Item::Msg(vec![0x90, 60, 100], 0), Item::Rt(0xFE, 20)]
        );
    }

    #[test]
    fn a_full_hold_releases_its_bytes_in_order() {
        let mut p = Parser::<64>::new();
        let mut bytes = vec![(0x90, 0)];
        let clocks = i64::try_from(REALTIME_HOLD_CAPACITY).unwrap() + 1;
        bytes.extend((1..=clocks).map(|t| (0xF8, t)));
        bytes.extend([(60, clocks + 1), (100, clocks + 2)]);
        let out = run(&mut p, &bytes);
        let mut expected: Vec<Item> = (1..clocks).map(|t| Item::Rt(0xF8, t)).collect();
        expected.push(Item::Msg(vec![0x90, 60, 100], 0));
        expected.push(Item::Rt(0xF8, clocks));
        assert_eq!(out, expected);
        assert_eq!(
            p.stats().realtime_released_early,
            u64::try_from(REALTIME_HOLD_CAPACITY).unwrap()
        );
    }

    #[test]
    fn realtime_inside_sysex_splits_the_piece_and_an_empty_last_piece_follows_it() {
        let mut p = Parser::<64>::new();
        let out = run(&mut p, &timed(&[0xF0, 1, 0xF8, 0x90, 1, 2]));
        assert_eq!(
            out,
            vec![
                Item::Sx(vec![0xF0, 1], 0, true, SysExEnd::Continues),
                Item::Rt(0xF8, 2),
                Item::Sx(vec![], 2, false, SysExEnd::Aborted),
                Item::Msg(vec![0x90, 1, 2], 3),
            ]
        );
        // Right after F0 the first piece is F0 alone.
        let mut p = Parser::<64>::new();
        let out = run(&mut p, &timed(&[0xF0, 0xF8, 0xF8, 5, 0xF7]));
        assert_eq!(
            out,
            vec![
                Item::Sx(vec![0xF0], 0, true, SysExEnd::Continues),
                Item::Rt(0xF8, 1),
                Item::Rt(0xF8, 2),
                Item::Sx(vec![5, 0xF7], 3, false, SysExEnd::Terminated),
            ]
        );
    }

    #[test]
    fn system_common_clears_running_status() {
        let mut p = Parser::<64>::new();
        let out = run(
            &mut p,
            &timed(&[0x80, 1, 2, 0xF2, 3, 4, 5, 0xF1, 7, 0xF6, 0xF3, 9, 10]),
        );
        assert_eq!(
            out,
            vec![
                Item::Msg(vec![0x80, 1, 2], 0),
                Item::Msg(vec![0xF2, 3, 4], 3),
                Item::Msg(vec![0xF1, 7], 7),
                Item::Msg(vec![0xF6], 9),
                Item::Msg(vec![0xF3, 9], 10),
            ]
        );
        assert_eq!(p.stats().stray_data_bytes, 2);
    }

    #[test]
    fn sysex_in_pieces_aborted_and_undefined_bytes() {
        let mut p = Parser::<4>::new();
        let out = run(
            &mut p,
            &timed(&[0xF0, 1, 2, 3, 4, 5, 0xF7, 0xF0, 9, 0x91, 1, 2]),
        );
        assert_eq!(
            out,
            vec![
                Item::Sx(vec![0xF0, 1, 2, 3], 0, true, SysExEnd::Continues),
                Item::Sx(vec![4, 5, 0xF7], 4, false, SysExEnd::Terminated),
                Item::Sx(vec![0xF0, 9], 7, true, SysExEnd::Aborted),
                Item::Msg(vec![0x91, 1, 2], 9),
            ]
        );
        assert_eq!(p.stats().aborted_sysex, 1);
        // Undefined bytes: F4/F5 clear running status, F9/FD are ignored in place.
        let mut p = Parser::<4>::new();
        let out = run(
            &mut p,
            &timed(&[0x90, 1, 0xF9, 2, 3, 0xFD, 4, 0xF4, 5, 6, 0xF5, 0xF7]),
        );
        assert_eq!(
            out,
            vec![
                Item::Msg(vec![0x90, 1, 2], 0),
                Item::Msg(vec![0x90, 3, 4], 4)
            ]
        );
        assert_eq!(p.stats().undefined_status_bytes, 5);
        assert_eq!(p.stats().stray_data_bytes, 2);
        // A message cut short by a status byte.
        let mut p = Parser::<4>::new();
        let out = run(&mut p, &timed(&[0x90, 1, 0x80, 1, 2, 0xF6]));
        assert_eq!(
            out,
            vec![Item::Msg(vec![0x80, 1, 2], 2), Item::Msg(vec![0xF6], 5)]
        );
        assert_eq!(p.stats().truncated_messages, 1);
        // A sysex aborted by tune request gives two items for one byte.
        let mut p = Parser::<4>::new();
        let out = run(&mut p, &timed(&[0xF0, 1, 0xF6]));
        assert_eq!(
            out,
            vec![
                Item::Sx(vec![0xF0, 1], 0, true, SysExEnd::Aborted),
                Item::Msg(vec![0xF6], 2)
            ]
        );
    }

    #[test]
    fn flush_reports_open_sysex_and_abort_after_flush_closes_it() {
        let mut p = Parser::<8>::new();
        let mut out = run(&mut p, &timed(&[0xF0, 1]));
        p.flush_sysex(&mut |i| {
            if let Parsed::SysEx {
                bytes,
                time,
                first,
                end,
            } = i
            {
                out.push(Item::Sx(bytes.to_vec(), time, first, end));
            }
        });
        out.extend(run(&mut p, &[(0x90, 10), (1, 11), (2, 12)]));
        assert_eq!(
            out,
            vec![
                Item::Sx(vec![0xF0, 1], 0, true, SysExEnd::Continues),
                Item::Sx(vec![], 0, false, SysExEnd::Aborted),
                Item::Msg(vec![0x90, 1, 2], 10),
            ]
        );
    }
}
