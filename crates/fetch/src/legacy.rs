//! The fallback for servers that speak only TLS 1.0/1.1, which rustls (and every current browser)
//! refuses: one request over OpenSSL with those versions allowed, HTTP/1.1 by hyper, the
//! certificate still verified against the system's roots, and the private-address guard applied
//! to the resolved address. The fetcher uses it only after a TLS handshake failed on the protocol
//! version, and says so (`Fetched::legacy_tls`); the HTTPS probe reports the old TLS as a finding.

use std::net::{IpAddr, SocketAddr};
use std::pin::Pin;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use http_body_util::{BodyExt, Empty};
use hyper_util::rt::TokioIo;
use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use reqwest::header::{self, HeaderMap, HeaderValue};
use reqwest::{Method, StatusCode};
use sitecensus_core::Outcome;
use tokio::net::TcpStream;
use url::Url;

use crate::guard::{Guard, internal_reason};

/// A response read through the fallback.
#[derive(Debug)]
pub struct Response {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body, cut at the limit.
    pub body: Bytes,
    /// Whether it was cut.
    pub truncated: bool,
    /// The server's address.
    pub remote_addr: SocketAddr,
}

/// The OpenSSL client of the fallback.
#[derive(Clone)]
pub struct Legacy {
    connector: SslConnector,
    guard: Guard,
    resolve: Vec<(String, u16, IpAddr)>,
    user_agent: String,
}

impl std::fmt::Debug for Legacy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Legacy")
    }
}

impl Legacy {
    /// A client that allows TLS 1.0 and up (security level 0, as those servers need) and trusts
    /// the system's roots plus `extra_roots` (DER); requests carry `user_agent`.
    ///
    /// # Errors
    /// When OpenSSL cannot be set up.
    pub fn new(
        guard: Guard,
        resolve: Vec<(String, u16, IpAddr)>,
        extra_roots: &[Vec<u8>],
        user_agent: String,
    ) -> Result<Self, String> {
        let e = |e: openssl::error::ErrorStack| e.to_string();
        let mut b = SslConnector::builder(SslMethod::tls_client()).map_err(e)?;
        b.set_min_proto_version(Some(SslVersion::TLS1)).map_err(e)?;
        b.set_cipher_list("DEFAULT@SECLEVEL=0").map_err(e)?;
        // OpenSSL built from source looks for roots under its own prefix: point it at the system's.
        let probe = openssl_probe::probe();
        if let Err(err) =
            b.load_verify_locations(probe.cert_file.as_deref(), probe.cert_dir.first().map(|d| d.as_path()))
        {
            tracing::debug!("no system certificate roots for the TLS 1.0 fallback: {err}");
        }
        for der in extra_roots {
            let cert = openssl::x509::X509::from_der(der).map_err(e)?;
            b.cert_store_mut().add_cert(cert).map_err(e)?;
        }
        Ok(Legacy { connector: b.build(), guard, resolve, user_agent })
    }

    async fn address(&self, url: &Url) -> Result<SocketAddr, Outcome> {
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']).to_owned();
        let port = url.port_or_known_default().unwrap_or(443);
        if let Some((_, _, ip)) = self.resolve.iter().find(|(h, p, _)| h.eq_ignore_ascii_case(&host) && *p == port) {
            return Ok(SocketAddr::new(*ip, port));
        }
        let addr = tokio::net::lookup_host((host.as_str(), port))
            .await
            .map_err(|e| Outcome::Dns { message: e.to_string() })?
            .next()
            .ok_or_else(|| Outcome::Dns { message: format!("{host}: no address") })?;
        if let Some(reason) = internal_reason(addr.ip())
            && !self.guard.host_allowed(&host)
        {
            return Err(Outcome::Blocked { reason: format!("{host} resolves to {} ({reason})", addr.ip()) });
        }
        Ok(addr)
    }

    /// One request, no redirects followed (the fetcher follows them hop by hop).
    ///
    /// # Errors
    /// The outcome of a failure, as the fetcher reports it.
    pub async fn send(&self, method: &Method, url: &Url, timeout: Duration, limit: usize) -> Result<Response, Outcome> {
        let started = std::time::Instant::now();
        match tokio::time::timeout(timeout, self.send_inner(method, url, limit)).await {
            Ok(r) => r,
            Err(_) => Err(Outcome::Timeout { after_ms: started.elapsed().as_millis() as u64 }),
        }
    }

