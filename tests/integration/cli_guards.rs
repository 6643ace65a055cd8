//! The CLI's guards, with the real binary: a closed standard output ends a command quietly,
//! secrets come from standard input (argv forms warn), a taken line is replaced and the token
//! in use revoked only when asked, and bulk deletes want a confirmation.

use std::process::Stdio;

use serde_json::Value;

use crate::helpers::*;

/// Runs the CLI with its standard output closed before it writes: (exit code, stderr).
fn with_stdout_closed(
    dir: &std::path::Path,
    admin: std::net::SocketAddr,
    args: &[&str],
) -> (Option<i32>, String) {
    let mut child = cli_command(dir, admin, args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The only read end: the child's first write after its API call meets a closed pipe.
    drop(child.stdout.take());
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn a_closed_standard_output_ends_a_command_quietly() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    let macs: Vec<String> = (1..=40).map(|i| format!("0015650000{i:02x}")).collect();
    let mut add = vec!["devices", "add-many"];
    add.extend(macs.iter().map(String::as_str));
    assert_eq!(cli(d, admin, &add).0, 0);
    for args in [
        &["devices", "list"][..],
        &["--json", "devices", "list"],
        &["devices", "show", "001565000001"],
        &["openapi"],
    ] {
        let (code, err) = with_stdout_closed(d, admin, args);
        assert_eq!(code, Some(0), "deskprov {args:?}: {err}");
        assert!(!err.contains("panicked"), "deskprov {args:?}: {err}");
        assert!(err.is_empty(), "deskprov {args:?} said: {err}");
    }
}

#[test]
fn secrets_come_from_standard_input_and_argv_forms_warn() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    let sip_password = |extension: &str| -> String {
        let (code, out, err) = cli(d, admin, &["--json", "users", "sip-password", extension]);
        assert_eq!(code, 0, "{err}");
        serde_json::from_str::<Value>(&out).unwrap()["sip_password"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let warning = "is visible in the process list and shell history";

    let first = "stdin-secret-0701";
    crate::logs::remember_secret(first);
    let (code, _, err) = cli_with_input(
        d,
        admin,
        &[
            "users",
            "add",
            "701",
            "--name",
            "Ada",
            "--sip-password-stdin",
        ],
        &format!("{first}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(warning), "{err}");
    assert_eq!(sip_password("701"), first);

    let second = "stdin-secret-0702";
    crate::logs::remember_secret(second);
    let (code, _, err) = cli_with_input(
        d,
        admin,
        &["users", "edit", "701", "--sip-password-stdin"],
        &format!("{second}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(sip_password("701"), second);

    let pin = "739164";
    crate::logs::remember_secret(pin);
    let (code, _, err) = cli_with_input(
        d,
        admin,
        &["users", "edit", "701", "--pin-stdin"],
        &format!("{pin}\n"),
    );
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(warning), "{err}");

    // The argv forms still work, with a warning that does not repeat the secret.
    let on_argv = "argv-secret-0703";
    crate::logs::remember_secret(on_argv);
    let (code, _, err) = cli(
        d,
        admin,
        &["users", "edit", "701", "--sip-password", on_argv],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "--sip-password {warning}; use --sip-password-stdin"
        )),
        "{err}"
    );
    assert!(!err.contains(on_argv), "{err}");
    assert_eq!(sip_password("701"), on_argv);
    let argv_pin = "684207";
    crate::logs::remember_secret(argv_pin);
    let (code, _, err) = cli(d, admin, &["users", "edit", "701", "--pin", argv_pin]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!("--pin {warning}; use --pin-stdin")),
        "{err}"
    );
    assert!(!err.contains(argv_pin), "{err}");

    // One standard input cannot carry both.
    let (code, _, err) = cli_with_input(
        d,
        admin,
        &[
            "users",
            "edit",
            "701",
            "--pin-stdin",
            "--sip-password-stdin",
        ],
        "739164\n",
    );
    assert_ne!(code, 0);
    assert!(err.contains("cannot be used with"), "{err}");
}

#[test]
fn taken_lines_and_bulk_deletes_need_to_be_asked_for() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    let run = |args: &[&str]| {
        let (code, out, err) = cli(d, admin, args);
        assert_eq!(code, 0, "deskprov {args:?} failed: {err}");
        out
    };
    let line_users = || -> Value {
        let shown: Value =
            serde_json::from_str(&run(&["--json", "devices", "show", "001565000001"])).unwrap();
        shown["lines"].clone()
    };
    for extension in ["801", "802", "803", "804"] {
        let created: Value =
            serde_json::from_str(&run(&["--json", "users", "add", extension, "--name", "U"]))
                .unwrap();
        crate::logs::remember_secret(created["sip_password"].as_str().unwrap());
    }
    run(&["devices", "add", "001565000001", "--model", "T46S"]);

    // A taken line: refused with the server's reason, unchanged; replaced with --replace.
    run(&["devices", "assign", "001565000001", "1", "801"]);
    let (code, _, err) = cli(d, admin, &["devices", "assign", "001565000001", "1", "802"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("has user 801") && err.contains("--replace"),
        "{err}"
    );
    assert_eq!(line_users()[0]["user"], "801");
    run(&["devices", "assign", "001565000001", "1", "802", "--replace"]);
    assert_eq!(line_users()[0]["user"], "802");

    // Several users: not deleted without --yes when nobody can be asked.
    let (code, _, err) = cli(d, admin, &["users", "remove", "801", "802"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("refusing to delete 2 users") && err.contains("--yes"),
        "{err}"
    );
    let (code, _, err) = cli_with_input(d, admin, &["users", "remove", "801", "802"], "y\n");
    assert_ne!(code, 0, "a pipe is not a terminal: {err}");
    assert!(run(&["users", "list"]).contains("802"), "nothing deleted");
    run(&["users", "remove", "801", "802", "--yes"]);
    let users = run(&["users", "list"]);
    assert!(!users.contains("801") && !users.contains("802"), "{users}");
    assert_eq!(line_users(), serde_json::json!([]));
    // One user needs no confirmation.
    run(&["users", "remove", "803"]);
    run(&["users", "remove", "804", "-y"]);

    // Several devices likewise; all of them go, or none.
    run(&["devices", "add", "001565000002"]);
    let (code, _, err) = cli(
        d,
        admin,
        &["devices", "remove", "001565000001", "001565000002"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("refusing to delete 2 devices"), "{err}");
    let (code, _, err) = cli(
        d,
        admin,
        &["devices", "remove", "001565000001", "001565000009", "--yes"],
    );
    assert_ne!(code, 0);
    assert!(err.contains("001565000009"), "{err}");
    assert!(
        run(&["devices", "list"]).contains("001565000001"),
        "nothing deleted"
    );
    run(&["devices", "remove", "001565000001", "001565000002", "--yes"]);
    assert!(!run(&["devices", "list"]).contains("0015650000"));
}

#[test]
fn the_token_in_use_is_revoked_only_with_force() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = server.admin_addr;
    let initial = admin_token_in(d);
    crate::logs::remember_secret(&initial);
    let (code, out, err) = cli(d, admin, &["--json", "tokens", "create", "second"]);
    assert_eq!(code, 0, "{err}");
    let second = serde_json::from_str::<Value>(&out).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    crate::logs::remember_secret(&second);

    let (code, _, err) = cli(d, admin, &["tokens", "revoke", "initial"]);
    assert_ne!(code, 0);
    assert!(
        err.contains("this is the token this request uses") && err.contains("--force"),
        "{err}"
    );
    assert!(cli(d, admin, &["tokens", "list"]).1.contains("initial"));
    let (code, _, err) = cli(d, admin, &["tokens", "revoke", "initial", "--force"]);
    assert_eq!(code, 0, "{err}");

    // The token file's token is gone; the other one still works.
    let (code, _, _) = cli(d, admin, &["tokens", "list"]);
    assert_ne!(code, 0);
    let listed = cli_command(d, admin, &["tokens", "list"])
        .env("DESKPROV_TOKEN", &second)
        .output()
        .unwrap();
    assert!(listed.status.success());
    let listed = String::from_utf8_lossy(&listed.stdout);
    assert!(
        listed.contains("second") && !listed.contains("initial"),
        "{listed}"
    );
}
