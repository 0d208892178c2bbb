//! Driving the web pages as a browser would, without one: users added with the CLI, sign-in
//! through the form (with its CSRF cookie), a session cookie, and the CSRF token of the
//! session's forms.

use crate::app::TestApp;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};
use reqwest::redirect::Policy;
use std::time::Duration;

/// The password every test user gets.
pub const PASSWORD: &str = "a long enough password";

/// A client that does not follow redirects, so tests see every 303.
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(Policy::none())
        .timeout(Duration::from_secs(30))
        .build()
        .expect("client builds")
}

/// The value a response sets for cookie `name`.
pub fn cookie_value(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .find_map(|value| {
            value
                .strip_prefix(&format!("{name}="))
                .map(|rest| rest.split(';').next().unwrap_or("").to_owned())
        })
}

/// The first `_csrf` hidden field of a page.
pub fn hidden_csrf(html: &str) -> String {
    let marker = "name=\"_csrf\" value=\"";
    let start = html.find(marker).expect("the page has a CSRF field") + marker.len();
    html[start..]
        .split('"')
        .next()
        .unwrap_or_default()
        .to_owned()
}

/// The `Location` of a response, or "".
pub fn location(response: &reqwest::Response) -> String {
    response
        .headers()
        .get(LOCATION)
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned()
}

/// Adds a user with the CLI (password [`PASSWORD`]).
pub async fn add_user(app: &TestApp, email: &str, role: &str) {
    let output = app
        .cli(
            &["user", "add", email, "--role", role],
            Some(&format!("{PASSWORD}\n")),
        )
        .await;
    assert!(
        output.status.success(),
        "user add {email}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Signs in through the form and returns the answer (303 to /inbox on success).
pub async fn sign_in(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    let http = client();
    let page = http
        .get(app.url("/login"))
        .send()
        .await
        .expect("GET /login");
    let login_cookie =
        cookie_value(&page, "buzon_login_csrf").expect("the login form sets its CSRF cookie");
    let csrf = hidden_csrf(&page.text().await.expect("login page"));
    http.post(app.url("/login"))
        .header(COOKIE, format!("buzon_login_csrf={login_cookie}"))
        .form(&[("email", email), ("password", password), ("_csrf", &csrf)])
        .send()
        .await
        .expect("POST /login")
}

/// A signed-in browser: its session cookie and its forms' CSRF token.
#[derive(Debug, Clone)]
pub struct Session {
    /// `buzon_session=…`, for the `Cookie` header.
    pub cookie: String,
    /// The session's CSRF token.
    pub csrf: String,
}

impl Session {
    /// Signs `email` in (password [`PASSWORD`]).
    pub async fn start(app: &TestApp, email: &str) -> Session {
        Session::start_with(app, email, PASSWORD).await
    }

    /// Signs `email` in with `password`.
    pub async fn start_with(app: &TestApp, email: &str, password: &str) -> Session {
        let response = sign_in(app, email, password).await;
        assert_eq!(response.status(), 303, "{email} signs in");
        let session = cookie_value(&response, "buzon_session").expect("a session cookie");
        let cookie = format!("buzon_session={session}");
        let inbox = client()
            .get(app.url("/inbox"))
            .header(COOKIE, &cookie)
            .send()
            .await
            .expect("GET /inbox");
        assert_eq!(inbox.status(), 200);
        let csrf = hidden_csrf(&inbox.text().await.expect("inbox page"));
        Session { cookie, csrf }
    }

    /// GETs `path` with the session (redirects not followed).
    pub async fn get(&self, app: &TestApp, path: &str) -> reqwest::Response {
        client()
            .get(app.url(path))
            .header(COOKIE, &self.cookie)
            .send()
            .await
            .expect("GET with a session")
    }

    /// POSTs a form with the session's CSRF token added.
    pub async fn post(
        &self,
        app: &TestApp,
        path: &str,
        fields: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut form: Vec<(&str, &str)> = vec![("_csrf", &self.csrf)];
        form.extend_from_slice(fields);
        client()
            .post(app.url(path))
            .header(COOKIE, &self.cookie)
            .form(&form)
            .send()
            .await
            .expect("POST with a session")
    }
}
