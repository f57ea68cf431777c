//! [`MqttConfig`]: the broker, credentials, topics, quality of service, payload format,
//! message key, batch limits and end of stream of an [`MqttCollector`](super::MqttCollector).

use governance_core::{Error, Result};
use serde::{Deserialize, Serialize};

use crate::csv::ColumnSpec;
use crate::drift::DriftConfig;

/// The format of the message payloads. Each message contains one item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MqttPayload {
    /// A plain JSON object per message, one row each, under [`MqttConfig::columns`] or a
    /// schema inferred from the first object.
    #[default]
    Json,
    /// One NGSI-LD entity per message, normalised form.
    ///
    /// NOTE: the NGSI-LD and SensorThings parsers infer the schema per batch, so two batches
    /// can differ (an attribute absent from one batch, integers in one and decimals in
    /// another), and the sinks reject a batch whose schema changed; set
    /// [`MqttConfig::schema_drift`] to quarantine, flag or adapt such batches.
    NgsiLd,
    /// One SensorThings Observation per message.
    SensorThings,
}

/// The MQTT quality of service of the subscription, written as the number 0, 1 or 2.
///
/// The broker delivers a message with the lower of the publisher's and the subscriber's
/// level, so the publisher's level caps what this setting gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub enum MqttQos {
    /// QoS 0: the broker sends each message once and keeps no copy, so a message in
    /// flight when the connection or the process fails is lost.
    AtMostOnce,
    /// QoS 1: the broker keeps a message until the collector acknowledges it (PUBACK) after
    /// the commit, and sends it again after a reconnection.
    #[default]
    AtLeastOnce,
    /// QoS 2: like QoS 1, with the PUBREC sent after the commit; the broker then stops
    /// redelivering the message.
    ExactlyOnce,
}

impl MqttQos {
    pub(crate) fn to_rumqttc(self) -> rumqttc::QoS {
        match self {
            MqttQos::AtMostOnce => rumqttc::QoS::AtMostOnce,
            MqttQos::AtLeastOnce => rumqttc::QoS::AtLeastOnce,
            MqttQos::ExactlyOnce => rumqttc::QoS::ExactlyOnce,
        }
    }
}

impl TryFrom<u8> for MqttQos {
    type Error = String;

    fn try_from(level: u8) -> std::result::Result<Self, Self::Error> {
        match level {
            0 => Ok(MqttQos::AtMostOnce),
            1 => Ok(MqttQos::AtLeastOnce),
            2 => Ok(MqttQos::ExactlyOnce),
            other => Err(format!(
                "qos {other} is invalid: expected 0 (at most once), 1 (at least once) or 2 \
                 (exactly once)"
            )),
        }
    }
}

impl From<MqttQos> for u8 {
    fn from(qos: MqttQos) -> u8 {
        match qos {
            MqttQos::AtMostOnce => 0,
            MqttQos::AtLeastOnce => 1,
            MqttQos::ExactlyOnce => 2,
        }
    }
}

/// The source of a message's deduplication key.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKey {
    /// A hash of the topic and the payload bytes: a redelivered message has the same key.
    #[default]
    ContentHash,
    /// The values at these JSON Pointers (RFC 6901) of the payload, such as `["/id",
    /// "/observedAt"]`. A message without one of them is quarantined.
    Fields(Vec<String>),
}

