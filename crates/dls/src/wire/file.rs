//! The `.dls` file model: `RIFF 'DLS '` with `colh`, `vers`, `lins` (`ins ` lists of `insh`,
//! `lrgn` (`rgn `/`rgn2` lists of `rgnh`, `wsmp`, `wlnk`, `lart`/`lar2`), `lart`/`lar2`),
//! `ptbl` (pool cues into `wvpl`), `wvpl` (`wave` lists of `fmt `, `wsmp`, `data`) and `INFO`.
//!
//! The model borrows names and sample data from the file's bytes. Structure is checked
//! strictly (sizes, counts, ranges, every wave link resolves through the pool table to a
//! wave); wave formats are recorded as found, because only the synth decides what it plays.

use alloc::vec::Vec;

use super::bytes::{i16_at, i32_at, to_usize, u16_at, u32_at};
use super::riff::{Chunk, RiffError, RiffErrorKind, read_form};
use crate::model::{
    ArticulationLevel, Connection, ConnectionBlock, KeyRange, Patch, SampleInfo, WaveFormat,
    WaveLoop,
};
use dmus_sys::dls::{
    FOURCC, FOURCC_ART1, FOURCC_ART2, FOURCC_COLH, FOURCC_DLS, FOURCC_INS, FOURCC_INSH,
    FOURCC_LAR2, FOURCC_LART, FOURCC_LINS, FOURCC_LRGN, FOURCC_PTBL, FOURCC_RGN, FOURCC_RGN2,
    FOURCC_RGNH, FOURCC_VERS, FOURCC_WLNK, FOURCC_WSMP, FOURCC_WVPL, FOURCC_wave, mmioFOURCC,
};

const FOURCC_FMT: FOURCC = mmioFOURCC(*b"fmt ");
const FOURCC_DATA: FOURCC = mmioFOURCC(*b"data");
const FOURCC_INFO: FOURCC = mmioFOURCC(*b"INFO");
const FOURCC_INAM: FOURCC = mmioFOURCC(*b"INAM");

/// Size of `CONNECTION` on the wire.
const CONNECTION_LEN: usize = 12;
/// Size of `WLOOP` on the wire.
const WLOOP_LEN: usize = 16;
/// Size of `WSMPL` without loops.
const WSMPL_LEN: usize = 20;

/// `WAVELINK` as read from a `wlnk` chunk.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct WaveLink {
    /// `F_WAVELINK_*`.
    pub options: u16,
    /// Phase group.
    pub phase_group: u16,
    /// `WAVELINK_CHANNEL_*`.
    pub channel: u32,
    /// Index into the pool table.
    pub table_index: u32,
}

/// A region of an instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Region {
    /// Whether it came from a DLS2 `rgn2` list (else DLS1 `rgn `).
    pub level2: bool,
    /// Key range.
    pub key: KeyRange,
    /// Velocity range.
    pub velocity: KeyRange,
    /// `F_RGN_OPTION_*`.
    pub options: u16,
    /// Key group (exclusive class); 0 = none.
    pub key_group: u16,
    /// Layer (DLS2 `rgnh` extension; 0 when absent).
    pub layer: u16,
    /// The wave this region plays.
    pub wave_link: WaveLink,
    /// The region's own sample info, overriding the wave's.
    pub sample: Option<SampleInfo>,
    /// The region's articulation blocks.
    pub articulation: Vec<ConnectionBlock>,
}

/// An instrument.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Instrument<'a> {
    /// `INFO/INAM`, without trailing NULs (empty when absent).
    pub name: &'a [u8],
    /// `MIDILOCALE::ulBank` as stored (CC0 in bits 8..15, CC32 in 0..7, drum flag in bit 31).
    pub bank: u32,
    /// `MIDILOCALE::ulInstrument`.
    pub program: u32,
    /// Regions, in file order.
    pub regions: Vec<Region>,
    /// Global articulation blocks.
    pub articulation: Vec<ConnectionBlock>,
}

impl Instrument<'_> {
    /// The `DirectMusic` patch of this instrument.
    #[must_use]
    pub fn patch(&self) -> Patch {
        Patch::from_locale(self.bank, self.program)
    }
}

