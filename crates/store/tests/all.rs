//! The store against a real SQLite file and a real PostgreSQL server: every test runs on both.

#[macro_use]
mod backends;

use backends::Backend;
use serde_json::json;
use steward_audit::{AuditEntry, RecordKind};
use steward_domain::{ApprovalId, ConversationId, TenantId};
use steward_store::{ApprovalStatus, StoreError};

on_both_backends!(
    audit_appends_chain_and_a_tampered_row_is_named,
    concurrent_appends_keep_one_gapless_chain,
    one_tenant_cannot_read_another_tenants_rows_by_id,
    an_approval_is_decided_once,
    data_survives_reopening_the_file,
    concurrent_reservations_each_see_a_distinct_count,
    the_console_lists_and_counts_read_the_same_on_both,
    a_channel_event_is_first_delivered_once,
);

async fn audit_appends_chain_and_a_tampered_row_is_named(b: Backend) -> anyhow::Result<()> {
    let (_db, store) = b.open().await?;
    let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
    for i in 0..4 {
        let mut e = AuditEntry::new("ignored", RecordKind::Decision);
        e.action = Some(format!("entra.user.get#{i}"));
        assert_eq!(t.append_audit(e).await?, i + 1);
    }
    assert!(t.verify_audit().await?.intact());
    store
        .execute_unchecked("UPDATE audit_records SET entry = replace(entry, 'entra.user.get#2', 'entra.user.get#9') WHERE seq = 3")
        .await?;
    let report = t.verify_audit().await?;
    assert_eq!(report.first_break.map(|b| b.seq), Some(3));
    Ok(())
}

async fn concurrent_appends_keep_one_gapless_chain(b: Backend) -> anyhow::Result<()> {
    let (_db, store) = b.open().await?;
    let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.append_audit(AuditEntry::new("acme", RecordKind::Intent))
                .await
        }));
    }
    let mut seqs = Vec::new();
    for task in tasks {
        seqs.push(task.await??);
    }
    seqs.sort_unstable();
    assert_eq!(seqs, (1..=20).collect::<Vec<_>>());
    let report = t.verify_audit().await?;
    assert!(report.intact());
    assert_eq!(report.records, 20);
    Ok(())
}

