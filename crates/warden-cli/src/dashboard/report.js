// Sorts the report's tables by a clicked column; the order is kept in the
// address (#sort=TABLE:COLUMN:asc|desc) so a sorted view can be shared.
(function () {
  "use strict";
  function value(row, column, numeric) {
    var cell = row.cells[column];
    var text = cell ? cell.getAttribute("data-sort") : "";
    if (!numeric) return text.toLowerCase();
    return text === "" ? null : Number(text);
  }
  function sortTable(table, column, direction) {
    var head = table.tHead.rows[0].cells[column];
    if (!head) return;
    var numeric = head.getAttribute("data-type") === "number";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var sign = direction === "desc" ? -1 : 1;
    rows.sort(function (a, b) {
      var x = value(a, column, numeric), y = value(b, column, numeric);
      // Empty cells go last whichever the direction.
      if (x === null || x === "") return (y === null || y === "") ? 0 : 1;
      if (y === null || y === "") return -1;
      return (x < y ? -1 : x > y ? 1 : 0) * sign;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      th.setAttribute("aria-sort", "none");
    });
    head.setAttribute("aria-sort", direction === "desc" ? "descending" : "ascending");
    table.setAttribute("data-sorted", column + ":" + direction);
  }
  function fromAddress() {
    var match = /^#sort=([A-Za-z0-9_-]+):(\d+):(asc|desc)$/.exec(location.hash);
    if (!match) return;
    var table = document.getElementById(match[1]);
    if (table && table.classList.contains("sortable")) sortTable(table, Number(match[2]), match[3]);
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (th) {
      function sortHere() {
        var column = Number(th.getAttribute("data-column"));
        var direction = th.getAttribute("aria-sort") === "ascending" ? "desc" : "asc";
        sortTable(table, column, direction);
        history.replaceState(null, "", "#sort=" + table.id + ":" + column + ":" + direction);
      }
      th.addEventListener("click", sortHere);
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortHere(); }
      });
    });
  });
  fromAddress();
  window.addEventListener("hashchange", fromAddress);
  document.documentElement.setAttribute("data-ready", "true");
})();
