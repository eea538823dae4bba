//! SharePoint and OneDrive through Graph: who has access to a file, folder or a whole library
//! (people, site groups, sharing links), granting and removing access, organisation sharing
//! links, removing "anyone with the link" links, and handing a leaver's OneDrive to their
//! manager. Items are named by id (Graph's item paths are not in the reference); no item means
//! the whole OneDrive or library.

use reqwest::Method;
use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::{Value, json};
use steward_domain::{ActionCall, Change, Risk};

use super::actions::{Entry, UserParams, parse, person, schema_of};
use super::execute::{MsGraphConnector, text};
use crate::{ActionResult, ConnectorError, Reconciliation};

/// Read or edit.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum ShareRole {
    /// View only.
    Read,
    /// View and edit.
    Write,
}

impl ShareRole {
    fn wire(self) -> &'static str {
        match self {
            Self::Read => "read",
            Self::Write => "write",
        }
    }
}

/// What a sharing link lets people do.
#[derive(Debug, Clone, Copy, Deserialize, JsonSchema, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub(crate) enum LinkKind {
    /// View only.
    View,
    /// View and edit.
    Edit,
}

/// Where an item lives: someone's OneDrive (`owner`) or a SharePoint site (`site`), and the
/// item's id (none: the whole drive or library).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OneDriveItemParams {
    /// The OneDrive owner's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub owner: String,
    /// The file or folder's item id (default: the whole OneDrive).
    #[schemars(length(min = 1, max = 256))]
    pub item: Option<String>,
}

/// Share an item of someone's OneDrive with a person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OneDriveGrantParams {
    /// The OneDrive owner's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub owner: String,
    /// The file or folder's item id (default: the whole OneDrive).
    #[schemars(length(min = 1, max = 256))]
    pub item: Option<String>,
    /// The e-mail address of the person to share with.
    #[schemars(length(min = 3, max = 256))]
    pub with: String,
    /// Read or write.
    pub role: ShareRole,
}

/// Stop sharing an item of someone's OneDrive with a person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct OneDriveRevokeParams {
    /// The OneDrive owner's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub owner: String,
    /// The file or folder's item id (default: the whole OneDrive).
    #[schemars(length(min = 1, max = 256))]
    pub item: Option<String>,
    /// The e-mail address of the person whose access ends.
    #[schemars(length(min = 3, max = 256))]
    pub with: String,
}

/// A link anyone in the organisation can open.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct OneDriveLinkParams {
    /// The OneDrive owner's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub owner: String,
    /// The file or folder's item id (default: the whole OneDrive).
    #[schemars(length(min = 1, max = 256))]
    pub item: Option<String>,
    /// View or edit.
    #[serde(rename = "type")]
    pub kind: LinkKind,
}

/// An item of a SharePoint site's document library.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteItemParams {
    /// The site id (`hostname,siteCollectionId,webId`).
    #[schemars(length(min = 3, max = 512))]
    pub site: String,
    /// The file or folder's item id (default: the whole library).
    #[schemars(length(min = 1, max = 256))]
    pub item: Option<String>,
}

/// Share an item of a site's library with a person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteGrantParams {
    /// The site id (`hostname,siteCollectionId,webId`).
    #[schemars(length(min = 3, max = 512))]
    pub site: String,
    /// The file or folder's item id (default: the whole library).
    #[schemars(length(min = 1, max = 256))]
    pub item: Option<String>,
    /// The e-mail address of the person to share with.
    #[schemars(length(min = 3, max = 256))]
    pub with: String,
    /// Read or write.
    pub role: ShareRole,
}

/// Stop sharing an item of a site's library with a person.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SiteRevokeParams {
    /// The site id (`hostname,siteCollectionId,webId`).
    #[schemars(length(min = 3, max = 512))]
    pub site: String,
    /// The file or folder's item id (default: the whole library).
    #[schemars(length(min = 1, max = 256))]
    pub item: Option<String>,
    /// The e-mail address of the person whose access ends.
    #[schemars(length(min = 3, max = 256))]
    pub with: String,
}

