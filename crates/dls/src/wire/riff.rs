//! A checked RIFF reader.
//!
//! Chunks borrow the file's bytes. Every size is checked against the parent chunk before use,
//! iteration always moves forward by at least the 8-byte header (so it ends), and the reader
//! itself does not recurse: callers walk the fixed DLS nesting level by level. Errors name the
//! chunk and its absolute offset in the file.

use core::fmt;

use super::bytes::{to_usize, u32_at};
use dmus_sys::dls::{FOURCC, FOURCC_LIST, FOURCC_RIFF};

/// Size of a chunk header (`ckid`, `cksize`).
pub const HEADER_LEN: usize = 8;

/// What went wrong with a chunk.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RiffErrorKind {
    /// The header or the data runs past the end of the parent chunk (or the file).
    Truncated,
    /// The file does not start with `RIFF` and the expected form type.
    WrongForm,
    /// A `LIST`/`RIFF` chunk is too short to hold its list type.
    NotAList,
    /// The chunk is shorter than the structure it must hold.
    TooShort,
    /// A chunk the format requires is missing.
    Missing,
    /// A value in the chunk is out of range or inconsistent.
    Invalid,
}

/// A RIFF error: what, in which chunk, at which absolute file offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RiffError {
    /// What went wrong.
    pub kind: RiffErrorKind,
    /// The chunk id (or list type) it concerns.
    pub chunk: FOURCC,
    /// Absolute offset of that chunk's header in the file.
    pub offset: usize,
}

impl RiffError {
    /// Builds an error.
    #[must_use]
    pub fn new(kind: RiffErrorKind, chunk: FOURCC, offset: usize) -> Self {
        Self {
            kind,
            chunk,
            offset,
        }
    }
}

/// Formats a FOURCC as its four characters (non-printable bytes as `?`).
pub struct FourCcText(pub FOURCC);

impl fmt::Display for FourCcText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0.to_le_bytes() {
            let c = if b.is_ascii_graphic() || b == b' ' {
                char::from(b)
            } else {
                '?'
            };
            write!(f, "{c}")?;
        }
        Ok(())
    }
}

impl fmt::Display for RiffError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            RiffErrorKind::Truncated => "runs past its parent",
            RiffErrorKind::WrongForm => "is not the expected RIFF form",
            RiffErrorKind::NotAList => "is too short for a list type",
            RiffErrorKind::TooShort => "is shorter than its structure",
            RiffErrorKind::Missing => "is missing",
            RiffErrorKind::Invalid => "holds an invalid value",
        };
        write!(
            f,
            "chunk '{}' at offset {} {what}",
            FourCcText(self.chunk),
            self.offset
        )
    }
}

/// One chunk, borrowing its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Chunk<'a> {
    /// The chunk id.
    pub id: FOURCC,
    /// The chunk's data (`cksize` bytes, without the pad byte).
    pub data: &'a [u8],
    /// Absolute offset of the chunk header in the file.
    pub offset: usize,
}

impl<'a> Chunk<'a> {
    /// Whether this is a `LIST` or `RIFF` chunk.
    #[must_use]
    pub fn is_list(&self) -> bool {
        self.id == FOURCC_LIST || self.id == FOURCC_RIFF
    }

    /// The list type of a `LIST`/`RIFF` chunk, or `None` for other chunks.
    #[must_use]
    pub fn list_type(&self) -> Option<FOURCC> {
        if self.is_list() {
            u32_at(self.data, 0)
        } else {
            None
        }
    }

    /// Whether this is a `LIST` of type `kind`.
    #[must_use]
    pub fn is_list_of(&self, kind: FOURCC) -> bool {
        self.id == FOURCC_LIST && self.list_type() == Some(kind)
    }

    /// The chunk's name for errors: the list type for lists, else the id.
    #[must_use]
    pub fn name(&self) -> FOURCC {
        self.list_type().unwrap_or(self.id)
    }

