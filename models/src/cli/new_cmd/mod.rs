//! `raftlab new lab3 DIR` (and `lab4`): writes a student crate whose Raft (`MyRaft`, every handler a
//! `todo!` with the lab's hints) runs under raftlab's lab suite, model checker and log
//! viewer. The crate depends on this checkout of raftlab by path, and starts from its
//! `Cargo.lock` (the same versions of every dependency raftlab was tested with).
//!
//! What it writes (the templates beside this file; `{{name}}`, `{{lib}}` and
//! `{{raftlab}}` are filled in): `Cargo.toml`, `Cargo.lock`, `src/lib.rs` (the
//! skeleton), `src/main.rs` (raftlab's `check`, `sim`, `explore` and `dslogs` on
//! `MyRaft`), `tests/raft.rs` (the whole suite, one `#[test]` per lab test),
//! `tests/model.rs` (the model checks), `README.md` and `.gitignore`; a Lab 4 crate also
//! `tests/kvraft.rs` (the 23 kvraft tests, raftlab's key/value service on `MyRaft`), and
//! its command line and model checks add the key/value model.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Args, ValueEnum};

use crate::cli::exit;

/// The lab a new crate is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Lab {
    /// Lab 3: Raft (3A-3D).
    Lab3,
    /// Lab 4: the key/value service over your Raft (4A, 4B).
    Lab4,
}

/// Options of `raftlab new`.
#[derive(Args, Debug, Clone)]
pub struct NewArgs {
    /// The lab.
    pub lab: Lab,
    /// The crate's directory (created; it must not exist, or be empty). Its last
    /// component names the crate.
    pub dir: PathBuf,
    /// The raftlab checkout to depend on (default: the one this binary was built from).
    #[arg(long, value_name = "PATH")]
    pub raftlab: Option<PathBuf>,
}

const CARGO_TOML: &str = include_str!("Cargo.toml.in");
const GITIGNORE: &str = "/target\n";

/// The files of `lab`'s crate: path in the crate, template.
fn files(lab: Lab) -> Vec<(&'static str, &'static str)> {
    match lab {
        Lab::Lab3 => vec![
            ("Cargo.toml", CARGO_TOML),
            (".gitignore", GITIGNORE),
            ("README.md", include_str!("lab3/README.md")),
            ("src/lib.rs", include_str!("lab3/lib.rs")),
            ("src/main.rs", include_str!("lab3/main.rs")),
            ("tests/raft.rs", include_str!("lab3/raft_test.rs")),
            ("tests/model.rs", include_str!("lab3/model_test.rs")),
        ],
        Lab::Lab4 => vec![
            ("Cargo.toml", CARGO_TOML),
            (".gitignore", GITIGNORE),
            ("README.md", include_str!("lab4/README.md")),
            ("src/lib.rs", include_str!("lab3/lib.rs")),
            ("src/main.rs", include_str!("lab4/main.rs")),
            ("tests/raft.rs", include_str!("lab3/raft_test.rs")),
            ("tests/kvraft.rs", include_str!("lab4/kvraft_test.rs")),
            ("tests/model.rs", include_str!("lab4/model_test.rs")),
        ],
    }
}

/// The crate name `dir` gives, or why it gives none.
pub fn crate_name(dir: &Path) -> Result<String, String> {
    let name = dir
        .file_name()
        .and_then(|n| n.to_str())
        .ok_or_else(|| format!("{}: the last component names the crate", dir.display()))?;
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if !first_ok
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    {
        return Err(format!(
            "{name:?} is no crate name: letters, digits, '-' and '_', starting with a letter"
        ));
    }
    if ["raftlab", "raftlab_models", "test", "core", "std"]
        .contains(&name.replace('-', "_").as_str())
    {
        return Err(format!(
            "{name:?} clashes with a crate the new one uses; choose another name"
        ));
    }
    Ok(name.to_string())
}

/// The raftlab checkout at `path`, made absolute, if it is one.
fn checkout(path: &Path) -> Result<PathBuf, String> {
    let abs = path
        .canonicalize()
        .map_err(|e| format!("raftlab checkout {}: {e}", path.display()))?;
    let manifest = abs.join("Cargo.toml");
    let text = fs::read_to_string(&manifest)
        .map_err(|e| format!("{}: {e} (is this a raftlab checkout?)", manifest.display()))?;
    if !text.contains("name = \"raftlab\"") || !abs.join("models/Cargo.toml").is_file() {
        return Err(format!(
            "{} is not a raftlab checkout (no package \"raftlab\" with a models/ crate); pass --raftlab PATH",
            abs.display()
        ));
    }
    Ok(abs)
}

/// `s` as the inside of a TOML basic string.
fn toml_escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

/// Fills a template.
fn fill(template: &str, name: &str, raftlab: &Path) -> String {
    template
        .replace("{{name}}", name)
        .replace("{{lib}}", &name.replace('-', "_"))
        .replace("{{raftlab}}", &toml_escape(&raftlab.to_string_lossy()))
}

