use serde::{Deserialize, Serialize};

use crate::AuditRecord;
use crate::record::chain_hash;

/// The `prev_hash` of a chain's first record.
pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The first place a chain stops being what was written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChainBreak {
    /// The sequence number of the first bad record (or where one is missing).
    pub seq: i64,
    /// What is wrong there.
    pub reason: String,
}

/// The result of checking one tenant's chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyReport {
    /// The tenant checked.
    pub tenant: String,
    /// Records read.
    pub records: usize,
    /// The hash of the last good record: note it down to detect truncation later.
    pub head: String,
    /// The first break, if any.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Recomputes a tenant's chain from records in stored order and names the first record that was
/// edited (hash mismatch), deleted (sequence gap), inserted or moved (previous-hash mismatch).
pub fn verify_chain<'a>(
    tenant: &str,
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> VerifyReport {
    let mut prev = GENESIS_HASH.to_owned();
    let mut count = 0;
    let mut first_break = None;
    for (expected_seq, record) in (1..).zip(records) {
        count += 1;
        let problem = if record.entry.tenant != tenant {
            Some(format!("belongs to tenant `{}`", record.entry.tenant))
        } else if record.seq != expected_seq {
            Some(format!(
                "expected sequence {expected_seq} but found {}: a record was deleted, inserted or moved",
                record.seq
            ))
        } else if record.prev_hash != prev {
            Some(
                "its previous-hash does not match the record before it: the chain was re-linked"
                    .into(),
            )
        } else if chain_hash(record.seq, &record.prev_hash, &record.entry.canonical())
            != record.hash
        {
            Some("its content does not match its hash: the record was edited".into())
        } else {
            None
        };
        if let Some(reason) = problem {
            first_break = Some(ChainBreak {
                seq: record.seq.min(expected_seq),
                reason,
            });
            break;
        }
        prev = record.hash.clone();
    }
    VerifyReport {
        tenant: tenant.to_owned(),
        records: count,
        head: prev,
        first_break,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{AuditEntry, RecordKind};
    use serde_json::json;

    fn chain(n: i64) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..=n)
            .map(|seq| {
                let mut e = AuditEntry::new("t1", RecordKind::Decision);
                e.action = Some(format!("entra.user.get#{seq}"));
                e.params = json!({"user": "a@b", "n": seq});
                let r = e.seal(seq, &prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    #[test]
    fn an_untouched_chain_verifies() {
        let records = chain(5);
        let report = verify_chain("t1", &records);
        assert!(report.intact(), "{report:?}");
        assert_eq!(report.records, 5);
        assert_eq!(report.head, records[4].hash);
    }

    #[test]
    fn an_edit_is_named() {
        let mut records = chain(5);
        records[2].entry.params = json!({"user": "someone-else@b"});
        let report = verify_chain("t1", &records);
        let broken = report.first_break.expect("edit detected");
        assert_eq!(broken.seq, 3);
        assert!(broken.reason.contains("edited"), "{}", broken.reason);
    }

    #[test]
    fn a_deletion_is_named() {
        let mut records = chain(5);
        records.remove(1);
        let broken = verify_chain("t1", &records)
            .first_break
            .expect("deletion detected");
        assert_eq!(broken.seq, 2);
    }

    #[test]
    fn a_reordering_is_named() {
        let mut records = chain(5);
        records.swap(2, 3);
        let broken = verify_chain("t1", &records)
            .first_break
            .expect("swap detected");
        assert_eq!(broken.seq, 3);
    }

    #[test]
    fn a_resealed_edit_breaks_the_next_link() {
        let mut records = chain(4);
        let mut forged = records[1].entry.clone();
        forged.outcome = Some("forged".into());
        records[1] = forged.seal(2, &records[0].hash);
        let broken = verify_chain("t1", &records)
            .first_break
            .expect("re-seal detected");
        assert_eq!(broken.seq, 3);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::json;

    use super::*;
    use crate::{AuditEntry, RecordKind};

    fn chain(params: &[String]) -> Vec<AuditRecord> {
        let mut prev = GENESIS_HASH.to_owned();
        (1..)
            .zip(params)
            .map(|(seq, p)| {
                let mut e = AuditEntry::new("t1", RecordKind::Outcome);
                e.params = json!({"user": p});
                let r = e.seal(seq, &prev);
                prev = r.hash.clone();
                r
            })
            .collect()
    }

    proptest! {
        #[test]
        fn any_edit_of_any_record_is_caught_at_that_record(
            params in prop::collection::vec("[a-z]{1,8}", 1..20),
            index in any::<prop::sample::Index>(),
            forged in "[A-Z]{1,8}",
        ) {
            let mut records = chain(&params);
            let i = index.index(records.len());
            records[i].entry.params = json!({"user": forged});
            let broken = verify_chain("t1", &records).first_break;
            prop_assert_eq!(broken.map(|b| b.seq), Some(records[i].seq));
        }

        #[test]
        fn any_deletion_is_caught(
            params in prop::collection::vec("[a-z]{1,8}", 2..20),
            index in any::<prop::sample::Index>(),
        ) {
            let mut records = chain(&params);
            let i = index.index(records.len() - 1);
            records.remove(i);
            prop_assert!(verify_chain("t1", &records).first_break.is_some());
        }
    }
}
