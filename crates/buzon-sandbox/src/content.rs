//! What the generated customers are called and what they write: several languages (one of
//! them right-to-left), emoji, very long texts, trolls, urgent complaints and hostile markup.

use rand::seq::SliceRandom;
use rand::Rng;
use serde::{Deserialize, Serialize};

/// The language a generated text is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    /// English.
    En,
    /// Spanish.
    Es,
    /// Portuguese.
    Pt,
    /// Arabic (right to left).
    Ar,
}

impl Language {
    pub(crate) fn code(self) -> &'static str {
        match self {
            Language::En => "en",
            Language::Es => "es",
            Language::Pt => "pt",
            Language::Ar => "ar",
        }
    }

    /// The language of an ISO 639-1 code, when it is one of these.
    pub(crate) fn from_code(code: &str) -> Option<Language> {
        [Language::En, Language::Es, Language::Pt, Language::Ar]
            .into_iter()
            .find(|language| language.code().eq_ignore_ascii_case(code))
    }
}

/// What kind of text a generated item carries, so tests can find the interesting ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Category {
    /// An ordinary question or thanks.
    Normal,
    /// Something that needs an answer now ("URGENTE", "my order never arrived").
    Urgent,
    /// Insults.
    Troll,
    /// HTML or script injection attempts.
    Markup,
    /// More than 3,000 characters.
    Long,
    /// Mostly emoji, flags and joined sequences.
    Emoji,
    /// Injected through the control API: whatever the caller wrote.
    Injected,
}

/// A generated customer: a name and a language (ids per platform are given by the world).
pub(crate) struct Persona {
    pub name: &'static str,
    pub language: Language,
}

pub(crate) const PERSONAS: &[Persona] = &[
    Persona {
        name: "Emily Carter",
        language: Language::En,
    },
    Persona {
        name: "James O'Connor",
        language: Language::En,
    },
    Persona {
        name: "Priya Sharma",
        language: Language::En,
    },
    Persona {
        name: "María José Pérez",
        language: Language::Es,
    },
    Persona {
        name: "Jorge Ramírez",
        language: Language::Es,
    },
    Persona {
        name: "Lucía Fernández",
        language: Language::Es,
    },
    Persona {
        name: "Camila Núñez 🌸",
        language: Language::Es,
    },
    Persona {
        name: "João Silva",
        language: Language::Pt,
    },
    Persona {
        name: "Ana Beatriz Gonçalves",
        language: Language::Pt,
    },
    Persona {
        name: "Thiago Araújo",
        language: Language::Pt,
    },
    Persona {
        name: "محمد العلي",
        language: Language::Ar,
    },
    Persona {
        name: "فاطمة الزهراء",
        language: Language::Ar,
    },
    Persona {
        name: "أحمد حسن",
        language: Language::Ar,
    },
    Persona {
        name: "🔥Trollmaster3000🔥",
        language: Language::En,
    },
    Persona {
        name: "<script>alert(1)</script>",
        language: Language::En,
    },
    Persona {
        name: "<img src=x onerror=alert(1)>",
        language: Language::Es,
    },
    Persona {
        name: "Robert'); DROP TABLE contacts;--",
        language: Language::En,
    },
    Persona {
        name: "evil\u{202E}gpj.exe",
        language: Language::Pt,
    },
];

