// A live line chart (uPlot): series over the last 15 minutes, redrawn with new data in place.
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartProps {
  title: string;
  /** [x (epoch s), ...ys], column-wise as uPlot takes it. */
  data: [number[], ...(number | null)[][]];
  series: { label: string; stroke: string; unit?: string }[];
  height?: number;
  /** A fixed y range (e.g. 0–100 for percentages); otherwise it follows the data. */
  yRange?: [number, number];
}

export function Chart({ title, data, series, height = 160, yRange }: ChartProps) {
  const host = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const el = host.current;
    if (el === null) return;
    const options: uPlot.Options = {
      title,
      width: Math.max(240, el.clientWidth || 480),
      height,
      series: [
        {},
        ...series.map((s) => ({
          label: s.label,
          stroke: s.stroke,
          width: 1.5,
          value: (_u: uPlot, v: number | null) => (v === null ? '–' : `${v.toFixed(1)}${s.unit ?? ''}`),
        })),
      ],
      axes: [{}, { size: 50 }],
      scales: { x: { time: true }, ...(yRange ? { y: { range: yRange } } : {}) },
    };
    plot.current = new uPlot(options, data as uPlot.AlignedData, el);
    const resize = new ResizeObserver(() =>
      plot.current?.setSize({ width: Math.max(240, el.clientWidth), height }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.current?.destroy();
      plot.current = null;
    };
    // Made once per chart; data flows in through setData below.
  }, [title, series.length, height]);

  useEffect(() => {
    plot.current?.setData(data as uPlot.AlignedData);
  }, [data]);

  return <div class="chart" ref={host} />;
}
