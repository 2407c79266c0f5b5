// Small SVG charts drawn from the data the page holds: intervals around zero (A/B lifts) and bars against
// a threshold (burn rates). Each has a text title and a table beside it for readers who do not see it.

export interface Interval {
  label: string;
  estimate: number;
  low: number;
  high: number;
}

/** Each interval as a line with its estimate as a dot, against a zero line; units are percent. */
export function IntervalPlot({ title, intervals }: { title: string; intervals: Interval[] }) {
  const width = 560;
  const row = 28;
  const left = 150;
  const height = intervals.length * row + 30;
  const values = intervals.flatMap((i) => [i.low, i.high, 0]).filter(Number.isFinite);
  const span = Math.max(1e-9, ...values.map(Math.abs));
  const x = (v: number) => left + ((v + span) / (2 * span)) * (width - left - 20);
  return (
    <svg role="img" aria-label={title} width={width} height={height} className="chart">
      <title>{title}</title>
      <line x1={x(0)} x2={x(0)} y1={4} y2={height - 22} stroke="#555" strokeDasharray="3 3" />
      <text x={x(0)} y={height - 6} textAnchor="middle" fontSize="11">
        0%
      </text>
      <text x={x(-span)} y={height - 6} fontSize="11">
        {(-span).toFixed(1)}%
      </text>
      <text x={x(span)} y={height - 6} textAnchor="end" fontSize="11">
        +{span.toFixed(1)}%
      </text>
      {intervals.map((interval, n) => {
        const y = 16 + n * row;
        const clear = interval.low > 0 || interval.high < 0;
        return (
          <g key={interval.label}>
            <text x={0} y={y + 4} fontSize="12">
              {interval.label}
            </text>
            <line x1={x(interval.low)} x2={x(interval.high)} y1={y} y2={y} stroke={clear ? "#0b5a1e" : "#123a5c"} strokeWidth={3} />
            <circle cx={x(interval.estimate)} cy={y} r={5} fill={clear ? "#0b5a1e" : "#123a5c"} />
          </g>
        );
      })}
    </svg>
  );
}

/** One bar per window's burn rate, with the threshold as a line: a bar past it is burning too fast. */
export function BurnChart({ title, rates, threshold }: { title: string; rates: [string, number | null][]; threshold: number }) {
  const width = 420;
  const height = 160;
  const top = Math.max(threshold * 1.25, ...rates.map(([, r]) => (r !== null && Number.isFinite(r) ? r : 0)));
  const bar = (width - 40) / Math.max(1, rates.length);
  const y = (v: number) => height - 24 - (Math.min(v, top) / top) * (height - 40);
  return (
    <svg role="img" aria-label={title} width={width} height={height} className="chart">
      <title>{title}</title>
      {rates.map(([window, rate], n) => (
        <g key={window}>
          <rect
            x={30 + n * bar + 4}
            width={bar - 8}
            y={rate === null ? height - 24 : y(Number.isFinite(rate) ? rate : top)}
            height={rate === null ? 0 : height - 24 - y(Number.isFinite(rate) ? rate : top)}
            fill={rate !== null && rate >= threshold ? "#8a1010" : "#123a5c"}
          />
          <text x={30 + n * bar + bar / 2} y={height - 8} textAnchor="middle" fontSize="11">
            {window}
          </text>
        </g>
      ))}
      <text x={0} y={14} fontSize="11">
        {top.toFixed(top < 10 ? 1 : 0)}×
      </text>
      <line x1={30} x2={width} y1={y(threshold)} y2={y(threshold)} stroke="#e08a00" strokeWidth={2} />
      <text x={0} y={y(threshold) + 4} fontSize="11">
        {threshold}×
      </text>
    </svg>
  );
}

/** Horizontal bars, signed values around a zero line (SHAP contributions; importances are all positive). */
export function Bars({ title, bars }: { title: string; bars: { label: string; value: number }[] }) {
  const width = 560;
  const row = 22;
  const left = 170;
  const height = bars.length * row + 10;
  const span = Math.max(1e-12, ...bars.map((b) => Math.abs(b.value)));
  const signed = bars.some((b) => b.value < 0);
  const zero = signed ? left + (width - left) / 2 : left;
  const scale = (signed ? (width - left) / 2 - 10 : width - left - 60) / span;
  return (
    <svg role="img" aria-label={title} width={width} height={height} className="chart">
      <title>{title}</title>
      {bars.map((b, n) => {
        const y = 4 + n * row;
        const w = Math.abs(b.value) * scale;
        return (
          <g key={b.label}>
            <text x={0} y={y + 13} fontSize="12">
              {b.label}
            </text>
            <rect x={b.value < 0 ? zero - w : zero} y={y} width={w} height={row - 6} fill={b.value < 0 ? "#1f5fa8" : "#a8321f"} />
          </g>
        );
      })}
      <line x1={zero} x2={zero} y1={0} y2={height} stroke="#555" />
    </svg>
  );
}

export interface Series {
  label: string;
  points: { step: number; value: number }[];
}