async fn one_tenant_cannot_read_another_tenants_rows_by_id(b: Backend) -> anyhow::Result<()> {
    let (_db, store) = b.open().await?;
    let a = store
        .ensure_tenant(&TenantId::new("tenant-a")?, "A")
        .await?;
    let b = store
        .ensure_tenant(&TenantId::new("tenant-b")?, "B")
        .await?;
    let conversation = ConversationId::new();
    a.create_conversation(conversation, "adele@a.example", "cli", &json!({}))
        .await?;
    let approval = ApprovalId::new();
    a.create_approval(
        approval,
        conversation,
        "adele@a.example",
        "entra.user.enable",
        &json!({"x": 1}),
    )
    .await?;
    a.append_audit(AuditEntry::new("tenant-a", RecordKind::RequestReceived))
        .await?;

    assert!(matches!(
        b.conversation(conversation).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(matches!(
        b.approval(approval).await,
        Err(StoreError::NotFound { .. })
    ));
    assert!(b.approvals(None).await?.is_empty());
    assert!(b.audit_records(None).await?.is_empty());
    assert!(matches!(
        b.transition_approval(
            approval,
            ApprovalStatus::Pending,
            ApprovalStatus::Approved,
            Some("mallory"),
            None
        )
        .await,
        Err(StoreError::NotFound { .. })
    ));
    assert_eq!(a.approval(approval).await?.status, ApprovalStatus::Pending);
    assert!(matches!(
        store.tenant(&TenantId::new("nobody")?).await,
        Err(StoreError::UnknownTenant(_))
    ));
    Ok(())
}

async fn an_approval_is_decided_once(b: Backend) -> anyhow::Result<()> {
    let (_db, store) = b.open().await?;
    let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
    let conversation = ConversationId::new();
    t.create_conversation(conversation, "tom@acme.example", "cli", &json!({}))
        .await?;
    let id = ApprovalId::new();
    t.create_approval(
        id,
        conversation,
        "tom@acme.example",
        "entra.user.enable",
        &json!({}),
    )
    .await?;
    t.transition_approval(
        id,
        ApprovalStatus::Pending,
        ApprovalStatus::Approved,
        Some("nestor"),
        None,
    )
    .await?;
    let second = t
        .transition_approval(
            id,
            ApprovalStatus::Pending,
            ApprovalStatus::Denied,
            Some("hank"),
            None,
        )
        .await;
    assert!(
        matches!(second, Err(StoreError::Conflict { .. })),
        "{second:?}"
    );
    let row = t.approval(id).await?;
    assert_eq!(row.status, ApprovalStatus::Approved);
    assert_eq!(row.decided_by.as_deref(), Some("nestor"));
    Ok(())
}

async fn data_survives_reopening_the_file(b: Backend) -> anyhow::Result<()> {
    let db = b.scratch().await?;
    {
        let store = db.open().await?;
        let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        t.append_audit(AuditEntry::new("acme", RecordKind::Intent))
            .await?;
    }
    let store = db.open().await?;
    let t = store.tenant(&TenantId::new("acme")?).await?;
    assert_eq!(t.audit_records(None).await?.len(), 1);
    Ok(())
}

async fn concurrent_reservations_each_see_a_distinct_count(b: Backend) -> anyhow::Result<()> {
    use chrono::{Duration, Utc};
    let (_db, store) = b.open().await?;
    let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
    let now = Utc::now();
    let mut tasks = Vec::new();
    for _ in 0..12 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.reserve_action(
                "p1",
                "entra.user.reset_password",
                1,
                now,
                Duration::hours(1),
            )
            .await
        }));
    }
    let mut counts = Vec::new();
    for task in tasks {
        counts.push(task.await??.count);
    }
    counts.sort_unstable();
    // No two concurrent requests saw the same count: a limit of N lets exactly N through.
    assert_eq!(counts, (1..=12).collect::<Vec<_>>());

    // Another action, another principal and another tenant each count from zero.
    let other = t
        .reserve_action("p1", "entra.user.enable", 2, now, Duration::hours(1))
        .await?;
    assert_eq!(other.count, 2, "units are the job's targets");
    let b = store.ensure_tenant(&TenantId::new("beta")?, "Beta").await?;
    let r = b
        .reserve_action(
            "p1",
            "entra.user.reset_password",
            1,
            now,
            Duration::hours(1),
        )
        .await?;
    assert_eq!(r.count, 1);

    // A released reservation no longer counts; one outside the window is pruned.
    t.release_action(&other.id).await?;
    let again = t
        .reserve_action("p1", "entra.user.enable", 1, now, Duration::hours(1))
        .await?;
    assert_eq!(again.count, 1);
    let later = t
        .reserve_action(
            "p1",
            "entra.user.reset_password",
            1,
            now + Duration::minutes(61),
            Duration::hours(1),
        )
        .await?;
    assert_eq!(
        later.count, 1,
        "the 12 earlier reservations left the window"
    );
    Ok(())
}

mod checkpoints {
    use std::time::Duration;

    use steward_audit::{AuditEntry, CheckpointSigner, RecordKind, parse_public_key};
    use steward_domain::TenantId;
    use steward_store::{AuditOptions, CheckpointPolicy, Store};

    use crate::backends::{Backend, Scratch};

    on_both_backends!(
        every_n_records_a_signed_checkpoint_and_truncation_past_it_is_named,
        a_quiet_chain_is_signed_after_the_interval,
        a_chain_rewritten_and_re_signed_with_another_key_fails_against_the_exported_key,
        two_stores_on_one_file_and_many_writers_keep_every_chain_gapless,
    );

    async fn open_every(
        b: Backend,
        every: u32,
        interval: Duration,
    ) -> anyhow::Result<(Scratch, Store)> {
        let db = b.scratch().await?;
        let mut options = AuditOptions::in_dir(db.dir.path());
        options.checkpoints = CheckpointPolicy { every, interval };
        let store = db.open_with(options).await?;
        Ok((db, store))
    }

    async fn append(t: &steward_store::TenantStore, n: usize) -> anyhow::Result<()> {
        for i in 0..n {
            let mut e = AuditEntry::new("acme", RecordKind::Intent);
            e.action = Some(format!("entra.user.disable#{i}"));
            t.append_audit(e).await?;
        }
        Ok(())
    }

    async fn every_n_records_a_signed_checkpoint_and_truncation_past_it_is_named(
        b: Backend,
    ) -> anyhow::Result<()> {
        let (_dir, store) = open_every(b, 5, Duration::from_secs(3600)).await?;
        let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        append(&t, 12).await?;
        let seqs: Vec<i64> = t.audit_checkpoints().await?.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, vec![5, 10]);
        let report = t.verify_audit().await?;
        assert!(report.intact(), "{report:?}");
        assert_eq!((report.checkpoints, report.last_checkpoint), (2, Some(10)));

