/* The region picker (web/regions.py): choosing a province or city loads the regions within it
   from the public API into the next select and clears the finer ones. Without JavaScript the
   form still works: each submit shows the next select filled in. */
(function () {
  if (window.regionPickerReady) return;
  window.regionPickerReady = true;
  function fill(select, regions) {
    var first = select.options[0];
    select.innerHTML = "";
    select.appendChild(first);
    regions.forEach(function (r) {
      var o = document.createElement("option");
      o.value = r.code;
      o.textContent = r.name;
      select.appendChild(o);
    });
    select.value = "";
    select.hidden = regions.length === 0;
  }
  function setUp(picker) {
    var selects = Array.prototype.slice.call(picker.querySelectorAll("select"));
    selects.forEach(function (select, i) {
      select.addEventListener("change", function () {
        selects.slice(i + 1).forEach(function (s) { fill(s, []); });
        var next = selects[i + 1];
        if (!next || !select.value) return;
        fetch(picker.getAttribute("data-region-api") + "?parent=" + encodeURIComponent(select.value), {
          headers: { Accept: "application/json" }
        }).then(function (r) { return r.ok ? r.json() : []; }).then(function (found) {
          fill(next, Array.isArray(found) ? found : (found.items || []));
        });
      });
    });
  }
  function ready() { document.querySelectorAll(".region-picker").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
