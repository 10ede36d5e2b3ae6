//! The two modules a Wine run needs, and where they are unless named: the packaged x64
//! `rdmus.sys` (`cargo xtask package --arch x64`) and the stand-in `portcls.sys`
//! (`cargo xtask standin`), both under the workspace's target directory.

use std::path::{Path, PathBuf};

use crate::cli::CliError;

/// The workspace's target directory: `CARGO_TARGET_DIR` when set, else `target` in the
/// checkout this tool was built from.
#[must_use]
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
    }
}

/// The packaged x64 image's default place.
#[must_use]
pub fn default_image() -> PathBuf {
    target_dir().join("package/x64/rdmus.sys")
}

/// The stand-in's default place.
#[must_use]
pub fn default_standin() -> PathBuf {
    target_dir().join("standin/x64/portcls.sys")
}

/// The modules of a run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Images {
    /// The x64 rdmus.sys as packaged (the run uses its bench copy).
    pub rdmus_sys: PathBuf,
    /// The stand-in portcls.sys.
    pub portcls_sys: PathBuf,
}

impl Images {
    /// The images named, or the defaults; each must exist.
    ///
    /// # Errors
    /// [`CliError::Setup`] naming the missing file and the command that builds it.
    pub fn find(image: Option<&Path>, standin: Option<&Path>) -> Result<Self, CliError> {
        let rdmus_sys = image.map_or_else(default_image, Path::to_path_buf);
        let portcls_sys = standin.map_or_else(default_standin, Path::to_path_buf);
        if !rdmus_sys.is_file() {
            return Err(CliError::Setup(format!(
                "the x64 rdmus.sys is not at {} (--image PATH names another; \
                 `cargo xtask package --arch x64` builds it there)",
                rdmus_sys.display()
            )));
        }
        if !portcls_sys.is_file() {
            return Err(CliError::Setup(format!(
                "the stand-in portcls.sys is not at {} (--standin PATH names another; \
                 `cargo xtask standin` builds it there)",
                portcls_sys.display()
            )));
        }
        Ok(Self {
            rdmus_sys,
            portcls_sys,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::Images;
    use crate::cli::CliError;

    #[test]
    fn a_missing_image_names_the_command_that_builds_it() {
        let Err(CliError::Setup(text)) =
            Images::find(Some(Path::new("/nonexistent/rdmus.sys")), None)
        else {
            panic!("a setup error");
        };
        assert!(text.contains("/nonexistent/rdmus.sys"), "{text}");
        assert!(text.contains("cargo xtask package --arch x64"), "{text}");
        let here = Path::new(env!("CARGO_MANIFEST_DIR")).join("Cargo.toml");
        let Err(CliError::Setup(text)) =
            Images::find(Some(&here), Some(Path::new("/nonexistent/portcls.sys")))
        else {
            panic!("a setup error");
        };
        assert!(text.contains("cargo xtask standin"), "{text}");
    }
}
