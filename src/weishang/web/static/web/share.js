// The page's WeChat share card (M11): wx.config signed by the server, then the card's title,
// description and picture for "send to a friend" and "share to Moments".
(function () {
  var card = document.getElementById("share-card");
  if (!card || !window.wx) return;
  var here = location.href.split("#")[0];
  fetch(card.dataset.config + "?url=" + encodeURIComponent(here), { credentials: "same-origin" })
    .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
    .then(function (c) {
      wx.config({ debug: false, appId: c.appId, timestamp: c.timestamp, nonceStr: c.nonceStr, signature: c.signature, jsApiList: c.jsApiList });
      wx.ready(function () {
        var data = { title: card.dataset.title, desc: card.dataset.desc, link: here, imgUrl: card.dataset.image };
        wx.updateAppMessageShareData(data);
        wx.updateTimelineShareData({ title: data.title, link: here, imgUrl: data.imgUrl });
      });
    })
    .catch(function () { /* without a card WeChat shares the page's title and link */ });
})();
