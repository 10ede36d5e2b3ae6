//! `KSPROPERTY_SYNTH_RUNNINGSTATS` of an MPU-401 render stream, read as
//! DirectMusic's `IDirectMusicPort::GetRunningStats` reads it: a node
//! property of the output's synth node sent through the pin's handle, so the
//! stream answers. Its `LostNotes` counts the events the driver's render
//! engine gave back unplayed (driver/mpu401/properties.rs).

use core::mem::{offset_of, size_of};

use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPSETID_Synth, SYNTH_STATS, SYNTH_STATS_LOST_NOTES,
};
use dmus_sys::kernel::NT_SUCCESS;
use dmus_sys::ks::KSPROPERTY_TYPE_GET;
use wdm_sim::portcls::Pin;

use super::rig::SimError;

/// The events the stream of `pin` gave back unplayed so far.
///
/// # Errors
/// [`SimError::Property`] when the request fails, or the answer does not
/// mark `LostNotes` valid.
pub fn lost_events(pin: &Pin) -> Result<u32, SimError> {
    let mut value = vec![0_u8; size_of::<SYNTH_STATS>()];
    let result = pin.node_property(
        rdmus_driver::UART_NODE_SYNTH_OUT,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_RUNNINGSTATS,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    let field = |at: usize| {
        value
            .get(at..at + 4)
            .and_then(|b| b.try_into().ok())
            .map_or(0, u32::from_ne_bytes)
    };
    let what = "KSPROPERTY_SYNTH_RUNNINGSTATS (MPU-401 render stream)";
    if !NT_SUCCESS(result.status) {
        return Err(SimError::Property {
            what,
            status: result.status,
        });
    }
    if field(offset_of!(SYNTH_STATS, ValidStats)) & SYNTH_STATS_LOST_NOTES == 0 {
        return Err(SimError::Property {
            what,
            status: dmus_sys::kernel::STATUS_UNSUCCESSFUL,
        });
    }
    Ok(field(offset_of!(SYNTH_STATS, LostNotes)))
}
