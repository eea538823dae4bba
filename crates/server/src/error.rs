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
    /// 500.
    pub fn internal(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal",
            message: message.into(),
        }
    }

    /// 504: the work was accepted and is still running; ask for it again later.
    pub fn still_running(message: impl Into<String>) -> Self {
        Self {
            status: StatusCode::GATEWAY_TIMEOUT,
            code: "stillRunning",
            message: message.into(),
        }
    }

    /// The error as stored with a work item's result, so whichever replica answers gives the same.
    pub fn to_value(&self) -> serde_json::Value {
        json!({"status": self.status.as_u16(), "code": self.code, "message": self.message})
    }

    /// An error stored by [`to_value`](Self::to_value).
    pub fn from_value(v: &serde_json::Value) -> Self {
        let status = v
            .get("status")
            .and_then(serde_json::Value::as_u64)
            .and_then(|s| u16::try_from(s).ok())
            .and_then(|s| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let code = match v.get("code").and_then(serde_json::Value::as_str) {
            Some("unknownRequester") => "unknownRequester",
            Some("notYourConversation") => "notYourConversation",
            Some("notAllowed") => "notAllowed",
            Some("badRequest") => "badRequest",
            Some("refused") => "refused",
            Some("notFound") => "notFound",
            Some("conflict") => "conflict",
            Some("directoryUnavailable") => "directoryUnavailable",
            _ => "internal",
        };
        Self {
            status,
            code,
            message: v
                .get("message")
                .and_then(serde_json::Value::as_str)
                .unwrap_or("the work failed")
                .to_owned(),
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