    /// An error about this chunk.
    #[must_use]
    pub fn error(&self, kind: RiffErrorKind) -> RiffError {
        RiffError::new(kind, self.name(), self.offset)
    }

    /// The data, checked to be at least `len` bytes long.
    ///
    /// # Errors
    /// [`RiffErrorKind::TooShort`] when it is shorter.
    pub fn data_at_least(&self, len: usize) -> Result<&'a [u8], RiffError> {
        if self.data.len() < len {
            Err(self.error(RiffErrorKind::TooShort))
        } else {
            Ok(self.data)
        }
    }

    /// The sub-chunks of a `LIST`/`RIFF` chunk.
    ///
    /// # Errors
    /// [`RiffErrorKind::NotAList`] when this is not a list or has no room for its type.
    pub fn children(&self) -> Result<Chunks<'a>, RiffError> {
        if !self.is_list() || self.data.len() < 4 {
            return Err(RiffError::new(
                RiffErrorKind::NotAList,
                self.id,
                self.offset,
            ));
        }
        Ok(Chunks {
            data: &self.data[4..],
            pos: 0,
            base: self.offset + HEADER_LEN + 4,
            parent: self.name(),
            parent_offset: self.offset,
        })
    }

    /// The first sub-chunk with id `id` (for lists: the first `LIST` of type `id` if `id` is a
    /// list type).
    ///
    /// # Errors
    /// Errors of [`Chunk::children`] and of the sub-chunks before the match.
    pub fn find(&self, id: FOURCC) -> Result<Option<Chunk<'a>>, RiffError> {
        for child in self.children()? {
            let child = child?;
            if child.id == id || child.is_list_of(id) {
                return Ok(Some(child));
            }
        }
        Ok(None)
    }

    /// Like [`Chunk::find`], but a missing chunk is an error.
    ///
    /// # Errors
    /// [`RiffErrorKind::Missing`], named after `id` and this chunk's offset.
    pub fn require(&self, id: FOURCC) -> Result<Chunk<'a>, RiffError> {
        self.find(id)?
            .ok_or(RiffError::new(RiffErrorKind::Missing, id, self.offset))
    }
}

/// Iterator over the sub-chunks of a list. After an error it yields nothing more.
#[derive(Clone, Debug)]
pub struct Chunks<'a> {
    data: &'a [u8],
    pos: usize,
    base: usize,
    parent: FOURCC,
    parent_offset: usize,
}

impl<'a> Iterator for Chunks<'a> {
    type Item = Result<Chunk<'a>, RiffError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.pos >= self.data.len() {
            return None;
        }
        let offset = self.base + self.pos;
        let header = (u32_at(self.data, self.pos), u32_at(self.data, self.pos + 4));
        let (Some(id), Some(size)) = header else {
            self.pos = self.data.len();
            return Some(Err(RiffError::new(
                RiffErrorKind::Truncated,
                self.parent,
                self.parent_offset,
            )));
        };
        let start = self.pos + HEADER_LEN;
        let end = start
            .checked_add(to_usize(size))
            .filter(|&end| end <= self.data.len());
        let Some(end) = end else {
            self.pos = self.data.len();
            return Some(Err(RiffError::new(RiffErrorKind::Truncated, id, offset)));
        };
        // The pad byte after an odd-sized chunk may be missing at the end of the parent.
        self.pos = (end + (end & 1)).min(self.data.len());
        Some(Ok(Chunk {
            id,
            data: &self.data[start..end],
            offset,
        }))
    }
}

