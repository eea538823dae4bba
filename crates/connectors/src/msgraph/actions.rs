//! The Graph action catalog: parameters (JSON Schema from these types), risk, targets, undo and
//! the verification read of each action.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;
use steward_domain::{ActionName, ActionSpec, Risk, TargetKind, TargetParam};

use crate::ConnectorError;

/// One user, by object id or sign-in name.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserParams {
    /// Object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
}

/// A directory search by name, e-mail or sign-in name prefix.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct SearchParams {
    /// What to look for (a name, e-mail or the start of one).
    #[schemars(length(min = 1, max = 100))]
    pub query: String,
    /// At most this many results.
    #[schemars(range(min = 1, max = 50))]
    pub top: Option<u32>,
}

/// A sign-in log query for one user.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct SignInsParams {
    /// The user's userPrincipalName.
    #[schemars(length(min = 3, max = 256))]
    pub user: String,
    /// Look back this many hours (default 72).
    #[schemars(range(min = 1, max = 720))]
    pub since_hours: Option<u32>,
    /// Only sign-ins that failed with this error code (e.g. 50053 locked).
    pub error_code: Option<i64>,
    /// At most this many entries (default 50).
    #[schemars(range(min = 1, max = 1000))]
    pub top: Option<u32>,
}

/// One group, by object id.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupParams {
    /// The group's object id.
    #[schemars(length(min = 1, max = 256))]
    pub group: String,
}

/// One person and one group.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MembershipParams {
    /// The group's object id.
    #[schemars(length(min = 1, max = 256))]
    pub group: String,
    /// The member's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
}

/// A new account (onboarding).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct CreateUserParams {
    /// The name people see, e.g. "Priya Raman".
    #[schemars(length(min = 1, max = 256))]
    pub display_name: String,
    /// The sign-in name, in one of the organisation's domains.
    #[schemars(length(min = 3, max = 113))]
    pub user_principal_name: String,
    /// Department.
    #[schemars(length(max = 64))]
    pub department: Option<String>,
    /// Job title.
    #[schemars(length(max = 128))]
    pub job_title: Option<String>,
    /// Usage location (ISO country code), needed before a licence can be assigned.
    #[schemars(length(min = 2, max = 2))]
    pub usage_location: Option<String>,
    /// The manager's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub manager: Option<String>,
}

/// Profile fields to change (only those given change).
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct ProfileParams {
    /// The person's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// New department.
    #[schemars(length(min = 1, max = 64))]
    pub department: Option<String>,
    /// New job title.
    #[schemars(length(min = 1, max = 128))]
    pub job_title: Option<String>,
    /// New office location.
    #[schemars(length(min = 1, max = 128))]
    pub office_location: Option<String>,
    /// New usage location (ISO country code).
    #[schemars(length(min = 2, max = 2))]
    pub usage_location: Option<String>,
}

/// A person and their manager.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct ManagerParams {
    /// The person's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// The manager's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub manager: String,
}

/// One licence for one user.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct LicenseParams {
    /// The user's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// The licence: its skuId or part number (e.g. `ENTERPRISEPACK`).
    #[schemars(length(min = 1, max = 128))]
    pub sku: String,
    /// The user's usage location (ISO country code) to set first if they have none.
    #[schemars(length(min = 2, max = 2))]
    pub usage_location: Option<String>,
}

/// No parameters.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct NoParams {}

/// Which risky users to list.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct RiskListParams {
    /// Only users still at risk (default true).
    pub at_risk_only: Option<bool>,
}

/// One of a user's registered authentication methods.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct MethodParams {
    /// The user's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// The method's id (from `entra.user.list_auth_methods`).
    #[schemars(length(min = 1, max = 128))]
    pub method: String,
}

/// A Temporary Access Pass for one user.
#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub(crate) struct TapParams {
    /// The user's object id or userPrincipalName.
    #[schemars(length(min = 1, max = 256))]
    pub user: String,
    /// How long the pass works, in minutes (default 60).
    #[schemars(range(min = 10, max = 480))]
    pub lifetime_minutes: Option<u32>,
    /// The pass works for one sign-in only (default true).
    pub usable_once: Option<bool>,
}

pub(crate) fn schema_of<T: JsonSchema>() -> Value {
    serde_json::to_value(schemars::schema_for!(T)).unwrap_or(Value::Null)
}

