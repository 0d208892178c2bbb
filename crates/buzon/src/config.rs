//! Configuration: `config/default.toml` (embedded), then `--config FILE`, then environment
//! variables `BUZON_<SECTION>_<KEY>`. Unknown sections and keys are errors, so a typo never
//! silently leaves a default in place.

use anyhow::{anyhow, bail, Context};
use buzon_connector::KeyAliases;
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
    pub facebook: FacebookSettings,
    pub whatsapp: ApiSettings,
    pub x: XSettings,
    pub workers: WorkerSettings,
    pub hours: HoursSettings,
    pub reports: ReportsSettings,
    pub retention: RetentionSettings,
    pub alerts: AlertSettings,
    pub log: LogSettings,
}

/// Where urgent alerts are mailed from, and through which server.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AlertSettings {
    /// `smtp://host:port`, or `smtps://user:pass@host:port`; empty: e-mail alerts fail visibly.
    pub smtp_url: Secret,
    /// The sender, such as `buzon <alerts@shop.example>`.
    pub from: String,
    /// Whether alert webhooks may point at this machine or a private network (refused by
    /// default: a URL in a form must not reach internal services).
    #[serde(default)]
    pub allow_private_urls: bool,
}

#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    pub url: String,
}

impl fmt::Debug for DatabaseSettings {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A PostgreSQL URL may carry a password.
        let shown = match (self.url.find("://"), self.url.rfind('@')) {
            (Some(scheme), Some(at)) if at > scheme => {
                format!("{}://[redacted]{}", &self.url[..scheme], &self.url[at..])
            }
            _ => self.url.clone(),
        };
        formatter
            .debug_struct("DatabaseSettings")
            .field("url", &shown)
            .finish()
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub bind: String,
    /// How buzon is reached from outside (OAuth callbacks, webhook URLs, embeds). Empty: the
    /// address it is bound to, e.g. `http://127.0.0.1:8080`.
    #[serde(default)]
    pub public_url: String,
    pub shutdown_timeout_secs: u64,
    /// Reverse proxies (addresses or CIDR ranges) whose `X-Forwarded-For` is believed for the
    /// client's address; none by default.
    #[serde(default)]
    pub trusted_proxies: TextList,
    /// Clients (addresses or CIDR ranges) that read `/metrics` without a token.
    #[serde(default = "loopback")]
    pub metrics_addresses: TextList,
    /// The longest a request may take, its body included (live event streams excepted).
    #[serde(default = "thirty")]
    pub request_timeout_secs: u64,
    /// The longest a client may take to send a request's headers.
    #[serde(default = "ten")]
    pub header_read_timeout_secs: u64,
    /// Requests handled at once; more wait their turn within their timeout.
    #[serde(default = "five_hundred_twelve")]
    pub max_concurrent_requests: usize,
}

fn thirty() -> u64 {
    30
}

fn five_hundred_twelve() -> usize {
    512
}

fn loopback() -> TextList {
    TextList::List(vec!["127.0.0.1".into(), "::1".into()])
}

