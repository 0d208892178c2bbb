//! The command line of ../shared/INTERFACE.md. Every failure ends with one clear line on
//! standard error and a non-zero status.

use crate::config::Settings;
use anyhow::{anyhow, bail, Context};
use buzon_app::{Actor, App, AppSettings, CredentialCheck, NewChannel, NewUser};
use buzon_core::{ChannelId, ChannelKind, EventId, Role};
use buzon_store::{Cipher, DatabaseUrl, Store};
use clap::{Parser, Subcommand};
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Parser)]
#[command(
    name = "buzon",
    version,
    about = "A self-hosted social inbox for Facebook Pages, WhatsApp Business and X"
)]
struct Cli {
    /// A TOML file layered over config/default.toml.
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and all workers (applies pending migrations first).
    Serve {
        /// Also run the platform sandbox in-process, with demo channels and a stream of mentions.
        #[arg(long)]
        demo: bool,
    },
    /// Apply pending migrations and exit.
    Migrate,
    /// Manage users.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Manage channels.
    Channel {
        #[command(subcommand)]
        command: ChannelCommand,
    },
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
    /// The inbound event log: deliveries that could not be processed.
    Event {
        #[command(subcommand)]
        command: EventCommand,
    },
    /// Re-encrypt every stored credential under a new secret key, in one transaction.
    RotateKey {
        /// The new key: 64 hex digits or base64 of 32 bytes. Read from standard input (one
        /// line) when absent or `-`, which keeps it out of the process list; `file:PATH` and
        /// `env:NAME` read it from there. A literal value is accepted, with a warning.
        #[arg(long, value_name = "KEY")]
        new_key: Option<String>,
    },
    /// Write a consistent copy of the SQLite database to FILE while buzon runs (PostgreSQL:
    /// use pg_dump).
    Backup {
        /// Where to write it (a new file).
        file: PathBuf,
    },
    /// Run the platform sandbox alone.
    Sandbox {
        /// The address to listen on.
        #[arg(long, default_value = "127.0.0.1:8090")]
        bind: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user; the password is read from standard input (one line).
    Add {
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum EventCommand {
    /// List the events that could not be processed or read completely, newest first, with
    /// their error.
    List,
    /// Put a failed event back in the queue, to be processed again.
    Replay {
        /// The event id, as `event list` shows it.
        id: i64,
    },
    /// Set a failed or unparsed event aside for good.
    Dismiss {
        /// The event id, as `event list` shows it.
        id: i64,
    },
}

#[derive(Subcommand)]
enum ChannelCommand {
    /// Connect a channel; its token is checked with the platform first.
    Add {
        /// Save the token without asking the platform (it cannot be reached from here).
        #[arg(long, global = true)]
        no_check: bool,
        #[command(subcommand)]
        kind: ChannelKindArgs,
    },
    /// List channels (never prints a secret).
    List,
    /// Replace a channel's token (e.g. after it expired); polling resumes on the next round.
    SetToken {
        /// The channel id, as `channel list` shows it.
        id: i64,
        /// The token: `-` reads it from standard input (one line), `file:PATH` from a file,
        /// `env:NAME` from a variable; absent, from BUZON_ACCESS_TOKEN. A literal value is accepted, with a
        /// warning: it shows in the process list and the shell's history.
        #[arg(long, value_name = "SECRET")]
        access_token: Option<String>,
        /// The token: `-` reads it from standard input (one line), `file:PATH` from a file,
        /// `env:NAME` from a variable; absent, from BUZON_REFRESH_TOKEN. A literal value is accepted, with a
        /// warning: it shows in the process list and the shell's history.
        #[arg(long, value_name = "SECRET")]
        refresh_token: Option<String>,
        /// Save the token without asking the platform (it cannot be reached from here).
        #[arg(long)]
        no_check: bool,
    },
}

#[derive(Subcommand)]
enum ChannelKindArgs {
    /// A Facebook Page.
    Facebook {
        #[arg(long)]
        page_id: Option<String>,
        /// The token: `-` reads it from standard input (one line), `file:PATH` from a file,
        /// `env:NAME` from a variable; absent, from BUZON_PAGE_TOKEN. A literal value is accepted, with a
        /// warning: it shows in the process list and the shell's history.
        #[arg(long, value_name = "SECRET")]
        page_token: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// A WhatsApp Business number.
    Whatsapp {
        #[arg(long)]
        phone_number_id: Option<String>,
        /// The token: `-` reads it from standard input (one line), `file:PATH` from a file,
        /// `env:NAME` from a variable; absent, from BUZON_ACCESS_TOKEN. A literal value is accepted, with a
        /// warning: it shows in the process list and the shell's history.
        #[arg(long, value_name = "SECRET")]
        access_token: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// An X account.
    X {
        #[arg(long)]
        user_id: Option<String>,
        /// The token: `-` reads it from standard input (one line), `file:PATH` from a file,
        /// `env:NAME` from a variable; absent, from BUZON_ACCESS_TOKEN. A literal value is accepted, with a
        /// warning: it shows in the process list and the shell's history.
        #[arg(long, value_name = "SECRET")]
        access_token: Option<String>,
        /// The token: `-` reads it from standard input (one line), `file:PATH` from a file,
        /// `env:NAME` from a variable; absent, from BUZON_REFRESH_TOKEN. A literal value is accepted, with a
        /// warning: it shows in the process list and the shell's history.
        #[arg(long, value_name = "SECRET")]
        refresh_token: Option<String>,
        #[arg(long)]
        name: Option<String>,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create an API token and print it once, alone on the last line.
    Create {
        name: String,
        #[arg(long)]
        role: String,
        /// The e-mail of the user the token acts for (its replies are signed with their name).
        #[arg(long, value_name = "EMAIL")]
        user: Option<String>,
    },
}

/// Runs the command line and turns any failure into one line on standard error.
pub fn main_entry() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(err) => {
            use clap::error::ErrorKind;
            if matches!(
                err.kind(),
                ErrorKind::DisplayHelp
                    | ErrorKind::DisplayVersion
                    | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
            ) {
                let _ = err.print();
                return if err.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                    ExitCode::from(2)
                } else {
                    ExitCode::SUCCESS
                };
            }
            eprintln!("{}", one_line_clap_error(&err.render().to_string()));
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(run_command(cli));
    // Blocking work still running (a password hash, a report being measured) is not waited
    // for beyond a moment: every task that matters has stopped by now.
    runtime.shutdown_timeout(std::time::Duration::from_millis(200));
    match outcome {
        Ok(()) => {
            // After the command's own output, so a failure stays one line.
            if let Some(warning) = SECRET_WARNING.get() {
                eprintln!("{warning}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("error: {}", one_line(&format!("{err:#}")));
            ExitCode::FAILURE
        }
    }
}

fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// clap's multi-line usage errors, folded into one line without the usage and help hints.
fn one_line_clap_error(rendered: &str) -> String {
    let kept: Vec<&str> = rendered
        .lines()
        .map(str::trim)
        .filter(|line| {
            !line.is_empty()
                && !line.starts_with("Usage:")
                && !line.starts_with("For more information")
        })
        .collect();
    one_line(&kept.join(" "))
}

async fn run_command(cli: Cli) -> anyhow::Result<()> {
    let settings = Settings::load(cli.config.as_deref())?;
    match cli.command {
        Command::Serve { demo } => {
            crate::telemetry::init(&settings.log);
            crate::serve::serve_from_cli(settings, demo).await
        }
        Command::Migrate => {
            let store = open_store(&settings, false).await?;
            store.migrate().await.context("applying migrations")?;
            store.close().await;
            println!("migrations applied");
            Ok(())
        }
        Command::User {
            command: UserCommand::Add { email, role, name },
        } => {
            let role = Role::parse(&role)?;
            buzon_core::parse_email(&email)?;
            let password = read_password()?;
            let (store, app) = open_app(&settings).await?;
            let user = app
                .add_user(
                    &Actor::Cli,
                    &NewUser {
                        email: &email,
                        name: name.as_deref().unwrap_or_default(),
                        role,
                        password: &password,
                    },
                )
                .await;
            store.close().await;
            let user = user?;
            println!("user {} added: {} ({})", user.id, user.email, user.role);
            Ok(())
        }
        Command::Channel {
            command: ChannelCommand::Add { kind, no_check },
        } => {
            let new = channel_args(kind)?;
            let (store, app) = open_app(&settings).await?;
            let added = app
                .connect_channel(&Actor::Cli, &new, check(no_check))
                .await;
            store.close().await;
            let (channel, _) = added?;
            println!(
                "channel {} added: {} {} ({})",
                channel.id, channel.kind, channel.platform_id, channel.name
            );
            Ok(())
        }
        Command::Channel {
            command: ChannelCommand::List,
        } => {
            let (store, app) = open_app(&settings).await?;
            let channels = app.channel_list(&Actor::Cli).await;
            store.close().await;
            println!(
                "{:<4} {:<9} {:<24} {:<24} health",
                "id", "kind", "name", "platform id"
            );
            for channel in channels? {
                let health = match &channel.health_reason {
                    Some(reason) => format!("{} ({reason})", channel.health.as_str()),
                    None => channel.health.as_str().to_owned(),
                };
                println!(
                    "{:<4} {:<9} {:<24} {:<24} {health}",
                    channel.id, channel.kind, channel.name, channel.platform_id
                );
            }
            Ok(())
        }
        Command::Channel {
            command:
                ChannelCommand::SetToken {
                    id,
                    access_token,
                    refresh_token,
                    no_check,
                },
        } => {
            let token = required_secret(access_token, "--access-token", "BUZON_ACCESS_TOKEN")?;
            let refresh_token = secret(refresh_token, "--refresh-token", "BUZON_REFRESH_TOKEN")?;
            let (store, app) = open_app(&settings).await?;
            let replaced = app
                .replace_token(
                    &Actor::Cli,
                    ChannelId(id),
                    &token,
                    refresh_token.as_deref(),
                    check(no_check),
                )
                .await;
            store.close().await;
            let channel = match replaced {
                Err(buzon_app::AppError::NotFound) => bail!("there is no channel {id}"),
                other => other?,
            };
            println!("channel {id} ({}) has a new token", channel.kind);
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { name, role, user },
        } => {
            let role = Role::parse(&role)?;
            let (store, app) = open_app(&settings).await?;
            let user_id = match user {
                None => None,
                Some(email) => {
                    let users = app.users(&Actor::Cli).await?;
                    match users
                        .iter()
                        .find(|known| known.email.eq_ignore_ascii_case(email.trim()))
                    {
                        Some(known) => Some(known.id),
                        None => {
                            store.close().await;
                            bail!("there is no user {email}")
                        }
                    }
                }
            };
            let created = app.create_token(&Actor::Cli, &name, role, user_id).await;
            store.close().await;
            let (token, secret) = created?;
            println!(
                "token {} ({}, {}) created; it is shown only once:",
                token.id, token.name, token.role
            );
            println!("{secret}");
            Ok(())
        }
        Command::Event {
            command: EventCommand::List,
        } => {
            let (store, app) = open_app(&settings).await?;
            let events = app.failed_events(&Actor::Cli, 200, None).await;
            store.close().await;
            println!(
                "{:<8} {:<9} {:<9} {:<24} error",
                "id", "source", "state", "received"
            );
            for event in events? {
                println!(
                    "{:<8} {:<9} {:<9} {:<24} {}",
                    event.id,
                    event.source,
                    event.state,
                    event.received_at.to_rfc3339(),
                    one_line(event.error.as_deref().unwrap_or_default())
                );
            }
            Ok(())
        }
        Command::Event {
            command: EventCommand::Dismiss { id },
        } => {
            let (store, app) = open_app(&settings).await?;
            let dismissed = app.dismiss_event(&Actor::Cli, EventId(id)).await;
            store.close().await;
            match dismissed {
                Err(buzon_app::AppError::NotFound) => {
                    bail!("there is no failed or unparsed event {id}")
                }
                other => other?,
            }
            println!("event {id} is set aside");
            Ok(())
        }
        Command::Event {
            command: EventCommand::Replay { id },
        } => {
            let (store, app) = open_app(&settings).await?;
            let replayed = app.replay_event(&Actor::Cli, EventId(id)).await;
            store.close().await;
            match replayed {
                Err(buzon_app::AppError::NotFound) => {
                    bail!("there is no failed event {id}")
                }
                other => other?,
            }
            println!("event {id} is queued to be processed again");
            Ok(())
        }
        Command::RotateKey { new_key } => rotate_key(&settings, new_key).await,
        Command::Backup { file } => {
            let store = open_store(&settings, false).await?;
            let copied = store.backup_to(&file).await;
            store.close().await;
            copied?;
            println!("backed up to {}", file.display());
            Ok(())
        }
        Command::Sandbox { bind } => {
            crate::telemetry::init(&settings.log);
            crate::serve::run_sandbox(&bind).await
        }
    }
}

fn channel_args(kind: ChannelKindArgs) -> anyhow::Result<NewChannel> {
    fn required(value: Option<String>, flag: &str) -> anyhow::Result<String> {
        match value.map(|value| value.trim().to_owned()) {
            Some(value) if !value.is_empty() => Ok(value),
            _ => Err(anyhow!("{flag} is required and must not be empty")),
        }
    }
    let (kind, platform_id, access_token, refresh_token, name) = match kind {
        ChannelKindArgs::Facebook {
            page_id,
            page_token,
            name,
        } => (
            ChannelKind::Facebook,
            required(page_id, "--page-id")?,
            required_secret(page_token, "--page-token", "BUZON_PAGE_TOKEN")?,
            None,
            name,
        ),
        ChannelKindArgs::Whatsapp {
            phone_number_id,
            access_token,
            name,
        } => (
            ChannelKind::Whatsapp,
            required(phone_number_id, "--phone-number-id")?,
            required_secret(access_token, "--access-token", "BUZON_ACCESS_TOKEN")?,
            None,
            name,
        ),
        ChannelKindArgs::X {
            user_id,
            access_token,
            refresh_token,
            name,
        } => (
            ChannelKind::X,
            required(user_id, "--user-id")?,
            required_secret(access_token, "--access-token", "BUZON_ACCESS_TOKEN")?,
            secret(refresh_token, "--refresh-token", "BUZON_REFRESH_TOKEN")?,
            name,
        ),
    };
    Ok(NewChannel {
        kind,
        platform_id,
        access_token,
        refresh_token,
        name: name.unwrap_or_default(),
        replace_existing: false,
        via: "cli",
    })
}

/// The warning about a secret given on the command line, printed once the command succeeded
/// (a failure stays one line of error).
static SECRET_WARNING: std::sync::OnceLock<String> = std::sync::OnceLock::new();

/// A secret given to a command: `-` reads one line of standard input, `file:PATH` a file's
/// first line, `env:NAME` a variable; absent, the variable `env` (when named). A literal value
/// still works, as ../shared/INTERFACE.md documents `--page-token TOKEN`, but it shows in the
/// process list and the shell's history, so it is warned about. Empty is none.
fn secret(value: Option<String>, flag: &str, env: &str) -> anyhow::Result<Option<String>> {
    let text = match value.as_deref() {
        None if env.is_empty() => None,
        None => std::env::var(env).ok(),
        Some("-") => {
            let mut line = String::new();
            std::io::stdin()
                .lock()
                .read_line(&mut line)
                .with_context(|| format!("reading {flag} from standard input"))?;
            Some(line)
        }
        Some(given) => {
            if let Some(path) = given.strip_prefix("file:") {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading {flag} from {path}"))?;
                Some(text.lines().next().unwrap_or_default().to_owned())
            } else if let Some(name) = given.strip_prefix("env:") {
                Some(
                    std::env::var(name)
                        .map_err(|_| anyhow!("{flag}: the variable {name} is not set"))?,
                )
            } else {
                if !given.trim().is_empty() {
                    let _ = SECRET_WARNING.set(format!(
                        "warning: a secret on the command line ({flag}) shows in the process list and the shell's history; \
                         pass `{flag} -` to read it from standard input, `file:PATH`, or {}",
                        if env.is_empty() { "`env:NAME`".to_owned() } else { format!("set {env}") }
                    ));
                }
                Some(given.to_owned())
            }
        }
    };
    Ok(text
        .map(|text| text.trim().to_owned())
        .filter(|text| !text.is_empty()))
}

/// [`secret`], required.
fn required_secret(value: Option<String>, flag: &str, env: &str) -> anyhow::Result<String> {
    secret(value, flag, env)?.ok_or_else(|| {
        anyhow!("{flag} is required and must not be empty (`-` reads it from standard input, or set {env})")
    })
}

fn check(no_check: bool) -> CredentialCheck {
    if no_check {
        CredentialCheck::Skip
    } else {
        CredentialCheck::WithPlatform
    }
}

/// `buzon rotate-key`: every channel credential is opened with the current key and sealed
/// with the new one in one transaction; if any does not open, nothing is written.
async fn rotate_key(settings: &Settings, new_key: Option<String>) -> anyhow::Result<()> {
    let text = secret(
        Some(new_key.unwrap_or_else(|| "-".to_owned())),
        "--new-key",
        "",
    )?
    .ok_or_else(|| anyhow!("the new key is empty"))?;
    let next = Cipher::from_key_text(text.trim()).map_err(|err| anyhow!("the new key: {err}"))?;
    let pending = pending_key_file(settings);
    let key_file = settings.data_dir().join("secret.key");
    if configured_key(settings).is_none() && !key_file.exists() {
        bail!(
            "there is no current key: security.secret_key is not set and {} does not exist",
            key_file.display()
        );
    }
    // The keys that open what is stored now, read once: the new key, written below, must not
    // count as one of them.
    let current = load_cipher(settings)?.frozen();
    // The new key is on disk, durably, before the database says secrets are sealed under it:
    // a crash after the commit cannot leave secrets that no key on this machine opens.
    let _ = std::fs::remove_file(&pending);
    write_private(&pending, text.trim())?;
    sync_file(&pending)?;
    let (store, app) = open_app(settings).await?;
    let count = app.rotate_key(&Actor::Cli, &current, &next).await;
    store.close().await;
    let count = match count {
        Ok(count) => count,
        Err(err) => {
            // Nothing was re-encrypted: the old key stays the only one.
            let _ = std::fs::remove_file(&pending);
            return Err(err.into());
        }
    };
    if configured_key(settings).is_none() {
        // The key lives in the data folder: the new one replaces it, atomically.
        std::fs::rename(&pending, &key_file)
            .with_context(|| format!("replacing {}", key_file.display()))?;
        sync_file(&key_file)?;
        println!(
            "re-encrypted {count} channel credentials and the alert and webhook secrets; {} now holds the new key",
            key_file.display()
        );
    } else {
        // The key is the configuration's: the copy was only for a crash before this point.
        let _ = std::fs::remove_file(&pending);
        println!(
            "re-encrypted {count} channel credentials and the alert and webhook secrets; set security.secret_key \
             (BUZON_SECURITY_SECRET_KEY) to the new key on every node and restart it; until then a node holds its \
             replies and polls (never failing them)"
        );
    }
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\n', '\r']).to_owned())
}

/// Opens the store for a command, checking the URL before anything is created.
pub(crate) async fn open_store(settings: &Settings, with_key: bool) -> anyhow::Result<Store> {
    let url =
        DatabaseUrl::parse(&settings.database.url).map_err(|err| anyhow!("database.url: {err}"))?;
    let cipher = if with_key {
        load_cipher(settings)?
    } else {
        Cipher::from_key_text(&Cipher::generate_key_text())?
    };
    let store = Store::connect(&url, cipher)
        .await
        .context("opening the database")?;
    Ok(store)
}

/// The migrated store and the application over it, for a command (its connectors check
/// pasted tokens with the platforms).
pub(crate) async fn open_app(settings: &Settings) -> anyhow::Result<(Store, App)> {
    let store = open_store(settings, true).await?;
    store.migrate().await.context("applying migrations")?;
    let app = App::new(
        store.clone(),
        crate::serve::connectors(settings),
        AppSettings {
            business_calendar: Some(settings.hours.calendar()?),
            facebook_oauth: settings.facebook_oauth(),
            x_oauth: settings.x_oauth(),
            clock: crate::config::clock_from_env(),
            allow_private_urls: settings.alerts.allow_private_urls,
        },
    );
    Ok((store, app))
}

/// The credentials key: `security.secret_key`, or the key file in the data folder, generated
/// with a warning on first start.
///
/// The cipher is a ring: besides that key it holds `secret.key.new` of the data folder when
/// there is one (what `buzon rotate-key` writes, fsynced, before its transaction commits), and
/// it reads both files again when it meets a secret sealed under a key it does not hold, so
/// nodes keep working through a rotation on this machine. Which key new secrets are sealed
/// under is the database's to say (the rotation records it); see `Tx::current_key`.
pub(crate) fn load_cipher(settings: &Settings) -> anyhow::Result<Cipher> {
    let path = settings.data_dir().join("secret.key");
    let configured = configured_key(settings);
    match &configured {
        Some(key) => {
            Cipher::from_key_text(key).map_err(|err| anyhow!("security.secret_key: {err}"))?;
        }
        None if path.exists() => {
            let text = std::fs::read_to_string(&path)
                .with_context(|| format!("reading {}", path.display()))?;
            Cipher::from_key_text(&text).map_err(|err| anyhow!("{}: {err}", path.display()))?;
        }
        None => {
            let key = Cipher::generate_key_text();
            write_private(&path, &key)?;
            tracing::warn!(path = %path.display(), "security.secret_key is not set: generated a new key; back it up, and set BUZON_SECURITY_SECRET_KEY when several nodes share a database");
            eprintln!("warning: security.secret_key is not set; generated {} (back it up; every node must use the same key)", path.display());
        }
    }
    let next = pending_key_file(settings);
    let loader: buzon_store::KeyLoader = std::sync::Arc::new(move || {
        let mut keys = Vec::new();
        match &configured {
            Some(key) => keys.push(key.clone()),
            None => keys.extend(std::fs::read_to_string(&path).ok()),
        }
        keys.extend(std::fs::read_to_string(&next).ok());
        keys
    });
    Cipher::with_loader(loader).map_err(|err| anyhow!("the secret key: {err}"))
}

/// `security.secret_key`, unless unset or empty (an empty variable is no key).
fn configured_key(settings: &Settings) -> Option<String> {
    settings
        .security
        .secret_key
        .as_ref()
        .map(|key| key.expose().trim().to_owned())
        .filter(|key| !key.is_empty())
}

/// Where `buzon rotate-key` puts the new key before its transaction commits.
fn pending_key_file(settings: &Settings) -> PathBuf {
    settings.data_dir().join("secret.key.new")
}

/// Makes a file's contents, and its name in its folder, durable.
fn sync_file(path: &Path) -> anyhow::Result<()> {
    std::fs::File::open(path)
        .and_then(|file| file.sync_all())
        .with_context(|| format!("syncing {}", path.display()))?;
    if let Some(folder) = path.parent() {
        // A folder's entry is durable once the folder is synced (Unix).
        #[cfg(unix)]
        std::fs::File::open(folder)
            .and_then(|dir| dir.sync_all())
            .with_context(|| format!("syncing {}", folder.display()))?;
    }
    Ok(())
}

fn write_private(path: &Path, text: &str) -> anyhow::Result<()> {
    if let Some(folder) = path.parent() {
        std::fs::create_dir_all(folder)
            .with_context(|| format!("creating {}", folder.display()))?;
    }
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    use std::io::Write;
    let mut file = options
        .open(path)
        .with_context(|| format!("creating {}", path.display()))?;
    file.write_all(text.as_bytes())
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clap_errors_fold_into_one_line() {
        let rendered = "error: the following required arguments were not provided:\n  --role <ROLE>\n\nUsage: buzon user add --role <ROLE> <EMAIL>\n\nFor more information, try '--help'.\n";
        assert_eq!(
            one_line_clap_error(rendered),
            "error: the following required arguments were not provided: --role <ROLE>"
        );
    }
}
