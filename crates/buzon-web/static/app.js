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

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (typing(event)) { if (event.key === "Escape") event.target.blur(); return; }
    var key = event.key;
    if (key === "?") { var help = document.getElementById("help"); if (help && help.showModal) help.showModal(); event.preventDefault(); }
    else if (key === "/") { var search = document.getElementById("search"); if (search) { search.focus(); event.preventDefault(); } }
    else if (key === "j") { move(1); }
    else if (key === "k") { move(-1); }
    else if (key === "Enter" && page === "inbox") { var row = selected(); if (row) row.querySelector("a").click(); }
    else if (key === "r") { var reply = document.getElementById("reply"); if (reply) { reply.focus(); event.preventDefault(); } }
    else if (key === "e") { var resolve = document.getElementById("status-resolved"); if (resolve) resolve.click(); }
    else if (key === "t") { var tag = document.getElementById("tag-input"); if (tag) { tag.focus(); event.preventDefault(); } }
  });

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
  var refreshing = false;
  function refresh() {
    if (refreshing) return;
    refreshing = true;
    var url = new URL(window.location.href);
    url.searchParams.set("fragment", "1");
    fetch(url.toString(), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (response) { return response.ok ? response.text() : null; })
      .then(function (html) {
        if (html !== null) {
          var selectedId = selected() && selected().getAttribute("data-conversation-id");
          container.innerHTML = html;
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
      .finally(function () { refreshing = false; });
  }
  source.addEventListener("activity", function (event) {
    if (event.data !== known) { known = event.data; refresh(); }
  });
})();
