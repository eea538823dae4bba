use serde::{Deserialize, Serialize};

use std::collections::HashMap;

use ed25519_dalek::VerifyingKey;

use crate::AuditRecord;
use crate::checkpoint::{Checkpoint, key_id};
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
    /// Signed checkpoints found and checked.
    pub checkpoints: usize,
    /// The sequence number the newest valid checkpoint covers, if any.
    pub last_checkpoint: Option<i64>,
    /// The first break, if any.
    pub first_break: Option<ChainBreak>,
}

impl VerifyReport {
    /// Whether the chain is intact.
    pub fn intact(&self) -> bool {
        self.first_break.is_none()
    }
}

/// Checks a tenant's chain record by record as it is read (so a million records need not be held
/// in memory), then its signed checkpoints. Each record's hash is recomputed over the stored
/// canonical text; the links, the sequence and the checkpoints name the first record that was
/// edited, deleted, inserted, moved, or cut off the end.
#[derive(Debug)]
pub struct ChainVerifier {
    tenant: String,
    prev: String,
    expected_seq: i64,
    count: usize,
    first_break: Option<ChainBreak>,
    /// Sequence numbers some checkpoint covers, and the hash found there.
    watched: HashMap<i64, Option<String>>,
}

impl ChainVerifier {
    /// A verifier for `tenant`'s chain, watching the records the `checkpoints` cover.
    pub fn new(tenant: &str, checkpoints: &[Checkpoint]) -> Self {
        Self {
            tenant: tenant.to_owned(),
            prev: GENESIS_HASH.to_owned(),
            expected_seq: 1,
            count: 0,
            first_break: None,
            watched: checkpoints.iter().map(|c| (c.seq, None)).collect(),
        }
    }

    /// Whether a break has been found (later records need not be read).
    pub fn broken(&self) -> bool {
        self.first_break.is_some()
    }

    /// Checks the next stored record: its sequence number, previous hash, own hash, and the
    /// canonical text of its entry as stored.
    pub fn push(&mut self, seq: i64, prev_hash: &str, hash: &str, canonical: &str) {
        if self.broken() {
            return;
        }
        self.count += 1;
        let expected = self.expected_seq;
        let problem = if seq != expected {
            Some(format!(
                "expected sequence {expected} but found {seq}: a record was deleted, inserted or moved"
            ))
        } else if prev_hash != self.prev {
            Some(
                "its previous-hash does not match the record before it: the chain was re-linked"
                    .into(),
            )
        } else if chain_hash(seq, prev_hash, canonical) != hash {
            Some("its content does not match its hash: the record was edited".into())
        } else {
            None
        };
        if let Some(reason) = problem {
            self.first_break = Some(ChainBreak {
                seq: seq.min(expected),
                reason,
            });
            return;
        }
        if let Some(slot) = self.watched.get_mut(&seq) {
            *slot = Some(hash.to_owned());
        }
        self.prev = hash.to_owned();
        self.expected_seq += 1;
    }

    /// Marks a record whose stored text could not even be read.
    pub fn unreadable(&mut self, seq: i64, why: &str) {
        if !self.broken() {
            self.first_break = Some(ChainBreak {
                seq,
                reason: format!("the stored record is unreadable: {why}"),
            });
        }
    }

    /// Ends the walk and checks the checkpoints against what was read. With a `key`, every
    /// checkpoint must carry its valid signature; a checkpoint beyond the last record shows the
    /// chain was cut short, one whose hash differs shows the chain was rewritten.
    pub fn finish(self, checkpoints: &[Checkpoint], key: Option<&VerifyingKey>) -> VerifyReport {
        let last_good = self.expected_seq - 1;
        let mut first_break = self.first_break;
        let mut worse = |candidate: ChainBreak| {
            if first_break.as_ref().is_none_or(|b| candidate.seq < b.seq) {
                first_break = Some(candidate);
            }
        };
        let mut valid = 0;
        let mut last_checkpoint: Option<i64> = None;
        for c in checkpoints {
            let when = c.time.to_rfc3339();
            if c.tenant != self.tenant {
                worse(ChainBreak {
                    seq: c.seq,
                    reason: format!(
                        "the checkpoint at #{} belongs to tenant `{}`",
                        c.seq, c.tenant
                    ),
                });
                continue;
            }
            if let Some(key) = key
                && !c.verifies_with(key)
            {
                worse(ChainBreak {
                    seq: c.seq,
                    reason: format!(
                        "the checkpoint at #{} (signed {when}) does not verify with key {}: it was forged, altered, or signed with another key",
                        c.seq,
                        key_id(key)
                    ),
                });
                continue;
            }
            valid += 1;
            last_checkpoint = Some(last_checkpoint.map_or(c.seq, |l| l.max(c.seq)));
            if c.seq > last_good {
                if self.count as i64 >= c.seq {
                    // Records exist there but the chain broke before them: already reported.
                    continue;
                }
                worse(ChainBreak {
                    seq: last_good + 1,
                    reason: format!(
                        "the chain ends at #{last_good} but a checkpoint signed {when} covers #{}: records #{}..#{} were removed",
                        c.seq,
                        last_good + 1,
                        c.seq
                    ),
                });
            } else if let Some(Some(found)) = self.watched.get(&c.seq)
                && *found != c.head_hash
            {
                worse(ChainBreak {
                    seq: c.seq,
                    reason: format!(
                        "record #{} is not the one the checkpoint signed {when} covers: the chain up to it was rewritten",
                        c.seq
                    ),
                });
            }
        }
        VerifyReport {
            tenant: self.tenant,
            records: self.count,
            head: self.prev,
            checkpoints: valid,
            last_checkpoint,
            first_break,
        }
    }
}

