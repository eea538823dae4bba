//! Command-line arguments.
#![expect(
    missing_docs,
    reason = "clap turns doc comments into help text; the argument structs and subcommand fields are plumbing whose help lives on the variants"
)]

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Steward: an autonomous IT engineer that acts only inside governed limits.
#[derive(Debug, Parser)]
#[command(name = "steward", version, about)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run Steward against a built-in simulated Microsoft 365 tenant (no configuration needed).
    Demo(DemoArgs),
    /// Run Steward for the tenants of a configuration file.
    Serve(ServeArgs),
    /// Connect Steward to a tenant: an administrator signs in (authorization code with PKCE) and
    /// Steward keeps their delegated grant, sealed, for `serve` to act with.
    Connect(ConnectArgs),
    /// The action catalogue: what Steward can do and what each action needs.
    Actions(ActionsArgs),
    /// Ask Steward to fix something, as a given person.
    Ask(AskArgs),
    /// Run a playbook (onboarding, offboarding), every step through policy, approval and audit.
    Playbook(PlaybookArgs),
    /// Inspect the audit trail.
    Audit(AuditArgs),
    /// Validate and explain policies.
    Policy(PolicyArgs),
    /// List and decide approval requests.
    Approvals(ApprovalsArgs),
    /// The requests handed to the IT team, each with everything found and tried.
    Escalations(EscalationsArgs),
    /// Connect a REST API nobody wrote a connector for, from its OpenAPI 3.0/3.1 or Swagger 2.0
    /// document: one action per operation, disabled until an admin accepts its policies.
    Integrations(IntegrationsArgs),
    /// Measure and print performance figures.
    Bench(BenchArgs),
    /// Run a case set on fresh simulated tenants and report how many requests were handled
    /// correctly, judged by each tenant's end state (see eval/README.md).
    Eval(EvalArgs),
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Tenant seed file (JSON, Graph property names; see crates/sim/seeds/seed.schema.json).
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Where the SQLite file and the tenant's policies live.
    #[arg(long, default_value = "steward-data", env = "STEWARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// Port of the web page and API on 127.0.0.1 (0 picks a free one).
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Shadow mode: a candidate policy directory decided beside the enforced one; every request
    /// where the two differ is audited (`shadowDecision`) and nothing else changes.
    #[arg(long)]
    pub shadow_policy_dir: Option<PathBuf>,
    /// Reason with a language model instead of the offline reasoner: a TOML file with one
    /// provider's fields (name, kind, base_url, model, api_key_env, …; e.g. a local Ollama).
    #[arg(long)]
    pub provider: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ActionsArgs {
    #[command(subcommand)]
    pub command: ActionsCommand,
}