    async fn send_inner(&self, method: &Method, url: &Url, limit: usize) -> Result<Response, Outcome> {
        let addr = self.address(url).await?;
        let host = url.host_str().unwrap_or_default().trim_matches(['[', ']']);
        let tcp = TcpStream::connect(addr).await.map_err(|e| Outcome::Connect { message: e.to_string() })?;
        let tls = |m: String| Outcome::Tls { message: m };
        let ssl = self.connector.configure().and_then(|c| c.into_ssl(host)).map_err(|e| tls(e.to_string()))?;
        let mut stream = tokio_openssl::SslStream::new(ssl, tcp).map_err(|e| tls(e.to_string()))?;
        Pin::new(&mut stream).connect().await.map_err(|e| tls(e.to_string()))?;
        let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
            .await
            .map_err(|e| Outcome::Connect { message: e.to_string() })?;
        tokio::spawn(async move {
            let _ = conn.await;
        });
        let path = &url[url::Position::BeforePath..url::Position::AfterQuery];
        let host_header = &url[url::Position::BeforeHost..url::Position::AfterPort];
        let req = hyper::Request::builder()
            .method(method.clone())
            .uri(if path.is_empty() { "/" } else { path })
            .header(header::HOST, host_header)
            .header(header::USER_AGENT, self.user_agent.as_str())
            .header(header::ACCEPT, "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
            .header(header::ACCEPT_ENCODING, HeaderValue::from_static("identity"))
            .header(header::CONNECTION, "close")
            .body(Empty::<Bytes>::new())
            .map_err(|e| Outcome::InvalidUrl { message: e.to_string() })?;
        let resp = sender.send_request(req).await.map_err(|e| Outcome::Connect { message: e.to_string() })?;
        let (parts, mut body) = resp.into_parts();
        let mut buf = BytesMut::new();
        let mut truncated = false;
        if *method != Method::HEAD {
            while let Some(frame) = body.frame().await {
                let frame = frame.map_err(|e| Outcome::Body { message: e.to_string() })?;
                if let Ok(data) = frame.into_data() {
                    if buf.len() + data.len() > limit {
                        buf.extend_from_slice(&data[..limit - buf.len()]);
                        truncated = true;
                        break;
                    }
                    buf.extend_from_slice(&data);
                }
            }
        }
        Ok(Response { status: parts.status, headers: parts.headers, body: buf.freeze(), truncated, remote_addr: addr })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::sync::Arc;

    use openssl::ssl::{Ssl, SslAcceptor};
    use rcgen::{CertificateParams, KeyPair};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;
    use crate::{FetchConfig, Fetcher};

    /// A CA and a server certificate for localhost that it signed: (CA DER, server cert PEM, key PEM).
    pub(crate) fn certificates() -> (Vec<u8>, String, String) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        ca.distinguished_name = rcgen::DistinguishedName::new();
        ca.distinguished_name.push(rcgen::DnType::CommonName, "sitecensus test CA");
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let mut leaf = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        leaf.distinguished_name = rcgen::DistinguishedName::new();
        leaf.distinguished_name.push(rcgen::DnType::CommonName, "localhost");
        let leaf = leaf.signed_by(&key, &issuer).unwrap();
        (ca_cert.der().to_vec(), leaf.pem(), key.serialize_pem())
    }

    /// A server on loopback that speaks only TLS 1.0 and answers every request with `body`.
    pub(crate) async fn old_server(cert: &str, key: &str, body: &'static str) -> SocketAddr {
        let mut a = SslAcceptor::mozilla_intermediate(SslMethod::tls()).unwrap();
        a.set_cipher_list("DEFAULT@SECLEVEL=0").unwrap();
        a.set_min_proto_version(Some(SslVersion::TLS1)).unwrap();
        a.set_max_proto_version(Some(SslVersion::TLS1)).unwrap();
        a.set_private_key(&openssl::pkey::PKey::private_key_from_pem(key.as_bytes()).unwrap()).unwrap();
        a.set_certificate(&openssl::x509::X509::from_pem(cert.as_bytes()).unwrap()).unwrap();
        let acceptor = Arc::new(a.build());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let acceptor = acceptor.clone();
                tokio::spawn(async move {
                    let ssl = Ssl::new(acceptor.context()).unwrap();
                    let mut s = tokio_openssl::SslStream::new(ssl, tcp).unwrap();
                    if Pin::new(&mut s).accept().await.is_err() {
                        return;
                    }
                    let mut req = Vec::new();
                    let mut buf = [0u8; 1024];
                    while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                        match s.read(&mut buf).await {
                            Ok(0) | Err(_) => return,
                            Ok(n) => req.extend_from_slice(&buf[..n]),
                        }
                    }
                    let head = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                        body.len()
                    );
                    let _ = s.write_all(head.as_bytes()).await;
                    let _ = s.write_all(body.as_bytes()).await;
                    let _ = s.shutdown().await;
                });
            }
        });
        addr
    }

    fn fetcher(port: u16, roots: Vec<Vec<u8>>) -> Fetcher {
        let cfg = FetchConfig {
            resolve: vec![("localhost".into(), port, "127.0.0.1".parse().unwrap())],
            extra_roots: roots,
            timeout: Duration::from_secs(5),
            retries: 0,
            ..FetchConfig::default()
        };
        Fetcher::new(cfg, None).unwrap()
    }

    #[tokio::test]
    async fn a_tls_1_0_server_is_read_through_the_fallback() {
        let (ca, cert, key) = certificates();
        let addr = old_server(&cert, &key, "<html><title>旧服务器</title></html>").await;
        let url = Url::parse(&format!("https://localhost:{}/index.html", addr.port())).unwrap();
        let f = fetcher(addr.port(), vec![ca]).get(&url).await;
        assert_eq!(f.outcome, Outcome::Ok { status: 200 }, "{:?}", f.outcome);
        assert!(f.legacy_tls);
        assert!(String::from_utf8_lossy(&f.body).contains("旧服务器"));
        // Its certificate is still checked: untrusted, the page is a TLS failure that says both.
        let f = fetcher(addr.port(), vec![]).get(&url).await;
        let Outcome::Tls { message } = &f.outcome else { panic!("{:?}", f.outcome) };
        assert!(message.contains("TLS 1.0/1.1 fallback"), "{message}");
        assert!(!f.legacy_tls);
    }
}
