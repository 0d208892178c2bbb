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
    else if (key === "Enter" && page === "inbox") { var row = selected(); if (row) row.querySelector("a").click(); }
    else if (key === "r") { focusOn("reply", event); }
    else if (key === "n") { focusOn("note", event); }
    else if (key === "e") { press("status-resolved"); }
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
  if (page === "conversation" && params.get("sent") === "1") {
    var threadAfterSend = document.getElementById("messages");
    if (threadAfterSend) threadAfterSend.focus();
    announce(document.body.getAttribute("data-sent-text"));
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
