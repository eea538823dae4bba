//! The policy engine with the shipped global layer and the default tenant set.
#![expect(
    clippy::unwrap_used,
    clippy::panic,
    reason = "test helpers fail loudly on broken fixtures"
)]

use serde_json::json;
use steward_domain::{
    ActionName, ActionSpec, Channel, Layer, Outcome, Principal, Risk, Target, TargetKind, TenantId,
};
use steward_policy::{
    ApprovalContext, DEFAULT_TENANT_POLICIES, DecisionRequest, GLOBAL_ORIGIN, GLOBAL_POLICIES,
    PolicyEngine, PolicyError, PolicySource,
};

fn spec(name: &str, mutating: bool, risk: Risk) -> ActionSpec {
    ActionSpec {
        name: ActionName::new(name).unwrap(),
        summary: String::new(),
        params_schema: json!({"type": "object"}),
        mutating,
        risk,
        targets: vec![],
        undo: None,
        verification: String::new(),
        calls: vec![],
        permissions: vec![],
    }
}

/// The shipped Graph catalogue, plus a critical action (deleting a user) the global layer judges.
fn catalog() -> Vec<ActionSpec> {
    let mut all = steward_connectors::builtin_catalog();
    all.push(spec("entra.user.delete", true, Risk::Critical));
    all
}

fn sources(extra: &[(&str, &str)]) -> Vec<PolicySource> {
    let mut s = vec![PolicySource {
        origin: GLOBAL_ORIGIN.into(),
        text: GLOBAL_POLICIES.into(),
        global: true,
    }];
    for (name, text) in DEFAULT_TENANT_POLICIES.iter().chain(extra.iter()) {
        s.push(PolicySource {
            origin: format!("policies/{name}"),
            text: (*text).into(),
            global: false,
        });
    }
    s
}

fn engine() -> PolicyEngine {
    PolicyEngine::new(&catalog(), &sources(&[])).unwrap()
}

fn person(id: &str, department: Option<&str>) -> Target {
    Target {
        kind: TargetKind::Person,
        id: id.into(),
        display_name: id.into(),
        upn: Some(format!("{id}@x.example")),
        department: department.map(str::to_owned),
        groups: vec![],
        privileged: false,
        protected: false,
        manager: None,
        owner: None,
    }
}

fn principal(id: &str, it_admin: bool) -> Principal {
    Principal {
        tenant: TenantId::new("acme").unwrap(),
        directory_id: id.into(),
        upn: format!("{id}@x.example"),
        display_name: id.into(),
        department: Some("Marketing".into()),
        it_admin,
        privileged: false,
    }
}

fn decide(
    engine: &PolicyEngine,
    who: &Principal,
    action: &str,
    target: &Target,
    approval: ApprovalContext,
) -> steward_domain::Decision {
    let action = ActionName::new(action).unwrap();
    engine.decide(&DecisionRequest {
        principal: who,
        action: &action,
        target,
        channel: Channel::Cli,
        blast_radius: 1,
        risk: 40,
        local_hour: 10,
        recent_count: 1,
        approval,
    })
}

fn ids(d: &steward_domain::Decision) -> Vec<(String, Layer)> {
    d.deciding.iter().map(|p| (p.id.clone(), p.layer)).collect()
}

#[test]
fn self_service_password_reset_of_ones_own_account_is_automatic() {
    let e = engine();
    let adele = principal("adele", false);
    let d = decide(
        &e,
        &adele,
        "entra.user.reset_password",
        &person("adele", Some("Marketing")),
        ApprovalContext::default(),
    );
    assert_eq!(d.outcome, Outcome::Auto, "{d:?}");
    assert_eq!(
        ids(&d),
        vec![(
            "action.self-service-sign-in-repair".to_owned(),
            Layer::Action
        )]
    );
    assert!(!d.policy_set_hash.is_empty());
}

