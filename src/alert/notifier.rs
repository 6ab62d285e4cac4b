//! Notifiers: one interface for every way of telling a contact (email, webhook, …) and the
//! functions that go through the list of kinds (`KINDS` in `alert/mod.rs`). A kind owns its
//! config keys (typed and checked beside its sending code, in its own file), how deliveries
//! name its contacts, the form its messages take and its lines of the help; rules,
//! de-duplication, the delivery queue and its retries are the same for every kind.

use futures::future::BoxFuture;
use serde::de::DeserializeOwned;

use super::message::Payload;
use super::{AlertError, KINDS};
use crate::config::{
    refuse_contact, AlertsConfig, Config, ConfigDoc, ConfigError, ContactConfig, NotifierKinds,
    Refusal,
};

/// Why one delivery failed; stored as the delivery's last error and printed, in these words.
#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    /// A due delivery's contact was removed from the config (it fails at once, no retry).
    #[error("the contact is no longer in the config")]
    Gone,
    #[error("unreadable alert: {0}")]
    Unreadable(#[from] serde_json::Error),
    /// The contact has no kind's address key (a config made in code, not read from a file).
    #[error("contact without {0}")]
    NoAddress(String),
    /// The kind's own `[alerts.<table>]` is missing.
    #[error("no [alerts.{0}] configured")]
    NotConfigured(&'static str),
    /// The contact's address cannot be used.
    #[error("address '{address}': {reason}")]
    Address { address: String, reason: String },
    /// Sending failed; what failed, in the kind's words (connect, TLS, status, SMTP reply).
    #[error("{0}")]
    Send(String),
}

/// A kind's config keys that do not read as its typed config.
#[derive(Debug, Clone, thiserror::Error)]
pub enum OptionsError {
    /// A contact's keys (the message is the TOML reader's).
    #[error("{0}")]
    Contact(String),
    /// An `[alerts.<key>]` table.
    #[error("alerts.{key}: {message}")]
    Table { key: String, message: String },
}

/// A kind of notifier, as listed in `KINDS`: its config keys and their checks, how deliveries
/// name its contacts, its help lines, and the set-up that delivers.
pub trait NotifierKind: Sync {
    /// The contact key holding this kind's address (`email`, `webhook`): a contact has exactly
    /// one kind's.
    fn name(&self) -> &'static str;
    /// Its other contact keys (`format`).
    fn options(&self) -> &'static [&'static str] {
        &[]
    }
    /// Its tables in `[alerts]` (`smtp`).
    fn tables(&self) -> &'static [&'static str] {
        &[]
    }
    /// Reads its keys, typed, when the config is loaded (`doc.read`), so that a wrong type or
    /// unknown key is refused at its line; every contact is read, whatever its kind.
    fn read(&self, doc: &ConfigDoc) -> Result<(), ConfigError>;
    /// Checks its `[alerts]` settings, whether or not a contact uses it.
    fn check(&self, _alerts: &AlertsConfig) -> Result<(), Refusal> {
        Ok(())
    }
    /// Checks contact `index`, one of its own.
    fn check_contact(
        &self,
        alerts: &AlertsConfig,
        index: usize,
        contact: &ContactConfig,
    ) -> Result<(), Refusal>;
    /// How deliveries, logs and `raqib alerts` name one of its contacts (`email:ADDRESS`):
    /// stored and printed, so never with a secret.
    fn target(&self, contact: &ContactConfig) -> String;
    /// How an older release named the contact, when it did otherwise, so that a delivery
    /// stored before an upgrade still finds it.
    fn legacy_target(&self, _contact: &ContactConfig) -> Option<String> {
        None
    }
    /// Its lines of the `raqib alerts --help` config example: its `[alerts]` tables (or
    /// nothing), then one contact.
    fn help(&self) -> [&'static str; 2];
    /// Sets it up for a run. A setting that only the environment can spoil (a password
    /// variable, a CA file) is an [`AlertError::Setup`].
    fn notifier(&self, config: &Config) -> Result<Box<dyn Notifier>, AlertError>;
}

/// A kind set up to deliver.
pub trait Notifier: Send + Sync {
    /// Sends one alert to one of this kind's contacts.
    fn deliver<'a>(
        &'a self,
        contact: &'a ContactConfig,
        p: &'a Payload,
    ) -> BoxFuture<'a, Result<(), NotifyError>>;
}

/// The kinds of `KINDS` as the config reads them: `Config::load(path, &Kinds)`.
pub struct Kinds;

impl NotifierKinds for Kinds {
    /// In `KINDS` order.
    fn alerts_keys(&self) -> Vec<&'static str> {
        KINDS
            .iter()
            .flat_map(|k| k.tables().iter().copied())
            .collect()
    }
    fn contact_keys(&self) -> Vec<&'static str> {
        KINDS
            .iter()
            .flat_map(|k| std::iter::once(k.name()).chain(k.options().iter().copied()))
            .collect()
    }
    fn read(&self, doc: &ConfigDoc) -> Result<(), ConfigError> {
        KINDS.iter().try_for_each(|k| k.read(doc))
    }
    fn check(&self, alerts: &AlertsConfig) -> Result<(), Refusal> {
        KINDS.iter().try_for_each(|k| k.check(alerts))
    }
    fn check_contact(
        &self,
        alerts: &AlertsConfig,
        index: usize,
        contact: &ContactConfig,
    ) -> Result<(), Refusal> {
        let mut kinds = KINDS
            .iter()
            .filter(|k| contact.notifier.contains_key(k.name()));
        match (kinds.next(), kinds.next()) {
            (Some(kind), None) => kind.check_contact(alerts, index, contact),
            _ => Err(refuse_contact(
                index,
                "",
                &format!("give exactly one of {}", names()),
            )),
        }
    }
}

