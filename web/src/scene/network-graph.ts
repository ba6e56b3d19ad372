/**
 * Where the network overlay draws things: the report of `/api/network` turned into nodes and
 * links placed above the line. Each station's PLC floats over the station; the host's faces
 * (OPC UA server, MQTT publisher and broker, REST API) and their clients sit higher up, behind
 * the line as the default camera looks at it, so the links do not hide the machines.
 */
import type { NetworkReport } from '../twin/network.ts';
import type { AlertFace, AlertMarks } from '../twin/alerts.ts';
import type { Messages } from '../i18n/en.ts';
import type { Placed } from './layout.ts';

/** Kinds of node, which set their size and colour. */
export type NodeKind = 'plc' | 'face' | 'clients';
/** Protocol of a link, which sets its colour. */
export type LinkProtocol = 'opcua' | 'mqtt' | 'api' | 'worker';

/** A node of the overlay. */
export interface GraphNode {
  id: string;
  kind: NodeKind;
  /** label lines (first: the name); only faces are labelled in the scene */
  label: string[];
  /** position [m] */
  x: number;
  y: number;
  z: number;
  unusual: boolean;
  /** the range's attack goes through it */
  attack: boolean;
  /** an active security alert's evidence names it */
  alert?: boolean;
}

/** A link of the overlay. */
export interface GraphLink {
  id: string;
  from: string;
  to: string;
  protocol: LinkProtocol;
  /** messages per second [1/s] */
  rate: number;
  unusual: boolean;
  /** the range's attack traffic */
  attack: boolean;
  /** traffic an active security alert's evidence names */
  alert?: boolean;
}

/** The overlay's contents. */
export interface Graph {
  nodes: GraphNode[];
  links: GraphLink[];
}

/** Height of the PLC nodes, the faces and their clients [m]. */
const PLC_Y = 5.2;
const FACE_Y = 11;
const CLIENT_Y = 16;
/** how far behind the line the faces sit [m] */
const BEHIND = 8;

/** How far the overlay reaches behind the line's floor box and above the floor [m] (labels included), so a fit can show it all. */
export const OVERLAY_REACH = { behind: BEHIND + 2, height: CLIENT_Y + 3 } as const;

function join(a: string, b: string): string {
  return b === '' ? a : `${a} · ${b}`;
}

/** `12.3 msg/s`. */
export function rateText(rate: number, unit: string): string {
  return `${rate >= 100 ? Math.round(rate) : rate >= 10 ? rate.toFixed(1) : rate.toFixed(2)} ${unit}`;
}