/// Reads the top-level `RIFF` chunk of `bytes` and checks its form type. Bytes after the
/// chunk are ignored.
///
/// # Errors
/// [`RiffErrorKind::WrongForm`] when the file is not a RIFF of form `form`;
/// [`RiffErrorKind::Truncated`] when the RIFF size runs past the end of `bytes`.
pub fn read_form(bytes: &[u8], form: FOURCC) -> Result<Chunk<'_>, RiffError> {
    let wrong = RiffError::new(RiffErrorKind::WrongForm, form, 0);
    if u32_at(bytes, 0) != Some(FOURCC_RIFF) || u32_at(bytes, 8) != Some(form) {
        return Err(wrong);
    }
    let size = u32_at(bytes, 4).map(to_usize).ok_or(wrong)?;
    let end = HEADER_LEN.checked_add(size).filter(|&e| e <= bytes.len());
    let end = end.ok_or(RiffError::new(RiffErrorKind::Truncated, form, 0))?;
    Ok(Chunk {
        id: FOURCC_RIFF,
        data: &bytes[HEADER_LEN..end],
        offset: 0,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;
    use alloc::vec::Vec;

    fn chunk(id: [u8; 4], data: &[u8]) -> Vec<u8> {
        let mut v = Vec::new();
        v.extend_from_slice(&id);
        v.extend_from_slice(&u32::try_from(data.len()).unwrap().to_le_bytes());
        v.extend_from_slice(data);
        if data.len() % 2 == 1 {
            v.push(0);
        }
        v
    }

    fn list(id: [u8; 4], kind: [u8; 4], body: &[u8]) -> Vec<u8> {
        let mut data = kind.to_vec();
        data.extend_from_slice(body);
        chunk(id, &data)
    }

    #[test]
    fn walks_nested_lists_with_padding() {
        let mut body = chunk(*b"abcd", &[1, 2, 3]);
        body.extend(list(*b"LIST", *b"xyz ", &chunk(*b"leaf", &[9; 4])));
        let file = list(*b"RIFF", *b"TEST", &body);
        let riff = read_form(&file, u32::from_le_bytes(*b"TEST")).unwrap();
        let kids: Vec<_> = riff.children().unwrap().collect::<Result<_, _>>().unwrap();
        assert_eq!(kids.len(), 2);
        assert_eq!(kids[0].data, &[1, 2, 3]);
        assert_eq!(kids[0].offset, 12);
        assert_eq!(kids[1].offset, 12 + 8 + 4);
        assert!(kids[1].is_list_of(u32::from_le_bytes(*b"xyz ")));
        let leaf = kids[1].require(u32::from_le_bytes(*b"leaf")).unwrap();
        assert_eq!(leaf.data, &[9; 4]);
        assert_eq!(leaf.offset, 24 + 12);
    }

    #[test]
    fn oversized_child_is_named_with_its_offset() {
        let mut body = chunk(*b"good", &[0; 2]);
        body.extend_from_slice(b"bad!");
        body.extend_from_slice(&100u32.to_le_bytes());
        let file = list(*b"RIFF", *b"TEST", &body);
        let riff = read_form(&file, u32::from_le_bytes(*b"TEST")).unwrap();
        let mut it = riff.children().unwrap();
        assert!(it.next().unwrap().is_ok());
        let err = it.next().unwrap().unwrap_err();
        assert_eq!(
            err,
            RiffError::new(RiffErrorKind::Truncated, u32::from_le_bytes(*b"bad!"), 22)
        );
        assert_eq!(
            format!("{err}"),
            "chunk 'bad!' at offset 22 runs past its parent"
        );
        assert!(it.next().is_none());
    }

    #[test]
    fn wrong_form_and_truncated_riff_are_refused() {
        let dls = u32::from_le_bytes(*b"DLS ");
        assert_eq!(
            read_form(b"RIFX", dls).unwrap_err().kind,
            RiffErrorKind::WrongForm
        );
        let mut file = list(*b"RIFF", *b"DLS ", &[]);
        assert!(read_form(&file, dls).is_ok());
        file[4] = 200;
        assert_eq!(
            read_form(&file, dls).unwrap_err().kind,
            RiffErrorKind::Truncated
        );
    }

    #[test]
    fn missing_and_short_chunks_are_errors() {
        let file = list(*b"RIFF", *b"TEST", &chunk(*b"tiny", &[1]));
        let riff = read_form(&file, u32::from_le_bytes(*b"TEST")).unwrap();
        let tiny = riff.require(u32::from_le_bytes(*b"tiny")).unwrap();
        assert_eq!(
            tiny.data_at_least(4).unwrap_err().kind,
            RiffErrorKind::TooShort
        );
        assert_eq!(
            riff.require(u32::from_le_bytes(*b"none")).unwrap_err().kind,
            RiffErrorKind::Missing
        );
        assert_eq!(tiny.children().unwrap_err().kind, RiffErrorKind::NotAList);
    }

    /// A generated chunk tree: leaves with data, lists with children.
    #[derive(Clone, Debug)]
    enum Tree {
        Leaf([u8; 4], Vec<u8>),
        List([u8; 4], Vec<Tree>),
    }

    fn emit(t: &Tree) -> Vec<u8> {
        match t {
            Tree::Leaf(id, data) => chunk(*id, data),
            Tree::List(kind, kids) => {
                let body: Vec<u8> = kids.iter().flat_map(emit).collect();
                list(*b"LIST", *kind, &body)
            }
        }
    }

    fn check(t: &Tree, c: &Chunk<'_>, file: &[u8]) {
        assert_eq!(
            &file[c.offset + HEADER_LEN..c.offset + HEADER_LEN + c.data.len()],
            c.data
        );
        match t {
            Tree::Leaf(id, data) => {
                assert_eq!(c.id, u32::from_le_bytes(*id));
                assert_eq!(c.data, &data[..]);
            }
            Tree::List(kind, kids) => {
                assert_eq!(c.list_type(), Some(u32::from_le_bytes(*kind)));
                let got: Vec<_> = c.children().unwrap().collect::<Result<_, _>>().unwrap();
                assert_eq!(got.len(), kids.len());
                for (k, g) in kids.iter().zip(&got) {
                    check(k, g, file);
                }
            }
        }
    }

    fn tree() -> impl proptest::strategy::Strategy<Value = Tree> {
        use proptest::prelude::*;
        let id = any::<[u8; 4]>().prop_filter("not a list id", |id| id != b"LIST" && id != b"RIFF");
        let leaf =
            (id, proptest::collection::vec(any::<u8>(), 0..9)).prop_map(|(i, d)| Tree::Leaf(i, d));
        leaf.prop_recursive(3, 24, 4, |inner| {
            (any::<[u8; 4]>(), proptest::collection::vec(inner, 0..4))
                .prop_map(|(k, kids)| Tree::List(k, kids))
        })
    }

    /// Walks every list of `c` down to `depth` levels; returns the chunks seen.
    fn walk(c: &Chunk<'_>, file: &[u8], depth: u32) -> usize {
        let mut seen = 1;
        if depth == 0 || !c.is_list() {
            return seen;
        }
        if let Ok(kids) = c.children() {
            for kid in kids.flatten() {
                assert!(kid.offset + HEADER_LEN + kid.data.len() <= file.len());
                seen += walk(&kid, file, depth - 1);
            }
        }
        seen
    }

    proptest::proptest! {
        /// Generated chunk trees read back exactly, with correct absolute offsets.
        #[test]
        fn generated_trees_read_back(kids in proptest::collection::vec(tree(), 0..5)) {
            let body: Vec<u8> = kids.iter().flat_map(emit).collect();
            let file = list(*b"RIFF", *b"TEST", &body);
            let riff = read_form(&file, u32::from_le_bytes(*b"TEST")).unwrap();
            check(&Tree::List(*b"TEST", kids), &riff, &file);
        }

        /// Arbitrary bytes after a RIFF header never panic the reader, and every chunk it yields
        /// lies inside the input.
        #[test]
        fn arbitrary_bytes_never_panic(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..256)) {
            let mut file = b"RIFF".to_vec();
            file.extend_from_slice(&u32::try_from(body.len() + 4).unwrap().to_le_bytes());
            file.extend_from_slice(b"TEST");
            file.extend_from_slice(&body);
            let riff = read_form(&file, u32::from_le_bytes(*b"TEST")).unwrap();
            proptest::prop_assert!(walk(&riff, &file, 8) >= 1);
        }
    }
}
