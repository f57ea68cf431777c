//! Delivery of alerts on a background thread: one bounded queue and one task per webhook,
//! retries with exponential backoff, and the dead letter for what is not delivered.
//!
//! The chain only enqueues (`try_send`), so a slow or hanging webhook never holds up a stage,
//! another sink or another webhook. Every alert ends in exactly one of three places: delivered,
//! a dead-letter record, or (only when the dead-letter file itself cannot be written) an
//! error log line with the alert id, counted in [`AlertCounts::dead_letter_failures`].

use std::sync::{Arc, Condvar, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use governance_core::{Error, Result};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use tokio::sync::{mpsc, watch};

use super::config::WebhookConfig;
use super::message::{AlertMessage, DeadLetter};

/// Counts of a sink's deliveries since it was created.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct AlertCounts {
    /// Alerts handed to a webhook's queue or, when the queue was full, to the dead letter,
    /// counted once per webhook.
    pub queued: u64,
    /// Alerts a webhook accepted with a 2xx status.
    pub delivered: u64,
    /// Alerts written to the dead letter.
    pub dead_lettered: u64,
    /// HTTP attempts made, retries included.
    pub attempts: u64,
    /// Alerts waiting in a queue or being sent now.
    pub pending: u64,
    /// Alerts that could be neither delivered nor written to the dead letter; each one is
    /// logged at error level with its id.
    pub dead_letter_failures: u64,
}

/// A view of a sink's deliveries that stays valid after the sink moves into a chain.
#[derive(Debug, Clone, Default)]
pub struct AlertMonitor {
    state: Arc<(Mutex<AlertCounts>, Condvar)>,
}

impl AlertMonitor {
    /// Returns the counts now.
    pub fn counts(&self) -> AlertCounts {
        *self.lock()
    }

