/* Draws the dashboard's charts with the vendored Chart.js (static/vendor/chartjs).
   Each <canvas data-chart="ID"> reads its data from <script type="application/json" id="ID">,
   so the page needs no inline script (CSP-friendly). A chart spec:
   {type: "bar"|"line", labels: [...], datasets: [{label, data, color?}], stacked?, percent?} */
(function () {
  "use strict";
  var fallback = ["#007bff", "#28a745", "#dc3545", "#ffc107", "#17a2b8", "#6f42c1", "#fd7e14", "#20c997",
                  "#e83e8c", "#6c757d", "#343a40", "#007bff"];

  function build(canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return null; }
    var spec = JSON.parse(source.textContent);
    if (!spec) { return null; }
    var datasets = spec.datasets.map(function (ds, i) {
      var color = ds.color || fallback[i % fallback.length];
      return {
        label: ds.label, data: ds.data, backgroundColor: color, borderColor: color,
        borderWidth: spec.type === "line" ? 2 : 0, spanGaps: false, pointRadius: spec.type === "line" ? 2 : 0,
        fill: false
      };
    });
    var value = spec.percent ? function (v) { return v + "%"; } : undefined;
    return new Chart(canvas, {
      type: spec.type,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: "bottom", labels: { boxWidth: 12 } } },
        scales: {
          x: { stacked: !!spec.stacked },
          y: { stacked: !!spec.stacked, beginAtZero: true, max: spec.percent ? 100 : undefined,
               ticks: { precision: 0, callback: value } }
        }
      }
    });
  }

  function drawAll() {
    if (typeof Chart === "undefined") { return; }
    var canvases = document.querySelectorAll("canvas[data-chart]");
    var drawn = 0;
    Array.prototype.forEach.call(canvases, function (canvas) {
      if (build(canvas)) { drawn += 1; }
    });
    document.body.setAttribute("data-charts-drawn", String(drawn));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", drawAll);
  } else {
    drawAll();
  }
})();
