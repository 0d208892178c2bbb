//! The interface in English and Spanish. The language comes from the `lang` cookie (the
//! switch), else from `Accept-Language`, else English.

use axum::http::HeaderMap;

/// A language of the interface.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
    En,
    /// Spanish.
    Es,
}

impl Lang {
    /// The language code.
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Es => "es",
        }
    }

    /// The language of a request.
    pub fn of(headers: &HeaderMap) -> Lang {
        if let Some(lang) = crate::pages::cookie(headers, "lang") {
            return if lang == "es" { Lang::Es } else { Lang::En };
        }
        let accepted = headers
            .get(axum::http::header::ACCEPT_LANGUAGE)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        // The first language listed that we speak wins (quality values are in order in practice).
        for part in accepted.split(',') {
            let tag = part.split(';').next().unwrap_or("").trim().to_lowercase();
            if tag.starts_with("es") {
                return Lang::Es;
            }
            if tag.starts_with("en") {
                return Lang::En;
            }
        }
        Lang::En
    }
}

/// The text of `key` in `lang`; the key itself when missing (a test checks none are).
pub fn text(lang: Lang, key: &str) -> &'static str {
    let all = TEXTS
        .iter()
        .chain(crate::admin::TEXTS)
        .chain(crate::reports::TEXTS);
    for (name, en, es) in all {
        if *name == key {
            return match lang {
                Lang::En => en,
                Lang::Es => es,
            };
        }
    }
    "??"
}

