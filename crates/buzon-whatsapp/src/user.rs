//! Who a WhatsApp user is: a phone number (`wa_id`) or, since the 2026 usernames rollout, a
//! business-scoped user id (BSUID) when WhatsApp withholds the number.

/// The key a WhatsApp chat is kept under.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum UserKey {
    /// A `wa_id`: the user's phone number, digits only.
    Phone(String),
    /// A business-scoped user id such as `US.13491208655302741918`.
    Bsuid(String),
}

const THREAD_PREFIX: &str = "whatsapp:";
const BSUID_PREFIX: &str = "bsuid:";

impl UserKey {
    /// `whatsapp:<wa_id>` or `whatsapp:bsuid:<user id>`.
    pub(crate) fn thread_key(&self) -> String {
        match self {
            UserKey::Phone(wa_id) => format!("{THREAD_PREFIX}{wa_id}"),
            UserKey::Bsuid(user_id) => format!("{THREAD_PREFIX}{BSUID_PREFIX}{user_id}"),
        }
    }

    /// Reads a thread key made by [`UserKey::thread_key`].
    pub(crate) fn from_thread_key(thread_key: &str) -> Option<UserKey> {
        let rest = thread_key.strip_prefix(THREAD_PREFIX)?;
        let key = match rest.strip_prefix(BSUID_PREFIX) {
            Some(user_id) => UserKey::Bsuid(user_id.to_owned()),
            None => UserKey::Phone(rest.to_owned()),
        };
        (!key.id().is_empty()).then_some(key)
    }

    /// The wa_id or the BSUID.
    pub(crate) fn id(&self) -> &str {
        match self {
            UserKey::Phone(wa_id) => wa_id,
            UserKey::Bsuid(user_id) => user_id,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thread_keys_round_trip_for_phones_and_bsuids() {
        for key in [
            UserKey::Phone("16505551234".into()),
            UserKey::Bsuid("US.13491208655302741918".into()),
        ] {
            assert_eq!(UserKey::from_thread_key(&key.thread_key()), Some(key));
        }
        assert_eq!(
            UserKey::Bsuid("US.1".into()).thread_key(),
            "whatsapp:bsuid:US.1"
        );
    }

    #[test]
    fn other_platforms_thread_keys_are_not_whatsapp_users() {
        assert_eq!(UserKey::from_thread_key("messenger:123"), None);
        assert_eq!(UserKey::from_thread_key("whatsapp:"), None);
        assert_eq!(UserKey::from_thread_key("whatsapp:bsuid:"), None);
    }
}
