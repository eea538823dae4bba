//! Entra's delegated-permission rules: what the signed-in person's own directory role allows on a
//! given target (from `shared/reference/ENTRA-ROLES.md`).

const PASSWORD_ADMIN: &str = "Password Administrator";
const HELPDESK_ADMIN: &str = "Helpdesk Administrator";
const AUTH_ADMIN: &str = "Authentication Administrator";
const USER_ADMIN: &str = "User Administrator";
const PRIV_AUTH_ADMIN: &str = "Privileged Authentication Administrator";
const PRIV_ROLE_ADMIN: &str = "Privileged Role Administrator";
const GLOBAL_ADMIN: &str = "Global Administrator";
const GROUPS_ADMIN: &str = "Groups Administrator";

const KNOWN_ROLES: &[&str] = &[
    PASSWORD_ADMIN,
    HELPDESK_ADMIN,
    AUTH_ADMIN,
    USER_ADMIN,
    PRIV_AUTH_ADMIN,
    PRIV_ROLE_ADMIN,
    GLOBAL_ADMIN,
    GROUPS_ADMIN,
    "Directory Readers",
    "Guest Inviter",
    "Message Center Reader",
    "Reports Reader",
    "Security Reader",
    "Security Operator",
    "Security Administrator",
    "Global Reader",
    "License Administrator",
    "Intune Administrator",
    "Teams Administrator",
    "Exchange Administrator",
    "SharePoint Administrator",
];

/// Role template ids as Entra defines them, for `memberOf` answers.
pub(crate) fn role_template_id(role: &str) -> &'static str {
    match role {
        GLOBAL_ADMIN => "62e90394-69f5-4237-9190-012177145e10",
        USER_ADMIN => "fe930be7-5e62-47db-91af-98c3a49a38b1",
        HELPDESK_ADMIN => "729827e3-9c14-49f7-bb1b-9608f156bbb8",
        PASSWORD_ADMIN => "966707d0-3269-4727-9be2-8c3a10f19b9d",
        AUTH_ADMIN => "c4e39bd9-1100-46d3-8c65-fb160da0071f",
        PRIV_AUTH_ADMIN => "7be44c8a-adaf-4e2a-84d6-ab2649e08a13",
        PRIV_ROLE_ADMIN => "e8611ab8-c189-46e8-94e1-60213ab1f814",
        GROUPS_ADMIN => "fdd7a751-b60b-444a-984c-02652fe8fa1c",
        "Reports Reader" => "4a5d8f65-41da-4de4-8968-e035b65339cf",
        "Security Reader" => "5d6b6bb7-de71-4623-b4af-96380a352509",
        "Global Reader" => "f2ef992c-3afb-46b9-b7cf-a126ee74c451",
        _ => "00000000-0000-0000-0000-000000000000",
    }
}

pub(crate) fn is_known_role(role: &str) -> bool {
    KNOWN_ROLES.contains(&role)
}

fn has(roles: &[String], role: &str) -> bool {
    roles.iter().any(|r| r == role)
}

/// What the target is, as far as credential rules care.
pub(crate) struct TargetFacts<'a> {
    pub roles: &'a [String],
    pub in_role_assignable_group: bool,
}

/// Which actor roles may reset the password of (or revoke the sessions of) a target with this one
/// role, per the password-reset matrix.
fn password_resetters(target_role: &str) -> &'static [&'static str] {
    match target_role {
        "Directory Readers" | "Guest Inviter" | PASSWORD_ADMIN => &[
            PASSWORD_ADMIN,
            HELPDESK_ADMIN,
            AUTH_ADMIN,
            USER_ADMIN,
            PRIV_AUTH_ADMIN,
            GLOBAL_ADMIN,
        ],
        "Message Center Reader" | "Reports Reader" => &[
            HELPDESK_ADMIN,
            AUTH_ADMIN,
            USER_ADMIN,
            PRIV_AUTH_ADMIN,
            GLOBAL_ADMIN,
        ],
        HELPDESK_ADMIN => &[HELPDESK_ADMIN, USER_ADMIN, PRIV_AUTH_ADMIN, GLOBAL_ADMIN],
        AUTH_ADMIN => &[AUTH_ADMIN, PRIV_AUTH_ADMIN, GLOBAL_ADMIN],
        GROUPS_ADMIN | USER_ADMIN => &[USER_ADMIN, PRIV_AUTH_ADMIN, GLOBAL_ADMIN],
        _ => &[PRIV_AUTH_ADMIN, GLOBAL_ADMIN],
    }
}

