//! The render stream's logic, free of COM and kernel calls: what its timer
//! DPC does with the card, as a function of the master time.
//!
//! Events wait in an [`mxf`] [`Sequencer`] on the master clock until due (a
//! pause moves them later: [`MasterTimeline`]), then move to a *due* chain
//! and go out through mpu401's [`PacedWriter`], whole bytes as DRR allows,
//! in order, one byte per status poll. The driver cannot know the card's
//! FIFO depth, so the policy follows what it observes. While DRR is clear
//! bytes go out. When DRR is set (the card is full), the call stops if what
//! the card holds will keep the wire busy until the next call (which comes
//! at most one [`TimerGrain`] after this one began, learnt from the timer's
//! callbacks); a deep FIFO (16 bytes hold 5 ms) is thus only topped up at
//! each tick and a DPC stays within Microsoft's 100 µs. Otherwise the bytes
//! still due would leave the wire idle until the next tick, so the call
//! keeps polling and feeding the card, within a per-call busy-wait budget
//! ([`RenderConfig::max_spin_polls`], 900 port accesses ≈ 0.9 ms, and at
//! most one grain): on the original card, whose one-byte FIFO holds 320 µs,
//! a burst keeps the wire busy at the cost of DPCs of up to about 0.9 ms,
//! within the 1 ms the issue allows that card. What the card holds is
//! estimated from the bytes written (320 µs each on the wire). A full card
//! that plays holds more than the byte it is sending and makes room within
//! one wire byte of taking the last; one that does not is not draining and
//! is never waited on (it counts as stuck after [`RenderConfig::stall_time`]),
//! so a stuck card costs no long DPC. A message is
//! split between DPCs only when the FIFO forces it. What is left waits for
//! the next call, which the caller arms for [`ServiceOutcome::wake_at`]. No
//! byte is ever sent before its time.
//!
//! Several streams share one card through a [`SharedWire`]
//! ([`RenderEngine::service_shared`]): a stream writes only while it holds the
//! wire or the wire is free and no other stream is next in line, and holds it
//! from a message's first byte to its last, and through a sysex that arrives
//! in pieces, so two streams' bytes never interleave inside a message. A
//! stream's running status is its own: a message that starts with a data byte
//! (running status, as a `DirectMusic` client may send it) gets the stream's
//! own status byte re-sent first when another stream wrote since, and is
//! dropped (counted as filtered) when the stream has set no running status
//! of its own. A sysex whose next piece is not due within [`SYSEX_HOLD`] is
//! cut (the next status byte on the wire ends it) rather than hold the wire.
//!
//! Packages are opened in place (their events play in order, atomically with
//! respect to other events because nothing is inserted into the due chain
//! while they play). Events of channel groups other than 0 ("all") and 1 (the
//! MPU-401's only group) are not played and count as filtered. A card whose
//! output never drains (the writer reports `Stuck`) faults the stream: every
//! held event goes back to the allocator, later events are refused, and the
//! fault clears on STOP.

use dmus_sys::ks::{KSSTATE, KSSTATE_RUN, KSSTATE_STOP};
use mxf::sequencer::{MasterTimeline, Sequencer};
use mxf::{Chain, Discard};

use crate::port::{ControlPort, DataPort, WIRE_BYTE_100NS};
use crate::wire::SharedWire;
use crate::writer::{OutputState, PacedWriter};

/// The render stream's queue: master-clock times, KSSTATE rules.
type RenderQueue = Sequencer<MasterTimeline>;

/// How far (100 ns) a card may stray from the estimated wire (320 µs a
/// byte from the moment it takes it) and still count as draining: an eighth
/// of a byte, 40 µs.
const WIRE_SLACK: i64 = WIRE_BYTE_100NS / 8;

/// How long (100 ns) a stream that has left the wire inside a sysex keeps it
/// for the sysex's next piece: 20 ms, the port's prefetch (a sysex cut at
/// `KSMUSICFORMAT` record ends continues in a record at most that far ahead
/// to be held already). Longer, and the sysex is cut.
pub const SYSEX_HOLD: i64 = 200_000;

/// Tuning of a render stream.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RenderConfig {
    /// Port accesses (≈ µs) one service call may spend when the card holds
    /// enough to play on its own until the next call: a deep FIFO is topped
    /// up, never waited on.
    pub max_polls: u32,
    /// The per-DPC busy-wait budget: the most port accesses (≈ µs, one ISA
    /// cycle each) one call may spend keeping a card fed that would otherwise
    /// run dry before the next call. Only a shallow FIFO ever needs it.
    pub max_spin_polls: u32,
    /// How long to wait before retrying a backed-up card, in 100 ns.
    pub retry_delay: i64,
    /// Consecutive polls with DRR set and no byte accepted before the output
    /// counts as stuck (counted across service calls).
    pub stall_limit: u32,
    /// How long (100 ns) the card may refuse every byte before the output
    /// counts as stuck, however few polls found it busy.
    pub stall_time: i64,
    /// Events one service call retires or opens at most (filtered events and
    /// packages cost no polls, so the poll budget alone would not bound them).
    pub max_events: u32,
}

impl RenderConfig {
    /// 60 port accesses per call on a card that needs no feeding; up to 900
    /// (≈ 0.9 ms, under the 1 ms DPC bound the issue sets for the original
    /// one-byte card) keeping a card fed until the next timer callback; a
    /// retry one wire byte (320 µs) later; stuck after 8,000 fruitless polls
    /// or 50 ms without a byte taken; at most 64 events per call.
    pub const DEFAULT: Self = Self {
        max_polls: 60,
        max_spin_polls: 900,
        stall_time: 500_000,
        retry_delay: 3_200,
        stall_limit: 8_000,
        max_events: 64,
    };
}

/// Counters of a render stream (`KSPROPERTY_SYNTH_RUNNINGSTATS` reports `lost`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RenderStats {
    /// Messages (events) written completely.
    pub events_played: u64,
    /// Bytes written to the card.
    pub bytes_written: u64,
    /// Events not played because of their channel group, or because they rely
    /// on a running status the stream never set while another stream wrote last.
    pub events_filtered: u64,
    /// Events given back unplayed because the output was stuck or the stream stopped mid-play.
    pub events_lost: u64,
    /// Service calls.
    pub services: u64,
    /// The most status polls one service call used.
    pub max_polls_in_one_service: u32,
    /// Running status bytes re-sent because another stream wrote in between.
    pub status_resent: u64,
    /// Sysex messages cut because their next piece was not due in time.
    pub sysex_cut: u64,
}

/// Why the stream refused events.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderError {
    /// The card's output never drained; the stream discards until STOP.
    OutputStuck,
}

/// What a service call leaves for the caller.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServiceOutcome {
    /// The master time to call again at, if anything is waiting.
    pub wake_at: Option<i64>,
    /// Whether `wake_at` is a retry of a backed-up card (rather than an
    /// event's time): the caller learns its timer's grain from how long after
    /// this call's start the retry comes (see [`TimerGrain::observe`]).
    pub retry: bool,
    /// Status polls this call used.
    pub polls: u32,
}

/// How a message goes on the wire.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum MessageStart {
    /// As it is.
    AsItIs,
    /// After the stream's own running status byte: it starts with a data
    /// byte and another stream wrote since the status went out.
    AfterStatus(u8),
    /// Not at all: it relies on a running status the stream never set, and
    /// would take another stream's.
    Orphan,
}

