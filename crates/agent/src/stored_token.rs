//! A delegated grant's refresh token kept in the tenant's store, sealed with the tenant's key:
//! the token providers save every rotated token here and reload it after a refused refresh
//! (another replica sharing the grant may have rotated it meanwhile).

use steward_store::TenantStore;

/// A refresh token kept in the store under the credential id of its grant.
pub struct StoredToken {
    /// The tenant's store.
    pub store: TenantStore,
    /// Whose grant it is.
    pub owner: String,
    /// The credential id it is kept under (`msgraph`, `okta`, `integration:NAME` …).
    pub credential: String,
}

#[async_trait::async_trait]
impl steward_connectors::msgraph::RefreshTokenStore for StoredToken {
    async fn load(&self) -> Option<String> {
        self.store
            .credential(&self.credential)
            .await
            .ok()
            .map(|c| c.refresh_token.to_string())
    }

    async fn save(&self, refresh_token: &str, scopes: &[String]) {
        if let Err(e) = self
            .store
            .put_credential(&self.credential, &self.owner, scopes, refresh_token)
            .await
        {
            tracing::error!(error = %e, credential = %self.credential, "could not keep the rotated refresh token; the next start may need `steward connect` again");
        }
    }
}
