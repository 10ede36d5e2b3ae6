//! KS and ksmedia GUIDs the DMus and MPU-401 filters use (ks.h, ksmedia.h, dmksctrl.h,
//! dmusicks.h). Each is pinned in tests/guids.rs against the fields of its `STATIC_*` /
//! `DEFINE_GUID` line.

use crate::guid::GUID;

/// `KSCATEGORY_AUDIO` (ksmedia.h).
pub const KSCATEGORY_AUDIO: GUID = GUID::parse("6994ad04-93ef-11d0-a3cc-00a0c9223196");
/// `KSCATEGORY_RENDER` (ks.h).
pub const KSCATEGORY_RENDER: GUID = GUID::parse("65e8773e-8f56-11d0-a3b9-00a0c9223196");
/// `KSCATEGORY_CAPTURE` (ks.h).
pub const KSCATEGORY_CAPTURE: GUID = GUID::parse("65e8773d-8f56-11d0-a3b9-00a0c9223196");
/// `KSCATEGORY_TOPOLOGY` (ks.h).
pub const KSCATEGORY_TOPOLOGY: GUID = GUID::parse("dda54a40-1e4c-11d1-a050-405705c10000");
/// `KSCATEGORY_DATATRANSFORM` (ks.h): a software synthesizer with a wave pin registers it.
pub const KSCATEGORY_DATATRANSFORM: GUID = GUID::parse("2eb07ea0-7e70-11d0-a5d6-28db04c10000");
/// `KSCATEGORY_WDMAUD_USE_PIN_NAME` (ksmedia.h): a pin category telling wdmaud to show the
/// pin's `KSPROPERTY_PIN_NAME` rather than the device's name.
pub const KSCATEGORY_WDMAUD_USE_PIN_NAME: GUID =
    GUID::parse("47a4fa20-a251-11d1-a050-0000f8004788");
/// `KSNODETYPE_SYNTHESIZER` (ksmedia.h, `DEFINE_USB_TERMINAL_GUID(0x0713)`); also
/// `KSCATEGORY_SYNTHESIZER`.
pub const KSNODETYPE_SYNTHESIZER: GUID = GUID::parse("dff220f3-f70f-11d0-b917-00a0c9223196");
/// `KSCATEGORY_SYNTHESIZER` (ksmedia.h: `= KSNODETYPE_SYNTHESIZER`).
pub const KSCATEGORY_SYNTHESIZER: GUID = KSNODETYPE_SYNTHESIZER;
/// `KSNODETYPE_SWSYNTH` (ksmedia.h).
pub const KSNODETYPE_SWSYNTH: GUID = GUID::parse("423274a0-8b81-11d1-a050-0000f8004788");
/// `KSNODETYPE_DAC` (ksmedia.h).
pub const KSNODETYPE_DAC: GUID = GUID::parse("507ae360-c554-11d0-8a2b-00a0c9255ac1");

/// `KSDATAFORMAT_TYPE_MUSIC` (ksmedia.h).
pub const KSDATAFORMAT_TYPE_MUSIC: GUID = GUID::parse("e725d360-62cc-11cf-a5d6-28db04c10000");
/// `KSDATAFORMAT_SUBTYPE_MIDI` (ksmedia.h): KSMUSICFORMAT records.
pub const KSDATAFORMAT_SUBTYPE_MIDI: GUID = GUID::parse("1d262760-e957-11cf-a5d6-28db04c10000");
/// `KSDATAFORMAT_SUBTYPE_MIDI_BUS` (ksmedia.h): a bridge pin to a MIDI bus.
pub const KSDATAFORMAT_SUBTYPE_MIDI_BUS: GUID = GUID::parse("2ca15fa0-6cfe-11cf-a5d6-28db04c10000");
/// `KSDATAFORMAT_SUBTYPE_DIRECTMUSIC` (dmksctrl.h, dmusprop.h): DMUS_EVENTHEADER records.
pub const KSDATAFORMAT_SUBTYPE_DIRECTMUSIC: GUID =
    GUID::parse("1a82f8bc-3f8b-11d2-b774-0060083316c1");