/// Configuration of an [`MqttCollector`](super::MqttCollector).
///
/// The broker must keep the session of `client_id` (MQTT persistent session) and must let
/// at least `max_messages` QoS 1 or 2 messages be in flight to the client, because the
/// collector acknowledges a message only after the batch that contains it is committed. Mosquitto's
/// `max_inflight_messages` defaults to 20 (mosquitto.conf(5), version 2.0.11), and with it a batch closes on `max_wait_ms` after
/// 20 messages; set it to 0 (no limit) or to `max_messages` or more.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MqttConfig {
    /// Stage name, unique within a chain.
    pub name: String,
    /// Broker host name or address.
    pub host: String,
    /// Broker TCP port.
    pub port: u16,
    /// MQTT client id; the broker keeps the session and the unacknowledged messages under it.
    pub client_id: String,
    /// User name sent in the MQTT CONNECT packet; no credentials are sent when absent.
    pub username: Option<String>,
    /// Name of the environment variable that contains the password of `username`. The
    /// collector reads it once, when it is created. It never logs the password or puts it
    /// in its parameters, and the config contains only the variable's name.
    pub password_env: Option<String>,
    /// Topic filters to subscribe to; `+` and `#` wildcards are allowed.
    pub topics: Vec<String>,
    /// Quality of service of the subscription: 0, 1 (the default) or 2.
    pub qos: MqttQos,
    /// Payload format.
    pub payload: MqttPayload,
    /// Declared columns for [`MqttPayload::Json`]; inferred from the first message when
    /// absent.
    pub columns: Option<Vec<ColumnSpec>>,
    /// Deduplication key of a message.
    pub key: MessageKey,
    /// A batch closes when it contains this many messages.
    pub max_messages: usize,
    /// A batch closes when its payloads reach this many bytes.
    pub max_bytes: usize,
    /// A batch closes this many milliseconds after its first message.
    pub max_wait_ms: u64,
    /// The stream ends when no message arrived for this many milliseconds; it never ends when
    /// absent.
    pub idle_end_ms: Option<u64>,
    /// The stream ends once this collector took this many messages from the broker since
    /// it was created, duplicates and quarantined ones included. The batch that contains
    /// the last one is emitted first. When absent, no message count ends the stream.
    pub end_after_messages: Option<u64>,
    /// Keys of this many most recently emitted messages are kept in the position to drop
    /// redelivered duplicates; must be at least `max_messages`.
    pub dedupe_window: usize,
    /// Largest accepted packet in bytes. The client drops the connection on a larger one,
    /// and the broker then redelivers it forever, so keep this above any expected message.
    pub max_packet_bytes: usize,
    /// MQTT keep-alive interval in seconds, at least 5.
    pub keep_alive_s: u64,
    /// First wait before reconnecting after the broker went away, in milliseconds; it
    /// doubles on each failed attempt up to `reconnect_max_ms`.
    pub reconnect_min_ms: u64,
    /// Maximum wait between reconnection attempts, in milliseconds.
    pub reconnect_max_ms: u64,
    /// Compares each batch's schema with the first batch's and applies the policy (see
    /// [`crate::drift`]). When absent, batches pass whatever their schema. NGSI-LD and
    /// SensorThings batches infer their schema per batch, so they need it most.
    pub schema_drift: Option<DriftConfig>,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            name: "mqtt".into(),
            host: "127.0.0.1".into(),
            port: 1883,
            client_id: "governance-collector".into(),
            username: None,
            password_env: None,
            topics: Vec::new(),
            qos: MqttQos::AtLeastOnce,
            payload: MqttPayload::Json,
            columns: None,
            key: MessageKey::ContentHash,
            max_messages: 1000,
            max_bytes: 4 << 20,
            max_wait_ms: 1000,
            idle_end_ms: None,
            end_after_messages: None,
            dedupe_window: 10_000,
            max_packet_bytes: 1 << 20,
            keep_alive_s: 30,
            reconnect_min_ms: 100,
            reconnect_max_ms: 5000,
            schema_drift: None,
        }
    }
}

impl MqttConfig {
    /// Checks the settings; errors name the setting and the fix.
    pub fn validate(&self) -> Result<()> {
        let fail = |message: String| Err(Error::config(&self.name, message));
        if self.client_id.is_empty() {
            return fail("client_id is empty: the broker keeps the session under it".into());
        }
        if self.topics.is_empty() {
            return fail(
                "topics is empty: name at least one topic filter, such as \"city/#\"".into(),
            );
        }
        for topic in &self.topics {
            if !rumqttc::valid_filter(topic) {
                return fail(format!(
                    "topic filter {topic:?} is invalid: `+` must fill a whole level and `#` must \
                     be the last level"
                ));
            }
        }
        if self.max_messages == 0 || self.max_bytes == 0 || self.max_wait_ms == 0 {
            return fail(format!(
                "max_messages ({}), max_bytes ({}) and max_wait_ms ({}) must all be above 0",
                self.max_messages, self.max_bytes, self.max_wait_ms
            ));
        }
        if self.dedupe_window < self.max_messages {
            return fail(format!(
                "dedupe_window ({}) is below max_messages ({}): a redelivered batch would not be \
                 recognised; raise dedupe_window",
                self.dedupe_window, self.max_messages
            ));
        }
        if self.keep_alive_s < 5 {
            return fail(format!(
                "keep_alive_s is {}, expected 5 or more",
                self.keep_alive_s
            ));
        }
        if self.reconnect_min_ms == 0 || self.reconnect_max_ms < self.reconnect_min_ms {
            return fail(format!(
                "reconnect_min_ms ({}) must be above 0 and at most reconnect_max_ms ({})",
                self.reconnect_min_ms, self.reconnect_max_ms
            ));
        }
        if let MessageKey::Fields(pointers) = &self.key {
            if pointers.is_empty() {
                return fail(
                    "key.fields is empty: name at least one JSON Pointer, such as \"/id\"".into(),
                );
            }
            if let Some(bad) = pointers.iter().find(|pointer| !pointer.starts_with('/')) {
                return fail(format!(
                    "key field {bad:?} is not a JSON Pointer: write it with a leading slash, such as \"/{bad}\""
                ));
            }
        }
        if self.password_env.is_some() && self.username.is_none() {
            return fail(
                "password_env is set but username is not: MQTT sends a password only with a \
                 user name; set username"
                    .into(),
            );
        }
        if self.end_after_messages == Some(0) {
            return fail(
                "end_after_messages is 0: set it to at least 1, or remove it to read until \
                 idle_end_ms"
                    .into(),
            );
        }
        if self.columns.is_some() && self.payload != MqttPayload::Json {
            return fail("columns applies only to the json payload; remove it".into());
        }
        Ok(())
    }
}
