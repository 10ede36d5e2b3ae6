//! Every GUID dmus-sys defines, pinned against the fields of its `DEFINE_GUID` / `STATIC_*` line
//! in a public header (named per entry) and, where the header also carries one, against the
//! `DEFINE_GUIDSTRUCT` text form.

// The literals are written exactly as the headers' DEFINE_GUID lines, to compare by eye.
#![allow(clippy::unreadable_literal)]

use dmus_sys::GUID;
use dmus_sys::{com, dmus_com, dmusprop, ks_guids, portcls};

/// (the constant, the header's fields, the header's text form if it gives one, the header).
type Pin = (GUID, GUID, Option<&'static str>, &'static str);

const PINS: &[Pin] = &[
    (
        com::IID_IUnknown,
        GUID::from_fields(
            0x0000_0000,
            0x0000,
            0x0000,
            [0xc0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x46],
        ),
        None,
        "punknown.h (ReactOS, mingw-w64)",
    ),
    (
        portcls::IID_IPort,
        GUID::from_fields(
            0xb4c90a25,
            0x5791,
            0x11d0,
            [0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IMiniport,
        GUID::from_fields(
            0xb4c90a24,
            0x5791,
            0x11d0,
            [0x86, 0xf9, 0x00, 0xa0, 0xc9, 0x11, 0xb5, 0x44],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IResourceList,
        GUID::from_fields(
            0x22c6ac60,
            0x851b,
            0x11d0,
            [0x9a, 0x7f, 0x00, 0xaa, 0x00, 0x38, 0xac, 0xfe],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IServiceSink,
        GUID::from_fields(
            0x22c6ac64,
            0x851b,
            0x11d0,
            [0x9a, 0x7f, 0x00, 0xaa, 0x00, 0x38, 0xac, 0xfe],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IServiceGroup,
        GUID::from_fields(
            0x22c6ac65,
            0x851b,
            0x11d0,
            [0x9a, 0x7f, 0x00, 0xaa, 0x00, 0x38, 0xac, 0xfe],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IInterruptSync,
        GUID::from_fields(
            0x22c6ac63,
            0x851b,
            0x11d0,
            [0x9a, 0x7f, 0x00, 0xaa, 0x00, 0x38, 0xac, 0xfe],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IRegistryKey,
        GUID::from_fields(
            0xe8da4302,
            0xf304,
            0x11d0,
            [0x95, 0x8b, 0x00, 0xc0, 0x4f, 0xb9, 0x25, 0xd3],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IAdapterPowerManagement,
        GUID::from_fields(
            0x793417d0,
            0x35fe,
            0x11d1,
            [0xad, 0x08, 0x00, 0xa0, 0xc9, 0x0a, 0xb1, 0xb0],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        portcls::IID_IPowerNotify,
        GUID::from_fields(
            0x3dd648b8,
            0x969f,
            0x11d1,
            [0x95, 0xa9, 0x00, 0xc0, 0x4f, 0xb9, 0x25, 0xd3],
        ),
        None,
        "portcls.h (mingw-w64)",
    ),
    (
        dmus_com::CLSID_PortDMus,
        GUID::from_fields(
            0xb7902fe9,
            0xfb0a,
            0x11d1,
            [0x81, 0xb0, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        None,
        "dmusicks.h (mingw-w64)",
    ),
    (
        dmus_com::CLSID_MiniportDriverDMusUART,
        GUID::from_fields(
            0xd3f0ce1c,
            0xfffc,
            0x11d1,
            [0x81, 0xb0, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        None,
        "dmusicks.h (mingw-w64)",
    ),
    (
        dmus_com::CLSID_MiniportDriverDMusUARTCapture,
        GUID::from_fields(
            0xd3f0ce1d,
            0xfffc,
            0x11d1,
            [0x81, 0xb0, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        None,
        "dmusicks.h (mingw-w64)",
    ),
    (
        dmus_com::IID_IPortDMus,
        GUID::from_fields(
            0xc096df9c,
            0xfb09,
            0x11d1,
            [0x81, 0xb0, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        None,
        "dmusicks.h (mingw-w64)",
    ),
    (
        dmus_com::IID_IMiniportDMus,
        GUID::from_fields(
            0xc096df9d,
            0xfb09,
            0x11d1,
            [0x81, 0xb0, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        None,
        "dmusicks.h (mingw-w64)",
    ),
    (
        ks_guids::KSCATEGORY_AUDIO,
        GUID::from_fields(
            0x6994ad04,
            0x93ef,
            0x11d0,
            [0xa3, 0xcc, 0x00, 0xa0, 0xc9, 0x22, 0x31, 0x96],
        ),
        Some("6994ad04-93ef-11d0-a3cc-00a0c9223196"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSCATEGORY_RENDER,
        GUID::from_fields(
            0x65e8773e,
            0x8f56,
            0x11d0,
            [0xa3, 0xb9, 0x00, 0xa0, 0xc9, 0x22, 0x31, 0x96],
        ),
        Some("65e8773e-8f56-11d0-a3b9-00a0c9223196"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSCATEGORY_CAPTURE,
        GUID::from_fields(
            0x65e8773d,
            0x8f56,
            0x11d0,
            [0xa3, 0xb9, 0x00, 0xa0, 0xc9, 0x22, 0x31, 0x96],
        ),
        Some("65e8773d-8f56-11d0-a3b9-00a0c9223196"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSCATEGORY_TOPOLOGY,
        GUID::from_fields(
            0xdda54a40,
            0x1e4c,
            0x11d1,
            [0xa0, 0x50, 0x40, 0x57, 0x05, 0xc1, 0x00, 0x00],
        ),
        Some("dda54a40-1e4c-11d1-a050-405705c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSNODETYPE_SWSYNTH,
        GUID::from_fields(
            0x423274a0,
            0x8b81,
            0x11d1,
            [0xa0, 0x50, 0x00, 0x00, 0xf8, 0x00, 0x47, 0x88],
        ),
        Some("423274a0-8b81-11d1-a050-0000f8004788"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSNODETYPE_DAC,
        GUID::from_fields(
            0x507ae360,
            0xc554,
            0x11d0,
            [0x8a, 0x2b, 0x00, 0xa0, 0xc9, 0x25, 0x5a, 0xc1],
        ),
        Some("507ae360-c554-11d0-8a2b-00a0c9255ac1"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSDATAFORMAT_TYPE_MUSIC,
        GUID::from_fields(
            0xe725d360,
            0x62cc,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("e725d360-62cc-11cf-a5d6-28db04c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSDATAFORMAT_SUBTYPE_MIDI,
        GUID::from_fields(
            0x1d262760,
            0xe957,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("1d262760-e957-11cf-a5d6-28db04c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSDATAFORMAT_SUBTYPE_MIDI_BUS,
        GUID::from_fields(
            0x2ca15fa0,
            0x6cfe,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("2ca15fa0-6cfe-11cf-a5d6-28db04c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSDATAFORMAT_SUBTYPE_DIRECTMUSIC,
        GUID::from_fields(
            0x1a82f8bc,
            0x3f8b,
            0x11d2,
            [0xb7, 0x74, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        None,
        "dmksctrl.h (mingw-w64)",
    ),
    (
        ks_guids::KSDATAFORMAT_SPECIFIER_NONE,
        GUID::from_fields(
            0x0f6417d6,
            0xc318,
            0x11d0,
            [0xa4, 0x3f, 0x00, 0xa0, 0xc9, 0x22, 0x31, 0x96],
        ),
        Some("0f6417d6-c318-11d0-a43f-00a0c9223196"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSDATAFORMAT_TYPE_AUDIO,
        GUID::from_fields(
            0x73647561,
            0x0000,
            0x0010,
            [0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71],
        ),
        Some("73647561-0000-0010-8000-00aa00389b71"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSDATAFORMAT_SPECIFIER_WAVEFORMATEX,
        GUID::from_fields(
            0x05589f81,
            0xc356,
            0x11ce,
            [0xbf, 0x01, 0x00, 0xaa, 0x00, 0x55, 0x59, 0x5a],
        ),
        Some("05589f81-c356-11ce-bf01-00aa0055595a"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSMUSIC_TECHNOLOGY_PORT,
        GUID::from_fields(
            0x86c92e60,
            0x62e8,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("86c92e60-62e8-11cf-a5d6-28db04c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSMUSIC_TECHNOLOGY_SQSYNTH,
        GUID::from_fields(
            0x0ecf4380,
            0x62e9,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("0ecf4380-62e9-11cf-a5d6-28db04c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSMUSIC_TECHNOLOGY_FMSYNTH,
        GUID::from_fields(
            0x252c5c80,
            0x62e9,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("252c5c80-62e9-11cf-a5d6-28db04c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSMUSIC_TECHNOLOGY_WAVETABLE,
        GUID::from_fields(
            0x394ec7c0,
            0x62e9,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("394ec7c0-62e9-11cf-a5d6-28db04c10000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSMUSIC_TECHNOLOGY_SWSYNTH,
        GUID::from_fields(
            0x37407736,
            0x3620,
            0x11d1,
            [0x85, 0xd3, 0x00, 0x00, 0xf8, 0x75, 0x43, 0x80],
        ),
        Some("37407736-3620-11d1-85d3-0000f8754380"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSAUDFNAME_MIDI,
        GUID::from_fields(
            0x185fedf8,
            0x9905,
            0x11d1,
            [0x95, 0xa9, 0x00, 0xc0, 0x4f, 0xb9, 0x25, 0xd3],
        ),
        Some("185fedf8-9905-11d1-95a9-00c04fb925d3"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        ks_guids::KSINTERFACESETID_Standard,
        GUID::from_fields(
            0x1a8766a0,
            0x62ce,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("1a8766a0-62ce-11cf-a5d6-28db04c10000"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSMEDIUMSETID_Standard,
        GUID::from_fields(
            0x4747b320,
            0x62ce,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("4747b320-62ce-11cf-a5d6-28db04c10000"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSPROPSETID_Pin,
        GUID::from_fields(
            0x8c134960,
            0x51ad,
            0x11cf,
            [0x87, 0x8a, 0x94, 0xf8, 0x01, 0xc1, 0x00, 0x00],
        ),
        Some("8c134960-51ad-11cf-878a-94f801c10000"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSPROPSETID_General,
        GUID::from_fields(
            0x1464eda5,
            0x6a8f,
            0x11d1,
            [0x9a, 0xa7, 0x00, 0xa0, 0xc9, 0x22, 0x31, 0x96],
        ),
        Some("1464eda5-6a8f-11d1-9aa7-00a0c9223196"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSPROPSETID_Connection,
        GUID::from_fields(
            0x1d58c920,
            0xac9b,
            0x11cf,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("1d58c920-ac9b-11cf-a5d6-28db04c10000"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSPROPSETID_Stream,
        GUID::from_fields(
            0x65aaba60,
            0x98ae,
            0x11cf,
            [0xa1, 0x0d, 0x00, 0x20, 0xaf, 0xd1, 0x56, 0xe4],
        ),
        Some("65aaba60-98ae-11cf-a10d-0020afd156e4"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSPROPSETID_Topology,
        GUID::from_fields(
            0x720d4ac0,
            0x7533,
            0x11d0,
            [0xa5, 0xd6, 0x28, 0xdb, 0x04, 0xc1, 0x00, 0x00],
        ),
        Some("720d4ac0-7533-11d0-a5d6-28db04c10000"),
        "ks.h (mingw-w64)",
    ),
    (
        ks_guids::KSPROPSETID_Audio,
        GUID::from_fields(
            0x45ffaaa0,
            0x6e1b,
            0x11d0,
            [0xbc, 0xf2, 0x44, 0x45, 0x53, 0x54, 0x00, 0x00],
        ),
        Some("45ffaaa0-6e1b-11d0-bcf2-444553540000"),
        "ksmedia.h (mingw-w64)",
    ),
    (
        dmus_com::IID_IMXF,
        GUID::from_fields(
            0xc096df9e,
            0xfb09,
            0x11d1,
            [0x81, 0xb0, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        Some("c096df9e-fb09-11d1-81b0-0060083316c1"),
        "dmusicks.h (ReactOS STATIC_IID_IMXF)",
    ),
    (
        dmus_com::IID_IAllocatorMXF,
        GUID::from_fields(
            0xa5f0d62c,
            0xb30f,
            0x11d2,
            [0xb7, 0xa3, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        Some("a5f0d62c-b30f-11d2-b7a3-0060083316c1"),
        "dmusicks.h (ReactOS STATIC_IID_IAllocatorMXF)",
    ),
    (
        dmus_com::IID_ISynthSinkDMus,
        GUID::from_fields(
            0x1f476974,
            0x679b,
            0x11d2,
            [0x8f, 0x7d, 0x00, 0xc0, 0x4f, 0xbf, 0x8f, 0xef],
        ),
        Some("1f476974-679b-11d2-8f7d-00c04fbf8fef"),
        "dmusicks.h (DDK 1998 STATIC_IID_ISynthSinkDMus)",
    ),
    (
        ks_guids::KSAUDFNAME_DMUSIC_MPU_OUT,
        GUID::from_fields(
            0xa4df0eb5,
            0xbac9,
            0x11d2,
            [0xb7, 0xa8, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        Some("A4DF0EB5-BAC9-11d2-B7A8-0060083316C1"),
        "dmusicks.h (ReactOS)",
    ),
    (
        ks_guids::KSAUDFNAME_DMUSIC_MPU_IN,
        GUID::from_fields(
            0xb2ec0a7d,
            0xbac9,
            0x11d2,
            [0xb7, 0xa8, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1],
        ),
        Some("B2EC0A7D-BAC9-11d2-B7A8-0060083316C1"),
        "dmusicks.h (ReactOS)",
    ),
    // DEFINE_USB_TERMINAL_GUID(0x0713) = 0xDFF219E0 + 0x0713, 0xF70F, 0x11D0, B9 17 00 A0 C9 22 31 96.
    (
        ks_guids::KSNODETYPE_SYNTHESIZER,
        GUID::from_fields(
            0xdff219e0 + 0x0713,
            0xf70f,
            0x11d0,
            [0xb9, 0x17, 0x00, 0xa0, 0xc9, 0x22, 0x31, 0x96],
        ),
        Some("DFF220F3-F70F-11D0-B917-00A0C9223196"),
        "ksmedia.h (mingw-w64)",
    ),
    // DEFINE_WAVEFORMATEX_GUID(WAVE_FORMAT_PCM = 1).
    (
        ks_guids::KSDATAFORMAT_SUBTYPE_PCM,
        GUID::from_fields(
            0x0000_0001,
            0x0000,
            0x0010,
            [0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71],
        ),
        Some("00000001-0000-0010-8000-00aa00389b71"),
        "ksmedia.h (mingw-w64)",
    ),
    // dmusicc.h: GUID_DMUS_PROP_Volume is the same GUID (volume is KSPROPERTY_SYNTH_VOLUME of this set).
    (
        dmusprop::KSPROPSETID_Synth,
        GUID::from_fields(
            0xfedfae25,
            0xe46e,
            0x11d1,
            [0xaa, 0xce, 0x00, 0x00, 0xf8, 0x75, 0xac, 0x12],
        ),
        Some("fedfae25-e46e-11d1-aace-0000f875ac12"),
        "dmusprop.h (via docs/reference.md); dmusicc.h GUID_DMUS_PROP_Volume",
    ),
    (
        dmusprop::KSPROPSETID_Synth_Dls,
        GUID::from_fields(
            0xd523fa2c,
            0xdee3,
            0x11d1,
            [0xa7, 0x89, 0x00, 0x00, 0xf8, 0x75, 0xac, 0x12],
        ),
        Some("d523fa2c-dee3-11d1-a789-0000f875ac12"),
        "dmusprop.h (via docs/reference.md)",
    ),
    (
        dmusprop::KSPROPSETID_SynthClock,
        GUID::from_fields(
            0xfedfae26,
            0xe46e,
            0x11d1,
            [0xaa, 0xce, 0x00, 0x00, 0xf8, 0x75, 0xac, 0x12],
        ),
        Some("fedfae26-e46e-11d1-aace-0000f875ac12"),
        "dmusprop.h (via docs/reference.md)",
    ),
];

#[test]
fn every_guid_matches_its_header_fields() {
    assert_eq!(PINS.len(), 52, "one pin per GUID constant");
    for (constant, fields, _, header) in PINS {
        assert_eq!(constant, fields, "{header}: {constant:x?} != {fields:x?}");
    }
}

#[test]
fn every_text_form_parses_to_the_same_guid() {
    let mut checked = 0;
    for (constant, _, text, header) in PINS {
        if let Some(text) = text {
            assert_eq!(GUID::parse(text), *constant, "{header}: {text}");
            checked += 1;
        }
    }
    assert!(checked >= 35, "only {checked} text forms checked");
}

#[test]
fn no_two_distinct_names_share_a_guid() {
    // KSCATEGORY_SYNTHESIZER is defined as KSNODETYPE_SYNTHESIZER, so it is not in the list.
    for (i, a) in PINS.iter().enumerate() {
        for b in &PINS[i + 1..] {
            assert_ne!(a.0, b.0, "{} and {} collide", a.3, b.3);
        }
    }
    assert_eq!(
        ks_guids::KSCATEGORY_SYNTHESIZER,
        ks_guids::KSNODETYPE_SYNTHESIZER
    );
}

#[test]
fn data4_keeps_byte_order_and_data1_is_little_endian_in_memory() {
    let guid = dmus_com::IID_IMXF;
    assert_eq!(guid.Data1, 0xc096_df9e);
    assert_eq!(guid.Data4, [0x81, 0xb0, 0x00, 0x60, 0x08, 0x33, 0x16, 0xc1]);
    assert_eq!(core::mem::size_of::<GUID>(), 16);
}

#[test]
#[should_panic(expected = "non-hex digit")]
fn parse_rejects_a_non_hex_digit() {
    let _ = GUID::parse("c096df9e-fb09-11d1-81b0-0060083316cg");
}

#[test]
#[should_panic(expected = "36 characters")]
fn parse_rejects_braces() {
    let _ = GUID::parse("{c096df9e-fb09-11d1-81b0-0060083316c1}");
}

#[test]
#[should_panic(expected = "dashes")]
fn parse_rejects_a_misplaced_dash() {
    let _ = GUID::parse("c096df9efb09--11d1-81b0-0060083316c1");
}
