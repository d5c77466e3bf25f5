//! The opt-in on-disk token cache (`--token-cache DIR`, SECURITY.md "The token cache").
//!
//! One file per (authority, tenant, client id, scope, credential: the certificate's thumbprint).
//! The directory is created 0700 (an existing one others may read is tightened to 0700, one
//! others may write into is refused, and so is a path with an ancestor others could rename:
//! OpenSSH's StrictModes) and files 0600 at creation (never chmod afterwards); a file is written to a
//! temporary name and renamed, so concurrent CI steps never read a torn file. A file that is
//! corrupt, not ours, group/world-accessible, a symlink or oversized is ignored (and replaced
//! by the next write), never trusted. Tokens are reused until 5 minutes before they expire.
//!
//! The cache holds access tokens in plaintext, protected by file permissions only: that is why
//! it is off by default (SECURITY.md).
//!
//! The directory itself is created and checked by `dir`; this module reads and writes the
//! entries in it.

mod dir;

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::clock;
use crate::error::{Error, Result};
use crate::fileio::{self, Replace, Untrusted};
use crate::messages;
use crate::secret::AccessToken;
use crate::token::{MAX_TOKEN_LIFETIME_SECS, Token, is_bearer_token};

/// Tokens are reused until this many seconds before they expire.
pub const REFRESH_MARGIN_SECS: i64 = 300;
const MAX_CACHE_FILE: u64 = 64 * 1024;
const FORMAT_VERSION: u32 = 2;

/// What identifies a cached token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CacheKey {
    pub authority: String,
    pub tenant: String,
    pub client_id: String,
    pub scope: String,
    /// Which credential of the app: `Identity::cache_id` (a certificate's SHA-1 thumbprint).
    pub credential: String,
}

impl CacheKey {
    fn file_name(&self) -> String {
        let text = format!(
            "{}\n{}\n{}\n{}\n{}",
            self.authority, self.tenant, self.client_id, self.scope, self.credential
        );
        let digest = ring::digest::digest(&ring::digest::SHA256, text.as_bytes());
        let hex: String = digest
            .as_ref()
            .iter()
            .take(16)
            .map(|b| format!("{b:02x}"))
            .collect();
        format!("token-{hex}.json")
    }
}

#[derive(Deserialize)]
struct Stored {
    version: u32,
    key: CacheKey,
    token_type: String,
    expires_on: i64,
    ext_expires_in: Option<i64>,
    access_token: AccessToken,
}

#[derive(Serialize)]
struct StoredRef<'a> {
    version: u32,
    key: &'a CacheKey,
    token_type: &'a str,
    expires_on: i64,
    ext_expires_in: Option<i64>,
    access_token: &'a str,
}

/// A token cache directory.
#[derive(Debug)]
pub struct TokenCache {
    dir: PathBuf,
}

impl TokenCache {
    /// Opens (creating with mode 0700 if needed) the cache directory.
    ///
    /// The directory must be this user's own, a real directory (not a symlink), and not
    /// writable by anyone else; one that others may read or enter is tightened to 0700 (with
    /// a warning), as the README promises 0700. Every ancestor of it must belong to this user
    /// or root and not be writable by others unless sticky (`dir_trust`, OpenSSH's
    /// StrictModes): whoever can rename an ancestor can swap the whole cache.
    pub fn open(dir: &Path) -> Result<Self> {
        dir::prepare(dir)?;
        Ok(TokenCache {
            dir: dir.to_path_buf(),
        })
    }

    fn path(&self, key: &CacheKey) -> PathBuf {
        self.dir.join(key.file_name())
    }

    /// A cached token for `key` valid for at least 5 more minutes, if one can be trusted.
    pub fn get(&self, key: &CacheKey) -> Option<Token> {
        let path = self.path(key);
        match self.read(&path, key) {
            Ok(token) => token,
            Err(why) => {
                messages::trace(&format!("token cache: ignoring {}: {why}", path.display()));
                None
            }
        }
    }

    fn read(&self, path: &Path, key: &CacheKey) -> Result<Option<Token>, String> {
        let bytes = match fileio::read_own_private(path, MAX_CACHE_FILE) {
            Ok(b) => b,
            Err(Untrusted::Missing) => return Ok(None),
            Err(why) => return Err(why.to_string()),
        };
        let stored: Stored = serde_json::from_slice(&bytes).map_err(|_| "corrupt".to_string())?;
        if stored.version != FORMAT_VERSION || &stored.key != key {
            return Err("written for another key or version".into());
        }
        let now = clock::now_unix();
        // Whatever wrote this file (an older graphd, another program running as this user),
        // a token is served only if a fresh answer with it would have been accepted.
        if stored.expires_on > now.saturating_add(MAX_TOKEN_LIFETIME_SECS) {
            return Err("its expiry is further ahead than any token lives".into());
        }
        if !is_bearer_token(stored.access_token.expose_secret()) {
            return Err("it holds an unusable token".into());
        }
        if stored.expires_on.saturating_sub(REFRESH_MARGIN_SECS) <= now {
            messages::trace(
                "token cache: cached token expires within 5 minutes; fetching a new one",
            );
            return Ok(None);
        }
        messages::trace("token cache: hit");
        Ok(Some(Token {
            access_token: stored.access_token,
            token_type: stored.token_type,
            expires_in: stored.expires_on - now,
            expires_on: stored.expires_on,
            ext_expires_in: stored.ext_expires_in,
        }))
    }

