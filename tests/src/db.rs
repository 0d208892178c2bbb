//! Test databases: a temporary SQLite file, or a new PostgreSQL database on the server named
//! by `BUZON_TEST_POSTGRES_URL`, dropped after a passing test.

use rand::Rng;
use sqlx::any::AnyPoolOptions;
use sqlx::Executor;
use std::path::PathBuf;

/// Which engine a test database runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// A file.
    Sqlite,
    /// A database on the test server.
    Postgres,
}

/// A database of a test's own.
#[derive(Debug, Clone)]
pub struct TestDatabase {
    /// The URL buzon is given.
    pub url: String,
    /// The engine.
    pub engine: Engine,
    /// A scratch folder of the test's own (it holds the SQLite file, logs, config).
    pub dir: PathBuf,
    postgres: Option<(String, String)>,
}

fn unique_name() -> String {
    format!("buzon_t_{:016x}", rand::thread_rng().gen::<u64>())
}

/// The PostgreSQL server for tests; `None` means skip, which CI forbids.
pub fn postgres_admin_url() -> Option<String> {
    match std::env::var("BUZON_TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ => {
            if crate::under_ci() {
                panic!("BUZON_TEST_POSTGRES_URL is not set, and CI=true forbids skipping the PostgreSQL tests");
            }
            eprintln!(
                "SKIPPED: the PostgreSQL half of this test (set BUZON_TEST_POSTGRES_URL to run it)"
            );
            None
        }
    }
}

/// `url` with its database name replaced.
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

fn scratch_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(unique_name());
    std::fs::create_dir_all(&dir).expect("the temp folder is writable");
    dir
}

impl TestDatabase {
    /// A new SQLite database file (created by whoever opens it first).
    pub fn sqlite() -> TestDatabase {
        let dir = scratch_dir();
        let url = format!("sqlite://{}/data/buzon.db", dir.display());
        TestDatabase {
            url,
            engine: Engine::Sqlite,
            dir,
            postgres: None,
        }
    }

    /// A new, empty PostgreSQL database, or `None` (skip) outside CI without a server.
    pub async fn postgres() -> Option<TestDatabase> {
        let admin_url = postgres_admin_url()?;
        let name = unique_name();
        sqlx::any::install_default_drivers();
        let admin = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&admin_url)
            .await
            .unwrap_or_else(|err| {
                panic!("cannot reach PostgreSQL at BUZON_TEST_POSTGRES_URL: {err}")
            });
        admin
            .execute(format!("CREATE DATABASE {name}").as_str())
            .await
            .expect("the test user may create databases");
        admin.close().await;
        Some(TestDatabase {
            url: with_database(&admin_url, &name),
            engine: Engine::Postgres,
            dir: scratch_dir(),
            postgres: Some((admin_url, name)),
        })
    }

    /// The database named by `url`, on whichever engine it uses.
    pub async fn of(engine: Engine) -> Option<TestDatabase> {
        match engine {
            Engine::Sqlite => Some(TestDatabase::sqlite()),
            Engine::Postgres => TestDatabase::postgres().await,
        }
    }

    /// The URL with SQLite's create mode off, for side connections of the test itself.
    fn side_url(&self) -> String {
        match self.engine {
            Engine::Sqlite => format!("{}?mode=rw", self.url),
            Engine::Postgres => self.url.clone(),
        }
    }

    /// Runs a statement outside buzon, as someone with a SQL shell would.
    pub async fn raw_execute(&self, sql: &str) -> Result<(), sqlx::Error> {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.side_url())
            .await?;
        let result = pool.execute(sql).await.map(|_| ());
        pool.close().await;
        result
    }

    /// The first column of the first row of a query, as an integer.
    pub async fn scalar(&self, sql: &str) -> i64 {
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.side_url())
            .await
            .expect("side connection");
        let value: (i64,) = sqlx::query_as(sql)
            .fetch_one(&pool)
            .await
            .expect("scalar query");
        pool.close().await;
        value.0
    }

    /// Every row of a query whose columns are all text (NULL as `None`).
    pub async fn texts(&self, sql: &str) -> Vec<Vec<Option<String>>> {
        use sqlx::Row;
        sqlx::any::install_default_drivers();
        let pool = AnyPoolOptions::new()
            .max_connections(1)
            .connect(&self.side_url())
            .await
            .expect("side connection");
        let rows = sqlx::query(sql).fetch_all(&pool).await.expect("text query");
        pool.close().await;
        rows.iter()
            .map(|row| {
                (0..row.len())
                    .map(|index| {
                        row.try_get::<Option<String>, _>(index)
                            .expect("a text column")
                    })
                    .collect()
            })
            .collect()
    }

    /// Where `needle` appears in the stored bytes: the SQLite files, or a `pg_dump` of the
    /// database. Empty means nowhere.
    pub async fn raw_dump_contains(&self, needle: &str) -> Vec<String> {
        let mut found = Vec::new();
        match &self.postgres {
            None => {
                let data = self.dir.join("data");
                for entry in std::fs::read_dir(&data).expect("the data folder exists") {
                    let path = entry.expect("folder entry").path();
                    if !path
                        .file_name()
                        .is_some_and(|name| name.to_string_lossy().starts_with("buzon.db"))
                    {
                        continue;
                    }
                    let bytes = std::fs::read(&path).expect("database file is readable");
                    if bytes
                        .windows(needle.len())
                        .any(|window| window == needle.as_bytes())
                    {
                        found.push(path.display().to_string());
                    }
                }
            }
            Some(_) => {
                let output = tokio::process::Command::new("pg_dump")
                    .arg("--no-owner")
                    .arg(&self.url)
                    .output()
                    .await
                    .expect("pg_dump runs (postgresql-client)");
                assert!(
                    output.status.success(),
                    "pg_dump failed: {}",
                    String::from_utf8_lossy(&output.stderr)
                );
                if String::from_utf8_lossy(&output.stdout).contains(needle) {
                    found.push("pg_dump".into());
                }
            }
        }
        found
    }

    /// Removes the files and drops the PostgreSQL database; call at the end of a passing
    /// test (a failing one keeps them for inspection).
    pub async fn finish(self) {
        let _ = std::fs::remove_dir_all(&self.dir);
        if let Some((admin_url, name)) = &self.postgres {
            let admin = AnyPoolOptions::new()
                .max_connections(1)
                .connect(admin_url)
                .await
                .expect("admin connects");
            admin
                .execute(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)").as_str())
                .await
                .expect("drop the test database");
            admin.close().await;
        }
    }
}
