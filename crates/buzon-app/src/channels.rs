//! Channels: connecting one with a pasted token (checked with the platform first) or with
//! OAuth (Facebook Login picking Pages, X with PKCE), replacing its token, testing, pausing,
//! resuming and publishing it, the token refreshes of the workers, and re-encrypting every
//! credential under a new key.
//!
//! An OAuth `state` is one-time, bound to the admin who started the sign-in and expires in
//! ten minutes; it is stored only as a hash, and the PKCE verifier and the granted Page tokens
//! only sealed. A callback whose `state` does not match is refused and nothing is stored.

use crate::{target, Actor, App, AppError};
use buzon_connector::ConnectorError;
use buzon_core::*;
use buzon_store::{Cipher, OAuthStage, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::time::Duration;

/// How long an admin has to consent on the platform.
const AUTHORIZE_FOR: Duration = Duration::from_secs(10 * 60);
/// How long granted Pages wait for the admin to pick.
const PICK_FOR: Duration = Duration::from_secs(15 * 60);
/// The longest token accepted.
const MAX_TOKEN_BYTES: usize = 4096;

/// Whether a channel's credentials are checked with the platform before they are saved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialCheck {
    /// Ask the platform first; refuse what it refuses.
    WithPlatform,
    /// Save without asking (the platform cannot be reached from here, or buzon itself set
    /// them up, as the demo does).
    Skip,
}

/// A channel to connect with pasted credentials. Debug output never shows the tokens.
#[derive(Clone)]
pub struct NewChannel {
    /// The platform.
    pub kind: ChannelKind,
    /// The Page id, phone number id or X user id, as typed.
    pub platform_id: String,
    /// The access token as typed.
    pub access_token: String,
    /// The refresh token as typed (X), if any.
    pub refresh_token: Option<String>,
    /// The name to show (the platform's name for it when empty and checked).
    pub name: String,
    /// When the account is connected already: replace its credentials (true) or refuse.
    pub replace_existing: bool,
    /// How it was connected, for the audit log: `token`, `cli`, `oauth`, `demo`.
    pub via: &'static str,
}

impl std::fmt::Debug for NewChannel {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewChannel")
            .field("kind", &self.kind)
            .field("platform_id", &self.platform_id)
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("name", &self.name)
            .field("replace_existing", &self.replace_existing)
            .field("via", &self.via)
            .finish()
    }
}

/// A channel as admins see it: health, limits and whether its credentials open.
#[derive(Debug, Clone)]
pub struct ChannelOverview {
    /// The channel.
    pub channel: Channel,
    /// Its rate-limit state.
    pub limits: ChannelLimits,
    /// Its credentials, as far as may be said.
    pub credentials: CredentialsState,
    /// How many of its deliveries were not read completely (`unparsed` events).
    pub unparsed: i64,
    /// Its saved searches (X), with where each stands and X's refusal of its query, if any.
    pub searches: Vec<buzon_store::SavedSearch>,
}

/// What may be said about stored credentials (never the tokens themselves).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialsState {
    /// They open with this node's key.
    Set {
        /// Whether an access token is set.
        access_token: bool,
        /// Whether a refresh token is set.
        refresh_token: bool,
        /// When the access token expires, if known.
        expires_at: Option<Timestamp>,
    },
    /// They do not open with this node's key.
    Undecryptable,
}

/// What the platform sent the admin back with.
#[derive(Debug, Clone, Default)]
pub struct OAuthCallback {
    /// The authorization code.
    pub code: Option<String>,
    /// The `state` issued at the start.
    pub state: Option<String>,
    /// The platform's error code, when the admin refused or something failed.
    pub error: Option<String>,
    /// Facebook's finer reason.
    pub error_reason: Option<String>,
}

