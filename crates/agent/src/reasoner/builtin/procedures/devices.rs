//! Device procedures: a lost or stolen device, a device reported not compliant.

use serde_json::{Value, json};

use super::super::cursor::{Acted, Cursor, Flow, finding};
use super::super::resolve::Person;
use super::super::understand::{DeviceKind, Subject};
use super::{
    capitalise, change, field, find_person, hand_over, items, read_or_hand_over, unresolved, whose,
    you_or_name,
};
use crate::reasoner::ReasonerInput;

fn is_mobile(device: &Value) -> bool {
    matches!(
        field(device, "operatingSystem").as_str(),
        "iOS" | "iPadOS" | "Android"
    )
}

/// The person's managed devices of the kind asked about; one is picked (asking when several
/// fit), or `None` when the conversation has moved on (handed over or waiting).
fn pick_device(
    cursor: &mut Cursor<'_>,
    person: &Person,
    kind: DeviceKind,
    prefer_noncompliant: bool,
) -> Flow<Option<Value>> {
    let Some(devices) = read_or_hand_over(
        cursor,
        ("intune.device.list_for_user", json!({"user": person.upn})),
        "find the devices Intune manages for them",
        &format!("{} devices", whose(person)),
        "devices.unreadable",
    )?
    else {
        return Ok(None);
    };
    let devices = items(&devices);
    let mut fitting: Vec<Value> = devices
        .iter()
        .filter(|d| match kind {
            DeviceKind::Mobile => is_mobile(d),
            DeviceKind::Computer => !is_mobile(d),
            DeviceKind::Any => true,
        })
        .cloned()
        .collect();
    if prefer_noncompliant && fitting.len() > 1 {
        let bad: Vec<Value> = fitting
            .iter()
            .filter(|d| field(d, "complianceState") == "noncompliant")
            .cloned()
            .collect();
        if !bad.is_empty() {
            fitting = bad;
        }
    }
    match fitting.len() {
        0 => {
            let listed: Vec<String> = devices.iter().map(|d| field(d, "deviceName")).collect();
            hand_over(
                cursor,
                format!("no matching Intune-managed device for {}", person.upn),
                vec![finding(
                    "devices.none",
                    format!(
                        "{} manages {} device(s) for {}: {}",
                        "Intune",
                        devices.len(),
                        person.upn,
                        listed.join(", ")
                    ),
                )],
                format!(
                    "I couldn't find that device among the ones Intune manages for {} ({}). I've passed this to the IT team; nothing was changed.",
                    you_or_name(person),
                    if listed.is_empty() {
                        "none".to_owned()
                    } else {
                        listed.join(", ")
                    }
                ),
            )?;
            Ok(None)
        }
        1 => Ok(fitting.into_iter().next()),
        _ => {
            let names: Vec<String> = fitting.iter().map(|d| field(d, "deviceName")).collect();
            let answer = cursor.ask(
                format!("Which device is it? I see {}.", names.join(", ")),
                names.clone(),
            )?;
            let answer = answer.to_lowercase();
            let chosen = fitting.iter().find(|d| {
                let name = field(d, "deviceName").to_lowercase();
                answer.contains(&name) || name.contains(answer.trim())
            });
            match chosen {
                Some(d) => Ok(Some(d.clone())),
                None => {
                    unresolved(
                        cursor,
                        "device.unresolved",
                        format!("\"{answer}\" is none of {}", names.join(", ")),
                    )?;
                    Ok(None)
                }
            }
        }
    }
}

