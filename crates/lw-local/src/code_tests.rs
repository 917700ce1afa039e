//! Unzipping what an upload says, without trusting it.

use std::io::Write;

use super::{Code, Store, UNZIPPED_LIMIT};
use crate::LocalError;

/// A zip of `entries` (name, content), every file executable.
fn zip_of(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    for (name, content) in entries {
        zip.start_file(*name, options).unwrap();
        zip.write_all(content).unwrap();
    }
    zip.finish().unwrap();
    out.into_inner()
}

fn message(r: Result<super::Stored, LocalError>) -> String {
    match r {
        Err(LocalError::InvalidParameter(m)) => m,
        Err(e) => panic!("not a 400: {e}"),
        Ok(s) => panic!("accepted: {s:?}"),
    }
}

/// What is left in the store's folder.
fn left(store: &Store) -> Vec<String> {
    std::fs::read_dir(store.root())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect()
}

#[test]
fn a_zip_claiming_4_gib_is_refused_by_the_limit_not_allocated() {
    let mut bytes = zip_of(&[("bootstrap", b"#!/bin/sh\n")]);
    // The central directory's uncompressed size (offset 24 of its header): 4 GiB - 16.
    let at = bytes
        .windows(4)
        .position(|w| w == [0x50, 0x4b, 0x01, 0x02])
        .unwrap();
    bytes[at + 24..at + 28].copy_from_slice(&0xFFFF_FFF0u32.to_le_bytes());
    let store = Store::new().unwrap();
    let m = message(store.put("f", Code::Zip(bytes)));
    assert!(m.contains(&UNZIPPED_LIMIT.to_string()), "{m}");
    assert!(left(&store).is_empty(), "{:?}", left(&store));
}

#[test]
fn a_zip_bomb_stops_at_the_limit() {
    // 8 MB of zeros compress to a few KB; the store takes 1 MB.
    let zeros = vec![0u8; 8 * 1024 * 1024];
    let bytes = zip_of(&[("bootstrap", b"#!/bin/sh\n"), ("zeros", &zeros)]);
    assert!(bytes.len() < 100_000, "{}", bytes.len());
    let store = Store::with_limit(1024 * 1024).unwrap();
    let m = message(store.put("f", Code::Zip(bytes.clone())));
    assert!(
        m.contains("Unzipped size must be smaller than 1048576 bytes"),
        "{m}"
    );
    assert!(
        left(&store).is_empty(),
        "a failed upload left {:?}",
        left(&store)
    );
    // Many entries that are each under the limit add up.
    let entries: Vec<(String, Vec<u8>)> = (0..4)
        .map(|i| (format!("part{i}"), vec![0u8; 400 * 1024]))
        .collect();
    let entries: Vec<(&str, &[u8])> = entries
        .iter()
        .map(|(n, c)| (n.as_str(), c.as_slice()))
        .collect();
    let m = message(store.put("f", Code::Zip(zip_of(&entries))));
    assert!(m.contains("smaller than 1048576"), "{m}");
    // Many empty entries: each costs a block, so 300 of them overrun 1 MB.
    let names: Vec<String> = (0..300).map(|i| format!("empty{i}")).collect();
    let empties: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &b""[..])).collect();
    let m = message(store.put("f", Code::Zip(zip_of(&empties))));
    assert!(m.contains("smaller than 1048576"), "{m}");
    // Within the limit: stored.
    let store = Store::with_limit(16 * 1024 * 1024).unwrap();
    assert!(store.put("f", Code::Zip(bytes)).is_ok());
}

#[test]
fn symbolic_links_and_escaping_paths_are_refused() {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default();
    zip.add_symlink("bootstrap", "/bin/sh", options).unwrap();
    zip.finish().unwrap();
    let store = Store::new().unwrap();
    let m = message(store.put("f", Code::Zip(out.into_inner())));
    assert!(m.contains("`bootstrap` is a symbolic link"), "{m}");
    let m = message(store.put("f", Code::Zip(zip_of(&[("../outside", b"x")]))));
    assert!(m.contains("`../outside` leaves the package"), "{m}");
    assert!(left(&store).is_empty(), "{:?}", left(&store));
}

#[test]
fn a_stored_folder_goes_when_its_last_holder_does() {
    let store = Store::new().unwrap();
    let stored = store
        .put("f", Code::Zip(zip_of(&[("bootstrap", b"#!/bin/sh\n")])))
        .unwrap();
    let copy = stored.clone();
    assert_eq!(left(&store).len(), 1);
    drop(stored);
    assert_eq!(left(&store).len(), 1, "a holder is left");
    drop(copy);
    assert!(left(&store).is_empty(), "{:?}", left(&store));
    let root = store.root().to_path_buf();
    drop(store);
    assert!(!root.exists(), "the store's folder outlived it");
}
