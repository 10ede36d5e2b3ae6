//! Host side: builds `DirectMusic` download buffers from a `.dls` file.
//!
//! As `DirectMusic` does: one buffer per wave (`DMUS_DOWNLOADINFO`, offset table, `DMUS_WAVE`,
//! `DMUS_WAVEDATA` followed by the appended guard frames), one `DMUS_DOWNLOADINFO_INSTRUMENT2`
//! buffer per instrument (`DMUS_INSTRUMENT`, `DMUS_REGION`s, `DMUS_ARTICULATION2` links and
//! `CONNECTIONLIST`s), with each region's `WaveLink.ulTableIndex` rewritten from the pool
//! index to the download id of the wave, and each region's `WSMP` taken from the region or,
//! failing that, from its wave. Waves are downloaded before the instruments that play them.
//!
//! Layout choices the headers leave open: items are 4-byte aligned, and `cbSize` covers the
//! whole buffer including the appended guard bytes.

use alloc::vec::Vec;

use crate::model::{ConnectionBlock, SampleInfo, WaveFormat};
use crate::wire::download::INFO_LEN;
use crate::wire::file::{DlsFile, Instrument, Wave};
use dmus_sys::dls::{
    DMUS_DOWNLOADINFO_INSTRUMENT2, DMUS_DOWNLOADINFO_ONESHOTWAVE, DMUS_DOWNLOADINFO_STREAMINGWAVE,
    DMUS_DOWNLOADINFO_WAVE, DMUS_DOWNLOADINFO_WAVEARTICULATION,
};

/// Why a collection could not be turned into download buffers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BuildError {
    /// Wave `index` (in `wvpl` order) is not PCM mono 8/16-bit (`DirectMusic` refuses it too).
    UnplayableWave(usize),
    /// A buffer would exceed 4 GiB.
    TooLarge,
}

/// One download buffer and its id.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DownloadBuffer {
    /// `dwDLId`.
    pub dlid: u32,
    /// The bytes to pass as `SYNTH_BUFFER`.
    pub bytes: Vec<u8>,
}

/// A whole collection's buffers: download `waves` first, then `instruments`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollectionBuffers {
    /// One per wave of the pool, in pool order.
    pub waves: Vec<DownloadBuffer>,
    /// One per instrument, in file order.
    pub instruments: Vec<DownloadBuffer>,
}

/// Download ids handed out from `first` upwards: waves take `first..first + waves`, in pool
/// order, instruments the ids after them.
///
/// # Errors
/// [`BuildError`] for an unplayable wave or an oversized buffer.
pub fn build_collection(
    file: &DlsFile<'_>,
    first: u32,
    append_samples: u32,
) -> Result<CollectionBuffers, BuildError> {
    let mut waves = Vec::with_capacity(file.pool.len());
    for (cue, &wave_index) in file.pool.iter().enumerate() {
        let wave = &file.waves[wave_index];
        if !wave.format.is_playable() {
            return Err(BuildError::UnplayableWave(wave_index));
        }
        let dlid = id(first, cue)?;
        waves.push(DownloadBuffer {
            dlid,
            bytes: build_wave(dlid, wave, append_samples)?,
        });
    }
    let mut instruments = Vec::with_capacity(file.instruments.len());
    for (n, instrument) in file.instruments.iter().enumerate() {
        let dlid = id(first, file.pool.len() + n)?;
        let bytes = build_instrument(dlid, instrument, |cue| {
            let wave = file
                .pool
                .get(usize::try_from(cue).ok()?)
                .and_then(|&w| file.waves.get(w))?;
            Some((id(first, usize::try_from(cue).ok()?).ok()?, wave.sample))
        })?;
        instruments.push(DownloadBuffer { dlid, bytes });
    }
    Ok(CollectionBuffers { waves, instruments })
}

fn id(first: u32, n: usize) -> Result<u32, BuildError> {
    u32::try_from(n)
        .ok()
        .and_then(|n| first.checked_add(n))
        .ok_or(BuildError::TooLarge)
}

/// Items of one buffer, laid out after the header and offset table.
struct Items(Vec<Vec<u8>>);

impl Items {
    fn reserve(&mut self) -> u32 {
        self.0.push(Vec::new());
        u32::try_from(self.0.len() - 1).unwrap_or(u32::MAX)
    }

    fn set(&mut self, index: u32, bytes: Vec<u8>) {
        if let Some(slot) = usize::try_from(index).ok().and_then(|i| self.0.get_mut(i)) {
            *slot = bytes;
        }
    }

    /// Lays out `DMUS_DOWNLOADINFO`, the offset table and the items (4-byte aligned).
    fn finish(self, kind: u32, dlid: u32) -> Result<Vec<u8>, BuildError> {
        let entries = self.0.len();
        let mut offsets = Vec::with_capacity(entries);
        let mut at = INFO_LEN + 4 * entries;
        for item in &self.0 {
            offsets.push(u32::try_from(at).map_err(|_| BuildError::TooLarge)?);
            at += item.len().next_multiple_of(4);
        }
        let size = u32::try_from(at).map_err(|_| BuildError::TooLarge)?;
        let count = u32::try_from(entries).map_err(|_| BuildError::TooLarge)?;
        let mut out = Vec::with_capacity(at);
        for v in [kind, dlid, count, size] {
            put_u32(&mut out, v);
        }
        for o in offsets {
            put_u32(&mut out, o);
        }
        for item in self.0 {
            let padded = out.len() + item.len().next_multiple_of(4);
            out.extend_from_slice(&item);
            out.resize(padded, 0);
        }
        Ok(out)
    }
}

