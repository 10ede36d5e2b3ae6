//! (feature `host`) A RIFF writer for test fixtures and tools: chunks, LISTs and little-endian
//! words, laid out as the reader in [`super::riff`] expects (a chunk's size excludes its pad
//! byte; odd-sized data is padded to a word).

use alloc::vec::Vec;

/// A chunk: `id`, the data's size (32-bit little-endian), the data, and a pad byte when the
/// size is odd.
///
/// # Panics
/// If `data` is longer than a RIFF chunk can say (4 GiB).
#[must_use]
pub fn chunk(id: [u8; 4], data: &[u8]) -> Vec<u8> {
    let size = u32::try_from(data.len()).expect("a RIFF chunk holds at most 4 GiB");
    let mut bytes = id.to_vec();
    bytes.extend_from_slice(&size.to_le_bytes());
    bytes.extend_from_slice(data);
    if data.len() % 2 == 1 {
        bytes.push(0);
    }
    bytes
}

/// A `LIST` chunk of type `kind` holding `parts` (each a whole chunk) in order.
///
/// # Panics
/// As [`chunk`].
#[must_use]
pub fn list(kind: [u8; 4], parts: &[Vec<u8>]) -> Vec<u8> {
    let mut data = kind.to_vec();
    for part in parts {
        data.extend_from_slice(part);
    }
    chunk(*b"LIST", &data)
}

/// `values` as consecutive 32-bit little-endian words.
#[must_use]
pub fn le32s(values: &[u32]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

/// `values` as consecutive 16-bit little-endian words.
#[must_use]
pub fn le16s(values: &[u16]) -> Vec<u8> {
    values.iter().flat_map(|v| v.to_le_bytes()).collect()
}

#[cfg(test)]
mod tests {
    use super::{chunk, le16s, le32s, list};
    use crate::wire::riff::read_form;
    use alloc::vec::Vec;

    fn fourcc(id: [u8; 4]) -> u32 {
        u32::from_le_bytes(id)
    }

    #[test]
    fn what_it_writes_the_reader_reads_back() {
        let odd = chunk(*b"data", &[1, 2, 3]);
        assert_eq!(
            odd,
            [b"data".as_slice(), &[3, 0, 0, 0, 1, 2, 3, 0]].concat()
        );
        let wave = list(*b"wave", &[odd, chunk(*b"fmt ", &le16s(&[1, 2]))]);
        let mut body = b"DLS ".to_vec();
        body.extend(wave);
        let riff = chunk(*b"RIFF", &body);
        let form = read_form(&riff, fourcc(*b"DLS ")).expect("a RIFF form");
        let lists: Vec<_> = form.children().expect("children").collect();
        assert_eq!(lists.len(), 1);
        let wave = lists[0].expect("a LIST");
        assert!(wave.is_list_of(fourcc(*b"wave")));
        let data = wave.require(fourcc(*b"data")).expect("data");
        assert_eq!(data.data, [1, 2, 3], "the pad byte is not data");
        assert_eq!(
            wave.require(fourcc(*b"fmt ")).expect("fmt").data,
            [1, 0, 2, 0]
        );
        assert_eq!(le32s(&[1, 0x0102_0304]), [1, 0, 0, 0, 4, 3, 2, 1]);
    }
}
