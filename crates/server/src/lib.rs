//! Steward's HTTP server: a small REST API over the agent (`/api/v1`, JSON, camelCase) and the
//! minimal demo chat page. The router is built by [`app`] so tests drive it in-process.
//!
//! The skeleton trusts the `as` field of a request: bind it to loopback only. Sign-in through the
//! tenant's identity provider arrives with the web console.

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