/// Where an OAuth callback leaves the admin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthOutcome {
    /// These channels were connected (or had their credentials replaced).
    Connected(Vec<ChannelId>),
    /// The granted Pages wait, sealed, for the admin to pick (the flow's one-time name).
    PickPages(String),
    /// The `state` is unknown, spent, expired or another admin's: nothing was stored.
    StateRefused,
    /// The admin refused on the platform.
    Denied,
    /// The exchange with the platform failed; the platform's answer in words.
    Failed(String),
    /// The sign-in gave access to no account.
    NoAccounts,
}

/// A Page granted by Facebook Login, waiting to be picked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParkedPage {
    /// The Page id.
    pub platform_id: String,
    /// Its name.
    pub name: String,
}

/// An account to save as a channel, with where its credentials came from.
struct Account<'a> {
    kind: ChannelKind,
    name: &'a str,
    platform_id: ExternalId,
    credentials: &'a ChannelCredentials,
    replace_existing: bool,
    via: &'static str,
}

/// A granted Page as it is sealed in the store until picked.
#[derive(Serialize, Deserialize)]
struct Parked {
    platform_id: String,
    name: String,
    credentials: ChannelCredentials,
}

impl App {
    /// Every channel (no secrets). Every role may read them.
    pub async fn channel_list(&self, actor: &Actor) -> Result<Vec<Channel>, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self.store().list_channels().await?)
    }

    /// Every channel with its health, limits and credentials' state. Admins only.
    pub async fn channels(&self, actor: &Actor) -> Result<Vec<ChannelOverview>, AppError> {
        self.overviews(actor, None).await
    }

    /// One channel's overview, as [`App::channels`] gives it (only its credentials are
    /// opened). Admins only.
    pub async fn channel_overview(
        &self,
        actor: &Actor,
        id: ChannelId,
    ) -> Result<ChannelOverview, AppError> {
        self.overviews(actor, Some(id))
            .await?
            .pop()
            .ok_or(AppError::NotFound)
    }

    async fn overviews(
        &self,
        actor: &Actor,
        only: Option<ChannelId>,
    ) -> Result<Vec<ChannelOverview>, AppError> {
        actor.require(Role::Admin)?;
        let unparsed = self.store().unparsed_counts().await?;
        let mut overviews = Vec::new();
        for (channel, limits) in self.store().list_channels_with_limits().await? {
            if only.is_some_and(|id| id != channel.id) {
                continue;
            }
            let credentials = match self.store().channel_credentials(channel.id).await {
                Ok(credentials) => CredentialsState::Set {
                    access_token: !credentials.access_token.is_empty(),
                    refresh_token: credentials.refresh_token.is_some(),
                    expires_at: credentials.expires_at,
                },
                Err(StoreError::Decrypt) => CredentialsState::Undecryptable,
                Err(err) => return Err(err.into()),
            };
            let unparsed = unparsed
                .iter()
                .filter(|(_, id, _)| *id == Some(channel.id))
                .map(|(_, _, count)| count)
                .sum();
            let searches = if channel.kind == ChannelKind::X {
                self.store().saved_searches(channel.id).await?
            } else {
                Vec::new()
            };
            overviews.push(ChannelOverview {
                channel,
                limits,
                credentials,
                unparsed,
                searches,
            });
        }
        Ok(overviews)
    }

    /// One channel. Admins only.
    pub async fn channel(&self, actor: &Actor, id: ChannelId) -> Result<Channel, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().channel(id).await?)
    }

    /// Connects a channel with pasted credentials, checked with the platform first unless
    /// told otherwise. Returns the channel and whether it is new. Admins and the command line.
    pub async fn connect_channel(
        &self,
        actor: &Actor,
        new: &NewChannel,
        check: CredentialCheck,
    ) -> Result<(Channel, bool), AppError> {
        actor.require(Role::Admin)?;
        let platform_id = ExternalId::parse(new.platform_id.trim()).map_err(|_| {
            AppError::invalid("platform_id", "the platform id must be 1 to 256 characters")
        })?;
        let credentials = pasted(&new.access_token, new.refresh_token.as_deref())?;
        let platform_name = match check {
            CredentialCheck::WithPlatform => {
                let checked = self
                    .connector(new.kind)?
                    .check_credentials(&platform_id, &credentials)
                    .await;
                match checked {
                    Ok(name) => Some(name),
                    Err(err) => {
                        self.audit_alone(
                            actor,
                            "channel.connect_refused",
                            &format!("{}:{}", new.kind.as_str(), platform_id.as_str()),
                            json!({"reason": err.kind_name()}),
                        )
                        .await?;
                        return Err(refused(err));
                    }
                }
            }
            CredentialCheck::Skip => None,
        };
        let name = match new.name.trim() {
            "" => platform_name.unwrap_or_default(),
            name => name.to_owned(),
        };
        let account = Account {
            kind: new.kind,
            name: &name,
            platform_id,
            credentials: &credentials,
            replace_existing: new.replace_existing,
            via: new.via,
        };
        self.save_channel(actor, account).await
    }

    async fn save_channel(
        &self,
        actor: &Actor,
        account: Account<'_>,
    ) -> Result<(Channel, bool), AppError> {
        let Account {
            kind,
            name,
            platform_id,
            credentials,
            replace_existing,
            via,
        } = account;
        let mut tx = self.store().begin().await?;
        let (channel, new) = if replace_existing {
            tx.connect_channel(kind, name, &platform_id, credentials)
                .await?
        } else {
            match tx.add_channel(kind, name, &platform_id, credentials).await {
                Err(StoreError::Conflict) => {
                    return Err(AppError::Conflict {
                        code: "channel_connected",
                        message: format!("the {kind} account {platform_id} is already connected"),
                    })
                }
                other => (other?, true),
            }
        };
        tx.audit(
            &actor.audit_name(),
            if new {
                "channel.connect"
            } else {
                "channel.credentials"
            },
            &target("channel", channel.id),
            &json!({"kind": kind.as_str(), "via": via}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        self.after_connect(actor, &channel).await?;
        Ok((channel, new))
    }

    /// The platform's part of connecting, once credentials are saved (Facebook: the Page
    /// installs the app for the webhook fields buzon reads, mentions and reviews among
    /// them). A refusal does not undo the connection: polling still works, and the audit log
    /// says what failed.
    async fn after_connect(&self, actor: &Actor, channel: &Channel) -> Result<(), AppError> {
        let Ok(connector) = self.connector(channel.kind) else {
            return Ok(());
        };
        let Ok(credentials) = self.store().channel_credentials(channel.id).await else {
            return Ok(());
        };
        if let Err(err) = connector
            .after_connect(&channel.platform_id, &credentials)
            .await
        {
            tracing::warn!(channel = %channel.id, error = %err, "the platform refused the webhook subscription");
            self.audit_alone(
                actor,
                "channel.subscribe_failed",
                &target("channel", channel.id),
                json!({"reason": err.kind_name()}),
            )
            .await?;
        }
        Ok(())
    }

    /// Replaces a channel's token (after it expired or was revoked), checked with the
    /// platform first unless told otherwise; polling resumes on the next round. Admins and
    /// the command line.
    pub async fn replace_token(
        &self,
        actor: &Actor,
        id: ChannelId,
        access_token: &str,
        refresh_token: Option<&str>,
        check: CredentialCheck,
    ) -> Result<Channel, AppError> {
        actor.require(Role::Admin)?;
        let channel = self.store().channel(id).await?;
        let credentials = pasted(access_token, refresh_token)?;
        if check == CredentialCheck::WithPlatform {
            self.connector(channel.kind)?
                .check_credentials(&channel.platform_id, &credentials)
                .await
                .map_err(refused)?;
        }
        let mut tx = self.store().begin().await?;
        tx.set_channel_credentials(id, &credentials).await?;
        tx.audit(
            &actor.audit_name(),
            "channel.credentials",
            &target("channel", id),
            &json!({"via": "token", "checked": check == CredentialCheck::WithPlatform}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        // A new token subscribes the Page again (for Pages connected before a field was read).
        self.after_connect(actor, &channel).await?;
        Ok(channel)
    }

    /// Stores credentials a worker renewed with the platform (an X token refresh).
    pub async fn store_renewed_credentials(
        &self,
        actor: &Actor,
        id: ChannelId,
        credentials: &ChannelCredentials,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.set_channel_credentials(id, credentials).await?;
        tx.audit(
            &actor.audit_name(),
            "channel.token_refresh",
            &target("channel", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Asks the platform whether the stored credentials work and records the channel's
    /// health. Returns the platform's refusal in words, if any. Admins only.
    pub async fn test_channel(
        &self,
        actor: &Actor,
        id: ChannelId,
    ) -> Result<Option<String>, AppError> {
        actor.require(Role::Admin)?;
        let channel = self.store().channel(id).await?;
        let connector = self.connector(channel.kind)?;
        let outcome = match self.store().channel_credentials(channel.id).await {
            Ok(credentials) => connector
                .check_credentials(&channel.platform_id, &credentials)
                .await
                .map_err(|err| err.to_string()),
            Err(StoreError::Decrypt) => {
                Err("the stored credentials cannot be decrypted with this secret key".to_owned())
            }
            Err(err) => return Err(err.into()),
        };
        let mut tx = self.store().begin().await?;
        match &outcome {
            Ok(_) => {
                tx.set_channel_health(id, ChannelHealth::Healthy, None)
                    .await?
            }
            Err(reason) => {
                tx.set_channel_health(
                    id,
                    ChannelHealth::Unhealthy,
                    Some(&format!("connection test failed: {reason}")),
                )
                .await?
            }
        }
        tx.audit(
            &actor.audit_name(),
            "channel.test",
            &target("channel", id),
            &json!({"ok": outcome.is_ok()}),
        )
        .await?;
        tx.commit().await?;
        Ok(outcome.err())
    }

    /// Pauses a channel (no polls, no sends) or resumes it. Admins only.
    pub async fn pause_channel(
        &self,
        actor: &Actor,
        id: ChannelId,
        paused: bool,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.set_channel_paused(id, paused).await?;
        tx.audit(
            &actor.audit_name(),
            if paused {
                "channel.pause"
            } else {
                "channel.resume"
            },
            &target("channel", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        self.wake_workers();
        Ok(())
    }

    /// Whether a channel hides the new public messages (comments, posts, mentions) of authors
    /// flagged troll, spam or blocked on the platform as they arrive. Admins only.
    pub async fn auto_hide_channel(
        &self,
        actor: &Actor,
        id: ChannelId,
        on: bool,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.set_auto_hide_flagged(id, on).await?;
        tx.audit(
            &actor.audit_name(),
            "channel.auto_hide",
            &target("channel", id),
            &json!({ "on": on }),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Whether a channel's response times appear on the public page. Admins only.
    pub async fn publish_channel(
        &self,
        actor: &Actor,
        id: ChannelId,
        published: bool,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.set_channel_published(id, published).await?;
        tx.audit(
            &actor.audit_name(),
            "channel.publish",
            &target("channel", id),
            &json!({"published": published}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Re-encrypts every channel credential from `current` to `next` in one transaction with
    /// its audit line; if any does not open, nothing changes. Returns how many. The command
    /// line only (it holds the keys).
    pub async fn rotate_key(
        &self,
        actor: &Actor,
        current: &Cipher,
        next: &Cipher,
    ) -> Result<usize, AppError> {
        if *actor != Actor::Cli {
            return Err(AppError::Forbidden);
        }
        let mut tx = self.store().begin().await?;
        let count = match tx.reseal_credentials(current, next).await {
            Err(StoreError::Decrypt) => return Err(AppError::invalid(
                "key_mismatch",
                "the current secret key does not open every stored credential; nothing was changed",
            )),
            other => other?,
        };
        tx.audit(
            &actor.audit_name(),
            "security.rotate_key",
            "security:secret_key",
            &json!({"credentials": count}),
        )
        .await?;
        tx.commit().await?;
        Ok(count)
    }

    /// Starts connecting a channel with OAuth: returns the platform's consent page to send
    /// the admin to. Signed-in admins only (the flow is bound to them).
    pub async fn oauth_start(&self, actor: &Actor, kind: ChannelKind) -> Result<String, AppError> {
        actor.require(Role::Admin)?;
        let user = actor.user_id().ok_or(AppError::Forbidden)?;
        let app = self.oauth_app(kind).ok_or_else(|| {
            AppError::invalid(
                "oauth_not_configured",
                format!("signing in with {kind} is not configured"),
            )
        })?;
        let start = app.start().map_err(refused)?;
        let verifier = start.pkce_verifier.clone().unwrap_or_default();
        let mut tx = self.store().begin().await?;
        tx.save_oauth_flow(
            kind,
            OAuthStage::Authorize,
            &start.state,
            user,
            verifier.as_bytes(),
            Timestamp::now().plus_millis(AUTHORIZE_FOR.as_millis() as i64),
        )
        .await?;
        tx.audit(
            &actor.audit_name(),
            "channel.oauth_start",
            &target("oauth", kind),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(start.url)
    }

    /// Finishes an OAuth sign-in the platform sent the admin back from.
    pub async fn oauth_callback(
        &self,
        actor: &Actor,
        kind: ChannelKind,
        callback: &OAuthCallback,
    ) -> Result<OAuthOutcome, AppError> {
        actor.require(Role::Admin)?;
        let user = actor.user_id().ok_or(AppError::Forbidden)?;
        let app = self.oauth_app(kind).cloned().ok_or(AppError::NotFound)?;
        let given = callback.state.as_deref().unwrap_or_default();
        let flow = if given.is_empty() || given.len() > 512 {
            None
        } else {
            self.store()
                .oauth_flow(kind, OAuthStage::Authorize, given, user, true)
                .await?
        };
        let audit_target = target("oauth", kind);
        let Some(verifier) = flow else {
            self.audit_alone(
                actor,
                "channel.oauth_refused",
                &audit_target,
                json!({"reason": "state"}),
            )
            .await?;
            return Ok(OAuthOutcome::StateRefused);
        };
        let code = match (&callback.error, &callback.code) {
            (None, Some(code)) if !code.is_empty() => code.clone(),
            _ => {
                let reason = callback
                    .error_reason
                    .as_deref()
                    .or(callback.error.as_deref())
                    .unwrap_or("no_code");
                self.audit_alone(
                    actor,
                    "channel.oauth_denied",
                    &audit_target,
                    json!({"reason": bounded_code(reason)}),
                )
                .await?;
                return Ok(OAuthOutcome::Denied);
            }
        };
        let verifier = String::from_utf8(verifier).unwrap_or_default();
        let verifier = (!verifier.is_empty()).then_some(verifier);
        let granted = async {
            let tokens = app
                .exchange_code(self.http(), &code, verifier.as_deref())
                .await?;
            let connector = self
                .connector(kind)
                .map_err(|_| ConnectorError::Permanent(format!("no {kind} connector")))?;
            connector.granted_accounts(&app, &tokens).await
        }
        .await;
        let accounts = match granted {
            Ok(accounts) => accounts,
            Err(err) => {
                self.audit_alone(
                    actor,
                    "channel.oauth_failed",
                    &audit_target,
                    json!({"reason": err.kind_name()}),
                )
                .await?;
                return Ok(OAuthOutcome::Failed(err.to_string()));
            }
        };
        if accounts.is_empty() {
            return Ok(OAuthOutcome::NoAccounts);
        }
        if kind == ChannelKind::Facebook {
            // The admin picks which Pages to connect; until then their tokens stay sealed.
            let parked: Vec<Parked> = accounts
                .into_iter()
                .map(|account| Parked {
                    platform_id: account.platform_id.into_string(),
                    name: account.name,
                    credentials: account.credentials,
                })
                .collect();
            let secret = serde_json::to_vec(&parked).expect("parked pages serialize");
            let pick = buzon_store::secrets::generate_token();
            self.store()
                .save_oauth_flow(
                    kind,
                    OAuthStage::Pick,
                    &pick,
                    user,
                    &secret,
                    Timestamp::now().plus_millis(PICK_FOR.as_millis() as i64),
                )
                .await?;
            return Ok(OAuthOutcome::PickPages(pick));
        }
        let mut connected = Vec::new();
        for account in accounts {
            let granted = Account {
                kind,
                name: &account.name,
                platform_id: account.platform_id.clone(),
                credentials: &account.credentials,
                replace_existing: true,
                via: "oauth",
            };
            let (channel, _) = self.save_channel(actor, granted).await?;
            connected.push(channel.id);
        }
        Ok(OAuthOutcome::Connected(connected))
    }

    /// The Pages a Facebook sign-in granted, waiting to be picked.
    pub async fn oauth_pages(
        &self,
        actor: &Actor,
        flow: &str,
    ) -> Result<Vec<ParkedPage>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self
            .parked(actor, flow, false)
            .await?
            .into_iter()
            .map(|page| ParkedPage {
                platform_id: page.platform_id,
                name: page.name,
            })
            .collect())
    }

    /// Connects the picked Pages of a Facebook sign-in (the flow is spent).
    pub async fn oauth_connect_pages(
        &self,
        actor: &Actor,
        flow: &str,
        picked: &[String],
    ) -> Result<Vec<ChannelId>, AppError> {
        actor.require(Role::Admin)?;
        let mut connected = Vec::new();
        for page in self.parked(actor, flow, true).await? {
            if !picked.contains(&page.platform_id) {
                continue;
            }
            let platform_id = ExternalId::parse(page.platform_id)?;
            let picked = Account {
                kind: ChannelKind::Facebook,
                name: &page.name,
                platform_id,
                credentials: &page.credentials,
                replace_existing: true,
                via: "oauth",
            };
            let (channel, _) = self.save_channel(actor, picked).await?;
            connected.push(channel.id);
        }
        Ok(connected)
    }

    async fn parked(
        &self,
        actor: &Actor,
        flow: &str,
        consume: bool,
    ) -> Result<Vec<Parked>, AppError> {
        let user = actor.user_id().ok_or(AppError::Forbidden)?;
        let found = if flow.is_empty() || flow.len() > 512 {
            None
        } else {
            self.store()
                .oauth_flow(ChannelKind::Facebook, OAuthStage::Pick, flow, user, consume)
                .await?
        };
        let secret = found.ok_or_else(|| {
            AppError::invalid(
                "pick_expired",
                "this list of Pages has expired or was used: sign in with Facebook again",
            )
        })?;
        serde_json::from_slice(&secret)
            .map_err(|_| AppError::Internal(anyhow::anyhow!("parked pages do not decode")))
    }

    /// Writes an audit line on its own: for attempts that change nothing else (a refused
    /// check, a refused OAuth callback).
    pub(crate) async fn audit_alone(
        &self,
        actor: &Actor,
        action: &str,
        target: &str,
        detail: serde_json::Value,
    ) -> Result<(), AppError> {
        let mut tx = self.store().begin().await?;
        tx.audit(&actor.audit_name(), action, target, &detail)
            .await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Pasted credentials: a token is required, at most 4 KiB.
fn pasted(access_token: &str, refresh_token: Option<&str>) -> Result<ChannelCredentials, AppError> {
    let token = access_token.trim();
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(AppError::invalid(
            "token_required",
            "the access token is required (at most 4096 bytes)",
        ));
    }
    Ok(ChannelCredentials {
        access_token: token.to_owned(),
        refresh_token: refresh_token
            .map(str::trim)
            .filter(|token| !token.is_empty())
            .map(str::to_owned),
        expires_at: None,
    })
}

/// A platform's refusal, in words (the platform's message; never a token).
fn refused(err: ConnectorError) -> AppError {
    AppError::Platform {
        code: err.kind_name(),
        message: err.to_string(),
    }
}

/// A platform's error code, kept to its fixed vocabulary for the audit log.
fn bounded_code(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}
