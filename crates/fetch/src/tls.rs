//! The HTTPS probe: one TLS handshake with the site's host, the certificate checked the way the
//! crawler checks it (the platform's roots), and its dates and issuer read even when it fails —
//! an inspector needs to see "expired on 2024-03-01", not only "invalid".

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use sitecensus_core::HttpsReport;
use tokio::net::TcpStream;

/// What the real verifier said of the certificate the server showed.
type Verdict = (CertificateDer<'static>, Result<(), rustls::Error>);

/// Asks the platform verifier, remembers its verdict and the certificate, and lets the
/// handshake finish either way so that the certificate can be read.
#[derive(Debug)]
struct Recording {
    inner: Arc<dyn ServerCertVerifier>,
    seen: Mutex<Option<Verdict>>,
}

impl ServerCertVerifier for Recording {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verdict =
            self.inner.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now).map(|_| ());
        *self.seen.lock().expect("not poisoned") = Some((end_entity.clone().into_owned(), verdict));
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

/// Where to probe and whom to trust.
#[derive(Debug, Clone)]
pub struct HttpsProbe {
    /// The host name the certificate must name.
    pub host: String,
    /// The port (443 for a site given as http://).
    pub port: u16,
    /// Connect here instead of resolving the host (`--resolve`, tests).
    pub addr: Option<SocketAddr>,
    /// How long the connection and handshake may take.
    pub timeout: Duration,
    /// Roots trusted besides the platform's (DER), for private CAs and tests.
    pub extra_roots: Vec<Vec<u8>>,
    /// An `http://` proxy to reach the server through (HTTP CONNECT), when the crawl uses one.
    pub proxy: Option<String>,
}

/// Probes HTTPS once. Never fails: what went wrong is in the report.
pub async fn probe(p: &HttpsProbe) -> HttpsReport {
    let address = format!("{}:{}", p.host, p.port);
    let mut report = HttpsReport { address: address.clone(), ..HttpsReport::default() };
    match tokio::time::timeout(p.timeout, handshake(p)).await {
        Err(_) => report.error = Some(format!("no answer within {} s", p.timeout.as_secs())),
        Ok(Err(e)) if sitecensus_core::outcome::is_old_tls(&e) => {
            report.error = Some(format!("the server offers only TLS 1.0/1.1, which current browsers refuse ({e})"));
        }
        Ok(Err(e)) => report.error = Some(e),
        Ok(Ok(None)) => report.error = Some("the server showed no certificate".into()),
        Ok(Ok(Some((cert, verdict)))) => {
            if let Ok((_, x)) = x509_parser::parse_x509_certificate(&cert) {
                let time = |t: x509_parser::time::ASN1Time| {
                    chrono::DateTime::from_timestamp(t.timestamp(), 0).map(|d| d.to_rfc3339())
                };
                report.not_before = time(x.validity().not_before);
                report.not_after = time(x.validity().not_after);
                report.issuer = Some(x.issuer().to_string());
            }
            match verdict {
                Ok(()) => report.ok = true,
                Err(e) => report.error = Some(format!("invalid certificate: {e}")),
            }
        }
    }
    report
}

async fn handshake(p: &HttpsProbe) -> Result<Option<Verdict>, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let roots = p.extra_roots.iter().map(|d| CertificateDer::from(d.clone()));
    let inner = rustls_platform_verifier::Verifier::new_with_extra_roots(roots, provider.clone())
        .map_err(|e| format!("no certificate roots: {e}"))?;
    let recording = Arc::new(Recording { inner: Arc::new(inner), seen: Mutex::new(None) });
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .dangerous()
        .with_custom_certificate_verifier(recording.clone())
        .with_no_client_auth();
    let name = ServerName::try_from(p.host.clone()).map_err(|e| format!("{}: {e}", p.host))?;
    let tcp = match (&p.proxy, p.addr) {
        (Some(proxy), _) => tunnel(proxy, &p.host, p.port).await?,
        (None, Some(a)) => TcpStream::connect(a).await.map_err(|e| format!("connection failed: {e}"))?,
        (None, None) => {
            TcpStream::connect((p.host.as_str(), p.port)).await.map_err(|e| format!("connection failed: {e}"))?
        }
    };
    let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
    let result = connector.connect(name, tcp).await;
    let seen = recording.seen.lock().expect("not poisoned").take();
    match (result, seen) {
        (_, Some(v)) => Ok(Some(v)),
        (Err(e), None) => Err(format!("TLS handshake failed: {e}")),
        (Ok(_), None) => Ok(None),
    }
}

