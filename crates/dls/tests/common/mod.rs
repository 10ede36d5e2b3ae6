//! Hand-built DLS files and download-buffer helpers for the tests.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of the helpers"
)]

/// A RIFF chunk with its pad byte.
pub fn chunk(id: [u8; 4], data: &[u8]) -> Vec<u8> {
    let mut v = id.to_vec();
    v.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
    v.extend_from_slice(data);
    if data.len() % 2 == 1 {
        v.push(0);
    }
    v
}

/// A `LIST` of `kind` holding `parts`.
pub fn list(kind: [u8; 4], parts: &[Vec<u8>]) -> Vec<u8> {
    let mut data = kind.to_vec();
    for p in parts {
        data.extend_from_slice(p);
    }
    chunk(*b"LIST", &data)
}

/// Little-endian bytes of a sequence of u32.
pub fn u32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// Little-endian bytes of a sequence of u16.
pub fn u16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// A `wsmp` chunk: unity note, fine tune, attenuation, options, optional (start, length) loop.
pub fn wsmp(unity: u16, fine: i16, atten: i32, options: u32, lp: Option<(u32, u32)>) -> Vec<u8> {
    let mut d = u32s(&[20]);
    d.extend(u16s(&[unity, u16::from_le_bytes(fine.to_le_bytes())]));
    d.extend(atten.to_le_bytes());
    d.extend(u32s(&[options, u32::from(lp.is_some())]));
    if let Some((start, length)) = lp {
        d.extend(u32s(&[16, 0, start, length]));
    }
    chunk(*b"wsmp", &d)
}

/// An articulation chunk (`art1`/`art2`) of (source, control, destination, transform, scale).
pub fn art(id: [u8; 4], connections: &[(u16, u16, u16, u16, i32)]) -> Vec<u8> {
    let mut d = u32s(&[8, u32::try_from(connections.len()).unwrap()]);
    for &(s, c, dst, t, scale) in connections {
        d.extend(u16s(&[s, c, dst, t]));
        d.extend(scale.to_le_bytes());
    }
    chunk(id, &d)
}

/// A region: `rgn2` with rgnh (14 bytes), wsmp (optional), wlnk to `cue`, lar2 with `art2`.
pub fn region(
    key: (u16, u16),
    vel: (u16, u16),
    key_group: u16,
    cue: u32,
    sample: Option<Vec<u8>>,
    art2: &[(u16, u16, u16, u16, i32)],
) -> Vec<u8> {
    let mut parts = vec![chunk(
        *b"rgnh",
        &u16s(&[key.0, key.1, vel.0, vel.1, 1, key_group, 0]),
    )];
    if let Some(s) = sample {
        parts.push(s);
    }
    parts.push(chunk(*b"wlnk", &[u16s(&[0, 0]), u32s(&[1, cue])].concat()));
    if !art2.is_empty() {
        parts.push(list(*b"lar2", &[art(*b"art2", art2)]));
    }
    list(*b"rgn2", &parts)
}

/// An instrument list with `insh`, the regions and an `INFO/INAM`.
pub fn instrument(
    name: &str,
    bank: u32,
    program: u32,
    regions: &[Vec<u8>],
    global: Option<Vec<u8>>,
) -> Vec<u8> {
    let count = u32::try_from(regions.len()).unwrap();
    let mut parts = vec![
        chunk(*b"insh", &u32s(&[count, bank, program])),
        list(*b"lrgn", regions),
    ];
    if let Some(g) = global {
        parts.push(g);
    }
    let mut inam = name.as_bytes().to_vec();
    inam.push(0);
    parts.push(list(*b"INFO", &[chunk(*b"INAM", &inam)]));
    list(*b"ins ", &parts)
}

/// A 16-bit mono wave list with `frames` samples of a ramp and an optional wsmp.
pub fn wave16(rate: u32, frames: usize, sample: Option<Vec<u8>>) -> Vec<u8> {
    let fmt = [u16s(&[1, 1]), u32s(&[rate, rate * 2]), u16s(&[2, 16])].concat();
    let data: Vec<u8> = (0..frames)
        .flat_map(|i| i16::try_from(i % 1000).unwrap().to_le_bytes())
        .collect();
    let mut parts = vec![chunk(*b"fmt ", &fmt)];
    if let Some(s) = sample {
        parts.push(s);
    }
    parts.push(chunk(*b"data", &data));
    list(*b"wave", &parts)
}

/// A whole `.dls`: colh, lins, ptbl (one cue per wave, in order), wvpl.
pub fn dls(instruments: &[Vec<u8>], waves: &[Vec<u8>]) -> Vec<u8> {
    let mut cues = Vec::new();
    let mut at = 0u32;
    for w in waves {
        cues.push(at);
        at += u32::try_from(w.len()).unwrap();
    }
    let mut ptbl = u32s(&[8, u32::try_from(waves.len()).unwrap()]);
    ptbl.extend(u32s(&cues));
    let mut body = b"DLS ".to_vec();
    body.extend(chunk(
        *b"colh",
        &u32s(&[u32::try_from(instruments.len()).unwrap()]),
    ));
    body.extend(chunk(*b"vers", &u32s(&[0x0001_0002, 0x0003_0004])));
    body.extend(list(*b"lins", instruments));
    body.extend(chunk(*b"ptbl", &ptbl));
    body.extend(list(*b"wvpl", waves));
    chunk(*b"RIFF", &body)
}

/// A small collection: two waves, one melodic instrument with two regions (one with its own
/// wsmp and a loop, one using the wave's), one drum kit.
pub fn small_collection() -> Vec<u8> {
    let piano = instrument(
        "Tiny Piano",
        (1 << 8) | 2,
        5,
        &[
            region(
                (0, 59),
                (0, 127),
                0,
                0,
                Some(wsmp(60, -5, -655_360, 1, Some((10, 90)))),
                &[(0, 0, 0x206, 0, -1000)],
            ),
            region((60, 127), (1, 100), 3, 1, None, &[]),
        ],
        Some(list(*b"lar2", &[art(*b"art2", &[(4, 0, 1, 0, 960 << 16)])])),
    );
    let kit = instrument(
        "Kit",
        0x8000_0000,
        0,
        &[region((35, 35), (0, 127), 1, 1, None, &[])],
        None,
    );
    dls(
        &[piano, kit],
        &[
            wave16(22050, 100, None),
            wave16(44100, 64, Some(wsmp(62, 0, 0, 0, Some((4, 60))))),
        ],
    )
}

/// The shared GM bank, or `None` (the test reported skipped, `test_data`) when the shared data
/// is absent.
pub fn gm_bank() -> Option<Vec<u8>> {
    test_data::read("dls/sf_GMbank.dls")
}

/// The offset of offset-table item `index` in a download buffer.
pub fn item_offset(buffer: &[u8], index: usize) -> usize {
    let at = 16 + 4 * index;
    usize::try_from(u32::from_le_bytes(buffer[at..at + 4].try_into().unwrap())).unwrap()
}

/// Writes a u32 at `at`.
pub fn put_u32(buffer: &mut [u8], at: usize, value: u32) {
    buffer[at..at + 4].copy_from_slice(&value.to_le_bytes());
}
