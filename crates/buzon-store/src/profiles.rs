//! People the platforms name only by id (Messenger senders): which contacts to ask the
//! platform about, and what it answered.

use crate::rows;
use crate::{Engine, Store, StoreError};
use buzon_core::*;
use sqlx::query;

/// How long a person's name is kept before buzon asks again (when they write again).
const PROFILE_FRESH_MILLIS: i64 = 24 * 60 * 60 * 1000;

/// A contact to ask its platform about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProfileRequest {
    /// The contact.
    pub contact: ContactId,
    /// Its channel (whose credentials ask).
    pub channel: ChannelId,
    /// The platform's id of the person.
    pub platform_id: ExternalId,
}

impl Store {
    /// Contacts whose name the platform may give: never asked and without a name, or asked
    /// more than a day ago and written since. Paused channels are left alone. Each part reads
    /// a partial index of its own (`contacts_unnamed`, `contacts_written_since_checked`), so a
    /// pass costs what it finds, not the number of contacts.
    pub async fn contacts_to_name(
        &self,
        now: Timestamp,
        limit: u32,
    ) -> Result<Vec<ProfileRequest>, StoreError> {
        let stale = now.as_millis() - PROFILE_FRESH_MILLIS;
        let rows = query(
            "SELECT k.id, k.channel_id, k.platform_id FROM ( \
               SELECT id, channel_id, platform_id FROM contacts \
               WHERE name IS NULL AND profile_checked_at IS NULL \
               UNION ALL \
               SELECT id, channel_id, platform_id FROM contacts \
               WHERE wrote_since_check_at > profile_checked_at AND profile_checked_at < $1 \
             ) k JOIN channels ch ON ch.id = k.channel_id \
             WHERE ch.health <> 'paused' ORDER BY k.id DESC LIMIT $2",
        )
        .bind(stale)
        .bind(i64::from(limit))
        .fetch_all(&self.read)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(ProfileRequest {
                    contact: ContactId(rows::get(row, "id")?),
                    channel: ChannelId(rows::get(row, "channel_id")?),
                    platform_id: rows::external_id(row, "platform_id")?,
                })
            })
            .collect()
    }

    /// Records what the platform said of a contact (a name and picture it gave are kept; none
    /// leaves what the contact had) and when it was asked.
    pub async fn set_contact_profile(
        &self,
        id: ContactId,
        name: Option<&str>,
        picture_url: Option<&str>,
        checked_at: Timestamp,
    ) -> Result<(), StoreError> {
        let mut tx = self.write.begin().await?;
        query(
            "UPDATE contacts SET name = COALESCE($1, name), picture_url = COALESCE($2, picture_url), \
             profile_checked_at = $3 WHERE id = $4",
        )
        .bind(name.map(|name| bound_text(name, MAX_NAME_BYTES)))
        .bind(picture_url.map(|url| bound_text(url, 2048)))
        .bind(checked_at.as_millis())
        .bind(id.get())
        .execute(&mut *tx)
        .await?;
        if name.is_some() {
            // A learned name is a change readers see: the person's newest message takes a
            // new change number, so every node's live updates show the name at once.
            let next = match self.engine {
                Engine::Sqlite => "(SELECT COALESCE(MAX(changed), 0) + 1 FROM messages)",
                Engine::Postgres => "nextval('messages_changed_seq')",
            };
            query(&format!(
                "UPDATE messages SET changed = {next} WHERE id = (SELECT MAX(m.id) FROM messages m \
                 JOIN conversations c ON c.id = m.conversation_id WHERE c.contact_id = $1)"
            ))
            .bind(id.get())
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
