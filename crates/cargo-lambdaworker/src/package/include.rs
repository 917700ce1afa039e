//! `--include PATH[=ARCHIVE_PATH]` parsed: where a file or folder goes in the zip, its
//! archive path normalised and checked to stay inside the zip and off the binary's place.

use std::path::{Path, PathBuf};

use crate::Error;

/// Where a default `--include` of a file named `bootstrap` can go instead.
const BOOTSTRAP_ELSEWHERE: &str = "files/bootstrap";

/// Parses `--include PATH[=ARCHIVE_PATH]`: a file or folder and where it goes in the zip
/// (its own name by default).
pub fn parse_include(value: &str) -> Result<(PathBuf, String), Error> {
    parse_include_from(value, "--include")
}

/// [`parse_include`] for a value from `from` (the flag, or a metadata entry such as
/// `` `include[2]` in [package.metadata.lambdaworker] of … ``), which errors name.
pub fn parse_include_from(value: &str, from: &str) -> Result<(PathBuf, String), Error> {
    let (path, written) = match value.split_once('=') {
        Some((path, archive_path)) => (PathBuf::from(path), archive_path.to_owned()),
        None => {
            let path = PathBuf::from(value);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (path, name)
        }
    };
    if path.as_os_str().is_empty() {
        return Err(Error::IncludeWithoutName {
            value: value.to_owned(),
        });
    }
    let archive_path = archive_path(&written).map_err(|problem| match problem {
        ArchivePathProblem::Empty => Error::IncludeWithoutName {
            value: value.to_owned(),
        },
        other => Error::ArchivePath {
            instead: format!("{}={}", path.display(), other.instead(&written, &path)),
            value: value.to_owned(),
            from: from.to_owned(),
            problem: other.describe(),
        },
    })?;
    Ok((path, archive_path))
}

/// Why an archive path is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ArchivePathProblem {
    /// Nothing is left once normalised.
    Empty,
    /// A `..` component: it would leave the zip's root.
    Parent,
    /// A leading `/`.
    Absolute,
    /// It is `bootstrap`, the binary's place.
    Bootstrap,
}

impl ArchivePathProblem {
    pub(super) fn describe(self) -> &'static str {
        match self {
            Self::Empty => "names no place in the zip",
            Self::Parent => {
                "climbs out of the zip's root with `..`; every file must land inside \
                 /var/task, where Lambda unpacks the zip"
            }
            Self::Absolute => {
                "is absolute; archive paths are relative to the zip's root (/var/task once \
                 unpacked)"
            }
            Self::Bootstrap => "is `bootstrap`, the binary's place in the zip",
        }
    }

    /// The archive path to suggest instead of `written` for the file or folder `src`: what
    /// is left without the `..` and the leading `/`, else `src`'s own name; never
    /// `bootstrap`.
    pub(super) fn instead(self, written: &str, src: &Path) -> String {
        let kept = written
            .split('/')
            .filter(|c| !c.is_empty() && *c != "." && *c != "..")
            .collect::<Vec<_>>()
            .join("/");
        let name = src.file_name().map(|n| n.to_string_lossy().into_owned());
        let suggestion = match (self, kept.is_empty(), name) {
            (Self::Bootstrap, ..) => String::new(),
            (_, false, _) => kept,
            (_, true, Some(name)) => name,
            (_, true, None) => String::new(),
        };
        if suggestion.is_empty() || suggestion == "bootstrap" {
            BOOTSTRAP_ELSEWHERE.to_owned()
        } else {
            suggestion
        }
    }
}

/// An archive path normalised (`a//b/./c/` → `a/b/c`), or why it is refused: empty, absolute,
/// with a `..` component, or `bootstrap`.
pub(super) fn archive_path(written: &str) -> Result<String, ArchivePathProblem> {
    let parts: Vec<&str> = written
        .split('/')
        .filter(|c| !c.is_empty() && *c != ".")
        .collect();
    let path = parts.join("/");
    if parts.is_empty() {
        Err(ArchivePathProblem::Empty)
    } else if written.starts_with('/') {
        Err(ArchivePathProblem::Absolute)
    } else if parts.contains(&"..") {
        Err(ArchivePathProblem::Parent)
    } else if path == "bootstrap" {
        Err(ArchivePathProblem::Bootstrap)
    } else {
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_parse_and_nameless_ones_are_refused() {
        assert_eq!(
            parse_include("d/certs=certs/").unwrap(),
            (PathBuf::from("d/certs"), "certs".to_owned())
        );
        assert_eq!(parse_include("d/temporal.toml").unwrap().1, "temporal.toml");
        for bad in ["/", "..", "", "certs=", "certs=/", "=certs"] {
            let e = parse_include(bad).unwrap_err().to_string();
            assert!(e.starts_with("name a file or folder"), "{bad}: {e}");
        }
    }

    #[test]
    fn archive_paths_outside_the_zip_or_in_the_binarys_place_are_refused_with_the_fix() {
        for (bad, fix) in [
            (
                "x=../../f",
                "write `x=f` instead of `x=../../f` in --include",
            ),
            ("x=a/../../f", "write `x=a/f` instead"),
            (
                "x=/etc/f",
                "write `x=etc/f` instead of `x=/etc/f` in --include",
            ),
            ("x=./bootstrap", "write `x=files/bootstrap` instead"),
            ("bootstrap/", "write `bootstrap/=files/bootstrap` instead"),
            ("d/bootstrap", "write `d/bootstrap=files/bootstrap` instead"),
        ] {
            let e = parse_include(bad).map(|ok| format!("accepted as {ok:?}"));
            let e = e.unwrap_or_else(|e| e.to_string());
            assert!(e.starts_with(fix), "{bad}: {e}");
        }
        for empty in ["x=", "x=/", "x=./", "x=.//."] {
            let e = parse_include(empty).unwrap_err().to_string();
            assert!(e.starts_with("name a file or folder"), "{empty}: {e}");
        }
        // The same path written another way is the same path.
        assert_eq!(parse_include("c=a//b/./c/").unwrap().1, "a/b/c");
        assert_eq!(parse_include("c=./certs").unwrap().1, "certs");
    }
}
