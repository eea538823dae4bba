//! SharePoint sites and OneDrive: drives, their items and each item's sharing permissions, as
//! Graph shows them. A person's OneDrive belongs to them; a site's document library belongs to
//! the site, whose root is shared with the site's Owners, Members and Visitors groups.

use serde_json::{Map, Value, json};

use crate::seed::{SeedError, invalid};

/// Who a drive belongs to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum DriveOwner {
    /// A person's OneDrive (their directory id).
    User(String),
    /// A site's document library (the site id).
    Site(String),
}

/// One item: Graph's `driveItem` properties and the item's own (not inherited) permissions.
#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub props: Map<String, Value>,
    pub permissions: Vec<Value>,
}

impl Item {
    pub fn id(&self) -> &str {
        self.props
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// A drive and its items; the first item is the root.
#[derive(Debug, Clone)]
pub(crate) struct Drive {
    pub id: String,
    pub name: String,
    pub owner: DriveOwner,
    pub web_url: String,
    pub items: Vec<Item>,
}

impl Drive {
    pub fn root(&self) -> Option<&Item> {
        self.items.first()
    }

    /// An item by id, or the root by its alias `root`.
    pub fn item(&self, id: &str) -> Option<&Item> {
        if id == "root" {
            return self.root();
        }
        self.items.iter().find(|i| i.id() == id)
    }

    pub fn item_mut(&mut self, id: &str) -> Option<&mut Item> {
        if id == "root" {
            return self.items.first_mut();
        }
        self.items.iter_mut().find(|i| i.id() == id)
    }

    /// The drive as Graph answers it.
    pub fn view(&self, owner: Value) -> Value {
        json!({
            "id": self.id,
            "name": self.name,
            "driveType": if matches!(self.owner, DriveOwner::User(_)) { "business" } else { "documentLibrary" },
            "webUrl": self.web_url,
            "owner": owner,
        })
    }

    /// Reads a seeded drive (`id`, `name`, `items` as Graph's driveItems with their
    /// `permissions`); the root is made here, with `root_permissions`.
    pub fn from_seed(
        raw: &Value,
        owner: DriveOwner,
        web_url: String,
        root_permissions: Vec<Value>,
        what: &str,
    ) -> Result<Self, SeedError> {
        let id = raw["id"]
            .as_str()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid(format!("{what}: the drive has no `id`")))?
            .to_owned();
        let name = raw["name"].as_str().unwrap_or("Documents").to_owned();
        let root_id = format!("{id}-root");
        let mut root = Map::new();
        root.insert("id".into(), json!(root_id));
        root.insert("name".into(), json!("root"));
        root.insert("root".into(), json!({}));
        root.insert("folder".into(), json!({"childCount": 0}));
        root.insert("webUrl".into(), json!(web_url));
        root.insert(
            "parentReference".into(),
            json!({"driveId": id, "driveType": if matches!(owner, DriveOwner::User(_)) { "business" } else { "documentLibrary" }}),
        );
        let mut items = vec![Item {
            props: root,
            permissions: root_permissions,
        }];
        for raw_item in raw["items"].as_array().into_iter().flatten() {
            let mut props = raw_item
                .as_object()
                .cloned()
                .ok_or_else(|| invalid(format!("{what}: a drive item is not an object")))?;
            let item_id = props
                .get("id")
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .ok_or_else(|| invalid(format!("{what}: a drive item has no `id`")))?
                .to_owned();
            let permissions = match props.remove("permissions") {
                Some(Value::Array(p)) => p,
                _ => Vec::new(),
            };
            let name = props
                .get("name")
                .and_then(Value::as_str)
                .unwrap_or(&item_id)
                .to_owned();
            props
                .entry("webUrl")
                .or_insert_with(|| json!(format!("{web_url}/{}", name.replace(' ', "%20"))));
            props.insert(
                "parentReference".into(),
                json!({"driveId": id, "id": root_id, "path": "/drive/root:"}),
            );
            items.push(Item { props, permissions });
        }
        let children = items.len() - 1;
        if let Some(root) = items.first_mut() {
            root.props
                .insert("folder".into(), json!({"childCount": children}));
        }
        Ok(Self {
            id,
            name,
            owner,
            web_url,
            items,
        })
    }
}

/// A person's OneDrive, empty unless the seed gives it items (`drive` on the user).
pub(crate) fn one_drive(
    seeded: Option<&Value>,
    user_id: &str,
    upn: &str,
    display_name: &str,
    domain: &str,
) -> Result<Drive, SeedError> {
    let host = domain.split('.').next().unwrap_or(domain);
    let web_url = format!(
        "https://{host}-my.sharepoint.com/personal/{}/Documents",
        upn.replace(['@', '.'], "_")
    );
    let default = json!({"id": format!("b!{}", user_id.replace('-', "")), "name": "OneDrive"});
    let raw = seeded.unwrap_or(&default);
    let mut raw = raw.clone();
    if raw.get("id").is_none() {
        raw["id"] = default["id"].clone();
    }
    Drive::from_seed(
        &raw,
        DriveOwner::User(user_id.to_owned()),
        web_url,
        vec![user_permission(user_id, display_name, &["owner"])],
        &format!("user `{upn}`"),
    )
}

/// A SharePoint site (Graph's `site` properties) and the id of its document library.
#[derive(Debug, Clone)]
pub(crate) struct Site {
    pub props: Map<String, Value>,
    pub drive_id: String,
}

impl Site {
    pub fn id(&self) -> &str {
        self.props
            .get("id")
            .and_then(Value::as_str)
            .unwrap_or_default()
    }
}

/// A permission granting `roles` to a person (Graph's `grantedToV2.user`: an identity, id and
/// display name).
pub(crate) fn user_permission(id: &str, name: &str, roles: &[&str]) -> Value {
    let user = json!({"id": id, "displayName": name});
    json!({
        "id": format!("aTowIy5mfG1lbWJlcnNoaXB8{}", id.replace('-', "")),
        "roles": roles,
        "grantedToV2": {"user": user},
        "grantedTo": {"user": user},
        "shareId": null,
    })
}

/// The permission of one of a site's groups (Owners, Members, Visitors).
pub(crate) fn site_group_permission(
    site_name: &str,
    group: &str,
    number: u32,
    role: &str,
) -> Value {
    json!({
        "id": format!("{number}"),
        "roles": [role],
        "grantedToV2": {"siteGroup": {"displayName": format!("{site_name} {group}"), "id": format!("{number}"), "loginName": format!("{site_name} {group}")}},
    })
}

/// Reads the seed's `sites` (Graph `site` properties, with `drive` holding the document
/// library's items); each library's root is shared with the site's three groups.
pub(crate) fn sites_from_seed(seed: &Value) -> Result<(Vec<Site>, Vec<Drive>), SeedError> {
    let mut sites = Vec::new();
    let mut drives = Vec::new();
    for raw in seed
        .get("sites")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let mut props = raw
            .as_object()
            .cloned()
            .ok_or_else(|| invalid("a site is not an object"))?;
        let id = props
            .get("id")
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| invalid("a site has no `id`"))?
            .to_owned();
        let name = props
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or(&id)
            .to_owned();
        let web_url = props
            .get("webUrl")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let drive_raw = props
            .remove("drive")
            .ok_or_else(|| invalid(format!("site `{id}` has no `drive`")))?;
        let drive = Drive::from_seed(
            &drive_raw,
            DriveOwner::Site(id.clone()),
            format!("{web_url}/Shared%20Documents"),
            vec![
                site_group_permission(&name, "Owners", 3, "owner"),
                site_group_permission(&name, "Members", 5, "write"),
                site_group_permission(&name, "Visitors", 4, "read"),
            ],
            &format!("site `{id}`"),
        )?;
        sites.push(Site {
            props,
            drive_id: drive.id.clone(),
        });
        drives.push(drive);
    }
    Ok((sites, drives))
}
