# buzon: the reports texts (Spanish).

reports-title = Tiempos de respuesta
reports-from = Desde
reports-to = Hasta
reports-channel = Canal
reports-all_channels = Todos los canales
reports-include_flagged = Incluir troles y spam
reports-apply = Mostrar
reports-period = Periodo
reports-compared_with = comparado con
reports-as_of = cifras a
reports-cycles_in_period = ciclos de respuesta
reports-summary = Este periodo frente al anterior
reports-wall = Tiempo real
reports-business = Horario laboral
reports-figure = Cifra
reports-this_period = Este periodo
reports-previous_period = Periodo anterior
reports-change = Cambio
reports-first_response = Primera respuesta
reports-reply_time = Tiempo de respuesta
reports-resolution = Resolución
reports-median = mediana
reports-p90 = percentil 90
reports-count = recuento
reports-response_rate = Tasa de respuesta (respuesta de una persona en 24 h)
reports-distribution = Tiempos de primera respuesta (tiempo real): cuántos ciclos recibieron su primera respuesta en cada intervalo
reports-charts = Cuándo escriben los clientes y qué tan rápido respondemos
reports-heatmap_volume = Mensajes de clientes por hora de la semana
reports-heatmap_speed = Mediana de primera respuesta (tiempo real) según la hora en que empezó el ciclo
reports-heatmap_note = Las horas son las locales de la zona horaria del negocio. Pasa el ratón por una celda para ver sus cifras; la exportación del mapa de calor las tiene todas.
reports-staffing = Recomendación de personal
reports-share = % respondido
reports-within = en (minutos)
reports-handling = duración media de la atención (minutos)
reports-recompute = Recalcular
reports-staffing_caption = Personas necesarias cada hora de la semana
reports-by_channel = Por canal
reports-by_agent = Por agente
reports-by_agent_note = Los ciclos cuentan para quien respondió primero; los tiempos de respuesta, para quien escribió cada respuesta.
reports-by_label = Por etiqueta: de qué escriben los clientes
reports-name = Nombre
reports-cycles = Ciclos
reports-first_median = Primera respuesta, mediana
reports-first_p90 = Primera respuesta, p90
reports-first_count = Primeras respuestas
reports-reply_median = Tiempo de respuesta, mediana
reports-reply_p90 = Tiempo de respuesta, p90
reports-replies = Respuestas
reports-rate = Tasa de respuesta
reports-business_first_median = Primera respuesta, mediana (horario laboral)
reports-business_first_p90 = Primera respuesta, p90 (horario laboral)
reports-business_rate = Tasa de respuesta (horario laboral)
reports-none = Sin datos en este periodo.
reports-api_agent = Token de la API (sin usuario)
reports-exports = Exportaciones (CSV)
reports-exports_note = Cada tabla de esta página, para este periodo y filtro; la exportación por conversación tiene todas las horas, para que cualquiera pueda recalcular las cifras.
reports-export_summary = Resumen
reports-export_channels = Por canal
reports-export_agents = Por agente
reports-export_labels = Por etiqueta
reports-export_heatmap = Mapa de calor por hora
reports-export_staffing = Recomendación de personal
reports-export_conversations = Cada ciclo con todas sus horas
reports-rules = Cómo se miden estas cifras
reports-public_link = Página pública de tiempos de respuesta

# Nombres cortos de los días, para los mapas de calor y el horario.
reports-day-monday = lun
reports-day-tuesday = mar
reports-day-wednesday = mié
reports-day-thursday = jue
reports-day-friday = vie
reports-day-saturday = sáb
reports-day-sunday = dom
reports-closed = cerrado
reports-always_open = siempre abierto

# Los intervalos del gráfico de primera respuesta.
reports-bucket-under_5m = < 5 min
reports-bucket-5_15m = 5–15 min
reports-bucket-15_30m = 15–30 min
reports-bucket-30_60m = 30–60 min
reports-bucket-1_2h = 1–2 h
reports-bucket-2_4h = 2–4 h
reports-bucket-4_8h = 4–8 h
reports-bucket-8_24h = 8–24 h
reports-bucket-1_2d = 1–2 d
reports-bucket-over_2d = > 2 d

# Las descripciones de las celdas de los mapas por hora; $hour es "lun 09:00–10:00".
reports-volume_cell = { $hour }: { $count } mensajes de clientes ({ $rate } por hora)
reports-speed_cell = { $hour }: mediana de primera respuesta { $duration } ({ $count } ciclos)
reports-staffing_cell = { $hour }: { $people ->
        [one] { $people } persona
       *[other] { $people } personas
    } ({ $rate } conversaciones nuevas por hora)

reports-staffing_assumptions = La recomendación de personal usa el modelo de colas Erlang C. Supone que las conversaciones llegan al azar (un proceso de Poisson) al ritmo medido para esa hora de la semana en el periodo; que la duración de la atención varía al azar (exponencialmente) en torno a la duración media indicada; que cada persona atiende una conversación a la vez; que nadie se cansa de esperar; y que lo que no se atiende en una hora no pasa a la siguiente. Las bandejas reales no cumplen del todo estos supuestos (se atienden varios chats a la vez, hay clientes que se van, llegan ráfagas tras una publicación): tome las cifras como punto de partida, no como un turno cerrado.