const NORMAL_EN: &[&str] = &[
    "Hi! Do you ship to Canada?",
    "What sizes do you have for the blue jacket?",
    "Is the store open on Sunday?",
    "Can I change the delivery address of my order #{n}?",
    "Thanks for the quick reply yesterday!",
    "Do you have a discount code for first orders?",
];
const NORMAL_ES: &[&str] = &[
    "Hola, ¿hacen envíos a Valparaíso?",
    "¿Tienen la talla M en color verde?",
    "¿Cuál es el horario de la tienda el sábado?",
    "Quisiera cambiar la dirección de entrega del pedido #{n}",
    "¡Gracias por la atención! Todo llegó perfecto.",
    "¿Aceptan pago en cuotas sin interés?",
];
const NORMAL_PT: &[&str] = &[
    "Olá! Vocês entregam em Belo Horizonte?",
    "Qual é o prazo para troca?",
    "Tem esse tênis no tamanho 42?",
    "Obrigado pelo atendimento, chegou tudo certinho!",
    "Posso retirar o pedido #{n} na loja?",
];
const NORMAL_AR: &[&str] = &[
    "مرحبا، هل يتوفر الشحن إلى الرياض؟",
    "ما هي ساعات العمل يوم الجمعة؟",
    "هل يمكنني تغيير عنوان التوصيل للطلب رقم {n}؟",
    "شكرا على الرد السريع",
    "هل هذا المنتج متوفر باللون الأسود؟",
];

const URGENT_EN: &[&str] = &[
    "URGENT: my order #{n} never arrived and I was charged twice!",
    "my order never arrived. I need it TODAY, it's a birthday present",
    "Please help ASAP, you delivered the wrong item and I travel tomorrow",
];
const URGENT_ES: &[&str] = &[
    "URGENTE: mi pedido #{n} nunca llegó y ya me cobraron",
    "URGENTE!!! me cobraron dos veces el pedido #{n}",
    "Necesito ayuda urgente, el producto llegó roto y es un regalo para hoy",
];
const URGENT_PT: &[&str] = &[
    "URGENTE: meu pedido #{n} nunca chegou!",
    "Fui cobrado duas vezes, preciso de ajuda urgente",
];
const URGENT_AR: &[&str] = &[
    "عاجل: طلبي رقم {n} لم يصل أبداً!",
    "عاجل جداً، تم خصم المبلغ مرتين",
];

const TROLL_EN: &[&str] = &[
    "You are a bunch of scammers and idiots. Worst shop ever.",
    "lol this company is garbage, go bankrupt already 🤡",
    "Shut up, nobody cares about your stupid products, morons",
];
const TROLL_ES: &[&str] = &[
    "Son unos ladrones y unos inútiles",
    "Qué tienda más basura, estafadores 🤡",
    "Cállense, idiotas, nadie les compra nada",
];
const TROLL_PT: &[&str] = &["Vocês são uns ladrões, loja lixo", "Bando de idiotas 🤡"];
const TROLL_AR: &[&str] = &["أنتم لصوص ومحتالون", "أسوأ متجر، أغبياء"];

const MARKUP: &[&str] = &[
    "<script>alert(1)</script>",
    "Nice shop <img src=x onerror=alert(1)>",
    "<a href=\"javascript:alert(1)\">click here for a 90% discount</a>",
    "\"><svg onload=alert(1)>",
    "{{constructor.constructor('alert(1)')()}} {{7*7}} ${7*7}",
    "'; DROP TABLE messages; --",
    "Hola </textarea><script>alert(document.cookie)</script>",
];

const EMOJI_EN: &[&str] = &["Love it!!! 😍😍🔥🦀", "👩‍👩‍👧 family order arrived 🎉🇺🇸"];
const EMOJI_ES: &[&str] = &["¡Me encantó! 😍🙌🏽🇲🇽", "🦀🦀🦀 ¿cuándo llega? ⏳"];
const EMOJI_PT: &[&str] = &["Amei demais 🥰🇧🇷✨", "👍🏾👍🏾 valeu!"];
const EMOJI_AR: &[&str] = &["رائع جداً 😍👍🏼", "🇸🇦❤️ شكراً"];

