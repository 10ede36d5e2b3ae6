//! The validating parser of download buffers.
//!
//! Instruments are copied into small owned values (the client may free an instrument buffer
//! as soon as the download returns, as ddksynth does). Waves are not copied: the parser
//! returns where the samples lie in the buffer, and the store keeps the buffer.
//!
//! Every index is checked against the offset table, every item against `cbSize`, every count
//! against the bytes that hold it, and every index is used at most once per buffer (which
//! refuses loops in the region, articulation and extension-chunk chains and bounds the work
//! by the table's size). Nothing panics on any input.

use alloc::vec::Vec;
use core::ops::Range;

use super::DownloadError;
use super::chain::Claims;
use super::error::{try_push, try_with_capacity};
use crate::model::{
    ArticulationLevel, ConnectionBlock, KeyRange, Patch, SampleInfo, WaveFormat, WaveLoop,
};
use crate::wire::bytes::{i16_at, i32_at, to_usize, u16_at, u32_at};
use crate::wire::download::DownloadView;
use crate::wire::file::try_read_connection_list;
use dmus_sys::dls::{
    DMUS_ARTICPARAMS, DMUS_DOWNLOADINFO_INSTRUMENT, DMUS_DOWNLOADINFO_INSTRUMENT2,
    DMUS_DOWNLOADINFO_ONESHOTWAVE, DMUS_DOWNLOADINFO_STREAMINGWAVE, DMUS_DOWNLOADINFO_WAVE,
    DMUS_DOWNLOADINFO_WAVEARTICULATION, DMUS_LFOPARAMS, DMUS_MSCPARAMS, DMUS_PEGPARAMS,
    DMUS_VEGPARAMS,
};

/// `DMUS_INSTRUMENT` size.
const INSTRUMENT_LEN: usize = 24;
/// `DMUS_REGION` size (with its one declared loop).
const REGION_LEN: usize = 72;
/// Offset of `DMUS_REGION::WLOOP`.
const REGION_LOOPS_AT: usize = 56;
/// `WLOOP` size.
const WLOOP_LEN: usize = 16;
/// `DMUS_ARTICULATION` size.
const ARTICULATION_LEN: usize = 8;
/// `DMUS_ARTICULATION2` size.
const ARTICULATION2_LEN: usize = 12;
/// `DMUS_ARTICPARAMS` size.
const ARTICPARAMS_LEN: usize = 80;
/// `DMUS_WAVE` size.
const WAVE_LEN: usize = 32;
/// `DMUS_WAVEARTDL` size (18 bytes of members, padded to its 4-byte alignment).
const WAVEARTDL_LEN: usize = 20;
/// `DMUS_WAVEDL` size.
const WAVEDL_LEN: usize = 4;
/// Header of `DMUS_EXTENSIONCHUNK` and `DMUS_COPYRIGHT`/`DMUS_WAVEDATA` before their bytes.
const EXTENSION_HEADER_LEN: usize = 12;

/// An instrument's or region's articulation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Articulation {
    /// `DMUS_DOWNLOADINFO_INSTRUMENT`: one `DMUS_ARTICPARAMS` block.
    Dls1(DMUS_ARTICPARAMS),
    /// `DMUS_DOWNLOADINFO_INSTRUMENT2`: the connection lists of the `DMUS_ARTICULATION2` chain.
    Dls2(Vec<ConnectionBlock>),
}

/// A region of a downloaded instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedRegion {
    /// Key range.
    pub key: KeyRange,
    /// Velocity range.
    pub velocity: KeyRange,
    /// `F_RGN_OPTION_*`.
    pub options: u16,
    /// Key group (exclusive class).
    pub key_group: u16,
    /// The download id of the wave it plays (`WaveLink.ulTableIndex`).
    pub wave_dlid: u32,
    /// `WaveLink.ulChannel`.
    pub channel: u32,
    /// `WaveLink.fusOptions`.
    pub link_options: u16,
    /// `WaveLink.usPhaseGroup`.
    pub phase_group: u16,
    /// Sample info and loop.
    pub sample: SampleInfo,
    /// The region's own articulation.
    pub articulation: Option<Articulation>,
}

