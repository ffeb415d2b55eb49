/* Ember web UI: what every page shares.
 *
 * The pages are plain HTML served at Spark's paths (/jobs/, /stages/stage/?id=N&attempt=M, ...), by
 * the driver at the root and by the history server under /history/<appId>/. Every page loads this
 * file, then its own script, which calls EmberUI.start(): the application is found (from the path
 * or GET /api/v1/applications), the navigation bar drawn, and the page's load() run again every
 * few seconds while the application has not completed, redrawing in place without reloading.
 * All data comes from the REST API (/api/v1/applications/<appId>/...).
 */
(function (global) {
  'use strict';

  var E = {};
  E.refreshMs = 3000;

  // -- formatting ------------------------------------------------------------------------------

  E.escape = function (value) {
    if (value === undefined || value === null) return '';
    return String(value).replace(/[&<>"']/g, function (c) {
      return { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }[c];
    });
  };

  // "2026-12-07T21:30:00.123GMT" (Spark's format) or epoch milliseconds -> epoch ms; null if none.
  E.parseTime = function (value) {
    if (value === undefined || value === null || value === '') return null;
    if (typeof value === 'number') return value > 0 ? value : null;
    var ms = Date.parse(String(value).replace(/GMT$/, 'Z'));
    return isNaN(ms) ? null : ms;
  };

  function pad(n, width) {
    var s = String(n);
    while (s.length < (width || 2)) s = '0' + s;
    return s;
  }

  // Local time, as Spark's UI shows it: 2026/12/07 21:30:00.
  E.formatDate = function (value) {
    var ms = E.parseTime(value);
    if (ms === null) return '';
    var d = new Date(ms);
    return d.getFullYear() + '/' + pad(d.getMonth() + 1) + '/' + pad(d.getDate()) + ' ' +
      pad(d.getHours()) + ':' + pad(d.getMinutes()) + ':' + pad(d.getSeconds());
  };

  // Milliseconds the way Spark writes them: 12 ms, 1.5 s, 2.3 min, 1.1 h.
  E.formatDuration = function (ms) {
    if (ms === undefined || ms === null || isNaN(ms)) return '';
    ms = Number(ms);
    if (ms < 0) ms = 0;
    if (ms < 1000) return Math.round(ms) + ' ms';
    var s = ms / 1000;
    if (s < 60) return s.toFixed(1) + ' s';
    var min = s / 60;
    if (min < 60) return min.toFixed(1) + ' min';
    var h = min / 60;
    if (h < 24) return h.toFixed(1) + ' h';
    return (h / 24).toFixed(1) + ' d';
  };

  // Nanoseconds (CPU time, shuffle write time) as a duration.
  E.formatNanos = function (ns) {
    if (ns === undefined || ns === null || isNaN(ns)) return '';
    return E.formatDuration(Number(ns) / 1e6);
  };

  E.formatBytes = function (bytes) {
    if (bytes === undefined || bytes === null || isNaN(bytes)) return '';
    bytes = Number(bytes);
    var units = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB'];
    var i = 0;
    while (Math.abs(bytes) >= 1024 && i < units.length - 1) {
      bytes /= 1024;
      i++;
    }
    return (i === 0 ? String(Math.round(bytes)) : bytes.toFixed(1)) + ' ' + units[i];
  };

  E.formatNumber = function (n) {
    if (n === undefined || n === null || isNaN(n)) return '';
    return Number(n).toLocaleString('en-US', { maximumFractionDigits: 1 });
  };

  // "1.2 KiB / 30": a size and its record count, empty when both are zero.
  E.formatBytesRecords = function (bytes, records) {
    if (!bytes && !records) return '';
    return E.formatBytes(bytes || 0) + ' / ' + E.formatNumber(records || 0);
  };

  // The time from `from` to `to` (or to the application's end / now), formatted.
  E.elapsed = function (from, to) {
    var start = E.parseTime(from);
    if (start === null) return '';
    var end = E.parseTime(to);
    if (end === null) end = E.now();
    return E.formatDuration(end - start);
  };

  // "now" for durations of what still runs: the application's end once it has completed.
  E.now = function () {
    var attempt = E.ctx && E.ctx.attempt;
    if (attempt && attempt.completed) {
      var end = E.parseTime(attempt.endTimeEpoch || attempt.endTime);
      if (end !== null) return end;
    }
    return Date.now();
  };

  // -- HTML pieces -----------------------------------------------------------------------------

  // A Bootstrap progress bar of tasks: succeeded (green), failed (red), running (light blue).
  E.progressBar = function (succeeded, total, failed, active, killed) {
    succeeded = succeeded || 0;
    failed = failed || 0;
    active = active || 0;
    killed = killed || 0;
    var width = function (n) {
      return total > 0 ? Math.min(100, (100 * n) / total).toFixed(2) : '0';
    };
    var label = succeeded + '/' + total;
    if (active) label += ' (' + active + ' running)';
    if (failed) label += ' (' + failed + ' failed)';
    if (killed) label += ' (' + killed + ' killed)';
    return '<div class="progress ember-progress" data-succeeded="' + succeeded + '" data-total="' + total +
      '" data-failed="' + failed + '" data-active="' + active + '">' +
      '<div class="progress-bar bg-success" style="width:' + width(succeeded) + '%"></div>' +
      '<div class="progress-bar bg-danger" style="width:' + width(failed) + '%"></div>' +
      '<div class="progress-bar bg-info progress-bar-striped" style="width:' + width(active) + '%"></div>' +
      '<span class="ember-progress-label">' + E.escape(label) + '</span></div>';
  };

  // A table: `columns` are header strings, `rows` arrays of HTML cells (already escaped) or
  // {cells: [...], attrs: 'data-x="1"'}.
  E.table = function (id, columns, rows, empty) {
    if (!rows.length) return '<p class="text-muted ember-empty" id="' + id + '-empty">' + E.escape(empty || 'None.') + '</p>';
    var html = '<div class="table-responsive"><table class="table table-sm table-striped table-hover ember-table" id="' +
      id + '"><thead><tr>';
    columns.forEach(function (c) { html += '<th>' + E.escape(c) + '</th>'; });
    html += '</tr></thead><tbody>';
    rows.forEach(function (row) {
      var cells = Array.isArray(row) ? row : row.cells;
      html += '<tr' + (row.attrs ? ' ' + row.attrs : '') + '>';
      cells.forEach(function (cell) { html += '<td>' + (cell === undefined || cell === null ? '' : cell) + '</td>'; });
      html += '</tr>';
    });
    return html + '</tbody></table></div>';
  };

  // A section of collapsible content with a heading and a count.
  E.section = function (id, title, count, body) {
    return '<section class="mb-4" id="' + id + '"><h4>' + E.escape(title) +
      (count === undefined || count === null ? '' : ' <span class="badge bg-secondary">' + count + '</span>') +
      '</h4>' + body + '</section>';
  };

  // Rewrites `el` from `data` only when the data changed since the last time, so that refreshing
  // does not flicker or lose what the user selected.
  E.renderIfChanged = function (el, data, render) {
    if (typeof el === 'string') el = document.getElementById(el);
    if (!el) return false;
    var key = JSON.stringify(data);
    if (el.getAttribute('data-ember-state') === key) return false;
    render(el, data);
    el.setAttribute('data-ember-state', key);
    return true;
  };

  // -- links -----------------------------------------------------------------------------------

  E.link = function (path) { return E.ctx.prefix + path; };
  E.jobLink = function (id) { return E.link('/jobs/job/?id=' + encodeURIComponent(id)); };
  E.stageLink = function (id, attempt) {
    return E.link('/stages/stage/?id=' + encodeURIComponent(id) + '&attempt=' + encodeURIComponent(attempt || 0));
  };
  E.param = function (name) { return new URLSearchParams(global.location.search).get(name); };

  // -- the REST API ----------------------------------------------------------------------------

  // GET `url`: {data, response}; a non-2xx answer rejects with the server's {"error": ...} message.
  E.fetchJson = function (url) {
    return fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' }).then(function (response) {
      return response.text().then(function (text) {
        var data = null;
        try {
          data = text ? JSON.parse(text) : null;
        } catch (e) {
          data = null;
        }
        if (!response.ok) {
          var message = data && data.error ? data.error : text || response.statusText;
          var err = new Error(message + ' (HTTP ' + response.status + ' for ' + url + ')');
          err.status = response.status;
          err.serverMessage = message;
          throw err;
        }
        if (data === null) throw new Error('not JSON: ' + url);
        return { data: data, response: response };
      });
    });
  };

  // GET /api/v1/applications/<appId><path> -> the JSON.
  E.api = function (path) {
    return E.fetchJson(E.appApi() + path).then(function (r) { return r.data; });
  };
  E.apiWithResponse = function (path) { return E.fetchJson(E.appApi() + path); };
  E.appApi = function () { return '/api/v1/applications/' + encodeURIComponent(E.ctx.appId); };

  // -- errors ----------------------------------------------------------------------------------

  E.showError = function (err) {
    var box = document.getElementById('ember-error');
    if (!box) return;
    var message = err && err.serverMessage ? err.serverMessage : err && err.message ? err.message : String(err);
    box.textContent = message;
    box.classList.remove('d-none');
  };
  E.clearError = function () {
    var box = document.getElementById('ember-error');
    if (box) {
      box.textContent = '';
      box.classList.add('d-none');
    }
  };

  // -- the application and the navigation bar ------------------------------------------------------

  var tabs = [
    ['jobs', 'Jobs', '/jobs/'],
    ['stages', 'Stages', '/stages/'],
    ['storage', 'Storage', '/storage/'],
    ['environment', 'Environment', '/environment/'],
    ['executors', 'Executors', '/executors/'],
  ];

  // prefix and appId: from /history/<appId>/... when the history server serves the page, else the
  // driver's one application.
  function findContext() {
    var m = /^\/history\/([^/]+)(?:\/|$)/.exec(global.location.pathname);
    var ctx = { prefix: '', appId: null, history: false };
    if (m) {
      ctx.appId = decodeURIComponent(m[1]);
      ctx.prefix = '/history/' + m[1];
      ctx.history = true;
    }
    E.ctx = ctx;
    return refreshApplication().then(function () { return ctx; });
  }

  // The application itself once its id is known (a history server may hold many: not the list).
  function refreshApplication() {
    var ctx = E.ctx;
    var url = ctx.appId === null ? '/api/v1/applications' : E.appApi();
    return E.fetchJson(url).then(function (r) {
      var app = r.data;
      if (ctx.appId === null) {
        app = (r.data || [])[0] || null;
        if (!app) throw new Error('The server reports no application.');
        ctx.appId = app.id;
      }
      ctx.app = app;
      ctx.attempt = (app.attempts && app.attempts[0]) || {};
      ctx.completed = !!ctx.attempt.completed;
    });
  }

  function renderNav(tab) {
    var ctx = E.ctx;
    var nav = document.getElementById('ember-nav');
    if (!nav) return;
    var html = '<nav class="navbar navbar-expand navbar-dark bg-dark mb-3"><div class="container-fluid">' +
      '<a class="navbar-brand" href="' + E.escape(E.link('/jobs/')) + '">Ember</a><ul class="navbar-nav me-auto">';
    tabs.forEach(function (t) {
      html += '<li class="nav-item"><a class="nav-link' + (t[0] === tab ? ' active" aria-current="page' : '') +
        '" id="ember-tab-' + t[0] + '" href="' + E.escape(E.link(t[2])) + '">' + t[1] + '</a></li>';
    });
    html += '</ul>';
    if (ctx.app) {
      html += '<span class="navbar-text" id="ember-app">' + E.escape(ctx.app.name) + ' <small class="text-white-50">' +
        E.escape(ctx.appId) + '</small> <span class="badge ' + (ctx.completed ? 'bg-secondary">completed' : 'bg-success">running') +
        '</span>' + (ctx.history ? ' <span class="badge bg-info">history</span>' : '') + '</span>';
    }
    html += '</div></nav>';
    E.renderIfChanged(nav, [tab, ctx.app, ctx.prefix], function (el) { el.innerHTML = html; });
  }

  // Runs the page: `options.tab` (the active tab), `options.title`, `options.load(ctx)` (returns a
  // promise; draws the page from the API, again at every refresh). body[data-ember-loaded] counts
  // the loads that succeeded (the browser test waits for it); body[data-ember-failed] the others.
  E.start = function (options) {
    if (global.jQuery && jQuery.fn && jQuery.fn.dataTable) jQuery.fn.dataTable.ext.errMode = 'throw';
    var loads = 0;
    var failures = 0;
    function cycle() {
      var step = E.ctx ? refreshApplication() : findContext();
      return step
        .then(function () {
          renderNav(options.tab);
          document.title = (E.ctx.app ? E.ctx.app.name + ' - ' : '') + options.title;
          return options.load(E.ctx);
        })
        .then(function () {
          E.clearError();
          loads++;
          document.body.setAttribute('data-ember-loaded', String(loads));
        }, function (err) {
          failures++;
          E.showError(err);
          document.body.setAttribute('data-ember-failed', String(failures));
        })
        .then(function () {
          // Until the application completes its data changes; a page whose data could not be
          // read (no such job) keeps trying only while the application runs, too.
          if (!E.ctx || !E.ctx.app || !E.ctx.completed) global.setTimeout(cycle, E.refreshMs);
        });
    }
    var ready = function () { cycle(); };
    if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', ready);
    else ready();
  };

  // -- shared by the Jobs, Job and Stages pages: stage attempts grouped by status ---------------

  var stageGroups = [
    ['ACTIVE', 'active', 'Active Stages'],
    ['PENDING', 'pending', 'Pending Stages'],
    ['COMPLETE', 'completed', 'Completed Stages'],
    ['SKIPPED', 'skipped', 'Skipped Stages'],
    ['FAILED', 'failed', 'Failed Stages'],
  ];

  E.stageRow = function (s) {
    var id = s.stageId + (s.attemptId ? ' (retry ' + s.attemptId + ')' : '');
    var link = E.stageLink(s.stageId, s.attemptId);
    var duration = s.submissionTime && s.status !== 'PENDING' && s.status !== 'SKIPPED'
      ? E.elapsed(s.submissionTime, s.completionTime) : '';
    var cells = [
      '<a href="' + E.escape(link) + '">' + E.escape(id) + '</a>',
      '<a href="' + E.escape(link) + '">' + E.escape(s.name || ('stage ' + s.stageId)) + '</a>',
      E.escape(E.formatDate(s.submissionTime)),
      E.escape(duration),
      E.progressBar(s.numCompleteTasks, s.numTasks, s.numFailedTasks, s.numActiveTasks, s.numKilledTasks),
      E.escape(E.formatBytes(s.inputBytes || 0)),
      E.escape(E.formatBytes(s.outputBytes || 0)),
      E.escape(E.formatBytesRecords(s.shuffleReadBytes, s.shuffleReadRecords)),
      E.escape(E.formatBytesRecords(s.shuffleWriteBytes, s.shuffleWriteRecords)),
    ];
    if (s.status === 'FAILED') cells.push('<span class="ember-error-text">' + E.escape(s.failureReason || '') + '</span>');
    return { cells: cells, attrs: 'data-stage-id="' + s.stageId + '" data-stage-attempt="' + (s.attemptId || 0) + '"' };
  };

  // Fills `el` with one table per status that has stage attempts (idPrefix names them).
  E.renderStageGroups = function (el, stages, idPrefix) {
    var html = '';
    stageGroups.forEach(function (g) {
      var of = stages.filter(function (s) { return s.status === g[0]; });
      if (!of.length) return;
      var columns = ['Stage Id', 'Description', 'Submitted', 'Duration', 'Tasks: Succeeded/Total', 'Input',
        'Output', 'Shuffle Read', 'Shuffle Write'];
      if (g[0] === 'FAILED') columns.push('Failure Reason');
      html += E.section(idPrefix + '-' + g[1], g[2], of.length,
        E.table(idPrefix + '-' + g[1] + '-table', columns, of.map(E.stageRow)));
    });
    if (!html) html = '<p class="text-muted ember-empty">No stages.</p>';
    el.innerHTML = html;
  };

  global.EmberUI = E;
})(window);