/// Writes `lab`'s crate into `dir` (which must not exist, or be empty), depending on
/// the raftlab checkout `raftlab`. Returns the files written.
pub fn write_crate(lab: Lab, dir: &Path, raftlab: &Path) -> Result<Vec<PathBuf>, String> {
    let name = crate_name(dir)?;
    let raftlab = checkout(raftlab)?;
    if dir.exists() {
        let mut entries = fs::read_dir(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        if entries.next().is_some() {
            return Err(format!(
                "{} exists and is not empty; nothing was written",
                dir.display()
            ));
        }
    }
    let mut written = Vec::new();
    let mut write = |rel: &str, text: &str| -> Result<(), String> {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        }
        fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        written.push(path);
        Ok(())
    };
    for (rel, template) in files(lab) {
        write(rel, &fill(template, &name, &raftlab))?;
    }
    // The versions raftlab was tested with; cargo adds the new crate's own entry.
    if let Ok(lock) = fs::read_to_string(raftlab.join("Cargo.lock")) {
        write("Cargo.lock", &lock)?;
    }
    Ok(written)
}

/// The checkout this binary was built from.
fn own_checkout() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs `raftlab new`.
pub fn run(args: NewArgs) -> ExitCode {
    let raftlab = args.raftlab.clone().unwrap_or_else(own_checkout);
    match write_crate(args.lab, &args.dir, &raftlab) {
        Ok(files) => {
            out!(
                "raftlab new: wrote {} files into {}",
                files.len(),
                args.dir.display()
            );
            let part = match args.lab {
                Lab::Lab3 => "3a",
                Lab::Lab4 => "4a",
            };
            out!(
                "next: cd {} && cargo test --release {part}   (then read src/lib.rs and README.md)",
                args.dir.display()
            );
            exit::code(exit::OK)
        }
        Err(e) => {
            err!("raftlab new: {e}");
            exit::code(exit::USAGE)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn checkout_dir() -> PathBuf {
        own_checkout()
    }

    #[test]
    fn the_crate_name_comes_from_the_last_component() {
        assert_eq!(
            crate_name(Path::new("/x/my-raft")).as_deref(),
            Ok("my-raft")
        );
        assert_eq!(crate_name(Path::new("lab_3")).as_deref(), Ok("lab_3"));
        for bad in ["9lives", "my raft", "ráft", "-x"] {
            let e = crate_name(Path::new(bad)).unwrap_err();
            assert!(e.contains("is no crate name"), "{bad}: {e}");
        }
        for clash in ["raftlab", "raftlab-models", "std"] {
            let e = crate_name(Path::new(clash)).unwrap_err();
            assert!(e.contains("clashes"), "{clash}: {e}");
        }
    }

    #[test]
    fn a_directory_that_is_not_empty_is_left_as_it_was() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("my-raft");
        fs::create_dir(&dir).unwrap();
        fs::write(dir.join("notes.txt"), "mine").unwrap();
        let e = write_crate(Lab::Lab3, &dir, &checkout_dir()).unwrap_err();
        assert!(
            e.contains("exists and is not empty; nothing was written"),
            "{e}"
        );
        assert_eq!(fs::read_to_string(dir.join("notes.txt")).unwrap(), "mine");
        assert_eq!(fs::read_dir(&dir).unwrap().count(), 1);
    }

    #[test]
    fn a_path_that_is_no_raftlab_checkout_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let e = write_crate(Lab::Lab3, &tmp.path().join("x"), tmp.path()).unwrap_err();
        assert!(e.contains("is this a raftlab checkout?"), "{e}");
        assert!(!tmp.path().join("x").exists());
    }

    #[test]
    fn every_template_is_filled_in() {
        let tmp = tempfile::tempdir().unwrap();
        for lab in [Lab::Lab3, Lab::Lab4] {
            let dir = tmp.path().join(format!("a-{lab:?}"));
            let files = write_crate(lab, &dir, &checkout_dir()).unwrap();
            for f in &files {
                let text = fs::read_to_string(f).unwrap();
                for placeholder in ["{{name}}", "{{lib}}", "{{raftlab}}"] {
                    assert!(
                        !text.contains(placeholder),
                        "{} keeps {placeholder}",
                        f.display()
                    );
                }
            }
            let manifest = fs::read_to_string(dir.join("Cargo.toml")).unwrap();
            assert!(
                manifest.contains(&format!("name = \"a-{lab:?}\"")),
                "{manifest}"
            );
            let main = fs::read_to_string(dir.join("src/main.rs")).unwrap();
            assert!(main.contains(&format!("use a_{lab:?}::MyRaft;")), "{main}");
        }
        assert!(tmp.path().join("a-Lab4/tests/kvraft.rs").is_file());
        assert!(!tmp.path().join("a-Lab3/tests/kvraft.rs").exists());
    }

    #[test]
    fn paths_are_escaped_for_toml() {
        assert_eq!(toml_escape(r#"C:\a "b""#), r#"C:\\a \"b\""#);
    }
}