/// A wave of the wave pool.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Wave<'a> {
    /// Offset of its `LIST wave` from the start of the `wvpl` list's data (what pool cues hold).
    pub pool_offset: u32,
    /// `INFO/INAM`, without trailing NULs.
    pub name: &'a [u8],
    /// The `fmt ` chunk.
    pub format: WaveFormat,
    /// The wave's `wsmp`, if any.
    pub sample: Option<SampleInfo>,
    /// The sample bytes of the `data` chunk.
    pub data: &'a [u8],
}

/// A parsed `.dls` collection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DlsFile<'a> {
    /// `colh`: the instrument count the file declares.
    pub declared_instruments: u32,
    /// `vers` (`dwVersionMS`, `dwVersionLS`), if present.
    pub version: Option<(u32, u32)>,
    /// Instruments, in file order.
    pub instruments: Vec<Instrument<'a>>,
    /// Waves, in `wvpl` order.
    pub waves: Vec<Wave<'a>>,
    /// For each pool cue (`ptbl` entry), the index of its wave in [`DlsFile::waves`].
    pub pool: Vec<usize>,
}

impl<'a> DlsFile<'a> {
    /// Parses a `.dls` file.
    ///
    /// # Errors
    /// A [`RiffError`] naming the first chunk that is malformed, with its file offset.
    pub fn parse(bytes: &'a [u8]) -> Result<Self, RiffError> {
        let riff = read_form(bytes, FOURCC_DLS)?;
        let colh = riff.require(FOURCC_COLH)?;
        let declared_instruments = u32_at(colh.data_at_least(4)?, 0).unwrap_or(0);
        let version = match riff.find(FOURCC_VERS)? {
            Some(vers) => {
                let d = vers.data_at_least(8)?;
                Some((u32_at(d, 0).unwrap_or(0), u32_at(d, 4).unwrap_or(0)))
            }
            None => None,
        };
        let waves = parse_wave_pool(&riff.require(FOURCC_WVPL)?)?;
        let ptbl = riff.require(FOURCC_PTBL)?;
        let pool = parse_pool_table(&ptbl, &waves)?;
        let lins = riff.require(FOURCC_LINS)?;
        let mut instruments = Vec::new();
        for child in lins.children()? {
            let child = child?;
            if child.is_list_of(FOURCC_INS) {
                instruments.push(parse_instrument(&child, pool.len())?);
            }
        }
        if usize::try_from(declared_instruments).ok() != Some(instruments.len()) {
            return Err(colh.error(RiffErrorKind::Invalid));
        }
        Ok(Self {
            declared_instruments,
            version,
            instruments,
            waves,
            pool,
        })
    }

    /// The wave a region plays.
    #[must_use]
    pub fn wave_of(&self, region: &Region) -> Option<&Wave<'a>> {
        let index = *self.pool.get(to_usize(region.wave_link.table_index))?;
        self.waves.get(index)
    }
}

fn name_of<'a>(list: &Chunk<'a>) -> Result<&'a [u8], RiffError> {
    let Some(info) = list.find(FOURCC_INFO)? else {
        return Ok(&[]);
    };
    let Some(inam) = info.find(FOURCC_INAM)? else {
        return Ok(&[]);
    };
    let mut name = inam.data;
    while let [rest @ .., 0] = name {
        name = rest;
    }
    Ok(name)
}

fn parse_wave_pool<'a>(wvpl: &Chunk<'a>) -> Result<Vec<Wave<'a>>, RiffError> {
    // Pool cues count from the first byte after the `wvpl` list type.
    let base = wvpl.offset + super::riff::HEADER_LEN + 4;
    let mut waves = Vec::new();
    for child in wvpl.children()? {
        let child = child?;
        if !child.is_list_of(FOURCC_wave) {
            continue;
        }
        let pool_offset =
            u32::try_from(child.offset - base).map_err(|_| child.error(RiffErrorKind::Invalid))?;
        let fmt = child.require(FOURCC_FMT)?;
        let f = fmt.data_at_least(16)?;
        let format = WaveFormat {
            format_tag: u16_at(f, 0).unwrap_or(0),
            channels: u16_at(f, 2).unwrap_or(0),
            sample_rate: u32_at(f, 4).unwrap_or(0),
            avg_bytes_per_sec: u32_at(f, 8).unwrap_or(0),
            block_align: u16_at(f, 12).unwrap_or(0),
            bits_per_sample: u16_at(f, 14).unwrap_or(0),
        };
        let sample = child
            .find(FOURCC_WSMP)?
            .map(|c| parse_wsmp(&c))
            .transpose()?;
        let data = child.require(FOURCC_DATA)?.data;
        waves.push(Wave {
            pool_offset,
            name: name_of(&child)?,
            format,
            sample,
            data,
        });
    }
    Ok(waves)
}

