//! The play report of `rdmus play --device mpu401` and `bench-wire`: a file
//! streamed through the driver's MPU-401 miniport in the simulation, and what
//! the wire log shows against the ideal one.

use core::fmt;

use crate::cli::PinFormat;
use crate::irp::round_to_ms;
use crate::irp::{
    DEFAULT_CHANNEL_GROUP, IrpError, StreamPacket, build_dmus_within, build_ksmusic_within,
};
use crate::loss::{Losses, Troubles};
use crate::sim::{
    RenderPin, SimConfig, SimError, StreamOptions, StreamRun, WriteTrouble, stream,
    with_teardown_findings,
};
use crate::wire_log::{
    BYTE_TIME_100NS, BurstRate, Lateness, Margins, WireByte, burst_rate, compare, ideal_wire,
    margins,
};
use smf::{MessageKind, Timeline};

/// How a file is played.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlayOptions {
    /// The pin and its buffer format.
    pub format: PinFormat,
    /// Bytes per IRP buffer.
    pub irp_size: u32,
    /// The most music one IRP covers, 100 ns (its last message at most this
    /// long after its first).
    pub irp_span: u64,
    /// How far ahead of the clock IRPs are written, 100 ns.
    pub queue_ahead: u64,
    /// The machine.
    pub sim: SimConfig,
}

/// Why a file could not be played.
#[derive(Debug)]
pub enum PlayError {
    /// The timeline does not fit IRPs of the chosen size.
    Irp(IrpError),
    /// The simulated device failed.
    Sim(SimError),
}

impl fmt::Display for PlayError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Irp(error) => write!(f, "{error}"),
            Self::Sim(error) => write!(f, "{error}"),
        }
    }
}

impl std::error::Error for PlayError {}

/// What playing a file showed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlayReport {
    /// How it was played.
    pub options: PlayOptions,
    /// Messages in the file.
    pub events: usize,
    /// Of those, channel messages.
    pub channel_events: usize,
    /// Message bytes.
    pub bytes: usize,
    /// IRPs written.
    pub irps: usize,
    /// Whether the wire carried exactly the file's bytes, in order.
    pub exact: bool,
    /// The observed wire against the ideal wire, message by message.
    pub lateness: Lateness,
    /// First-byte start against the presentation time the pin was given
    /// (`None` when the wire is not exact).
    pub margins: Option<Margins>,
    /// Throughput through the ideal wire's bursts (`None` without bursts or
    /// when the wire is not exact).
    pub bursts: Option<BurstRate>,
    /// The longest DPC or timer callback, 100 ns.
    pub longest_dpc: u64,
    /// DPCs and timer callbacks run.
    pub dpcs: u64,
    /// The longest ISR, 100 ns.
    pub longest_isr: u64,
    /// Bytes written to the card while its output was not ready (lost).
    pub overruns: u64,
    /// The most message bytes written but not yet on the wire.
    pub deepest_queue: u64,
    /// IRPs the port did not take whole.
    pub write_troubles: Vec<WriteTrouble>,
    /// IRPs written again with the rest of one the port took part of.
    pub irps_resent: usize,
    /// What the file asked for that did not happen.
    pub losses: Losses,
    /// Verifier findings, in words.
    pub findings: Vec<String>,
    /// The observed wire, relative to the presentation time of tick 0.
    pub wire: Vec<WireByte>,
}

impl PlayReport {
    /// Events that did not reach the wire.
    #[must_use]
    pub const fn dropped(&self) -> usize {
        self.lateness.missing_messages
    }
}

/// How much music one IRP covers by default: 100 ms (an application writes
/// what falls due in each slice of time, as DirectMusic's performance does).
pub const DEFAULT_IRP_SPAN: u64 = 1_000_000;

/// The IRPs `timeline` is sent in: buffers of `irp_size` bytes, each
/// covering at most `irp_span` (100 ns).
///
/// # Errors
/// [`IrpError`] when it does not fit buffers of `irp_size` bytes.
pub fn packets(
    timeline: &Timeline,
    format: PinFormat,
    irp_size: u32,
    irp_span: u64,
) -> Result<Vec<StreamPacket>, IrpError> {
    match format {
        PinFormat::Ksmusic => build_ksmusic_within(timeline, irp_size, irp_span),
        PinFormat::Dmus => build_dmus_within(timeline, irp_size, DEFAULT_CHANNEL_GROUP, irp_span),
    }
}