#[test]
fn self_service_on_someone_else_is_denied_by_the_global_layer() {
    let e = engine();
    let d = decide(
        &e,
        &principal("adele", false),
        "entra.user.reset_password",
        &person("bob", None),
        ApprovalContext::default(),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(
        ids(&d),
        vec![(
            "global.self-service-own-objects-only".to_owned(),
            Layer::Global
        )]
    );
}

#[test]
fn an_action_no_policy_permits_is_denied_with_no_deciding_policy() {
    let e = engine();
    let d = decide(
        &e,
        &principal("adele", false),
        "entra.user.disable",
        &person("adele", None),
        ApprovalContext::default(),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.deciding.is_empty());
    assert!(d.reason.contains("no policy permits"), "{}", d.reason);
}

#[test]
fn re_enabling_an_account_asks_for_approval() {
    let e = engine();
    let d = decide(
        &e,
        &principal("tom", false),
        "entra.user.enable",
        &person("tom", None),
        ApprovalContext::default(),
    );
    assert_eq!(d.outcome, Outcome::Ask);
    assert_eq!(
        ids(&d),
        vec![("action.enable-needs-approval".to_owned(), Layer::Action)]
    );
    let approved = decide(
        &e,
        &principal("tom", false),
        "entra.user.enable",
        &person("tom", None),
        ApprovalContext {
            granted: true,
            by_other: true,
        },
    );
    assert_eq!(approved.outcome, Outcome::Auto);
}

#[test]
fn privileged_targets_need_someone_else_to_approve() {
    let e = engine();
    let mut ga = person("grace", Some("IT"));
    ga.privileged = true;
    let nestor = principal("nestor", true);
    let d = decide(
        &e,
        &nestor,
        "entra.user.reset_password",
        &ga,
        ApprovalContext::default(),
    );
    assert_eq!(d.outcome, Outcome::Ask);
    assert_eq!(
        d.gates.iter().map(|g| g.id.as_str()).collect::<Vec<_>>(),
        vec!["global.privileged-needs-other-approver"]
    );
    let self_approved = decide(
        &e,
        &nestor,
        "entra.user.reset_password",
        &ga,
        ApprovalContext {
            granted: true,
            by_other: false,
        },
    );
    assert_eq!(self_approved.outcome, Outcome::Deny);
}

#[test]
fn protected_identities_are_never_targets() {
    let e = engine();
    let mut bg = person("breakglass", Some("IT"));
    bg.protected = true;
    let d = decide(
        &e,
        &principal("nestor", true),
        "entra.user.reset_password",
        &bg,
        ApprovalContext {
            granted: true,
            by_other: true,
        },
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(ids(&d).contains(&("global.protected-identities".to_owned(), Layer::Global)));
}

#[test]
fn critical_actions_always_need_approval() {
    let extra = [(
        "permit-all.cedar",
        "@id(\"tenant.permit-everything\")\n@layer(\"tenant\")\npermit (principal, action, resource);\n",
    )];
    let e = PolicyEngine::new(&catalog(), &sources(&extra)).unwrap();
    let d = decide(
        &e,
        &principal("nestor", true),
        "entra.user.delete",
        &person("bob", None),
        ApprovalContext::default(),
    );
    assert_eq!(d.outcome, Outcome::Ask);
    assert!(e.is_hard_approval(&d));
}

#[test]
fn department_layer_asks_for_finance_staff() {
    let e = engine();
    let group = Target {
        kind: TargetKind::Group,
        id: "g1".into(),
        display_name: "VPN Users".into(),
        upn: None,
        department: None,
        groups: vec![],
        privileged: false,
        protected: false,
        manager: None,
        owner: None,
    };
    let nestor = principal("nestor", true);
    let action = ActionName::new("entra.group.add_member").unwrap();
    let base = DecisionRequest {
        principal: &nestor,
        action: &action,
        target: &group,
        channel: Channel::Cli,
        blast_radius: 2,
        risk: 40,
        local_hour: 10,
        recent_count: 1,
        approval: ApprovalContext::default(),
    };
    let d = e.decide_all(&base, &[group.clone(), person("marcus", Some("Finance"))]);
    assert_eq!(d.outcome, Outcome::Ask, "{d:?}");
    let d = e.decide_all(&base, &[group.clone(), person("leo", Some("Engineering"))]);
    assert_eq!(d.outcome, Outcome::Auto, "{d:?}");
}

#[test]
fn evaluation_errors_fail_closed() {
    // The forbid overflows at evaluation; Cedar would skip it and allow. Steward must deny.
    let extra = [(
        "overflow.cedar",
        "@id(\"runtime.overflowing\")\n@layer(\"runtime\")\nforbid (principal, action, resource) when { context.blastRadius + 9223372036854775807 > 0 };\n",
    )];
    let e = PolicyEngine::new(&catalog(), &sources(&extra)).unwrap();
    let d = decide(
        &e,
        &principal("adele", false),
        "entra.user.reset_password",
        &person("adele", None),
        ApprovalContext::default(),
    );
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(!d.errors.is_empty());
}

fn rejected(extra: &[(&str, &str)]) -> String {
    match PolicyEngine::new(&catalog(), &sources(extra)) {
        Err(PolicyError::Rejected(problems)) => problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("\n"),
        other => panic!("expected a rejection, got {other:?}"),
    }
}

#[test]
fn a_syntax_error_names_file_and_line() {
    let text = "// first\n@id(\"tenant.broken\")\n@layer(\"tenant\")\npermit (principal, action, resource) when { principal.itAdmin &&  };\n";
    let message = rejected(&[("broken.cedar", text)]);
    assert!(message.contains("policies/broken.cedar:4"), "{message}");
}

#[test]
fn a_schema_violation_names_file_line_and_policy() {
    let text = "\n\n@id(\"action.typo\")\n@layer(\"action\")\npermit (principal, action == Action::\"entra.user.reset_pasword\", resource);\n";
    let message = rejected(&[("typo.cedar", text)]);
    assert!(message.contains("policies/typo.cedar:"), "{message}");
    assert!(message.contains("action.typo"), "{message}");
    let attr = "@id(\"tenant.bad-attr\")\n@layer(\"tenant\")\npermit (principal, action, resource) when { principal.isVip };\n";
    let message = rejected(&[("attr.cedar", attr)]);
    assert!(
        message.contains("policies/attr.cedar:") && message.contains("tenant.bad-attr"),
        "{message}"
    );
}

#[test]
fn ids_and_layers_are_required_unique_and_global_is_reserved() {
    let no_id = "@layer(\"tenant\")\npermit (principal, action, resource);\n";
    assert!(rejected(&[("a.cedar", no_id)]).contains("no `@id"));
    let dup = "@id(\"tenant.directory-lookups\")\n@layer(\"tenant\")\npermit (principal, action, resource);\n";
    assert!(rejected(&[("b.cedar", dup)]).contains("duplicate `@id`"));
    let global =
        "@id(\"tenant.sneaky\")\n@layer(\"global\")\npermit (principal, action, resource);\n";
    assert!(rejected(&[("c.cedar", global)]).contains("global layer ships with Steward"));
    let bad_layer = "@id(\"tenant.x\")\n@layer(\"vip\")\npermit (principal, action, resource);\n";
    assert!(rejected(&[("d.cedar", bad_layer)]).contains("`@layer` must be one of"));
}

/// Built once for the property tests: loading and validating is the slow part.
static ENGINE: std::sync::LazyLock<PolicyEngine> = std::sync::LazyLock::new(engine);

mod properties {
    use proptest::prelude::*;

    use super::*;

    fn channel_of(i: u8) -> Channel {
        [
            Channel::Cli,
            Channel::Web,
            Channel::Slack,
            Channel::Teams,
            Channel::Mcp,
        ][usize::from(i % 5)]
    }

    proptest! {
        // The global layer's promises hold for every action of the catalog, whatever the runtime
        // context: self-service never changes (or privately reads) someone else; a protected
        // identity is never changed; nothing critical runs without approval.
        #[test]
        fn the_global_promises_hold_in_any_context(
            action_index in any::<prop::sample::Index>(),
            channel in any::<u8>(),
            hour in 0i64..24,
            blast in 1i64..50,
            it_admin in any::<bool>(),
            privileged in any::<bool>(),
            department in prop::option::of(prop::sample::select(vec!["Finance", "Sales", "IT"])),
        ) {
            let e = &*ENGINE;
            let catalog = catalog();
            let spec = &catalog[action_index.index(catalog.len())];
            let base = |who: &Principal, target: &Target, granted: bool| {
                e.decide(&DecisionRequest {
                    principal: who,
                    action: &spec.name,
                    target,
                    channel: channel_of(channel),
                    blast_radius: blast,
                    risk: spec.risk.score(),
                    local_hour: hour,
                    recent_count: 1,
                    approval: ApprovalContext { granted, by_other: granted },
                })
            };
            let mut other = person("someone", department);
            other.privileged = privileged;
            let employee = principal("adele", false);
            let d = base(&employee, &other, false);
            if spec.mutating || spec.risk != Risk::Low {
                prop_assert_eq!(d.outcome, Outcome::Deny, "{} on someone else in self-service", spec.name);
            }
            let mut protected = person("breakglass", department);
            protected.protected = true;
            if spec.mutating {
                let d = base(&principal("nestor", it_admin), &protected, true);
                prop_assert_eq!(d.outcome, Outcome::Deny, "{} on a protected identity", spec.name);
            }
            if spec.risk == Risk::Critical {
                let d = base(&principal("nestor", it_admin), &other, false);
                prop_assert_ne!(d.outcome, Outcome::Auto, "{} without approval", spec.name);
            }
            if privileged && spec.mutating {
                let d = base(&principal("nestor", true), &other, false);
                prop_assert_ne!(d.outcome, Outcome::Auto, "{} on a privileged target without approval", spec.name);
            }
        }
    }
}

mod slicing {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        // The engine evaluates, per action, only the policies whose scope can match it. That must
        // never change an answer: "auto" exactly when bare Cedar over the whole set allows.
        #[test]
        fn sliced_decisions_equal_bare_cedar_over_the_whole_set(
            action_index in any::<prop::sample::Index>(),
            it_admin in any::<bool>(),
            own in any::<bool>(),
            privileged in any::<bool>(),
            protected in any::<bool>(),
            department in prop::option::of(prop::sample::select(vec!["Finance", "Sales"])),
            blast in 1i64..30,
        ) {
            let e = &*ENGINE;
            let catalog = catalog();
            let spec = &catalog[action_index.index(catalog.len())];
            let who = principal("adele", it_admin);
            let mut target = person(if own { "adele" } else { "bob" }, department);
            target.privileged = privileged;
            target.protected = protected;
            let req = DecisionRequest {
                principal: &who,
                action: &spec.name,
                target: &target,
                channel: Channel::Web,
                blast_radius: blast,
                risk: spec.risk.score(),
                local_hour: 9,
                recent_count: 1,
                approval: ApprovalContext::default(),
            };
            let ours = e.decide(&req);
            let (request, entities, set) = e.bare_cedar_parts(&req).unwrap();
            let bare = cedar_policy::Authorizer::new().is_authorized(&request, set, &entities);
            prop_assert_eq!(ours.outcome == Outcome::Auto, bare.decision() == cedar_policy::Decision::Allow, "{}", spec.name);
        }
    }
}

mod prefilter_properties {
    use std::sync::LazyLock;

    use proptest::prelude::*;
    use steward_policy::{ScopeEntity, ScopeKind, StandingLink};

    use super::*;

    /// Policies of many shapes the pre-filter reads (scopes, `in`, attribute and context
    /// equalities, negations, `unless`) and some it must leave alone (ranges, `has`, `||`).
    fn generated(i: usize) -> String {
        let layer = ["tenant", "target", "department", "action", "runtime"][i % 5];
        let head = format!("@id(\"gen.{i}\")\n@layer(\"{layer}\")\n");
        let body = match i % 10 {
            0 => format!(
                "forbid (principal, action in Action::\"mutating\", resource is Person) when {{ resource.department == \"D{}\" }} unless {{ context.approval.granted }};",
                i % 4
            ),
            1 => format!(
                "permit (principal, action == Action::\"entra.user.revoke_sessions\", resource is Person) when {{ principal.itAdmin && resource in Group::\"g{}\" }};",
                i % 6
            ),
            2 => format!(
                "forbid (principal, action == Action::\"entra.user.disable\", resource) when {{ context.channel == \"web\" && context.localHour > {} }};",
                i % 24
            ),
            3 => format!(
                "permit (principal, action == Action::\"entra.user.enable\", resource is Person) when {{ resource.department == \"D{}\" && context.approval.granted }};",
                i % 4
            ),
            4 => format!(
                "permit (principal in Group::\"g{}\", action in Action::\"readOnly\", resource);",
                i % 6
            ),
            5 => format!(
                "permit (principal, action == Action::\"entra.user.reset_password\", resource == Person::\"t{}\") when {{ !context.selfService }};",
                i % 8
            ),
            6 => format!(
                "forbid (principal, action, resource) when {{ context.recentCount > {} || principal.department == \"D{}\" }};",
                3 + i % 5,
                i % 4
            ),
            7 => format!(
                "permit (principal, action in Action::\"mutating\", resource) when {{ resource has upn && principal.department == \"D{}\" }};",
                i % 4
            ),
            8 => "forbid (principal, action in Action::\"mutating\", resource) unless { context.approval.byOther };".to_owned(),
            9 if i % 20 == 9 => format!(
                "permit (principal, action == Action::\"entra.user.disable\", resource is Person) when {{ resource.department == \"D{}\" && context[\"approval\"][\"byOther\"] }};",
                i % 4
            ),
            _ => "permit (principal, action, resource is Person) when { resource != principal && context.channel != \"slack\" && resource.privileged == false };".to_owned(),
        };
        format!("{head}{body}\n")
    }

    static RICH: LazyLock<PolicyEngine> = LazyLock::new(|| {
        let text: String = (0..120).map(generated).collect();
        let links: Vec<StandingLink> = (0..200)
            .map(|i| {
                let mutating = [
                    "entra.user.reset_password",
                    "entra.user.enable",
                    "entra.group.add_member",
                ];
                let (principal, resource) = match i % 3 {
                    0 => (
                        ScopeEntity {
                            kind: ScopeKind::Person,
                            id: format!("p{}", i % 5),
                        },
                        ScopeEntity {
                            kind: ScopeKind::Person,
                            id: format!("t{}", i % 8),
                        },
                    ),
                    1 => (
                        ScopeEntity {
                            kind: ScopeKind::Department,
                            id: format!("acme/D{}", i % 4),
                        },
                        ScopeEntity {
                            kind: ScopeKind::Department,
                            id: format!("acme/D{}", (i + 1) % 4),
                        },
                    ),
                    _ => (
                        ScopeEntity {
                            kind: ScopeKind::Group,
                            id: format!("g{}", i % 6),
                        },
                        ScopeEntity {
                            kind: ScopeKind::Group,
                            id: format!("g{}", (i + 2) % 6),
                        },
                    ),
                };
                StandingLink {
                    id: format!("standing-{i}"),
                    action: ActionName::new(mutating[i % 3]).unwrap(),
                    principal,
                    resource,
                }
            })
            .collect();
        PolicyEngine::with_standing(&catalog(), &sources(&[("gen.cedar", &text)]), &links).unwrap()
    });

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]
        // The pre-filter only ever leaves out policies that cannot apply: every query decides
        // and names its deciding policies exactly as bare Cedar over the whole set does.
        #[test]
        fn filtered_queries_equal_bare_cedar_with_the_same_reasons(
            action_index in any::<prop::sample::Index>(),
            who in 0usize..5,
            it_admin in any::<bool>(),
            target_index in 0usize..9,
            target_groups in prop::collection::vec(0usize..6, 0..3),
            principal_dept in 0usize..5,
            target_dept in 0usize..5,
            privileged in any::<bool>(),
            channel in prop::sample::select(vec![Channel::Web, Channel::Slack, Channel::Cli]),
            hour in 0i64..24,
            recent in 0i64..10,
            granted in any::<bool>(),
            by_other in any::<bool>(),
        ) {
            let e = &*RICH;
            let catalog = catalog();
            let spec = &catalog[action_index.index(catalog.len())];
            let dept = |d: usize| (d < 4).then(|| format!("D{d}"));
            let mut principal = principal(&format!("p{who}"), it_admin);
            principal.department = dept(principal_dept);
            let mut target = if target_index == 8 {
                person(&principal.directory_id, dept(principal_dept).as_deref())
            } else {
                person(&format!("t{target_index}"), dept(target_dept).as_deref())
            };
            target.groups = target_groups.iter().map(|g| format!("g{g}")).collect();
            target.privileged = privileged;
            let req = DecisionRequest {
                principal: &principal,
                action: &spec.name,
                target: &target,
                channel,
                blast_radius: 1,
                risk: spec.risk.score(),
                local_hour: hour,
                recent_count: recent,
                approval: ApprovalContext { granted, by_other: granted && by_other },
            };
            let ours = e.decide(&req);
            let bare_answer = |req: &DecisionRequest<'_>| {
                let (request, entities, set) = e.bare_cedar_parts(req).unwrap();
                let r = cedar_policy::Authorizer::new().is_authorized(&request, set, &entities);
                let mut reasons: Vec<String> = r.diagnostics().reason().map(|id| id.to_string()).collect();
                reasons.sort();
                let ok = r.diagnostics().errors().count() == 0;
                (r.decision() == cedar_policy::Decision::Allow, reasons, ok)
            };
            let ids = |ps: &[steward_domain::DecidingPolicy]| {
                let mut ids: Vec<String> = ps.iter().map(|p| p.id.clone()).collect();
                ids.sort();
                ids
            };
            let (allow, reasons, ok) = bare_answer(&req);
            if granted {
                // One query: the outcome and the deciding policies must match exactly.
                prop_assert_eq!(ours.outcome == Outcome::Auto, allow && ok, "{}", spec.name);
                if ok {
                    prop_assert_eq!(ids(&ours.deciding), reasons, "{}", spec.name);
                }
            } else {
                // Two queries: as asked, then as if someone else had approved. Ask exactly when
                // the first denies and the second allows; the second's reasons decide, the
                // first's are the gates approval lifts.
                let approved = DecisionRequest {
                    approval: ApprovalContext { granted: true, by_other: true },
                    ..req.clone()
                };
                let (allow_approved, reasons_approved, ok_approved) = bare_answer(&approved);
                let expected = if !ok {
                    Outcome::Deny
                } else if allow {
                    Outcome::Auto
                } else if !ok_approved {
                    Outcome::Deny
                } else if allow_approved {
                    Outcome::Ask
                } else {
                    Outcome::Deny
                };
                prop_assert_eq!(ours.outcome, expected, "{}", spec.name);
                match expected {
                    Outcome::Auto => prop_assert_eq!(ids(&ours.deciding), reasons),
                    Outcome::Ask => {
                        prop_assert_eq!(ids(&ours.deciding), reasons_approved);
                        prop_assert_eq!(ids(&ours.gates), reasons);
                    }
                    Outcome::Deny if ok && ok_approved => {
                        let want = if reasons_approved.is_empty() { reasons } else { reasons_approved };
                        prop_assert_eq!(ids(&ours.deciding), want);
                    }
                    Outcome::Deny => {}
                }
            }
        }
    }
}

