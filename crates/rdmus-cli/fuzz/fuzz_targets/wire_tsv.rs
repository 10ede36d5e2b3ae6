//! Any bytes as a wire log: read or refused without panicking; what is read
//! is written and read back unchanged.
#![no_main]

use libfuzzer_sys::fuzz_target;
use rdmus_cli::wire_log::{read_tsv, write_tsv};

fuzz_target!(|data: &[u8]| {
    let Ok(wire) = read_tsv(data) else { return };
    let mut out = Vec::new();
    write_tsv(&mut out, &wire).unwrap();
    assert_eq!(read_tsv(out.as_slice()).unwrap(), wire);
});
