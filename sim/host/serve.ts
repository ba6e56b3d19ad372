/**
 * `twinline serve`: runs a line in real time in a worker thread and serves it: the web app, a
 * REST API and live socket (`rest.ts`, authenticated against the account store), OPC UA and
 * MQTT, and Modbus/TCP when asked. Every face takes its accounts from one store in the home folder (`.twinline/`) and
 * every change to the line goes through the same command queue with the sender's principal
 * and role. The event log, audit trail and command log are appended to the run's folder.
 */
import { createServer } from 'node:http';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseOptions } from './args.ts';
import { TwinlineError } from '../core/errors.ts';
import type { SimEvent } from '../core/events.ts';
import type { KpiBase } from '../core/kpi.ts';
import { MAX_SERVE_STATIONS, MAX_STATIONS } from '../line/limits.ts';
import { parseScenario } from '../line/parse.ts';
import { loadRemote, spawnNodeSim, type NodeSim } from '../worker/node-host.ts';
import type { Speed } from '../worker/api.ts';
import { openReader, readTick } from '../worker/reader.ts';
import { lineInfo, partCapacity } from '../worker/twin-view.ts';
import { listen } from './ports.ts';
import { loadScenario } from './record.ts';
import { startOpcua, type OpcuaFace } from '../protocols/opcua/server.ts';
import { startMqtt, type MqttFace, type MqttOptions, type TagReport } from '../protocols/mqtt/face.ts';
import { MQTT_USAGE, mqttFromFlags } from '../protocols/mqtt/flags.ts';
import { startModbus, type ModbusFace } from '../protocols/modbus/server.ts';
import { MODBUS_USAGE, modbusFromFlags, type ModbusFlags } from '../protocols/modbus/flags.ts';
import { PeerCounter } from '../protocols/mqtt/limits.ts';
import { SERVE_FLAGS } from './serve-flags.ts';
import { NetworkMonitor } from './network.ts';
import { attachLiveSocket } from './live-socket.ts';
import { AccountStore, INITIAL_PASSWORDS_FILE } from './accounts.ts';
import { homeDir } from './home.ts';
import { LoginGuard } from './login-guard.ts';
import { TokenStore, type HttpAuth, type Profile } from './http-auth.ts';
import { HostNames, isLoopback } from './http-guard.ts';
import { CappedLog, RunLog, runId } from './run-log.ts';
import { DEFAULT_RECORD_MS, describeRun, MAX_RECORD_MS, MIN_RECORD_MS, valueColumns, ValueRecorder } from './value-recorder.ts';
import { DEFAULT_HISTORY_HOURS, Historian, MAX_HISTORY_HOURS } from './historian.ts';
import { HISTORIAN_CHOICES, isStoreSpec, openStore } from './historian-store.ts';
import { handle, RefusalAudit, refuse, reply, stateBody, type RestContext, type View } from './rest.ts';
import { Range } from './range.ts';
import { Exercises } from './exercises.ts';
import { Workshop } from './workshop.ts';
import { MAX_SERVE_WARMUP_H, parseWarmup, untilStopped } from './args.ts';
import { LineStreams, subjectOf } from './streams.ts';
import { DEFAULT_SNAPSHOT_S, describeResume, findRun, keepKpiStart, keepScenario, loggedCommandCount, loggedCommandsAfter, loggedEventsAfter, MAX_SNAPSHOT_S, MIN_SNAPSHOT_S, recordResume, resumeLine, Snapshotter, type ResumableRun, type ResumeReport } from './resume.ts';
import { DEFAULT_DETECTORS, loadDetectorConfig } from '../../security/detectors/config.ts';
import { DetectorEngine } from '../../security/detectors/engine.ts';
import { AlertLog } from '../../security/detectors/alert-log.ts';
import { DEFAULT_PLAYBOOKS } from '../../security/playbooks/load.ts';
import { closesMqtt, closesOpcua, closesRest, faceGates, loadPlaybooks, startResponse } from './respond-host.ts';

/** The line `serve` runs when none is given. */
export const DEFAULT_SCENARIO = fileURLToPath(new URL('../../scenarios/ceramic-after.yaml', import.meta.url));

