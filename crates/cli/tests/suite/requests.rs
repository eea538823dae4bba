//! The requests of the walking skeleton, end to end.

use serde_json::{Value, json};
use steward_domain::report::{ActionStatus, TurnStatus};
use steward_domain::{Channel, Layer, Outcome};

use super::support::{Harness, actions, upn};

#[tokio::test]
async fn a_locked_out_employee_gets_a_temporary_password_and_the_lockout_is_cleared()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    assert_eq!(
        h.try_sign_in("adele", "Demo-Adele-2026!").await?,
        Err(50053),
        "seeded lockout"
    );
    let before = h.user("adele").await?;

    let report = h
        .ask("adele", "I forgot my password and now I'm locked out")
        .await?;

    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    let investigated: Vec<&str> = report
        .investigations
        .iter()
        .map(|i| i.action.as_str())
        .collect();
    assert_eq!(investigated, ["entra.user.get", "entra.signins.list"]);
    assert!(
        report.findings.iter().any(|f| f.code == "signin.50053"),
        "{:?}",
        report.findings
    );
    assert_eq!(
        actions(&report),
        ["entra.user.reset_password", "entra.user.revoke_sessions"]
    );
    for action in &report.actions {
        assert_eq!(action.status, ActionStatus::Executed);
        assert_eq!(action.decision.outcome, Outcome::Auto);
        assert_eq!(
            action.decision.deciding[0].id,
            "action.self-service-sign-in-repair"
        );
        assert_eq!(action.decision.deciding[0].layer, Layer::Action);
        assert!(action.verification.as_ref().is_some_and(|v| v.passed));
        assert!(
            action.audit_ids.len() >= 3,
            "decision, intent, outcome, verification"
        );
    }
    assert!(
        report.reply.contains("Temporary password"),
        "{}",
        report.reply
    );

    // The tenant, read back through Graph.
    let after = h.user("adele").await?;
    assert_ne!(
        after["lastPasswordChangeDateTime"],
        before["lastPasswordChangeDateTime"]
    );
    assert!(after["signInSessionsValidFromDateTime"].is_string());
    // The temporary password works, and must be changed: the lockout (50053) is gone.
    let temp = report
        .reply
        .rsplit(": ")
        .next()
        .unwrap_or_default()
        .trim()
        .to_owned();
    assert_eq!(h.try_sign_in("adele", &temp).await?, Err(50055));
    assert_eq!(
        h.try_sign_in("adele", "Demo-Adele-2026!").await?,
        Err(50126),
        "old password no longer works"
    );
    // Graph's own log names whose delegated credential acted: for self-service, the employee
    // channel's own grant, never the administrator's.
    let audits = h.directory_audits().await?;
    let reset = audits
        .iter()
        .find(|a| a["activityDisplayName"] == "Reset password (by admin)")
        .expect("reset recorded by Graph");
    assert_eq!(
        reset["initiatedBy"]["user"]["userPrincipalName"],
        json!(upn("steward-svc"))
    );
    assert_eq!(
        reset["targetResources"][0]["userPrincipalName"],
        json!(upn("adele"))
    );

    // Steward's audit: every id in the report exists, the chain is intact, no secret inside.
    let records = h.audit_of(&report).await?;
    let seqs: Vec<i64> = records.iter().map(|r| r.seq).collect();
    for id in &report.audit_ids {
        assert!(seqs.contains(id), "audit #{id} missing");
    }
    let kinds: Vec<String> = records.iter().map(|r| r.entry.kind.to_string()).collect();
    let intent = kinds.iter().position(|k| k == "intent").expect("intent");
    let outcome = kinds.iter().position(|k| k == "outcome").expect("outcome");
    assert!(intent < outcome, "intent before outcome: {kinds:?}");
    let all = serde_json::to_string(&records)?;
    assert!(
        !all.contains(&temp),
        "the temporary password leaked into the audit trail"
    );
    assert!(h.runtime().store.verify_audit().await?.intact());
    Ok(())
}

