/**
 * The network the twin's host exposes, as `GET /api/network` reports it (sim/host/network.ts):
 * protocol faces with endpoints, connected clients and message rates, and each station's link
 * to the OPC UA and MQTT faces. Unusual traffic (rejected commands, denied logins or publishes
 * in the last 10 s) is flagged per face and per link. A standalone twin has no network: its
 * report holds only the page's link to the simulation worker (`local: true`).
 */

/** One protocol face (or, standalone, the simulation worker). */
export interface NetFace {
  /** `opcua`, `mqtt`, `api`, or `worker` (standalone) */
  id: string;
  /** `opc.tcp`, `mqtt`, `http`, `comlink` */
  protocol: string;
  endpoint: string;
  /** MQTT over WebSocket endpoint, or null */
  ws: string | null;
  broker: 'embedded' | 'external' | null;
  /** TCP connections to the face now, or null when the host cannot tell */
  clients: number | null;
  /** of them, the twin's own publishers */
  ownClients: number;
  /** messages per second [1/s] */
  rate: number;
  /** by kind [1/s] */
  rates: Record<string, number>;
  /** rejected or denied in the unusual window */
  rejected: number;
  unusual: boolean;
}

/** A station's link to a face. */
export interface NetLink {
  station: string;
  face: 'opcua' | 'mqtt';
  /** commands through it per second [1/s] */
  rate: number;
  rejected: number;
  unusual: boolean;
}

/** The whole report. */
export interface NetworkReport {
  /** [s] */
  rateWindowS: number;
  unusualWindowS: number;
  faces: NetFace[];
  links: NetLink[];
  /** standalone: no host, the line runs in this page's worker */
  local?: boolean;
}
