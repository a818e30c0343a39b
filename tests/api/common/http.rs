//! Talking to the app as a browser or an attacker would: the [`Site`] every kind of test app
//! derefs to (its address, an HTTP client that does not follow redirects, its data
//! directory), and reading cookies and pages.

use reqwest::header::{HeaderMap, SET_COOKIE};
use reqwest::{redirect, Client, StatusCode};
use std::sync::Arc;
use tempfile::TempDir;

pub const DEMO_USER: &str = "user1";
pub const DEMO_PASSWORD: &str = "mypassword";
/// The session cookie's name in DEV; outside DEV (Secure) it is [`HOST_COOKIE`].
pub const COOKIE: &str = "latchkey_session";
pub const HOST_COOKIE: &str = "__Host-latchkey_session";
/// The device cookie's name in DEV.
pub const DEVICE_COOKIE: &str = "latchkey_device";

/// What a browser's plain form post (JavaScript off) asks for.
pub const BROWSER_ACCEPT: &str = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";

/// A running app, as its clients see it.
pub struct Site {
    pub base: String,
    pub client: Client,
    /// The app's data directory (its SQLite database, unless told otherwise).
    pub data: Arc<TempDir>,
}

impl Site {
    pub fn new(base: String, data: Arc<TempDir>) -> Self {
        let client = Self::client_for(&base, None);
        Self { base, client, data }
    }

    /// A client that sends the site's own `Origin` (as a browser's same-origin requests do),
    /// from `ip` if given.
    fn client_for(base: &str, ip: Option<&str>) -> Client {
        let mut headers = HeaderMap::new();
        headers.insert(reqwest::header::ORIGIN, base.parse().unwrap());
        Client::builder()
            .redirect(redirect::Policy::none())
            .default_headers(headers)
            .local_address(ip.map(|ip| ip.parse().unwrap()))
            .build()
            .unwrap()
    }

    /// A client that sends no origin information at all (not a browser, or a forged request).
    pub fn bare_client(&self) -> Client {
        Client::builder()
            .redirect(redirect::Policy::none())
            .build()
            .unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.base, path)
    }

    /// POSTs a form with extra headers (a cookie, a forwarded address, a browser's Accept, …).
    pub async fn post_form(
        &self,
        path: &str,
        form: &[(&str, &str)],
        headers: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut req = self.client.post(self.url(path)).form(form);
        for (name, value) in headers {
            req = req.header(*name, *value);
        }
        req.send().await.unwrap()
    }

    /// The visible text of the page at `url` (absolute, e.g. a redirect's Location).
    pub async fn page_text(&self, url: &str) -> String {
        self.page_text_as(url, None).await
    }

    /// [`Self::page_text`] as the holder of `cookie` sees it.
    pub async fn page_text_as(&self, url: &str, cookie: Option<&str>) -> String {
        let mut req = self.client.get(url);
        if let Some(c) = cookie {
            req = req.header("cookie", c);
        }
        text(&req.send().await.unwrap().text().await.unwrap())
    }

    /// The server function as the hydrated page calls it (a JSON client).
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        cookie: Option<&str>,
    ) -> reqwest::Response {
        let mut req = self
            .client
            .post(self.url("/api/login"))
            .form(&[("username", username), ("password", password)]);
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send().await.unwrap()
    }

    /// Logs in and returns the `name=value` cookie pair to send back.
    pub async fn login_ok(&self, username: &str, password: &str) -> String {
        let res = self.login(username, password, None).await;
        assert_eq!(res.status(), StatusCode::OK);
        session_cookie(res.headers())
            .expect("login sets the session cookie")
            .pair()
    }

    pub async fn logout(&self, cookie: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/logout"))
            .header("Cookie", cookie)
            .send()
            .await
            .unwrap()
    }

    /// GET `/`, optionally with a cookie; returns the response headers and the page's text.
    pub async fn home(&self, cookie: Option<&str>) -> (StatusCode, HeaderMap, String) {
        let mut req = self.client.get(self.url("/"));
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        let res = req.send().await.unwrap();
        let status = res.status();
        let headers = res.headers().clone();
        (status, headers, res.text().await.unwrap())
    }

    /// GET `path` (optionally with a cookie): the page's HTML, whatever its status.
    pub async fn page_html(&self, path: &str, cookie: Option<&str>) -> String {
        let mut req = self.client.get(self.url(path));
        if let Some(c) = cookie {
            req = req.header("Cookie", c);
        }
        req.send().await.unwrap().text().await.unwrap()
    }

    /// Whether `/` shows the welcome for `user`.
    pub async fn sees_welcome(&self, cookie: &str, user: &str) -> bool {
        let (status, _, html) = self.home(Some(cookie)).await;
        assert_eq!(status, StatusCode::OK);
        text(&html).contains(&format!("Welcome, {user}"))
    }

    /// Number of session records in the store (read straight from the SQLite file).
    /// Sends `request` as raw bytes (what no HTTP client library would send) and returns the
    /// answer's status and body. The request should say `Connection: close`.
    pub async fn raw(&self, request: &[u8]) -> (u16, String) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let addr = self.base.trim_start_matches("http://");
        let mut tcp = tokio::net::TcpStream::connect(addr).await.unwrap();
        tcp.write_all(request).await.unwrap();
        let mut answer = Vec::new();
        tokio::time::timeout(
            std::time::Duration::from_secs(30),
            tcp.read_to_end(&mut answer),
        )
        .await
        .expect("the server answers and closes")
        .unwrap();
        let answer = String::from_utf8_lossy(&answer).into_owned();
        let status = answer
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| panic!("not an HTTP answer: {answer:.200}"));
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
        (status, body.to_owned())
    }

    /// A client whose connections come from `ip` (any 127.x.y.z is this machine): a
    /// different client address without a proxy.
    pub fn client_at(&self, ip: &str) -> Client {
        Self::client_for(&self.base, Some(ip))
    }

    pub async fn session_count(&self) -> i64 {
        let url = format!("sqlite://{}/latchkey.db", self.data.path().display());
        let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
        let n = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
            .fetch_one(&pool)
            .await
            .unwrap();
        pool.close().await;
        n
    }
}