/// A connection to `host:port` through an HTTP proxy's CONNECT tunnel (RFC 9110, 9.3.6): what a
/// client behind the proxy sees of the server's TLS. Written by hand: the exchange is one request
/// line and one status line, and the TLS probe needs the raw stream, not an HTTP client.
async fn tunnel(proxy: &str, host: &str, port: u16) -> Result<TcpStream, String> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let url = url::Url::parse(proxy).map_err(|e| format!("proxy {proxy}: {e}"))?;
    let (Some(proxy_host), Some(proxy_port)) = (url.host_str(), url.port_or_known_default()) else {
        return Err(format!("proxy {proxy}: no host"));
    };
    let mut tcp = TcpStream::connect((proxy_host.trim_matches(['[', ']']), proxy_port))
        .await
        .map_err(|e| format!("connection to the proxy {proxy_host}:{proxy_port} failed: {e}"))?;
    let target = if host.contains(':') { format!("[{host}]:{port}") } else { format!("{host}:{port}") };
    // Credentials in the proxy's address (`http://user:pass@proxy:3128`) go as Basic auth.
    let auth = if url.username().is_empty() {
        String::new()
    } else {
        use base64::Engine;
        let user = percent_encoding::percent_decode_str(url.username()).decode_utf8_lossy();
        let pass = percent_encoding::percent_decode_str(url.password().unwrap_or_default()).decode_utf8_lossy();
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"));
        format!("Proxy-Authorization: Basic {token}\r\n")
    };
    tcp.write_all(format!("CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n{auth}\r\n").as_bytes())
        .await
        .map_err(|e| format!("the proxy {proxy_host}: {e}"))?;
    // The proxy's answer head, read byte by byte so that nothing of the server's TLS is taken.
    let mut head = Vec::with_capacity(256);
    while !head.ends_with(b"\r\n\r\n") {
        if head.len() > 16 * 1024 {
            return Err(format!("the proxy {proxy_host} answered CONNECT with an endless head"));
        }
        let b = tcp.read_u8().await.map_err(|e| format!("the proxy {proxy_host} closed the tunnel: {e}"))?;
        head.push(b);
    }
    let status = String::from_utf8_lossy(&head).lines().next().unwrap_or_default().to_owned();
    if status.split_whitespace().nth(1) != Some("200") {
        return Err(format!("the proxy {proxy_host} refused the tunnel to {target}: {status}"));
    }
    Ok(tcp)
}

#[cfg(test)]
mod tests {
    use super::*;
    use rcgen::{CertificateParams, KeyPair};
    use tokio::net::TcpListener;