fn put_u16(out: &mut Vec<u8>, v: u16) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_u32(out: &mut Vec<u8>, v: u32) {
    out.extend_from_slice(&v.to_le_bytes());
}

fn put_i32(out: &mut Vec<u8>, v: i32) {
    out.extend_from_slice(&v.to_le_bytes());
}

/// Builds the download buffer of one wave, with `append_samples` zeroed guard frames after
/// its data.
///
/// # Errors
/// [`BuildError::TooLarge`].
pub fn build_wave(dlid: u32, wave: &Wave<'_>, append_samples: u32) -> Result<Vec<u8>, BuildError> {
    let mut items = Items(Vec::new());
    wave_items(&mut items, wave.format, wave.data, append_samples)?;
    items.finish(DMUS_DOWNLOADINFO_WAVE, dlid)
}

/// How a wave track's wave is downloaded: one-shot (one buffer, played once) or streamed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WaveDownload {
    /// `DMUS_DOWNLOADINFO_ONESHOTWAVE`.
    OneShot,
    /// `DMUS_DOWNLOADINFO_STREAMINGWAVE`.
    Streaming,
}

/// Builds a `DMUS_DOWNLOADINFO_STREAMINGWAVE` or `_ONESHOTWAVE` buffer holding `data` (whole
/// frames of `format`): index 0 the `DMUS_WAVEDL` (`cbWaveData` = the data's bytes), index 1
/// the `DMUS_WAVE`, index 2 the `DMUS_WAVEDATA` and its `append_samples` guard frames (the
/// layout `parse` takes).
///
/// # Errors
/// [`BuildError::TooLarge`].
pub fn build_wave_buffer(
    dlid: u32,
    kind: WaveDownload,
    format: WaveFormat,
    data: &[u8],
    append_samples: u32,
) -> Result<Vec<u8>, BuildError> {
    let mut items = Items(Vec::new());
    let wave_dl = items.reserve();
    let mut dl = Vec::with_capacity(4);
    put_u32(
        &mut dl,
        u32::try_from(data.len()).map_err(|_| BuildError::TooLarge)?,
    );
    items.set(wave_dl, dl);
    wave_items(&mut items, format, data, append_samples)?;
    let kind = match kind {
        WaveDownload::OneShot => DMUS_DOWNLOADINFO_ONESHOTWAVE,
        WaveDownload::Streaming => DMUS_DOWNLOADINFO_STREAMINGWAVE,
    };
    items.finish(kind, dlid)
}

/// Builds a `DMUS_DOWNLOADINFO_WAVEARTICULATION` buffer: index 0 the `DMUS_WAVEARTDL`, index
/// 1 the download ids of `buffers` (its `ulDownloadIdIdx`).
///
/// # Errors
/// [`BuildError::TooLarge`].
pub fn build_wave_articulation(
    dlid: u32,
    buffers: &[u32],
    bus: u32,
    master_dlid: u32,
    options: u16,
) -> Result<Vec<u8>, BuildError> {
    let mut items = Items(Vec::new());
    let head = items.reserve();
    let ids = items.reserve();
    let mut a = Vec::with_capacity(20);
    put_u32(&mut a, ids);
    put_u32(&mut a, bus);
    put_u32(
        &mut a,
        u32::try_from(buffers.len()).map_err(|_| BuildError::TooLarge)?,
    );
    put_u32(&mut a, master_dlid);
    put_u16(&mut a, options);
    a.resize(20, 0);
    items.set(head, a);
    let mut list = Vec::with_capacity(4 * buffers.len());
    for &id in buffers {
        put_u32(&mut list, id);
    }
    items.set(ids, list);
    items.finish(DMUS_DOWNLOADINFO_WAVEARTICULATION, dlid)
}

/// Adds a `DMUS_WAVE` and its `DMUS_WAVEDATA` (with the guard frames) to `items`.
fn wave_items(
    items: &mut Items,
    f: WaveFormat,
    samples: &[u8],
    append_samples: u32,
) -> Result<(), BuildError> {
    let header = items.reserve();
    let data = items.reserve();
    let mut w = Vec::with_capacity(32);
    put_u32(&mut w, 0); // ulFirstExtCkIdx
    put_u32(&mut w, 0); // ulCopyrightIdx
    put_u32(&mut w, data);
    put_u16(&mut w, f.format_tag);
    put_u16(&mut w, f.channels);
    put_u32(&mut w, f.sample_rate);
    put_u32(&mut w, f.avg_bytes_per_sec);
    put_u16(&mut w, f.block_align);
    put_u16(&mut w, f.bits_per_sample);
    put_u16(&mut w, 0); // cbSize
    w.resize(32, 0);
    items.set(header, w);
    let guard = usize::try_from(append_samples)
        .ok()
        .and_then(|n| n.checked_mul(usize::from(f.block_align)))
        .ok_or(BuildError::TooLarge)?;
    let mut d = Vec::with_capacity(4 + samples.len() + guard);
    put_u32(
        &mut d,
        u32::try_from(samples.len()).map_err(|_| BuildError::TooLarge)?,
    );
    d.extend_from_slice(samples);
    d.resize(
        4 + samples.len() + guard,
        if f.bits_per_sample == 8 { 0x80 } else { 0 },
    );
    items.set(data, d);
    Ok(())
}

