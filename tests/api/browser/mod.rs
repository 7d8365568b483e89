//! Headless Chromium over WebDriver against the real server: the pages as a person's
//! browser gets them. Debian's `chromium` and `chromium-driver` are used as installed
//! (`.ci/run` installs them); nothing here downloads a browser or a driver.
//!
//! Each `Browser` starts its own `chromedriver --port=<free>` and a Chromium with a fresh
//! profile, so tests share nothing and a failing test leaves nothing behind. Without the
//! two programs a test prints a skip line and passes, unless `CI` is set, where it fails
//! and says what to install. The PostgreSQL run (`TEST_DATABASE_URL`) skips them: the
//! pages' logic is tested without a browser, and the browser adds nothing per backend.
//!
//! The helpers a journey test needs: `Browser::start(name)` (or `start_without_javascript`),
//! `open`, `fill`, `click_and_wait` / `keys_and_wait` (submit and wait for the answer),
//! `text`, `assert_accessible` (axe-core, rule id + target per violation), `set_width`,
//! `screenshot`, `close`; `driver()` for anything else.
//!
//! journey: the account/portal journey (register, open the outbox link, log in, apply,
//! see the record, PDF, share code, check it anonymously, verify the file) goes in
//! `tests/api/browser/journey.rs` as one `#[tokio::test]` per language: start with
//! `let Some(b) = Browser::start("journey").await else { return };`, drive the forms with
//! `b.open(..)`, `b.fill("#email", ..)` and `b.click_and_wait("button[type=submit]")`, read the mail
//! with `crate::mail_helpers`, call `b.assert_accessible(label)` on each page and
//! `b.screenshot(name)` where a picture helps; a second `Browser` is the anonymous one.

mod axe;
mod journey;
mod keyboard;
mod pages;

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{json, Value};
use thirtyfour::prelude::*;

const INSTALL: &str = "apt-get install -y chromium chromium-driver fonts-wqy-microhei";

/// At most two browsers at a time: the suite runs on two cores beside the servers.
static SLOTS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// The Chromium and chromedriver to use: `CHROMIUM` / `CHROMEDRIVER`, else from PATH.
fn programs() -> Result<(PathBuf, PathBuf), String> {
    let find = |var: &str, names: &[&str]| -> Option<PathBuf> {
        if let Some(p) = std::env::var_os(var).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(p)).filter(|p| p.is_file());
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
            .find(|p| p.is_file())
    };
    let chromium = find("CHROMIUM", &["chromium", "chromium-browser"]);
    let driver = find("CHROMEDRIVER", &["chromedriver"]);
    match (chromium, driver) {
        (Some(c), Some(d)) => Ok((c, d)),
        (c, d) => {
            let missing: Vec<&str> = [(c.is_none(), "chromium"), (d.is_none(), "chromedriver")]
                .into_iter()
                .filter_map(|(m, n)| m.then_some(n))
                .collect();
            Err(format!("{} not found", missing.join(" and ")))
        }
    }
}

/// Whether browser tests run here; prints why not, or panics under CI.
fn available(test: &str) -> Option<(PathBuf, PathBuf)> {
    if crate::helpers::postgres_url().is_some() {
        skip(&format!(
            "skip browser test {test}: the PostgreSQL run does not repeat browser tests"
        ));
        return None;
    }
    match programs() {
        Ok(found) => Some(found),
        Err(why) if std::env::var_os("CI").is_some_and(|v| !v.is_empty()) => {
            panic!("browser test {test}: {why}; CI needs them: {INSTALL}")
        }
        Err(why) => {
            skip(&format!(
                "skip browser test {test}: {why} (to run it: {INSTALL})"
            ));
            None
        }
    }
}

