//! OAuth 2.0 Authorization Code (with PKCE S256 where the platform asks for it), code
//! exchange and refresh, built on the `oauth2` crate over the shared reqwest client.
//!
//! Nothing here logs or returns a token, a code or a response body in an error: the errors
//! say what went wrong in words a page may show.

use crate::{ConnectorError, HttpClient};
use oauth2::basic::BasicClient;
use oauth2::{
    AuthType, AuthUrl, AuthorizationCode, ClientId, ClientSecret, CsrfToken, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, RefreshToken, RequestTokenError, Scope, TokenResponse, TokenUrl,
};
use std::fmt;
use std::time::Duration;

/// An application registered on a platform, as buzon's OAuth client.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthApp {
    /// The app's client id (Facebook: the app id).
    pub client_id: String,
    /// The app's client secret.
    pub client_secret: String,
    /// Where the user is sent to consent.
    pub authorize_url: String,
    /// Where codes and refresh tokens are exchanged.
    pub token_url: String,
    /// buzon's callback, registered with the platform.
    pub redirect_url: String,
    /// The scopes asked for.
    pub scopes: Vec<String>,
    /// Whether the client authenticates with HTTP Basic (X) rather than in the body (Facebook).
    pub basic_auth: bool,
    /// Whether the flow uses PKCE (S256).
    pub pkce: bool,
}

impl fmt::Debug for OAuthApp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"[redacted]")
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("redirect_url", &self.redirect_url)
            .field("scopes", &self.scopes)
            .finish()
    }
}

/// The start of an authorization: where to send the user, and what to keep until the callback.
pub struct AuthorizationStart {
    /// The platform's consent page, with every parameter.
    pub url: String,
    /// The `state` to expect back (a CSRF token: one use, short-lived).
    pub state: String,
    /// The PKCE verifier to present with the code, when the flow uses PKCE.
    pub pkce_verifier: Option<String>,
}

impl fmt::Debug for AuthorizationStart {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("AuthorizationStart([redacted])")
    }
}

/// The tokens a platform issued.
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthTokens {
    /// The access token.
    pub access_token: String,
    /// The refresh token, when the platform issued one (X with `offline.access`).
    pub refresh_token: Option<String>,
    /// How long the access token lives, when the platform said.
    pub expires_in: Option<Duration>,
    /// The scopes granted, when the platform said.
    pub scopes: Vec<String>,
}

impl fmt::Debug for OAuthTokens {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("OAuthTokens")
            .field("access_token", &"[redacted]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[redacted]"),
            )
            .field("expires_in", &self.expires_in)
            .field("scopes", &self.scopes)
            .finish()
    }
}

impl OAuthApp {
    /// The consent URL with a fresh `state` (and PKCE challenge when the flow uses PKCE).
    pub fn start(&self) -> Result<AuthorizationStart, ConnectorError> {
        let client = BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_auth_uri(AuthUrl::new(self.authorize_url.clone()).map_err(bad_url)?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_url.clone()).map_err(bad_url)?);
        let mut request = client
            .authorize_url(CsrfToken::new_random)
            .add_scopes(self.scopes.iter().cloned().map(Scope::new));
        let mut verifier = None;
        if self.pkce {
            let (challenge, pkce_verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            verifier = Some(pkce_verifier.secret().clone());
        }
        let (url, state) = request.url();
        Ok(AuthorizationStart {
            url: url.to_string(),
            state: state.secret().clone(),
            pkce_verifier: verifier,
        })
    }

    /// Exchanges an authorization code for tokens.
    pub async fn exchange_code(
        &self,
        http: &HttpClient,
        code: &str,
        pkce_verifier: Option<&str>,
    ) -> Result<OAuthTokens, ConnectorError> {
        let client = self.client()?;
        let sender = sender(http);
        let mut request = client.exchange_code(AuthorizationCode::new(code.to_owned()));
        if let Some(verifier) = pkce_verifier {
            request = request.set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()));
        }
        let answer = request
            .request_async(&sender)
            .await
            .map_err(|err| token_error(err, "the authorization code was refused"))?;
        Ok(tokens_of(&answer))
    }

    /// Exchanges a refresh token for new tokens (X rotates the refresh token too).
    pub async fn refresh(
        &self,
        http: &HttpClient,
        refresh_token: &str,
    ) -> Result<OAuthTokens, ConnectorError> {
        let client = self.client()?;
        let sender = sender(http);
        let token = RefreshToken::new(refresh_token.to_owned());
        let answer = client
            .exchange_refresh_token(&token)
            .request_async(&sender)
            .await
            .map_err(|err| token_error(err, "the refresh token was refused"))?;
        Ok(tokens_of(&answer))
    }

    fn client(
        &self,
    ) -> Result<
        BasicClient<
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointNotSet,
            oauth2::EndpointSet,
        >,
        ConnectorError,
    > {
        Ok(BasicClient::new(ClientId::new(self.client_id.clone()))
            .set_client_secret(ClientSecret::new(self.client_secret.clone()))
            .set_token_uri(TokenUrl::new(self.token_url.clone()).map_err(bad_url)?)
            .set_redirect_uri(RedirectUrl::new(self.redirect_url.clone()).map_err(bad_url)?)
            .set_auth_type(if self.basic_auth {
                AuthType::BasicAuth
            } else {
                AuthType::RequestBody
            }))
    }
}

/// Whether `given` is the `state` that was issued, compared in constant time.
pub fn state_matches(issued: &str, given: &str) -> bool {
    crate::constant_time_eq(issued.as_bytes(), given.as_bytes())
}

