//! The LLM reasoner: a language model, reached through an OpenAI-compatible or Anthropic API,
//! proposes each step as a tool call. It is only ever a proposer: every call it names goes
//! through the same gateway (schema, policy, approval, audit) as the builtin reasoner's, what
//! is mutating is decided by the catalog and never by the model, and a reply it cannot be
//! understood from is an error the conversation loop handles (fallback or escalation).

mod decode;
mod prompt;
mod tools;
mod transcript;

use steward_domain::{Step, TokenUsage};
use steward_llm::{ChatRequest, ModelClient};

use super::builtin::BuiltinReasoner;
use super::{Proposal, Reasoner, ReasonerError, ReasonerInput};
use crate::ObservedResult;

/// How many of the catalog's actions are offered to the model at once (besides the ones
/// always offered and the ones already used): enough for any one request, few enough that the
/// model is not distracted and the prompt stays small.
const OFFERED_ACTIONS: usize = 10;

/// Whether a result still waits for an approval.
fn waiting(result: &ObservedResult) -> bool {
    match result {
        ObservedResult::PendingApproval { .. } => true,
        ObservedResult::Bulk { results } => results.iter().any(waiting),
        _ => false,
    }
}

/// A reasoner backed by a language model. The tools it offers come from each turn's
/// [`ReasonerInput::catalog`] (the only actions that can run), so a system attached while
/// Steward runs is offered from the next turn on.
#[derive(Debug)]
pub struct LlmReasoner {
    client: ModelClient,
}

impl LlmReasoner {
    /// A reasoner asking `client`'s model.
    pub fn new(client: ModelClient) -> Self {
        Self { client }
    }
}

#[async_trait::async_trait]
impl Reasoner for LlmReasoner {
    async fn next(&self, input: &ReasonerInput<'_>) -> Result<Proposal, ReasonerError> {
        // While a proposed change waits for a human, the model waits too: it continues from the
        // change's outcome once decided (the conversation loop tells the requester it waits).
        if input.observations.iter().any(|o| waiting(&o.result)) {
            return Ok(Proposal::free(Step::Done));
        }
        let conversation = transcript::Transcript::of(input);
        if conversation.finished() {
            return Ok(Proposal::free(Step::Done));
        }
        let offered = tools::offer(input.catalog, input, OFFERED_ACTIONS);
        let request = ChatRequest {
            system: prompt::system(input, chrono::Utc::now().date_naive()),
            turns: conversation.turns,
            tools: offered.definitions(),
        };
        let reply = self.client.complete(&request).await?;
        let step = decode::step(&reply, input.catalog)?;
        Ok(Proposal {
            step,
            tokens: TokenUsage {
                input: reply.usage.input,
                output: reply.usage.output,
            },
        })
    }

    /// The request's label comes from the offline reading of the first message (a label only:
    /// the model decides the steps).
    fn intent(&self, input: &ReasonerInput<'_>) -> Option<String> {
        BuiltinReasoner.understood(input)
    }

    fn name(&self) -> String {
        format!("llm:{}", self.client.config().name)
    }
}
