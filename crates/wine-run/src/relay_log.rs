//! What Wine's own trace says the driver did.
//!
//! With `WINEDEBUG=+relay`, Wine's ntoskrnl prints a line before and after it calls a driver's
//! init (DriverEntry) and unload routine, naming the service's registry key, the driver
//! object and DriverEntry's return value; and a line for each call into the ntoskrnl
//! functions the prefix's `RelayInclude` names (the harness lists only
//! `MmGetSystemRoutineAddress`, so the log stays small). Lines that end a driver's life
//! badly (`Unimplemented function`, an unhandled exception or privileged instruction, a bug
//! check) are collected too. The parser reads those lines only; anything else in the log is ignored.

/// What the log says about one service's driver.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriverTrace {
    /// DriverEntry was called.
    pub entry_called: bool,
    /// DriverEntry's return value (an NTSTATUS), once it returned.
    pub entry_status: Option<u32>,
    /// The driver object Wine passed to DriverEntry.
    pub driver_object: Option<u64>,
    /// The driver's unload routine was called for that driver object.
    pub unload_called: bool,
    /// The unload routine returned.
    pub unload_returned: bool,
    /// The value each `MmGetSystemRoutineAddress` call returned, in order (0 = not exported).
    pub routine_lookups: Vec<u64>,
    /// Lines saying the host process met something fatal.
    pub fatal: Vec<String>,
    /// The native (not Wine builtin) modules Wine loaded, by file name, lowercase
    /// (`+loaddll`: `Loaded L"C:\\...\\rdmus.sys" at ...: native`).
    pub native_modules: Vec<String>,
}

/// Lines of a Wine log that mean the driver's host process died or is about to. Wine's
/// `KeBugCheckEx` writes `err:ntoskrnl:KeBugCheckEx <code> <parameters>` and ends the process
/// (the driver's own bug checks, and the bench shim's: a timer or DPC left pending at unload).
const FATAL_MARKERS: [&str; 5] = [
    "Unimplemented function",
    "Unhandled exception",
    "Unhandled privileged instruction",
    "Unhandled page fault",
    "KeBugCheckEx",
];

/// Reads the trace of the driver whose service key ends in `\Services\<service>`.
#[must_use]
pub fn parse(log: &str, service: &str) -> DriverTrace {
    let key = format!("\\\\Services\\\\{service}\")");
    let mut trace = DriverTrace::default();
    for line in log.lines() {
        // Every trace line starts with the thread id: `011c:Call ...`.
        let text = line.split_once(':').map_or(line, |(_, rest)| rest);
        if let Some(module) = native_module(line) {
            if !trace.native_modules.contains(&module) {
                trace.native_modules.push(module);
            }
        } else if FATAL_MARKERS.iter().any(|marker| line.contains(marker)) {
            trace.fatal.push(line.to_owned());
        } else if text.starts_with("Call driver init ") && text.contains(&key) {
            trace.entry_called = true;
            trace.driver_object = field_hex(text, "(obj=");
        } else if text.starts_with("Ret  driver init ") && text.contains(&key) {
            trace.entry_status = field_hex(text, "retval=").and_then(|v| u32::try_from(v).ok());
        } else if let Some(rest) = text.strip_prefix("Call driver unload ") {
            if trace.driver_object.is_some() && field_hex(rest, "(obj=") == trace.driver_object {
                trace.unload_called = true;
            }
        } else if let Some(rest) = text.strip_prefix("Ret  driver unload ") {
            if trace.unload_called && field_hex(rest, "(obj=") == trace.driver_object {
                trace.unload_returned = true;
            }
        } else if text.starts_with("Ret  ntoskrnl.exe.MmGetSystemRoutineAddress(")
            && trace.entry_called
            && trace.entry_status.is_none()
        {
            if let Some(value) = field_hex(text, "retval=") {
                trace.routine_lookups.push(value);
            }
        }
    }
    trace
}

/// The file name of a `+loaddll` line for a native module.
fn native_module(line: &str) -> Option<String> {
    let rest = line.split_once(":loaddll:")?.1;
    if !rest.trim_end().ends_with(": native") {
        return None;
    }
    let path = rest.split_once("Loaded L\"")?.1.split_once('"')?.0;
    let name = path.rsplit('\\').next()?;
    Some(name.to_ascii_lowercase())
}

