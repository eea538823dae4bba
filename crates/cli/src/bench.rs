//! `steward bench policy`: decision latency with many policies, beside bare Cedar in the same run.

use std::process::ExitCode;
use std::time::{Duration, Instant};

use cedar_policy::Authorizer;
use steward_domain::{Channel, Outcome, Principal, Target, TargetKind, TenantId};
use steward_policy::{
    ApprovalContext, DecisionRequest, PolicyEngine, PolicySource, ScopeEntity, ScopeKind,
    StandingLink,
};

use crate::cli::{BenchArgs, BenchCommand};
use crate::wiring::policy_sources;

/// One generated policy of a realistic shape, spread over the tenant layers.
fn generated_policy(i: usize) -> String {
    match i % 4 {
        0 => format!(
            "@id(\"bench.department-{i}\")\n@layer(\"department\")\nforbid (principal, action in [Action::\"entra.group.add_member\", Action::\"entra.group.remove_member\"], resource is Person)\nwhen {{ resource.department == \"Dept-{i}\" }}\nunless {{ context.approval.granted }};\n"
        ),
        1 => format!(
            "@id(\"bench.group-{i}\")\n@layer(\"target\")\npermit (principal, action == Action::\"entra.user.revoke_sessions\", resource is Person)\nwhen {{ principal.itAdmin && resource in Group::\"g-{i}\" }};\n"
        ),
        2 => format!(
            "@id(\"bench.hours-{i}\")\n@layer(\"runtime\")\nforbid (principal, action == Action::\"entra.user.disable\", resource)\nwhen {{ context.channel == \"chan-{i}\" && context.localHour > 20 }};\n"
        ),
        _ => format!(
            "@id(\"bench.ask-{i}\")\n@layer(\"action\")\npermit (principal, action == Action::\"entra.user.enable\", resource is Person)\nwhen {{ resource.department == \"Dept-{i}\" && context.approval.granted }};\n"
        ),
    }
}

pub(crate) struct Stats {
    p50: Duration,
    p99: Duration,
    mean: Duration,
}

pub(crate) fn stats(mut samples: Vec<Duration>) -> Stats {
    samples.sort_unstable();
    let n = samples.len().max(1);
    let at = |q: usize| {
        samples
            .get((n * q / 100).min(n - 1))
            .copied()
            .unwrap_or_default()
    };
    let total: Duration = samples.iter().sum();
    Stats {
        p50: at(50),
        p99: at(99),
        mean: total / u32::try_from(n).unwrap_or(u32::MAX),
    }
}

fn micros(d: Duration) -> String {
    format!("{:.1} µs", d.as_secs_f64() * 1e6)
}

/// Runs a benchmark and prints its figures.
pub async fn run(args: BenchArgs) -> anyhow::Result<ExitCode> {
    match args.command {
        BenchCommand::Policy {
            policies,
            requests,
            links,
        } => policy(policies, requests, links),
        BenchCommand::Audit {
            writers,
            appends,
            verify_records,
            dir,
            postgres,
        } => {
            crate::bench_audit::run(&writers, appends, verify_records, &dir, postgres.as_deref())
                .await
        }
    }
}