/// `KSDATAFORMAT_SPECIFIER_NONE` (ks.h).
pub const KSDATAFORMAT_SPECIFIER_NONE: GUID = GUID::parse("0f6417d6-c318-11d0-a43f-00a0c9223196");
/// `KSDATAFORMAT_TYPE_AUDIO` (ksmedia.h).
pub const KSDATAFORMAT_TYPE_AUDIO: GUID = GUID::parse("73647561-0000-0010-8000-00aa00389b71");
/// `KSDATAFORMAT_SUBTYPE_PCM` (ksmedia.h).
pub const KSDATAFORMAT_SUBTYPE_PCM: GUID = GUID::parse("00000001-0000-0010-8000-00aa00389b71");
/// `KSDATAFORMAT_SPECIFIER_WAVEFORMATEX` (ksmedia.h).
pub const KSDATAFORMAT_SPECIFIER_WAVEFORMATEX: GUID =
    GUID::parse("05589f81-c356-11ce-bf01-00aa0055595a");

/// `KSMUSIC_TECHNOLOGY_PORT` (ksmedia.h): an output port (external device).
pub const KSMUSIC_TECHNOLOGY_PORT: GUID = GUID::parse("86c92e60-62e8-11cf-a5d6-28db04c10000");
/// `KSMUSIC_TECHNOLOGY_SQSYNTH` (ksmedia.h).
pub const KSMUSIC_TECHNOLOGY_SQSYNTH: GUID = GUID::parse("0ecf4380-62e9-11cf-a5d6-28db04c10000");
/// `KSMUSIC_TECHNOLOGY_FMSYNTH` (ksmedia.h).
pub const KSMUSIC_TECHNOLOGY_FMSYNTH: GUID = GUID::parse("252c5c80-62e9-11cf-a5d6-28db04c10000");
/// `KSMUSIC_TECHNOLOGY_WAVETABLE` (ksmedia.h).
pub const KSMUSIC_TECHNOLOGY_WAVETABLE: GUID = GUID::parse("394ec7c0-62e9-11cf-a5d6-28db04c10000");
/// `KSMUSIC_TECHNOLOGY_SWSYNTH` (ksmedia.h): a software synthesizer.
pub const KSMUSIC_TECHNOLOGY_SWSYNTH: GUID = GUID::parse("37407736-3620-11d1-85d3-0000f8754380");

/// `KSAUDFNAME_DMUSIC_MPU_OUT` (dmusicks.h): pin name of the MPU-401 output.
pub const KSAUDFNAME_DMUSIC_MPU_OUT: GUID = GUID::parse("a4df0eb5-bac9-11d2-b7a8-0060083316c1");
/// `KSAUDFNAME_DMUSIC_MPU_IN` (dmusicks.h): pin name of the MPU-401 input.
pub const KSAUDFNAME_DMUSIC_MPU_IN: GUID = GUID::parse("b2ec0a7d-bac9-11d2-b7a8-0060083316c1");
/// `KSAUDFNAME_MIDI` (ksmedia.h).
pub const KSAUDFNAME_MIDI: GUID = GUID::parse("185fedf8-9905-11d1-95a9-00c04fb925d3");

/// `KSINTERFACESETID_Standard` (ks.h).
pub const KSINTERFACESETID_Standard: GUID = GUID::parse("1a8766a0-62ce-11cf-a5d6-28db04c10000");
/// `KSMEDIUMSETID_Standard` (ks.h).
pub const KSMEDIUMSETID_Standard: GUID = GUID::parse("4747b320-62ce-11cf-a5d6-28db04c10000");

/// `KSPROPSETID_Pin` (ks.h).
pub const KSPROPSETID_Pin: GUID = GUID::parse("8c134960-51ad-11cf-878a-94f801c10000");
/// `KSPROPSETID_General` (ks.h).
pub const KSPROPSETID_General: GUID = GUID::parse("1464eda5-6a8f-11d1-9aa7-00a0c9223196");
/// `KSPROPSETID_Connection` (ks.h).
pub const KSPROPSETID_Connection: GUID = GUID::parse("1d58c920-ac9b-11cf-a5d6-28db04c10000");
/// `KSPROPSETID_Stream` (ks.h).
pub const KSPROPSETID_Stream: GUID = GUID::parse("65aaba60-98ae-11cf-a10d-0020afd156e4");
/// `KSPROPSETID_Topology` (ks.h).
pub const KSPROPSETID_Topology: GUID = GUID::parse("720d4ac0-7533-11d0-a5d6-28db04c10000");
/// `KSPROPSETID_Audio` (ksmedia.h).
pub const KSPROPSETID_Audio: GUID = GUID::parse("45ffaaa0-6e1b-11d0-bcf2-444553540000");