#[derive(Debug, Subcommand)]
pub enum ActionsCommand {
    /// Every action: name, system, read or change, risk, undo, and the vendor permission it needs.
    List {
        /// Print JSON (with each action's vendor calls, parameters schema and read-back).
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct ConnectArgs {
    /// Configuration file (TOML), as for `serve`.
    #[arg(long)]
    pub config: PathBuf,
    /// The tenant to connect (default: the first in the file).
    #[arg(long)]
    pub tenant: Option<String>,
    /// Loopback port the browser returns to (0 picks a free one; register
    /// http://127.0.0.1:PORT/connect/msgraph/callback with the application if it lists redirect URIs).
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// How long to wait for the sign-in.
    #[arg(long, default_value_t = 300)]
    pub timeout_seconds: u64,
    /// Which grant: the administrator's (`admin`), or the employee channel's (`employees`,
    /// signed in as the configuration's `employee_owner`, with the self-service scopes only).
    #[arg(long = "for", value_enum, default_value_t = GrantFor::Admin)]
    pub grant: GrantFor,
    /// Which system: Microsoft 365 (`msgraph`), the tenant's Okta org (`okta`, from
    /// `[tenants.okta]`) or its Google Workspace (`google`, from `[tenants.google]`).
    #[arg(long, value_enum, default_value_t = ConnectSystem::Msgraph)]
    pub system: ConnectSystem,
    /// An imported integration whose OAuth 2.0 authorization code scheme to sign in to
    /// (instead of `--system`): its endpoints come from the document.
    #[arg(long, value_name = "NAME", conflicts_with = "system")]
    pub integration: Option<String>,
    /// With `--integration`: the OAuth client id registered with the API's authorization server.
    #[arg(long, requires = "integration")]
    pub client_id: Option<String>,
    /// With `--integration`: the environment variable holding the OAuth client's secret, if the
    /// server wants one.
    #[arg(long, requires = "integration")]
    pub client_secret_env: Option<String>,
    /// With `--integration`: whose grant it is (the person who signs in; recorded as declared,
    /// since an arbitrary API has no standard way to say who signed in).
    #[arg(long, value_name = "UPN", requires = "integration")]
    pub owner: Option<String>,
    /// With `--integration`: which of the document's OAuth schemes (default: the first).
    #[arg(long, requires = "integration")]
    pub scheme: Option<String>,
    /// With `--integration`: a scope to ask for (repeatable; default: every scope the imported
    /// operations ask for).
    #[arg(long, requires = "integration")]
    pub scope: Vec<String>,
    /// Revoke the kept grant instead of connecting one: it stops working at once, for every
    /// running Steward sharing the store.
    #[arg(long)]
    pub revoke: bool,
}

/// Which system `steward connect` signs in to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ConnectSystem {
    /// Microsoft 365 (Microsoft Graph).
    Msgraph,
    /// The tenant's Okta org.
    Okta,
    /// The tenant's Google Workspace.
    Google,
}

/// Whose grant `steward connect` handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum GrantFor {
    /// The administrator's grant (IT requests and approved changes).
    Admin,
    /// The employee channel's grant (self-service).
    Employees,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Configuration file (TOML).
    #[arg(long)]
    pub config: PathBuf,
}

