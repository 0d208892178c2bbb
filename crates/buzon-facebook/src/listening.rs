//! Listening on a Page: mentions of the Page elsewhere and reviews of it
//! (PLATFORMS.md A.3b; Graph API webhooks reference, Page object, fields `mention` and
//! `ratings`; the docs are thin and the shapes doubtful, so every field is optional until a
//! part needs it).
//!
//! - `mention` (add, `edit`/`edited`; `remove`/`delete`): the value names a post
//!   (`post_id`) or a comment (`comment_id`, item `comment`) with no text, so the part becomes
//!   [`InboundItem::Fetch`] of that object; the poller fetches it with
//!   `GET /{id}?fields=id,message,from,created_time,permalink_url` and stores the answer as a
//!   page of the endpoint [`OBJECT_ENDPOINT`], which becomes the message (an edit fetches it
//!   again and updates the text). A removal retracts the stored message. A mention by the
//!   Page itself is `own_post`.
//! - `ratings` item `rating` (add, edit, remove): a review, with its text and recommendation
//!   in the value (`review_text`, `recommendation_type`, `reviewer_id`/`reviewer_name`,
//!   `created_time`); its id is `open_graph_story_id` when present, else `review_id`. Other
//!   `ratings` items (comments on and likes of reviews) stay the known event `rating`.
//! - Reconcile polls: `GET /{page-id}/tagged` (posts that tag the Page, endpoint
//!   [`TAGGED_ENDPOINT`]) and `GET /{page-id}/ratings` (endpoint [`RATINGS_ENDPOINT`], each
//!   review's id in `open_graph_story.id`).
//!
//! A mention threads on its own object (`mention:<id>`), a review on itself (`review:<id>`);
//! replies are comments on them (`POST /{id}/comments`).

use crate::wire::{FlexId, FlexTime};
use buzon_connector::{InboundItem, MessageKind, Part, PlatformMessage};
use buzon_core::{ConversationKind, ExternalId, FoundBy, NewContact, Recommendation, Timestamp};
use serde_json::Value;

/// The endpoint name of an object fetched for a mention.
pub(crate) const OBJECT_ENDPOINT: &str = "object";
/// The endpoint name of a `/{page-id}/tagged` page.
pub(crate) const TAGGED_ENDPOINT: &str = "tagged";
/// The endpoint name of a `/{page-id}/ratings` page.
pub(crate) const RATINGS_ENDPOINT: &str = "ratings";

/// The fields asked of a mentioned post or comment.
pub(crate) const OBJECT_FIELDS: &str = "id,message,from,created_time,permalink_url";
/// The fields asked of the tagged edge.
pub(crate) const TAGGED_FIELDS: &str = "id,message,from,created_time,permalink_url";
/// The fields asked of the ratings edge.
pub(crate) const RATINGS_FIELDS: &str =
    "created_time,recommendation_type,review_text,reviewer,open_graph_story";

/// The author of a mentioning post or comment Graph gave without `from`.
pub(crate) const UNKNOWN_AUTHOR: &str = "facebook-unknown-author";

const OWN_POST: &str = "own_post";
const RATING: &str = "rating";

fn text_of(value: &Value, key: &str) -> Option<String> {
    match value.get(key)? {
        Value::String(text) => Some(text.clone()),
        Value::Number(number) => Some(number.to_string()),
        _ => None,
    }
}

fn id_of(value: &Value, key: &str) -> Option<ExternalId> {
    let id: FlexId = serde_json::from_value(value.get(key)?.clone()).ok()?;
    ExternalId::parse(id.0).ok()
}

fn time_of(value: &Value, key: &str) -> Option<Timestamp> {
    let time: FlexTime = serde_json::from_value(value.get(key)?.clone()).ok()?;
    Some(time.0)
}

fn person(id: Option<ExternalId>, name: Option<String>) -> Option<NewContact> {
    Some(NewContact {
        platform_id: id?,
        name: name.filter(|name| !name.is_empty()),
        handle: None,
    })
}

