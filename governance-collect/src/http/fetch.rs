//! HTTP GET with a time limit per attempt, bounded retries with exponential backoff and
//! jitter, percent-encoded query values, extra TLS root certificates, and errors that name
//! the URL without its credentials or query values.
//!
//! A 429 or 503 reply with a `Retry-After` header sets the delay before the next attempt in
//! place of the backoff. The header is a number of seconds or an HTTP date (RFC 9110,
//! section 10.2.3). The delay is capped by [`RetryConfig::max_backoff_ms`] and gets no
//! jitter, because the server named the time. A header in neither form is ignored with a
//! warning.

use std::path::Path;
use std::time::{Duration, SystemTime};

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

use super::config::RetryConfig;

/// A request that failed for good.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum FetchError {
    /// The server returned a status that is not a success.
    #[error(
        "GET {url} failed with HTTP {status} after {attempts} attempt(s); check the URL and \
         the server"
    )]
    Status {
        /// The URL, redacted.
        url: String,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
    },
    /// Every attempt timed out.
    #[error(
        "GET {url} timed out after {timeout_ms} ms on each of {attempts} attempt(s); raise \
         timeout_ms or check the server"
    )]
    Timeout {
        /// The URL, redacted.
        url: String,
        /// The time limit of one attempt, in milliseconds.
        timeout_ms: u64,
        /// Attempts made.
        attempts: u32,
    },
    /// The server's TLS certificate did not verify against the trusted roots. It is not
    /// retried, because another attempt meets the same certificate.
    #[error(
        "GET {url} failed: the server's TLS certificate was rejected ({message}); if the \
         server uses a private or self-signed certificate, set extra_root_certificates to a \
         PEM file with the certificate of its certificate authority"
    )]
    Certificate {
        /// The URL, redacted.
        url: String,
        /// The TLS library's reason, without the URL.
        message: String,
    },
    /// The request could not be sent or its body not read.
    #[error("GET {url} failed after {attempts} attempt(s): {message}")]
    Transport {
        /// The URL, redacted.
        url: String,
        /// Description of the failure, without the URL.
        message: String,
        /// Attempts made.
        attempts: u32,
    },
}

/// Returns `url` without its user name and password, and with every query value replaced
/// by `REDACTED`, so that it may appear in logs and errors.
pub fn redact_url(url: &str) -> String {
    let Ok(mut parsed) = reqwest::Url::parse(url) else {
        // Not a URL: keep the part before any '@' or '?', where credentials and query values
        // would start.
        let end = url.find(['@', '?']).unwrap_or(url.len());
        return format!("{}<unparsable>", &url[..end]);
    };
    let _ = parsed.set_username("");
    let _ = parsed.set_password(None);
    if parsed.query().is_some() {
        let names: Vec<String> = parsed
            .query_pairs()
            .map(|(name, _)| name.into_owned())
            .collect();
        let mut pairs = parsed.query_pairs_mut();
        pairs.clear();
        for name in names {
            pairs.append_pair(&name, "REDACTED");
        }
    }
    parsed.to_string()
}

/// Characters that a query value keeps as they are: the RFC 3986 unreserved characters.
/// Everything else is percent-encoded, a space as `%20` (not the form encoding's `+`,
/// which an OData server may read as a plus sign).
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// A query name also keeps `$`, which starts the OData system query options such as
/// `$filter`.
const QUERY_NAME: &AsciiSet = &QUERY_VALUE.remove(b'$');

/// Appends `query` to `url`, after any query of its own, with each name and value
/// percent-encoded.
pub(crate) fn with_query(url: &str, query: &[(String, String)]) -> String {
    if query.is_empty() {
        return url.to_string();
    }
    let (base, fragment) = match url.split_once('#') {
        Some((base, fragment)) => (base, Some(fragment)),
        None => (url, None),
    };
    let mut full = base.to_string();
    let mut separator = match base.split_once('?') {
        None => "?",
        Some((_, "")) => "",
        Some((_, own)) if own.ends_with('&') => "",
        Some(_) => "&",
    };
    for (name, value) in query {
        full.push_str(separator);
        full.extend(utf8_percent_encode(name, QUERY_NAME));
        full.push('=');
        full.extend(utf8_percent_encode(value, QUERY_VALUE));
        separator = "&";
    }
    if let Some(fragment) = fragment {
        full.push('#');
        full.push_str(fragment);
    }
    full
}