/// Straight to stderr: libtest captures `eprintln!` of passing tests, and a skip must show.
fn skip(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

/// chromedriver in a process group of its own, with the Chromium it starts: when the
/// browser goes, the whole group is killed, so a test that panics mid-session leaves no
/// Chromium behind (killing chromedriver alone orphans it).
struct Driver(Child);

impl Driver {
    fn kill_group(&mut self) {
        let group = format!("-{}", self.0.id());
        let _ = Command::new("kill")
            .args(["-KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// One headless Chromium session. `close` ends it cleanly. Dropped without `close` (a test
/// that panicked), chromedriver's process group is killed (Chromium with it) and the
/// session is leaked: thirtyfour's own fallback, a blocking DELETE on drop, hung for two
/// minutes here.
pub struct Browser {
    driver: Option<WebDriver>,
    process: Driver,
    _profile: tempfile::TempDir,
    _slot: tokio::sync::SemaphorePermit<'static>,
    /// Where `screenshot` writes: `target/screenshots/`.
    shots: PathBuf,
}

impl Drop for Browser {
    fn drop(&mut self) {
        if let Some(driver) = self.driver.take() {
            self.process.kill_group();
            let _ = driver.leak();
        }
    }
}

impl Browser {
    /// A browser with JavaScript on, or None (after a skip line) where tests cannot run.
    pub async fn start(test: &str) -> Option<Browser> {
        Self::launch(test, &[]).await
    }

    /// A browser with JavaScript off, as some people and many institutions browse.
    pub async fn start_without_javascript(test: &str) -> Option<Browser> {
        Self::launch(test, &["--blink-settings=scriptEnabled=false"]).await
    }

    async fn launch(test: &str, extra: &[&str]) -> Option<Browser> {
        let (chromium, chromedriver) = available(test)?;
        let slot = SLOTS.acquire().await.expect("semaphore open");
        let port = free_port();
        let process = Driver(
            Command::new(&chromedriver)
                .arg(format!("--port={port}"))
                .process_group(0)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap_or_else(|e| panic!("start {}: {e}", chromedriver.display())),
        );
        let url = format!("http://127.0.0.1:{port}");
        wait_for_driver(&url).await;

        let profile = tempfile::tempdir().expect("profile dir");
        let mut caps = DesiredCapabilities::chrome();
        caps.set_binary(&chromium.display().to_string()).unwrap();
        for arg in [
            "--headless=new",
            "--no-sandbox",
            "--disable-dev-shm-usage",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            // No crash handler processes: they leave the process group and outlive a test.
            "--disable-crash-reporter",
            "--disable-breakpad",
            "--window-size=1280,900",
            &format!("--user-data-dir={}", profile.path().display()),
        ]
        .iter()
        .chain(extra)
        {
            caps.add_arg(arg).unwrap();
        }
        let driver = WebDriver::new(url, caps)
            .await
            .unwrap_or_else(|e| panic!("Chromium session via chromedriver: {e}"));
        driver
            .set_script_timeout(Duration::from_secs(60))
            .await
            .unwrap();
        let shots = screenshot_dir();
        Some(Browser {
            driver: Some(driver),
            process,
            _profile: profile,
            _slot: slot,
            shots,
        })
    }

    /// The WebDriver session, for anything the helpers here do not cover.
    pub fn driver(&self) -> &WebDriver {
        self.driver.as_ref().expect("an open session")
    }

    /// Opens a URL and waits for the page to load.
    pub async fn open(&self, url: &str) {
        self.driver()
            .goto(url)
            .await
            .unwrap_or_else(|e| panic!("open {url}: {e}"));
    }

    pub async fn find(&self, css: &str) -> WebElement {
        match self.driver().find(By::Css(css)).await {
            Ok(found) => found,
            Err(e) => panic!("no element {css} on {}: {e}", self.url().await),
        }
    }

    /// Types into a field (after clearing it).
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.find(css).await;
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
    }

    pub async fn click(&self, css: &str) {
        self.find(css).await.click().await.unwrap();
    }

    /// Clicks (a submit button, a link) and waits until the next page has loaded: a click
    /// returns before a form's answer replaces the page, and reading the old page then
    /// fails with a stale element. A mark set on the old page is gone on the new one.
    pub async fn click_and_wait(&self, css: &str) {
        self.script("window.__cvOldPage = true; return null;").await;
        self.click(css).await;
        self.wait_for_new_page().await;
    }

    /// Presses keys (Enter on a form) and waits for the next page, like `click_and_wait`.
    pub async fn keys_and_wait(&self, keys: impl Into<TypingData>) {
        self.script("window.__cvOldPage = true; return null;").await;
        self.keys(keys).await;
        self.wait_for_new_page().await;
    }

    async fn wait_for_new_page(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        let check = "return window.__cvOldPage !== true && document.readyState === 'complete';";
        loop {
            // A script may fail while the page is being replaced; try again.
            if let Ok(ret) = self.driver().execute(check, Vec::new()).await {
                if ret.json() == &Value::Bool(true) {
                    return;
                }
            }
            assert!(
                Instant::now() < deadline,
                "no new page after 30 s at {}",
                self.url().await
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Presses keys on whatever has focus (Tab, Enter, text).
    pub async fn keys(&self, keys: impl Into<TypingData>) {
        self.driver()
            .action_chain()
            .send_keys(keys)
            .perform()
            .await
            .unwrap();
    }

    pub async fn url(&self) -> String {
        self.driver()
            .current_url()
            .await
            .map(|u| u.to_string())
            .unwrap_or_default()
    }

    /// The visible text of the page.
    pub async fn text(&self) -> String {
        self.find("body").await.text().await.unwrap()
    }

    /// The browser's cookies for this site as a `Cookie` header, so a test can fetch what
    /// the browser would download (a PDF, a record file) with the same session.
    pub async fn cookie_header(&self) -> String {
        let cookies = self.driver().get_all_cookies().await.unwrap();
        cookies
            .iter()
            .map(|c| format!("{}={}", c.name, c.value))
            .collect::<Vec<_>>()
            .join("; ")
    }

    pub async fn script(&self, js: &str) -> Value {
        match self.driver().execute(js, Vec::new()).await {
            Ok(ret) => ret.json().clone(),
            Err(e) => panic!("script on {}: {e}", self.url().await),
        }
    }

    /// Lays the page out `width` CSS pixels wide (a phone at 320), as tall as `height`.
    /// Through DevTools, since a desktop window has a minimum width.
    pub async fn set_width(&self, width: u32, height: u32) {
        self.driver()
            .cdp()
            .send_raw(
                "Emulation.setDeviceMetricsOverride",
                json!({"width": width, "height": height, "deviceScaleFactor": 1, "mobile": false}),
            )
            .await
            .unwrap();
    }

    /// The page's width in CSS pixels including anything that overflows sideways.
    pub async fn scroll_width(&self) -> u64 {
        self.script("return document.documentElement.scrollWidth;")
            .await
            .as_u64()
            .unwrap()
    }

    /// A full-page PNG at `width` into target/screenshots/<name>.png; returns its path.
    pub async fn screenshot(&self, name: &str, width: u32) -> PathBuf {
        // Short first, so that scrollHeight is the content's height, not the viewport's.
        self.set_width(width, 400).await;
        let height = self
            .script("return document.documentElement.scrollHeight;")
            .await
            .as_u64()
            .unwrap_or(900)
            .clamp(400, 6000) as u32;
        self.set_width(width, height).await;
        let path = self.shots.join(format!("{name}.png"));
        self.driver().screenshot(&path).await.unwrap();
        self.set_width(width, 900).await;
        path
    }

    /// Ends the session cleanly (dropping does it too, synchronously).
    pub async fn close(self) {
        let mut this = self;
        if let Some(driver) = this.driver.take() {
            let _ = driver.quit().await;
        }
    }
}

async fn wait_for_driver(url: &str) {
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let ready = client.get(format!("{url}/status")).send().await;
        if let Ok(res) = ready {
            if let Ok(body) = res.json::<Value>().await {
                if body["value"]["ready"] == true {
                    return;
                }
            }
        }
        assert!(Instant::now() < deadline, "chromedriver at {url} not ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// target/screenshots (or under CARGO_TARGET_DIR), made if missing.
fn screenshot_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("target"));
    let dir = target.join("screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}
