// Says so when the dashboard's modules fail to load, instead of "Loading the dashboard…"
// for ever (a request aborted by a network change, a 404 after an upgrade...).
// A classic script, run before app.js: a module that fails to load runs none of its code.
// A failed import fires "error" on the <script type="module"> only, which names app.js,
// so the failed module is looked for in the resource timings (status 0: no response).
(function () {
  function failedScript(fallback) {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("resource") : [];
    for (var i = 0; i < entries.length; i++) {
      var e = entries[i];
      if (e.initiatorType === "script" && (e.responseStatus === 0 || e.responseStatus >= 400)) {
        return e.name;
      }
    }
    return fallback;
  }

  function show(what) {
    var app = document.getElementById("app");
    if (window.headraceStarted || !app || document.getElementById("boot-failed")) return;
    var box = document.createElement("div");
    box.id = "boot-failed";
    box.className = "error";
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = "The dashboard could not " + what + ": check the connection, then reload.";
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Reload";
    button.addEventListener("click", function () { location.reload(); });
    box.append(text, button);
    app.replaceChildren(box);
  }

  function path(url) {
    try { return new URL(url, location.href).pathname; } catch (e) { return String(url); }
  }

  // Capturing: a script element's "error" does not bubble. Before app.js has started,
  // a script that failed to load or an uncaught error in a module means it never will.
  addEventListener("error", function (event) {
    if (window.headraceStarted) return;
    if (event.target instanceof HTMLScriptElement) {
      show("load " + path(failedScript(event.target.src)));
    } else if (event instanceof ErrorEvent && event.filename) {
      show("start (" + event.message + " in " + path(event.filename) + ")");
    }
  }, true);
})();
