//! Steward's HTTP server: a small REST API over the agent (`/api/v1`, JSON, camelCase), the web
//! console (`/console`, signed in through the tenant's identity provider), the Slack and Teams
//! channels, and the demo chat page. The router is built by [`app`] so tests drive it in-process.
//!
//! The REST API still trusts the `as` field of a request: keep `/api/v1` on loopback (or behind
//! something that authenticates); the console and the channels establish who asks themselves.

mod api;
mod console;
mod error;
mod escalations;
mod limits;
mod playbooks;
mod slack;
mod state;
mod teams;
mod work;

pub use api::{app, app_with_limits};
pub use console::{Console, OidcConfig};
pub use error::ApiError;
pub use limits::Limits;
pub use slack::SlackChannel;
pub use state::{AppState, DemoPerson};
pub use teams::TeamsChannel;
pub use work::{WorkConfig, start_workers};
