//! The run's real browser: one chromedriver and one headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `tests/setup.sh`, which `make test` runs first) for every test
//! that needs one, driven over WebDriver with fantoccini.
//!
//! A fantoccini client's session task lives on the runtime that created it, and every
//! `#[tokio::test]` has a runtime of its own that ends with its test: so the client is created on
//! a process-wide runtime with threads of its own, and tests take turns at the one window through
//! [`page`]. Chromium trusts the run's test CA (`helpers::test_ca`) through the NSS database of
//! the HOME it is started with, so the test servers' certificates are verified as a real site's
//! are (no `--ignore-certificate-errors`, no `acceptInsecureCerts`). chromedriver and Chromium are
//! stopped when the test process exits.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use fantoccini::cookies::Cookie;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde::Deserialize;
use serde_json::{Value as Json, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const CERTUTIL: &str = "/usr/bin/certutil";
const SETUP_HINT: &str = "`make test` installs it (tests/setup.sh)";
/// The Accept-Language every test starts with.
const DEFAULT_LANGUAGE: &str = "en";

struct Browser {
    /// Runs the WebDriver session's task for the whole run.
    runtime: tokio::runtime::Runtime,
    client: Client,
    user_agent: String,
    chromedriver: Mutex<Option<Child>>,
    /// Chromium's HOME (its NSS database) and profile; removed at exit.
    dir: PathBuf,
    /// Whose turn it is at the one window.
    turn: tokio::sync::Mutex<()>,
}

static BROWSER: OnceLock<Result<Browser, String>> = OnceLock::new();

/// The browser's window, for one test at a time: waits for the previous test to finish with it,
/// then starts from a blank page with no cookies and Accept-Language `en`.
pub async fn page() -> Page {
    let browser = BROWSER
        // Started on a thread of its own: it blocks on the browser's runtime, which a test's
        // runtime thread may not.
        .get_or_init(|| {
            std::thread::spawn(start)
                .join()
                .expect("browser start-up thread")
        })
        .as_ref()
        .unwrap_or_else(|message| panic!("{message}"));
    let turn = browser.turn.lock().await;
    let page = Page {
        client: browser.client.clone(),
        user_agent: browser.user_agent.clone(),
        _turn: turn,
    };
    page.cdp("Network.clearBrowserCookies", json!({})).await;
    page.set_accept_language(DEFAULT_LANGUAGE).await;
    page.open("about:blank").await;
    page
}

fn start() -> Result<Browser, String> {
    for (program, package) in [
        (CHROMIUM, "chromium"),
        (CHROMEDRIVER, "chromium-driver"),
        (CERTUTIL, "libnss3-tools"),
    ] {
        if !Path::new(program).exists() {
            return Err(format!(
                "{program} is missing: the browser tests need Debian's {package}; {SETUP_HINT}"
            ));
        }
    }
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("browser-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    trust_test_ca(&dir.join("home/.pki/nssdb"))?;
    let (chromedriver, port) = start_chromedriver(&dir.join("home"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("browser")
        .enable_all()
        .build()
        .map_err(|e| format!("browser runtime: {e}"))?;
    let connected = runtime.block_on(async {
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities(&dir.join("profile")))
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .map_err(|e| format!("Chromium did not start through chromedriver: {e}"))?;
        let user_agent = client
            .execute("return navigator.userAgent", vec![])
            .await
            .map_err(|e| format!("reading Chromium's user agent: {e}"))?;
        Ok::<_, String>((client, user_agent.as_str().unwrap_or_default().to_string()))
    });
    let (client, user_agent) = match connected {
        Ok(session) => session,
        Err(message) => {
            stop_process_group(chromedriver);
            return Err(message);
        }
    };
    let browser = Browser {
        runtime,
        client,
        user_agent,
        chromedriver: Mutex::new(Some(chromedriver)),
        dir,
        turn: tokio::sync::Mutex::new(()),
    };
    // SAFETY: registers a function without arguments that never unwinds.
    unsafe { libc::atexit(stop_browser) };
    Ok(browser)
}

/// An NSS database in `nssdb` holding the run's test CA, trusted for servers.
fn trust_test_ca(nssdb: &Path) -> Result<(), String> {
    std::fs::create_dir_all(nssdb).map_err(|e| format!("{}: {e}", nssdb.display()))?;
    let ca = nssdb.join("test-ca.pem");
    std::fs::write(&ca, &crate::helpers::test_ca().pem).map_err(|e| e.to_string())?;
    let db = format!("sql:{}", nssdb.display());
    let ca = ca.display().to_string();
    for args in [
        vec!["-N", "-d", &db, "--empty-password"],
        vec![
            "-A",
            "-d",
            &db,
            "-t",
            "C,,",
            "-n",
            "deskprov test CA",
            "-i",
            &ca,
        ],
    ] {
        let output = Command::new(CERTUTIL)
            .args(&args)
            .output()
            .map_err(|e| format!("{CERTUTIL}: {e}"))?;
        if !output.status.success() {
            return Err(format!(
                "certutil {args:?}: {}",
                String::from_utf8_lossy(&output.stderr)
            ));
        }
    }
    Ok(())
}

/// chromedriver on a free loopback port it chooses and reports, in a process group of its own
/// (Chromium joins it) so that nothing of it outlives the run.
fn start_chromedriver(home: &Path) -> Result<(Child, u16), String> {
    let mut child = Command::new(CHROMEDRIVER)
        .arg("--port=0")
        .env("HOME", home)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        // Chromium's console noise; WebDriver errors carry what a test needs.
        .stderr(Stdio::null())
        .process_group(0)
        .spawn()
        .map_err(|e| format!("{CHROMEDRIVER}: {e}"))?;
    let stdout = child.stdout.take().expect("piped stdout");
    let (port_tx, port_rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if let Some(port) = line
                .strip_prefix("ChromeDriver was started successfully on port ")
                .and_then(|rest| rest.trim_end_matches('.').parse::<u16>().ok())
            {
                let _ = port_tx.send(port);
            }
        }
    });
    match port_rx.recv_timeout(Duration::from_secs(30)) {
        Ok(port) => Ok((child, port)),
        Err(_) => {
            stop_process_group(child);
            Err(format!("{CHROMEDRIVER} did not report its port"))
        }
    }
}

fn capabilities(profile: &Path) -> serde_json::Map<String, Json> {
    let mut args = vec![
        "--headless".to_string(),
        format!("--user-data-dir={}", profile.display()),
        "--window-size=1280,1024".into(),
        "--no-first-run".into(),
        "--disable-background-networking".into(),
        "--disable-component-update".into(),
        "--disable-sync".into(),
    ];
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        // Chromium's sandbox refuses to run as root.
        args.push("--no-sandbox".into());
    }
    let capabilities = json!({
        "browserName": "chrome",
        "goog:chromeOptions": { "binary": CHROMIUM, "args": args },
    });
    match capabilities {
        Json::Object(map) => map,
        _ => unreachable!("a JSON object"),
    }
}

