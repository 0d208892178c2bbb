//! The real `buzon` binary, started on a test database and driven over HTTP.

use crate::db::TestDatabase;
use std::path::PathBuf;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};
use tokio::io::AsyncWriteExt;
use tokio::process::{Child, Command};

/// The secrets every test app runs with; tests check that none of them leaks.
pub const SECRET_KEY: &str = "5f1e0c7a9b3d2e4f6a8b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f";
/// The Meta app secret the fixtures are signed with.
pub const META_APP_SECRET: &str = "test-app-secret";
/// The verify token for Meta's handshake.
pub const META_VERIFY_TOKEN: &str = "meatyhamhock";
/// The X consumer secret the fixtures are signed with.
pub const X_CONSUMER_SECRET: &str = "test-consumer-secret";

/// The `buzon` binary that `cargo test` built beside this test binary.
pub fn buzon_bin() -> PathBuf {
    if let Ok(path) = std::env::var("BUZON_TEST_BIN") {
        return PathBuf::from(path);
    }
    let test_exe = std::env::current_exe().expect("the test binary knows its path");
    let profile_dir = test_exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("test binaries live in target/<profile>/deps");
    let bin = profile_dir.join(format!("buzon{}", std::env::consts::EXE_SUFFIX));
    assert!(
        bin.exists(),
        "{} is missing: run the tests with `cargo test --workspace`, which builds it",
        bin.display()
    );
    bin
}

/// A free port on loopback, for a test that needs an address nothing listens on.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("loopback has free ports")
}

/// A running `buzon serve`.
pub struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub base_url: String,
    /// The database it runs on.
    pub db: TestDatabase,
    /// An HTTP client.
    pub http: reqwest::Client,
    /// Where its standard error (the logs) goes.
    pub log_path: PathBuf,
    env: Vec<(String, String)>,
    /// The command's arguments (`serve`, or `serve --demo`).
    args: Vec<String>,
    child: Option<Child>,
}

impl TestApp {
    /// The environment every command of this app runs with. The server binds port 0 (the
    /// system picks a free one) and says which on standard error; its public URL is that
    /// address.
    pub fn base_env(db: &TestDatabase) -> Vec<(String, String)> {
        vec![
            ("BUZON_DATABASE_URL".into(), db.url.clone()),
            ("BUZON_SERVER_BIND".into(), "127.0.0.1:0".into()),
            ("BUZON_SERVER_SHUTDOWN_TIMEOUT_SECS".into(), "5".into()),
            ("BUZON_SECURITY_SECRET_KEY".into(), SECRET_KEY.into()),
            ("BUZON_META_APP_SECRET".into(), META_APP_SECRET.into()),
            ("BUZON_META_VERIFY_TOKEN".into(), META_VERIFY_TOKEN.into()),
            ("BUZON_X_CONSUMER_SECRET".into(), X_CONSUMER_SECRET.into()),
            (
                "BUZON_LOG_LEVEL".into(),
                "debug,sqlx=warn,hyper=info,reqwest=info".into(),
            ),
        ]
    }

    /// Starts `buzon serve` on `db` with extra environment, and waits until `/healthz` answers.
    pub async fn start(db: TestDatabase, extra_env: &[(&str, &str)]) -> TestApp {
        TestApp::start_with_args(db, extra_env, &["serve"]).await
    }

    /// Starts `buzon serve --demo` (its own sandbox and demo data) on `db`, in `db`'s folder.
    pub async fn start_demo(db: TestDatabase) -> TestApp {
        TestApp::start_with_args(db, &[], &["serve", "--demo"]).await
    }

    async fn start_with_args(
        db: TestDatabase,
        extra_env: &[(&str, &str)],
        args: &[&str],
    ) -> TestApp {
        let mut env = TestApp::base_env(&db);
        for (key, value) in extra_env {
            env.retain(|(existing, _)| existing != key);
            env.push((key.to_string(), value.to_string()));
        }
        let mut app = TestApp {
            base_url: String::new(),
            log_path: db.dir.join("buzon.log"),
            db,
            http: reqwest::Client::builder()
                .timeout(Duration::from_secs(30))
                .build()
                .expect("client builds"),
            env,
            args: args.iter().map(|arg| (*arg).to_owned()).collect(),
            child: None,
        };
        app.spawn_server().await;
        app
    }

