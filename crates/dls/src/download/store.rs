//! The instrument store: what the synth plays from.
//!
//! A wave download keeps its buffer (the driver's one copy of the client's bytes) and the synth
//! reads samples straight out of it; an instrument download is parsed into small owned values
//! and its buffer is handed back at once. Downloads and unloads are atomic: a refused request
//! leaves the store exactly as it was and hands the buffer back to its owner.
//!
//! `KSPROPERTY_SYNTH_DLS_APPEND`: the store is built with the number of sample frames the synth
//! reports (`DirectMusic`'s user-mode `GetAppend` counts samples; ddksynth reports 1 and writes
//! one frame past the data). Every wave buffer must hold that many frames after its data; the
//! store zeroes them on download, so a one-shot interpolates into silence and the voice never
//! needs a bounds branch for the frame after the last.

use alloc::vec::Vec;

use super::DownloadError;
use super::parse::{
    Parsed, ParsedInstrument, ParsedRegion, ParsedWave, ParsedWaveArticulation, WaveKind, parse,
};
use crate::model::{Patch, WaveFormat};

/// The value rdmus reports for `KSPROPERTY_SYNTH_DLS_APPEND`: one frame, ddksynth's value and
/// all that linear interpolation past the last frame needs.
pub const APPEND_SAMPLES: u32 = 1;

/// A wave kept in the store, with the buffer it came in.
#[derive(Debug)]
pub struct StoredWave<B> {
    parsed: ParsedWave,
    buffer: B,
}

/// The samples of a wave, borrowed from its download buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaveSamples<'a> {
    /// 8-bit unsigned PCM (128 = silence).
    U8(&'a [u8]),
    /// 16-bit signed little-endian PCM, two bytes per frame.
    I16Le(&'a [u8]),
}

impl<B: AsRef<[u8]>> StoredWave<B> {
    /// Download id.
    #[must_use]
    pub fn dlid(&self) -> u32 {
        self.parsed.dlid
    }

    /// The download type it came as.
    #[must_use]
    pub fn kind(&self) -> WaveKind {
        self.parsed.kind
    }

    /// Format.
    #[must_use]
    pub fn format(&self) -> WaveFormat {
        self.parsed.format
    }

    /// Number of frames of real sample data.
    #[must_use]
    pub fn frames(&self) -> usize {
        self.parsed.frames()
    }

    /// The samples followed by the zeroed guard frames (`frames() + append` frames).
    #[must_use]
    pub fn samples_with_guard(&self) -> WaveSamples<'_> {
        let bytes = self
            .buffer
            .as_ref()
            .get(self.parsed.data.start..self.parsed.guard.end)
            .unwrap_or(&[]);
        if self.parsed.format.bits_per_sample == 8 {
            WaveSamples::U8(bytes)
        } else {
            WaveSamples::I16Le(bytes)
        }
    }
}

/// A successful download.
#[derive(Debug, PartialEq, Eq)]
pub struct Downloaded<B> {
    /// The download id (the handle the client unloads with).
    pub dlid: u32,
    /// The buffer, when the store did not keep it (instruments): the caller may free it.
    /// `None` when a wave's samples now live in it until unload.
    pub returned: Option<B>,
}

/// A refused download: the reason and the untouched buffer.
#[derive(Debug, PartialEq, Eq)]
pub struct Refused<B> {
    /// Why.
    pub error: DownloadError,
    /// The caller's buffer, handed back.
    pub buffer: B,
}

/// Downloaded waves, instruments and wave articulations, by download id.
#[derive(Debug)]
pub struct InstrumentStore<B> {
    append_samples: u32,
    waves: Vec<StoredWave<B>>,
    instruments: Vec<ParsedInstrument>,
    wave_articulations: Vec<ParsedWaveArticulation>,
}

impl<B: AsRef<[u8]> + AsMut<[u8]>> InstrumentStore<B> {
    /// An empty store whose synth reports `append_samples` for `KSPROPERTY_SYNTH_DLS_APPEND`.
    #[must_use]
    pub fn new(append_samples: u32) -> Self {
        Self {
            append_samples,
            waves: Vec::new(),
            instruments: Vec::new(),
            wave_articulations: Vec::new(),
        }
    }

    /// The append value the store requires of wave buffers, in sample frames.
    #[must_use]
    pub fn append_samples(&self) -> u32 {
        self.append_samples
    }

