//! What a client sends again when the port took only part of an IRP.
//!
//! The port unpacks an IRP's records into events from its allocator's pool;
//! when the pool runs dry (a long sysex fills every data buffer) it keeps the
//! records it could unpack and says why it stopped. The rest of the buffer
//! is not lost to the client: it builds a new IRP of the records from the
//! first one not taken on, with that record's time as the new
//! `PresentationTime` (so every record keeps its time), and writes it again
//! once the wire has moved and the pool has buffers back.

use mxf::unpack::UnpackError;
use mxf::wire::{dmus, ksmusic};

use super::StreamPacket;
use crate::cli::PinFormat;

/// True when `error` says the port's pool ran out: the records not taken
/// can be written again later (any other error would refuse them again).
#[must_use]
pub const fn is_pool_exhausted(error: Option<UnpackError>) -> bool {
    matches!(error, Some(UnpackError::Pool { .. }))
}

impl StreamPacket {
    /// The IRP that carries this one's records from `taken` on, each at its
    /// own time; `None` when nothing is left (or the buffer is unreadable,
    /// which the builders never produce).
    #[must_use]
    pub fn rest_after(&self, taken: usize) -> Option<Self> {
        if taken >= self.records {
            return None;
        }
        let mut data = vec![0_u8; self.data.len()];
        let (used, records, message_bytes, presentation_time) = match self.format {
            PinFormat::Ksmusic => self.ksmusic_rest(taken, &mut data)?,
            PinFormat::Dmus => self.dmus_rest(taken, &mut data)?,
        };
        data.truncate(used);
        Some(Self {
            presentation_time,
            frame_extent: self.frame_extent,
            data,
            records,
            message_bytes,
            format: self.format,
        })
    }

    /// `KSMUSICFORMAT`: deltas are from the previous record (the first from
    /// `PresentationTime`), in ms; the first record left gets delta 0.
    fn ksmusic_rest(&self, taken: usize, out: &mut [u8]) -> Option<(usize, usize, u64, i64)> {
        let mut ms = self.presentation_time / 10_000;
        let mut writer = ksmusic::Writer::new(out);
        let mut bytes = 0_u64;
        for (index, record) in ksmusic::Reader::new(&self.data).enumerate() {
            let (_, record) = record.ok()?;
            if index < taken {
                ms += i64::from(record.delta_ms);
                continue;
            }
            let delta_ms = if index == taken {
                ms += i64::from(record.delta_ms);
                0
            } else {
                record.delta_ms
            };
            writer
                .push(&ksmusic::RecordRepr {
                    delta_ms,
                    data: record.data,
                })
                .ok()?;
            bytes += u64::try_from(record.data.len()).ok()?;
        }
        Some((writer.len(), writer.records(), bytes, ms * 10_000))
    }

    /// `DMUS_EVENTHEADER`: each `rtDelta` is from `PresentationTime`; the
    /// new one is the first record left's time.
    fn dmus_rest(&self, taken: usize, out: &mut [u8]) -> Option<(usize, usize, u64, i64)> {
        let mut writer = dmus::Writer::new(out);
        let mut bytes = 0_u64;
        let mut start = None;
        for (index, record) in dmus::Reader::new(&self.data).enumerate() {
            let (_, record) = record.ok()?;
            if index < taken {
                continue;
            }
            let base = *start.get_or_insert(record.rt_delta);
            writer
                .push(&dmus::RecordRepr {
                    rt_delta: record.rt_delta - base,
                    ..record
                })
                .ok()?;
            bytes += u64::try_from(record.data.len()).ok()?;
        }
        let presentation_time = self.presentation_time.checked_add(start?)?;
        Some((writer.len(), writer.records(), bytes, presentation_time))
    }
}

#[cfg(test)]
mod tests {
    use super::is_pool_exhausted;
    use crate::irp::{build_dmus_within, build_ksmusic_within};
    use mxf::raw::BuildError;
    use mxf::unpack::UnpackError;
    use mxf::wire::{dmus, ksmusic};
    use smf::{MessageKind, SmfFormat, TimedMessage, Timeline};

    fn timeline() -> Timeline {
        let mut t = Timeline::empty(SmfFormat::SingleTrack);
        for (i, time) in [5_000_u64, 25_000, 40_000, 1_000_000]
            .into_iter()
            .enumerate()
        {
            t.messages.push(TimedMessage {
                time,
                track: 0,
                kind: MessageKind::Channel,
                bytes: vec![0x90, 60 + u8::try_from(i).unwrap(), 100],
            });
        }
        t
    }

    #[test]
    fn the_rest_of_a_ksmusic_irp_keeps_every_record_time() {
        let packets = build_ksmusic_within(&timeline(), 4096, u64::MAX).unwrap();
        let [packet] = packets.as_slice() else {
            panic!("{packets:?}")
        };
        // Grid times 1, 3, 4 and 100 ms.
        let rest = packet.rest_after(1).unwrap();
        assert_eq!(rest.presentation_time, 30_000);
        assert_eq!((rest.records, rest.message_bytes), (3, 9));
        let records: Vec<(u32, u8)> = ksmusic::Reader::new(&rest.data)
            .map(|r| r.map(|(_, r)| (r.delta_ms, r.data[1])).unwrap())
            .collect();
        assert_eq!(records, [(0, 61), (1, 62), (96, 63)]);
        assert_eq!(packet.rest_after(4), None, "nothing left");
        assert_eq!(packet.rest_after(0).unwrap().data, packet.data, "all of it");
    }

    #[test]
    fn the_rest_of_a_dmus_irp_keeps_every_record_time() {
        let packets = build_dmus_within(&timeline(), 4096, 1, u64::MAX).unwrap();
        let rest = packets[0].rest_after(2).unwrap();
        assert_eq!(rest.presentation_time, 40_000);
        let records: Vec<(i64, u8)> = dmus::Reader::new(&rest.data)
            .map(|r| r.map(|(_, r)| (r.rt_delta, r.data[1])).unwrap())
            .collect();
        assert_eq!(records, [(0, 62), (960_000, 63)]);
        assert_eq!(rest.records, 2);
    }

    #[test]
    fn only_a_dry_pool_is_worth_a_second_write() {
        let dry = UnpackError::Pool {
            offset: 0,
            error: BuildError::NoBuffer,
        };
        assert!(is_pool_exhausted(Some(dry)));
        assert!(!is_pool_exhausted(None));
        assert!(!is_pool_exhausted(Some(UnpackError::AbsurdDelta {
            offset: 0,
            delta_100ns: 1
        })));
    }
}