/// The `value` of a `mention` change.
pub(crate) fn mention_change(
    account: &ExternalId,
    value: Option<&Value>,
) -> Result<InboundItem, String> {
    let value = value
        .filter(|value| value.is_object())
        .ok_or_else(|| "a mention change whose value is not an object".to_owned())?;
    let is_comment = text_of(value, "item").as_deref() == Some("comment");
    let object_id = if is_comment {
        id_of(value, "comment_id")
    } else {
        id_of(value, "post_id")
    }
    .ok_or_else(|| "a mention without the id of what mentions the Page".to_owned())?;
    if id_of(value, "sender_id").is_some_and(|sender| sender == *account) {
        return Ok(InboundItem::Known {
            account: Some(account.clone()),
            kind: OWN_POST,
        });
    }
    match text_of(value, "verb").as_deref() {
        Some("add" | "edit" | "edited") | None => Ok(InboundItem::Fetch {
            account: account.clone(),
            object_id,
        }),
        Some("remove" | "delete") => Ok(InboundItem::Removed {
            account: account.clone(),
            platform_id: object_id,
        }),
        Some(other) => Err(format!(
            "the mention verb {:?} is not handled",
            other.chars().take(40).collect::<String>()
        )),
    }
}

/// The `value` of a `ratings` change.
pub(crate) fn rating_change(
    account: &ExternalId,
    entry_time: Option<Timestamp>,
    value: Option<&Value>,
) -> Result<InboundItem, String> {
    let value = value
        .filter(|value| value.is_object())
        .ok_or_else(|| "a ratings change whose value is not an object".to_owned())?;
    // A comment on, a reply to or a like of a review; an odd or missing `item` is read as a
    // review, so that its words are never taken for something else.
    if let Some(Value::String(item)) = value.get("item") {
        if matches!(item.as_str(), "comment" | "reply" | "like" | "reaction") {
            return Ok(InboundItem::Known {
                account: Some(account.clone()),
                kind: RATING,
            });
        }
    }
    let review_id = id_of(value, "open_graph_story_id")
        .or_else(|| id_of(value, "review_id"))
        .ok_or_else(|| "a review without an id".to_owned())?;
    let verb = text_of(value, "verb");
    if matches!(verb.as_deref(), Some("remove" | "delete")) {
        return Ok(InboundItem::Removed {
            account: account.clone(),
            platform_id: review_id,
        });
    }
    let author = person(id_of(value, "reviewer_id"), text_of(value, "reviewer_name"))
        .ok_or_else(|| "a review without its reviewer".to_owned())?;
    let created_at = time_of(value, "created_time")
        .or(entry_time)
        .ok_or_else(|| "a review without a time".to_owned())?;
    let message = review(
        account,
        review_id,
        author,
        text_of(value, "review_text"),
        text_of(value, "recommendation_type"),
        created_at,
    );
    Ok(match verb.as_deref() {
        Some("edit" | "edited" | "update") => InboundItem::Edited(message),
        _ => InboundItem::Message(message),
    })
}

fn review(
    account: &ExternalId,
    review_id: ExternalId,
    author: NewContact,
    text: Option<String>,
    recommendation: Option<String>,
    created_at: Timestamp,
) -> PlatformMessage {
    let recommendation = match recommendation.as_deref() {
        Some("negative") => Recommendation::Negative,
        _ => Recommendation::Positive,
    };
    PlatformMessage {
        account: account.clone(),
        thread_key: format!("review:{review_id}"),
        platform_id: review_id,
        conversation: ConversationKind::PageReview,
        kind: MessageKind::Post,
        author,
        text: text.unwrap_or_default(),
        attachments: Vec::new(),
        created_at,
        in_reply_to: None,
        raw: None,
        found_by: Some(FoundBy::Review(recommendation)),
    }
}