    fn wave_slot(&self, dlid: u32) -> Result<usize, usize> {
        self.waves.binary_search_by_key(&dlid, |w| w.parsed.dlid)
    }

    fn is_used(&self, dlid: u32) -> bool {
        self.wave_slot(dlid).is_ok()
            || self.instruments.iter().any(|i| i.dlid == dlid)
            || self.wave_articulations.iter().any(|a| a.dlid == dlid)
    }

    /// Downloads one buffer (`KSPROPERTY_SYNTH_DLS_DOWNLOAD`): validates it, checks that its
    /// id is free and, for an instrument, that every region's wave is downloaded and every loop
    /// lies within its wave; for a wave articulation, that its buffers are downloaded
    /// streaming buffers, or one one-shot wave, all of one format.
    ///
    /// # Errors
    /// [`Refused`] with the reason and the buffer; the store is unchanged.
    pub fn download(&mut self, mut buffer: B) -> Result<Downloaded<B>, Refused<B>> {
        let parsed = match parse(buffer.as_ref(), self.append_samples) {
            Ok(parsed) => parsed,
            Err(error) => return Err(Refused { error, buffer }),
        };
        let dlid = match &parsed {
            Parsed::Wave(w) => w.dlid,
            Parsed::Instrument(i) => i.dlid,
            Parsed::WaveArticulation(a) => a.dlid,
        };
        if self.is_used(dlid) {
            return Err(Refused {
                error: DownloadError::DuplicateId,
                buffer,
            });
        }
        match parsed {
            Parsed::Wave(parsed) => {
                if let Some(guard) = buffer.as_mut().get_mut(parsed.guard.clone()) {
                    let silence = if parsed.format.bits_per_sample == 8 {
                        0x80
                    } else {
                        0
                    };
                    guard.fill(silence);
                }
                if self.waves.try_reserve(1).is_err() {
                    return Err(Refused {
                        error: DownloadError::OutOfMemory,
                        buffer,
                    });
                }
                let slot = self.wave_slot(dlid).unwrap_or_else(|free| free);
                self.waves.insert(slot, StoredWave { parsed, buffer });
                Ok(Downloaded {
                    dlid,
                    returned: None,
                })
            }
            Parsed::Instrument(instrument) => {
                if let Err(error) = self.check_regions(&instrument.regions) {
                    return Err(Refused { error, buffer });
                }
                if self.instruments.try_reserve(1).is_err() {
                    return Err(Refused {
                        error: DownloadError::OutOfMemory,
                        buffer,
                    });
                }
                self.instruments.push(instrument);
                Ok(Downloaded {
                    dlid,
                    returned: Some(buffer),
                })
            }
            Parsed::WaveArticulation(articulation) => {
                if let Err(error) = self.check_wave_articulation(&articulation) {
                    return Err(Refused { error, buffer });
                }
                self.wave_articulations.push(articulation);
                Ok(Downloaded {
                    dlid,
                    returned: Some(buffer),
                })
            }
        }
    }

    /// A wave articulation plays either one one-shot wave once, or streaming buffers one
    /// after the other as one wave: every buffer downloaded, of that kind, in one format (a
    /// voice does not change rate or sample size between buffers).
    fn check_wave_articulation(
        &self,
        articulation: &ParsedWaveArticulation,
    ) -> Result<(), DownloadError> {
        let mut first: Option<(WaveKind, WaveFormat)> = None;
        for &dlid in &articulation.buffers {
            let wave = self.wave(dlid).ok_or(DownloadError::UnknownWave)?;
            let this = (wave.kind(), wave.format());
            match first {
                None => first = Some(this),
                Some(seen) if seen != this => return Err(DownloadError::BadWaveArticulation),
                Some(_) => {}
            }
        }
        match first {
            Some((WaveKind::Streaming, _)) => Ok(()),
            Some((WaveKind::OneShot, _)) if articulation.buffers.len() == 1 => Ok(()),
            _ => Err(DownloadError::BadWaveArticulation),
        }
    }

    fn check_regions(&self, regions: &[ParsedRegion]) -> Result<(), DownloadError> {
        for region in regions {
            let wave = self
                .wave(region.wave_dlid)
                .ok_or(DownloadError::UnknownWave)?;
            if let Some(l) = region.sample.wave_loop {
                let end = u64::from(l.start) + u64::from(l.length);
                if end > u64::try_from(wave.frames()).unwrap_or(u64::MAX) {
                    return Err(DownloadError::BadRegion);
                }
            }
        }
        Ok(())
    }