/// Whether an event of `group` goes to the MPU-401's one channel group.
#[must_use]
pub const fn plays_on_this_port(group: u16) -> bool {
    matches!(group, 0 | 1)
}

/// One render stream's events and writer.
#[derive(Debug)]
pub struct RenderEngine {
    config: RenderConfig,
    queue: RenderQueue,
    due: Chain,
    /// Bytes of the first due event already written.
    offset: usize,
    writer: PacedWriter,
    fault: Option<RenderError>,
    stats: RenderStats,
    /// The caller's timer grain, 100 ns (see [`TimerGrain`]).
    grain: i64,
    /// When the bytes this stream has written will all have left the wire
    /// (master time, estimated at 320 µs a byte).
    wire_free_at: i64,
    /// When the card last took a byte (master time, estimated).
    taken_at: i64,
    /// Since when the card has refused every byte, while it does.
    stalled_since: Option<i64>,
    /// The channel status (0x80..=0xEF) this stream's running status stands on.
    running_status: Option<u8>,
    /// This stream's last byte on the wire left a sysex open.
    in_sysex: bool,
    /// The status byte to re-send before the current message's first byte.
    resend: Option<u8>,
    /// A byte of the current message (or its re-sent status) is on the wire.
    started: bool,
}

/// How long after a service call the next one may come, learnt from the
/// timer's callbacks: for a wake at an event's time, how late the callback
/// ran (a timer quantised to 1 ms fires up to 1 ms after the time asked for);
/// for a retry, how long after the call that armed it (on a 1 ms timer, a
/// retry asked for one wire byte later comes at the next tick, a whole tick
/// after a call that began on one). So how long a card must be able to play
/// on its own once a call has begun. The worst seen, decaying slowly, so a
/// finer timer later shrinks it again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TimerGrain {
    worst: Option<i64>,
}

impl Default for TimerGrain {
    fn default() -> Self {
        Self::new()
    }
}

impl TimerGrain {
    /// The grain assumed before the first callback: 1 ms.
    pub const PRIOR: i64 = 10_000;
    /// Lateness above this (16 ms, a coarse clock interval) counts as this.
    pub const MAX: i64 = 160_000;

    /// Nothing observed yet.
    #[must_use]
    pub const fn new() -> Self {
        Self { worst: None }
    }

    /// Records that a callback ran at `now`, `since` being the time it was
    /// armed for (an event's wake) or the start of the call that armed it (a
    /// retry).
    pub fn observe(&mut self, since: i64, now: i64) {
        let late = now.saturating_sub(since).clamp(0, Self::MAX);
        let decayed = self.worst.map_or(0, |worst| worst - worst / 64);
        self.worst = Some(late.max(decayed));
    }

    /// The grain to plan with, 100 ns.
    #[must_use]
    pub const fn estimate(&self) -> i64 {
        match self.worst {
            Some(worst) => worst,
            None => Self::PRIOR,
        }
    }
}

impl RenderEngine {
    /// A stopped engine.
    #[must_use]
    pub const fn new(config: RenderConfig) -> Self {
        Self {
            config,
            queue: Sequencer::with_timeline(MasterTimeline::new()),
            due: Chain::new(),
            offset: 0,
            writer: PacedWriter::new(config.stall_limit),
            fault: None,
            stats: RenderStats {
                events_played: 0,
                bytes_written: 0,
                events_filtered: 0,
                events_lost: 0,
                services: 0,
                max_polls_in_one_service: 0,
                status_resent: 0,
                sysex_cut: 0,
            },
            grain: TimerGrain::PRIOR,
            wire_free_at: 0,
            taken_at: 0,
            stalled_since: None,
            running_status: None,
            in_sysex: false,
            resend: None,
            started: false,
        }
    }

    /// The caller's timer grain (100 ns), from [`TimerGrain::estimate`].
    pub fn set_grain(&mut self, grain: i64) {
        self.grain = grain.max(0);
    }

    /// The most port accesses one call may spend keeping a card fed: one
    /// grain's worth (a call as long as the grain would run into the next
    /// tick), within the configured bounds.
    fn spin_cap(&self) -> u32 {
        let grain_us = u32::try_from(self.grain / 10).unwrap_or(u32::MAX);
        grain_us.clamp(self.config.max_polls, self.config.max_spin_polls)
    }

    /// Whether what the card holds would run out before the next call, which
    /// comes at most one grain after this one began at `master_now`: bytes
    /// left for that call would leave the wire idle.
    fn needs_feeding(&self, master_now: i64) -> bool {
        self.wire_free_at < master_now.saturating_add(self.grain)
    }

    /// Writes the rest of the message `data` from `self.offset`, one byte per
    /// status poll. `io_ops` counts the port accesses of the call so far (one
    /// ISA cycle, about 1 µs, each), which dates them from `master_now` and
    /// bounds the call. When the card is full (DRR set), the call goes on
    /// polling only while it [needs feeding](Self::needs_feeding), within
    /// [`Self::spin_cap`] accesses; otherwise within
    /// [`RenderConfig::max_polls`]. The FIFO's depth is never assumed: a
    /// deep one holds enough and is only topped up; a shallow one is kept fed.
    fn write_message<IO>(
        &mut self,
        io: &mut IO,
        data: &[u8],
        master_now: i64,
        polls: &mut u32,
        io_ops: &mut u32,
    ) -> OutputState
    where
        IO: DataPort + ControlPort,
    {
        // One byte or one busy poll per pass, or a return: bounded by the cap.
        while let Some(byte) = self.resend.or_else(|| data.get(self.offset).copied()) {
            let cap = if self.needs_feeding(master_now) {
                self.spin_cap()
            } else {
                self.config.max_polls
            };
            if *io_ops >= cap {
                return OutputState::BackedUp;
            }
            let progress = self.writer.write(io, &[byte], 1);
            *polls += progress.polls;
            let written = u32::try_from(progress.written).unwrap_or(0);
            *io_ops += progress.polls + written;
            let at = master_now.saturating_add(i64::from(*io_ops) * 10);
            if progress.written == 1 {
                if self.resend.take().is_some() {
                    self.stats.status_resent += 1;
                } else {
                    self.offset += 1;
                }
                self.started = true;
                self.note_written(byte);
                self.stats.bytes_written += 1;
                self.wire_free_at = self.wire_free_at.max(at).saturating_add(WIRE_BYTE_100NS);
                self.taken_at = at;
                self.stalled_since = None;
                continue;
            }
            let stalled_since = *self.stalled_since.get_or_insert(at);
            if progress.state == OutputState::Stuck
                || at.saturating_sub(stalled_since) >= self.config.stall_time
            {
                return OutputState::Stuck;
            }
            // DRR set: the card is full. Wait for room only if it would run
            // dry before the next call, and only while it behaves as a
            // draining card: a full card holds more than the byte it is
            // sending, and makes room within one wire byte of taking the
            // last one. A card that does not (stuck, gone, or slower than
            // the wire) is not waited on: polling it would only lengthen the
            // DPC.
            let draining = at.saturating_sub(self.taken_at) <= WIRE_BYTE_100NS + WIRE_SLACK
                && self.wire_free_at.saturating_sub(at) > WIRE_BYTE_100NS - WIRE_SLACK;
            if !draining || !self.needs_feeding(master_now) {
                return OutputState::BackedUp;
            }
        }
        OutputState::Complete
    }

