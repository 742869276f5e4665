// Customer service: "use this answer" / a quick reply fills the answer box (/m/messages/<id>/).
document.querySelectorAll("[data-use]").forEach(function (button) {
  button.addEventListener("click", function () {
    var box = document.getElementById("id_text");
    if (box) { box.value = button.dataset.use; box.focus(); }
  });
});
