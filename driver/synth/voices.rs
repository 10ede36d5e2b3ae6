//! `KSPROPSETID_RdmusSynthVoice`: wave voices, as `DirectMusic`'s wave tracks play them.
//!
//! A wave track downloads its wave as one-shot or streaming buffers and a wave articulation
//! naming them (`DMUS_DOWNLOADINFO_ONESHOTWAVE` / `_STREAMINGWAVE` /
//! `_WAVEARTICULATION`, through `KSPROPERTY_SYNTH_DLS_DOWNLOAD`), then starts and stops
//! voices on the articulation: `IDirectMusicSynth8::PlayVoice` and `StopVoice` (dmusics.h).
//! The kernel synth interface (dmusprop.h) has no property for those, so this private set
//! carries them, reached like the lost-notes set through `IKsControl::KsProperty` on the
//! port (`DirectMusic` passes property sets it does not know to the driver):
//! - `PLAYVOICE` (SET, value [`RDMUS_SYNTH_PLAYVOICE`]): starts the voice at once (the next
//!   render hears it; `PlayVoice`'s reference time and sample offsets are not carried).
//!   An articulation not downloaded or a channel group beyond the synth's is
//!   `STATUS_INVALID_PARAMETER`.
//! - `STOPVOICE` (SET, value the voice id, `ULONG`): releases the voice; one not playing is
//!   `STATUS_NOT_FOUND`.

use dmus_sys::GUID;
use dmus_sys::kernel::{
    NTSTATUS, STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND,
    STATUS_SUCCESS,
};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_SET};
use dmus_sys::portcls::PCPROPERTY_REQUEST;

use super::miniport::Miniport;
use crate::miniport::property::PropertyRequest;

/// rdmus's own property set for wave voices (no header names it; distinct from every
/// KSPROPSETID the synth answers, checked in the tests).
#[allow(
    non_upper_case_globals,
    reason = "spelled like the DDK's KSPROPSETID_* GUIDs"
)]
pub const KSPROPSETID_RdmusSynthVoice: GUID = GUID::parse("7b2940cc-d6d7-4100-a5e9-dc258e8bf6fb");

/// `KSPROPERTY_RDMUS_SYNTH_PLAYVOICE` (SET): [`RDMUS_SYNTH_PLAYVOICE`].
pub const KSPROPERTY_RDMUS_SYNTH_PLAYVOICE: u32 = 0;
/// `KSPROPERTY_RDMUS_SYNTH_STOPVOICE` (SET): the voice id (`ULONG`).
pub const KSPROPERTY_RDMUS_SYNTH_STOPVOICE: u32 = 1;

/// The value of [`KSPROPERTY_RDMUS_SYNTH_PLAYVOICE`]: `PlayVoice`'s arguments without its
/// times.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[allow(
    non_camel_case_types,
    non_snake_case,
    reason = "a KS property value, spelled like the DDK's structures"
)]
pub struct RDMUS_SYNTH_PLAYVOICE {
    /// `dwVoiceId`: the id `STOPVOICE` names.
    pub VoiceId: u32,
    /// `dwChannelGroup` (1-based).
    pub ChannelGroup: u32,
    /// `dwChannel` (0..=15).
    pub Channel: u32,
    /// `dwDLId`: the wave articulation's download id.
    pub DLId: u32,
    /// `prPitch`: cents from the wave's own pitch.
    pub Pitch: i32,
    /// `vrVolume`: attenuation in 1/100 dB (0 = full, negative quieter).
    pub Volume: i32,
}

fn play(request: &PropertyRequest, miniport: &Miniport) -> NTSTATUS {
    let value = match request.read_value::<RDMUS_SYNTH_PLAYVOICE>() {
        Ok(value) => value,
        Err(status) => return status,
    };
    let (Ok(group), Ok(channel)) = (
        u16::try_from(value.ChannelGroup),
        u8::try_from(value.Channel),
    ) else {
        return STATUS_INVALID_PARAMETER;
    };
    if channel > 15 {
        return STATUS_INVALID_PARAMETER;
    }
    let started = miniport.core().lock().play_voice(
        value.VoiceId,
        group,
        channel,
        value.DLId,
        value.Pitch,
        value.Volume,
    );
    if started {
        STATUS_SUCCESS
    } else {
        STATUS_INVALID_PARAMETER
    }
}

fn stop(request: &PropertyRequest, miniport: &Miniport) -> NTSTATUS {
    match request.read_value::<u32>() {
        Ok(voice_id) if miniport.core().lock().stop_voice(voice_id) => STATUS_SUCCESS,
        Ok(_) => STATUS_NOT_FOUND,
        Err(status) => status,
    }
}

/// Answers a request of this set for `miniport`.
pub fn answer(request: &mut PropertyRequest, miniport: &Miniport) -> NTSTATUS {
    let id = request.id();
    if id != KSPROPERTY_RDMUS_SYNTH_PLAYVOICE && id != KSPROPERTY_RDMUS_SYNTH_STOPVOICE {
        return STATUS_NOT_FOUND;
    }
    let verb = request.verb();
    if verb & KSPROPERTY_TYPE_BASICSUPPORT != 0 {
        return request.reply(&(KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_SET));
    }
    if verb & KSPROPERTY_TYPE_SET == 0 {
        return STATUS_INVALID_DEVICE_REQUEST;
    }
    if id == KSPROPERTY_RDMUS_SYNTH_PLAYVOICE {
        play(request, miniport)
    } else {
        stop(request, miniport)
    }
}

/// The `PCPFNPROPERTY_HANDLER` of [`KSPROPSETID_RdmusSynthVoice`] (PASSIVE_LEVEL).
///
/// # Safety
/// Called by PortCls with a live request whose `MajorTarget` is this miniport.
pub unsafe extern "system" fn voice_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: PortCls' live request for this handler, which only the synth's tables name
    // (PASSIVE_LEVEL).
    unsafe { Miniport::answer_property(request, answer) }
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmusprop::{KSPROPSETID_Synth, KSPROPSETID_Synth_Dls, KSPROPSETID_SynthClock};

    use super::{KSPROPSETID_RdmusSynthVoice, RDMUS_SYNTH_PLAYVOICE};
    use crate::synth::lost_notes::KSPROPSETID_RdmusSynthLostNotes;

    #[test]
    fn the_set_is_rdmus_own_and_the_value_is_six_ulongs() {
        for known in [
            KSPROPSETID_Synth,
            KSPROPSETID_Synth_Dls,
            KSPROPSETID_SynthClock,
            KSPROPSETID_RdmusSynthLostNotes,
        ] {
            assert_ne!(KSPROPSETID_RdmusSynthVoice, known);
        }
        assert_eq!(core::mem::size_of::<RDMUS_SYNTH_PLAYVOICE>(), 24);
        assert_eq!(core::mem::offset_of!(RDMUS_SYNTH_PLAYVOICE, Volume), 20);
    }
}
