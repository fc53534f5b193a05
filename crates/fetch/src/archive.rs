//! Archives on object storage: the WARC files and screenshots of a run put on S3-compatible
//! storage (`--archive s3://bucket/prefix`). Requests are signed by `rusty-s3` (signing only: it
//! leaves the HTTP to our own client, so no second TLS stack comes with it) and sent with
//! retries; what still cannot be put is reported and kept on local disk.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use rusty_s3::{Bucket, Credentials, S3Action, UrlStyle};

/// How long a signed request stays valid.
const SIGNED_FOR: Duration = Duration::from_secs(3600);
/// Tries of one upload before it is reported as failed.
const TRIES: u32 = 5;

/// What can go wrong with an archive.
#[derive(Debug, thiserror::Error)]
pub enum ArchiveError {
    /// The `--archive` address is not `s3://bucket/prefix`, or the endpoint is not a URL.
    #[error("--archive {address}: {message}")]
    Address {
        /// The address given.
        address: String,
        /// What is wrong.
        message: String,
    },
    /// No credentials in the environment.
    #[error(
        "--archive {0}: no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_ENDPOINT_URL for storage other than AWS)"
    )]
    NoCredentials(String),
    /// A request failed every try.
    #[error("{key}: {message}")]
    Request {
        /// The object's key.
        key: String,
        /// The last failure.
        message: String,
    },
}

/// An S3-compatible bucket and the prefix a run's files go under.
#[derive(Clone)]
pub struct Archive {
    bucket: Arc<Bucket>,
    credentials: Arc<Credentials>,
    prefix: String,
    address: String,
    client: reqwest::Client,
    /// Waits between tries (short in tests).
    backoff: Duration,
}

impl std::fmt::Debug for Archive {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Archive({})", self.address)
    }
}