mod layer_properties {
    use proptest::prelude::*;

    use super::*;

    const TENANT_LAYERS: [&str; 5] = ["tenant", "target", "department", "action", "runtime"];

    fn global_only() -> Vec<PolicySource> {
        vec![PolicySource {
            origin: GLOBAL_ORIGIN.into(),
            text: GLOBAL_POLICIES.into(),
            global: true,
        }]
    }

    fn with(texts: &[String]) -> Vec<PolicySource> {
        let mut s = global_only();
        for (i, t) in texts.iter().enumerate() {
            s.push(PolicySource {
                origin: format!("generated-{i}.cedar"),
                text: t.clone(),
                global: false,
            });
        }
        s
    }

    fn permit_all(layer: &str) -> String {
        format!(
            "@id(\"{layer}.permit-all\")\n@layer(\"{layer}\")\npermit (principal, action, resource);\n"
        )
    }

    fn request_for<'a>(
        spec: &'a ActionSpec,
        who: &'a Principal,
        target: &'a Target,
        approved: bool,
    ) -> DecisionRequest<'a> {
        DecisionRequest {
            principal: who,
            action: &spec.name,
            target,
            channel: Channel::Web,
            blast_radius: 1,
            risk: spec.risk.score(),
            local_hour: 10,
            recent_count: 1,
            approval: ApprovalContext {
                granted: approved,
                by_other: approved,
            },
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]

        #[test]
        fn with_no_permit_every_request_is_denied(
            action_index in any::<prop::sample::Index>(),
            it_admin in any::<bool>(),
            approved in any::<bool>(),
        ) {
            let e = PolicyEngine::new(&catalog(), &global_only()).unwrap();
            let catalog = catalog();
            let spec = &catalog[action_index.index(catalog.len())];
            let who = principal("nestor", it_admin);
            let target = person("nestor", None);
            let d = e.decide(&request_for(spec, &who, &target, approved));
            prop_assert_eq!(d.outcome, Outcome::Deny);
        }

        #[test]
        fn a_forbid_in_any_layer_wins_over_any_permit(
            action_index in any::<prop::sample::Index>(),
            permit_layer in prop::sample::select(TENANT_LAYERS.to_vec()),
            forbid_layer in prop::sample::select(TENANT_LAYERS.to_vec()),
            approved in any::<bool>(),
        ) {
            let catalog = catalog();
            let spec = &catalog[action_index.index(catalog.len())];
            let forbid = format!(
                "@id(\"{forbid_layer}.no-{0}\")\n@layer(\"{forbid_layer}\")\nforbid (principal, action == Action::\"{0}\", resource);\n",
                spec.name
            );
            let e = PolicyEngine::new(&catalog, &with(&[permit_all(permit_layer), forbid])).unwrap();
            let who = principal("nestor", true);
            let target = person("nestor", None);
            let d = e.decide(&request_for(spec, &who, &target, approved));
            prop_assert_eq!(d.outcome, Outcome::Deny);
            let expected_id = format!("{forbid_layer}.no-{}", spec.name);
            prop_assert!(d.deciding.iter().any(|p| p.id == expected_id), "{:?}", d.deciding);
        }

        #[test]
        fn self_service_on_someone_else_is_denied_whatever_the_tenant_permits(
            action_index in any::<prop::sample::Index>(),
            layer in prop::sample::select(TENANT_LAYERS.to_vec()),
            approved in any::<bool>(),
        ) {
            let catalog = catalog();
            let spec = &catalog[action_index.index(catalog.len())];
            prop_assume!(spec.mutating || spec.risk != Risk::Low);
            let e = PolicyEngine::new(&catalog, &with(&[permit_all(layer)])).unwrap();
            let who = principal("adele", false);
            let target = person("bob", None);
            let d = e.decide(&request_for(spec, &who, &target, approved));
            prop_assert_eq!(d.outcome, Outcome::Deny);
        }

        #[test]
        fn an_evaluation_error_never_allows(
            action_index in any::<prop::sample::Index>(),
            layer in prop::sample::select(TENANT_LAYERS.to_vec()),
            effect in prop::sample::select(vec!["permit", "forbid"]),
            approved in any::<bool>(),
        ) {
            let catalog = catalog();
            let spec = &catalog[action_index.index(catalog.len())];
            let erroring = format!(
                "@id(\"{layer}.overflows\")\n@layer(\"{layer}\")\n{effect} (principal, action, resource) when {{ context.blastRadius + 9223372036854775807 > 0 }};\n"
            );
            let e = PolicyEngine::new(&catalog, &with(&[permit_all("tenant"), erroring])).unwrap();
            let who = principal("nestor", true);
            let target = person("nestor", None);
            let d = e.decide(&request_for(spec, &who, &target, approved));
            prop_assert_eq!(d.outcome, Outcome::Deny);
            prop_assert!(!d.errors.is_empty());
        }
    }
}

