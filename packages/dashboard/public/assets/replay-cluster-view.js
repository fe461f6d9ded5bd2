// Draws the cluster at one instant of a replay: nodes (role, term, indexes as text), partition
// sides as shaded regions, messages in flight as arrows, drops crossed out; and the node table
// that says the same in words.
import { describeNetwork, layoutNodes, roleLabel } from './replay-model.js';

const SVG_NS = 'http://www.w3.org/2000/svg';
const WIDTH = 720;
const HEIGHT = 400;
const NODE_RADIUS = 44;
/** Messages drawn at once; the rest are counted in the caption. */
export const ARROWS_DRAWN_MAX = 40;
/** Log entries the node table shows per node. */
const LOG_ENTRIES_SHOWN = 4;

/** Message types grouped into a few line styles; the type is also written on the arrow. */
const MESSAGE_CLASS = {
  append: 'msg-append',
  propose: 'msg-append',
  snapshot: 'msg-append',
  appendResponse: 'msg-response',
  snapshotResponse: 'msg-response',
  heartbeatResponse: 'msg-response',
  readIndexResponse: 'msg-response',
  vote: 'msg-vote',
  preVote: 'msg-vote',
  voteResponse: 'msg-vote',
  preVoteResponse: 'msg-vote',
  timeoutNow: 'msg-vote',
  heartbeat: 'msg-heartbeat',
  readIndex: 'msg-heartbeat',
};

/** Short names so arrow labels stay legible. */
const MESSAGE_LABEL = {
  append: 'app',
  appendResponse: 'app✓',
  heartbeat: 'hb',
  heartbeatResponse: 'hb✓',
  vote: 'vote',
  voteResponse: 'vote✓',
  preVote: 'pre',
  preVoteResponse: 'pre✓',
  readIndex: 'read',
  readIndexResponse: 'read✓',
  snapshot: 'snap',
  snapshotResponse: 'snap✓',
  propose: 'prop',
  timeoutNow: 'tn',
};

function svg(tag, attributes = {}, text = undefined) {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

function arrowMarkers() {
  const defs = svg('defs');
  for (const name of ['msg-append', 'msg-response', 'msg-vote', 'msg-heartbeat', 'msg-dropped']) {
    const marker = svg('marker', {
      id: `arrow-${name}`,
      viewBox: '0 0 10 10',
      refX: 9,
      refY: 5,
      markerWidth: 7,
      markerHeight: 7,
      orient: 'auto-start-reverse',
    });
    marker.append(svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: `marker ${name}` }));
    defs.append(marker);
  }
  return defs;
}

/** The point `distance` along the segment from `a` to `b`, measured from `a`. */
function along(a, b, distance) {
  const length = Math.hypot(b.x - a.x, b.y - a.y) || 1;
  return { x: a.x + ((b.x - a.x) * distance) / length, y: a.y + ((b.y - a.y) * distance) / length };
}

/**
 * Redraws `svgElement` for the replay state `state` and the messages `flight` (from messagesAt).
 * @param {SVGSVGElement} svgElement
 */
export function renderCluster(svgElement, index, state, flight) {
  const groups = state.partition?.groups ?? null;
  const { positions, regions } = layoutNodes(index.nodes, groups, WIDTH, HEIGHT);
  // The title is the drawing's text alternative: who is up, in which role; the table has the rest.
  const children = [svg('title', {}, clusterTitle(index, state)), arrowMarkers()];
  for (const region of regions) {
    children.push(
      svg('rect', {
        class: 'side',
        x: region.x,
        y: region.y,
        width: region.width,
        height: region.height,
        rx: 10,
      }),
      svg(
        'text',
        { class: 'side-label', x: region.x + 10, y: region.y + 20 },
        `${region.label}: ${region.group.join(', ')}`,
      ),
    );
  }
  for (const { message, progress } of flight.inFlight) {
    children.push(...messageArrow(positions, message, progress, false));
  }
  for (const message of flight.dropped) children.push(...messageArrow(positions, message, 1, true));
  for (const name of index.nodes) children.push(nodeGlyph(state.nodes.get(name), positions.get(name)));
  svgElement.replaceChildren(...children);
}

function clusterTitle(index, state) {
  const nodes = index.nodes.map((name) => {
    const node = state.nodes.get(name);
    return `${name} ${node.up ? `${roleLabel(node.role)} term ${node.term}` : 'crashed'}`;
  });
  const sides = state.partition ? `; partitioned: ${state.partition.description}` : '';
  return `The cluster: ${nodes.join(', ')}${sides}`;
}

