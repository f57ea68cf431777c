//! The NGSI-LD core `@context`, pinned and offline.
//!
//! Expanding terms to IRIs would normally mean fetching the `@context` documents an entity
//! names. This module never fetches anything. It recognises the core context by its URL and
//! embeds the core terms that the converters use, taken from the core context of ETSI GS
//! CIM 009 (Annex B). A term that is neither a core term nor in the caller's own term map expands
//! with the core context's `@vocab`, and only while the entities name no context other than
//! the core one, because another context may define the term differently.

use std::collections::BTreeMap;

use serde_json::Value;

/// URL of the NGSI-LD core context this module is pinned to (version 1.8).
pub const CORE_CONTEXT_URL: &str =
    "https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context-v1.8.jsonld";

/// The `ngsi-ld:` prefix of the core context.
pub const NGSI_LD_NAMESPACE: &str = "https://uri.etsi.org/ngsi-ld/";

/// The core context's `@vocab`, which expands terms that no context defines.
pub const DEFAULT_VOCAB: &str = "https://uri.etsi.org/ngsi-ld/default-context/";

/// Core terms and the names they expand to under the `ngsi-ld:` namespace.
const CORE_TERMS: &[(&str, &str)] = &[
    ("DateTime", "DateTime"),
    ("GeoProperty", "GeoProperty"),
    ("JsonProperty", "JsonProperty"),
    ("LanguageProperty", "LanguageProperty"),
    ("ListProperty", "ListProperty"),
    ("ListRelationship", "ListRelationship"),
    ("Property", "Property"),
    ("Relationship", "Relationship"),
    ("VocabProperty", "VocabProperty"),
    ("createdAt", "createdAt"),
    ("datasetId", "datasetId"),
    ("deletedAt", "deletedAt"),
    ("instanceId", "instanceId"),
    ("json", "hasJSON"),
    ("lang", "lang"),
    ("languageMap", "hasLanguageMap"),
    ("location", "location"),
    ("modifiedAt", "modifiedAt"),
    ("object", "hasObject"),
    ("objectList", "hasObjectList"),
    ("observationSpace", "observationSpace"),
    ("observedAt", "observedAt"),
    ("operationSpace", "operationSpace"),
    ("scope", "scope"),
    ("unitCode", "unitCode"),
    ("value", "hasValue"),
    ("valueList", "hasValueList"),
    ("vocab", "hasVocab"),
];

/// A term map for expanding attribute names to IRIs, offline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermMap {
    terms: BTreeMap<String, String>,
}

impl Default for TermMap {
    fn default() -> Self {
        Self::core()
    }
}

impl TermMap {
    /// Returns the core terms only.
    pub fn core() -> Self {
        let terms = CORE_TERMS
            .iter()
            .map(|(term, name)| ((*term).to_string(), format!("{NGSI_LD_NAMESPACE}{name}")))
            .collect();
        TermMap { terms }
    }

    /// Adds a term of the caller's own context, such as `temperature` for a Smart Data
    /// Models IRI. Caller terms take precedence over core terms.
    pub fn with_term(mut self, term: impl Into<String>, iri: impl Into<String>) -> Self {
        self.terms.insert(term.into(), iri.into());
        self
    }

    /// Expands `term` to an IRI. A term outside the map expands with [`DEFAULT_VOCAB`] when
    /// `context` names no document but the core context. Otherwise it returns `None`,
    /// because the other documents are never fetched and may define the term.
    pub fn expand(&self, term: &str, context: Option<&Value>) -> Option<String> {
        if let Some(iri) = self.terms.get(term) {
            return Some(iri.clone());
        }
        if term.contains("://") || term.starts_with("urn:") {
            return Some(term.to_string());
        }
        core_only(context).then(|| format!("{DEFAULT_VOCAB}{term}"))
    }
}

/// Returns whether `context` names at most the core context: absent, the core URL, or an
/// array of core URLs.
pub fn core_only(context: Option<&Value>) -> bool {
    match context {
        None => true,
        Some(Value::String(url)) => is_core_url(url),
        Some(Value::Array(items)) => items
            .iter()
            .all(|item| item.as_str().is_some_and(is_core_url)),
        Some(_) => false,
    }
}

/// Returns whether `url` is a core context URL of any version.
fn is_core_url(url: &str) -> bool {
    url == CORE_CONTEXT_URL
        || (url.starts_with("https://uri.etsi.org/ngsi-ld/v1/ngsi-ld-core-context")
            && url.ends_with(".jsonld"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn core_terms_expand_under_namespace() {
        let map = TermMap::core();
        assert_eq!(
            map.expand("object", None).as_deref(),
            Some("https://uri.etsi.org/ngsi-ld/hasObject")
        );
    }

    #[test]
    fn unknown_terms_use_vocab_only_under_core() {
        let map = TermMap::core();
        let core = Value::from(CORE_CONTEXT_URL);
        assert_eq!(
            map.expand("noiseLevel", Some(&core)).as_deref(),
            Some("https://uri.etsi.org/ngsi-ld/default-context/noiseLevel")
        );
        let user = serde_json::json!(["https://example.org/city.jsonld", CORE_CONTEXT_URL]);
        assert_eq!(map.expand("noiseLevel", Some(&user)), None);
    }

    #[test]
    fn caller_terms_win() {
        let map = TermMap::core().with_term("noiseLevel", "https://example.org/noise");
        let user = Value::from("https://example.org/city.jsonld");
        assert_eq!(
            map.expand("noiseLevel", Some(&user)).as_deref(),
            Some("https://example.org/noise")
        );
    }
}
