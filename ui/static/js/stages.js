/* The Stages tab: every stage attempt, grouped by status, with links to the stage pages. */
(function () {
  'use strict';
  var E = EmberUI;

  E.start({
    tab: 'stages',
    title: 'Stages',
    load: function () {
      return E.api('/stages').then(function (stages) {
        var count = function (status) { return stages.filter(function (s) { return s.status === status; }).length; };
        E.renderIfChanged('stages-summary', stages.map(function (s) { return s.status; }), function (el) {
          el.innerHTML = [['ACTIVE', 'Active Stages'], ['PENDING', 'Pending Stages'], ['COMPLETE', 'Completed Stages'],
            ['SKIPPED', 'Skipped Stages'], ['FAILED', 'Failed Stages']].map(function (g) {
            return '<li><strong>' + g[1] + ':</strong> ' + count(g[0]) + '</li>';
          }).join('');
        });
        var clock = count('ACTIVE') ? Math.floor(E.now() / 1000) : 0;
        E.renderIfChanged('stages-tables', [stages, clock], function (el) { E.renderStageGroups(el, stages, 'stages'); });
      });
    },
  });
})();