    /// Follows the stream's running status and open sysex through a byte it
    /// wrote (MIDI 1.0: a channel status sets running status; sysex and
    /// system common clear it; realtime bytes change nothing).
    const fn note_written(&mut self, byte: u8) {
        match byte {
            0xF0 => {
                self.in_sysex = true;
                self.running_status = None;
            }
            0xF1..=0xF7 => {
                self.in_sysex = false;
                self.running_status = None;
            }
            0x80..=0xEF => {
                self.in_sysex = false;
                self.running_status = Some(byte);
            }
            // Data bytes continue what their status began; realtime bytes stand alone.
            _ => {}
        }
    }

    /// How a message starting with `first` goes out when `other_wrote` (another
    /// stream wrote last).
    fn start_of(&self, first: Option<u8>, other_wrote: bool) -> MessageStart {
        match (first, self.running_status) {
            (Some(byte), running) if byte < 0x80 && !self.in_sysex && other_wrote => {
                running.map_or(MessageStart::Orphan, MessageStart::AfterStatus)
            }
            _ => MessageStart::AsItIs,
        }
    }

    /// The counters.
    #[must_use]
    pub const fn stats(&self) -> RenderStats {
        self.stats
    }

    /// The stream's state.
    #[must_use]
    pub const fn state(&self) -> KSSTATE {
        self.queue.state()
    }

    /// The fault, if the output got stuck.
    #[must_use]
    pub const fn fault(&self) -> Option<RenderError> {
        self.fault
    }

    /// Events held or waiting to be written (a package counts as one).
    #[must_use]
    pub const fn pending(&self) -> usize {
        self.queue.len() + self.due.len()
    }

    /// Bytes due but not yet written: how far behind the wire is.
    #[must_use]
    pub fn backlog_bytes(&self) -> usize {
        let due: usize = self.due.iter().map(|event| event.data().len()).sum();
        due.saturating_sub(self.offset)
    }

    /// Takes events from the port (`PutMessage`).
    ///
    /// # Errors
    /// [`RenderError::OutputStuck`] after a fault: the events go back to `pool`.
    pub fn put<P: Discard>(&mut self, chain: Chain, pool: &mut P) -> Result<(), RenderError> {
        if let Some(fault) = self.fault {
            self.stats.events_lost += chain.len() as u64;
            pool.discard(chain);
            return Err(fault);
        }
        let refused = self.queue.put_detach(chain);
        pool.discard(refused);
        Ok(())
    }

    /// Changes state. STOP gives every held and due event back and clears a
    /// fault (a message cut short by STOP counts as lost); RUN after a pause
    /// moves held events later by the pause (see [`MasterTimeline`]).
    pub fn set_state<P: Discard>(&mut self, state: KSSTATE, master_now: i64, pool: &mut P) {
        let dropped = self.queue.set_state_detach(state, master_now);
        pool.discard(dropped);
        if state == KSSTATE_STOP {
            if self.offset > 0 {
                self.stats.events_lost += 1;
            }
            pool.discard(core::mem::take(&mut self.due));
            self.offset = 0;
            self.started = false;
            self.resend = None;
            self.in_sysex = false;
            self.running_status = None;
            self.writer.clear_stall();
            self.stalled_since = None;
            self.fault = None;
        }
    }

    /// Gives back everything the engine holds (the stream is going away).
    pub fn drain<P: Discard>(&mut self, pool: &mut P) {
        pool.discard(self.queue.take_all());
        pool.discard(core::mem::take(&mut self.due));
        self.offset = 0;
        self.started = false;
        self.resend = None;
        self.in_sysex = false;
    }

    /// The DPC's work at `master_now`: move due events to the due chain and
    /// write as much as the poll budget and the card allow. Outside RUN only
    /// a message already on its way is finished. Spent events go to `pool`.
    pub fn service<P, IO>(&mut self, master_now: i64, io: &mut IO, pool: &mut P) -> ServiceOutcome
    where
        P: Discard,
        IO: DataPort + ControlPort,
    {
        let mut alone = SharedWire::new();
        self.service_shared(master_now, io, pool, &mut alone, 0)
    }

    /// Whether a message or a sysex is half on the wire: another stream of
    /// the same card must not write until it is finished (MIDI bytes of two
    /// messages must not interleave).
    #[must_use]
    pub const fn mid_message(&self) -> bool {
        self.started || self.in_sysex
    }