/// A lost or stolen device: lock it and sign out every session now; ask to wipe it (a wipe is
/// critical, so policy puts it before a human).
pub(super) fn lost(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    kind: DeviceKind,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let Some(device) = pick_device(cursor, &person, kind, false)? else {
        return Ok(());
    };
    let name = field(&device, "deviceName");
    let id = field(&device, "id");
    let findings = vec![finding(
        "device.found",
        format!(
            "{name} ({} {}), primary user {}",
            field(&device, "operatingSystem"),
            field(&device, "model"),
            person.upn
        ),
    )];
    cursor.plan(
        findings.clone(),
        vec![
            format!("intune.device.remote_lock — lock {name} now"),
            format!("entra.user.revoke_sessions — sign {} out everywhere, so the device's sessions stop working", person.name),
            format!("intune.device.wipe — erase {name} (needs an approval)"),
        ],
    )?;
    let locked = cursor.act(
        "intune.device.remote_lock",
        json!({"device": id}),
        &format!("lock the lost device {name}"),
    )?;
    let lock_text = match &locked {
        Acted::Done { .. } => format!("{name} is locked"),
        Acted::Pending(a) => format!("locking {name} waits for approval {a}"),
        Acted::Denied(r) | Acted::Failed(r) => format!("I could not lock {name} ({r})"),
    };
    let revoked = cursor.act(
        "entra.user.revoke_sessions",
        json!({"user": person.upn}),
        "sign out every session after a device was lost",
    )?;
    let revoke_text = match revoked {
        Acted::Done { .. } => "every session is signed out".to_owned(),
        Acted::Pending(a) => format!("signing out every session waits for approval {a}"),
        _ => "signing out the sessions did not happen (IT has the details)".to_owned(),
    };
    match cursor.act("intune.device.wipe", json!({"device": id}), &format!("erase the lost device {name}"))? {
        Acted::Done { .. } => cursor.reply(format!(
            "{lock_text}, {revoke_text}, and the wipe was sent: {name} erases itself the next time it connects. Your data in OneDrive and mail is safe. IT can get you a replacement."
        )),
        Acted::Pending(a) => cursor.reply(format!(
            "{lock_text} and {revoke_text}. Erasing it completely needs an approval, which I've asked for (approval {a}); I'll tell you when it's decided."
        )),
        Acted::Denied(r) | Acted::Failed(r) => {
            let mut findings = findings;
            findings.push(finding("device.not_wiped", r.clone()));
            hand_over(
                cursor,
                format!("wiping {name} did not happen: {r}"),
                findings,
                format!("{lock_text} and {revoke_text}. I couldn't have it erased ({r}), so I've passed that to the IT team."),
            )
        }
    }
}

/// Settings a person can fix themselves, in plain words.
fn how_to_fix(setting: &str) -> &'static str {
    let s = setting.to_lowercase();
    if s.contains("bitlocker") || s.contains("encrypt") {
        "turn on BitLocker (Settings → Privacy & security → Device encryption) and restart"
    } else if s.contains("os") && (s.contains("version") || s.contains("minimum"))
        || s.contains("update")
    {
        "install the pending updates and restart"
    } else if s.contains("password") || s.contains("passcode") || s.contains("pin") {
        "set a device password or PIN that meets the policy"
    } else if s.contains("defender") || s.contains("antivirus") || s.contains("firewall") {
        "make sure Microsoft Defender and the firewall are on"
    } else {
        "fix the setting named above"
    }
}

/// A device reported not compliant: read which policy settings fail; a setting the person must
/// fix is explained (a sync changes nothing then); a device Intune already sees as compliant, or
/// one without failing settings, is asked to sync so its state is fresh.
pub(super) fn compliance(
    cursor: &mut Cursor<'_>,
    input: &ReasonerInput<'_>,
    subject: &Subject,
    kind: DeviceKind,
) -> Flow<()> {
    let Some(person) = find_person(cursor, input, subject)? else {
        return Ok(());
    };
    let Some(device) = pick_device(cursor, &person, kind, true)? else {
        return Ok(());
    };
    let name = field(&device, "deviceName");
    let id = field(&device, "id");
    let Some(detail) = read_or_hand_over(
        cursor,
        ("intune.device.get", json!({"device": id})),
        "read the device's compliance policy states",
        &format!("{name}'s compliance"),
        "device.unreadable",
    )?
    else {
        return Ok(());
    };
    let failing: Vec<String> = items(&detail["compliancePolicyStates"])
        .iter()
        .flat_map(|p| items(&p["settingStates"]))
        .filter(|s| !matches!(field(s, "state").as_str(), "compliant" | "notApplicable"))
        .map(|s| {
            let n = field(&s, "settingName");
            if n.is_empty() {
                field(&s, "setting")
            } else {
                n
            }
        })
        .collect();
    let state = field(&detail["device"], "complianceState");
    let mut findings = vec![finding(
        "device.compliance",
        format!("{name} is {state} in Intune"),
    )];
    if !failing.is_empty() {
        findings.push(finding("device.failing_settings", failing.join(", ")));
        cursor.plan(findings, Vec::new())?;
        let steps: Vec<String> = failing
            .iter()
            .map(|s| format!("{s}: {}", how_to_fix(s)))
            .collect();
        return cursor.reply(format!(
            "{name} is marked not compliant because of: {}. That's a setting on the device itself, so a sync from my side won't change it. Once it's fixed, the device re-checks within a few hours (or open Company Portal → Check status). If you can't change it, reply and I'll pass it to the IT team.",
            steps.join("; ")
        ));
    }
    cursor.plan(
        findings.clone(),
        vec![format!(
            "intune.device.sync — ask {name} to check in with Intune now"
        )],
    )?;
    let owner = capitalise(&whose(&person));
    change(
        cursor,
        "intune.device.sync",
        json!({"device": id}),
        &format!("sync {name} with Intune"),
        findings,
        |_| {
            format!(
                "{owner} device {name} shows as {state} in Intune with no failing setting, so I've asked it to sync now; its status refreshes within a few minutes. If access is still blocked after that, restart it and try again."
            )
        },
    )
}