function messageArrow(positions, message, progress, dropped) {
  const from = positions.get(message.from);
  const to = positions.get(message.to);
  if (from === undefined || to === undefined) return [];
  // Arrows of opposite directions sit side by side instead of on top of each other.
  const offset = message.from < message.to ? 6 : -6;
  const length = Math.hypot(to.x - from.x, to.y - from.y) || 1;
  const shift = { x: (-(to.y - from.y) / length) * offset, y: ((to.x - from.x) / length) * offset };
  const start = along(
    { x: from.x + shift.x, y: from.y + shift.y },
    { x: to.x + shift.x, y: to.y + shift.y },
    NODE_RADIUS,
  );
  const end = along(
    { x: to.x + shift.x, y: to.y + shift.y },
    { x: from.x + shift.x, y: from.y + shift.y },
    NODE_RADIUS + 2,
  );
  const head = {
    x: start.x + (end.x - start.x) * Math.min(1, Math.max(0, progress)),
    y: start.y + (end.y - start.y) * Math.min(1, Math.max(0, progress)),
  };
  const kind = dropped ? 'msg-dropped' : (MESSAGE_CLASS[message.type] ?? 'msg-heartbeat');
  const label = `${MESSAGE_LABEL[message.type] ?? message.type}${message.reject ? '✗' : ''} t${message.term}`;
  const title = `${message.type} ${message.from}→${message.to} term ${message.term}${message.index === null ? '' : ` index ${message.index}`}${dropped ? ` — dropped (${message.reason})` : ''}`;
  const group = svg('g', { class: `message ${kind}`, 'data-message-id': message.id });
  group.append(svg('title', {}, title));
  group.append(svg('line', { class: 'track', x1: start.x, y1: start.y, x2: end.x, y2: end.y }));
  group.append(
    svg('line', {
      class: 'flight',
      x1: start.x,
      y1: start.y,
      x2: head.x,
      y2: head.y,
      'marker-end': `url(#arrow-${kind})`,
    }),
  );
  group.append(
    svg('text', { class: 'message-label', x: head.x + 4, y: head.y - 4 }, dropped ? `✕ ${label}` : label),
  );
  return [group];
}

function nodeGlyph(node, position) {
  const role = node.up ? node.role : 'crashed';
  const group = svg('g', {
    class: `node role-${role}`,
    'data-node': node.name,
    transform: `translate(${position.x} ${position.y})`,
  });
  group.append(svg('circle', { r: NODE_RADIUS }));
  group.append(svg('text', { class: 'node-name', y: -16 }, node.name));
  group.append(svg('text', { class: 'node-role', y: 2 }, node.up ? roleLabel(node.role) : 'CRASHED'));
  group.append(svg('text', { class: 'node-detail', y: 18 }, `term ${node.term}`));
  group.append(svg('text', { class: 'node-detail', y: 32 }, `c${node.commit} a${node.applied}`));
  return group;
}

/** Rewrites the node table's body for `state`. */
export function renderNodeTable(tbody, index, state) {
  const rows = index.nodes.map((name) => {
    const node = state.nodes.get(name);
    const row = document.createElement('tr');
    row.dataset.node = name;
    row.dataset.status = node.up ? 'up' : 'crashed';
    const log = node.log
      .slice(-LOG_ENTRIES_SHOWN)
      .map((entry) => `${entry.index}@${entry.term} ${entry.command}`)
      .join(' · ');
    const cells = [
      name,
      node.up ? 'up' : 'crashed',
      node.up ? roleLabel(node.role) : '—',
      String(node.term),
      node.leader || '—',
      String(node.commit),
      String(node.applied),
      String(node.lastIndex),
      log || '(empty)',
    ];
    for (const [column, text] of cells.entries()) {
      const cell = document.createElement(column === 0 ? 'th' : 'td');
      if (column === 0) cell.scope = 'row';
      if (column === 1) cell.className = `status status-${row.dataset.status}`;
      if (column === 2 && node.up) cell.className = `role role-${node.role}`;
      if (column === 8) cell.className = 'log-cell';
      cell.textContent = text;
      row.append(cell);
    }
    return row;
  });
  tbody.replaceChildren(...rows);
}

/** One line on the network: partition, weather and skewed clocks. */
export function networkLine(index, state) {
  const parts = [
    state.partition ? `Partition (${state.partition.shape}): ${state.partition.description}` : 'No partition',
  ];
  if (state.network) parts.push(describeNetwork(state.network));
  const skewed = index.nodes
    .map((name) => state.nodes.get(name))
    .filter((node) => node.clock.offsetMs !== 0 || node.clock.driftPpm !== 0)
    .map(
      (node) =>
        `${node.name} ${node.clock.offsetMs >= 0 ? '+' : ''}${node.clock.offsetMs} ms/${node.clock.driftPpm} ppm`,
    );
  if (skewed.length > 0) parts.push(`clocks: ${skewed.join(', ')}`);
  return parts.join(' — ');
}