export const SERVE_USAGE = `usage: twinline serve [scenario.yaml] [--http-port N] [--opcua-port N] [--modbus-port N] [--profile open|hardened] [--host ADDR] [--seed S] [--speed N]

  scenario.yaml   line to run (default: scenarios/ceramic-after.yaml)
  --http-port N   web app and REST API (default 8080; a taken default falls back to a free port)
  --opcua-port N  OPC UA server (default 4840; a taken default falls back to a free port)
  --profile P     security of every face: hardened (default: logins on REST, OPC UA SignAndEncrypt
                  with user accounts and a trust list, MQTT accounts) or open (classroom only:
                  anonymous clients may operate the line; refused with a non-loopback --host
                  unless --expose-open is given too)
  --home DIR      accounts, PKI and run records (default ./.twinline, or $TWINLINE_HOME)
  --host ADDR     address to listen on (default 127.0.0.1; anything else is announced loudly)
  --allow-host H  another name the web app is reached by (a proxy, a DNS name); repeatable
  --allow-origin O  another browser origin allowed to call the API (http://name:port); repeatable
  --seed S        random seed (default: the scenario's)
  --speed N       N × real time (default 1)
  --warmup D      warm start: run D first as fast as the machine can (e.g. '3h'; a bare number is hours;
                  at most 24 h), then serve from there with the KPIs counting from the end of it (the line
                  is full and its figures mean something from the first minute; default 0: start empty)
  --detectors F   detector configuration (default security/detectors/default.yaml; off: none);
                  alerts go to alerts.ndjson in the run's folder and GET /api/alerts
  --playbooks DIR incident playbooks and levels (default security/playbooks; off: none): GET /api/incident
                  grades the measured impact; containment actions: twinline respond --help
  --exercises DIR scripted exercises the instructor may start from the web twin (default security/exercises;
                  the files whose scenario is this line's): GET /api/exercises
  --lessons DIR   workshop lessons the instructor may run from the web twin (default scenarios/lessons; the
                  lessons whose line is this one): GET /api/lesson
  --record-values MS  sample every station's numeric fields every MS of wall time into values.ndjson in the
                  run's folder (default ${DEFAULT_RECORD_MS}; ${MIN_RECORD_MS}–${MAX_RECORD_MS}; 0: off); with attacks.ndjson (the range's runs)
                  they make a labelled dataset: twinline dataset --help
  --historian H   where the sampled values and the events are kept for GET /api/history and OPC UA HistoryRead:
                  sqlite (default: history.sqlite in the run's folder), a file ending .sqlite or .db,
                  postgres://user@host:port/database (tables twinline_*, shared by runs), or off
  --snapshot-every S  a snapshot of the whole line into the run's folder every S seconds of wall time (default
                  ${DEFAULT_SNAPSHOT_S}; ${MIN_SNAPSHOT_S}–${MAX_SNAPSHOT_S}), at the start and at a clean stop
  --resume RUN    continue a run after its host stopped or was killed (RUN: its folder, or its name under
                  <home>/runs): its scenario and seed, its latest snapshot, then its logged commands replayed to
                  the last tick it recorded, re-derived events checked against the log; its folder and historian go on
  --nats URL[,URL…]  the line's events, audit trail and commands also to NATS JetStream (stream TWINLINE_<LINE>,
                  subjects twinline.<line>.events|audit|commands; the run folder keeps them as ever); several
                  URLs: a cluster's nodes, the first tried first
  --nats-replicas N  replicas of that stream (default 1; 3 on a three-node cluster: nothing acknowledged is lost
                  when a node dies)
  --history-hours N  how long the historian keeps rows [wall-clock h] (default ${DEFAULT_HISTORY_HOURS}; at most ${MAX_HISTORY_HOURS})
${MQTT_USAGE}
${MODBUS_USAGE}

Accounts (one store for REST, the live socket, OPC UA and MQTT): twinline accounts --help
REST API (log in first: POST /api/login {"user","password"} → {"token"}; then Authorization: Bearer <token>,
  or HTTP Basic): GET /api/line, GET /api/state, GET /api/streams, GET /api/events?since=SEQ&limit=N (oldest N after SEQ),
  POST /api/commands {"target":"kiln","command":"stop"} (JSON only), GET /api/network, GET /api/whoami,
  GET /api/history (the historian's tags), GET /api/history?tag=kiln.temp1&from=T&to=T&limit=N&order=asc|desc
  (stored values; T: ms since the epoch or ISO 8601), GET /api/history/events?from=T&to=T&after=SEQ&type=&station=,
  GET /api/alerts?since=ID&from=MS&acks=SEQ (the detectors' alerts and their acknowledgements; every role
  may read them), POST /api/alerts/ack {"id"} (operator and above).
  Security range (instructor only): GET /api/attacks, POST /api/attacks/run {"id","station"?},
  GET /api/attacks/runs, GET /api/attacks/runs/<n> (status and report). Exercises (instructor only):
  GET /api/exercises, POST /api/exercises/start {"id"}, POST /api/exercises/pause|resume|end,
  GET /api/exercises/current, GET /api/exercises/report?lang=en|zh. Run control (instructor only):
  POST /api/run {"speed"?: 1–600, "running"?: true|false} or {"jump": "shift" | S} (to the end of the shift, or S
  simulated seconds on, as fast as the line steps; refused while an exercise runs); GET /api/run.
  Lessons: every role reads GET /api/lesson and answers POST /api/lesson/answer {"checkpoint","answer"}; the
  instructor runs POST /api/lesson/start {"id"}, POST /api/lesson/step {"step"}, POST /api/lesson/end,
  GET /api/lesson/report?format=json|csv.
  Incident response (engineer and instructor): POST /api/respond/<action> {…} (ban, unban, close-sessions,
  isolate, reconnect, stop-station, resume-station, snapshot, restore-setpoints, note); every role reads
  GET /api/respond, GET /api/respond/log?since=N, GET /api/incident?from=MS&to=MS, GET /api/playbooks.
  WebSocket /api/live?hz=N (subprotocols "twinline.v1", "bearer.<token>"): {"type":"state",…} N times a
  second (1–50, default 20) and {"type":"events","events":[…]} as the line logs them.`;

/** A running server; `close()` shuts it down. */
export interface Served {
  url: string;
  /** OPC UA endpoint, or null when the face is off */
  opcua: string | null;
  /** the MQTT face, or null when it is off */
  mqtt: MqttFace | null;
  /** Modbus/TCP endpoint (`modbus://host:port`), or null when the face is off */
  modbus: string | null;
  /** the run's folder (events, audit trail, commands) */
  runDir: string;
  close(): Promise<void>;
}

