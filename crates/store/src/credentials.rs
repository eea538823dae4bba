//! Delegated credentials kept by the store: whose grant, its scopes, and the refresh token sealed
//! with the tenant's data key (so it is unreadable at rest and shredded with the tenant).

use chrono::Utc;
use zeroize::Zeroizing;

use crate::db::on_db;
use crate::{StoreError, TenantStore};

/// A stored delegated credential.
#[derive(Clone)]
pub struct StoredCredential {
    /// Its id (e.g. `msgraph`).
    pub id: String,
    /// Whose grant it is (their sign-in name).
    pub owner: String,
    /// The scopes granted.
    pub scopes: Vec<String>,
    /// The refresh token (wiped from memory when dropped).
    pub refresh_token: Zeroizing<String>,
    /// When it was last written (RFC 3339).
    pub updated_at: String,
}

impl std::fmt::Debug for StoredCredential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoredCredential")
            .field("id", &self.id)
            .field("owner", &self.owner)
            .field("scopes", &self.scopes)
            .field("refresh_token", &"[redacted]")
            .finish()
    }
}

impl TenantStore {
    /// Saves (or replaces, e.g. after the platform rotated the refresh token) credential `id`.
    pub async fn put_credential(
        &self,
        id: &str,
        owner: &str,
        scopes: &[String],
        refresh_token: &str,
    ) -> Result<(), StoreError> {
        let sealed = self.key.seal(refresh_token, "credential.secret")?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO credentials (tenant, id, owner, scopes, secret, updated_at) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (tenant, id) DO UPDATE SET owner = excluded.owner, scopes = excluded.scopes, secret = excluded.secret, updated_at = excluded.updated_at",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .bind(owner)
        .bind(scopes.join(" "))
        .bind(&sealed)
        .bind(Utc::now().to_rfc3339())
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(())
    }

    /// Credential `id` of this tenant, its refresh token opened.
    pub async fn credential(&self, id: &str) -> Result<StoredCredential, StoreError> {
        let row: Option<(String, String, String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT owner, scopes, secret, updated_at FROM credentials WHERE tenant = $1 AND id = $2",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .fetch_optional(pool)
        .await)?;
        let (owner, scopes, secret, updated_at) = row.ok_or_else(|| StoreError::NotFound {
            what: "credential",
            id: id.to_owned(),
        })?;
        Ok(StoredCredential {
            id: id.to_owned(),
            owner,
            scopes: scopes.split_whitespace().map(str::to_owned).collect(),
            refresh_token: Zeroizing::new(self.key.open(&secret, "credential.secret")?),
            updated_at,
        })
    }

    /// Forgets credential `id` (a revoked grant); false if there was none.
    pub async fn delete_credential(&self, id: &str) -> Result<bool, StoreError> {
        let done = on_db!(&self.db, pool => sqlx::query(
            "DELETE FROM credentials WHERE tenant = $1 AND id = $2",
        )
        .bind(self.tenant.as_str())
        .bind(id)
        .execute(pool)
        .await
        .map(|r| r.rows_affected()))?;
        Ok(done == 1)
    }
}
