//! The zip's contents: `--include` values parsed, their files read, and the deterministic
//! archive written.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Path, PathBuf},
};

use crate::Error;

/// Parses `--include PATH[=ARCHIVE_PATH]`: a file or folder and where it goes in the zip
/// (its own name by default).
pub fn parse_include(value: &str) -> Result<(PathBuf, String), Error> {
    let (path, archive_path) = match value.split_once('=') {
        Some((path, archive_path)) => (
            PathBuf::from(path),
            archive_path.trim_matches('/').to_owned(),
        ),
        None => {
            let path = PathBuf::from(value);
            let name = path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            (path, name)
        }
    };
    if path.as_os_str().is_empty() || archive_path.is_empty() {
        return Err(Error::IncludeWithoutName {
            value: value.to_owned(),
        });
    }
    Ok((path, archive_path))
}

/// Files to archive: archive path → contents (sorted by path).
pub type Entries = BTreeMap<String, Vec<u8>>;

/// Reads `--include` sources (files, or folders recursively) into archive entries.
pub fn collect(includes: &[(PathBuf, String)]) -> Result<Entries, Error> {
    let mut out = Entries::new();
    for (src, dest) in includes {
        if dest == "bootstrap" {
            return Err(Error::IncludeAsBootstrap { path: src.clone() });
        }
        add(&mut out, src, dest)?;
    }
    Ok(out)
}

fn add(out: &mut Entries, src: &Path, dest: &str) -> Result<(), Error> {
    let unreadable = |source| Error::Include {
        path: src.to_owned(),
        source,
    };
    let meta = std::fs::metadata(src).map_err(unreadable)?;
    if meta.is_dir() {
        let mut children: Vec<_> = std::fs::read_dir(src)
            .map_err(unreadable)?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        children.sort();
        for c in children {
            let name = c
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            add(out, &c, &format!("{dest}/{name}"))?;
        }
        return Ok(());
    }
    let bytes = std::fs::read(src).map_err(unreadable)?;
    out.insert(dest.to_owned(), bytes);
    Ok(())
}

/// Writes a deterministic zip: `bootstrap` (0755) first, then `entries` (0644) sorted.
pub fn write_zip(bootstrap: &[u8], entries: &Entries) -> Result<Vec<u8>, Error> {
    use zip::{CompressionMethod, DateTime, result::ZipError, write::SimpleFileOptions};
    let failed = |entry: &str| {
        let entry = entry.to_owned();
        move |source| Error::Zip { entry, source }
    };
    let mut out = std::io::Cursor::new(Vec::new());
    {
        let mut zip = zip::ZipWriter::new(&mut out);
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .last_modified_time(DateTime::default());
        let mut file = |name: &str, mode: u32, bytes: &[u8]| -> Result<(), ZipError> {
            zip.start_file(name, options.unix_permissions(mode))?;
            Ok(zip.write_all(bytes)?)
        };
        file("bootstrap", 0o755, bootstrap).map_err(failed("bootstrap"))?;
        for (name, bytes) in entries {
            file(name, 0o644, bytes).map_err(failed(name))?;
        }
        zip.finish().map_err(failed("its central directory"))?;
    }
    Ok(out.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zips_are_deterministic_with_modes_and_order() {
        let e: Entries = [("z.txt", "z"), ("a/b.pem", "cert"), ("temporal.toml", "x")]
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.as_bytes().to_vec()))
            .collect();
        let one = write_zip(b"\x7fELF binary", &e).unwrap();
        let two = write_zip(b"\x7fELF binary", &e).unwrap();
        assert_eq!(one, two);
        let mut z = zip::ZipArchive::new(std::io::Cursor::new(one)).unwrap();
        let names: Vec<String> = (0..z.len())
            .map(|i| z.by_index(i).unwrap().name().unwrap().into_owned())
            .collect();
        assert_eq!(names, ["bootstrap", "a/b.pem", "temporal.toml", "z.txt"]);
        assert_eq!(z.by_index(0).unwrap().unix_mode(), Some(0o100755));
        assert_eq!(z.by_index(1).unwrap().unix_mode(), Some(0o100644));
    }

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
    fn an_include_in_the_binarys_place_or_missing_is_refused() {
        let e = collect(&[("x".into(), "bootstrap".into())]).unwrap_err();
        assert!(matches!(e, Error::IncludeAsBootstrap { .. }), "{e}");
        let missing = PathBuf::from("/nonexistent/lambdaworker/certs");
        let e = collect(&[(missing.clone(), "certs".into())]).unwrap_err();
        assert!(
            matches!(&e, Error::Include { path, .. } if *path == missing),
            "{e}"
        );
        assert!(
            crate::error_chain(&e).contains("No such file or directory"),
            "{e}"
        );
    }
}