/// Plays `timeline` through the driver; `progress` hears the presentation
/// time reached (100 ns).
///
/// # Errors
/// [`PlayError`]. Verifier findings are in the report, not an error.
pub fn play(
    timeline: &Timeline,
    options: &PlayOptions,
    progress: &mut dyn FnMut(u64),
) -> Result<PlayReport, PlayError> {
    let packets = packets(timeline, options.format, options.irp_size, options.irp_span)
        .map_err(PlayError::Irp)?;
    let ideal = ideal_wire(timeline);
    let wire_end = ideal
        .last()
        .map_or(0, |b| b.time.saturating_add(BYTE_TIME_100NS));
    let pin = match options.format {
        PinFormat::Ksmusic => RenderPin::Legacy,
        PinFormat::Dmus => RenderPin::DirectMusic,
    };
    let run = stream(
        &packets,
        u64::try_from(wire_end).unwrap_or(0),
        u64::try_from(timeline.byte_count()).unwrap_or(u64::MAX),
        &StreamOptions {
            pin,
            queue_ahead: options.queue_ahead,
            sim: options.sim,
        },
        progress,
    )
    .map_err(|error| PlayError::Sim(with_teardown_findings(error)))?;
    let exact =
        run.wire.len() == ideal.len() && run.wire.iter().zip(&ideal).all(|(a, b)| a.byte == b.byte);
    let lateness = compare(&ideal, &run.wire);
    let losses = mpu401_losses(&lateness, &run);
    let presented = |time: u64| match options.format {
        PinFormat::Ksmusic => round_to_ms(time) * 10_000,
        PinFormat::Dmus => time,
    };
    Ok(PlayReport {
        options: *options,
        events: timeline.messages.len(),
        channel_events: timeline
            .messages
            .iter()
            .filter(|m| m.kind == MessageKind::Channel)
            .count(),
        bytes: timeline.byte_count(),
        irps: run.irps,
        exact,
        lateness,
        margins: margins(timeline, &run.wire, presented),
        bursts: burst_rate(&ideal, &run.wire),
        longest_dpc: run.rig.longest_dpc,
        dpcs: run.rig.dpcs,
        longest_isr: run.rig.longest_isr,
        overruns: run.rig.overruns,
        deepest_queue: run.deepest_queue,
        write_troubles: run.write_troubles,
        irps_resent: run.irps_resent,
        losses,
        findings: run.rig.findings,
        wire: run.wire,
    })
}

/// What did not happen of what the file asked for: IRPs the port refused
/// (its write reports), the file's messages missing from the card's wire log
/// or on it out of order, bytes the wire carried that the file did not ask
/// for, bytes the driver wrote while the card was not ready.
fn mpu401_losses(lateness: &Lateness, run: &StreamRun) -> Losses {
    let count = |n: usize| u64::try_from(n).unwrap_or(u64::MAX);
    let mut losses = Losses::new();
    losses.add_troubles(&run.write_troubles);
    losses.add(
        count(lateness.missing_messages),
        format!(
            "of the file's messages not on the wire ({} bytes not sent)",
            lateness.missing_bytes
        ),
    );
    losses.add(
        count(lateness.reordered),
        "messages on the wire out of order",
    );
    losses.add(
        count(lateness.extra_bytes),
        "bytes on the wire the file did not ask for",
    );
    losses.add(
        u64::from(run.driver_lost_events),
        "events the driver gave back unplayed (RUNNINGSTATS LostNotes of the render stream)",
    );
    losses.add(
        run.rig.overruns,
        "bytes written while the card's output was not ready (lost at the card)",
    );
    losses.add(
        timer_fallbacks(&run.rig.debug_log),
        "render streams on the clock-interval timer (the driver's trace: no high-resolution timer)",
    );
    losses
}

/// Streams that fell back to the clock-interval timer: the lines the driver
/// printed for it ([`rdmus_driver::TIMER_FALLBACK_TRACE`]).
#[must_use]
pub fn timer_fallbacks(debug_log: &[String]) -> u64 {
    let count = debug_log
        .iter()
        .filter(|line| line.contains(rdmus_driver::TIMER_FALLBACK_TRACE))
        .count();
    u64::try_from(count).unwrap_or(u64::MAX)
}

/// 100 ns units as µs with one decimal.
pub(crate) struct Micros(pub i64);

impl fmt::Display for Micros {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sign = if self.0 < 0 { "-" } else { "" };
        let abs = self.0.unsigned_abs();
        write!(f, "{sign}{}.{} us", abs / 10, abs % 10)
    }
}