/// The kind a contact's address key names (the first, should a contact made in code name two).
pub fn kind_of(contact: &ContactConfig) -> Option<(usize, &'static dyn NotifierKind)> {
    KINDS
        .iter()
        .copied()
        .enumerate()
        .find(|(_, k)| contact.notifier.contains_key(k.name()))
}

/// How deliveries name `contact` (see [`NotifierKind::target`]).
pub fn target(contact: &ContactConfig) -> String {
    kind_of(contact).map_or("nowhere".into(), |(_, k)| k.target(contact))
}

/// How an older release named `contact`, when it did otherwise.
pub fn legacy_target(contact: &ContactConfig) -> Option<String> {
    kind_of(contact).and_then(|(_, k)| k.legacy_target(contact))
}

/// The kinds' address keys for a sentence: `email or webhook`.
fn names() -> String {
    let names: Vec<&str> = KINDS.iter().map(|k| k.name()).collect();
    match names.split_last() {
        Some((last, [])) => last.to_string(),
        Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
        None => String::new(),
    }
}

/// A contact's value for `key` as text (its address: `email`, `webhook`).
pub fn address<'c>(contact: &'c ContactConfig, key: &str) -> &'c str {
    contact
        .notifier
        .get(key)
        .and_then(|v| v.as_str())
        .unwrap_or_default()
}

/// A kind's keys of one contact as its typed `T` (already read from the file when the config
/// was loaded, so an error here means a config made in code).
pub fn options<T: DeserializeOwned>(contact: &ContactConfig) -> Result<T, OptionsError> {
    T::deserialize(toml::Value::Table(contact.notifier.clone()))
        .map_err(|e| OptionsError::Contact(e.message().into()))
}

/// A kind's `[alerts.<key>]` table as its typed `T`, if the config has one.
pub fn table<T: DeserializeOwned>(
    alerts: &AlertsConfig,
    key: &str,
) -> Result<Option<T>, OptionsError> {
    alerts
        .notifier
        .get(key)
        .map(|v| {
            T::deserialize(v.clone()).map_err(|e| OptionsError::Table {
                key: key.to_string(),
                message: e.message().into(),
            })
        })
        .transpose()
}

/// Every `[[alerts.contact]]` of the file read as `T` (a kind's view of a contact).
pub fn read_contacts<T: DeserializeOwned>(doc: &ConfigDoc) -> Result<(), ConfigError> {
    for i in 0..doc.contacts() {
        doc.read::<T>(&format!("alerts.contact.{i}"))?;
    }
    Ok(())
}

/// The config example of `raqib alerts --help`: `[alerts]`, each kind's tables, a contact of
/// each kind, and an escalation contact.
pub fn config_example() -> String {
    let mut lines = vec![
        "  [alerts]",
        "  from = \"raqib <raqib@unit.gov.example>\"",
        "  evidence_url = \"https://raqib.unit.gov.example/results/{id}\"",
        "  digest = \"0 8 * * 0\"            # also evaluate Sundays 08:00 in digest_timezone",
        "  digest_timezone = \"Asia/Amman\"",
    ];
    let help: Vec<[&str; 2]> = KINDS.iter().map(|k| k.help()).collect();
    lines.extend(
        help.iter()
            .map(|[tables, _]| *tables)
            .filter(|t| !t.is_empty()),
    );
    lines.extend(help.iter().map(|[_, contact]| *contact));
    lines.extend([
        "  [[alerts.contact]]",
        "  agency = \"*\"",
        "  email = \"minister-office@gov.example\"",
        "  escalation = true                    # only overdue cases",
    ]);
    lines.join("\n")
}

/// Every kind set up once for a run, in `KINDS` order.
pub struct Notifiers(Vec<Box<dyn Notifier>>);

impl Notifiers {
    pub fn new(config: &Config) -> Result<Notifiers, AlertError> {
        KINDS
            .iter()
            .map(|k| k.notifier(config))
            .collect::<Result<_, _>>()
            .map(Notifiers)
    }

    /// Sends one payload to one contact, through its kind.
    pub async fn send(&self, contact: &ContactConfig, p: &Payload) -> Result<(), NotifyError> {
        match kind_of(contact) {
            Some((i, _)) => self.0[i].deliver(contact, p).await,
            None => Err(NotifyError::NoAddress(names())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contact(toml: &str) -> ContactConfig {
        toml::from_str(&format!("agency = \"*\"\n{toml}")).unwrap()
    }

    #[test]
    fn each_kind_claims_its_keys_and_names_its_contacts() {
        assert_eq!(Kinds.contact_keys(), ["email", "webhook", "format"]);
        assert_eq!(Kinds.alerts_keys(), ["smtp"]);
        assert_eq!(names(), "email or webhook");
        assert_eq!(
            target(&contact("email = \"a@b.example\"")),
            "email:a@b.example"
        );
        let hook = contact("webhook = \"https://hooks.example/services/SECRET\"");
        assert!(!target(&hook).contains("SECRET"), "{}", target(&hook));
        assert_eq!(
            legacy_target(&hook).as_deref(),
            Some("webhook:https://hooks.example/services/SECRET")
        );
        assert_eq!(target(&contact("")), "nowhere");
    }
}
