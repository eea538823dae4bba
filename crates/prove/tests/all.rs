//! The invariants proved by the real cvc5 solver over the shipped policies, and broken on purpose.

use serde_json::json;
use steward_domain::{ActionName, ActionSpec, Risk};
use steward_policy::{
    DEFAULT_TENANT_POLICIES, GLOBAL_ORIGIN, GLOBAL_POLICIES, PolicyEngine, PolicySource,
};

fn spec(name: &str, mutating: bool, risk: Risk) -> anyhow::Result<ActionSpec> {
    Ok(ActionSpec {
        name: ActionName::new(name)?,
        summary: String::new(),
        params_schema: json!({"type": "object"}),
        mutating,
        risk,
        targets: vec![],
        undo: None,
        verification: String::new(),
        calls: vec![],
        permissions: vec![],
    })
}

/// The shipped Graph catalogue, plus a critical action (deleting a user) the invariants need.
fn catalog() -> anyhow::Result<Vec<ActionSpec>> {
    let mut all = steward_connectors::builtin_catalog();
    all.push(spec("entra.user.delete", true, Risk::Critical)?);
    Ok(all)
}

fn engine(global: &str, extra: &[(&str, &str)]) -> anyhow::Result<PolicyEngine> {
    let mut sources = vec![PolicySource {
        origin: GLOBAL_ORIGIN.into(),
        text: global.into(),
        global: true,
    }];
    for (name, text) in DEFAULT_TENANT_POLICIES.iter().chain(extra) {
        sources.push(PolicySource {
            origin: format!("policies/{name}"),
            text: (*text).into(),
            global: false,
        });
    }
    Ok(PolicyEngine::new(&catalog()?, &sources)?)
}

#[tokio::test]
async fn the_shipped_policies_keep_every_invariant() -> anyhow::Result<()> {
    let report = steward_prove::prove(&engine(GLOBAL_POLICIES, &[])?).await?;
    assert!(report.holds(), "{:#?}", report.violations);
    assert_eq!(
        report.checks,
        report.environments * steward_prove::INVARIANTS.len()
    );
    assert!(report.environments >= 4 * 6, "every action × resource type");
    Ok(())
}

#[tokio::test]
async fn a_weakened_global_layer_is_caught_with_a_counterexample() -> anyhow::Result<()> {
    // An operator "simplifies" the global layer: the self-service rule is gone, and a tenant
    // permits every IT admin... and every employee, any change to anyone.
    let global = GLOBAL_POLICIES.replace(
        "when { context.selfService && resource != principal }",
        "when { false }",
    );
    let careless = "@id(\"action.anyone-resets-anyone\")\n@layer(\"action\")\npermit (principal, action == Action::\"entra.user.reset_password\", resource is Person);\n";
    let report = steward_prove::prove(&engine(&global, &[("careless.cedar", careless)])?).await?;
    assert!(!report.holds());
    let v = &report.violations[0];
    assert_eq!(v.invariant, "self-service-own-objects");
    // The counterexample is a concrete request: a self-service change to a person.
    assert!(
        v.counterexample.contains("resource: Person::"),
        "{}",
        v.counterexample
    );
    assert!(
        v.counterexample.contains("selfService: true"),
        "{}",
        v.counterexample
    );
    assert!(
        !v.counterexample.contains("Action::\"entra.user.get\""),
        "the action hierarchy is left out: {}",
        v.counterexample
    );
    Ok(())
}

#[tokio::test]
async fn standing_approvals_are_proved_as_the_static_policies_they_stand_for() -> anyhow::Result<()>
{
    use steward_policy::{ScopeEntity, ScopeKind, StandingLink};
    let mut sources = vec![PolicySource {
        origin: GLOBAL_ORIGIN.into(),
        text: GLOBAL_POLICIES.into(),
        global: true,
    }];
    for (name, text) in DEFAULT_TENANT_POLICIES {
        sources.push(PolicySource {
            origin: format!("policies/{name}"),
            text: (*text).into(),
            global: false,
        });
    }
    let link = StandingLink {
        id: "standing-1".into(),
        action: ActionName::new("entra.user.enable")?,
        principal: ScopeEntity {
            kind: ScopeKind::Department,
            id: "acme/Sales".into(),
        },
        resource: ScopeEntity {
            kind: ScopeKind::Department,
            id: "acme/Sales".into(),
        },
    };
    let engine = PolicyEngine::with_standing(&catalog()?, &sources, &[link])?;
    let written_out = engine.static_policy_set()?;
    let policy = written_out
        .policy(&cedar_policy::PolicyId::new("standing-1"))
        .ok_or_else(|| anyhow::anyhow!("the link is written out under its own id"))?;
    let text = policy.to_string();
    assert!(
        text.contains(r#"principal in Department::"acme/Sales""#)
            && text.contains(r#"resource in Department::"acme/Sales""#)
            && !text.contains('?'),
        "{text}"
    );
    let report = steward_prove::prove(&engine).await?;
    assert!(report.holds(), "{:#?}", report.violations);
    Ok(())
}