    /// [`Self::service`] for a card shared with other streams through `wire`,
    /// this stream being `me` there: while another stream holds the wire (or
    /// is next in line) due events wait and the call asks to be retried.
    #[allow(
        clippy::too_many_lines,
        reason = "one pass over the due chain; each branch retires, opens, writes or returns"
    )]
    pub fn service_shared<P, IO>(
        &mut self,
        master_now: i64,
        io: &mut IO,
        pool: &mut P,
        wire: &mut SharedWire,
        me: u32,
    ) -> ServiceOutcome
    where
        P: Discard,
        IO: DataPort + ControlPort,
    {
        self.stats.services += 1;
        let running = self.queue.state() == KSSTATE_RUN;
        if running && self.fault.is_none() {
            let newly_due = self.queue.pop_due(master_now);
            self.due.push_back(newly_due);
        }
        let mut polls = 0u32;
        let mut io_ops = 0u32;
        let mut spent = Chain::new();
        let mut backed_up = false;
        let mut events_left = self.config.max_events;
        // Each pass either retires the first due event, opens a package (its
        // events replace it), or returns: at most `max_events` passes.
        while let Some(front) = self.due.front() {
            if !running && !self.started {
                break;
            }
            if events_left == 0 {
                backed_up = true;
                break;
            }
            events_left -= 1;
            if front.is_package() {
                let _ = self.due.open_front_package(pool);
                continue;
            }
            if !plays_on_this_port(front.channel_group()) {
                self.stats.events_filtered += 1;
                spent.push_back(self.due.pop_front());
                continue;
            }
            if !wire.may_write(me) {
                // Another stream is mid-message or next in line.
                backed_up = true;
                break;
            }
            if !self.started {
                let first = front.data().first().copied();
                let other_wrote = wire.last_writer().is_some_and(|last| last != me);
                match self.start_of(first, other_wrote) {
                    MessageStart::AsItIs => self.resend = None,
                    MessageStart::AfterStatus(status) => self.resend = Some(status),
                    MessageStart::Orphan => {
                        self.stats.events_filtered += 1;
                        spent.push_back(self.due.pop_front());
                        continue;
                    }
                }
            }
            // The message leaves the due chain while it is written (the writer
            // needs `self`), and goes back in front if it is not finished.
            let current = self.due.pop_front();
            let bytes_before = self.stats.bytes_written;
            let (state, finished) = match current.front() {
                Some(event) => {
                    let data = event.data();
                    let state = self.write_message(io, data, master_now, &mut polls, &mut io_ops);
                    (state, self.resend.is_none() && self.offset >= data.len())
                }
                None => (OutputState::Complete, true),
            };
            if finished {
                self.offset = 0;
                self.started = false;
                self.stats.events_played += 1;
                spent.push_back(current);
            } else {
                let mut unfinished = current;
                unfinished.push_back(core::mem::take(&mut self.due));
                self.due = unfinished;
            }
            match state {
                OutputState::Complete => {}
                OutputState::BackedUp => {
                    backed_up = true;
                    break;
                }
                OutputState::Stuck => {
                    self.fault = Some(RenderError::OutputStuck);
                    let lost = core::mem::take(&mut self.due);
                    self.stats.events_lost += lost.len() as u64;
                    spent.push_back(lost);
                    let held = self.queue.take_all();
                    self.stats.events_lost += held.len() as u64;
                    spent.push_back(held);
                    self.offset = 0;
                    self.started = false;
                    self.resend = None;
                    self.in_sysex = false;
                    break;
                }
            }
            if self.stats.bytes_written != bytes_before {
                wire.wrote(me, self.mid_message());
            }
        }
        pool.discard(spent);
        self.cut_stale_sysex(master_now, running);
        wire.set_holding(me, self.mid_message());
        if self.due.is_empty() || !running {
            // Nothing to write now: no place in line either.
            if !self.mid_message() {
                wire.leave(me);
            }
        }
        self.stats.max_polls_in_one_service = self.stats.max_polls_in_one_service.max(polls);
        // One wire byte after this call began: a timer armed after a long call
        // for a time already past fires at its next tick.
        let retry = (backed_up || (!self.due.is_empty() && (running || self.offset > 0)))
            .then(|| master_now.saturating_add(self.config.retry_delay));
        let event = self.queue.next_due_time();
        let next = if self.fault.is_some() {
            None
        } else {
            match (retry, event) {
                (Some(a), Some(b)) => Some(a.min(b)),
                (a, b) => a.or(b),
            }
        };
        ServiceOutcome {
            wake_at: next,
            retry: next.is_some() && next == retry,
            polls,
        }
    }

    /// Lets go of a sysex left open on the wire when its next piece is not
    /// due within [`SYSEX_HOLD`] (or the stream does not run): other streams
    /// must not wait on it; their next status byte ends it.
    fn cut_stale_sysex(&mut self, master_now: i64, running: bool) {
        if !self.in_sysex || self.started {
            return;
        }
        let next_piece_soon = running
            && (!self.due.is_empty()
                || self
                    .queue
                    .next_due_time()
                    .is_some_and(|at| at <= master_now.saturating_add(SYSEX_HOLD)));
        if !next_piece_soon {
            self.in_sysex = false;
            self.stats.sysex_cut += 1;
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::vec::Vec;

    use dmus_sys::dmusic::DMUS_KEF;
    use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
    use mxf::raw::CountingPool;
    use mxf::{Chain, FixedPool};

    use super::{RenderConfig, RenderEngine, RenderError};
    use crate::port::{ControlPort, DataPort, Status};
    use crate::wire::SharedWire;

    /// The checked host pool the render tests use.
    pub(super) type TestPool = CountingPool<FixedPool, 256>;

    pub(super) fn pool() -> TestPool {
        CountingPool::new(FixedPool::leaked(256, 16, 64).expect("pool"))
    }

    fn note(pool: &mut TestPool, time: i64, data: &[u8]) -> Chain {
        Chain::event(pool, time, 1, DMUS_KEF::EVENT_COMPLETE, data).expect("event")
    }

    /// A card in UART mode with a FIFO, a wire at 320 µs a byte, and a clock
    /// that advances 1 µs (10 ticks) per port access, in 100 ns ticks.
    pub(super) struct Card {
        pub(super) now: i64,
        fifo: Vec<u8>,
        depth: usize,
        tx_free_at: i64,
        wire: Vec<(i64, u8)>,
        drains: bool,
        /// Pulled out of the slot: reads float to 0xFF, writes vanish.
        absent: bool,
        pub(super) overruns: u32,
    }

    impl Card {
        pub(super) fn new(depth: usize) -> Self {
            Self {
                now: 0,
                fifo: Vec::new(),
                depth,
                tx_free_at: 0,
                wire: Vec::new(),
                drains: true,
                absent: false,
                overruns: 0,
            }
        }

        pub(super) fn advance(&mut self, to: i64) {
            self.now = self.now.max(to);
            while self.drains && !self.fifo.is_empty() && self.tx_free_at <= self.now {
                let byte = self.fifo.remove(0);
                self.wire.push((self.tx_free_at, byte));
                self.tx_free_at += 3_200;
            }
        }

        fn tick(&mut self) {
            let next = self.now + 10;
            self.advance(next);
        }

        pub(super) fn bytes(&self) -> Vec<u8> {
            self.wire.iter().map(|&(_, b)| b).collect()
        }
    }

    impl ControlPort for Card {
        fn read_status(&mut self) -> Status {
            self.tick();
            if self.absent {
                return Status(Status::FLOATING_BUS);
            }
            Status(
                if self.fifo.len() >= self.depth {
                    0x40
                } else {
                    0
                } | 0x80
                    | 0x3F,
            )
        }
        fn write_command(&mut self, _command: u8) {
            self.tick();
        }
    }

    impl DataPort for Card {
        fn read_data(&mut self) -> u8 {
            self.tick();
            0xFE
        }
        fn write_data(&mut self, byte: u8) {
            self.tick();
            if self.absent {
                return;
            }
            if self.fifo.len() >= self.depth {
                self.overruns += 1;
                return;
            }
            if self.fifo.is_empty() && self.tx_free_at <= self.now && self.drains {
                self.wire.push((self.now, byte));
                self.tx_free_at = self.now + 3_200;
            } else {
                self.fifo.push(byte);
            }
        }
    }

    /// Runs service calls at each wake time until nothing is left (bounded).
    fn run(engine: &mut RenderEngine, card: &mut Card, pool: &mut TestPool, start: i64) -> u32 {
        let mut at = Some(start);
        let mut calls = 0;
        while let Some(time) = at {
            calls += 1;
            assert!(calls < 10_000, "the engine keeps waking");
            card.advance(time);
            at = engine.service(card.now, card, pool).wake_at;
        }
        calls
    }

    fn running_engine(pool: &mut TestPool) -> RenderEngine {
        let mut engine = RenderEngine::new(RenderConfig::DEFAULT);
        engine.set_state(KSSTATE_ACQUIRE, 0, pool);
        engine.set_state(KSSTATE_PAUSE, 0, pool);
        engine.set_state(KSSTATE_RUN, 0, pool);
        engine
    }

    #[test]
    fn due_events_reach_the_wire_in_order_and_on_time() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut engine = running_engine(&mut pool);
        // Out of order arrival, one chord at 10 ms, one note at 50 ms.
        let mut chain = note(&mut pool, 500_000, &[0x80, 60, 0]);
        chain.push_back(note(&mut pool, 100_000, &[0x90, 60, 100]));
        chain.push_back(note(&mut pool, 100_000, &[0x90, 64, 100]));
        engine.put(chain, &mut pool).unwrap();
        let first = engine.service(0, &mut card, &mut pool);
        assert_eq!(
            first.wake_at,
            Some(100_000),
            "nothing due yet: wake for the chord"
        );
        assert!(!first.retry, "an event's time, not a retry");
        assert_eq!(first.polls, 0);
        run(&mut engine, &mut card, &mut pool, 100_000);
        card.advance(card.now + 100_000);
        assert_eq!(card.bytes(), [0x90, 60, 100, 0x90, 64, 100, 0x80, 60, 0]);
        // Each message starts when due or right after the previous one.
        assert_eq!(
            card.wire[0].0, 100_020,
            "one status read and one write after due"
        );
        assert_eq!(
            card.wire[3].0,
            card.wire[2].0 + 3_200,
            "back to back on the wire"
        );
        assert!(card.wire[6].0 - 500_000 < 10_000, "within a millisecond");
        assert_eq!(card.overruns, 0, "never writes while DRR is set");
        assert!(engine.stats().max_polls_in_one_service <= RenderConfig::DEFAULT.max_spin_polls);
        assert_eq!(engine.stats().events_played, 3);
        assert_eq!(engine.pending(), 0);
        pool.check().expect("every event back exactly once");
    }

    #[test]
    fn a_message_is_split_only_when_the_fifo_forces_it() {
        let mut pool = pool();
        let mut deep = Card::new(4);
        let mut engine = running_engine(&mut pool);
        engine
            .put(note(&mut pool, 0, &[0x90, 60, 100]), &mut pool)
            .unwrap();
        let outcome = engine.service(0, &mut deep, &mut pool);
        assert_eq!(
            outcome.wake_at, None,
            "a FIFO with room takes the whole message at once"
        );
        assert_eq!(outcome.polls, 3);
        // A one-byte FIFO takes two bytes; with a 1 ms timer the third would
        // wait a whole tick with the wire idle, so the call waits for room
        // (the first byte's 320 µs) and finishes the message.
        let mut shallow = Card::new(1);
        let mut engine = running_engine(&mut pool);
        engine
            .put(note(&mut pool, 0, &[0x90, 62, 100]), &mut pool)
            .unwrap();
        let outcome = engine.service(0, &mut shallow, &mut pool);
        assert_eq!(outcome.wake_at, None, "the whole message went out");
        assert_eq!(outcome.polls, 320, "two polls, then 318 until DRR clears");
        shallow.advance(10_000);
        let starts: Vec<i64> = shallow.wire.iter().map(|&(t, _)| t).collect();
        assert_eq!(starts, [20, 3_220, 6_420], "back to back on the wire");
        // With an exact timer the call does not wait: the FIFO forces a split.
        let mut exact = Card::new(1);
        let mut engine = running_engine(&mut pool);
        engine.set_grain(0);
        engine
            .put(note(&mut pool, 0, &[0x90, 64, 100]), &mut pool)
            .unwrap();
        let outcome = engine.service(0, &mut exact, &mut pool);
        assert_eq!(outcome.wake_at, Some(3_200), "retry one wire byte later");
        assert!(
            outcome.retry,
            "a retry: the grain is learnt from this call's start"
        );
        assert_eq!(engine.backlog_bytes(), 1, "one byte waits for the FIFO");
        exact.advance(3_400);
        assert_eq!(engine.service(3_400, &mut exact, &mut pool).wake_at, None);
        for card in [&mut deep, &mut shallow, &mut exact] {
            card.advance(card.now + 20_000);
        }
        assert_eq!(deep.bytes(), [0x90, 60, 100]);
        assert_eq!(shallow.bytes(), [0x90, 62, 100]);
        assert_eq!(exact.bytes(), [0x90, 64, 100]);
        pool.check().unwrap();
    }

    #[test]
    fn a_long_burst_is_paced_across_calls_with_a_bounded_budget() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut engine = running_engine(&mut pool);
        let sysex: Vec<u8> = core::iter::once(0xF0)
            .chain(1..=40)
            .chain(core::iter::once(0xF7))
            .collect();
        let long = Chain::event(&mut pool, 0, 1, DMUS_KEF::EVENT_COMPLETE, &sysex).unwrap();
        engine.put(long, &mut pool).unwrap();
        let calls = run(&mut engine, &mut card, &mut pool, 0);
        card.advance(card.now + 100_000);
        assert_eq!(card.bytes(), sysex);
        assert!(calls > 1, "a 42-byte sysex cannot fit one bounded call");
        assert!(engine.stats().max_polls_in_one_service <= RenderConfig::DEFAULT.max_spin_polls);
        pool.check().unwrap();
    }

    #[test]
    fn packages_play_in_order_and_foreign_groups_are_filtered() {
        let mut pool = pool();
        let mut card = Card::new(16);
        let mut engine = running_engine(&mut pool);
        let mut contents = note(&mut pool, 0, &[0xB0, 7, 100]);
        contents.push_back(note(&mut pool, 0, &[0xC0, 5]));
        let package = Chain::package(&mut pool, 0, 1, contents)
            .map_err(|e| e.0)
            .unwrap();
        let foreign = Chain::event(&mut pool, 0, 2, DMUS_KEF::EVENT_COMPLETE, &[0x90, 1, 1]);
        let all = Chain::event(&mut pool, 0, 0, DMUS_KEF::EVENT_COMPLETE, &[0xF8]);
        let mut chain = package;
        chain.push_back(foreign.unwrap());
        chain.push_back(all.unwrap());
        engine.put(chain, &mut pool).unwrap();
        run(&mut engine, &mut card, &mut pool, 0);
        card.advance(card.now + 100_000);
        assert_eq!(card.bytes(), [0xB0, 7, 100, 0xC0, 5, 0xF8]);
        assert_eq!(engine.stats().events_filtered, 1);
        pool.check().unwrap();
    }

    #[test]
    fn a_flood_of_filtered_events_is_spread_over_bounded_calls() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut engine = running_engine(&mut pool);
        let mut chain = Chain::new();
        for _ in 0..200 {
            let foreign = Chain::event(&mut pool, 0, 7, DMUS_KEF::EVENT_COMPLETE, &[0xF8]);
            chain.push_back(foreign.unwrap());
        }
        engine.put(chain, &mut pool).unwrap();
        let first = engine.service(0, &mut card, &mut pool);
        assert_eq!(
            first.wake_at,
            Some(3_200),
            "the rest waits for the next call"
        );
        assert_eq!(engine.stats().events_filtered, 64);
        let calls = run(&mut engine, &mut card, &mut pool, 3_200);
        assert_eq!((calls, engine.stats().events_filtered), (3, 200));
        assert!(card.wire.is_empty());
        pool.check().unwrap();
    }

    #[test]
    fn the_grain_follows_how_late_the_timer_fires() {
        let mut grain = super::TimerGrain::new();
        assert_eq!(
            grain.estimate(),
            super::TimerGrain::PRIOR,
            "1 ms until seen"
        );
        grain.observe(1_000, 8_000);
        assert_eq!(grain.estimate(), 7_000);
        grain.observe(1_000, 10_000_000);
        assert_eq!(grain.estimate(), super::TimerGrain::MAX, "bounded");
        for _ in 0..800 {
            grain.observe(0, 0);
        }
        assert!(grain.estimate() < 100, "decays once timers are exact");
    }

    #[test]
    fn a_shallow_fifo_is_kept_fed_and_a_deep_one_only_topped_up() {
        let mut pool = pool();
        // Eight 3-byte messages due at once: 24 bytes, 7.7 ms of wire.
        let burst = |pool: &mut TestPool| {
            let mut chain = Chain::new();
            for key in 60..68 {
                chain.push_back(note(pool, 0, &[0x90, key, 100]));
            }
            chain
        };
        let mut shallow = Card::new(1);
        let mut engine = running_engine(&mut pool);
        engine.put(burst(&mut pool), &mut pool).unwrap();
        let first = engine.service(0, &mut shallow, &mut pool);
        assert!(
            (600..=700).contains(&first.polls),
            "fed until the card holds enough to last until the next tick, 1 ms \
             after the call began (four bytes in, the fourth at 640 µs): {}",
            first.polls
        );
        run(&mut engine, &mut shallow, &mut pool, 10_000);
        shallow.advance(shallow.now + 100_000);
        let starts: Vec<i64> = shallow.wire.iter().map(|&(t, _)| t).collect();
        let gaps = starts.windows(2).filter(|w| w[1] - w[0] > 3_200).count();
        assert_eq!(gaps, 0, "the wire never idles: {starts:?}");

        let mut deep = Card::new(4);
        let mut engine = running_engine(&mut pool);
        engine.put(burst(&mut pool), &mut pool).unwrap();
        let first = engine.service(0, &mut deep, &mut pool);
        assert!(
            first.polls <= 6,
            "topped up, then back at the next tick: {}",
            first.polls
        );
        run(&mut engine, &mut deep, &mut pool, 10_000);
        pool.check().unwrap();
    }

    #[test]
    fn a_busy_wire_holds_due_events_until_it_is_free() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut wire = SharedWire::new();
        let mut first = running_engine(&mut pool);
        let mut second = running_engine(&mut pool);
        // An exact timer: no polling beyond the first busy poll.
        first.set_grain(0);
        second.set_grain(0);
        first
            .put(note(&mut pool, 0, &[0x90, 60, 100]), &mut pool)
            .unwrap();
        second
            .put(note(&mut pool, 0, &[0x90, 70, 100]), &mut pool)
            .unwrap();
        let outcome = first.service_shared(0, &mut card, &mut pool, &mut wire, 1);
        assert!(
            first.mid_message(),
            "a one-byte FIFO leaves a byte for later"
        );
        assert_eq!(wire.owner(), Some(1));
        assert_eq!(outcome.wake_at, Some(3_200));
        let held = second.service_shared(0, &mut card, &mut pool, &mut wire, 2);
        assert_eq!(
            (held.polls, held.wake_at),
            (0, Some(3_200)),
            "waits, untouched"
        );
        card.advance(3_400);
        let _ = first.service_shared(3_400, &mut card, &mut pool, &mut wire, 1);
        assert!(!first.mid_message());
        let now = card.now;
        run_shared(
            &mut [(&mut second, 2)],
            &mut card,
            &mut pool,
            &mut wire,
            now,
        );
        card.advance(card.now + 20_000);
        assert_eq!(
            card.bytes(),
            [0x90, 60, 100, 0x90, 70, 100],
            "never interleaved"
        );
        pool.check().unwrap();
    }

    /// Services every `(engine, id)` on `wire` at the earliest wake time of
    /// any, until none wakes (bounded).
    fn run_shared(
        engines: &mut [(&mut RenderEngine, u32)],
        card: &mut Card,
        pool: &mut TestPool,
        wire: &mut SharedWire,
        start: i64,
    ) {
        run_shared_until(engines, card, pool, wire, start, i64::MAX);
    }

    /// [`run_shared`] over a slice of engines, their ids their places.
    pub(super) fn run_shared_engines(
        engines: &mut [RenderEngine],
        card: &mut Card,
        pool: &mut TestPool,
        wire: &mut SharedWire,
    ) {
        let mut tagged: Vec<(&mut RenderEngine, u32)> = engines.iter_mut().zip(0u32..).collect();
        run_shared(&mut tagged, card, pool, wire, 0);
    }

    /// [`run_shared`] up to the first wake after `until`.
    fn run_shared_until(
        engines: &mut [(&mut RenderEngine, u32)],
        card: &mut Card,
        pool: &mut TestPool,
        wire: &mut SharedWire,
        start: i64,
        until: i64,
    ) {
        let mut wakes: Vec<Option<i64>> = engines.iter().map(|_| Some(start)).collect();
        for _ in 0..100_000 {
            let Some((index, at)) = wakes
                .iter()
                .enumerate()
                .filter_map(|(i, w)| w.map(|at| (i, at)))
                .min_by_key(|&(i, at)| (at, i))
                .filter(|&(_, at)| at <= until)
            else {
                return;
            };
            card.advance(at);
            let (engine, id) = &mut engines[index];
            wakes[index] = engine
                .service_shared(card.now, card, pool, wire, *id)
                .wake_at;
        }
        panic!("the engines keep waking");
    }

    #[test]
    fn two_streams_never_interleave_inside_a_sysex_sent_in_pieces() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut wire = SharedWire::new();
        let mut sysex_stream = running_engine(&mut pool);
        let mut notes = running_engine(&mut pool);
        // A 30-byte sysex in three pieces at one time, as the unpacker cuts it.
        let whole: Vec<u8> = core::iter::once(0xF0)
            .chain(1..=28)
            .chain(core::iter::once(0xF7))
            .collect();
        let mut pieces = Chain::new();
        for (index, piece) in whole.chunks(10).enumerate() {
            let flags = if index == 2 {
                DMUS_KEF::EVENT_COMPLETE
            } else {
                DMUS_KEF::EVENT_INCOMPLETE
            };
            pieces.push_back(Chain::event(&mut pool, 0, 1, flags, piece).unwrap());
        }
        sysex_stream.put(pieces, &mut pool).unwrap();
        let mut chain = Chain::new();
        for key in 60..70u8 {
            let time = i64::from(key - 60) * 1_000;
            chain.push_back(note(&mut pool, time, &[0x90, key, 100]));
        }
        notes.put(chain, &mut pool).unwrap();
        run_shared(
            &mut [(&mut sysex_stream, 1), (&mut notes, 2)],
            &mut card,
            &mut pool,
            &mut wire,
            0,
        );
        card.advance(card.now + 100_000);
        let bytes = card.bytes();
        let start = bytes.iter().position(|&b| b == 0xF0).unwrap();
        assert_eq!(&bytes[start..start + whole.len()], whole, "{bytes:x?}");
        assert_eq!(bytes.len(), whole.len() + 30, "every note went out too");
        assert_eq!(sysex_stream.stats().sysex_cut, 0);
        pool.check().unwrap();
    }

    #[test]
    fn running_status_is_resent_after_another_stream_wrote() {
        let mut pool = pool();
        let mut card = Card::new(16);
        let mut wire = SharedWire::new();
        let mut first = running_engine(&mut pool);
        let mut second = running_engine(&mut pool);
        // The first stream relies on running status: its second note is data only.
        let mut chain = note(&mut pool, 0, &[0x90, 60, 100]);
        chain.push_back(note(&mut pool, 20_000, &[62, 100]));
        // And a data-only message before it ever set a status is not played.
        first.put(chain, &mut pool).unwrap();
        second
            .put(note(&mut pool, 10_000, &[0xB0, 7, 90]), &mut pool)
            .unwrap();
        second
            .put(note(&mut pool, 30_000, &[5, 5]), &mut pool)
            .unwrap();
        run_shared(
            &mut [(&mut first, 1), (&mut second, 2)],
            &mut card,
            &mut pool,
            &mut wire,
            0,
        );
        card.advance(card.now + 100_000);
        assert_eq!(
            card.bytes(),
            [0x90, 60, 100, 0xB0, 7, 90, 0x90, 62, 100, 0xB0, 5, 5],
            "each stream's status is re-sent after the other's message"
        );
        assert_eq!(first.stats().status_resent, 1);
        assert_eq!(second.stats().status_resent, 1);
        // Data with no running status of the stream's own never takes another's.
        let mut third = running_engine(&mut pool);
        third
            .put(note(&mut pool, card.now, &[64, 100]), &mut pool)
            .unwrap();
        let now = card.now;
        run_shared(&mut [(&mut third, 3)], &mut card, &mut pool, &mut wire, now);
        card.advance(card.now + 100_000);
        assert_eq!(card.bytes().len(), 12, "nothing written for the orphan");
        assert_eq!(third.stats().events_filtered, 1);
        pool.check().unwrap();
    }

    #[test]
    fn stop_of_one_stream_leaves_the_other_streams_events() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut wire = SharedWire::new();
        let mut first = running_engine(&mut pool);
        let mut second = running_engine(&mut pool);
        for (engine, key) in [(&mut first, 40u8), (&mut second, 70u8)] {
            let mut chain = Chain::new();
            for i in 0..5u8 {
                chain.push_back(note(&mut pool, i64::from(i) * 100_000, &[0x90, key + i, 1]));
            }
            engine.put(chain, &mut pool).unwrap();
        }
        run_shared_until(
            &mut [(&mut first, 1), (&mut second, 2)],
            &mut card,
            &mut pool,
            &mut wire,
            0,
            150_000,
        );
        card.advance(150_000);
        // The first stream stops midway (while it holds the wire, if it does).
        first.set_state(KSSTATE_STOP, card.now, &mut pool);
        let now = card.now;
        run_shared(
            &mut [(&mut first, 1), (&mut second, 2)],
            &mut card,
            &mut pool,
            &mut wire,
            now,
        );
        card.advance(card.now + 100_000);
        let keys: Vec<u8> = card.bytes().chunks(3).map(|m| m[1]).collect();
        assert_eq!(
            keys.iter()
                .filter(|&&k| k >= 70)
                .copied()
                .collect::<Vec<_>>(),
            [70, 71, 72, 73, 74],
            "the other stream's events all played"
        );
        assert_eq!(
            keys.iter()
                .filter(|&&k| k < 70)
                .copied()
                .collect::<Vec<_>>(),
            [40, 41],
            "the stopped stream's later events were flushed"
        );
        assert_eq!(first.pending(), 0);
        pool.check().unwrap();
    }

    #[test]
    fn pause_holds_and_stop_flushes() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut engine = RenderEngine::new(RenderConfig::DEFAULT);
        engine.set_state(KSSTATE_ACQUIRE, 0, &mut pool);
        engine.set_state(KSSTATE_PAUSE, 0, &mut pool);
        engine
            .put(note(&mut pool, 0, &[0x90, 60, 100]), &mut pool)
            .unwrap();
        assert_eq!(
            engine.service(1_000_000, &mut card, &mut pool).wake_at,
            None
        );
        assert!(card.wire.is_empty(), "nothing plays in PAUSE");
        engine.set_state(KSSTATE_STOP, 1_000_000, &mut pool);
        assert_eq!(engine.pending(), 0);
        pool.check().expect("STOP gave the held event back");
        engine
            .put(note(&mut pool, 0, &[0x90, 60, 100]), &mut pool)
            .unwrap();
        assert_eq!(engine.pending(), 0, "a stopped stream does not keep data");
        pool.check().unwrap();
    }

    #[test]
    fn output_that_never_drains_faults_returns_events_and_does_not_hang() {
        let mut pool = pool();
        let mut card = Card::new(1);
        card.drains = false;
        card.fifo.push(0xFE); // the FIFO is full for good
        let mut engine = running_engine(&mut pool);
        for time in [0, 0, 10_000] {
            engine
                .put(note(&mut pool, time, &[0x90, 60, 100]), &mut pool)
                .unwrap();
        }
        let calls = run(&mut engine, &mut card, &mut pool, 0);
        assert!(calls <= 200, "bounded: {calls} calls");
        assert_eq!(engine.fault(), Some(RenderError::OutputStuck));
        assert_eq!(engine.stats().events_lost, 3);
        assert_eq!(
            engine.put(note(&mut pool, 0, &[0xF8]), &mut pool),
            Err(RenderError::OutputStuck)
        );
        pool.check().expect("every event back, none twice");
        engine.set_state(KSSTATE_STOP, card.now, &mut pool);
        assert_eq!(engine.fault(), None, "STOP clears the fault");
    }

    #[test]
    fn a_card_that_stops_draining_is_never_waited_on() {
        // A 16-byte FIFO that takes bytes but never sends them: by the sixth
        // of these spaced notes it is full while the estimate says it holds
        // the one byte just taken. A draining card would make room within a
        // wire byte; this one is not polled for it, so no call runs long
        // (the 100 µs a deep card's DPC keeps to), and it counts as stuck.
        let mut pool = pool();
        let mut card = Card::new(16);
        card.drains = false;
        let mut engine = running_engine(&mut pool);
        let mut chain = Chain::new();
        for i in 0..8 {
            chain.push_back(note(&mut pool, i * 100_000, &[0x90, 60, 100]));
        }
        engine.put(chain, &mut pool).unwrap();
        let (mut at, mut calls, mut longest) = (Some(0), 0, 0);
        while let Some(time) = at {
            calls += 1;
            assert!(calls < 2_000, "no end");
            card.advance(time);
            let start = card.now;
            at = engine.service(start, &mut card, &mut pool).wake_at;
            longest = longest.max(card.now - start);
        }
        assert!(longest <= 1_000, "a call of {longest} x 100 ns");
        assert_eq!(card.fifo.len(), 16, "the card took what it could");
        assert_eq!(engine.fault(), Some(RenderError::OutputStuck));
        let stats = engine.stats();
        assert_eq!(
            (stats.events_played, stats.events_lost),
            (5, 3),
            "{stats:?}"
        );
        pool.check().expect("every event back exactly once");
    }

    #[test]
    fn a_card_removed_while_streaming_faults_and_gives_everything_back() {
        let mut pool = pool();
        let mut card = Card::new(1);
        let mut engine = running_engine(&mut pool);
        let mut chain = Chain::new();
        for i in 0..10 {
            chain.push_back(note(&mut pool, i * 20_000, &[0x90, 60, 100]));
        }
        engine.put(chain, &mut pool).unwrap();
        let mut at = Some(0);
        let mut calls = 0;
        while let Some(time) = at {
            calls += 1;
            assert!(calls < 1_000, "no end");
            if time >= 50_000 {
                card.absent = true; // surprise removal
            }
            card.advance(time);
            at = engine.service(card.now, &mut card, &mut pool).wake_at;
        }
        assert_eq!(engine.fault(), Some(RenderError::OutputStuck));
        let stats = engine.stats();
        assert_eq!(stats.events_played + stats.events_lost, 10, "{stats:?}");
        assert!(stats.events_lost >= 7, "{stats:?}");
        pool.check().expect("every event back exactly once");
    }
}

