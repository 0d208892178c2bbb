# buzon: the main texts (Spanish).

# The language's own name, on the switch that offers it.
language-name = Español

app-tagline = Bandeja social

nav-inbox = Bandeja
nav-trolls = Trols y spam
nav-reports = Informes
nav-admin = Administración
nav-logout = Salir
nav-language = Idioma

login-title = Iniciar sesión
login-email = Correo
login-password = Contraseña
login-submit = Entrar
login-failed = Correo o contraseña incorrectos.
login-throttled = Demasiados intentos fallidos. Vuelve a intentarlo en unos minutos.

inbox-title = Bandeja
inbox-trolls_title = Trols y spam
inbox-search = Buscar mensajes
inbox-filter = Filtrar
inbox-status = Estado
inbox-channel = Canal
inbox-all_channels = Todos los canales
inbox-label = Etiqueta
inbox-assignee = Asignado a
inbox-anyone = Cualquiera
inbox-mine = Míos
inbox-unassigned = Sin asignar
inbox-sort = Orden
inbox-sort_newest = Actividad reciente
inbox-sort_waiting = Más tiempo esperando
inbox-sort_window = Ventana por cerrar
inbox-empty = Nada por aquí. ¡Bandeja vacía!
inbox-next = Anteriores
inbox-new_messages = Han llegado mensajes nuevos.
inbox-waiting = esperando
inbox-window_open = ventana abierta
inbox-window_closed = ventana cerrada

status-open = Abierta
status-pending = Pendiente
status-snoozed = Pospuesta
status-resolved = Resuelta
status-all = Todas

conversation-reply = Responder
conversation-reply_placeholder = Escribe una respuesta… (r)
conversation-send = Enviar
conversation-note = Añadir nota interna
conversation-note_placeholder = Solo tu equipo ve las notas
conversation-notes = Notas internas
conversation-resolve = Resolver (e)
conversation-reopen = Reabrir
conversation-pending = Esperando al cliente
conversation-snooze = Posponer
conversation-assign_me = Asignarme
conversation-unassign = Quitar asignación
conversation-tags = Etiquetas
conversation-add_tag = Añadir etiqueta (t)
conversation-author = Autor
conversation-author_tags = Etiquetar al autor
conversation-hide = Ocultar en la plataforma
conversation-unknown-hint = La plataforma nunca confirmó esta respuesta. Compruébalo en la plataforma y di qué pasó: buzon no envía dos veces por su cuenta.
conversation-arrived = Llegó
conversation-send-again = Enviar de nuevo
conversation-unhide = Mostrar en la plataforma
conversation-hidden = oculto
conversation-removed = eliminado por el autor
conversation-window_closed = Han pasado más de 24 horas desde el último mensaje del cliente: solo se puede enviar una plantilla aprobada.
conversation-templates = Plantillas aprobadas
conversation-no_templates = Aún no hay plantillas aprobadas: un administrador puede añadirlas.
conversation-send_template = Enviar plantilla
conversation-person = La misma persona en otros canales
conversation-link = Vincular otro perfil de esta persona
conversation-link_search = Nombre, usuario o número
conversation-history = Historial en todos los canales
conversation-viewer = Puedes leer esta conversación; tu rol no permite cambiarla.

delivery-unknown = resultado desconocido
delivery-queued = enviando
delivery-sent = enviado
delivery-delivered = entregado
delivery-read = leído
delivery-failed = fallido
delivery-received = recibido

help-title = Atajos de teclado

error-title = Algo salió mal
error-back = Volver a la bandeja

