// A <select data-autosubmit> sends its form when changed (no inline handler: the pages' Content
// Security Policy allows no inline script).
document.addEventListener("change", function (event) {
  var field = event.target;
  if (field instanceof HTMLSelectElement && field.hasAttribute("data-autosubmit") && field.form) field.form.submit();
});
