//! Who may use buzon: signing in and out, sessions and API tokens (who is asking), users (add,
//! role, deactivate, reset password), API tokens (create, revoke) and the audit log.

use crate::{target, Actor, App, AppError};
use buzon_core::*;
use buzon_store::secrets::{hash_password, verify_password};
use buzon_store::StoreError;
use serde_json::json;
use std::time::Duration;

/// How long a session lasts.
pub const SESSION_LENGTH: Duration = Duration::from_secs(12 * 60 * 60);
/// The window failed sign-ins are counted in.
pub const LOGIN_WINDOW: Duration = Duration::from_secs(15 * 60);
/// Failed sign-ins allowed for an email from one address before each new try must wait.
const MAX_LOGIN_FAILURES: i64 = 5;
/// Failed sign-ins allowed for an email from all addresses (a spread-out attack) before each
/// new try must wait.
const MAX_LOGIN_FAILURES_PER_EMAIL: i64 = 20;
/// Failed sign-ins allowed per address (higher: a shop's team may share one address).
const MAX_LOGIN_FAILURES_PER_ADDRESS: i64 = 30;
/// The first wait past a limit; each further failure doubles it, up to [`LOGIN_MAX_WAIT`].
const LOGIN_FIRST_WAIT: Duration = Duration::from_secs(30);
/// The longest wait: never a lock that lasts.
const LOGIN_MAX_WAIT: Duration = Duration::from_secs(15 * 60);

/// Whether a new sign-in must wait, given the failures of the window: past a limit, the
/// latest failure must be `30 s × 2^(failures − limit)` old (at most 15 minutes). An address
/// past its own limit waits out the window. Someone guessing from one address slows down
/// there; a spread-out attack slows the email down without ever locking it for good.
pub(crate) fn login_must_wait(failures: &buzon_store::LoginFailures, now: Timestamp) -> bool {
    if failures.by_address >= MAX_LOGIN_FAILURES_PER_ADDRESS {
        return true;
    }
    let waiting = |count: i64, limit: i64, last: Option<Timestamp>| {
        if count < limit {
            return false;
        }
        let doublings = (count - limit).min(16) as u32;
        let wait = (LOGIN_FIRST_WAIT.as_millis() as i64)
            .saturating_mul(1 << doublings)
            .min(LOGIN_MAX_WAIT.as_millis() as i64);
        last.is_some_and(|last| now.as_millis() - last.as_millis() < wait)
    };
    waiting(failures.pair, MAX_LOGIN_FAILURES, failures.pair_last)
        || waiting(
            failures.by_email,
            MAX_LOGIN_FAILURES_PER_EMAIL,
            failures.email_last,
        )
}
/// The shortest password.
const MIN_PASSWORD_CHARS: usize = 8;
/// The longest password, in bytes.
const MAX_PASSWORD_BYTES: usize = 1024;
/// An Argon2id hash of a random password, verified against when an email is unknown, so the
/// time a refusal takes does not tell whether the email exists.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$3w0tSCpbYiYNdvD8Hg4h4Gn0c1cOHyyqcI4nPbn9jfg";

/// A signed-in user's session. Debug output never shows its CSRF token.
#[derive(Clone)]
pub struct Session {
    /// The user (active: sessions of deactivated users are never returned).
    pub user: User,
    /// The token every form of this session must carry.
    pub csrf_token: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Session")
            .field("user", &self.user)
            .field("csrf_token", &"[redacted]")
            .finish()
    }
}

impl Session {
    /// The session's user as an actor.
    pub fn actor(&self) -> Actor {
        Actor::User {
            id: self.user.id,
            role: self.user.role,
        }
    }
}

/// A sign-in attempt. Debug output never shows the password.
#[derive(Clone)]
pub struct SignInAttempt<'a> {
    /// The email as typed.
    pub email: &'a str,
    /// The password as typed.
    pub password: &'a str,
    /// The client's address, for throttling.
    pub address: &'a str,
}

/// A successful sign-in. Debug output never shows the session's secret.
#[derive(Clone)]
pub struct SignIn {
    /// The session's secret, for the cookie (stored only as a hash).
    pub secret: String,
    /// Who signed in.
    pub user: User,
}

/// A user to add. Debug output never shows the password.
#[derive(Clone)]
pub struct NewUser<'a> {
    /// The sign-in email.
    pub email: &'a str,
    /// The display name (the email's local part when empty).
    pub name: &'a str,
    /// What they may do.
    pub role: Role,
    /// The password, which the admin passes on.
    pub password: &'a str,
}

