// Live alerts over server-sent events.
// The server renders (and escapes) every fragment; this script only swaps them in.
(function () {
  "use strict";
  var list = document.getElementById("alert-list");
  var status = document.getElementById("live-status");
  if (list && list.dataset.live && window.EventSource) {
    var source = new EventSource(list.dataset.live);
    source.addEventListener("open", function () {
      if (status) { status.textContent = "Live: new alerts appear without reloading."; }
    });
    source.addEventListener("alerts", function (event) {
      var scroll = window.scrollY;
      list.innerHTML = event.data;
      list.dataset.version = event.lastEventId;
      window.scrollTo(0, scroll);
    });
    source.addEventListener("error", function () {
      if (status) { status.textContent = "Live updates interrupted; reconnecting…"; }
    });
  } else if (status) {
    status.textContent = "Live updates are not available; reload to see new alerts.";
  }
})();