/// Policy decision latency beside bare Cedar.
fn policy(policies: usize, requests: usize, links: usize) -> anyhow::Result<ExitCode> {
    let catalog = steward_connectors::msgraph::catalog();
    let mut sources: Vec<PolicySource> = policy_sources(None)?;
    let text: String = (0..policies)
        .map(generated_policy)
        .collect::<Vec<_>>()
        .join("\n");
    sources.push(PolicySource {
        origin: "bench:generated.cedar".into(),
        text,
        global: false,
    });
    // Standing approvals of realistic shapes: one person on one target, or a department.
    let mutating: Vec<_> = catalog.iter().filter(|s| s.mutating).collect();
    let standing: Vec<StandingLink> = (0..links)
        .filter_map(|i| {
            let action = mutating.get(i % mutating.len().max(1))?.name.clone();
            let (principal, resource) = if i % 2 == 0 {
                (
                    ScopeEntity {
                        kind: ScopeKind::Person,
                        id: format!("p-{}", i % 50),
                    },
                    ScopeEntity {
                        kind: ScopeKind::Person,
                        id: format!("t-{i}"),
                    },
                )
            } else {
                let d = ScopeEntity {
                    kind: ScopeKind::Department,
                    id: format!("bench/Dept-{}", i % policies.max(1)),
                };
                (d.clone(), d)
            };
            Some(StandingLink {
                id: format!("standing-{i}"),
                action,
                principal,
                resource,
            })
        })
        .collect();
    let loading = Instant::now();
    let engine = PolicyEngine::with_standing(&catalog, &sources, &standing)?;
    let load_time = loading.elapsed();

    let tenant = TenantId::new("bench")?;
    let principals: Vec<Principal> = (0..50)
        .map(|i| Principal {
            tenant: tenant.clone(),
            directory_id: format!("p-{i}"),
            upn: format!("p{i}@bench.example"),
            display_name: format!("Person {i}"),
            department: Some(format!("Dept-{}", i * 7 % policies.max(1))),
            it_admin: i % 3 == 0,
            privileged: false,
        })
        .collect();
    let targets: Vec<Target> = (0..200)
        .map(|i| Target {
            kind: TargetKind::Person,
            id: if i % 10 == 0 {
                format!("p-{}", i % 50)
            } else {
                format!("t-{i}")
            },
            display_name: format!("Target {i}"),
            upn: Some(format!("t{i}@bench.example")),
            department: Some(format!("Dept-{}", i * 13 % policies.max(1))),
            groups: (0..5)
                .map(|g| format!("g-{}", (i * 5 + g) * 4 % policies.max(1) + 1))
                .collect(),
            privileged: i % 17 == 0,
            protected: false,
            manager: None,
            owner: None,
        })
        .collect();
    let channels = [Channel::Cli, Channel::Web, Channel::Slack, Channel::Teams];
    let made: Vec<DecisionRequest<'_>> = (0..requests)
        .map(|i| DecisionRequest {
            principal: &principals[i % principals.len()],
            action: &catalog[i % catalog.len()].name,
            target: &targets[(i * 7) % targets.len()],
            channel: channels[i % channels.len()],
            blast_radius: 1 + (i % 3) as i64,
            risk: catalog[i % catalog.len()].risk.score(),
            local_hour: (i % 24) as i64,
            recent_count: 1,
            approval: ApprovalContext::default(),
        })
        .collect();

    // Warm-up, then Steward's full three-way decision per request.
    for r in made.iter().take(500) {
        std::hint::black_box(engine.decide(r));
    }
    let mut ours = Vec::with_capacity(requests);
    let mut outcomes = [0usize; 3];
    let mut automatic = Vec::with_capacity(requests);
    for r in &made {
        let start = Instant::now();
        let d = engine.decide(r);
        ours.push(start.elapsed());
        automatic.push(d.outcome == Outcome::Auto);
        outcomes[match d.outcome {
            Outcome::Auto => 0,
            Outcome::Ask => 1,
            Outcome::Deny => 2,
        }] += 1;
    }
    // The same requests through bare Cedar: one query, request and entities built beforehand.
    let bare_parts: Vec<_> = made
        .iter()
        .filter_map(|r| engine.bare_cedar_parts(r).ok())
        .collect();
    let authorizer = Authorizer::new();
    let mut bare = Vec::with_capacity(bare_parts.len());
    let mut agreeing = 0usize;
    for ((request, entities, set), auto) in bare_parts.iter().zip(&automatic) {
        let start = Instant::now();
        let response = authorizer.is_authorized(request, set, entities);
        bare.push(start.elapsed());
        let allowed = response.decision() == cedar_policy::Decision::Allow
            && response.diagnostics().errors().next().is_none();
        agreeing += usize::from(allowed == *auto);
    }
    let (ours, bare) = (stats(ours), stats(bare));
    println!(
        "policy decision latency: {} policies in force ({} generated + the shipped global and default sets, {} standing-approval links), {} requests, loaded and validated in {:.0} ms",
        engine.policy_count(),
        policies,
        links,
        requests,
        load_time.as_secs_f64() * 1e3
    );
    println!("{:<28}{:>12}{:>12}{:>12}", "", "p50", "p99", "mean");
    println!(
        "{:<28}{:>12}{:>12}{:>12}",
        "steward decide()",
        micros(ours.p50),
        micros(ours.p99),
        micros(ours.mean)
    );
    println!(
        "{:<28}{:>12}{:>12}{:>12}",
        "bare cedar Authorizer",
        micros(bare.p50),
        micros(bare.p99),
        micros(bare.mean)
    );
    println!(
        "ratio (steward / bare): p50 {:.3}x, p99 {:.3}x — bare Cedar evaluates every policy of the set once; steward builds entities and context per request, evaluates only the policies its pre-filter cannot rule out, and asks a second time (as if approved) only when the first answer is not allow and a candidate policy reads the approval state",
        ours.p50.as_secs_f64() / bare.p50.as_secs_f64().max(1e-9),
        ours.p99.as_secs_f64() / bare.p99.as_secs_f64().max(1e-9)
    );
    println!(
        "agreement: steward runs automatically exactly where bare Cedar allows on {agreeing} of {} requests",
        bare_parts.len()
    );
    let total = requests.max(1) as f64;
    println!(
        "outcomes: auto {:.0}%, ask {:.0}%, deny {:.0}%",
        outcomes[0] as f64 * 100.0 / total,
        outcomes[1] as f64 * 100.0 / total,
        outcomes[2] as f64 * 100.0 / total
    );
    if cfg!(debug_assertions) {
        println!("(debug build: run `cargo run --release -- bench policy` for meaningful figures)");
    }
    Ok(ExitCode::SUCCESS)
}
