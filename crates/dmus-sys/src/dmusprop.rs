//! DirectMusic synth properties (dmusprop.h): the `KSPROPSETID_Synth*` sets, their ids, and the
//! property value structures.
//!
//! Sources. Structure layouts: the dmusprop.h syntax blocks on learn.microsoft.com
//! (`ns-dmusprop-_synthcaps`, `_synth_portparams`, `_synth_stats`, `_synthvoicepriority_instance`,
//! `_synth_buffer`, `_synthdownload`; MicrosoftDocs/windows-driver-docs-ddi). dmusprop.h
//! itself is in none of the public header sets reachable here (not in ReactOS or mingw-w64),
//! so the flag values are those of the DirectMusic SDK constants the SYNTH_ ones mirror
//! (dmusicc.h `DMUS_PC_*`, `DMUS_PORTPARAMS_*`, `DMUS_SYNTHSTATS_*`, `DMUS_EFFECT_*`, checked
//! in mingw-w64 include/dmusicc.h); DirectMusic's user-mode port code asserts the
//! `DMUS_PORTPARAMS_* == SYNTH_PORTPARAMS_*` equalities. The property-set GUIDs are those of
//! the project's reference (dmusprop.h); `KSPROPSETID_Synth` also equals dmusicc.h's
//! `GUID_DMUS_PROP_Volume`. tests/guids.rs pins all of them.

use crate::guid::GUID;
use crate::kernel::{PVOID, WCHAR};
use crate::pin_layout;

/// `KSPROPSETID_Synth` (dmusprop.h): synth configuration, on the synth node.
pub const KSPROPSETID_Synth: GUID = GUID::parse("fedfae25-e46e-11d1-aace-0000f875ac12");
/// `KSPROPSETID_Synth_Dls` (dmusprop.h): DLS download and unload.
pub const KSPROPSETID_Synth_Dls: GUID = GUID::parse("d523fa2c-dee3-11d1-a789-0000f875ac12");
/// `KSPROPSETID_SynthClock` (dmusprop.h): the synth's master clock.
pub const KSPROPSETID_SynthClock: GUID = GUID::parse("fedfae26-e46e-11d1-aace-0000f875ac12");

/// `KSPROPERTY_SYNTH_VOLUME` (`KSPROPERTY_SYNTH` enum): LONG, 1/100 dB.
pub const KSPROPERTY_SYNTH_VOLUME: u32 = 0;
/// `KSPROPERTY_SYNTH_VOLUMEBOOST`: LONG, 1/100 dB.
pub const KSPROPERTY_SYNTH_VOLUMEBOOST: u32 = 1;
/// `KSPROPERTY_SYNTH_CAPS`: `SYNTHCAPS`.
pub const KSPROPERTY_SYNTH_CAPS: u32 = 2;
/// `KSPROPERTY_SYNTH_PORTPARAMETERS`: `SYNTH_PORTPARAMS`.
pub const KSPROPERTY_SYNTH_PORTPARAMETERS: u32 = 3;
/// `KSPROPERTY_SYNTH_CHANNELGROUPS`: ULONG.
pub const KSPROPERTY_SYNTH_CHANNELGROUPS: u32 = 4;
/// `KSPROPERTY_SYNTH_VOICEPRIORITY`: `SYNTHVOICEPRIORITY_INSTANCE` → DWORD.
pub const KSPROPERTY_SYNTH_VOICEPRIORITY: u32 = 5;
/// `KSPROPERTY_SYNTH_LATENCYCLOCK`: ULONGLONG, 100 ns.
pub const KSPROPERTY_SYNTH_LATENCYCLOCK: u32 = 6;
/// `KSPROPERTY_SYNTH_RUNNINGSTATS`: `SYNTH_STATS`.
pub const KSPROPERTY_SYNTH_RUNNINGSTATS: u32 = 7;

/// `KSPROPERTY_SYNTH_DLS_DOWNLOAD` (`KSPROPERTY_SYNTH_DLS` enum): `SYNTH_BUFFER` →
/// `SYNTHDOWNLOAD`.
pub const KSPROPERTY_SYNTH_DLS_DOWNLOAD: u32 = 0;
/// `KSPROPERTY_SYNTH_DLS_UNLOAD`: HANDLE.
pub const KSPROPERTY_SYNTH_DLS_UNLOAD: u32 = 1;
/// `KSPROPERTY_SYNTH_DLS_COMPACT`.
pub const KSPROPERTY_SYNTH_DLS_COMPACT: u32 = 2;
/// `KSPROPERTY_SYNTH_DLS_APPEND`: ULONG.
pub const KSPROPERTY_SYNTH_DLS_APPEND: u32 = 3;
/// `KSPROPERTY_SYNTH_DLS_WAVEFORMAT`: WAVEFORMATEX.
pub const KSPROPERTY_SYNTH_DLS_WAVEFORMAT: u32 = 4;

