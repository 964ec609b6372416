/* The index page's search box and sortable columns. Reads the records the page embeds
 * (id="records", one per table row, in order); evaluates filters with filter.js. */
(function () {
  "use strict";
  var table = document.getElementById("models");
  var data = document.getElementById("records");
  if (!table || !data) return;
  var records = JSON.parse(data.textContent);
  var rows = Array.prototype.slice.call(table.tBodies[0].rows);
  var input = document.getElementById("filter");
  var status = document.getElementById("filter-status");
  var form = input.form;

  function show(predicate) {
    var n = 0;
    rows.forEach(function (row, i) {
      var on = predicate(records[i]);
      row.hidden = !on;
      if (on) n++;
    });
    return n;
  }

  function apply() {
    var text = input.value.trim();
    status.classList.remove("error");
    if (!text) {
      show(function () { return true; });
      status.textContent = rows.length + " models";
      return;
    }
    try {
      var expr = window.gitregFilter.parse(text);
      var n = show(function (r) { return expr.matches(r); });
      status.textContent = n + " of " + rows.length + " models match";
    } catch (e) {
      if (!(e instanceof window.gitregFilter.QueryError)) throw e;
      status.classList.add("error");
      status.textContent = "Filter error at " + e.toString();
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