        // Cutting the chain back to #11 passes no checkpoint: the chain is still valid.
        store
            .execute_unchecked("DELETE FROM audit_records WHERE seq > 11")
            .await?;
        assert!(t.verify_audit().await?.intact());
        // Cutting it back to #7 passes the checkpoint at #10.
        store
            .execute_unchecked("DELETE FROM audit_records WHERE seq > 7")
            .await?;
        let broken = t
            .verify_audit()
            .await?
            .first_break
            .ok_or_else(|| anyhow::anyhow!("the truncation went unnoticed"))?;
        assert_eq!(broken.seq, 8);
        assert!(
            broken.reason.contains("#8..#10 were removed"),
            "{}",
            broken.reason
        );
        Ok(())
    }

    async fn a_quiet_chain_is_signed_after_the_interval(b: Backend) -> anyhow::Result<()> {
        let (_dir, store) = open_every(b, 1000, Duration::from_millis(200)).await?;
        let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        append(&t, 3).await?;
        let mut waited = Duration::ZERO;
        while t.audit_checkpoints().await?.is_empty() && waited < Duration::from_secs(5) {
            tokio::time::sleep(Duration::from_millis(50)).await;
            waited += Duration::from_millis(50);
        }
        let seqs: Vec<i64> = t.audit_checkpoints().await?.iter().map(|c| c.seq).collect();
        assert_eq!(seqs, vec![3]);
        Ok(())
    }

    async fn a_chain_rewritten_and_re_signed_with_another_key_fails_against_the_exported_key(
        b: Backend,
    ) -> anyhow::Result<()> {
        let (_dir, store) = open_every(b, 4, Duration::from_secs(3600)).await?;
        let exported = parse_public_key(&store.audit_public_key(), "export")?;
        let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        append(&t, 8).await?;
        assert!(t.verify_audit_with(&exported).await?.intact());

        // Someone with write access replaces the checkpoints with ones signed by their own key.
        let forger = CheckpointSigner::from_secret([9; 32]);
        let heads = store
            .fetch_text_unchecked("SELECT hash FROM audit_records WHERE seq IN (4, 8) ORDER BY seq")
            .await?;
        store
            .execute_unchecked("DELETE FROM audit_checkpoints")
            .await?;
        for (seq, hash) in [4, 8].into_iter().zip(heads) {
            let c = forger.sign("acme", seq, &hash, chrono::Utc::now());
            // Hex digits and an RFC 3339 time: nothing here needs quoting.
            store
                .execute_unchecked(&format!(
                    "INSERT INTO audit_checkpoints (tenant, seq, head_hash, time, key_id, signature) VALUES ('acme', {}, '{}', '{}', '{}', '{}')",
                    c.seq,
                    c.head_hash,
                    c.time.to_rfc3339_opts(chrono::SecondsFormat::Micros, true),
                    c.key_id,
                    c.signature
                ))
                .await?;
        }
        let broken = t
            .verify_audit_with(&exported)
            .await?
            .first_break
            .ok_or_else(|| anyhow::anyhow!("the forged checkpoints went unnoticed"))?;
        assert_eq!(broken.seq, 4);
        assert!(
            broken.reason.contains("does not verify"),
            "{}",
            broken.reason
        );
        Ok(())
    }

    async fn two_stores_on_one_file_and_many_writers_keep_every_chain_gapless(
        b: Backend,
    ) -> anyhow::Result<()> {
        let (db, first) = open_every(b, 50, Duration::from_secs(3600)).await?;
        // A second handle on the same database stands for a second process (or replica): its
        // own writer task, its own connections.
        let second = db.open().await?;
        let a1 = first.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        let b1 = first.ensure_tenant(&TenantId::new("beta")?, "Beta").await?;
        let a2 = second.tenant(&TenantId::new("acme")?).await?;
        let mut tasks = Vec::new();
        for i in 0..64 {
            let t = match i % 3 {
                0 => a1.clone(),
                1 => b1.clone(),
                _ => a2.clone(),
            };
            tasks.push(tokio::spawn(async move { append(&t, 10).await }));
        }
        for task in tasks {
            task.await??;
        }
        for t in [&a1, &b1] {
            let report = t.verify_audit().await?;
            assert!(report.intact(), "{report:?}");
        }
        let a = a1.verify_audit().await?;
        let b = b1.verify_audit().await?;
        assert_eq!(a.records + b.records, 640);
        assert_eq!(b.records, 210);
        Ok(())
    }
}

mod encryption {
    use std::sync::Arc;