/// May `actor_roles` reset the password of / revoke sessions of the target?
pub(crate) fn may_reset_password(actor_roles: &[String], target: &TargetFacts<'_>) -> bool {
    let allowed_for = |allowed: &[&str]| allowed.iter().any(|r| has(actor_roles, r));
    if target.in_role_assignable_group && !allowed_for(&[PRIV_AUTH_ADMIN, GLOBAL_ADMIN]) {
        return false;
    }
    if target.roles.is_empty() {
        return allowed_for(&[
            PASSWORD_ADMIN,
            HELPDESK_ADMIN,
            AUTH_ADMIN,
            USER_ADMIN,
            PRIV_AUTH_ADMIN,
            GLOBAL_ADMIN,
        ]);
    }
    target
        .roles
        .iter()
        .all(|t| allowed_for(password_resetters(t)))
}

/// May `actor_roles` perform a sensitive action (enable/disable, phones, UPN…) on the target?
pub(crate) fn may_do_sensitive(actor_roles: &[String], target: &TargetFacts<'_>) -> bool {
    if has(actor_roles, PRIV_AUTH_ADMIN) || has(actor_roles, GLOBAL_ADMIN) {
        return true;
    }
    if target.in_role_assignable_group {
        return false;
    }
    const BASE: &[&str] = &[
        "Directory Readers",
        "Guest Inviter",
        "Message Center Reader",
        PASSWORD_ADMIN,
        "Reports Reader",
    ];
    let auth_admin_ok = |r: &String| BASE.contains(&r.as_str()) || r == AUTH_ADMIN;
    let user_admin_ok = |r: &String| {
        BASE.contains(&r.as_str())
            || [GROUPS_ADMIN, HELPDESK_ADMIN, USER_ADMIN].contains(&r.as_str())
    };
    (has(actor_roles, AUTH_ADMIN) && target.roles.iter().all(auth_admin_ok))
        || (has(actor_roles, USER_ADMIN) && target.roles.iter().all(user_admin_ok))
}

/// May `actor_roles` update ordinary profile fields (department, job title…)?
pub(crate) fn may_update_profile(actor_roles: &[String], target: &TargetFacts<'_>) -> bool {
    if has(actor_roles, GLOBAL_ADMIN) {
        return true;
    }
    has(actor_roles, USER_ADMIN)
        && !target.in_role_assignable_group
        && target
            .roles
            .iter()
            .all(|r| r != GLOBAL_ADMIN && r != PRIV_ROLE_ADMIN && r != PRIV_AUTH_ADMIN)
}

/// May the actor change the members of a group? Owners may; Groups and User Administrators may
/// for groups that cannot hold roles; role-assignable groups need a Privileged Role Administrator.
pub(crate) fn may_manage_members(
    actor_roles: &[String],
    actor_is_owner: bool,
    role_assignable: bool,
) -> bool {
    if role_assignable {
        return has(actor_roles, PRIV_ROLE_ADMIN) || has(actor_roles, GLOBAL_ADMIN);
    }
    actor_is_owner
        || [GROUPS_ADMIN, USER_ADMIN, GLOBAL_ADMIN]
            .iter()
            .any(|r| has(actor_roles, r))
}

/// May the actor read sign-in and directory audit logs?
pub(crate) fn may_read_audit_logs(actor_roles: &[String]) -> bool {
    [
        "Reports Reader",
        "Security Reader",
        "Security Operator",
        "Security Administrator",
        "Global Reader",
        GLOBAL_ADMIN,
    ]
    .iter()
    .any(|r| has(actor_roles, r))
}

/// May the actor list another user's authentication methods?
/// Assigning or removing licences: License Administrator or User Administrator (or Global
/// Administrator).
pub(crate) fn may_assign_licenses(actor_roles: &[String]) -> bool {
    ["License Administrator", USER_ADMIN, GLOBAL_ADMIN]
        .iter()
        .any(|r| has(actor_roles, r))
}