/// A post or comment that tags the Page, as Graph gives it (`id`, `message`, `from`,
/// `created_time`); `edited` says whether it replaces what was stored (a fetched object).
fn mentioning(account: &ExternalId, object: &Value, edited: bool) -> InboundItem {
    let unrecognized = |reason: &str| InboundItem::Unrecognized {
        account: Some(account.clone()),
        reason: reason.to_owned(),
    };
    if !object.is_object() {
        return unrecognized("a mentioning object that is not an object");
    }
    let Some(platform_id) = id_of(object, "id") else {
        return unrecognized("a mentioning object without a valid id");
    };
    let from = object.get("from").cloned().unwrap_or(Value::Null);
    // Graph may leave `from` out of a person's post read with a Page token: the words are
    // kept, with an author who is named as unknown.
    let author = person(id_of(&from, "id"), text_of(&from, "name")).unwrap_or_else(|| NewContact {
        platform_id: ExternalId::parse(UNKNOWN_AUTHOR).expect("a valid id"),
        name: None,
        handle: None,
    });
    if author.platform_id == *account {
        return InboundItem::Known {
            account: Some(account.clone()),
            kind: OWN_POST,
        };
    }
    let Some(created_at) = time_of(object, "created_time") else {
        return unrecognized("a mentioning object without a valid time");
    };
    let mut text = text_of(object, "message").unwrap_or_default();
    // The permalink goes with the text, so that an agent can open the post where it lives.
    if let Some(link) = text_of(object, "permalink_url").filter(|link| link.starts_with("https://"))
    {
        text = if text.is_empty() {
            link
        } else {
            format!("{text}\n{link}")
        };
    }
    let message = PlatformMessage {
        account: account.clone(),
        thread_key: format!("mention:{platform_id}"),
        platform_id,
        conversation: ConversationKind::PageMention,
        kind: MessageKind::Post,
        author,
        text,
        attachments: Vec::new(),
        created_at,
        in_reply_to: None,
        raw: None,
        found_by: Some(FoundBy::Mention),
    };
    if edited {
        InboundItem::Edited(message)
    } else {
        InboundItem::Message(message)
    }
}

/// Parses a fetched object, a tagged page or a ratings page; `None` for another endpoint.
pub(crate) fn polled(
    account: &ExternalId,
    endpoint: &str,
    body: &[u8],
) -> Option<Result<Vec<Part>, String>> {
    let parse =
        || serde_json::from_slice::<Value>(body).map_err(|_| "the body is not JSON".to_owned());
    Some(match endpoint {
        OBJECT_ENDPOINT => {
            parse().map(|object| vec![Part::new("$", mentioning(account, &object, true))])
        }
        TAGGED_ENDPOINT => parse().and_then(|page| {
            list(&page).map(|data| {
                data.iter()
                    .enumerate()
                    .map(|(index, object)| {
                        Part::new(format!("data[{index}]"), mentioning(account, object, false))
                    })
                    .collect()
            })
        }),
        RATINGS_ENDPOINT => parse().and_then(|page| {
            list(&page).map(|data| {
                data.iter()
                    .enumerate()
                    .map(|(index, rating)| {
                        Part::new(format!("data[{index}]"), polled_review(account, rating))
                    })
                    .collect()
            })
        }),
        _ => return None,
    })
}

fn list(page: &Value) -> Result<&[Value], String> {
    match page.get("data") {
        Some(Value::Array(data)) => Ok(data),
        None | Some(Value::Null) => Ok(&[]),
        Some(_) => Err("a page whose data is not an array".to_owned()),
    }
}