mod standing {
    use steward_policy::{ScopeEntity, ScopeKind, StandingLink};

    use super::*;

    fn sales_link(action: &str) -> StandingLink {
        let sales = ScopeEntity {
            kind: ScopeKind::Department,
            id: "acme/Sales".into(),
        };
        StandingLink {
            id: "standing-1".into(),
            action: ActionName::new(action).unwrap(),
            principal: sales.clone(),
            resource: sales,
        }
    }

    fn in_sales(id: &str, it_admin: bool) -> Principal {
        Principal {
            department: Some("Sales".into()),
            ..principal(id, it_admin)
        }
    }

    #[test]
    fn a_department_link_makes_the_action_automatic_there_only() {
        let e = PolicyEngine::with_standing(
            &catalog(),
            &sources(&[]),
            &[sales_link("entra.user.enable")],
        )
        .unwrap();
        let tom = in_sales("tom", false);
        let d = decide(
            &e,
            &tom,
            "entra.user.enable",
            &person("tom", Some("Sales")),
            ApprovalContext::default(),
        );
        assert_eq!(d.outcome, Outcome::Auto, "{d:?}");
        assert_eq!(ids(&d), vec![("standing-1".to_owned(), Layer::Action)]);
        assert_eq!(e.standing_link_of(&d).as_deref(), Some("standing-1"));
        let mei = Principal {
            department: Some("Marketing".into()),
            ..principal("mei", false)
        };
        let d = decide(
            &e,
            &mei,
            "entra.user.enable",
            &person("mei", Some("Marketing")),
            ApprovalContext::default(),
        );
        assert_eq!(d.outcome, Outcome::Ask);
        assert_eq!(e.standing_link_of(&d), None);
        assert_ne!(
            e.policy_set_hash(),
            engine().policy_set_hash(),
            "links are part of the set's identity"
        );
    }

