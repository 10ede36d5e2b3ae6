//! Plain values shared by the file model, the download parser and the synth.

use alloc::vec::Vec;
use dmus_sys::dls::F_INSTRUMENT_DRUMS;

/// An inclusive range of MIDI keys or velocities (`RGNRANGE`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct KeyRange {
    /// Lowest value, inclusive.
    pub low: u16,
    /// Highest value, inclusive.
    pub high: u16,
}

impl KeyRange {
    /// The full MIDI range 0..=127.
    pub const FULL: Self = Self { low: 0, high: 127 };

    /// Whether `value` lies in the range.
    #[must_use]
    pub fn contains(&self, value: u16) -> bool {
        self.low <= value && value <= self.high
    }
}

/// One connection block (`CONNECTION`): `source × control × scale → destination`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Connection {
    /// `CONN_SRC_*`.
    pub source: u16,
    /// `CONN_SRC_*` of the controlling source.
    pub control: u16,
    /// `CONN_DST_*`.
    pub destination: u16,
    /// `CONN_TRN_*` and DLS2 transform bits.
    pub transform: u16,
    /// 16.16 fixed-point scale in the destination's unit.
    pub scale: i32,
}

/// Which articulation chunk a block came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ArticulationLevel {
    /// `art1` (DLS Level 1).
    Dls1,
    /// `art2` (DLS Level 2).
    Dls2,
}

/// A list of connection blocks: one `art1`/`art2` chunk, or one `DMUS_ARTICULATION2` link.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ConnectionBlock {
    /// The chunk the block came from (download buffers do not say; they report `Dls2`).
    pub level: ArticulationLevel,
    /// The connections, in order.
    pub connections: Vec<Connection>,
}

/// A sample loop (`WLOOP`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WaveLoop {
    /// `WLOOP_TYPE_*`.
    pub kind: u32,
    /// First sample of the loop.
    pub start: u32,
    /// Length in samples.
    pub length: u32,
}

/// Sample playback info (`WSMPL` plus its first loop). DLS allows at most one loop per sample;
/// further loops are ignored.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SampleInfo {
    /// Key at which the sample plays at its recorded pitch.
    pub unity_note: u16,
    /// Fine tune, relative pitch units.
    pub fine_tune: i16,
    /// Attenuation, relative gain units.
    pub attenuation: i32,
    /// `F_WSMP_*`.
    pub options: u32,
    /// The loop, if the sample loops.
    pub wave_loop: Option<WaveLoop>,
}

/// The part of `WAVEFORMATEX` a DLS synth needs.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WaveFormat {
    /// `WAVE_FORMAT_*` tag.
    pub format_tag: u16,
    /// Channels.
    pub channels: u16,
    /// Sample frames per second.
    pub sample_rate: u32,
    /// Bytes per second.
    pub avg_bytes_per_sec: u32,
    /// Bytes per frame.
    pub block_align: u16,
    /// Bits per sample.
    pub bits_per_sample: u16,
}

impl WaveFormat {
    /// Whether this is the only format the synth plays: PCM, mono, 8 or 16 bits, a non-zero
    /// rate, and a block alignment that matches the sample size.
    #[must_use]
    pub fn is_playable(&self) -> bool {
        self.format_tag == dmus_sys::dls::WAVE_FORMAT_PCM
            && self.channels == 1
            && matches!(self.bits_per_sample, 8 | 16)
            && u32::from(self.block_align) * 8 == u32::from(self.bits_per_sample)
            && self.sample_rate != 0
    }
}

/// A MIDI patch as `DirectMusic` writes it in `DMUS_INSTRUMENT::ulPatch`:
/// `drum << 31 | bank MSB << 16 | bank LSB << 8 | program`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Patch(pub u32);

impl Patch {
    /// The patch of a `MIDILOCALE` (`ulBank`, `ulInstrument`): CC0 from bits 8..15 of the bank,
    /// CC32 from bits 0..7, the drum flag from bit 31.
    #[must_use]
    pub fn from_locale(bank: u32, program: u32) -> Self {
        Self((bank & F_INSTRUMENT_DRUMS) | ((bank & 0x7f7f) << 8) | (program & 0x7f))
    }

    /// Whether this is a drum kit.
    #[must_use]
    pub fn is_drum(self) -> bool {
        self.0 & F_INSTRUMENT_DRUMS != 0
    }

    /// Bank select MSB (CC0).
    #[must_use]
    pub fn bank_msb(self) -> u8 {
        ((self.0 >> 16) & 0x7f) as u8
    }

    /// Bank select LSB (CC32).
    #[must_use]
    pub fn bank_lsb(self) -> u8 {
        ((self.0 >> 8) & 0x7f) as u8
    }

    /// Program number.
    #[must_use]
    pub fn program(self) -> u8 {
        (self.0 & 0x7f) as u8
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patch_from_locale_places_bank_bytes_like_directmusic() {
        let p = Patch::from_locale(0x8000_0000 | (121 << 8) | 3, 42);
        assert!(p.is_drum());
        assert_eq!((p.bank_msb(), p.bank_lsb(), p.program()), (121, 3, 42));
        assert_eq!(p.0, 0x8079_032a);
        let q = Patch::from_locale(0, 0);
        assert!(!q.is_drum());
        assert_eq!(q.0, 0);
    }

    #[test]
    fn key_range_is_inclusive() {
        let r = KeyRange { low: 10, high: 12 };
        assert!(!r.contains(9));
        assert!(r.contains(10) && r.contains(12));
        assert!(!r.contains(13));
    }

    #[test]
    fn playable_format_is_pcm_mono_8_or_16() {
        let mut f = WaveFormat {
            format_tag: 1,
            channels: 1,
            sample_rate: 22050,
            avg_bytes_per_sec: 44100,
            block_align: 2,
            bits_per_sample: 16,
        };
        assert!(f.is_playable());
        f.channels = 2;
        assert!(!f.is_playable());
        f.channels = 1;
        f.block_align = 1;
        assert!(!f.is_playable());
        f.bits_per_sample = 8;
        assert!(f.is_playable());
        f.format_tag = 2;
        assert!(!f.is_playable());
    }
}
