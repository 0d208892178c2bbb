//! The measured response cycles of every conversation, kept in memory by each node, so a report
//! for any period, channel or troll switch is a walk over memory instead of a read of every
//! message in the period.
//!
//! How it stays current:
//! - The first use reads every conversation's timeline in steps of [`BUILD_STEP`]
//!   conversations and measures it once (cycles, both clocks, the heatmap cell of each
//!   customer message). Only the response-rate verdict of a cycle still waiting for its first
//!   reply depends on "now"; it is judged when a report is made.
//! - Database triggers write every conversation whose figures may have changed (a message, a
//!   reply's status, a status change, a label, a flagged author) into the `metric_changes`
//!   journal, whatever path wrote the change. Before each report, and on the refresh tick, the
//!   node reads the journal entries after the last one it saw and measures those conversations
//!   again; a report therefore counts everything committed before it was asked for.
//! - Journal ids are handed out when a transaction inserts, not when it commits, so on
//!   PostgreSQL an entry may appear after a higher one was read. Every range of ids skipped
//!   over is asked for again until [`GAP_PATIENCE`] has passed (a transaction open longer than
//!   that, or one rolled back, is given up on), however large the range. A build records the
//!   ids missing among the last [`BUILD_LOOKBACK`] ids the same way.
//! - The cursor moves only once the conversations it names are measured and in memory: a
//!   catch-up that fails or is cancelled half-way leaves everything to be read again.
//! - Entries older than [`JOURNAL_KEEP`] are pruned; a node that has not read the journal for
//!   [`STALE_AFTER`] builds again from scratch, and every node builds again in the background
//!   every [`REBUILD_EVERY`] (while reports go on being served from the old index), which heals
//!   anything the journal could not tell (a transaction open longer than the patience, a
//!   troll flag and a person link committed at the same instant).

use crate::AppError;
use buzon_core::metrics::{
    hour_of_week, measure_conversation, BusinessCalendar, ConversationTimeline, Cycle, Heatmap,
    HeatmapTally, MeasuredConversation, MetricEventKind, MetricsOptions, Period,
};
use buzon_core::{ChannelId, ConversationId, Timestamp};
use buzon_store::Store;
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

/// How many conversations a build reads at a time.
const BUILD_STEP: u32 = 5_000;
/// How long a skipped journal id is asked for again.
const GAP_PATIENCE: Duration = Duration::from_secs(60);
/// How many journal ids before the head a build checks for transactions still in flight.
const BUILD_LOOKBACK: i64 = 20_000;
/// At most this many ranges of skipped ids are kept; beyond, they are merged into one.
const MAX_GAP_RANGES: usize = 64;
/// How often a node builds its index again from scratch, in the background.
const REBUILD_EVERY: Duration = Duration::from_secs(60 * 60);
/// How long journal entries are kept.
const JOURNAL_KEEP: Duration = Duration::from_secs(60 * 60);
/// How often a node prunes the journal.
const PRUNE_EVERY: Duration = Duration::from_secs(10 * 60);
/// A node that has not read the journal for this long may have missed pruned entries.
const STALE_AFTER: Duration = Duration::from_secs(30 * 60);

/// The in-memory index and how far it has read the journal.
pub struct MetricsIndex {
    data: Arc<RwLock<IndexData>>,
    cursor: tokio::sync::Mutex<Cursor>,
}

/// What reports read: every conversation, measured.
struct IndexData {
    calendar: BusinessCalendar,
    conversations: BTreeMap<i64, Entry>,
    /// Bumped whenever a conversation is measured again, so cached reports know they are old.
    generation: u64,
}

struct Entry {
    measured: MeasuredConversation,
    /// The heatmap cell of each cycle's start, in the order of `measured.cycles()`.
    start_cells: Vec<u8>,
    /// Each customer message: when, and its heatmap cell.
    arrivals: Vec<(Timestamp, u8)>,
}

#[derive(Default, Clone)]
struct Cursor {
    built_at: Option<Instant>,
    /// The highest journal id read.
    after: i64,
    /// Inclusive ranges of journal ids skipped over, asked for again until their deadline.
    gaps: Vec<Gap>,
    /// Ids inside `gaps` already read.
    seen: HashSet<i64>,
    last_read: Option<Instant>,
    last_prune: Option<Instant>,
}

