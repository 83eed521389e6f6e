// Sortable and filterable tables; plain ES5, no libraries, works offline.
(function () {
  function key(cell) {
    var v = cell.getAttribute('data-v');
    if (v === null) { v = cell.textContent; }
    var f = parseFloat(v);
    return isNaN(f) || String(f).length === 0 || !/^[-+0-9.eE]+$/.test(v) ? { n: false, v: v.toLowerCase() } : { n: true, v: f };
  }
  function compare(a, b) {
    if (a.n && b.n) { return a.v - b.v; }
    if (a.n !== b.n) { return a.n ? -1 : 1; }
    return a.v < b.v ? -1 : a.v > b.v ? 1 : 0;
  }
  function sort(table, index, th) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var asc = th.getAttribute('data-dir') !== 'asc';
    var heads = table.tHead.rows[0].cells;
    for (var i = 0; i < heads.length; i++) { heads[i].removeAttribute('data-dir'); }
    th.setAttribute('data-dir', asc ? 'asc' : 'desc');
    var keyed = rows.map(function (r, i) { return { r: r, k: key(r.cells[index]), i: i }; });
    keyed.sort(function (a, b) { var c = compare(a.k, b.k); return (asc ? c : -c) || a.i - b.i; });
    for (var j = 0; j < keyed.length; j++) { body.appendChild(keyed[j].r); }
  }
  var tables = document.querySelectorAll('table.sortable');
  for (var t = 0; t < tables.length; t++) {
    (function (table) {
      if (!table.tHead) { return; }
      var heads = table.tHead.rows[0].cells;
      for (var h = 0; h < heads.length; h++) {
        (function (th, index) {
          th.addEventListener('click', function () { sort(table, index, th); });
        })(heads[h], h);
      }
    })(tables[t]);
  }
  var filters = document.querySelectorAll('input.filter');
  for (var f = 0; f < filters.length; f++) {
    (function (input) {
      input.addEventListener('input', function () {
        var table = document.getElementById(input.getAttribute('data-table'));
        var q = input.value.toLowerCase();
        var rows = table.tBodies[0].rows;
        for (var r = 0; r < rows.length; r++) {
          rows[r].style.display = rows[r].textContent.toLowerCase().indexOf(q) >= 0 ? '' : 'none';
        }
      });
    })(filters[f]);
  }
})();
