//! [`MqttCollector`]: reads messages from an MQTT broker in batches, acknowledges each
//! message only after the batch that contains it is committed, and drops redelivered
//! duplicates by a message key.
//!
//! # Delivery
//!
//! The collector connects with a persistent session (clean session off) and manual
//! acknowledgements, with the user name of [`MqttConfig::username`] and the password from
//! the environment variable [`MqttConfig::password_env`] when they are set, and subscribes
//! to its topic filters with [`MqttConfig::qos`], QoS 1 by default. Under QoS 1 and 2 the
//! broker keeps every message that is not acknowledged and sends it again after a
//! reconnection, so a crash of the process or of the connection before the sink committed
//! loses nothing. A message is acknowledged (PUBACK under QoS 1, PUBREC under QoS 2) in
//! [`Collector::committed`](governance_core::Collector::committed), after the sink committed
//! the batch with its [`MqttPosition`]. Under QoS 0 nothing is acknowledged and a message in
//! flight during a crash is lost.
//!
//! A chain whose sinks do not checkpoint (the Parquet and CSV sinks) reports one commit per
//! round, after every sink finished its output, so the round's messages are acknowledged
//! together then. A crash before that makes the broker send them all again.
//!
//! Redelivery repeats messages that were already committed (the crash came after the commit
//! but before the acknowledgements reached the broker). Each message gets a key
//! ([`MessageKey`]), the position holds the keys of the last
//! [`MqttConfig::dedupe_window`] messages that became rows, and a message whose key is there
//! is dropped and counted as merged. That is what makes delivery exactly once, within that
//! window (see [`governance_core::checkpoint`]). Two different messages with the same key
//! are treated as one: choose key fields that identify a reading, such as the entity id and
//! `observedAt`.
//!
//! # Batches
//!
//! A batch closes at [`MqttConfig::max_messages`] messages, at [`MqttConfig::max_bytes`] of
//! payload, or [`MqttConfig::max_wait_ms`] after its first message. A message that is not
//! JSON, an NGSI-LD entity with an attribute of unknown type, a SensorThings observation
//! without `result` or a JSON object outside the schema is quarantined with its topic and the
//! reason. A batch in which no message became a row is not emitted: its messages are
//! acknowledged with the next emitted batch.
//!
//! The stream ends when no message came for [`MqttConfig::idle_end_ms`], or after
//! [`MqttConfig::end_after_messages`] messages; without either it never ends.
//!
//! # Reconnection
//!
//! When the broker goes away the collector keeps the open batch, waits
//! [`MqttConfig::reconnect_min_ms`], doubling up to [`MqttConfig::reconnect_max_ms`], and
//! reconnects. Every failed attempt is logged. A broker that rejects the credentials
//! (CONNACK "bad user name or password" or "not authorized") ends the stream with an error,
//! because retrying cannot fix them.

mod config;
pub(crate) mod decode;
mod window;

use std::collections::{HashSet, VecDeque};
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use governance_core::audit::AuditAction;
use governance_core::{
    Collector, Error, GovernedBatch, Provenance, QuarantinedRow, Result, RowIdAllocator,
    SourcePosition, Stage, StageContext,
};
use rumqttc::{
    Client, ConnectReturnCode, Connection, ConnectionError, Event, Incoming, MqttOptions, Outgoing,
    Publish, QoS,
};
use serde_json::Value;
use xxhash_rust::xxh3::Xxh3;

pub use self::config::{MessageKey, MqttConfig, MqttPayload, MqttQos};
use self::window::KeyWindow;
pub use self::window::{MQTT_POSITION_KIND, MqttPosition};
use crate::drift::{SchemaDriftGuard, attach_state, detach_state};
use crate::json_rows::JsonRows;

/// Maximum wait for the client to send the acknowledgements of a commit. Unsent ones go
/// out after the next reconnection.
const ACK_FLUSH_TIMEOUT: Duration = Duration::from_secs(5);

/// Maximum wait for the broker to close the connection after the DISCONNECT on drop.
const DISCONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// A message taken from the broker and not yet acknowledged.
struct Received {
    publish: Publish,
    key: Option<u64>,
    parsed: std::result::Result<Value, String>,
}