extern "C" fn stop_browser() {
    let Some(Ok(browser)) = BROWSER.get() else {
        return;
    };
    // Ending the session has chromedriver close Chromium; the group kill catches the rest.
    let client = browser.client.clone();
    let _ = browser
        .runtime
        .block_on(async { tokio::time::timeout(Duration::from_secs(5), client.close()).await });
    if let Some(child) = browser.chromedriver.lock().ok().and_then(|mut c| c.take()) {
        stop_process_group(child);
    }
    let _ = std::fs::remove_dir_all(&browser.dir);
}

fn stop_process_group(mut child: Child) {
    if let Ok(group) = i32::try_from(child.id()) {
        // SAFETY: a signal to the process group chromedriver leads (process_group(0)).
        unsafe { libc::kill(-group, libc::SIGKILL) };
    }
    let _ = child.wait();
}

/// The browser's one window, held by one test.
pub struct Page {
    client: Client,
    user_agent: String,
    _turn: tokio::sync::MutexGuard<'static, ()>,
}

impl Page {
    /// Loads `url` and waits for it to load.
    pub async fn open(&self, url: &str) {
        self.client
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("opening {url}: {e}"));
    }

    pub async fn url(&self) -> String {
        self.client
            .current_url()
            .await
            .expect("the current URL")
            .to_string()
    }

    /// Types `value` into the form field named `name`, replacing what it held.
    pub async fn fill(&self, name: &str, value: &str) {
        let field = self.find(Locator::Css(&named(name))).await;
        field.clear().await.expect("clearing the field");
        field
            .send_keys(value)
            .await
            .unwrap_or_else(|e| panic!("typing into {name}: {e}"));
    }

    /// Chooses the file at `path` in the file input named `name`, as a user picking it does.
    pub async fn choose_file(&self, name: &str, path: &Path) {
        self.find(Locator::Css(&named(name)))
            .await
            .send_keys(&path.display().to_string())
            .await
            .unwrap_or_else(|e| panic!("choosing {} in {name}: {e}", path.display()));
    }

    /// Chooses the option with `value` in the select named `name`.
    pub async fn select(&self, name: &str, value: &str) {
        self.find(Locator::Css(&named(name)))
            .await
            .select_by_value(value)
            .await
            .unwrap_or_else(|e| panic!("choosing {value} in {name}: {e}"));
    }

    /// Clicks the button (or submit input) whose visible text is `text`.
    pub async fn click_button(&self, text: &str) {
        let text = xpath_literal(text);
        let xpath = format!(
            "//button[normalize-space()={text}] | //input[(@type='submit' or @type='button') and @value={text}]"
        );
        self.click_found(Locator::XPath(&xpath)).await;
    }

    /// Clicks the first element matching the CSS `selector`.
    pub async fn click(&self, selector: &str) {
        self.click_found(Locator::Css(selector)).await;
    }

    /// The page's visible text.
    pub async fn text(&self) -> String {
        self.text_of("body").await
    }

    /// The visible text of the first element matching the CSS `selector`.
    pub async fn text_of(&self, selector: &str) -> String {
        self.find(Locator::Css(selector))
            .await
            .text()
            .await
            .unwrap_or_else(|e| panic!("the text of {selector}: {e}"))
    }

    /// Whether any element matches the CSS `selector` (a button a role must not see, say).
    pub async fn has(&self, selector: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("looking for {selector}: {e}"))
            .is_empty()
    }

    /// The cookies the browser holds for the current page, with their attributes.
    pub async fn cookies(&self) -> Vec<Cookie<'static>> {
        self.client.get_all_cookies().await.expect("the cookies")
    }

    /// The Accept-Language of the requests from now on: languages by preference (`de`,
    /// `de-DE,de`), to which Chromium adds the q-values.
    pub async fn set_accept_language(&self, language: &str) {
        self.cdp(
            "Emulation.setUserAgentOverride",
            json!({ "userAgent": self.user_agent, "acceptLanguage": language }),
        )
        .await;
    }

    /// Saves the window as `target/screenshots/<name>.png` and returns the path.
    pub async fn screenshot(&self, name: &str) -> PathBuf {
        let png = self.client.screenshot().await.expect("a screenshot");
        let dir = target_dir().join("screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(format!("{}.png", file_name(name)));
        std::fs::write(&path, png).unwrap();
        path
    }

    /// Runs axe-core on the page and fails on any serious or critical violation, listing them;
    /// `name` says which page it was.
    pub async fn axe(&self, name: &str) {
        let violations = self.axe_violations().await;
        if let Err(report) = serious_violations(&violations) {
            panic!("{name} ({}): {report}", self.url().await);
        }
    }

    /// Every violation axe-core finds on the page.
    pub async fn axe_violations(&self) -> Vec<Violation> {
        let loaded = self
            .client
            .execute("return typeof axe !== 'undefined'", vec![])
            .await
            .expect("checking for axe");
        if loaded != Json::Bool(true) {
            self.client
                .execute(axe_source(), vec![])
                .await
                .expect("injecting axe-core");
        }
        let result = self
            .client
            .execute_async(
                "const done = arguments[arguments.length - 1];
                 axe.run(document, { resultTypes: ['violations'] })
                   .then(r => done({ violations: r.violations.map(v => ({
                     id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                     targets: v.nodes.map(n => n.target.join(' ')) })) }))
                   .catch(e => done({ error: String(e) }));",
                vec![],
            )
            .await
            .expect("running axe-core");
        if let Some(error) = result.get("error") {
            panic!("axe-core failed: {error}");
        }
        serde_json::from_value(result["violations"].clone()).expect("axe-core's violations")
    }

    /// A Chrome DevTools Protocol command through chromedriver (`goog/cdp/execute`).
    pub async fn cdp(&self, command: &'static str, params: Json) -> Json {
        self.client
            .issue_cmd(Cdp { command, params })
            .await
            .unwrap_or_else(|e| panic!("{command}: {e}"))
    }

    async fn find(&self, locator: Locator<'_>) -> fantoccini::elements::Element {
        match self.client.find(locator).await {
            Ok(element) => element,
            Err(e) => panic!("finding {locator:?} on {}: {e}", self.url().await),
        }
    }

    /// Clicks, and when the click loads another page (a form sent, a link followed), waits
    /// until that page has loaded: reading right after a click must not read the old page, nor
    /// find nothing while the new one arrives.
    async fn click_found(&self, locator: Locator<'_>) {
        let before = self.find(Locator::Css("html")).await;
        self.find(locator)
            .await
            .click()
            .await
            .unwrap_or_else(|e| panic!("clicking {locator:?}: {e}"));
        // The old document's root goes stale once the next page replaces it; a click that loads
        // nothing leaves it, and the wait gives up after a second.
        for _ in 0..20 {
            if before.tag_name().await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        for _ in 0..200 {
            let state = self
                .client
                .execute("return document.readyState", vec![])
                .await;
            if state.is_ok_and(|s| s == "complete") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page after clicking {locator:?} did not load within 10 s");
    }
}

/// One axe-core violation: a rule and the elements that break it.
#[derive(Debug, Deserialize)]
pub struct Violation {
    pub id: String,
    /// minor, moderate, serious or critical.
    pub impact: Option<String>,
    pub help: String,
    #[serde(rename = "helpUrl")]
    pub help_url: String,
    /// A CSS selector for each element.
    pub targets: Vec<String>,
}

/// The serious and critical violations, one readable paragraph each, or Ok when none.
pub fn serious_violations(violations: &[Violation]) -> Result<(), String> {
    let serious: Vec<_> = violations
        .iter()
        .filter(|v| matches!(v.impact.as_deref(), Some("serious" | "critical")))
        .collect();
    if serious.is_empty() {
        return Ok(());
    }
    let mut report = format!(
        "axe-core found {} serious or critical violation(s):",
        serious.len()
    );
    for v in serious {
        report.push_str(&format!(
            "\n- {} ({}): {}\n  {}\n  elements: {}",
            v.id,
            v.impact.as_deref().unwrap_or_default(),
            v.help,
            v.help_url,
            v.targets.join(", ")
        ));
    }
    Err(report)
}

fn axe_source() -> &'static str {
    static SOURCE: OnceLock<String> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/browser/node_modules/axe-core/axe.min.js");
        std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!(
                "{}: {e}: the browser tests need axe-core from npm; {SETUP_HINT}",
                path.display()
            )
        })
    })
}

