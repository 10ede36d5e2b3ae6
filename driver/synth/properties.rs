//! `KSPROPSETID_Synth` for the synth.
//!
//! What each property answers (dmusprop.h docs; the ddksynth sample answers the same set):
//! - `CAPS` (GET): a DLS Level 1 and 2 software synth (`SYNTH_PC_DLS | SYNTH_PC_DLS2 |
//!   SYNTH_PC_SOFTWARESYNTH`) in system memory, [`MAX_CHANNEL_GROUPS`] channel groups,
//!   [`MAX_VOICES`] voices, stereo, a reverb and a chorus available (`EffectFlags`), and
//!   `SYNTH_PC_REVERB` in `Flags` while the reverb is on; `MemorySize` the download memory
//!   free now (of [`DOWNLOAD_MEMORY_BYTES`]: a larger download is refused, see
//!   [`super::download`]).
//! - `PORTPARAMETERS` (GET, instance = the parameters asked for): what the synth grants, with
//!   `ValidParams` naming every field it filled: the voices asked for (1..=256), the channel
//!   groups asked for (1..=16), stereo, the rate asked for clamped to 22,050..=48,000 Hz, and
//!   of the effects asked for (`SYNTH_PORTPARAMS_EFFECTS`) the reverb and the chorus (no
//!   delay); unless asked, the reverb alone, as before any `PORTPARAMETERS` (Microsoft's
//!   synth's default: see `super::miniport::default_params`). The effects switch at once (one turned on starts silent;
//!   both off give the dry mix sample for sample). The granted voices and channel groups take effect at once (a new voice count
//!   allocates a new engine, outside the lock, and silences what was sounding); the rate
//!   when no wave sink is open (an open sink's format decides otherwise).
//! - `CHANNELGROUPS` (GET, SET): groups enabled; a SET outside 1..=16 is refused.
//! - `VOICEPRIORITY` (GET, SET; instance `SYNTHVOICEPRIORITY_INSTANCE`): the priority of a
//!   channel, dmusicc.h's defaults until set. Voice stealing follows it: with every voice
//!   busy, a note-on takes the oldest released voice, else the voice of the lowest
//!   priority (the oldest among equals).
//! - `VOLUME` (GET, SET): 1/100 dB; a SET outside -96 dB..=0 is clamped, and GET reports
//!   the volume applied.
//! - `LATENCYCLOCK` (GET): the master time of the first sample not yet rendered, the
//!   earliest an event sent now can play at its own sample.
//! - `RUNNINGSTATS` (GET): voices sounding, and as lost notes the voices stolen from held
//!   notes plus the events that played late or were dropped (stream stopped): the causes
//!   Microsoft's docs give (see [`super::lost_notes`], which also reports them apart).
//! - The effects' own parameters: `DirectMusic` defines none in `KSPROPSETID_Synth`
//!   (dmusprop.h); its `GUID_DMUS_PROP_WavesReverb` (dmusicc.h) is the user-mode synth's, in
//!   floats. The reverb and the chorus run at their designs' settings (see
//!   `dls::synth::effects`).
//! - `BASICSUPPORT`: the verbs as a `ULONG` of `KSPROPERTY_TYPE_*` flags (as ddksynth).

