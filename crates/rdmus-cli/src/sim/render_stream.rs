//! Playing a file through the driver's render pin the way an application
//! streams: the first IRPs are written while the pin is paused (as winmm's
//! `midiStreamOut` before `midiStreamRestart`), then the pin runs and further
//! IRPs are written as the clock reaches them, each once its presentation
//! time is less than a bounded queue-ahead window away. The driver's and the
//! port's queues therefore hold about that much music, never the whole file.

use dmus_sys::ks::{KSSTATE_PAUSE, KSSTATE_RUN, KSSTATE_STOP};
use wdm_sim::ms;
use wdm_sim::portcls::PinFormat as SimPinFormat;

use super::rig::{Rig, RigReport, SimConfig, SimError};
use crate::irp::{StreamPacket, is_pool_exhausted};
use crate::wire_log::WireByte;

/// The buffer format, and with it the pin.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RenderPin {
    /// The legacy MIDI pin, `KSMUSICFORMAT`.
    Legacy,
    /// The DirectMusic pin, `DMUS_EVENTHEADER`.
    DirectMusic,
}

impl RenderPin {
    const fn factory(self) -> u32 {
        match self {
            Self::Legacy => rdmus_driver::UART_PIN_LEGACY_RENDER,
            Self::DirectMusic => rdmus_driver::UART_PIN_DMUSIC_RENDER,
        }
    }

    pub(super) const fn format(self) -> SimPinFormat {
        match self {
            Self::Legacy => SimPinFormat::Midi,
            Self::DirectMusic => SimPinFormat::DirectMusic,
        }
    }
}

/// How a file is streamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StreamOptions {
    /// The pin.
    pub pin: RenderPin,
    /// How far ahead of the clock IRPs are written, 100 ns.
    pub queue_ahead: u64,
    /// The machine.
    pub sim: SimConfig,
}

/// How far ahead an application keeps IRPs queued by default: 1.5 s.
pub const DEFAULT_QUEUE_AHEAD: u64 = 15_000_000;

/// How often the clock stops to report progress while the machine is busy:
/// 100 ms. Over silence (nothing due in the machine before the next IRP) the
/// clock runs straight to the next write: play takes time in proportion to
/// events, not to the file's duration.
const STEP: u64 = 1_000_000;

/// How long the wire may trail the ideal one before the run gives up
/// waiting for more bytes: 2 s.
const DRAIN_GRACE: u64 = 20_000_000;

/// What one IRP write did, when it did not take everything.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WriteTrouble {
    /// Index of the IRP.
    pub irp: usize,
    /// Records the port took from it.
    pub records: usize,
    /// Records it held.
    pub expected: usize,
    /// Why the port stopped, in words.
    pub reason: String,
}

/// The outcome of streaming a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StreamRun {
    /// The wire, relative to the presentation time of the file's tick 0.
    pub wire: Vec<WireByte>,
    /// IRPs written.
    pub irps: usize,
    /// The most message bytes written but not yet on the wire, as the
    /// application saw it after each of its writes.
    pub deepest_queue: u64,
    /// IRPs the port did not take whole.
    pub write_troubles: Vec<WriteTrouble>,
    /// Times the application stopped the clock (to write, to report
    /// progress, to watch the wire drain): bounded by the events and the
    /// busy time, not by the file's duration.
    pub clock_stops: u64,
    /// IRPs written again with the rest of one the port took part of (its
    /// pool ran dry).
    pub irps_resent: usize,
    /// Events the driver's render stream gave back unplayed (its
    /// `RUNNINGSTATS` `LostNotes`, read after STOP).
    pub driver_lost_events: u32,
    /// The machine's report (findings, DPC and ISR durations).
    pub rig: RigReport,
}

