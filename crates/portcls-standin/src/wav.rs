//! The WAV file as `rdmus play --device synth --wav` writes it (hound's `WavSpec` with two
//! channels, 16-bit integer PCM): the 44-byte canonical header (`RIFF`, `WAVE`, a 16-byte
//! `fmt ` chunk with `WAVE_FORMAT_PCM`, then `data`), samples interleaved little-endian.

#[cfg(test)]
use alloc::vec::Vec;

/// Channels of the synth's output.
pub const CHANNELS: u16 = 2;
/// Bits per sample.
pub const BITS: u16 = 16;
/// `WAVE_FORMAT_PCM` (mmreg.h).
const WAVE_FORMAT_PCM: u16 = 1;

/// The header's length: what precedes the samples.
pub const HEADER_BYTES: usize = 44;

/// The 44-byte header of a WAV whose samples take `data_bytes` at `rate` Hz; `None` when that
/// would not fit a RIFF size (4 GiB). Written first with the length so far (0) and again at
/// the end with the whole length, as hound's writer does, so the samples stream to the file.
#[must_use]
pub fn header(data_bytes: u64, rate: u32) -> Option<[u8; HEADER_BYTES]> {
    let data_bytes = u32::try_from(data_bytes).ok()?;
    let riff_size = data_bytes.checked_add(36)?;
    let block = CHANNELS * (BITS / 8);
    let mut out = [0_u8; HEADER_BYTES];
    let fields: [&[u8]; 13] = [
        b"RIFF",
        &riff_size.to_le_bytes(),
        b"WAVEfmt ",
        &16_u32.to_le_bytes(),
        &WAVE_FORMAT_PCM.to_le_bytes(),
        &CHANNELS.to_le_bytes(),
        &rate.to_le_bytes(),
        &rate.checked_mul(u32::from(block))?.to_le_bytes(),
        &block.to_le_bytes(),
        &BITS.to_le_bytes(),
        b"data",
        &data_bytes.to_le_bytes(),
        &[],
    ];
    let mut at = 0;
    for field in fields {
        out[at..at + field.len()].copy_from_slice(field);
        at += field.len();
    }
    Some(out)
}

/// A WAV file of interleaved stereo `samples` at `rate` Hz, whole in memory; `None` when the
/// data would not fit a RIFF size (4 GiB) or memory runs out. (The stand-in streams its WAV
/// with [`header`]; this whole-file form pins the header's layout in the tests.)
#[cfg(test)]
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
    use super::{HEADER_BYTES, header, to_wav};

    #[test]
    fn the_streamed_header_is_the_whole_files_header() {
        let samples = [1_i16, -2, 0x1234, -1];
        let whole = to_wav(&samples, 44_100).expect("small");
        assert_eq!(header(8, 44_100).expect("fits")[..], whole[..HEADER_BYTES]);
        assert!(
            header(u64::from(u32::MAX), 48_000).is_none(),
            "beyond a RIFF size"
        );
    }

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