/// The wire's full speed, bytes/s.
pub const WIRE_BYTES_PER_SECOND: u32 = 3_125;

/// `part` as a percentage of the wire's full speed, one decimal.
pub(crate) struct OfWire(pub u32);

impl fmt::Display for OfWire {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let permille = u64::from(self.0) * 1_000 / u64::from(WIRE_BYTES_PER_SECOND);
        write!(f, "{}.{}%", permille / 10, permille % 10)
    }
}

impl fmt::Display for PlayReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let format = self.options.format.description();
        let sim = &self.options.sim;
        writeln!(
            f,
            "device:      mpu401, {format}, IRPs of up to {} bytes and {} ms, queued {} ms ahead",
            self.options.irp_size,
            self.options.irp_span / 10_000,
            self.options.queue_ahead / 10_000
        )?;
        writeln!(
            f,
            "machine:     {} us high-resolution timers, {}-byte MPU-401 FIFO, DPC bound {} us",
            sim.timer_res_us, sim.mpu_fifo, sim.dpc_bound_us
        )?;
        writeln!(
            f,
            "events:      {} ({} channel, {} sysex/escape), {} bytes, {} IRPs, at most {} bytes queued",
            self.events,
            self.channel_events,
            self.events - self.channel_events,
            self.bytes,
            self.irps,
            self.deepest_queue
        )?;
        if self.exact {
            writeln!(
                f,
                "wire:        {} bytes, exactly the file's messages in order",
                self.wire.len()
            )?;
            match self.lateness.lateness {
                Some(p) => writeln!(
                    f,
                    "lateness:    p50 {}, p99 {}, max {} against the ideal wire",
                    Micros(p.p50),
                    Micros(p.p99),
                    Micros(p.max)
                )?,
                None => writeln!(f, "lateness:    no message to measure")?,
            }
        } else {
            let l = &self.lateness;
            writeln!(
                f,
                "wire:        {} bytes, NOT the file's messages: {} of {} matched, {} missing ({} bytes), {} extra ({} bytes), {} out of order",
                self.wire.len(),
                l.matched,
                l.ideal_messages,
                l.missing_messages,
                l.missing_bytes,
                l.extra_messages,
                l.extra_bytes,
                l.reordered
            )?;
            writeln!(
                f,
                "lateness:    not measured (the wire is not the file's messages)"
            )?;
        }
        writeln!(
            f,
            "dropped:     {} events ({} bytes), {} bytes overrun at the card",
            self.dropped(),
            self.lateness.missing_bytes,
            self.overruns
        )?;
        self.fmt_timing(f)?;
        writeln!(
            f,
            "longest DPC: {} ({} DPCs and timer callbacks); longest ISR {}",
            Micros(i64::try_from(self.longest_dpc).unwrap_or(i64::MAX)),
            self.dpcs,
            Micros(i64::try_from(self.longest_isr).unwrap_or(i64::MAX))
        )?;
        if self.irps_resent > 0 {
            writeln!(
                f,
                "resent:      {} IRPs with the records a port with a dry pool had not taken",
                self.irps_resent
            )?;
        }
        write!(f, "{}", Troubles(&self.write_troubles))?;
        write!(f, "{}", self.losses)?;
        for finding in &self.findings {
            writeln!(f, "finding:     {finding}")?;
        }
        Ok(())
    }
}

impl PlayReport {
    /// The early and bursts lines.
    fn fmt_timing(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt_timing(f, self.margins, self.bursts)
    }
}

/// The early and bursts lines of a wire measured against the file (both runtimes' summaries).
pub(crate) fn fmt_timing(
    f: &mut fmt::Formatter<'_>,
    margins: Option<Margins>,
    bursts: Option<BurstRate>,
) -> fmt::Result {
    match margins {
        Some(m) if m.early == 0 => writeln!(
            f,
            "early:       none (closest first byte {} after its presentation time)",
            Micros(m.least)
        )?,
        Some(m) => writeln!(
            f,
            "early:       {} events started before their presentation time (worst {})",
            m.early,
            Micros(m.least)
        )?,
        None => writeln!(f, "early:       not measured (the wire is not exact)")?,
    }
    match bursts {
        Some(b) => writeln!(
            f,
            "bursts:      {} bursts, {} bytes: {} bytes/s overall ({}), slowest {} bytes/s ({})",
            b.bursts,
            b.bytes,
            b.overall,
            OfWire(b.overall),
            b.worst,
            OfWire(b.worst)
        )?,
        None => writeln!(f, "bursts:      none measured")?,
    }
    Ok(())
}