# Errores, por el código que les da la capa de aplicación (`error-<código>`).
error-csrf = Rechazado: al formulario le falta su código de seguridad. Recarga la página y vuelve a intentarlo.
error-forbidden = Tu rol no permite hacer esto.
error-not_found = No encontrado.
error-unauthorized = Inicia sesión, por favor.
error-reply_window_closed = Han pasado más de 24 horas desde el último mensaje del cliente: solo se puede enviar una plantilla aprobada.
error-throttled = Demasiados intentos fallidos. Vuelve a intentarlo en unos minutos.
error-unavailable = buzon no puede acceder a su base de datos ahora mismo. Vuelve a intentarlo en un momento.
error-internal = Algo salió mal por nuestra parte. Ha quedado registrado.
error-empty_reply = Escribe una respuesta antes de enviarla.
error-reply_too_long = La respuesta es demasiado larga.
error-empty_note = La nota está vacía.
error-unknown_assignee = Persona asignada desconocida.
error-link_query_short = Escribe al menos dos caracteres para encontrar el otro perfil.
error-password_too_short = La contraseña necesita al menos 8 caracteres.
error-password_too_long = La contraseña es demasiado larga.
error-email_taken = Ya existe un usuario con este correo.
error-last_admin = buzon necesita al menos un administrador activo.
error-token_role = Un token no puede tener un rol superior al de su usuario.
error-platform_id = El id de la plataforma no es válido.
error-token_required = El token de acceso es obligatorio.
error-oauth_not_configured = El inicio de sesión con esta plataforma no está configurado.
error-pick_expired = Esta selección ha caducado: vuelve a conectar.

# Una persona a la que la plataforma aún no ha dado nombre: "Usuario de Messenger ·4f2a".
contact-unnamed = Usuario de { $platform } ·{ $tail }
platform-facebook = Facebook
platform-messenger = Messenger
platform-whatsapp = WhatsApp
platform-x = X

# Horario de atención, a la vista donde se trabaja.
hours-closed_banner = Fuera del horario de atención — volvemos { $when }.
hours-open_now = Abierto ahora.
conversation-automatic = respuesta automática

# Los idiomas que buzon distingue en los mensajes de los clientes.
language-filter = Idioma
language-any = Cualquier idioma
language-es = Español
language-en = Inglés
language-pt = Portugués
language-fr = Francés
language-de = Alemán
language-it = Italiano
language-nl = Neerlandés

error-invalid_business_hours = El horario no es válido: usa HH:MM-HH:MM (22:00-02:00 pasa de medianoche), fechas AAAA-MM-DD y una zona horaria como Europe/Madrid.
error-unknown_placeholder = El texto usa un marcador que buzon no conoce: solo se rellena {"{{"}back_at{"}}"}.
error-missing_text = Una respuesta automática activa necesita texto en su idioma por defecto.
error-unknown_language = Idioma desconocido.
error-text_too_long = El texto es demasiado largo.

incident-title = Incidencias
incident-intro = Cuando algo falla para todos, avisa a la vez a cada cliente que escriba sobre ello. Mientras una incidencia está activa, cada mensaje nuevo que menciona sus palabras clave recibe su etiqueta y, una vez, su mensaje; cuando termina, responde a todas sus conversaciones con un solo texto.
incident-banner = Incidencia activa: { $title } — { $count } conversaciones.
incident-see = Verlas
incident-manage = Gestionar
incident-spike = Posible incidencia: { $recent } mensajes en los últimos 10 minutos (lo normal: { $usual }). Muchos mencionan: { $words }.
incident-start_from_spike = Activar el modo incidencia
incident-on = activa
incident-ended = terminada
incident-keywords = Palabras clave
incident-label = Etiqueta
incident-conversations = Conversaciones
incident-end = Terminar la incidencia
incident-bulk = Responder a todas las conversaciones de la incidencia
incident-bulk_send = Enviar a todas
incident-bulk_done = { $queued } respuestas en cola; { $skipped } conversaciones fuera (su ventana de respuesta se cerró, o ya recibieron este texto).
incident-none = Aún no hay incidencias.
incident-start = Abrir una incidencia
incident-what = Qué ha pasado (para el equipo)
incident-keywords_hint = Palabras que usan los clientes (separadas por comas)
incident-text_es = Mensaje en español
incident-text_en = Mensaje en inglés
error-invalid_incident = La incidencia necesita un título, palabras clave y su mensaje en al menos un idioma.

