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