    #[test]
    fn a_link_never_passes_a_forbid() {
        let e = PolicyEngine::with_standing(
            &catalog(),
            &sources(&[]),
            &[sales_link("entra.user.reset_password")],
        )
        .unwrap();
        let nestor = in_sales("nestor", true);
        let mut admin = person("grace", Some("Sales"));
        admin.privileged = true;
        let d = decide(
            &e,
            &nestor,
            "entra.user.reset_password",
            &admin,
            ApprovalContext::default(),
        );
        assert_eq!(
            d.outcome,
            Outcome::Ask,
            "the privileged-target forbid still needs an approval"
        );
        let mut bg = person("breakglass", Some("Sales"));
        bg.protected = true;
        let d = decide(
            &e,
            &nestor,
            "entra.user.reset_password",
            &bg,
            ApprovalContext {
                granted: true,
                by_other: true,
            },
        );
        assert_eq!(d.outcome, Outcome::Deny);
        // Self-service still only touches one's own account.
        let d = decide(
            &e,
            &in_sales("tom", false),
            "entra.user.reset_password",
            &person("chloe", Some("Sales")),
            ApprovalContext::default(),
        );
        assert_eq!(d.outcome, Outcome::Deny);
    }
}

fn may_approve(
    e: &PolicyEngine,
    approver: &Principal,
    requester: &Principal,
    targets: &[Target],
    standing: bool,
) -> steward_domain::Decision {
    let action = ActionName::new("entra.user.enable").unwrap();
    e.may_approve(&steward_policy::ApproverRequest {
        approver,
        requester,
        action: &action,
        risk: 40,
        targets,
        channel: Channel::Cli,
        local_hour: 10,
        standing,
    })
}