    use serde_json::json;
    use steward_audit::{AuditEntry, RecordKind};
    use steward_domain::{ApprovalId, ConversationId, TenantId};
    use steward_store::{MasterKey, Store, StoreError};

    use crate::backends::Backend;

    on_both_backends!(
        a_refresh_token_is_sealed_at_rest_and_shredded_with_its_tenant,
        sensitive_columns_are_sealed_at_rest_and_read_back_whole,
        a_ciphertext_moved_to_another_tenant_does_not_open,
        rotating_the_master_key_rewraps_data_keys_and_the_old_key_stops_working,
        deleting_a_tenant_shreds_its_data_but_not_its_audit_chain_or_other_tenants,
    );

    const SECRET: &str = "Tom's home address: 1 Elm St";

    /// Writes one of everything sensitive for `tenant`.
    async fn write_all(
        store: &Store,
        tenant: &str,
    ) -> anyhow::Result<(ApprovalId, ConversationId)> {
        let t = store.ensure_tenant(&TenantId::new(tenant)?, tenant).await?;
        let conversation = ConversationId::new();
        t.create_conversation(
            conversation,
            "tom@acme.example",
            "web",
            &json!({"secret": SECRET}),
        )
        .await?;
        t.append_step(conversation, "request", &json!({"message": SECRET}))
            .await?;
        let approval = ApprovalId::new();
        t.create_approval(
            approval,
            conversation,
            "tom@acme.example",
            "entra.user.enable",
            &json!({"preview": SECRET}),
        )
        .await?;
        let mut e = AuditEntry::new(tenant, RecordKind::Intent);
        e.params = json!({"user": SECRET});
        e.detail = json!({"before": SECRET});
        t.append_audit(e).await?;
        Ok((approval, conversation))
    }

    async fn raw_text(store: &Store) -> anyhow::Result<String> {
        let mut all = String::new();
        for q in [
            "SELECT state FROM conversations",
            "SELECT body FROM conversation_steps",
            "SELECT payload FROM approvals",
            "SELECT entry FROM audit_records",
        ] {
            for r in store.fetch_text_unchecked(q).await? {
                all.push_str(&r);
            }
        }
        Ok(all)
    }

    async fn a_refresh_token_is_sealed_at_rest_and_shredded_with_its_tenant(
        b: Backend,
    ) -> anyhow::Result<()> {
        let db = b.scratch().await?;
        let (master, _) = MasterKey::generate();
        let store = db.open_with_keys(Arc::new(master)).await?;
        let acme = TenantId::new("acme")?;
        let t = store.ensure_tenant(&acme, "Acme").await?;
        let scopes = vec!["User.ReadWrite.All".to_owned(), "offline_access".to_owned()];
        t.put_credential("msgraph", "it.admin@acme.example", &scopes, "0.rt.first")
            .await?;
        // The platform rotated it: the new one replaces the old.
        t.put_credential(
            "msgraph",
            "it.admin@acme.example",
            &scopes,
            "0.rt.second-SECRET",
        )
        .await?;
        let raw = store
            .fetch_text_unchecked("SELECT secret FROM credentials")
            .await?
            .concat();
        assert!(raw.starts_with("enc1:") && !raw.contains("SECRET"), "{raw}");
        let c = t.credential("msgraph").await?;
        assert_eq!(c.refresh_token.as_str(), "0.rt.second-SECRET");
        assert_eq!(
            (c.owner.as_str(), c.scopes.clone()),
            ("it.admin@acme.example", scopes)
        );
        assert!(!format!("{c:?}").contains("SECRET"), "never in logs");
        // Another tenant does not see it.
        let beta = store.ensure_tenant(&TenantId::new("beta")?, "Beta").await?;
        assert!(matches!(
            beta.credential("msgraph").await,
            Err(StoreError::NotFound { .. })
        ));
        // Revoked: gone.
        assert!(t.delete_credential("msgraph").await?);
        assert!(matches!(
            t.credential("msgraph").await,
            Err(StoreError::NotFound { .. })
        ));
        // Shredded with its tenant: the sealed row stays, and nothing opens it.
        t.put_credential("msgraph", "it.admin@acme.example", &[], "0.rt.third-SECRET")
            .await?;
        store.delete_tenant(&acme).await?;
        assert!(matches!(
            store.tenant(&acme).await,
            Err(StoreError::TenantDeleted(_))
        ));
        let raw = store
            .fetch_text_unchecked("SELECT secret FROM credentials")
            .await?
            .concat();
        assert!(!raw.contains("SECRET"));
        Ok(())
    }