const ONEDRIVE_READ: &[&str] = &[
    "GET /users/{id}/drive",
    "GET /drives/{id}/items/{id}/permissions",
];
const SITE_READ: &[&str] = &[
    "GET /sites/{id}",
    "GET /sites/{id}/drive",
    "GET /drives/{id}/items/{id}/permissions",
];

#[expect(
    clippy::too_many_arguments,
    reason = "one catalogue row per call, read like a table"
)]
fn entry(
    name: &'static str,
    summary: &'static str,
    schema: Value,
    mutating: bool,
    on_onedrive: bool,
    undo: Option<&'static str>,
    verification: &'static str,
    calls: &'static [&'static str],
) -> Entry {
    Entry {
        name,
        summary,
        schema,
        mutating,
        risk: Risk::Medium,
        targets: if on_onedrive {
            vec![person("owner")]
        } else {
            Vec::new()
        },
        undo,
        verification,
        calls,
        permissions: if on_onedrive {
            &["Files.ReadWrite.All"]
        } else {
            &["Sites.ReadWrite.All"]
        },
    }
}

pub(crate) fn entries() -> Vec<Entry> {
    vec![
        entry(
            "onedrive.item.list_access",
            "List who can open a OneDrive file or folder (people, sharing links, inherited access)",
            schema_of::<OneDriveItemParams>(),
            false,
            true,
            None,
            "",
            ONEDRIVE_READ,
        ),
        entry(
            "onedrive.item.grant",
            "Give a person read or write access to a OneDrive file or folder",
            schema_of::<OneDriveGrantParams>(),
            true,
            true,
            Some("onedrive.item.revoke"),
            "the item's permissions grant the person the role",
            &[
                "GET /users/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "POST /drives/{id}/items/{id}/invite",
            ],
        ),
        entry(
            "onedrive.item.revoke",
            "Remove a person's access to a OneDrive file or folder",
            schema_of::<OneDriveRevokeParams>(),
            true,
            true,
            None,
            "the item's own permissions no longer name the person",
            &[
                "GET /users/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "DELETE /drives/{id}/items/{id}/permissions/{id}",
            ],
        ),
        entry(
            "onedrive.item.create_link",
            "Create a link to a OneDrive file or folder that people in the organisation can open",
            schema_of::<OneDriveLinkParams>(),
            true,
            true,
            None,
            "the item has an organisation link of the type",
            &[
                "GET /users/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "POST /drives/{id}/items/{id}/createLink",
            ],
        ),
        entry(
            "onedrive.item.remove_anonymous_links",
            "Remove every \"anyone with the link\" link from a OneDrive file or folder",
            schema_of::<OneDriveItemParams>(),
            true,
            true,
            None,
            "no anonymous link is left on the item",
            &[
                "GET /users/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "DELETE /drives/{id}/items/{id}/permissions/{id}",
            ],
        ),
        Entry {
            name: "onedrive.drive.handover_to_manager",
            summary: "Give a leaver's manager edit access to the leaver's whole OneDrive",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the OneDrive's root grants the manager write",
            calls: &[
                "GET /users/{id}/manager",
                "GET /users/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "POST /drives/{id}/items/{id}/invite",
            ],
            permissions: &["User.Read.All", "Files.ReadWrite.All"],
        },
        entry(
            "sharepoint.site.list_access",
            "List who can open a SharePoint site's library or one of its files or folders (site groups, people, links)",
            schema_of::<SiteItemParams>(),
            false,
            false,
            None,
            "",
            SITE_READ,
        ),
        entry(
            "sharepoint.item.grant",
            "Give a person read or write access to a SharePoint library, file or folder",
            schema_of::<SiteGrantParams>(),
            true,
            false,
            Some("sharepoint.item.revoke"),
            "the item's permissions grant the person the role",
            &[
                "GET /sites/{id}",
                "GET /sites/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "POST /drives/{id}/items/{id}/invite",
            ],
        ),
        entry(
            "sharepoint.item.revoke",
            "Remove a person's access to a SharePoint library, file or folder",
            schema_of::<SiteRevokeParams>(),
            true,
            false,
            None,
            "the item's own permissions no longer name the person",
            &[
                "GET /sites/{id}",
                "GET /sites/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "DELETE /drives/{id}/items/{id}/permissions/{id}",
            ],
        ),
        entry(
            "sharepoint.item.remove_anonymous_links",
            "Remove every \"anyone with the link\" link from a SharePoint library, file or folder",
            schema_of::<SiteItemParams>(),
            true,
            false,
            None,
            "no anonymous link is left on the item",
            &[
                "GET /sites/{id}",
                "GET /sites/{id}/drive",
                "GET /drives/{id}/items/{id}/permissions",
                "DELETE /drives/{id}/items/{id}/permissions/{id}",
            ],
        ),
    ]
}