/// Reads messages from MQTT topics (see the [module docs](self)).
pub struct MqttCollector {
    config: MqttConfig,
    /// The password read from [`MqttConfig::password_env`]; never logged or serialised.
    password: Option<String>,
    /// Messages taken from the broker since this collector was created, for
    /// [`MqttConfig::end_after_messages`].
    messages_taken: u64,
    session: Option<(Client, Connection)>,
    json: JsonRows,
    window: KeyWindow,
    position: MqttPosition,
    /// Messages of emitted batches, waiting for the commit, by batch number.
    unacked: VecDeque<(u64, Vec<Publish>)>,
    /// Messages of closed batches that produced no row, acknowledged with the next batch.
    carried: Vec<Publish>,
    /// Messages received while acknowledgements were being sent.
    backlog: VecDeque<Publish>,
    backoff: Duration,
    connected: bool,
    reconnects: u64,
    /// When the subscription was last confirmed. The idle end counts from here at the
    /// earliest, so a stream does not end before it could receive anything.
    subscribed_at: Option<Instant>,
    drift: Option<SchemaDriftGuard>,
}

impl std::fmt::Debug for MqttCollector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MqttCollector")
            .field("config", &self.config)
            .field("position", &self.position.batch)
            .field("connected", &self.connected)
            .finish_non_exhaustive()
    }
}

impl MqttCollector {
    /// Creates a collector; it connects at the first batch.
    pub fn new(config: MqttConfig) -> Result<Self> {
        config.validate()?;
        let json = JsonRows::new(config.columns.clone())
            .map_err(|error| Error::config(&config.name, error.to_string()))?;
        let config_drift = config.schema_drift.clone().map(SchemaDriftGuard::new);
        let password = read_password(&config)?;
        Ok(MqttCollector {
            password,
            messages_taken: 0,
            window: KeyWindow::new(config.dedupe_window),
            backoff: Duration::from_millis(config.reconnect_min_ms),
            config,
            session: None,
            json,
            position: MqttPosition::default(),
            unacked: VecDeque::new(),
            carried: Vec::new(),
            backlog: VecDeque::new(),
            connected: false,
            reconnects: 0,
            subscribed_at: None,
            drift: config_drift,
        })
    }

    /// Returns the config.
    pub fn config(&self) -> &MqttConfig {
        &self.config
    }

    /// Returns the schema drift guard, when the config sets `schema_drift`.
    pub fn schema_drift(&self) -> Option<&SchemaDriftGuard> {
        self.drift.as_ref()
    }

    /// Returns the position after the last emitted batch.
    pub fn position(&self) -> &MqttPosition {
        &self.position
    }

    /// Returns how many times the connection to the broker failed.
    pub fn connection_failures(&self) -> u64 {
        self.reconnects
    }

    fn source(&self) -> String {
        format!(
            "mqtt://{}:{}/{}",
            self.config.host,
            self.config.port,
            self.config.topics.join(",")
        )
    }

    fn session(&mut self) -> &mut (Client, Connection) {
        self.session.get_or_insert_with(|| {
            let mut options =
                MqttOptions::new(&self.config.client_id, &self.config.host, self.config.port);
            if let Some(username) = &self.config.username {
                options.set_credentials(username, self.password.clone().unwrap_or_default());
            }
            options
                .set_clean_session(false)
                .set_manual_acks(true)
                .set_keep_alive(Duration::from_secs(self.config.keep_alive_s))
                .set_max_packet_size(self.config.max_packet_bytes, self.config.max_packet_bytes);
            // Room for a whole batch of acknowledgements plus the subscription.
            Client::new(options, self.config.max_messages * 2 + 16)
        })
    }

