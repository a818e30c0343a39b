//! Database and store URLs: which kind each names, how to show one without its password, and
//! the Redis URL's own `key_prefix` parameter.

/// The Redis key prefix when the URL names none.
pub const DEFAULT_KEY_PREFIX: &str = "latchkey:";

/// A URL's scheme, for error messages that must not echo credentials.
pub fn scheme(url: &str) -> &str {
    url.split("://").next().unwrap_or(url)
}

pub fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres://") || url.starts_with("postgresql://")
}

pub fn is_redis(url: &str) -> bool {
    url.starts_with("redis://") || url.starts_with("rediss://")
}

/// A URL fit for an error message: without its password.
pub fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let user_info = &url[scheme + 3..at];
            let user = user_info.split(':').next().unwrap_or("");
            format!("{}://{user}:***@{}", &url[..scheme], &url[at + 1..])
        }
        _ => url.to_owned(),
    }
}

/// A `redis://` URL split into what the client connects to and our key prefix (the
/// `key_prefix` query parameter, which lets several apps or test runs share one server).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedisUrl {
    pub url: String,
    pub key_prefix: String,
}

impl RedisUrl {
    pub fn parse(text: &str) -> Result<Self, String> {
        let mut url = url::Url::parse(text).map_err(|e| format!("invalid Redis URL: {e}"))?;
        let mut key_prefix = DEFAULT_KEY_PREFIX.to_owned();
        let rest: Vec<(String, String)> = url
            .query_pairs()
            .filter_map(|(k, v)| {
                if k == "key_prefix" {
                    key_prefix = v.into_owned();
                    None
                } else {
                    Some((k.into_owned(), v.into_owned()))
                }
            })
            .collect();
        // Keys are also used in SCAN patterns: no glob characters, nothing surprising.
        if key_prefix.is_empty()
            || key_prefix.len() > 64
            || !key_prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b":_-.".contains(&b))
        {
            return Err(format!(
                "key_prefix {key_prefix:?} must be 1-64 letters, digits or : _ - ."
            ));
        }
        if rest.is_empty() {
            url.set_query(None);
        } else {
            url.query_pairs_mut().clear().extend_pairs(rest);
        }
        Ok(Self {
            url: url.to_string(),
            key_prefix,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacted_urls_keep_no_password() {
        assert_eq!(
            redact("postgres://app:s3cret@db:5432/x"),
            "postgres://app:***@db:5432/x"
        );
        assert_eq!(redact("sqlite://data/x.db"), "sqlite://data/x.db");
    }
}