#[derive(Clone, Copy)]
struct Gap {
    from: i64,
    to: i64,
    until: Instant,
}

impl Cursor {
    /// A cursor at `head` that asks again for the ids in `(head - lookback, head]` that are
    /// not in `present` (ascending).
    fn at(head: i64, lookback_from: i64, present: &[i64], now: Instant) -> Cursor {
        let mut cursor = Cursor {
            built_at: Some(now),
            after: head,
            last_read: Some(now),
            ..Cursor::default()
        };
        let mut next = lookback_from;
        for &id in present {
            if id > next {
                cursor.skipped(next, id - 1, now);
            }
            next = id + 1;
        }
        if next <= head {
            cursor.skipped(next, head, now);
        }
        cursor.bound_gaps(present);
        cursor
    }

    fn skipped(&mut self, from: i64, to: i64, now: Instant) {
        self.gaps.push(Gap {
            from,
            to,
            until: now + GAP_PATIENCE,
        });
    }

    /// Keeps the list of ranges short: many ranges become one, and the ids already known
    /// inside it are remembered as seen.
    fn bound_gaps(&mut self, present: &[i64]) {
        if self.gaps.len() <= MAX_GAP_RANGES {
            return;
        }
        let from = self.gaps.iter().map(|gap| gap.from).min().unwrap_or(0);
        let to = self.gaps.iter().map(|gap| gap.to).max().unwrap_or(0);
        let until = self
            .gaps
            .iter()
            .map(|gap| gap.until)
            .max()
            .unwrap_or_else(Instant::now);
        self.seen
            .extend(present.iter().filter(|id| (from..=to).contains(*id)));
        self.gaps = vec![Gap { from, to, until }];
    }

    fn in_gap(&self, id: i64) -> bool {
        in_any(&self.gaps, id)
    }
}

fn in_any(gaps: &[Gap], id: i64) -> bool {
    gaps.iter().any(|gap| gap.from <= id && id <= gap.to)
}

/// The cycles of a report's period and of the previous one, and the period's heatmap.
pub struct Measured {
    /// The cycles that started in the period, in conversation order.
    pub cycles: Vec<Cycle>,
    /// The cycles that started in the previous period.
    pub before: Vec<Cycle>,
    /// The period's heatmap.
    pub heatmap: Heatmap,
    /// The generation of the index they were measured from.
    pub generation: u64,
}

impl MetricsIndex {
    /// An empty index that builds itself on first use, measuring with `calendar`.
    pub fn new(calendar: BusinessCalendar) -> MetricsIndex {
        MetricsIndex {
            data: Arc::new(RwLock::new(IndexData {
                calendar,
                conversations: BTreeMap::new(),
                generation: 0,
            })),
            cursor: tokio::sync::Mutex::new(Cursor::default()),
        }
    }

    /// Brings the index up to date with the database: a build the first time (or after a long
    /// silence), else the conversations the journal names since the last read. Returns the
    /// generation now current.
    pub async fn catch_up(&self, store: &Store) -> Result<u64, AppError> {
        let mut cursor = self.cursor.lock().await;
        let stale = cursor
            .last_read
            .is_none_or(|read| read.elapsed() > STALE_AFTER);
        if cursor.built_at.is_none() || stale {
            let built = self.read_everything(store).await?;
            self.install(&mut cursor, built);
        }
        self.read_journal(store, &mut cursor).await?;
        if cursor
            .last_prune
            .is_none_or(|pruned| pruned.elapsed() > PRUNE_EVERY)
        {
            let before = Timestamp::now().plus_millis(-(JOURNAL_KEEP.as_millis() as i64));
            let pruned = store.prune_metric_changes(before).await?;
            tracing::debug!(pruned, "metric journal pruned");
            cursor.last_prune = Some(Instant::now());
        }
        Ok(self.generation())
    }

