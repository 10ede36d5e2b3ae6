//! The tests' tiny DLS collection: one looped square wave, one instrument on every key, as a
//! `.dls` file and as the download buffers `DirectMusic` would make of it.

#![allow(dead_code, reason = "each test file uses a different part")]

use dls::download::APPEND_SAMPLES;
use dls::download::build::{CollectionBuffers, build_collection};
use dls::wire::file::DlsFile;
use dls::wire::riff_writer::{chunk, le16s as le16, le32s as le, list};

/// One instrument (bank 0, program 0, keys and velocities 0..=127) on one 441-frame square
/// wave at 44.1 kHz (100 Hz at its unity note 60), looped whole.
pub fn tiny_collection() -> Vec<u8> {
    let frames = 441u32;
    let wsmp = {
        let mut d = le(&[20]);
        d.extend(le16(&[60, 0]));
        d.extend(0i32.to_le_bytes());
        d.extend(le(&[0, 1, 16, 0, 0, frames]));
        chunk(*b"wsmp", &d)
    };
    let region = list(
        *b"rgn2",
        &[
            chunk(*b"rgnh", &le16(&[0, 127, 0, 127, 0, 0, 0])),
            wsmp.clone(),
            chunk(*b"wlnk", &[le16(&[0, 0]), le(&[1, 0])].concat()),
        ],
    );
    let instrument = list(
        *b"ins ",
        &[chunk(*b"insh", &le(&[1, 0, 0])), list(*b"lrgn", &[region])],
    );
    let samples: Vec<u8> = (0..frames)
        .flat_map(|i| if i < frames / 2 { 8_000i16 } else { -8_000 }.to_le_bytes())
        .collect();
    let wave = list(
        *b"wave",
        &[
            chunk(
                *b"fmt ",
                &[le16(&[1, 1]), le(&[44_100, 88_200]), le16(&[2, 16])].concat(),
            ),
            wsmp,
            chunk(*b"data", &samples),
        ],
    );
    let mut body = b"DLS ".to_vec();
    body.extend(chunk(*b"colh", &le(&[1])));
    body.extend(list(*b"lins", &[instrument]));
    body.extend(chunk(*b"ptbl", &le(&[8, 1, 0])));
    body.extend(list(*b"wvpl", &[wave]));
    chunk(*b"RIFF", &body)
}

/// [`tiny_collection`]'s download buffers, download ids from `first_dlid`.
pub fn tiny_buffers(first_dlid: u32) -> CollectionBuffers {
    let bytes = tiny_collection();
    let file = DlsFile::parse(&bytes).expect("the fixture is a valid DLS file");
    build_collection(&file, first_dlid, APPEND_SAMPLES).expect("download buffers")
}