    /// Blocks until no alert is pending or `timeout` has passed. Returns true when none is
    /// pending.
    pub fn wait_idle(&self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        let (_, idle) = &*self.state;
        let mut counts = self.lock();
        while counts.pending > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return false;
            }
            counts = match idle.wait_timeout(counts, left) {
                Ok((counts, _)) => counts,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        true
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, AlertCounts> {
        // The counts stay consistent even if a holder panicked, because each update is one
        // statement.
        self.state
            .0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn update(&self, change: impl FnOnce(&mut AlertCounts)) {
        let mut counts = self.lock();
        change(&mut counts);
        if counts.pending == 0 {
            self.state.1.notify_all();
        }
    }

    fn enqueued(&self) {
        self.update(|counts| {
            counts.queued += 1;
            counts.pending += 1;
        });
    }

    fn attempt(&self) {
        self.update(|counts| counts.attempts += 1);
    }

    fn settled(&self, outcome: Settled) {
        self.update(|counts| {
            counts.pending = counts.pending.saturating_sub(1);
            match outcome {
                Settled::Delivered => counts.delivered += 1,
                Settled::DeadLettered => counts.dead_lettered += 1,
                Settled::Lost => counts.dead_letter_failures += 1,
            }
        });
    }
}

#[derive(Debug, Clone, Copy)]
enum Settled {
    Delivered,
    DeadLettered,
    Lost,
}

/// One webhook, ready to post to.
struct Target {
    config: WebhookConfig,
    url: String,
    headers: HeaderMap,
    client: reqwest::Client,
}

impl Target {
    fn new(config: &WebhookConfig) -> Result<Self> {
        let url = config.resolve_url()?;
        let mut headers = HeaderMap::new();
        for (name, value) in config.resolve_headers()? {
            let header = HeaderName::from_bytes(name.as_bytes()).map_err(|_| {
                invalid(config, format!("{name:?} is not a valid HTTP header name"))
            })?;
            // The value is a secret, so the message does not show it.
            let mut value = HeaderValue::from_str(value.expose()).map_err(|_| {
                invalid(
                    config,
                    format!(
                        "the value of header {name:?} is not a valid HTTP header value; \
                         remove line breaks and non-ASCII characters"
                    ),
                )
            })?;
            value.set_sensitive(true);
            headers.insert(header, value);
        }
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_millis(config.connect_timeout_ms))
            .timeout(Duration::from_millis(config.timeout_ms))
            // A redirect counts as a failed attempt, so the alert and its headers never go to
            // a URL that was not configured.
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("governance-apply/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| invalid(config, format!("cannot build the HTTP client: {error}")))?;
        Ok(Target {
            config: config.clone(),
            url,
            headers,
            client,
        })
    }

    fn name(&self) -> &str {
        &self.config.name
    }
}

fn invalid(config: &WebhookConfig, message: String) -> Error {
    Error::config(
        super::ALERT_SINK_NAME,
        format!("webhook {:?}: {message}", config.name),
    )
}

/// Cause of one failed attempt.
enum Failure {
    Timeout,
    Transport(String),
    Status(u16),
}

impl Failure {
    fn retryable(&self) -> bool {
        match self {
            Failure::Timeout | Failure::Transport(_) => true,
            Failure::Status(status) => matches!(*status, 408 | 429 | 500..=599),
        }
    }

    fn describe(&self) -> String {
        match self {
            Failure::Timeout => "timed out".to_string(),
            Failure::Transport(message) => message.clone(),
            Failure::Status(status) => format!("HTTP {status}"),
        }
    }
}

/// Formats the error and its causes without the URL, because the URL may contain a token.
fn describe_transport(error: reqwest::Error) -> String {
    let error = error.without_url();
    let mut text = error.to_string();
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

/// Result of one alert's delivery to one webhook.
enum Outcome {
    Delivered,
    Failed { reason: String, attempts: u32 },
}

/// The queues and the background thread of one sink.
pub(crate) struct Delivery {
    queues: Vec<(String, mpsc::Sender<Arc<AlertMessage>>)>,
    shutdown: watch::Sender<bool>,
    thread: Option<JoinHandle<()>>,
    monitor: AlertMonitor,
    dead_letter: Arc<DeadLetter>,
    grace: Duration,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Delivery")
            .field("webhooks", &self.queues.len())
            .field("counts", &self.monitor.counts())
            .finish_non_exhaustive()
    }
}

impl Delivery {
    /// Starts the background thread with one queue of `capacity` alerts per webhook.
    pub(crate) fn start(
        sink: &str,
        webhooks: &[WebhookConfig],
        capacity: usize,
        dead_letter: Arc<DeadLetter>,
        grace: Duration,
    ) -> Result<Self> {
        let targets = webhooks
            .iter()
            .map(Target::new)
            .collect::<Result<Vec<_>>>()?;
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|error| {
                Error::Internal(format!("cannot start the alert delivery runtime: {error}"))
            })?;
        let monitor = AlertMonitor::default();
        let (shutdown, shutdown_receiver) = watch::channel(false);

        let mut queues = Vec::with_capacity(targets.len());
        let mut workers = Vec::with_capacity(targets.len());
        for target in targets {
            let (sender, receiver) = mpsc::channel(capacity);
            queues.push((target.name().to_string(), sender));
            workers.push((target, receiver));
        }

        let thread_monitor = monitor.clone();
        let thread_dead_letter = Arc::clone(&dead_letter);
        let thread = std::thread::Builder::new()
            .name(format!("{sink}-delivery"))
            .spawn(move || {
                runtime.block_on(async move {
                    let mut tasks = Vec::new();
                    for (target, receiver) in workers {
                        tasks.push(tokio::spawn(run_webhook(
                            target,
                            receiver,
                            shutdown_receiver.clone(),
                            thread_monitor.clone(),
                            Arc::clone(&thread_dead_letter),
                        )));
                    }
                    for task in tasks {
                        if let Err(error) = task.await {
                            tracing::error!(%error, "webhook delivery task failed");
                        }
                    }
                });
            })
            .map_err(|error| {
                Error::Internal(format!("cannot start the alert delivery thread: {error}"))
            })?;

        Ok(Delivery {
            queues,
            shutdown,
            thread: Some(thread),
            monitor,
            dead_letter,
            grace,
        })
    }

    pub(crate) fn monitor(&self) -> AlertMonitor {
        self.monitor.clone()
    }

    /// Puts `alert` in every webhook's queue without waiting. Where a queue is full, the alert
    /// goes to the dead letter for that webhook instead. Fails only when the dead letter
    /// cannot be written, after trying every webhook.
    pub(crate) fn enqueue(&self, alert: AlertMessage) -> Result<()> {
        let alert = Arc::new(alert);
        let mut first_error = None;
        for (webhook, queue) in &self.queues {
            self.monitor.enqueued();
            let reason = match queue.try_send(Arc::clone(&alert)) {
                Ok(()) => continue,
                Err(mpsc::error::TrySendError::Full(_)) => format!(
                    "not sent: the queue of webhook {webhook:?} was full; raise queue_capacity \
                     or check why the webhook is slow"
                ),
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    "not sent: the delivery thread has stopped".to_string()
                }
            };
            tracing::warn!(webhook = %webhook, alert = %alert.id, %reason, "alert goes to the dead letter");
            match self.dead_letter.append(webhook, &reason, 0, &alert) {
                Ok(()) => self.monitor.settled(Settled::DeadLettered),
                Err(error) => {
                    tracing::error!(webhook = %webhook, alert = %alert.id, %error, "cannot write the alert to the dead letter; the alert is lost");
                    self.monitor.settled(Settled::Lost);
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }
}

impl Drop for Delivery {
    /// Closes the queues, waits up to the grace time for queued alerts to be delivered, then
    /// stops the deliveries still running: their alerts and any still queued go to the dead
    /// letter.
    fn drop(&mut self) {
        self.queues.clear();
        if !self.monitor.wait_idle(self.grace) {
            tracing::warn!(
                pending = self.monitor.counts().pending,
                grace_ms = self.grace.as_millis() as u64,
                "alerts still pending when the sink shut down go to the dead letter"
            );
        }
        // An error means every receiver is gone, so nothing is left to stop.
        let _ = self.shutdown.send(true);
        if let Some(thread) = self.thread.take()
            && thread.join().is_err()
        {
            tracing::error!("the alert delivery thread panicked");
        }
    }
}

async fn run_webhook(
    target: Target,
    mut queue: mpsc::Receiver<Arc<AlertMessage>>,
    mut shutdown: watch::Receiver<bool>,
    monitor: AlertMonitor,
    dead_letter: Arc<DeadLetter>,
) {
    while let Some(alert) = queue.recv().await {
        let outcome = if *shutdown.borrow() {
            Outcome::Failed {
                reason: "not sent: the sink shut down before delivery".to_string(),
                attempts: 0,
            }
        } else {
            deliver(&target, &alert, &mut shutdown, &monitor).await
        };
        match outcome {
            Outcome::Delivered => {
                tracing::debug!(webhook = %target.name(), alert = %alert.id, "alert delivered");
                monitor.settled(Settled::Delivered);
            }
            Outcome::Failed { reason, attempts } => {
                tracing::warn!(webhook = %target.name(), alert = %alert.id, %reason, "alert goes to the dead letter");
                match dead_letter.append(target.name(), &reason, attempts, &alert) {
                    Ok(()) => monitor.settled(Settled::DeadLettered),
                    Err(error) => {
                        tracing::error!(webhook = %target.name(), alert = %alert.id, %error, "cannot write the alert to the dead letter; the alert is lost");
                        monitor.settled(Settled::Lost);
                    }
                }
            }
        }
    }
}

/// Completes once the sink signals the deliveries to stop.
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    // An error means the sender is gone, which also means stop.
    let _ = shutdown.wait_for(|stop| *stop).await;
}

async fn deliver(
    target: &Target,
    alert: &AlertMessage,
    shutdown: &mut watch::Receiver<bool>,
    monitor: &AlertMonitor,
) -> Outcome {
    let mut attempt = 0;
    loop {
        attempt += 1;
        monitor.attempt();
        let request = target
            .client
            .post(&target.url)
            .headers(target.headers.clone())
            .json(alert);
        let result = tokio::select! {
            result = request.send() => result,
            () = stopped(shutdown) => {
                return Outcome::Failed {
                    reason: format!("not delivered: the sink shut down during attempt {attempt}"),
                    attempts: attempt,
                };
            }
        };
        let failure = match result {
            Ok(response) if response.status().is_success() => return Outcome::Delivered,
            Ok(response) => Failure::Status(response.status().as_u16()),
            Err(error) if error.is_timeout() => Failure::Timeout,
            Err(error) => Failure::Transport(describe_transport(error)),
        };
        tracing::warn!(
            webhook = %target.name(),
            alert = %alert.id,
            attempt,
            error = %failure.describe(),
            "webhook attempt failed"
        );
        if !failure.retryable() {
            return Outcome::Failed {
                reason: format!(
                    "{} on attempt {attempt}, which is not retried",
                    failure.describe()
                ),
                attempts: attempt,
            };
        }
        if attempt >= target.config.max_attempts {
            return Outcome::Failed {
                reason: format!("{} after {attempt} attempts", failure.describe()),
                attempts: attempt,
            };
        }
        let wait = target.config.backoff(attempt);
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = stopped(shutdown) => {
                return Outcome::Failed {
                    reason: format!(
                        "not delivered: the sink shut down while waiting to retry after {}",
                        failure.describe()
                    ),
                    attempts: attempt,
                };
            }
        }
    }
}
