/**
 * Where the network overlay draws things: the report of `/api/network` turned into nodes and
 * links placed above the line. Each station's PLC floats over the station; the host's faces
 * (OPC UA server, MQTT publisher and broker, REST API) and their clients sit higher up, behind
 * the line as the default camera looks at it, so the links do not hide the machines.
 */
import type { NetworkReport } from '../twin/network.ts';
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
  const clientsText = (n: number | null): string => (n === null ? '' : `${n} ${t.clients}`);

  if (report.local === true) {
    const wk = face('worker');
    nodes.push({ id: 'worker', kind: 'face', label: [t.worker, wk !== undefined ? rateText(wk.rate, per) : ''], x: at(0.5), y: FACE_Y, z, unusual: false });
    nodes.push({ id: 'page', kind: 'clients', label: [t.page], x: at(0.5), y: CLIENT_Y, z, unusual: false });
    links.push({ id: 'worker~page', from: 'worker', to: 'page', protocol: 'worker', rate: wk?.rate ?? 0, unusual: false });
    return { nodes, links };
  }

  const opcua = face('opcua');
  const mqtt = face('mqtt');
  const api = face('api');
  if (opcua !== undefined || mqtt !== undefined) {
    for (const p of placed) nodes.push({ id: `plc:${p.info.id}`, kind: 'plc', label: [`${t.plc} ${p.info.id}`], x: p.x, y: PLC_Y, z: p.z, unusual: report.links.some((l) => l.station === p.info.id && l.unusual) });
  }
  if (opcua !== undefined) {
    const x = at(0.2);
    nodes.push({ id: 'opcua', kind: 'face', label: [t.opcua, opcua.endpoint, join(rateText(opcua.rate, per), clientsText(opcua.clients))], x, y: FACE_Y, z, unusual: opcua.unusual });
    nodes.push({ id: 'opcua-clients', kind: 'clients', label: [t.opcuaClients], x, y: CLIENT_Y, z, unusual: opcua.unusual });
    links.push({ id: 'opcua~opcua-clients', from: 'opcua', to: 'opcua-clients', protocol: 'opcua', rate: opcua.rate, unusual: opcua.unusual });
  }
  if (api !== undefined) {
    const x = at(0.45);
    nodes.push({ id: 'api', kind: 'face', label: [t.api, api.endpoint, join(rateText(api.rate, per), clientsText(api.clients))], x, y: FACE_Y, z, unusual: api.unusual });
    nodes.push({ id: 'api-clients', kind: 'clients', label: [t.apiClients], x, y: CLIENT_Y, z, unusual: api.unusual });
    links.push({ id: 'api~api-clients', from: 'api', to: 'api-clients', protocol: 'api', rate: api.rate, unusual: api.unusual });
  }
  if (mqtt !== undefined) {
    const x = at(0.7);
    const bx = at(0.95);
    const others = mqtt.clients === null ? null : Math.max(0, mqtt.clients - mqtt.ownClients);
    nodes.push({ id: 'mqtt', kind: 'face', label: [t.mqtt, rateText(mqtt.rate, per)], x, y: FACE_Y, z, unusual: mqtt.unusual });
    nodes.push({ id: 'broker', kind: 'face', label: [t.broker, mqtt.endpoint, mqtt.ws ?? '', clientsText(others)], x: bx, y: FACE_Y, z, unusual: mqtt.unusual });
    nodes.push({ id: 'mqtt-clients', kind: 'clients', label: [t.mqttClients], x: bx, y: CLIENT_Y, z, unusual: false });
    links.push({ id: 'mqtt~broker', from: 'mqtt', to: 'broker', protocol: 'mqtt', rate: mqtt.rates.published ?? mqtt.rate, unusual: mqtt.unusual });
    links.push({ id: 'broker~mqtt-clients', from: 'broker', to: 'mqtt-clients', protocol: 'mqtt', rate: others === 0 ? 0 : (mqtt.rates.published ?? 0), unusual: false });
  }
  for (const l of report.links) {
    if (!nodes.some((n) => n.id === `plc:${l.station}`)) continue;
    links.push({ id: `plc:${l.station}~${l.face}`, from: `plc:${l.station}`, to: l.face, protocol: l.face, rate: l.rate, unusual: l.unusual });
  }
  return { nodes, links };
}
