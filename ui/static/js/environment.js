/* The Environment tab: the runtime, every effective configuration key with its origin (secrets come
 * from the server already as *****), and the system properties. */
(function () {
  'use strict';
  var E = EmberUI;

  // DataTables for sorting and searching a few hundred keys; built again when the data changes.
  function dataTable(id) {
    var table = document.getElementById(id);
    if (!table || !window.jQuery || !jQuery.fn.dataTable) return;
    jQuery(table).DataTable({ paging: false, info: false, order: [[0, 'asc']] });
  }

  function destroy(el) {
    if (!window.jQuery || !jQuery.fn.dataTable) return;
    jQuery(el).find('table').each(function () {
      if (jQuery.fn.dataTable.isDataTable(this)) jQuery(this).DataTable().destroy();
    });
  }

  function pairs(list) {
    return (list || []).map(function (p) {
      return Array.isArray(p) ? { name: p[0], value: p[1] } : { name: p.name, value: p.value };
    });
  }

  E.start({
    tab: 'environment',
    title: 'Environment',
    load: function () {
      return E.api('/environment').then(function (env) {
        E.renderIfChanged('environment-runtime', env.runtime || {}, function (el, runtime) {
          // Spark's JVM fields are there for its tools, empty: only what has a value is shown.
          var keys = Object.keys(runtime).sort().filter(function (k) { return runtime[k] !== '' && runtime[k] !== null; });
          el.innerHTML = keys.length ? E.section('environment-runtime-section', 'Runtime Information', null,
            E.table('environment-runtime-table', ['Name', 'Value'], keys.map(function (k) {
              return [E.escape(k), E.escape(typeof runtime[k] === 'object' ? JSON.stringify(runtime[k]) : runtime[k])];
            }))) : '';
        });
        var props = env.emberProperties || pairs(env.sparkProperties).map(function (p) { return { name: p.name, value: p.value, origin: '' }; });
        E.renderIfChanged('environment-properties', props, function (el) {
          destroy(el);
          var rows = props.map(function (p) {
            return { cells: [E.escape(p.name), E.escape(p.value), E.escape(p.origin)], attrs: 'data-key="' + E.escape(p.name) + '"' };
          });
          el.innerHTML = E.section('environment-ember', 'Ember Properties', props.length,
            E.table('environment-properties-table', ['Name', 'Value', 'Origin'], rows, 'No properties.'));
          dataTable('environment-properties-table');
        });
        var system = pairs(env.systemProperties);
        E.renderIfChanged('environment-system', system, function (el) {
          destroy(el);
          if (!system.length) {
            el.innerHTML = '';
            return;
          }
          el.innerHTML = E.section('environment-system-section', 'System Properties', system.length,
            E.table('environment-system-table', ['Name', 'Value'], system.map(function (p) {
              return [E.escape(p.name), E.escape(p.value)];
            })));
          dataTable('environment-system-table');
        });
      });
    },
  });
})();