/** Options of `startServer`. */
export interface ServeOptions {
  file: string;
  httpPort: number;
  /** the port was given explicitly (a taken port is then an error) */
  explicitPort: boolean;
  host: string;
  seed?: number;
  speed: Speed;
  log: (line: string) => void;
  /** security of every face (default hardened) */
  profile?: Profile;
  /** accounts, PKI and runs (default `./.twinline`) */
  home?: string;
  /** the account store (default: the home's, created with one account per role when missing) */
  accounts?: AccountStore;
  /** more names and browser origins the HTTP plane accepts */
  allowHosts?: readonly string[];
  allowOrigins?: readonly string[];
  /** the OPC UA face; omitted: no OPC UA server */
  opcua?: { port: number; explicitPort: boolean };
  /** the MQTT face; omitted: none */
  mqtt?: Omit<MqttOptions, 'spec' | 'api' | 'log' | 'accounts' | 'profile' | 'guard'>;
  /** the Modbus/TCP face; omitted: none */
  modbus?: ModbusFlags;
  /** detector configuration file; omitted: the built-in one; null: no detectors */
  detectors?: string | null;
  /** incident playbooks' folder; omitted: the built-in one; null: none (the impact is measured, not graded) */
  playbooks?: string | null;
  /** sample period of values.ndjson [ms]; omitted: DEFAULT_RECORD_MS; 0: no values recorded */
  recordValuesMs?: number;
  /** the exercise files' folder; omitted: the built-in one */
  exercises?: string;
  /** the lesson files' folder; omitted: the built-in one */
  lessons?: string;
  /** warm start: simulated seconds run before serving, left out of the KPIs; omitted: 0 */
  warmupS?: number;
  /** the historian's store (historian-store.ts HISTORIAN_CHOICES); omitted: `sqlite` */
  historian?: string;
  /** the historian's retention [h]; omitted: DEFAULT_HISTORY_HOURS */
  historyHours?: number;
  /** the line's snapshot period [s of wall time]; omitted: DEFAULT_SNAPSHOT_S */
  snapshotEveryS?: number;
  /** continue this run (its folder, scenario and snapshot: resume.ts) instead of starting one; `file` and `seed` are the run's */
  resume?: ResumableRun;
  /** the line's events, audit trail and commands also to JetStream (streams.ts); omitted: the run folder only */
  nats?: { url: string; replicas: number };
}

/** how often the host drains the line's events to the faces and the run log [ms] */
const PUMP_MS = 200;
/** open HTTP connections (live sockets included) one address may hold */
export const HTTP_CONNECTIONS_PER_ADDRESS = 128;

/** ticks per step() call of a warm-up: a simulated minute at 1 ms, its events drained in between */
const WARM_CHUNK = 60_000;
/** how long a stopped host may take to end once every face and record is closed [ms] */
const EXIT_GRACE_MS = 2000;

/** Runs `ticks` as fast as possible and marks the KPIs' start there; returns the events it logged and that start. */
async function warmUp(api: NodeSim['api'], ticks: number): Promise<{ events: SimEvent[]; kpiStart: KpiBase | null }> {
  if (ticks <= 0) return { events: [], kpiStart: null };
  const events: SimEvent[] = [];
  for (let t = 0; t < ticks; ) {
    t = await api.step(Math.min(WARM_CHUNK, ticks - t));
    for (const e of await api.drainEvents()) events.push(e);
  }
  await api.markKpiStart();
  return { events, kpiStart: await api.kpiStart() };
}