    async fn sensitive_columns_are_sealed_at_rest_and_read_back_whole(
        b: Backend,
    ) -> anyhow::Result<()> {
        let db = b.scratch().await?;
        let (master, _) = MasterKey::generate();
        let store = db.open_with_keys(Arc::new(master)).await?;
        let (approval, conversation) = write_all(&store, "acme").await?;
        let raw = raw_text(&store).await?;
        assert!(!raw.contains("Elm St"), "plaintext at rest: {raw}");
        assert!(raw.contains("enc1:"));

        let t = store.tenant(&TenantId::new("acme")?).await?;
        assert_eq!(t.approval(approval).await?.payload["preview"], SECRET);
        assert_eq!(t.conversation(conversation).await?.state["secret"], SECRET);
        assert_eq!(t.steps(conversation).await?[0].1["message"], SECRET);
        let records = t.audit_records(None).await?;
        assert_eq!(records[0].entry.params["user"], SECRET);
        assert_eq!(records[0].entry.detail["before"], SECRET);
        assert!(t.verify_audit().await?.intact());
        Ok(())
    }

    async fn a_ciphertext_moved_to_another_tenant_does_not_open(b: Backend) -> anyhow::Result<()> {
        let db = b.scratch().await?;
        let (master, _) = MasterKey::generate();
        let store = db.open_with_keys(Arc::new(master)).await?;
        let (a_approval, _) = write_all(&store, "acme").await?;
        let (b_approval, _) = write_all(&store, "beta").await?;
        store
            .execute_unchecked("UPDATE approvals SET payload = (SELECT payload FROM approvals WHERE tenant = 'acme') WHERE tenant = 'beta'")
            .await?;
        let beta = store.tenant(&TenantId::new("beta")?).await?;
        assert!(matches!(
            beta.approval(b_approval).await,
            Err(StoreError::Crypto(_))
        ));
        let acme = store.tenant(&TenantId::new("acme")?).await?;
        assert!(acme.approval(a_approval).await.is_ok());
        Ok(())
    }

    async fn rotating_the_master_key_rewraps_data_keys_and_the_old_key_stops_working(
        b: Backend,
    ) -> anyhow::Result<()> {
        let db = b.scratch().await?;
        let (old, old_hex) = MasterKey::generate();
        let store = db.open_with_keys(Arc::new(old)).await?;
        let (approval, _) = write_all(&store, "acme").await?;
        let raw_before = raw_text(&store).await?;
        let (new, new_hex) = MasterKey::generate();
        assert_eq!(store.rotate_master_key(&new).await?, 1);
        drop(store);

        let store = db
            .open_with_keys(Arc::new(MasterKey::from_hex(&new_hex, "new")?))
            .await?;
        let t = store.tenant(&TenantId::new("acme")?).await?;
        assert_eq!(t.approval(approval).await?.payload["preview"], SECRET);
        assert_eq!(
            raw_text(&store).await?,
            raw_before,
            "the data itself is not rewritten"
        );
        drop(t);
        drop(store);
        let store = db
            .open_with_keys(Arc::new(MasterKey::from_hex(&old_hex, "old")?))
            .await?;
        assert!(matches!(
            store.tenant(&TenantId::new("acme")?).await,
            Err(StoreError::Crypto(_))
        ));
        Ok(())
    }

    async fn deleting_a_tenant_shreds_its_data_but_not_its_audit_chain_or_other_tenants(
        b: Backend,
    ) -> anyhow::Result<()> {
        let db = b.scratch().await?;
        let (master, master_hex) = MasterKey::generate();
        let store = db.open_with_keys(Arc::new(master)).await?;
        write_all(&store, "acme").await?;
        let (beta_approval, _) = write_all(&store, "beta").await?;
        let acme = TenantId::new("acme")?;

        store.delete_tenant(&acme).await?;
        assert!(matches!(
            store.tenant(&acme).await,
            Err(StoreError::TenantDeleted(_))
        ));
        assert!(matches!(
            store.ensure_tenant(&acme, "again").await,
            Err(StoreError::TenantDeleted(_))
        ));
        // The rows are still there, sealed, and nothing can open them.
        let sealed = store
            .fetch_text_unchecked("SELECT payload FROM approvals WHERE tenant = 'acme'")
            .await?
            .concat();
        assert!(sealed.starts_with("enc1:") && !sealed.contains("Elm"));
        // The audit chain still verifies without the key.
        assert!(store.verify_audit_of(&acme, None).await?.intact());
        // The other tenant is untouched.
        let beta = store.tenant(&TenantId::new("beta")?).await?;
        assert!(beta.approval(beta_approval).await.is_ok());
        drop(beta);
        drop(store);
        // A restart with the same master key does not bring the data key back.
        let restored = db
            .open_with_keys(Arc::new(MasterKey::from_hex(&master_hex, "m")?))
            .await?;
        let again = restored.tenant(&acme).await;
        assert!(
            matches!(again, Err(StoreError::TenantDeleted(_))),
            "{:?}",
            again.map(|t| t.tenant().clone())
        );
        Ok(())
    }
}