const LONG_EN: &str = "I want to explain everything that happened with my order #{n}, because this is the third time I write and nobody answers. I ordered on Monday, the page said two days, the tracking has said 'in transit' for a week, the courier says you never gave them the parcel, and your phone line just hangs up. ";
const LONG_ES: &str = "Les cuento todo lo que pasó con mi pedido #{n}, porque es la tercera vez que escribo y nadie responde. Compré el lunes, la página decía dos días hábiles, el seguimiento dice 'en tránsito' hace una semana, el courier dice que ustedes nunca entregaron el paquete y el teléfono no contesta. ";
const LONG_PT: &str = "Quero explicar tudo o que aconteceu com o meu pedido #{n}, porque é a terceira vez que escrevo e ninguém responde. Comprei na segunda, o site dizia dois dias úteis, o rastreio diz 'em trânsito' há uma semana e a transportadora diz que vocês nunca entregaram o pacote. ";
const LONG_AR: &str = "أريد أن أشرح كل ما حدث مع طلبي رقم {n}، لأن هذه هي المرة الثالثة التي أكتب فيها ولا أحد يرد. طلبت يوم الاثنين، وكان الموقع يقول يومين، والتتبع يقول 'قيد الشحن' منذ أسبوع، وشركة الشحن تقول إنكم لم تسلموا الطرد أبداً. ";

/// Picks a category with the generator's mix: mostly ordinary, the rest spread over the
/// interesting cases.
pub(crate) fn pick_category(rng: &mut impl Rng) -> Category {
    match rng.gen_range(0..100) {
        0..=49 => Category::Normal,
        50..=61 => Category::Urgent,
        62..=73 => Category::Troll,
        74..=81 => Category::Markup,
        82..=87 => Category::Long,
        _ => Category::Emoji,
    }
}

/// A text in `language` of `category`. Long texts exceed 3,000 characters.
pub(crate) fn text(rng: &mut impl Rng, language: Language, category: Category) -> String {
    let order = rng.gen_range(10_000..99_999).to_string();
    let pick = |rng: &mut dyn rand::RngCore, options: &[&str]| -> String {
        options.choose(rng).copied().unwrap_or("hola").to_string()
    };
    let raw = match category {
        Category::Normal | Category::Injected => pick(
            rng,
            match language {
                Language::En => NORMAL_EN,
                Language::Es => NORMAL_ES,
                Language::Pt => NORMAL_PT,
                Language::Ar => NORMAL_AR,
            },
        ),
        Category::Urgent => pick(
            rng,
            match language {
                Language::En => URGENT_EN,
                Language::Es => URGENT_ES,
                Language::Pt => URGENT_PT,
                Language::Ar => URGENT_AR,
            },
        ),
        Category::Troll => pick(
            rng,
            match language {
                Language::En => TROLL_EN,
                Language::Es => TROLL_ES,
                Language::Pt => TROLL_PT,
                Language::Ar => TROLL_AR,
            },
        ),
        Category::Markup => pick(rng, MARKUP),
        Category::Emoji => pick(
            rng,
            match language {
                Language::En => EMOJI_EN,
                Language::Es => EMOJI_ES,
                Language::Pt => EMOJI_PT,
                Language::Ar => EMOJI_AR,
            },
        ),
        Category::Long => {
            let paragraph = match language {
                Language::En => LONG_EN,
                Language::Es => LONG_ES,
                Language::Pt => LONG_PT,
                Language::Ar => LONG_AR,
            };
            let mut long = String::new();
            let mut round = 1;
            while long.chars().count() < 3_100 {
                long.push_str(&format!("({round}) "));
                long.push_str(paragraph);
                round += 1;
            }
            long.push_str("😡📦");
            long
        }
    };
    raw.replace("{n}", &order)
}

/// WhatsApp reactions customers send.
pub(crate) const REACTIONS: &[&str] = &["👍", "❤️", "😮", "😂", "🙏🏽"];

/// The Page's own posts, the X account's own posts: what customers comment on and reply to.
pub(crate) const BRAND_POSTS: &[&str] = &[
    "¡Nueva colección de otoño! 🍂 Envíos gratis este fin de semana.",
    "Horario especial por feriado: abrimos de 10:00 a 14:00.",
    "We now ship to Brazil and Portugal 🇧🇷🇵🇹 — agora entregamos no Brasil!",
];

