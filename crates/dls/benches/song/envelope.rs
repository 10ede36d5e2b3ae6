//! The sound-alike measure: RMS envelopes of the mono mix and their Pearson correlation.

/// The RMS of the mono mix (mean of the channels) over consecutive windows of `window_ms`
/// milliseconds; a last partial window is dropped.
#[must_use]
pub fn rms_envelope(interleaved: &[i16], channels: u16, rate: u32, window_ms: u32) -> Vec<f64> {
    let channels = usize::from(channels.max(1));
    let window = usize::try_from(u64::from(rate) * u64::from(window_ms) / 1000)
        .unwrap_or(1)
        .max(1);
    interleaved
        .chunks_exact(channels * window)
        .map(|block| {
            let sum: f64 = block
                .chunks_exact(channels)
                .map(|frame| {
                    let mono =
                        frame.iter().map(|&s| f64::from(s)).sum::<f64>() / channels_f64(channels);
                    mono * mono
                })
                .sum();
            (sum / channels_f64(window)).sqrt()
        })
        .collect()
}

#[allow(clippy::cast_precision_loss, reason = "small counts")]
fn channels_f64(n: usize) -> f64 {
    n as f64
}

/// Pearson correlation of `a` and `b` over their common length; `None` when that is under two
/// points or either is constant there.
#[must_use]
pub fn correlation(a: &[f64], b: &[f64]) -> Option<f64> {
    let n = a.len().min(b.len());
    if n < 2 {
        return None;
    }
    let (a, b) = (&a[..n], &b[..n]);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / channels_f64(n);
    let (ma, mb) = (mean(a), mean(b));
    let (mut sab, mut saa, mut sbb) = (0.0, 0.0, 0.0);
    for (&x, &y) in a.iter().zip(b) {
        let (dx, dy) = (x - ma, y - mb);
        sab += dx * dy;
        saa += dx * dx;
        sbb += dy * dy;
    }
    (saa > 0.0 && sbb > 0.0).then(|| sab / (saa * sbb).sqrt())
}
