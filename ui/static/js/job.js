/* A job's page (/jobs/job/?id=N): its status and its stages, grouped by status. */
(function () {
  'use strict';
  var E = EmberUI;

  function renderSummary(el, job) {
    var stagesTotal = (job.stageIds ? job.stageIds.length : 0);
    el.innerHTML =
      '<li><strong>Status:</strong> <span id="job-status">' + E.escape(job.status) + '</span></li>' +
      '<li><strong>Submitted:</strong> ' + E.escape(E.formatDate(job.submissionTime)) + '</li>' +
      '<li><strong>Duration:</strong> ' + E.escape(E.elapsed(job.submissionTime, job.completionTime)) + '</li>' +
      '<li><strong>Stages:</strong> ' + stagesTotal + ' (' + (job.numActiveStages || 0) + ' active, ' +
      (job.numCompletedStages || 0) + ' completed, ' + (job.numSkippedStages || 0) + ' skipped, ' +
      (job.numFailedStages || 0) + ' failed)</li>' +
      '<li><strong>Tasks:</strong> ' + E.progressBar(job.numCompletedTasks, (job.numTasks || 0) - (job.numSkippedTasks || 0),
        job.numFailedTasks, job.numActiveTasks, job.numKilledTasks) + '</li>';
  }

  E.start({
    tab: 'jobs',
    title: 'Job',
    load: function () {
      var id = E.param('id');
      if (id === null || !/^\d+$/.test(id)) return Promise.reject(new Error('No job id in the address (?id=N).'));
      return Promise.all([E.api('/jobs/' + id), E.api('/stages')]).then(function (r) {
        var job = r[0];
        var ids = {};
        (job.stageIds || []).forEach(function (s) { ids[s] = true; });
        var stages = r[1].filter(function (s) { return ids[s.stageId]; });
        var clock = job.status === 'RUNNING' ? Math.floor(E.now() / 1000) : 0;
        document.getElementById('job-title').textContent = 'Details for Job ' + job.jobId +
          (job.description || job.name ? ': ' + (job.description || job.name) : '');
        E.renderIfChanged('job-summary', [job, clock], function (el) { renderSummary(el, job); });
        E.renderIfChanged('job-failure', job.failureReason || '', function (el, reason) {
          el.innerHTML = reason ? '<div class="alert alert-warning ember-error-text">' + E.escape(reason) + '</div>' : '';
        });
        E.renderIfChanged('job-stages', [stages, clock], function (el) { E.renderStageGroups(el, stages, 'job-stages'); });
      });
    },
  });
})();