/// The environment variable `name`, when set and not empty.
fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Archive {
    /// The archive `address` names (`s3://bucket/prefix`), on the endpoint `AWS_ENDPOINT_URL`
    /// names (path-style, as S3-compatible servers take it) or on AWS itself, in `AWS_REGION`
    /// (default `us-east-1`), with the credentials `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`
    /// and `AWS_SESSION_TOKEN`.
    ///
    /// # Errors
    /// When the address or endpoint is malformed, or there are no credentials.
    pub fn from_env(address: &str) -> Result<Self, ArchiveError> {
        let region = env("AWS_REGION").or_else(|| env("AWS_DEFAULT_REGION")).unwrap_or_else(|| "us-east-1".to_owned());
        let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) else {
            return Err(ArchiveError::NoCredentials(address.to_owned()));
        };
        Self::new(address, env("AWS_ENDPOINT_URL").as_deref(), &region, (key, secret, env("AWS_SESSION_TOKEN")))
    }

    /// The archive `address` names (`s3://bucket/prefix`) on `endpoint` (path-style, as
    /// S3-compatible servers take it; `None` for AWS itself), with credentials (key, secret,
    /// session token).
    ///
    /// # Errors
    /// When the address or endpoint is malformed.
    pub fn new(
        address: &str,
        endpoint: Option<&str>,
        region: &str,
        credentials: (String, String, Option<String>),
    ) -> Result<Self, ArchiveError> {
        let bad = |message: &str| ArchiveError::Address { address: address.to_owned(), message: message.to_owned() };
        let rest = address.strip_prefix("s3://").ok_or_else(|| bad("give s3://bucket/prefix"))?;
        let (name, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if name.is_empty() {
            return Err(bad("no bucket name"));
        }
        let (endpoint, style) = match endpoint {
            Some(e) => (e.to_owned(), UrlStyle::Path),
            None => (format!("https://s3.{region}.amazonaws.com"), UrlStyle::VirtualHost),
        };
        let endpoint = url::Url::parse(&endpoint).map_err(|e| bad(&format!("endpoint {endpoint}: {e}")))?;
        let bucket = Bucket::new(endpoint, style, name.to_owned(), region.to_owned())
            .map_err(|e| bad(&format!("bucket {name}: {e}")))?;
        let credentials = match credentials {
            (key, secret, Some(t)) => Credentials::new_with_token(key, secret, t),
            (key, secret, None) => Credentials::new(key, secret),
        };
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .timeout(Duration::from_secs(600))
            .no_proxy()
            .build()
            .map_err(|e| bad(&e.to_string()))?;
        Ok(Archive {
            bucket: Arc::new(bucket),
            credentials: Arc::new(credentials),
            prefix: prefix.trim_matches('/').to_owned(),
            address: address.trim_end_matches('/').to_owned(),
            client,
            backoff: Duration::from_secs(1),
        })
    }

    /// Waits `backoff` before the second try, twice as long before each next one.
    #[must_use]
    pub fn with_backoff(mut self, backoff: Duration) -> Self {
        self.backoff = backoff;
        self
    }

    /// The archive as given (`s3://bucket/prefix`).
    #[must_use]
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The key of `name` under the prefix.
    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() { name.to_owned() } else { format!("{}/{name}", self.prefix) }
    }

    /// Where `name` is put: `s3://bucket/prefix/name`.
    #[must_use]
    pub fn location(&self, name: &str) -> String {
        format!("s3://{}/{}", self.bucket.name(), self.key(name))
    }

    /// Puts the file at `path` as `name` under the prefix, streaming it, trying again with a
    /// growing wait when the storage cannot be reached or answers an error.
    ///
    /// # Errors
    /// When every try failed (the last error) or the file cannot be read.
    pub async fn put_file(&self, name: &str, path: &Path) -> Result<(), ArchiveError> {
        let key = self.key(name);
        let mut wait = self.backoff;
        let mut last = String::new();
        for attempt in 1..=TRIES {
            match self.put_once(&key, path).await {
                Ok(()) => return Ok(()),
                Err(e) => {
                    tracing::warn!(key = %key, attempt, "archiving failed: {e}");
                    last = e;
                }
            }
            if attempt < TRIES {
                tokio::time::sleep(wait).await;
                wait *= 2;
            }
        }
        Err(ArchiveError::Request { key, message: last })
    }

    async fn put_once(&self, key: &str, path: &Path) -> Result<(), String> {
        let file = tokio::fs::File::open(path).await.map_err(|e| format!("{}: {e}", path.display()))?;
        let len = file.metadata().await.map_err(|e| format!("{}: {e}", path.display()))?.len();
        let url = self.bucket.put_object(Some(&self.credentials), key).sign(SIGNED_FOR);
        let body = reqwest::Body::from(file);
        let answer = self
            .client
            .put(url)
            .header(reqwest::header::CONTENT_LENGTH, len)
            .body(body)
            .send()
            .await
            .map_err(|e| format!("{e}"))?;
        if answer.status().is_success() {
            Ok(())
        } else {
            let status = answer.status();
            let text = answer.text().await.unwrap_or_default();
            Err(format!("HTTP {status}: {}", text.chars().take(300).collect::<String>()))
        }
    }

    /// Reads `name` back (to verify what was put).
    ///
    /// # Errors
    /// When it cannot be read.
    pub async fn get(&self, name: &str) -> Result<Vec<u8>, ArchiveError> {
        let key = self.key(name);
        let url = self.bucket.get_object(Some(&self.credentials), &key).sign(SIGNED_FOR);
        let fail = |message: String| ArchiveError::Request { key: key.clone(), message };
        let answer = self.client.get(url).send().await.map_err(|e| fail(e.to_string()))?;
        if !answer.status().is_success() {
            return Err(fail(format!("HTTP {}", answer.status())));
        }
        Ok(answer.bytes().await.map_err(|e| fail(e.to_string()))?.to_vec())
    }

    /// Creates the bucket (for a first set-up, and the tests' fresh storage).
    ///
    /// # Errors
    /// When the storage refuses.
    pub async fn create_bucket(&self) -> Result<(), ArchiveError> {
        let action = self.bucket.create_bucket(&self.credentials);
        let url = action.sign(SIGNED_FOR);
        let fail = |message: String| ArchiveError::Request { key: String::new(), message };
        let answer = self
            .client
            .put(url)
            .body(Vec::<u8>::new())
            .header(reqwest::header::CONTENT_LENGTH, 0)
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if answer.status().is_success() { Ok(()) } else { Err(fail(format!("HTTP {}", answer.status()))) }
    }
}