use dls::synth::effects::EffectSwitches;
use dmus_synth::synth::{
    AUDIO_CHANNELS, ENGINE_GROUPS, MAX_CHANNEL_GROUPS, MAX_RATE, MAX_VOICES, Stats, SynthEngine,
    clamp_rate,
};
use dmus_sys::GUID;
use dmus_sys::dmusprop::{
    KSPROPERTY_SYNTH_CAPS, KSPROPERTY_SYNTH_CHANNELGROUPS, KSPROPERTY_SYNTH_LATENCYCLOCK,
    KSPROPERTY_SYNTH_PORTPARAMETERS, KSPROPERTY_SYNTH_RUNNINGSTATS, KSPROPERTY_SYNTH_VOICEPRIORITY,
    KSPROPERTY_SYNTH_VOLUME, SYNTH_EFFECT_CHORUS, SYNTH_EFFECT_REVERB, SYNTH_PC_DLS, SYNTH_PC_DLS2,
    SYNTH_PC_REVERB, SYNTH_PC_SOFTWARESYNTH, SYNTH_PORTPARAMS, SYNTH_PORTPARAMS_AUDIOCHANNELS,
    SYNTH_PORTPARAMS_CHANNELGROUPS, SYNTH_PORTPARAMS_EFFECTS, SYNTH_PORTPARAMS_SAMPLERATE,
    SYNTH_PORTPARAMS_VOICES, SYNTH_STATS, SYNTH_STATS_LOST_NOTES, SYNTH_STATS_VOICES, SYNTHCAPS,
    SYNTHVOICEPRIORITY_INSTANCE,
};
use dmus_sys::kernel::{
    NTSTATUS, STATUS_BUFFER_TOO_SMALL, STATUS_INSUFFICIENT_RESOURCES,
    STATUS_INVALID_DEVICE_REQUEST, STATUS_INVALID_PARAMETER, STATUS_NOT_FOUND, STATUS_SUCCESS,
};
use dmus_sys::ks::{KSPROPERTY_TYPE_BASICSUPPORT, KSPROPERTY_TYPE_GET, KSPROPERTY_TYPE_SET};
use dmus_sys::portcls::PCPROPERTY_REQUEST;

use super::download::DOWNLOAD_MEMORY_BYTES;
use super::lost_notes::{RDMUS_SYNTH_LOST_NOTES, current_stats};
use super::miniport::{Miniport, default_params};
use crate::miniport::property::PropertyRequest;

/// The class id rdmus's synth reports in `SYNTHCAPS.Guid` (rdmus's own; no header names
/// it). Distinct from every Microsoft miniport class id (checked in the tests).
pub const CLSID_RDMUS_SYNTH: GUID = GUID::parse("5d3c7f2a-8e41-4b6a-9c0d-72a1e5b39f10");

/// The effects the synth has (`SYNTH_EFFECT_*`).
pub const EFFECTS_AVAILABLE: u32 = SYNTH_EFFECT_REVERB | SYNTH_EFFECT_CHORUS;

/// The switches `SYNTH_EFFECT_*` flags ask for (other flags ignored).
#[must_use]
pub fn effect_switches(flags: u32) -> EffectSwitches {
    EffectSwitches {
        reverb: flags & SYNTH_EFFECT_REVERB != 0,
        chorus: flags & SYNTH_EFFECT_CHORUS != 0,
    }
}

/// `SYNTHCAPS` of the synth, with `free_memory` bytes of download memory free and
/// `effects` switched as they are.
#[must_use]
pub fn synth_caps(free_memory: usize, effects: EffectSwitches) -> SYNTHCAPS {
    let mut description = [0u16; 128];
    for (unit, byte) in description.iter_mut().zip(b"rdmus DLS Synth".iter()) {
        *unit = u16::from(*byte);
    }
    SYNTHCAPS {
        Guid: CLSID_RDMUS_SYNTH,
        Flags: SYNTH_PC_DLS
            | SYNTH_PC_DLS2
            | SYNTH_PC_SOFTWARESYNTH
            | if effects.reverb { SYNTH_PC_REVERB } else { 0 },
        // Never SYNTH_PC_SYSTEMMEMORY ("no fixed limit"): the limit is 64 MiB.
        MemorySize: u32::try_from(free_memory.min(DOWNLOAD_MEMORY_BYTES)).unwrap_or(u32::MAX),
        MaxChannelGroups: u32::try_from(MAX_CHANNEL_GROUPS).unwrap_or(1),
        MaxVoices: u32::try_from(MAX_VOICES).unwrap_or(u32::MAX),
        MaxAudioChannels: u32::try_from(AUDIO_CHANNELS).unwrap_or(2),
        EffectFlags: EFFECTS_AVAILABLE,
        Description: description,
    }
}

