//! Passwords, session tokens and what a user may see: argon2 hashes (the `argon2` crate, PHC
//! strings), tokens from the system's random source, and each role's scope.

use argon2::Argon2;
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use sha2::{Digest, Sha256};
use sitecensus_store::accounts::{Role, User};
use sitecensus_store::browse::Scope;

/// Why a password could not be hashed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The system's random source failed.
    #[error("no random bytes from the system: {0}")]
    Random(String),
    /// Hashing failed.
    #[error("hashing the password failed: {0}")]
    Hash(String),
}

/// `n` random bytes from the system, as lowercase hex.
///
/// # Errors
/// When the system gives no random bytes.
pub fn random_hex(n: usize) -> Result<String, AuthError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes).map_err(|e| AuthError::Random(e.to_string()))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The digest a session token is stored under (SHA-256, hex): the store never holds a token.
#[must_use]
pub fn token_digest(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// A password's argon2id hash, as a PHC string with its own salt.
///
/// # Errors
/// When the system gives no random bytes, or hashing fails.
pub fn hash_password(password: &str) -> Result<String, AuthError> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AuthError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AuthError::Hash(e.to_string()))?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AuthError::Hash(e.to_string()))
}

/// Whether `password` is the one `hash` was made from.
#[must_use]
pub fn verify_password(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|h| Argon2::default().verify_password(password.as_bytes(), &h).is_ok())
}

/// What a user may see. An office without a region, or a site team without sites, sees nothing.
#[must_use]
pub fn scope_of(user: &User) -> Scope {
    match user.role {
        Role::Admin | Role::National | Role::Auditor => Scope::All,
        Role::Province | Role::City => match user.region.as_deref().filter(|r| !r.is_empty()) {
            Some(prefix) => Scope::Region(prefix.to_owned()),
            None => Scope::Sites(Vec::new()),
        },
        Role::SiteTeam => Scope::Sites(user.sites.clone()),
    }
}

/// A division code as the prefix of the codes under it: `360000` → `36`, `360100` → `3601`,
/// `360102` → `360102` (a province's office sees every code of its province).
#[must_use]
pub fn region_prefix(code: &str) -> String {
    let mut c = code.trim();
    while c.len() > 2 && c.ends_with("00") {
        c = &c[..c.len() - 2];
    }
    c.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves_and_tokens_are_random() {
        let h = hash_password("正确的密码 horse").unwrap();
        assert!(h.starts_with("$argon2id$"), "{h}");
        assert!(verify_password("正确的密码 horse", &h));
        assert!(!verify_password("正确的密码 hors", &h));
        assert!(!verify_password("x", "not a hash"));
        assert_ne!(hash_password("a").unwrap(), hash_password("a").unwrap(), "each hash has its own salt");
        let (a, b) = (random_hex(32).unwrap(), random_hex(32).unwrap());
        assert_eq!(a.len(), 64);
        assert_ne!(a, b);
        assert_eq!(token_digest("t"), token_digest("t"));
        assert_ne!(token_digest("t"), "t");
    }

    #[test]
    fn division_codes_become_prefixes() {
        assert_eq!(region_prefix("360000"), "36");
        assert_eq!(region_prefix("360100"), "3601");
        assert_eq!(region_prefix("360102"), "360102");
        assert_eq!(region_prefix("110000"), "11");
    }
}