#[tokio::test]
async fn a_throttled_graph_is_retried_after_retry_after_and_the_request_still_resolves()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    h.inject_fault(
        json!({"pathContains": "/resetPassword", "status": 429, "count": 2, "retryAfter": 1}),
    )
    .await?;
    h.inject_fault(
        json!({"pathContains": "/auditLogs/signIns", "status": 503, "count": 1, "retryAfter": 1}),
    )
    .await?;
    let before = h.user("adele").await?;
    let report = h.ask("adele", "locked out again, cant log in").await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert_eq!(h.faults_served().await?, 3);
    assert_ne!(
        h.user("adele").await?["lastPasswordChangeDateTime"],
        before["lastPasswordChangeDateTime"]
    );
    Ok(())
}

#[tokio::test]
async fn two_people_with_the_same_first_name_make_steward_ask_which_one() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let first = h.ask("nestor", "can you add Maria to Finance?").await?;
    assert_eq!(first.status, TurnStatus::AwaitingRequester);
    let question = first.question.clone().expect("a question");
    assert_eq!(question.options.len(), 2, "{question:?}");
    assert!(first.actions.is_empty(), "nothing done before the answer");
    assert!(
        !h.member_upns("Finance")
            .await?
            .contains(&upn("maria.lopez"))
    );

    let second = h
        .runtime()
        .handle(
            &upn("nestor"),
            Channel::Cli,
            "the one in Sales",
            Some(first.conversation_id),
        )
        .await?;
    assert_eq!(second.status, TurnStatus::Resolved, "{}", second.reply);
    assert_eq!(actions(&second), ["entra.group.add_member"]);
    let members = h.member_upns("Finance").await?;
    assert!(members.contains(&upn("maria.lopez")));
    assert!(!members.contains(&upn("maria.chen")));
    Ok(())
}

#[tokio::test]
async fn an_it_admin_removes_someone_from_a_group() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    assert!(h.member_upns("VPN Users").await?.contains(&upn("leo")));
    let report = h
        .ask(
            "nestor",
            "please remove Leo Martins from the VPN Users group",
        )
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert!(!h.member_upns("VPN Users").await?.contains(&upn("leo")));
    Ok(())
}

#[tokio::test]
async fn an_unknown_requester_gets_a_clear_error_and_nothing_happens() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let err = h
        .runtime()
        .handle(
            "nobody@larkspur.example",
            Channel::Cli,
            "reset my password",
            None,
        )
        .await
        .expect_err("unknown");
    assert!(err.to_string().contains("nobody@larkspur.example"), "{err}");
    assert!(h.directory_audits().await?.is_empty());
    Ok(())
}

#[tokio::test]
async fn the_report_serialises_with_its_documented_field_names() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h.ask("adele", "forgot pasword").await?;
    let v: Value = serde_json::to_value(&report)?;
    for key in [
        "conversationId",
        "tenant",
        "requester",
        "channel",
        "intent",
        "status",
        "investigations",
        "findings",
        "plan",
        "actions",
        "reply",
        "auditIds",
    ] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    let action = &v["actions"][0];
    for key in [
        "action",
        "params",
        "purpose",
        "targets",
        "decision",
        "status",
        "verification",
        "auditIds",
    ] {
        assert!(action.get(key).is_some(), "missing actions[].{key}");
    }
    assert_eq!(action["decision"]["deciding"][0]["layer"], "action");
    Ok(())
}

#[tokio::test]
async fn a_vague_cannot_log_in_with_a_clean_log_is_handed_over_not_guessed() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let before = h.user("leo").await?;
    let report = h.ask("leo", "cant log in").await?;
    assert_eq!(report.status, TurnStatus::Escalated, "{}", report.reply);
    assert!(
        report.actions.is_empty(),
        "no reset without evidence: {:?}",
        actions(&report)
    );
    assert!(
        report.findings.iter().any(|f| f.code == "signin.clean"),
        "{:?}",
        report.findings
    );
    assert_eq!(h.user("leo").await?, before);
    // The same words from a locked-out person are evidence enough.
    let report = h.ask("adele", "login issue").await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    Ok(())
}