    /// Polls the connection once for up to `wait` and returns a received message, if any.
    fn poll(&mut self, wait: Duration) -> Result<Option<Publish>> {
        let name = self.config.name.clone();
        let topics = self.config.topics.clone();
        let qos = self.config.qos.to_rumqttc();
        let credentials = self.describe_credentials();
        let (client, connection) = self.session();
        let event = match connection.recv_timeout(wait) {
            Err(rumqttc::RecvTimeoutError::Timeout) => return Ok(None),
            Err(rumqttc::RecvTimeoutError::Disconnected) => {
                return Err(Error::Internal(format!(
                    "the MQTT request channel of collector {name} closed while the collector held it"
                )));
            }
            Ok(event) => event,
        };
        match event {
            Ok(Event::Incoming(Incoming::Publish(publish))) => return Ok(Some(publish)),
            Ok(Event::Incoming(Incoming::ConnAck(ack))) => {
                tracing::info!(stage = %name, session_present = ack.session_present, "connected to the MQTT broker");
                if ack.session_present {
                    self.subscribed_at = Some(Instant::now());
                } else {
                    let filters = topics
                        .iter()
                        .map(|topic| rumqttc::SubscribeFilter::new(topic.clone(), qos));
                    client.try_subscribe_many(filters).map_err(|error| {
                        Error::stage(
                            &name,
                            format!("failed to request the subscription: {error}"),
                        )
                    })?;
                }
                self.connected = true;
                self.backoff = Duration::from_millis(self.config.reconnect_min_ms);
            }
            Ok(Event::Incoming(Incoming::SubAck(ack))) => {
                self.subscribed_at = Some(Instant::now());
                let refused = ack
                    .return_codes
                    .iter()
                    .any(|code| matches!(code, rumqttc::SubscribeReasonCode::Failure));
                if refused {
                    return Err(Error::stage(
                        &name,
                        format!(
                            "the broker refused the subscription to {topics:?}; check the topic \
                             filters and the broker's access control"
                        ),
                    ));
                }
            }
            Ok(_) => {}
            Err(ConnectionError::ConnectionRefused(
                code @ (ConnectReturnCode::BadUserNamePassword | ConnectReturnCode::NotAuthorized),
            )) => {
                tracing::error!(stage = %name, ?code, "the MQTT broker rejected the connection");
                return Err(Error::stage(
                    &name,
                    format!(
                        "the MQTT broker rejected the connection ({code:?}) with {credentials}; \
                         check username and the password in the environment variable named by \
                         password_env, and the broker's access control"
                    ),
                ));
            }
            Err(error) => {
                self.connected = false;
                self.reconnects += 1;
                tracing::warn!(stage = %name, %error, retry_in_ms = self.backoff.as_millis() as u64, "MQTT connection failed; reconnecting");
                std::thread::sleep(self.backoff.min(wait));
                let max = Duration::from_millis(self.config.reconnect_max_ms);
                self.backoff = (self.backoff * 2).min(max);
            }
        }
        Ok(None)
    }

    /// Describes the credentials for an error message, without the password.
    fn describe_credentials(&self) -> String {
        match (&self.config.username, &self.config.password_env) {
            (None, _) => "no credentials (anonymous)".into(),
            (Some(user), None) => format!("user {user:?} and no password"),
            (Some(user), Some(variable)) => {
                format!("user {user:?} and the password from {variable}")
            }
        }
    }

    fn message_key(
        &self,
        publish: &Publish,
        parsed: &std::result::Result<Value, String>,
    ) -> Option<u64> {
        let mut hasher = Xxh3::new();
        hasher.update(publish.topic.as_bytes());
        hasher.update(&[0]);
        match &self.config.key {
            MessageKey::ContentHash => hasher.update(&publish.payload),
            MessageKey::Fields(pointers) => {
                let value = parsed.as_ref().ok()?;
                for pointer in pointers {
                    let field = value.pointer(pointer)?;
                    hasher.update(field.to_string().as_bytes());
                    hasher.update(&[0]);
                }
            }
        }
        Some(hasher.digest())
    }

    /// Quarantines message `received` with `reason`.
    fn quarantine(&self, ctx: &mut StageContext, received: &Received, reason: String) {
        ctx.quarantine(QuarantinedRow {
            stage: self.config.name.clone(),
            row_id: None,
            source: Some(format!(
                "{} topic {}",
                self.source(),
                received.publish.topic
            )),
            line: None,
            reason,
            raw: String::from_utf8_lossy(&received.publish.payload).into_owned(),
        });
    }