/// Streams `packets` (in presentation order, from one timeline whose ideal
/// wire ends at `wire_end` and which has `total_bytes` bytes) through the
/// driver. `progress` hears the presentation time reached, 100 ns.
///
/// # Errors
/// [`SimError`] when the driver cannot be started or the pin opened or run.
/// Verifier findings are in the report, not an error.
pub fn stream(
    packets: &[StreamPacket],
    wire_end: u64,
    total_bytes: u64,
    options: &StreamOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<StreamRun, SimError> {
    let rig = Rig::start(&options.sim)?;
    let pin = rig.open_pin(options.pin.factory(), options.pin.format())?;
    let state = |state| {
        pin.set_state(state)
            .map_err(|error| SimError::State(format!("{error:?}")))
    };
    state(KSSTATE_PAUSE)?;
    let mut writer = Writer::new(packets);
    // Prefill while paused: presentation time stands at 0.
    writer.write_due(&pin, options.queue_ahead, Some(0));
    // The pin's presentation clock starts when the port takes the RUN
    // step, before the stream hears of it (and before the stream's SetState
    // spends any time): tick 0's presentation time is the master time now.
    let run_start = rig.now();
    state(KSSTATE_RUN)?;
    let until_pt = |t: u64| run_start + t;
    let mut clock_stops = 0_u64;
    // Stream: stop the clock when the next IRP enters the window, and every
    // STEP while the machine has something to do before then.
    while writer.pending() {
        let now_pt = rig.now() - run_start;
        let sent = rig.machine().mpu401_stats().map_or(0, |s| s.bytes_sent);
        writer.write_due(&pin, now_pt.saturating_add(options.queue_ahead), Some(sent));
        progress(now_pt);
        let next_write = writer
            .next_time()
            .map_or(u64::MAX, |t| t.saturating_sub(options.queue_ahead));
        let target = until_next_write(rig.machine(), run_start, now_pt, next_write);
        rig.machine().run_until(until_pt(target));
        clock_stops += 1;
    }
    // Drain: until every byte has been carried, or the wire has been idle
    // past the ideal wire's end, or it trails the ideal end by DRAIN_GRACE.
    let mut last_sent = u64::MAX;
    loop {
        let at = rig.now() - run_start;
        let sent = rig.machine().mpu401_stats().map_or(0, |s| s.bytes_sent);
        let stuck = sent == last_sent && at > wire_end + ms(100);
        if sent >= total_bytes || stuck || at > wire_end + DRAIN_GRACE {
            break;
        }
        last_sent = sent;
        progress(at);
        let target = if at < wire_end {
            wire_end.min(at + STEP)
        } else {
            at + STEP
        };
        rig.machine().run_until(until_pt(target));
        clock_stops += 1;
    }
    // Let the last byte leave the card and the last DPCs run.
    rig.machine().run_for(ms(10));
    state(KSSTATE_STOP)?;
    // After STOP: the events the stream gave back then count too.
    let driver_lost_events = super::running_stats::lost_events(&pin)?;
    pin.close();
    let report = rig.finish();
    let start = i64::try_from(run_start).unwrap_or(i64::MAX);
    let wire = report
        .wire
        .iter()
        .map(|&(time, byte)| WireByte {
            time: i64::try_from(time).unwrap_or(i64::MAX) - start,
            byte,
        })
        .collect();
    Ok(StreamRun {
        wire,
        irps: writer.next,
        deepest_queue: writer.deepest_queue,
        write_troubles: writer.troubles,
        clock_stops,
        irps_resent: writer.resent,
        driver_lost_events,
        rig: report,
    })
}

/// Where the application next stops the clock (presentation time, 100 ns),
/// at `now_pt` with its next write due at `next_write`: the write itself when
/// the machine has nothing due before it (no timer armed, no DPC, interrupt
/// or device event: running there passes nothing by, since
/// [`wdm_sim::Machine::run_until`] goes event by event anyway), else at most
/// one [`STEP`] on, for progress; one [`STEP`] on as well while the
/// application has no write it can make (`next_write` is `u64::MAX`: it waits
/// for completions, or for a stuck card's patience to run out). Always later
/// than `now_pt`.
fn until_next_write(
    machine: &wdm_sim::Machine,
    run_start: u64,
    now_pt: u64,
    next_write: u64,
) -> u64 {
    let idle = next_write != u64::MAX
        && machine
            .next_due()
            .is_none_or(|t| t.saturating_sub(run_start) >= next_write);
    let target = if idle {
        next_write
    } else {
        next_write.min(now_pt.saturating_add(STEP))
    };
    target.max(now_pt + 1)
}

/// How long the client keeps writing the rest of an IRP the port took
/// nothing of (its pool still dry) before it gives up on it: 5 s.
const RESEND_PATIENCE: u64 = 50_000_000;

/// The most message bytes a client streaming to a wire keeps written but
/// not yet carried (its IRPs not yet complete) before it waits for
/// completions: about 2.6 s of wire, more than the default queue-ahead
/// window ever holds of music the wire can carry, less than the port's
/// pool takes (wdm-sim's 64 data buffers of 256 bytes); only a file
/// asking for more than the wire can carry (a long sysex) waits, and only
/// while the wire moves: after [`RESEND_PATIENCE`] without a byte carried
/// (a stuck card) the client writes on, and what is refused is counted.
const IN_FLIGHT_LIMIT: u64 = 8_192;

/// The rest of an IRP the port took only part of, to be written again.
struct Resend {
    packet: StreamPacket,
    /// Index of the IRP it came from.
    irp: usize,
    /// The horizon when the port last took nothing of it.
    stalled_since: u64,
}

/// The application's side: which IRP goes next (shared by the MPU-401 and
/// the synth streams). When the port's pool runs dry in the middle of an IRP,
/// the rest is written again on later calls, in order, before any later IRP
/// (see `crate::irp::StreamPacket::rest_after`).
pub(super) struct Writer<'a> {
    packets: &'a [StreamPacket],
    pub(super) next: usize,
    pub(super) troubles: Vec<WriteTrouble>,
    written_bytes: u64,
    pub(super) deepest_queue: u64,
    resend: Option<Resend>,
    /// The last call stopped at [`IN_FLIGHT_LIMIT`].
    waiting: bool,
    /// The wire's byte count last seen, and the horizon when it last moved.
    wire_moved: (u64, u64),
    /// IRPs written again with the rest of one the port took part of.
    pub(super) resent: usize,
}

