/* The Storage tab: the cached datasets (/storage/rdd). */
(function () {
  'use strict';
  var E = EmberUI;

  function render(el, rdds) {
    var rows = rdds.map(function (r) {
      var fraction = r.numPartitions ? (100 * r.numCachedPartitions) / r.numPartitions : 0;
      return {
        cells: [
          E.escape(r.id), E.escape(r.name), E.escape(r.storageLevel),
          E.escape(r.numCachedPartitions + '/' + r.numPartitions),
          E.escape(fraction.toFixed(0) + '%'),
          E.escape(E.formatBytes(r.memoryUsed || 0)), E.escape(E.formatBytes(r.diskUsed || 0)),
        ],
        attrs: 'data-rdd-id="' + E.escape(r.id) + '"',
      };
    });
    el.innerHTML = E.section('storage-rdd', 'Cached Datasets', rdds.length,
      E.table('storage-rdd-table', ['ID', 'Name', 'Storage Level', 'Cached Partitions', 'Fraction Cached',
        'Size in Memory', 'Size on Disk'], rows, 'No dataset is cached.'));
  }

  E.start({
    tab: 'storage',
    title: 'Storage',
    load: function () {
      return E.api('/storage/rdd').then(function (rdds) { E.renderIfChanged('storage-rdds', rdds, render); });
    },
  });
})();