    /// Turns the messages of a closed batch into rows; `None` when none became a row.
    fn close_batch(
        &mut self,
        messages: Vec<Received>,
        duplicates: Vec<Publish>,
        ctx: &mut StageContext,
    ) -> Result<Option<GovernedBatch>> {
        let total = (messages.len() + duplicates.len()) as u64;
        ctx.record_read(total);
        ctx.record_merged(duplicates.len() as u64);
        self.position.messages += total;

        let parsed: Vec<std::result::Result<Value, String>> = messages
            .iter()
            .map(|received| received.parsed.clone())
            .collect();
        let decoded = decode::decode(self.config.payload, &mut self.json, &parsed)?;
        let mut rejected = vec![false; messages.len()];
        for (index, reason) in decoded.rejected {
            if let Some(received) = messages.get(index) {
                if !rejected[index] {
                    self.quarantine(ctx, received, reason);
                }
                rejected[index] = true;
            }
        }
        let accepted = rejected.iter().filter(|rejected| !**rejected).count();
        let mut publishes: Vec<Publish> = std::mem::take(&mut self.carried);
        publishes.extend(duplicates);
        let data: Option<RecordBatch> = decoded.batch.filter(|batch| batch.num_rows() > 0);
        let Some(data) = data else {
            publishes.extend(messages.into_iter().map(|received| received.publish));
            self.carried = publishes;
            return Ok(None);
        };
        if data.num_rows() != accepted {
            return Err(Error::Internal(format!(
                "{accepted} MQTT messages were accepted but the format parser returned {} rows; \
                 each message must hold one item",
                data.num_rows()
            )));
        }
        for (received, rejected) in messages.iter().zip(&rejected) {
            if let (false, Some(key)) = (rejected, received.key) {
                self.window.insert(key);
            }
        }
        publishes.extend(messages.into_iter().map(|received| received.publish));

        self.position.batch += 1;
        let ids = RowIdAllocator::starting_at(self.position.next_row_id).allocate(data.num_rows());
        self.position.next_row_id += data.num_rows() as u64;
        self.position.keys = self.window.keys();
        let mut provenance = Provenance::new(self.source());
        provenance.position = Some(self.position.to_source_position()?);
        self.unacked.push_back((self.position.batch, publishes));
        ctx.audit(
            AuditAction::Read,
            &self.source(),
            &format!(
                "batch={} rows={} messages={total}",
                self.position.batch,
                data.num_rows()
            ),
        )?;
        Ok(Some(GovernedBatch::try_new(data, ids, provenance)?))
    }

    /// Sends the acknowledgements of `publishes` and waits until the client wrote them.
    fn acknowledge(&mut self, publishes: Vec<Publish>) -> Result<()> {
        let name = self.config.name.clone();
        let mut expected = 0;
        let mut unqueued = 0;
        {
            let (client, _) = self.session();
            // A QoS 0 message has no acknowledgement, so `try_ack` sends nothing for it.
            for publish in publishes.iter().filter(|p| p.qos != QoS::AtMostOnce) {
                match client.try_ack(publish) {
                    Ok(()) => expected += 1,
                    Err(_) => unqueued += 1,
                }
            }
        }
        if unqueued > 0 {
            // The request queue is full while the broker is unreachable. The broker keeps
            // these messages and sends them again after the next reconnection, where the
            // key window drops them and the next commit acknowledges them.
            tracing::warn!(stage = %name, unqueued, "acknowledgements not queued; the broker will redeliver those messages");
        }
        if !self.connected {
            // The client sends queued acknowledgements after it reconnects.
            return Ok(());
        }
        let deadline = Instant::now() + ACK_FLUSH_TIMEOUT;
        let mut sent = 0;
        while sent < expected {
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(stage = %name, sent, expected, "acknowledgements not all sent in time; the broker will redeliver the rest");
                break;
            }
            let (_, connection) = self.session();
            match connection.recv_timeout(deadline - now) {
                Ok(Ok(Event::Outgoing(Outgoing::PubAck(_) | Outgoing::PubRec(_)))) => sent += 1,
                Ok(Ok(Event::Incoming(Incoming::Publish(publish)))) => {
                    self.backlog.push_back(publish)
                }
                Ok(Ok(Event::Incoming(Incoming::ConnAck(_)))) | Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    tracing::warn!(stage = %name, %error, "MQTT connection failed while acknowledging; the broker will redeliver");
                    self.connected = false;
                    self.reconnects += 1;
                    break;
                }
                Err(rumqttc::RecvTimeoutError::Timeout) => {}
                Err(rumqttc::RecvTimeoutError::Disconnected) => {
                    return Err(Error::Internal(format!(
                        "the MQTT request channel of collector {name} closed while acknowledging"
                    )));
                }
            }
        }
        Ok(())
    }
}

