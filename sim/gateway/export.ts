/**
 * `twinline gateway export`: ready configurations that make a real gateway read the line over
 * OPC UA and publish it to MQTT: a Node-RED flow (node-red-contrib-opcua → mqtt out), a
 * Telegraf config (inputs.opcua_listener → outputs.mqtt, JSON) and an Azure OPC Publisher
 * published-nodes file. Every tag of the catalog is in each (PackML State included), each
 * float with the twin's own absolute deadband where the gateway takes one per item, so the
 * gateway reports what the twin reports. Passwords never are in the configuration: Telegraf
 * reads `${TWINLINE_OPCUA_PASSWORD}` from its environment; Node-RED reads its endpoint's user
 * (and the password, when given in that variable at export) from its standard credentials
 * file `<flows>_cred.json`; OPC Publisher asks at deployment. Output is deterministic: the
 * same line and options give the same bytes, so exports can be committed and diffed.
 */
import { createHash } from 'node:crypto';
import { TwinlineError } from '../core/errors.ts';
import type { Catalog, GatewayTag } from './catalog.ts';

/** Formats `gateway export` writes. */
export const EXPORT_FORMATS = ['node-red', 'telegraf', 'opc-publisher'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** Where the gateway reads and publishes. */
export interface ExportOptions {
  /** OPC UA endpoint of the twin, `opc.tcp://host:port` */
  endpoint: string;
  /** the twin's OPC UA profile: `hardened` means SignAndEncrypt with a user account */
  profile: 'open' | 'hardened';
  /** OPC UA user for the hardened profile (a read-only gateway: `viewer`) */
  user: string;
  /** its password, written only to Node-RED's credentials file (from TWINLINE_OPCUA_PASSWORD) */
  password?: string;
  /** the broker account the gateway publishes with (Node-RED: to its credentials file) */
  mqttUser?: string;
  /** its password (from TWINLINE_MQTT_PASSWORD), written only to Node-RED's credentials file */
  mqttPassword?: string;
  /** the file the configuration is written to, or null for stdout (named in the hint) */
  out?: string | null;
  /** namespace index of the line's nodes on the twin's server (for gateways that need an index) */
  namespaceIndex: number;
  /** broker the gateway publishes to, `mqtt://host:port` */
  broker: string;
  /** topic root the gateway publishes under */
  topic: string;
  /** OPC UA sampling interval [ms] */
  samplingMs: number;
  /** OPC UA publishing interval [ms] */
  publishingMs: number;
}

/** One written configuration. */
export interface Exported {
  /** suggested file name */
  file: string;
  text: string;
  /** files to write next to it: Node-RED's credentials file (`<out>_cred.json`) */
  extra: { file: string; text: string }[];
  /** how to use it, for the terminal: names the files written and the broker */
  hint: string;
}

/** Node-RED's credentials file of flows file `flows`: `flows.json` → `flows_cred.json`. */
export function credentialsFile(flows: string): string {
  const m = /^(.*?)(\.[^./\\]*)?$/.exec(flows);
  return `${m?.[1] ?? flows}_cred${m?.[2] ?? ''}`;
}

/** Samples an OPC UA monitored item queues between two publications: none lost in between. */
export function queueSize(samplingMs: number, publishingMs: number): number {
  return Math.max(1, Math.ceil(publishingMs / samplingMs));
}

/** The twin's absolute deadband of a float tag, or null (integers, strings, relative deadbands). */
function absDeadband(t: GatewayTag): number | null {
  return t.dataType === 'Double' && !t.relative && t.deadband > 0 ? t.deadband : null;
}

const TRUST = 'the twin refuses a certificate it does not know: after the gateway\'s first try, trust it with `twinline opcua trust --last-rejected` (it lands in <home>/opcua/pki/rejected)';

/** The file a format is written to by default. */
export function defaultFile(format: ExportFormat, scenario: string): string {
  return { 'node-red': `${scenario}.node-red.json`, telegraf: `${scenario}.telegraf.conf`, 'opc-publisher': `${scenario}.publishednodes.json` }[format];
}

/** Writes the configuration of `format` for the line in `cat`. */
export function exportConfig(format: ExportFormat, cat: Catalog, o: ExportOptions): Exported {
  if (cat.tags.length === 0) throw new TwinlineError('BAD_ARGUMENT', `line ${cat.scenario} has no tags to export`);
  const file = defaultFile(format, cat.scenario);
  const out = o.out ?? null;
  const secure = o.profile === 'hardened';
  const b = brokerParts(o.broker);
  const to = `${b.tls ? 'mqtts' : 'mqtt'}://${b.host}:${b.port}`;
  const trust = secure ? `; ${TRUST}` : '';
  switch (format) {
    case 'node-red': {
      const cred = out === null ? null : credentialsFile(out);
      const entries = {
        ...(secure ? { [nrId(cat, 'endpoint')]: { user: o.user, password: o.password ?? '' } } : {}),
        ...(o.mqttUser === undefined ? {} : { [nrId(cat, 'broker')]: { user: o.mqttUser, password: o.mqttPassword ?? '' } }),
      };
      const extra = cred === null || Object.keys(entries).length === 0 ? [] : [{ file: cred, text: `${JSON.stringify(entries, null, 2)}\n` }];
      const run = out === null ? `save it as flows.json (or Import → Clipboard) and run node-red flows.json` : `node-red ${out}`;
      const mq = o.mqttUser === undefined ? '' : cred === null ? '; with --out the broker account goes to <flows>_cred.json' : `; broker account ${o.mqttUser} in ${cred}${o.mqttPassword === undefined ? ' (put its password there, or export with TWINLINE_MQTT_PASSWORD set)' : ''}`;
      const creds = !secure ? mq : cred === null ? '; with --out the OPC UA user goes to <flows>_cred.json' : o.password === undefined ? `; OPC UA user ${o.user} in ${cred}: put its password there (or export with TWINLINE_OPCUA_PASSWORD set)` : `; OPC UA user ${o.user} and password in ${cred}`;
      return { file, extra, text: `${JSON.stringify(nodeRedFlow(cat, o), null, 2)}\n`, hint: `Node-RED (with node-red-contrib-opcua): ${run}${creds}${secure ? mq : ''}; publishes ${o.topic}/<station>/<tag> to ${to}${trust}` };
    }
    case 'telegraf':
      return { file, extra: [], text: telegrafConfig(cat, o), hint: `telegraf --config ${out ?? file}${secure ? ' (with TWINLINE_OPCUA_PASSWORD set)' : ''}; publishes JSON on ${o.topic}/<station> to ${to}${trust}` };
    case 'opc-publisher':
      return {
        file, extra: [], text: `${JSON.stringify(publishedNodes(cat, o), null, 2)}\n`,
        hint: `OPC Publisher: --pf=${out ?? file} --mqc=HostName=${b.host};Port=${b.port}${b.tls ? ';UseTls=true' : ''} --ttt=${o.topic}/{DataSetWriterName}; publishes {"<station>.<tag>": …} per station${trust}`,
      };
  }
}

const nodeIdOf = (t: GatewayTag, ns: number): string => `ns=${ns};s=${t.nodeId}`;

function stationsOf(cat: Catalog): Map<string, GatewayTag[]> {
  const out = new Map<string, GatewayTag[]>();
  for (const t of cat.tags) out.set(t.station, [...(out.get(t.station) ?? []), t]);
  return out;
}

function brokerParts(url: string): { host: string; port: number; tls: boolean } {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new TwinlineError('USAGE', `--broker ${url} is not a URL (mqtt://host:port)`);
  }
  const tls = u.protocol === 'mqtts:' || u.protocol === 'ssl:';
  return { host: u.hostname.replace(/^\[|\]$/g, ''), port: u.port === '' ? (tls ? 8883 : 1883) : Number(u.port), tls };
}