/// Reads the PEM certificates in `path`, for [`HttpPollConfig::extra_root_certificates`].
///
/// [`HttpPollConfig::extra_root_certificates`]: super::HttpPollConfig::extra_root_certificates
pub(crate) fn read_root_certificates(path: &Path) -> Result<Vec<reqwest::Certificate>, String> {
    let pem = std::fs::read(path).map_err(|error| {
        format!(
            "cannot read extra_root_certificates {}: {error}; check the path",
            path.display()
        )
    })?;
    let certificates = reqwest::Certificate::from_pem_bundle(&pem).map_err(|error| {
        format!(
            "extra_root_certificates {} is not a valid PEM file: {}",
            path.display(),
            error.without_url()
        )
    })?;
    if certificates.is_empty() {
        return Err(format!(
            "extra_root_certificates {} contains no PEM certificate (no \
             \"-----BEGIN CERTIFICATE-----\" block)",
            path.display()
        ));
    }
    Ok(certificates)
}

/// Builds the delay before attempt `attempt + 1` (attempt counts from 1): exponential,
/// capped, and shortened by a random part of at most `jitter` of it.
pub(crate) fn backoff(retry: &RetryConfig, attempt: u32, rng: &mut impl Rng) -> Duration {
    let exponent = attempt.saturating_sub(1).min(30);
    let full = retry
        .initial_backoff_ms
        .saturating_mul(1u64 << exponent)
        .min(retry.max_backoff_ms);
    let spread = (full as f64 * retry.jitter) as u64;
    let cut = if spread == 0 {
        0
    } else {
        rng.random_range(0..=spread)
    };
    Duration::from_millis(full - cut)
}

/// Blocking HTTP GET over reqwest on a private single-thread tokio runtime, so that it
/// works both on the chain's blocking pool and outside any runtime.
pub(crate) struct Fetcher {
    runtime: Option<tokio::runtime::Runtime>,
    client: reqwest::Client,
    timeout: Duration,
    retry: RetryConfig,
    /// Draws the jitter; seeded from the clock, because jitter needs variety, not secrecy.
    rng: ChaCha8Rng,
}

impl Fetcher {
    /// Creates a fetcher that trusts `extra_roots` in addition to the built-in roots.
    pub(crate) fn new(
        timeout: Duration,
        retry: RetryConfig,
        extra_roots: &[reqwest::Certificate],
    ) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| format!("cannot start the HTTP runtime: {error}"))?;
        // Connections are not pooled: they would belong to this runtime's reactor anyway,
        // and a poll every few seconds gains little from reuse.
        let mut builder = reqwest::Client::builder()
            .timeout(timeout)
            .pool_max_idle_per_host(0);
        for certificate in extra_roots {
            builder = builder.add_root_certificate(certificate.clone());
        }
        let client = builder
            .build()
            .map_err(|error| format!("cannot build the HTTP client: {}", error.without_url()))?;
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64);
        Ok(Fetcher {
            runtime: Some(runtime),
            client,
            timeout,
            retry,
            rng: ChaCha8Rng::seed_from_u64(seed),
        })
    }

    /// Sends GET `url` with `query` appended, retrying on connection errors, timeouts, HTTP
    /// 429 and 5xx. Returns the body of the first success. A rejected TLS certificate and
    /// another 4xx fail at once.
    pub(crate) fn get(
        &mut self,
        url: &str,
        query: &[(String, String)],
    ) -> Result<Vec<u8>, FetchError> {
        let redacted = redact_url(url);
        let full = with_query(url, query);
        let Some(runtime) = self.runtime.as_ref() else {
            return Err(FetchError::Transport {
                url: redacted,
                message: "the HTTP runtime was shut down".into(),
                attempts: 0,
            });
        };
        let mut attempt = 0u32;
        loop {
            attempt += 1;
            let outcome = runtime.block_on(self.attempt(&full));
            let last = attempt >= self.retry.max_attempts;
            let (error, retry_after) = match outcome {
                Ok(body) => return Ok(body),
                Err(Attempt::Permanent(failure)) => {
                    tracing::error!(url = %redacted, attempt, error = %failure.describe(), "HTTP poll request failed without retry");
                    return Err(failure.into_fetch_error(redacted, self.timeout, attempt));
                }
                Err(Attempt::Retryable {
                    failure,
                    retry_after,
                }) => (failure, retry_after),
            };
            tracing::warn!(url = %redacted, attempt, max_attempts = self.retry.max_attempts, error = %error.describe(), "HTTP poll attempt failed");
            if last {
                return Err(error.into_fetch_error(redacted, self.timeout, attempt));
            }
            let delay = match retry_after {
                Some(requested) => {
                    let cap = Duration::from_millis(self.retry.max_backoff_ms);
                    if requested > cap {
                        tracing::warn!(url = %redacted, requested_ms = requested.as_millis() as u64, max_backoff_ms = self.retry.max_backoff_ms, "the server requested a Retry-After delay above max_backoff_ms; retrying after max_backoff_ms");
                    }
                    requested.min(cap)
                }
                None => backoff(&self.retry, attempt, &mut self.rng),
            };
            std::thread::sleep(delay);
        }
    }

    async fn attempt(&self, url: &str) -> Result<Vec<u8>, Attempt> {
        let response = self.client.get(url).send().await.map_err(|error| {
            match Failure::from_reqwest(error) {
                failure @ Failure::Certificate(_) => Attempt::Permanent(failure),
                failure => Attempt::retryable(failure),
            }
        })?;
        let status = response.status();
        if status.is_server_error() || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            let retry_after = if status == reqwest::StatusCode::TOO_MANY_REQUESTS
                || status == reqwest::StatusCode::SERVICE_UNAVAILABLE
            {
                retry_after_of(&response, url)
            } else {
                None
            };
            return Err(Attempt::Retryable {
                failure: Failure::Status(status.as_u16()),
                retry_after,
            });
        }
        if !status.is_success() {
            return Err(Attempt::Permanent(Failure::Status(status.as_u16())));
        }
        let body = response
            .bytes()
            .await
            .map_err(|error| Attempt::retryable(Failure::from_reqwest(error)))?;
        Ok(body.to_vec())
    }
}

