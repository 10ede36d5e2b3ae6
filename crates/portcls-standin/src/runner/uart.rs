//! The MPU-401 job: the render stream (either pin format) and the capture stream with the
//! port's capture sink, run by the clock loop that raises the card's interrupt.

use alloc::string::String;
use core::fmt::Write;

use com_object::{ComObject, ComRef};
use dmus_sys::dmus_com::IMXF;
use dmus_sys::dmusic::{
    DMUS_STREAM_MIDI_CAPTURE, DMUS_STREAM_MIDI_RENDER, DONT_HOLD_FOR_SEQUENCING,
};
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPSETID_Synth, SYNTH_STATS, SYNTH_STATS_LOST_NOTES,
};
use dmus_sys::ks::KSPROPERTY_TYPE_GET;
use dmus_sys::ks_guids::{KSDATAFORMAT_SUBTYPE_DIRECTMUSIC, KSDATAFORMAT_SUBTYPE_MIDI};
use mpu401::WIRE_BYTE_100NS;

use crate::card::EmulatedCard;
use crate::job::{Job, RenderFormat};
use crate::objects::allocator::Allocator;
use crate::objects::capture_sink::{CaptureSink, Record};
use crate::objects::clock::{self, Clock};
use crate::objects::port::{Bound, Port};
use crate::objects::{interrupt, service};
use crate::property::node_property;
use crate::{files, veh};

use super::stream::{DOWN, Delivery, PinFormat, PinSpec, Stream, UP, free_formats};
use super::wire_out::WireOut;
use super::{
    CAPTURE_PATH, CAPTURE_PIN, DMUSIC_RENDER_PIN, LEGACY_RENDER_PIN, Log, MIN_LEAD_100NS,
    START_LEAD_100NS, STATS_PATH, TICK_100NS, sleep,
};

pub(super) fn play(
    log: &mut Log,
    port: &ComObject<Port>,
    job: &Job,
    wire_out: &mut WireOut,
) -> Result<(), &'static str> {
    let bound = port.bound().ok_or("port not initialised")?;
    let allocator = port.allocator().ok_or("no allocator")?;
    let clock = port.clock().ok_or("no clock")?;
    let result = play_streams(log, &bound, &allocator, &clock, job, wire_out);
    free_formats();
    let pool_stats = allocator.stats();
    log.line(format_args!(
        "allocator after the streams closed: {} events and {} buffers out (high water {} events)",
        pool_stats.events_in_use, pool_stats.buffers_in_use, pool_stats.events_high_water
    ));
    result?;
    if pool_stats.events_in_use + pool_stats.buffers_in_use > 0 {
        return Err("events not returned to the allocator");
    }
    Ok(())
}

