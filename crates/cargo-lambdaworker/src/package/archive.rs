//! The zip's contents: the included files read (links inside included folders refused, not
//! followed; archive paths checked again by [`super::include`]), and the deterministic
//! archive written.

use std::{
    collections::BTreeMap,
    io::Write,
    path::{Component, Path, PathBuf},
};

use super::include::archive_path;
use crate::Error;

/// Files to archive, sorted by archive path, each with the file it was read from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Entries {
    files: BTreeMap<String, (Vec<u8>, Option<PathBuf>)>,
}

impl Entries {
    /// No files.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the file at `archive_path`, read from `source` if it came from disk.
    pub fn insert(&mut self, archive_path: String, bytes: Vec<u8>, source: Option<PathBuf>) {
        self.files.insert(archive_path, (bytes, source));
    }

    /// The contents at `archive_path`.
    pub fn get(&self, archive_path: &str) -> Option<&[u8]> {
        self.files.get(archive_path).map(|(b, _)| b.as_slice())
    }

    /// Whether something is at `archive_path`.
    pub fn contains_key(&self, archive_path: &str) -> bool {
        self.files.contains_key(archive_path)
    }

    /// Each archive path and its contents, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.files
            .iter()
            .map(|(p, (b, _))| (p.as_str(), b.as_slice()))
    }

    /// How many files.
    pub fn len(&self) -> usize {
        self.files.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// An entry as messages name it: its archive path, and the file it came from when that
    /// is another path (`temporal.toml (from deploy/temporal.toml)`).
    pub fn describe(&self, archive_path: &str) -> String {
        match self.files.get(archive_path).and_then(|(_, s)| s.as_ref()) {
            Some(source) if source != Path::new(archive_path) => {
                format!("{archive_path} (from {})", source.display())
            }
            _ => archive_path.to_owned(),
        }
    }
}

impl FromIterator<(String, Vec<u8>)> for Entries {
    fn from_iter<I: IntoIterator<Item = (String, Vec<u8>)>>(iter: I) -> Self {
        let mut entries = Entries::new();
        for (path, bytes) in iter {
            entries.insert(path, bytes, None);
        }
        entries
    }
}

/// Reads `--include` sources (files, or folders recursively) into archive entries. A path
/// named by an include is followed if it is a link; links inside an included folder are
/// refused (they can point outside the project, or back at their folder), and so is
/// anything that is neither a file nor a folder (a FIFO would block the read).
pub fn collect(includes: &[(PathBuf, String)]) -> Result<Entries, Error> {
    let mut out = Entries::new();
    for (src, dest) in includes {
        let dest = archive_path(dest).map_err(|problem| Error::ArchivePath {
            from: "--include".into(),
            value: format!("{}={dest}", src.display()),
            instead: format!("{}={}", src.display(), problem.instead(dest, src)),
            problem: problem.describe(),
        })?;
        let meta = std::fs::metadata(src).map_err(|source| Error::Include {
            path: src.clone(),
            source,
        })?;
        add(&mut out, src, &dest, meta.file_type())?;
    }
    Ok(out)
}

fn add(out: &mut Entries, src: &Path, dest: &str, kind: std::fs::FileType) -> Result<(), Error> {
    let unreadable = |source| Error::Include {
        path: src.to_owned(),
        source,
    };
    if kind.is_symlink() {
        return Err(Error::IncludeLink {
            link: src.to_owned(),
        });
    }
    if kind.is_file() {
        let bytes = std::fs::read(src).map_err(unreadable)?;
        out.insert(dest.to_owned(), bytes, Some(src.to_owned()));
        return Ok(());
    }
    if !kind.is_dir() {
        return Err(Error::IncludeSpecial {
            path: src.to_owned(),
        });
    }
    let mut children = Vec::new();
    for child in std::fs::read_dir(src).map_err(unreadable)? {
        let child = child.map_err(unreadable)?;
        // The entry's own type: a link is a link here, not what it points at.
        let kind = child.file_type().map_err(unreadable)?;
        children.push((child.path(), kind));
    }
    children.sort_by(|a, b| a.0.cmp(&b.0));
    for (child, kind) in children {
        let name = match child.components().next_back() {
            Some(Component::Normal(n)) => n.to_string_lossy().into_owned(),
            _ => continue,
        };
        add(out, &child, &format!("{dest}/{name}"), kind)?;
    }
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
        for (name, bytes) in entries.iter() {
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
    fn an_include_in_the_binarys_place_or_missing_is_refused() {
        let e = collect(&[("x".into(), "./bootstrap".into())]).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("write `x=files/bootstrap` instead of `x=./bootstrap` in --include"),
            "{e}"
        );
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
    /// Runs `f` on another thread; `None` when it did not return within 10 s (a hang).
    fn bounded<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f());
        });
        rx.recv_timeout(std::time::Duration::from_secs(10)).ok()
    }

    #[test]
    fn links_inside_an_included_folder_are_refused_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let certs = dir.path().join("certs");
        std::fs::create_dir(&certs).unwrap();
        std::fs::write(certs.join("ca.pem"), "-----BEGIN CERTIFICATE-----").unwrap();
        std::fs::write(dir.path().join("outside.txt"), "not for the zip").unwrap();
        std::os::unix::fs::symlink(dir.path().join("outside.txt"), certs.join("escape")).unwrap();
        let includes = vec![(certs.clone(), "certs".to_owned())];
        let e = collect(&includes).unwrap_err().to_string();
        let link = certs.join("escape");
        assert!(
            e.starts_with(&format!(
                "not packaged: replace the symbolic link {}",
                link.display()
            )),
            "{e}"
        );
        // A loop (a link to its own folder) is refused at once, not walked.
        std::fs::remove_file(&link).unwrap();
        std::os::unix::fs::symlink(&certs, certs.join("loop")).unwrap();
        let e = bounded(move || collect(&includes).map(|e| e.len()))
            .expect("collect returned")
            .unwrap_err()
            .to_string();
        assert!(e.contains("symbolic link") && e.contains("loop"), "{e}");
    }

    #[test]
    fn a_fifo_in_an_included_folder_is_refused_without_hanging() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) with a valid, NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(c_path.as_ptr(), 0o644) }, 0);
        let includes = vec![(dir.path().to_owned(), "d".to_owned())];
        let e = bounded(move || collect(&includes).map(|e| e.len()))
            .expect("collect returned instead of blocking on the FIFO")
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with(&format!("not packaged: remove {}", fifo.display())),
            "{e}"
        );
    }
}
