// buzon: a little plain JavaScript on top of server-rendered pages. No inline scripts (the
// Content-Security-Policy forbids them), no user content ever passed to innerHTML except
// fragments the server rendered and escaped.
(function () {
  "use strict";
  var page = document.body.getAttribute("data-page");

  function typing(event) {
    var target = event.target;
    return target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT" || target.isContentEditable);
  }

  function rows() { return Array.prototype.slice.call(document.querySelectorAll("#queue .row")); }
  function selected() { return document.querySelector("#queue .row.selected"); }
  function select(row) {
    var current = selected();
    if (current) current.classList.remove("selected");
    if (row) { row.classList.add("selected"); row.scrollIntoView({ block: "nearest" }); }
  }
  function move(step) {
    var list = rows();
    if (!list.length) return;
    var index = list.indexOf(selected());
    index = index < 0 ? 0 : Math.min(list.length - 1, Math.max(0, index + step));
    select(list[index]);
  }

  // Single-key shortcuts, outside text fields only; none uses Alt or a browser or
  // screen-reader key. A reader may turn them off (remembered by this browser).
  var OFF_KEY = "buzon.shortcuts";
  function shortcutsOff() { try { return window.localStorage.getItem(OFF_KEY) === "off"; } catch (e) { return false; } }
  var offBox = document.getElementById("shortcuts-off");
  if (offBox) {
    offBox.checked = shortcutsOff();
    offBox.addEventListener("change", function () {
      try { window.localStorage.setItem(OFF_KEY, offBox.checked ? "off" : "on"); } catch (e) { /* private mode */ }
    });
  }
  function announce(text) {
    var region = document.getElementById("announce");
    if (!region || !text) return;
    region.textContent = "";
    window.setTimeout(function () { region.textContent = text; }, 50);
  }
  function press(id) { var button = document.getElementById(id); if (button) { button.click(); return true; } return false; }
  function focusOn(id, event) { var field = document.getElementById(id); if (field) { field.focus(); event.preventDefault(); } }
  var pendingG = false;
  // Wide screens show three panes (queue, thread, person): q and p move between them without
  // a page load, r goes to the reply box; on a narrow screen the same keys scroll to them.
  function focusPane(id, event) {
    var pane = document.getElementById(id);
    if (!pane || pane.offsetParent === null) return;
    pane.focus();
    if (id === "queue-pane" && !selected()) select(document.querySelector("#queue .row.current") || rows()[0]);
    event.preventDefault();
  }

  document.addEventListener("keydown", function (event) {
    // Ctrl/Cmd+Enter sends from the reply box (and a note from the note box).
    if ((event.ctrlKey || event.metaKey) && event.key === "Enter" && typing(event)) {
      var form = event.target.form;
      if (form && (event.target.id === "reply" || event.target.id === "note")) {
        event.preventDefault();
        if (form.requestSubmit) form.requestSubmit(); else form.submit();
      }
      return;
    }
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event)) { if (event.key === "Escape") event.target.blur(); return; }
    var key = event.key;
    if (key === "?") { var help = document.getElementById("help"); if (help && help.showModal && !help.open) help.showModal(); event.preventDefault(); return; }
    if (shortcutsOff()) return;
    if (pendingG) {
      pendingG = false;
      var where = { i: "/inbox", r: "/reports", a: "/admin" }[key];
      if (where) { window.location.href = where; event.preventDefault(); }
      return;
    }
    if (key === "g") { pendingG = true; window.setTimeout(function () { pendingG = false; }, 1500); return; }
    if (key === "/") { focusOn("search", event); }
    else if (key === "j") { move(1); }
    else if (key === "k") { move(-1); }
    else if (key === "Enter" && (page === "inbox" || page === "conversation")) { var row = selected(); if (row) { window.location.href = row.querySelector("a").href; event.preventDefault(); } }
    else if (key === "q" && page === "conversation") { focusPane("queue-pane", event); }
    else if (key === "p" && page === "conversation") { focusPane("person", event); }
    else if (key === "r") { focusOn("reply", event); }
    else if (key === "n") { focusOn("note", event); }
    else if (key === "e") { press("status-resolved"); }
    else if (key === "m" || key === "x") {
      // Listening: promote into the queue (m) or dismiss (x) the selected find of the
      // monitoring view (the first when none is selected), or the conversation shown.
      var kind = key === "m" ? "promote" : "dismiss";
      var row = selected() || (page === "inbox" ? rows()[0] : null);
      var button = row ? row.querySelector("button." + kind) : null;
      if (button) { button.click(); event.preventDefault(); } else { press(kind); }
    }
    else if (key === "s") { press("status-snoozed"); }
    else if (key === "a") { press("assign-me"); }
    else if (key === "l") { focusOn("tag-input", event); }
    else if (key === "t") {
      var first = document.querySelector(".author-tags button");
      if (first) { first.focus(); event.preventDefault(); }
    }
  });

  // Focus follows the work: landing on the next conversation after resolve, snooze or assign
  // puts the reader in its thread and says so; an emptied view says so too.
  var params = new URLSearchParams(window.location.search);
  if (page === "conversation" && params.get("from") === "next") {
    var thread = document.getElementById("messages");
    if (thread) thread.focus();
    announce(document.body.getAttribute("data-next-text"));
  }
  if (page === "inbox" && params.get("done") === "empty") {
    announce(document.body.getAttribute("data-empty-text"));
  }
  if (page === "inbox" && (params.get("done") === "promoted" || params.get("done") === "dismissed")) {
    select(rows()[0]);
    announce(document.body.getAttribute("data-" + params.get("done") + "-text"));
  }
  if (page === "conversation" && params.get("sent") === "1") {
    var threadAfterSend = document.getElementById("messages");
    if (threadAfterSend) threadAfterSend.focus();
    announce(document.body.getAttribute("data-sent-text"));
  }

  // Snooze menus carry the viewer's time zone ("tomorrow 9:00" is the viewer's 9:00).
  var zone = "";
  try { zone = Intl.DateTimeFormat().resolvedOptions().timeZone || ""; } catch (e) { zone = ""; }
  Array.prototype.forEach.call(document.querySelectorAll(".viewer-zone"), function (input) { input.value = zone; });

  // The `/` picker of the reply box: canned replies (or, once the reply window has closed, the
  // approved templates), filtered as one types, chosen with the arrows and Enter. A canned
  // reply goes into the box as written, placeholders and all: the server fills them once, when
  // the reply is sent. A template is sent as it is.
  var replyBox = document.getElementById("reply");
  var picker = document.getElementById("picker");
  if (replyBox && picker) {
    var options = Array.prototype.slice.call(picker.querySelectorAll(".pick"));
    var noMatch = picker.querySelector(".pick-none");
    var cannedField = document.getElementById("canned-reply-id");
    var shown = [];
    var active = -1;
    var slashAt = -1;
    var slashQuery = function () {
      var before = replyBox.value.slice(0, replyBox.selectionStart);
      var at = before.lastIndexOf("/");
      if (at < 0 || (at > 0 && !/\s/.test(before.charAt(at - 1)))) return null;
      var query = before.slice(at + 1);
      if (/\s/.test(query)) return null;
      slashAt = at;
      return query.toLowerCase();
    };
    var closePicker = function () {
      picker.hidden = true;
      replyBox.removeAttribute("aria-activedescendant");
      active = -1;
    };
    var highlight = function (index) {
      shown.forEach(function (option) { option.setAttribute("aria-selected", "false"); });
      active = index;
      if (shown[index]) {
        shown[index].setAttribute("aria-selected", "true");
        replyBox.setAttribute("aria-activedescendant", shown[index].id);
        shown[index].scrollIntoView({ block: "nearest" });
      } else {
        replyBox.removeAttribute("aria-activedescendant");
      }
    };
    var openPicker = function (query) {
      shown = options.filter(function (option) { return option.getAttribute("data-find").toLowerCase().indexOf(query) >= 0; });
      options.forEach(function (option) { option.hidden = shown.indexOf(option) < 0; });
      if (noMatch) noMatch.hidden = shown.length > 0;
      picker.hidden = false;
      highlight(shown.length ? 0 : -1);
    };
    var choose = function (option) {
      closePicker();
      if (option.getAttribute("data-kind") === "template") {
        var form = document.getElementById("template-form-" + option.getAttribute("data-id"));
        if (form) { if (form.requestSubmit) form.requestSubmit(); else form.submit(); }
        return;
      }
      var text = option.getAttribute("data-text");
      var caret = replyBox.selectionStart;
      replyBox.value = replyBox.value.slice(0, slashAt) + text + replyBox.value.slice(caret);
      var end = slashAt + text.length;
      replyBox.setSelectionRange(end, end);
      if (cannedField) cannedField.value = option.getAttribute("data-id");
      announce(option.querySelector("strong") ? option.querySelector("strong").textContent : "");
    };
    replyBox.addEventListener("input", function () {
      var query = slashQuery();
      if (query === null) closePicker(); else openPicker(query);
      if (!replyBox.value.trim() && cannedField) cannedField.value = "";
    });
    replyBox.addEventListener("keydown", function (event) {
      if (picker.hidden || event.ctrlKey || event.metaKey || event.altKey) return;
      if (event.key === "ArrowDown") { highlight(Math.min(shown.length - 1, active + 1)); event.preventDefault(); }
      else if (event.key === "ArrowUp") { highlight(Math.max(0, active - 1)); event.preventDefault(); }
      else if (event.key === "Enter") {
        if (shown[active]) { event.preventDefault(); event.stopPropagation(); choose(shown[active]); }
      } else if (event.key === "Escape") { event.preventDefault(); event.stopPropagation(); closePicker(); }
    });
    replyBox.addEventListener("blur", function () { window.setTimeout(closePicker, 150); });
    options.forEach(function (option) {
      option.addEventListener("mousedown", function (event) { event.preventDefault(); choose(option); });
    });
  }

  var replyForm = document.getElementById("reply-form");
  if (replyForm) {
    replyForm.addEventListener("submit", function () {
      var button = replyForm.querySelector("button[type=submit]");
      if (button) { button.disabled = true; button.textContent = "…"; }
    });
  }

  // Live updates: the server sends the newest message id; when it moves, the list or the
  // thread is fetched again as a server-rendered fragment.
  var container = page === "inbox" ? document.getElementById("queue") : document.getElementById("thread");
  if (!container || !window.EventSource) return;
  var known = (page === "inbox" ? container : document.querySelector(".conversation")).getAttribute("data-latest");
  var source = new EventSource("/events");
  // A page left behind (or kept in the back-forward cache) closes its stream: a browser holds
  // only six connections to a host, and streams of pages no longer shown would use them up
  // until every new request waits. A page shown again from that cache is reloaded.
  window.addEventListener("pagehide", function () { source.close(); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) window.location.reload(); });
  var refreshing = false;
  // A change that arrives while a refresh is on its way is not lost: another follows.
  var stale = false;
  function refresh() {
    if (refreshing) { stale = true; return; }
    refreshing = true;
    stale = false;
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          var selectedId = selected() && selected().getAttribute("data-conversation-id");
          var before = container.querySelectorAll(".row").length;
          container.innerHTML = html;
          // New conversations in the queue are announced politely (the thread is a log region
          // and announces itself).
          if (page === "inbox" && container.querySelectorAll(".row").length > before) {
            announce(document.body.getAttribute("data-new-text"));
          }
          if (selectedId) select(document.querySelector('#queue .row[data-conversation-id="' + selectedId + '"]'));
          document.body.setAttribute("data-refreshed", String(Date.now()));
        }
      })
      .then(function () {
        // The banners over the queue (incidents and their counts, a burst) follow too.
        var banners = document.getElementById("banners");
        if (page !== "inbox" || !banners) return null;
        var bannersUrl = new URL(window.location.href);
        bannersUrl.searchParams.set("fragment", "banners");
        return fetch(bannersUrl.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
          .then(function (response) { return response.ok ? response.text() : null; })
          .then(function (html) { if (html !== null) banners.innerHTML = html; });
      })
      .finally(function () {
        refreshing = false;
        if (stale) refresh();
      });
  }
  source.addEventListener("activity", function (event) {
    if (event.data !== known) { known = event.data; refresh(); }
  });
})();