pub(crate) fn parse<T: for<'de> Deserialize<'de>>(
    action: &str,
    params: &Value,
) -> Result<T, ConnectorError> {
    serde_json::from_value(params.clone()).map_err(|e| ConnectorError::BadParams {
        action: action.to_owned(),
        reason: e.to_string(),
    })
}

/// One catalogue entry as each domain module (mailbox, devices, files, teams) writes it.
pub(crate) struct Entry {
    pub name: &'static str,
    pub summary: &'static str,
    pub schema: Value,
    pub mutating: bool,
    pub risk: Risk,
    pub targets: Vec<TargetParam>,
    pub undo: Option<&'static str>,
    pub verification: &'static str,
    pub calls: &'static [&'static str],
    pub permissions: &'static [&'static str],
}

pub(crate) fn person(param: &str) -> TargetParam {
    TargetParam {
        param: param.into(),
        kind: TargetKind::Person,
    }
}

pub(crate) fn group(param: &str) -> TargetParam {
    TargetParam {
        param: param.into(),
        kind: TargetKind::Group,
    }
}

/// Whether an action changes anything (the catalogue read once per process: building it makes
/// every parameter schema).
pub(crate) fn is_mutating(action: &str) -> bool {
    static MUTATING: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    MUTATING
        .get_or_init(|| {
            catalog()
                .into_iter()
                .filter(|a| a.mutating)
                .map(|a| a.name.to_string())
                .collect()
        })
        .contains(action)
}

