"""The page scripts of the fast path: each does in one WebDriver round trip what used to be many.

Every script reads the page the way the old find_elements loops did (the same selectors), and
says where the browser is (logged in, the login form, the PIN pad) so the caller never needs a
second look. The scripts only read, clear or set form values and mark toasts as seen: they never
click, submit or navigate (the clicks that place or cancel an order stay WebDriver clicks, so
the engine's "mark CLICKED right before the click" holds).

A toast the page already shows before the click belongs to an earlier action: FORM_JS and
FIND_CANCEL_JS mark every toast then present with ``data-robot-seen`` (its text), and TOAST_JS
takes an element only when it is new or its text changed since (a single-page broker keeps the
page, and may keep the toast element, between orders).
"""

from __future__ import annotations

# Shared helpers, prepended to the scripts below (a script's body is a function body).
_HELPERS = """
const one = s => { if (!s) { return null; } try { return document.querySelector(s); }
                   catch (e) { return null; } };
const all = s => { if (!s) { return []; } try { return Array.from(document.querySelectorAll(s)); }
                   catch (e) { return []; } };
const state = (check, login, pin) => one(check) ? (pin && one(pin) ? 'pin' : 'in')
    : (one(login) ? 'out' : (pin && one(pin) ? 'pin' : 'none'));
const markToasts = sels => { for (const s of sels) { for (const e of all(s)) {
    e.setAttribute('data-robot-seen', e.textContent.trim()); } } };
const setValue = (e, v) => {
  const d = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(e), 'value');
  if (d && d.set) { d.set.call(e, v); } else { e.value = v; }
  e.dispatchEvent(new Event('input', {bubbles: true}));
  e.dispatchEvent(new Event('change', {bubbles: true}));
};
"""

# The order form in one call. arguments: fields {key: css}, check, login, pin (css or null),
# typed (keys of the fields to clear, or with values to set), values ({key: text} to set with
# the native setter: fill "script"; null: only clear them, the keys are typed after), clicks
# (keys of fields to click in script mode), toast selectors, toggles ({key: checked} to set in
# script mode).
# Returns {state, found: {key: element}, missing: [key], checked: {key: bool}, url}; the form is
# touched only when the page is logged in and every field is there.
FORM_JS = (
    _HELPERS
    + """
const [fields, check, login, pin, typed, values, clicks, toasts, toggles] = arguments;
const st = state(check, login, pin);
const found = {}, missing = [], checked = {};
for (const [k, s] of Object.entries(fields)) {
  const e = one(s);
  if (!e) { missing.push(k); continue; }
  found[k] = e;
  if ('checked' in e) { checked[k] = !!e.checked; }
}
if (st === 'in' && missing.length === 0) {
  markToasts(toasts);
  for (const k of clicks || []) {
    const e = found[k];
    if (e.tagName !== 'OPTION') { e.click(); continue; }
    e.selected = true;  // a script's click does not select an option
    const box = e.closest('select');
    if (box) { box.dispatchEvent(new Event('change', {bubbles: true})); }
  }
  for (const [k, want] of Object.entries(toggles || {})) {
    if (!!found[k].checked !== want) { found[k].click(); }  /* its handler shows fields */
  }
  for (const k of typed) { setValue(found[k], values ? String(values[k]) : ''); }
}
return {state: st, found: found, missing: missing, checked: checked, url: location.href};
"""
)

# Wait for the answer to a click in one call (execute_async_script). arguments: ok, err
# (toast selectors), login, check, bound in ms. Resolves with [kind, text] on the first new
# success or error toast with a text, ['login', ''] when the login form shows without the
# logged-in marker, or null at the bound. A toast already there when it starts counts (the click
# may have been answered before this script ran; on a classic page the click's navigation
# brought a new document whose toasts are all new).
TOAST_JS = (
    _HELPERS
    + """
const [ok, err, login, check, bound] = arguments;
const done = arguments[arguments.length - 1];
const fresh = e => {
  const t = e.textContent.trim();
  const shown = e.getClientRects().length > 0;
  return t && shown && e.getAttribute('data-robot-seen') !== t ? t : null;
};
const look = () => {
  for (const [s, kind] of [[ok, 'ok'], [err, 'err']]) {
    for (const e of all(s)) { const t = fresh(e); if (t) { return [kind, t]; } }
  }
  if (one(login) && !one(check)) { return ['login', '']; }
  return null;
};
let finished = false, obs = null, timer = null;
const finish = r => { if (finished) { return; } finished = true;
  if (obs) { obs.disconnect(); } if (timer) { clearTimeout(timer); } done(r); };
const first = look();
if (first) { finish(first); } else {
  obs = new MutationObserver(() => { const r = look(); if (r) { finish(r); } });
  obs.observe(document.documentElement,
              {childList: true, subtree: true, characterData: true, attributes: true});
  timer = setTimeout(() => finish(look()), bound);
}
"""
)