/// One permission in words: who (or which link) and what they may do.
fn describe(p: &Value) -> String {
    let roles = p["roles"]
        .as_array()
        .map(|r| {
            r.iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join("+")
        })
        .unwrap_or_default();
    let inherited = if p.get("inheritedFrom").is_some() {
        ", inherited"
    } else {
        ""
    };
    if let Some(link) = p.get("link") {
        let scope = match link["scope"].as_str() {
            Some("anonymous") => "anyone-with-the-link",
            Some("organization") => "organisation",
            Some(other) => other,
            None => "?",
        };
        return format!(
            "an {scope} {} link ({roles}{inherited})",
            link["type"].as_str().unwrap_or("?")
        );
    }
    let who = p
        .pointer("/invitation/email")
        .or(p.pointer("/grantedToV2/user/displayName"))
        .or(p.pointer("/grantedToV2/siteGroup/displayName"))
        .or(p.pointer("/grantedToV2/group/displayName"))
        .and_then(Value::as_str)
        .unwrap_or("someone");
    format!("{who} ({roles}{inherited})")
}

fn is_anonymous_link(p: &Value) -> bool {
    p.pointer("/link/scope").and_then(Value::as_str) == Some("anonymous")
        && p.get("inheritedFrom").is_none()
}

/// Whether a permission is granted to `who`: by directory id for someone in the directory, or
/// by the invited address for someone outside it (Graph's identity carries no e-mail address).
fn is_for(p: &Value, who: &str, id: Option<&str>) -> bool {
    (id.is_some() && p.pointer("/grantedToV2/user/id").and_then(Value::as_str) == id)
        || p.pointer("/invitation/email")
            .and_then(Value::as_str)
            .is_some_and(|e| e.eq_ignore_ascii_case(who.trim()))
}

/// The item's own permission granted to `who`.
fn granted_to<'a>(permissions: &'a [Value], who: &str, id: Option<&str>) -> Option<&'a Value> {
    permissions
        .iter()
        .find(|p| p.get("inheritedFrom").is_none() && p.get("link").is_none() && is_for(p, who, id))
}

/// Where a call's item is: a person's OneDrive or a site's library, and the item (none: the
/// root), from the call's checked parameters.
enum Place {
    OneDrive { owner: String, item: Option<String> },
    Site { site: String, item: Option<String> },
}

