//! A real headless Chromium for the interface tests, driven over WebDriver by fantoccini.
//! Debian's `chromium` and `chromium-driver` (installed by .ci/run). Without them a test
//! fails under CI and is reported as skipped elsewhere.

use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// A chromedriver process; killed on drop.
pub struct Driver {
    /// The WebDriver URL.
    pub url: String,
    _child: Child,
}

fn find(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    for dir in std::env::split_paths(&path) {
        for name in names {
            let candidate = dir.join(name);
            if candidate.is_file() {
                return Some(candidate);
            }
        }
    }
    None
}

/// Starts chromedriver, or `None` (skip) outside CI when Chromium is not installed.
pub async fn start_driver() -> Option<Driver> {
    let Some(chromedriver) = find(&["chromedriver"]) else {
        if crate::under_ci() {
            panic!("chromedriver is not installed, and CI=true forbids skipping the browser tests (apt-get install chromium chromium-driver)");
        }
        eprintln!("SKIPPED: browser test (install chromium and chromium-driver to run it)");
        return None;
    };
    let port = crate::app::free_port();
    let child = Command::new(chromedriver)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("chromedriver starts");
    let url = format!("http://127.0.0.1:{port}");
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "chromedriver did not listen");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    Some(Driver { url, _child: child })
}

/// The capabilities of a headless Chromium that makes no connection of its own.
pub fn chrome_capabilities(width: u32, height: u32) -> serde_json::Map<String, serde_json::Value> {
    let binary = find(&["chromium", "chromium-browser", "google-chrome"])
        .map(|path| path.display().to_string());
    let profile = std::env::temp_dir().join(format!("buzon-chrome-{:016x}", rand::random::<u64>()));
    let mut options = serde_json::json!({
        "args": [
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
            "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            format!("--window-size={width},{height}"),
            format!("--user-data-dir={}", profile.display()),
            "--lang=en-US",
        ]
    });
    if let Some(binary) = binary {
        options["binary"] = serde_json::json!(binary);
    }
    let mut capabilities = serde_json::Map::new();
    capabilities.insert("browserName".into(), serde_json::json!("chrome"));
    capabilities.insert("goog:chromeOptions".into(), options);
    capabilities
}

/// Where screenshots of the test run go (`tests/artifacts/`, not committed).
pub fn artifact(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("artifacts");
    std::fs::create_dir_all(&dir).expect("artifacts folder is writable");
    dir.join(name)
}
