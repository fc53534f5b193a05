//! The private-address guard: a link on a crawled page must not steer the crawler into the
//! inspector's own network. Sites the user names are always allowed; everything else that
//! resolves to a loopback, private, link-local or otherwise internal address is refused.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, RwLock};

use reqwest::dns::{Addrs, Name, Resolve, Resolving};

/// Why an address may not be fetched, if it may not.
#[must_use]
pub fn internal_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_reason(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return v4_reason(v4);
            }
            let seg0 = v6.segments()[0];
            if v6.is_loopback() {
                Some("loopback address")
            } else if v6.is_unspecified() {
                Some("unspecified address")
            } else if seg0 & 0xfe00 == 0xfc00 {
                Some("unique local (private) address")
            } else if seg0 & 0xffc0 == 0xfe80 {
                Some("link-local address")
            } else if v6.is_multicast() {
                Some("multicast address")
            } else {
                None
            }
        }
    }
}

fn v4_reason(v4: Ipv4Addr) -> Option<&'static str> {
    let o = v4.octets();
    if v4.is_loopback() {
        Some("loopback address")
    } else if v4.is_private() {
        Some("private address")
    } else if v4.is_link_local() {
        Some("link-local address")
    } else if v4.is_unspecified() || o[0] == 0 {
        Some("unspecified address")
    } else if o[0] == 100 && (o[1] & 0xc0) == 64 {
        Some("shared (carrier-grade NAT) address")
    } else if v4.is_broadcast() || v4.is_multicast() {
        Some("broadcast or multicast address")
    } else {
        None
    }
}

/// The error the guarded resolver gives for a refused name; found again in reqwest's error chain.
#[derive(Debug, thiserror::Error)]
#[error("{host} resolves to {addr} ({reason}); pass --allow-private to fetch it")]
pub struct Blocked {
    /// The host name.
    pub host: String,
    /// The internal address it resolved to.
    pub addr: IpAddr,
    /// What kind of address it is.
    pub reason: &'static str,
}

/// Which hosts may be internal: the user's sites, or everything with `--allow-private`.
#[derive(Debug, Clone, Default)]
pub struct Guard {
    allow_all: bool,
    allowed: Arc<RwLock<HashSet<String>>>,
}

impl Guard {
    /// A guard; `allow_private` lifts it entirely.
    #[must_use]
    pub fn new(allow_private: bool) -> Self {
        Guard { allow_all: allow_private, allowed: Arc::default() }
    }

    /// Allows a host the user named (a site's own host may be on a private network).
    pub fn allow_host(&self, host: &str) {
        self.allowed.write().expect("guard lock").insert(host.to_ascii_lowercase());
    }

    /// Whether `host` may resolve to an internal address.
    #[must_use]
    pub fn host_allowed(&self, host: &str) -> bool {
        self.allow_all || self.allowed.read().expect("guard lock").contains(&host.to_ascii_lowercase())
    }

    /// Checks a URL whose host is an IP literal (those never reach the resolver).
    ///
    /// # Errors
    /// [`Blocked`] when the literal is internal and its host is not allowed.
    pub fn check_literal(&self, url: &url::Url) -> Result<(), Blocked> {
        let ip = match url.host() {
            Some(url::Host::Ipv4(v4)) => IpAddr::V4(v4),
            Some(url::Host::Ipv6(v6)) => IpAddr::V6(v6),
            _ => return Ok(()),
        };
        let host = url.host_str().unwrap_or_default();
        match internal_reason(ip) {
            Some(reason) if !self.host_allowed(host) => Err(Blocked { host: host.to_owned(), addr: ip, reason }),
            _ => Ok(()),
        }
    }
}

/// A DNS resolver (the system's, through tokio) that refuses internal answers for hosts the
/// guard does not allow.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    guard: Guard,
}

impl GuardedResolver {
    /// A resolver applying `guard`.
    #[must_use]
    pub fn new(guard: Guard) -> Self {
        GuardedResolver { guard }
    }
}

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let guard = self.guard.clone();
        Box::pin(async move {
            let host = name.as_str().to_owned();
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            if !guard.host_allowed(&host)
                && let Some((addr, reason)) = addrs.iter().find_map(|a| internal_reason(a.ip()).map(|r| (a.ip(), r)))
            {
                return Err(Box::new(Blocked { host, addr, reason }) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn internal_addresses() {
        for a in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fe80::1",
            "fd00::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(internal_reason(a.parse().unwrap()).is_some(), "{a}");
        }
        for a in ["61.135.169.121", "8.8.8.8", "2400:da00::6666"] {
            assert!(internal_reason(a.parse().unwrap()).is_none(), "{a}");
        }
    }

    #[test]
    fn literals_are_checked_against_allowed_hosts() {
        let g = Guard::new(false);
        let u = url::Url::parse("http://127.0.0.1:8080/x").unwrap();
        assert!(g.check_literal(&u).is_err());
        g.allow_host("127.0.0.1");
        assert!(g.check_literal(&u).is_ok());
        assert!(Guard::new(true).check_literal(&url::Url::parse("http://10.0.0.1/").unwrap()).is_ok());
        assert!(g.check_literal(&url::Url::parse("http://[::1]/").unwrap()).is_err());
    }
}