fn parse_pool_table(ptbl: &Chunk<'_>, waves: &[Wave<'_>]) -> Result<Vec<usize>, RiffError> {
    let d = ptbl.data_at_least(8)?;
    let header = to_usize(u32_at(d, 0).unwrap_or(0));
    let cues = to_usize(u32_at(d, 4).unwrap_or(0));
    let end = cues.checked_mul(4).and_then(|n| n.checked_add(header));
    if header < 8 || end.is_none_or(|end| end > d.len()) {
        return Err(ptbl.error(RiffErrorKind::TooShort));
    }
    let mut pool = Vec::with_capacity(cues);
    for i in 0..cues {
        let offset = u32_at(d, header + 4 * i).unwrap_or(u32::MAX);
        // Waves are in file order, so their pool offsets ascend.
        let index = waves.binary_search_by_key(&offset, |w| w.pool_offset);
        pool.push(index.map_err(|_| ptbl.error(RiffErrorKind::Invalid))?);
    }
    Ok(pool)
}

fn parse_wsmp(wsmp: &Chunk<'_>) -> Result<SampleInfo, RiffError> {
    let d = wsmp.data_at_least(WSMPL_LEN)?;
    let header = to_usize(u32_at(d, 0).unwrap_or(0));
    let loops = u32_at(d, 16).unwrap_or(0);
    let end = to_usize(loops)
        .checked_mul(WLOOP_LEN)
        .and_then(|n| n.checked_add(header));
    if header < WSMPL_LEN || end.is_none_or(|end| end > d.len()) {
        return Err(wsmp.error(RiffErrorKind::TooShort));
    }
    let wave_loop = (loops > 0).then(|| WaveLoop {
        kind: u32_at(d, header + 4).unwrap_or(0),
        start: u32_at(d, header + 8).unwrap_or(0),
        length: u32_at(d, header + 12).unwrap_or(0),
    });
    Ok(SampleInfo {
        unity_note: u16_at(d, 4).unwrap_or(60),
        fine_tune: i16_at(d, 6).unwrap_or(0),
        attenuation: i32_at(d, 8).unwrap_or(0),
        options: u32_at(d, 12).unwrap_or(0),
        wave_loop,
    })
}

/// Reads a `CONNECTIONLIST` and its connections from `d` (an `art1`/`art2` chunk's data, or
/// the tail of a download buffer). `None` when the sizes do not fit.
#[must_use]
pub fn read_connection_list(d: &[u8]) -> Option<Vec<Connection>> {
    try_read_connection_list(d).ok().flatten()
}

/// [`read_connection_list`], with the list allocated fallibly (the driver's download path).
///
/// # Errors
/// [`TryReserveError`](alloc::collections::TryReserveError) when the list cannot be allocated.
pub fn try_read_connection_list(
    d: &[u8],
) -> Result<Option<Vec<Connection>>, alloc::collections::TryReserveError> {
    let Some(header) = u32_at(d, 0).map(to_usize) else {
        return Ok(None);
    };
    let Some(count) = u32_at(d, 4).map(to_usize) else {
        return Ok(None);
    };
    let end = count
        .checked_mul(CONNECTION_LEN)
        .and_then(|bytes| bytes.checked_add(header));
    if header < 8 || end.is_none_or(|end| end > d.len()) {
        return Ok(None);
    }
    let mut connections = Vec::new();
    connections.try_reserve_exact(count)?;
    for i in 0..count {
        let at = header + i * CONNECTION_LEN;
        let connection = (|| {
            Some(Connection {
                source: u16_at(d, at)?,
                control: u16_at(d, at + 2)?,
                destination: u16_at(d, at + 4)?,
                transform: u16_at(d, at + 6)?,
                scale: i32_at(d, at + 8)?,
            })
        })();
        let Some(connection) = connection else {
            return Ok(None);
        };
        connections.push(connection);
    }
    Ok(Some(connections))
}

