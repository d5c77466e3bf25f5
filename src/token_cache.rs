//! The opt-in on-disk token cache (`--token-cache DIR`, SECURITY.md "The token cache").
//!
//! One file per (authority, tenant, client id, scope, credential: the certificate's thumbprint).
//! The directory is
//! created 0700 and files 0600 at creation (never chmod afterwards); a file is written to a
//! temporary name and renamed, so concurrent CI steps never read a torn file. A file that is
//! corrupt, not ours, group/world-accessible, a symlink or oversized is ignored (and replaced
//! by the next write), never trusted. Tokens are reused until 5 minutes before they expire.
//!
//! The cache holds access tokens in plaintext, protected by file permissions only: that is why
//! it is off by default (SECURITY.md).

use std::fs;
use std::os::unix::fs::{DirBuilderExt, MetadataExt};
use std::path::{Path, PathBuf};

use openssl::hash::{MessageDigest, hash};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::clock;
use crate::error::{ConfigProblem, Error, Result};
use crate::fileio::{self, Replace, Untrusted};
use crate::messages;
use crate::secret::AccessToken;
use crate::token::Token;

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
        let digest = hash(MessageDigest::sha256(), text.as_bytes())
            .map(|d| d.to_vec())
            .unwrap_or_default();
        let hex: String = digest.iter().take(16).map(|b| format!("{b:02x}")).collect();
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
    /// Opens (creating with mode 0700 if needed) the cache directory. A directory that other
    /// users could write into is refused: they could swap files under graphd.
    pub fn open(dir: &Path) -> Result<Self> {
        let fail = |action, source| Error::File {
            path: dir.to_path_buf(),
            action,
            source,
            hint: Some(
                "--token-cache (GRAPHD_TOKEN_CACHE) must be a directory you own".to_string(),
            ),
        };
        match fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
        {
            Ok(()) => {}
            Err(e) => return Err(fail("create the token cache directory", e)),
        }
        let meta = fs::symlink_metadata(dir).map_err(|e| fail("inspect", e))?;
        if !meta.is_dir()
            || meta.uid() != rustix::process::geteuid().as_raw()
            || meta.mode() & 0o022 != 0
        {
            return Err(Error::Config(ConfigProblem::TokenCacheDir {
                path: dir.to_path_buf(),
            }));
        }
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
        if stored.expires_on - REFRESH_MARGIN_SECS <= now {
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
        let stored = StoredRef {
            version: FORMAT_VERSION,
            key,
            token_type: &token.token_type,
            expires_on: token.expires_on,
            ext_expires_in: token.ext_expires_in,
            access_token: token.access_token.expose_secret(),
        };
        // Room for the token and everything around it, so the buffer never reallocates.
        let capacity = token.access_token.expose_secret().len() + 1024;
        let mut bytes = Zeroizing::new(Vec::with_capacity(capacity));
        serde_json::to_writer(&mut *bytes, &stored).map_err(|e| Error::Internal(e.to_string()))?;
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

#[cfg(test)]
mod tests {
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

    #[test]
    fn a_shared_directory_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        fs::set_permissions(dir.path(), fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(TokenCache::open(dir.path()).unwrap_err().exit_code(), 3);
    }
}
