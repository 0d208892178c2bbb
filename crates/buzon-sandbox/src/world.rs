//! The platforms' data: posts, comments, messages, mentions and DMs, the customers who wrote
//! them, and the webhook bodies each new item produces.

use crate::clock::{graph_time, now_ms, now_secs, v1_time};
use crate::content::{self, Category, Language, PERSONAS};
use crate::model::{GeneratedItem, Injection, Platform, RecordedReply, Source};
use crate::webhooks::{meta_json, x_json, Outgoing};
use crate::SandboxConfig;
use base64::Engine;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::Duration;

/// The WhatsApp Business Account id that owns the sandbox's number.
pub(crate) const WABA_ID: &str = "102290129340398";
/// The sandbox number as customers see it.
pub(crate) const DISPLAY_PHONE_NUMBER: &str = "15550783881";
/// The Page's name.
pub(crate) const PAGE_NAME: &str = "Tienda Buzón";
/// The X account's handle.
pub(crate) const X_USERNAME: &str = "tiendabuzon";
/// The X account's display name.
pub(crate) const X_NAME: &str = "Tienda Buzón";
const X_EPOCH_MS: i64 = 1_288_834_974_657;
/// The rate-limit name of recent search, which has its own limit.
pub(crate) const X_SEARCH_ENDPOINT: &str = "GET /2/tweets/search/recent";

pub(crate) struct Person {
    pub name: String,
    pub language: Language,
    pub fb_id: String,
    pub psid: String,
    pub wa_id: String,
    pub x_id: String,
}

pub(crate) struct Post {
    pub id: String,
    pub message: String,
    pub created: i64,
}

pub(crate) struct Comment {
    pub seq: u64,
    pub id: String,
    pub post_id: String,
    pub parent_id: Option<String>,
    pub from_id: String,
    pub from_name: String,
    pub message: String,
    pub created: i64,
    pub hidden: bool,
    pub deleted: bool,
}

pub(crate) struct MessengerMessage {
    pub psid: String,
    pub inbound: bool,
    pub at_ms: i64,
}

pub(crate) struct WhatsappMessage {
    pub wamid: String,
    pub wa_id: String,
    pub inbound: bool,
    pub at: i64,
}

pub(crate) struct Tweet {
    pub id: u64,
    pub author_id: String,
    pub text: String,
    pub created_ms: i64,
    pub conversation_id: u64,
    pub in_reply_to_tweet_id: Option<u64>,
    pub in_reply_to_user_id: Option<String>,
    pub language: String,
    pub hidden: bool,
    pub mentions_us: bool,
    /// The reposted post, for a retweet.
    pub retweet_of: Option<u64>,
}

/// A post or comment outside the Page's feed that tags the Page.
pub(crate) struct Tagged {
    pub seq: u64,
    /// `<authorId>_<n>` for a post, `<postPart>_<n>` for a comment.
    pub id: String,
    pub is_comment: bool,
    /// The post it is on (itself for a post).
    pub post_id: String,
    pub from_id: String,
    pub from_name: String,
    pub message: String,
    pub created: i64,
    pub removed: bool,
}

/// A recommendation of the Page.
pub(crate) struct Review {
    pub seq: u64,
    /// The review's `open_graph_story` id, `<reviewerId>_<n>`.
    pub id: String,
    pub reviewer_id: String,
    pub reviewer_name: String,
    /// `positive` or `negative`.
    pub recommendation: String,
    /// Empty for a recommendation without text.
    pub text: String,
    pub created: i64,
    pub removed: bool,
}

/// How old the original of an injected or generated retweet is: older than recent search's
/// seven days, so that a search finds the retweet and not an item nobody generated.
const RETWEET_ORIGINAL_AGE_MS: i64 = 8 * 86_400_000;

pub(crate) struct DmEvent {
    pub id: u64,
    pub sender_id: String,
    pub participant_id: String,
    pub text: String,
    pub created_ms: i64,
}

#[derive(Clone)]
pub(crate) struct XUser {
    pub id: String,
    pub name: String,
    pub username: String,
}

pub(crate) struct RateWindow {
    count: u32,
    reset_at: i64,
    blocked_until: i64,
}

/// What the X rate limiter decided about one request.
pub(crate) struct RateDecision {
    pub limit: u32,
    pub remaining: u32,
    pub reset: i64,
    pub allowed: bool,
}

pub(crate) struct World {
    pub config: SandboxConfig,
    /// The webhook fields the Page subscribed the app to (`POST /{page-id}/subscribed_apps`).
    pub subscribed_fields: Vec<String>,
    /// Content choices: who writes what, where.
    pub rng: StdRng,
    /// Ids, so that answering clients does not change what is generated next.
    id_rng: StdRng,
    /// Faults and trace ids.
    pub fault_rng: StdRng,
    next_fb: u64,
    last_snowflake: u64,
    pub people: Vec<Person>,
    pub posts: Vec<Post>,
    pub comments: Vec<Comment>,
    pub messenger: Vec<MessengerMessage>,
    pub messenger_names: HashMap<String, String>,
    pub whatsapp: Vec<WhatsappMessage>,
    pub tweets: Vec<Tweet>,
    pub dms: Vec<DmEvent>,
    pub tagged: Vec<Tagged>,
    pub reviews: Vec<Review>,
    pub x_users: HashMap<String, XUser>,
    pub generated: Vec<GeneratedItem>,
    pub replies: Vec<RecordedReply>,
    pub media: HashMap<String, (String, String)>,
    x_windows: HashMap<String, RateWindow>,
    pub rate_limit_violations: u64,
}

impl World {
    pub fn new(config: &SandboxConfig) -> World {
        let rng = StdRng::seed_from_u64(config.seed);
        let mut id_rng = StdRng::seed_from_u64(config.seed ^ 0x1d5_1d5);
        let fault_rng = StdRng::seed_from_u64(config.seed ^ 0x5eed_fa17);
        let next_fb = 122_100_000_000_000 + id_rng.gen_range(0..1_000_000_000_000);
        let mut world = World {
            config: config.clone(),
            subscribed_fields: Vec::new(),
            rng,
            id_rng,
            fault_rng,
            next_fb,
            last_snowflake: 0,
            people: Vec::new(),
            posts: Vec::new(),
            comments: Vec::new(),
            messenger: Vec::new(),
            messenger_names: HashMap::new(),
            whatsapp: Vec::new(),
            tweets: Vec::new(),
            dms: Vec::new(),
            tagged: Vec::new(),
            reviews: Vec::new(),
            x_users: HashMap::new(),
            generated: Vec::new(),
            replies: Vec::new(),
            media: HashMap::new(),
            x_windows: HashMap::new(),
            rate_limit_violations: 0,
        };
        world.x_users.insert(
            config.x_user_id.clone(),
            XUser {
                id: config.x_user_id.clone(),
                name: X_NAME.to_string(),
                username: X_USERNAME.to_string(),
            },
        );
        for persona in PERSONAS {
            let person = world.new_person(persona.name, persona.language);
            world.people.push(person);
        }
        let now = now_secs();
        let ages = [2 * 86_400, 86_400, 3 * 3_600];
        for (message, age) in content::BRAND_POSTS.iter().zip(ages) {
            let id = format!("{}_{}", config.facebook_page_id, world.fb_id());
            world.posts.push(Post {
                id,
                message: (*message).to_string(),
                created: now - age,
            });
            let tweet_id = world.snowflake();
            world.tweets.push(Tweet {
                id: tweet_id,
                author_id: config.x_user_id.clone(),
                text: (*message).to_string(),
                created_ms: (now - age) * 1000,
                conversation_id: tweet_id,
                in_reply_to_tweet_id: None,
                in_reply_to_user_id: None,
                language: "es".to_string(),
                hidden: false,
                mentions_us: false,
                retweet_of: None,
            });
        }
        world
    }

    fn new_person(&mut self, name: &str, language: Language) -> Person {
        let wa_id = match language {
            Language::En => format!("1650555{}", self.digits(4)),
            Language::Es => format!("346{}", self.digits(8)),
            Language::Pt => format!("55119{}", self.digits(8)),
            Language::Ar => format!("9665{}", self.digits(8)),
        };
        let x_id = format!("1{}", self.digits(17));
        let handle: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .take(10)
            .collect::<String>()
            .to_lowercase();
        let x_username = format!(
            "{}{}",
            if handle.is_empty() { "user" } else { &handle },
            self.digits(3)
        );
        let person = Person {
            name: name.to_string(),
            language,
            fb_id: format!(
                "{}",
                self.id_rng
                    .gen_range(1_000_000_000_000_000u64..9_999_999_999_999_999)
            ),
            psid: format!(
                "{}",
                self.id_rng
                    .gen_range(1_000_000_000_000_000u64..9_999_999_999_999_999)
            ),
            wa_id,
            x_id: x_id.clone(),
        };
        self.messenger_names
            .insert(person.psid.clone(), name.to_string());
        self.x_users.insert(
            x_id.clone(),
            XUser {
                id: x_id,
                name: name.to_string(),
                username: x_username,
            },
        );
        person
    }

