//! The registry's upkeep: nothing unpacked for a missing function, superseded code and
//! drained pools let go, replaced accounting bounded.

use std::io::Write;

use super::Registry;
use crate::{Credentials, FunctionConfig, LocalError, code::Code};

fn zip() -> Code {
    let mut out = std::io::Cursor::new(Vec::new());
    let mut zip = zip::ZipWriter::new(&mut out);
    let options = zip::write::SimpleFileOptions::default().unix_permissions(0o755);
    zip.start_file("bootstrap", options).unwrap();
    zip.write_all(b"#!/bin/sh\n").unwrap();
    zip.finish().unwrap();
    Code::Zip(out.into_inner())
}

fn registry() -> Registry {
    Registry::new(Credentials::generate().unwrap()).unwrap()
}

fn folders(r: &Registry) -> usize {
    std::fs::read_dir(r.store().root()).unwrap().count()
}

#[test]
fn an_upload_to_a_missing_function_unpacks_nothing() {
    let r = registry();
    let e = r.update_code("missing", zip(), None).unwrap_err();
    assert!(matches!(e, LocalError::NotFound(_)), "{e}");
    assert_eq!(folders(&r), 0);
    r.create(FunctionConfig::new("f", "bootstrap"), zip())
        .unwrap();
    let e = r.update_code("f", zip(), Some("stale")).unwrap_err();
    assert!(matches!(e, LocalError::PreconditionFailed(_)), "{e}");
    assert_eq!(folders(&r), 1);
}

#[test]
fn superseded_code_is_removed_and_published_code_kept() {
    let r = registry();
    r.create(FunctionConfig::new("f", "bootstrap"), zip())
        .unwrap();
    r.publish("f", None, None, None).unwrap();
    // Version 1 holds the first folder; each later upload replaces the one before.
    for _ in 0..5 {
        r.update_code("f", zip(), None).unwrap();
    }
    assert_eq!(folders(&r), 2, "version 1's code and $LATEST's");
    let latest = r.info("f", None).unwrap();
    let v1 = r.info("f", Some("1")).unwrap();
    assert_ne!(latest.revision_id, v1.revision_id);
}

#[test]
fn replaced_pools_that_ran_nothing_are_dropped_and_the_accounting_is_bounded() {
    let r = registry();
    r.create(FunctionConfig::new("f", "bootstrap"), zip())
        .unwrap();
    for _ in 0..super::entry::MAX_REPLACED + 10 {
        r.update_configuration("f", None, |c| c.memory_mb += 1)
            .unwrap();
    }
    let entries = super::lock(&r.entries);
    let entry = &entries["f"];
    assert!(
        entry.retired.is_empty(),
        "{} pools kept",
        entry.retired.len()
    );
    assert_eq!(
        entry.replaced_accounting().len(),
        super::entry::MAX_REPLACED
    );
}