#[derive(Debug, Args)]
pub struct AskArgs {
    /// Who is asking (their sign-in name).
    #[arg(long = "as", value_name = "UPN")]
    pub requester: String,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Run against a simulated tenant from this seed, in-process, instead of a running Steward.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Continue this conversation (e.g. to answer Steward's question).
    #[arg(long)]
    pub conversation: Option<String>,
    /// Print the plan — intent, people and objects found, investigations, the changes with their
    /// policy outcomes and previews — without making any change.
    #[arg(long, conflicts_with = "conversation")]
    pub dry_run: bool,
    /// Address of a running Steward (default: the one `steward demo` recorded in the data dir).
    #[arg(long)]
    pub server: Option<String>,
    /// Data directory (used to find a running Steward, or for an in-process run).
    #[arg(long, default_value = "steward-data", env = "STEWARD_DATA_DIR")]
    pub data_dir: PathBuf,
    /// The request, in plain words.
    #[arg(required = true, num_args = 1..)]
    pub message: Vec<String>,
}

#[derive(Debug, Args)]
pub struct PlaybookArgs {
    #[command(subcommand)]
    pub command: PlaybookCommand,
}

/// Who runs a playbook and where.
#[derive(Debug, Args)]
pub struct PlaybookRunner {
    /// Who runs it (their sign-in name).
    #[arg(long = "as", value_name = "UPN")]
    pub requester: String,
    /// Print one JSON document instead of text.
    #[arg(long)]
    pub json: bool,
    /// Run against a simulated tenant from this seed, in-process, instead of a running Steward.
    #[arg(long)]
    pub seed: Option<PathBuf>,
    /// Address of a running Steward (default: the one `steward demo` recorded in the data dir).
    #[arg(long)]
    pub server: Option<String>,
    /// Data directory (used to find a running Steward, or for an in-process run).
    #[arg(long, default_value = "steward-data", env = "STEWARD_DATA_DIR")]
    pub data_dir: PathBuf,
}

#[derive(Debug, Subcommand)]
pub enum PlaybookCommand {
    /// A new starter: account (temporary password, manager), groups, licences.
    Onboard {
        #[command(flatten)]
        runner: PlaybookRunner,
        /// Their name, e.g. "Priya Raman".
        #[arg(long)]
        name: String,
        /// Their sign-in name, in one of the organisation's domains.
        #[arg(long)]
        upn: String,
        #[arg(long)]
        department: Option<String>,
        #[arg(long)]
        job_title: Option<String>,
        /// Usage location (ISO country code), needed for licences.
        #[arg(long)]
        usage_location: Option<String>,
        /// Their manager's sign-in name.
        #[arg(long)]
        manager: Option<String>,
        /// A group or team to join (id or exact name); repeat for more.
        #[arg(long = "group")]
        groups: Vec<String>,
        /// A licence (skuId or part number, e.g. ENTERPRISEPACK); repeat for more.
        #[arg(long = "license")]
        licences: Vec<String>,
    },
    /// A leaver: disable, sign out, remove sign-in methods and licences, auto-reply, OneDrive to
    /// the manager, leave every group.
    Offboard {
        #[command(flatten)]
        runner: PlaybookRunner,
        /// The leaver's sign-in name.
        #[arg(long)]
        user: String,
        /// The automatic reply their mailbox sends (default: a neutral note that they left).
        #[arg(long)]
        auto_reply: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub command: AuditCommand,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Print a tenant's audit records for a SIEM, one per line: JSON Lines or OCSF API Activity;
    /// by time range, and with --follow, new records as they are written.
    Export {
        /// The tenant (default: every tenant).
        #[arg(long)]
        tenant: Option<String>,
        /// `jsonl` (the records as stored) or `ocsf` (OCSF 1.1 API Activity events).
        #[arg(long, value_enum, default_value = "jsonl")]
        format: ExportFormatArg,
        /// Only records written at or after this time (RFC 3339, e.g. 2026-11-24T00:00:00Z).
        #[arg(long)]
        since: Option<chrono::DateTime<chrono::Utc>>,
        /// Only records written before this time (RFC 3339).
        #[arg(long)]
        until: Option<chrono::DateTime<chrono::Utc>>,
        /// Keep running and print new records as they are written (Ctrl-C stops).
        #[arg(long, conflicts_with = "until")]
        follow: bool,
        /// Deliver to this HTTP collector (newline-delimited JSON batches, retried with backoff)
        /// instead of printing; resumes after the last record it acknowledged.
        #[arg(long, conflicts_with_all = ["since", "until"])]
        webhook: Option<String>,
        /// The name the webhook's delivery position is kept under (default: its URL).
        #[arg(long, requires = "webhook")]
        sink_name: Option<String>,
        /// Data directory.
        #[arg(long, default_value = "steward-data", env = "STEWARD_DATA_DIR")]
        data_dir: PathBuf,
        /// The database: a PostgreSQL URL or a SQLite file (default: steward.db in the data directory).
        #[arg(long, env = "STEWARD_DATABASE_URL")]
        database: Option<String>,
    },
    /// Print the public key that verifies this installation's audit checkpoints (keep a copy
    /// apart from the installation: `audit verify --public-key` then catches a replaced key).
    PublicKey {
        /// Data directory.
        #[arg(long, default_value = "steward-data", env = "STEWARD_DATA_DIR")]
        data_dir: PathBuf,
        /// The database: a PostgreSQL URL or a SQLite file (default: steward.db in the data directory).
        #[arg(long, env = "STEWARD_DATABASE_URL")]
        database: Option<String>,
    },
    /// Recompute every tenant's hash chain, check its signed checkpoints, and name the first
    /// broken record.
    Verify {
        /// Only this tenant.
        #[arg(long)]
        tenant: Option<String>,
        /// Check the checkpoints with this exported public key (64 hex digits, or a file holding
        /// them) instead of the installation's own key file.
        #[arg(long)]
        public_key: Option<String>,
        /// Data directory.
        #[arg(long, default_value = "steward-data", env = "STEWARD_DATA_DIR")]
        data_dir: PathBuf,
        /// The database: a PostgreSQL URL or a SQLite file (default: steward.db in the data directory).
        #[arg(long, env = "STEWARD_DATABASE_URL")]
        database: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Print a tenant's audit records.
    Show {
        /// The tenant (default: the only one).
        #[arg(long)]
        tenant: Option<String>,
        /// Only this conversation.
        #[arg(long)]
        conversation: Option<String>,
        /// Data directory.
        #[arg(long, default_value = "steward-data", env = "STEWARD_DATA_DIR")]
        data_dir: PathBuf,
        /// The database: a PostgreSQL URL or a SQLite file (default: steward.db in the data directory).
        #[arg(long, env = "STEWARD_DATABASE_URL")]
        database: Option<String>,
    },
}

#[derive(Debug, Args)]
pub struct PolicyArgs {
    #[command(subcommand)]
    pub command: PolicyCommand,
    /// A Steward data directory whose tenant's imported integrations count, as in a running
    /// Steward: their actions join the catalog and their accepted policies the set. Without it
    /// (and without --database) only the built-in systems are known.
    #[arg(long, global = true)]
    pub data_dir: Option<PathBuf>,
    /// The database holding those integrations: a PostgreSQL URL or a SQLite file.
    #[arg(long, global = true)]
    pub database: Option<String>,
    /// The tenant (needed only when the store holds several).
    #[arg(long, global = true)]
    pub tenant: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum PolicyCommand {
    /// Load a tenant policy directory with the global layer and report every problem.
    Validate {
        /// The tenant's policy directory (default: the shipped default set).
        dir: Option<PathBuf>,
        /// Same as DIR.
        #[arg(long, conflicts_with = "dir")]
        policy_dir: Option<PathBuf>,
    },
    /// Run a table of hypothetical requests and expected outcomes (TOML `[[case]]`s); exit 1 on
    /// any mismatch.
    Test {
        /// The table.
        file: PathBuf,
        /// The tenant's policy directory (default: the shipped default set).
        #[arg(long)]
        policy_dir: Option<PathBuf>,
    },
    /// Explain the decision for a hypothetical request.
    Explain(ExplainArgs),
    /// Prove Steward's invariants over the whole set with the cvc5 solver (every request the
    /// schema allows); exit 1 with a counterexample when one does not hold.
    Prove {
        /// The tenant's policy directory (default: the shipped default set).
        dir: Option<PathBuf>,
    },
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The action, e.g. `entra.user.reset_password`.
    #[arg(long)]
    pub action: String,
    /// The requester is an IT admin (otherwise self-service).
    #[arg(long)]
    pub it_admin: bool,
    /// What the target is.
    #[arg(long, value_enum, default_value = "requester")]
    pub target: ExplainTarget,
    /// The target's department.
    #[arg(long)]
    pub department: Option<String>,
    /// Channel.
    #[arg(long, default_value = "cli")]
    pub channel: String,
    /// Evaluate as if a human (someone other than the requester) had approved.
    #[arg(long)]
    pub approved: bool,
    /// Number of targets in the job.
    #[arg(long, default_value_t = 1)]
    pub blast_radius: i64,
    /// Changes of this action the requester has had in the last hour, this one included.
    #[arg(long, default_value_t = 1)]
    pub recent_count: i64,
    /// Hour of day in the tenant's time zone (0-23).
    #[arg(long, default_value_t = 12)]
    pub local_hour: i64,
    /// The tenant's policy directory (default: the shipped default set).
    #[arg(long)]
    pub policy_dir: Option<PathBuf>,
    /// Print JSON.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExplainTarget {
    /// The requester's own account.
    Requester,
    /// Another ordinary person.
    Other,
    /// A person holding an admin role.
    Privileged,
    /// A protected identity (break-glass).
    Protected,
    /// A group.
    Group,
    /// The directory as a whole.
    Tenant,
    /// A device whose primary user is the requester.
    OwnDevice,
    /// A device of someone else.
    Device,
}

#[derive(Debug, Args)]
pub struct ApprovalsArgs {
    #[command(subcommand)]
    pub command: ApprovalsCommand,
    /// Address of a running Steward (default: the one `steward demo` recorded).
    #[arg(long, global = true)]
    pub server: Option<String>,
    /// Data directory.
    #[arg(
        long,
        global = true,
        default_value = "steward-data",
        env = "STEWARD_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    /// The database: a PostgreSQL URL or a SQLite file (default: steward.db in the data directory).
    #[arg(long, global = true, env = "STEWARD_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ApprovalsCommand {
    /// List approval requests.
    List {
        /// Include decided ones.
        #[arg(long)]
        all: bool,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Approve a request; Steward re-checks policy and runs it. With --always, similar requests
    /// within the scope run without asking until the uses or the time run out (or it is revoked).
    Approve {
        /// The approval id.
        id: String,
        /// The approver (sign-in name).
        #[arg(long = "as", value_name = "UPN")]
        approver: String,
        /// Approve always: create a standing approval.
        #[arg(long)]
        always: bool,
        /// Who and what it covers: this requester on this target, or the requester's department.
        #[arg(long, value_enum, default_value = "requester", requires = "always")]
        scope: AlwaysScope,
        /// How many uses it allows.
        #[arg(long, default_value_t = 10, requires = "always")]
        max_uses: u32,
        /// How long it lasts.
        #[arg(long, default_value_t = 168, requires = "always")]
        expires_in_hours: u64,
        /// For a bulk request: approve only these targets (sign-in names or names, comma
        /// separated); the others are declined.
        #[arg(long, value_delimiter = ',', conflicts_with = "always")]
        only: Vec<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// List standing approvals ("approve always"), live and ended.
    Standing {
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// End a standing approval at once.
    Revoke {
        /// The standing approval id.
        id: String,
        /// Who revokes (an IT admin).
        #[arg(long = "as", value_name = "UPN")]
        by: String,
    },
    /// Deny a request.
    Deny {
        /// The approval id.
        id: String,
        /// The approver (sign-in name).
        #[arg(long = "as", value_name = "UPN")]
        approver: String,
        /// Why (told to the requester).
        #[arg(long)]
        reason: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Ask the requester for more information before deciding; their reply in the conversation
    /// is added to the request, which then waits for a decision again.
    AskInfo {
        /// The approval id.
        id: String,
        /// The approver (sign-in name).
        #[arg(long = "as", value_name = "UPN")]
        approver: String,
        /// The question for the requester.
        #[arg(long)]
        question: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    pub command: BenchCommand,
}

#[derive(Debug, Subcommand)]
pub enum BenchCommand {
    /// Policy decision latency (p50/p99) with many policies, beside bare Cedar in the same run.
    Policy {
        /// Generated policies added to the shipped sets.
        #[arg(long, default_value_t = 1000)]
        policies: usize,
        /// Requests decided.
        #[arg(long, default_value_t = 20000)]
        requests: usize,
        /// Standing-approval links ("approve always") in force.
        #[arg(long, default_value_t = 10000)]
        links: usize,
    },
    /// Durable audit appends per second (group commit beside one commit per record) at several
    /// concurrencies, then `audit verify` over a long chain.
    Audit {
        /// Concurrent writers to measure (comma-separated).
        #[arg(long, value_delimiter = ',', default_value = "1,64")]
        writers: Vec<usize>,
        /// Records appended per measurement.
        #[arg(long, default_value_t = 3000)]
        appends: usize,
        /// Records in the chain `audit verify` walks (0 skips it).
        #[arg(long, default_value_t = 1_000_000)]
        verify_records: usize,
        /// Where the benchmark's databases are made (a real disk: syncs are what is measured).
        #[arg(long, default_value = "steward-bench")]
        dir: PathBuf,
        /// Also measure on this PostgreSQL server (a URL; the benchmark works in a schema of its
        /// own and drops it afterwards), e.g. postgres://postgres@127.0.0.1:5432/test.
        #[arg(long, env = "STEWARD_BENCH_POSTGRES")]
        postgres: Option<String>,
    },
}

/// `audit export --format`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum ExportFormatArg {
    /// JSON Lines: each record as stored.
    Jsonl,
    /// OCSF API Activity (class 6003).
    Ocsf,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum AlwaysScope {
    /// This requester, on the same target.
    Requester,
    /// Anyone in the requester's department, on people in that department.
    Department,
}

#[derive(Debug, Args)]
pub struct EvalArgs {
    /// The tenant seed every case starts from (JSON; crates/sim/seeds/seed.schema.json).
    #[arg(long)]
    pub seed: PathBuf,
    /// The cases (JSON Lines; eval/case.schema.json).
    #[arg(long)]
    pub cases: PathBuf,
    /// Which reasoner handles the requests.
    #[arg(long, value_enum, default_value_t = EvalReasoner::Builtin)]
    pub reasoner: EvalReasoner,
    /// With `--reasoner llm`: the model provider (a TOML file with the fields of a
    /// `[[providers]]` entry: name, kind, base_url, model, api_key_env, …).
    #[arg(long, required_if_eq("reasoner", "llm"))]
    pub provider: Option<PathBuf>,
    /// Write the full report (every case, every figure) as JSON here.
    #[arg(long)]
    pub report: Option<PathBuf>,
    /// Exit with status 1 when the share of correct cases is below this (0 to 1, e.g. 0.95).
    #[arg(long)]
    pub min_rate: Option<f64>,
    /// Only the cases whose id starts with one of these (repeatable).
    #[arg(long)]
    pub case: Vec<String>,
    /// Cases run at once (default: one per core).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Print the figures only, not the failed cases.
    #[arg(long)]
    pub quiet: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum EvalReasoner {
    /// The offline, deterministic reasoner.
    Builtin,
    /// A language model (`--provider`), with the builtin reasoner as its fallback.
    Llm,
}

#[derive(Debug, Args)]
pub struct EscalationsArgs {
    #[command(subcommand)]
    pub command: EscalationsCommand,
    /// Data directory.
    #[arg(
        long,
        global = true,
        default_value = "steward-data",
        env = "STEWARD_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    /// The database: a PostgreSQL URL or a SQLite file (default: steward.db in the data directory).
    #[arg(long, global = true, env = "STEWARD_DATABASE_URL")]
    pub database: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum EscalationsCommand {
    /// The open escalations, newest first (with --all, the closed ones too).
    List {
        /// Include closed ones.
        #[arg(long)]
        all: bool,
        /// Print JSON (each with its whole hand-over bundle).
        #[arg(long)]
        json: bool,
    },
    /// One escalation: the transcript, findings, what was tried and decided, audit record ids and
    /// the suggested next step.
    Show {
        /// The escalation id.
        id: String,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Close an escalation once it is taken care of.
    Close {
        /// The escalation id.
        id: String,
        /// Who closes it (sign-in name), recorded with it.
        #[arg(long = "as", value_name = "UPN")]
        by: String,
    },
}

#[derive(Debug, Args)]
pub struct IntegrationsArgs {
    #[command(subcommand)]
    pub command: IntegrationsCommand,
    /// Data directory.
    #[arg(
        long,
        global = true,
        default_value = "steward-data",
        env = "STEWARD_DATA_DIR"
    )]
    pub data_dir: PathBuf,
    /// The database: a PostgreSQL URL or a SQLite file (default: steward.db in the data directory).
    #[arg(long, global = true, env = "STEWARD_DATABASE_URL")]
    pub database: Option<String>,
    /// The tenant (needed only when the store holds several).
    #[arg(long, global = true)]
    pub tenant: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum IntegrationsCommand {
    /// Reads an API description and creates one action per operation. The integration is saved
    /// disabled, with the policies Steward proposes for it; nothing can use it before `accept`.
    Import {
        /// The OpenAPI 3.0/3.1 or Swagger 2.0 document (JSON or YAML); `-` reads standard input.
        spec: PathBuf,
        /// The integration's name: the first part of every action name (`acme` gives
        /// `acme.tickets.get_ticket`).
        #[arg(long)]
        name: String,
        /// Where calls go (default: the document's first absolute server).
        #[arg(long)]
        base_url: Option<String>,
        /// Print the actions it would create and save nothing.
        #[arg(long)]
        dry_run: bool,
        /// Who imports it (sign-in name), recorded with it.
        #[arg(long = "as", value_name = "UPN")]
        by: Option<String>,
        /// An environment variable holding the API's secret (key, token, or user:password for
        /// basic authentication), kept sealed under the tenant's key.
        #[arg(long)]
        secret_env: Option<String>,
        /// Which of the document's security schemes the secret is for (default: the first one
        /// the operations accept that Steward can use).
        #[arg(long)]
        scheme: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The imported integrations and whether each is enabled.
    List,
    /// One integration: its actions, and the policies proposed (or accepted) for it.
    Show {
        /// The integration's name.
        name: String,
    },
    /// Accepts the proposed policies as they are, which enables the integration: they are kept
    /// with it in the store (after validating with the tenant's other policies), and a running
    /// Steward puts both in force within seconds.
    Accept {
        /// The integration's name.
        name: String,
        /// Who accepts (sign-in name), recorded with it.
        #[arg(long = "as", value_name = "UPN")]
        by: String,
        /// The tenant's policy directory (its `policy_dir`), to validate with; without it the
        /// policies are validated with Steward's default ones.
        #[arg(long)]
        policy_dir: Option<PathBuf>,
    },
}