    /// Stores `token` atomically: a 0600 temporary file in the same directory, then rename.
    pub fn put(&self, key: &CacheKey, token: &Token) -> Result<()> {
        let path = self.path(key);
        let bytes = encode(key, token)?;
        fileio::write_atomic(&path, &bytes, 0o600, Replace::Atomically).map_err(|source| {
            Error::File {
                path: path.clone(),
                action: "write the token cache",
                source,
                hint: None,
            }
        })
    }
}

/// A cache file's contents, in zeroizing memory.
fn encode(key: &CacheKey, token: &Token) -> Result<Zeroizing<Vec<u8>>> {
    let stored = StoredRef {
        version: FORMAT_VERSION,
        key,
        token_type: &token.token_type,
        expires_on: token.expires_on,
        ext_expires_in: token.ext_expires_in,
        access_token: token.access_token.expose_secret(),
    };
    // Measured first, then written into a buffer of exactly that size, so it never
    // reallocates (a reallocation frees an unwiped copy of the token), however long the
    // scope or the other parts of the key are.
    let mut bytes = Zeroizing::new(Vec::with_capacity(serialized_len(&stored)?));
    serde_json::to_writer(&mut *bytes, &stored).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(bytes)
}

/// The length of `value`'s JSON, counted without storing it.
fn serialized_len(value: &impl Serialize) -> Result<usize> {
    struct Count(usize);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut count = Count(0);
    serde_json::to_writer(&mut count, value).map_err(|e| Error::Internal(e.to_string()))?;
    Ok(count.0)
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn key() -> CacheKey {
        CacheKey {
            authority: "https://login.microsoftonline.com".into(),
            tenant: "t".into(),
            client_id: "c".into(),
            scope: "https://graph.microsoft.com/.default".into(),
            credential: "AB".into(),
        }
    }

    fn token(expires_in: i64) -> Token {
        Token {
            access_token: AccessToken::new("header.payload.sig".into()),
            token_type: "Bearer".into(),
            expires_in,
            expires_on: clock::now_unix() + expires_in,
            ext_expires_in: None,
        }
    }

    #[test]
    fn round_trip_and_refresh_margin() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::open(&dir.path().join("c")).unwrap();
        let mode = fs::metadata(dir.path().join("c"))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o700);
        assert!(cache.get(&key()).is_none());
        cache.put(&key(), &token(3599)).unwrap();
        let mode = fs::metadata(cache.path(&key()))
            .unwrap()
            .permissions()
            .mode()
            & 0o777;
        assert_eq!(mode, 0o600);
        assert_eq!(
            cache.get(&key()).unwrap().access_token.expose_secret(),
            "header.payload.sig"
        );
        let mut other = key();
        other.scope = "api://x/.default".into();
        assert!(cache.get(&other).is_none());
        cache.put(&key(), &token(299)).unwrap();
        assert!(cache.get(&key()).is_none(), "within 5 minutes of expiry");
    }

    #[test]
    fn untrusted_files_are_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::open(dir.path()).unwrap();
        let path = cache.path(&key());
        cache.put(&key(), &token(3599)).unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        assert!(cache.get(&key()).is_none(), "world-readable");
        fs::write(&path, b"{\"version\":1,").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        assert!(cache.get(&key()).is_none(), "truncated");
        fs::remove_file(&path).unwrap();
        let target = dir.path().join("elsewhere");
        cache.put(&key(), &token(3599)).unwrap();
        fs::rename(&path, &target).unwrap();
        std::os::unix::fs::symlink(&target, &path).unwrap();
        assert!(cache.get(&key()).is_none(), "symlink");
        cache.put(&key(), &token(3599)).unwrap();
        assert!(cache.get(&key()).is_some(), "replaced by a fresh write");
    }

    /// Issue 16, findings 4 and 5: a cache entry is trusted no more than a fresh answer.
    #[test]
    fn entries_a_fresh_answer_would_fail_are_not_served() {
        let dir = tempfile::tempdir().unwrap();
        let cache = TokenCache::open(dir.path()).unwrap();
        let mut forever = token(3599);
        forever.expires_on = i64::MAX;
        cache.put(&key(), &forever).unwrap();
        assert!(cache.get(&key()).is_none(), "expires_on i64::MAX");
        let mut long = token(3599);
        long.expires_on = clock::now_unix() + MAX_TOKEN_LIFETIME_SECS + 60;
        cache.put(&key(), &long).unwrap();
        assert!(cache.get(&key()).is_none(), "beyond the longest lifetime");
        let mut bad = token(3599);
        bad.access_token = AccessToken::new("a.b\r\nX-Injected: 1".into());
        cache.put(&key(), &bad).unwrap();
        assert!(cache.get(&key()).is_none(), "CR LF in the token");
        cache.put(&key(), &token(MAX_TOKEN_LIFETIME_SECS)).unwrap();
        assert!(
            cache.get(&key()).is_some(),
            "the longest lifetime is served"
        );
    }

    #[test]
    fn an_entry_is_encoded_in_one_allocation() {
        let mut big = key();
        big.scope = format!("api://{}/.default", "s\"".repeat(5_000));
        let mut t = token(3599);
        t.access_token = AccessToken::new("t".repeat(50_000));
        let bytes = encode(&big, &t).unwrap();
        assert_eq!(bytes.len(), bytes.capacity(), "sized exactly, never grown");
        assert!(bytes.len() > 60_000);
    }
}