/// A downloaded instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedInstrument {
    /// Download id.
    pub dlid: u32,
    /// Patch (`ulPatch`).
    pub patch: Patch,
    /// `DMUS_INSTRUMENT_*` flags.
    pub flags: u32,
    /// Regions, in chain order.
    pub regions: Vec<ParsedRegion>,
    /// Global articulation.
    pub articulation: Option<Articulation>,
}

/// Which download type brought a wave, and so how it may be played.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum WaveKind {
    /// `DMUS_DOWNLOADINFO_WAVE`: a whole wave that instrument regions link to.
    Whole,
    /// `DMUS_DOWNLOADINFO_STREAMINGWAVE`: one buffer of a streamed wave; a wave articulation
    /// plays its buffers one after the other.
    Streaming,
    /// `DMUS_DOWNLOADINFO_ONESHOTWAVE`: a whole wave a wave articulation plays once.
    OneShot,
}

/// A downloaded wave: where its samples lie in the buffer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedWave {
    /// Download id.
    pub dlid: u32,
    /// The download type it came as.
    pub kind: WaveKind,
    /// Format (checked playable).
    pub format: WaveFormat,
    /// Byte range of the whole frames of sample data in the buffer.
    pub data: Range<usize>,
    /// Byte range of the appended guard frames right after `data` (empty when the synth asked
    /// for no append).
    pub guard: Range<usize>,
}

impl ParsedWave {
    /// Number of sample frames.
    #[must_use]
    pub fn frames(&self) -> usize {
        self.data.len() / usize::from(self.format.block_align.max(1))
    }
}

/// A downloaded wave articulation (`DMUS_WAVEARTDL`): what `DirectMusic`'s wave tracks play,
/// the buffers of one streaming or one-shot wave.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedWaveArticulation {
    /// Download id (the id a voice is started with).
    pub dlid: u32,
    /// `ulBus`: the playback bus.
    pub bus: u32,
    /// The download ids of the wave buffers, in playing order (`ulBuffers` of them, at least
    /// one), read from the item `ulDownloadIdIdx` names.
    pub buffers: Vec<u32>,
    /// `ulMasterDLId`: the master voice of a subordinate group (0: none).
    pub master_dlid: u32,
    /// `usOptions`: DLS2 region options (`F_RGN_OPTION_*`).
    pub options: u16,
}

/// What a buffer held.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    /// A wave (`DMUS_DOWNLOADINFO_WAVE`, `_STREAMINGWAVE` or `_ONESHOTWAVE`).
    Wave(ParsedWave),
    /// An instrument (`DMUS_DOWNLOADINFO_INSTRUMENT` or `_INSTRUMENT2`).
    Instrument(ParsedInstrument),
    /// A wave articulation (`DMUS_DOWNLOADINFO_WAVEARTICULATION`).
    WaveArticulation(ParsedWaveArticulation),
}

/// Parses and validates one download buffer. `append_samples` is the value the synth reports
/// for `KSPROPERTY_SYNTH_DLS_APPEND`: that many frames must follow each wave's data inside
/// the buffer.
///
/// # Errors
/// The first fault found, as a [`DownloadError`].
pub fn parse(buffer: &[u8], append_samples: u32) -> Result<Parsed, DownloadError> {
    let view = DownloadView::new_checked(buffer)?;
    let mut visits = Claims::new(to_usize(view.entries()))?;
    match view.kind() {
        DMUS_DOWNLOADINFO_WAVE => {
            parse_wave(&view, &mut visits, 0, append_samples, WaveKind::Whole)
                .map(|(wave, _)| Parsed::Wave(wave))
        }
        DMUS_DOWNLOADINFO_STREAMINGWAVE => {
            parse_wave_buffer(&view, &mut visits, append_samples, WaveKind::Streaming)
                .map(Parsed::Wave)
        }
        DMUS_DOWNLOADINFO_ONESHOTWAVE => {
            parse_wave_buffer(&view, &mut visits, append_samples, WaveKind::OneShot)
                .map(Parsed::Wave)
        }
        DMUS_DOWNLOADINFO_WAVEARTICULATION => {
            parse_wave_articulation(&view, &mut visits).map(Parsed::WaveArticulation)
        }
        DMUS_DOWNLOADINFO_INSTRUMENT => {
            parse_instrument(&view, &mut visits, false).map(Parsed::Instrument)
        }
        DMUS_DOWNLOADINFO_INSTRUMENT2 => {
            parse_instrument(&view, &mut visits, true).map(Parsed::Instrument)
        }
        _ => Err(DownloadError::UnknownType),
    }
}

