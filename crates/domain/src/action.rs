use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::{DomainError, TargetKind};

/// An action's name, `system.resource.verb` (e.g. `entra.user.reset_password`); also its Cedar
/// action id, so policies name actions exactly as the catalog does.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ActionName(String);

impl ActionName {
    /// Checks the three dot-separated lower-case parts.
    pub fn new(name: impl Into<String>) -> Result<Self, DomainError> {
        let name = name.into();
        let parts: Vec<&str> = name.split('.').collect();
        let ok = parts.len() == 3
            && parts.iter().all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
            });
        if ok {
            Ok(Self(name))
        } else {
            Err(DomainError::BadActionName(name))
        }
    }

    /// The name as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for ActionName {
    type Error = DomainError;
    fn try_from(value: String) -> Result<Self, Self::Error> {
        Self::new(value)
    }
}

impl From<ActionName> for String {
    fn from(value: ActionName) -> Self {
        value.0
    }
}

impl fmt::Display for ActionName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// How much harm a wrong execution could do; policies and approvals key on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Read-only or trivially reversible.
    Low,
    /// Reversible change to one account.
    Medium,
    /// Hard to reverse or security-relevant.
    High,
    /// Destroys data or access (delete, wipe).
    Critical,
}

impl Risk {
    /// The risk as a 0–100 score, the form policies compare (Cedar has no floats).
    pub fn score(self) -> i64 {
        match self {
            Self::Low => 10,
            Self::Medium => 40,
            Self::High => 70,
            Self::Critical => 95,
        }
    }

    /// The lower-case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Medium => "medium",
            Self::High => "high",
            Self::Critical => "critical",
        }
    }
}

/// Where in an action's parameters a target is named, and what kind of object it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetParam {
    /// The top-level parameter holding the object's id or sign-in name.
    pub param: String,
    /// What the parameter names.
    pub kind: TargetKind,
}

/// Everything the gateway must know about an action before it may run: its parameters' schema,
/// whether it changes anything, its risk, where its targets are, how to undo it and how to check it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionSpec {
    /// `system.resource.verb`.
    pub name: ActionName,
    /// One line for people and for plans.
    pub summary: String,
    /// JSON Schema of the parameters.
    pub params_schema: Value,
    /// Changes state outside Steward (as opposed to a read-only investigation).
    pub mutating: bool,
    /// How much harm a wrong execution could do.
    pub risk: Risk,
    /// Where the targets are named in the parameters.
    pub targets: Vec<TargetParam>,
    /// The action that undoes this one, if any.
    pub undo: Option<ActionName>,
    /// What is read back afterwards to prove the change took effect.
    pub verification: String,
    /// The vendor calls it makes, as the vendor documents them (`POST /users/{id}/revokeSignInSessions`).
    #[serde(default)]
    pub calls: Vec<String>,
    /// The delegated permissions its calls need (least privileged first): each call accepts at
    /// least one of them. Named to the admin when the platform refuses for want of consent.
    #[serde(default)]
    pub permissions: Vec<String>,
}

impl ActionSpec {
    /// The system the action belongs to (`entra` of `entra.user.get`).
    pub fn system(&self) -> &str {
        self.name.as_str().split('.').next().unwrap_or_default()
    }

    /// Checks parameters against the schema; the gateway's first step, so a malformed call never
    /// reaches policy or a connector.
    pub fn validate_params(&self, params: &Value) -> Result<(), DomainError> {
        let validator =
            jsonschema::validator_for(&self.params_schema).map_err(|e| DomainError::BadSchema {
                action: self.name.to_string(),
                reason: e.to_string(),
            })?;
        let problems: Vec<String> = validator
            .iter_errors(params)
            .map(|e| {
                let at = e.instance_path().to_string();
                if at.is_empty() {
                    e.to_string()
                } else {
                    format!("{at}: {e}")
                }
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(DomainError::InvalidParams {
                action: self.name.to_string(),
                problems: problems.join("; "),
            })
        }
    }
}

/// One change an action would make, read from the live system before it runs: what an approver
/// sees as "current → proposed".
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The object changed (a sign-in name or a group's name).
    pub target: String,
    /// The property or relationship.
    pub field: String,
    /// Its value now.
    pub current: Value,
    /// Its value after the action.
    pub proposed: Value,
}

/// A proposed call of one action with its parameters, as a reasoner emits it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionCall {
    /// The action to call.
    pub action: ActionName,
    /// Its parameters (checked against the action's schema by the gateway).
    pub params: Value,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn action_names_need_three_lower_case_parts() {
        assert!(ActionName::new("entra.user.reset_password").is_ok());
        for bad in [
            "entra.user",
            "Entra.user.get",
            "entra..get",
            "a.b.c.d",
            "entra.user.get now",
        ] {
            assert!(ActionName::new(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn params_are_checked_against_the_schema() {
        let spec = ActionSpec {
            name: ActionName::new("entra.user.get").unwrap(),
            summary: "get".into(),
            params_schema: json!({"type":"object","required":["user"],"properties":{"user":{"type":"string","minLength":1}},"additionalProperties":false}),
            mutating: false,
            risk: Risk::Low,
            targets: vec![],
            undo: None,
            verification: String::new(),
            calls: vec![],
            permissions: vec![],
        };
        assert!(spec.validate_params(&json!({"user":"a@b.c"})).is_ok());
        let err = spec
            .validate_params(&json!({"user": 3, "extra": true}))
            .unwrap_err();
        let text = err.to_string();
        assert!(text.contains("entra.user.get"), "{text}");
        assert!(text.contains("/user"), "{text}");
    }
}
