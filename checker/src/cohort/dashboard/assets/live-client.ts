/**
 * The dashboard's only script (served as /dashboard/assets/live.js): follows the cohort's event
 * stream and, on an event that concerns this page, fetches the page again and swaps its
 * [data-live-region] parts in place (forms being typed into are never inside one). Without it,
 * every page is complete; reloading shows the same thing.
 */
export const LIVE_JS = `(function () {
  'use strict';
  var body = document.body;
  var url = body.getAttribute('data-live-events');
  var learner = body.getAttribute('data-live-learner');
  var status = document.getElementById('live-status');
  if (!url || !window.EventSource || !window.fetch || !window.DOMParser) return;
  var say = function (text) { if (status) status.textContent = text; };
  var timer = null;
  var running = false;
  var again = false;
  var changed = [];
  var grid = document.getElementById('grid-region') !== null;
  var words = {
    'learner.joined': 'a learner joined',
    'submission.created': 'a submission arrived',
    'submission.grading': 'a submission is being graded',
    'result.recorded': 'a result landed',
    'note.created': 'a note was written',
    'note.received': 'a learner received a note',
    'note.read': 'a learner read a note'
  };
  function refresh() {
    if (running) { again = true; return; }
    running = true;
    fetch(location.href, { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (text) {
        if (text === null) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        var regions = document.querySelectorAll('[data-live-region]');
        for (var i = 0; i < regions.length; i++) {
          var fresh = doc.getElementById(regions[i].id);
          if (fresh && fresh.innerHTML !== regions[i].innerHTML) regions[i].innerHTML = fresh.innerHTML;
        }
        body.setAttribute('data-live-updated', String(Date.now()));
      })
      .catch(function () { say('Live updates: the page could not be refreshed; reload it.'); })
      .then(function () {
        running = false;
        if (again) { again = false; schedule(50); }
      });
  }
  function schedule(delay) { clearTimeout(timer); timer = setTimeout(refresh, delay); }
  // The grid: the changed learners' rows first (small and fast), the whole grid a moment later (counts, order).
  var rowsTimer = null;
  function refreshRows() {
    var ids = changed.splice(0, changed.length);
    if (ids.length === 0) return;
    var tbody = document.querySelector('#grid-region tbody');
    var query = new URLSearchParams(location.search);
    ids.forEach(function (id) { query.append('learner', id); });
    fetch(location.pathname + '/rows?' + query.toString(), { credentials: 'same-origin', headers: { accept: 'text/html' } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (text) {
        if (text === null || !tbody) return;
        var doc = new DOMParser().parseFromString(text, 'text/html');
        ids.forEach(function (id) {
          var selector = 'tr[data-learner="' + CSS.escape(id) + '"]';
          var fresh = doc.querySelector(selector);
          var old = tbody.querySelector(selector);
          if (fresh) {
            fresh.classList.add('flash');
            if (old) old.replaceWith(fresh); else tbody.appendChild(fresh);
          } else if (old) old.remove();
        });
        body.setAttribute('data-live-updated', String(Date.now()));
      })
      .catch(function () { schedule(50); });
    schedule(1500);
  }
  var source = new EventSource(url);
  source.onopen = function () { say('Live updates: on'); body.setAttribute('data-live', 'on'); };
  source.onerror = function () { say('Live updates: reconnecting…'); };
  Object.keys(words).forEach(function (type) {
    source.addEventListener(type, function (e) {
      var event = JSON.parse(e.data);
      if (learner && event.learnerId !== learner) return;
      say('Live updates: on · ' + words[type] + ' at ' + new Date(event.createdAt).toLocaleTimeString());
      if (grid && event.learnerId) {
        if (changed.indexOf(event.learnerId) < 0) changed.push(event.learnerId);
        clearTimeout(rowsTimer);
        rowsTimer = setTimeout(refreshRows, 30);
      } else schedule(50);
    });
  });
})();
`;
