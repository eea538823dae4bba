use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use steward_agent::AgentError;
use steward_store::StoreError;

/// The small set of errors the API answers with: `{"error": {"code", "message"}}`.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// 400.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "badRequest",
            message: message.into(),
        }
    }
    /// 404.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "notFound",
            message: message.into(),
        }
    }
}

impl From<AgentError> for ApiError {
    fn from(e: AgentError) -> Self {
        let (status, code) = match &e {
            AgentError::UnknownRequester(_) => (StatusCode::FORBIDDEN, "unknownRequester"),
            AgentError::NotYourConversation(_) => (StatusCode::FORBIDDEN, "notYourConversation"),
            AgentError::NotAllowed(_) => (StatusCode::FORBIDDEN, "notAllowed"),
            AgentError::BadInput(_) => (StatusCode::BAD_REQUEST, "badRequest"),
            AgentError::Approval(_) => (StatusCode::CONFLICT, "refused"),
            AgentError::Store(StoreError::NotFound { .. }) => (StatusCode::NOT_FOUND, "notFound"),
            AgentError::Store(StoreError::Conflict { .. }) => (StatusCode::CONFLICT, "conflict"),
            AgentError::Directory(_) => (StatusCode::BAD_GATEWAY, "directoryUnavailable"),
            AgentError::Store(_) | AgentError::BadState(..) | AgentError::Policy(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        };
        Self {
            status,
            code,
            message: e.to_string(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        AgentError::Store(e).into()
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        (
            self.status,
            Json(json!({"error": {"code": self.code, "message": self.message}})),
        )
            .into_response()
    }
}