/// Several streams on one card, as a property: whatever they send and whenever, the wire
/// reads back (as a MIDI receiver parses it, running status included) as each stream's
/// messages whole and in order, no sysex interrupted.
#[cfg(test)]
mod merge_properties {
    use std::vec;
    use std::vec::Vec;

    use dmus_sys::dmusic::DMUS_KEF;
    use dmus_sys::ks::{KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN};
    use mxf::Chain;
    use proptest::prelude::*;

    use super::tests::{Card, TestPool, pool, run_shared_engines};
    use super::{RenderConfig, RenderEngine};
    use crate::wire::SharedWire;

    /// What a stream sends: a note (its own channel), a note in running status (data bytes
    /// only, after one of its notes), or a sysex in pieces (data bytes of its own range).
    #[derive(Clone, Debug)]
    enum Sent {
        Note(u8),
        Running(u8),
        Sysex { len: usize, piece: usize },
    }

    fn sent() -> impl Strategy<Value = Sent> {
        prop_oneof![
            (0u8..100).prop_map(Sent::Note),
            (0u8..100).prop_map(Sent::Running),
            (1usize..30, 4usize..17).prop_map(|(len, piece)| Sent::Sysex { len, piece }),
        ]
    }

    /// The full messages a receiver should see from stream `s` sending `what`.
    fn expected(s: u8, what: &[(i64, Sent)]) -> Vec<Vec<u8>> {
        let mut noted = false;
        let mut out = Vec::new();
        for (_, sent) in what {
            match *sent {
                Sent::Note(key) => {
                    noted = true;
                    out.push(vec![0x90 | s, key, 1]);
                }
                Sent::Running(key) if noted => out.push(vec![0x90 | s, key, 1]),
                Sent::Running(_) => {}
                Sent::Sysex { len, .. } => {
                    noted = false;
                    out.push(sysex_bytes(s, len));
                }
            }
        }
        out
    }