impl std::fmt::Debug for SignInAttempt<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SignInAttempt")
            .field("email", &self.email)
            .field("password", &"[redacted]")
            .field("address", &self.address)
            .finish()
    }
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SignIn")
            .field("secret", &"[redacted]")
            .field("user", &self.user)
            .finish()
    }
}

impl std::fmt::Debug for NewUser<'_> {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewUser")
            .field("email", &self.email)
            .field("name", &self.name)
            .field("role", &self.role)
            .field("password", &"[redacted]")
            .finish()
    }
}

impl App {
    /// Signs a user in, throttled per email and per address; an unknown email and a wrong
    /// password get the same answer (`Unauthorized`) in the same time.
    pub async fn sign_in(&self, attempt: &SignInAttempt<'_>) -> Result<SignIn, AppError> {
        let email = attempt.email.trim().to_lowercase();
        let now = Timestamp::now();
        let since = now.plus_millis(-(LOGIN_WINDOW.as_millis() as i64));
        // The attempt is counted as a failure before the password is checked, in one step
        // with the count (serialized per email): concurrent guesses cannot pass the limit.
        // A success takes it back.
        let mut tx = self.store().begin().await?;
        tx.lock_login(&email).await?;
        let failures = tx.login_failures(&email, attempt.address, since).await?;
        if login_must_wait(&failures, now) {
            return Err(AppError::Throttled);
        }
        tx.record_login_failure(&email, attempt.address).await?;
        tx.commit().await?;
        let found = self.store().user_for_login(&email).await?;
        let (user, hash) = match found {
            Some((user, hash)) => (Some(user), hash),
            None => (None, DUMMY_HASH.to_owned()),
        };
        let password = attempt.password.to_owned();
        let password_ok = self
            .hash_off_runtime(move || verify_password(&password, &hash))
            .await?;
        let user = match user {
            Some(user) if password_ok && user.active => user,
            _ => {
                let mut tx = self.store().begin().await?;
                tx.audit(
                    "anonymous",
                    "login.failed",
                    &target("email", bound_text(&email, 100)),
                    &json!({}),
                )
                .await?;
                tx.commit().await?;
                return Err(AppError::Unauthorized);
            }
        };
        let expires = Timestamp::now().plus_millis(SESSION_LENGTH.as_millis() as i64);
        let mut tx = self.store().begin().await?;
        tx.clear_login_failures(&email).await?;
        let (secret, _csrf) = tx.create_session(user.id, expires).await?;
        tx.audit(
            &format!("user:{}", user.id),
            "login",
            &target("user", user.id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(SignIn { secret, user })
    }

    /// The live session of a cookie's secret, if any.
    pub async fn session(&self, secret: &str) -> Result<Option<Session>, AppError> {
        let found = self.store().session(secret, Timestamp::now()).await?;
        Ok(found.map(|session| Session {
            user: session.user,
            csrf_token: session.csrf_token,
        }))
    }

    /// Ends a session.
    pub async fn sign_out(&self, secret: &str) -> Result<(), AppError> {
        self.store().delete_session(secret).await?;
        Ok(())
    }

    /// The actor behind an API token's secret, if the token is live.
    pub async fn authenticate_token(&self, secret: &str) -> Result<Option<Actor>, AppError> {
        let token = self.store().authenticate_token(secret).await?;
        Ok(token.map(|token| Actor::Token {
            id: token.id,
            role: token.role,
            user: token.user_id,
        }))
    }

    /// Every user. Admins only.
    pub async fn users(&self, actor: &Actor) -> Result<Vec<User>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().list_users().await?)
    }

    /// Every user's display name, for showing who answered. Every role may read them.
    pub async fn user_names(&self, actor: &Actor) -> Result<Vec<(UserId, String)>, AppError> {
        actor.require(Role::Viewer)?;
        Ok(self
            .store()
            .list_users()
            .await?
            .into_iter()
            .map(|user| (user.id, user.name))
            .collect())
    }