/// Builds a `DMUS_ARTICULATION2` chain for `blocks`; returns the index of its first link
/// (0 when there are no blocks).
fn articulation_chain(items: &mut Items, blocks: &[ConnectionBlock]) -> u32 {
    let indices: Vec<(u32, u32)> = blocks
        .iter()
        .map(|_| (items.reserve(), items.reserve()))
        .collect();
    for (n, (block, &(link, list))) in blocks.iter().zip(&indices).enumerate() {
        let next = indices.get(n + 1).map_or(0, |&(l, _)| l);
        let mut a = Vec::with_capacity(12);
        put_u32(&mut a, list);
        put_u32(&mut a, 0);
        put_u32(&mut a, next);
        items.set(link, a);
        let mut c = Vec::with_capacity(8 + 12 * block.connections.len());
        put_u32(&mut c, 8);
        put_u32(
            &mut c,
            u32::try_from(block.connections.len()).unwrap_or(u32::MAX),
        );
        for conn in &block.connections {
            put_u16(&mut c, conn.source);
            put_u16(&mut c, conn.control);
            put_u16(&mut c, conn.destination);
            put_u16(&mut c, conn.transform);
            put_i32(&mut c, conn.scale);
        }
        items.set(list, c);
    }
    indices.first().map_or(0, |&(link, _)| link)
}

/// Builds the `DMUS_DOWNLOADINFO_INSTRUMENT2` buffer of one instrument. `wave_of_cue` maps a
/// region's pool index to the wave's download id and the wave's own sample info; a region
/// whose cue does not resolve links to download id `u32::MAX` (which no store holds).
///
/// # Errors
/// [`BuildError::TooLarge`].
pub fn build_instrument(
    dlid: u32,
    instrument: &Instrument<'_>,
    wave_of_cue: impl Fn(u32) -> Option<(u32, Option<SampleInfo>)>,
) -> Result<Vec<u8>, BuildError> {
    let mut items = Items(Vec::new());
    let head = items.reserve();
    let global = articulation_chain(&mut items, &instrument.articulation);
    let region_indices: Vec<u32> = instrument.regions.iter().map(|_| items.reserve()).collect();
    for (n, region) in instrument.regions.iter().enumerate() {
        let art = articulation_chain(&mut items, &region.articulation);
        let (wave_dlid, wave_sample) =
            wave_of_cue(region.wave_link.table_index).unwrap_or((u32::MAX, None));
        let sample = region.sample.or(wave_sample).unwrap_or(SampleInfo {
            unity_note: 60,
            ..SampleInfo::default()
        });
        let next = region_indices.get(n + 1).copied().unwrap_or(0);
        let mut r = Vec::with_capacity(72);
        put_u16(&mut r, region.key.low);
        put_u16(&mut r, region.key.high);
        put_u16(&mut r, region.velocity.low);
        put_u16(&mut r, region.velocity.high);
        put_u16(&mut r, region.options);
        put_u16(&mut r, region.key_group);
        put_u32(&mut r, art);
        put_u32(&mut r, next);
        put_u32(&mut r, 0); // ulFirstExtCkIdx
        put_u16(&mut r, region.wave_link.options);
        put_u16(&mut r, region.wave_link.phase_group);
        put_u32(&mut r, region.wave_link.channel);
        put_u32(&mut r, wave_dlid);
        put_u32(&mut r, 20); // WSMP.cbSize
        put_u16(&mut r, sample.unity_note);
        put_u16(&mut r, u16::from_le_bytes(sample.fine_tune.to_le_bytes()));
        put_i32(&mut r, sample.attenuation);
        put_u32(&mut r, sample.options);
        put_u32(&mut r, u32::from(sample.wave_loop.is_some()));
        let l = sample.wave_loop.unwrap_or_default();
        for v in [16, l.kind, l.start, l.length] {
            put_u32(&mut r, v);
        }
        items.set(region_indices[n], r);
    }
    let mut ins = Vec::with_capacity(24);
    put_u32(&mut ins, instrument.patch().0);
    put_u32(&mut ins, region_indices.first().copied().unwrap_or(0));
    put_u32(&mut ins, global);
    put_u32(&mut ins, 0); // ulFirstExtCkIdx
    put_u32(&mut ins, 0); // ulCopyrightIdx
    put_u32(&mut ins, 0); // ulFlags
    items.set(head, ins);
    items.finish(DMUS_DOWNLOADINFO_INSTRUMENT2, dlid)
}
