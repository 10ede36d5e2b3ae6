//! `cargo xtask <task>`: see `cargo xtask help`.
// Host tooling: reads files and runs commands, never needs `unsafe`.
#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use xtask::cmd::{TaskError, TaskResult};
use xtask::image::{self, Machine};
use xtask::{abi, ci, fuzz, import_audit, instruction_audit, package, standin, wine};

const USAGE: &str = "\
usage: cargo xtask <task>

tasks:
  package [--arch x64|x86|arm64]... release cross-builds of rdmus.sys, image checks, stamped INF,
                                   test signature; output in target/package/{x64,x86,arm64}/
  check-image PATH [--arch A]      check a built rdmus.sys (machine read from the file if not given)
  test                             everything CI runs: fmt, clippy, docs, x86 check, package,
                                   instruction audit, import audit, ABI test, tests, fuzz
  tests                            the workspace tests alone (cargo test --workspace), with the
                                   summary that names tests skipped for want of shared data
  fuzz                             the bounded fuzz runs alone
  audit                            instruction and import audits of the packaged images, then
                                   the ABI test
  import-audit                     every import of target/package/*/rdmus.sys in mingw-w64's
                                   import libraries or crates/xtask/src/kernel_exports.txt
  instruction-audit [IMAGE MAP --arch A]
                                   the kernel's floating-point rules on target/package/*/rdmus.sys
                                   (or on IMAGE with its link MAP): x86 no x87/MMX/SSE/AVX
                                   instruction, x64 no x87/MMX/AVX (crates/xtask/src/instruction_audit.rs)
  abi                              dmus-sys against mingw-w64's headers, both compiled for
                                   x86_64 and i686 (crates/abi-probe/abi.list)
  standin                          the stand-in portcls.sys that runs rdmus.sys under Wine
                                   (crates/portcls-standin): target/standin/x64/portcls.sys
  wine-smoke                       the packaged x64 rdmus.sys under Wine with the stand-in:
                                   DriverEntry succeeds, sc stop unloads (crates/wine-run)
  help                             this text";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> TaskResult {
    let Some((task, rest)) = args.split_first() else {
        println!("{USAGE}");
        return Err(TaskError::new("no task given"));
    };
    match task.as_str() {
        "package" => {
            let machines = parse_arches(rest)?;
            let machines = if machines.is_empty() {
                package::MACHINES.to_vec()
            } else {
                machines
            };
            package::package(&machines).map(drop)
        }
        "check-image" => check_image(rest),
        "test" => no_arguments(rest).and_then(|()| ci::test_all()),
        "tests" => no_arguments(rest).and_then(|()| ci::test_workspace()),
        "fuzz" => no_arguments(rest).and_then(|()| fuzz::run_all()),
        "audit" => no_arguments(rest)
            .and_then(|()| instruction_audit::run())
            .and_then(|()| import_audit::run())
            .and_then(|()| abi::run()),
        "import-audit" => no_arguments(rest).and_then(|()| import_audit::run()),
        "instruction-audit" => instruction_audit_task(rest),
        "abi" => no_arguments(rest).and_then(|()| abi::run()),
        "standin" => no_arguments(rest).and_then(|()| standin::build().map(drop)),
        "wine-smoke" => no_arguments(rest).and_then(|()| wine::smoke()),
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            println!("{USAGE}");
            Err(TaskError::new(format!("unknown task {other:?}")))
        }
    }
}

fn no_arguments(rest: &[String]) -> TaskResult {
    match rest.first() {
        None => Ok(()),
        Some(extra) => Err(TaskError::new(format!("unexpected argument {extra:?}"))),
    }
}

fn parse_arches(args: &[String]) -> TaskResult<Vec<Machine>> {
    let mut machines = Vec::new();
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg != "--arch" {
            return Err(TaskError::new(format!("unexpected argument {arg:?}")));
        }
        let name = iter
            .next()
            .ok_or_else(|| TaskError::new("--arch needs x64, x86 or arm64"))?;
        machines.push(
            Machine::parse(name)
                .ok_or_else(|| TaskError::new(format!("unknown architecture {name:?}")))?,
        );
    }
    Ok(machines)
}

fn check_image(args: &[String]) -> TaskResult {
    let (path, arch_args) = args
        .split_first()
        .ok_or_else(|| TaskError::new("check-image needs a PATH"))?;
    let path = PathBuf::from(path);
    let data = std::fs::read(&path).map_err(|error| xtask::cmd::io_error("read", &path, &error))?;
    let machine = match parse_arches(arch_args)?.as_slice() {
        [] => image::machine_of(&data).ok_or_else(|| {
            TaskError::new(format!(
                "{} is not a PE32+ image for AMD64 or ARM64 (give --arch to see every rule it breaks)",
                path.display()
            ))
        })?,
        [machine] => *machine,
        _ => return Err(TaskError::new("give --arch at most once")),
    };
    let report = image::check(&data, machine).map_err(|error| {
        TaskError::new(format!("{} fails the image check: {error}", path.display()))
    })?;
    println!("{}: ok", path.display());
    print!("{report}");
    Ok(())
}

fn instruction_audit_task(args: &[String]) -> TaskResult {
    let [image_path, map_path, arch_args @ ..] = args else {
        return no_arguments(args).and_then(|()| instruction_audit::run());
    };
    let [machine] = parse_arches(arch_args)?.as_slice()[..] else {
        return Err(TaskError::new(
            "instruction-audit IMAGE MAP needs --arch x64|x86|arm64",
        ));
    };
    let read = |path: &String| {
        std::fs::read(path)
            .map_err(|error| xtask::cmd::io_error("read", &PathBuf::from(path), &error))
    };
    let data = read(image_path)?;
    let map = String::from_utf8_lossy(&read(map_path)?).into_owned();
    let audit = instruction_audit::audit_image(&data, machine, &map)
        .map_err(|error| TaskError::new(format!("{image_path}: {error}")))?;
    print!("{audit}");
    if audit.code.passes() {
        Ok(())
    } else {
        Err(TaskError::new(format!(
            "{image_path} breaks the kernel's floating-point rules for {machine}"
        )))
    }
}