    /// Unloads a download (`KSPROPERTY_SYNTH_DLS_UNLOAD`). A wave hands back its buffer.
    ///
    /// # Errors
    /// [`DownloadError::NotFound`], or [`DownloadError::WaveInUse`] while an instrument or a
    /// wave articulation still plays the wave (`DirectMusic` unloads instruments and wave
    /// articulations before their waves).
    pub fn unload(&mut self, dlid: u32) -> Result<Option<B>, DownloadError> {
        if let Some(at) = self.instruments.iter().position(|i| i.dlid == dlid) {
            self.instruments.remove(at);
            release_if_empty(&mut self.instruments);
            return Ok(None);
        }
        if let Some(at) = self.wave_articulations.iter().position(|a| a.dlid == dlid) {
            self.wave_articulations.remove(at);
            release_if_empty(&mut self.wave_articulations);
            return Ok(None);
        }
        let slot = self.wave_slot(dlid).map_err(|_| DownloadError::NotFound)?;
        let in_instrument = self
            .instruments
            .iter()
            .any(|i| i.regions.iter().any(|r| r.wave_dlid == dlid));
        let in_articulation = self
            .wave_articulations
            .iter()
            .any(|a| a.buffers.contains(&dlid));
        if in_instrument || in_articulation {
            return Err(DownloadError::WaveInUse);
        }
        let wave = self.waves.remove(slot);
        release_if_empty(&mut self.waves);
        Ok(Some(wave.buffer))
    }

    /// The wave with download id `dlid`.
    #[must_use]
    pub fn wave(&self, dlid: u32) -> Option<&StoredWave<B>> {
        self.wave_slot(dlid).ok().map(|slot| &self.waves[slot])
    }

    /// [`Self::wave`], looked at first in the place `*place` names (where it was found last:
    /// a download or unload can move it, and then `*place` is updated). The synth asks for
    /// each voice's wave once per part; a binary search over the table's large entries cost
    /// a cache miss a step, some 2 % of a song's render time.
    pub fn wave_placed(&self, dlid: u32, place: &mut usize) -> Option<&StoredWave<B>> {
        if let Some(wave) = self.waves.get(*place).filter(|w| w.parsed.dlid == dlid) {
            return Some(wave);
        }
        let found = self.wave_slot(dlid).ok()?;
        *place = found;
        self.waves.get(found)
    }

    /// The wave articulation with download id `dlid`.
    #[must_use]
    pub fn wave_articulation(&self, dlid: u32) -> Option<&ParsedWaveArticulation> {
        self.wave_articulations.iter().find(|a| a.dlid == dlid)
    }

    /// Number of downloaded wave articulations.
    #[must_use]
    pub fn wave_articulation_count(&self) -> usize {
        self.wave_articulations.len()
    }

    /// The most recently downloaded instrument with `patch`.
    #[must_use]
    pub fn instrument(&self, patch: Patch) -> Option<&ParsedInstrument> {
        self.instruments.iter().rev().find(|i| i.patch == patch)
    }

    /// The regions of `patch` that play `key` at `velocity`, with their waves.
    pub fn regions_for(
        &self,
        patch: Patch,
        key: u8,
        velocity: u8,
    ) -> impl Iterator<Item = (&ParsedRegion, &StoredWave<B>)> {
        let regions = self.instrument(patch).map_or(&[][..], |i| &i.regions[..]);
        regions
            .iter()
            .filter(move |r| r.key.contains(key.into()) && r.velocity.contains(velocity.into()))
            .filter_map(|r| self.wave(r.wave_dlid).map(|w| (r, w)))
    }

    /// Number of downloaded instruments.
    #[must_use]
    pub fn instrument_count(&self) -> usize {
        self.instruments.len()
    }

    /// Number of downloaded waves.
    #[must_use]
    pub fn wave_count(&self) -> usize {
        self.waves.len()
    }

    /// Bytes of sample data held (for the synth's memory statistics).
    #[must_use]
    pub fn sample_bytes(&self) -> usize {
        self.waves.iter().map(|w| w.parsed.data.len()).sum()
    }
}

/// Gives an emptied table's storage back: a synth with nothing downloaded holds no table
/// memory (the tables grow again, fallibly, with the next download).
fn release_if_empty<T>(table: &mut Vec<T>) {
    if table.is_empty() {
        *table = Vec::new();
    }
}