/// Confirming a user compromised or dismissing their risk: Security Operator or Security
/// Administrator (or Global Administrator).
pub(crate) fn may_manage_risk(actor_roles: &[String]) -> bool {
    ["Security Operator", "Security Administrator", GLOBAL_ADMIN]
        .iter()
        .any(|r| has(actor_roles, r))
}

pub(crate) fn may_read_methods(actor_roles: &[String], target: &TargetFacts<'_>) -> bool {
    if has(actor_roles, PRIV_AUTH_ADMIN) || has(actor_roles, GLOBAL_ADMIN) {
        return true;
    }
    has(actor_roles, AUTH_ADMIN)
        && !target.in_role_assignable_group
        && target.roles.iter().all(|r| {
            [
                "Directory Readers",
                "Guest Inviter",
                "Message Center Reader",
                PASSWORD_ADMIN,
                "Reports Reader",
                AUTH_ADMIN,
            ]
            .contains(&r.as_str())
        })
}

/// May the actor act in someone else's mailbox (settings, rules, calendar sharing)? Graph's
/// delegated semantics need the signed-in person to hold access to that mailbox, an Exchange-side
/// grant Graph cannot show: the simulator models it as Exchange Administrator (or Global
/// Administrator), and everyone has their own mailbox.
pub(crate) fn may_use_mailbox(actor_roles: &[String], actor_is_owner: bool) -> bool {
    actor_is_owner
        || ["Exchange Administrator", GLOBAL_ADMIN]
            .iter()
            .any(|r| has(actor_roles, r))
}

/// May the actor read and act on Intune managed devices? Intune Administrator (or Global
/// Administrator); anyone may read their own devices.
pub(crate) fn may_manage_devices(actor_roles: &[String]) -> bool {
    ["Intune Administrator", GLOBAL_ADMIN]
        .iter()
        .any(|r| has(actor_roles, r))
}

/// May the actor change sharing on a file or site they do not own? SharePoint Administrator (or
/// Global Administrator), modelling the site collection admin rights those roles take on.
pub(crate) fn may_manage_files(actor_roles: &[String]) -> bool {
    ["SharePoint Administrator", GLOBAL_ADMIN]
        .iter()
        .any(|r| has(actor_roles, r))
}

/// May the actor change a team's members? The team's owners, Teams Administrator, or Global
/// Administrator.
pub(crate) fn may_manage_team(actor_roles: &[String], actor_is_owner: bool) -> bool {
    actor_is_owner
        || ["Teams Administrator", GLOBAL_ADMIN]
            .iter()
            .any(|r| has(actor_roles, r))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn roles(r: &[&str]) -> Vec<String> {
        r.iter().map(|s| (*s).to_owned()).collect()
    }

    #[test]
    fn helpdesk_resets_non_admins_but_not_global_admins() {
        let helpdesk = roles(&[HELPDESK_ADMIN]);
        let none: Vec<String> = vec![];
        let ga = roles(&[GLOBAL_ADMIN]);
        assert!(may_reset_password(
            &helpdesk,
            &TargetFacts {
                roles: &none,
                in_role_assignable_group: false
            }
        ));
        assert!(!may_reset_password(
            &helpdesk,
            &TargetFacts {
                roles: &ga,
                in_role_assignable_group: false
            }
        ));
        assert!(!may_reset_password(
            &helpdesk,
            &TargetFacts {
                roles: &none,
                in_role_assignable_group: true
            }
        ));
        assert!(may_reset_password(
            &roles(&[PRIV_AUTH_ADMIN]),
            &TargetFacts {
                roles: &ga,
                in_role_assignable_group: true
            }
        ));
    }

    #[test]
    fn helpdesk_cannot_enable_accounts_but_user_admin_can() {
        let none: Vec<String> = vec![];
        let t = TargetFacts {
            roles: &none,
            in_role_assignable_group: false,
        };
        assert!(!may_do_sensitive(&roles(&[HELPDESK_ADMIN]), &t));
        assert!(may_do_sensitive(&roles(&[USER_ADMIN]), &t));
        let auth = roles(&[AUTH_ADMIN]);
        assert!(!may_do_sensitive(
            &roles(&[USER_ADMIN]),
            &TargetFacts {
                roles: &auth,
                in_role_assignable_group: false
            }
        ));
    }
}
