//! `steward audit export --webhook URL`: delivers a tenant's audit records to a SIEM's HTTP
//! collector in order, as newline-delimited JSON batches. A batch is retried with exponential
//! backoff (honouring `Retry-After`) until the collector accepts it, and only then is the sink's
//! cursor moved past it in the store: a restarted exporter resumes where the collector stopped
//! acknowledging, so no record is skipped (one may arrive twice after a crash between the
//! acknowledgement and the cursor update; each event carries its unique `tenant:seq`).

use std::time::Duration;

use backon::{ExponentialBuilder, Retryable as _};
use reqwest::StatusCode;
use steward_audit::{ExportFormat, export_line};
use steward_store::TenantStore;

/// Records per delivery.
const BATCH: i64 = 500;

/// Why a delivery failed.
#[derive(Debug, thiserror::Error)]
enum DeliveryError {
    /// Worth retrying: the collector is down, overloaded or slow.
    #[error("{reason}")]
    Transient {
        reason: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (a wrong URL, a refused token): stop and say so.
    #[error("{0}")]
    Refused(String),
}

/// Where and how records are delivered.
pub struct Webhook {
    /// The collector's URL.
    pub url: String,
    /// The sink's name under which its cursor is kept.
    pub sink: String,
    /// The event format.
    pub format: ExportFormat,
    /// Keep going (retry without limit, then wait for new records) instead of stopping once
    /// everything written so far is delivered.
    pub follow: bool,
}

/// How many records were delivered to each tenant's sink.
pub async fn deliver(webhook: &Webhook, tenants: &[TenantStore]) -> anyhow::Result<Vec<usize>> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .redirect(reqwest::redirect::Policy::none())
        .build()?;
    let mut delivered = vec![0usize; tenants.len()];
    let stop = tokio::signal::ctrl_c();
    tokio::pin!(stop);
    loop {
        for (t, count) in tenants.iter().zip(delivered.iter_mut()) {
            loop {
                let after = t.export_cursor(&webhook.sink).await?;
                let page = t.audit_records_after(after, None, None, BATCH).await?;
                let Some(last) = page.last().map(|r| r.seq) else {
                    break;
                };
                let body: String = page
                    .iter()
                    .map(|r| export_line(r, webhook.format) + "\n")
                    .collect();
                post_with_retries(&client, webhook, body).await.map_err(|e| {
                    anyhow::anyhow!(
                        "the collector at {} did not take tenant {}'s records #{}..#{}: {e} (delivered so far: up to #{after}; rerun to resume)",
                        webhook.url,
                        t.tenant(),
                        after + 1,
                        last
                    )
                })?;
                t.set_export_cursor(&webhook.sink, last).await?;
                *count += page.len();
            }
        }
        if !webhook.follow {
            return Ok(delivered);
        }
        tokio::select! {
            _ = &mut stop => return Ok(delivered),
            _ = tokio::time::sleep(Duration::from_millis(500)) => {}
        }
    }
}

async fn post_with_retries(
    client: &reqwest::Client,
    webhook: &Webhook,
    body: String,
) -> Result<(), DeliveryError> {
    let backoff = ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(200))
        .with_max_delay(Duration::from_secs(30))
        .with_jitter();
    let backoff = if webhook.follow {
        backoff.without_max_times()
    } else {
        backoff.with_max_times(8)
    };
    (|| post(client, &webhook.url, body.clone()))
        .retry(backoff)
        .sleep(tokio::time::sleep)
        .when(|e| matches!(e, DeliveryError::Transient { .. }))
        .adjust(|e, planned| match e {
            DeliveryError::Transient {
                retry_after: Some(wait),
                ..
            } => Some((*wait).min(Duration::from_secs(300))),
            _ => planned,
        })
        .notify(|e, wait| eprintln!("audit webhook: {e}; retrying in {wait:.1?}"))
        .await
}

async fn post(client: &reqwest::Client, url: &str, body: String) -> Result<(), DeliveryError> {
    let response = client
        .post(url)
        .header(reqwest::header::CONTENT_TYPE, "application/x-ndjson")
        .body(body)
        .send()
        .await
        .map_err(|e| DeliveryError::Transient {
            reason: format!("cannot reach the collector: {e}"),
            retry_after: None,
        })?;
    let status = response.status();
    if status.is_success() {
        return Ok(());
    }
    let retry_after = response
        .headers()
        .get(reqwest::header::RETRY_AFTER)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map(Duration::from_secs);
    if status.is_server_error()
        || status == StatusCode::TOO_MANY_REQUESTS
        || status == StatusCode::REQUEST_TIMEOUT
    {
        Err(DeliveryError::Transient {
            reason: format!("the collector answered {status}"),
            retry_after,
        })
    } else {
        Err(DeliveryError::Refused(format!(
            "the collector refused the batch with {status}"
        )))
    }
}