skip-queue = Ir a la cola
skip-reply = Ir a la respuesta
skip-thread = Ir a los mensajes
conversation-messages = Mensajes
inbox-done_empty = No queda nada en esta vista.
inbox-next_conversation = Siguiente conversación.
help-intro = Las teclas sueltas funcionan fuera de los campos de texto; ninguna usa Alt ni una tecla del navegador o de un lector de pantalla.
help-key = Tecla
help-does = Hace
help-jk = conversación siguiente / anterior de la cola
help-enter = abrir la conversación elegida
help-r = escribir una respuesta
help-send = enviar la respuesta (en el cuadro de respuesta)
help-n = escribir una nota interna
help-e = resolver e ir a la siguiente conversación
help-s = posponer (hasta la hora elegida en el menú; mañana a las 9:00 si no se cambia) e ir a la siguiente conversación
help-a = asignármela e ir a la siguiente conversación
help-l = añadir una etiqueta a la conversación
help-t = etiquetar al autor (trol, spam, VIP…)
help-search = buscar
help-g = ir a la bandeja, los informes, la administración
help-esc = salir de un campo de texto
help-help = esta lista
help-off = Desactivar los atajos de una tecla (en este navegador)
help-close = Cerrar
conversation-sent_announce = Respuesta en cola; aparece en la conversación.
help-enter_key = Intro

# Trabajar la cola: respuestas tipo, posponer, escalar, la persona junto a la conversación.
nav-escalated = Escaladas
nav-canned = Respuestas tipo
inbox-escalated_title = Escaladas a supervisión
inbox-escalated = Escalada
inbox-returned = Vuelve de posponer
pane-queue = Cola
conversation-actions = Acciones
conversation-snoozed_until = Pospuesta hasta
conversation-canned_hint = Escribe / para las respuestas tipo (flechas para elegir, Intro para insertar, Escape para cerrar).
conversation-template_hint = Ahora solo se puede enviar una plantilla aprobada: escribe / para elegirla (flechas, Intro la envía).
conversation-snooze_until = Posponer hasta
snooze-tomorrow = Mañana a las 9:00
snooze-later = Más tarde hoy (en 3 horas)
snooze-monday = El lunes a las 9:00
snooze-until_reply = Hasta que el cliente escriba
snooze-or_at = o el
conversation-escalate_note = Nota para supervisión
conversation-escalate = Escalar
person-no_labels = Sin etiquetas
person-profiles = Perfiles enlazados
person-first_time = No hay conversaciones anteriores.
person-canned = Respuestas tipo que se le enviaron
person-no_canned = Ninguna todavía.
canned-title = Respuestas tipo
canned-intro = Respuestas que el equipo escribe una vez y envía a menudo. Escribe / en un cuadro de respuesta para usarlas; los marcadores se rellenan al enviar. Se marcan las que llevan 30 días sin usarse.
canned-search = Buscar
canned-shortcut = Atajo
canned-name = Nombre
canned-language = Idioma
canned-scope = Para
canned-uses = Usos
canned-last_used = Último uso
canned-actions = Acciones
canned-shared = Todo el equipo
canned-own = Solo yo
canned-dead = sin uso
canned-never = nunca
canned-edit = Editar
canned-delete = Borrar
canned-none = Todavía no hay respuestas tipo.
canned-change = Cambiar la respuesta tipo
canned-new = Nueva respuesta tipo
canned-labels = Etiquetas (separadas por comas)
canned-text = Texto
canned-placeholders = Marcadores:
canned-share = Compartir con todo el equipo
canned-save = Guardar
canned-cancel = Cancelar
canned-saved = Guardado.
canned-no_match = Ninguna respuesta tipo coincide.
help-pane = moverse entre la cola, la conversación y la persona (pantallas anchas)
person-title = La persona
conversation-closing_answer = respuesta a la pregunta de cierre