mod intents {
    use chrono::{Duration, Utc};
    use serde_json::json;
    use steward_domain::TenantId;
    use steward_store::{IntentStart, IntentStatus};

    use crate::backends::Backend;

    on_both_backends!(
        a_key_starts_one_call_and_a_second_attempt_sees_the_first,
        an_expired_pending_intent_is_in_doubt_and_one_reconciler_takes_it,
    );

    async fn a_key_starts_one_call_and_a_second_attempt_sees_the_first(
        b: Backend,
    ) -> anyhow::Result<()> {
        let (_db, store) = b.open().await?;
        let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        let call =
            json!({"action": "entra.user.reset_password", "params": {"user": "tom@acme.example"}});
        let now = Utc::now();
        let first = t
            .begin_intent("k1", "c1", &call, "replica-a", now, Duration::minutes(2))
            .await?;
        assert_eq!(first, IntentStart::New);
        // Another replica retrying the same work gets the first attempt, not a new call.
        let again = t
            .begin_intent("k1", "c1", &call, "replica-b", now, Duration::minutes(2))
            .await?;
        let IntentStart::Existing(row) = again else {
            anyhow::bail!("a second attempt was allowed to call again");
        };
        assert_eq!(
            (row.status, row.owner.as_str()),
            (IntentStatus::Pending, "replica-a")
        );
        assert_eq!(row.call, call);
        assert_eq!(row.action, "entra.user.reset_password");
        // Only the owner closes it.
        assert!(
            !t.finish_intent("k1", "replica-b", IntentStatus::Done, &json!({}), now)
                .await?
        );
        assert!(
            t.finish_intent(
                "k1",
                "replica-a",
                IntentStatus::Done,
                &json!({"summary": "reset"}),
                now
            )
            .await?
        );
        let row = t
            .intent("k1")
            .await?
            .ok_or_else(|| anyhow::anyhow!("gone"))?;
        assert_eq!(row.status, IntentStatus::Done);
        assert_eq!(row.resolution, Some(json!({"summary": "reset"})));
        // Sealed at rest like the rest of the conversation.
        let raw = store
            .fetch_text_unchecked("SELECT call FROM intents")
            .await?
            .concat();
        assert!(raw.starts_with("enc1:") && !raw.contains("tom@"), "{raw}");
        // Another tenant's same key is another intent.
        let beta = store.ensure_tenant(&TenantId::new("beta")?, "Beta").await?;
        assert_eq!(
            beta.begin_intent("k1", "c9", &call, "replica-a", now, Duration::minutes(2))
                .await?,
            IntentStart::New
        );
        assert!(
            beta.intent("k1")
                .await?
                .is_some_and(|r| r.conversation == "c9")
        );
        Ok(())
    }

    async fn an_expired_pending_intent_is_in_doubt_and_one_reconciler_takes_it(
        b: Backend,
    ) -> anyhow::Result<()> {
        let (_db, store) = b.open().await?;
        let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        let call = json!({"action": "entra.user.enable", "params": {"user": "tom@acme.example"}});
        let then = Utc::now() - Duration::minutes(10);
        t.begin_intent("k2", "c1", &call, "replica-a", then, Duration::minutes(2))
            .await?;
        t.begin_intent(
            "k3",
            "c1",
            &call,
            "replica-a",
            Utc::now(),
            Duration::minutes(2),
        )
        .await?;
        let now = Utc::now();
        let doubtful: Vec<String> = t
            .in_doubt_intents(now)
            .await?
            .into_iter()
            .map(|r| r.key)
            .collect();
        assert_eq!(doubtful, vec!["k2"], "a live lease is not in doubt");
        assert!(
            t.claim_in_doubt("k2", "replica-b", now, Duration::minutes(2))
                .await?
        );
        assert!(
            !t.claim_in_doubt("k2", "replica-c", now, Duration::minutes(2))
                .await?,
            "claimed once"
        );
        // The dead maker cannot close it any more; the reconciler does.
        assert!(
            !t.finish_intent("k2", "replica-a", IntentStatus::Done, &json!({}), now)
                .await?
        );
        assert!(
            t.finish_intent(
                "k2",
                "replica-b",
                IntentStatus::NotApplied,
                &json!({"found": "accountEnabled false"}),
                now
            )
            .await?
        );
        // Found not made: one caller may make it now under the same key.
        assert_eq!(
            t.begin_intent("k2", "c1", &call, "replica-c", now, Duration::minutes(2))
                .await?,
            IntentStart::New
        );
        assert!(matches!(
            t.begin_intent("k2", "c1", &call, "replica-d", now, Duration::minutes(2))
                .await?,
            IntentStart::Existing(_)
        ));
        Ok(())
    }
}