/// The parameters granted for `asked` (see the module docs).
#[must_use]
pub fn grant(asked: &SYNTH_PORTPARAMS) -> SYNTH_PORTPARAMS {
    let defaults = default_params();
    let groups = if asked.ValidParams & SYNTH_PORTPARAMS_CHANNELGROUPS != 0 {
        asked.ChannelGroups.clamp(1, defaults.ChannelGroups)
    } else {
        defaults.ChannelGroups
    };
    let voices = if asked.ValidParams & SYNTH_PORTPARAMS_VOICES != 0 {
        asked.Voices.clamp(1, defaults.Voices)
    } else {
        defaults.Voices
    };
    let effects = if asked.ValidParams & SYNTH_PORTPARAMS_EFFECTS != 0 {
        asked.EffectsFlags & EFFECTS_AVAILABLE
    } else {
        defaults.EffectsFlags
    };
    let rate = if asked.ValidParams & SYNTH_PORTPARAMS_SAMPLERATE != 0 {
        clamp_rate(asked.SampleRate)
    } else {
        defaults.SampleRate
    };
    SYNTH_PORTPARAMS {
        ValidParams: SYNTH_PORTPARAMS_VOICES
            | SYNTH_PORTPARAMS_CHANNELGROUPS
            | SYNTH_PORTPARAMS_AUDIOCHANNELS
            | SYNTH_PORTPARAMS_SAMPLERATE
            | SYNTH_PORTPARAMS_EFFECTS,
        Voices: voices,
        ChannelGroups: groups,
        AudioChannels: defaults.AudioChannels,
        SampleRate: rate,
        EffectsFlags: effects,
        Share: asked.Share,
    }
}

/// The verbs a property supports, as `BASICSUPPORT` reports them.
#[must_use]
pub fn access_flags(id: u32) -> Option<u32> {
    let get = KSPROPERTY_TYPE_BASICSUPPORT | KSPROPERTY_TYPE_GET;
    match id {
        KSPROPERTY_SYNTH_VOLUME
        | KSPROPERTY_SYNTH_CHANNELGROUPS
        | KSPROPERTY_SYNTH_VOICEPRIORITY => Some(get | KSPROPERTY_TYPE_SET),
        KSPROPERTY_SYNTH_CAPS
        | KSPROPERTY_SYNTH_PORTPARAMETERS
        | KSPROPERTY_SYNTH_LATENCYCLOCK
        | KSPROPERTY_SYNTH_RUNNINGSTATS => Some(get),
        _ => None,
    }
}

/// `SYNTH_STATS` from the core's counters: `LostNotes` = stolen voices + late events +
/// dropped events (saturating; [`RDMUS_SYNTH_LOST_NOTES::total`]).
#[must_use]
pub fn running_stats(stats: &Stats) -> SYNTH_STATS {
    SYNTH_STATS {
        ValidStats: SYNTH_STATS_VOICES | SYNTH_STATS_LOST_NOTES,
        Voices: stats.voices,
        LostNotes: RDMUS_SYNTH_LOST_NOTES::from_stats(stats).total(),
        ..SYNTH_STATS::default()
    }
}

fn priority_slot(instance: Option<SYNTHVOICEPRIORITY_INSTANCE>) -> Option<(usize, usize)> {
    let instance = instance?;
    let group = usize::try_from(instance.ChannelGroup).ok()?;
    let channel = usize::try_from(instance.Channel).ok()?;
    (group < MAX_CHANNEL_GROUPS && channel < 16).then_some((group, channel))
}

