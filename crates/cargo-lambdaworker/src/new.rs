//! `cargo lambdaworker new NAME`: a starter project a user would keep.

use std::path::{Path, PathBuf};

use crate::{Error, progress};

/// `new`'s arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct NewArgs {
    /// The package name (and folder).
    pub name: String,
}

impl NewArgs {
    /// Creates the project in the current folder and prints the next steps.
    pub fn run(self) -> Result<(), Error> {
        let name = self.name;
        let here =
            std::env::current_dir().map_err(Error::io(".", "cannot read the current folder"))?;
        let dir = create(&here, &name)?;
        progress(&format!("created {}", dir.display()));
        println!(
            "Next:\n  cd {name}\n  cargo lambdaworker dev --watch\n  temporal workflow \
             execute --address <the address dev prints> --task-queue {name} --type Greeting \
             --input '\"World\"'"
        );
        Ok(())
    }
}

/// The files of a new project: path → template.
const FILES: &[(&str, &str)] = &[
    ("Cargo.toml", include_str!("../templates/Cargo.toml.tmpl")),
    ("src/lib.rs", include_str!("../templates/lib.rs.tmpl")),
    ("src/main.rs", include_str!("../templates/main.rs.tmpl")),
    (
        "temporal.toml",
        include_str!("../templates/temporal.toml.tmpl"),
    ),
    ("README.md", include_str!("../templates/README.md.tmpl")),
    (".gitignore", include_str!("../templates/gitignore.tmpl")),
];

/// Creates the project `name` in `parent/name` and returns its folder. Refuses a name cargo
/// would refuse, and a folder that exists and is not empty.
pub fn create(parent: &Path, name: &str) -> Result<PathBuf, Error> {
    check_name(name)?;
    let dir = parent.join(name);
    if dir.read_dir().is_ok_and(|mut d| d.next().is_some()) {
        return Err(Error::FolderNotEmpty { dir });
    }
    let major_minor = env!("CARGO_PKG_VERSION")
        .rsplit_once('.')
        .map_or(env!("CARGO_PKG_VERSION"), |(mm, _)| mm);
    for (path, template) in FILES {
        let text = template
            .replace("{{name}}", name)
            .replace("{{crate_name}}", &name.replace('-', "_"))
            .replace("{{lambdaworker_version}}", major_minor);
        let file = dir.join(path);
        if let Some(folder) = file.parent() {
            std::fs::create_dir_all(folder)
                .map_err(Error::io(folder, "cannot create the folder"))?;
        }
        std::fs::write(&file, text).map_err(Error::io(&file, "cannot write"))?;
    }
    Ok(dir)
}

/// A package name cargo accepts: ASCII letters, digits, `-` and `_`, starting with a letter.
fn check_name(name: &str) -> Result<(), Error> {
    let ok = name.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if ok {
        Ok(())
    } else {
        Err(Error::InvalidName {
            name: name.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_every_file_with_the_name_filled_in() {
        let parent = tempfile::tempdir().unwrap();
        let dir = create(parent.path(), "orders-worker").unwrap();
        let main = std::fs::read_to_string(dir.join("src/main.rs")).unwrap();
        assert!(main.contains("use orders_worker::{"), "{main}");
        let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).unwrap();
        assert!(manifest.contains("name = \"orders-worker\""), "{manifest}");
        assert!(manifest.contains("lambdaworker = \"0."), "{manifest}");
        // No placeholder that looks like a value: policies generates the ExternalId.
        assert!(
            !manifest.contains("choose-one") && !manifest.contains("external-id ="),
            "{manifest}"
        );
        assert!(
            manifest.contains("run `cargo lambdaworker policies`"),
            "{manifest}"
        );
        for (path, _) in FILES {
            let text = std::fs::read_to_string(dir.join(path)).unwrap();
            assert!(
                !text.contains("{{"),
                "{path} has a placeholder left: {text}"
            );
        }
    }

    #[test]
    fn refuses_bad_names_and_a_folder_in_use() {
        let parent = tempfile::tempdir().unwrap();
        for bad in ["1st", "my worker", "", "wörker"] {
            let e = create(parent.path(), bad).unwrap_err().to_string();
            assert!(e.starts_with("choose a name"), "{bad}: {e}");
        }
        std::fs::create_dir(parent.path().join("taken")).unwrap();
        std::fs::write(parent.path().join("taken/x"), "").unwrap();
        let e = create(parent.path(), "taken").unwrap_err().to_string();
        assert!(e.starts_with("choose another name or folder"), "{e}");
    }
}
