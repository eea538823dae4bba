//! The demo requests against a Graph that misbehaves on one request in five — throttling (429
//! with `Retry-After`), 503, slow answers, connections dropped before a change is made and after
//! it was made — end exactly as they do against a healthy Graph, and no change is made twice.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::json;
use steward_connectors::msgraph::RetryPolicy;
use steward_domain::report::TurnStatus;

use super::support::{Harness, actions, upn};

const REQUESTS: &[(&str, &str)] = &[
    ("adele", "I forgot my password and now I'm locked out"),
    ("tom", "my account is disabled"),
    (
        "nestor",
        "please remove Leo Martins from the VPN Users group",
    ),
    ("leo", "cant log in"),
    ("adele", "erp password reset"),
    ("nestor", "can you add Maria to Finance?"),
    (
        "hank",
        "request to reset microsoft online services password for maria.chen@larkspur.example",
    ),
];

/// Each request's status and the actions it ran.
async fn run_all(h: &Harness) -> anyhow::Result<Vec<(TurnStatus, Vec<String>)>> {
    let mut out = Vec::new();
    for (who, message) in REQUESTS {
        let report = h.ask(who, message).await?;
        out.push((report.status, actions(&report)));
    }
    Ok(out)
}

fn patient() -> RetryPolicy {
    RetryPolicy {
        max_attempts: 8,
        max_wait: Duration::from_millis(300),
        default_wait: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn the_demo_requests_end_the_same_with_one_graph_call_in_five_failing() -> anyhow::Result<()>
{
    let healthy = run_all(&Harness::with_retry(patient()).await?).await?;

    let h = Harness::with_retry(patient()).await?;
    // One request in five, spread over five kinds of trouble.
    for fault in [
        json!({"pathContains": "/v1.0/", "rate": 0.05, "status": 429, "retryAfter": 0, "count": 10000}),
        json!({"pathContains": "/v1.0/", "rate": 0.05, "status": 503, "retryAfter": 0, "count": 10000}),
        json!({"pathContains": "/v1.0/", "rate": 0.04, "delayMs": 150, "count": 10000}),
        json!({"pathContains": "/v1.0/", "rate": 0.03, "drop": true, "count": 10000}),
        json!({"pathContains": "/v1.0/", "rate": 0.03, "drop": true, "dropAfter": true, "count": 10000}),
    ] {
        h.inject_fault(fault).await?;
    }
    let faulty = run_all(&h).await?;
    h.clear_faults().await?;
    assert!(
        h.faults_served().await? >= 5,
        "too few faults to mean anything: {}",
        h.faults_served().await?
    );
    for (((who, message), want), got) in REQUESTS.iter().zip(&healthy).zip(&faulty) {
        assert_eq!(got, want, "{who}: {message}");
    }

    // The end state is the healthy one: Adele can sign in again (her lockout cleared), Leo left
    // the VPN group.
    assert!(!h.member_upns("VPN Users").await?.contains(&upn("leo")));
    assert_ne!(
        h.try_sign_in("adele", "Demo-Adele-2026!").await?,
        Err(50053),
        "the lockout is cleared"
    );

    // No change was made twice: each idempotency key reached Graph with success at most once
    // (a password reset is the exception by design: after a lost answer it is sent again, so
    // the new temporary password is known).
    let mut applied: HashMap<String, u32> = HashMap::new();
    for r in h.tenant.sim.requests().await {
        if (200..300).contains(&r.status)
            && !r.path.ends_with("/resetPassword")
            && let Some(key) = r.client_request_id
        {
            *applied.entry(key).or_default() += 1;
        }
    }
    let twice: Vec<_> = applied.iter().filter(|(_, n)| **n > 1).collect();
    assert!(twice.is_empty(), "applied twice: {twice:?}");
    Ok(())
}

#[tokio::test]
async fn a_change_whose_answer_is_lost_is_settled_by_reading_the_target_not_by_sending_it_blind()
-> anyhow::Result<()> {
    let h = Harness::with_retry(patient()).await?;
    // The removal is made, then the connection drops before the answer arrives.
    h.inject_fault(json!({"pathContains": "/members/", "method": "DELETE", "drop": true, "dropAfter": true, "count": 1}))
        .await?;
    let report = h
        .ask(
            "nestor",
            "please remove Leo Martins from the VPN Users group",
        )
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert!(!h.member_upns("VPN Users").await?.contains(&upn("leo")));
    let deletes = h
        .tenant
        .sim
        .requests()
        .await
        .into_iter()
        .filter(|r| r.method == "DELETE" && r.path.contains("/members/"))
        .count();
    assert_eq!(deletes, 1, "read back, not sent again");

    // A drop before the change is made: the target shows nothing changed, so it is sent once
    // more under the same key.
    h.inject_fault(json!({"pathContains": "/revokeSignInSessions", "drop": true, "count": 1}))
        .await?;
    let before = h.user("adele").await?;
    let report = h
        .ask("adele", "I forgot my password and now I'm locked out")
        .await?;
    assert_eq!(report.status, TurnStatus::Resolved, "{}", report.reply);
    assert_ne!(
        h.user("adele").await?["signInSessionsValidFromDateTime"],
        before["signInSessionsValidFromDateTime"]
    );
    assert_eq!(h.faults_served().await?, 2);
    Ok(())
}
