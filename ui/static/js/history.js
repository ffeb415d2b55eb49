/* The history server's first page (/): the applications of its event logs, newest first, each
 * linked to its UI under /history/<appId>/. Refreshed every few seconds: the server picks up new
 * and growing logs. */
(function () {
  'use strict';
  var E = EmberUI;
  var apps = [];

  function render() {
    var incomplete = document.getElementById('history-incomplete').checked;
    var shown = apps.filter(function (a) {
      var attempt = (a.attempts && a.attempts[0]) || {};
      return !!attempt.completed !== incomplete;
    });
    shown.sort(function (a, b) {
      var ta = E.parseTime(((a.attempts || [])[0] || {}).startTime) || 0;
      var tb = E.parseTime(((b.attempts || [])[0] || {}).startTime) || 0;
      return tb - ta;
    });
    var rows = shown.map(function (a) {
      var attempt = (a.attempts && a.attempts[0]) || {};
      var link = '/history/' + encodeURIComponent(a.id) + '/jobs/';
      return {
        cells: [
          '<a href="' + E.escape(link) + '">' + E.escape(a.id) + '</a>',
          E.escape(a.name),
          E.escape(E.formatDate(attempt.startTime)),
          E.escape(attempt.completed ? E.formatDate(attempt.endTime) : ''),
          E.escape(attempt.completed ? E.formatDuration(attempt.duration) : ''),
          E.escape(attempt.sparkUser),
          E.escape(E.formatDate(attempt.lastUpdated)),
        ],
        attrs: 'data-app-id="' + E.escape(a.id) + '"',
      };
    });
    document.getElementById('history-applications').innerHTML =
      E.table('history-applications-table', ['App ID', 'App Name', 'Started', 'Completed', 'Duration', 'User', 'Last Updated'],
        rows, incomplete ? 'No incomplete application.' : 'No completed application.');
  }

  function cycle() {
    E.fetchJson('/api/v1/applications')
      .then(function (r) {
        apps = r.data || [];
        render();
        E.clearError();
        var loads = Number(document.body.getAttribute('data-ember-loaded') || 0) + 1;
        document.body.setAttribute('data-ember-loaded', String(loads));
      }, function (err) {
        E.showError(err);
        document.body.setAttribute('data-ember-failed', '1');
      })
      .then(function () { window.setTimeout(cycle, E.refreshMs); });
  }

  document.getElementById('history-incomplete').addEventListener('change', render);
  cycle();
})();
