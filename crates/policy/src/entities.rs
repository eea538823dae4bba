//! Builds the Cedar entities and context of one request from Steward's own facts.

use std::collections::BTreeMap;

use serde_json::{Value, json};
use steward_domain::{Principal, Target, TargetKind};

use crate::DecisionRequest;

fn uid(kind: &str, id: &str) -> Value {
    json!({"type": kind, "id": id})
}

pub(crate) fn kind_name(kind: TargetKind) -> &'static str {
    match kind {
        TargetKind::Person => "Person",
        TargetKind::Group => "Group",
        TargetKind::Device => "Device",
        TargetKind::Tenant => "Tenant",
    }
}

fn department_uid(principal: &Principal, name: &str) -> Value {
    uid("Department", &format!("{}/{name}", principal.tenant))
}

/// The entity list of one request: tenant, departments, groups, the principal and the target.
pub(crate) fn entities_json(req: &DecisionRequest<'_>) -> Value {
    let tenant = req.principal.tenant.as_str();
    let mut entities: BTreeMap<(String, String), Value> = BTreeMap::new();
    let mut put = |kind: &str, id: &str, value: Value| {
        entities.insert((kind.to_owned(), id.to_owned()), value);
    };
    put(
        "Tenant",
        tenant,
        json!({"uid": uid("Tenant", tenant), "attrs": {"privileged": false, "protected": false}, "parents": []}),
    );

    let mut departments: Vec<&str> = Vec::new();
    departments.extend(req.principal.department.as_deref());
    departments.extend(req.target.department.as_deref());
    for name in departments {
        let d = department_uid(req.principal, name);
        let id = d["id"].as_str().unwrap_or_default().to_owned();
        put(
            "Department",
            &id,
            json!({"uid": d, "attrs": {"name": name}, "parents": [uid("Tenant", tenant)]}),
        );
    }
    for group in &req.target.groups {
        put(
            "Group",
            group,
            json!({"uid": uid("Group", group), "attrs": {"name": "", "privileged": false, "protected": false}, "parents": [uid("Tenant", tenant)]}),
        );
    }

    let target = req.target;
    let target_kind = kind_name(target.kind);
    if target.kind == TargetKind::Tenant {
        // A directory-wide read targets a tenant; only a tenant entity of its own id is added,
        // so a foreign tenant id fails `resource in principal.tenant`.
        put(
            "Tenant",
            &target.id,
            json!({"uid": uid("Tenant", &target.id), "attrs": {"privileged": false, "protected": false}, "parents": []}),
        );
        add_principal(&mut put, req);
        return Value::Array(entities.into_values().collect());
    }
    let mut target_parents = vec![uid("Tenant", tenant)];
    if let Some(d) = &target.department {
        target_parents.push(department_uid(req.principal, d));
    }
    target_parents.extend(target.groups.iter().map(|g| uid("Group", g)));
    let target_attrs = match target.kind {
        TargetKind::Person => json!({
            "upn": target.upn.clone().unwrap_or_default(),
            "department": target.department.clone().unwrap_or_default(),
            "itAdmin": target.id == req.principal.directory_id && req.principal.it_admin,
            "privileged": target.privileged,
            "protected": target.protected,
            "tenant": {"__entity": uid("Tenant", tenant)},
        }),
        TargetKind::Group | TargetKind::Device | TargetKind::Tenant => json!({
            "name": target.display_name,
            "privileged": target.privileged,
            "protected": target.protected,
        }),
    };
    // The target may be the tenant the principal does not belong to (tenant isolation is
    // checked by policy), so its tenant parent is the principal's only when it says so.
    put(
        target_kind,
        &target.id,
        json!({"uid": uid(target_kind, &target.id), "attrs": target_attrs, "parents": target_parents}),
    );

    if !(target.kind == TargetKind::Person && target.id == req.principal.directory_id) {
        add_principal(&mut put, req);
    }
    Value::Array(entities.into_values().collect())
}

fn add_principal(put: &mut impl FnMut(&str, &str, Value), req: &DecisionRequest<'_>) {
    let tenant = req.principal.tenant.as_str();
    let p = req.principal;
    {
        let mut parents = vec![uid("Tenant", tenant)];
        if let Some(d) = &p.department {
            parents.push(department_uid(p, d));
        }
        put(
            "Person",
            &p.directory_id,
            json!({
                "uid": uid("Person", &p.directory_id),
                "attrs": {
                    "upn": p.upn,
                    "department": p.department.clone().unwrap_or_default(),
                    "itAdmin": p.it_admin,
                    "privileged": p.privileged,
                    "protected": false,
                    "tenant": {"__entity": uid("Tenant", tenant)},
                },
                "parents": parents,
            }),
        );
    }
}

/// The runtime context, computed by Steward's code (never by a reasoner).
pub(crate) fn context_json(req: &DecisionRequest<'_>, granted: bool, by_other: bool) -> Value {
    json!({
        "channel": req.channel.as_str(),
        "selfService": !req.principal.it_admin,
        "blastRadius": req.blast_radius,
        "risk": req.risk,
        "localHour": req.local_hour,
        "approval": {"granted": granted, "byOther": by_other},
    })
}

pub(crate) fn principal_uid(p: &Principal) -> Value {
    uid("Person", &p.directory_id)
}

pub(crate) fn target_uid(t: &Target) -> Value {
    uid(kind_name(t.kind), &t.id)
}
