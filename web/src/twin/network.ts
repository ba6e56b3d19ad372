/**
 * The network the twin's host exposes, as `GET /api/network` reports it (sim/host/network.ts):
 * protocol faces with endpoints, connected clients and message rates, and each station's link
 * to the OPC UA and MQTT faces. Unusual traffic (rejected commands, denied logins or publishes
 * in the last 10 s) is flagged per face and per link. A standalone twin has no network: its
 * report holds only the page's link to the simulation worker (`local: true`).
 */

import type { FaceReport, LinkReport, NetworkReport as HostNetworkReport } from '../../../sim/host/network.ts';

/** One protocol face (or, standalone, the simulation worker: id `worker`, protocol `comlink`). */
export type NetFace = Omit<FaceReport, 'id'> & { id: FaceReport['id'] | 'worker' };

/** A station's link to a face. */
export type NetLink = LinkReport;

/** The whole report: the host's, or (standalone) the page's own with `local: true`. */
export type NetworkReport = Omit<HostNetworkReport, 'faces'> & {
  faces: NetFace[];
  /** standalone: no host, the line runs in this page's worker */
  local?: boolean;
};
