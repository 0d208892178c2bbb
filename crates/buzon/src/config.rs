//! Configuration: `config/default.toml` (embedded), then `--config FILE`, then environment
//! variables `BUZON_<SECTION>_<KEY>`. Unknown sections and keys are errors, so a typo never
//! silently leaves a default in place.

use anyhow::{anyhow, bail, Context};
use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};
use toml::{Table, Value};

/// The defaults, embedded so the binary runs from any folder.
pub const DEFAULT_TOML: &str = include_str!("../../../config/default.toml");

/// A secret setting: never shown by `Debug`.
#[derive(Clone, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    /// Wraps a secret value.
    pub fn new(value: String) -> Secret {
        Secret(value)
    }

    /// The secret's value.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("[redacted]")
    }
}

/// Every setting.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub database: DatabaseSettings,
    pub server: ServerSettings,
    pub security: SecuritySettings,
    pub meta: MetaSettings,
    pub facebook: ApiSettings,
    pub whatsapp: ApiSettings,
    pub x: XSettings,
    pub workers: WorkerSettings,
    pub log: LogSettings,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    pub public_url: String,
    pub shutdown_timeout_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub secret_key: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaSettings {
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub api_base: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XSettings {
    pub api_base: String,
    pub consumer_secret: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub enabled: bool,
    pub poll_interval_secs: u64,
    pub lease_secs: u64,
    pub send_give_up_secs: u64,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub level: String,
    pub format: String,
}

impl Settings {
    /// Loads the defaults, the optional file, and the process environment.
    pub fn load(file: Option<&Path>) -> anyhow::Result<Settings> {
        Settings::load_from(file, std::env::vars())
    }

    /// Loads the defaults, the optional file, and the given environment.
    pub fn load_from(
        file: Option<&Path>,
        environment: impl IntoIterator<Item = (String, String)>,
    ) -> anyhow::Result<Settings> {
        let mut table: Table = DEFAULT_TOML
            .parse()
            .context("the built-in defaults are invalid")?;
        if let Some(path) = file {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read the config file {}", path.display()))?;
            let overlay: Table = text.parse().map_err(|err: toml::de::Error| {
                anyhow!(
                    "config file {} is not valid TOML: {}",
                    path.display(),
                    err.message()
                )
            })?;
            merge(&mut table, overlay, "")?;
        }
        let mut environment: Vec<(String, String)> = environment.into_iter().collect();
        environment.sort();
        for (name, value) in environment {
            apply_env(&mut table, &name, value)?;
        }
        let settings = Settings::from_table(table)?;
        settings.check()?;
        Ok(settings)
    }

    fn from_table(mut table: Table) -> anyhow::Result<Settings> {
        fn section<T: serde::de::DeserializeOwned>(
            table: &mut Table,
            name: &str,
        ) -> anyhow::Result<T> {
            let value = table
                .remove(name)
                .unwrap_or_else(|| Value::Table(Table::new()));
            value.try_into().map_err(|err: toml::de::Error| {
                anyhow!(
                    "invalid configuration in [{name}]: {}",
                    one_line(err.message())
                )
            })
        }
        let settings = Settings {
            database: section(&mut table, "database")?,
            server: section(&mut table, "server")?,
            security: section(&mut table, "security")?,
            meta: section(&mut table, "meta")?,
            facebook: section(&mut table, "facebook")?,
            whatsapp: section(&mut table, "whatsapp")?,
            x: section(&mut table, "x")?,
            workers: section(&mut table, "workers")?,
            log: section(&mut table, "log")?,
        };
        if let Some(unknown) = table.keys().next() {
            bail!("unknown configuration key {unknown}");
        }
        Ok(settings)
    }

    fn check(&self) -> anyhow::Result<()> {
        if self.server.bind.parse::<std::net::SocketAddr>().is_err() {
            bail!("server.bind must be an address with a port, like 127.0.0.1:8080");
        }
        if !matches!(self.log.format.as_str(), "text" | "json") {
            bail!("log.format must be text or json");
        }
        if self.workers.lease_secs == 0 || self.workers.poll_interval_secs == 0 {
            bail!("workers.lease_secs and workers.poll_interval_secs must be positive");
        }
        Ok(())
    }

    /// The folder for data buzon makes itself (the generated secret key): the SQLite file's
    /// folder, or `./data`.
    pub fn data_dir(&self) -> PathBuf {
        buzon_store::DatabaseUrl::parse(&self.database.url)
            .ok()
            .and_then(|url| {
                url.sqlite_path()
                    .and_then(Path::parent)
                    .map(Path::to_path_buf)
            })
            .filter(|folder| !folder.as_os_str().is_empty())
            .unwrap_or_else(|| PathBuf::from("data"))
    }
}

/// Merges `overlay` into `base`. Sections must exist in the defaults; keys are checked when
/// the result is read.
fn merge(base: &mut Table, overlay: Table, path: &str) -> anyhow::Result<()> {
    for (key, value) in overlay {
        let full = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match (base.get_mut(&key), value) {
            (Some(Value::Table(base_section)), Value::Table(overlay_section)) => {
                merge(base_section, overlay_section, &full)?;
            }
            (None, Value::Table(_)) if path.is_empty() => {
                bail!("unknown configuration section [{full}]");
            }
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
    Ok(())
}

/// Applies `BUZON_<SECTION>_<KEY>=value`. `BUZON_TEST_*` belongs to the test suite and is
/// left alone.
fn apply_env(table: &mut Table, name: &str, value: String) -> anyhow::Result<()> {
    let Some(rest) = name.strip_prefix("BUZON_") else {
        return Ok(());
    };
    if rest.starts_with("TEST_") || rest == "TEST" {
        return Ok(());
    }
    let Some((section, key)) = rest.split_once('_') else {
        bail!("unknown configuration variable {name}: expected BUZON_<SECTION>_<KEY>");
    };
    let (section, key) = (section.to_lowercase(), key.to_lowercase());
    let Some(Value::Table(section_table)) = table.get_mut(&section) else {
        bail!("unknown configuration variable {name}: there is no section [{section}]");
    };
    let typed = match section_table.get(&key) {
        Some(Value::Integer(_)) => Value::Integer(
            value
                .trim()
                .parse()
                .map_err(|_| anyhow!("{name} must be a whole number"))?,
        ),
        Some(Value::Boolean(_)) => Value::Boolean(match value.trim() {
            "true" | "1" | "yes" => true,
            "false" | "0" | "no" => false,
            _ => bail!("{name} must be true or false"),
        }),
        _ => Value::String(value),
    };
    section_table.insert(key, typed);
    Ok(())
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_load_with_safe_local_values() {
        let settings = Settings::load_from(None, env(&[])).unwrap();
        assert_eq!(settings.database.url, "sqlite://data/buzon.db");
        assert_eq!(settings.server.bind, "127.0.0.1:8080");
        assert!(settings.security.secret_key.is_none());
        assert_eq!(
            settings.facebook.api_base,
            "https://graph.facebook.com/v21.0"
        );
        assert_eq!(settings.x.api_base, "https://api.x.com");
        assert_eq!(settings.data_dir(), PathBuf::from("data"));
    }

    #[test]
    fn environment_overrides_by_section_and_key() {
        let settings = Settings::load_from(
            None,
            env(&[
                ("BUZON_DATABASE_URL", "postgres://postgres@127.0.0.1/test"),
                ("BUZON_SECURITY_SECRET_KEY", "k"),
                ("BUZON_WORKERS_POLL_INTERVAL_SECS", "5"),
                ("BUZON_WORKERS_ENABLED", "false"),
                ("BUZON_TEST_POSTGRES_URL", "ignored"),
                ("PATH", "/bin"),
            ]),
        )
        .unwrap();
        assert_eq!(settings.database.url, "postgres://postgres@127.0.0.1/test");
        assert_eq!(
            settings.security.secret_key.as_ref().map(Secret::expose),
            Some("k")
        );
        assert_eq!(settings.workers.poll_interval_secs, 5);
        assert!(!settings.workers.enabled);
    }

    #[test]
    fn unknown_keys_and_sections_are_refused() {
        let err = Settings::load_from(None, env(&[("BUZON_SERVER_PORT", "1")])).unwrap_err();
        assert!(err.to_string().contains("unknown field `port`"), "{err}");
        let err = Settings::load_from(None, env(&[("BUZON_NOPE_X", "1")])).unwrap_err();
        assert!(err.to_string().contains("no section [nope]"), "{err}");
        let dir = std::env::temp_dir().join(format!("buzon-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("bad.toml");
        std::fs::write(&file, "[server]\nbnid = \"x\"\n").unwrap();
        let err = Settings::load_from(Some(&file), env(&[])).unwrap_err();
        assert!(err.to_string().contains("unknown field `bnid`"), "{err}");
        std::fs::write(&file, "[srever]\nbind = \"x\"\n").unwrap();
        let err = Settings::load_from(Some(&file), env(&[])).unwrap_err();
        assert!(
            err.to_string()
                .contains("unknown configuration section [srever]"),
            "{err}"
        );
        let err =
            Settings::load_from(None, env(&[("BUZON_WORKERS_LEASE_SECS", "soon")])).unwrap_err();
        assert!(err.to_string().contains("whole number"), "{err}");
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let settings =
            Settings::load_from(None, env(&[("BUZON_META_APP_SECRET", "hunter2-app")])).unwrap();
        assert!(!format!("{settings:?}").contains("hunter2"));
    }
}