/// The hexadecimal number right after `marker` in `text`.
fn field_hex(text: &str, marker: &str) -> Option<u64> {
    let start = text.find(marker)? + marker.len();
    let digits: String = text[start..]
        .chars()
        .take_while(char::is_ascii_hexdigit)
        .collect();
    u64::from_str_radix(&digits, 16).ok()
}

#[cfg(test)]
mod tests {
    use super::parse;

    /// Lines as Wine 8.0 printed them for rdmus (thread ids and addresses from a real run).
    const RUN: &str = r#"0080:Call driver init 00000001E58A2490 (obj=00000000003765D0,str=L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\wineusb")
0080:Ret  driver init 00000001E58A2490 (obj=00000000003765D0,str=L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\wineusb") retval=00000000
011c:Call driver init 0000000180001000 (obj=00000000003765D0,str=L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\rdmus")
011c:Call ntoskrnl.exe.MmGetSystemRoutineAddress(01a9fa50) ret=1800010a1
011c:Ret  ntoskrnl.exe.MmGetSystemRoutineAddress() retval=00000000 ret=1800010a1
011c:Call ntoskrnl.exe.MmGetSystemRoutineAddress(01a9fa50) ret=1800010ec
011c:Ret  ntoskrnl.exe.MmGetSystemRoutineAddress() retval=3f0001234 ret=1800010ec
011c:Ret  driver init 0000000180001000 (obj=00000000003765D0,str=L"\\Registry\\Machine\\System\\CurrentControlSet\\Services\\rdmus") retval=00000000
011c:Call driver unload 0000000180011E00 (obj=00000000003765D0)
011c:Ret  driver unload 0000000180011E00 (obj=00000000003765D0)
0130:trace:loaddll:build_module Loaded L"C:\\windows\\system32\\drivers\\rdmus.sys" at 0000000180000000: native
0130:trace:loaddll:build_module Loaded L"C:\\windows\\system32\\ntoskrnl.exe" at 000000031CA90000: builtin
"#;

    #[test]
    fn entry_status_lookups_and_unload_of_the_named_service() {
        let trace = parse(RUN, "rdmus");
        assert!(trace.entry_called);
        assert_eq!(trace.entry_status, Some(0));
        assert_eq!(trace.driver_object, Some(0x37_65D0));
        assert_eq!(trace.routine_lookups, [0, 0x3_f000_1234]);
        assert!(trace.unload_called && trace.unload_returned);
        assert!(trace.fatal.is_empty());
        assert_eq!(trace.native_modules, ["rdmus.sys"]);
    }

    #[test]
    fn another_service_a_failed_entry_and_a_crash_are_told_apart() {
        assert_eq!(parse(RUN, "wineusb").routine_lookups, [] as [u64; 0]);
        assert!(!parse(RUN, "rdmu").entry_called, "whole key component only");
        let failed = RUN.replace(
            "Services\\\\rdmus\") retval=00000000",
            "Services\\\\rdmus\") retval=c0000001",
        );
        assert_eq!(parse(&failed, "rdmus").entry_status, Some(0xC000_0001));
        let crashed = "011c:Call driver init 0000000180001000 (obj=00000000003765D0,str=L\"\\\\Registry\\\\Machine\\\\System\\\\CurrentControlSet\\\\Services\\\\rdmus\")\nwine: Unimplemented function ntoskrnl.exe.ExAllocatePool2 called at address 000000031CA93730 (thread 011c), starting debugger...\n";
        let trace = parse(crashed, "rdmus");
        assert!(trace.entry_called);
        assert_eq!(trace.entry_status, None);
        assert_eq!(trace.fatal.len(), 1);
        assert!(!trace.unload_called);
    }

    #[test]
    fn a_bug_check_after_the_unload_is_fatal() {
        // The shim's check at its own unload, after the driver's unload returned (a line as
        // Wine 8.0 printed it for the shim probe's leak mode).
        let log = format!("{RUN}0024:err:ntoskrnl:KeBugCheckEx c7 0 14000e0e0 0 0\n");
        let trace = parse(&log, "rdmus");
        assert!(trace.unload_called && trace.unload_returned);
        assert_eq!(
            trace.fatal,
            ["0024:err:ntoskrnl:KeBugCheckEx c7 0 14000e0e0 0 0"]
        );
    }
}