/// The catalog. Names are `system.resource.verb`.
pub(crate) fn catalog() -> Vec<ActionSpec> {
    let entries = vec![
        Entry {
            name: "entra.user.get",
            summary: "Read a user's account (enabled, department, password and session dates)",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /users/{id}"],
            permissions: &["User.Read.All"],
        },
        Entry {
            name: "entra.user.search",
            summary: "Find people in the directory by name, e-mail or sign-in name",
            schema: schema_of::<SearchParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![],
            undo: None,
            verification: "",
            calls: &["GET /users?$filter"],
            permissions: &["User.Read.All"],
        },
        Entry {
            name: "entra.group.search",
            summary: "Find groups by name or e-mail alias",
            schema: schema_of::<SearchParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![],
            undo: None,
            verification: "",
            calls: &["GET /groups?$filter"],
            permissions: &["Group.Read.All"],
        },
        Entry {
            name: "entra.group.list_members",
            summary: "List a group's members (to act on a whole team, or to see who is in it)",
            schema: schema_of::<GroupParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![group("group")],
            undo: None,
            verification: "",
            calls: &["GET /groups/{id}/members"],
            permissions: &["GroupMember.Read.All"],
        },
        Entry {
            name: "entra.signins.list",
            summary: "Read a user's recent sign-ins and their error codes",
            schema: schema_of::<SignInsParams>(),
            mutating: false,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /auditLogs/signIns"],
            permissions: &["AuditLog.Read.All"],
        },
        Entry {
            name: "entra.user.reset_password",
            summary: "Reset a user's password to a temporary one they must change at next sign-in (clears a lockout)",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the reset operation succeeded and lastPasswordChangeDateTime moved forward",
            calls: &["POST /users/{id}/authentication/methods/{id}/resetPassword"],
            permissions: &["UserAuthenticationMethod.ReadWrite.All"],
        },
        Entry {
            name: "entra.user.revoke_sessions",
            summary: "Sign a user out everywhere by revoking refresh tokens and session cookies",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "signInSessionsValidFromDateTime moved forward",
            calls: &["POST /users/{id}/revokeSignInSessions"],
            permissions: &["User.RevokeSessions.All"],
        },
        Entry {
            name: "entra.user.enable",
            summary: "Re-enable a disabled account",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("entra.user.disable"),
            verification: "accountEnabled reads true",
            calls: &["PATCH /users/{id}"],
            permissions: &["User.EnableDisableAccount.All", "User.ReadWrite.All"],
        },
        Entry {
            name: "entra.user.disable",
            summary: "Disable an account so nobody can sign in with it",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::High,
            targets: vec![person("user")],
            undo: Some("entra.user.enable"),
            verification: "accountEnabled reads false",
            calls: &["PATCH /users/{id}"],
            permissions: &["User.EnableDisableAccount.All", "User.ReadWrite.All"],
        },
        Entry {
            name: "entra.user.list_auth_methods",
            summary: "List a user's registered sign-in methods (password, Authenticator, phone, security keys, passes)",
            schema: schema_of::<UserParams>(),
            mutating: false,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "",
            calls: &["GET /users/{id}/authentication/methods"],
            permissions: &[
                "UserAuthenticationMethod.Read.All",
                "UserAuthenticationMethod.ReadWrite.All",
            ],
        },
        Entry {
            name: "entra.user.delete_auth_method",
            summary: "Remove one of a user's sign-in methods (an MFA reset after a lost or replaced phone)",
            schema: schema_of::<MethodParams>(),
            mutating: true,
            risk: Risk::High,
            targets: vec![person("user")],
            undo: None,
            verification: "the method is no longer registered",
            calls: &[
                "DELETE /users/{id}/authentication/phoneMethods/{id}",
                "DELETE /users/{id}/authentication/microsoftAuthenticatorMethods/{id}",
                "DELETE /users/{id}/authentication/fido2Methods/{id}",
                "DELETE /users/{id}/authentication/softwareOathMethods/{id}",
                "DELETE /users/{id}/authentication/temporaryAccessPassMethods/{id}",
            ],
            permissions: &["UserAuthenticationMethod.ReadWrite.All"],
        },
        Entry {
            name: "entra.user.create_tap",
            summary: "Issue a Temporary Access Pass so a user can sign in and register new methods (shown once, to the requester only)",
            schema: schema_of::<TapParams>(),
            mutating: true,
            risk: Risk::High,
            targets: vec![person("user")],
            undo: None,
            verification: "a usable Temporary Access Pass is registered",
            calls: &["POST /users/{id}/authentication/temporaryAccessPassMethods"],
            permissions: &["UserAuthenticationMethod.ReadWrite.All"],
        },
        Entry {
            name: "entra.risk.list_users",
            summary: "List the users Identity Protection flags as risky (level, state, last update)",
            schema: schema_of::<RiskListParams>(),
            mutating: false,
            risk: Risk::Medium,
            targets: vec![],
            undo: None,
            verification: "",
            calls: &["GET /identityProtection/riskyUsers"],
            permissions: &["IdentityRiskyUser.Read.All"],
        },
        Entry {
            name: "entra.risk.confirm_compromised",
            summary: "Confirm a user's account compromised (risk set to high, so risk-based Conditional Access blocks it)",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::High,
            targets: vec![person("user")],
            undo: Some("entra.risk.dismiss"),
            verification: "Identity Protection lists the user as confirmedCompromised",
            calls: &["POST /identityProtection/riskyUsers/confirmCompromised"],
            permissions: &["IdentityRiskyUser.ReadWrite.All"],
        },
        Entry {
            name: "entra.risk.dismiss",
            summary: "Dismiss a user's risk (after the account was secured, or a false positive)",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::High,
            targets: vec![person("user")],
            undo: Some("entra.risk.confirm_compromised"),
            verification: "Identity Protection lists the user as dismissed",
            calls: &["POST /identityProtection/riskyUsers/dismiss"],
            permissions: &["IdentityRiskyUser.ReadWrite.All"],
        },
        Entry {
            name: "entra.license.list_skus",
            summary: "List the organisation's licences and how many seats of each are free",
            schema: schema_of::<NoParams>(),
            mutating: false,
            risk: Risk::Low,
            targets: vec![],
            undo: None,
            verification: "",
            calls: &["GET /subscribedSkus"],
            permissions: &["LicenseAssignment.Read.All"],
        },
        Entry {
            name: "entra.user.assign_license",
            summary: "Assign a licence to a user (checks for a free seat first; sets the usage location first when given)",
            schema: schema_of::<LicenseParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("entra.user.remove_license"),
            verification: "the user's assignedLicenses include the licence",
            calls: &[
                "GET /subscribedSkus",
                "PATCH /users/{id}",
                "POST /users/{id}/assignLicense",
            ],
            permissions: &[
                "LicenseAssignment.Read.All",
                "LicenseAssignment.ReadWrite.All",
                "User.ReadWrite.All",
            ],
        },
        Entry {
            name: "entra.user.remove_license",
            summary: "Remove a licence from a user (frees the seat)",
            schema: schema_of::<LicenseParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: Some("entra.user.assign_license"),
            verification: "the user's assignedLicenses no longer include the licence",
            calls: &["GET /subscribedSkus", "POST /users/{id}/assignLicense"],
            permissions: &[
                "LicenseAssignment.Read.All",
                "LicenseAssignment.ReadWrite.All",
            ],
        },
        Entry {
            name: "entra.user.create",
            summary: "Create an account for a new starter (temporary password to change at first sign-in; manager set when given)",
            schema: schema_of::<CreateUserParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![],
            undo: None,
            verification: "the account exists",
            calls: &["POST /users", "PUT /users/{id}/manager/$ref"],
            permissions: &["User.ReadWrite.All"],
        },
        Entry {
            name: "entra.user.set_manager",
            summary: "Set who a person reports to",
            schema: schema_of::<ManagerParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the person's manager reads the new manager",
            calls: &["PUT /users/{id}/manager/$ref"],
            permissions: &["User.ReadWrite.All"],
        },
        Entry {
            name: "entra.user.update_profile",
            summary: "Change a person's department, job title, office or usage location (a department move)",
            schema: schema_of::<ProfileParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the fields read the new values",
            calls: &["PATCH /users/{id}"],
            permissions: &["User.ReadWrite.All"],
        },
        Entry {
            name: "entra.user.remove_manager",
            summary: "Remove a person's manager (they report to nobody in the directory)",
            schema: schema_of::<UserParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![person("user")],
            undo: None,
            verification: "the person has no manager",
            calls: &["DELETE /users/{id}/manager/$ref"],
            permissions: &["User.ReadWrite.All"],
        },
        Entry {
            name: "entra.group.add_member",
            summary: "Add a person to a group",
            schema: schema_of::<MembershipParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![group("group"), person("user")],
            undo: Some("entra.group.remove_member"),
            verification: "the group's members include the person",
            calls: &["POST /groups/{id}/members/$ref"],
            permissions: &["GroupMember.ReadWrite.All"],
        },
        Entry {
            name: "entra.group.remove_member",
            summary: "Remove a person from a group",
            schema: schema_of::<MembershipParams>(),
            mutating: true,
            risk: Risk::Medium,
            targets: vec![group("group"), person("user")],
            undo: Some("entra.group.add_member"),
            verification: "the group's members no longer include the person",
            calls: &["DELETE /groups/{id}/members/{id}/$ref"],
            permissions: &["GroupMember.ReadWrite.All"],
        },
    ];
    specs(
        entries
            .into_iter()
            .chain(super::mailbox::entries())
            .chain(super::devices::entries())
            .chain(super::teams::entries())
            .chain(super::files::entries()),
    )
}