    fn digits(&mut self, count: usize) -> String {
        (0..count)
            .map(|_| char::from(b'0' + self.id_rng.gen_range(0..10u8)))
            .collect()
    }

    /// A new numeric Graph object id part.
    pub fn fb_id(&mut self) -> String {
        self.next_fb += self.id_rng.gen_range(1..5_000);
        self.next_fb.to_string()
    }

    /// A new X id: a snowflake of the current time, strictly increasing.
    pub fn snowflake(&mut self) -> u64 {
        let candidate =
            (((now_ms() - X_EPOCH_MS).max(0) as u64) << 22) | self.id_rng.gen_range(0..4096u64);
        let id = candidate.max(self.last_snowflake + 1);
        self.last_snowflake = id;
        id
    }

    /// The id of an X post or DM written at `at_ms`: X ids carry their creation time, so one
    /// written in the past (a backfill, an injection with `at`) is below the ids made since.
    fn snowflake_for(&mut self, at_ms: i64) -> u64 {
        if at_ms < now_ms() - 60_000 {
            self.snowflake_at(at_ms)
        } else {
            self.snowflake()
        }
    }

    /// A unique X id for a post written at `at_ms` (in the past: below the ids made since).
    fn snowflake_at(&mut self, at_ms: i64) -> u64 {
        loop {
            let id =
                (((at_ms - X_EPOCH_MS).max(0) as u64) << 22) | self.id_rng.gen_range(0..4096u64);
            if !self.tweets.iter().any(|tweet| tweet.id == id) {
                self.last_snowflake = self.last_snowflake.max(id);
                return id;
            }
        }
    }

    /// A new Messenger message id (`m_…`).
    pub fn mid(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let tail: String = (0..86)
            .map(|_| char::from(ALPHABET[self.id_rng.gen_range(0..ALPHABET.len())]))
            .collect();
        format!("m_{tail}")
    }

    /// A new WhatsApp message id (`wamid.HBgL…`).
    pub fn wamid(&mut self, wa_id: &str) -> String {
        let hex: String = (0..20)
            .map(|_| char::from(b"0123456789ABCDEF"[self.id_rng.gen_range(0..16)]))
            .collect();
        // Real wamids are base64 of a small binary record that starts with the number.
        let mut raw = vec![0x1c, 0x18, wa_id.len() as u8];
        raw.extend_from_slice(wa_id.as_bytes());
        raw.extend_from_slice(&[0x15, 0x02, 0x00, 0x12, 0x18, 0x14]);
        raw.extend_from_slice(hex.as_bytes());
        raw.push(0x00);
        format!(
            "wamid.{}",
            base64::engine::general_purpose::STANDARD.encode(raw)
        )
    }