    fn sysex_bytes(s: u8, len: usize) -> Vec<u8> {
        let data = (0..len).map(|i| s * 40 + u8::try_from(i % 40).unwrap());
        core::iter::once(0xF0)
            .chain(data)
            .chain(core::iter::once(0xF7))
            .collect()
    }

    /// The events stream `s` puts for `what` (a running-status note only after a note of
    /// its own, as a client that uses running status sends it).
    fn events(pool: &mut TestPool, s: u8, what: &[(i64, Sent)]) -> Chain {
        let mut chain = Chain::new();
        let mut noted = false;
        let complete = DMUS_KEF::EVENT_COMPLETE;
        for &(time, ref sent) in what {
            match *sent {
                Sent::Note(key) => {
                    noted = true;
                    let event = Chain::event(pool, time, 1, complete, &[0x90 | s, key, 1]);
                    chain.push_back(event.unwrap());
                }
                Sent::Running(key) if noted => {
                    let event = Chain::event(pool, time, 1, complete, &[key, 1]);
                    chain.push_back(event.unwrap());
                }
                Sent::Running(_) => {}
                Sent::Sysex { len, piece } => {
                    noted = false;
                    let bytes = sysex_bytes(s, len);
                    let pieces = bytes.chunks(piece).count();
                    for (index, part) in bytes.chunks(piece).enumerate() {
                        let flags = if index + 1 == pieces {
                            complete
                        } else {
                            DMUS_KEF::EVENT_INCOMPLETE
                        };
                        chain.push_back(Chain::event(pool, time, 1, flags, part).unwrap());
                    }
                }
            }
        }
        chain
    }