/** Starts the worker and the HTTP server; resolves once both are up. */
export async function startServer(o: ServeOptions): Promise<Served> {
  const profile = o.profile ?? 'hardened';
  const home = o.home ?? join(process.cwd(), '.twinline');
  const loaded = o.resume !== undefined ? { text: o.resume.scenarioText, file: o.resume.description.scenario.file } : loadScenario(o.file);
  const text = loaded.text;
  o = { ...o, file: loaded.file };
  const spec = parseScenario(text, o.file);
  if (spec.stations.length > MAX_SERVE_STATIONS) {
    throw new TwinlineError('CAPACITY', `${o.file}: ${spec.stations.length.toLocaleString('en-US')} stations; serve puts at most ${MAX_SERVE_STATIONS} behind its OPC UA, MQTT and web faces (limit MAX_SERVE_STATIONS); twinline run simulates up to ${MAX_STATIONS.toLocaleString('en-US')} without faces`);
  }
  // a bad detector file is refused before anything starts
  const detectorConfig = o.detectors === null ? null : loadDetectorConfig(o.detectors ?? DEFAULT_DETECTORS);
  // and so are bad playbooks
  const book = loadPlaybooks(o.playbooks, detectorConfig);
  const accounts = o.accounts ?? AccountStore.open(home, { create: true });
  const guard = new LoginGuard();
  const sim = spawnNodeSim();
  let warmEvents: SimEvent[] = [];
  let resumed: ResumeReport | null = null;
  let kpiStart: KpiBase | null = null;
  try {
    const info = await loadRemote(sim.api, text, o.file, o.seed === undefined ? {} : { seed: o.seed });
    if (o.resume !== undefined) {
      // the run's line rebuilt from its snapshot and logged commands; events it derives beyond the log are new
      const r = await resumeLine(sim.api, o.resume);
      resumed = r.report;
      warmEvents = r.fresh;
    } else {
      ({ events: warmEvents, kpiStart } = await warmUp(sim.api, Math.round((o.warmupS ?? 0) / info.dt)));
    }
    await sim.api.setSpeed(o.speed);
    await sim.api.start();
  } catch (e) {
    await sim.terminate();
    throw e;
  }
  // a zero-copy reader over the worker's shared buffer: tags and part places for the 3D view
  const reader = openReader(await sim.api.shared());
  const view: View = { reader, line: lineInfo(spec, reader), parts: new Float64Array(3 * partCapacity(reader)) };
  const runLog = new RunLog({ dir: o.resume?.dir ?? join(home, 'runs', runId(spec.id)) });
  // the commands the replay applied again are in commands.ndjson already
  if (resumed !== null) runLog.commandsWritten = (await sim.api.commands(0)).length;
  // what was run, and the process values at a steady wall-time rate (values.ndjson), for datasets
  const recordMs = o.recordValuesMs ?? DEFAULT_RECORD_MS;
  const columns = valueColumns(reader, view.line);
  if (o.resume !== undefined && resumed !== null) {
    recordResume(runLog.dir, o.resume.description, resumed);
  } else {
    describeRun(runLog.dir, {
      scenario: { id: spec.id, title: spec.title.en, file: o.file, seed: o.seed ?? spec.seed }, speed: o.speed, profile, startedAtMs: Date.now(),
      dt: reader.dt, sampleMs: recordMs, columns,
    });
    keepScenario(runLog.dir, text);
    if (kpiStart !== null) keepKpiStart(runLog.dir, kpiStart);
  }
  // the historian: values (as sampled below) and events in a database, for GET /api/history and OPC UA HistoryRead
  let historian: Historian | null = null;
  try {
    const store = openStore(o.historian ?? 'sqlite', runLog.dir);
    if (store !== null) historian = await Historian.open({ store, run: basename(runLog.dir), scenario: spec.id, columns: recordMs > 0 ? columns : [], dt: reader.dt, hours: o.historyHours ?? DEFAULT_HISTORY_HOURS });
  } catch (e) {
    runLog.close();
    await sim.terminate();
    throw e;
  }
  // the line's records in JetStream too, what the stream lacks of the run's log first (after a kill)
  let streams: LineStreams | null = null;
  if (o.nats !== undefined) {
    try {
      const dir = runLog.dir;
      streams = await LineStreams.open({
        // a command's id is its line in commands.ndjson, counted here: a resumed line's command log (what it replayed) need not hold as many
        url: o.nats.url, line: spec.id, run: basename(dir), commandsLogged: resumed !== null ? loggedCommandCount(dir) : 0, replicas: o.nats.replicas,
        loggedEvents: (after) => loggedEventsAfter(dir, after), loggedCommands: (after, total) => loggedCommandsAfter(dir, total, after), log: o.log,
      });
    } catch (e) {
      await historian?.close();
      runLog.close();
      await sim.terminate();
      throw e;
    }
  }
  const values = recordMs > 0 ? new ValueRecorder({
    dir: runLog.dir, reader, columns, stationIndex: new Map(spec.stations.map((s, k) => [s.id, k])), everyMs: recordMs,
    ...(historian !== null ? { onSample: historian.sample.bind(historian) } : {}),
  }) : null;
  // the range's attack runs, as they start and end: the labels of a dataset
  const attackLog = new CappedLog(join(runLog.dir, 'attacks.ndjson'));
  // every protocol face sees the same drained events as the run log
  const fanout: ((evs: readonly SimEvent[]) => void)[] = [runLog.onEvents];
  if (historian !== null) fanout.push(historian.onEvents.bind(historian));
  if (streams !== null) fanout.push(streams.onEvents);
  // the detectors read the same drained events (the audit trail among them) as they are written
  const stationIndex = new Map(spec.stations.map((s, k) => [s.id, k]));
  const engine = detectorConfig === null ? null : new DetectorEngine(detectorConfig, {
    stations: spec.stations.map((s) => ({ id: s.id, kind: s.kind })),
    read: (station, field) => {
      const k = stationIndex.get(station);
      const v = k === undefined ? NaN : reader.read(k, field);
      return Number.isFinite(v) ? v : null;
    },
    writeLevel: (station, field) => {
      const k = stationIndex.get(station);
      const f = k === undefined ? undefined : reader.fieldSpec(k, field);
      return f === undefined || f.access !== 'rw' ? null : (f.write ?? 'engineer');
    },
  });
  const alerts = new AlertLog(runLog.dir, engine?.names ?? []);
  // the security range (made once the HTTP port is bound): alerts raised during its run are marked with it
  let range: Range | null = null;
  let exercises: Exercises | null = null;
  let workshop: Workshop | null = null;
  if (engine !== null) fanout.push((evs) => alerts.add(engine.onEvents(evs), range?.current() ?? null));
  let opcua: OpcuaFace | null = null;
  let mqtt: MqttFace | null = null;
  let modbus: ModbusFace | null = null;
  // incident response: what the faces consult before they admit a client or take a command
  const response = startResponse({
    api: sim.api, reader, stations: spec.stations.map((s) => s.id), runDir: runLog.dir, book, alerts: engine === null ? null : alerts,
    accountRole: (user) => accounts.list().find((a) => a.user === user)?.role ?? null,
    faces: () => ({ opcua: opcua !== null, mqtt: mqtt !== null, modbus: modbus !== null }),
    audit: (a) => void sim.api.audit(a).catch(() => undefined),
  });
  const shut = response.containment;
  fanout.push(response.onEvents);
  // one drain at a time, so writes never interleave; callers that arrive while a drain runs
  // share the next one (a flood of commands costs one drain per round, not one per command)
  let running: Promise<void> = Promise.resolve();
  let next: Promise<void> | null = null;
  const drain = async (): Promise<void> => {
    const evs = await sim.api.drainEvents();
    for (const f of fanout) f(evs);
    const cmds = await sim.api.commands(runLog.commandsWritten);
    runLog.onCommands(cmds);
    streams?.onCommands(cmds);
  };
  const flush = (): Promise<void> => {
    if (next !== null) return next;
    const mine = running.then(() => {
      next = null;
      return drain();
    }).catch(() => undefined);
    next = mine;
    running = mine;
    return mine;
  };
  const pump = setInterval(() => void flush(), PUMP_MS);

  let url: string | null = null;
  // rates and unusual traffic per face for GET /api/network (see network.ts)
  const net = new NetworkMonitor({
    stations: spec.stations.map((s) => s.id), http: () => url, opcua: () => opcua?.endpoint ?? null,
    mqtt: () => (mqtt === null ? null : { face: mqtt, embedded: o.mqtt?.url === undefined }),
  });
  fanout.push(net.onEvents);
  // the warm-up's events go to the run log (and the detectors) as if the line had run them live
  if (warmEvents.length > 0) for (const f of fanout) f(warmEvents);
  warmEvents = [];
  // the line's snapshot now and periodically: what serve --resume rebuilds it from
  const snapshots = new Snapshotter(sim.api, runLog.dir, o.snapshotEveryS ?? DEFAULT_SNAPSHOT_S, flush);
  void snapshots.take();
  const auth: HttpAuth = { profile, accounts, guard, tokens: new TokenStore(accounts), gate: shut };
  closesRest(shut, auth.tokens);
  const refusals = new RefusalAudit((a) => void sim.api.audit(a).catch(() => undefined));
  let ctx: RestContext | null = null;
  const server = createServer((req, res) => {
    if (req.url?.startsWith('/api/') === true) net.request();
    if (ctx === null) return refuse(res, { status: 503, code: 'STARTING', message: 'the twin is starting' });
    handle(req, res, ctx, refusals).catch((e: unknown) => {
      reply(res, 500, { error: { code: 'INTERNAL', message: e instanceof Error ? e.message : String(e) } });
    });
  });
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  // one address may not hold every socket of the host (idle connections cost a file descriptor
  // each until the header timeout); a browser opens ~6, the bench's command flood 64
  const conns = new PeerCounter(HTTP_CONNECTIONS_PER_ADDRESS);
  server.on('connection', (sock) => {
    const peer = sock.remoteAddress ?? '?';
    if (!conns.enter(peer)) {
      refusals.note(`${peer}|connections`, { source: 'api', principal: `?@${peer}`, action: 'connect', outcome: 'denied', reason: `more than ${HTTP_CONNECTIONS_PER_ADDRESS} HTTP connections from ${peer}` });
      sock.destroy();
      return;
    }
    sock.once('close', () => conns.leave(peer));
  });
  let bound;
  let live: ReturnType<typeof attachLiveSocket> | null = null;
  try {
    bound = await listen(server, o.httpPort, o.host, o.explicitPort, '--http-port');
    const hosts = new HostNames(o.host, bound.port, o.allowHosts, o.allowOrigins);
    // the security range runs its attacks from this process against the faces bound here
    const theRange = new Range({
      home, stations: spec.stations.map((s) => s.id), tokens: auth.tokens, flush, net,
      defaultStation: (spec.stations.find((s) => s.kind === 'kiln') ?? spec.stations.find((s) => s.kind !== 'source' && s.kind !== 'sink') ?? spec.stations[0])?.id ?? '',
      faces: () => ({ http: url, opcua: opcua?.endpoint ?? null, mqtt: mqtt?.url ?? null, modbus: modbus?.url ?? null }),
      audit: (a) => void sim.api.audit(a).catch(() => undefined),
      clock: () => {
        const tick = readTick(reader);
        return { tick, simS: Math.round(tick * reader.dt * 1e6) / 1e6 };
      },
      record: (r) => {
        try {
          attackLog.write(r);
        } catch (e) {
          o.log(`  !!! attacks.ndjson: run ${r.run} not recorded (${e instanceof Error ? e.message : String(e)})`);
        }
      },
    });
    range = theRange;
    exercises = new Exercises({
      scenario: spec.id, runDir: runLog.dir, web: () => url, tokens: auth.tokens,
      pauseLine: (paused) => (paused ? sim.api.pause() : sim.api.start()),
      audit: (a) => void sim.api.audit(a).catch(() => undefined),
      ...(o.exercises === undefined ? {} : { dir: o.exercises }),
    });
    workshop = new Workshop({
      spec, runDir: runLog.dir, audit: (a) => void sim.api.audit(a).catch(() => undefined),
      state: async () => {
        const st = await sim.api.state();
        return { kpis: st.kpis, simTimeS: st.simTimeS };
      },
      ...(o.lessons === undefined ? {} : { dirs: { dir: o.lessons } }),
    });
    ctx = { spec, api: sim.api, view, log: runLog, auth, hosts, network: () => net.report(), flush, range: theRange, exercises, alerts, respond: response.responder, workshop, ...(historian !== null ? { history: historian } : {}), ...(streams !== null ? { streams } : {}) };
    // the attached page's push feed: state at a steady rate and the drained events
    live = attachLiveSocket(server, {
      state: () => stateBody(spec, sim.api, view), sent: () => net.push(), hosts, auth,
      refused: (key, a) => refusals.note(key, a),
    });
    fanout.push(live.onEvents);
    // every face asks incident response before it admits a client or takes a command, and lets a ban close what it holds
    const gates = faceGates(shut);
    if (o.opcua !== undefined) {
      opcua = await startOpcua({ spec, api: sim.api, host: o.host, profile, runDir: join(home, 'opcua'), accounts, guard, gate: gates.opcua, ...o.opcua, ...(historian !== null ? { history: historian } : {}) });
      fanout.push(opcua.onEvents);
      closesOpcua(shut, opcua);
    }
    if (o.mqtt !== undefined) {
      // values others report on the twin's topics at an external broker: the detectors' physics residuals
      const onReport = engine?.watchesReports === true ? (r: TagReport): void => alerts.add(engine.onReports([{ ...r, source: 'mqtt' }]), range?.current() ?? null) : undefined;
      mqtt = await startMqtt({ ...o.mqtt, spec, api: sim.api, log: o.log, accounts, profile, guard, gate: gates.mqtt, ...(onReport === undefined ? {} : { onReport }) });
      closesMqtt(shut, mqtt);
    }
    if (o.modbus !== undefined) modbus = await startModbus({ ...o.modbus, spec, api: sim.api, reader, host: o.host, log: o.log, gate: gates.modbus });
  } catch (e) {
    clearInterval(pump);
    net.close();
    live?.close();
    await mqtt?.close();
    await opcua?.close();
    server.close();
    await snapshots.close();
    await sim.terminate();
    values?.close();
    await historian?.close();
    await streams?.close();
    attackLog.close();
    runLog.close();
    alerts.close();
    response.close();
    throw e;
  }
  url = `http://${o.host.includes(':') ? `[${o.host}]` : o.host}:${bound.port}/`;
  banner(o, { spec, url, bound, opcua, mqtt, modbus, profile, home, accounts, runDir: runLog.dir, historian, resumed, dt: reader.dt, streams });
  return {
    url,
    opcua: opcua?.endpoint ?? null,
    mqtt,
    modbus: modbus?.url ?? null,
    runDir: runLog.dir,
    async close() {
      exercises?.close();
      workshop?.close();
      clearInterval(pump);
      net.close();
      live?.close();
      await modbus?.close();
      await mqtt?.close();
      await opcua?.close();
      await new Promise<void>((r) => {
        server.close(() => r());
        server.closeAllConnections();
      });
      await flush();
      // a clean stop leaves a snapshot of the line as it stopped
      await snapshots.take();
      await snapshots.close();
      values?.close();
      await historian?.close();
      await streams?.close();
      attackLog.close();
      await sim.terminate();
      runLog.close();
      alerts.close();
      response.close();
    },
  };
}