    /// A Graph `fbtrace_id`, from the fault stream so that it does not disturb content.
    pub fn fbtrace(&mut self) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
        (0..11)
            .map(|_| char::from(ALPHABET[self.fault_rng.gen_range(0..ALPHABET.len())]))
            .collect()
    }

    fn push_item(&mut self, mut item: GeneratedItem) -> GeneratedItem {
        item.seq = self.generated.len() as u64 + 1;
        self.generated.push(item.clone());
        item
    }

    // ---- generation ------------------------------------------------------------------

    /// Creates one realistic item on a platform chosen by weight.
    pub fn generate(&mut self) -> (GeneratedItem, Vec<Outgoing>) {
        let person_index = self.rng.gen_range(0..self.people.len());
        let category = content::pick_category(&mut self.rng);
        let language = self.people[person_index].language;
        let text = content::text(&mut self.rng, language, category);
        let (name, fb_id, psid, wa_id, x_id) = {
            let person = &self.people[person_index];
            (
                person.name.clone(),
                person.fb_id.clone(),
                person.psid.clone(),
                person.wa_id.clone(),
                person.x_id.clone(),
            )
        };
        let now = now_ms();
        // A few percent go to the listening surfaces; the rest keep the usual mix.
        match self.rng.gen_range(0..100) {
            0..=3 => return self.generate_x_post(person_index, now),
            4..=6 => return self.generate_facebook_mention(person_index, now / 1000),
            7..=8 => return self.generate_review(person_index, now / 1000),
            _ => {}
        }
        match self.rng.gen_range(0..100) {
            0..=29 => {
                let post = self
                    .posts
                    .choose(&mut self.rng)
                    .map(|post| post.id.clone())
                    .unwrap_or_default();
                let parent = if self.rng.gen_bool(0.3) {
                    let candidates: Vec<String> = self
                        .comments
                        .iter()
                        .filter(|comment| {
                            comment.post_id == post
                                && comment.parent_id.is_none()
                                && !comment.deleted
                        })
                        .map(|comment| comment.id.clone())
                        .collect();
                    candidates.choose(&mut self.rng).cloned()
                } else {
                    None
                };
                self.facebook_comment(
                    &post,
                    parent,
                    &fb_id,
                    &name,
                    &text,
                    now / 1000,
                    category,
                    language,
                )
            }
            30..=44 => self.messenger_inbound(&psid, &name, &text, now, category, language),
            45..=69 => {
                let kind = match self.rng.gen_range(0..100) {
                    0..=79 => "text",
                    80..=87 => "image",
                    88..=93 => "location",
                    _ => "reaction",
                };
                self.whatsapp_inbound(&wa_id, &name, kind, &text, now / 1000, category, language)
            }
            70..=89 => {
                let reply_to = if self.rng.gen_bool(0.6) {
                    let ours: Vec<u64> = self
                        .tweets
                        .iter()
                        .filter(|tweet| {
                            tweet.author_id == self.config.x_user_id
                                && tweet.in_reply_to_tweet_id.is_none()
                        })
                        .map(|tweet| tweet.id)
                        .collect();
                    ours.choose(&mut self.rng).copied()
                } else {
                    None
                };
                self.x_mention(
                    &x_id,
                    &text,
                    now,
                    reply_to,
                    language.code(),
                    category,
                    language,
                )
            }
            _ => self.x_dm(&x_id, &text, now, category, language),
        }
    }

    /// Creates the item an injection describes.
    pub fn inject(
        &mut self,
        injection: &Injection,
    ) -> Result<(GeneratedItem, Vec<Outgoing>), String> {
        let person_index = self.rng.gen_range(0..self.people.len());
        let language = self.people[person_index].language;
        let at_secs = injection.at.unwrap_or_else(now_secs);
        let at_ms = injection.at.map(|secs| secs * 1000).unwrap_or_else(now_ms);
        let default_name = self.people[person_index].name.clone();
        let name = injection.author_name.clone().unwrap_or(default_name);
        let category = Category::Injected;
        let text = injection.text.as_str();
        let given = injection.author_id.clone();
        match injection.platform {
            Source::Facebook => {
                let author = given.unwrap_or_else(|| self.people[person_index].fb_id.clone());
                let parent = injection.parent_id.clone();
                let post = match (&injection.post_id, &parent) {
                    (Some(post), _) => post.clone(),
                    (None, Some(parent)) => self
                        .comments
                        .iter()
                        .find(|comment| &comment.id == parent)
                        .map(|comment| comment.post_id.clone())
                        .ok_or_else(|| format!("unknown parent comment {parent}"))?,
                    (None, None) => self
                        .posts
                        .last()
                        .map(|post| post.id.clone())
                        .unwrap_or_default(),
                };
                if !self.posts.iter().any(|known| known.id == post) {
                    return Err(format!("unknown post {post}"));
                }
                if let Some(parent) = &parent {
                    if !self.comments.iter().any(|comment| &comment.id == parent) {
                        return Err(format!("unknown parent comment {parent}"));
                    }
                }
                Ok(self.facebook_comment(
                    &post, parent, &author, &name, text, at_secs, category, language,
                ))
            }
            Source::Messenger => {
                let psid = given.unwrap_or_else(|| self.people[person_index].psid.clone());
                Ok(self.messenger_inbound(&psid, &name, text, at_ms, category, language))
            }
            Source::Whatsapp => {
                let wa_id = given.unwrap_or_else(|| self.people[person_index].wa_id.clone());
                Ok(self.whatsapp_inbound(&wa_id, &name, "text", text, at_secs, category, language))
            }
            Source::FacebookMention => {
                let author = given.unwrap_or_else(|| self.people[person_index].fb_id.clone());
                let is_comment = match injection.item.as_deref() {
                    None | Some("post") => false,
                    Some("comment") => true,
                    Some(other) => {
                        return Err(format!("unknown mention item {other}: use post or comment"))
                    }
                };
                if let Some(post) = &injection.post_id {
                    if !is_comment {
                        return Err("post_id is for a mention of item comment".to_string());
                    }
                    if !is_graph_object_id(post) {
                        return Err(format!(
                            "post_id {post} is not a Graph post id (<userid>_<postid>)"
                        ));
                    }
                }
                Ok(self.facebook_mention(
                    &author,
                    &name,
                    is_comment,
                    injection.post_id.clone(),
                    text,
                    at_secs,
                    category,
                    language,
                ))
            }
            Source::FacebookReview => {
                let author = given.unwrap_or_else(|| self.people[person_index].fb_id.clone());
                let recommendation = injection.recommendation.as_deref().unwrap_or("positive");
                if !matches!(recommendation, "positive" | "negative") {
                    return Err(format!(
                        "unknown recommendation {recommendation}: use positive or negative"
                    ));
                }
                Ok(self.facebook_review(
                    &author,
                    &name,
                    recommendation,
                    text,
                    at_secs,
                    category,
                    language,
                ))
            }
            Source::X | Source::XDm | Source::XPost => {
                let x_id = given.unwrap_or_else(|| self.people[person_index].x_id.clone());
                if !self.x_users.contains_key(&x_id) || injection.author_name.is_some() {
                    let handle: String = name
                        .chars()
                        .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
                        .take(15)
                        .collect::<String>()
                        .to_lowercase();
                    let username = self
                        .x_users
                        .get(&x_id)
                        .map(|user| user.username.clone())
                        .unwrap_or_else(|| {
                            if handle.is_empty() {
                                format!("user{}", x_id.chars().rev().take(6).collect::<String>())
                            } else {
                                handle
                            }
                        });
                    self.x_users.insert(
                        x_id.clone(),
                        XUser {
                            id: x_id.clone(),
                            name: name.clone(),
                            username,
                        },
                    );
                }
                if injection.platform == Source::XDm {
                    return Ok(self.x_dm(&x_id, text, at_ms, category, language));
                }
                if injection.platform == Source::XPost {
                    return self.inject_x_post(
                        injection,
                        &x_id,
                        person_index,
                        at_ms,
                        category,
                        language,
                    );
                }
                let reply_to = match &injection.parent_id {
                    Some(parent) => Some(
                        parent
                            .parse::<u64>()
                            .ok()
                            .filter(|id| self.tweets.iter().any(|tweet| tweet.id == *id))
                            .ok_or_else(|| format!("unknown post {parent}"))?,
                    ),
                    None => None,
                };
                let text = if text.to_lowercase().contains(&format!("@{X_USERNAME}")) {
                    text.to_string()
                } else {
                    format!("@{X_USERNAME} {text}")
                };
                let lang = injection
                    .lang
                    .as_deref()
                    .map(str::to_lowercase)
                    .unwrap_or_else(|| language.code().to_string());
                let language = Language::from_code(&lang).unwrap_or(language);
                Ok(self.x_mention(&x_id, &text, at_ms, reply_to, &lang, category, language))
            }
        }
    }

    /// An injected X post: checked, then stored (with its original when it is a retweet).
    fn inject_x_post(
        &mut self,
        injection: &Injection,
        x_id: &str,
        person_index: usize,
        at_ms: i64,
        category: Category,
        language: Language,
    ) -> Result<(GeneratedItem, Vec<Outgoing>), String> {
        let text = injection.text.as_str();
        let parent = match &injection.parent_id {
            Some(parent) => Some(
                parent
                    .parse::<u64>()
                    .ok()
                    .filter(|id| self.tweets.iter().any(|tweet| tweet.id == *id))
                    .ok_or_else(|| format!("unknown post {parent}"))?,
            ),
            None => None,
        };
        let us = self.config.x_user_id.clone();
        let lang = match &injection.lang {
            Some(lang) => lang.to_lowercase(),
            None => self
                .people
                .iter()
                .find(|person| person.x_id == x_id)
                .map(|person| person.language)
                .unwrap_or(self.people[person_index].language)
                .code()
                .to_string(),
        };
        // A retweet of an existing post carries that post's text, whatever it says.
        let reposts_existing = injection.retweet && parent.is_some();
        if !reposts_existing && text.to_lowercase().contains(&format!("@{X_USERNAME}")) {
            return Err(format!(
                "an x_post does not mention @{X_USERNAME}; inject an x mention instead"
            ));
        }
        let (reply_to, retweet_of) = if injection.retweet {
            let original = match parent {
                Some(original) => original,
                None => {
                    let author = self.someone_else_on_x(x_id);
                    self.x_original(&author, text, &lang, at_ms - RETWEET_ORIGINAL_AGE_MS)
                }
            };
            (None, Some(original))
        } else {
            let replies_to_us = parent.is_some_and(|parent| {
                self.tweets
                    .iter()
                    .any(|tweet| tweet.id == parent && tweet.author_id == us)
            });
            if replies_to_us {
                return Err(format!(
                    "a reply to @{X_USERNAME}'s post mentions it; inject an x mention instead"
                ));
            }
            (parent, None)
        };
        let language = Language::from_code(&lang).unwrap_or(language);
        Ok(self.x_post(
            x_id, text, &lang, at_ms, reply_to, retweet_of, category, language,
        ))
    }

    // ---- generation of the listening surfaces ---------------------------------------------

    /// `count` posts naming the brand on X without tagging the account, written over the
    /// `span_ms` before now, oldest first: what a new saved search finds in recent search's
    /// week (the demo starts with them).
    pub fn backfill_x_posts(&mut self, count: usize, span_ms: i64) -> Vec<GeneratedItem> {
        let now = now_ms();
        (0..count)
            .map(|n| {
                let person = self.rng.gen_range(0..self.people.len());
                let at = now - span_ms + span_ms * n as i64 / count.max(1) as i64;
                self.generate_x_post(person, at).0
            })
            .collect()
    }

    /// A post naming the brand on X without tagging the account; some Spanish ones are
    /// retweets of an older post.
    fn generate_x_post(
        &mut self,
        person_index: usize,
        now_ms: i64,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let x_id = self.people[person_index].x_id.clone();
        let language = match self.people[person_index].language {
            Language::En => Language::En,
            _ => Language::Es,
        };
        let options = if language == Language::En {
            content::X_POSTS_EN
        } else {
            content::X_POSTS_ES
        };
        let (text, category) = options
            .choose(&mut self.rng)
            .copied()
            .unwrap_or(("tiendabuzon", Category::Normal));
        // Only Spanish ones are reposted: the demo finds retweets with its Spanish search.
        let retweet = language == Language::Es && self.rng.gen_bool(0.3);
        let retweet_of = if retweet {
            let author = self.someone_else_on_x(&x_id);
            Some(self.x_original(
                &author,
                text,
                language.code(),
                now_ms - RETWEET_ORIGINAL_AGE_MS,
            ))
        } else {
            None
        };
        self.x_post(
            &x_id,
            text,
            language.code(),
            now_ms,
            None,
            retweet_of,
            category,
            language,
        )
    }

    /// A post (or, less often, a comment) elsewhere on Facebook that tags the Page.
    fn generate_facebook_mention(
        &mut self,
        person_index: usize,
        now_secs: i64,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let (text, language, category) = content::FACEBOOK_MENTIONS
            .choose(&mut self.rng)
            .copied()
            .unwrap_or((PAGE_NAME, Language::Es, Category::Normal));
        let is_comment = self.rng.gen_bool(0.3);
        let (fb_id, name) = {
            let person = &self.people[person_index];
            (person.fb_id.clone(), person.name.clone())
        };
        self.facebook_mention(
            &fb_id, &name, is_comment, None, text, now_secs, category, language,
        )
    }

    /// A positive or negative review of the Page.
    fn generate_review(
        &mut self,
        person_index: usize,
        now_secs: i64,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let (text, language, positive) = content::REVIEWS
            .choose(&mut self.rng)
            .copied()
            .unwrap_or(("", Language::Es, true));
        let (fb_id, name) = {
            let person = &self.people[person_index];
            (person.fb_id.clone(), person.name.clone())
        };
        let (recommendation, category) = if positive {
            ("positive", Category::Normal)
        } else {
            ("negative", Category::Urgent)
        };
        self.facebook_review(
            &fb_id,
            &name,
            recommendation,
            text,
            now_secs,
            category,
            language,
        )
    }

    /// The X id of a person other than `x_id`.
    fn someone_else_on_x(&mut self, x_id: &str) -> String {
        let others: Vec<String> = self
            .people
            .iter()
            .map(|person| person.x_id.clone())
            .filter(|other| other != x_id)
            .collect();
        let index = self.id_rng.gen_range(0..others.len().max(1));
        others
            .get(index)
            .cloned()
            .unwrap_or_else(|| x_id.to_string())
    }

    // ---- Facebook ----------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn facebook_comment(
        &mut self,
        post_id: &str,
        parent_id: Option<String>,
        from_id: &str,
        from_name: &str,
        message: &str,
        created: i64,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let (comment_id, outgoing) = self.add_comment(
            post_id,
            parent_id.clone(),
            from_id,
            from_name,
            message,
            created,
        );
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::Facebook,
            kind: if parent_id.is_some() {
                "reply"
            } else {
                "comment"
            }
            .to_string(),
            id: comment_id,
            thread_id: post_id.to_string(),
            parent_id,
            author_id: from_id.to_string(),
            author_name: from_name.to_string(),
            text: message.to_string(),
            at: created,
            category,
            language,
        });
        (item, outgoing)
    }

    /// Whether `post_id` is one of the Page's own posts (whose comments make `feed` webhooks).
    pub fn is_page_post(&self, post_id: &str) -> bool {
        self.posts.iter().any(|post| post.id == post_id)
    }

    /// Stores a comment (a reply when `parent_id` is set) and returns its id and, on the
    /// Page's own posts, its `feed` webhook (comments elsewhere, such as the Page's replies to
    /// mentions and reviews, are not in the Page's feed).
    pub fn add_comment(
        &mut self,
        post_id: &str,
        parent_id: Option<String>,
        from_id: &str,
        from_name: &str,
        message: &str,
        created: i64,
    ) -> (String, Vec<Outgoing>) {
        let post_part = post_id.split('_').nth(1).unwrap_or(post_id).to_string();
        let comment_id = format!("{post_part}_{}", self.fb_id());
        let seq = self.comments.len() as u64 + 1;
        self.comments.push(Comment {
            seq,
            id: comment_id.clone(),
            post_id: post_id.to_string(),
            parent_id: parent_id.clone(),
            from_id: from_id.to_string(),
            from_name: from_name.to_string(),
            message: message.to_string(),
            created,
            hidden: false,
            deleted: false,
        });
        let outgoing = if self.is_page_post(post_id) {
            vec![self.feed_webhook(comment_id.as_str(), "add")]
        } else {
            Vec::new()
        };
        (comment_id, outgoing)
    }

    /// The Page `feed` webhook for a comment and a verb (`add`, `hide`, `unhide`, `remove`).
    pub fn feed_webhook(&self, comment_id: &str, verb: &str) -> Outgoing {
        let page_id = &self.config.facebook_page_id;
        let comment = self
            .comments
            .iter()
            .find(|comment| comment.id == comment_id)
            .expect("the comment of a feed webhook exists");
        let post = self.posts.iter().find(|post| post.id == comment.post_id);
        let mut value = json!({
            "from": {"id": comment.from_id, "name": comment.from_name},
            "post": {
                "status_type": "mobile_status_update",
                "is_published": true,
                "updated_time": graph_time(comment.created),
                "promotion_status": "inactive",
                "id": comment.post_id,
            },
            "post_id": comment.post_id,
            "comment_id": comment.id,
            "item": "comment",
            "parent_id": comment.parent_id.clone().unwrap_or_else(|| comment.post_id.clone()),
            "verb": verb,
        });
        if verb != "remove" {
            value["message"] = json!(comment.message);
            value["created_time"] = json!(comment.created);
        }
        if post.is_none() {
            value.as_object_mut().map(|object| object.remove("post"));
        }
        let body = json!({
            "object": "page",
            "entry": [{
                "id": page_id,
                "time": now_secs(),
                "changes": [{"value": value, "field": "feed"}],
            }],
        });
        Outgoing::now(Platform::Facebook, meta_json(&body))
    }

    // ---- Facebook listening: mentions and reviews -------------------------------------------

    /// Stores a post on the author's own timeline (or a comment on someone else's post) that
    /// tags the Page, and returns its `mention` webhook. The tag is the Page's name in the
    /// text, added in front when the text lacks it.
    #[allow(clippy::too_many_arguments)]
    fn facebook_mention(
        &mut self,
        from_id: &str,
        from_name: &str,
        is_comment: bool,
        host_post: Option<String>,
        message: &str,
        created: i64,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let message = if message.contains(PAGE_NAME) {
            message.to_string()
        } else {
            format!("{PAGE_NAME} {message}")
        };
        let (id, post_id) = if is_comment {
            let post_id = match host_post {
                Some(post_id) => post_id,
                None => {
                    let owners: Vec<String> = self
                        .people
                        .iter()
                        .map(|person| person.fb_id.clone())
                        .filter(|owner| owner != from_id)
                        .collect();
                    let owner = owners
                        .get(self.id_rng.gen_range(0..owners.len().max(1)))
                        .cloned()
                        .unwrap_or_else(|| from_id.to_string());
                    format!("{owner}_{}", self.fb_id())
                }
            };
            let post_part = post_id.split('_').nth(1).unwrap_or(&post_id).to_string();
            (format!("{post_part}_{}", self.fb_id()), post_id)
        } else {
            let id = format!("{from_id}_{}", self.fb_id());
            (id.clone(), id)
        };
        self.tagged.push(Tagged {
            seq: self.tagged.len() as u64 + 1,
            id: id.clone(),
            is_comment,
            post_id: post_id.clone(),
            from_id: from_id.to_string(),
            from_name: from_name.to_string(),
            message: message.clone(),
            created,
            removed: false,
        });
        let outgoing = self.mention_webhook(&id, "add");
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::FacebookMention,
            kind: if is_comment { "comment" } else { "post" }.to_string(),
            id,
            thread_id: post_id,
            parent_id: None,
            author_id: from_id.to_string(),
            author_name: from_name.to_string(),
            text: message,
            at: created,
            category,
            language,
        });
        (item, vec![outgoing])
    }

    /// The Page `mention` webhook of a tagged post or comment: who and where, never the text
    /// (clients fetch the object).
    pub fn mention_webhook(&self, id: &str, verb: &str) -> Outgoing {
        let tagged = self
            .tagged
            .iter()
            .find(|tagged| tagged.id == id)
            .expect("the object of a mention webhook exists");
        let mut value = json!({
            "post_id": tagged.post_id,
            "sender_name": tagged.from_name,
            "sender_id": tagged.from_id,
            "item": if tagged.is_comment { "comment" } else { "post" },
            "verb": verb,
        });
        if tagged.is_comment {
            value["comment_id"] = json!(tagged.id);
        }
        self.page_change("mention", value)
    }

    /// Stores a review of the Page and returns its `ratings` webhook.
    #[allow(clippy::too_many_arguments)]
    fn facebook_review(
        &mut self,
        reviewer_id: &str,
        reviewer_name: &str,
        recommendation: &str,
        text: &str,
        created: i64,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let id = format!("{reviewer_id}_{}", self.fb_id());
        self.reviews.push(Review {
            seq: self.reviews.len() as u64 + 1,
            id: id.clone(),
            reviewer_id: reviewer_id.to_string(),
            reviewer_name: reviewer_name.to_string(),
            recommendation: recommendation.to_string(),
            text: text.to_string(),
            created,
            removed: false,
        });
        let outgoing = self.rating_webhook(&id, "add");
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::FacebookReview,
            kind: "review".to_string(),
            id: id.clone(),
            thread_id: id,
            parent_id: None,
            author_id: reviewer_id.to_string(),
            author_name: reviewer_name.to_string(),
            text: text.to_string(),
            at: created,
            category,
            language,
        });
        (item, vec![outgoing])
    }

    /// The Page `ratings` webhook of a review (no recommendation or text on `remove`).
    pub fn rating_webhook(&self, id: &str, verb: &str) -> Outgoing {
        let review = self
            .reviews
            .iter()
            .find(|review| review.id == id)
            .expect("the review of a ratings webhook exists");
        let mut value = json!({
            "item": "rating",
            "verb": verb,
            "review_id": review.id,
            "open_graph_story_id": review.id,
            "reviewer_id": review.reviewer_id,
            "reviewer_name": review.reviewer_name,
            "created_time": review.created,
        });
        if verb != "remove" {
            value["recommendation_type"] = json!(review.recommendation);
            if !review.text.is_empty() {
                value["review_text"] = json!(review.text);
            }
        }
        self.page_change("ratings", value)
    }

    /// A Page webhook with one change of `field`.
    fn page_change(&self, field: &str, value: Value) -> Outgoing {
        let body = json!({
            "object": "page",
            "entry": [{
                "id": self.config.facebook_page_id,
                "time": now_secs(),
                "changes": [{"value": value, "field": field}],
            }],
        });
        Outgoing::now(Platform::Facebook, meta_json(&body))
    }

    /// Changes the text of something a customer wrote (a tagged post or comment, a review or
    /// a comment on the Page's feed) and returns where it was and what the platform sends:
    /// `mention` or `ratings` with verb `edit`, `feed` with verb `edited`.
    pub fn edit_item(&mut self, id: &str, text: &str) -> Result<(Source, Vec<Outgoing>), String> {
        if let Some(tagged) = self
            .tagged
            .iter_mut()
            .find(|tagged| tagged.id == id && !tagged.removed)
        {
            tagged.message = text.to_string();
            return Ok((
                Source::FacebookMention,
                vec![self.mention_webhook(id, "edit")],
            ));
        }
        if let Some(review) = self
            .reviews
            .iter_mut()
            .find(|review| review.id == id && !review.removed)
        {
            review.text = text.to_string();
            return Ok((
                Source::FacebookReview,
                vec![self.rating_webhook(id, "edit")],
            ));
        }
        let page_id = self.config.facebook_page_id.clone();
        if let Some(comment) = self
            .comments
            .iter_mut()
            .find(|comment| comment.id == id && !comment.deleted && comment.from_id != page_id)
        {
            comment.message = text.to_string();
            let post_id = comment.post_id.clone();
            let outgoing = if self.is_page_post(&post_id) {
                vec![self.feed_webhook(id, "edited")]
            } else {
                Vec::new()
            };
            return Ok((Source::Facebook, outgoing));
        }
        Err(format!("no item {id} to edit (unknown or removed)"))
    }

    /// Removes something a customer wrote (as [`World::edit_item`] finds it) and returns
    /// where it was and what the platform sends (verb `remove`).
    pub fn remove_item(&mut self, id: &str) -> Result<(Source, Vec<Outgoing>), String> {
        if let Some(tagged) = self
            .tagged
            .iter_mut()
            .find(|tagged| tagged.id == id && !tagged.removed)
        {
            tagged.removed = true;
            return Ok((
                Source::FacebookMention,
                vec![self.mention_webhook(id, "remove")],
            ));
        }
        if let Some(review) = self
            .reviews
            .iter_mut()
            .find(|review| review.id == id && !review.removed)
        {
            review.removed = true;
            return Ok((
                Source::FacebookReview,
                vec![self.rating_webhook(id, "remove")],
            ));
        }
        let page_id = self.config.facebook_page_id.clone();
        if let Some(comment) = self
            .comments
            .iter_mut()
            .find(|comment| comment.id == id && !comment.deleted && comment.from_id != page_id)
        {
            comment.deleted = true;
            let post_id = comment.post_id.clone();
            let outgoing = if self.is_page_post(&post_id) {
                vec![self.feed_webhook(id, "remove")]
            } else {
                Vec::new()
            };
            return Ok((Source::Facebook, outgoing));
        }
        Err(format!("no item {id} to remove (unknown or removed)"))
    }

    fn messenger_inbound(
        &mut self,
        psid: &str,
        name: &str,
        text: &str,
        at_ms: i64,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let mid = self.mid();
        self.messenger_names
            .entry(psid.to_string())
            .or_insert_with(|| name.to_string());
        self.messenger.push(MessengerMessage {
            psid: psid.to_string(),
            inbound: true,
            at_ms,
        });
        let page_id = &self.config.facebook_page_id;
        let body = json!({
            "object": "page",
            "entry": [{
                "id": page_id,
                "time": now_ms(),
                "messaging": [{
                    "sender": {"id": psid},
                    "recipient": {"id": page_id},
                    "timestamp": at_ms,
                    "message": {"mid": mid, "text": text},
                }],
            }],
        });
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::Messenger,
            kind: "message".to_string(),
            id: mid,
            thread_id: psid.to_string(),
            parent_id: None,
            author_id: psid.to_string(),
            author_name: name.to_string(),
            text: text.to_string(),
            at: at_ms / 1000,
            category,
            language,
        });
        (
            item,
            vec![Outgoing::now(Platform::Facebook, meta_json(&body))],
        )
    }

    /// When the person behind `psid` last wrote to the Page, milliseconds.
    pub fn messenger_last_inbound(&self, psid: &str) -> Option<i64> {
        self.messenger
            .iter()
            .filter(|message| message.inbound && message.psid == psid)
            .map(|message| message.at_ms)
            .max()
    }

    /// Records a message the Page sent.
    pub fn messenger_outbound(&mut self, psid: &str) -> String {
        let mid = self.mid();
        self.messenger.push(MessengerMessage {
            psid: psid.to_string(),
            inbound: false,
            at_ms: now_ms(),
        });
        mid
    }

    // ---- WhatsApp ----------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn whatsapp_inbound(
        &mut self,
        wa_id: &str,
        name: &str,
        kind: &str,
        text: &str,
        at: i64,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let wamid = self.wamid(wa_id);
        let mut message = json!({
            "from": wa_id,
            "id": wamid,
            "timestamp": at.to_string(),
            "type": kind,
        });
        let mut shown = text.to_string();
        match kind {
            "image" => {
                let media_id = format!(
                    "{}",
                    self.id_rng
                        .gen_range(100_000_000_000_000u64..999_999_999_999_999)
                );
                let mut sha = [0u8; 32];
                self.id_rng.fill(&mut sha);
                let sha256 = base64::engine::general_purpose::STANDARD.encode(sha);
                let mut image =
                    json!({"mime_type": "image/jpeg", "sha256": sha256, "id": media_id});
                if self.rng.gen_bool(0.5) {
                    image["caption"] = json!(text);
                } else {
                    shown = String::new();
                }
                self.media
                    .insert(media_id, ("image/jpeg".to_string(), sha256));
                message["image"] = image;
            }
            "location" => {
                message["location"] = json!({
                    "latitude": -33.4372,
                    "longitude": -70.6506,
                    "name": "Tienda Buzón Centro",
                    "address": "Av. Providencia 1234, Santiago",
                });
                shown = "Tienda Buzón Centro".to_string();
            }
            "reaction" => {
                let target = self
                    .whatsapp
                    .iter()
                    .rev()
                    .find(|earlier| earlier.wa_id == wa_id && !earlier.inbound)
                    .or_else(|| {
                        self.whatsapp
                            .iter()
                            .rev()
                            .find(|earlier| earlier.wa_id == wa_id)
                    })
                    .map(|earlier| earlier.wamid.clone());
                match target {
                    Some(target) => {
                        let emoji = content::REACTIONS
                            .choose(&mut self.rng)
                            .copied()
                            .unwrap_or("👍");
                        message["reaction"] = json!({"message_id": target, "emoji": emoji});
                        shown = emoji.to_string();
                    }
                    None => {
                        message["type"] = json!("text");
                        message["text"] = json!({"body": text});
                    }
                }
            }
            _ => message["text"] = json!({"body": text}),
        }
        let kind = message["type"].as_str().unwrap_or("text").to_string();
        self.whatsapp.push(WhatsappMessage {
            wamid: wamid.clone(),
            wa_id: wa_id.to_string(),
            inbound: true,
            at,
        });
        let body = json!({
            "object": "whatsapp_business_account",
            "entry": [{
                "id": WABA_ID,
                "changes": [{
                    "value": {
                        "messaging_product": "whatsapp",
                        "metadata": self.whatsapp_metadata(),
                        "contacts": [{"profile": {"name": name}, "wa_id": wa_id}],
                        "messages": [message],
                    },
                    "field": "messages",
                }],
            }],
        });
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::Whatsapp,
            kind: if kind == "text" {
                "message".to_string()
            } else {
                kind
            },
            id: wamid,
            thread_id: wa_id.to_string(),
            parent_id: None,
            author_id: wa_id.to_string(),
            author_name: name.to_string(),
            text: shown,
            at,
            category,
            language,
        });
        (
            item,
            vec![Outgoing::now(Platform::Whatsapp, meta_json(&body))],
        )
    }

    fn whatsapp_metadata(&self) -> Value {
        json!({
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": self.config.whatsapp_phone_number_id,
        })
    }

    /// When `wa_id` last wrote to the business number, Unix seconds.
    pub fn whatsapp_last_inbound(&self, wa_id: &str) -> Option<i64> {
        self.whatsapp
            .iter()
            .filter(|message| message.inbound && message.wa_id == wa_id)
            .map(|message| message.at)
            .max()
    }

    /// Records an accepted send and returns its wamid and the status webhooks to come, which
    /// echo the sender's `biz_opaque_callback_data` as the Cloud API does.
    pub fn whatsapp_outbound(
        &mut self,
        wa_id: &str,
        kind: &str,
        template_category: Option<&str>,
        reference: Option<&str>,
    ) -> (String, Vec<Outgoing>) {
        let wamid = self.wamid(wa_id);
        let now = now_secs();
        self.whatsapp.push(WhatsappMessage {
            wamid: wamid.clone(),
            wa_id: wa_id.to_string(),
            inbound: false,
            at: now,
        });
        let conversation_id: String = (0..30)
            .map(|_| char::from(b"0123456789abcdef"[self.id_rng.gen_range(0..16)]))
            .collect();
        let (billable, pricing_type, category, origin) = match template_category {
            Some(category) => (true, "regular", category.to_string(), category.to_string()),
            None => (
                false,
                "free_customer_service",
                "service".to_string(),
                "service".to_string(),
            ),
        };
        let statuses: &[(&str, u64)] = if kind == "reaction" {
            &[("sent", 150)]
        } else {
            &[("sent", 150), ("delivered", 400), ("read", 900)]
        };
        let outgoing = statuses
            .iter()
            .map(|(status, delay_ms)| {
                let mut conversation = json!({"id": conversation_id, "origin": {"type": origin}});
                if *status == "sent" {
                    conversation["expiration_timestamp"] = json!((now + 86_400).to_string());
                }
                let mut entry = json!({
                    "id": wamid,
                    "status": status,
                    "timestamp": (now + (*delay_ms as i64) / 1000).to_string(),
                    "recipient_id": wa_id,
                    "conversation": conversation,
                    "pricing": {
                        "billable": billable,
                        "pricing_model": "PMP",
                        "type": pricing_type,
                        "category": category,
                    },
                });
                if let Some(reference) = reference {
                    entry["biz_opaque_callback_data"] = json!(reference);
                }
                let body = json!({
                    "object": "whatsapp_business_account",
                    "entry": [{
                        "id": WABA_ID,
                        "changes": [{
                            "value": {
                                "messaging_product": "whatsapp",
                                "metadata": self.whatsapp_metadata(),
                                "statuses": [entry],
                            },
                            "field": "messages",
                        }],
                    }],
                });
                Outgoing {
                    platform: Platform::Whatsapp,
                    body: meta_json(&body),
                    delay: Duration::from_millis(*delay_ms),
                }
            })
            .collect();
        (wamid, outgoing)
    }

    // ---- X -----------------------------------------------------------------------------

    #[allow(clippy::too_many_arguments)]
    fn x_mention(
        &mut self,
        author_id: &str,
        text: &str,
        at_ms: i64,
        reply_to: Option<u64>,
        lang: &str,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let text = if text.starts_with('@') {
            text.to_string()
        } else {
            format!("@{X_USERNAME} {text}")
        };
        let id = self.snowflake_for(at_ms);
        let parent =
            reply_to.and_then(|parent| self.tweets.iter().find(|tweet| tweet.id == parent));
        let conversation_id = parent.map(|tweet| tweet.conversation_id).unwrap_or(id);
        let in_reply_to_user_id = parent.map(|tweet| tweet.author_id.clone());
        self.tweets.push(Tweet {
            id,
            author_id: author_id.to_string(),
            text: text.clone(),
            created_ms: at_ms,
            conversation_id,
            in_reply_to_tweet_id: reply_to,
            in_reply_to_user_id,
            language: lang.to_string(),
            hidden: false,
            mentions_us: true,
            retweet_of: None,
        });
        let outgoing = self.tweet_webhook(id);
        let author_name = self
            .x_users
            .get(author_id)
            .map(|user| user.name.clone())
            .unwrap_or_default();
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::X,
            kind: "mention".to_string(),
            id: id.to_string(),
            thread_id: conversation_id.to_string(),
            parent_id: reply_to.map(|parent| parent.to_string()),
            author_id: author_id.to_string(),
            author_name,
            text,
            at: at_ms / 1000,
            category,
            language,
        });
        (item, vec![outgoing])
    }

    /// Stores a post by the account (a reply when `reply_to` is set) and returns its id.
    pub fn x_own_post(&mut self, text: &str, reply_to: Option<u64>) -> (u64, Outgoing) {
        let id = self.snowflake();
        let parent =
            reply_to.and_then(|parent| self.tweets.iter().find(|tweet| tweet.id == parent));
        let conversation_id = parent.map(|tweet| tweet.conversation_id).unwrap_or(id);
        let in_reply_to_user_id = parent.map(|tweet| tweet.author_id.clone());
        self.tweets.push(Tweet {
            id,
            author_id: self.config.x_user_id.clone(),
            text: text.to_string(),
            created_ms: now_ms(),
            conversation_id,
            in_reply_to_tweet_id: reply_to,
            in_reply_to_user_id,
            language: "und".to_string(),
            hidden: false,
            mentions_us: false,
            retweet_of: None,
        });
        (id, self.tweet_webhook(id))
    }

    /// Stores a public post that does not mention the account (a reply to `reply_to`, or a
    /// retweet of `retweet_of`). X sends no Account Activity event for it: only recent
    /// search finds it.
    #[allow(clippy::too_many_arguments)]
    fn x_post(
        &mut self,
        author_id: &str,
        text: &str,
        lang: &str,
        at_ms: i64,
        reply_to: Option<u64>,
        retweet_of: Option<u64>,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let original = retweet_of.and_then(|original| {
            self.tweets
                .iter()
                .find(|tweet| tweet.id == original)
                .map(|tweet| (tweet.author_id.clone(), tweet.text.clone()))
        });
        let text = match original {
            Some((original_author, original_text)) => {
                let username = self
                    .x_users
                    .get(&original_author)
                    .map(|user| user.username.clone())
                    .unwrap_or_default();
                retweet_text(&username, &original_text)
            }
            None => text.to_string(),
        };
        let id = self.snowflake_for(at_ms);
        let parent =
            reply_to.and_then(|parent| self.tweets.iter().find(|tweet| tweet.id == parent));
        let conversation_id = parent.map(|tweet| tweet.conversation_id).unwrap_or(id);
        let in_reply_to_user_id = parent.map(|tweet| tweet.author_id.clone());
        self.tweets.push(Tweet {
            id,
            author_id: author_id.to_string(),
            text: text.clone(),
            created_ms: at_ms,
            conversation_id,
            in_reply_to_tweet_id: reply_to,
            in_reply_to_user_id,
            language: lang.to_string(),
            hidden: false,
            mentions_us: false,
            retweet_of,
        });
        let author_name = self
            .x_users
            .get(author_id)
            .map(|user| user.name.clone())
            .unwrap_or_default();
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::XPost,
            kind: if retweet_of.is_some() {
                "retweet"
            } else {
                "post"
            }
            .to_string(),
            id: id.to_string(),
            thread_id: conversation_id.to_string(),
            parent_id: retweet_of.or(reply_to).map(|parent| parent.to_string()),
            author_id: author_id.to_string(),
            author_name,
            text,
            at: at_ms / 1000,
            category,
            language,
        });
        (item, Vec::new())
    }

    /// Stores someone's post written at `at_ms` (the original of a retweet); returns its id.
    fn x_original(&mut self, author_id: &str, text: &str, lang: &str, at_ms: i64) -> u64 {
        let id = self.snowflake_at(at_ms);
        self.tweets.push(Tweet {
            id,
            author_id: author_id.to_string(),
            text: text.to_string(),
            created_ms: at_ms,
            conversation_id: id,
            in_reply_to_tweet_id: None,
            in_reply_to_user_id: None,
            language: lang.to_string(),
            hidden: false,
            mentions_us: false,
            retweet_of: None,
        });
        id
    }

    /// The v1.1 user object of an X user, as Account Activity payloads carry it.
    fn v1_user(&self, id: &str) -> Value {
        let user = self.x_users.get(id).cloned().unwrap_or(XUser {
            id: id.to_string(),
            name: String::new(),
            username: String::new(),
        });
        json!({
            "id": id.parse::<u64>().unwrap_or(0),
            "id_str": id,
            "name": user.name,
            "screen_name": user.username,
            "location": null,
            "url": null,
            "description": null,
            "protected": false,
            "verified": false,
            "followers_count": 12,
            "friends_count": 34,
            "listed_count": 0,
            "favourites_count": 5,
            "statuses_count": 120,
            "created_at": "Mon Mar 02 14:00:00 +0000 2020",
            "profile_image_url_https": "https://abs.twimg.com/sticky/default_profile_images/default_profile_normal.png",
            "default_profile_image": true,
        })
    }

    /// The Account Activity `tweet_create_events` webhook for a stored post.
    fn tweet_webhook(&self, id: u64) -> Outgoing {
        let tweet = self
            .tweets
            .iter()
            .find(|tweet| tweet.id == id)
            .expect("the post of a webhook exists");
        let characters: Vec<char> = tweet.text.chars().collect();
        let truncated = characters.len() > 140;
        let mut mentions = Vec::new();
        if tweet.mentions_us {
            if let Some(start) = tweet.text.to_lowercase().find(&format!("@{X_USERNAME}")) {
                let start = tweet.text[..start].chars().count();
                mentions.push(json!({
                    "screen_name": X_USERNAME,
                    "name": X_NAME,
                    "id": self.config.x_user_id.parse::<u64>().unwrap_or(0),
                    "id_str": self.config.x_user_id,
                    "indices": [start, start + 1 + X_USERNAME.len()],
                }));
            }
        }
        let entities =
            json!({"hashtags": [], "urls": [], "user_mentions": mentions, "symbols": []});
        let shown: String = if truncated {
            characters[..137].iter().collect::<String>() + "…"
        } else {
            tweet.text.clone()
        };
        let reply_to_user = tweet.in_reply_to_user_id.clone();
        let mut event = json!({
            "created_at": v1_time(tweet.created_ms),
            "id": tweet.id,
            "id_str": tweet.id.to_string(),
            "text": shown,
            "display_text_range": [0, shown.chars().count()],
            "source": "<a href=\"https://mobile.twitter.com\" rel=\"nofollow\">Twitter Web App</a>",
            "truncated": truncated,
            "in_reply_to_status_id": tweet.in_reply_to_tweet_id,
            "in_reply_to_status_id_str": tweet.in_reply_to_tweet_id.map(|parent| parent.to_string()),
            "in_reply_to_user_id": reply_to_user.as_ref().and_then(|user| user.parse::<u64>().ok()),
            "in_reply_to_user_id_str": reply_to_user,
            "in_reply_to_screen_name": tweet.in_reply_to_user_id.as_ref().and_then(|user| self.x_users.get(user)).map(|user| user.username.clone()),
            "user": self.v1_user(&tweet.author_id),
            "geo": null,
            "coordinates": null,
            "place": null,
            "contributors": null,
            "is_quote_status": false,
            "quote_count": 0,
            "reply_count": 0,
            "retweet_count": 0,
            "favorite_count": 0,
            "entities": entities,
            "favorited": false,
            "retweeted": false,
            "filter_level": "low",
            "lang": tweet.language,
            "timestamp_ms": tweet.created_ms.to_string(),
        });
        if truncated {
            event["extended_tweet"] = json!({
                "full_text": tweet.text,
                "display_text_range": [0, characters.len()],
                "entities": entities,
            });
        }
        let body = json!({
            "for_user_id": self.config.x_user_id,
            "user_has_blocked": "false",
            "tweet_create_events": [event],
        });
        Outgoing::now(Platform::X, x_json(&body))
    }

    fn x_dm(
        &mut self,
        sender_id: &str,
        text: &str,
        at_ms: i64,
        category: Category,
        language: Language,
    ) -> (GeneratedItem, Vec<Outgoing>) {
        let us = self.config.x_user_id.clone();
        let (id, outgoing) = self.add_dm(sender_id, sender_id, &us, text, at_ms);
        let conversation = dm_conversation_id(sender_id, &us);
        let author_name = self
            .x_users
            .get(sender_id)
            .map(|user| user.name.clone())
            .unwrap_or_default();
        let item = self.push_item(GeneratedItem {
            seq: 0,
            platform: Source::XDm,
            kind: "dm".to_string(),
            id: id.to_string(),
            thread_id: conversation,
            parent_id: None,
            author_id: sender_id.to_string(),
            author_name,
            text: text.to_string(),
            at: at_ms / 1000,
            category,
            language,
        });
        (item, vec![outgoing])
    }

    /// Stores a DM event between the account and `participant_id`, sent by `sender_id`.
    pub fn add_dm(
        &mut self,
        participant_id: &str,
        sender_id: &str,
        recipient_id: &str,
        text: &str,
        at_ms: i64,
    ) -> (u64, Outgoing) {
        let id = self.snowflake_for(at_ms);
        self.dms.push(DmEvent {
            id,
            sender_id: sender_id.to_string(),
            participant_id: participant_id.to_string(),
            text: text.to_string(),
            created_ms: at_ms,
        });
        let mut users = serde_json::Map::new();
        for user in [sender_id, recipient_id] {
            users.insert(user.to_string(), self.v1_user(user));
        }
        let body = json!({
            "for_user_id": self.config.x_user_id,
            "direct_message_events": [{
                "type": "message_create",
                "id": id.to_string(),
                "created_timestamp": at_ms.to_string(),
                "message_create": {
                    "target": {"recipient_id": recipient_id},
                    "sender_id": sender_id,
                    "message_data": {
                        "text": text,
                        "entities": {"hashtags": [], "symbols": [], "user_mentions": [], "urls": []},
                    },
                },
            }],
            "users": users,
        });
        (id, Outgoing::now(Platform::X, x_json(&body)))
    }

    // ---- rate limits and records ---------------------------------------------------------

    /// The requests an X endpoint allows per window.
    fn x_limit(&self, endpoint: &str) -> u32 {
        if endpoint == X_SEARCH_ENDPOINT {
            self.config.x_search_rate_limit_per_window.max(1)
        } else {
            self.config.x_rate_limit_per_window.max(1)
        }
    }

    /// Counts one request against an X endpoint's window.
    pub fn x_rate(&mut self, endpoint: &str, now: f64) -> RateDecision {
        let limit = self.x_limit(endpoint);
        let window = self.config.x_rate_limit_window.as_secs_f64().max(0.001);
        let whole_now = now.floor() as i64;
        let entry = self
            .x_windows
            .entry(endpoint.to_string())
            .or_insert(RateWindow {
                count: 0,
                reset_at: 0,
                blocked_until: 0,
            });
        if whole_now >= entry.reset_at {
            entry.count = 0;
            entry.reset_at = (now + window).ceil() as i64;
        }
        let blocked = whole_now < entry.blocked_until;
        if blocked || entry.count >= limit {
            self.rate_limit_violations += 1;
            let reset = if blocked {
                entry.blocked_until
            } else {
                entry.reset_at
            };
            return RateDecision {
                limit,
                remaining: 0,
                reset,
                allowed: false,
            };
        }
        entry.count += 1;
        RateDecision {
            limit,
            remaining: limit - entry.count,
            reset: entry.reset_at,
            allowed: true,
        }
    }

    /// Closes an X endpoint until `until` (an injected 429) and says what to report.
    pub fn x_block(&mut self, endpoint: &str, until: i64) -> RateDecision {
        let limit = self.x_limit(endpoint);
        let entry = self
            .x_windows
            .entry(endpoint.to_string())
            .or_insert(RateWindow {
                count: 0,
                reset_at: 0,
                blocked_until: 0,
            });
        entry.blocked_until = until;
        // When the real window is also used up, its reset is the honest one to announce: a
        // client that obeys the header must not land in a spent window.
        let reset = if entry.count >= limit {
            entry.reset_at.max(until)
        } else {
            until
        };
        RateDecision {
            limit,
            remaining: 0,
            reset,
            allowed: false,
        }
    }

    /// Records a write a client made.
    pub fn record(&mut self, reply: RecordedReply) {
        self.replies.push(reply);
    }
}

