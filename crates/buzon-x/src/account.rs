//! The account behind a token: `GET /2/users/me`, to check pasted or refreshed tokens and to
//! learn which account an OAuth sign-in connected.

use crate::api::{classify, gate_key};
use crate::{payload_error, XConnector};
use buzon_connector::{
    x_rate_limit_wait, ConnectorError, GrantedAccount, OAuthTokens, RetryPolicy,
};
use buzon_core::{ChannelCredentials, ExternalId, Timestamp};
use serde::Deserialize;

/// The endpoint name for the rate-limit gate.
const USERS_ME: &str = "users_me";

/// `GET /2/users/me` ([API v2 reference](https://docs.x.com/x-api/users/user-lookup-me)).
#[derive(Deserialize)]
struct UsersMe {
    data: Me,
}

#[derive(Deserialize)]
struct Me {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    username: Option<String>,
}

impl XConnector {
    /// The account a user access token belongs to: (id, display name).
    pub(crate) async fn users_me(
        &self,
        token: &str,
    ) -> Result<(ExternalId, String), ConnectorError> {
        let url = format!(
            "{}/2/users/me",
            self.settings.api_base.trim_end_matches('/')
        );
        let timeout = self.settings.request_timeout;
        let body = self
            .client
            .execute(
                &gate_key(USERS_ME, "me"),
                RetryPolicy::READ,
                |client| client.get(&url).bearer_auth(token).timeout(timeout),
                |raw| x_rate_limit_wait(&raw.headers, now_unix_secs()),
                |raw| classify(raw, now_unix_secs()),
            )
            .await?;
        let me: UsersMe = serde_json::from_slice(&body).map_err(payload_error)?;
        let id = ExternalId::parse(me.data.id)
            .map_err(|_| ConnectorError::Payload("invalid id in users/me".into()))?;
        let name = match (me.data.name, me.data.username) {
            (Some(name), Some(username)) => format!("{name} (@{username})"),
            (Some(name), None) => name,
            (None, Some(username)) => format!("@{username}"),
            (None, None) => id.as_str().to_owned(),
        };
        Ok((id, name))
    }

    /// The account signed in with OAuth, with its access and refresh tokens.
    pub(crate) async fn granted(
        &self,
        tokens: &OAuthTokens,
    ) -> Result<Vec<GrantedAccount>, ConnectorError> {
        let (platform_id, name) = self.users_me(&tokens.access_token).await?;
        let expires_at = tokens
            .expires_in
            .map(|lifetime| Timestamp::now().plus_millis(lifetime.as_millis() as i64));
        Ok(vec![GrantedAccount {
            platform_id,
            name,
            credentials: ChannelCredentials {
                access_token: tokens.access_token.clone(),
                refresh_token: tokens.refresh_token.clone(),
                expires_at,
            },
        }])
    }
}

fn now_unix_secs() -> i64 {
    Timestamp::now().as_millis() / 1000
}