// ---------------------------------------------------------------- Node-RED

/** Stable 16-hex Node-RED node id. */
function nrId(cat: Catalog, role: string): string {
  return createHash('sha1').update(`twinline:${cat.scenario}:${role}`).digest('hex').slice(0, 16);
}

const NR_TYPES: Readonly<Record<GatewayTag['dataType'], string>> = { Double: 'Double', Int32: 'Int32', Boolean: 'Boolean', String: 'String' };

function nodeRedFlow(cat: Catalog, o: ExportOptions): Record<string, unknown>[] {
  const id = (role: string): string => nrId(cat, role);
  const tab = id('tab');
  const secure = o.profile === 'hardened';
  const b = brokerParts(o.broker);
  // publishing every sampling interval, the queue still holds a publishing interval's samples:
  // a gateway that falls behind for a moment loses nothing
  const queue = queueSize(o.samplingMs, o.publishingMs);
  const items = cat.tags.map((t) => {
    const band = absDeadband(t);
    return { topic: nodeIdOf(t, o.namespaceIndex), datatype: NR_TYPES[t.dataType], ...(band === null ? {} : { deadbandType: 'a', deadbandValue: band }) };
  });
  const topics = Object.fromEntries(cat.tags.map((t) => [t.nodeId, `${o.topic}/${t.slug}/${t.field}`]));
  return [
    {
      id: tab, type: 'tab', label: `Twinline ${cat.scenario} → MQTT`, disabled: false,
      info: `Reads every tag of the line ${cat.scenario} from ${o.endpoint} (namespace ${cat.namespaceUri}, index ${o.namespaceIndex}) by OPC UA monitored items (sampling and publishing every ${o.samplingMs} ms; node-red-contrib-opcua samples at 100 ms at the fastest; each float with the twin's absolute deadband) and publishes {value, sourceTimestamp} to ${o.topic}/<station>/<tag>. Needs node-red-contrib-opcua.${secure ? ` OPC UA user "${o.user}" (read-only); its credentials are in the flows' credentials file <flows>_cred.json.` : ''}`,
    },
    {
      id: id('endpoint'), type: 'OpcUa-Endpoint', endpoint: o.endpoint,
      secpol: secure ? 'Basic256Sha256' : 'None', secmode: secure ? 'SignAndEncrypt' : 'None',
      none: !secure, login: secure, usercert: false, usercertificate: '', userprivatekey: '',
    },
    {
      id: id('broker'), type: 'mqtt-broker', name: `${b.host}:${b.port}`, broker: b.host, port: String(b.port), tls: '', clientid: '',
      autoConnect: true, usetls: b.tls, protocolVersion: '4', keepalive: '60', cleansession: true, autoUnsubscribe: true,
      birthTopic: `${o.topic}/$status`, birthQos: '1', birthRetain: 'true', birthPayload: '{"online":true}', birthMsg: {},
      closeTopic: `${o.topic}/$status`, closeQos: '1', closeRetain: 'true', closePayload: '{"online":false}', closeMsg: {},
      willTopic: `${o.topic}/$status`, willQos: '1', willRetain: 'true', willPayload: '{"online":false}', willMsg: {},
    },
    {
      id: id('start'), type: 'inject', z: tab, name: 'subscribe at start', props: [{ p: 'payload' }], repeat: '', crontab: '',
      once: true, onceDelay: '2', topic: '', payload: '', payloadType: 'date', x: 140, y: 80, wires: [[id('items')]],
    },
    {
      id: id('items'), type: 'function', z: tab, name: `${items.length} tags`, outputs: 1, x: 330, y: 80, wires: [[id('client')]],
      // a deadband filter is refused on booleans and strings (BadFilterNotAllowed): those are
      // subscribed without one, on the same subscription (made by the first monitored number)
      func: `// one message per tag of ${cat.scenario}: numbers monitored (floats with the twin's deadband), then booleans and strings subscribed\nconst items = ${JSON.stringify(items)};\nconst msgs = items.map((i) => ({ ...i, interval: ${o.samplingMs}, queueSize: ${queue} }));\nconst numeric = (m) => m.datatype === 'Double' || m.datatype === 'Int32';\nreturn [[...msgs.filter(numeric), ...msgs.filter((m) => !numeric(m)).map((m) => ({ ...m, action: 'subscribe' }))]];`,
    },
    {
      id: id('client'), type: 'OpcUa-Client', z: tab, name: `Twinline ${cat.scenario}`, endpoint: id('endpoint'), action: 'monitor',
      deadbandtype: 'a', deadbandvalue: 0, time: o.samplingMs, timeUnit: 'ms', certificate: 'n', localfile: '', localkeyfile: '',
      securitymode: secure ? 'SignAndEncrypt' : 'None', securitypolicy: secure ? 'Basic256Sha256' : 'None', x: 540, y: 80, wires: [[id('topic')]],
    },
    {
      id: id('topic'), type: 'function', z: tab, name: 'to UNS topic', outputs: 1, x: 740, y: 80, wires: [[id('out')]],
      func: [
        `const topics = ${JSON.stringify(topics)};`,
        'const key = /;s=(.*)$/.exec(String(msg.topic))?.[1];',
        'if (key === undefined || !(key in topics)) return null;',
        'const v = msg.payload && typeof msg.payload === "object" && "value" in msg.payload ? msg.payload.value : msg.payload;',
        'return { topic: topics[key], payload: JSON.stringify({ value: v, sourceTimestamp: msg.sourceTimestamp ?? null }) };',
      ].join('\n'),
    },
    { id: id('out'), type: 'mqtt out', z: tab, name: o.topic, topic: '', qos: '1', retain: 'false', broker: id('broker'), x: 940, y: 80, wires: [] },
  ];
}

