/**
 * `twinline gateway export`: ready configurations that make a real gateway read the line over
 * OPC UA and publish it to MQTT: a Node-RED flow (node-red-contrib-opcua → mqtt out), a
 * Telegraf config (inputs.opcua_listener → outputs.mqtt, JSON) and an Azure OPC Publisher
 * published-nodes file. Every tag of the catalog is in each; passwords never are (Telegraf
 * reads `${TWINLINE_OPCUA_PASSWORD}` from its environment, Node-RED and OPC Publisher ask for
 * it when the file is imported). Output is deterministic: the same line and options give the
 * same bytes, so exports can be committed and diffed.
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
  /** OPC UA user for the hardened profile */
  user: string;
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
  /** how to use it, for the terminal */
  hint: string;
}

/** The file a format is written to by default. */
export function defaultFile(format: ExportFormat, scenario: string): string {
  return { 'node-red': `${scenario}.node-red.json`, telegraf: `${scenario}.telegraf.conf`, 'opc-publisher': `${scenario}.publishednodes.json` }[format];
}

/** Writes the configuration of `format` for the line in `cat`. */
export function exportConfig(format: ExportFormat, cat: Catalog, o: ExportOptions): Exported {
  if (cat.tags.length === 0) throw new TwinlineError('BAD_ARGUMENT', `line ${cat.scenario} has no tags to export`);
  const file = defaultFile(format, cat.scenario);
  switch (format) {
    case 'node-red':
      return { file, text: `${JSON.stringify(nodeRedFlow(cat, o), null, 2)}\n`, hint: `Node-RED: Import → ${file} (needs node-red-contrib-opcua); publishes ${o.topic}/<station>/<tag>` };
    case 'telegraf':
      return { file, text: telegrafConfig(cat, o), hint: `telegraf --config ${file}${o.profile === 'hardened' ? ' (with TWINLINE_OPCUA_PASSWORD set)' : ''}; publishes JSON on ${o.topic}/<station>` };
    case 'opc-publisher':
      return {
        file, text: `${JSON.stringify(publishedNodes(cat, o), null, 2)}\n`,
        hint: `OPC Publisher: --pf=${file} --mqc=HostName=<broker host>;Port=<port> --ttt=${o.topic}/{DataSetWriterName}; publishes {"<station>.<tag>": …} per station`,
      };
  }
}

const nodeIdOf = (t: GatewayTag, ns: number): string => `ns=${ns};s=${t.key}`;

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
  const items = cat.tags.map((t) => ({ topic: nodeIdOf(t, o.namespaceIndex), datatype: NR_TYPES[t.dataType] }));
  const topics = Object.fromEntries(cat.tags.map((t) => [t.key, `${o.topic}/${t.slug}/${t.field}`]));
  return [
    {
      id: tab, type: 'tab', label: `Twinline ${cat.scenario} → MQTT`, disabled: false,
      info: `Reads every tag of the line ${cat.scenario} from ${o.endpoint} (namespace ${cat.namespaceUri}, index ${o.namespaceIndex}) by OPC UA subscription every ${o.samplingMs} ms and publishes {value, sourceTimestamp} to ${o.topic}/<station>/<tag>. Needs node-red-contrib-opcua.${secure ? ` Enter the password of OPC UA user "${o.user}" in the endpoint node after import.` : ''}`,
    },
    {
      id: id('endpoint'), type: 'OpcUa-Endpoint', endpoint: o.endpoint,
      secpol: secure ? 'Basic256Sha256' : 'None', secmode: secure ? 'SignAndEncrypt' : 'None',
      none: !secure, login: secure, usercert: false, usercertificate: '', userprivatekey: '',
      ...(secure ? { credentials: { user: o.user, password: '' } } : {}),
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
      func: `// one subscribe message per tag of ${cat.scenario}\nconst items = ${JSON.stringify(items)};\nreturn [items.map((i) => ({ topic: i.topic, datatype: i.datatype }))];`,
    },
    {
      id: id('client'), type: 'OpcUa-Client', z: tab, name: `Twinline ${cat.scenario}`, endpoint: id('endpoint'), action: 'subscribe',
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
    for (const t of tags) lines.push(`      { name = ${q(t.key)}, identifier = ${q(t.key)} },`);
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
      Id: `nsu=${cat.namespaceUri};s=${t.key}`,
      DataSetFieldId: t.key,
      DisplayName: t.key,
      OpcSamplingInterval: o.samplingMs,
      OpcPublishingInterval: o.publishingMs,
    })),
  }));
}