#[derive(Debug)]
struct Cdp {
    command: &'static str,
    params: Json,
}

impl WebDriverCompatibleCommand for Cdp {
    fn endpoint(
        &self,
        base_url: &url::Url,
        session_id: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base_url.join(&format!(
            "session/{}/goog/cdp/execute",
            session_id.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (http::Method, Option<String>) {
        let body = json!({ "cmd": self.command, "params": self.params });
        (http::Method::POST, Some(body.to_string()))
    }
}

fn target_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR"))
        .parent()
        .expect("CARGO_TARGET_TMPDIR is <target>/tmp")
        .to_path_buf()
}

/// A CSS selector for the element named `name`.
fn named(name: &str) -> String {
    format!(
        "[name=\"{}\"]",
        name.replace('\\', "\\\\").replace('"', "\\\"")
    )
}

/// `text` as an XPath string literal (XPath 1.0 has no escapes: concat() joins the parts).
fn xpath_literal(text: &str) -> String {
    if !text.contains('\'') {
        return format!("'{text}'");
    }
    if !text.contains('"') {
        return format!("\"{text}\"");
    }
    let parts: Vec<String> = text.split('\'').map(|part| format!("'{part}'")).collect();
    format!("concat({})", parts.join(", \"'\", "))
}

fn file_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '-'
            }
        })
        .collect()
}