#[test]
fn approvers_are_defined_by_policy() {
    let e = engine();
    let tom = principal("tom", false);
    let mut tom_account = person("tom", Some("Sales"));
    tom_account.manager = Some("victor".into());
    let victor = principal("victor", false);
    let olivia = principal("olivia", false);
    let nestor = principal("nestor", true);

    let d = may_approve(&e, &nestor, &tom, std::slice::from_ref(&tom_account), true);
    assert_eq!(d.outcome, Outcome::Auto, "{}", d.reason);
    assert_eq!(
        ids(&d),
        [("tenant.it-admins-approve".into(), Layer::Tenant)]
    );

    let d = may_approve(&e, &victor, &tom, std::slice::from_ref(&tom_account), false);
    assert_eq!(d.outcome, Outcome::Auto, "{}", d.reason);
    assert_eq!(
        ids(&d),
        [(
            "tenant.managers-approve-for-their-reports".into(),
            Layer::Tenant
        )]
    );
    // Not "approve always", not someone else's report, not their own request as an employee.
    let d = may_approve(&e, &victor, &tom, std::slice::from_ref(&tom_account), true);
    assert_eq!(d.outcome, Outcome::Deny);
    let d = may_approve(&e, &olivia, &tom, std::slice::from_ref(&tom_account), false);
    assert_eq!(d.outcome, Outcome::Deny);
    assert!(d.reason.contains("no policy lets"), "{}", d.reason);
    let d = may_approve(&e, &tom, &tom, std::slice::from_ref(&tom_account), false);
    assert_eq!(d.outcome, Outcome::Deny);

    // Each target must be allowed: a manager cannot approve a job that also touches a group.
    let group = Target {
        kind: TargetKind::Group,
        id: "g1".into(),
        display_name: "VPN Users".into(),
        groups: vec![],
        ..person("g1", None)
    };
    let d = may_approve(&e, &victor, &tom, &[tom_account.clone(), group], false);
    assert_eq!(d.outcome, Outcome::Deny);

    // An IT admin's own request on a privileged target: the global layer forbids approving it.
    let mut admin_account = person("nestor", Some("IT"));
    admin_account.privileged = true;
    let d = may_approve(&e, &nestor, &nestor, &[admin_account], false);
    assert_eq!(d.outcome, Outcome::Deny);
    assert_eq!(
        ids(&d),
        [(
            "global.no-self-approval-on-privileged".into(),
            Layer::Global
        )]
    );
}
