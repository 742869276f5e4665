/* Copy buttons: <button data-copy="#input-id" hidden> copies that input's (or textarea's) value and says so in the
   element [data-copy-status] next to it. Without JavaScript the buttons stay hidden and the link
   in the read-only input can be selected and copied by hand. */
(function () {
  function copied(button) {
    var status = button.parentNode.querySelector("[data-copy-status]");
    if (status) status.textContent = button.getAttribute("data-copied") || "";
    // data-report="<url>": tell the server the text was copied (the material centre counts it).
    var report = button.getAttribute("data-report");
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (report && token && navigator.sendBeacon) {
      var form = new FormData();
      form.append("csrfmiddlewaretoken", token.value);
      navigator.sendBeacon(report, form);
    }
  }
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var input = document.querySelector(button.getAttribute("data-copy"));
    if (!input) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(function () { copied(button); });
      } else {
        input.select();
        if (document.execCommand("copy")) copied(button);
      }
    });
  });
})();