/// A transport failure of an OAuth call, in words (never a URL, code or token).
#[derive(Debug)]
pub struct OAuthHttpError(String);

impl fmt::Display for OAuthHttpError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.0)
    }
}

impl std::error::Error for OAuthHttpError {}

type SendFuture = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<oauth2::HttpResponse, OAuthHttpError>> + Send>,
>;

/// The `oauth2` crate's async HTTP client, over our reqwest client.
fn sender(http: &HttpClient) -> impl Fn(oauth2::HttpRequest) -> SendFuture {
    let client = http.inner().clone();
    move |request: oauth2::HttpRequest| {
        let client = client.clone();
        Box::pin(async move { send(&client, request).await }) as SendFuture
    }
}

async fn send(
    client: &reqwest::Client,
    request: oauth2::HttpRequest,
) -> Result<oauth2::HttpResponse, OAuthHttpError> {
    let request = reqwest::Request::try_from(request)
        .map_err(|_| OAuthHttpError("the token request could not be built".into()))?;
    let response = client.execute(request).await.map_err(|err| {
        OAuthHttpError(if err.is_timeout() {
            "the platform did not answer in time".into()
        } else if err.is_connect() {
            "cannot connect to the platform".into()
        } else {
            "the connection to the platform failed".into()
        })
    })?;
    let mut builder = http::Response::builder().status(response.status());
    for (name, value) in response.headers() {
        builder = builder.header(name, value);
    }
    let body = response
        .bytes()
        .await
        .map_err(|_| OAuthHttpError("the connection to the platform failed".into()))?;
    builder
        .body(body.to_vec())
        .map_err(|_| OAuthHttpError("the platform's answer is not HTTP".into()))
}

fn tokens_of(answer: &oauth2::basic::BasicTokenResponse) -> OAuthTokens {
    OAuthTokens {
        access_token: answer.access_token().secret().clone(),
        refresh_token: answer.refresh_token().map(|token| token.secret().clone()),
        expires_in: answer.expires_in(),
        scopes: answer
            .scopes()
            .map(|scopes| scopes.iter().map(|scope| scope.to_string()).collect())
            .unwrap_or_default(),
    }
}

fn token_error<T: oauth2::ErrorResponse>(
    err: RequestTokenError<OAuthHttpError, T>,
    refused: &str,
) -> ConnectorError {
    match err {
        RequestTokenError::ServerResponse(response) => {
            // The error code is a fixed vocabulary (invalid_grant…), safe to show.
            let code = serde_json::to_value(&response)
                .ok()
                .and_then(|value| value["error"].as_str().map(str::to_owned))
                .unwrap_or_else(|| "error".into());
            ConnectorError::AuthExpired(format!("{refused} ({})", bounded(&code)))
        }
        RequestTokenError::Request(err) => ConnectorError::Retryable {
            reason: err.to_string(),
            retry_after: None,
        },
        RequestTokenError::Parse(_, _) => {
            ConnectorError::Payload("the token answer is not what OAuth 2.0 documents".into())
        }
        RequestTokenError::Other(_) => {
            ConnectorError::Permanent("the token endpoint answered unexpectedly".into())
        }
    }
}

fn bounded(code: &str) -> String {
    code.chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
        .take(40)
        .collect()
}

fn bad_url(_: oauth2::url::ParseError) -> ConnectorError {
    ConnectorError::Permanent("an OAuth URL in the configuration is not a valid URL".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(pkce: bool) -> OAuthApp {
        OAuthApp {
            client_id: "client-1".into(),
            client_secret: "very-secret".into(),
            authorize_url: "https://x.com/i/oauth2/authorize".into(),
            token_url: "https://api.x.com/2/oauth2/token".into(),
            redirect_url: "https://buzon.example/admin/oauth/x/callback".into(),
            scopes: vec!["tweet.read".into(), "offline.access".into()],
            basic_auth: true,
            pkce,
        }
    }

    #[test]
    fn the_consent_url_carries_state_and_an_s256_challenge() {
        let start = app(true).start().unwrap();
        let url = oauth2::url::Url::parse(&start.url).unwrap();
        let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
        assert_eq!(query["response_type"], "code");
        assert_eq!(query["client_id"], "client-1");
        assert_eq!(query["state"], start.state);
        assert_eq!(query["scope"], "tweet.read offline.access");
        assert_eq!(query["code_challenge_method"], "S256");
        let verifier = start.pkce_verifier.clone().unwrap();
        assert!(verifier.len() >= 43);
        assert!(!start.url.contains(&verifier), "the verifier stays with us");
        assert!(!start.url.contains("very-secret"));
        assert_ne!(app(true).start().unwrap().state, start.state);
        let plain = app(false).start().unwrap();
        assert!(plain.pkce_verifier.is_none());
        assert!(!plain.url.contains("code_challenge"));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let shown = format!("{:?}", app(true));
        assert!(!shown.contains("very-secret"), "{shown}");
        let tokens = OAuthTokens {
            access_token: "at-123".into(),
            refresh_token: Some("rt-456".into()),
            expires_in: None,
            scopes: vec![],
        };
        let shown = format!("{tokens:?}");
        assert!(
            !shown.contains("at-123") && !shown.contains("rt-456"),
            "{shown}"
        );
    }

    #[test]
    fn states_compare_exactly() {
        assert!(state_matches("abc", "abc"));
        assert!(!state_matches("abc", "abd"));
        assert!(!state_matches("abc", ""));
    }
}