impl Drop for Fetcher {
    fn drop(&mut self) {
        // Dropping a runtime blocks, which panics inside an async task; this does not.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

enum Attempt {
    Retryable {
        failure: Failure,
        /// The delay that the reply's `Retry-After` header requested.
        retry_after: Option<Duration>,
    },
    Permanent(Failure),
}

impl Attempt {
    fn retryable(failure: Failure) -> Self {
        Attempt::Retryable {
            failure,
            retry_after: None,
        }
    }
}

/// Reads the `Retry-After` header of `response`. Logs and ignores one that cannot be parsed.
fn retry_after_of(response: &reqwest::Response, url: &str) -> Option<Duration> {
    let value = response.headers().get(reqwest::header::RETRY_AFTER)?;
    let parsed = value
        .to_str()
        .ok()
        .and_then(|text| parse_retry_after(text, SystemTime::now()));
    if parsed.is_none() {
        tracing::warn!(url = %redact_url(url), value = ?value, "ignoring a Retry-After header that is neither a number of seconds nor an HTTP date");
    }
    parsed
}

/// Parses a `Retry-After` value: a whole number of seconds, or an HTTP date, which gives
/// the time from `now` until then (zero for a date in the past). Returns `None` for any
/// other text.
pub(crate) fn parse_retry_after(value: &str, now: SystemTime) -> Option<Duration> {
    let value = value.trim();
    if !value.is_empty() && value.bytes().all(|byte| byte.is_ascii_digit()) {
        // A number above u64::MAX is still a valid, very long delay.
        let seconds = value.parse::<u64>().unwrap_or(u64::MAX);
        return Some(Duration::from_secs(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(date.duration_since(now).unwrap_or(Duration::ZERO))
}

enum Failure {
    Status(u16),
    Timeout,
    /// The TLS handshake rejected the server's certificate.
    Certificate(String),
    Transport(String),
}

impl Failure {
    fn from_reqwest(error: reqwest::Error) -> Self {
        if error.is_timeout() {
            return Failure::Timeout;
        }
        // `without_url` keeps the query string out of the message.
        let error = error.without_url();
        let mut message = error.to_string();
        let mut source = std::error::Error::source(&error);
        while let Some(cause) = source {
            message.push_str(": ");
            message.push_str(&cause.to_string());
            source = cause.source();
        }
        // rustls reports "invalid peer certificate: <reason>" (rustls 0.23); the error
        // type itself is hidden behind an io::Error, whose source() skips it.
        if error.is_connect() && message.contains("certificate") {
            return Failure::Certificate(message);
        }
        Failure::Transport(message)
    }

    fn describe(&self) -> String {
        match self {
            Failure::Status(status) => format!("HTTP {status}"),
            Failure::Timeout => "timed out".into(),
            Failure::Certificate(message) | Failure::Transport(message) => message.clone(),
        }
    }

    fn into_fetch_error(self, url: String, timeout: Duration, attempts: u32) -> FetchError {
        match self {
            Failure::Status(status) => FetchError::Status {
                url,
                status,
                attempts,
            },
            Failure::Timeout => FetchError::Timeout {
                url,
                timeout_ms: timeout.as_millis() as u64,
                attempts,
            },
            Failure::Certificate(message) => FetchError::Certificate { url, message },
            Failure::Transport(message) => FetchError::Transport {
                url,
                message,
                attempts,
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_hides_credentials_and_query_values() {
        let redacted = redact_url("https://user:secret@example.org/v1/obs?token=abc&limit=10");
        assert!(!redacted.contains("secret"), "{redacted}");
        assert!(!redacted.contains("user"), "{redacted}");
        assert!(!redacted.contains("abc"), "{redacted}");
        assert_eq!(
            redacted,
            "https://example.org/v1/obs?token=REDACTED&limit=REDACTED"
        );
    }

    #[test]
    fn query_values_are_percent_encoded() {
        let query = vec![
            (
                "$filter".to_string(),
                "(name eq 'Luft & Lärm+1') and phenomenonTime ge 2024-05-01T10:00:00Z".to_string(),
            ),
            ("$orderby".to_string(), "phenomenonTime asc".to_string()),
        ];
        assert_eq!(
            with_query("http://127.0.0.1:8080/v1.1/Observations", &query),
            "http://127.0.0.1:8080/v1.1/Observations?$filter=%28name%20eq%20%27Luft%20%26%20L%C3%A4rm%2B1%27%29%20and%20phenomenonTime%20ge%202024-05-01T10%3A00%3A00Z&$orderby=phenomenonTime%20asc"
        );
    }

    #[test]
    fn query_placement_in_url() {
        let query = vec![("since".to_string(), "10:00".to_string())];
        let cases = [
            ("http://h/obs", "http://h/obs?since=10%3A00"),
            ("http://h/obs?top=5", "http://h/obs?top=5&since=10%3A00"),
            ("http://h/obs?", "http://h/obs?since=10%3A00"),
            ("http://h/obs?top=5&", "http://h/obs?top=5&since=10%3A00"),
            ("http://h/obs#part", "http://h/obs?since=10%3A00#part"),
        ];
        for (url, expected) in cases {
            assert_eq!(with_query(url, &query), expected, "{url}");
        }
        assert_eq!(with_query("http://h/obs?top=5", &[]), "http://h/obs?top=5");
    }

    #[test]
    fn retry_after_reads_seconds_and_dates() {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(784_111_777);
        let cases = [
            ("120", Some(Duration::from_secs(120))),
            (" 0 ", Some(Duration::ZERO)),
            (
                "99999999999999999999999",
                Some(Duration::from_secs(u64::MAX)),
            ),
            // Each of the three date forms of RFC 9110, 97 seconds after `now`.
            (
                "Sun, 06 Nov 1994 08:51:14 GMT",
                Some(Duration::from_secs(97)),
            ),
            (
                "Sunday, 06-Nov-94 08:51:14 GMT",
                Some(Duration::from_secs(97)),
            ),
            ("Sun Nov  6 08:51:14 1994", Some(Duration::from_secs(97))),
            ("Sun, 06 Nov 1994 08:00:00 GMT", Some(Duration::ZERO)),
            ("-5", None),
            ("1.5", None),
            ("soon", None),
            ("", None),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_retry_after(value, now), expected, "{value:?}");
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let retry = RetryConfig {
            max_attempts: 10,
            initial_backoff_ms: 100,
            max_backoff_ms: 350,
            jitter: 0.0,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        let delays: Vec<u64> = (1..=4)
            .map(|attempt| backoff(&retry, attempt, &mut rng).as_millis() as u64)
            .collect();
        assert_eq!(delays, vec![100, 200, 350, 350]);
    }

    #[test]
    fn backoff_jitter_stays_in_range() {
        let retry = RetryConfig {
            max_attempts: 10,
            initial_backoff_ms: 1000,
            max_backoff_ms: 1000,
            jitter: 0.5,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let delays: Vec<u64> = (0..200)
            .map(|_| backoff(&retry, 1, &mut rng).as_millis() as u64)
            .collect();
        assert!(delays.iter().all(|delay| (500..=1000).contains(delay)));
        let distinct: std::collections::HashSet<u64> = delays.iter().copied().collect();
        assert!(distinct.len() > 10, "jitter varies the delay: {distinct:?}");
    }
}