    /// The wire as a MIDI receiver parses it: channel messages (running status applied),
    /// sysex up to its F7 or the status byte that cuts it.
    fn received(wire: &[u8]) -> Vec<Vec<u8>> {
        let (mut out, mut current): (Vec<Vec<u8>>, Vec<u8>) = (Vec::new(), Vec::new());
        let (mut status, mut in_sysex) = (None, false);
        for &byte in wire {
            match byte {
                0x80..=0xF0 => {
                    if !current.is_empty() {
                        out.push(core::mem::take(&mut current));
                    }
                    in_sysex = byte == 0xF0;
                    status = (!in_sysex).then_some(byte);
                    current.push(byte);
                }
                0xF7 => {
                    current.push(byte);
                    out.push(core::mem::take(&mut current));
                    in_sysex = false;
                }
                _ if in_sysex => current.push(byte),
                _ => match status {
                    Some(status) => {
                        if current.len() >= 3 {
                            out.push(core::mem::take(&mut current));
                        }
                        if current.is_empty() {
                            current.push(status);
                        }
                        current.push(byte);
                    }
                    None => out.push(vec![byte]),
                },
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }

    /// Which stream a received message came from (its channel, or its sysex data range).
    fn owner(message: &[u8]) -> Option<u8> {
        match message {
            [0xF0, 0xF7] => None,
            [0xF0, first, ..] => Some(first / 40),
            [status, ..] if *status >= 0x80 => Some(status & 0x0F),
            _ => None,
        }
    }

    fn timed(max: usize) -> impl Strategy<Value = Vec<(i64, Sent)>> {
        proptest::collection::vec((0i64..4, sent()), 0..max).prop_map(|steps| {
            let mut time = 0;
            steps
                .into_iter()
                .map(|(step, sent)| {
                    time += step * 1_000;
                    (time, sent)
                })
                .collect()
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]

        #[test]
        fn streams_merge_whole_message_by_message(
            streams in proptest::collection::vec(timed(10), 2..4),
            depth in prop_oneof![Just(1usize), Just(16usize)],
            exact_timer in any::<bool>(),
        ) {
            let mut pool = pool();
            let mut card = Card::new(depth);
            let mut wire = SharedWire::new();
            let mut engines: Vec<RenderEngine> = streams
                .iter()
                .map(|_| {
                    let mut engine = RenderEngine::new(RenderConfig::DEFAULT);
                    for state in [KSSTATE_ACQUIRE, KSSTATE_PAUSE, KSSTATE_RUN] {
                        engine.set_state(state, 0, &mut pool);
                    }
                    if exact_timer {
                        engine.set_grain(0);
                    }
                    engine
                })
                .collect();
            for (s, (engine, what)) in engines.iter_mut().zip(&streams).enumerate() {
                let chain = events(&mut pool, u8::try_from(s).unwrap(), what);
                engine.put(chain, &mut pool).unwrap();
            }
            run_shared_engines(&mut engines, &mut card, &mut pool, &mut wire);
            card.advance(card.now + 1_000_000);
            let got = received(&card.bytes());
            let mut total = 0;
            for (s, what) in streams.iter().enumerate() {
                let s = u8::try_from(s).unwrap();
                let want = expected(s, what);
                total += want.len();
                let mine: Vec<Vec<u8>> =
                    got.iter().filter(|m| owner(m) == Some(s)).cloned().collect();
                prop_assert_eq!(mine, want, "stream {}", s);
            }
            prop_assert_eq!(got.len(), total, "nothing else on the wire: {:02x?}", got);
            prop_assert_eq!(card.overruns, 0);
            for engine in &engines {
                prop_assert_eq!(engine.stats().sysex_cut, 0);
            }
            pool.check().unwrap();
        }
    }
}
