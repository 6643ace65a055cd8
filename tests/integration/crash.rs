//! The real `deskprov` binary killed with SIGKILL in the middle of work, on sled and on
//! PostgreSQL: nothing acknowledged is lost, no claim is given twice, and an interrupted
//! import is listed as such and changed nothing.

use std::time::{Duration, Instant};

use deskprov::client::Client;
use http::StatusCode;
use serde_json::{Value, json};

use crate::api::{AdminApi, NewUser};
use crate::binary::client;
use crate::helpers::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    acknowledged_writes_survive_sigkill_on(&[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill_on_postgres() {
    let url = crate::postgres::Postgres::shared().database().await;
    acknowledged_writes_survive_sigkill_on(&["--database-url", &url]).await;
}

/// Admin writes and phones' claims, then SIGKILL in the middle of both: after a restart every
/// acknowledged user is there, and no device whose claim was answered gives its config again.
async fn acknowledged_writes_survive_sigkill_on(store: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, store);
    let admin = client(d, server.admin_addr);
    let token = admin_token_in(d);
    let devices = claimable_devices(&AdminApi::new(&admin, &token), 150).await;

    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let claimed = std::sync::Arc::new(std::sync::Mutex::new(Vec::<String>::new()));
    let mut writers = Vec::new();
    for writer in 0..4 {
        let (admin, token, acknowledged) = (admin.clone(), token.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            let api = AdminApi::new(&admin, &token);
            for i in 0.. {
                let extension = format!("{}{:05}", writer + 1, i);
                let user = NewUser::new(&extension, &format!("User {extension}"));
                match api.create_user(user).try_send().await {
                    Ok(reply) if reply.status == StatusCode::CREATED => {
                        acknowledged.lock().unwrap().push(extension)
                    }
                    _ => return,
                }
            }
        }));
    }
    for half in devices.chunks(devices.len() / 2) {
        let (phone, half, claimed) = (client(d, server.phone_addr), half.to_vec(), claimed.clone());
        writers.push(tokio::spawn(async move {
            for mac in half {
                match claim(&phone, &mac, [127, 0, 0]).await {
                    Ok(StatusCode::OK) => claimed.lock().unwrap().push(mac),
                    Ok(_) => {}
                    Err(_) => return,
                }
                tokio::time::sleep(Duration::from_millis(15)).await;
            }
        }));
    }
    let started = Instant::now();
    while (acknowledged.lock().unwrap().len() < 200 || claimed.lock().unwrap().len() < 20)
        && started.elapsed() < Duration::from_secs(60)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // Killed in the middle of writes: no chance to flush anything.
    server.signal("KILL");
    for writer in writers {
        let _ = writer.await;
    }
    drop(server);
    let acknowledged = acknowledged.lock().unwrap().clone();
    let claimed = claimed.lock().unwrap().clone();
    assert!(
        acknowledged.len() >= 200 && claimed.len() >= 20,
        "only {} writes and {} claims acknowledged",
        acknowledged.len(),
        claimed.len()
    );

    let restarted = BinaryServer::start(d, store);
    let admin = client(d, restarted.admin_addr);
    let users = AdminApi::new(&admin, &token).list_users().ok().await;
    let stored: std::collections::HashSet<String> = users
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["extension"].as_str().unwrap().to_string())
        .collect();
    let lost: Vec<_> = acknowledged
        .iter()
        .filter(|e| !stored.contains(*e))
        .collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged writes lost, e.g. {:?}",
        lost.len(),
        lost.first()
    );
    let phone = client(d, restarted.phone_addr);
    for mac in &claimed {
        let again = claim(&phone, mac, [127, 0, 1]).await.unwrap();
        assert_eq!(
            again,
            StatusCode::UNAUTHORIZED,
            "{mac}: a claim answered before the kill is given again after it"
        );
    }
}

/// `count` T46S phones registered with an open claim; their MACs.
async fn claimable_devices(api: &AdminApi<'_>, count: u32) -> Vec<String> {
    let mut macs = Vec::new();
    for i in 0..count {
        let mac = format!("0015650{i:05x}");
        api.create_device(crate::api::NewDevice::new(&mac).model("T46S"))
            .ok()
            .await;
        macs.push(mac);
    }
    macs
}

/// The phone `mac` asks for its config without credentials, from an address of `network`
/// of its own (one source asking for many MACs would be braked as a guesser).
async fn claim(
    phone: &Client,
    mac: &str,
    network: [u8; 3],
) -> Result<StatusCode, deskprov::client::ClientError> {
    let colons: Vec<&str> = (0..6).map(|i| &mac[i * 2..i * 2 + 2]).collect();
    let ua = format!("Yealink SIP-T46S 66.86.0.15 {}", colons.join(":"));
    let host = u8::from_str_radix(&mac[10..], 16).unwrap().max(1);
    let [a, b, c] = network;
    let phone = phone.clone().from_source([a, b, c, host].into());
    let reply = phone
        .get(&format!("/{mac}.cfg"), &[("user-agent", &ua)])
        .await?;
    Ok(reply.status)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_import_killed_while_running_is_listed_as_interrupted_and_changed_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let server = BinaryServer::start(d, &[]);
    let admin = client(d, server.admin_addr);
    let token = admin_token_in(d);
    let api = AdminApi::new(&admin, &token);
    let done = api
        .import_to_end("users", "extension,first_name\n4001,Ada\n", false)
        .await;
    assert_eq!(done["state"], "done", "{done}");
    // 300 PINs to hash at ~40 ms each on two threads: seconds of work, killed after the 202.
    let mut csv = String::from("extension,first_name,pin\n");
    for i in 0..300 {
        let pin = (739164 + 7 * i).to_string();
        crate::logs::remember_secret(&pin);
        csv.push_str(&format!("5{i:03},User,{pin}\n"));
    }
    let reply = api.import("users", &csv, false).await;
    assert_eq!(reply.status, StatusCode::ACCEPTED, "{}", reply.text());
    server.signal("KILL");
    drop(server);

    let restarted = BinaryServer::start(d, &[]);
    let (code, out, err) = cli(d, restarted.admin_addr, &["--json", "imports"]);
    assert_eq!(code, 0, "{err}");
    let jobs: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}"));
    let states: Vec<(&str, &Value)> = jobs
        .as_array()
        .unwrap_or_else(|| panic!("{jobs}"))
        .iter()
        .map(|j| (j["state"].as_str().unwrap(), &j["rows"]))
        .collect();
    assert_eq!(
        states,
        [("interrupted", &json!(300)), ("done", &json!(1))],
        "{jobs}"
    );
    let (_, table, _) = cli(d, restarted.admin_addr, &["imports"]);
    assert!(table.contains("interrupted"), "{table}");
    let admin = client(d, restarted.admin_addr);
    let users = AdminApi::new(&admin, &token).list_users().ok().await;
    assert_eq!(
        users.as_array().unwrap().len(),
        1,
        "nothing of it applied: {users}"
    );
}
