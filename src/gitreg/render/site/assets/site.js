/* The index page's search box and sortable columns. Reads the search index the page embeds
 * (id="records": one model per table row, in order, with its versions' records);
 * evaluates filters with filter.js. */
(function () {
  "use strict";
  var table = document.getElementById("models");
  var data = document.getElementById("records");
  if (!table || !data) return;
  var index = window.gitregFilter.index(JSON.parse(data.textContent));
  var records = index.models.map(function (m, i) { return i; });  // row -> its model's place
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var input = document.getElementById("filter");
  var status = document.getElementById("filter-status");
  var form = input.form;

  function show(hits) {
    var n = 0;
    rows.forEach(function (row, i) {
      var on = hits === null || hits[records[i]];
      row.hidden = !on;
      if (on) n++;
    });
    return n;
  }

  function apply() {
    var text = input.value.trim();
    status.classList.remove("error");
    if (!text) {
      show(null);
      status.textContent = rows.length + " models";
      return;
    }
    try {
      var expr = window.gitregFilter.parse(text);
      var n = show(window.gitregFilter.search(expr, index));
      status.textContent = n + " of " + rows.length + " models match";
    } catch (e) {
      var query = e instanceof window.gitregFilter.QueryError;
      if (!query && !(e instanceof window.gitregFilter.UsageError)) throw e;
      status.classList.add("error");
      status.textContent = (query ? "Filter error at " : "Filter error: ") + e.toString();
    }
  }

  function sortBy(th) {
    var col = th.cellIndex, type = th.getAttribute("data-type");
    var dir = th.getAttribute("aria-sort") === "ascending" ? -1 : 1;
    Array.prototype.forEach.call(th.parentNode.cells, function (c) { c.setAttribute("aria-sort", "none"); });
    th.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
    var order = rows.map(function (row, i) { return i; });
    function key(i) { return rows[i].cells[col].getAttribute("data-sort") || ""; }
    order.sort(function (a, b) {
      var ka = key(a), kb = key(b), c;
      if (type === "number") {
        var na = ka === "" ? null : parseFloat(ka), nb = kb === "" ? null : parseFloat(kb);
        if (na === null || nb === null) return na === nb ? a - b : na === null ? 1 : -1;
        c = na - nb;
      } else if (type === "version") {
        c = window.gitregSemverCompare(ka, kb);
      } else {
        c = ka.localeCompare(kb);
      }
      return c * dir || a - b;
    });
    var body = table.tBodies[0];
    var sortedRows = order.map(function (i) { return rows[i]; });
    var sortedRecords = order.map(function (i) { return records[i]; });
    rows = sortedRows;
    records = sortedRecords;
    rows.forEach(function (row) { body.appendChild(row); });
  }

  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
    var button = th.querySelector("button");
    if (button) button.addEventListener("click", function () { sortBy(th); });
  });
  input.addEventListener("input", apply);
  if (form) form.addEventListener("submit", function (e) { e.preventDefault(); apply(); });
  var q = new URLSearchParams(window.location.search).get("filter");
  if (q) input.value = q;
  apply();
})();
