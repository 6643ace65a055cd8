//! Replays the fuzzing regressions: every file under `fuzz/regressions/<target>/` goes through
//! the same check as the cargo-fuzz target (`deskprov::fuzzing`), and must come back without a
//! panic. Any crash the fuzzer finds (`make fuzz` leaves it in
//! `fuzz/artifacts/<target>/`) is copied into `fuzz/regressions/<target>/` and so becomes a
//! regression test here, run by plain `cargo test` on stable.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

/// The inputs kept for one fuzz target, by file name; a target without any is a mistake.
fn regressions(target: &str) -> Vec<(String, Vec<u8>)> {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let mut inputs: Vec<(String, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_file())
        .map(|path| {
            let bytes =
                std::fs::read(&path).unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
            (
                path.file_name().unwrap().to_string_lossy().into_owned(),
                bytes,
            )
        })
        .collect();
    inputs.sort();
    assert!(
        !inputs.is_empty(),
        "no regression inputs in {}",
        dir.display()
    );
    inputs
}

/// Runs `check` on every input of `target`, then fails naming each input that panicked.
fn replay(target: &str, check: impl Fn(&[u8])) {
    let failed: Vec<String> = regressions(target)
        .into_iter()
        .filter(|(_, bytes)| panic::catch_unwind(AssertUnwindSafe(|| check(bytes))).is_err())
        .map(|(name, _)| name)
        .collect();
    assert!(
        failed.is_empty(),
        "fuzz/regressions/{target}/ inputs that panic: {failed:?}"
    );
}

#[test]
fn identify() {
    replay("identify", deskprov::fuzzing::identify);
}

#[test]
fn mac_parse() {
    replay("mac_parse", deskprov::fuzzing::mac_parse);
}

#[test]
fn admin_json() {
    replay("admin_json", deskprov::fuzzing::admin_json);
}
