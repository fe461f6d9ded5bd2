// The members on a circle, a line per pair, and each direction's msgs/s written near its sender.
// Decorative for screen readers: the same numbers are in the table beside it.

const SVG_NS = 'http://www.w3.org/2000/svg';
const VIEW_SIZE = 340;
const RING_RADIUS = 115;
const NODE_RADIUS = 30;
/** Where along an edge (from the sender) its rate label sits. */
const LABEL_POSITION = 0.3;
const LABEL_OFFSET = 11;

/**
 * @param {string} tag
 * @param {Record<string, string | number>} attributes
 * @param {string} [text]
 * @returns {SVGElement}
 */
function svgElement(tag, attributes, text) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/**
 * @param {number} index
 * @param {number} count
 * @returns {{ x: number, y: number }}
 */
function ringPosition(index, count) {
  const angle = -Math.PI / 2 + (2 * Math.PI * index) / Math.max(1, count);
  return {
    x: VIEW_SIZE / 2 + RING_RADIUS * Math.cos(angle),
    y: VIEW_SIZE / 2 + RING_RADIUS * Math.sin(angle),
  };
}

/** @param {number} perSecond */
function formatRate(perSecond) {
  return perSecond >= 10 ? `${Math.round(perSecond)}/s` : `${perSecond.toFixed(1)}/s`;
}

/**
 * @param {SVGElement} svg
 * @param {{ x: number, y: number }} from
 * @param {{ x: number, y: number }} to
 * @param {number} perSecond
 */
function drawRateLabel(svg, from, to, perSecond) {
  const dx = to.x - from.x;
  const dy = to.y - from.y;
  const length = Math.hypot(dx, dy) || 1;
  // Offset each direction to its own side of the line so the two labels never overlap.
  const x = from.x + dx * LABEL_POSITION + (-dy / length) * LABEL_OFFSET;
  const y = from.y + dy * LABEL_POSITION + (dx / length) * LABEL_OFFSET;
  svg.append(
    svgElement(
      'text',
      { x, y, class: 'rate-label', 'text-anchor': 'middle', 'dominant-baseline': 'middle' },
      formatRate(perSecond),
    ),
  );
}

/**
 * @param {HTMLElement} container
 * @param {{ name: string, status: string, isLeader: boolean }[]} nodes
 * @param {{ from: string, to: string, perSecond: number }[]} edges
 */
export function renderRateGraph(container, nodes, edges) {
  const svg = svgElement('svg', {
    viewBox: `0 0 ${VIEW_SIZE} ${VIEW_SIZE}`,
    'aria-hidden': 'true',
    focusable: 'false',
  });
  /** @type {Map<string, { x: number, y: number }>} */
  const positions = new Map();
  for (const [index, node] of nodes.entries()) positions.set(node.name, ringPosition(index, nodes.length));
  const pairs = new Set();
  for (const edge of edges) {
    const from = positions.get(edge.from);
    const to = positions.get(edge.to);
    if (!from || !to) continue;
    const pairKey = [edge.from, edge.to].sort().join('\u0000');
    if (!pairs.has(pairKey)) {
      pairs.add(pairKey);
      svg.append(svgElement('line', { x1: from.x, y1: from.y, x2: to.x, y2: to.y, class: 'rate-edge' }));
    }
    drawRateLabel(svg, from, to, edge.perSecond);
  }
  for (const node of nodes) {
    const at = positions.get(node.name);
    if (!at) continue;
    const classes = ['rate-node', node.isLeader ? 'is-leader' : '', node.status !== 'up' ? 'is-down' : ''];
    svg.append(svgElement('circle', { cx: at.x, cy: at.y, r: NODE_RADIUS, class: classes.join(' ') }));
    svg.append(
      svgElement(
        'text',
        { x: at.x, y: at.y - 4, class: 'rate-node-name', 'text-anchor': 'middle' },
        node.name,
      ),
    );
    const caption = node.status !== 'up' ? 'down' : node.isLeader ? 'leader' : '';
    svg.append(
      svgElement(
        'text',
        { x: at.x, y: at.y + 12, class: 'rate-node-caption', 'text-anchor': 'middle' },
        caption,
      ),
    );
  }
  container.replaceChildren(svg);
}
