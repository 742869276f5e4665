/* A lesson's audio or video reports the seconds played to its data-progress URL every 30 seconds
   of playing and when paused or ended (the agent's time spent on the lesson). Without JavaScript
   the player still plays; only the time is not counted. */
(function () {
  document.querySelectorAll("audio[data-progress], video[data-progress]").forEach(function (player) {
    var played = 0, last = null;
    var token = document.querySelector("input[name=csrfmiddlewaretoken]");
    function send() {
      var seconds = Math.floor(played);
      if (seconds < 1 || !token) return;
      played -= seconds;
      var form = new FormData();
      form.append("csrfmiddlewaretoken", token.value);
      form.append("seconds", String(Math.min(seconds, 3600)));
      fetch(player.getAttribute("data-progress"), {method: "POST", body: form, headers: {"Accept": "application/json"}, credentials: "same-origin"});
    }
    player.addEventListener("timeupdate", function () {
      var now = player.currentTime;
      if (last !== null && now > last && now - last < 5) played += now - last;
      last = now;
      if (played >= 30) send();
    });
    player.addEventListener("seeking", function () { last = null; });
    player.addEventListener("pause", send);
    player.addEventListener("ended", send);
  });
})();