fn place_of(call: &ActionCall) -> Result<Place, ConnectorError> {
    let name = call.action.as_str();
    let params = &call.params;
    Ok(match name {
        "onedrive.item.list_access" | "onedrive.item.remove_anonymous_links" => {
            let p: OneDriveItemParams = parse(name, params)?;
            Place::OneDrive {
                owner: p.owner,
                item: p.item,
            }
        }
        "onedrive.item.grant" => {
            let p: OneDriveGrantParams = parse(name, params)?;
            Place::OneDrive {
                owner: p.owner,
                item: p.item,
            }
        }
        "onedrive.item.revoke" => {
            let p: OneDriveRevokeParams = parse(name, params)?;
            Place::OneDrive {
                owner: p.owner,
                item: p.item,
            }
        }
        "onedrive.item.create_link" => {
            let p: OneDriveLinkParams = parse(name, params)?;
            Place::OneDrive {
                owner: p.owner,
                item: p.item,
            }
        }
        "onedrive.drive.handover_to_manager" => {
            let p: UserParams = parse(name, params)?;
            Place::OneDrive {
                owner: p.user,
                item: None,
            }
        }
        "sharepoint.site.list_access" | "sharepoint.item.remove_anonymous_links" => {
            let p: SiteItemParams = parse(name, params)?;
            Place::Site {
                site: p.site,
                item: p.item,
            }
        }
        "sharepoint.item.grant" => {
            let p: SiteGrantParams = parse(name, params)?;
            Place::Site {
                site: p.site,
                item: p.item,
            }
        }
        "sharepoint.item.revoke" => {
            let p: SiteRevokeParams = parse(name, params)?;
            Place::Site {
                site: p.site,
                item: p.item,
            }
        }
        other => return Err(ConnectorError::UnknownAction(other.to_owned())),
    })
}

/// An item located: the drive, the item (`root` or an id) and a name for messages.
struct Located {
    drive: String,
    item: String,
    name: String,
}

impl MsGraphConnector {
    /// The drive and item a call names (`owner` for a OneDrive, `site` for a library).
    async fn locate(&self, call: &ActionCall) -> Result<Located, ConnectorError> {
        let (drive_url, what, item) = match place_of(call)? {
            Place::Site { site, item } => {
                let url = self.client.url(&["sites", &site])?;
                let site_view = self.client.send(Method::GET, url, None).await?.body;
                (
                    self.client.url(&["sites", &site, "drive"])?,
                    format!("the {} site", text(&site_view, "displayName")),
                    item,
                )
            }
            Place::OneDrive { owner, item } => {
                let (u, _) = self.get_user(&owner).await?;
                (
                    self.client.url(&["users", &text(&u, "id"), "drive"])?,
                    format!("{}'s OneDrive", text(&u, "userPrincipalName")),
                    item,
                )
            }
        };
        let item = item.unwrap_or_else(|| "root".into());
        let drive = self.client.send(Method::GET, drive_url, None).await?.body;
        let name = if item == "root" {
            what
        } else {
            format!("item {item} in {what}")
        };
        Ok(Located {
            drive: text(&drive, "id"),
            item,
            name,
        })
    }

