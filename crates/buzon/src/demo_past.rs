//! Eight weeks of the demo shop's past, written once on a fresh demo folder: answered and
//! unanswered conversations across the day, nights and weekends, three agents, labels, trolls
//! and VIPs, so that the reports, the heatmap, the staffing advice, the public page and the
//! badge show real figures on first start. Deterministic (a fixed seed): every fresh demo has
//! the same past, shifted to end three hours before it starts.

use buzon_app::{Actor, App, AppError, NewUser};
use buzon_core::{ChannelId, ChannelKind, ConversationKind, Label, Role, Timestamp, UserId};
use buzon_store::{PastConversation, PastMessage};

const DAY: i64 = 24 * 60 * 60 * 1000;
const MINUTE: i64 = 60 * 1000;
const WEEKS: i64 = 8;

/// The demo's agents (e-mail, name); they get random passwords (the demo admin resets them).
const AGENTS: [(&str, &str); 3] = [
    ("lucia@buzon.example", "Lucía Fernández"),
    ("marcos@buzon.example", "Marcos Ruiz"),
    ("irene@buzon.example", "Irene Soto"),
];

/// How busy each hour of the day is (relative).
const HOUR_WEIGHTS: [u32; 24] = [
    1, 1, 0, 0, 0, 0, 1, 2, 4, 6, 8, 9, 9, 7, 6, 6, 7, 8, 9, 9, 8, 6, 4, 2,
];

const SPANISH: [&str; 8] = [
    "¿Cuándo llega mi pedido? Lo hice el lunes",
    "Me ha llegado la talla equivocada, ¿cómo lo cambio?",
    "¿Tenéis la camiseta azul en talla M?",
    "Me habéis cobrado dos veces el mismo pedido",
    "¿Hacéis envíos a Canarias?",
    "El código de descuento no funciona",
    "Quiero devolver unas zapatillas",
    "¿A qué hora abre la tienda de Madrid?",
];
const ENGLISH: [&str; 5] = [
    "Where is my order? It says shipped three days ago",
    "Do you ship to Ireland?",
    "The discount code doesn't work at checkout",
    "I'd like to return a jacket, how do I do it?",
    "Is the blue hoodie back in stock?",
];
const ANSWERS_ES: [&str; 4] = [
    "¡Hola! Lo miro ahora mismo y te digo algo en unos minutos.",
    "Gracias por escribirnos. Te he enviado el enlace para gestionarlo.",
    "Ya está solucionado, perdona las molestias.",
    "Sale hoy mismo y llega en 48 horas.",
];
const ANSWERS_EN: [&str; 3] = [
    "Hi! I'm checking it right now.",
    "Thanks for writing. I've sent you the link to sort it out.",
    "All fixed, sorry for the trouble.",
];
const NAMES: [&str; 12] = [
    "Carmen Vidal",
    "Javier Ortega",
    "Noelia Campos",
    "Sergio Lozano",
    "Alba Prieto",
    "Rubén Castillo",
    "Emma Walsh",
    "Tom Becker",
    "Inés Navarro",
    "Pablo Serrano",
    "Marta Gil",
    "Hugo Romero",
];

/// A small deterministic generator (xorshift), enough for a demo's variety.
struct Dice(u64);