/**
 * Prints, in one block, what the host serves on the ports it actually took (and which defaults
 * were taken by another program), where its accounts and their passwords are — on every start,
 * not only the first — and where the run's records go; then the faces' notes and warnings.
 */
function banner(o: ServeOptions, b: { spec: ReturnType<typeof parseScenario>; url: string; bound: { port: number; fellBackFrom: number | null }; opcua: OpcuaFace | null; mqtt: MqttFace | null; modbus: ModbusFace | null; profile: Profile; home: string; accounts: AccountStore; runDir: string; historian: Historian | null; resumed: ResumeReport | null; dt: number; streams: LineStreams | null }): void {
  const { spec, url, bound, opcua, mqtt } = b;
  const moved: string[] = [];
  const taken = (from: number | null, to: number | string, what: string, flag: string): string => {
    if (from === null) return '';
    moved.push(`  !!! port ${from} (${what}) is used by another program${what.startsWith('MQTT') ? ' (a system Mosquitto?)' : ''}: ${what} is on ${to} instead; point clients there, or free ${from}, or choose a port with ${flag}`);
    return `   (port ${from} was taken; using ${to})`;
  };
  o.log(`Twinline serving "${spec.title.en}" (${spec.id}, seed ${o.seed ?? spec.seed}, speed ${o.speed}×, profile ${b.profile})`);
  o.log(`  web app   ${url}${taken(bound.fellBackFrom, bound.port, 'web app and REST API', '--http-port')}`);
  o.log(`  REST API  ${url}api/state   live WebSocket ${url.replace(/^http/, 'ws')}api/live`);
  if (opcua !== null) {
    o.log(`  OPC UA    ${opcua.endpoint}   (namespace ${opcua.namespaceUri}, up in ${opcua.startupMs} ms)${taken(opcua.fellBackFrom, opcua.port, 'OPC UA', '--opcua-port')}`);
  }
  if (mqtt !== null) {
    const fell = mqtt.fellBackFrom;
    const tcp = taken(fell.tcp, new URL(mqtt.url).port, 'MQTT', '--mqtt-port');
    const ws = mqtt.wsUrl !== null ? taken(fell.ws, new URL(mqtt.wsUrl).port, 'MQTT over WebSocket', '--mqtt-ws-port') : '';
    o.log(`  MQTT      ${mqtt.url}${mqtt.wsUrl !== null ? `   WebSocket ${mqtt.wsUrl}` : ''}   (${o.mqtt?.url === undefined ? 'embedded broker' : 'external broker'}, encoding ${o.mqtt?.encoding})${tcp}${ws}`);
    if (mqtt.tlsUrl !== null && mqtt.tlsCert !== null) {
      const tls = taken(fell.tls, new URL(mqtt.tlsUrl).port, 'MQTT over TLS', '--mqtts-port');
      o.log(`  MQTT/TLS  ${mqtt.tlsUrl}   (self-signed: ${mqtt.tlsCert.file}, SHA-256 ${mqtt.tlsCert.fingerprint})${tls}`);
    }
    o.log(`    UNS ${mqtt.prefix}/<station>/<tag>   commands ${mqtt.prefix}/<station>/cmd/<command>   Sparkplug spBv1.0/${mqtt.group}/+/${mqtt.edge}/#`);
  }
  if (b.modbus !== null) {
    const m = b.modbus;
    const allow = o.modbus?.allow ?? null;
    o.log(`  Modbus    ${m.url}   (units 1–${m.units}, one per station: twinline modbus map; ${m.writable ? 'writable' : 'read-only'}${allow !== null ? `, only from ${allow.join(', ')}` : ''})`);
    if (m.writable) moved.push(`  !!! Modbus/TCP has no authentication: whoever reaches port ${m.port}${allow !== null ? ' from an allowed address' : ''} may stop stations and change setpoints as an operator, whatever the profile.`);
  }
  o.log(`  accounts  ${b.accounts.file || '(given in memory)'}   (one store for every face: twinline accounts list | add | reset | revoke)`);
  if (b.accounts.file !== '') {
    const initial = join(b.home, INITIAL_PASSWORDS_FILE);
    const reset = `twinline accounts reset <user> --home ${b.home}`;
    if (b.accounts.created.length > 0) {
      o.log(`  passwords ${initial}   (created now for ${b.accounts.created.map((a) => a.user).join(', ')}; readable by you only; a new one: ${reset})`);
    } else if (existsSync(initial)) {
      o.log(`  passwords ${initial}   (as the accounts were created; a reset account is marked there; a new one: ${reset})`);
    } else {
      o.log(`  passwords not kept (${initial} was removed): ${reset} prints a new one`);
    }
  }
  o.log(`  records   ${b.runDir}   (events.ndjson, audit.ndjson, commands.ndjson, attacks.ndjson, ${o.recordValuesMs === 0 ? 'no values' : `values.ndjson every ${o.recordValuesMs ?? DEFAULT_RECORD_MS} ms`}, snapshot.bin every ${o.snapshotEveryS ?? DEFAULT_SNAPSHOT_S} s: twinline serve --resume ${basename(b.runDir)})`);
  if (b.resumed !== null) o.log(describeResume(b.resumed, b.dt));
  const hs = b.historian?.status();
  o.log(`  historian ${hs === undefined ? 'off' : `${hs.store} ${hs.where}   (${hs.hours} h kept; GET /api/history${opcua !== null ? ', OPC UA HistoryRead' : ''})`}`);
  if (b.streams !== null) o.log(`  streams   ${b.streams.status().url}   (JetStream ${b.streams.stream}: ${subjectOf(spec.id)}.events, .audit, .commands; ${o.nats?.replicas ?? 1} replica${o.nats?.replicas === 1 ? '' : 's'})`);
  o.log(`  detectors ${o.detectors === null ? 'off' : `${o.detectors ?? DEFAULT_DETECTORS}   (alerts.ndjson, GET /api/alerts)`}`);
  o.log(`  playbooks ${o.playbooks === null ? 'off' : `${o.playbooks ?? DEFAULT_PLAYBOOKS}   (GET /api/incident; actions: twinline respond, respond.ndjson)`}`);
  for (const m of moved) o.log(m);
  for (const n of opcua?.notes ?? []) o.log(n);
  // the MQTT face's notes are written as sub-lines of its endpoint; here they stand on their own
  for (const n of mqtt?.notes ?? []) o.log(n.replace(/^\s+/, '  '));
  if (b.profile === 'open') {
    o.log('  !!! profile "open": anonymous clients may read and operate the line over REST and OPC UA, and subscribe to MQTT. A classroom network only.');
  }
  if (!isLoopback(o.host)) {
    o.log(`  !!! listening on ${o.host}: every face is reachable from the network. Give each person their own account (twinline accounts add).`);
  }
}

