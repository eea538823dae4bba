//! The policies Steward proposes for a new integration: IT admins may run its reads from the
//! console, and every change waits for an approval. The admin reviews them as text and accepts
//! them whole; until then none of the integration's actions is offered at all.

use crate::Integration;

fn action_list(names: &[&str]) -> String {
    let items: Vec<String> = names
        .iter()
        .map(|n| format!("    Action::\"{n}\""))
        .collect();
    format!("[\n{}\n  ]", items.join(",\n"))
}

/// The proposed Cedar text for `integration` (action layer), one policy for its reads and one
/// for its changes; a side with no actions gets no policy.
pub fn proposed_policy(integration: &Integration) -> String {
    let name = &integration.name;
    let reads: Vec<&str> = integration
        .operations
        .iter()
        .filter(|o| !o.spec.mutating)
        .map(|o| o.spec.name.as_str())
        .collect();
    let writes: Vec<&str> = integration
        .operations
        .iter()
        .filter(|o| o.spec.mutating)
        .map(|o| o.spec.name.as_str())
        .collect();
    let mut text = format!(
        "// Integration `{name}`: {title} ({version}), proposed by Steward when it was imported.\n\
         // Accepted whole, these enable the integration and are kept with it; a re-import sets\n\
         // them aside until accepted again. Narrow them with `forbid` policies of your own.\n",
        title = integration.title.replace('\n', " "),
        version = integration.spec_version.label(),
    );
    if !reads.is_empty() {
        text.push_str(&format!(
            "\n// Its {} reads: IT admins, from the web console.\n\
             @id(\"integration.{name}.console-reads-for-it-admins\")\n\
             @layer(\"action\")\n\
             permit (\n  principal,\n  action in {},\n  resource\n)\n\
             when {{ principal.itAdmin && context.channel == \"web\" }};\n",
            reads.len(),
            action_list(&reads)
        ));
    }
    if !writes.is_empty() {
        text.push_str(&format!(
            "\n// Its {} changes: IT admins, and each one only once another person approves it.\n\
             @id(\"integration.{name}.changes-need-approval\")\n\
             @layer(\"action\")\n\
             permit (\n  principal,\n  action in {},\n  resource\n)\n\
             when {{ principal.itAdmin && context.approval.granted && context.approval.byOther }};\n",
            writes.len(),
            action_list(&writes)
        ));
    }
    text
}