    /// Builds the index again from scratch when the last build is older than
    /// [`REBUILD_EVERY`] (or always, with `force`), while reports go on reading the old one;
    /// then swaps it in and reads the journal from where the new build started.
    pub async fn rebuild(&self, store: &Store, force: bool) -> Result<(), AppError> {
        let due = {
            let cursor = self.cursor.lock().await;
            cursor
                .built_at
                .is_some_and(|built| force || built.elapsed() > REBUILD_EVERY)
        };
        if !due {
            return Ok(());
        }
        let built = self.read_everything(store).await?;
        let mut cursor = self.cursor.lock().await;
        // Entries read since the build started are read again: measuring a conversation
        // twice changes nothing.
        self.install(&mut cursor, built);
        self.read_journal(store, &mut cursor).await
    }

    /// The generation of what is in memory now.
    pub fn generation(&self) -> u64 {
        self.data
            .read()
            .expect("the metrics index is not poisoned")
            .generation
    }

    /// The cycles that started in `period` and in `previous`, and the heatmap of `period`,
    /// on `channel` (every channel when `None`), as of `options.as_of`. Runs on a blocking
    /// thread: it walks every conversation.
    pub async fn measure(
        &self,
        period: Period,
        previous: Period,
        channel: Option<ChannelId>,
        options: MetricsOptions,
    ) -> Result<Measured, AppError> {
        let data = self.data.clone();
        tokio::task::spawn_blocking(move || {
            let data = data.read().expect("the metrics index is not poisoned");
            data.measure(period, previous, channel, &options)
        })
        .await
        .map_err(|err| AppError::Internal(anyhow::anyhow!("measuring a report: {err}")))
    }

    /// Measures with another calendar from now on: reports computed before are stale (the
    /// generation moves on); the caller rebuilds the index so that every conversation is
    /// measured with it.
    pub fn set_calendar(&self, calendar: BusinessCalendar) {
        let mut data = self
            .data
            .write()
            .expect("the metrics index is not poisoned");
        data.calendar = calendar;
        data.generation += 1;
    }

    /// The calendar the index measures with.
    pub fn calendar(&self) -> BusinessCalendar {
        self.data
            .read()
            .expect("the metrics index is not poisoned")
            .calendar
            .clone()
    }

    /// Reads and measures every conversation; returns them with a cursor at the journal's
    /// head as it was before the first read.
    async fn read_everything(
        &self,
        store: &Store,
    ) -> Result<(BTreeMap<i64, Entry>, Cursor), AppError> {
        let started = Instant::now();
        // Everything committed from here on is in the journal after `head`, and so is
        // everything still in flight among the ids not yet visible below it.
        let head = store.metric_changes_head().await?;
        let lookback_from = (head - BUILD_LOOKBACK + 1).max(1);
        let present = store.metric_change_ids(lookback_from, head).await?;
        let cursor = Cursor::at(head, lookback_from, &present, Instant::now());
        let calendar = self.calendar();
        let mut conversations = BTreeMap::new();
        let mut after = ConversationId(0);
        loop {
            let timelines = store.metric_timelines_after(after, BUILD_STEP).await?;
            let Some(last) = timelines.last() else {
                break;
            };
            after = last.conversation_id;
            let step_calendar = calendar.clone();
            let entries =
                tokio::task::spawn_blocking(move || measure_all(&timelines, &step_calendar))
                    .await
                    .map_err(|err| AppError::Internal(anyhow::anyhow!("measuring: {err}")))?;
            conversations.extend(entries);
        }
        tracing::info!(
            conversations = conversations.len(),
            millis = started.elapsed().as_millis() as u64,
            "response-time index built"
        );
        Ok((conversations, cursor))
    }

    /// Swaps in a build and the cursor it started from (keeping when the journal was pruned).
    fn install(&self, cursor: &mut Cursor, (conversations, fresh): (BTreeMap<i64, Entry>, Cursor)) {
        let mut data = self
            .data
            .write()
            .expect("the metrics index is not poisoned");
        data.conversations = conversations;
        data.generation += 1;
        *cursor = Cursor {
            last_prune: cursor.last_prune,
            ..fresh
        };
    }