pub(super) fn play_streams(
    log: &mut Log,
    bound: &Bound,
    allocator: &ComRef<Allocator>,
    clock: &ComRef<Clock>,
    job: &Job,
    wire_out: &mut WireOut,
) -> Result<(), &'static str> {
    let (render_pin, render_subformat) = match job.format {
        RenderFormat::Midi => (LEGACY_RENDER_PIN, KSDATAFORMAT_SUBTYPE_MIDI),
        RenderFormat::DirectMusic => (DMUSIC_RENDER_PIN, KSDATAFORMAT_SUBTYPE_DIRECTMUSIC),
    };
    let render = if job.counts.events == 0 {
        None
    } else {
        Some(
            Stream::open(
                log,
                "render",
                bound,
                PinSpec {
                    pin: render_pin,
                    format: PinFormat::Music(render_subformat),
                    stream_type: DMUS_STREAM_MIDI_RENDER,
                },
                allocator,
                clock,
            )
            .ok_or("render NewStream failed")?,
        )
    };
    let capture = if job.input.is_empty() {
        None
    } else {
        let Some(stream) = Stream::open(
            log,
            "capture",
            bound,
            PinSpec {
                pin: CAPTURE_PIN,
                format: PinFormat::Music(KSDATAFORMAT_SUBTYPE_MIDI),
                stream_type: DMUS_STREAM_MIDI_CAPTURE,
            },
            allocator,
            clock,
        ) else {
            if let Some(render) = render {
                render.close();
            }
            return Err("capture NewStream failed");
        };
        let sink = CaptureSink::try_new(allocator.to_ref(), job.input.len(), job.input.len())
            .map_err(|_| "no memory for the capture sink")?;
        let sink_mxf = sink.as_interface::<IMXF>().as_ptr();
        // SAFETY: the live capture stream; a plain vtable read.
        let vtable = unsafe { com_object::vtable::<IMXF>(stream.mxf) };
        // SAFETY: ConnectOutput with our live sink (the stream takes its own reference).
        let status = unsafe { (vtable.ConnectOutput)(stream.mxf, sink_mxf) };
        if !log.status_of("capture", "ConnectOutput", status) {
            stream.close();
            if let Some(render) = render {
                render.close();
            }
            return Err("capture ConnectOutput failed");
        }
        Some((stream, sink))
    };
    let mut ok = render.as_ref().is_none_or(|stream| stream.walk(log, &UP))
        && capture
            .as_ref()
            .is_none_or(|(stream, _)| stream.walk(log, &UP));
    let origin = clock::now() + START_LEAD_100NS;
    if let Some(card) = veh::CARD.lock().as_mut() {
        card.set_origin(origin);
    }
    log.line(format_args!(
        "RUN; presentation time 0 is master time {origin}"
    ));
    if ok {
        ok = run_loop(log, render.as_ref(), allocator, origin, job, wire_out);
    }
    let stopped = render.as_ref().is_none_or(|stream| stream.walk(log, &DOWN))
        && capture
            .as_ref()
            .is_none_or(|(stream, _)| stream.walk(log, &DOWN));
    service::run_pending(clock::now());
    let mut counted = true;
    if let Some(render) = render {
        // After STOP, as `rdmus play` reads it: the events the stream gave back then count.
        counted = render_lost_events(log, bound, &render);
        render.close();
    }
    if let Some((stream, sink)) = capture {
        close_capture(log, stream, &sink, origin);
    }
    if !counted {
        return Err("RUNNINGSTATS of the render stream failed");
    }
    if ok && stopped {
        Ok(())
    } else {
        Err("a state change failed")
    }
}

/// Disconnects and releases the capture stream and writes what its sink got.
fn close_capture(log: &mut Log, stream: Stream, sink: &ComObject<CaptureSink>, origin: i64) {
    // SAFETY: the live capture stream; a plain vtable read.
    let vtable = unsafe { com_object::vtable::<IMXF>(stream.mxf) };
    let sink_mxf = sink.as_interface::<IMXF>().as_ptr();
    // SAFETY: DisconnectOutput of the sink ConnectOutput connected. PASSIVE_LEVEL.
    let status = unsafe { (vtable.DisconnectOutput)(stream.mxf, sink_mxf) };
    log.status_of("capture", "DisconnectOutput", status);
    stream.close();
    let record = sink.take();
    log.line(format_args!(
        "capture: {} events ({} bytes), {} dropped",
        record.events.len(),
        record.bytes.len(),
        record.dropped
    ));
    let _ = files::write(CAPTURE_PATH, capture_tsv(&record, origin).as_bytes());
}

/// The MPU-401 filter's synth node (rdmus's MPU-401 `NODE_SYNTH_OUT`), whose
/// `KSPROPERTY_SYNTH_RUNNINGSTATS` a render stream answers.
const UART_NODE_SYNTH_OUT: u32 = 0;