impl Dice {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

/// Writes the past once (a demo folder that has it keeps it); makes the demo agents exist.
pub(crate) async fn write_past(
    app: &App,
    demo: &Actor,
    channels: &[(ChannelId, ChannelKind)],
) -> anyhow::Result<()> {
    let mut agents: Vec<UserId> = Vec::new();
    for (email, name) in AGENTS {
        let password = hex::encode(rand::random::<[u8; 12]>());
        match app
            .add_user(
                demo,
                &NewUser {
                    email,
                    name,
                    role: Role::Agent,
                    password: &password,
                },
            )
            .await
        {
            Ok(_) | Err(AppError::Conflict { .. }) => {}
            Err(err) => return Err(err.into()),
        }
    }
    for user in app.users(demo).await? {
        if AGENTS.iter().any(|(email, _)| *email == user.email) {
            agents.push(user.id);
        }
    }
    if channels.is_empty() || agents.is_empty() {
        return Ok(());
    }
    let past = generate(Timestamp::now(), channels, &agents);
    app.write_past(demo, &past).await?;
    Ok(())
}

fn generate(
    now: Timestamp,
    channels: &[(ChannelId, ChannelKind)],
    agents: &[UserId],
) -> Vec<PastConversation> {
    let mut dice = Dice(0x9e37_79b9_7f4a_7c15);
    let end = now.as_millis() - 3 * 60 * MINUTE;
    let first_day = (end / DAY - WEEKS * 7) * DAY;
    let total_weight: u64 = HOUR_WEIGHTS.iter().map(|w| u64::from(*w)).sum();
    let mut past = Vec::new();
    let mut day = first_day;
    while day < end {
        // 1970-01-01 was a Thursday: day index 3 is Monday in this count.
        let weekday = ((day / DAY) + 3) % 7; // 0 Monday … 6 Sunday
        let weekend = weekday >= 5;
        let count = if weekend {
            6 + dice.below(5)
        } else {
            16 + dice.below(10)
        };
        for _ in 0..count {
            // An hour by the day's profile, a minute at random.
            let mut roll = dice.below(total_weight);
            let mut hour = 0;
            for (index, weight) in HOUR_WEIGHTS.iter().enumerate() {
                if roll < u64::from(*weight) {
                    hour = index as i64;
                    break;
                }
                roll -= u64::from(*weight);
            }
            let arrived = day + hour * 60 * MINUTE + dice.below(60) as i64 * MINUTE;
            if arrived >= end {
                continue;
            }
            let n = past.len();
            past.push(conversation(
                &mut dice, n, arrived, end, weekend, channels, agents,
            ));
        }
        day += DAY;
    }
    past
}

fn conversation(
    dice: &mut Dice,
    n: usize,
    arrived: i64,
    end: i64,
    weekend: bool,
    channels: &[(ChannelId, ChannelKind)],
    agents: &[UserId],
) -> PastConversation {
    let (channel_id, channel_kind) = *dice.pick(channels);
    let kind = match channel_kind {
        ChannelKind::Facebook if dice.chance(50) => ConversationKind::Messenger,
        ChannelKind::Facebook => ConversationKind::Comment,
        ChannelKind::Whatsapp => ConversationKind::Whatsapp,
        ChannelKind::X if dice.chance(40) => ConversationKind::XDm,
        ChannelKind::X => ConversationKind::XMention,
    };
    let english = dice.chance(25);
    let (question, answers, language) = if english {
        (*dice.pick(&ENGLISH), &ANSWERS_EN[..], "en")
    } else {
        (*dice.pick(&SPANISH), &ANSWERS_ES[..], "es")
    };
    let troll = dice.chance(5);
    let vip = !troll && dice.chance(4);
    let mut author_labels = Vec::new();
    if troll {
        author_labels.push(Label::parse(Label::TROLL).expect("a label"));
    }
    if vip {
        author_labels.push(Label::parse(Label::VIP).expect("a label"));
    }
    let label = ["envio", "devolucion", "pago", "producto"][dice.below(4) as usize];
    let at = |millis: i64| Timestamp::from_millis(millis.min(end - MINUTE));
    let mut messages = vec![PastMessage {
        inbound: true,
        text: if troll {
            "Sois unos estafadores, no compréis aquí".to_owned()
        } else {
            question.to_owned()
        },
        at: at(arrived),
        user_id: None,
    }];
    let agent = *dice.pick(agents);
    // Nights wait for the morning; weekends are slower.
    let hour = (arrived % DAY) / (60 * MINUTE);
    let mut delay = 3 + dice.below(40) as i64;
    if hour < 8 {
        delay += (8 - hour) * 60;
    }
    if weekend {
        delay = delay * 2 + dice.below(60) as i64;
    }
    let answered = !troll && dice.chance(92);
    let mut resolved = None;
    if answered {
        let replied = arrived + delay * MINUTE;
        messages.push(PastMessage {
            inbound: false,
            text: (*dice.pick(answers)).to_owned(),
            at: at(replied),
            user_id: Some(agent),
        });
        let mut last = replied;
        if dice.chance(45) {
            last += (5 + dice.below(50) as i64) * MINUTE;
            messages.push(PastMessage {
                inbound: true,
                text: if english { "Thanks!" } else { "¡Gracias!" }.to_owned(),
                at: at(last),
                user_id: None,
            });
            if dice.chance(60) {
                last += (2 + dice.below(20) as i64) * MINUTE;
                messages.push(PastMessage {
                    inbound: false,
                    text: if english {
                        "You're welcome!"
                    } else {
                        "¡A ti!"
                    }
                    .to_owned(),
                    at: at(last),
                    user_id: Some(agent),
                });
            }
        }
        if dice.chance(85) && messages.last().is_some_and(|m| !m.inbound) {
            resolved = Some((
                at(last + (10 + dice.below(120) as i64) * MINUTE),
                Some(agent),
            ));
        }
    } else if troll || dice.chance(60) {
        // Closed without an answer (a troll, or a duplicate).
        resolved = Some((
            at(arrived + (30 + dice.below(300) as i64) * MINUTE),
            Some(agent),
        ));
    }
    // Private conversations resolved after an answer get the closing question; most answer,
    // most of them satisfied (fewer when the wait was long).
    let closing = match resolved {
        Some((at_resolved, _)) if answered && kind.is_private() && dice.chance(70) => {
            let question = if english {
                "Did this solve it? Reply 1 for yes, 2 for no."
            } else {
                "¿Hemos resuelto tu consulta? Responde 1 si sí o 2 si no."
            };
            let answer = dice.chance(65).then(|| {
                let satisfied = dice.chance(if delay > 120 { 60 } else { 88 });
                (
                    at(at_resolved.as_millis() + (2 + dice.below(90) as i64) * MINUTE),
                    satisfied,
                )
            });
            Some((question.to_owned(), answer))
        }
        _ => None,
    };
    // Long waits were escalated by the demo's rule.
    let escalated_at = (delay > 180 && dice.chance(50)).then(|| at(arrived + 180 * MINUTE));
    PastConversation {
        closing,
        escalated_at,
        channel_id,
        kind,
        thread_key: format!("past-{n}"),
        author_id: format!("past-author-{}", n % 400),
        author_name: (*dice.pick(&NAMES)).to_owned(),
        author_labels,
        labels: vec![Label::parse(label).expect("a label")],
        language: Some(language.to_owned()),
        messages,
        resolved,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_past_covers_four_weeks_ends_before_now_and_is_mostly_answered() {
        let now = Timestamp::parse_rfc3339("2026-12-06T16:00:00Z").unwrap();
        let channels = [
            (ChannelId(1), ChannelKind::Facebook),
            (ChannelId(2), ChannelKind::Whatsapp),
            (ChannelId(3), ChannelKind::X),
        ];
        let past = generate(now, &channels, &[UserId(1), UserId(2)]);
        assert!(past.len() > 800, "{}", past.len());
        let earliest = past.iter().map(|c| c.messages[0].at).min().unwrap();
        let latest = past
            .iter()
            .flat_map(|c| c.messages.iter().map(|m| m.at))
            .max()
            .unwrap();
        assert!(now.as_millis() - earliest.as_millis() >= 55 * DAY);
        assert!(latest.as_millis() <= now.as_millis() - 3 * 60 * MINUTE);
        let answered = past
            .iter()
            .filter(|c| c.messages.iter().any(|m| !m.inbound))
            .count();
        assert!(
            answered * 100 / past.len() > 80,
            "{answered} of {}",
            past.len()
        );
        // Same seed, same past.
        assert_eq!(
            generate(now, &channels, &[UserId(1), UserId(2)]).len(),
            past.len()
        );
    }
}
