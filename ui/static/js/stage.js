/* A stage attempt's page (/stages/stage/?id=N&attempt=M): its summary, the DAG of its operators,
 * quantiles of its task metrics, aggregates per executor, and its tasks in a table paged and
 * sorted by the server (a stage may have 100,000 tasks: only one page is ever fetched). */
(function () {
  'use strict';
  var E = EmberUI;

  // -- summary ---------------------------------------------------------------------------------

  function renderSummary(el, s) {
    var items = [
      ['Status', '<span id="stage-status">' + E.escape(s.status) + '</span>'],
      ['Submitted', E.escape(E.formatDate(s.submissionTime))],
      ['Duration', E.escape(s.submissionTime ? E.elapsed(s.submissionTime, s.completionTime) : '')],
      ['Total Time Across All Tasks', E.escape(E.formatDuration(s.executorRunTime || 0))],
      ['Tasks', E.progressBar(s.numCompleteTasks, s.numTasks, s.numFailedTasks, s.numActiveTasks, s.numKilledTasks)],
    ];
    if (s.inputBytes || s.inputRecords) items.push(['Input Size / Records', E.escape(E.formatBytesRecords(s.inputBytes, s.inputRecords))]);
    if (s.outputBytes || s.outputRecords) items.push(['Output Size / Records', E.escape(E.formatBytesRecords(s.outputBytes, s.outputRecords))]);
    if (s.shuffleReadBytes || s.shuffleReadRecords) items.push(['Shuffle Read Size / Records', E.escape(E.formatBytesRecords(s.shuffleReadBytes, s.shuffleReadRecords))]);
    if (s.shuffleWriteBytes || s.shuffleWriteRecords) items.push(['Shuffle Write Size / Records', E.escape(E.formatBytesRecords(s.shuffleWriteBytes, s.shuffleWriteRecords))]);
    if (s.memoryBytesSpilled) items.push(['Spill (Memory)', E.escape(E.formatBytes(s.memoryBytesSpilled))]);
    if (s.diskBytesSpilled) items.push(['Spill (Disk)', E.escape(E.formatBytes(s.diskBytesSpilled))]);
    if (s.parentIds && s.parentIds.length) {
      items.push(['Parent Stages', s.parentIds.map(function (p) {
        return '<a href="' + E.escape(E.stageLink(p, 0)) + '">' + E.escape(p) + '</a>';
      }).join(', ')]);
    }
    el.innerHTML = items.map(function (i) { return '<li><strong>' + i[0] + ':</strong> ' + i[1] + '</li>'; }).join('');
  }

  // -- the DAG of operators (d3 v3) -------------------------------------------------------------
  // Layered top-down: an operator's layer is one more than its deepest parent's within the stage
  // (parents in other stages are where the stage reads a shuffle or a cache from).

  function renderDag(el, operators) {
    el.innerHTML = '';
    if (!operators || !operators.length) {
      el.innerHTML = '<p class="text-muted ember-empty">No operators reported for this stage.</p>';
      return;
    }
    var byId = {};
    operators.forEach(function (op) { byId[op.id] = op; });
    var layerOf = {};
    function layer(op, depth) {
      if (layerOf[op.id] !== undefined) return layerOf[op.id];
      if (depth > operators.length) return 0; // a cycle: not a DAG, draw it flat rather than loop
      var l = 0;
      (op.parentIds || []).forEach(function (p) {
        if (byId[p]) l = Math.max(l, layer(byId[p], depth + 1) + 1);
      });
      layerOf[op.id] = l;
      return l;
    }
    var layers = [];
    operators.forEach(function (op) {
      var l = layer(op, 0);
      (layers[l] = layers[l] || []).push(op);
    });
    layers = layers.filter(function (l) { return l && l.length; });
    var boxW = 190;
    var boxH = 42;
    var hGap = 30;
    var vGap = 36;
    var widest = d3.max(layers, function (l) { return l.length; });
    var width = Math.max(widest * (boxW + hGap) + hGap, 300);
    var height = layers.length * (boxH + vGap) + vGap / 2;
    var pos = {};
    layers.forEach(function (l, i) {
      l.sort(function (a, b) { return a.id - b.id; });
      var rowWidth = l.length * boxW + (l.length - 1) * hGap;
      var left = (width - rowWidth) / 2;
      l.forEach(function (op, j) { pos[op.id] = { x: left + j * (boxW + hGap), y: vGap / 2 + i * (boxH + vGap) }; });
    });
    var edges = [];
    operators.forEach(function (op) {
      (op.parentIds || []).forEach(function (p) { if (pos[p]) edges.push({ from: pos[p], to: pos[op.id], parent: p, child: op.id }); });
    });

    var svg = d3.select(el).append('svg').attr('width', width).attr('height', height).attr('id', 'stage-dag-svg');
    svg.append('defs').append('marker').attr('id', 'ember-arrow').attr('viewBox', '0 0 10 10')
      .attr('refX', 10).attr('refY', 5).attr('markerWidth', 7).attr('markerHeight', 7).attr('orient', 'auto')
      .append('path').attr('d', 'M0,0 L10,5 L0,10 z');
    svg.selectAll('.edge').data(edges).enter().append('path')
      .attr('class', 'edge')
      .attr('data-from', function (d) { return d.parent; })
      .attr('data-to', function (d) { return d.child; })
      .attr('marker-end', 'url(#ember-arrow)')
      .attr('d', function (d) {
        var x1 = d.from.x + boxW / 2;
        var y1 = d.from.y + boxH;
        var x2 = d.to.x + boxW / 2;
        var y2 = d.to.y;
        var ym = (y1 + y2) / 2;
        return 'M' + x1 + ',' + y1 + ' C' + x1 + ',' + ym + ' ' + x2 + ',' + ym + ' ' + x2 + ',' + y2;
      });
    var nodes = svg.selectAll('.node').data(operators).enter().append('g')
      .attr('class', 'node')
      .attr('data-operator-id', function (d) { return d.id; })
      .attr('transform', function (d) { return 'translate(' + pos[d.id].x + ',' + pos[d.id].y + ')'; });
    nodes.append('rect').attr('width', boxW).attr('height', boxH).attr('rx', 4).attr('ry', 4);
    nodes.append('text').attr('x', boxW / 2).attr('y', 17).attr('text-anchor', 'middle')
      .text(function (d) { var n = String(d.name); return n.length > 28 ? n.slice(0, 27) + '\u2026' : n; });
    nodes.append('text').attr('x', boxW / 2).attr('y', 33).attr('text-anchor', 'middle').attr('class', 'text-muted')
      .text(function (d) { return '[' + d.id + '] ' + d.numPartitions + ' partition' + (d.numPartitions === 1 ? '' : 's'); });
    nodes.append('title').text(function (d) { return d.name + ' (operator ' + d.id + ')'; });
  }

  // -- quantiles of the task metrics -------------------------------------------------------------

  var quantileHeaders = ['Metric', 'Min', '25th percentile', 'Median', '75th percentile', 'Max'];

  function metricRow(name, values, format) {
    if (!values || !values.length) return null;
    return { cells: [E.escape(name)].concat(values.map(function (v) { return E.escape(format(v)); })), attrs: 'data-metric="' + E.escape(name) + '"' };
  }

  function pairRow(name, bytes, records) {
    if (!bytes || !bytes.length) return null;
    return {
      cells: [E.escape(name)].concat(bytes.map(function (b, i) {
        return E.escape(E.formatBytes(b) + ' / ' + E.formatNumber(records && records[i] !== undefined ? records[i] : 0));
      })),
      attrs: 'data-metric="' + E.escape(name) + '"',
    };
  }

  function anyNonZero(values) {
    return (values || []).some(function (v) { return Number(v) !== 0; });
  }

  function renderMetrics(el, summary) {
    if (!summary) {
      el.innerHTML = '<p class="text-muted ember-empty" id="stage-metrics-empty">No task has completed yet.</p>';
      return;
    }
    var input = summary.inputMetrics || {};
    var output = summary.outputMetrics || {};
    var read = summary.shuffleReadMetrics || {};
    var write = summary.shuffleWriteMetrics || {};
    var rows = [
      metricRow('Duration', summary.duration, E.formatDuration),
      metricRow('Executor Run Time', summary.executorRunTime, E.formatDuration),
      metricRow('Executor CPU Time', summary.executorCpuTime, E.formatNanos),
      metricRow('Result Size', summary.resultSize, E.formatBytes),
      metricRow('Peak Execution Memory', summary.peakExecutionMemory, E.formatBytes),
    ];
    if (anyNonZero(input.bytesRead) || anyNonZero(input.recordsRead))
      rows.push(pairRow('Input Size / Records', input.bytesRead, input.recordsRead));
    if (anyNonZero(output.bytesWritten) || anyNonZero(output.recordsWritten))
      rows.push(pairRow('Output Size / Records', output.bytesWritten, output.recordsWritten));
    rows.push(pairRow('Shuffle Read Size / Records', read.readBytes, read.readRecords));
    if (anyNonZero(read.remoteBytesRead)) rows.push(metricRow('Shuffle Remote Reads', read.remoteBytesRead, E.formatBytes));
    if (anyNonZero(read.fetchWaitTime)) rows.push(metricRow('Shuffle Read Blocked Time', read.fetchWaitTime, E.formatDuration));
    rows.push(pairRow('Shuffle Write Size / Records', write.writeBytes, write.writeRecords));
    if (anyNonZero(write.writeTime)) rows.push(metricRow('Shuffle Write Time', write.writeTime, E.formatNanos));
    rows.push(metricRow('Spill (Memory)', summary.memoryBytesSpilled, E.formatBytes));
    rows.push(metricRow('Spill (Disk)', summary.diskBytesSpilled, E.formatBytes));
    el.innerHTML = E.table('stage-metrics-table', quantileHeaders, rows.filter(function (r) { return r; }));
  }

  // -- per executor ------------------------------------------------------------------------------

  function renderExecutors(el, data) {
    var summary = data.summary || {};
    var hostPort = {};
    data.executors.forEach(function (x) { hostPort[x.id] = x.hostPort; });
    var ids = Object.keys(summary).sort(function (a, b) {
      var na = /^\d+$/.test(a) ? Number(a) : -1;
      var nb = /^\d+$/.test(b) ? Number(b) : -1;
      return na !== nb ? na - nb : a < b ? -1 : a > b ? 1 : 0;
    });
    var rows = ids.map(function (id) {
      var x = summary[id];
      return {
        cells: [
          E.escape(id), E.escape(hostPort[id] || ''), E.escape(E.formatDuration(x.taskTime || 0)),
          E.escape((x.succeededTasks || 0) + (x.failedTasks || 0) + (x.killedTasks || 0)),
          E.escape(x.failedTasks || 0), E.escape(x.killedTasks || 0), E.escape(x.succeededTasks || 0),
          E.escape(E.formatBytes(x.inputBytes || 0)), E.escape(E.formatBytes(x.outputBytes || 0)),
          E.escape(E.formatBytesRecords(x.shuffleRead, x.shuffleReadRecords)),
          E.escape(E.formatBytesRecords(x.shuffleWrite, x.shuffleWriteRecords)),
          E.escape(E.formatBytes(x.memoryBytesSpilled || 0)), E.escape(E.formatBytes(x.diskBytesSpilled || 0)),
        ],
        attrs: 'data-executor-id="' + E.escape(id) + '"',
      };
    });
    el.innerHTML = E.table('stage-executors-table', ['Executor ID', 'Address', 'Task Time', 'Total Tasks', 'Failed Tasks',
      'Killed Tasks', 'Succeeded Tasks', 'Input', 'Output', 'Shuffle Read Size / Records',
      'Shuffle Write Size / Records', 'Spill (Memory)', 'Spill (Disk)'], rows, 'No task has run yet.');
  }

  // -- the task table (DataTables, server-side) --------------------------------------------------

  var table = null;
  var stageForTable = null; // the latest stage data: the fallback total count

  function metric(t, path) {
    var v = t.taskMetrics;
    for (var i = 0; v && i < path.length; i++) v = v[path[i]];
    return v;
  }

  // The columns; `sort` is taskList's sortBy for the column (none: not sortable).
  var columns = [
    { title: 'Index', sort: 'index', render: function (t) { return E.escape(t.index); } },
    { title: 'Task ID', sort: 'ID', render: function (t) { return E.escape(t.taskId); } },
    { title: 'Attempt', render: function (t) { return E.escape(t.attempt); } },
    { title: 'Status', sort: 'status', render: function (t) { return E.escape(t.status); } },
    { title: 'Locality Level', render: function (t) { return E.escape(t.taskLocality); } },
    { title: 'Executor ID', sort: 'executor', render: function (t) { return E.escape(t.executorId); } },
    { title: 'Host', render: function (t) { return E.escape(t.host); } },
    { title: 'Launch Time', sort: 'launchTime', render: function (t) { return E.escape(E.formatDate(t.launchTime)); } },
    { title: 'Duration', sort: 'runtime', render: function (t) { return E.escape(t.duration === undefined ? '' : E.formatDuration(t.duration)); } },
    { title: 'CPU Time', render: function (t) { var v = metric(t, ['executorCpuTime']); return E.escape(v === undefined ? '' : E.formatNanos(v)); } },
    { title: 'Shuffle Read Size / Records', render: function (t) {
      var r = metric(t, ['shuffleReadMetrics']);
      return r ? E.escape(E.formatBytesRecords((r.remoteBytesRead || 0) + (r.localBytesRead || 0), r.recordsRead)) : '';
    } },
    { title: 'Shuffle Write Size / Records', render: function (t) {
      var w = metric(t, ['shuffleWriteMetrics']);
      return w ? E.escape(E.formatBytesRecords(w.bytesWritten, w.recordsWritten)) : '';
    } },
    { title: 'Spill (Memory / Disk)', render: function (t) {
      var m = metric(t, ['memoryBytesSpilled']);
      var d = metric(t, ['diskBytesSpilled']);
      return m || d ? E.escape(E.formatBytes(m || 0) + ' / ' + E.formatBytes(d || 0)) : '';
    } },
    { title: 'Errors', render: function (t) { return t.errorMessage ? '<span class="ember-error-text">' + E.escape(t.errorMessage) + '</span>' : ''; } },
  ];

  function attemptsKnown(s) {
    return (s.numCompleteTasks || 0) + (s.numFailedTasks || 0) + (s.numKilledTasks || 0) + (s.numActiveTasks || 0);
  }

  function createTable(base) {
    table = jQuery('#stage-tasks').DataTable({
      serverSide: true,
      searching: false,
      pageLength: 20,
      lengthMenu: [20, 50, 100, 500],
      order: [[0, 'asc']],
      autoWidth: false,
      columns: columns.map(function (c) {
        return { title: c.title, orderable: !!c.sort, data: null, render: function (data, type, row) { return c.render(row); } };
      }),
      createdRow: function (row, t) {
        row.setAttribute('data-task-id', t.taskId);
        row.setAttribute('data-task-index', t.index);
        row.setAttribute('data-task-status', t.status);
      },
      ajax: function (request, callback) {
        var order = request.order && request.order[0];
        var sort = order ? columns[order.column].sort || 'index' : 'index';
        if (order && order.dir === 'desc') sort = '-' + sort;
        E.apiWithResponse(base + '/taskList?offset=' + request.start + '&length=' + request.length + '&sortBy=' + encodeURIComponent(sort))
          .then(function (r) {
            var header = r.response.headers.get('X-Total-Count');
            var total = header !== null && header !== '' ? Number(header) : attemptsKnown(stageForTable || {});
            document.getElementById('stage-task-count').textContent = String(total);
            callback({ draw: request.draw, recordsTotal: total, recordsFiltered: total, data: r.data });
          })
          .catch(function (err) { E.showError(err); });
      },
    });
  }

  // -- the page ------------------------------------------------------------------------------------

  E.start({
    tab: 'stages',
    title: 'Stage',
    load: function () {
      var id = E.param('id');
      var attempt = E.param('attempt') || '0';
      if (id === null || !/^\d+$/.test(id) || !/^\d+$/.test(attempt))
        return Promise.reject(new Error('No stage in the address (?id=N&attempt=M).'));
      var base = '/stages/' + id + '/' + attempt;
      var summaryPromise = E.api(base + '/taskSummary?quantiles=0,0.25,0.5,0.75,1').catch(function (err) {
        // Spark answers 404 while no task has reported metrics; anything else is an error.
        if (err.status === 404) return null;
        throw err;
      });
      return Promise.all([E.api(base), E.api('/allexecutors'), summaryPromise]).then(function (r) {
        var stage = r[0];
        stageForTable = stage;
        document.getElementById('stage-title').textContent = 'Details for Stage ' + stage.stageId +
          ' (Attempt ' + (stage.attemptId || 0) + ')' + (stage.name ? ': ' + stage.name : '');
        var running = stage.status === 'ACTIVE';
        var clock = running ? Math.floor(E.now() / 1000) : 0;
        var plain = {};
        Object.keys(stage).forEach(function (k) { if (k !== 'executorSummary') plain[k] = stage[k]; });
        E.renderIfChanged('stage-summary', [plain, clock], function (el) { renderSummary(el, stage); });
        E.renderIfChanged('stage-failure', stage.failureReason || '', function (el, reason) {
          el.innerHTML = reason ? '<div class="alert alert-warning ember-error-text">' + E.escape(reason) + '</div>' : '';
        });
        E.renderIfChanged('stage-dag', stage.operators || [], renderDag);
        // Quantiles of completed tasks only: none yet, none shown (not a row of zeros).
        E.renderIfChanged('stage-metrics', stage.numCompleteTasks ? r[2] : null, renderMetrics);
        E.renderIfChanged('stage-executors', [stage.executorSummary || {}, r[1]], function (el) {
          renderExecutors(el, { summary: stage.executorSummary, executors: r[1] });
        });
        if (!table) createTable(base);
        else E.renderIfChanged('stage-tasks', plain, function () { table.ajax.reload(null, false); });
      });
    },
  });
})();