# Cómo se miden los tiempos de respuesta, una regla por clave, junto a las cifras (la página
# de informes, la página pública, la API de métricas). Cada regla va en una sola línea.
reports-rule-first_response = El tiempo de primera respuesta va desde el primer mensaje del cliente en un ciclo hasta la primera respuesta escrita por una persona. Las respuestas automáticas nunca cuentan como respuesta.
reports-rule-cycles = Un ciclo empieza con el primer mensaje del cliente, o con su primer mensaje después de que la conversación se resolviera. Una conversación reabierta empieza un ciclo nuevo en lugar de alargar el anterior.
reports-rule-reply_time = El tiempo de respuesta va desde el primer mensaje del cliente sin contestar hasta la siguiente respuesta de una persona: una ráfaga de mensajes del cliente cuenta desde su primer mensaje sin contestar.
reports-rule-resolution = El tiempo de resolución va desde el inicio del ciclo hasta su resolución.
reports-rule-response_rate = La tasa de respuesta es la proporción de ciclos que recibieron respuesta de una persona en 24 horas (24 horas de apertura, en las cifras en horario laboral). Un ciclo resuelto sin esa respuesta cuenta como no contestado; un ciclo que aún está dentro de sus 24 horas sin respuesta todavía no se cuenta.
reports-rule-pending = El tiempo en pendiente (esperando al cliente) no cuenta, ni en tiempo real ni en horario laboral; un nuevo mensaje del cliente termina la espera. El tiempo pospuesto sí cuenta.
reports-rule-business_hours = En horario laboral solo cuenta el horario de apertura, en la zona horaria del negocio; los festivos no cuentan. Un mensaje que llega con el negocio cerrado empieza a contar en la siguiente apertura.
reports-rule-order = Las horas son las de las plataformas; los mensajes se ordenan por esas horas, sea cual sea el orden en que llegaron.
reports-rule-flagged = Las conversaciones de troles y spam quedan fuera salvo que se incluyan a propósito.
reports-rule-statistics = Cada cifra es una mediana, un percentil 90 (rango más cercano) y un recuento, nunca una media.

public-title = Tiempos de respuesta
public-all_channels = Todos nuestros canales
public-last_7 = Últimos 7 días
public-last_30 = Últimos 30 días
public-median = Mediana de primera respuesta
public-median_business = Mediana de primera respuesta, solo horario laboral
public-rate = Respondidas en 24 horas
public-cycles = Conversaciones
public-hours = Horario de atención
public-none = Aún ningún canal publica sus tiempos de respuesta.
public-embed = Muéstralo en tu web (sin scripts)
public-updated = Actualizado
public-how = Cómo lo medimos
public-badge_label = suele responder
public-badge_none = sin datos aún

# La frase y la insignia públicas; $n va redondeado hacia arriba (de 5 en 5 minutos, horas o días enteros).
public-sentence_none = Aún no hay respuestas suficientes para saber cuánto tardamos
public-sentence_minutes = Suele responder en menos de { $n } minutos
public-sentence_hours = { $n ->
    [one] Suele responder en menos de { $n } hora
   *[other] Suele responder en menos de { $n } horas
}
public-sentence_days = { $n ->
    [one] Suele responder en menos de { $n } día
   *[other] Suele responder en menos de { $n } días
}
public-badge_minutes = en menos de { $n } min
public-badge_hours = en menos de { $n } h
public-badge_days = en menos de { $n } d
reports-escalations = escaladas
reports-escalations_by_rule = por una regla de espera
reports-escalations_by_hand = a mano
reports-satisfaction = Satisfacción: las respuestas a la pregunta de cierre
reports-satisfaction_note = Cuando alguien resuelve una conversación privada, la pregunta de cierre del canal pregunta al cliente si se resolvió (1 sí, 2 no). Cuenta para quien la resolvió.
reports-satisfaction_group = Grupo
reports-satisfaction_answers = Respuestas
reports-satisfaction_yes = Resueltas
reports-satisfaction_rate = Tasa
reports-satisfaction_all = Todas
reports-satisfaction_none = No hay respuestas en este periodo (activa la pregunta de cierre en los ajustes de cada canal).

reports-listening = Escucha
reports-listening_note = Lo que buzon encontró sin que nadie se dirigiera a la cuenta, por día (UTC) y origen: publicaciones que coinciden con cada búsqueda guardada de X, publicaciones de Facebook en otros sitios que etiquetan la página y reseñas de la página. Una conversación encontrada por la escucha cuenta en los tiempos de respuesta de arriba solo cuando pasa a la cola, y desde ese momento; lo que sigue en monitorización o se descarta no cuenta. Lo encontrado por la escucha alimenta la detección de picos como cualquier mensaje de cliente.
reports-listening_day = Día
reports-listening_source = Encontrado por
reports-listening_found = Publicaciones
reports-listening_reviews = Reseñas de la página
reports-listening_none = La escucha no encontró nada en este periodo.
public-listening_note = Las publicaciones que mencionan la tienda sin dirigirse a ella cuentan desde que el equipo las pasa a su cola.
