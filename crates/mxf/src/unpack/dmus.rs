//! Unpacking `DMUS_EVENTHEADER` buffers.
//!
//! Each record is one event: `DMUS_EVENT_STRUCTURED` records hold one complete
//! MIDI message, passed on as it is; other records hold unstructured data
//! (sysex), passed on as it is too, cut into `DMUS_KEF_EVENT_INCOMPLETE`
//! pieces when longer than one pool buffer. `rtDelta` counts from the buffer's
//! start time, the stream header's `PresentationTime` ("Delta from start time
//! of entire buffer", dmusbuff.h), not from the previous record; the
//! [`Timeline`] clamp keeps time from going backwards.

use super::error::{Unpacked, usable_len};
use super::{IrpHeader, Limits, Timeline, UnpackError};
use crate::build::push_bytes;
use crate::raw::{Chain, EventPool};
use crate::wire::dmus::Reader;

/// The unpacker of one `DirectMusic` render stream.
#[derive(Clone, Debug, Default)]
pub struct DmusUnpacker {
    timeline: Timeline,
    limits: Limits,
}

impl DmusUnpacker {
    /// A new unpacker.
    #[must_use]
    pub const fn new(limits: Limits) -> Self {
        Self {
            timeline: Timeline::new(),
            limits,
        }
    }

    /// The stream's time line.
    #[must_use]
    pub const fn timeline(&self) -> &Timeline {
        &self.timeline
    }

    /// Forgets the time floor (stream stop).
    pub fn reset(&mut self) {
        self.timeline.reset();
    }

    /// Unpacks one IRP's data buffer into events from `pool`.
    pub fn unpack<P: EventPool + ?Sized>(
        &mut self,
        header: &IrpHeader,
        buffer: &[u8],
        pool: &mut P,
    ) -> Unpacked {
        let (used, mut error) = usable_len(header.data_used, header.frame_extent, buffer.len());
        let mut chain = Chain::new();
        let mut records = 0;
        for item in Reader::new(buffer.get(..used).unwrap_or_default()) {
            let (offset, record) = match item {
                Ok(found) => found,
                Err(wire) => {
                    error = error.or(Some(UnpackError::Wire(wire)));
                    break;
                }
            };
            let delta = record.rt_delta;
            let nominal = header
                .presentation_time
                .checked_add(delta)
                .filter(|_| delta.unsigned_abs() <= self.limits.max_delta_100ns.unsigned_abs());
            let Some(nominal) = nominal else {
                error = error.or(Some(UnpackError::AbsurdDelta {
                    offset,
                    delta_100ns: delta,
                }));
                break;
            };
            let Ok(group) = u16::try_from(record.channel_group) else {
                let channel_group = record.channel_group;
                error = error.or(Some(UnpackError::ChannelGroup {
                    offset,
                    channel_group,
                }));
                break;
            };
            let time = self.timeline.place(nominal);
            if let Err(build) = push_bytes(&mut chain, pool, time, group, record.data, true) {
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
