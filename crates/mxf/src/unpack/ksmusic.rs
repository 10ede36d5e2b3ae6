//! Unpacking `KSMUSICFORMAT` buffers.
//!
//! Record bytes are raw MIDI: one record may hold several messages, use
//! running status (which carries over from record to record and IRP to IRP,
//! as on a MIDI cable), or hold part of a sysex that continues in the next
//! record. They go through the [`Parser`], so each event holds one whole
//! message with its status byte, except sysex, which is cut at record ends and
//! at the pool's buffer size into `DMUS_KEF_EVENT_INCOMPLETE` pieces.
//! A message takes the time of the record holding its first byte.

use super::error::{Unpacked, usable_len};
use super::{IrpHeader, Limits, Timeline, UnpackError};
use crate::build::push_parsed;
use crate::midi::Parser;
use crate::raw::{Chain, EventPool};
use crate::wire::ksmusic::Reader;

/// 100 ns units per millisecond.
const HUNDRED_NS_PER_MS: i64 = 10_000;

/// Largest sysex piece the parser gathers before it makes an event of it.
const SYSEX_PIECE: usize = 256;

/// The unpacker of one legacy MIDI render stream.
#[derive(Clone, Debug)]
pub struct KsMusicUnpacker {
    parser: Parser<SYSEX_PIECE>,
    timeline: Timeline,
    channel_group: u16,
    limits: Limits,
}

impl KsMusicUnpacker {
    /// An unpacker whose events go to `channel_group` (legacy pins carry no
    /// group of their own; 1 is the first group).
    #[must_use]
    pub const fn new(channel_group: u16, limits: Limits) -> Self {
        Self {
            parser: Parser::new(),
            timeline: Timeline::new(),
            channel_group,
            limits,
        }
    }

    /// The stream's time line.
    #[must_use]
    pub const fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// What the parser dropped so far (stray data bytes and the like).
    #[must_use]
    pub const fn parser_stats(&self) -> crate::midi::ParserStats {
        self.parser.stats()
    }

    /// Forgets running status, open sysex and the time floor (stream stop).
    pub fn reset(&mut self) {
        self.parser.reset();
        self.timeline.reset();
    }

    /// Unpacks one IRP's data buffer (`buffer` is the mapped `Data`, `header`
    /// its stream header) into events from `pool`.
    pub fn unpack<P: EventPool + ?Sized>(
        &mut self,
        header: &IrpHeader,
        buffer: &[u8],
        pool: &mut P,
    ) -> Unpacked {
        let (used, mut error) = usable_len(header.data_used, header.frame_extent, buffer.len());
        let mut chain = Chain::new();
        let mut records = 0;
        let mut nominal = header.presentation_time;
        let group = self.channel_group;
        for item in Reader::new(buffer.get(..used).unwrap_or_default()) {
            let (offset, record) = match item {
                Ok(found) => found,
                Err(wire) => {
                    error = error.or(Some(UnpackError::Wire(wire)));
                    break;
                }
            };
            let delta = i64::from(record.delta_ms) * HUNDRED_NS_PER_MS;
            let next = nominal
                .checked_add(delta)
                .filter(|_| delta <= self.limits.max_delta_100ns);
            let Some(next) = next else {
                error = error.or(Some(UnpackError::AbsurdDelta {
                    offset,
                    delta_100ns: delta,
                }));
                break;
            };
            nominal = next;
            let time = self.timeline.place(nominal);
            let mut fault = None;
            let mut sink = |parsed: crate::midi::Parsed<'_>| {
                if fault.is_none() {
                    fault = push_parsed(&mut chain, pool, parsed, group).err();
                }
            };
            self.parser.feed_all(record.data, time, &mut sink);
            // A sysex open at the end of a record is delivered now, not held.
            self.parser.flush_sysex(&mut sink);
            if let Some(build) = fault {
                error = error.or(Some(UnpackError::Pool {
                    offset,
                    error: build,
                }));
                break;
            }
            records += 1;
        }
        Unpacked {
            chain,
            records,
            error,
        }
    }
}
