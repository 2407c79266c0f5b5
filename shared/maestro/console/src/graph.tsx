// A small left-to-right graph: nodes in columns, edges between them, each node optionally a link. The same
// edges are listed in text under it for readers who do not see the drawing.

export interface GraphNode {
  id: string;
  column: number;
  kind: string;
  label: string;
  href?: string;
}
export interface GraphEdge {
  from: string;
  to: string;
  label: string;
}

export function Graph({ title, nodes, edges }: { title: string; nodes: GraphNode[]; edges: GraphEdge[] }) {
  const [boxW, boxH, gapX, gapY, top] = [190, 42, 60, 18, 8];
  const columns = Math.max(1, ...nodes.map((n) => n.column + 1));
  const place = new Map<string, { x: number; y: number }>();
  for (let c = 0; c < columns; c++) {
    nodes
      .filter((n) => n.column === c)
      .forEach((n, row) => place.set(n.id, { x: 4 + c * (boxW + gapX), y: top + row * (boxH + gapY) }));
  }
  const rows = Math.max(1, ...Array.from({ length: columns }, (_, c) => nodes.filter((n) => n.column === c).length));
  const width = columns * (boxW + gapX);
  const height = top + rows * (boxH + gapY);
  const name = (id: string) => nodes.find((n) => n.id === id)?.label ?? id;
  const clip = (text: string, most: number) => (text.length > most ? `${text.slice(0, most - 1)}…` : text);
  return (
    <figure>
      <svg role="img" aria-label={title} width={width} height={height} className="chart graph">
        <title>{title}</title>
        <defs>
          <marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto">
            <path d="M 0 0 L 10 5 L 0 10 z" fill="#555" />
          </marker>
        </defs>
        {edges.map((e) => {
          const [a, b] = [place.get(e.from), place.get(e.to)];
          if (!a || !b) return null;
          return (
            <line
              key={`${e.from}->${e.to}`}
              x1={a.x + boxW}
              y1={a.y + boxH / 2}
              x2={b.x}
              y2={b.y + boxH / 2}
              stroke="#555"
              markerEnd="url(#arrow)"
            />
          );
        })}
        {nodes.map((n) => {
          const at = place.get(n.id) as { x: number; y: number };
          const box = (
            <g data-node={n.kind}>
              <rect x={at.x} y={at.y} width={boxW} height={boxH} rx={6} fill="#eef3f8" stroke="#123a5c" />
              <text x={at.x + 8} y={at.y + 16} fontSize="11" fill="#444">
                {clip(n.kind, 30)}
              </text>
              <text x={at.x + 8} y={at.y + 33} fontSize="13" fill="#111">
                {clip(n.label, 24)}
              </text>
            </g>
          );
          return n.href ? (
            <a key={n.id} href={n.href} aria-label={`${n.kind} ${n.label}`}>
              {box}
            </a>
          ) : (
            <g key={n.id}>{box}</g>
          );
        })}
      </svg>
      <figcaption>
        <ul aria-label={`${title}, as text`}>
          {edges.map((e) => (
            <li key={`${e.from}->${e.to}`}>
              {name(e.from)} {e.label} {name(e.to)}
            </li>
          ))}
        </ul>
      </figcaption>
    </figure>
  );
}