/// Reads the render stream's `KSPROPERTY_SYNTH_RUNNINGSTATS` as DirectMusic's
/// `GetRunningStats` does (a node property through the pin) and writes its `LostNotes`, the
/// events the driver gave back unplayed, as `stats.txt` (`lost_events<TAB>N`). False when the
/// request failed or did not mark `LostNotes` valid.
fn render_lost_events(log: &mut Log, bound: &Bound, render: &Stream) -> bool {
    let mut value = [0_u8; core::mem::size_of::<SYNTH_STATS>()];
    // SAFETY: the bound port's miniport and descriptor, and the live render stream.
    // PASSIVE_LEVEL.
    let result = unsafe {
        node_property(
            bound.miniport.cast(),
            bound.descriptor,
            render.mxf.cast(),
            UART_NODE_SYNTH_OUT,
            &KSPROPSETID_Synth,
            KSPROPERTY_SYNTH_RUNNINGSTATS,
            KSPROPERTY_TYPE_GET,
            &mut value,
        )
    };
    let field = |at: usize| {
        value
            .get(at..at + 4)
            .and_then(|bytes| bytes.try_into().ok())
            .map_or(0, u32::from_ne_bytes)
    };
    if !log.status_of("render", "RUNNINGSTATS", result.status)
        || field(core::mem::offset_of!(SYNTH_STATS, ValidStats)) & SYNTH_STATS_LOST_NOTES == 0
    {
        return false;
    }
    let lost = field(core::mem::offset_of!(SYNTH_STATS, LostNotes));
    let mut text = String::new();
    let _ = writeln!(text, "lost_events\t{lost}");
    files::write(STATS_PATH, text.as_bytes()).is_ok()
}

/// The captured messages as `time_us<TAB>bytes` lines (as `rdmus record` writes them): an
/// event flagged incomplete (a sysex split across interrupts) is joined with the events that
/// continue it; a message's time is its first event's, in the input's frame (master time −
/// presentation 0 − one byte time, since the card stamps a byte when its stop bit is in).
pub(super) fn capture_tsv(record: &Record, origin: i64) -> String {
    let mut text = String::from("time_us\tmessage\n");
    let mut continuing = false;
    for event in &record.events {
        if !continuing {
            let time = event.time - origin - WIRE_BYTE_100NS;
            let sign = if time < 0 { "-" } else { "" };
            let abs = time.unsigned_abs();
            let _ = write!(text, "{sign}{}.{}\t", abs / 10, abs % 10);
        }
        let bytes = record
            .bytes
            .get(event.start..event.start + event.len)
            .unwrap_or(&[]);
        for (index, byte) in bytes.iter().enumerate() {
            let separator = if index == 0 && !continuing { "" } else { " " };
            let _ = write!(text, "{separator}{byte:02x}");
        }
        continuing = event.incomplete;
        if !continuing {
            text.push('\n');
        }
    }
    if continuing {
        text.push('\n');
    }
    text
}

/// The job's clock loop: raises the card's interrupt when input is due, runs service
/// requests, hands render events to the stream `lead` ahead of their time; until everything
/// is delivered and the tail has passed (bounded: a minute past the end at most).
pub(super) fn run_loop(
    log: &mut Log,
    render: Option<&Stream>,
    allocator: &ComRef<Allocator>,
    origin: i64,
    job: &Job,
    wire_out: &mut WireOut,
) -> bool {
    let lead = match render {
        Some(stream) if stream.prefetch != DONT_HOLD_FOR_SEQUENCING => {
            i64::try_from(stream.prefetch)
                .unwrap_or(i64::MAX)
                .max(MIN_LEAD_100NS)
        }
        _ => i64::MAX,
    };
    let tail = i64::from(job.tail_ms) * TICK_100NS;
    let end = origin + job.last_time() + WIRE_BYTE_100NS + tail;
    let mut deliver = Delivery::new(origin, lead);
    let mut next_progress = origin;
    let ok = loop {
        let now = clock::now();
        if now >= next_progress {
            log.line(format_args!(
                "t = {} ms: {} events delivered",
                (now - origin) / TICK_100NS,
                deliver.next
            ));
            next_progress = now + 10_000_000;
        }
        let input = veh::CARD
            .lock()
            .as_mut()
            .is_some_and(|card| card.input_due(now));
        if input {
            let _ = interrupt::raise();
        }
        service::run_pending(now);
        if let Some(stream) = render {
            deliver.due(log, stream, allocator, now);
        }
        wire_out.drain();
        let pending = veh::CARD
            .lock()
            .as_ref()
            .map_or(0, EmulatedCard::input_pending);
        if (render.is_none() || deliver.finished()) && pending == 0 && now >= end {
            break true;
        }
        if now >= end + 600_000_000 {
            log.line(format_args!("the job ran a minute past its end: stopped"));
            break false;
        }
        sleep(TICK_100NS);
    };
    let delivered = render.is_none() || deliver.report(log, job);
    ok && delivered
}
