// Live alerts over server-sent events. The server renders (and escapes) every fragment; this
// script only swaps them in, and holds an update back while focus is inside the list so that
// keyboard users and a half-typed admin token are not swept away.
(function () {
  "use strict";
  var list = document.getElementById("alert-list");
  var status = document.getElementById("live-status");
  var pending = null;
  function say(text) { if (status) { status.textContent = text; } }
  function apply(html, version) {
    var scroll = window.scrollY;
    list.innerHTML = html;
    list.dataset.version = version;
    window.scrollTo(0, scroll);
  }
  if (list && list.dataset.live && window.EventSource) {
    var source = new EventSource(list.dataset.live);
    source.addEventListener("open", function () {
      say("Live: new alerts appear without reloading.");
    });
    source.addEventListener("alerts", function (event) {
      if (list.contains(document.activeElement)) {
        pending = event;
        say("New alerts are waiting; they appear when focus leaves the list.");
        return;
      }
      apply(event.data, event.lastEventId);
    });
    list.addEventListener("focusout", function () {
      window.setTimeout(function () {
        if (pending !== null && !list.contains(document.activeElement)) {
          apply(pending.data, pending.lastEventId);
          pending = null;
          say("Live: new alerts appear without reloading.");
        }
      }, 0);
    });
    source.addEventListener("error", function () {
      say("Live updates interrupted; reconnecting…");
    });
  } else {
    say("Live updates are not available; reload to see new alerts.");
  }
})();