fn parse_articulation(list: &Chunk<'_>, out: &mut Vec<ConnectionBlock>) -> Result<(), RiffError> {
    for art in list.children()? {
        let art = art?;
        let level = match art.id {
            FOURCC_ART1 => ArticulationLevel::Dls1,
            FOURCC_ART2 => ArticulationLevel::Dls2,
            _ => continue,
        };
        let connections =
            read_connection_list(art.data).ok_or(art.error(RiffErrorKind::TooShort))?;
        out.push(ConnectionBlock { level, connections });
    }
    Ok(())
}

fn is_articulation_list(chunk: &Chunk<'_>) -> bool {
    chunk.is_list_of(FOURCC_LART) || chunk.is_list_of(FOURCC_LAR2)
}

fn checked_range(d: &[u8], at: usize) -> Option<KeyRange> {
    let range = KeyRange {
        low: u16_at(d, at)?,
        high: u16_at(d, at + 2)?,
    };
    (range.low <= range.high && range.high <= 127).then_some(range)
}

fn parse_region(list: &Chunk<'_>, pool_len: usize) -> Result<Region, RiffError> {
    let rgnh = list.require(FOURCC_RGNH)?;
    let h = rgnh.data_at_least(12)?;
    let key = checked_range(h, 0).ok_or(rgnh.error(RiffErrorKind::Invalid))?;
    let velocity = checked_range(h, 4).ok_or(rgnh.error(RiffErrorKind::Invalid))?;
    let wlnk = list.require(FOURCC_WLNK)?;
    let w = wlnk.data_at_least(12)?;
    let wave_link = WaveLink {
        options: u16_at(w, 0).unwrap_or(0),
        phase_group: u16_at(w, 2).unwrap_or(0),
        channel: u32_at(w, 4).unwrap_or(0),
        table_index: u32_at(w, 8).unwrap_or(u32::MAX),
    };
    if to_usize(wave_link.table_index) >= pool_len {
        return Err(wlnk.error(RiffErrorKind::Invalid));
    }
    let sample = list
        .find(FOURCC_WSMP)?
        .map(|c| parse_wsmp(&c))
        .transpose()?;
    let mut articulation = Vec::new();
    for child in list.children()? {
        let child = child?;
        if is_articulation_list(&child) {
            parse_articulation(&child, &mut articulation)?;
        }
    }
    Ok(Region {
        level2: list.is_list_of(FOURCC_RGN2),
        key,
        velocity,
        options: u16_at(h, 8).unwrap_or(0),
        key_group: u16_at(h, 10).unwrap_or(0),
        layer: u16_at(h, 12).unwrap_or(0),
        wave_link,
        sample,
        articulation,
    })
}

fn parse_instrument<'a>(list: &Chunk<'a>, pool_len: usize) -> Result<Instrument<'a>, RiffError> {
    let insh = list.require(FOURCC_INSH)?;
    let h = insh.data_at_least(12)?;
    let declared_regions = u32_at(h, 0).unwrap_or(0);
    let mut regions = Vec::new();
    let mut articulation = Vec::new();
    for child in list.children()? {
        let child = child?;
        if child.is_list_of(FOURCC_LRGN) {
            for rgn in child.children()? {
                let rgn = rgn?;
                if rgn.is_list_of(FOURCC_RGN) || rgn.is_list_of(FOURCC_RGN2) {
                    regions.push(parse_region(&rgn, pool_len)?);
                }
            }
        } else if is_articulation_list(&child) {
            parse_articulation(&child, &mut articulation)?;
        }
    }
    if usize::try_from(declared_regions).ok() != Some(regions.len()) {
        return Err(insh.error(RiffErrorKind::Invalid));
    }
    Ok(Instrument {
        name: name_of(list)?,
        bank: u32_at(h, 4).unwrap_or(0),
        program: u32_at(h, 8).unwrap_or(0),
        regions,
        articulation,
    })
}
