// Flash sales in the shop: every .countdown[data-until] counts down to its ISO time (hh:mm:ss).
(function () {
  function tick() {
    document.querySelectorAll(".countdown[data-until]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.until) - Date.now()) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { tick(); setInterval(tick, 1000); });
})();
