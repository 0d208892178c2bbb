//! Queue queries: filters and keyset pagination cursors.

use crate::{ChannelId, ConversationStatus, DomainError, Label, Timestamp, UserId};

/// Which statuses a listing shows.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum StatusFilter {
    /// The open queue: open conversations (the default).
    #[default]
    OpenQueue,
    /// Every status.
    All,
    /// One status.
    Only(ConversationStatus),
}

impl StatusFilter {
    /// Parses `all`, a status name, or nothing (the open queue).
    pub fn parse(raw: Option<&str>) -> Result<StatusFilter, DomainError> {
        match raw.map(str::trim) {
            None | Some("") => Ok(StatusFilter::OpenQueue),
            Some("all") => Ok(StatusFilter::All),
            Some(other) => ConversationStatus::parse(other).map(StatusFilter::Only),
        }
    }
}

/// Whose conversations a listing shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AssigneeFilter {
    /// Anyone's.
    #[default]
    Any,
    /// Nobody's.
    Unassigned,
    /// One user's.
    User(UserId),
}

/// Whose authors a listing shows: flagged authors (troll, spam, blocked) leave the default
/// queue and have a view of their own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FlaggedFilter {
    /// Only conversations whose author is not flagged (the default queue).
    #[default]
    Exclude,
    /// Only conversations whose author is flagged (the "trolls & spam" view).
    Only,
    /// Both.
    Include,
}

/// The order of a queue listing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Influencers and VIPs first, then newest activity first (the default).
    #[default]
    Newest,
    /// Customers who have waited longest first (only conversations someone waits on).
    LongestWaiting,
    /// WhatsApp/Messenger reply windows closing soonest first (only open windows).
    WindowClosing,
}

impl SortOrder {
    /// Parses `newest`, `waiting` or `window`; anything else is the default.
    pub fn parse_lenient(text: Option<&str>) -> SortOrder {
        match text {
            Some("waiting") => SortOrder::LongestWaiting,
            Some("window") => SortOrder::WindowClosing,
            _ => SortOrder::Newest,
        }
    }

    /// The name used in URLs.
    pub fn as_str(self) -> &'static str {
        match self {
            SortOrder::Newest => "newest",
            SortOrder::LongestWaiting => "waiting",
            SortOrder::WindowClosing => "window",
        }
    }
}

/// A conversation listing request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ConversationFilter {
    /// The order.
    pub sort: SortOrder,
    /// Statuses.
    pub status: StatusFilter,
    /// One channel.
    pub channel_id: Option<ChannelId>,
    /// One conversation label.
    pub label: Option<Label>,
    /// Assignee.
    pub assignee: AssigneeFilter,
    /// Flagged authors.
    pub flagged: FlaggedFilter,
    /// Full-text search over message text.
    pub query: Option<String>,
    /// The language the customer last wrote in (ISO 639-1).
    pub language: Option<String>,
    /// Only conversations escalated to the supervisors (and not yet resolved).
    pub escalated: bool,
    /// The monitoring view (what listening found that nobody promoted or dismissed) instead
    /// of the answer queue; the queue never lists those.
    pub monitoring: bool,
}

/// The position after the last row of a page, in the listing's order: the row's priority
/// (newest order only), its sort time and its id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageCursor {
    /// The last row's priority (0 for orders without one).
    pub priority: i64,
    /// The last row's sort time.
    pub last_activity_at: Timestamp,
    /// The last row's id.
    pub id: i64,
}

impl PageCursor {
    /// The opaque text form given to clients.
    pub fn encode(self) -> String {
        format!(
            "{}.{}.{}",
            self.priority,
            self.last_activity_at.as_millis(),
            self.id
        )
    }

    /// Parses a cursor produced by [`PageCursor::encode`].
    pub fn decode(text: &str) -> Result<PageCursor, DomainError> {
        let mut parts = text.split('.');
        let mut next = || -> Result<i64, DomainError> {
            parts
                .next()
                .and_then(|part| part.parse().ok())
                .ok_or(DomainError::InvalidCursor)
        };
        let (priority, millis, id) = (next()?, next()?, next()?);
        if parts.next().is_some() {
            return Err(DomainError::InvalidCursor);
        }
        Ok(PageCursor {
            priority,
            last_activity_at: Timestamp::from_millis(millis),
            id,
        })
    }
}

/// A page of results and where the next one starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    /// The rows.
    pub items: Vec<T>,
    /// The cursor of the next page, if there are more rows.
    pub next_cursor: Option<String>,
}

/// The most rows one page may hold.
pub const MAX_PAGE_SIZE: u32 = 200;

/// Clamps a requested page size to 1..=[`MAX_PAGE_SIZE`], defaulting to 50.
pub fn page_size(requested: Option<u32>) -> u32 {
    requested.unwrap_or(50).clamp(1, MAX_PAGE_SIZE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_reject_garbage() {
        let cursor = PageCursor {
            priority: 1,
            last_activity_at: Timestamp::from_millis(1_700_000_000_123),
            id: 42,
        };
        assert_eq!(PageCursor::decode(&cursor.encode()), Ok(cursor));
        assert_eq!(PageCursor::decode("x.1"), Err(DomainError::InvalidCursor));
        assert_eq!(PageCursor::decode("12"), Err(DomainError::InvalidCursor));
        assert_eq!(
            PageCursor::decode("1.2.3.4"),
            Err(DomainError::InvalidCursor)
        );
    }

    #[test]
    fn status_filter_defaults_to_the_open_queue() {
        assert_eq!(StatusFilter::parse(None), Ok(StatusFilter::OpenQueue));
        assert_eq!(StatusFilter::parse(Some("all")), Ok(StatusFilter::All));
        assert_eq!(
            StatusFilter::parse(Some("resolved")),
            Ok(StatusFilter::Only(ConversationStatus::Resolved))
        );
        assert!(StatusFilter::parse(Some("closed")).is_err());
    }

    #[test]
    fn page_sizes_are_clamped() {
        assert_eq!(page_size(None), 50);
        assert_eq!(page_size(Some(0)), 1);
        assert_eq!(page_size(Some(10_000)), MAX_PAGE_SIZE);
    }
}
