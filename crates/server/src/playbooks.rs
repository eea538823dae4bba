//! `POST /api/v1/playbooks/onboard` and `/offboard`: a playbook run for the requester named in
//! the body, answered with its step-by-step report.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use serde::Deserialize;
use serde_json::Value;
use steward_agent::playbooks::{Offboarding, Onboarding, PlaybookReport};
use steward_domain::Channel;

use crate::error::ApiError;
use crate::state::AppState;

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PlaybookBody<T> {
    tenant: Option<String>,
    #[serde(rename = "as")]
    requester: String,
    channel: Option<Channel>,
    #[serde(flatten)]
    plan: T,
}

fn encode(report: &PlaybookReport) -> Result<Json<Value>, ApiError> {
    serde_json::to_value(report)
        .map(Json)
        .map_err(|e| ApiError::internal(format!("the report could not be encoded: {e}")))
}

pub(crate) async fn onboard(
    State(state): State<AppState>,
    payload: Result<Json<PlaybookBody<Onboarding>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = crate::api::body(payload)?;
    let runtime = state.tenant(req.tenant.as_deref())?;
    let report = runtime
        .onboard(
            &req.requester,
            req.channel.unwrap_or(Channel::Web),
            &req.plan,
        )
        .await?;
    encode(&report)
}

pub(crate) async fn offboard(
    State(state): State<AppState>,
    payload: Result<Json<PlaybookBody<Offboarding>>, JsonRejection>,
) -> Result<Json<Value>, ApiError> {
    let req = crate::api::body(payload)?;
    let runtime = state.tenant(req.tenant.as_deref())?;
    let report = runtime
        .offboard(
            &req.requester,
            req.channel.unwrap_or(Channel::Web),
            &req.plan,
        )
        .await?;
    encode(&report)
}
