//! ksmedia.h structures for music pins.

use crate::guid::GUID;
use crate::ks::{KSDATARANGE, KSPROPERTY};
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
