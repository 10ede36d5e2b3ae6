//! The synth's send effects: a stereo reverb ([`reverb`], Freeverb's design) and a stereo
//! chorus ([`chorus`], a modulated delay line), fed by each voice's reverb and chorus sends
//! (GM2's CC91 and CC93, DLS2's `CONN_DST_REVERB` and `CONN_DST_CHORUS`) and added to the dry
//! mix. Integer only; every buffer is allocated, fallibly, when the effects are made.

pub mod chorus;
pub mod reverb;

use super::engine::AllocError;
use alloc::vec::Vec;

/// A circular delay line of `i32` samples whose length can be shortened below its storage.
#[derive(Debug, Clone)]
pub struct DelayLine {
    samples: Vec<i32>,
    length: usize,
    index: usize,
}

impl DelayLine {
    /// A silent line of `capacity` samples (at least one).
    ///
    /// # Errors
    /// [`AllocError`] when the storage cannot be allocated.
    pub fn try_new(capacity: usize) -> Result<Self, AllocError> {
        let capacity = capacity.max(1);
        let mut samples = Vec::new();
        samples
            .try_reserve_exact(capacity)
            .map_err(|_| AllocError)?;
        samples.resize(capacity, 0);
        Ok(Self {
            samples,
            length: capacity,
            index: 0,
        })
    }

    /// Silences the line and sets its delay to `length` samples (1..=capacity).
    pub fn reset(&mut self, length: usize) {
        self.samples.fill(0);
        self.length = length.clamp(1, self.samples.len());
        self.index = 0;
    }

    /// The delay in samples.
    #[must_use]
    pub fn len(&self) -> usize {
        self.length
    }

    /// Never: a line holds at least one sample.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        false
    }

    /// The sample written `len()` writes ago.
    #[must_use]
    pub fn read(&self) -> i32 {
        self.samples.get(self.index).copied().unwrap_or(0)
    }

    /// The sample written `age` writes ago (1..=len(); clamped into that range).
    #[must_use]
    pub fn tap(&self, age: usize) -> i32 {
        let age = age.clamp(1, self.length);
        let at = if self.index >= age {
            self.index - age
        } else {
            self.index + self.length - age
        };
        self.samples.get(at).copied().unwrap_or(0)
    }

    /// Writes `value` in place of the oldest sample and moves on.
    pub fn write_advance(&mut self, value: i32) {
        if let Some(slot) = self.samples.get_mut(self.index) {
            *slot = value;
        }
        self.index += 1;
        if self.index >= self.length {
            self.index = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DelayLine;

    #[test]
    fn a_line_gives_back_what_it_was_given_its_length_later() {
        let mut line = DelayLine::try_new(5).expect("line");
        line.reset(3);
        let mut out = alloc::vec::Vec::new();
        for x in 1..=6 {
            out.push(line.read());
            line.write_advance(x);
        }
        assert_eq!(out, [0, 0, 0, 1, 2, 3]);
        assert_eq!((line.tap(1), line.tap(3), line.tap(99)), (6, 4, 4));
        line.reset(100);
        assert_eq!(line.len(), 5, "capped at the storage");
    }
}
