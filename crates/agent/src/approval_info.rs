//! "Ask for more info": an approver puts a question to the requester before deciding; the
//! requester's next message in that conversation is the answer, and the request waits again.
//! The exchange is kept on the approval request, in the conversation's transcript and in the
//! audit trail.

use serde::{Deserialize, Serialize};
use serde_json::json;
use steward_audit::RecordKind;
use steward_domain::report::{QuestionView, TurnReport, TurnStatus};
use steward_domain::{ApprovalId, Channel, ConversationId, Principal};
use steward_store::ApprovalStatus;

use crate::approvals::ApprovalRequest;
use crate::conversation::empty_report;
use crate::gateway::CallContext;
use crate::{AgentError, TenantRuntime};

/// Longest question an approver may ask.
const MAX_QUESTION_CHARS: usize = 1000;

/// One question from an approver and, once given, the requester's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InfoRequest {
    /// The approver who asked (sign-in name).
    pub by: String,
    /// The question.
    pub question: String,
    /// When it was asked (RFC 3339).
    pub asked_at: String,
    /// The requester's answer, once given.
    pub answer: Option<String>,
    /// When it was answered.
    pub answered_at: Option<String>,
}

impl TenantRuntime {
    /// An approver asks the requester a question instead of deciding. Their authority is checked
    /// as for a decision; the request then waits for the answer (it still expires on time). The
    /// returned report is what the requester is told.
    pub async fn ask_for_info(
        &self,
        id: ApprovalId,
        approver_upn: &str,
        question: &str,
    ) -> Result<(String, TurnReport), AgentError> {
        let question = question.trim();
        if question.is_empty() || question.chars().count() > MAX_QUESTION_CHARS {
            return Err(AgentError::BadInput(format!(
                "a question for the requester needs between 1 and {MAX_QUESTION_CHARS} characters"
            )));
        }
        let row = self.store.approval(id).await?;
        if row.status != ApprovalStatus::Pending {
            return Err(AgentError::Approval(format!(
                "approval `{id}` is {}, so no question can be put to the requester now",
                row.status
            )));
        }
        let mut request = ApprovalRequest::from_payload(id, row.payload)?;
        let approver = self.identify(approver_upn).await?;
        let requester = self.identify(&request.requester.upn).await?;
        self.check_approver(&approver, &requester, &request, false)
            .await?;
        request.info_requests.push(InfoRequest {
            by: approver.upn.clone(),
            question: question.to_owned(),
            asked_at: chrono::Utc::now().to_rfc3339(),
            answer: None,
            answered_at: None,
        });
        let payload = serde_json::to_value(&request)
            .map_err(|e| AgentError::BadState(id.to_string(), e.to_string()))?;
        self.store
            .exchange_approval_info(
                id,
                ApprovalStatus::Pending,
                ApprovalStatus::InfoRequested,
                &payload,
            )
            .await?;
        let ctx = CallContext {
            principal: &requester,
            channel: request.channel,
            conversation: request.conversation,
            purpose: "approver's question",
            blast_radius: None,
            turn: None,
        };
        let record = self
            .gateway
            .note(
                &ctx,
                RecordKind::ApprovalInfo,
                "asked",
                json!({"approvalId": id, "approver": approver.upn, "question": question}),
            )
            .await;
        self.store
            .append_step(
                request.conversation,
                "approverQuestion",
                &json!({"approvalId": id, "approver": approver.upn, "question": question}),
            )
            .await?;
        let mut report = self.report_for(&requester, request.channel, request.conversation);
        report.status = TurnStatus::AwaitingRequester;
        report.reply = format!(
            "{} is looking at your request ({}) and needs to know more before deciding: {question}\nReply here and I'll pass your answer on.",
            approver.display_name,
            request.summary.trim_end_matches('.').to_lowercase()
        );
        report.question = Some(QuestionView {
            text: question.to_owned(),
            options: Vec::new(),
        });
        report.audit_ids.extend(record);
        let summary = format!("asked {} for more information", requester.upn);
        Ok((summary, report))
    }

    /// If `conversation` has an approval request waiting for the requester's answer, records
    /// `message` as that answer, puts the request back in the approvers' queue and returns the
    /// requester's report; otherwise `None` (the message is an ordinary turn).
    pub(crate) async fn answer_info_request(
        &self,
        principal: &Principal,
        channel: Channel,
        conversation: ConversationId,
        message: &str,
    ) -> Result<Option<TurnReport>, AgentError> {
        let waiting = self
            .store
            .approvals_of_conversation(conversation)
            .await?
            .into_iter()
            .find(|r| r.status == ApprovalStatus::InfoRequested);
        let Some(row) = waiting else {
            return Ok(None);
        };
        let id = row.id;
        let mut request = ApprovalRequest::from_payload(id, row.payload)?;
        let Some(open) = request
            .info_requests
            .iter_mut()
            .rev()
            .find(|q| q.answer.is_none())
        else {
            return Ok(None);
        };
        open.answer = Some(message.to_owned());
        open.answered_at = Some(chrono::Utc::now().to_rfc3339());
        let asked_by = open.by.clone();
        let payload = serde_json::to_value(&request)
            .map_err(|e| AgentError::BadState(id.to_string(), e.to_string()))?;
        self.store
            .exchange_approval_info(
                id,
                ApprovalStatus::InfoRequested,
                ApprovalStatus::Pending,
                &payload,
            )
            .await?;
        let ctx = CallContext {
            principal,
            channel,
            conversation,
            purpose: "requester's answer",
            blast_radius: None,
            turn: None,
        };
        let record = self
            .gateway
            .note(
                &ctx,
                RecordKind::ApprovalInfo,
                "answered",
                json!({"approvalId": id, "approver": asked_by, "answer": message}),
            )
            .await;
        self.store
            .append_step(
                conversation,
                "requesterAnswer",
                &json!({"approvalId": id, "answer": message}),
            )
            .await?;
        let mut report = self.report_for(principal, channel, conversation);
        report.status = TurnStatus::AwaitingApproval;
        report.reply = format!(
            "Thanks, I've passed that on to {asked_by}. Your request is waiting for their decision (approval {id})."
        );
        report.audit_ids.extend(record);
        Ok(Some(report))
    }

    fn report_for(
        &self,
        principal: &Principal,
        channel: Channel,
        conversation: ConversationId,
    ) -> TurnReport {
        empty_report(conversation, principal, channel, self.config.id.as_str())
    }
}