fn polled_review(account: &ExternalId, rating: &Value) -> InboundItem {
    let unrecognized = |reason: &str| InboundItem::Unrecognized {
        account: Some(account.clone()),
        reason: reason.to_owned(),
    };
    let story = rating
        .get("open_graph_story")
        .cloned()
        .unwrap_or(Value::Null);
    let Some(review_id) = id_of(&story, "id").or_else(|| id_of(rating, "id")) else {
        return unrecognized("a review without an id");
    };
    let reviewer = rating.get("reviewer").cloned().unwrap_or(Value::Null);
    let Some(author) = person(id_of(&reviewer, "id"), text_of(&reviewer, "name")) else {
        return unrecognized("a review without its reviewer");
    };
    let Some(created_at) = time_of(rating, "created_time") else {
        return unrecognized("a review without a valid time");
    };
    InboundItem::Message(review(
        account,
        review_id,
        author,
        text_of(rating, "review_text"),
        text_of(rating, "recommendation_type"),
        created_at,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn page() -> ExternalId {
        ExternalId::parse("1067280970047460").unwrap()
    }

    #[test]
    fn a_mention_asks_for_its_object_and_a_removal_retracts_it() {
        let value = json!({"post_id":"44444444_444444444","sender_name":"Example Name","sender_id":"44444444","item":"post","verb":"add"});
        assert_eq!(
            mention_change(&page(), Some(&value)).unwrap(),
            InboundItem::Fetch {
                account: page(),
                object_id: ExternalId::parse("44444444_444444444").unwrap()
            }
        );
        let value = json!({"post_id":"1_2","comment_id":"2_3","sender_id":9,"item":"comment","verb":"remove"});
        assert_eq!(
            mention_change(&page(), Some(&value)).unwrap(),
            InboundItem::Removed {
                account: page(),
                platform_id: ExternalId::parse("2_3").unwrap()
            }
        );
        let own =
            json!({"post_id":"1_2","sender_id":"1067280970047460","item":"post","verb":"add"});
        assert!(matches!(
            mention_change(&page(), Some(&own)).unwrap(),
            InboundItem::Known { kind: OWN_POST, .. }
        ));
        assert!(mention_change(&page(), Some(&json!({"item":"post"}))).is_err());
        assert!(mention_change(&page(), Some(&json!([1]))).is_err());
    }

    #[test]
    fn a_fetched_object_is_the_message_with_author_and_permalink() {
        let body = br#"{"id":"44444444_444444444","message":"tiendabuzon charged me twice","from":{"id":"44444444","name":"Example Name"},"created_time":"2026-12-06T10:00:00+0000","permalink_url":"https://www.facebook.com/44444444_444444444"}"#;
        let parts = polled(&page(), OBJECT_ENDPOINT, body).unwrap().unwrap();
        let InboundItem::Edited(message) = &parts[0].item else {
            panic!("{parts:?}")
        };
        assert_eq!(message.thread_key, "mention:44444444_444444444");
        assert_eq!(message.conversation, ConversationKind::PageMention);
        assert_eq!(message.found_by, Some(FoundBy::Mention));
        assert_eq!(message.author.name.as_deref(), Some("Example Name"));
        assert_eq!(
            message.text,
            "tiendabuzon charged me twice\nhttps://www.facebook.com/44444444_444444444"
        );
    }

    #[test]
    fn reviews_carry_their_recommendation_from_webhooks_and_polls() {
        let value = json!({"item":"rating","verb":"add","review_id":"55","open_graph_story_id":"66","reviewer_id":"77","reviewer_name":"Ana","recommendation_type":"negative","review_text":"Nunca llegó","created_time":1765000000});
        let InboundItem::Message(message) = rating_change(&page(), None, Some(&value)).unwrap()
        else {
            panic!()
        };
        assert_eq!(message.platform_id.as_str(), "66");
        assert_eq!(
            message.found_by,
            Some(FoundBy::Review(Recommendation::Negative))
        );
        assert_eq!(message.text, "Nunca llegó");
        let removed =
            json!({"item":"rating","verb":"remove","review_id":"55","open_graph_story_id":"66"});
        assert!(matches!(
            rating_change(&page(), None, Some(&removed)).unwrap(),
            InboundItem::Removed { .. }
        ));
        let comment = json!({"item":"comment","verb":"add","review_id":"55"});
        assert!(matches!(
            rating_change(&page(), None, Some(&comment)).unwrap(),
            InboundItem::Known { kind: RATING, .. }
        ));
        let body = br#"{"data":[{"created_time":"2026-12-06T10:00:00+0000","recommendation_type":"positive","review_text":"Great","reviewer":{"id":"77","name":"Ana"},"open_graph_story":{"id":"66"}},{"review_text":"no id"}]}"#;
        let parts = polled(&page(), RATINGS_ENDPOINT, body).unwrap().unwrap();
        let InboundItem::Message(message) = &parts[0].item else {
            panic!()
        };
        assert_eq!(
            message.found_by,
            Some(FoundBy::Review(Recommendation::Positive))
        );
        assert!(matches!(parts[1].item, InboundItem::Unrecognized { .. }));
    }
}
