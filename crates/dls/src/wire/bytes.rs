//! Little-endian field readers that return `None` instead of panicking.

/// Reads a `u16` at `offset`, or `None` when it does not fit.
#[must_use]
pub fn u16_at(bytes: &[u8], offset: usize) -> Option<u16> {
    let end = offset.checked_add(2)?;
    let field = bytes.get(offset..end)?;
    Some(u16::from_le_bytes([field[0], field[1]]))
}

/// Reads an `i16` at `offset`, or `None` when it does not fit.
#[must_use]
pub fn i16_at(bytes: &[u8], offset: usize) -> Option<i16> {
    u16_at(bytes, offset).map(|v| i16::from_le_bytes(v.to_le_bytes()))
}

/// Reads a `u32` at `offset`, or `None` when it does not fit.
#[must_use]
pub fn u32_at(bytes: &[u8], offset: usize) -> Option<u32> {
    let end = offset.checked_add(4)?;
    let field = bytes.get(offset..end)?;
    Some(u32::from_le_bytes([field[0], field[1], field[2], field[3]]))
}

/// Reads an `i32` at `offset`, or `None` when it does not fit.
#[must_use]
pub fn i32_at(bytes: &[u8], offset: usize) -> Option<i32> {
    u32_at(bytes, offset).map(|v| i32::from_le_bytes(v.to_le_bytes()))
}

/// A `u32` from the wire as a `usize` (lossless on every target rdmus builds for).
#[must_use]
pub fn to_usize(value: u32) -> usize {
    usize::try_from(value).unwrap_or(usize::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_little_endian_and_refuses_out_of_range() {
        let b = [0x01, 0x02, 0x03, 0x04, 0xff];
        assert_eq!(u16_at(&b, 0), Some(0x0201));
        assert_eq!(u32_at(&b, 0), Some(0x0403_0201));
        assert_eq!(u32_at(&b, 1), Some(0xff04_0302));
        assert_eq!(u32_at(&b, 2), None);
        assert_eq!(u16_at(&b, 4), None);
        assert_eq!(u16_at(&b, usize::MAX), None);
        assert_eq!(i16_at(&[0xfe, 0xff], 0), Some(-2));
        assert_eq!(i32_at(&[0xff, 0xff, 0xff, 0xff], 0), Some(-1));
    }
}
