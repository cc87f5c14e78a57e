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
        for (var j = 0; j < changed.length; j++) {
          var row = document.querySelector('tr[data-learner="' + CSS.escape(changed[j]) + '"]');
          if (row) row.classList.add('flash');
        }
        changed = [];
        body.setAttribute('data-live-updated', String(Date.now()));
      })
      .catch(function () { say('Live updates: the page could not be refreshed; reload it.'); })
      .then(function () {
        running = false;
        if (again) { again = false; schedule(); }
      });
  }
  function schedule() { clearTimeout(timer); timer = setTimeout(refresh, 50); }
  var source = new EventSource(url);
  source.onopen = function () { say('Live updates: on'); body.setAttribute('data-live', 'on'); };
  source.onerror = function () { say('Live updates: reconnecting…'); };
  Object.keys(words).forEach(function (type) {
    source.addEventListener(type, function (e) {
      var event = JSON.parse(e.data);
      if (learner && event.learnerId !== learner) return;
      if (event.learnerId) changed.push(event.learnerId);
      say('Live updates: on · ' + words[type] + ' at ' + new Date(event.createdAt).toLocaleTimeString());
      schedule();
    });
  });
})();
`;
