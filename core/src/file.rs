//! Reading the TOML files every binary takes (configs, studies,
//! registrations), with the file named in every error. The cause is part
//! of the message rather than a `source()`, so a report prints it once.

use std::path::{Path, PathBuf};
use thiserror::Error;

/// A file that could not be read or parsed.
#[derive(Debug, Error)]
pub enum FileError {
    /// The file could not be read.
    #[error("reading {}: {error}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        error: std::io::Error,
    },
    /// The file is not valid TOML of its kind.
    #[error("parsing {}: {error}", path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and why.
        error: Box<toml::de::Error>,
    },
}

/// Resolves `paths`, as written in the config file `config`, against that
/// file's directory (an absolute path stays as it is): every config reads
/// its relative paths from where it lies, wherever the command runs.
pub fn resolve_beside<'a>(config: &Path, paths: impl IntoIterator<Item = &'a mut PathBuf>) {
    let base = config.parent().unwrap_or(Path::new("."));
    for p in paths {
        *p = base.join(&*p);
    }
}

/// Reads a TOML file of type `T`.
pub fn read_toml<T: serde::de::DeserializeOwned>(path: &Path) -> Result<T, FileError> {
    let text = std::fs::read_to_string(path).map_err(|error| FileError::Read { path: path.to_path_buf(), error })?;
    toml::from_str(&text).map_err(|error| FileError::Parse { path: path.to_path_buf(), error: Box::new(error) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing.toml");
        let e = read_toml::<toml::Table>(&missing).unwrap_err();
        assert!(matches!(e, FileError::Read { .. }) && e.to_string().starts_with(&format!("reading {}", missing.display())), "{e}");
        let bad = dir.path().join("bad.toml");
        std::fs::write(&bad, "x = [").unwrap();
        let e = read_toml::<toml::Table>(&bad).unwrap_err();
        assert!(matches!(e, FileError::Parse { .. }) && e.to_string().starts_with(&format!("parsing {}", bad.display())), "{e}");
    }
}