fn field(item: &[u8], at: usize) -> Result<u32, DownloadError> {
    u32_at(item, at).ok_or(DownloadError::Truncated)
}

/// Checks an extension-chunk chain (contents are not used).
fn check_extensions(
    view: &DownloadView<'_>,
    visits: &mut Claims,
    first: u32,
) -> Result<(), DownloadError> {
    let mut index = first;
    while index != 0 {
        visits.claim(index)?;
        let item = view.item(index, EXTENSION_HEADER_LEN)?;
        let bytes = to_usize(field(item, 0)?);
        if bytes > item.len() - EXTENSION_HEADER_LEN {
            return Err(DownloadError::Truncated);
        }
        index = field(item, 4)?;
    }
    Ok(())
}

/// Checks a `DMUS_COPYRIGHT` item (contents are not used).
fn check_copyright(
    view: &DownloadView<'_>,
    visits: &mut Claims,
    index: u32,
) -> Result<(), DownloadError> {
    if index == 0 {
        return Ok(());
    }
    visits.claim(index)?;
    let item = view.item(index, 4)?;
    if to_usize(field(item, 0)?) > item.len() - 4 {
        return Err(DownloadError::Truncated);
    }
    Ok(())
}

/// Parses the `DMUS_WAVE` at offset-table index `index` (claimed by the caller) and its
/// `DMUS_WAVEDATA`; also returns the data's declared `cbSize`.
fn parse_wave(
    view: &DownloadView<'_>,
    visits: &mut Claims,
    index: u32,
    append_samples: u32,
    kind: WaveKind,
) -> Result<(ParsedWave, usize), DownloadError> {
    let wave = view.item(index, WAVE_LEN)?;
    check_extensions(view, visits, field(wave, 0)?)?;
    check_copyright(view, visits, field(wave, 4)?)?;
    let data_index = field(wave, 8)?;
    let f = |at| u16_at(wave, at).ok_or(DownloadError::Truncated);
    let format = WaveFormat {
        format_tag: f(12)?,
        channels: f(14)?,
        sample_rate: field(wave, 16)?,
        avg_bytes_per_sec: field(wave, 20)?,
        block_align: f(24)?,
        bits_per_sample: f(26)?,
    };
    if !format.is_playable() {
        return Err(DownloadError::BadWave);
    }
    if data_index == 0 {
        return Err(DownloadError::BadIndex);
    }
    visits.claim(data_index)?;
    let data_item = view.offset(data_index)?;
    let declared = to_usize(field(view.item(data_index, 4)?, 0)?);
    let start = data_item + 4;
    let end = start
        .checked_add(declared)
        .filter(|&end| end <= view.size())
        .ok_or(DownloadError::TruncatedWave)?;
    let block = usize::from(format.block_align);
    let end = start + (end - start) / block * block;
    let guard_len = to_usize(append_samples)
        .checked_mul(block)
        .ok_or(DownloadError::TruncatedWave)?;
    let guard_end = end
        .checked_add(guard_len)
        .filter(|&g| g <= view.buffer().len());
    let guard_end = guard_end.ok_or(DownloadError::TruncatedWave)?;
    let parsed = ParsedWave {
        dlid: view.dlid(),
        kind,
        format,
        data: start..end,
        guard: end..guard_end,
    };
    Ok((parsed, declared))
}

