// robot dashboard: keeps the page current without a reload.
// Every data-poll-ms milliseconds (while the tab is visible) it asks the page's JSON twin
// (body[data-api]?sections=1, with the page's own query: day, account, state filters) for the
// sections' HTML, which the server renders with the page's own templates, and swaps in each
// [data-section] whose HTML changed (its data-hash differs); a task page also appends its new timeline rows
// ([data-append], from body[data-after]). Forms live outside the swapped sections, so typing
// is never interrupted. No library, nothing fetched from elsewhere.
(function () {
  "use strict";
  var body = document.body;
  var api = body.dataset.api;
  var pollMs = parseInt(body.dataset.pollMs, 10) || 3000;
  var after = body.dataset.after;
  var polls = 0;
  if (!api) {
    return;
  }

  function url() {
    var u = new URL(api, window.location.href);
    new URLSearchParams(window.location.search).forEach(function (v, k) {
      if (!u.searchParams.has(k)) {
        u.searchParams.set(k, v);
      }
    });
    if (after !== undefined) {
      u.searchParams.set("after", after);
    }
    u.searchParams.set("sections", "1");
    return u;
  }

  function apply(data) {
    Object.keys(data.html || {}).forEach(function (name) {
      var el = document.querySelector('[data-section="' + name + '"]');
      var hash = (data.hash || {})[name];
      if (el && (!hash || el.dataset.hash !== hash)) {
        el.innerHTML = data.html[name];
        el.dataset.hash = hash || "";
      }
    });
    Object.keys(data.append || {}).forEach(function (name) {
      var el = document.querySelector('[data-append="' + name + '"]');
      if (el && data.append[name]) {
        el.insertAdjacentHTML("beforeend", data.append[name]);
      }
    });
    if (data.after !== undefined) {
      after = data.after;
    }
  }

  function stamp(text, stale) {
    var el = document.getElementById("last-updated");
    if (el) {
      el.textContent = text;
      el.classList.toggle("stale", stale);
      el.dataset.polls = String(polls);
    }
  }

  function poll() {
    if (document.hidden) {
      window.setTimeout(poll, pollMs);
      return;
    }
    fetch(url(), { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (!r.ok) {
          throw new Error("HTTP " + r.status);
        }
        return r.json();
      })
      .then(function (data) {
        apply(data);
        polls += 1;
        stamp((data.now || new Date().toISOString()).slice(11, 19), false);
      })
      .catch(function (e) {
        stamp("not updated: " + e.message, true);
      })
      .then(function () {
        window.setTimeout(poll, pollMs);
      });
  }

  window.setTimeout(poll, pollMs);
})();