/** Lays out the report over the line whose stations are `placed` and floor box is `bounds`. */
export function networkGraph(report: NetworkReport, placed: readonly Placed[], bounds: readonly [number, number, number, number], t: Messages['net']): Graph {
  const [minX, minZ, maxX] = bounds;
  const w = maxX - minX;
  const z = minZ - BEHIND;
  const at = (share: number): number => minX + share * w;
  const nodes: GraphNode[] = [];
  const links: GraphLink[] = [];
  const face = (id: string): NetworkReport['faces'][number] | undefined => report.faces.find((f) => f.id === id);
  const per = t.perSecond;
  const attack = report.attack ?? null;
  // the attacked face's label says so first (the node the attack's clients reach)
  const attackLine = (face: string): string[] => (attack !== null && attack.face === face ? [`${attack.running ? t.attackRunning : t.attackEnded}: ${attack.id}`] : []);
  const clientsText = (n: number | null): string => (n === null ? '' : `${n} ${n === 1 ? t.client : t.clients}`);

  if (report.local === true) {
    const wk = face('worker');
    nodes.push({ id: 'worker', kind: 'face', label: [t.worker, wk !== undefined ? rateText(wk.rate, per) : ''], x: at(0.5), y: FACE_Y, z, unusual: false, attack: false });
    nodes.push({ id: 'page', kind: 'clients', label: [t.page], x: at(0.5), y: CLIENT_Y, z, unusual: false, attack: false });
    links.push({ id: 'worker~page', from: 'worker', to: 'page', protocol: 'worker', rate: wk?.rate ?? 0, unusual: false, attack: false });
    return { nodes, links };
  }

  const opcua = face('opcua');
  const mqtt = face('mqtt');
  const api = face('api');
  if (opcua !== undefined || mqtt !== undefined) {
    for (const p of placed) nodes.push({ id: `plc:${p.info.id}`, kind: 'plc', label: [`${t.plc} ${p.info.id}`], x: p.x, y: PLC_Y, z: p.z, unusual: report.links.some((l) => l.station === p.info.id && l.unusual), attack: report.links.some((l) => l.station === p.info.id && l.attack === true) });
  }
  if (opcua !== undefined) {
    const x = at(0.2);
    const hit = opcua.attack === true;
    nodes.push({ id: 'opcua', kind: 'face', label: [...attackLine('opcua'), t.opcua, opcua.endpoint, join(rateText(opcua.rate, per), clientsText(opcua.clients))], x, y: FACE_Y, z, unusual: opcua.unusual, attack: hit });
    nodes.push({ id: 'opcua-clients', kind: 'clients', label: [t.opcuaClients], x, y: CLIENT_Y, z, unusual: opcua.unusual, attack: hit });
    links.push({ id: 'opcua~opcua-clients', from: 'opcua', to: 'opcua-clients', protocol: 'opcua', rate: opcua.rate, unusual: opcua.unusual, attack: hit });
  }
  if (api !== undefined) {
    const x = at(0.45);
    const hit = api.attack === true;
    nodes.push({ id: 'api', kind: 'face', label: [...attackLine('api'), t.api, api.endpoint, join(rateText(api.rate, per), clientsText(api.clients))], x, y: FACE_Y, z, unusual: api.unusual, attack: hit });
    nodes.push({ id: 'api-clients', kind: 'clients', label: [t.apiClients], x, y: CLIENT_Y, z, unusual: api.unusual, attack: hit });
    links.push({ id: 'api~api-clients', from: 'api', to: 'api-clients', protocol: 'api', rate: api.rate, unusual: api.unusual, attack: hit });
  }
  if (mqtt !== undefined) {
    const x = at(0.7);
    const bx = at(0.95);
    const others = mqtt.clients === null ? null : Math.max(0, mqtt.clients - mqtt.ownClients);
    // the attack's clients are the broker's foreign clients, not the twin's own publisher
    const hit = mqtt.attack === true;
    nodes.push({ id: 'mqtt', kind: 'face', label: [t.mqtt, rateText(mqtt.rate, per)], x, y: FACE_Y, z, unusual: mqtt.unusual, attack: false });
    nodes.push({ id: 'broker', kind: 'face', label: [...attackLine('mqtt'), t.broker, mqtt.endpoint, mqtt.ws ?? '', clientsText(others)], x: bx, y: FACE_Y, z, unusual: mqtt.unusual, attack: hit });
    nodes.push({ id: 'mqtt-clients', kind: 'clients', label: [t.mqttClients], x: bx, y: CLIENT_Y, z, unusual: false, attack: hit });
    links.push({ id: 'mqtt~broker', from: 'mqtt', to: 'broker', protocol: 'mqtt', rate: mqtt.rates.published ?? mqtt.rate, unusual: mqtt.unusual, attack: false });
    links.push({ id: 'broker~mqtt-clients', from: 'broker', to: 'mqtt-clients', protocol: 'mqtt', rate: others === 0 ? 0 : (mqtt.rates.published ?? 0), unusual: false, attack: hit });
  }
  for (const l of report.links) {
    if (!nodes.some((n) => n.id === `plc:${l.station}`)) continue;
    links.push({ id: `plc:${l.station}~${l.face}`, from: `plc:${l.station}`, to: l.face, protocol: l.face, rate: l.rate, unusual: l.unusual, attack: l.attack === true });
  }
  return { nodes, links };
}

/** The nodes and links a face's foreign clients reach it by (an MQTT client talks to the broker). */
const FACE_PATH: Readonly<Record<AlertFace, { nodes: string[]; links: string[] }>> = {
  opcua: { nodes: ['opcua', 'opcua-clients'], links: ['opcua~opcua-clients'] },
  api: { nodes: ['api', 'api-clients'], links: ['api~api-clients'] },
  mqtt: { nodes: ['broker', 'mqtt-clients'], links: ['broker~mqtt-clients'] },
};
/** what a command through the face also crosses before it reaches a station's PLC */
const TO_STATION: Readonly<Record<AlertFace, { nodes: string[]; links: string[] }>> = {
  opcua: { nodes: [], links: [] },
  api: { nodes: [], links: [] },
  // the twin's publisher takes the command topics from the broker
  mqtt: { nodes: ['mqtt'], links: ['mqtt~broker'] },
};

/**
 * `graph` with what the active security alerts name marked `alert` (drawn red): the face an
 * alert's evidence gives as its source, that face's clients and the link to them, and, when the
 * alert names a station, the way from the face to that station's PLC. The face's label says
 * which rule fired first.
 */
export function withAlerts(graph: Graph, marks: AlertMarks | null, t: Messages['net']): Graph {
  if (marks === null || marks.faces.size === 0) return graph;
  const nodes = new Set<string>();
  const links = new Set<string>();
  const labels = new Map<string, string>();
  for (const [face, m] of marks.faces) {
    const path = FACE_PATH[face];
    for (const id of path.nodes) nodes.add(id);
    for (const id of path.links) links.add(id);
    labels.set(path.nodes[0]!, `${t.alert}: ${m.rule}`);
  }
  for (const key of marks.links) {
    const [station, face] = key.split('~') as [string, AlertFace];
    const extra = TO_STATION[face];
    if (extra === undefined) continue;
    nodes.add(`plc:${station}`);
    links.add(`plc:${station}~${face}`);
    for (const id of extra.nodes) nodes.add(id);
    for (const id of extra.links) links.add(id);
  }
  return {
    nodes: graph.nodes.map((n) => (nodes.has(n.id) ? { ...n, alert: true, label: labels.has(n.id) ? [labels.get(n.id)!, ...n.label] : n.label } : n)),
    links: graph.links.map((l) => (links.has(l.id) ? { ...l, alert: true } : l)),
  };
}