/// The catalog entries as action specs (an entry whose name is not `system.resource.verb` is
/// dropped, and the catalog tests count them).
pub(crate) fn specs(entries: impl Iterator<Item = Entry>) -> Vec<ActionSpec> {
    entries
        .filter_map(|e| {
            Some(ActionSpec {
                name: ActionName::new(e.name).ok()?,
                summary: e.summary.into(),
                params_schema: e.schema,
                mutating: e.mutating,
                risk: e.risk,
                targets: e.targets,
                undo: e.undo.and_then(|u| ActionName::new(u).ok()),
                verification: e.verification.into(),
                calls: e.calls.iter().map(|c| (*c).to_owned()).collect(),
                permissions: e.permissions.iter().map(|c| (*c).to_owned()).collect(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_action_has_a_usable_schema_and_mutations_say_how_they_are_verified() {
        let catalog = catalog();
        assert_eq!(
            catalog.len(),
            24 + 8 + 8 + 7 + 10,
            "Entra, Exchange, Intune, owners and Teams, files (a name that is not system.resource.verb would be dropped)"
        );
        for spec in &catalog {
            assert!(spec.params_schema.is_object(), "{}", spec.name);
            if spec.mutating {
                assert!(
                    !spec.verification.is_empty(),
                    "{} has no verification",
                    spec.name
                );
                // Creating an object is the one change without an existing target: it is
                // decided against the directory as a whole.
                // SharePoint libraries are not directory objects either: their changes are
                // decided against the tenant (IT admins only by default).
                assert!(
                    !spec.targets.is_empty()
                        || spec.name.as_str() == "entra.user.create"
                        || spec.name.as_str().starts_with("sharepoint."),
                    "{} has no targets",
                    spec.name
                );
            }
        }
        let reset = catalog
            .iter()
            .find(|s| s.name.as_str() == "entra.user.reset_password")
            .unwrap();
        assert!(
            reset
                .validate_params(&json!({"user": "adele@x.example"}))
                .is_ok()
        );
        assert!(reset.validate_params(&json!({"user": ""})).is_err());
        assert!(
            reset
                .validate_params(&json!({"user": "a", "newPassword": "x"}))
                .is_err()
        );
    }
}