/// A `DMUS_DOWNLOADINFO_STREAMINGWAVE` or `_ONESHOTWAVE` buffer. The headers give the main
/// item, `DMUS_WAVEDL`, and nothing else; the layout chosen (as `build` writes it): index 0
/// the `DMUS_WAVEDL`, index 1 the `DMUS_WAVE` with the format, whose `ulWaveDataIdx` names
/// the `DMUS_WAVEDATA`, as in a `DMUS_DOWNLOADINFO_WAVE` buffer. `cbWaveData` must equal the
/// `DMUS_WAVEDATA`'s `cbSize` and hold whole frames; the appended guard frames follow the
/// data as for every wave.
fn parse_wave_buffer(
    view: &DownloadView<'_>,
    visits: &mut Claims,
    append_samples: u32,
    kind: WaveKind,
) -> Result<ParsedWave, DownloadError> {
    let wave_dl = view.item(0, WAVEDL_LEN)?;
    let wave_data_bytes = to_usize(field(wave_dl, 0)?);
    visits.claim(1)?;
    let (wave, declared) = parse_wave(view, visits, 1, append_samples, kind)?;
    if declared != wave_data_bytes || wave.data.len() != declared || declared == 0 {
        return Err(DownloadError::BadWave);
    }
    Ok(wave)
}

/// A `DMUS_DOWNLOADINFO_WAVEARTICULATION` buffer: the `DMUS_WAVEARTDL` at index 0, and at
/// its `ulDownloadIdIdx` the `ulBuffers` download ids of the wave's buffers (`ULONG`s). The
/// buffers themselves are checked against the store on download.
fn parse_wave_articulation(
    view: &DownloadView<'_>,
    visits: &mut Claims,
) -> Result<ParsedWaveArticulation, DownloadError> {
    let art = view.item(0, WAVEARTDL_LEN)?;
    let ids_index = field(art, 0)?;
    let bus = field(art, 4)?;
    let count = to_usize(field(art, 8)?);
    let master_dlid = field(art, 12)?;
    let options = u16_at(art, 16).ok_or(DownloadError::Truncated)?;
    if ids_index == 0 {
        return Err(DownloadError::BadIndex);
    }
    if count == 0 {
        return Err(DownloadError::BadWaveArticulation);
    }
    visits.claim(ids_index)?;
    let ids = view.item(
        ids_index,
        count.checked_mul(4).ok_or(DownloadError::Truncated)?,
    )?;
    let buffers = (0..count)
        .map(|n| field(ids, 4 * n))
        .collect::<Result<Vec<u32>, DownloadError>>()?;
    Ok(ParsedWaveArticulation {
        dlid: view.dlid(),
        bus,
        buffers,
        master_dlid,
        options,
    })
}

fn parse_instrument(
    view: &DownloadView<'_>,
    visits: &mut Claims,
    level2: bool,
) -> Result<ParsedInstrument, DownloadError> {
    let ins = view.item(0, INSTRUMENT_LEN)?;
    let patch = Patch(field(ins, 0)?);
    let first_region = field(ins, 4)?;
    let global_art = field(ins, 8)?;
    check_extensions(view, visits, field(ins, 12)?)?;
    check_copyright(view, visits, field(ins, 16)?)?;
    let flags = field(ins, 20)?;
    let articulation = parse_articulation(view, visits, global_art, level2)?;

    // Region articulations are walked inside the loop with their own stamps, so collect the
    // region chain first.
    let mut region_indices = Vec::new();
    let mut index = first_region;
    while index != 0 {
        visits.claim(index)?;
        try_push(&mut region_indices, index)?;
        index = field(view.item(index, REGION_LEN)?, 16)?;
    }
    let mut regions = try_with_capacity(region_indices.len())?;
    for index in region_indices {
        regions.push(parse_region(view, visits, index, level2)?);
    }
    Ok(ParsedInstrument {
        dlid: view.dlid(),
        patch,
        flags,
        regions,
        articulation,
    })
}

fn range(item: &[u8], at: usize) -> Result<KeyRange, DownloadError> {
    let r = KeyRange {
        low: u16_at(item, at).ok_or(DownloadError::Truncated)?,
        high: u16_at(item, at + 2).ok_or(DownloadError::Truncated)?,
    };
    if r.low > r.high || r.high > 127 {
        return Err(DownloadError::BadRegion);
    }
    Ok(r)
}