impl ServerSettings {
    /// Fills an unset `public_url` with the address buzon is bound to.
    pub fn resolve_public_url(&mut self, bound: std::net::SocketAddr) {
        if self.public_url.trim().is_empty() {
            self.public_url = format!("http://{bound}");
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SecuritySettings {
    pub secret_key: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MetaSettings {
    pub app_id: Option<String>,
    pub app_secret: Option<Secret>,
    pub verify_token: Option<Secret>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiSettings {
    pub api_base: String,
    /// `new=known` key aliases applied to deliveries before they are parsed.
    pub key_aliases: String,
}

/// Facebook: the Graph base, and Facebook Login (the app is `meta.app_id`/`meta.app_secret`).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FacebookSettings {
    pub api_base: String,
    pub oauth_authorize_url: String,
    pub oauth_token_url: String,
    /// Comma- or space-separated permissions asked for.
    pub oauth_scopes: String,
    /// `new=known` key aliases applied to deliveries before they are parsed.
    pub key_aliases: String,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct XSettings {
    pub api_base: String,
    pub consumer_secret: Option<Secret>,
    /// The OAuth 2.0 client of the X app.
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    pub oauth_authorize_url: String,
    pub oauth_token_url: String,
    /// Space-separated scopes asked for.
    pub oauth_scopes: String,
    /// `new=known` key aliases applied to deliveries before they are parsed.
    pub key_aliases: String,
}

impl Settings {
    /// Facebook Login as an OAuth client, when `meta.app_id` and `meta.app_secret` are set.
    pub fn facebook_oauth(&self) -> Option<buzon_connector::OAuthApp> {
        let app_id = self
            .meta
            .app_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())?;
        let secret = self.meta.app_secret.as_ref()?;
        Some(buzon_connector::OAuthApp {
            client_id: app_id.trim().to_owned(),
            client_secret: secret.expose().to_owned(),
            authorize_url: self.facebook.oauth_authorize_url.clone(),
            token_url: self.facebook.oauth_token_url.clone(),
            redirect_url: self.oauth_redirect("facebook"),
            scopes: split_scopes(&self.facebook.oauth_scopes),
            basic_auth: false,
            pkce: false,
        })
    }

    /// X's OAuth 2.0 (Authorization Code with PKCE), when `x.client_id` and
    /// `x.client_secret` are set.
    pub fn x_oauth(&self) -> Option<buzon_connector::OAuthApp> {
        let client_id = self
            .x
            .client_id
            .as_deref()
            .filter(|id| !id.trim().is_empty())?;
        let secret = self.x.client_secret.as_ref()?;
        Some(buzon_connector::OAuthApp {
            client_id: client_id.trim().to_owned(),
            client_secret: secret.expose().to_owned(),
            authorize_url: self.x.oauth_authorize_url.clone(),
            token_url: self.x.oauth_token_url.clone(),
            redirect_url: self.oauth_redirect("x"),
            scopes: split_scopes(&self.x.oauth_scopes),
            basic_auth: true,
            pkce: true,
        })
    }

    fn oauth_redirect(&self, platform: &str) -> String {
        format!(
            "{}/admin/oauth/{platform}/callback",
            self.server.public_url.trim_end_matches('/')
        )
    }
}

fn split_scopes(text: &str) -> Vec<String> {
    text.split([',', ' '])
        .map(str::trim)
        .filter(|scope| !scope.is_empty())
        .map(str::to_owned)
        .collect()
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkerSettings {
    pub enabled: bool,
    pub poll_interval_secs: u64,
    pub lease_secs: u64,
    pub send_give_up_secs: u64,
    /// The longest one call to a platform may take; a send that gets no answer in time has
    /// an unknown outcome.
    pub platform_timeout_secs: u64,
    /// The first retry of an outgoing event (each next one doubles, up to 30 minutes).
    #[serde(default = "ten")]
    pub event_retry_secs: u64,
    /// How many normalizers turn stored deliveries into messages in this process, at most 4;
    /// 0 chooses: one on SQLite (it has one writer), two on PostgreSQL.
    #[serde(default)]
    pub normalizers: u32,
}

fn ten() -> u64 {
    10
}

/// The clock the application judges business hours by: the system's, unless the test-only
/// `BUZON_TEST_CLOCK_FILE` names a file holding an RFC 3339 instant (read on every use), so
/// that a test can make it Saturday 11:00 and then Monday 10:00 for a running server.
pub fn clock_from_env() -> buzon_app::Clock {
    match std::env::var_os("BUZON_TEST_CLOCK_FILE") {
        Some(path) if !path.is_empty() => buzon_app::Clock::File(path.into()),
        _ => buzon_app::Clock::System,
    }
}

/// Business hours: a weekly schedule in a time zone, with holidays.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoursSettings {
    pub time_zone: String,
    pub monday: String,
    pub tuesday: String,
    pub wednesday: String,
    pub thursday: String,
    pub friday: String,
    pub saturday: String,
    pub sunday: String,
    pub holidays: TextList,
}

/// How often the response-time index reads the journal of changes and the public figures are
/// recomputed.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportsSettings {
    pub refresh_secs: u64,
}

/// How long finished work is kept before it is pruned.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RetentionSettings {
    /// Days processed raw deliveries are kept (failed and unparsed ones stay until replayed
    /// or dismissed).
    pub events_days: u64,
    /// Days sent or failed outbox rows are kept (the messages themselves stay).
    pub outbox_days: u64,
}

impl RetentionSettings {
    /// The store's view of it.
    pub fn retention(&self) -> buzon_store::Retention {
        let day = 24 * 60 * 60 * 1000;
        buzon_store::Retention {
            events_millis: self.events_days as i64 * day,
            outbox_millis: self.outbox_days as i64 * day,
        }
    }
}

/// A list in TOML, or one comma-separated string (from the environment).
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum TextList {
    List(Vec<String>),
    Text(String),
}

impl Default for TextList {
    fn default() -> TextList {
        TextList::List(Vec::new())
    }
}

impl TextList {
    /// The items, trimmed, empty ones left out.
    pub fn items(&self) -> Vec<String> {
        let raw: Vec<&str> = match self {
            TextList::List(list) => list.iter().map(String::as_str).collect(),
            TextList::Text(text) => text.split(',').collect(),
        };
        raw.into_iter()
            .map(str::trim)
            .filter(|item| !item.is_empty())
            .map(str::to_owned)
            .collect()
    }
}

impl HoursSettings {
    /// The business calendar these settings describe.
    pub fn calendar(&self) -> anyhow::Result<buzon_core::metrics::BusinessCalendar> {
        use buzon_core::metrics::{BusinessCalendar, OpenInterval, Weekday, WeeklySchedule};
        let days = [
            &self.monday,
            &self.tuesday,
            &self.wednesday,
            &self.thursday,
            &self.friday,
            &self.saturday,
            &self.sunday,
        ];
        let mut schedule = WeeklySchedule::closed();
        for (weekday, text) in Weekday::ALL.into_iter().zip(days) {
            for part in text
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
            {
                let interval =
                    OpenInterval::parse(part).map_err(|err| anyhow!("hours.{weekday}: {err}"))?;
                schedule = schedule.with(weekday, interval);
            }
        }
        let dates = self.holidays.items();
        let holidays = dates
            .iter()
            .map(|date| date.trim())
            .filter(|date| !date.is_empty())
            .map(|date| {
                buzon_core::metrics::LocalDate::parse(date)
                    .map_err(|err| anyhow!("hours.holidays: {err}"))
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        BusinessCalendar::new(&self.time_zone, schedule, holidays)
            .map_err(|err| anyhow!("hours: {err}"))
    }
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
            hours: section(&mut table, "hours")?,
            reports: section(&mut table, "reports")?,
            retention: section(&mut table, "retention")?,
            alerts: section(&mut table, "alerts")?,
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
        self.hours.calendar()?;
        if self.reports.refresh_secs == 0 {
            bail!("reports.refresh_secs must be positive");
        }
        if self.retention.events_days == 0 || self.retention.outbox_days == 0 {
            bail!("retention.events_days and retention.outbox_days must be positive");
        }
        if self.workers.lease_secs == 0 || self.workers.poll_interval_secs == 0 {
            bail!("workers.lease_secs and workers.poll_interval_secs must be positive");
        }
        if self.workers.platform_timeout_secs == 0
            || self.workers.platform_timeout_secs >= self.workers.lease_secs
        {
            bail!("workers.platform_timeout_secs must be positive and shorter than workers.lease_secs");
        }
        self.key_aliases()?;
        Ok(())
    }

    /// Each platform's key aliases (`<platform>.key_aliases`).
    pub fn key_aliases(
        &self,
    ) -> anyhow::Result<std::collections::HashMap<buzon_core::ChannelKind, KeyAliases>> {
        use buzon_core::ChannelKind;
        [
            (ChannelKind::Facebook, &self.facebook.key_aliases),
            (ChannelKind::Whatsapp, &self.whatsapp.key_aliases),
            (ChannelKind::X, &self.x.key_aliases),
        ]
        .into_iter()
        .map(|(kind, text)| {
            KeyAliases::parse(text)
                .map(|aliases| (kind, aliases))
                .map_err(|err| anyhow!("{kind}.key_aliases: {err}"))
        })
        .collect()
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

/// The variables that hand a command its secrets (`channel add`, `channel set-token`): not
/// configuration.
pub(crate) const COMMAND_SECRETS: [&str; 3] = [
    "BUZON_PAGE_TOKEN",
    "BUZON_ACCESS_TOKEN",
    "BUZON_REFRESH_TOKEN",
];

/// Applies `BUZON_<SECTION>_<KEY>=value`. `BUZON_TEST_*` belongs to the test suite and the
/// [`COMMAND_SECRETS`] to the commands; both are left alone.
fn apply_env(table: &mut Table, name: &str, value: String) -> anyhow::Result<()> {
    let Some(rest) = name.strip_prefix("BUZON_") else {
        return Ok(());
    };
    if rest.starts_with("TEST_") || rest == "TEST" || COMMAND_SECRETS.contains(&name) {
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
    fn business_hours_come_from_config_and_bad_ones_are_refused() {
        let settings = Settings::load_from(
            None,
            env(&[
                ("BUZON_HOURS_TIME_ZONE", "Europe/Madrid"),
                ("BUZON_HOURS_SATURDAY", "10:00-14:00, 16:00-20:00"),
                ("BUZON_HOURS_HOLIDAYS", "2026-12-25, 2027-01-01"),
            ]),
        )
        .unwrap();
        let calendar = settings.hours.calendar().unwrap();
        assert_eq!(calendar.time_zone(), "Europe/Madrid");
        let schedule = calendar.schedule().unwrap();
        assert_eq!(
            schedule
                .intervals(buzon_core::metrics::Weekday::Saturday)
                .len(),
            2
        );
        assert!(schedule
            .intervals(buzon_core::metrics::Weekday::Sunday)
            .is_empty());
        assert_eq!(calendar.holidays().count(), 2);
        for (name, value, expected) in [
            ("BUZON_HOURS_TIME_ZONE", "Mars/Olympus", "unknown time zone"),
            ("BUZON_HOURS_MONDAY", "18:00-18:00", "hours.monday"),
            ("BUZON_HOURS_HOLIDAYS", "2026-02-30", "hours.holidays"),
            ("BUZON_REPORTS_REFRESH_SECS", "0", "reports.refresh_secs"),
        ] {
            let err = Settings::load_from(None, env(&[(name, value)])).unwrap_err();
            assert!(err.to_string().contains(expected), "{name}={value}: {err}");
        }
    }

    #[test]
    fn oauth_clients_exist_only_when_their_app_is_configured() {
        let settings = Settings::load_from(None, env(&[])).unwrap();
        assert!(settings.facebook_oauth().is_none() && settings.x_oauth().is_none());
        let settings = Settings::load_from(
            None,
            env(&[
                ("BUZON_META_APP_ID", "1234"),
                ("BUZON_META_APP_SECRET", "app-secret"),
                ("BUZON_X_CLIENT_ID", "x-client"),
                ("BUZON_X_CLIENT_SECRET", "x-secret"),
                ("BUZON_SERVER_PUBLIC_URL", "https://inbox.shop.example/"),
                (
                    "BUZON_X_OAUTH_TOKEN_URL",
                    "http://127.0.0.1:9/x/2/oauth2/token",
                ),
            ]),
        )
        .unwrap();
        let facebook = settings.facebook_oauth().unwrap();
        assert_eq!(facebook.client_id, "1234");
        assert_eq!(
            facebook.redirect_url,
            "https://inbox.shop.example/admin/oauth/facebook/callback"
        );
        assert!(facebook
            .scopes
            .contains(&"pages_manage_engagement".to_owned()));
        assert!(!facebook.pkce && !facebook.basic_auth);
        let x = settings.x_oauth().unwrap();
        assert!(x.pkce && x.basic_auth);
        assert_eq!(x.token_url, "http://127.0.0.1:9/x/2/oauth2/token");
        assert!(x.scopes.contains(&"offline.access".to_owned()));
        assert!(!format!("{settings:?}").contains("x-secret"));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let settings = Settings::load_from(
            None,
            env(&[
                ("BUZON_META_APP_SECRET", "hunter2-app"),
                (
                    "BUZON_DATABASE_URL",
                    "postgres://buzon:hunter2-db@db.example/buzon",
                ),
            ]),
        )
        .unwrap();
        let shown = format!("{settings:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("db.example/buzon"));
    }
}
