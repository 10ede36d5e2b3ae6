//! Reading a wave with linear interpolation, straight from the bytes of its download buffer.
//!
//! A run of output samples is read in two passes over the run's slots:
//! 1. gather: each sample's two frames, packed into one word as two `i16` (the frame in the
//!    low half, the one after it in the high half). For 16-bit little-endian PCM that word
//!    is the four bytes at the frame: one load.
//! 2. weigh: `(s0·(32767 − f) + s1·f + s0) >> 15`, `f` the position's fraction to 15 bits.
//!    That is `s0 + ((s1 − s0)·f >> 15)` exactly (`s0·2^15` is a multiple of `2^15`, so the
//!    floor of the sum is `s0` plus the floor of the rest), and in this form every product
//!    is of two 16-bit values, so LLVM vectorises the pass with SSE2's `pmaddwd` (18
//!    instructions for four samples).
//!
//! One loop doing both took 19 instructions a sample on x86-64 (a bounds check of four
//! instructions on each read, the scalar multiply); the two passes take about 13 with each
//! run's setup (callgrind on `test-all-gm-percussion`), and give the same samples bit for bit.
//!
//! Every read is bounds-checked; a read past the end of the data gives silence (the store
//! zeroes guard frames after each wave, so a one-shot interpolates into silence anyway).

/// Wave data as samples at 16-bit scale. Reads past the end give silence.
pub(super) trait Wave {
    /// The frame at `index`.
    fn at(&self, index: usize) -> i32;
    /// Fills `words` with the frame pairs at `position`, `position + step`, … (Q32.32), each
    /// packed by [`pack`].
    fn gather(&self, position: u64, step: u64, words: &mut [i32]);
}

/// 16-bit little-endian PCM.
pub(super) struct I16Le<'a>(pub(super) &'a [u8]);

impl Wave for I16Le<'_> {
    fn at(&self, index: usize) -> i32 {
        let at = index.saturating_mul(2);
        match self.0.get(at..at.saturating_add(2)) {
            Some(&[lo, hi]) => i32::from(i16::from_le_bytes([lo, hi])),
            _ => 0,
        }
    }

    fn gather(&self, position: u64, step: u64, words: &mut [i32]) {
        let done = self.gather_whole_pairs(position, step, words);
        // Only at the very end of the data: frame by frame, past the end as silence.
        // `done` slots of a step of at most 2^40, from below 2^63: no overflow.
        let mut position = position + step * done as u64;
        for word in words.get_mut(done..).unwrap_or_default() {
            let index = frame_index(position);
            *word = pack(self.at(index), self.at(index.saturating_add(1)));
            position += step;
        }
    }
}

impl I16Le<'_> {
    /// Fills `words` from the start with the frame pairs at `position`, `position + step`,
    /// … while both frames of a pair are in the data; returns how many it filled.
    ///
    /// Shaped for the loop LLVM makes of it, 7 instructions a sample on x86-64: four samples
    /// a pass, their positions `lea`s off one, and the one compare of each index with the last
    /// whole pair is all the bounds check there is (LLVM proves the four bytes inside `whole`
    /// from it). One sample a pass took 9; carrying the index and fraction apart (`add`,
    /// `adc`) saves the shift but, unrolled, LLVM rebuilds the carry with compares.
    #[allow(
        clippy::cast_possible_truncation,
        reason = "an index at most the last whole pair (a usize) fits a usize"
    )]
    fn gather_whole_pairs(&self, mut position: u64, step: u64, words: &mut [i32]) -> usize {
        // The last frame that has a frame after it in the data, and the bytes up to that one.
        let Some(last) = (self.0.len() / 2).checked_sub(2) else {
            return 0;
        };
        let Some(whole) = self.0.get(..last * 2 + 4) else {
            return 0;
        };
        let pair_at = |position: u64| {
            let index = position >> 32;
            if index > last as u64 {
                return None;
            }
            let at = index as usize * 2;
            match whole.get(at..at + 4) {
                Some(&[a, b, c, d]) => Some(i32::from_le_bytes([a, b, c, d])),
                _ => None,
            }
        };
        // Positions below 2^63 + 2^40 (see `Voice::start`), a step at most 2^40: no overflow.
        let mut done = 0;
        let mut quads = words.chunks_exact_mut(4);
        for quad in &mut quads {
            for (k, word) in (0..).zip(quad) {
                let Some(pair) = pair_at(position + k * step) else {
                    return done;
                };
                *word = pair;
            }
            position += 4 * step;
            done += 4;
        }
        for word in quads.into_remainder() {
            let Some(pair) = pair_at(position) else {
                return done;
            };
            *word = pair;
            position += step;
            done += 1;
        }
        done
    }
}

/// 8-bit unsigned PCM.
pub(super) struct U8<'a>(pub(super) &'a [u8]);

impl Wave for U8<'_> {
    fn at(&self, index: usize) -> i32 {
        self.0.get(index).map_or(0, |&b| (i32::from(b) - 128) << 8)
    }

    fn gather(&self, mut position: u64, step: u64, words: &mut [i32]) {
        for word in words {
            let index = frame_index(position);
            *word = pack(self.at(index), self.at(index.saturating_add(1)));
            position += step;
        }
    }
}

