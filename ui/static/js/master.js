/* The standalone master's page: workers, applications (with their executors and a link to each
 * driver's UI), cluster-mode drivers, all from /json, refreshed every few seconds. The kill
 * buttons POST /app/kill/?id= and /driver/kill/?id=; the master answers 403 when killing is off
 * (ember.ui.killEnabled) or the user may not (ember.modify.acls).
 */
(function (E) {
  'use strict';

  function mib(n) { return E.formatBytes(Number(n || 0) * 1024 * 1024); }

  function used(usedValue, total, format) {
    return format(usedValue) + ' / ' + format(total);
  }

  function killButton(kind, id) {
    return ' <button type="button" class="btn btn-outline-danger btn-sm py-0 ember-kill" data-kind="' + kind +
      '" data-id="' + E.escape(id) + '">kill</button>';
  }

  function appLink(app) {
    if (!app.appuiurl) return E.escape(app.id);
    return '<a href="' + E.escape(app.appuiurl) + '">' + E.escape(app.id) + '</a>';
  }

  function workerRows(workers) {
    return workers.map(function (w) {
      return {
        attrs: 'data-worker="' + E.escape(w.id) + '"',
        cells: [E.escape(w.id), E.escape(w.host + ':' + w.port), E.escape(w.state),
          E.escape(used(w.coresused, w.cores, String)), E.escape(used(w.memoryused, w.memory, mib)),
          E.escape(E.formatDate(w.lastheartbeat))],
      };
    });
  }

  function appRows(apps, running) {
    return apps.map(function (a) {
      return {
        attrs: 'data-app="' + E.escape(a.id) + '"',
        cells: [appLink(a) + (running ? killButton('app', a.id) : ''), E.escape(a.name), E.escape(a.cores),
          E.escape(mib(a.memoryperexecutor)), E.escape(E.formatDate(a.starttime)), E.escape(a.user),
          E.escape(a.state), E.escape(E.formatDuration(a.duration))],
      };
    });
  }

  function executorRows(apps) {
    var rows = [];
    apps.forEach(function (a) {
      (a.executors || []).forEach(function (e) {
        rows.push([E.escape(a.id), E.escape(e.id), E.escape(e.worker), E.escape(e.host), E.escape(e.cores),
          E.escape(mib(e.memory)), E.escape(e.state), E.escape(e.pid || '')]);
      });
    });
    return rows;
  }

  function driverRows(drivers, running) {
    return drivers.map(function (d) {
      return {
        attrs: 'data-driver="' + E.escape(d.id) + '"',
        cells: [E.escape(d.id) + (running ? killButton('driver', d.id) : ''), E.escape(E.formatDate(d.starttime)),
          E.escape(d.worker), E.escape(d.state), E.escape(d.cores), E.escape(mib(d.memory)), E.escape(d.mainclass),
          E.escape(d.user)],
      };
    });
  }

  function render(el, m) {
    var appColumns = ['Application ID', 'Name', 'Cores', 'Memory per Executor', 'Submitted Time', 'User', 'State',
      'Duration'];
    var driverColumns = ['Submission ID', 'Submitted Time', 'Worker', 'State', 'Cores', 'Memory', 'Binary', 'User'];
    el.innerHTML =
      E.section('workers', 'Workers', m.workers.length,
        E.table('workers-table', ['Worker ID', 'Address', 'State', 'Cores (used / total)', 'Memory (used / total)',
          'Last Heartbeat'], workerRows(m.workers), 'No workers.')) +
      E.section('running-apps', 'Running Applications', m.activeapps.length,
        E.table('running-apps-table', appColumns, appRows(m.activeapps, true), 'No running applications.')) +
      E.section('executors', 'Executors', null,
        E.table('executors-table', ['Application ID', 'Executor ID', 'Worker', 'Host', 'Cores', 'Memory', 'State',
          'PID'], executorRows(m.activeapps), 'No executors.')) +
      E.section('running-drivers', 'Running Drivers', m.activedrivers.length,
        E.table('running-drivers-table', driverColumns, driverRows(m.activedrivers, true), 'No running drivers.')) +
      E.section('completed-apps', 'Completed Applications', m.completedapps.length,
        E.table('completed-apps-table', appColumns, appRows(m.completedapps, false), 'No completed applications.')) +
      E.section('completed-drivers', 'Completed Drivers', m.completeddrivers.length,
        E.table('completed-drivers-table', driverColumns, driverRows(m.completeddrivers, false),
          'No completed drivers.'));
  }

  function renderSummary(el, m) {
    var items = [
      ['URL', m.url], ['Alive Workers', m.aliveworkers],
      ['Cores in use', used(m.coresused, m.cores, String)],
      ['Memory in use', used(m.memoryused, m.memory, mib)],
      ['Applications', m.activeapps.length + ' running, ' + m.completedapps.length + ' completed'],
      ['Drivers', m.activedrivers.length + ' running, ' + m.completeddrivers.length + ' completed'],
      ['Status', m.status],
    ];
    el.innerHTML = items.map(function (kv) {
      return '<li><strong>' + E.escape(kv[0]) + ':</strong> ' + E.escape(kv[1]) + '</li>';
    }).join('');
  }

  function notice(text) {
    var box = document.getElementById('master-notice');
    box.textContent = text;
    box.classList.toggle('d-none', !text);
  }

  function load() {
    return E.fetchJson('/json').then(function (r) {
      var m = r.data;
      E.clearError();
      document.getElementById('master-url').textContent = m.url;
      E.renderIfChanged('master-summary', m, renderSummary);
      E.renderIfChanged('master-tables', m, render);
      document.body.setAttribute('data-ember-loaded', 'true');
    }, E.showError);
  }

  function kill(kind, id) {
    var what = kind === 'app' ? 'application' : 'driver';
    if (!window.confirm('Kill ' + what + ' ' + id + '?')) return;
    fetch('/' + kind + '/kill/?id=' + encodeURIComponent(id), { method: 'POST', body: '', cache: 'no-store' })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          if (!response.ok) throw new Error((data && data.error) || response.statusText);
          notice(data.message || ('killed ' + id));
        });
      })
      .catch(E.showError)
      .then(load);
  }

  document.addEventListener('click', function (ev) {
    var button = ev.target.closest && ev.target.closest('.ember-kill');
    if (button) kill(button.getAttribute('data-kind'), button.getAttribute('data-id'));
  });

  load();
  setInterval(load, E.refreshMs);
})(window.EmberUI);
