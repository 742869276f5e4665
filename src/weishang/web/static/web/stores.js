// 附近门店: "use my location" asks the browser for its position and submits it as lat/lng.
(function () {
  var button = document.getElementById("use-location");
  var form = document.getElementById("find-stores");
  if (!button || !form || !navigator.geolocation) return;
  button.hidden = false;
  button.addEventListener("click", function () {
    var note = document.getElementById("location-note");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(
      function (position) {
        form.elements.lat.value = position.coords.latitude.toFixed(6);
        form.elements.lng.value = position.coords.longitude.toFixed(6);
        form.submit();
      },
      function () {
        button.disabled = false;
        if (note) note.textContent = note.dataset.denied || "";
      },
      { timeout: 10000, maximumAge: 600000 }
    );
  });
})();
