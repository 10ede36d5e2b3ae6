//! Any bytes as a `.dls` file: parsed or refused without panicking; a parsed file's region
//! links resolve, and building its download buffers gives buffers the parser accepts.
#![no_main]

use dls::download::build::build_collection;
use dls::download::parse;
use dls::wire::file::DlsFile;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(file) = DlsFile::parse(data) else { return };
    for instrument in &file.instruments {
        for region in &instrument.regions {
            assert!(file.wave_of(region).is_some());
        }
    }
    if let Ok(built) = build_collection(&file, 1, 1) {
        for buffer in built.waves.iter().chain(&built.instruments) {
            assert!(parse(&buffer.bytes, 1).is_ok());
        }
    }
});
