/* The code scanner (web/trade_forms.py CodeScanner): where the browser reads QR codes from the
   camera (the BarcodeDetector API, as on Android's Chrome), a button opens the camera and each
   code read is added to the box as a line. Elsewhere the button stays hidden: a hand scanner
   or the keyboard types into the box, and pasting works everywhere. */
(function () {
  if (window.codeScannerReady) return;
  window.codeScannerReady = true;
  function setUp(scanner) {
    var button = scanner.querySelector("[data-scan-camera]");
    var video = scanner.querySelector("[data-scan-video]");
    var box = scanner.querySelector("textarea");
    var status = scanner.querySelector("[data-scan-status]");
    if (!("BarcodeDetector" in window) || !navigator.mediaDevices) return;
    button.hidden = false;
    var stream = null;
    var seen = {};
    function stop() {
      if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
      stream = null;
      video.hidden = true;
    }
    button.addEventListener("click", function () {
      if (stream) { stop(); return; }
      var detector = new window.BarcodeDetector({ formats: ["qr_code", "code_128"] });
      navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" } }).then(function (s) {
        stream = s;
        video.srcObject = s;
        video.hidden = false;
        video.play();
        (function tick() {
          if (!stream) return;
          detector.detect(video).then(function (codes) {
            codes.forEach(function (c) {
              var text = (c.rawValue || "").trim();
              if (text && !seen[text]) {
                seen[text] = true;
                box.value = (box.value.trim() ? box.value.trim() + "\n" : "") + text;
                status.textContent = Object.keys(seen).length + " ✓";
              }
            });
            window.setTimeout(tick, 250);
          }).catch(function () { window.setTimeout(tick, 500); });
        })();
      }).catch(function () { status.textContent = button.getAttribute("data-denied") || ""; });
    });
  }
  function ready() { document.querySelectorAll(".code-scanner").forEach(setUp); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
