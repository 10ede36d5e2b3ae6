//! Walking the chunks of a Standard MIDI File (`<id:4><length:u32 BE><data>`),
//! keeping each chunk's file offset so that errors can point at bytes.
//!
//! midly's own track iterator hides offsets and drops a truncated chunk
//! whole; walking chunks here keeps every event before a truncation.

/// One chunk as found in the file.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The four-byte type (`MThd`, `MTrk`, or anything else).
    pub id: [u8; 4],
    /// File offset of the chunk header.
    pub offset: usize,
    /// File offset of the first data byte.
    pub data_offset: usize,
    /// The data; shorter than `declared_len` when the file ends early.
    pub data: &'a [u8],
    /// The length the chunk header declares.
    pub declared_len: u32,
}

impl Chunk<'_> {
    /// True when the file ended before the declared length.
    #[must_use]
    pub fn is_truncated(&self) -> bool {
        u32::try_from(self.data.len()).map_or(true, |len| len < self.declared_len)
    }
}

/// What [`split_chunks`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chunks<'a> {
    /// Every whole or truncated chunk, in file order.
    pub chunks: Vec<Chunk<'a>>,
    /// Offset and length of bytes at the end too short for a chunk header.
    pub trailing: Option<(usize, usize)>,
}

/// Splits `bytes` into chunks. Never fails: a chunk whose length runs past
/// the end of the file is returned truncated (the last one), and fewer than 8
/// bytes at the end are reported as trailing.
#[must_use]
pub fn split_chunks(bytes: &[u8]) -> Chunks<'_> {
    let mut chunks = Vec::new();
    let mut offset = 0;
    loop {
        let rest = bytes.get(offset..).unwrap_or_default();
        if rest.is_empty() {
            return Chunks {
                chunks,
                trailing: None,
            };
        }
        let Some((header, body)) = rest.split_first_chunk::<8>() else {
            return Chunks {
                chunks,
                trailing: Some((offset, rest.len())),
            };
        };
        let [i0, i1, i2, i3, l0, l1, l2, l3] = *header;
        let declared_len = u32::from_be_bytes([l0, l1, l2, l3]);
        let take = usize::try_from(declared_len)
            .unwrap_or(usize::MAX)
            .min(body.len());
        let data = body.get(..take).unwrap_or_default();
        chunks.push(Chunk {
            id: [i0, i1, i2, i3],
            offset,
            data_offset: offset + 8,
            data,
            declared_len,
        });
        offset += 8 + take;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_whole_chunks_and_reports_trailing_bytes() {
        let bytes = b"MThd\0\0\0\x06\0\0\0\x01\0\x60MTrk\0\0\0\x04\0\xff\x2f\0*";
        let found = split_chunks(bytes);
        assert_eq!(found.chunks.len(), 2);
        assert_eq!(found.chunks[0].id, *b"MThd");
        assert_eq!(found.chunks[0].data, b"\0\0\0\x01\0\x60");
        assert_eq!(found.chunks[1].offset, 14);
        assert_eq!(found.chunks[1].data_offset, 22);
        assert_eq!(found.chunks[1].data, b"\0\xff\x2f\0");
        assert!(!found.chunks[1].is_truncated());
        assert_eq!(found.trailing, Some((26, 1)));
    }

    #[test]
    fn truncated_chunk_keeps_what_is_there() {
        let found = split_chunks(b"MTrk\0\0\0\x10\x00\x90\x3c");
        assert_eq!(found.chunks.len(), 1);
        assert_eq!(found.chunks[0].data, b"\x00\x90\x3c");
        assert_eq!(found.chunks[0].declared_len, 16);
        assert!(found.chunks[0].is_truncated());
        assert_eq!(found.trailing, None);
    }

    #[test]
    fn empty_input_has_no_chunks() {
        assert_eq!(
            split_chunks(b""),
            Chunks {
                chunks: Vec::new(),
                trailing: None
            }
        );
    }

    proptest::proptest! {
        #[test]
        fn chunks_tile_the_input(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300)) {
            let found = split_chunks(&bytes);
            let mut offset = 0;
            for chunk in &found.chunks {
                proptest::prop_assert_eq!(chunk.offset, offset);
                proptest::prop_assert_eq!(chunk.data, &bytes[chunk.data_offset..chunk.data_offset + chunk.data.len()]);
                offset = chunk.data_offset + chunk.data.len();
            }
            if let Some((at, len)) = found.trailing {
                proptest::prop_assert_eq!(at, offset);
                proptest::prop_assert!(len < 8);
                offset += len;
            }
            proptest::prop_assert_eq!(offset, bytes.len());
        }
    }
}
