use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// What step of a conversation a record documents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum RecordKind {
    /// A request arrived (who, through which channel, how identified).
    RequestReceived,
    /// A read-only call and what it returned.
    Investigation,
    /// A policy decision.
    Decision,
    /// An approval was requested.
    ApprovalRequested,
    /// A human approved or denied.
    ApprovalDecided,
    /// A mutating call is about to be made (committed before the call).
    Intent,
    /// What the call returned.
    Outcome,
    /// The read-back after a change.
    Verification,
    /// What Steward told the requester.
    Reply,
    /// Handed over to a human.
    Escalation,
    /// The policy set in force changed (reload, standing approval created, used or revoked).
    PolicyAmendment,
    /// A candidate policy set in shadow mode would have decided differently (not enforced).
    ShadowDecision,
    /// An approver asked the requester for more information, or the requester answered.
    ApprovalInfo,
    /// A delegated credential was connected (an admin signed in), replaced or revoked: whose
    /// grant Steward acts with, and its scopes.
    CredentialChange,
    /// The configured reasoner (a language model) could not propose a step: who took over, or
    /// that the request was escalated, and why.
    ReasonerFailure,
}

impl RecordKind {
    /// The camelCase name used in the store and in exports.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::RequestReceived => "requestReceived",
            Self::Investigation => "investigation",
            Self::Decision => "decision",
            Self::ApprovalRequested => "approvalRequested",
            Self::ApprovalDecided => "approvalDecided",
            Self::Intent => "intent",
            Self::Outcome => "outcome",
            Self::Verification => "verification",
            Self::Reply => "reply",
            Self::Escalation => "escalation",
            Self::PolicyAmendment => "policyAmendment",
            Self::ShadowDecision => "shadowDecision",
            Self::ApprovalInfo => "approvalInfo",
            Self::CredentialChange => "credentialChange",
            Self::ReasonerFailure => "reasonerFailure",
        }
    }
}

impl fmt::Display for RecordKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The content of one audit record, before it is placed in the chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditEntry {
    /// The tenant whose chain the record belongs to.
    pub tenant: String,
    /// When it happened.
    pub time: DateTime<Utc>,
    /// Which step.
    pub kind: RecordKind,
    /// The conversation it belongs to.
    pub conversation: Option<String>,
    /// The requesting person (sign-in name).
    pub requester: Option<String>,
    /// The person whose delegated credential acted.
    pub actor: Option<String>,
    /// The scopes of that credential.
    pub actor_scopes: Vec<String>,
    /// The channel.
    pub channel: Option<String>,
    /// The action, if the step concerns one.
    pub action: Option<String>,
    /// Its parameters, secrets redacted.
    pub params: Value,
    /// Ids (and names) of the objects touched.
    pub targets: Vec<String>,
    /// `auto`, `ask`, `deny`, `executed`, `failed`, … depending on the kind.
    pub outcome: Option<String>,
    /// Kind-specific details (deciding policies, before/after values, error text).
    pub detail: Value,
    /// The platform's own request id, to correlate with its logs.
    pub platform_request_id: Option<String>,
}

impl AuditEntry {
    /// A record of `kind` for `tenant` now, with everything else empty.
    pub fn new(tenant: impl Into<String>, kind: RecordKind) -> Self {
        Self {
            tenant: tenant.into(),
            time: Utc::now(),
            kind,
            conversation: None,
            requester: None,
            actor: None,
            actor_scopes: Vec::new(),
            channel: None,
            action: None,
            params: Value::Null,
            targets: Vec::new(),
            outcome: None,
            detail: Value::Null,
            platform_request_id: None,
        }
    }

    /// The canonical encoding that is hashed: JSON with struct fields in declaration order and
    /// object keys sorted, so the same entry always hashes the same.
    pub fn canonical(&self) -> String {
        // Values re-serialized through `serde_json::Value` have sorted keys (no
        // `preserve_order`), which makes nested objects canonical too.
        serde_json::to_value(self)
            .map(|v| v.to_string())
            .unwrap_or_default()
    }

    /// Places the entry in the chain after the record with `prev_hash`.
    pub fn seal(self, seq: i64, prev_hash: &str) -> AuditRecord {
        let hash = chain_hash(seq, prev_hash, &self.canonical());
        AuditRecord {
            seq,
            prev_hash: prev_hash.to_owned(),
            hash,
            entry: self,
        }
    }
}

/// One sealed record of a tenant's chain.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AuditRecord {
    /// Position in the tenant's chain, from 1, without gaps.
    pub seq: i64,
    /// Hash of the previous record (or the genesis hash).
    pub prev_hash: String,
    /// Hash of this record.
    pub hash: String,
    /// The content.
    pub entry: AuditEntry,
}

pub(crate) fn chain_hash(seq: i64, prev_hash: &str, canonical: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(prev_hash.as_bytes());
    hasher.update(b"\n");
    hasher.update(seq.to_string().as_bytes());
    hasher.update(b"\n");
    hasher.update(canonical.as_bytes());
    hex::encode(hasher.finalize())
}