    async fn item_permissions(
        &self,
        at: &Located,
    ) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
        let url = self
            .client
            .url(&["drives", &at.drive, "items", &at.item, "permissions"])?;
        self.client.get_all(url, 10_000).await
    }

    /// The directory id of an address, when it is someone in the directory.
    async fn directory_id(&self, who: &str) -> Option<String> {
        self.get_user(who)
            .await
            .ok()
            .map(|(u, _)| text(&u, "id"))
            .filter(|id| !id.is_empty())
    }

    async fn grant(
        &self,
        at: &Located,
        with: &str,
        role: &str,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let (permissions, _) = self.item_permissions(at).await?;
        let id = self.directory_id(with).await;
        let before = granted_to(&permissions, with, id.as_deref()).map(|p| p["roles"].clone());
        if before
            .as_ref()
            .is_some_and(|r| r.as_array().is_some_and(|r| r.iter().any(|x| x == role)))
        {
            return Ok(ActionResult {
                summary: format!(
                    "{with} already has {role} access to {}; nothing to change",
                    at.name
                ),
                output: json!({"changed": false}),
                before: Some(json!({"roles": before})),
                after: Some(json!({"roles": [role]})),
                platform_request_id: None,
            });
        }
        let recipient = match &id {
            Some(id) => json!({"objectId": id}),
            None => json!({"email": with.trim()}),
        };
        let body = json!({
            "recipients": [recipient],
            "roles": [role],
            "requireSignIn": true,
            "sendInvitation": false,
        });
        let url = self
            .client
            .url(&["drives", &at.drive, "items", &at.item, "invite"])?;
        let r = self
            .client
            .send_as(Method::POST, url, Some(&body), Some(key))
            .await?;
        Ok(ActionResult {
            summary: format!("gave {with} {role} access to {}", at.name),
            output: r.body,
            before: Some(json!({"roles": before})),
            after: Some(json!({"roles": [role]})),
            platform_request_id: r.request_id,
        })
    }

    async fn revoke(
        &self,
        at: &Located,
        with: &str,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let (permissions, _) = self.item_permissions(at).await?;
        let id = self.directory_id(with).await;
        let Some(found) = granted_to(&permissions, with, id.as_deref()) else {
            let inherited = permissions
                .iter()
                .any(|p| p.get("inheritedFrom").is_some() && is_for(p, with, id.as_deref()));
            return Ok(ActionResult {
                summary: if inherited {
                    format!(
                        "{with} has no access of their own to {}; what they have is inherited from the library, so remove it there",
                        at.name
                    )
                } else {
                    format!(
                        "{with} has no access of their own to {}; nothing to change",
                        at.name
                    )
                },
                output: json!({"changed": false}),
                before: Some(json!({"roles": null})),
                after: Some(json!({"roles": null})),
                platform_request_id: None,
            });
        };
        let url = self.client.url(&[
            "drives",
            &at.drive,
            "items",
            &at.item,
            "permissions",
            &text(found, "id"),
        ])?;
        let r = self
            .client
            .send_as(Method::DELETE, url, None, Some(key))
            .await?;
        Ok(ActionResult {
            summary: format!("removed {with}'s access to {}", at.name),
            output: json!({"changed": true}),
            before: Some(json!({"roles": found["roles"]})),
            after: Some(json!({"roles": null})),
            platform_request_id: r.request_id,
        })
    }

    async fn remove_anonymous(
        &self,
        at: &Located,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let (permissions, _) = self.item_permissions(at).await?;
        let links: Vec<&Value> = permissions
            .iter()
            .filter(|p| is_anonymous_link(p))
            .collect();
        let mut request_id = None;
        for link in &links {
            let link_id = text(link, "id");
            let url = self.client.url(&[
                "drives",
                &at.drive,
                "items",
                &at.item,
                "permissions",
                &link_id,
            ])?;
            match self
                .client
                .send_as(Method::DELETE, url, None, Some(&format!("{key}:{link_id}")))
                .await
            {
                Ok(r) => request_id = r.request_id.or(request_id),
                Err(ConnectorError::NotFound { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        let inherited = permissions
            .iter()
            .filter(|p| {
                p.pointer("/link/scope").and_then(Value::as_str) == Some("anonymous")
                    && p.get("inheritedFrom").is_some()
            })
            .count();
        let mut summary = if links.is_empty() {
            format!(
                "{} has no anonymous link of its own; nothing to remove",
                at.name
            )
        } else {
            format!("removed {} anonymous link(s) from {}", links.len(), at.name)
        };
        if inherited > 0 {
            summary.push_str(&format!(
                "; {inherited} more come from the library root and must be removed there"
            ));
        }
        Ok(ActionResult {
            summary,
            output: json!({"removed": links.len()}),
            before: Some(json!({"links": links})),
            after: Some(json!({"anonymousLinks": 0})),
            platform_request_id: request_id,
        })
    }

    pub(super) async fn files_execute(
        &self,
        call: &ActionCall,
        key: &str,
    ) -> Result<ActionResult, ConnectorError> {
        let name = call.action.as_str();
        match name {
            "onedrive.item.list_access" | "sharepoint.site.list_access" => {
                let at = self.locate(call).await?;
                let (permissions, request_id) = self.item_permissions(&at).await?;
                let anonymous = permissions
                    .iter()
                    .filter(|p| {
                        p.pointer("/link/scope").and_then(Value::as_str) == Some("anonymous")
                    })
                    .count();
                let mut summary = format!(
                    "{}: {}",
                    at.name,
                    permissions
                        .iter()
                        .map(describe)
                        .collect::<Vec<_>>()
                        .join("; ")
                );
                if anonymous > 0 {
                    summary.push_str(&format!(
                        " — {anonymous} link(s) open to anyone who has them, without signing in"
                    ));
                }
                Ok(ActionResult {
                    summary,
                    output: Value::Array(permissions),
                    before: None,
                    after: None,
                    platform_request_id: request_id,
                })
            }
            "onedrive.item.grant" => {
                let p: OneDriveGrantParams = parse(name, &call.params)?;
                let at = self.locate(call).await?;
                self.grant(&at, &p.with, p.role.wire(), key).await
            }
            "sharepoint.item.grant" => {
                let p: SiteGrantParams = parse(name, &call.params)?;
                let at = self.locate(call).await?;
                self.grant(&at, &p.with, p.role.wire(), key).await
            }
            "onedrive.item.revoke" => {
                let p: OneDriveRevokeParams = parse(name, &call.params)?;
                let at = self.locate(call).await?;
                self.revoke(&at, &p.with, key).await
            }
            "sharepoint.item.revoke" => {
                let p: SiteRevokeParams = parse(name, &call.params)?;
                let at = self.locate(call).await?;
                self.revoke(&at, &p.with, key).await
            }
            "onedrive.item.remove_anonymous_links" | "sharepoint.item.remove_anonymous_links" => {
                let at = self.locate(call).await?;
                self.remove_anonymous(&at, key).await
            }
            "onedrive.item.create_link" => {
                let p: OneDriveLinkParams = parse(name, &call.params)?;
                let at = self.locate(call).await?;
                let kind = if p.kind == LinkKind::Edit {
                    "edit"
                } else {
                    "view"
                };
                let url =
                    self.client
                        .url(&["drives", &at.drive, "items", &at.item, "createLink"])?;
                let r = self
                    .client
                    .send_as(
                        Method::POST,
                        url,
                        Some(&json!({"type": kind, "scope": "organization"})),
                        Some(key),
                    )
                    .await?;
                Ok(ActionResult {
                    summary: format!(
                        "created an organisation {kind} link to {}: {}",
                        at.name,
                        r.body
                            .pointer("/link/webUrl")
                            .and_then(Value::as_str)
                            .unwrap_or("?")
                    ),
                    output: r.body,
                    before: None,
                    after: Some(json!({"link": {"type": kind, "scope": "organization"}})),
                    platform_request_id: r.request_id,
                })
            }
            "onedrive.drive.handover_to_manager" => {
                let p: UserParams = parse(name, &call.params)?;
                let manager = self.manager_address(&p.user).await?;
                let at = self.locate(call).await?;
                self.grant(&at, &manager, "write", key).await
            }
            other => Err(ConnectorError::UnknownAction(other.to_owned())),
        }
    }

    /// The sign-in name of a person's manager; none set is a precondition not met.
    async fn manager_address(&self, user: &str) -> Result<String, ConnectorError> {
        let (u, _) = self.get_user(user).await?;
        let url = self.client.url(&["users", &text(&u, "id"), "manager"])?;
        match self.client.send(Method::GET, url, None).await {
            Ok(r) => Ok(r.body["userPrincipalName"]
                .as_str()
                .or(r.body["mail"].as_str())
                .unwrap_or_default()
                .to_owned()),
            Err(ConnectorError::NotFound { .. }) => Err(ConnectorError::Unmet {
                action: "onedrive.drive.handover_to_manager".into(),
                reason: format!(
                    "{} has no manager in the directory, so there is nobody to hand the OneDrive to: set a manager first, or share it with a named person (`onedrive.item.grant`)",
                    text(&u, "userPrincipalName")
                ),
            }),
            Err(e) => Err(e),
        }
    }

    /// The sharee and role a grant or revoke is about (the handover's is the manager, write).
    async fn wanted_access(
        &self,
        call: &ActionCall,
    ) -> Result<(String, Option<String>), ConnectorError> {
        let name = call.action.as_str();
        Ok(match name {
            "onedrive.drive.handover_to_manager" => {
                let user = call.params["user"].as_str().unwrap_or_default();
                (self.manager_address(user).await?, Some("write".into()))
            }
            _ => (
                call.params["with"].as_str().unwrap_or_default().to_owned(),
                call.params["role"].as_str().map(str::to_owned),
            ),
        })
    }

    pub(super) async fn files_preview(
        &self,
        call: &ActionCall,
    ) -> Result<Vec<Change>, ConnectorError> {
        let name = call.action.as_str();
        if name.ends_with("list_access") {
            return Ok(Vec::new());
        }
        let at = self.locate(call).await?;
        let (permissions, _) = self.item_permissions(&at).await?;
        if name.ends_with("remove_anonymous_links") {
            return Ok(permissions
                .iter()
                .filter(|p| is_anonymous_link(p))
                .map(|p| Change {
                    target: at.name.clone(),
                    field: "sharing link".into(),
                    current: json!(describe(p)),
                    proposed: json!("removed"),
                })
                .collect());
        }
        if name == "onedrive.item.create_link" {
            return Ok(vec![Change {
                target: at.name.clone(),
                field: "sharing link".into(),
                current: json!("none of this kind"),
                proposed: json!(format!(
                    "an organisation {} link",
                    call.params["type"].as_str().unwrap_or("view")
                )),
            }]);
        }
        let (with, role) = self.wanted_access(call).await?;
        let id = self.directory_id(&with).await;
        let current = granted_to(&permissions, &with, id.as_deref())
            .map(|p| p["roles"].clone())
            .unwrap_or(json!("no access of their own"));
        Ok(vec![Change {
            target: at.name,
            field: format!("access of {with}"),
            current,
            proposed: role.map_or(json!("no access of their own"), |r| json!([r])),
        }])
    }

    /// Whether the item's permissions read what the change sets.
    pub(super) async fn files_state(
        &self,
        call: &ActionCall,
    ) -> Result<Reconciliation, ConnectorError> {
        let name = call.action.as_str();
        if name.ends_with("list_access") {
            return Ok(Reconciliation::Unknown(format!(
                "`{name}` leaves nothing the Graph connector can read back"
            )));
        }
        let at = self.locate(call).await?;
        let (permissions, _) = self.item_permissions(&at).await?;
        let (applied, detail) = if name.ends_with("remove_anonymous_links") {
            let left = permissions.iter().filter(|p| is_anonymous_link(p)).count();
            (
                left == 0,
                format!("{} has {left} anonymous link(s) of its own", at.name),
            )
        } else if name == "onedrive.item.create_link" {
            let kind = call.params["type"].as_str().unwrap_or("view");
            let found = permissions.iter().any(|p| {
                p.pointer("/link/scope").and_then(Value::as_str) == Some("organization")
                    && p.pointer("/link/type").and_then(Value::as_str) == Some(kind)
            });
            (
                found,
                format!(
                    "{} {} an organisation {kind} link",
                    at.name,
                    if found { "has" } else { "has no" }
                ),
            )
        } else {
            let (with, role) = self.wanted_access(call).await?;
            let id = self.directory_id(&with).await;
            let now = granted_to(&permissions, &with, id.as_deref());
            let roles: Vec<String> = now
                .and_then(|p| p["roles"].as_array())
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect();
            let applied = match &role {
                Some(r) => roles.iter().any(|x| x == r || x == "owner"),
                None => now.is_none(),
            };
            (
                applied,
                format!(
                    "{with}'s own access to {} reads {}",
                    at.name,
                    if roles.is_empty() {
                        "none".into()
                    } else {
                        roles.join("+")
                    }
                ),
            )
        };
        Ok(Reconciliation::read(applied, detail))
    }
}
