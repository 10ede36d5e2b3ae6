//! 16-bit WAV files (hound).

/// 16-bit samples as 16-bit WAV (interleaved, `channels` channels).
///
/// # Errors
/// The file cannot be written.
pub fn write_wav(
    path: &std::path::Path,
    channels: u16,
    rate: u32,
    samples: &[i16],
) -> Result<(), String> {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let fail = |e: hound::Error| format!("{}: {e}", path.display());
    let mut writer = hound::WavWriter::create(path, spec).map_err(fail)?;
    for &s in samples {
        writer.write_sample(s).map_err(fail)?;
    }
    writer.finalize().map_err(fail)
}

/// A 16-bit WAV file: (channels, rate, interleaved samples).
///
/// # Errors
/// The file cannot be read or is not 16-bit integer PCM.
pub fn read_wav(path: &std::path::Path) -> Result<(u16, u32, Vec<i16>), String> {
    let fail = |e: hound::Error| format!("{}: {e}", path.display());
    let mut reader = hound::WavReader::open(path).map_err(fail)?;
    let spec = reader.spec();
    if spec.bits_per_sample != 16 || spec.sample_format != hound::SampleFormat::Int {
        return Err(format!(
            "{}: {}-bit {:?}, expected 16-bit integer PCM",
            path.display(),
            spec.bits_per_sample,
            spec.sample_format
        ));
    }
    let samples = reader
        .samples::<i16>()
        .collect::<Result<Vec<_>, _>>()
        .map_err(fail)?;
    Ok((spec.channels, spec.sample_rate, samples))
}
