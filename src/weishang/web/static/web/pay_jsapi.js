// JSAPI payment inside WeChat (M11): WeChat's pay sheet with the server's signed arguments; back to
// the order when it closes (the order is paid when WeChat Pay's notice arrives, never on return).
(function () {
  var data = document.getElementById("jsapi-params-data");
  var script = document.currentScript || document.querySelector("script[data-back]");
  if (!data) return;
  var params = JSON.parse(data.textContent);
  function pay() {
    window.WeixinJSBridge.invoke("getBrandWCPayRequest", params, function () {
      location.href = script.dataset.back;
    });
  }
  if (window.WeixinJSBridge) pay();
  else document.addEventListener("WeixinJSBridgeReady", pay, false);
})();