/// `KSPROPERTY_PIN` ids (ks.h enum, from 0).
pub mod pin_property {
    /// `KSPROPERTY_PIN_CINSTANCES`.
    pub const KSPROPERTY_PIN_CINSTANCES: u32 = 0;
    /// `KSPROPERTY_PIN_CTYPES`.
    pub const KSPROPERTY_PIN_CTYPES: u32 = 1;
    /// `KSPROPERTY_PIN_DATAFLOW`.
    pub const KSPROPERTY_PIN_DATAFLOW: u32 = 2;
    /// `KSPROPERTY_PIN_DATARANGES`.
    pub const KSPROPERTY_PIN_DATARANGES: u32 = 3;
    /// `KSPROPERTY_PIN_DATAINTERSECTION`.
    pub const KSPROPERTY_PIN_DATAINTERSECTION: u32 = 4;
    /// `KSPROPERTY_PIN_INTERFACES`.
    pub const KSPROPERTY_PIN_INTERFACES: u32 = 5;
    /// `KSPROPERTY_PIN_MEDIUMS`.
    pub const KSPROPERTY_PIN_MEDIUMS: u32 = 6;
    /// `KSPROPERTY_PIN_COMMUNICATION`.
    pub const KSPROPERTY_PIN_COMMUNICATION: u32 = 7;
    /// `KSPROPERTY_PIN_GLOBALCINSTANCES`.
    pub const KSPROPERTY_PIN_GLOBALCINSTANCES: u32 = 8;
    /// `KSPROPERTY_PIN_NECESSARYINSTANCES`.
    pub const KSPROPERTY_PIN_NECESSARYINSTANCES: u32 = 9;
    /// `KSPROPERTY_PIN_PHYSICALCONNECTION`.
    pub const KSPROPERTY_PIN_PHYSICALCONNECTION: u32 = 10;
    /// `KSPROPERTY_PIN_CATEGORY`.
    pub const KSPROPERTY_PIN_CATEGORY: u32 = 11;
    /// `KSPROPERTY_PIN_NAME`.
    pub const KSPROPERTY_PIN_NAME: u32 = 12;
    /// `KSPROPERTY_PIN_CONSTRAINEDDATARANGES`.
    pub const KSPROPERTY_PIN_CONSTRAINEDDATARANGES: u32 = 13;
    /// `KSPROPERTY_PIN_PROPOSEDATAFORMAT`.
    pub const KSPROPERTY_PIN_PROPOSEDATAFORMAT: u32 = 14;
}
pub use pin_property::*;

/// `KSPROPERTY_GENERAL_COMPONENTID` (ks.h, the first of `KSPROPERTY_GENERAL`).
pub const KSPROPERTY_GENERAL_COMPONENTID: u32 = 0;

/// `KSPROPERTY_TOPOLOGY` ids (ks.h enum, from 0).
pub mod topology_property {
    /// `KSPROPERTY_TOPOLOGY_CATEGORIES`.
    pub const KSPROPERTY_TOPOLOGY_CATEGORIES: u32 = 0;
    /// `KSPROPERTY_TOPOLOGY_NODES`.
    pub const KSPROPERTY_TOPOLOGY_NODES: u32 = 1;
    /// `KSPROPERTY_TOPOLOGY_CONNECTIONS`.
    pub const KSPROPERTY_TOPOLOGY_CONNECTIONS: u32 = 2;
    /// `KSPROPERTY_TOPOLOGY_NAME`.
    pub const KSPROPERTY_TOPOLOGY_NAME: u32 = 3;
}
pub use topology_property::*;