impl Drop for MqttCollector {
    /// Sends DISCONNECT and reads until the broker closes the connection. Closing the socket
    /// while the broker's messages are still unread makes the kernel reset the connection,
    /// and the broker then drops the acknowledgements it had not read yet, so it would send
    /// committed messages again.
    fn drop(&mut self) {
        let Some((client, mut connection)) = self.session.take() else {
            return;
        };
        if !self.connected || client.try_disconnect().is_err() {
            return;
        }
        let deadline = Instant::now() + DISCONNECT_TIMEOUT;
        loop {
            let now = Instant::now();
            if now >= deadline {
                tracing::warn!(stage = %self.config.name, "the MQTT broker did not close the connection after DISCONNECT in time");
                return;
            }
            match connection.recv_timeout(deadline - now) {
                Ok(Ok(_)) => {}
                // The broker closed the connection, which is the expected end.
                Ok(Err(_)) | Err(_) => return,
            }
        }
    }
}

impl Stage for MqttCollector {
    fn name(&self) -> &str {
        &self.config.name
    }

    fn params(&self) -> serde_json::Value {
        serde_json::to_value(&self.config).unwrap_or(serde_json::Value::Null)
    }

    fn describe(&self) -> String {
        format!(
            "reads QoS {} MQTT messages from {}",
            u8::from(self.config.qos),
            self.source()
        )
    }
}

impl Collector for MqttCollector {
    fn resume(&mut self, position: Option<&SourcePosition>) -> Result<()> {
        let (position, drift_state) = match position {
            Some(position) => {
                let (plain, state) = detach_state(&self.config.name, position)?;
                let plain = MqttPosition::from_source_position(&self.config.name, &plain)?;
                if state.is_none() && self.drift.is_some() {
                    tracing::info!(stage = %self.config.name, "the checkpoint contains no schema drift state, so the next batch becomes the reference");
                }
                (plain, state)
            }
            None => (MqttPosition::default(), None),
        };
        if let Some(drift) = self.drift.as_mut() {
            drift.restore(&self.config.name, drift_state.as_ref())?;
        }
        self.window = KeyWindow::new(self.config.dedupe_window);
        for key in &position.keys {
            self.window.insert(*key);
        }
        tracing::info!(stage = %self.config.name, batch = position.batch, messages = position.messages, "resuming MQTT collection");
        self.position = position;
        Ok(())
    }

    fn committed(&mut self, position: &SourcePosition) -> Result<()> {
        let (position, _) = detach_state(&self.config.name, position)?;
        let committed = MqttPosition::from_source_position(&self.config.name, &position)?;
        let mut publishes = Vec::new();
        while let Some((batch, _)) = self.unacked.front() {
            if *batch > committed.batch {
                break;
            }
            if let Some((_, batch_publishes)) = self.unacked.pop_front() {
                publishes.extend(batch_publishes);
            }
        }
        self.acknowledge(publishes)
    }