/// Answers a request for `miniport`.
pub fn answer(request: &mut PropertyRequest, miniport: &Miniport) -> NTSTATUS {
    let id = request.id();
    let Some(flags) = access_flags(id) else {
        return STATUS_NOT_FOUND;
    };
    let verb = request.verb();
    if verb & KSPROPERTY_TYPE_BASICSUPPORT != 0 {
        return request.reply(&flags);
    }
    if verb & KSPROPERTY_TYPE_SET != 0 {
        if flags & KSPROPERTY_TYPE_SET == 0 {
            return STATUS_INVALID_DEVICE_REQUEST;
        }
        return set(request, miniport, id);
    }
    match id {
        KSPROPERTY_SYNTH_CAPS => {
            let effects = miniport.core().lock().effects();
            request.reply(&synth_caps(miniport.download_memory().free(), effects))
        }
        KSPROPERTY_SYNTH_PORTPARAMETERS => {
            let Some(asked) = request.instance::<SYNTH_PORTPARAMS>() else {
                return STATUS_BUFFER_TOO_SMALL;
            };
            let granted = grant(&asked);
            let voices = usize::try_from(granted.Voices).unwrap_or(MAX_VOICES);
            // A new voice count: the engine is allocated here, at PASSIVE_LEVEL, outside
            // the lock; the render path never allocates.
            let fresh = if voices == miniport.core().lock().voice_limit() {
                None
            } else {
                match SynthEngine::try_new(MAX_RATE, voices, ENGINE_GROUPS) {
                    Ok(engine) => Some(engine),
                    Err(_) => return STATUS_INSUFFICIENT_RESOURCES,
                }
            };
            let status = request.reply(&granted);
            if status == STATUS_SUCCESS {
                miniport.settings().lock().params = granted;
                let mut core = miniport.core().lock();
                let old = fresh.map(|engine| core.replace_engine(engine));
                core.set_channel_groups(granted.ChannelGroups);
                core.set_effects(effect_switches(granted.EffectsFlags));
                if !miniport.sink_open() && core.rate() != granted.SampleRate {
                    core.restart(granted.SampleRate);
                }
                drop(core);
                // The old voices are freed outside the lock.
                drop(old);
            }
            status
        }
        KSPROPERTY_SYNTH_CHANNELGROUPS => {
            let groups = miniport.core().lock().channel_groups();
            request.reply(&groups)
        }
        KSPROPERTY_SYNTH_VOICEPRIORITY => {
            let Some((group, channel)) = priority_slot(request.instance()) else {
                return STATUS_INVALID_PARAMETER;
            };
            let priority = miniport.settings().lock().priorities[group][channel];
            request.reply(&priority)
        }
        KSPROPERTY_SYNTH_VOLUME => {
            let volume = miniport.core().lock().volume();
            request.reply(&volume)
        }
        KSPROPERTY_SYNTH_LATENCYCLOCK => {
            let Some(now) = miniport.master_now() else {
                // No stream yet: the port's clock is unknown to the miniport.
                return STATUS_INVALID_DEVICE_REQUEST;
            };
            let time = miniport.core().lock().latency_time(now);
            request.reply(&time)
        }
        KSPROPERTY_SYNTH_RUNNINGSTATS => request.reply(&running_stats(&current_stats(miniport))),
        _ => STATUS_NOT_FOUND,
    }
}

fn set(request: &PropertyRequest, miniport: &Miniport, id: u32) -> NTSTATUS {
    match id {
        KSPROPERTY_SYNTH_CHANNELGROUPS => match request.read_value::<u32>() {
            Ok(groups) if miniport.core().lock().set_channel_groups(groups) => STATUS_SUCCESS,
            Ok(_) => STATUS_INVALID_PARAMETER,
            Err(status) => status,
        },
        KSPROPERTY_SYNTH_VOLUME => match request.read_value::<i32>() {
            Ok(volume) => {
                miniport.core().lock().set_volume(volume);
                STATUS_SUCCESS
            }
            Err(status) => status,
        },
        KSPROPERTY_SYNTH_VOICEPRIORITY => {
            let Some((group, channel)) = priority_slot(request.instance()) else {
                return STATUS_INVALID_PARAMETER;
            };
            match request.read_value::<u32>() {
                Ok(priority) => {
                    miniport.settings().lock().priorities[group][channel] = priority;
                    // Voice stealing follows it (settings index g is channel group g + 1).
                    let group = u16::try_from(group + 1).unwrap_or(u16::MAX);
                    let channel = u8::try_from(channel).unwrap_or(u8::MAX);
                    miniport
                        .core()
                        .lock()
                        .set_priority(group, channel, priority);
                    STATUS_SUCCESS
                }
                Err(status) => status,
            }
        }
        _ => STATUS_INVALID_DEVICE_REQUEST,
    }
}