/// Public X posts about the brand that do not tag the account, Spanish: each names it as
/// `Tienda Buzón` or `#tiendabuzon`, so that the demo's search `("tienda buzón" OR
/// #tiendabuzon) lang:es` finds them (and their retweets).
pub(crate) const X_POSTS_ES: &[(&str, Category)] = &[
    (
        "¡Me encantó mi pedido de Tienda Buzón! Llegó en dos días 😍",
        Category::Normal,
    ),
    (
        "Recomiendo muchísimo Tienda Buzón, la atención es de diez #tiendabuzon",
        Category::Normal,
    ),
    (
        "¿Alguien ha comprado en Tienda Buzón? ¿Son de fiar?",
        Category::Normal,
    ),
    (
        "¿Sabéis si #tiendabuzon hace envíos a Canarias?",
        Category::Normal,
    ),
    (
        "Tienda Buzón me cobró dos veces el pedido y nadie contesta 😡",
        Category::Urgent,
    ),
    (
        "Tres semanas esperando un pedido de Tienda Buzón. ¿A alguien más le pasa? #tiendabuzon",
        Category::Urgent,
    ),
    (
        "Lo de Tienda Buzón es una estafa, no compren ahí",
        Category::Troll,
    ),
    (
        "Nueva chaqueta de Tienda Buzón 🧥 calidad top #tiendabuzon",
        Category::Normal,
    ),
];

/// Public X posts about the brand in English: each carries the word `tiendabuzon`, so that
/// the demo's search `tiendabuzon -is:retweet` finds them.
pub(crate) const X_POSTS_EN: &[(&str, Category)] = &[
    (
        "Just got my order from tiendabuzon.com, super fast shipping!",
        Category::Normal,
    ),
    (
        "Anyone else waiting forever for a tiendabuzon refund? #tiendabuzon",
        Category::Urgent,
    ),
    (
        "Does tiendabuzon ship to Canada? Thinking of ordering",
        Category::Normal,
    ),
    (
        "Worst checkout ever on tiendabuzon, charged twice 🙄",
        Category::Urgent,
    ),
    (
        "Love the new autumn collection at tiendabuzon 🍂",
        Category::Normal,
    ),
];

/// Posts and comments elsewhere on Facebook that tag the Page (its name is the tag).
pub(crate) const FACEBOOK_MENTIONS: &[(&str, Language, Category)] = &[
    (
        "Gracias Tienda Buzón por el regalo de cumpleaños 🎁",
        Language::Es,
        Category::Normal,
    ),
    (
        "Ojo con Tienda Buzón: mi pedido lleva dos semanas sin llegar",
        Language::Es,
        Category::Urgent,
    ),
    (
        "¿Alguien sabe si Tienda Buzón abre el domingo?",
        Language::Es,
        Category::Normal,
    ),
    (
        "Shoutout to Tienda Buzón for the fast delivery!",
        Language::En,
        Category::Normal,
    ),
    (
        "Tienda Buzón charged me twice and nobody answers",
        Language::En,
        Category::Urgent,
    ),
    (
        "Alguém já comprou na Tienda Buzón? Vale a pena?",
        Language::Pt,
        Category::Normal,
    ),
];

/// Page reviews: (text, language, positive).
pub(crate) const REVIEWS: &[(&str, Language, bool)] = &[
    (
        "Excelente atención y envío rapidísimo. ¡Volveré a comprar!",
        Language::Es,
        true,
    ),
    (
        "Muy buena calidad, la talla era justo la indicada.",
        Language::Es,
        true,
    ),
    (
        "Great store, friendly staff and quick refunds.",
        Language::En,
        true,
    ),
    ("Ótima loja, chegou tudo certinho.", Language::Pt, true),
    (
        "Pésimo servicio: el pedido nunca llegó y no devuelven el dinero.",
        Language::Es,
        false,
    ),
    (
        "Me cobraron dos veces y nadie responde los mensajes.",
        Language::Es,
        false,
    ),
    (
        "Ordered a month ago, still nothing. Avoid.",
        Language::En,
        false,
    ),
];
