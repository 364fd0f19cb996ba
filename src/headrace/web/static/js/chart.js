// A time-series chart (uPlot) with a text summary beside it for those who cannot see it.
import uPlot from "/ui/vendor/uplot.esm.js";
import { html } from "/ui/js/ui.js";
import { useEffect, useRef } from "/ui/vendor/preact-htm.module.js";

const COLOURS = ["#1f6fb2", "#c0392b", "#2e8b57", "#8e44ad", "#d35400", "#16a085"];
const DASHES = [[], [6, 3], [2, 2], [8, 2, 2, 2], [1, 3], [10, 4]];

// `times` in ms; `series`: [{label, values}]. Lines differ by dash too, not only colour.
export function Chart({ title, times, series, height = 180 }) {
  const box = useRef(null);
  const plot = useRef(null);
  useEffect(() => {
    const width = Math.max(260, box.current.clientWidth || 600);
    const opts = {
      title, width, height,
      series: [{}, ...series.map((s, i) => ({
        label: s.label, stroke: COLOURS[i % COLOURS.length], dash: DASHES[i % DASHES.length], width: 2,
      }))],
      axes: [{}, { size: 50 }],
      scales: { x: { time: true } },
    };
    plot.current = new uPlot(opts, [times.map((t) => t / 1000), ...series.map((s) => s.values)], box.current);
    return () => { plot.current.destroy(); plot.current = null; };
  }, [series.length, title]);
  useEffect(() => {
    if (plot.current) plot.current.setData([times.map((t) => t / 1000), ...series.map((s) => s.values)]);
  });
  return html`<figure class="chart" aria-label=${title}><div ref=${box}></div></figure>`;
}