/// The `PCPFNPROPERTY_HANDLER` of every `KSPROPSETID_Synth` property (PASSIVE_LEVEL).
///
/// # Safety
/// Called by PortCls with a live request whose `MajorTarget` is this miniport.
pub unsafe extern "system" fn synth_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: PortCls' live request for this handler, which only the synth's tables name
    // (PASSIVE_LEVEL).
    unsafe { Miniport::answer_property(request, answer) }
}

/// The `PCPFNPROPERTY_HANDLER` of `KSPROPSETID_General` / `KSPROPERTY_GENERAL_COMPONENTID` on
/// the filter (PASSIVE_LEVEL): rdmus's manufacturer, this filter's product and its name's
/// `MediaCategories` GUID (`crate::miniport::component`).
///
/// # Safety
/// Called by PortCls with a live request (or null).
pub unsafe extern "system" fn component_id_property(request: *mut PCPROPERTY_REQUEST) -> NTSTATUS {
    // SAFETY: PortCls' live request for the duration of this call, or null (refused inside).
    // PASSIVE_LEVEL; memory only.
    let Some(mut wrapped) = (unsafe { crate::miniport::property::PropertyRequest::new(request) })
    else {
        return dmus_sys::kernel::STATUS_INVALID_PARAMETER;
    };
    crate::miniport::component::answer(&mut wrapped, &crate::miniport::component::COMPONENT_SYNTH)
}

#[cfg(test)]
mod tests {
    use dmus_sys::dmus_com::CLSID_MiniportDriverDMusUART;
    use dmus_sys::dmusprop::{
        SYNTH_PC_DLS, SYNTH_PC_DLS2, SYNTH_PC_EXTERNAL, SYNTH_PC_SOFTWARESYNTH, SYNTH_PORTPARAMS,
        SYNTH_PORTPARAMS_CHANNELGROUPS, SYNTH_PORTPARAMS_SAMPLERATE, SYNTH_PORTPARAMS_VOICES,
    };

    use super::{CLSID_RDMUS_SYNTH, EffectSwitches, effect_switches, grant, synth_caps};
    use dmus_sys::dmusprop::{
        SYNTH_EFFECT_CHORUS, SYNTH_EFFECT_DELAY, SYNTH_EFFECT_NONE, SYNTH_EFFECT_REVERB,
        SYNTH_PC_REVERB, SYNTH_PORTPARAMS_EFFECTS,
    };

    use crate::synth::download::DOWNLOAD_MEMORY_BYTES;

    #[test]
    fn caps_report_the_free_download_memory_never_system_memory() {
        assert_eq!(
            synth_caps(DOWNLOAD_MEMORY_BYTES, EffectSwitches::default()).MemorySize,
            64 << 20
        );
        assert_eq!(
            synth_caps(1_000, EffectSwitches::default()).MemorySize,
            1_000
        );
        assert_ne!(
            synth_caps(usize::MAX, EffectSwitches::default()).MemorySize,
            dmus_sys::dmusprop::SYNTH_PC_SYSTEMMEMORY
        );
    }

    #[test]
    fn caps_report_reverb_only_while_it_is_on() {
        let off = synth_caps(DOWNLOAD_MEMORY_BYTES, EffectSwitches::default());
        assert_eq!(off.Flags & SYNTH_PC_REVERB, 0);
        assert_eq!(off.EffectFlags, SYNTH_EFFECT_REVERB | SYNTH_EFFECT_CHORUS);
        let chorus_only = synth_caps(
            DOWNLOAD_MEMORY_BYTES,
            EffectSwitches {
                reverb: false,
                chorus: true,
            },
        );
        assert_eq!(chorus_only.Flags & SYNTH_PC_REVERB, 0);
        let on = synth_caps(
            DOWNLOAD_MEMORY_BYTES,
            EffectSwitches {
                reverb: true,
                chorus: false,
            },
        );
        assert_eq!(on.Flags, off.Flags | SYNTH_PC_REVERB);
    }

