# buzon: the reports texts (English).

reports-title = Response times
reports-from = From
reports-to = To
reports-channel = Channel
reports-all_channels = All channels
reports-include_flagged = Include trolls and spam
reports-apply = Show
reports-period = Period
reports-compared_with = compared with
reports-as_of = figures as of
reports-cycles_in_period = response cycles
reports-summary = This period against the previous one
reports-wall = Wall-clock time
reports-business = Business hours
reports-figure = Figure
reports-this_period = This period
reports-previous_period = Previous period
reports-change = Change
reports-first_response = First response
reports-reply_time = Reply time
reports-resolution = Resolution
reports-median = median
reports-p90 = 90th percentile
reports-count = count
reports-response_rate = Response rate (a reply by a person within 24 h)
reports-distribution = First response times (wall clock): how many cycles were first answered within each span
reports-charts = When customers write, and how fast we answer
reports-heatmap_volume = Customer messages per hour of the week
reports-heatmap_speed = Median first response (wall clock) by the hour the cycle started
reports-heatmap_note = Hours are local to the business's time zone. Hover a cell for its figures; the heatmap export has them all.
reports-staffing = Staffing advice
reports-share = % answered
reports-within = within (minutes)
reports-handling = average handling time (minutes)
reports-recompute = Recompute
reports-staffing_caption = People needed each hour of the week
reports-by_channel = By channel
reports-by_agent = By agent
reports-by_agent_note = Cycles count for the person who replied first; reply times for whoever wrote each reply.
reports-by_label = By label: what customers write about
reports-name = Name
reports-cycles = Cycles
reports-first_median = First response, median
reports-first_p90 = First response, p90
reports-first_count = First responses
reports-reply_median = Reply time, median
reports-reply_p90 = Reply time, p90
reports-replies = Replies
reports-rate = Response rate
reports-business_first_median = First response, median (business hours)
reports-business_first_p90 = First response, p90 (business hours)
reports-business_rate = Response rate (business hours)
reports-none = No data in this period.
reports-api_agent = API token (no user)
reports-exports = Exports (CSV)
reports-exports_note = Every table of this page, for this period and filter; the per-conversation export has every timestamp, so anyone can recompute the figures.
reports-export_summary = Summary
reports-export_channels = By channel
reports-export_agents = By agent
reports-export_labels = By label
reports-export_heatmap = Hour-of-week heatmap
reports-export_staffing = Staffing advice
reports-export_conversations = Every cycle with every timestamp
reports-rules = How these figures are measured
reports-public_link = Public response-time page

# Short weekday names, for the heatmaps and the business hours.
reports-day-monday = Mon
reports-day-tuesday = Tue
reports-day-wednesday = Wed
reports-day-thursday = Thu
reports-day-friday = Fri
reports-day-saturday = Sat
reports-day-sunday = Sun
reports-closed = closed
reports-always_open = always open

# The spans of the first-response chart.
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

# The tooltips of the hour-of-week grids; $hour is "Mon 09:00–10:00".
reports-volume_cell = { $hour }: { $count } customer messages ({ $rate } per hour)
reports-speed_cell = { $hour }: median first response { $duration } ({ $count } cycles)
reports-staffing_cell = { $hour }: { $people ->
        [one] { $people } person
       *[other] { $people } people
    } ({ $rate } new conversations per hour)

reports-staffing_assumptions = Staffing advice uses the Erlang C queueing model. It assumes that conversations arrive at random (a Poisson process) at the rate measured for that hour of the week over the period; that handling times vary at random (exponentially) around the average handling time given; that each person handles one conversation at a time; that nobody gives up waiting; and that conversations not answered in one hour carry no load into the next. Real inboxes break these assumptions (people handle several chats at once, customers leave, bursts follow posts), so treat the numbers as a starting point, not a roster.

# How the response-time figures are measured, one rule per key, shown next to the figures
# (the report page, the public page, the metrics API). Each rule stays on one line.
reports-rule-first_response = First response time runs from the customer's first message of a cycle to the first reply written by a person. Automatic replies never count as responses.
reports-rule-cycles = A cycle starts with the customer's first message, or with their first message after the conversation was resolved. A reopened conversation starts a new cycle instead of inflating the old one.
reports-rule-reply_time = Reply time runs from the first unanswered customer message to the next reply by a person: a burst of customer messages counts from its first unanswered message.
reports-rule-resolution = Resolution time runs from the start of the cycle to its resolution.
reports-rule-response_rate = Response rate is the share of cycles that got a reply by a person within 24 hours (24 hours of opening time, in the business-hours figures). A cycle resolved without such a reply counts as not answered; a cycle still within its 24 hours without a reply is not counted yet.
reports-rule-pending = Time in pending (waiting on the customer) does not count, neither in wall-clock time nor in business hours; a new message from the customer ends the wait. Snoozed time counts.
reports-rule-business_hours = In business hours only opening hours count, in the business's time zone; holidays do not count. A message that arrives while closed starts counting at the next opening.
reports-rule-order = Times are the platforms' times; messages are put in the order of those times, whatever order they arrived in.
reports-rule-flagged = Conversations of trolls and spammers are left out unless they are included on purpose.
reports-rule-statistics = Each figure is a median, a 90th percentile (nearest rank) and a count, never a mean.

public-title = Response times
public-all_channels = All our channels
public-last_7 = Last 7 days
public-last_30 = Last 30 days
public-median = Median first response
public-median_business = Median first response, business hours only
public-rate = Answered within 24 hours
public-cycles = Conversations
public-hours = Business hours
public-none = No channel publishes its response times yet.
public-embed = Show it on your site (no script needed)
public-updated = Updated
public-how = How we measure
public-badge_label = usually replies
public-badge_none = no data yet

# The public sentence and badge; $n is rounded up (5-minute steps, whole hours, whole days).
public-sentence_none = Not enough replies yet to tell how fast we answer
public-sentence_minutes = Usually replies within { $n } minutes
public-sentence_hours = { $n ->
    [one] Usually replies within { $n } hour
   *[other] Usually replies within { $n } hours
}
public-sentence_days = { $n ->
    [one] Usually replies within { $n } day
   *[other] Usually replies within { $n } days
}
public-badge_minutes = within { $n } min
public-badge_hours = within { $n } h
public-badge_days = within { $n } d
reports-escalations = escalated
reports-escalations_by_rule = by a waiting-time rule
reports-escalations_by_hand = by hand
reports-satisfaction = Satisfaction: the answers to the closing question
reports-satisfaction_note = When an agent resolves a private conversation, the channel's closing question asks the customer whether it was solved (1 yes, 2 no). Counted for the agent who resolved it.
reports-satisfaction_group = Group
reports-satisfaction_answers = Answers
reports-satisfaction_yes = Solved
reports-satisfaction_rate = Rate
reports-satisfaction_all = All
reports-satisfaction_none = No answers in this period (turn the closing question on in each channel's settings).

reports-listening = Listening
reports-listening_note = What buzon found that nobody addressed to the account, per day (UTC) and source: posts matching each saved X search, Facebook posts elsewhere that tag the Page, and Page reviews. A conversation found by listening counts for the response times above only once it is promoted into the queue, and from the moment it was promoted; what stays in the monitoring view or is dismissed does not count. Listening finds feed spike detection like any customer message.
reports-listening_day = Day
reports-listening_source = Found by
reports-listening_found = Posts
reports-listening_reviews = Page reviews
reports-listening_none = Listening found nothing in this period.
public-listening_note = Posts that mention the shop without addressing it count from the moment the team takes them into its queue.