    fn next_batch(&mut self, ctx: &mut StageContext) -> Result<Option<GovernedBatch>> {
        let max_wait = Duration::from_millis(self.config.max_wait_ms);
        let idle_end = self.config.idle_end_ms.map(Duration::from_millis);
        let mut messages: Vec<Received> = Vec::new();
        let mut duplicates: Vec<Publish> = Vec::new();
        let mut batch_keys: HashSet<u64> = HashSet::new();
        let mut bytes = 0usize;
        let mut opened: Option<Instant> = None;
        let mut last_message = Instant::now();
        loop {
            let now = Instant::now();
            let count = messages.len() + duplicates.len();
            let full = messages.len() >= self.config.max_messages || bytes >= self.config.max_bytes;
            let expired = opened.is_some_and(|opened| now >= opened + max_wait);
            let ended = self
                .config
                .end_after_messages
                .is_some_and(|end| self.messages_taken >= end);
            if count > 0 && (full || expired || ended) {
                let batch = self.close_batch(
                    std::mem::take(&mut messages),
                    std::mem::take(&mut duplicates),
                    ctx,
                )?;
                // A batch quarantined for drift is not emitted; its messages are acknowledged
                // when the next emitted batch is committed.
                let batch = match (batch, self.drift.as_mut()) {
                    (Some(batch), Some(drift)) => drift.check(&self.config.name, batch, ctx)?,
                    (batch, _) => batch,
                };
                if let Some(mut batch) = batch {
                    // The drift state after this batch's check goes with its position, so a
                    // restart compares the next batch with the same reference and union.
                    if let Some(position) = batch.provenance.position.as_mut() {
                        attach_state(position, self.drift.as_ref())?;
                    }
                    return Ok(Some(batch));
                }
                batch_keys.clear();
                bytes = 0;
                opened = None;
                continue;
            }
            if count == 0 && ended {
                tracing::info!(stage = %self.config.name, messages = self.messages_taken, "end_after_messages reached; ending the stream");
                return Ok(None);
            }
            let idle_from = self
                .subscribed_at
                .map(|subscribed| subscribed.max(last_message));
            if count == 0
                && idle_end.is_some_and(|idle| idle_from.is_some_and(|from| now >= from + idle))
            {
                tracing::info!(stage = %self.config.name, "no MQTT message within idle_end_ms; ending the stream");
                return Ok(None);
            }

            let publish = match self.backlog.pop_front() {
                Some(publish) => Some(publish),
                None => {
                    let wait = match (opened, idle_end) {
                        (Some(opened), _) => (opened + max_wait).saturating_duration_since(now),
                        (None, Some(idle)) => idle_from.map_or(max_wait, |from| {
                            (from + idle).saturating_duration_since(now)
                        }),
                        (None, None) => max_wait,
                    };
                    self.poll(wait.max(Duration::from_millis(1)))?
                }
            };
            let Some(publish) = publish else {
                continue;
            };
            self.messages_taken += 1;
            last_message = Instant::now();
            opened.get_or_insert(last_message);
            bytes += publish.payload.len();
            let parsed = serde_json::from_slice::<Value>(&publish.payload)
                .map_err(|error| error.to_string());
            let key = self.message_key(&publish, &parsed);
            if let Some(key) = key
                && (self.window.contains(key) || !batch_keys.insert(key))
            {
                tracing::debug!(stage = %self.config.name, topic = %publish.topic, "dropping a redelivered MQTT message");
                duplicates.push(publish);
                continue;
            }
            let received = Received {
                publish,
                key,
                parsed,
            };
            if received.key.is_none() && received.parsed.is_ok() {
                let reason = format!(
                    "the payload lacks a message key field of {:?}",
                    self.config.key
                );
                // Counted as read and quarantined now, acknowledged with the next batch.
                ctx.record_read(1);
                self.position.messages += 1;
                self.quarantine(ctx, &received, reason);
                self.carried.push(received.publish);
                continue;
            }
            messages.push(received);
        }
    }
}

/// Reads the password from the environment variable that `config.password_env` names.
fn read_password(config: &MqttConfig) -> Result<Option<String>> {
    let Some(variable) = &config.password_env else {
        return Ok(None);
    };
    match std::env::var(variable) {
        Ok(password) => Ok(Some(password)),
        Err(std::env::VarError::NotPresent) => Err(Error::config(
            &config.name,
            format!(
                "environment variable {variable} named by password_env is not set: set it to \
                 the broker password of user {:?}",
                config.username.as_deref().unwrap_or_default()
            ),
        )),
        Err(std::env::VarError::NotUnicode(_)) => Err(Error::config(
            &config.name,
            format!(
                "environment variable {variable} named by password_env is not valid UTF-8: \
                 MQTT passwords are UTF-8 strings"
            ),
        )),
    }
}
