//! The WAV file as `rdmus play --device synth --wav` writes it (hound's `WavSpec` with two
//! channels, 16-bit integer PCM): the 44-byte canonical header (`RIFF`, `WAVE`, a 16-byte
//! `fmt ` chunk with `WAVE_FORMAT_PCM`, then `data`), samples interleaved little-endian.

use alloc::vec::Vec;

/// Channels of the synth's output.
pub const CHANNELS: u16 = 2;
/// Bits per sample.
pub const BITS: u16 = 16;
/// `WAVE_FORMAT_PCM` (mmreg.h).
const WAVE_FORMAT_PCM: u16 = 1;

/// A WAV file of interleaved stereo `samples` at `rate` Hz; `None` when the data would not
/// fit a RIFF size (4 GiB) or memory runs out.
#[must_use]
pub fn to_wav(samples: &[i16], rate: u32) -> Option<Vec<u8>> {
    let data_bytes = u32::try_from(samples.len().checked_mul(2)?).ok()?;
    let riff_size = data_bytes.checked_add(36)?;
    let block = CHANNELS * (BITS / 8);
    let mut out = Vec::new();
    out.try_reserve_exact(usize::try_from(riff_size).ok()? + 8)
        .ok()?;
    out.extend_from_slice(b"RIFF");
    out.extend_from_slice(&riff_size.to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16_u32.to_le_bytes());
    out.extend_from_slice(&WAVE_FORMAT_PCM.to_le_bytes());
    out.extend_from_slice(&CHANNELS.to_le_bytes());
    out.extend_from_slice(&rate.to_le_bytes());
    out.extend_from_slice(&rate.checked_mul(u32::from(block))?.to_le_bytes());
    out.extend_from_slice(&block.to_le_bytes());
    out.extend_from_slice(&BITS.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&data_bytes.to_le_bytes());
    for sample in samples {
        out.extend_from_slice(&sample.to_le_bytes());
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::to_wav;

    #[test]
    fn the_header_is_canonical_pcm_stereo() {
        let wav = to_wav(&[1, -2, 0x1234, -1], 48_000).expect("small");
        assert_eq!(wav.len(), 44 + 8);
        assert_eq!(&wav[0..4], b"RIFF");
        assert_eq!(u32::from_le_bytes(wav[4..8].try_into().unwrap()), 36 + 8);
        assert_eq!(&wav[8..16], b"WAVEfmt ");
        assert_eq!(u32::from_le_bytes(wav[16..20].try_into().unwrap()), 16);
        assert_eq!(u16::from_le_bytes([wav[20], wav[21]]), 1, "PCM");
        assert_eq!(u16::from_le_bytes([wav[22], wav[23]]), 2, "stereo");
        assert_eq!(u32::from_le_bytes(wav[24..28].try_into().unwrap()), 48_000);
        assert_eq!(u32::from_le_bytes(wav[28..32].try_into().unwrap()), 192_000);
        assert_eq!(u16::from_le_bytes([wav[32], wav[33]]), 4, "block align");
        assert_eq!(u16::from_le_bytes([wav[34], wav[35]]), 16, "bits");
        assert_eq!(&wav[36..40], b"data");
        assert_eq!(u32::from_le_bytes(wav[40..44].try_into().unwrap()), 8);
        assert_eq!(&wav[44..], &[1, 0, 0xFE, 0xFF, 0x34, 0x12, 0xFF, 0xFF]);
    }
}