/// `KSPROPERTY_SYNTH_MASTERCLOCK` (`KSPROPERTY_SYNTHCLOCK` enum): ULONGLONG, 100 ns.
pub const KSPROPERTY_SYNTH_MASTERCLOCK: u32 = 0;

/// `SYNTH_PC_DLS`: supports DLS level 1.
pub const SYNTH_PC_DLS: u32 = 0x0000_0001;
/// `SYNTH_PC_EXTERNAL`: a connection to external hardware.
pub const SYNTH_PC_EXTERNAL: u32 = 0x0000_0002;
/// `SYNTH_PC_SOFTWARESYNTH`: a software synthesizer.
pub const SYNTH_PC_SOFTWARESYNTH: u32 = 0x0000_0004;
/// `SYNTH_PC_MEMORYSIZEFIXED`: `MemorySize` is the device's fixed sample memory.
pub const SYNTH_PC_MEMORYSIZEFIXED: u32 = 0x0000_0008;
/// `SYNTH_PC_GMINHARDWARE`.
pub const SYNTH_PC_GMINHARDWARE: u32 = 0x0000_0010;
/// `SYNTH_PC_GSINHARDWARE`.
pub const SYNTH_PC_GSINHARDWARE: u32 = 0x0000_0020;
/// `SYNTH_PC_REVERB`.
pub const SYNTH_PC_REVERB: u32 = 0x0000_0040;
/// `SYNTH_PC_DLS2`: supports DLS level 2.
pub const SYNTH_PC_DLS2: u32 = 0x0000_0200;
/// `SYNTH_PC_SYSTEMMEMORY`: a `MemorySize` meaning "system memory, no fixed limit".
pub const SYNTH_PC_SYSTEMMEMORY: u32 = 0x7fff_ffff;

/// `SYNTH_EFFECT_NONE`.
pub const SYNTH_EFFECT_NONE: u32 = 0x0000_0000;
/// `SYNTH_EFFECT_REVERB`.
pub const SYNTH_EFFECT_REVERB: u32 = 0x0000_0001;
/// `SYNTH_EFFECT_CHORUS`.
pub const SYNTH_EFFECT_CHORUS: u32 = 0x0000_0002;
/// `SYNTH_EFFECT_DELAY`.
pub const SYNTH_EFFECT_DELAY: u32 = 0x0000_0004;

/// `SYNTH_PORTPARAMS_VOICES`.
pub const SYNTH_PORTPARAMS_VOICES: u32 = 0x0000_0001;
/// `SYNTH_PORTPARAMS_CHANNELGROUPS`.
pub const SYNTH_PORTPARAMS_CHANNELGROUPS: u32 = 0x0000_0002;
/// `SYNTH_PORTPARAMS_AUDIOCHANNELS`.
pub const SYNTH_PORTPARAMS_AUDIOCHANNELS: u32 = 0x0000_0004;
/// `SYNTH_PORTPARAMS_SAMPLERATE`.
pub const SYNTH_PORTPARAMS_SAMPLERATE: u32 = 0x0000_0008;
/// `SYNTH_PORTPARAMS_EFFECTS`.
pub const SYNTH_PORTPARAMS_EFFECTS: u32 = 0x0000_0020;
/// `SYNTH_PORTPARAMS_SHARE`.
pub const SYNTH_PORTPARAMS_SHARE: u32 = 0x0000_0040;

/// `SYNTH_STATS_VOICES`.
pub const SYNTH_STATS_VOICES: u32 = 0x0000_0001;
/// `SYNTH_STATS_TOTAL_CPU`.
pub const SYNTH_STATS_TOTAL_CPU: u32 = 0x0000_0002;
/// `SYNTH_STATS_CPU_PER_VOICE`.
pub const SYNTH_STATS_CPU_PER_VOICE: u32 = 0x0000_0004;
/// `SYNTH_STATS_LOST_NOTES`.
pub const SYNTH_STATS_LOST_NOTES: u32 = 0x0000_0008;
/// `SYNTH_STATS_PEAK_VOLUME`.
pub const SYNTH_STATS_PEAK_VOLUME: u32 = 0x0000_0010;
/// `SYNTH_STATS_FREE_MEMORY`.
pub const SYNTH_STATS_FREE_MEMORY: u32 = 0x0000_0020;