mod work {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;

    use chrono::Utc;
    use serde_json::json;
    use steward_domain::TenantId;
    use steward_store::{Wake, WorkStatus};

    use crate::backends::Backend;

    on_both_backends!(
        replicas_claim_each_item_once_and_a_dead_ones_item_is_claimed_again,
        a_new_item_wakes_a_waiting_replica,
    );

    async fn replicas_claim_each_item_once_and_a_dead_ones_item_is_claimed_again(
        b: Backend,
    ) -> anyhow::Result<()> {
        let db = b.scratch().await?;
        // Three stores on one database: three replicas, each with its own connections.
        let replicas = [db.open().await?, db.open().await?, db.open().await?];
        let acme = replicas[0]
            .ensure_tenant(&TenantId::new("acme")?, "Acme")
            .await?;
        let beta = replicas[1]
            .ensure_tenant(&TenantId::new("beta")?, "Beta")
            .await?;
        for i in 0..30 {
            let t = if i % 2 == 0 { &acme } else { &beta };
            assert!(
                t.enqueue_work(&format!("w{i}"), "turn", Some("c1"), &json!({"n": i}))
                    .await?
            );
        }
        assert!(
            !acme.enqueue_work("w0", "turn", None, &json!({})).await?,
            "enqueued once"
        );

        // Six workers over the three replicas take everything; each item is done exactly once.
        let done: Arc<Mutex<HashMap<String, usize>>> = Arc::default();
        let mut workers = Vec::new();
        for w in 0..6 {
            let store = replicas[w % 3].clone();
            let done = done.clone();
            workers.push(tokio::spawn(async move {
                let owner = format!("worker-{w}");
                while let Some((tenant, item)) = store
                    .claim_work(&owner, Utc::now(), chrono::Duration::seconds(30))
                    .await?
                {
                    *done
                        .lock()
                        .map_err(|_| anyhow::anyhow!("poisoned"))?
                        .entry(format!("{}/{}", tenant.tenant(), item.id))
                        .or_default() += 1;
                    assert_eq!(item.attempts, 1);
                    assert!(
                        tenant
                            .complete_work(
                                &item.id,
                                &owner,
                                WorkStatus::Done,
                                &json!({"by": owner})
                            )
                            .await?
                    );
                }
                Ok::<_, anyhow::Error>(())
            }));
        }
        for w in workers {
            w.await??;
        }
        let done = done
            .lock()
            .map_err(|_| anyhow::anyhow!("poisoned"))?
            .clone();
        assert_eq!(done.len(), 30);
        assert!(done.values().all(|&n| n == 1), "{done:?}");
        let (status, result) = beta
            .work_result("w1")
            .await?
            .ok_or_else(|| anyhow::anyhow!("lost"))?;
        assert_eq!(status, WorkStatus::Done);
        assert!(result.is_some_and(|r| r["by"].as_str().is_some_and(|b| b.starts_with("worker-"))));
        // Sealed at rest.
        let raw = replicas[0]
            .fetch_text_unchecked("SELECT payload FROM work_items")
            .await?
            .concat();
        assert!(!raw.contains("\"n\""), "{raw}");

        // A replica claims an item and dies: nobody else gets it until the lease runs out.
        acme.enqueue_work("late", "approval", None, &json!({"approval": "a1"}))
            .await?;
        let now = Utc::now();
        let (_, first) = replicas[0]
            .claim_work("doomed", now, chrono::Duration::seconds(30))
            .await?
            .ok_or_else(|| anyhow::anyhow!("nothing to claim"))?;
        assert_eq!(first.id, "late");
        assert!(
            replicas[1]
                .claim_work("survivor", now, chrono::Duration::seconds(30))
                .await?
                .is_none()
        );
        let later = now + chrono::Duration::seconds(31);
        let (t, again) = replicas[1]
            .claim_work("survivor", later, chrono::Duration::seconds(30))
            .await?
            .ok_or_else(|| anyhow::anyhow!("the dead replica's item was not claimed again"))?;
        assert_eq!((again.id.as_str(), again.attempts), ("late", 2));
        // The dead replica's late word no longer counts; the survivor's does.
        assert!(
            !t.renew_work("late", "doomed", later, chrono::Duration::seconds(30))
                .await?
        );
        assert!(
            !t.complete_work("late", "doomed", WorkStatus::Done, &json!({}))
                .await?
        );
        assert!(
            t.renew_work("late", "survivor", later, chrono::Duration::seconds(30))
                .await?
        );
        assert!(
            t.complete_work("late", "survivor", WorkStatus::Done, &json!({}))
                .await?
        );
        Ok(())
    }