    /// Reads the journal after the cursor (and the ranges skipped over) and measures the
    /// conversations it names again. The cursor moves only once they are in memory.
    async fn read_journal(&self, store: &Store, cursor: &mut Cursor) -> Result<(), AppError> {
        let now = Instant::now();
        let mut next = cursor.clone();
        next.gaps.retain(|gap| gap.until > now);
        let gaps = next.gaps.clone();
        next.seen.retain(|id| in_any(&gaps, *id));
        let ranges: Vec<(i64, i64)> = next.gaps.iter().map(|gap| (gap.from, gap.to)).collect();
        let entries = store.metric_changes_after(next.after, &ranges).await?;
        let mut changed = BTreeSet::new();
        for &(id, conversation) in &entries {
            if id <= next.after {
                // Inside a range skipped over: new only the first time it is seen.
                if next.in_gap(id) && next.seen.insert(id) {
                    changed.insert(conversation);
                }
                continue;
            }
            changed.insert(conversation);
            if id > next.after + 1 {
                let from = next.after + 1;
                next.skipped(from, id - 1, now);
            }
            next.after = id;
        }
        let present: Vec<i64> = entries.iter().map(|(id, _)| *id).collect();
        next.bound_gaps(&present);
        next.last_read = Some(now);
        if !changed.is_empty() {
            let ids: Vec<ConversationId> = changed.into_iter().collect();
            let timelines = store.metric_timelines_of(&ids).await?;
            let calendar = self.calendar();
            let entries = tokio::task::spawn_blocking(move || measure_all(&timelines, &calendar))
                .await
                .map_err(|err| AppError::Internal(anyhow::anyhow!("measuring: {err}")))?;
            let mut data = self
                .data
                .write()
                .expect("the metrics index is not poisoned");
            for id in &ids {
                data.conversations.remove(&id.get());
            }
            data.conversations.extend(entries);
            data.generation += 1;
            tracing::debug!(conversations = ids.len(), "response-time index caught up");
        }
        *cursor = next;
        Ok(())
    }
}

fn measure_all(
    timelines: &[ConversationTimeline],
    calendar: &BusinessCalendar,
) -> Vec<(i64, Entry)> {
    timelines
        .iter()
        .map(|timeline| {
            let arrivals = timeline
                .events
                .iter()
                .filter(|event| event.kind == MetricEventKind::CustomerMessage)
                .map(|event| (event.at, hour_of_week(calendar, event.at)))
                .collect();
            let measured = measure_conversation(timeline, calendar);
            let start_cells = measured
                .cycles()
                .iter()
                .map(|cycle| hour_of_week(calendar, cycle.started_at))
                .collect();
            (
                timeline.conversation_id.get(),
                Entry {
                    measured,
                    start_cells,
                    arrivals,
                },
            )
        })
        .collect()
}

impl IndexData {
    fn measure(
        &self,
        period: Period,
        previous: Period,
        channel: Option<ChannelId>,
        options: &MetricsOptions,
    ) -> Measured {
        let calendar = &self.calendar;
        let mut cycles = Vec::new();
        let mut before = Vec::new();
        let mut tally = HeatmapTally::default();
        let counted = self.conversations.values().filter(|entry| {
            channel.is_none_or(|channel| entry.measured.channel_id == channel)
                && (options.include_flagged || !entry.measured.flagged)
        });
        for entry in counted {
            for &(at, cell) in &entry.arrivals {
                if period.contains(at) {
                    tally.arrival(cell);
                }
            }
            for (cycle, &cell) in entry.measured.cycles().iter().zip(&entry.start_cells) {
                let judged = |cycle: &Cycle| Cycle {
                    within_window: entry.measured.judge(cycle, calendar, options),
                    ..cycle.clone()
                };
                if period.contains(cycle.started_at) {
                    if let Some(first) = cycle.first_response {
                        tally.first_response(cell, first);
                    }
                    cycles.push(judged(cycle));
                }
                if previous.contains(cycle.started_at) {
                    before.push(judged(cycle));
                }
            }
        }
        Measured {
            cycles,
            before,
            heatmap: tally.finish(calendar, period),
            generation: self.generation,
        }
    }
}