// The harness proved on pages of its own, served over HTTPS with a certificate of the run's
// test CA by a small server on port 0.

mod proof {
    use std::convert::Infallible;
    use std::net::SocketAddr;
    use std::sync::Arc;

    use http_body_util::{BodyExt, Full};
    use hyper::body::{Bytes, Incoming};
    use hyper::{Request, Response};
    use rustls_pki_types::pem::PemObject;
    use rustls_pki_types::{CertificateDer, PrivateKeyDer};

    use super::page;

    const FORM_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Greeting</title></head>
<body><main><h1>Greeting</h1>
<form method="post" action="/greet">
<label for="name">Name</label> <input id="name" name="name">
<label for="colour">Colour</label>
<select id="colour" name="colour"><option value="red">Red</option><option value="green">Green</option></select>
<button type="submit">Greet</button>
</form></main></body></html>"#;

    /// An image without alternative text: axe-core's rule image-alt, impact critical.
    const INACCESSIBLE_PAGE: &str = r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Logo</title></head>
<body><main><h1>Logo</h1><img src="/logo.png" width="40" height="40"></main></body></html>"#;

    async fn respond(request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
        let (parts, body) = request.into_parts();
        let html = |body: String| {
            Response::builder()
                .header("content-type", "text/html; charset=utf-8")
                .body(Full::new(Bytes::from(body)))
                .unwrap()
        };
        let response = match (parts.method.as_str(), parts.uri.path()) {
            ("GET", "/form") => html(FORM_PAGE.into()),
            ("GET", "/inaccessible") => html(INACCESSIBLE_PAGE.into()),
            ("GET", "/language") => {
                let language = parts
                    .headers
                    .get("accept-language")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("none");
                html(page_saying("Language", language))
            }
            ("POST", "/greet") => {
                let body = body
                    .collect()
                    .await
                    .map(|b| b.to_bytes())
                    .unwrap_or_default();
                let field = |wanted: &str| {
                    form_fields(&body)
                        .into_iter()
                        .find(|(name, _)| name == wanted)
                        .map(|(_, value)| value)
                        .unwrap_or_default()
                };
                let text = format!("Hello, {}, you like {}", field("name"), field("colour"));
                let mut response = html(page_saying("Greeted", &text));
                response.headers_mut().insert(
                    "set-cookie",
                    "greeted=yes; Secure; HttpOnly; SameSite=Strict; Path=/"
                        .parse()
                        .unwrap(),
                );
                response
            }
            _ => Response::builder()
                .status(404)
                .body(Full::new(Bytes::new()))
                .unwrap(),
        };
        Ok(response)
    }

