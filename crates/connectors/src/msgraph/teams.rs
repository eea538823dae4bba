//! Group owners, a person's memberships, and Microsoft Teams members: who runs a group or team,
//! what someone belongs to, and adding or removing team members (owners included) — each change
//! read back from the group or team.

use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::{ActionCall, Change, Risk};

use super::actions::{
    Entry, GroupParams, MembershipParams, UserParams, group, parse, person, schema_of,
};
use super::execute::{MsGraphConnector, text, with_query};
use crate::{ActionResult, ConnectorError, Reconciliation};

/// One team, by its group's object id (or exact name).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamParams {
    /// The team's group object id, or its exact name.
    #[schemars(length(min = 1, max = 256))]
    pub team: String,
}

/// A person joining a team.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamMemberParams {
    /// The team's group object id, or its exact name.
    #[schemars(length(min = 1, max = 256))]
    pub team: String,
    /// The person's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// Make them an owner of the team (default false).
    pub owner: Option<bool>,
}

/// A person leaving a team.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct TeamLeaveParams {
    /// The team's group object id, or its exact name.
    #[schemars(length(min = 1, max = 256))]
    pub team: String,
    /// The person's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
}

fn team(param: &str) -> steward_domain::TargetParam {
    group(param)
}

pub(crate) fn entries() -> Vec<Entry> {
    vec![
        Entry {
            name: "entra.user.list_groups",
            summary: "List the groups (and admin roles) a person belongs to",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /users/{id}/memberOf"],
            permissions: &["GroupMember.Read.All"],
        },
        Entry {
            name: "entra.group.list_owners",
            summary: "List a group's owners (who approves joining it, who runs its team and site)",
            schema: schema_of::<GroupParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![group("group")],
            undo: None,
            verification: "",
            calls: &["GET /groups/{id}/owners"],
            permissions: &["GroupMember.Read.All"],
        },
        Entry {
            name: "entra.group.add_owner",
            summary: "Make a person an owner of a group (they then manage its members)",
            schema: schema_of::<MembershipParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![group("group"), person("user")],
            undo: Some("entra.group.remove_owner"),
            verification: "the group's owners include the person",
            calls: &["GET /groups/{id}/owners", "POST /groups/{id}/owners/$ref"],
            permissions: &["GroupMember.Read.All", "Group.ReadWrite.All"],
        },
        Entry {
            name: "entra.group.remove_owner",
            summary: "Remove a person as owner of a group (they stay a member if they were one)",
            schema: schema_of::<MembershipParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![group("group"), person("user")],
            undo: Some("entra.group.add_owner"),
            verification: "the group's owners no longer include the person",
            calls: &[
                "GET /groups/{id}/owners",
                "DELETE /groups/{id}/owners/{id}/$ref",
            ],
            permissions: &["GroupMember.Read.All", "Group.ReadWrite.All"],
        },
        Entry {
            name: "teams.member.list",
            summary: "List a team's members and owners",
            schema: schema_of::<TeamParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![team("team")],
            undo: None,
            verification: "",
            calls: &["GET /teams/{id}/members"],
            permissions: &["TeamMember.Read.All", "TeamMember.ReadWrite.All"],
        },
        Entry {
            name: "teams.member.add",
            summary: "Add a person to a team in Microsoft Teams (as an owner when asked)",
            schema: schema_of::<TeamMemberParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![team("team"), person("user")],
            undo: Some("teams.member.remove"),
            verification: "the team's members include the person with the asked role",
            calls: &["GET /teams/{id}/members", "POST /teams/{id}/members"],
            permissions: &["TeamMember.ReadWrite.All"],
        },
        Entry {
            name: "teams.member.remove",
            summary: "Remove a person from a team in Microsoft Teams",
            schema: schema_of::<TeamLeaveParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![team("team"), person("user")],
            undo: None,
            verification: "the team's members no longer include the person",
            calls: &["GET /teams/{id}/members", "DELETE /teams/{id}/members/{id}"],
            permissions: &["TeamMember.ReadWrite.All"],
        },
    ]
}

impl MsGraphConnector {
    async fn owner_ids(&self, group_id: &str) -> Result<Vec<Value>, ConnectorError> {
        let url = with_query(
            self.client.url(&["groups", group_id, "owners"])?,
            &[("$select", "id,displayName,userPrincipalName".into())],
        );
        Ok(self.client.get_all(url, 10_000).await?.0)
    }

