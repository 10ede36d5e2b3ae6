//! ksmedia.h structures for music pins.

use crate::dls::WAVEFORMATEX;
use crate::guid::GUID;
use crate::ks::{KSDATAFORMAT, KSDATARANGE, KSPROPERTY};
use crate::pin_layout;

/// `KSDATARANGE_MUSIC` (ksmedia.h): a MIDI / DirectMusic pin's data range.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSDATARANGE_MUSIC {
    /// Major `KSDATAFORMAT_TYPE_MUSIC`, sub MIDI / DIRECTMUSIC / MIDI_BUS.
    pub DataRange: KSDATARANGE,
    /// `KSMUSIC_TECHNOLOGY_*`.
    pub Technology: GUID,
    /// Channels (0 for "any").
    pub Channels: u32,
    /// Polyphony.
    pub Notes: u32,
    /// Channel bit mask (0xFFFF = all 16).
    pub ChannelMask: u32,
}
/// `PKSDATARANGE_MUSIC`.
pub type PKSDATARANGE_MUSIC = *mut KSDATARANGE_MUSIC;

pin_layout!(KSDATARANGE_MUSIC, "ksmedia.h", size (96, 96), align (8, 8), {
    DataRange: (0, 0),
    Technology: (64, 64),
    Channels: (80, 80),
    Notes: (84, 84),
    ChannelMask: (88, 88),
});

/// `KSNODEPROPERTY` (ksmedia.h): a property addressed to a topology node.
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSNODEPROPERTY {
    /// The property (with `KSPROPERTY_TYPE_TOPOLOGY`).
    pub Property: KSPROPERTY,
    /// Node id.
    pub NodeId: u32,
    /// Reserved.
    pub Reserved: u32,
}

pin_layout!(KSNODEPROPERTY, "ksmedia.h", size (32, 32), align (8, 8), { Property: (0, 0), NodeId: (24, 24), Reserved: (28, 28) });

/// `KSDATARANGE_AUDIO` (ksmedia.h): an audio pin's data range, the `KSDATARANGE` header then
/// five `ULONG`s (84 bytes of fields, 88 with the header's 8-byte alignment).
#[repr(C)]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSDATARANGE_AUDIO {
    /// Major `KSDATAFORMAT_TYPE_AUDIO`, sub e.g. `KSDATAFORMAT_SUBTYPE_PCM`, specifier e.g.
    /// `KSDATAFORMAT_SPECIFIER_WAVEFORMATEX`.
    pub DataRange: KSDATARANGE,
    /// Channels at most.
    pub MaximumChannels: u32,
    /// Bits per sample, least.
    pub MinimumBitsPerSample: u32,
    /// Bits per sample, most.
    pub MaximumBitsPerSample: u32,
    /// Sample rate, least (Hz).
    pub MinimumSampleFrequency: u32,
    /// Sample rate, most (Hz).
    pub MaximumSampleFrequency: u32,
}

pin_layout!(KSDATARANGE_AUDIO, "ksmedia.h", size (88, 88), align (8, 8), {
    DataRange: (0, 0),
    MaximumChannels: (64, 64),
    MinimumBitsPerSample: (68, 68),
    MaximumBitsPerSample: (72, 72),
    MinimumSampleFrequency: (76, 76),
    MaximumSampleFrequency: (80, 80),
});

/// `KSDATAFORMAT` as it lies inside a `#pragma pack(1)` structure: the same fields at the
/// same offsets, byte-aligned. (Rust's `packed` cannot hold the 8-aligned `KSDATAFORMAT`
/// itself; convert with `From`.)
#[repr(C, packed(1))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSDATAFORMAT_PACKED {
    /// Size of the whole format including what follows this header.
    pub FormatSize: u32,
    /// `KSDATAFORMAT_*` flags.
    pub Flags: u32,
    /// Sample size, 0 if variable.
    pub SampleSize: u32,
    /// Reserved.
    pub Reserved: u32,
    /// Major format (`KSDATAFORMAT_TYPE_*`).
    pub MajorFormat: GUID,
    /// Subformat (`KSDATAFORMAT_SUBTYPE_*`).
    pub SubFormat: GUID,
    /// Specifier (`KSDATAFORMAT_SPECIFIER_*`).
    pub Specifier: GUID,
}

pin_layout!(KSDATAFORMAT_PACKED, "ks.h KSDATAFORMAT under pack 1", size (64, 64), align (1, 1), {
    FormatSize: (0, 0),
    Flags: (4, 4),
    SampleSize: (8, 8),
    Reserved: (12, 12),
    MajorFormat: (16, 16),
    SubFormat: (32, 32),
    Specifier: (48, 48),
});

impl From<KSDATAFORMAT> for KSDATAFORMAT_PACKED {
    fn from(f: KSDATAFORMAT) -> Self {
        Self {
            FormatSize: f.FormatSize,
            Flags: f.Flags,
            SampleSize: f.SampleSize,
            Reserved: f.Reserved,
            MajorFormat: f.MajorFormat,
            SubFormat: f.SubFormat,
            Specifier: f.Specifier,
        }
    }
}

impl From<KSDATAFORMAT_PACKED> for KSDATAFORMAT {
    fn from(f: KSDATAFORMAT_PACKED) -> Self {
        Self {
            FormatSize: f.FormatSize,
            Flags: f.Flags,
            SampleSize: f.SampleSize,
            Reserved: f.Reserved,
            MajorFormat: f.MajorFormat,
            SubFormat: f.SubFormat,
            Specifier: f.Specifier,
        }
    }
}

/// `KSDATAFORMAT_WAVEFORMATEX` (ksmedia.h, inside `#include <pshpack1.h>` in mingw-w64's
/// header, `#pragma pack(1)` in others): the `KSDATAFORMAT` header, then the packed
/// `WAVEFORMATEX`, 82 bytes, byte-aligned. A wave pin's format as `NewStream` receives it.
#[repr(C, packed(1))]
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KSDATAFORMAT_WAVEFORMATEX {
    /// The header (`FormatSize` covers the whole structure and any `cbSize` extension).
    pub DataFormat: KSDATAFORMAT_PACKED,
    /// The wave format.
    pub WaveFormatEx: WAVEFORMATEX,
}

pin_layout!(KSDATAFORMAT_WAVEFORMATEX, "ksmedia.h (pack 1)", size (82, 82), align (1, 1), {
    DataFormat: (0, 0),
    WaveFormatEx: (64, 64),
});