    /// (Re)starts the server process with this app's environment: reads the address it says
    /// it bound, then waits until `/healthz` answers.
    pub async fn spawn_server(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log_path)
            .expect("log file is writable");
        let logged_before = self.log().len();
        let child = Command::new(buzon_bin())
            .args(&self.args)
            .envs(self.env.iter().cloned())
            .env_remove("RUST_LOG")
            .current_dir(&self.db.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::from(log))
            .kill_on_drop(true)
            .spawn()
            .expect("buzon starts");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut bound = false;
        loop {
            if !bound {
                let log = self.log();
                if let Some(address) = log.get(logged_before..).and_then(|new| {
                    new.lines()
                        .find_map(|line| line.strip_prefix("buzon is listening on "))
                }) {
                    self.base_url = address.trim().to_owned();
                    bound = true;
                }
            }
            if bound {
                if let Ok(response) = self.http.get(self.url("/healthz")).send().await {
                    if response.status().is_success() {
                        return;
                    }
                }
            }
            if let Some(status) = self
                .child
                .as_mut()
                .and_then(|child| child.try_wait().ok().flatten())
            {
                panic!(
                    "buzon serve exited early with {status}; log:\n{}",
                    self.log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "buzon did not become healthy; log:\n{}",
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Sets an environment variable for the next start of the server and for CLI commands.
    pub fn set_env(&mut self, key: &str, value: &str) {
        self.env.retain(|(existing, _)| existing != key);
        self.env.push((key.to_owned(), value.to_owned()));
    }

    /// An absolute URL for `path`.
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base_url)
    }

    /// Everything the server logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(&self.log_path).unwrap_or_default()
    }

    /// Runs a `buzon` command with this app's environment and optional standard input.
    pub async fn cli(&self, args: &[&str], stdin: Option<&str>) -> Output {
        run_cli(&self.env, &self.db.dir, args, stdin).await
    }

    /// Creates an API token with `role` and returns it.
    pub async fn token(&self, role: &str) -> String {
        let output = self
            .cli(
                &["token", "create", &format!("test-{role}"), "--role", role],
                None,
            )
            .await;
        assert!(
            output.status.success(),
            "token create failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout)
            .lines()
            .last()
            .expect("the token is on the last line")
            .trim()
            .to_owned()
    }

    /// Posts a webhook body to `/webhooks/{platform}` signed as the platform signs it.
    pub async fn post_signed_webhook(&self, platform: &str, body: &[u8]) -> reqwest::Response {
        let request = self
            .http
            .post(self.url(&format!("/webhooks/{platform}")))
            .body(body.to_vec());
        let request = match platform {
            "x" => request.header(
                "x-twitter-webhooks-signature",
                crate::platform::x_signature(X_CONSUMER_SECRET, body),
            ),
            _ => request.header(
                "X-Hub-Signature-256",
                crate::platform::meta_signature(META_APP_SECRET, body),
            ),
        };
        request
            .header("content-type", "application/json")
            .send()
            .await
            .expect("webhook request is sent")
    }

    /// GETs an API path with a bearer token and returns the JSON (asserting 200).
    pub async fn api_get(&self, token: &str, path: &str) -> serde_json::Value {
        let response = self
            .http
            .get(self.url(path))
            .bearer_auth(token)
            .send()
            .await
            .expect("API request");
        let status = response.status();
        let body = response.text().await.unwrap_or_default();
        assert_eq!(status, 200, "GET {path}: {body}");
        serde_json::from_str(&body).expect("API answers JSON")
    }

    /// Waits until `check` returns `Some`, polling every 50 ms, for at most `limit`.
    pub async fn eventually<T, F, Fut>(&self, limit: Duration, what: &str, mut check: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(value) = check().await {
                return value;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; log tail:\n{}",
                tail(&self.log(), 60)
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The server's process id, while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|child| child.id())
    }

    /// Kills the server with SIGKILL, as a crash or a power cut would, and waits for it.
    pub async fn kill(&mut self) {
        let mut child = self.child.take().expect("the server is running");
        child.kill().await.expect("SIGKILL is delivered");
    }

    /// Sends SIGTERM and waits (at most `limit`) for the process to exit; returns its status.
    pub async fn terminate(&mut self, limit: Duration) -> std::process::ExitStatus {
        let mut child = self.child.take().expect("the server is running");
        let pid = child.id().expect("a running child has a pid");
        let killed = Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status()
            .await
            .expect("kill runs");
        assert!(killed.success());
        match tokio::time::timeout(limit, child.wait()).await {
            Ok(status) => status.expect("wait works"),
            Err(_) => {
                let _ = child.kill().await;
                panic!(
                    "buzon did not stop within {limit:?} of SIGTERM; log:\n{}",
                    self.log()
                );
            }
        }
    }

    /// Stops the server and removes the database (after a passing test).
    pub async fn finish(mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
        self.db.clone().finish().await;
    }
}

/// Runs a `buzon` command in `dir` with `env` and optional standard input.
pub async fn run_cli(
    env: &[(String, String)],
    dir: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> Output {
    let mut child = Command::new(buzon_bin())
        .args(args)
        .envs(env.iter().cloned())
        .env_remove("RUST_LOG")
        .current_dir(dir)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("buzon runs");
    if let Some(input) = stdin {
        let mut pipe = child.stdin.take().expect("stdin is piped");
        pipe.write_all(input.as_bytes())
            .await
            .expect("stdin accepts the input");
        drop(pipe);
    }
    tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
        .await
        .expect("the command finishes within a minute")
        .expect("the command's output is readable")
}

fn tail(text: &str, lines: usize) -> String {
    let all: Vec<&str> = text.lines().collect();
    all[all.len().saturating_sub(lines)..].join("\n")
}