    /// Adds a user with the password an admin chose. Admins and the command line.
    pub async fn add_user(&self, actor: &Actor, new: &NewUser<'_>) -> Result<User, AppError> {
        actor.require(Role::Admin)?;
        let email = parse_email(new.email)?;
        check_password(new.password)?;
        let name = if new.name.trim().is_empty() {
            email.split('@').next().unwrap_or_default().to_owned()
        } else {
            bound_text(new.name.trim(), 200)
        };
        let hash = self.hash(new.password).await?;
        let mut tx = self.store().begin().await?;
        let user = match tx.create_user(&email, &name, new.role, &hash).await {
            Err(StoreError::Conflict) => {
                return Err(AppError::Conflict {
                    code: "email_taken",
                    message: format!("a user with email {email} already exists"),
                })
            }
            other => other?,
        };
        tx.audit(
            &actor.audit_name(),
            "user.add",
            &target("user", user.id),
            &json!({"role": new.role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(user)
    }

    /// Changes a user's role; the last active admin cannot stop being one. Admins only.
    pub async fn set_role(&self, actor: &Actor, id: UserId, role: Role) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        let user = tx.user(id).await?;
        if role != Role::Admin {
            keep_an_admin(&mut tx, &user).await?;
        }
        tx.set_user_role(id, role).await?;
        tx.audit(
            &actor.audit_name(),
            "user.role",
            &target("user", id),
            &json!({"from": user.role.as_str(), "to": role.as_str()}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Activates or deactivates a user: deactivation ends their sessions at once and their
    /// tokens stop working; the last active admin cannot be deactivated. Admins only.
    pub async fn set_active(
        &self,
        actor: &Actor,
        id: UserId,
        active: bool,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        let user = tx.user(id).await?;
        if !active {
            keep_an_admin(&mut tx, &user).await?;
        }
        tx.set_user_active(id, active).await?;
        tx.audit(
            &actor.audit_name(),
            if active {
                "user.activate"
            } else {
                "user.deactivate"
            },
            &target("user", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Sets a new password and ends the user's sessions. Admins only.
    pub async fn reset_password(
        &self,
        actor: &Actor,
        id: UserId,
        password: &str,
    ) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        check_password(password)?;
        let hash = self.hash(password).await?;
        let mut tx = self.store().begin().await?;
        tx.reset_user_password(id, &hash).await?;
        tx.audit(
            &actor.audit_name(),
            "user.password_reset",
            &target("user", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Every API token (never their secrets). Admins only.
    pub async fn tokens(&self, actor: &Actor) -> Result<Vec<ApiToken>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().list_tokens().await?)
    }

    /// Creates an API token and returns its only clear-text copy; a token acting for a user
    /// never does more than that user may. Admins and the command line.
    pub async fn create_token(
        &self,
        actor: &Actor,
        name: &str,
        role: Role,
        for_user: Option<UserId>,
    ) -> Result<(ApiToken, String), AppError> {
        actor.require(Role::Admin)?;
        let name = bound_text(name.trim(), 100);
        if name.is_empty() {
            return Err(AppError::invalid("token_name", "the token needs a name"));
        }
        let mut tx = self.store().begin().await?;
        if let Some(user) = for_user {
            let user = match tx.user(user).await {
                Err(StoreError::NotFound) => {
                    return Err(AppError::invalid("unknown_user", "unknown user"))
                }
                other => other?,
            };
            if !role_within(role, user.role) {
                return Err(AppError::invalid(
                    "token_role",
                    "a token cannot have more rights than the user it acts for",
                ));
            }
        }
        let (token, secret) = tx.create_token(&name, role, for_user).await?;
        tx.audit(
            &actor.audit_name(),
            "token.create",
            &target("token", token.id),
            &json!({"role": role.as_str(), "user": for_user}),
        )
        .await?;
        tx.commit().await?;
        Ok((token, secret))
    }

    /// Revokes a token. Admins only.
    pub async fn revoke_token(&self, actor: &Actor, id: TokenId) -> Result<(), AppError> {
        actor.require(Role::Admin)?;
        let mut tx = self.store().begin().await?;
        tx.revoke_token(id).await?;
        tx.audit(
            &actor.audit_name(),
            "token.revoke",
            &target("token", id),
            &json!({}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    /// The newest audit lines matching `filter`. Admins only.
    pub async fn audit_log(
        &self,
        actor: &Actor,
        filter: &AuditFilter,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, AppError> {
        actor.require(Role::Admin)?;
        Ok(self.store().audit_log(filter, limit).await?)
    }
}

/// The one password rule: 8 characters at least, 1024 bytes at most.
fn check_password(password: &str) -> Result<(), AppError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(AppError::invalid(
            "password_too_short",
            format!("the password must have at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(AppError::invalid(
            "password_too_long",
            format!("the password must be at most {MAX_PASSWORD_BYTES} bytes"),
        ));
    }
    Ok(())
}

impl App {
    /// Runs Argon2id work (tens of milliseconds on purpose) on the blocking threads, at most
    /// [`crate::HASHING_AT_ONCE`] at a time: a burst of sign-ins neither blocks the async
    /// threads that answer webhooks nor takes every core.
    pub(crate) async fn hash_off_runtime<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T, AppError> {
        let _permit = self
            .inner
            .hashing
            .acquire()
            .await
            .map_err(|_| AppError::Unavailable("buzon is stopping".into()))?;
        tokio::task::spawn_blocking(work)
            .await
            .map_err(|err| AppError::Internal(anyhow::anyhow!("hashing a password: {err}")))
    }

    /// An Argon2id hash of a new password.
    async fn hash(&self, password: &str) -> Result<String, AppError> {
        let password = password.to_owned();
        self.hash_off_runtime(move || hash_password(&password))
            .await
    }
}

/// Refuses to leave buzon without an active admin.
async fn keep_an_admin(tx: &mut buzon_store::StoreTx, user: &User) -> Result<(), AppError> {
    if user.role == Role::Admin && user.active && tx.active_admins().await? <= 1 {
        return Err(AppError::invalid(
            "last_admin",
            "buzon needs at least one active admin",
        ));
    }
    Ok(())
}

/// Whether `role` is no more than `of`.
fn role_within(role: Role, of: Role) -> bool {
    let rank = |role: Role| match role {
        Role::Viewer => 0,
        Role::Agent => 1,
        Role::Admin => 2,
    };
    rank(role) <= rank(of)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_never_outranks_its_user() {
        assert!(role_within(Role::Viewer, Role::Agent));
        assert!(role_within(Role::Agent, Role::Agent));
        assert!(!role_within(Role::Admin, Role::Agent));
        assert!(!role_within(Role::Agent, Role::Viewer));
    }

    #[test]
    fn debug_output_hides_passwords_and_secrets() {
        let attempt = SignInAttempt {
            email: "ana@shop.example",
            password: "hunter2-secret",
            address: "127.0.0.1",
        };
        let new = NewUser {
            email: "ana@shop.example",
            name: "Ana",
            role: Role::Agent,
            password: "hunter2-secret",
        };
        let channel = crate::NewChannel {
            kind: ChannelKind::X,
            platform_id: "42".into(),
            access_token: "tok-secret".into(),
            refresh_token: Some("refresh-secret".into()),
            name: String::new(),
            replace_existing: false,
            via: "test",
        };
        for shown in [
            format!("{attempt:?}"),
            format!("{new:?}"),
            format!("{channel:?}"),
        ] {
            assert!(!shown.contains("secret"), "{shown}");
        }
    }

    #[test]
    fn passwords_have_one_rule() {
        assert!(check_password("1234567").is_err());
        assert!(check_password("12345678").is_ok());
        assert!(check_password(&"x".repeat(1025)).is_err());
    }
}

#[cfg(test)]
mod throttle_tests {
    use super::*;
    use buzon_store::LoginFailures;

    fn failures(
        pair: i64,
        by_email: i64,
        by_address: i64,
        last_ago_secs: i64,
    ) -> (LoginFailures, Timestamp) {
        let now = Timestamp::from_millis(10_000_000_000);
        let last = Some(now.plus_millis(-last_ago_secs * 1000));
        (
            LoginFailures {
                pair,
                pair_last: last,
                by_email,
                email_last: last,
                by_address,
            },
            now,
        )
    }

    #[test]
    fn waits_grow_past_the_limit_and_never_lock_for_good() {
        let (f, now) = failures(4, 4, 4, 0);
        assert!(!login_must_wait(&f, now), "under the limit");
        let (f, now) = failures(5, 5, 5, 10);
        assert!(login_must_wait(&f, now), "30 s after the fifth failure");
        let (f, now) = failures(5, 5, 5, 31);
        assert!(!login_must_wait(&f, now), "a try after 30 s");
        let (f, now) = failures(7, 7, 7, 100);
        assert!(login_must_wait(&f, now), "two more: 120 s");
        let (f, now) = failures(40, 40, 29, 15 * 60 + 1);
        assert!(
            !login_must_wait(&f, now),
            "at most 15 minutes, however many"
        );
        let (f, now) = failures(0, 0, 30, 3600);
        assert!(
            login_must_wait(&f, now),
            "an address past its limit waits out the window"
        );
        let (f, now) = failures(0, 20, 0, 10);
        assert!(
            login_must_wait(&f, now),
            "a spread-out attack slows the email down"
        );
    }
}
