// Yanzhen console: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";

  // Forms with data-confirm ask before they submit (deactivate, revoke, unbind...).
  document.addEventListener("submit", function (e) {
    var msg = e.target.getAttribute && e.target.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) e.preventDefault();
  }, true);

  // Filter selects submit their form on change, so a phone user needs no extra tap.
  document.addEventListener("change", function (e) {
    if (e.target.matches && e.target.matches("[data-autosubmit]") && e.target.form) {
      if (window.htmx && e.target.form.hasAttribute("hx-get")) return; // htmx handles it
      e.target.form.requestSubmit ? e.target.form.requestSubmit() : e.target.form.submit();
    }
  });

  // QR login: poll until the member confirms in WeChat, then finish the login in this browser.
  var qr = document.querySelector("[data-qr-poll]");
  if (qr) {
    var url = qr.getAttribute("data-qr-poll"), done = qr.getAttribute("data-qr-done");
    var status = document.getElementById("qr-status");
    var tick = function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (r) { return r.json(); })
        .then(function (s) {
          if (s.status === "confirmed") {
            var f = document.getElementById("qr-finish");
            if (f) f.submit(); else location.href = done;
            return;
          }
          if (s.status === "expired") {
            if (status) status.textContent = "二维码已过期，请刷新页面重新获取。";
            return;
          }
          if (s.status === "scanned" && status) status.textContent = "已扫码，请在微信里回复「确认」。";
          setTimeout(tick, 1500);
        })
        .catch(function () { setTimeout(tick, 3000); });
    };
    setTimeout(tick, 1500);
  }

  // Charts: <div class="chart" data-chart='{...echarts option...}'> when ECharts is on the page.
  window.addEventListener("load", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(JSON.parse(el.getAttribute("data-chart")));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  });
  window.yanzhenCSRF = csrf;
})();