// ---------------------------------------------------------------- Telegraf

/** A TOML basic string. */
function q(s: string): string {
  return `"${s.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')}"`;
}

function telegrafConfig(cat: Catalog, o: ExportOptions): string {
  const secure = o.profile === 'hardened';
  const b = brokerParts(o.broker);
  const lines = [
    `# Telegraf: every tag of the Twinline line ${cat.scenario} from OPC UA to MQTT (JSON).`,
    `# OPC UA namespace ${cat.namespaceUri} has index ${o.namespaceIndex} on the twin's server.`,
    `# Written by twinline gateway export; ${cat.tags.length} tags.`,
    '',
    '[agent]',
    '  flush_interval = "1s"',
    '  metric_batch_size = 1000',
    '  omit_hostname = true',
    '',
    '[[inputs.opcua_listener]]',
    `  name = ${q('twinline')}`,
    `  endpoint = ${q(o.endpoint)}`,
    '  connect_timeout = "10s"',
    '  request_timeout = "5s"',
    `  subscription_interval = ${q(`${o.samplingMs}ms`)}`,
    `  security_policy = ${q(secure ? 'Basic256Sha256' : 'None')}`,
    `  security_mode = ${q(secure ? 'SignAndEncrypt' : 'None')}`,
    ...(secure
      ? ['  auth_method = "UserName"', `  username = ${q(o.user)}`, '  password = "${TWINLINE_OPCUA_PASSWORD}"']
      : ['  auth_method = "Anonymous"']),
    '  timestamp = "source"',
  ];
  for (const [station, tags] of stationsOf(cat)) {
    lines.push('', '  [[inputs.opcua_listener.group]]', `    name = ${q('twinline')}`, `    namespace = ${q(String(o.namespaceIndex))}`, '    identifier_type = "s"');
    lines.push(`    default_tags = { station = ${q(station)}, scenario = ${q(cat.scenario)} }`, '    nodes = [');
    for (const t of tags) {
      const band = absDeadband(t);
      const filter = band === null ? '' : `, data_change_filter = { trigger = "StatusValue", deadband_type = "Absolute", deadband_value = ${band} }`;
      lines.push(`      { name = ${q(t.key)}, identifier = ${q(t.nodeId)}, monitoring_params = { sampling_interval = ${q(`${o.samplingMs}ms`)}, queue_size = ${queueSize(o.samplingMs, o.publishingMs)}, discard_oldest = true${filter} } },`);
    }
    lines.push('    ]');
  }
  lines.push(
    '',
    '[[outputs.mqtt]]',
    `  servers = [${q(`${b.tls ? 'ssl' : 'tcp'}://${b.host.includes(':') ? `[${b.host}]` : b.host}:${b.port}`)}]`,
    `  topic = ${q(`${o.topic}/{{ .Tag "station" }}`)}`,
    '  qos = 1',
    '  data_format = "json"',
    '  json_timestamp_units = "1ms"',
    '',
  );
  return lines.join('\n');
}

// ---------------------------------------------------------------- OPC Publisher

function publishedNodes(cat: Catalog, o: ExportOptions): Record<string, unknown>[] {
  const secure = o.profile === 'hardened';
  return [...stationsOf(cat)].map(([station, tags]) => ({
    EndpointUrl: o.endpoint,
    UseSecurity: secure,
    ...(secure ? { OpcAuthenticationMode: 'UsernamePassword', OpcAuthenticationUsername: o.user } : { OpcAuthenticationMode: 'Anonymous' }),
    DataSetWriterGroup: `twinline-${cat.scenario}`,
    DataSetWriterId: station,
    DataSetPublishingInterval: o.publishingMs,
    OpcNodes: tags.map((t) => ({
      Id: `nsu=${cat.namespaceUri};s=${t.nodeId}`,
      DataSetFieldId: t.key,
      DisplayName: t.key,
      OpcSamplingInterval: o.samplingMs,
      OpcPublishingInterval: o.publishingMs,
      // every sample between two publications is kept, so no change of a fast tag is lost
      QueueSize: queueSize(o.samplingMs, o.publishingMs),
      ...(absDeadband(t) === null ? {} : { DeadbandType: 'Absolute', DeadbandValue: absDeadband(t) }),
    })),
  }));
}