/** Lines over steps, one per series, on a linear or log y axis (log leaves non-positive values out). */
export function LineChart({ title, series, log }: { title: string; series: Series[]; log: boolean }) {
  const width = 560;
  const height = 240;
  const pad = { left: 56, right: 12, top: 12, bottom: 28 };
  const usable = series.map((s) => ({ ...s, points: s.points.filter((p) => !log || p.value > 0) }));
  const all = usable.flatMap((s) => s.points);
  if (!all.length) return <p>No value to chart{log ? " on a log scale" : ""}.</p>;
  const f = (v: number) => (log ? Math.log10(v) : v);
  const steps = all.map((p) => p.step);
  const ys = all.map((p) => f(p.value));
  const [x0, x1] = [Math.min(...steps), Math.max(...steps)];
  const [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  const x = (s: number) => pad.left + ((s - x0) / (x1 - x0 || 1)) * (width - pad.left - pad.right);
  const y = (v: number) => height - pad.bottom - ((f(v) - y0) / (y1 - y0 || 1)) * (height - pad.top - pad.bottom);
  const colours = ["#123a5c", "#a8321f", "#0b5a1e", "#7a4b00", "#5b2a86"];
  const label = (v: number) => (log ? `1e${v.toFixed(1)}` : v.toPrecision(3));
  return (
    <svg role="img" aria-label={title} width={width} height={height} className="chart">
      <title>{title}</title>
      <line x1={pad.left} x2={pad.left} y1={pad.top} y2={height - pad.bottom} stroke="#555" />
      <line x1={pad.left} x2={width - pad.right} y1={height - pad.bottom} y2={height - pad.bottom} stroke="#555" />
      <text x={2} y={pad.top + 8} fontSize="11">
        {label(y1)}
      </text>
      <text x={2} y={height - pad.bottom} fontSize="11">
        {label(y0)}
      </text>
      <text x={pad.left} y={height - 8} fontSize="11">
        step {x0}
      </text>
      <text x={width - pad.right} y={height - 8} fontSize="11" textAnchor="end">
        step {x1}
      </text>
      {usable.map((s, n) => (
        <g key={s.label}>
          <polyline
            fill="none"
            stroke={colours[n % colours.length]}
            strokeWidth={2}
            points={s.points.map((p) => `${x(p.step)},${y(p.value)}`).join(" ")}
          />
          <text x={width - pad.right} y={pad.top + 12 * (n + 1)} fontSize="11" textAnchor="end" fill={colours[n % colours.length]}>
            {s.label}
          </text>
        </g>
      ))}
    </svg>
  );
}

export interface Axis {
  label: string;
  values: (number | undefined)[];
}

/** One vertical axis per numeric parameter or metric, one line per run across them (a run missing a value
 * leaves that axis out); the runs in `highlight` are drawn on top in a strong colour. */
export function ParallelCoordinates({
  title,
  axes,
  names,
  highlight,
}: {
  title: string;
  axes: Axis[];
  names: string[];
  highlight: Set<number>;
}) {
  const width = Math.max(420, 130 * axes.length);
  const height = 260;
  const pad = { top: 28, bottom: 24, side: 50 };
  const x = (a: number) => pad.side + (a * (width - 2 * pad.side)) / Math.max(1, axes.length - 1);
  const ranges = axes.map((a) => {
    const finite = a.values.filter((v): v is number => v !== undefined && Number.isFinite(v));
    return [Math.min(...finite), Math.max(...finite)] as [number, number];
  });
  const y = (a: number, v: number) => {
    const [low, high] = ranges[a] ?? [0, 1];
    return height - pad.bottom - ((v - low) / (high - low || 1)) * (height - pad.top - pad.bottom);
  };
  const line = (run: number) => {
    const points: string[] = [];
    axes.forEach((a, n) => {
      const v = a.values[run];
      if (v !== undefined && Number.isFinite(v)) points.push(`${x(n)},${y(n, v)}`);
    });
    return points.join(" ");
  };
  const order = names.map((_, n) => n).sort((a, b) => Number(highlight.has(a)) - Number(highlight.has(b)));
  return (
    <svg role="img" aria-label={title} width={width} height={height} className="chart">
      <title>{title}</title>
      {order.map((run) => (
        <polyline
          key={run}
          data-run={names[run]}
          fill="none"
          stroke={highlight.has(run) ? "#a8321f" : "#7d97b3"}
          strokeOpacity={highlight.has(run) ? 1 : 0.55}
          strokeWidth={highlight.has(run) ? 2.5 : 1}
          points={line(run)}
        >
          <title>{names[run]}</title>
        </polyline>
      ))}
      {axes.map((a, n) => {
        const [low, high] = ranges[n] ?? [Number.NaN, Number.NaN];
        return (
        <g key={a.label}>
          <line x1={x(n)} x2={x(n)} y1={pad.top} y2={height - pad.bottom} stroke="#333" />
          <text x={x(n)} y={14} fontSize="11" textAnchor="middle">
            {a.label}
          </text>
          <text x={x(n) + 3} y={pad.top + 4} fontSize="10">
            {Number.isFinite(high) ? high.toPrecision(3) : ""}
          </text>
          <text x={x(n) + 3} y={height - pad.bottom + 12} fontSize="10">
            {Number.isFinite(low) ? low.toPrecision(3) : ""}
          </text>
        </g>
        );
      })}
    </svg>
  );
}
