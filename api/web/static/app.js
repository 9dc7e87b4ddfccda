// Draw every chart of the page: each element with data-chart names the
// <script type="application/json"> element that holds its ECharts option.
(function () {
  "use strict";
  if (typeof echarts === "undefined") {
    return;
  }
  var charts = [];
  document.querySelectorAll("[data-chart]").forEach(function (element) {
    var source = document.getElementById(element.getAttribute("data-chart"));
    if (!source) {
      return;
    }
    var chart = echarts.init(element, null, { renderer: "canvas" });
    chart.setOption(JSON.parse(source.textContent));
    charts.push(chart);
  });
  var pending = null;
  window.addEventListener("resize", function () {
    // Resize once the window stops changing, not on every event.
    clearTimeout(pending);
    pending = setTimeout(function () {
      charts.forEach(function (chart) { chart.resize(); });
    }, 150);
  });
  document.documentElement.setAttribute("data-charts-ready", String(charts.length));
})();
