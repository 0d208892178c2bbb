# buzon: the main texts (English).

# The language's own name, on the switch that offers it.
language-name = English

app-tagline = Social inbox

nav-inbox = Inbox
nav-trolls = Trolls & spam
nav-reports = Reports
nav-admin = Admin
nav-logout = Sign out
nav-language = Language

login-title = Sign in
login-email = Email
login-password = Password
login-submit = Sign in
login-failed = Wrong email or password.
login-throttled = Too many failed attempts. Try again in a few minutes.

inbox-title = Inbox
inbox-trolls_title = Trolls & spam
inbox-search = Search messages
inbox-filter = Filter
inbox-status = Status
inbox-channel = Channel
inbox-all_channels = All channels
inbox-label = Label
inbox-assignee = Assignee
inbox-anyone = Anyone
inbox-mine = Mine
inbox-unassigned = Unassigned
inbox-sort = Sort
inbox-sort_newest = Newest activity
inbox-sort_waiting = Longest waiting
inbox-sort_window = Reply window closing
inbox-empty = Nothing here. Inbox zero!
inbox-next = Older
inbox-new_messages = New messages arrived.
inbox-waiting = waiting
inbox-window_open = window open
inbox-window_closed = window closed

status-open = Open
status-pending = Pending
status-snoozed = Snoozed
status-resolved = Resolved
status-all = All

conversation-reply = Reply
conversation-reply_placeholder = Write a reply… (r)
conversation-send = Send
conversation-note = Add internal note
conversation-note_placeholder = Only your team sees notes
conversation-notes = Internal notes
conversation-resolve = Resolve (e)
conversation-reopen = Reopen
conversation-pending = Waiting on customer
conversation-snooze = Snooze
conversation-assign_me = Assign to me
conversation-unassign = Unassign
conversation-tags = Labels
conversation-add_tag = Add label (t)
conversation-author = Author
conversation-author_tags = Tag the author
conversation-hide = Hide on platform
conversation-unknown-hint = The platform never confirmed this reply. Check on the platform, then say what happened: buzon does not send twice on its own.
conversation-arrived = It arrived
conversation-send-again = Send again
conversation-unhide = Show on platform
conversation-hidden = hidden
conversation-removed = removed by the author
conversation-window_closed = More than 24 hours have passed since the customer's last message: only an approved template can be sent.
conversation-templates = Approved templates
conversation-no_templates = No approved templates yet: an admin can add them.
conversation-send_template = Send template
conversation-person = Same person elsewhere
conversation-link = Link another profile of this person
conversation-link_search = Name, handle or number
conversation-history = History on every channel
conversation-viewer = You can read this conversation; your role cannot change it.

delivery-unknown = outcome unknown
delivery-queued = sending
delivery-sent = sent
delivery-delivered = delivered
delivery-read = read
delivery-failed = failed
delivery-received = received

help-title = Keyboard shortcuts

error-title = Something is wrong
error-back = Back to the inbox

# Errors, by the code the application layer gives them (`error-<code>`): pages show these;
# an error whose code has no text here shows its own English message.
error-csrf = Refused: the form is missing its security token. Reload the page and try again.
error-forbidden = Your role may not do this.
error-not_found = Not found.
error-unauthorized = Please sign in.
error-reply_window_closed = More than 24 hours have passed since the customer's last message: only an approved template can be sent.
error-throttled = Too many failed attempts. Try again in a few minutes.
error-unavailable = buzon cannot reach its database right now. Try again in a moment.
error-internal = Something went wrong on our side. It has been logged.
error-empty_reply = Write a reply before sending it.
error-reply_too_long = The reply is too long.
error-empty_note = The note is empty.
error-unknown_assignee = Unknown assignee.
error-link_query_short = Type at least two characters to find the other profile.
error-password_too_short = The password needs at least 8 characters.
error-password_too_long = The password is too long.
error-email_taken = A user with this email already exists.
error-last_admin = buzon needs at least one active admin.
error-token_role = A token cannot have a higher role than its user.
error-platform_id = The platform id is not valid.
error-token_required = The access token is required.
error-oauth_not_configured = Sign-in with this platform is not configured.
error-pick_expired = This choice has expired: connect again.

# A person the platform has not named yet: "Messenger user ·4f2a".
contact-unnamed = { $platform } user ·{ $tail }
platform-facebook = Facebook
platform-messenger = Messenger
platform-whatsapp = WhatsApp
platform-x = X

# Business hours, shown where people work.
hours-closed_banner = Outside business hours — back { $when }.
hours-open_now = Open now.
conversation-automatic = automatic reply

# The languages buzon tells apart in customers' messages.
language-filter = Language
language-any = Any language
language-es = Spanish
language-en = English
language-pt = Portuguese
language-fr = French
language-de = German
language-it = Italian
language-nl = Dutch

error-invalid_business_hours = These hours are not valid: use HH:MM-HH:MM (22:00-02:00 runs past midnight), dates as YYYY-MM-DD and a time zone such as Europe/Madrid.
error-unknown_placeholder = The text uses a placeholder buzon does not know: only {"{{"}back_at{"}}"} is filled in.
error-missing_text = An auto-reply that is on needs a text in its default language.
error-unknown_language = Unknown language.
error-text_too_long = The text is too long.

