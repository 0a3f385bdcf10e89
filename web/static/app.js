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

  // The menu scrolls sideways on a phone: bring the current page's item into view.
  var on = document.querySelector(".nav a.on");
  if (on) {
    var nav = on.parentNode, r = on.getBoundingClientRect(), n = nav.getBoundingClientRect();
    if (r.right > n.right) nav.scrollLeft += r.right - n.right + 32;
  }

  // Charts: <div class="chart" data-chart='{...echarts option...}'> when ECharts is on the page.
  // On a narrow screen a bar chart lies on its side, so the names read left to right.
  var sideways = function (o) {
    if (!o.xAxis || o.xAxis.type !== "category" || !o.yAxis || Array.isArray(o.xAxis)) return null;
    var x = o.xAxis, n = (x.data || []).length;
    o.xAxis = o.yAxis;
    o.yAxis = { type: "category", data: (x.data || []).slice().reverse(), axisLabel: { interval: 0, fontSize: 13 } };
    (o.series || []).forEach(function (s) { if (s.data) s.data = s.data.slice().reverse(); });
    return { option: o, height: Math.max(220, 70 + n * 36) };
  };
  window.addEventListener("load", function () {
    if (!window.echarts) return;
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var option = JSON.parse(el.getAttribute("data-chart"));
      (option.series || []).forEach(function (s) { if (s.type === "bar" && !s.barMaxWidth) s.barMaxWidth = 56; });
      if (el.clientWidth < 560) {
        var side = sideways(option);
        if (side) { option = side.option; el.style.height = side.height + "px"; }
      }
      var chart = window.echarts.init(el, null, { renderer: "svg" });
      chart.setOption(option);
      window.addEventListener("resize", function () { chart.resize(); });
    });
  });
  window.yanzhenCSRF = csrf;
})();
