//! Facebook Login for Pages: the user token from the code exchange becomes a long-lived
//! token (`GET /oauth/access_token?grant_type=fb_exchange_token`), and that one lists the
//! Pages the user manages with their Page tokens (`GET /me/accounts`), which do not expire.
//! See <https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived>
//! and <https://developers.facebook.com/docs/pages-api/getting-started> (Graph v21.0).

use crate::graph::{path_segment, read_answer};
use crate::FacebookConnector;
use buzon_connector::{ConnectorError, GrantedAccount, OAuthApp, OAuthTokens, RetryPolicy};
use buzon_core::{ChannelCredentials, ExternalId};
use serde::Deserialize;

/// The answer of `/oauth/access_token`.
#[derive(Deserialize)]
struct TokenAnswer {
    access_token: String,
}

/// One page of `/me/accounts`.
#[derive(Deserialize)]
struct Accounts {
    #[serde(default)]
    data: Vec<Account>,
}

#[derive(Deserialize)]
struct Account {
    id: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// `GET /{page-id}?fields=id,name`.
#[derive(Deserialize)]
struct PageObject {
    id: String,
    #[serde(default)]
    name: Option<String>,
}

impl FacebookConnector {
    /// The Pages the signed-in user manages, each with its Page token.
    pub(crate) async fn pages_of(
        &self,
        app: &OAuthApp,
        tokens: &OAuthTokens,
    ) -> Result<Vec<GrantedAccount>, ConnectorError> {
        let exchange_url = self.url("oauth/access_token");
        let query = [
            ("grant_type", "fb_exchange_token"),
            ("client_id", app.client_id.as_str()),
            ("client_secret", app.client_secret.as_str()),
            ("fb_exchange_token", tokens.access_token.as_str()),
        ];
        let (long_lived, _): (TokenAnswer, _) = self
            .call(
                "oauth",
                RetryPolicy::READ,
                |client| client.get(&exchange_url).query(&query),
                |raw| read_answer(raw, ConnectorError::Payload),
            )
            .await?;
        let accounts_url = self.url("me/accounts");
        let user_token = long_lived.access_token;
        let (accounts, _): (Accounts, _) = self
            .call(
                "oauth",
                RetryPolicy::READ,
                |client| {
                    client
                        .get(&accounts_url)
                        .query(&[("fields", "id,name,access_token,category,tasks")])
                        .bearer_auth(&user_token)
                },
                |raw| read_answer(raw, ConnectorError::Payload),
            )
            .await?;
        let mut granted = Vec::new();
        for account in accounts.data {
            let (Some(token), Ok(platform_id)) =
                (account.access_token, ExternalId::parse(account.id))
            else {
                continue;
            };
            granted.push(GrantedAccount {
                name: account
                    .name
                    .unwrap_or_else(|| platform_id.as_str().to_owned()),
                platform_id,
                credentials: ChannelCredentials {
                    access_token: token,
                    refresh_token: None,
                    expires_at: None,
                },
            });
        }
        Ok(granted)
    }

    /// `GET /{page-id}?fields=id,name` with the Page token: it must answer for that Page.
    pub(crate) async fn check_page(
        &self,
        page_id: &ExternalId,
        credentials: &ChannelCredentials,
    ) -> Result<String, ConnectorError> {
        let url = self.url(path_segment(page_id.as_str())?);
        let token = credentials.access_token.as_str();
        let (page, _): (PageObject, _) = self
            .call(
                page_id.as_str(),
                RetryPolicy::READ,
                |client| {
                    client
                        .get(&url)
                        .query(&[("fields", "id,name")])
                        .bearer_auth(token)
                },
                |raw| read_answer(raw, ConnectorError::Payload),
            )
            .await?;
        if page.id != page_id.as_str() {
            return Err(ConnectorError::Permanent(
                "the token belongs to another Page".into(),
            ));
        }
        Ok(page.name.unwrap_or(page.id))
    }
}
