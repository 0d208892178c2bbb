//! A database of its own for each test: a temporary SQLite file, or a fresh PostgreSQL
//! database created on the server named by `BUZON_TEST_POSTGRES_URL`.

use buzon_store::{Cipher, DatabaseUrl, Engine, Store};
use rand::Rng;
use sqlx::any::AnyPoolOptions;
use sqlx::Executor;
use std::path::PathBuf;

#[derive(Clone)]
pub struct TestDb {
    pub store: Store,
    url: String,
    sqlite_dir: Option<PathBuf>,
    postgres: Option<(String, String)>,
}

fn unique_name() -> String {
    format!("buzon_t_{:016x}", rand::thread_rng().gen::<u64>())
}

fn test_cipher() -> Cipher {
    Cipher::from_key_text(&"42".repeat(32)).expect("valid test key")
}

/// The PostgreSQL server to test against; `None` means skip, which `CI=true` forbids.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("BUZON_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if std::env::var("CI").is_ok_and(|value| value == "true") {
                panic!("BUZON_TEST_POSTGRES_URL is not set, and CI=true forbids skipping the PostgreSQL suite");
            }
            eprintln!("SKIPPED: PostgreSQL half of this test (set BUZON_TEST_POSTGRES_URL to run it)");
            None
        }
    }
}

/// `postgres://user@host:port/db?x` with the database name replaced.
pub fn with_database(url: &str, database: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (url, String::new()),
    };
    let scheme_end = base.find("://").map(|i| i + 3).unwrap_or(0);
    let host_part = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{host_part}/{database}{query}")
}

impl TestDb {
    pub async fn sqlite() -> TestDb {
        let dir = std::env::temp_dir().join(unique_name());
        std::fs::create_dir_all(&dir).expect("temp dir is writable");
        let url = format!("sqlite://{}/buzon.db", dir.display());
        let store = Store::connect(&DatabaseUrl::parse(&url).unwrap(), test_cipher())
            .await
            .expect("sqlite opens");
        store.migrate().await.expect("sqlite migrates");
        TestDb { store, url, sqlite_dir: Some(dir), postgres: None }
    }

    pub async fn postgres() -> Option<TestDb> {
        let admin_url = postgres_admin_url()?;
        let name = unique_name();
        sqlx::any::install_default_drivers();
        let admin = AnyPoolOptions::new().max_connections(1).connect(&admin_url).await
            .unwrap_or_else(|err| panic!("cannot reach PostgreSQL at BUZON_TEST_POSTGRES_URL: {err}"));
        admin.execute(format!("CREATE DATABASE {name}").as_str()).await.expect("create test database");
        admin.close().await;
        let url = with_database(&admin_url, &name);
        let store = Store::connect(&DatabaseUrl::parse(&url).unwrap(), test_cipher())
            .await
            .expect("postgres connects");
        store.migrate().await.expect("postgres migrates");
        Some(TestDb { store, url, sqlite_dir: None, postgres: Some((admin_url, name)) })
    }

    pub fn engine(&self) -> Engine {
        self.store.engine()
    }

    /// Runs a statement outside the store, as an attacker or a careless admin with a SQL
    /// shell would.
    pub async fn raw_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        let url = if self.engine() == Engine::Sqlite { format!("{}?mode=rw", self.url) } else { self.url.clone() };
        let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await?;
        let result = pool.execute(sql).await.map(|_| ());
        pool.close().await;
        result
    }

    pub async fn count(&self, table: &str) -> i64 {
        let url = if self.engine() == Engine::Sqlite { format!("{}?mode=rw", self.url) } else { self.url.clone() };
        let pool = AnyPoolOptions::new().max_connections(1).connect(&url).await.expect("connects");
        let count: (i64,) = sqlx::query_as(&format!("SELECT COUNT(*) FROM {table}")).fetch_one(&pool).await.expect("counts");
        pool.close().await;
        count.0
    }

    /// Where `needle` appears in the stored bytes: the SQLite files, or a `pg_dump`.
    pub async fn raw_dump_contains(&self, needle: &str) -> Vec<String> {
        let mut found = Vec::new();
        match (&self.sqlite_dir, &self.postgres) {
            (Some(dir), _) => {
                for entry in std::fs::read_dir(dir).expect("test dir readable") {
                    let path = entry.expect("entry").path();
                    let bytes = std::fs::read(&path).expect("db file readable");
                    if bytes.windows(needle.len()).any(|window| window == needle.as_bytes()) {
                        found.push(path.display().to_string());
                    }
                }
            }
            (None, Some(_)) => {
                let output = tokio::process::Command::new("pg_dump")
                    .arg("--no-owner")
                    .arg(&self.url)
                    .output()
                    .await
                    .expect("pg_dump runs (install postgresql-client)");
                assert!(output.status.success(), "pg_dump failed: {}", String::from_utf8_lossy(&output.stderr));
                if String::from_utf8_lossy(&output.stdout).contains(needle) {
                    found.push("pg_dump".into());
                }
            }
            _ => unreachable!("a test database is sqlite or postgres"),
        }
        found
    }

    /// Drops the database (PostgreSQL) or removes the files (SQLite) after a passing test.
    pub async fn finish(self) {
        self.store.close().await;
        if let Some(dir) = &self.sqlite_dir {
            let _ = std::fs::remove_dir_all(dir);
        }
        if let Some((admin_url, name)) = &self.postgres {
            let admin = AnyPoolOptions::new().max_connections(1).connect(admin_url).await.expect("admin connects");
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .expect("drop test database");
            admin.close().await;
        }
    }
}