/// Every text of the interface: (key, English, Spanish).
pub const TEXTS: &[(&str, &str, &str)] = &[
    ("app.tagline", "Social inbox", "Bandeja social"),
    ("nav.inbox", "Inbox", "Bandeja"),
    ("nav.trolls", "Trolls & spam", "Trols y spam"),
    ("nav.reports", "Reports", "Informes"),
    ("nav.admin", "Admin", "Administración"),
    ("nav.logout", "Sign out", "Salir"),
    ("nav.language", "Español", "English"),
    ("login.title", "Sign in", "Iniciar sesión"),
    ("login.email", "Email", "Correo"),
    ("login.password", "Password", "Contraseña"),
    ("login.submit", "Sign in", "Entrar"),
    ("login.failed", "Wrong email or password.", "Correo o contraseña incorrectos."),
    ("login.throttled", "Too many failed attempts. Try again in a few minutes.", "Demasiados intentos fallidos. Vuelve a intentarlo en unos minutos."),
    ("inbox.title", "Inbox", "Bandeja"),
    ("inbox.trolls_title", "Trolls & spam", "Trols y spam"),
    ("inbox.search", "Search messages", "Buscar mensajes"),
    ("inbox.filter", "Filter", "Filtrar"),
    ("inbox.status", "Status", "Estado"),
    ("inbox.channel", "Channel", "Canal"),
    ("inbox.all_channels", "All channels", "Todos los canales"),
    ("inbox.label", "Label", "Etiqueta"),
    ("inbox.assignee", "Assignee", "Asignado a"),
    ("inbox.anyone", "Anyone", "Cualquiera"),
    ("inbox.mine", "Mine", "Míos"),
    ("inbox.unassigned", "Unassigned", "Sin asignar"),
    ("inbox.sort", "Sort", "Orden"),
    ("inbox.sort_newest", "Newest activity", "Actividad reciente"),
    ("inbox.sort_waiting", "Longest waiting", "Más tiempo esperando"),
    ("inbox.sort_window", "Reply window closing", "Ventana por cerrar"),
    ("inbox.empty", "Nothing here. Inbox zero!", "Nada por aquí. ¡Bandeja vacía!"),
    ("inbox.next", "Older", "Anteriores"),
    ("inbox.new_messages", "New messages arrived.", "Han llegado mensajes nuevos."),
    ("inbox.waiting", "waiting", "esperando"),
    ("inbox.window_open", "window open", "ventana abierta"),
    ("inbox.window_closed", "window closed", "ventana cerrada"),
    ("status.open", "Open", "Abierta"),
    ("status.pending", "Pending", "Pendiente"),
    ("status.snoozed", "Snoozed", "Pospuesta"),
    ("status.resolved", "Resolved", "Resuelta"),
    ("status.all", "All", "Todas"),
    ("conversation.reply", "Reply", "Responder"),
    ("conversation.reply_placeholder", "Write a reply… (r)", "Escribe una respuesta… (r)"),
    ("conversation.send", "Send", "Enviar"),
    ("conversation.note", "Add internal note", "Añadir nota interna"),
    ("conversation.note_placeholder", "Only your team sees notes", "Solo tu equipo ve las notas"),
    ("conversation.notes", "Internal notes", "Notas internas"),
    ("conversation.resolve", "Resolve (e)", "Resolver (e)"),
    ("conversation.reopen", "Reopen", "Reabrir"),
    ("conversation.pending", "Waiting on customer", "Esperando al cliente"),
    ("conversation.snooze", "Snooze", "Posponer"),
    ("conversation.assign_me", "Assign to me", "Asignarme"),
    ("conversation.unassign", "Unassign", "Quitar asignación"),
    ("conversation.tags", "Labels", "Etiquetas"),
    ("conversation.add_tag", "Add label (t)", "Añadir etiqueta (t)"),
    ("conversation.author", "Author", "Autor"),
    ("conversation.author_tags", "Tag the author", "Etiquetar al autor"),
    ("conversation.hide", "Hide on platform", "Ocultar en la plataforma"),
    ("conversation.unhide", "Show on platform", "Mostrar en la plataforma"),
    ("conversation.hidden", "hidden", "oculto"),
    ("conversation.removed", "removed by the author", "eliminado por el autor"),
    ("conversation.window_closed", "More than 24 hours have passed since the customer's last message: only an approved template can be sent.", "Han pasado más de 24 horas desde el último mensaje del cliente: solo se puede enviar una plantilla aprobada."),
    ("conversation.templates", "Approved templates", "Plantillas aprobadas"),
    ("conversation.no_templates", "No approved templates yet: an admin can add them.", "Aún no hay plantillas aprobadas: un administrador puede añadirlas."),
    ("conversation.send_template", "Send template", "Enviar plantilla"),
    ("conversation.person", "Same person elsewhere", "La misma persona en otros canales"),
    ("conversation.link", "Link another profile of this person", "Vincular otro perfil de esta persona"),
    ("conversation.link_search", "Name, handle or number", "Nombre, usuario o número"),
    ("conversation.history", "History on every channel", "Historial en todos los canales"),
    ("conversation.viewer", "You can read this conversation; your role cannot change it.", "Puedes leer esta conversación; tu rol no permite cambiarla."),
    ("delivery.queued", "sending", "enviando"),
    ("delivery.sent", "sent", "enviado"),
    ("delivery.delivered", "delivered", "entregado"),
    ("delivery.read", "read", "leído"),
    ("delivery.failed", "failed", "fallido"),
    ("delivery.received", "received", "recibido"),
    ("help.title", "Keyboard shortcuts", "Atajos de teclado"),
    ("help.keys", "j/k move · Enter open · r reply · e resolve · t tag · / search · ? help", "j/k moverse · Intro abrir · r responder · e resolver · t etiquetar · / buscar · ? ayuda"),
    ("error.title", "Something is wrong", "Algo salió mal"),
    ("error.back", "Back to the inbox", "Volver a la bandeja"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_text_has_both_languages_and_keys_are_unique() {
        let mut keys = std::collections::HashSet::new();
        for (key, en, es) in TEXTS
            .iter()
            .chain(crate::admin::TEXTS)
            .chain(crate::reports::TEXTS)
        {
            assert!(keys.insert(key), "duplicate key {key}");
            assert!(
                !en.is_empty() && !es.is_empty(),
                "{key} is missing a language"
            );
        }
    }

    #[test]
    fn accept_language_picks_spanish_or_english() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "accept-language",
            "es-MX,es;q=0.9,en;q=0.8".parse().unwrap(),
        );
        assert_eq!(Lang::of(&headers), Lang::Es);
        headers.insert("accept-language", "fr-FR,en;q=0.5".parse().unwrap());
        assert_eq!(Lang::of(&headers), Lang::En);
        headers.insert("cookie", "lang=es".parse().unwrap());
        assert_eq!(Lang::of(&headers), Lang::Es, "the switch wins");
    }
}
