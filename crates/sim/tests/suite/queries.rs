//! OData query options and paging.

use reqwest::Method;
use serde_json::{Value, json};

use super::support::{Sim, upn};

#[tokio::test]
async fn users_page_with_next_links_until_everyone_is_read() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let t = s.token("grace", "Grace", "User.Read.All").await?;
    let mut next = Some(format!(
        "{}/v1.0/users?$top=7&$select=id,userPrincipalName",
        s.sim.base_url
    ));
    let mut seen = Vec::new();
    let mut pages = 0;
    while let Some(url) = next {
        let page = s.get(&url, &t).await?;
        assert_eq!(page.status.as_u16(), 200, "{}", page.body);
        pages += 1;
        for u in page.body["value"].as_array().into_iter().flatten() {
            assert_eq!(u.as_object().map(|o| o.len()), Some(2), "$select kept: {u}");
            seen.push(
                u["userPrincipalName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
            );
        }
        next = page
            .body
            .get("@odata.nextLink")
            .and_then(Value::as_str)
            .map(str::to_owned);
    }
    assert_eq!(seen.len(), 40);
    assert_eq!(pages, 6);
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 40, "no one twice");
    Ok(())
}

#[tokio::test]
async fn filters_select_and_their_errors() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let t = s
        .token("grace", "Grace", "User.Read.All AuditLog.Read.All")
        .await?;
    let marias = s
        .get("/v1.0/users?$filter=startswith(givenName,'Maria')", &t)
        .await?;
    assert_eq!(marias.body["value"].as_array().map(Vec::len), Some(2));
    let locked = s.get("/v1.0/auditLogs/signIns?$filter=userPrincipalName%20eq%20'adele@larkspur.example'%20and%20status/errorCode%20eq%2050053", &t).await?;
    assert_eq!(locked.body["value"].as_array().map(Vec::len), Some(3));
    let future = s
        .get(
            "/v1.0/auditLogs/signIns?$filter=createdDateTime%20ge%202999-01-01T00:00:00Z",
            &t,
        )
        .await?;
    assert_eq!(future.body["value"], json!([]));
    let bad = s
        .get("/v1.0/users?$filter=favouriteColour%20eq%20'blue'", &t)
        .await?;
    assert_eq!(bad.status.as_u16(), 400);
    assert!(
        bad.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("favouriteColour")
    );
    let bad = s.get("/v1.0/users?$top=0", &t).await?;
    assert_eq!(bad.status.as_u16(), 400);
    // Default properties, and passwords never leave Graph.
    let adele = s.get(&format!("/v1.0/users/{}", upn("adele")), &t).await?;
    assert!(
        adele.body.get("accountEnabled").is_none(),
        "not a default property"
    );
    let selected = s
        .get(
            &format!(
                "/v1.0/users/{}?$select=passwordProfile,accountEnabled",
                upn("adele")
            ),
            &t,
        )
        .await?;
    assert_eq!(selected.body["passwordProfile"], Value::Null);
    assert_eq!(selected.body["accountEnabled"], true);
    Ok(())
}

