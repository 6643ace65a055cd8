//! Replays the fuzzing regressions: every file under `fuzz/regressions/<target>/` goes through
//! the entry point that cargo-fuzz target drives (see `fuzz/fuzz_targets/`), and must come back
//! without a panic. Any crash the fuzzer finds (`make fuzz` leaves it in
//! `fuzz/artifacts/<target>/`) is copied into `fuzz/regressions/<target>/` and so becomes a
//! regression test here, run by plain `cargo test` on stable.

use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;

use deskprov::domain::Mac;

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

/// As `fuzz_targets/identify.rs`: `<path>\n<user-agent bytes>`, the path UTF-8.
#[test]
fn identify() {
    replay("identify", |data| {
        let (path, user_agent) = match data.iter().position(|&b| b == b'\n') {
            Some(i) => (&data[..i], &data[i + 1..]),
            None => (data, &[][..]),
        };
        let Ok(path) = std::str::from_utf8(path) else {
            return;
        };
        if let Some(id) = deskprov::provision::identify_request(path, user_agent) {
            let _ = id.vendor();
            let _ = id.model().map(|m| m.as_str().len());
            let _ = id.firmware().map(str::len);
            if let Some(mac) = id.requester_mac() {
                assert_eq!(mac.to_hex().len(), 12);
            }
        }
    });
}

/// As `fuzz_targets/mac_parse.rs`: a parsed MAC survives the round trip through its hex form.
#[test]
fn mac_parse() {
    replay("mac_parse", |data| {
        let Ok(text) = std::str::from_utf8(data) else {
            return;
        };
        if let Ok(mac) = Mac::parse(text) {
            assert_eq!(Mac::parse(&mac.to_hex()), Ok(mac), "round trip of {text:?}");
            assert_eq!(Mac::parse(&mac.to_hex_upper()), Ok(mac));
        }
        if let Some(mac) = deskprov::client_cert::single_mac_in(text) {
            assert_eq!(Mac::parse(&mac.to_hex()), Ok(mac));
        }
    });
}

/// As `fuzz_targets/admin_json.rs`: every admin body type decoded from the bytes.
#[test]
fn admin_json() {
    replay("admin_json", deskprov::admin::decode_every_body);
}