# A live list page in one call. arguments: table, check, login, updated (css or null).
# Returns {url, state, table: {headers, rows} or null, updated: data-updated or null}.
_READ_LIVE = """
const read = (table, check, login, updated) => {
  const t = one(table);
  let data = null;
  if (t) {
    data = {headers: Array.from(t.querySelectorAll('thead th, tr:first-child th'))
              .map(th => th.textContent.trim()),
            rows: Array.from(t.querySelectorAll('tbody tr')).map(tr =>
              Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()))};
  }
  const u = one(updated);
  return {url: location.href, state: state(check, login, null), table: data,
          updated: u ? (u.getAttribute('data-updated') || null) : null};
};
"""

READ_LIVE_JS = _HELPERS + _READ_LIVE + "return read(...arguments);"

# The same read, once the page changed (execute_async_script): resolves at once when the rows or
# data-updated differ from the baseline the robot last saw (arguments 4 and 5: the rows as JSON,
# data-updated), else on the first change of the page that makes them differ, else at the bound
# (argument 6, ms) with ``timed_out``.
AWAIT_LIVE_JS = (
    _HELPERS
    + _READ_LIVE
    + """
const [table, check, login, updated, rows, before, bound] = arguments;
const done = arguments[arguments.length - 1];
const changed = r => r.state !== 'in' || !r.table || r.updated !== before
    || JSON.stringify(r.table.rows) !== rows;
let finished = false, obs = null, timer = null;
const finish = (r, late) => { if (finished) { return; } finished = true;
  if (obs) { obs.disconnect(); } if (timer) { clearTimeout(timer); } r.timed_out = late; done(r); };
const first = read(table, check, login, updated);
if (changed(first)) { finish(first, false); } else {
  obs = new MutationObserver(() => { const r = read(table, check, login, updated);
    if (changed(r)) { finish(r, false); } });
  obs.observe(document.documentElement,
              {childList: true, subtree: true, characterData: true, attributes: true});
  timer = setTimeout(() => finish(read(table, check, login, updated), true), bound);
}
"""
)

# The cancel button in the row whose order-id cell equals arguments[2], with the page's state;
# the toasts then present are marked as seen (arguments[6]) so the cancel's own toast is told
# from an old one.
FIND_CANCEL_JS = (
    _HELPERS
    + """
const [tableCss, header, orderId, btnCss, check, login, toasts] = arguments;
const st = state(check, login, null);
const table = one(tableCss);
let button = null;
if (table) {
  const headers = Array.from(table.querySelectorAll('thead th')).map(th => th.textContent.trim());
  const col = headers.indexOf(header);
  for (const tr of table.querySelectorAll('tbody tr')) {
    const cells = tr.querySelectorAll('td');
    if (col >= 0 && cells[col] && cells[col].textContent.trim() === orderId) {
      button = tr.querySelector(btnCss);
      break;
    }
  }
}
markToasts(toasts);
return {state: st, url: location.href, table: !!table, button: button};
"""
)

# A confirmation dialog, once it shows (null before): the texts that repeat the order, and the
# button that places it. arguments: dialog, {key: css} of the texts, confirm button.
DIALOG_JS = (
    _HELPERS
    + """
const [dialog, texts, confirm] = arguments;
const box = one(dialog);
if (!box || box.getClientRects().length === 0 || getComputedStyle(box).display === 'none') {
  return null;
}
const out = {};
for (const [k, s] of Object.entries(texts)) {
  const e = one(s);
  out[k] = e ? e.textContent.trim() : null;
}
return {texts: out, confirm: one(confirm)};
"""
)

# The table alone (headers and cell texts) on the page as it is: bench/poll.py's reader.
READ_TABLE_JS = """
const table = document.querySelector(arguments[0]);
if (!table) { return null; }
const headers = Array.from(table.querySelectorAll('thead th, tr:first-child th'))
    .map(th => th.textContent.trim());
const rows = Array.from(table.querySelectorAll('tbody tr')).map(tr =>
    Array.from(tr.querySelectorAll('td')).map(td => td.textContent.trim()));
return {headers: headers, rows: rows};
"""