incident-title = Incidents
incident-intro = When something breaks for everyone, tell every customer who writes about it at once. While an incident is on, each new message that mentions its keywords gets its label and, once, its message; when it is over, answer all its conversations with one text.
incident-banner = Incident on: { $title } — { $count } conversations.
incident-see = See them
incident-manage = Manage
incident-spike = Possible incident: { $recent } messages in the last 10 minutes (usually { $usual }). Many mention: { $words }.
incident-start_from_spike = Start incident mode
incident-on = on
incident-ended = ended
incident-keywords = Keywords
incident-label = Label
incident-conversations = Conversations
incident-end = End the incident
incident-bulk = Answer every conversation of the incident
incident-bulk_send = Send to all
incident-bulk_done = { $queued } replies queued; { $skipped } conversations left out (their reply window has closed, or they already had this text).
incident-none = No incident yet.
incident-start = Start an incident
incident-what = What happened (for the team)
incident-keywords_hint = Keywords customers use (comma-separated)
incident-text_es = Message in Spanish
incident-text_en = Message in English
error-invalid_incident = The incident needs a title, keywords and its message in at least one language.

skip-queue = Skip to the queue
skip-reply = Skip to the reply box
skip-thread = Skip to the messages
conversation-messages = Messages
inbox-done_empty = Nothing left in this view.
inbox-next_conversation = Next conversation.
help-intro = Single keys work outside text fields; none uses Alt or a key of the browser or a screen reader.
help-key = Key
help-does = Does
help-jk = next / previous conversation in the queue
help-enter = open the selected conversation
help-r = write a reply
help-send = send the reply (in the reply box)
help-n = write an internal note
help-e = resolve and go to the next conversation
help-s = snooze (until the time chosen in the menu, tomorrow 9:00 unless changed) and go to the next conversation
help-a = assign to me and go to the next conversation
help-l = add a label to the conversation
help-t = tag the author (troll, spam, VIP…)
help-search = search
help-g = go to the inbox, the reports, the admin pages
help-esc = leave a text field
help-help = this list
help-off = Turn single-key shortcuts off (on this browser)
help-close = Close
conversation-sent_announce = Reply queued; it shows in the thread.
help-enter_key = Enter

# Working the queue: canned replies, snooze, escalation, the person beside the thread.
nav-escalated = Escalated
nav-canned = Canned replies
inbox-escalated_title = Escalated to supervisors
inbox-escalated = Escalated
inbox-returned = Back from snooze
pane-queue = Queue
conversation-actions = Actions
conversation-snoozed_until = Snoozed until
conversation-canned_hint = Type / for canned replies (arrows to choose, Enter to insert, Escape to close).
conversation-template_hint = Only an approved template may be sent now: type / to choose one (arrows, Enter sends it).
conversation-snooze_until = Snooze until
snooze-tomorrow = Tomorrow 9:00
snooze-later = Later today (in 3 hours)
snooze-monday = Monday 9:00
snooze-until_reply = Until the customer writes
snooze-or_at = or at
conversation-escalate_note = Note for the supervisor
conversation-escalate = Escalate
person-no_labels = No labels
person-profiles = Linked profiles
person-first_time = No earlier conversations.
person-canned = Canned replies sent to them
person-no_canned = None yet.
canned-title = Canned replies
canned-intro = Answers the team writes once and sends often. Type / in a reply box to use them; placeholders are filled when the reply is sent. Replies unused for 30 days are marked.
canned-search = Search
canned-shortcut = Shortcut
canned-name = Name
canned-language = Language
canned-scope = For
canned-uses = Uses
canned-last_used = Last used
canned-actions = Actions
canned-shared = Everyone
canned-own = Only me
canned-dead = unused
canned-never = never
canned-edit = Edit
canned-delete = Delete
canned-none = No canned replies yet.
canned-change = Change the canned reply
canned-new = New canned reply
canned-labels = Labels (comma-separated)
canned-text = Text
canned-placeholders = Placeholders:
canned-share = Share with the whole team
canned-save = Save
canned-cancel = Cancel
canned-saved = Saved.
canned-no_match = No canned reply matches.
help-pane = move between the queue, the thread and the person (wide screens)
person-title = The person
conversation-closing_answer = answer to the closing question

apidocs-title = API reference
apidocs-intro = The JSON API does everything the pages do, with a token of the matching role. This reference is made from the same document scripts and tools read; its descriptions are in English.
apidocs-document = The OpenAPI 3.1 document (JSON)
apidocs-auth = Every route takes the header Authorization: Bearer followed by a token. Admins create tokens with “buzon token create” or on the API. Roles: viewer, agent, admin; each may do what the ones before it may.
apidocs-contents = Contents
apidocs-schemas = Schemas
apidocs-role = Role
apidocs-parameters = Parameters
apidocs-name = Name
apidocs-in = In
apidocs-required = Required
apidocs-description = Description
apidocs-yes = yes
apidocs-no = no
apidocs-body = Body
apidocs-responses = Responses
apidocs-status = Status
apidocs-schema = Schema
apidocs-errors = Every operation may also answer these errors, as {"{"}"error": {"{"}"code", "message"{"}"}{"}"}