/// A retweet's text as X gives it: `RT @author: ` and the original, cut to 140 characters.
fn retweet_text(username: &str, original: &str) -> String {
    let full = format!("RT @{username}: {original}");
    if full.chars().count() <= 140 {
        return full;
    }
    full.chars().take(139).collect::<String>() + "…"
}

/// Whether `id` looks like a Graph post or comment id: `<digits>_<digits>`.
fn is_graph_object_id(id: &str) -> bool {
    id.split_once('_').is_some_and(|(owner, part)| {
        !owner.is_empty()
            && !part.is_empty()
            && owner.chars().all(|c| c.is_ascii_digit())
            && part.chars().all(|c| c.is_ascii_digit())
    })
}

/// A one-to-one DM conversation id: both user ids, the smaller first.
pub(crate) fn dm_conversation_id(left: &str, right: &str) -> String {
    let left_number = left.parse::<u64>().unwrap_or(0);
    let right_number = right.parse::<u64>().unwrap_or(0);
    if left_number <= right_number {
        format!("{left}-{right}")
    } else {
        format!("{right}-{left}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::search::{Candidate, SearchQuery};

    /// The saved searches the demo keeps.
    const DEMO_SEARCHES: [&str; 2] = [
        "tiendabuzon -is:retweet",
        "(\"tienda buzón\" OR #tiendabuzon) lang:es",
    ];

    fn candidate<'a>(world: &'a World, tweet: &'a Tweet) -> Candidate<'a> {
        Candidate {
            text: &tweet.text,
            lang: &tweet.language,
            author_id: &tweet.author_id,
            author_username: world
                .x_users
                .get(&tweet.author_id)
                .map(|user| user.username.as_str())
                .unwrap_or_default(),
            is_retweet: tweet.retweet_of.is_some(),
            is_reply: tweet.in_reply_to_tweet_id.is_some(),
        }
    }

    #[test]
    fn a_backfilled_week_of_posts_is_in_time_order_and_found_by_the_demo_searches() {
        let mut world = World::new(&SandboxConfig::default());
        let searches: Vec<SearchQuery> = DEMO_SEARCHES
            .iter()
            .map(|query| SearchQuery::parse(query).expect("the demo's searches are valid"))
            .collect();
        let span = 6 * 86_400_000;
        let items = world.backfill_x_posts(24, span);
        let now = now_ms();
        let later = world.generate_x_post(0, now).0;
        let mut previous: Option<&Tweet> = None;
        for item in &items {
            let id: u64 = item.id.parse().expect("a numeric post id");
            let tweet = world.tweets.iter().find(|tweet| tweet.id == id).unwrap();
            assert!(tweet.created_ms >= now - span - 1000 && tweet.created_ms < now - 60_000);
            assert!(!tweet.mentions_us);
            let post = candidate(&world, tweet);
            assert!(searches.iter().any(|search| search.matches(&post)));
            if let Some(previous) = previous {
                assert!(previous.created_ms < tweet.created_ms, "oldest first");
                assert!(previous.id < tweet.id, "ids follow the time, as on X");
            }
            previous = Some(tweet);
        }
        let newest: u64 = items.last().unwrap().id.parse().unwrap();
        assert!(
            newest < later.id.parse::<u64>().unwrap(),
            "a post made now comes after"
        );
    }

    #[test]
    fn generated_listening_items_stay_few_and_x_posts_match_the_demo_searches() {
        let mut world = World::new(&SandboxConfig::default());
        let searches: Vec<SearchQuery> = DEMO_SEARCHES
            .iter()
            .map(|query| SearchQuery::parse(query).expect("the demo's searches are valid"))
            .collect();
        let mut counts: HashMap<Source, usize> = HashMap::new();
        for _ in 0..2_000 {
            let (item, outgoing) = world.generate();
            *counts.entry(item.platform).or_default() += 1;
            match item.platform {
                Source::XPost => {
                    assert!(outgoing.is_empty(), "X sends no event for an untagged post");
                    let id: u64 = item.id.parse().expect("a numeric post id");
                    let tweet = world
                        .tweets
                        .iter()
                        .find(|tweet| tweet.id == id)
                        .expect("the post is stored");
                    assert!(!tweet.mentions_us);
                    assert!(!tweet.text.to_lowercase().contains("@tiendabuzon"));
                    let post = candidate(&world, tweet);
                    assert!(
                        searches.iter().any(|search| search.matches(&post)),
                        "a demo search finds {:?} ({})",
                        tweet.text,
                        tweet.language
                    );
                    if let Some(original) = tweet.retweet_of {
                        assert!(tweet.text.starts_with("RT @"));
                        let original = world
                            .tweets
                            .iter()
                            .find(|other| other.id == original)
                            .expect("the original is stored");
                        assert!(
                            original.created_ms < tweet.created_ms - 7 * 86_400_000,
                            "the original is out of recent search's reach"
                        );
                    }
                }
                Source::FacebookMention => {
                    assert!(item.text.contains(PAGE_NAME), "the tag is in the text");
                    assert_eq!(outgoing.len(), 1);
                }
                Source::FacebookReview => assert_eq!(outgoing.len(), 1),
                _ => {}
            }
        }
        let share = |source: Source| counts.get(&source).copied().unwrap_or(0) as f64 / 2_000.0;
        for (source, expected) in [
            (Source::XPost, 0.04),
            (Source::FacebookMention, 0.03),
            (Source::FacebookReview, 0.02),
        ] {
            let observed = share(source);
            assert!(
                observed > expected / 2.0 && observed < expected * 2.0,
                "{source:?}: {observed}"
            );
        }
        assert!(share(Source::Facebook) > 0.2 && share(Source::Whatsapp) > 0.18);
        assert!(world.tweets.iter().any(|tweet| tweet.retweet_of.is_some()));
        assert!(world.tagged.iter().any(|tagged| tagged.is_comment));
        assert!(world
            .reviews
            .iter()
            .any(|review| review.recommendation == "negative"));
    }

    #[test]
    fn mention_webhooks_carry_no_text_and_ratings_drop_it_on_remove() {
        let mut world = World::new(&SandboxConfig::default());
        let injection = Injection {
            item: Some("comment".to_string()),
            ..Injection::new(Source::FacebookMention, "¿alguien sabe el horario?")
                .by("100012345678901", "Ana")
        };
        let (item, outgoing) = world.inject(&injection).expect("a mention is injected");
        assert_eq!(item.text, "Tienda Buzón ¿alguien sabe el horario?");
        let body: Value = serde_json::from_slice(&outgoing[0].body).expect("JSON");
        let change = &body["entry"][0]["changes"][0];
        assert_eq!(change["field"], "mention");
        let value = change["value"].as_object().expect("an object");
        let mut keys: Vec<&str> = value.keys().map(String::as_str).collect();
        keys.sort_unstable();
        assert_eq!(
            keys,
            [
                "comment_id",
                "item",
                "post_id",
                "sender_id",
                "sender_name",
                "verb"
            ]
        );
        assert_eq!(value["comment_id"], item.id.as_str());
        assert_eq!(value["post_id"], item.thread_id.as_str());
        let post_part = item.thread_id.split('_').nth(1).expect("<owner>_<post>");
        assert!(item.id.starts_with(&format!("{post_part}_")));

        let review = Injection {
            recommendation: Some("negative".to_string()),
            ..Injection::new(Source::FacebookReview, "Nunca llegó")
        };
        let (review, _) = world.inject(&review).expect("a review is injected");
        let (_, removal) = world
            .remove_item(&review.id)
            .expect("the review is removed");
        let body: Value = serde_json::from_slice(&removal[0].body).expect("JSON");
        let value = &body["entry"][0]["changes"][0]["value"];
        assert_eq!(value["verb"], "remove");
        assert_eq!(value["review_id"], review.id.as_str());
        assert!(value.get("review_text").is_none());
        assert!(value.get("recommendation_type").is_none());
        assert!(world.remove_item(&review.id).is_err(), "already removed");
        let wrong = Injection {
            recommendation: Some("meh".to_string()),
            ..Injection::new(Source::FacebookReview, "")
        };
        assert!(world.inject(&wrong).is_err());
    }
}
