//! Stamping the real `inf/rdmus.inx` and small hand-written ones.

use super::{DriverDate, StampError, driver_version, stamp};

const RDMUS_INX: &str = include_str!("../../../inf/rdmus.inx");

fn date() -> DriverDate {
    DriverDate {
        year: 2026,
        month: 11,
        day: 21,
    }
}

#[test]
fn unix_dates_convert_to_civil_dates() {
    assert_eq!(
        DriverDate::from_unix_seconds(0),
        DriverDate {
            year: 1970,
            month: 1,
            day: 1
        }
    );
    // 2000-02-29 (a leap day in a century year divisible by 400).
    assert_eq!(
        DriverDate::from_unix_seconds(951_782_400),
        DriverDate {
            year: 2000,
            month: 2,
            day: 29
        }
    );
    // 2026-11-21 12:00 UTC.
    assert_eq!(DriverDate::from_unix_seconds(1_795_262_400), date());
    // 2024-12-31 23:59:59 UTC.
    assert_eq!(
        DriverDate::from_unix_seconds(1_735_689_599),
        DriverDate {
            year: 2024,
            month: 12,
            day: 31
        }
    );
}

#[test]
fn cargo_versions_become_four_part_versions() {
    assert_eq!(driver_version("0.1.0").unwrap(), "0.1.0.0");
    assert_eq!(driver_version("1.2.3.4").unwrap(), "1.2.3.4");
    for bad in ["1.2", "1.2.3-beta", "1.70000.0", "", "1.2.3.4.5"] {
        assert_eq!(
            driver_version(bad),
            Err(StampError::BadVersion(bad.to_owned())),
            "{bad}"
        );
    }
}

#[test]
fn the_rdmus_inx_stamps_for_both_architectures() {
    for arch in ["amd64", "arm64"] {
        let inf = stamp(RDMUS_INX, arch, date(), "0.1.0").expect("rdmus.inx stamps");
        assert!(!inf.contains("$ARCH$"));
        assert!(
            inf.contains(&format!(
                "%ManufacturerName% = rdmus, NT{arch}.10.0...19041"
            )),
            "{arch}"
        );
        assert!(
            inf.contains(&format!("[rdmus.NT{arch}.10.0...19041]")),
            "{arch}"
        );
        let driver_vers = inf
            .lines()
            .filter(|line| line.trim_start().starts_with("DriverVer"))
            .count();
        assert_eq!(driver_vers, 1, "{inf}");
        assert!(
            inf.contains("DriverVer   = 11/21/2026,0.1.0.0\r\n"),
            "{inf}"
        );
        assert!(!inf.contains("01/01/1970"));
    }
}

#[test]
fn the_rdmus_inx_installs_both_hardware_ids_with_ks_interfaces() {
    let inf = stamp(RDMUS_INX, "amd64", date(), "0.1.0").unwrap();
    assert!(inf.contains("rdmus_Synth, ROOT\\rdmus"));
    assert!(inf.contains("rdmus_Mpu, *PNPB006"));
    // KSCATEGORY_* GUIDs as ks.h/ksmedia.h define them (checked against the
    // WDK 7.1 sample audio/sb16/mssb16.inf and ReactOS sdk/include/ddk/ks.h).
    assert!(inf.contains("KSCATEGORY_AUDIO   = \"{6994AD04-93EF-11D0-A3CC-00A0C9223196}\""));
    assert!(inf.contains("KSCATEGORY_RENDER  = \"{65E8773E-8F56-11D0-A3B9-00A0C9223196}\""));
    assert!(inf.contains("KSCATEGORY_CAPTURE = \"{65E8773D-8F56-11D0-A3B9-00A0C9223196}\""));
    assert!(inf.contains("AddInterface = %KSCATEGORY_CAPTURE%, %KSNAME_UART%"));
    assert!(inf.contains("AddService = rdmus, 0x00000002, rdmus.Service"));
}

#[test]
fn driver_ver_is_added_when_missing_and_replaced_when_present() {
    let inx = "[Version]\nSignature=\"$WINDOWS NT$\"\n[Other]\nx=NT$ARCH$\n";
    let inf = stamp(inx, "arm64", date(), "2.0.1").unwrap();
    assert_eq!(
        inf,
        "[Version]\r\nSignature=\"$WINDOWS NT$\"\r\nDriverVer   = 11/21/2026,2.0.1.0\r\n[Other]\r\nx=NTarm64\r\n"
    );
    let at_end = stamp(
        "[Version]\nDriverVer=1/1/2000,1.0.0.0",
        "amd64",
        date(),
        "0.1.0",
    )
    .unwrap();
    assert_eq!(at_end, "[Version]\r\nDriverVer   = 11/21/2026,0.1.0.0\r\n");
    // A DriverVer outside [Version] is someone else's key and is kept.
    let other = stamp(
        "[Version]\n[Other]\nDriverVer=x\n",
        "amd64",
        date(),
        "0.1.0",
    )
    .unwrap();
    assert!(other.contains("DriverVer=x"));
}

#[test]
fn bad_inx_files_are_errors() {
    assert_eq!(
        stamp("[Strings]\n", "amd64", date(), "0.1.0"),
        Err(StampError::NoVersionSection)
    );
    assert_eq!(
        stamp("[Version]\nx=$DATE$\n", "amd64", date(), "0.1.0"),
        Err(StampError::UnknownToken(String::from("$DATE$")))
    );
    // A token inside a comment is left alone.
    assert!(stamp("[Version]\n; cost $5 or $6\n", "amd64", date(), "0.1.0").is_ok());
}