fn parse_region(
    view: &DownloadView<'_>,
    visits: &mut Claims,
    index: u32,
    level2: bool,
) -> Result<ParsedRegion, DownloadError> {
    let r = view.item(index, REGION_LEN)?;
    let h = |at| u16_at(r, at).ok_or(DownloadError::Truncated);
    let loops = to_usize(field(r, 52)?);
    let loops_end = loops
        .checked_mul(WLOOP_LEN)
        .and_then(|n| n.checked_add(REGION_LOOPS_AT));
    if loops_end.is_none_or(|end| end > r.len()) {
        return Err(DownloadError::Truncated);
    }
    let wave_loop = (loops > 0)
        .then(|| -> Result<WaveLoop, DownloadError> {
            Ok(WaveLoop {
                kind: field(r, 60)?,
                start: field(r, 64)?,
                length: field(r, 68)?,
            })
        })
        .transpose()?;
    let sample = SampleInfo {
        unity_note: h(40)?,
        fine_tune: i16_at(r, 42).ok_or(DownloadError::Truncated)?,
        attenuation: i32_at(r, 44).ok_or(DownloadError::Truncated)?,
        options: field(r, 48)?,
        wave_loop,
    };
    check_extensions(view, visits, field(r, 20)?)?;
    Ok(ParsedRegion {
        key: range(r, 0)?,
        velocity: range(r, 4)?,
        options: h(8)?,
        key_group: h(10)?,
        link_options: h(24)?,
        phase_group: h(26)?,
        channel: field(r, 28)?,
        wave_dlid: field(r, 32)?,
        sample,
        articulation: parse_articulation(view, visits, field(r, 12)?, level2)?,
    })
}

fn parse_articulation(
    view: &DownloadView<'_>,
    visits: &mut Claims,
    first: u32,
    level2: bool,
) -> Result<Option<Articulation>, DownloadError> {
    if first == 0 {
        return Ok(None);
    }
    if !level2 {
        visits.claim(first)?;
        let art = view.item(first, ARTICULATION_LEN)?;
        let params_index = field(art, 0)?;
        check_extensions(view, visits, field(art, 4)?)?;
        if params_index == 0 {
            return Err(DownloadError::BadIndex);
        }
        visits.claim(params_index)?;
        return Ok(Some(Articulation::Dls1(read_articparams(
            view.item(params_index, ARTICPARAMS_LEN)?,
        )?)));
    }
    // Walk the link chain first with its own stamp, then the extension chains of its links.
    let mut links = Vec::new();
    let mut index = first;
    while index != 0 {
        visits.claim(index)?;
        let link = view.item(index, ARTICULATION2_LEN)?;
        try_push(&mut links, (field(link, 0)?, field(link, 4)?))?;
        index = field(link, 8)?;
    }
    let mut blocks = try_with_capacity(links.len())?;
    for (list_index, extensions) in links {
        check_extensions(view, visits, extensions)?;
        if list_index == 0 {
            continue;
        }
        visits.claim(list_index)?;
        let connections =
            try_read_connection_list(view.item(list_index, 8)?)?.ok_or(DownloadError::Truncated)?;
        blocks.push(ConnectionBlock {
            level: ArticulationLevel::Dls2,
            connections,
        });
    }
    Ok(Some(Articulation::Dls2(blocks)))
}

fn read_articparams(p: &[u8]) -> Result<DMUS_ARTICPARAMS, DownloadError> {
    let v = |i: usize| i32_at(p, 4 * i).ok_or(DownloadError::Truncated);
    Ok(DMUS_ARTICPARAMS {
        LFO: DMUS_LFOPARAMS {
            pcFrequency: v(0)?,
            tcDelay: v(1)?,
            gcVolumeScale: v(2)?,
            pcPitchScale: v(3)?,
            gcMWToVolume: v(4)?,
            pcMWToPitch: v(5)?,
        },
        VolEG: DMUS_VEGPARAMS {
            tcAttack: v(6)?,
            tcDecay: v(7)?,
            ptSustain: v(8)?,
            tcRelease: v(9)?,
            tcVel2Attack: v(10)?,
            tcKey2Decay: v(11)?,
        },
        PitchEG: DMUS_PEGPARAMS {
            tcAttack: v(12)?,
            tcDecay: v(13)?,
            ptSustain: v(14)?,
            tcRelease: v(15)?,
            tcVel2Attack: v(16)?,
            tcKey2Decay: v(17)?,
            pcRange: v(18)?,
        },
        Misc: DMUS_MSCPARAMS {
            ptDefaultPan: v(19)?,
        },
    })
}
