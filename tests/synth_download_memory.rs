//! The synth's download memory is bounded: `SYNTHCAPS.MemorySize` reports what is free of it
//! (64 MiB at first), each kept wave takes its size until it is unloaded, and a download
//! larger than the free memory is refused with `STATUS_INSUFFICIENT_RESOURCES` before any
//! copy is made, leaving the store and the caps as they were.
//!
//! The driver keeps process-wide state, so the tests take turns through one lock.

use std::sync::{Mutex, MutexGuard};

use dls::download::APPEND_SAMPLES;
use dls::download::build::build_collection;
use dls::wire::file::DlsFile;
use dls::wire::riff_writer::{chunk, le16s as le16, le32s as le, list};
use dmus_sys::dmusprop::{KSPROPERTY_SYNTH_CAPS, KSPROPSETID_Synth, SYNTHCAPS};
use dmus_sys::kernel::{STATUS_INSUFFICIENT_RESOURCES, STATUS_SUCCESS};
use dmus_sys::ks::KSPROPERTY_TYPE_GET;
use wdm_sim::portcls::{Driver, Filter, PropertyTarget, Resources, dls_download, dls_unload};
use wdm_sim::{Machine, MachineConfig};

static DRIVER: Mutex<()> = Mutex::new(());

fn driver_lock() -> MutexGuard<'static, ()> {
    DRIVER
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// The wave download buffer (download id `dlid`) of a one-wave DLS collection whose 16-bit
/// mono wave has `frames` frames.
fn wave_download(frames: u32, dlid: u32) -> Vec<u8> {
    let wsmp = {
        let mut d = le(&[20]);
        d.extend(le16(&[60, 0]));
        d.extend(0i32.to_le_bytes());
        d.extend(le(&[0, 0]));
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
    let samples = vec![0x10u8; usize::try_from(frames).unwrap() * 2];
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
    let bytes = chunk(*b"RIFF", &body);
    let file = DlsFile::parse(&bytes).expect("a valid DLS file");
    let mut buffers = build_collection(&file, dlid, APPEND_SAMPLES).expect("download buffers");
    buffers.waves.remove(0).bytes
}

/// `SYNTHCAPS.MemorySize` now.
fn memory_size(filter: Filter) -> u32 {
    let mut value = vec![0u8; size_of::<SYNTHCAPS>()];
    let result = filter.property(
        PropertyTarget::Filter,
        &KSPROPSETID_Synth,
        KSPROPERTY_SYNTH_CAPS,
        KSPROPERTY_TYPE_GET,
        &mut [],
        &mut value,
    );
    assert_eq!(result.status, STATUS_SUCCESS);
    // SAFETY: SYNTHCAPS is plain data and `value` holds one.
    let caps = unsafe { value.as_ptr().cast::<SYNTHCAPS>().read_unaligned() };
    caps.MemorySize
}

#[test]
fn a_download_larger_than_the_free_memory_is_refused_and_caps_say_so() {
    let _lock = driver_lock();
    let machine = Machine::new(MachineConfig::default());
    let driver = Driver::load(Some(rdmus_driver::DriverEntry)).expect("DriverEntry");
    let device = driver.add_device().expect("AddDevice");
    device.start(&Resources::none()).expect("StartDevice");
    let filter = device.filter("Synth").expect("the synth");

    let all = 64u32 << 20;
    assert_eq!(memory_size(filter), all, "all 64 MiB free at first");
    // Two waves of 22 MiB of samples (each buffer a little more), then a third.
    let frames = 11 << 20;
    let first = wave_download(frames, 1);
    let second = wave_download(frames, 2);
    let third = wave_download(frames, 3);
    let size = u32::try_from(first.len()).unwrap();
    let first_handle = dls_download(&filter, &first).expect("the first wave fits");
    assert_eq!(memory_size(filter), all - size);
    let second_handle = dls_download(&filter, &second).expect("the second wave fits");
    let free = memory_size(filter);
    assert_eq!(free, all - 2 * size);
    assert!(free < size, "{free} bytes free, the third wave is {size}");

    let refused = dls_download(&filter, &third);
    println!(
        "{size}-byte wave with {free} bytes free: refused with {:#x}",
        refused.unwrap_err()
    );
    assert_eq!(refused, Err(STATUS_INSUFFICIENT_RESOURCES));
    assert_eq!(memory_size(filter), free, "a refusal takes no memory");

    dls_unload(&filter, second_handle).expect("the second wave unloads");
    assert_eq!(
        memory_size(filter),
        all - size,
        "an unload gives its memory back"
    );
    let third_handle = dls_download(&filter, &third).expect("now the third wave fits");
    for handle in [third_handle, first_handle] {
        dls_unload(&filter, handle).expect("unloads");
    }
    assert_eq!(memory_size(filter), all);
    device.stop();
    device.remove();
    driver.unload();
    assert_eq!(machine.findings(), []);
}
