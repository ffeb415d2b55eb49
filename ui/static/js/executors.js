/* The Executors tab: every executor, active and dead (/allexecutors), with a summary of each group. */
(function () {
  'use strict';
  var E = EmberUI;

  function sum(list, field) {
    return list.reduce(function (acc, x) { return acc + (Number(x[field]) || 0); }, 0);
  }

  function summaryRow(label, list) {
    return {
      cells: [
        E.escape(label + ' (' + list.length + ')'),
        E.escape(sum(list, 'rddBlocks')),
        E.escape(E.formatBytes(sum(list, 'memoryUsed')) + ' / ' + E.formatBytes(sum(list, 'maxMemory'))),
        E.escape(E.formatBytes(sum(list, 'diskUsed'))),
        E.escape(sum(list, 'totalCores')),
        E.escape(sum(list, 'activeTasks')),
        E.escape(sum(list, 'failedTasks')),
        E.escape(sum(list, 'completedTasks')),
        E.escape(sum(list, 'totalTasks')),
        E.escape(E.formatDuration(sum(list, 'totalDuration'))),
        E.escape(E.formatBytes(sum(list, 'totalInputBytes'))),
        E.escape(E.formatBytes(sum(list, 'totalShuffleRead'))),
        E.escape(E.formatBytes(sum(list, 'totalShuffleWrite'))),
      ],
      attrs: 'data-executors="' + E.escape(label.toLowerCase()) + '"',
    };
  }

  function heartbeat(x) {
    if (!x.isActive) return '';
    var at = E.parseTime(x.lastHeartbeat);
    if (at === null) return '';
    return E.formatDuration(Math.max(0, E.now() - at)) + ' ago';
  }

  function logs(x) {
    var l = x.executorLogs || {};
    return Object.keys(l).sort().map(function (name) {
      return '<a href="' + E.escape(l[name]) + '">' + E.escape(name) + '</a>';
    }).join(' ');
  }

  function executorRow(x) {
    return {
      cells: [
        E.escape(x.id),
        E.escape(x.hostPort),
        x.isActive ? '<span class="badge bg-success">Active</span>' : '<span class="badge bg-secondary">Dead</span>',
        E.escape(x.rddBlocks || 0),
        E.escape(E.formatBytes(x.memoryUsed || 0) + ' / ' + E.formatBytes(x.maxMemory || 0)),
        E.escape(E.formatBytes(x.diskUsed || 0)),
        E.escape(x.totalCores),
        E.escape(x.activeTasks),
        E.escape(x.failedTasks),
        E.escape(x.completedTasks),
        E.escape(x.totalTasks),
        E.escape(E.formatDuration(x.totalDuration || 0)),
        E.escape(E.formatBytes(x.totalInputBytes || 0)),
        E.escape(E.formatBytes(x.totalShuffleRead || 0)),
        E.escape(E.formatBytes(x.totalShuffleWrite || 0)),
        E.escape(heartbeat(x)),
        logs(x),
        '<span class="ember-error-text">' + E.escape(x.isActive ? '' : x.removeReason || '') + '</span>',
      ],
      attrs: 'data-executor-id="' + E.escape(x.id) + '" data-executor-active="' + (x.isActive ? 'true' : 'false') +
        '" data-active-tasks="' + E.escape(x.activeTasks) + '" data-completed-tasks="' + E.escape(x.completedTasks) +
        '" data-failed-tasks="' + E.escape(x.failedTasks) + '"',
    };
  }

  // The driver first, then executors by number ("2" before "10"), then by name.
  function byId(a, b) {
    var key = function (x) { return x.id === 'driver' ? -1 : /^\d+$/.test(x.id) ? Number(x.id) : Infinity; };
    var ka = key(a);
    var kb = key(b);
    if (ka !== kb) return ka < kb ? -1 : 1;
    return String(a.id) < String(b.id) ? -1 : String(a.id) > String(b.id) ? 1 : 0;
  }

  E.start({
    tab: 'executors',
    title: 'Executors',
    load: function () {
      return E.api('/allexecutors').then(function (all) {
        all = all.slice().sort(byId);
        var active = all.filter(function (x) { return x.isActive; });
        var dead = all.filter(function (x) { return !x.isActive; });
        var clock = E.ctx.completed ? 0 : Math.floor(E.now() / 1000);
        E.renderIfChanged('executors-summary', all, function (el) {
          el.innerHTML = E.section('executors-summary-section', 'Summary', null,
            E.table('executors-summary-table', ['', 'RDD Blocks', 'Storage Memory', 'Disk Used', 'Cores', 'Active Tasks',
              'Failed Tasks', 'Complete Tasks', 'Total Tasks', 'Task Time', 'Input', 'Shuffle Read', 'Shuffle Write'],
            [summaryRow('Active', active), summaryRow('Dead', dead), summaryRow('Total', all)]));
        });
        E.renderIfChanged('executors-table', [all, clock], function (el) {
          el.innerHTML = E.section('executors-list', 'Executors', all.length,
            E.table('executors-list-table', ['Executor ID', 'Address', 'Status', 'RDD Blocks', 'Storage Memory', 'Disk Used',
              'Cores', 'Active Tasks', 'Failed Tasks', 'Complete Tasks', 'Total Tasks', 'Task Time', 'Input',
              'Shuffle Read', 'Shuffle Write', 'Last Heartbeat', 'Logs', 'Cause of Death'],
            all.map(executorRow), 'No executor.'));
        });
      });
    },
  });
})();