    #[test]
    fn effects_are_granted_as_asked_of_what_the_synth_has() {
        let ask = |valid: u32, flags: u32| {
            grant(&SYNTH_PORTPARAMS {
                ValidParams: valid,
                EffectsFlags: flags,
                ..SYNTH_PORTPARAMS::default()
            })
            .EffectsFlags
        };
        let all = SYNTH_EFFECT_REVERB | SYNTH_EFFECT_CHORUS | SYNTH_EFFECT_DELAY;
        assert_eq!(
            ask(SYNTH_PORTPARAMS_EFFECTS, all),
            SYNTH_EFFECT_REVERB | SYNTH_EFFECT_CHORUS,
            "no delay"
        );
        assert_eq!(
            ask(SYNTH_PORTPARAMS_EFFECTS, SYNTH_EFFECT_CHORUS),
            SYNTH_EFFECT_CHORUS
        );
        assert_eq!(
            ask(0, all),
            SYNTH_EFFECT_REVERB,
            "not asked: the default, the reverb alone (as Microsoft's synth)"
        );
        assert_eq!(
            ask(SYNTH_PORTPARAMS_EFFECTS, SYNTH_EFFECT_NONE),
            SYNTH_EFFECT_NONE
        );
        assert_eq!(
            effect_switches(SYNTH_EFFECT_REVERB | SYNTH_EFFECT_DELAY),
            EffectSwitches {
                reverb: true,
                chorus: false
            }
        );
    }

    #[test]
    fn caps_describe_a_dls2_software_synth() {
        let caps = synth_caps(DOWNLOAD_MEMORY_BYTES, EffectSwitches::default());
        assert_ne!(caps.Guid, CLSID_MiniportDriverDMusUART);
        assert_eq!(caps.Guid, CLSID_RDMUS_SYNTH);
        assert_eq!(
            caps.Flags,
            SYNTH_PC_DLS | SYNTH_PC_DLS2 | SYNTH_PC_SOFTWARESYNTH
        );
        assert_eq!(caps.Flags & SYNTH_PC_EXTERNAL, 0);
        assert_eq!(
            (caps.MaxVoices, caps.MaxChannelGroups, caps.MaxAudioChannels),
            (256, 16, 2)
        );
        assert_eq!(caps.Description[..5], [114, 100, 109, 117, 115]);
        assert_eq!(caps.Description[127], 0);
    }

    #[test]
    fn port_parameters_are_granted_within_range() {
        let asked = SYNTH_PORTPARAMS {
            ValidParams: SYNTH_PORTPARAMS_VOICES
                | SYNTH_PORTPARAMS_CHANNELGROUPS
                | SYNTH_PORTPARAMS_SAMPLERATE,
            Voices: 32,
            ChannelGroups: 40,
            SampleRate: 96_000,
            ..SYNTH_PORTPARAMS::default()
        };
        let granted = grant(&asked);
        assert_eq!((granted.Voices, granted.ChannelGroups), (32, 16));
        let many = grant(&SYNTH_PORTPARAMS {
            ValidParams: SYNTH_PORTPARAMS_VOICES,
            Voices: 100_000,
            ..SYNTH_PORTPARAMS::default()
        });
        assert_eq!(many.Voices, 256);
        assert_eq!(granted.SampleRate, 48_000);
        assert_eq!(granted.AudioChannels, 2);
        let low = grant(&SYNTH_PORTPARAMS {
            ValidParams: SYNTH_PORTPARAMS_SAMPLERATE | SYNTH_PORTPARAMS_CHANNELGROUPS,
            SampleRate: 8_000,
            ChannelGroups: 0,
            ..SYNTH_PORTPARAMS::default()
        });
        assert_eq!((low.SampleRate, low.ChannelGroups), (22_050, 1));
        let defaults = grant(&SYNTH_PORTPARAMS::default());
        assert_eq!(
            (defaults.SampleRate, defaults.ChannelGroups, defaults.Voices),
            (48_000, 16, 256)
        );
    }
}