    async fn team_members(
        &self,
        team_id: &str,
    ) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let url = self.client.url(&["teams", team_id, "members"])?;
        self.client.get_all(url, 10_000).await
    }

    /// The team's and the person's directory ids (a team is named like a group).
    async fn team_and_user(
        &self,
        team: &str,
        user: &str,
    ) -> Result<(String, String, String), ConnectorError> {
        let team_id = self.resolve_group_id(team).await?;
        let (u, _) = self.get_user(user).await?;
        Ok((team_id, text(&u, "id"), text(&u, "userPrincipalName")))
    }

    pub(super) async fn teams_execute(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        match name {
            "entra.user.list_groups" => {
                let p: UserParams = parse(name, &call.params)?;
                let (u, _) = self.get_user(&p.user).await?;
                let url = with_query(
                    self.client.url(&["users", &text(&u, "id"), "memberOf"])?,
                    &[("$select", "id,displayName".into())],
                );
                let (items, request_id) = self.client.get_all(url, 10_000).await?;
                let of_type = |t: &str| -> Vec<String> {
                    items
                        .iter()
                        .filter(|m| text(m, "@odata.type") == t)
                        .map(|m| text(m, "displayName"))
                        .collect()
                };
                let groups = of_type("#microsoft.graph.group");
                let roles = of_type("#microsoft.graph.directoryRole");
                let mut summary = format!(
                    "{} is in {} group(s): {}",
                    text(&u, "userPrincipalName"),
                    groups.len(),
                    groups.join(", ")
                );
                if !roles.is_empty() {
                    summary.push_str(&format!("; admin roles: {}", roles.join(", ")));
                }
                Ok(ActionResult {
                    summary,
                    output: Value::Array(items),
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "entra.group.list_owners" => {
                let p: GroupParams = parse(name, &call.params)?;
                let id = self.resolve_group_id(&p.group).await?;
                let owners = self.owner_ids(&id).await?;
                let names: Vec<String> = owners
                    .iter()
                    .map(|o| text(o, "userPrincipalName"))
                    .collect();
                Ok(ActionResult {
                    summary: if names.is_empty() {
                        "the group has no owner".into()
                    } else {
                        format!("{} owner(s): {}", names.len(), names.join(", "))
                    },
                    output: Value::Array(owners),
                    before: None,
                    after: None,
                    platform_request_id: None,
                })
            }
            "entra.group.add_owner" | "entra.group.remove_owner" => {
                let p: MembershipParams = parse(name, &call.params)?;
                let adding = name == "entra.group.add_owner";
                let (group_id, user_id, who) = self.team_and_user(&p.group, &p.user).await?;
                let was = self
                    .owner_ids(&group_id)
                    .await?
                    .iter()
                    .any(|o| text(o, "id") == user_id);
                let mut request_id = None;
                if adding && !was {
                    let body = json!({"@odata.id": format!("{}/v1.0/directoryObjects/{user_id}", self.client.base_url())});
                    let url = self.client.url(&["groups", &group_id, "owners", "$ref"])?;
                    request_id = self
                        .client
                        .send_as(Method::POST, url, Some(&body), Some(key))
                        .await?
                        .request_id;
                } else if !adding && was {
                    let url = self
                        .client
                        .url(&["groups", &group_id, "owners", &user_id, "$ref"])?;
                    request_id = self
                        .client
                        .send_as(Method::DELETE, url, None, Some(key))
                        .await?
                        .request_id;
                }
                Ok(ActionResult {
                    summary: match (adding, was) {
                        (true, false) => format!("made {who} an owner of the group"),
                        (true, true) => format!("{who} already owns the group; nothing to change"),
                        (false, true) => format!("removed {who} as owner of the group"),
                        (false, false) => {
                            format!("{who} does not own the group; nothing to change")
                        }
                    },
                    output: json!({"changed": adding != was}),
                    before: Some(json!({"owner": was})),
                    after: Some(json!({"owner": adding})),
                    platform_request_id: request_id,
                })
            }
            "teams.member.list" => {
                let p: TeamParams = parse(name, &call.params)?;
                let id = self.resolve_group_id(&p.team).await?;
                let (members, request_id) = self.team_members(&id).await?;
                let owners: Vec<String> = members
                    .iter()
                    .filter(|m| is_owner(m))
                    .map(|m| text(m, "displayName"))
                    .collect();
                Ok(ActionResult {
                    summary: format!(
                        "{} member(s); owner(s): {}",
                        members.len(),
                        if owners.is_empty() {
                            "none".into()
                        } else {
                            owners.join(", ")
                        }
                    ),
                    output: Value::Array(members),
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "teams.member.add" => {
                let p: TeamMemberParams = parse(name, &call.params)?;
                let owner = p.owner.unwrap_or(false);
                let (team_id, user_id, who) = self.team_and_user(&p.team, &p.user).await?;
                let (members, _) = self.team_members(&team_id).await?;
                let existing = members.iter().find(|m| text(m, "userId") == user_id);
                if existing.is_some_and(|m| is_owner(m) == owner) {
                    return Ok(ActionResult {
                        summary: format!(
                            "{who} is already in the team as {}; nothing to change",
                            role_name(owner)
                        ),
                        output: json!({"changed": false}),
                        before: Some(json!({"role": role_name(owner)})),
                        after: Some(json!({"role": role_name(owner)})),
                        platform_request_id: None,
                    });
                }
                let body = json!({
                    "@odata.type": "#microsoft.graph.aadUserConversationMember",
                    "roles": if owner { json!(["owner"]) } else { json!([]) },
                    "user@odata.bind": format!("https://graph.microsoft.com/v1.0/users('{user_id}')"),
                });
                let url = self.client.url(&["teams", &team_id, "members"])?;
                let r = self
                    .client
                    .send_as(Method::POST, url, Some(&body), Some(key))
                    .await?;
                Ok(ActionResult {
                    summary: format!("added {who} to the team as {}", role_name(owner)),
                    output: r.body,
                    before: Some(json!({"role": existing.map(|m| role_name(is_owner(m)))})),
                    after: Some(json!({"role": role_name(owner)})),
                    platform_request_id: r.request_id,
                })
            }
            "teams.member.remove" => {
                let p: TeamLeaveParams = parse(name, &call.params)?;
                let (team_id, user_id, who) = self.team_and_user(&p.team, &p.user).await?;
                let (members, _) = self.team_members(&team_id).await?;
                let Some(existing) = members.iter().find(|m| text(m, "userId") == user_id) else {
                    return Ok(ActionResult {
                        summary: format!("{who} is not in the team; nothing to change"),
                        output: json!({"changed": false}),
                        before: Some(json!({"role": null})),
                        after: Some(json!({"role": null})),
                        platform_request_id: None,
                    });
                };
                let url =
                    self.client
                        .url(&["teams", &team_id, "members", &text(existing, "id")])?;
                let r = self
                    .client
                    .send_as(Method::DELETE, url, None, Some(key))
                    .await?;
                Ok(ActionResult {
                    summary: format!("removed {who} from the team"),
                    output: json!({"changed": true}),
                    before: Some(json!({"role": role_name(is_owner(existing))})),
                    after: Some(json!({"role": null})),
                    platform_request_id: r.request_id,
                })
            }
            other => Err(ConnectorError::UnknownAction(other.to_owned())),
        }
    }

    pub(super) async fn teams_preview(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<Change>, ConnectorError> {
        let name = call.action.as_str();
        if !matches!(
            name,
            "entra.group.add_owner"
                | "entra.group.remove_owner"
                | "teams.member.add"
                | "teams.member.remove"
        ) {
            return Ok(Vec::new());
        }
        let (current, proposed, who) = self.membership_now(call).await?;
        Ok(vec![Change {
            target: who,
            field: if name.starts_with("teams.") {
                "team role".into()
            } else {
                "group owner".into()
            },
            current,
            proposed,
        }])
    }

    /// What the person is in the group or team now, and what the change wants.
    async fn membership_now(
        &self,
        call: &ActionCall,
    ) -> Result<(Value, Value, String), ConnectorError> {
        let name = call.action.as_str();
        let user = call.params["user"].as_str().unwrap_or_default();
        if name.starts_with("entra.group.") {
            let p: MembershipParams = parse(name, &call.params)?;
            let (group_id, user_id, who) = self.team_and_user(&p.group, user).await?;
            let is = self
                .owner_ids(&group_id)
                .await?
                .iter()
                .any(|o| text(o, "id") == user_id);
            return Ok((json!(is), json!(name == "entra.group.add_owner"), who));
        }
        let team = call.params["team"].as_str().unwrap_or_default();
        let (team_id, user_id, who) = self.team_and_user(team, user).await?;
        let (members, _) = self.team_members(&team_id).await?;
        let now = members
            .iter()
            .find(|m| text(m, "userId") == user_id)
            .map(|m| json!(role_name(is_owner(m))))
            .unwrap_or(Value::Null);
        let wanted = if name == "teams.member.add" {
            let p: TeamMemberParams = parse(name, &call.params)?;
            json!(role_name(p.owner.unwrap_or(false)))
        } else {
            let _: TeamLeaveParams = parse(name, &call.params)?;
            Value::Null
        };
        Ok((now, wanted, who))
    }

    /// Whether the group's owners or the team's members read what the change sets.
    pub(super) async fn teams_state(
        &self,
        call: &ActionCall,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        if !matches!(
            name,
            "entra.group.add_owner"
                | "entra.group.remove_owner"
                | "teams.member.add"
                | "teams.member.remove"
        ) {
            return Ok(Reconciliation::Unknown(format!(
                "`{name}` leaves nothing the Graph connector can read back"
            )));
        }
        let (now, wanted, who) = self.membership_now(call).await?;
        let detail = if name.starts_with("teams.") {
            format!(
                "{who} is {} in the team",
                now.as_str()
                    .map_or("not a member".to_owned(), str::to_owned)
            )
        } else {
            format!(
                "{who} is {}an owner of the group",
                if now == json!(true) { "" } else { "not " }
            )
        };
        Ok(Reconciliation::read(now == wanted, detail))
    }
}

fn is_owner(member: &Value) -> bool {
    member["roles"]
        .as_array()
        .is_some_and(|r| r.iter().any(|x| x == "owner"))
}

fn role_name(owner: bool) -> &'static str {
    if owner { "owner" } else { "member" }
}