/// Recomputes a tenant's chain from records in stored order and names the first record that was
/// edited (hash mismatch), deleted (sequence gap), inserted or moved (previous-hash mismatch).
pub fn verify_chain<'a>(
    tenant: &str,
    records: impl IntoIterator<Item = &'a AuditRecord>,
) -> VerifyReport {
    let mut verifier = ChainVerifier::new(tenant, &[]);
    for record in records {
        if record.entry.tenant != tenant {
            if !verifier.broken() {
                verifier.first_break = Some(ChainBreak {
                    seq: record.seq,
                    reason: format!("belongs to tenant `{}`", record.entry.tenant),
                });
            }
            break;
        }
        verifier.push(
            record.seq,
            &record.prev_hash,
            &record.hash,
            &record.entry.canonical(),
        );
    }
    verifier.finish(&[], None)
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

    fn walk(
        records: &[AuditRecord],
        checkpoints: &[Checkpoint],
        key: &ed25519_dalek::VerifyingKey,
    ) -> VerifyReport {
        let mut v = ChainVerifier::new("t1", checkpoints);
        for r in records {
            v.push(r.seq, &r.prev_hash, &r.hash, &r.entry.canonical());
        }
        v.finish(checkpoints, Some(key))
    }

    #[test]
    fn checkpoints_catch_truncation_rewriting_and_forgery() {
        let signer = crate::CheckpointSigner::from_secret([3; 32]);
        let key = signer.verifying_key();
        let records = chain(10);
        let cps = vec![
            signer.sign("t1", 4, &records[3].hash, chrono::Utc::now()),
            signer.sign("t1", 8, &records[7].hash, chrono::Utc::now()),
        ];
        let intact = walk(&records, &cps, &key);
        assert!(intact.intact(), "{intact:?}");
        assert_eq!((intact.checkpoints, intact.last_checkpoint), (2, Some(8)));

        // Cut back to #6: a valid shorter chain, but the checkpoint at #8 is missing its records.
        let cut = walk(&records[..6], &cps, &key);
        let b = cut.first_break.expect("truncation detected");
        assert_eq!(b.seq, 7);
        assert!(b.reason.contains("were removed"), "{}", b.reason);
        // Cut back to #9 (past no checkpoint) is not detectable by checkpoints: still intact.
        assert!(walk(&records[..9], &cps, &key).intact());

        // The whole chain rewritten consistently from #3 on: links hold, the checkpoint does not.
        let mut rewritten = records[..2].to_vec();
        let mut prev = rewritten[1].hash.clone();
        for r in &records[2..] {
            let mut e = r.entry.clone();
            e.outcome = Some("rewritten".into());
            let sealed = e.seal(r.seq, &prev);
            prev = sealed.hash.clone();
            rewritten.push(sealed);
        }
        let b = walk(&rewritten, &cps, &key)
            .first_break
            .expect("rewrite detected");
        assert_eq!(b.seq, 4);
        assert!(b.reason.contains("rewritten"), "{}", b.reason);

        // A checkpoint signed with another key, or edited, does not count.
        let forger = crate::CheckpointSigner::from_secret([4; 32]);
        let forged = vec![forger.sign("t1", 8, &records[7].hash, chrono::Utc::now())];
        let b = walk(&records, &forged, &key)
            .first_break
            .expect("forgery detected");
        assert_eq!(b.seq, 8);
        assert!(b.reason.contains("does not verify"), "{}", b.reason);
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