/// A parsed `Set-Cookie` header.
#[derive(Debug, Clone)]
pub struct SetCookie {
    pub name: String,
    pub value: String,
    pub attrs: Vec<(String, Option<String>)>,
}

impl SetCookie {
    pub fn attr(&self, name: &str) -> Option<Option<&str>> {
        self.attrs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_deref())
    }
    pub fn has(&self, name: &str) -> bool {
        self.attr(name).is_some()
    }
    /// `name=value`, as a browser would send it back.
    pub fn pair(&self) -> String {
        format!("{}={}", self.name, self.value)
    }
    /// True if this header deletes the cookie.
    pub fn is_removal(&self) -> bool {
        self.value.is_empty() || self.attr("Max-Age").flatten() == Some("0")
    }
}

pub fn set_cookies(headers: &HeaderMap) -> Vec<SetCookie> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .map(|v| {
            let mut parts = v.to_str().unwrap().split(';').map(str::trim);
            let (name, value) = parts.next().unwrap().split_once('=').unwrap();
            let attrs = parts
                .map(|p| match p.split_once('=') {
                    Some((k, v)) => (k.to_string(), Some(v.to_string())),
                    None => (p.to_string(), None),
                })
                .collect();
            SetCookie {
                name: name.into(),
                value: value.into(),
                attrs,
            }
        })
        .collect()
}

/// The session cookie a response sets, if any (under either name).
pub fn session_cookie(headers: &HeaderMap) -> Option<SetCookie> {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.name == COOKIE || c.name == HOST_COOKIE)
}

/// The device cookie a response sets, if any.
pub fn device_cookie(headers: &HeaderMap) -> Option<SetCookie> {
    set_cookies(headers)
        .into_iter()
        .find(|c| c.name.ends_with(DEVICE_COOKIE))
}

/// The visible text of an HTML page: tags and hydration markers removed, whitespace collapsed.
pub fn text(html: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in html.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    out.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// POSTs to a server function with the cookie; returns the status, the session cookie it set
/// (if any) and the JSON body.
pub async fn call(
    site: &Site,
    function: &str,
    form: &[(&str, &str)],
    cookie: Option<&str>,
) -> (StatusCode, Option<String>, serde_json::Value) {
    let mut req = site
        .client
        .post(site.url(&format!("/api/{function}")))
        .form(form);
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let res = req.send().await.unwrap();
    let status = res.status();
    let cookie = session_cookie(res.headers())
        .filter(|c| !c.is_removal())
        .map(|c| c.pair());
    let text = res.text().await.unwrap();
    let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text));
    (status, cookie, body)
}