/// `SYNTHCAPS` (dmusprop.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SYNTHCAPS {
    /// Class id of the miniport.
    pub Guid: GUID,
    /// `SYNTH_PC_*`.
    pub Flags: u32,
    /// Sample memory in bytes, or `SYNTH_PC_SYSTEMMEMORY`.
    pub MemorySize: u32,
    /// Channel groups supported.
    pub MaxChannelGroups: u32,
    /// Voices supported, or `u32::MAX` if unknown.
    pub MaxVoices: u32,
    /// Audio channels, or `u32::MAX` if unknown.
    pub MaxAudioChannels: u32,
    /// `SYNTH_EFFECT_*`.
    pub EffectFlags: u32,
    /// NUL-terminated description.
    pub Description: [WCHAR; 128],
}
/// `PSYNTHCAPS`.
pub type PSYNTHCAPS = *mut SYNTHCAPS;

pin_layout!(SYNTHCAPS, "dmusprop.h", size (296, 296), align (4, 4), {
    Guid: (0, 0),
    Flags: (16, 16),
    MemorySize: (20, 20),
    MaxChannelGroups: (24, 24),
    MaxVoices: (28, 28),
    MaxAudioChannels: (32, 32),
    EffectFlags: (36, 36),
    Description: (40, 40),
});

/// `SYNTH_PORTPARAMS` (dmusprop.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SYNTH_PORTPARAMS {
    /// `SYNTH_PORTPARAMS_*`: which members are valid.
    pub ValidParams: u32,
    /// Voices.
    pub Voices: u32,
    /// Channel groups.
    pub ChannelGroups: u32,
    /// Audio channels.
    pub AudioChannels: u32,
    /// Sample rate, Hz.
    pub SampleRate: u32,
    /// `SYNTH_EFFECT_*`.
    pub EffectsFlags: u32,
    /// Whether channel groups are shared (BOOL).
    pub Share: u32,
}
/// `PSYNTH_PORTPARAMS`.
pub type PSYNTH_PORTPARAMS = *mut SYNTH_PORTPARAMS;

pin_layout!(SYNTH_PORTPARAMS, "dmusprop.h", size (28, 28), align (4, 4), {
    ValidParams: (0, 0),
    Voices: (4, 4),
    ChannelGroups: (8, 8),
    AudioChannels: (12, 12),
    SampleRate: (16, 16),
    EffectsFlags: (20, 20),
    Share: (24, 24),
});

/// `SYNTH_STATS` (dmusprop.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SYNTH_STATS {
    /// `SYNTH_STATS_*`: which members are valid.
    pub ValidStats: u32,
    /// Average voices playing.
    pub Voices: u32,
    /// Total CPU, percent × 100.
    pub TotalCPU: u32,
    /// CPU per voice, percent × 100.
    pub CPUPerVoice: u32,
    /// Notes lost.
    pub LostNotes: u32,
    /// Free sample memory, bytes.
    pub FreeMemory: u32,
    /// Peak volume, dB × 100.
    pub PeakVolume: i32,
}
/// `PSYNTH_STATS`.
pub type PSYNTH_STATS = *mut SYNTH_STATS;

pin_layout!(SYNTH_STATS, "dmusprop.h", size (28, 28), align (4, 4), {
    ValidStats: (0, 0),
    Voices: (4, 4),
    TotalCPU: (8, 8),
    CPUPerVoice: (12, 12),
    LostNotes: (16, 16),
    FreeMemory: (20, 20),
    PeakVolume: (24, 24),
});

/// `SYNTHVOICEPRIORITY_INSTANCE` (dmusprop.h).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SYNTHVOICEPRIORITY_INSTANCE {
    /// Channel group (from 0).
    pub ChannelGroup: u32,
    /// Channel 0..=15.
    pub Channel: u32,
}

pin_layout!(SYNTHVOICEPRIORITY_INSTANCE, "dmusprop.h", size (8, 8), align (4, 4), {
    ChannelGroup: (0, 0),
    Channel: (4, 4),
});

/// `SYNTH_BUFFER` (dmusprop.h): the `KSPROPERTY_SYNTH_DLS_DOWNLOAD` input.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SYNTH_BUFFER {
    /// Bytes at `BufferAddress`.
    pub BufferSize: u32,
    /// A user-mode address (must be probed and locked before use).
    pub BufferAddress: PVOID,
}

pin_layout!(SYNTH_BUFFER, "dmusprop.h", size (8, 16), align (4, 8), {
    BufferSize: (0, 0),
    BufferAddress: (4, 8),
});

/// `SYNTHDOWNLOAD` (dmusprop.h): the `KSPROPERTY_SYNTH_DLS_DOWNLOAD` result.
#[repr(C)]
#[derive(Clone, Copy, Debug)]
pub struct SYNTHDOWNLOAD {
    /// Handle naming the download (`HANDLE`).
    pub DownloadHandle: PVOID,
    /// Whether the client may free its buffer now (BOOL).
    pub Free: i32,
}

pin_layout!(SYNTHDOWNLOAD, "dmusprop.h", size (8, 16), align (4, 8), {
    DownloadHandle: (0, 0),
    Free: (4, 8),
});