    async fn a_new_item_wakes_a_waiting_replica(b: Backend) -> anyhow::Result<()> {
        let db = b.scratch().await?;
        let waiting = db.open().await?;
        let other = db.open().await?;
        let acme = other.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
        let mut signal = waiting.work_signal().await?;
        // PostgreSQL's waiter returns on the announcement, long before its 20 s; SQLite's is a
        // timer, kept short.
        let timeout = match b {
            Backend::Postgres => Duration::from_secs(20),
            Backend::Sqlite => Duration::from_secs(1),
        };
        let waiter = tokio::spawn(async move { signal.wait(timeout).await });
        tokio::time::sleep(Duration::from_millis(200)).await;
        acme.enqueue_work("w1", "turn", None, &json!({})).await?;
        let woke = waiter.await?;
        match b {
            // Another replica's NOTIFY wakes the waiter.
            Backend::Postgres => assert_eq!(woke, Wake::Announced),
            // One process: SQLite's waiter is a timer, and the item is there when it looks.
            Backend::Sqlite => assert_eq!(woke, Wake::TimedOut),
        }
        assert!(
            waiting
                .claim_work("w", Utc::now(), chrono::Duration::seconds(5))
                .await?
                .is_some()
        );
        Ok(())
    }
}

/// What the console's lists and live counts read: a person's own conversations, everyone's
/// latest, the pending approvals and the last audit record.
async fn the_console_lists_and_counts_read_the_same_on_both(b: Backend) -> anyhow::Result<()> {
    let (_db, store) = b.open().await?;
    let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
    assert_eq!(t.last_audit_seq().await?, 0);
    assert_eq!(t.pending_approval_count().await?, 0);
    let mine = ConversationId::new();
    t.create_conversation(
        mine,
        "tom@acme.example",
        "web",
        &json!({"messages": ["my account is disabled"]}),
    )
    .await?;
    let theirs = ConversationId::new();
    t.create_conversation(
        theirs,
        "ann@acme.example",
        "slack",
        &json!({"messages": ["locked out"]}),
    )
    .await?;
    t.create_approval(
        ApprovalId::new(),
        mine,
        "tom@acme.example",
        "entra.user.enable",
        &json!({}),
    )
    .await?;
    t.append_audit(AuditEntry::new("acme", RecordKind::RequestReceived))
        .await?;
    t.append_audit(AuditEntry::new("acme", RecordKind::Reply))
        .await?;
    assert_eq!(t.last_audit_seq().await?, 2);
    assert_eq!(t.pending_approval_count().await?, 1);
    let tom = t.conversations_of("tom@acme.example", 10).await?;
    assert_eq!(tom.len(), 1);
    assert_eq!(tom[0].0.id, mine);
    assert_eq!(tom[0].0.state["messages"][0], "my account is disabled");
    let all = t.recent_conversations(10).await?;
    assert_eq!(all.len(), 2);
    assert!(
        all.iter()
            .any(|(c, _)| c.requester == "ann@acme.example" && c.channel == "slack")
    );
    assert_eq!(t.recent_conversations(1).await?.len(), 1);
    Ok(())
}

/// Of many concurrent deliveries of one event, exactly one is the first; another channel's
/// event of the same id is its own.
async fn a_channel_event_is_first_delivered_once(b: Backend) -> anyhow::Result<()> {
    let (_db, store) = b.open().await?;
    let t = store.ensure_tenant(&TenantId::new("acme")?, "Acme").await?;
    let mut tasks = Vec::new();
    for _ in 0..8 {
        let t = t.clone();
        tasks.push(tokio::spawn(async move {
            t.first_delivery("slack", "Ev1").await
        }));
    }
    let mut firsts = 0;
    for task in tasks {
        firsts += usize::from(task.await??);
    }
    assert_eq!(firsts, 1);
    assert!(t.first_delivery("teams", "Ev1").await?);
    assert!(!t.first_delivery("slack", "Ev1").await?);
    Ok(())
}