impl<'a> Writer<'a> {
    /// Nothing written yet.
    pub(super) const fn new(packets: &'a [StreamPacket]) -> Self {
        Self {
            packets,
            next: 0,
            troubles: Vec::new(),
            written_bytes: 0,
            deepest_queue: 0,
            resend: None,
            waiting: false,
            wire_moved: (0, 0),
            resent: 0,
        }
    }

    /// The presentation time of the next IRP to write, `None` when none is
    /// left or the writer waits (the rest of one to write again, or
    /// completions): the next call tries again.
    pub(super) fn next_time(&self) -> Option<u64> {
        if self.resend.is_some() || self.waiting {
            return None;
        }
        self.packets
            .get(self.next)
            .map(|p| u64::try_from(p.presentation_time).unwrap_or(0))
    }

    /// True while something is left to write.
    pub(super) fn pending(&self) -> bool {
        self.resend.is_some() || self.next < self.packets.len()
    }

    /// Writes the rest of a part-taken IRP, then every IRP whose presentation
    /// time is at most `horizon`; `bytes_sent` (what the wire carried so far,
    /// `None` without a wire) estimates the queue depth, and the writer waits
    /// while more than [`IN_FLIGHT_LIMIT`] bytes are queued.
    pub(super) fn write_due(
        &mut self,
        pin: &wdm_sim::portcls::Pin,
        horizon: u64,
        bytes_sent: Option<u64>,
    ) {
        self.waiting = false;
        let sent = bytes_sent.unwrap_or(0);
        if sent != self.wire_moved.0 {
            self.wire_moved = (sent, horizon);
        }
        let wire_stuck = horizon.saturating_sub(self.wire_moved.1) > RESEND_PATIENCE;
        if let Some(resend) = self.resend.take() {
            self.resent += 1;
            self.write_one(
                pin,
                resend.irp,
                &resend.packet,
                horizon,
                Some(resend.stalled_since),
            );
        }
        while self.resend.is_none() {
            let Some(packet) = self.packets.get(self.next) else {
                break;
            };
            if self.next_time().is_some_and(|t| t > horizon) {
                break;
            }
            let queued = self.written_bytes.saturating_sub(sent);
            if bytes_sent.is_some()
                && !wire_stuck
                && queued > 0
                && queued.saturating_add(packet.message_bytes) > IN_FLIGHT_LIMIT
            {
                self.waiting = true;
                break;
            }
            let irp = self.next;
            self.next += 1;
            self.write_one(pin, irp, packet, horizon, None);
        }
        let queued = self.written_bytes.saturating_sub(sent);
        self.deepest_queue = self.deepest_queue.max(queued);
    }

    /// Gives up on the rest of an IRP still waiting to be written again (the
    /// run is over): it becomes a trouble.
    pub(super) fn give_up(&mut self) {
        if let Some(resend) = self.resend.take() {
            self.troubles.push(WriteTrouble {
                irp: resend.irp,
                records: 0,
                expected: resend.packet.records,
                reason: "the run ended before the port took the rest".into(),
            });
        }
    }

    /// Writes IRP `irp` (or the rest of it); keeps what the port could not
    /// take for lack of pool to write again, unless it has taken nothing for
    /// [`RESEND_PATIENCE`] since `stalled_since`.
    fn write_one(
        &mut self,
        pin: &wdm_sim::portcls::Pin,
        irp: usize,
        packet: &StreamPacket,
        horizon: u64,
        stalled_since: Option<u64>,
    ) {
        let report = match pin.write(packet.presentation_time, &packet.data) {
            Ok(report) => report,
            Err(error) => {
                self.troubles.push(WriteTrouble {
                    irp,
                    records: 0,
                    expected: packet.records,
                    reason: format!("{error:?}"),
                });
                return;
            }
        };
        if report.records < packet.records && is_pool_exhausted(report.error) {
            let since = match stalled_since {
                Some(since) if report.records == 0 => since,
                _ => horizon,
            };
            if let Some(rest) = packet
                .rest_after(report.records)
                .filter(|_| horizon.saturating_sub(since) <= RESEND_PATIENCE)
            {
                self.written_bytes += packet.message_bytes.saturating_sub(rest.message_bytes);
                self.resend = Some(Resend {
                    packet: rest,
                    irp,
                    stalled_since: since,
                });
                return;
            }
        }
        if report.records != packet.records || report.error.is_some() {
            self.troubles.push(WriteTrouble {
                irp,
                records: report.records,
                expected: packet.records,
                reason: report
                    .error
                    .map_or_else(|| "records missing".into(), |e| e.to_string()),
            });
        }
        self.written_bytes += packet.message_bytes;
    }
}