#[tokio::test]
async fn a_password_for_a_system_steward_is_not_connected_to_is_escalated_with_what_was_checked()
-> anyhow::Result<()> {
    let h = Harness::new().await?;
    let before = h.user("adele").await?;
    let report = h.ask("adele", "erp password reset").await?;
    assert_eq!(report.status, TurnStatus::Escalated, "{}", report.reply);
    assert!(report.actions.is_empty());
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code == "system.not_connected")
    );
    assert!(
        report.findings.iter().any(|f| f.code == "signin.50053"),
        "the directory account was checked too"
    );
    assert!(
        report.reply.contains("ERP") && report.reply.contains("locked"),
        "{}",
        report.reply
    );
    assert_eq!(h.user("adele").await?, before);
    Ok(())
}

#[tokio::test]
async fn an_it_admin_resets_someone_elses_password_named_by_email() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let before = h.user("maria.chen").await?;
    let report = h
        .ask(
            "hank",
            "request to reset microsoft online services password for maria.chen@larkspur.example",
        )
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert_eq!(
        report.actions[0].decision.deciding[0].id,
        "action.it-admins-sign-in-repair"
    );
    assert!(
        report
            .reply
            .contains("Temporary password for maria.chen@larkspur.example"),
        "{}",
        report.reply
    );
    assert_ne!(
        h.user("maria.chen").await?["lastPasswordChangeDateTime"],
        before["lastPasswordChangeDateTime"]
    );
    Ok(())
}

#[tokio::test]
async fn when_the_person_is_not_named_steward_asks_who() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let first = h.ask("hank", "a user is locked out, please unlock").await?;
    assert_eq!(
        first.status,
        TurnStatus::AwaitingRequester,
        "{}",
        first.reply
    );
    assert!(
        first.actions.is_empty() && first.investigations.is_empty(),
        "nothing before knowing who"
    );
    let second = h
        .runtime()
        .handle(
            &upn("hank"),
            Channel::Cli,
            "it's for Adele Brooks",
            Some(first.conversation_id),
        )
        .await?;
    assert_eq!(second.status, TurnStatus::Resolved, "{}", second.reply);
    assert!(second.actions.iter().all(|a| {
        a.targets
            .iter()
            .all(|t| t.upn.as_deref() == Some(upn("adele").as_str()))
    }));
    assert_eq!(
        h.try_sign_in("adele", "Demo-Adele-2026!").await?,
        Err(50126),
        "lockout cleared, old password replaced"
    );
    Ok(())
}

/// People are asked about by the names they go by: "Robert Whitfield" is Bob in the directory.
#[tokio::test]
async fn a_person_is_found_by_another_form_of_their_first_name() -> anyhow::Result<()> {
    let h = Harness::new().await?;
    let report = h
        .ask(
            "nestor",
            "Robert Whitfield is locked out, please reset his password",
        )
        .await?;
    let queries: Vec<&Value> = report
        .investigations
        .iter()
        .filter(|i| i.action == "entra.user.search")
        .map(|i| &i.params["query"])
        .collect();
    assert_eq!(
        queries,
        [&json!("robert whitfield"), &json!("bob whitfield")]
    );
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert!(
        report
            .actions
            .iter()
            .any(|a| a.action == "entra.user.reset_password" && a.params["user"] == upn("bob")),
        "{:?}",
        report.actions
    );
    // Nobody by any name: no made-up match, the requester is told.
    let report = h
        .ask(
            "nestor",
            "Bobby Nobodyson is locked out, please reset his password",
        )
        .await?;
    assert!(report.actions.is_empty(), "{:?}", report.actions);
    assert!(report.reply.contains("Bobby Nobodyson"), "{}", report.reply);
    Ok(())
}