    /// A TLS server on loopback that shows `cert` to every client.
    async fn serve(cert: CertificateDer<'static>, key: &KeyPair) -> SocketAddr {
        let key = rustls::pki_types::PrivateKeyDer::try_from(key.serialize_der()).unwrap();
        let config = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![cert], key)
            .unwrap();
        let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((tcp, _)) = listener.accept().await {
                let a = acceptor.clone();
                tokio::spawn(async move {
                    let _ = a.accept(tcp).await;
                });
            }
        });
        addr
    }

    fn params(from: i32, to: i32) -> CertificateParams {
        let mut p = CertificateParams::new(vec!["localhost".to_owned()]).unwrap();
        p.not_before = rcgen::date_time_ymd(from, 1, 1);
        p.not_after = rcgen::date_time_ymd(to, 1, 1);
        p
    }

    /// A CA, and a leaf for localhost it signed, valid over the given years.
    fn signed(from: i32, to: i32) -> (Vec<u8>, CertificateDer<'static>, KeyPair) {
        let ca_key = KeyPair::generate().unwrap();
        let mut ca = params(2020, 2099);
        ca.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let ca_cert = ca.self_signed(&ca_key).unwrap();
        let issuer = rcgen::Issuer::new(ca, ca_key);
        let key = KeyPair::generate().unwrap();
        let leaf = params(from, to).signed_by(&key, &issuer).unwrap();
        (ca_cert.der().to_vec(), leaf.der().clone(), key)
    }

    fn probe_at(addr: SocketAddr, roots: Vec<Vec<u8>>) -> HttpsProbe {
        HttpsProbe {
            host: "localhost".into(),
            port: addr.port(),
            addr: Some(addr),
            timeout: Duration::from_secs(5),
            extra_roots: roots,
            proxy: None,
        }
    }

    /// An HTTP proxy on loopback that opens CONNECT tunnels to `to` whatever they ask for, and
    /// counts them.
    async fn connect_proxy(to: SocketAddr) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let tunnels = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let counted = tunnels.clone();
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let counted = counted.clone();
                tokio::spawn(async move {
                    let mut head = Vec::new();
                    while !head.ends_with(b"\r\n\r\n") {
                        head.push(client.read_u8().await.unwrap());
                    }
                    let head = String::from_utf8_lossy(&head).into_owned();
                    assert!(head.starts_with("CONNECT localhost:"), "{head}");
                    // `inspector:s3cret` as Basic auth, when the test's proxy address names them.
                    let authorised = head.contains("Proxy-Authorization: Basic aW5zcGVjdG9yOnMzY3JldA==\r\n");
                    if head.contains("Proxy-Authorization") && !authorised {
                        client.write_all(b"HTTP/1.1 407 Proxy Authentication Required\r\n\r\n").await.unwrap();
                        return;
                    }
                    counted.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                    let mut server = TcpStream::connect(to).await.unwrap();
                    client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
                });
            }
        });
        (addr, tunnels)
    }

    #[tokio::test]
    async fn behind_a_proxy_the_certificate_is_read_through_its_tunnel() {
        let (ca, leaf, key) = signed(2020, 2099);
        let server = serve(leaf, &key).await;
        let (proxy, tunnels) = connect_proxy(server).await;
        // The name resolves nowhere here: only the tunnel reaches the server.
        let mut p = probe_at(server, vec![ca]);
        p.addr = None;
        p.proxy = Some(format!("http://{proxy}"));
        let r = probe(&p).await;
        assert!(r.ok, "{r:?}");
        assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 1);
        // Credentials in the proxy's address are sent.
        p.proxy = Some(format!("http://inspector:s3cret@{proxy}"));
        assert!(probe(&p).await.ok);
        assert_eq!(tunnels.load(std::sync::atomic::Ordering::SeqCst), 2);
        p.proxy = Some(format!("http://inspector:wrong@{proxy}"));
        let r = probe(&p).await;
        assert!(!r.ok && r.error.as_deref().is_some_and(|e| e.contains("407")), "{r:?}");
        // A proxy that refuses the tunnel: the report says so.
        let refusing = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let at = refusing.local_addr().unwrap();
        tokio::spawn(async move {
            use tokio::io::{AsyncReadExt, AsyncWriteExt};
            let (mut c, _) = refusing.accept().await.unwrap();
            let mut buf = [0u8; 512];
            let _ = c.read(&mut buf).await;
            c.write_all(b"HTTP/1.1 403 Forbidden\r\n\r\n").await.unwrap();
        });
        p.proxy = Some(format!("http://{at}"));
        let r = probe(&p).await;
        assert!(
            !r.ok && r.error.as_deref().is_some_and(|e| e.contains("refused the tunnel") && e.contains("403")),
            "{r:?}"
        );
    }

    #[tokio::test]
    async fn a_certificate_from_a_trusted_root_is_valid_with_its_dates() {
        let (ca, leaf, key) = signed(2020, 2099);
        let addr = serve(leaf, &key).await;
        let r = probe(&probe_at(addr, vec![ca])).await;
        assert!(r.ok, "{r:?}");
        assert!(r.not_before.as_deref().unwrap().starts_with("2020-01-01"));
        assert!(r.not_after.as_deref().unwrap().starts_with("2099-01-01"));
    }

    #[tokio::test]
    async fn an_expired_or_untrusted_certificate_is_invalid_and_still_read() {
        let (ca, leaf, key) = signed(2020, 2021);
        let addr = serve(leaf, &key).await;
        let r = probe(&probe_at(addr, vec![ca])).await;
        assert!(!r.ok);
        assert!(r.error.as_deref().unwrap().to_lowercase().contains("expired"), "{r:?}");
        assert!(r.not_after.as_deref().unwrap().starts_with("2021-01-01"));
        // Self-signed, trusted by no one.
        let key = KeyPair::generate().unwrap();
        let cert = params(2020, 2099).self_signed(&key).unwrap();
        let addr = serve(cert.der().clone(), &key).await;
        let r = probe(&probe_at(addr, vec![])).await;
        assert!(!r.ok);
        assert!(r.error.as_deref().unwrap().contains("invalid certificate"), "{r:?}");
        assert!(r.issuer.is_some() && r.not_before.is_some());
    }

    #[tokio::test]
    async fn a_server_on_tls_1_0_has_no_valid_https_and_the_report_says_why() {
        let (_, cert, key) = crate::legacy::tests::certificates();
        let addr = crate::legacy::tests::old_server(&cert, &key, "old").await;
        let r = probe(&probe_at(addr, vec![])).await;
        assert!(!r.ok);
        assert!(r.error.as_deref().unwrap().contains("only TLS 1.0/1.1"), "{r:?}");
    }

    #[tokio::test]
    async fn no_server_and_a_server_that_never_answers() {
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
        let r = probe(&probe_at(closed, vec![])).await;
        assert!(!r.ok && r.error.as_deref().unwrap().starts_with("connection failed"), "{r:?}");
        let silent = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let mut p = probe_at(silent.local_addr().unwrap(), vec![]);
        p.timeout = Duration::from_millis(300);
        let r = probe(&p).await;
        assert!(r.error.as_deref().unwrap().starts_with("no answer"), "{r:?}");
        drop(silent);
    }
}
