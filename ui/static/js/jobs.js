/* The Jobs tab: the application's jobs grouped Active / Completed / Failed as Spark groups them,
 * and an event timeline of executors added and removed and of the jobs. */
(function () {
  'use strict';
  var E = EmberUI;

  function jobRow(job) {
    var link = E.jobLink(job.jobId);
    var stagesTotal = (job.stageIds ? job.stageIds.length : 0) - (job.numSkippedStages || 0);
    var stages = job.numCompletedStages + '/' + stagesTotal;
    if (job.numFailedStages) stages += ' (' + job.numFailedStages + ' failed)';
    if (job.numSkippedStages) stages += ' (' + job.numSkippedStages + ' skipped)';
    var cells = [
      '<a href="' + E.escape(link) + '">' + job.jobId + '</a>',
      '<a href="' + E.escape(link) + '">' + E.escape(job.description || job.name || ('job ' + job.jobId)) + '</a>',
      E.escape(E.formatDate(job.submissionTime)),
      E.escape(E.elapsed(job.submissionTime, job.completionTime)),
      E.escape(stages),
      E.progressBar(job.numCompletedTasks, (job.numTasks || 0) - (job.numSkippedTasks || 0), job.numFailedTasks,
        job.numActiveTasks, job.numKilledTasks),
    ];
    if (job.status === 'FAILED') cells.push('<span class="ember-error-text">' + E.escape(job.failureReason || '') + '</span>');
    return { cells: cells, attrs: 'data-job-id="' + job.jobId + '" data-job-status="' + E.escape(job.status) + '"' };
  }

  var groups = [
    ['RUNNING', 'active', 'Active Jobs'],
    ['SUCCEEDED', 'completed', 'Completed Jobs'],
    ['FAILED', 'failed', 'Failed Jobs'],
  ];

  function renderTables(el, jobs) {
    var html = '';
    groups.forEach(function (g) {
      var of = jobs.filter(function (j) { return j.status === g[0]; });
      var columns = ['Job Id', 'Description', 'Submitted', 'Duration', 'Stages: Succeeded/Total', 'Tasks (for all stages): Succeeded/Total'];
      if (g[0] === 'FAILED') columns.push('Failure Reason');
      if (of.length || g[0] !== 'FAILED')
        html += E.section('jobs-' + g[1], g[2], of.length, E.table('jobs-' + g[1] + '-table', columns, of.map(jobRow), 'No ' + g[2].toLowerCase() + '.'));
    });
    el.innerHTML = html;
  }

  function renderSummary(el, data) {
    var ctx = E.ctx;
    var count = function (status) { return data.jobs.filter(function (j) { return j.status === status; }).length; };
    el.innerHTML =
      '<li><strong>User:</strong> ' + E.escape(ctx.attempt.sparkUser || '') + '</li>' +
      '<li><strong>Started:</strong> ' + E.escape(E.formatDate(ctx.attempt.startTime)) + '</li>' +
      '<li><strong>Total Uptime:</strong> <span id="jobs-uptime">' + E.escape(E.elapsed(ctx.attempt.startTime, ctx.completed ? ctx.attempt.endTime : null)) + '</span></li>' +
      '<li><strong>Active Jobs:</strong> <span id="jobs-active-count">' + count('RUNNING') + '</span></li>' +
      '<li><strong>Completed Jobs:</strong> <span id="jobs-completed-count">' + count('SUCCEEDED') + '</span></li>' +
      '<li><strong>Failed Jobs:</strong> <span id="jobs-failed-count">' + count('FAILED') + '</span></li>';
  }

  // The event timeline (d3 v3): a lane of executor events, then the jobs as bars from submission to
  // completion (or now), packed into as few rows as do not overlap.
  var maxJobs = 200;
  var maxRows = 12;

  function renderTimeline(el, data) {
    var ctx = E.ctx;
    el.innerHTML = '';
    var start = E.parseTime(ctx.attempt.startTimeEpoch || ctx.attempt.startTime);
    var end = E.now();
    var jobs = data.jobs.slice(0, maxJobs).map(function (j) {
      var s = E.parseTime(j.submissionTime);
      var e = E.parseTime(j.completionTime);
      return { job: j, start: s === null ? end : s, end: e === null ? end : e };
    });
    var execEvents = [];
    data.executors.forEach(function (x) {
      var added = E.parseTime(x.addTime);
      var removed = E.parseTime(x.removeTime);
      if (added !== null) execEvents.push({ time: added, kind: 'added', exec: x });
      if (removed !== null) execEvents.push({ time: removed, kind: 'removed', exec: x });
    });
    var times = [end];
    if (start !== null) times.push(start);
    jobs.forEach(function (j) { times.push(j.start, j.end); });
    execEvents.forEach(function (ev) { times.push(ev.time); });
    var lo = d3.min(times);
    var hi = Math.max(d3.max(times), lo + 1000);

    jobs.sort(function (a, b) { return a.start - b.start; });
    var rowEnds = [];
    jobs.forEach(function (j) {
      var row = 0;
      while (row < rowEnds.length && rowEnds[row] > j.start && row < maxRows - 1) row++;
      j.row = row;
      rowEnds[row] = Math.max(rowEnds[row] || 0, j.end);
    });
    var rows = Math.max(1, rowEnds.length);

    var width = Math.max(600, el.clientWidth || 1000);
    var margin = { left: 90, right: 20, top: 10 };
    var laneHeight = 30;
    var rowHeight = 18;
    var jobsTop = margin.top + laneHeight + 10;
    var height = jobsTop + rows * rowHeight + 30;
    var x = d3.time.scale().domain([new Date(lo), new Date(hi)]).range([margin.left, width - margin.right]);

    var svg = d3.select(el).append('svg').attr('width', width).attr('height', height).attr('id', 'jobs-timeline-svg');
    svg.append('text').attr('class', 'lane-label').attr('x', 4).attr('y', margin.top + laneHeight / 2 + 4).text('Executors');
    svg.append('text').attr('class', 'lane-label').attr('x', 4).attr('y', jobsTop + rowHeight / 2 + 4).text('Jobs');

    var execs = svg.selectAll('.executor-event').data(execEvents).enter().append('g')
      .attr('class', function (d) { return 'executor-event executor-' + d.kind; })
      .attr('data-executor-id', function (d) { return d.exec.id; })
      .attr('transform', function (d) { return 'translate(' + x(new Date(d.time)) + ',' + (margin.top + laneHeight / 2) + ')'; });
    execs.append('circle').attr('r', 6);
    execs.append('title').text(function (d) {
      return 'Executor ' + d.exec.id + ' ' + d.kind + ' at ' + E.formatDate(d.time) +
        (d.kind === 'removed' && d.exec.removeReason ? ': ' + d.exec.removeReason : '');
    });

    var bars = svg.selectAll('.job').data(jobs).enter().append('a')
      .attr('xlink:href', function (d) { return E.jobLink(d.job.jobId); })
      .append('g')
      .attr('class', function (d) { return 'job job-' + d.job.status; })
      .attr('data-job-id', function (d) { return d.job.jobId; });
    bars.append('rect')
      .attr('x', function (d) { return x(new Date(d.start)); })
      .attr('y', function (d) { return jobsTop + d.row * rowHeight; })
      .attr('width', function (d) { return Math.max(3, x(new Date(d.end)) - x(new Date(d.start))); })
      .attr('height', rowHeight - 2);
    bars.append('title').text(function (d) {
      return 'Job ' + d.job.jobId + ' (' + (d.job.description || d.job.name || '') + ') ' + d.job.status + ', ' +
        E.formatDuration(d.end - d.start);
    });

    var axis = d3.svg.axis().scale(x).orient('bottom').ticks(Math.max(2, Math.floor(width / 140)));
    svg.append('g').attr('class', 'axis').attr('transform', 'translate(0,' + (height - 24) + ')').call(axis);
  }

  E.start({
    tab: 'jobs',
    title: 'Jobs',
    load: function () {
      return Promise.all([E.api('/jobs'), E.api('/allexecutors')]).then(function (r) {
        var data = { jobs: r[0], executors: r[1] };
        E.renderIfChanged('jobs-summary', [data.jobs.map(function (j) { return j.status; }), E.ctx.attempt, Math.floor(E.now() / 1000)], function (el) { renderSummary(el, data); });
        // Running jobs grow with the clock: redraw them at each refresh.
        var clock = E.ctx.completed ? 0 : Math.floor(E.now() / 1000);
        E.renderIfChanged('jobs-timeline', [data, clock], function (el) { renderTimeline(el, data); });
        E.renderIfChanged('jobs-tables', [data.jobs, clock], function (el) { renderTables(el, data.jobs); });
      });
    },
  });
})();
