//! Any bytes given to the importer end in an integration or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Ok(integration) = steward_openapi::import(&text, "fuzz", None) {
        // What was imported is usable: every schema compiles, every name is an action name.
        for op in &integration.operations {
            assert!(op.spec.name.as_str().starts_with("fuzz."));
            let _ = op.spec.validate_params(&serde_json::json!({}));
        }
    }
});