/// Two frames at 16-bit scale as one word: `s0` in the low half, `s1` in the high half.
fn pack(s0: i32, s1: i32) -> i32 {
    (s0 & 0xffff) | (s1 << 16)
}

/// Fills `slots` with the wave interpolated at `position`, `position + step`, …, each reading
/// a frame and the one after it. Returns the position after the last.
#[inline(never)]
pub(super) fn interpolate(wave: &impl Wave, position: u64, step: u64, slots: &mut [i32]) -> u64 {
    wave.gather(position, step, slots);
    weigh(position, step, slots);
    // At most 64 slots of a step of at most 2^40, from below 2^63: no overflow.
    position + step * slots.len() as u64
}

/// Turns each packed pair in `words` into the interpolation at its position's fraction.
#[allow(
    clippy::cast_possible_truncation,
    clippy::cast_possible_wrap,
    reason = "the fraction needs only the low 32 bits of a position; it is 15 bits"
)]
fn weigh(position: u64, step: u64, words: &mut [i32]) {
    let (mut position, step) = (position as u32, step as u32);
    for word in words {
        let fraction = (position >> 17) as i32;
        let s0 = i32::from(*word as i16);
        let s1 = *word >> 16;
        *word = (s0 * (32767 - fraction) + s1 * fraction + s0) >> 15;
        position = position.wrapping_add(step);
    }
}

/// The frame a Q32.32 position is in.
pub(super) fn frame_index(position: u64) -> usize {
    usize::try_from(position >> 32).unwrap_or(usize::MAX)
}

/// `s0 + (s1 - s0) · fraction`, with the position's fraction to 15 bits.
#[allow(
    clippy::cast_possible_truncation,
    reason = "the value is masked to 15 bits first"
)]
pub(super) fn lerp(s0: i32, s1: i32, position: u64) -> i32 {
    let fraction = ((position >> 17) & 0x7fff) as i32;
    s0 + (((s1 - s0) * fraction) >> 15)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    /// The read as it was before the two passes: each sample's two frames read one by one
    /// (bounds-checked, silence past the end), then [`lerp`].
    fn frame_by_frame(wave: &impl Wave, mut position: u64, step: u64, slots: &mut [i32]) -> u64 {
        for slot in slots {
            let index = frame_index(position);
            *slot = lerp(wave.at(index), wave.at(index.saturating_add(1)), position);
            position += step;
        }
        position
    }

    /// Both reads of `data` as 16-bit and as 8-bit samples, the old one and the new.
    fn both_reads(data: &[u8], position: u64, step: u64, len: usize) -> [(Vec<i32>, u64); 4] {
        let read = |wave: &dyn Fn(&mut [i32]) -> u64| {
            let mut slots = vec![i32::MIN; len];
            let after = wave(&mut slots);
            (slots, after)
        };
        let (i16le, u8) = (I16Le(data), U8(data));
        [
            read(&|s| frame_by_frame(&i16le, position, step, s)),
            read(&|s| interpolate(&i16le, position, step, s)),
            read(&|s| frame_by_frame(&u8, position, step, s)),
            read(&|s| interpolate(&u8, position, step, s)),
        ]
    }

    #[test]
    fn weighing_a_packed_pair_is_lerp_at_the_extremes() {
        let samples = [-32768, -32767, -1, 0, 1, 32766, 32767];
        let fractions = [0u64, 1, 2, 16383, 16384, 32766, 32767];
        for &s0 in &samples {
            for &s1 in &samples {
                for &f in &fractions {
                    // The fraction's 15 bits under low bits that must not count.
                    let position = (7 << 32) | (f << 17) | 0x1_ffff;
                    let mut word = [pack(s0, s1)];
                    weigh(position, 0, &mut word);
                    assert_eq!(word[0], lerp(s0, s1, position), "{s0} {s1} {f}");
                }
            }
        }
    }

    #[test]
    fn a_run_reads_into_the_last_frame_and_past_the_end() {
        // Frames 100, 200, 300 and one byte over: the last pair is (300, silence).
        let data = [100u8, 0, 200, 0, 44, 1, 9];
        let mut slots = [0; 8];
        let after = interpolate(&I16Le(&data), 1 << 31, 1 << 31, &mut slots);
        assert_eq!(slots, [150, 200, 250, 300, 150, 0, 0, 0]);
        assert_eq!(after, (1 << 31) + 8 * (1 << 31));
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(2000))]

        /// The two-pass read gives the old read's samples bit for bit, for any data (whole,
        /// short, odd-length, shorter than a run), position (inside, at and past the end) and
        /// step (zero up to the largest), 16-bit and 8-bit.
        #[test]
        fn the_two_pass_read_is_the_frame_by_frame_read(
            data in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
            frame in 0u64..200,
            fraction in proptest::prelude::any::<u32>(),
            step in proptest::prop_oneof![
                0u64..(3 << 32),
                0u64..=(256 << 32),
                proptest::prelude::Just(1 << 32),
            ],
            len in 0usize..=64,
        ) {
            let position = (frame << 32) | u64::from(fraction);
            let [old16, new16, old8, new8] = both_reads(&data, position, step, len);
            proptest::prop_assert_eq!(new16, old16);
            proptest::prop_assert_eq!(new8, old8);
        }
    }
}