    fn page_saying(title: &str, text: &str) -> String {
        format!(
            r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{title}</title></head>
<body><main><h1>{title}</h1><p id="said">{}</p></main></body></html>"#,
            escape(text)
        )
    }

    fn escape(text: &str) -> String {
        text.replace('&', "&amp;")
            .replace('<', "&lt;")
            .replace('>', "&gt;")
            .replace('"', "&quot;")
    }

    fn form_fields(body: &[u8]) -> Vec<(String, String)> {
        let decode = |s: &str| {
            percent_encoding::percent_decode_str(&s.replace('+', " "))
                .decode_utf8_lossy()
                .into_owned()
        };
        String::from_utf8_lossy(body)
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .map(|(name, value)| (decode(name), decode(value)))
            .collect()
    }

    /// The pages above over HTTPS on 127.0.0.1, port 0, with the certificate `certs` and `key`.
    async fn serve(certs: Vec<CertificateDer<'static>>, key: PrivateKeyDer<'static>) -> SocketAddr {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut tls = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(certs, key)
            .unwrap();
        tls.alpn_protocols = vec![b"http/1.1".to_vec()];
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(tls));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let Ok(tls) = acceptor.accept(tcp).await else {
                        return;
                    };
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(
                            hyper_util::rt::TokioIo::new(tls),
                            hyper::service::service_fn(respond),
                        )
                        .await;
                });
            }
        });
        addr
    }

    /// The pages with a certificate of the run's test CA, as the test servers have.
    async fn serve_trusted() -> (tempfile::TempDir, String) {
        let dir = tempfile::tempdir().unwrap();
        crate::helpers::write_test_certificates(dir.path());
        let certs = deskprov::tls::load_certs(&dir.path().join("server.crt")).unwrap();
        let key = PrivateKeyDer::from_pem_file(dir.path().join("server.key")).unwrap();
        let addr = serve(certs, key).await;
        (dir, format!("https://127.0.0.1:{}", addr.port()))
    }

    #[tokio::test]
    async fn browser_fills_a_form_over_https_and_reads_the_result() {
        let (_dir, base) = serve_trusted().await;
        let page = page().await;
        page.open(&format!("{base}/form")).await;
        page.screenshot("harness-form").await;
        page.axe("harness form").await;
        page.fill("name", "placeholder").await;
        page.fill("name", "Ada <Lovelace>").await;
        page.select("colour", "green").await;
        page.click_button("Greet").await;

        assert_eq!(page.url().await, format!("{base}/greet"));
        assert_eq!(
            page.text_of("#said").await,
            "Hello, Ada <Lovelace>, you like green"
        );
        assert!(page.text().await.starts_with("Greeted\n"));
        assert!(page.has("#said").await);
        assert!(!page.has("form").await);
        let cookies = page.cookies().await;
        let greeted = cookies
            .iter()
            .find(|c| c.name() == "greeted")
            .expect("the greeted cookie");
        assert_eq!(greeted.value(), "yes");
        assert_eq!(greeted.secure(), Some(true));
        assert_eq!(greeted.http_only(), Some(true));
        assert_eq!(
            greeted.same_site().map(|s| s.to_string()).as_deref(),
            Some("Strict")
        );
        assert_eq!(greeted.path(), Some("/"));
        let shot = page.screenshot("harness-greeted").await;
        let png = std::fs::read(&shot).unwrap();
        assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", shot.display());
        page.axe("harness greeted").await;
    }

    #[tokio::test]
    async fn axe_reports_an_image_without_alternative_text() {
        let (_dir, base) = serve_trusted().await;
        let page = page().await;
        page.open(&format!("{base}/inaccessible")).await;
        let violations = page.axe_violations().await;
        let image_alt = violations
            .iter()
            .find(|v| v.id == "image-alt")
            .unwrap_or_else(|| panic!("no image-alt among {violations:?}"));
        assert_eq!(image_alt.impact.as_deref(), Some("critical"));
        assert_eq!(image_alt.targets, ["img"]);
        let report = super::serious_violations(&violations).expect_err("a serious violation");
        assert!(report.contains("\n- image-alt (critical): "), "{report}");
        assert!(report.contains("elements: img"), "{report}");
    }

    #[tokio::test]
    async fn browser_sends_the_language_a_test_sets_and_starts_each_test_afresh() {
        let (_dir, base) = serve_trusted().await;
        let page = page().await;
        page.open(&format!("{base}/language")).await;
        assert_eq!(page.text_of("#said").await, "en");
        page.set_accept_language("de-DE,de").await;
        page.open(&format!("{base}/language")).await;
        assert_eq!(page.text_of("#said").await, "de-DE,de;q=0.9");
        page.click("h1").await;
        drop(page);

        let page = super::page().await;
        assert_eq!(page.url().await, "about:blank");
        page.open(&format!("{base}/language")).await;
        assert_eq!(page.text_of("#said").await, "en");
    }

    /// The browser verifies certificates: one from a CA it was not told to trust is refused.
    #[tokio::test]
    async fn browser_refuses_a_certificate_of_another_ca() {
        let other = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()]).unwrap();
        let key = PrivateKeyDer::try_from(other.signing_key.serialize_der()).unwrap();
        let addr = serve(vec![other.cert.der().clone()], key).await;
        let page = page().await;
        page.open(&format!("https://127.0.0.1:{}/form", addr.port()))
            .await;
        assert!(!page.has("form").await);
        assert!(
            page.text().await.contains("ERR_CERT_AUTHORITY_INVALID"),
            "{}",
            page.text().await
        );
    }
}
