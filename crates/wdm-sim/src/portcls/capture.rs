//! Capture reads: the events the capture sink queued (see `pin_objects`), packed into one
//! IRP buffer per read, `KSMUSICFORMAT` or `DMUS_EVENTHEADER` by the pin's format.

use alloc::vec::Vec;

use mxf::pack::PackError;

use super::state::{PinFlow, PinFormat};
use crate::current::with_state;

/// What one capture read filled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureRead {
    /// The stream header's presentation time (master-clock time of the first record, 100 ns);
    /// `None` when nothing was waiting.
    pub presentation_time: Option<i64>,
    /// The buffer, `DataUsed` bytes long.
    pub data: Vec<u8>,
    /// Records in it.
    pub records: usize,
}

/// Why a read was refused.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReadError {
    /// No such pin, or not a capture pin.
    NotCapture,
    /// The buffer cannot hold one record.
    Pack(PackError),
}

/// Reads one capture IRP of `buffer_len` bytes from pin `id`.
///
/// # Errors
/// [`ReadError`].
pub fn read(id: u32, buffer_len: usize) -> Result<CaptureRead, ReadError> {
    with_state("pin read", |m| {
        let pin = m.portcls.pins.get(&id).ok_or(ReadError::NotCapture)?;
        let allocator = m
            .portcls
            .ports
            .get(&pin.port)
            .map(|p| p.allocator)
            .ok_or(ReadError::NotCapture)?;
        let mut buffer = alloc::vec![0_u8; buffer_len];
        let Some(record) = m.portcls.allocators.get_mut(&allocator) else {
            return Err(ReadError::NotCapture);
        };
        let pin = m.portcls.pins.get_mut(&id).ok_or(ReadError::NotCapture)?;
        let format = pin.format;
        let PinFlow::Capture { packer, .. } = &mut pin.flow else {
            return Err(ReadError::NotCapture);
        };
        let packed = match format {
            PinFormat::Midi => packer.pack_ksmusic(&mut buffer, &mut record.pool),
            PinFormat::DirectMusic => packer.pack_dmus(&mut buffer, &mut record.pool),
        }
        .map_err(ReadError::Pack)?;
        let findings = record.pool.take_findings();
        for finding in findings {
            m.record(finding);
        }
        buffer.truncate(packed.data_used);
        Ok(CaptureRead {
            presentation_time: packed.presentation_time,
            data: buffer,
            records: packed.records,
        })
    })
}
