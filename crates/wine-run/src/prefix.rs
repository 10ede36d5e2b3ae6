//! The Wine prefixes: a template made once, and a fresh copy of it per run.
//!
//! `wineboot -i` takes tens of seconds (it registers every builtin DLL and starts services);
//! a run only needs a copy. The template is made in a scratch directory beside its final
//! place and renamed there once complete, so concurrent runs never see half a prefix (the
//! loser of a race deletes its own copy). Its registry carries the one setting runs need:
//! `HKCU\Software\Wine\Debug\RelayInclude` = `ntoskrnl.exe.MmGetSystemRoutineAddress`, so the
//! `+relay` trace of a run shows the driver's routine lookups and Wine's driver init/unload
//! lines, and nothing else of the relay firehose.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use crate::WineError;
use crate::process::{run_bounded, run_interruptible};

/// The file that marks a complete template.
const READY: &str = "rdmus-template-ready";
/// How long `wineboot -i` may take (two shared cores: about 30 s measured).
const WINEBOOT_LIMIT: Duration = Duration::from_secs(300);
/// Bound of the other template commands.
const COMMAND_LIMIT: Duration = Duration::from_secs(60);

/// Makes the template at `template` unless it is already complete. Wine's output goes to
/// `log`.
///
/// # Errors
/// A Wine command failed or timed out, or a file operation failed.
pub fn ensure_template(
    template: &Path,
    wine: &Path,
    wineserver: &Path,
    log: &Path,
) -> Result<(), WineError> {
    if template.join(READY).is_file() {
        return Ok(());
    }
    let scratch = template.with_extension(format!("tmp-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    std::fs::create_dir_all(&scratch)
        .map_err(|e| WineError::Io(format!("create {}: {e}", scratch.display())))?;
    let made = make(&scratch, wine, wineserver, log);
    // The template's own wineserver goes whatever happened.
    let _ = run_bounded(
        quiet(Command::new(wineserver).arg("-k"), &scratch),
        log,
        COMMAND_LIMIT,
    );
    if let Err(error) = made {
        let _ = std::fs::remove_dir_all(&scratch);
        return Err(error);
    }
    std::fs::write(scratch.join(READY), b"made by wine-run\n")
        .map_err(|e| WineError::Io(format!("write {}: {e}", scratch.display())))?;
    if std::fs::rename(&scratch, template).is_err() {
        // Another run finished first: use its template.
        let _ = std::fs::remove_dir_all(&scratch);
        if !template.join(READY).is_file() {
            return Err(WineError::Io(format!(
                "could not place the template at {}",
                template.display()
            )));
        }
    }
    Ok(())
}

fn make(prefix: &Path, wine: &Path, wineserver: &Path, log: &Path) -> Result<(), WineError> {
    // The long step: a stop request ends it (the scratch prefix is then removed).
    let boot = run_interruptible(
        quiet(Command::new(wine).args(["wineboot", "-i"]), prefix),
        log,
        WINEBOOT_LIMIT,
    )?;
    if !boot.status.success() {
        return Err(WineError::Command(format!(
            "wineboot -i failed: {}",
            boot.status
        )));
    }
    let relay = run_bounded(
        quiet(
            Command::new(wine).args([
                "reg",
                "add",
                "HKCU\\Software\\Wine\\Debug",
                "/v",
                "RelayInclude",
                "/t",
                "REG_SZ",
                "/d",
                "ntoskrnl.exe.MmGetSystemRoutineAddress",
                "/f",
            ]),
            prefix,
        ),
        log,
        COMMAND_LIMIT,
    )?;
    if !relay.status.success() {
        return Err(WineError::Command(format!(
            "reg add failed: {}",
            relay.status
        )));
    }
    // Wait for the registry to reach the disk: -w returns when the server has exited.
    let _ = run_bounded(
        quiet(Command::new(wineserver).arg("-k"), prefix),
        log,
        COMMAND_LIMIT,
    );
    let _ = run_bounded(
        quiet(Command::new(wineserver).arg("-w"), prefix),
        log,
        COMMAND_LIMIT,
    )?;
    Ok(())
}

/// The template's environment: as a run's, without any trace.
fn quiet<'a>(command: &'a mut Command, prefix: &Path) -> &'a mut Command {
    crate::environment(command, prefix);
    command.env("WINEDEBUG", "-all")
}

/// Replaces `prefix` with a copy of `template`: hard links (`cp -al`: the template is 700 MB,
/// mostly Wine's DLLs, which a run never writes; a full copy took 8 s of a 10 s run), except
/// the registry files, which the run's wineserver rewrites and get real copies. (The modules a
/// run adds are new names, so nothing is written through a link into the template.)
///
/// # Errors
/// The copy failed.
pub fn copy_template(template: &Path, prefix: &Path) -> Result<(), WineError> {
    if prefix.exists() {
        std::fs::remove_dir_all(prefix)
            .map_err(|e| WineError::Io(format!("remove {}: {e}", prefix.display())))?;
    }
    let log = prefix.with_extension("copy.log");
    let copied = run_bounded(
        Command::new("cp").arg("-al").arg(template).arg(prefix),
        &log,
        COMMAND_LIMIT,
    )?;
    let _ = std::fs::remove_file(&log);
    if !copied.status.success() {
        return Err(WineError::Io(format!(
            "cp -al {} {} failed",
            template.display(),
            prefix.display()
        )));
    }
    for registry in ["system.reg", "user.reg", "userdef.reg"] {
        let linked = prefix.join(registry);
        if linked.exists() {
            std::fs::remove_file(&linked)
                .map_err(|e| WineError::Io(format!("unlink {}: {e}", linked.display())))?;
            std::fs::copy(template.join(registry), &linked)
                .map_err(|e| WineError::Io(format!("copy {}: {e}", linked.display())))?;
        }
    }
    Ok(())
}