/** `twinline serve …`: runs until SIGINT/SIGTERM, then shuts down cleanly. */
export async function serve(argv: string[]): Promise<number> {
  const parsed = parseOptions({
    args: argv,
    allowPositionals: true,
    options: SERVE_FLAGS,
  }, 'serve', SERVE_USAGE);
  const v = parsed.values;
  if (v.help === true) {
    console.log(SERVE_USAGE);
    return 0;
  }
  if (parsed.positionals.length > 1) throw new TwinlineError('USAGE', `serve takes one scenario, got ${parsed.positionals.length}\n${SERVE_USAGE}`);
  const num = (name: string, raw: string | undefined, ok: (n: number) => boolean): number | undefined => {
    if (raw === undefined) return undefined;
    const n = Number(raw);
    if (!Number.isFinite(n) || !ok(n)) throw new TwinlineError('USAGE', `--${name} ${raw} is not valid\n${SERVE_USAGE}`);
    return n;
  };
  const port = num('http-port', v['http-port'], (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const seed = num('seed', v.seed, (n) => Number.isInteger(n) && n >= 0 && n < 2 ** 32);
  const speedFlag = num('speed', v.speed, (n) => n > 0 && n <= 1e6);
  const opcuaPort = num('opcua-port', v['opcua-port'], (n) => Number.isInteger(n) && n >= 0 && n <= 65535);
  const recordRaw = v['record-values'];
  const recordValuesMs = recordRaw === undefined ? undefined : Number(recordRaw);
  if (recordValuesMs !== undefined && !(recordValuesMs === 0 || (Number.isInteger(recordValuesMs) && recordValuesMs >= MIN_RECORD_MS && recordValuesMs <= MAX_RECORD_MS))) {
    throw new TwinlineError('USAGE', `--record-values ${recordRaw ?? ''} is not valid: a sample period in whole ms from ${MIN_RECORD_MS} to ${MAX_RECORD_MS}, or 0 (off)\n${SERVE_USAGE}`);
  }
  const profile = v.profile ?? 'hardened';
  if (profile !== 'open' && profile !== 'hardened') throw new TwinlineError('USAGE', `--profile ${profile} is not valid: open or hardened\n${SERVE_USAGE}`);
  const host = v.host ?? '127.0.0.1';
  if (profile === 'open' && !isLoopback(host) && v['expose-open'] !== true) {
    throw new TwinlineError('USAGE', `--profile open with --host ${host} would let anyone on the network operate the line without a login; add --expose-open if that is what you want (a closed classroom network), or use --profile hardened`);
  }
  const historian = v.historian;
  if (historian !== undefined && !isStoreSpec(historian)) throw new TwinlineError('USAGE', `--historian ${historian} is not valid: ${HISTORIAN_CHOICES}\n${SERVE_USAGE}`);
  const historyHours = num('history-hours', v['history-hours'], (n) => n > 0 && n <= MAX_HISTORY_HOURS);
  const warmupS = parseWarmup(v.warmup);
  if (warmupS > MAX_SERVE_WARMUP_H * 3600) throw new TwinlineError('USAGE', `--warmup ${v.warmup ?? ''} is more than serve's ${MAX_SERVE_WARMUP_H} h (the warm-up's events are held until the run's records are open)\n${SERVE_USAGE}`);
  const home = homeDir(v.home);
  const snapshotEveryS = num('snapshot-every', v['snapshot-every'], (n) => n >= MIN_SNAPSHOT_S && n <= MAX_SNAPSHOT_S);
  let resume: ResumableRun | undefined;
  if (v.resume !== undefined) {
    if (parsed.positionals.length > 0) throw new TwinlineError('USAGE', `--resume ${v.resume} continues that run's own line: leave out ${parsed.positionals[0] ?? ''}\n${SERVE_USAGE}`);
    if (v.seed !== undefined || v.warmup !== undefined) throw new TwinlineError('USAGE', `--resume continues the run's line as it was: --seed and --warmup do not apply\n${SERVE_USAGE}`);
    resume = findRun(home, v.resume);
  }
  const speed = speedFlag ?? resume?.description.speed ?? 1;
  const replicas = num('nats-replicas', v['nats-replicas'], (n) => Number.isInteger(n) && n >= 1 && n <= 5);
  const notNats = v.nats?.split(',').find((u) => !/^(nats|tls):\/\/./.test(u));
  if (notNats !== undefined) throw new TwinlineError('USAGE', `--nats ${v.nats}: "${notNats}" is not a NATS URL (nats://host:4222)\n${SERVE_USAGE}`);
  if (replicas !== undefined && v.nats === undefined) throw new TwinlineError('USAGE', `--nats-replicas is for --nats URL\n${SERVE_USAGE}`);
  const mqtt = mqttFromFlags(v, host, home);
  const modbus = modbusFromFlags(v, profile);
  for (const o of v['allow-origin'] ?? []) {
    if (!/^https?:\/\/[^/\s]+$/.test(o)) throw new TwinlineError('USAGE', `--allow-origin ${o} is not an origin (http://name:port)`);
  }
  const served = await startServer({
    file: resume?.description.scenario.file ?? parsed.positionals[0] ?? DEFAULT_SCENARIO,
    httpPort: port ?? 8080,
    explicitPort: port !== undefined,
    host,
    ...(seed !== undefined ? { seed } : {}),
    ...(resume !== undefined ? { resume, seed: resume.description.scenario.seed } : {}),
    ...(snapshotEveryS !== undefined ? { snapshotEveryS } : {}),
    ...(v.nats !== undefined ? { nats: { url: v.nats, replicas: replicas ?? 1 } } : {}),
    speed,
    log: (l) => console.log(l),
    profile,
    home,
    allowHosts: v['allow-host'] ?? [],
    allowOrigins: v['allow-origin'] ?? [],
    opcua: { port: opcuaPort ?? 4840, explicitPort: opcuaPort !== undefined },
    ...(mqtt !== null ? { mqtt } : {}),
    ...(modbus !== null ? { modbus } : {}),
    ...(v.detectors !== undefined ? { detectors: v.detectors === 'off' ? null : v.detectors } : {}),
    ...(v.playbooks !== undefined ? { playbooks: v.playbooks === 'off' ? null : v.playbooks } : {}),
    ...(v.exercises !== undefined ? { exercises: resolve(v.exercises) } : {}),
    ...(v.lessons !== undefined ? { lessons: resolve(v.lessons) } : {}),
    ...(warmupS > 0 ? { warmupS } : {}),
    ...(recordValuesMs !== undefined ? { recordValuesMs } : {}),
    ...(historian !== undefined ? { historian } : {}),
    ...(historyHours !== undefined ? { historyHours } : {}),
  });
  await untilStopped();
  console.log('Twinline: shutting down');
  await served.close();
  // everything is written and closed; a socket still closing towards a broker that is cut off
  // (its FIN unanswered) would hold the process for minutes
  setTimeout(() => process.exit(0), EXIT_GRACE_MS).unref();
  return 0;
}