#[tokio::test]
async fn membership_references_add_remove_and_conflicts() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let nestor = s
        .token(
            "nestor",
            "Nestor",
            "GroupMember.ReadWrite.All User.Read.All",
        )
        .await?;
    let finance = s
        .get("/v1.0/groups?$filter=displayName%20eq%20'Finance'", &nestor)
        .await?
        .body["value"][0]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let leo = s.id_of("leo", &nestor).await?;
    let body =
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{leo}")});
    let added = s
        .call(
            Method::POST,
            &format!("/v1.0/groups/{finance}/members/$ref"),
            Some(&nestor),
            Some(body.clone()),
        )
        .await?;
    assert_eq!(added.status.as_u16(), 204);
    let again = s
        .call(
            Method::POST,
            &format!("/v1.0/groups/{finance}/members/$ref"),
            Some(&nestor),
            Some(body),
        )
        .await?;
    assert_eq!(again.status.as_u16(), 400);
    assert!(
        again.body["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .contains("already exist")
    );
    let member_of = s
        .get(&format!("/v1.0/users/{leo}/memberOf"), &nestor)
        .await?;
    assert!(
        member_of.body["value"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|g| g["id"] == json!(finance))
    );
    let removed = s
        .call(
            Method::DELETE,
            &format!("/v1.0/groups/{finance}/members/{leo}/$ref"),
            Some(&nestor),
            None,
        )
        .await?;
    assert_eq!(removed.status.as_u16(), 204);
    let missing = s
        .call(
            Method::DELETE,
            &format!("/v1.0/groups/{finance}/members/{leo}/$ref"),
            Some(&nestor),
            None,
        )
        .await?;
    assert_eq!(missing.status.as_u16(), 404);
    let malformed = s
        .call(
            Method::POST,
            &format!("/v1.0/groups/{finance}/members/$ref"),
            Some(&nestor),
            Some(json!("nonsense")),
        )
        .await?;
    assert_eq!(malformed.status.as_u16(), 400);
    assert!(malformed.body["error"]["code"].is_string());
    Ok(())
}

#[tokio::test]
async fn injected_throttling_answers_429_with_retry_after() -> anyhow::Result<()> {
    let s = Sim::start().await?;
    let t = s.token("grace", "Grace", "User.Read.All").await?;
    s.http
        .post(format!("{}/_sim/faults", s.sim.base_url))
        .json(&json!({"pathContains": "/v1.0/users", "status": 429, "count": 1, "retryAfter": 3}))
        .send()
        .await?;
    let r = s
        .http
        .get(format!("{}/v1.0/users", s.sim.base_url))
        .bearer_auth(&t)
        .send()
        .await?;
    assert_eq!(r.status().as_u16(), 429);
    assert_eq!(
        r.headers().get("retry-after").and_then(|v| v.to_str().ok()),
        Some("3")
    );
    let body: Value = r.json().await?;
    assert_eq!(body["error"]["code"], "TooManyRequests");
    assert_eq!(
        s.get("/v1.0/users", &t).await?.status.as_u16(),
        200,
        "only the injected number of faults"
    );
    Ok(())
}

#[tokio::test]
async fn change_requests_are_logged_with_their_client_request_id_even_when_the_caller_leaves()
-> anyhow::Result<()> {
    let s = Sim::start().await?;
    let nestor = s.token("nestor", "Nestor", "User.ReadWrite.All").await?;
    let path = format!("/v1.0/users/{}", upn("tom"));
    // The next PATCH is held for 2 s *after* it is applied; the caller gives up after 300 ms.
    s.http
        .post(format!("{}/_sim/faults", s.sim.base_url))
        .json(&json!({"pathContains": "/v1.0/users/", "method": "PATCH", "count": 1, "delayMs": 2000, "delayAfter": true}))
        .send()
        .await?;
    let gave_up = s
        .http
        .patch(format!("{}{path}", s.sim.base_url))
        .bearer_auth(&nestor)
        .header("client-request-id", "key-1")
        .timeout(std::time::Duration::from_millis(300))
        .json(&json!({"accountEnabled": true}))
        .send()
        .await;
    assert!(gave_up.is_err(), "the answer was held back");
    let tom = s
        .get(&format!("{path}?$select=accountEnabled"), &nestor)
        .await?;
    assert_eq!(
        tom.body["accountEnabled"], true,
        "the change itself was made"
    );

    // A read is not logged; every change request is, with its client-request-id.
    s.get(&path, &nestor).await?;
    let log: Value = s
        .http
        .get(format!("{}/_sim/requests", s.sim.base_url))
        .send()
        .await?
        .json()
        .await?;
    let entries = log["value"].as_array().cloned().unwrap_or_default();
    assert_eq!(entries.len(), 1, "{log}");
    assert_eq!(entries[0]["method"], "PATCH");
    assert_eq!(entries[0]["clientRequestId"], "key-1");
    assert_eq!(entries[0]["status"], 204);
    assert_eq!(s.sim.requests().await.len(), 1);
    Ok(())
}
