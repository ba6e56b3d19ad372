/**
 * The plant view (`?mode=plant`, served by `twinline plant up`): every line of the plant as a
 * tile (its host's state, the plant host it runs on and its node, its stations' stack lights,
 * its latest KPIs) and the plant's totals above them, read from `GET /api/plant`
 * (sim/plant/plant-view.ts: fed from the NATS cluster's event streams) once a second. A tile
 * opens the line's own web app, its 3D twin.
 */
import { useEffect, useMemo, useState } from 'react';
import { I18nContext, initialLocale, makeI18n, type I18n, type Locale } from './i18n/index.ts';
import { lampOf } from './twin/live.ts';

/** period of the plant polls [ms] */
const POLL_MS = 1000;

/** `GET /api/plant` (sim/plant/plant-view.ts `PlantView`), as far as the page reads it. */
interface PlantBody {
  id: string;
  title: { en: string; zh: string };
  state: string;
  nats: { name: string; restarts: number; partitioned: boolean }[];
  hosts: { name: string; address: string; isolated: boolean }[];
  lines: {
    id: string; node: string; machine: string | null; host: string; restarts: number; url: string | null; kpi: Record<string, number> | null;
    stations: Record<string, string>; events: number; lastEventAtMs: number | null; goodPerHour: number | null;
  }[];
  totals: { lines: number; up: number; good: number; shipped: number; energyKWh: number; goodPerHour: number; oee: number | null; reporting: number };
  cluster: { connected: boolean; server: string | null };
}

function Tile({ line, i18n }: { line: PlantBody['lines'][number]; i18n: I18n }): React.JSX.Element {
  const { t, num, pct } = i18n;
  const x = t.plant;
  const k = line.kpi;
  const lamps = Object.entries(line.stations).map(([st, state]) => ({ st, state, lamp: lampOf(state, 'none') }));
  const worst = line.host !== 'up' ? 'red' : lamps.some((l) => l.lamp === 'red') ? 'red' : lamps.some((l) => l.lamp === 'yellow') ? 'yellow' : 'green';
  const body = (
    <>
      <header>
        <b>{line.id}</b>
        <span className={`hoststate host-${line.host}`}>{t.plantHosts[line.host] ?? line.host}</span>
      </header>
      <small className="muted">{line.machine === null ? '' : `${line.machine} → `}{line.node}{line.restarts > 0 ? ` · ${x.restarts.replace('{n}', String(line.restarts))}` : ''}</small>
      <div className="lamps" aria-label={x.stations}>
        {lamps.map((l) => <span key={l.st} className={`dot lamp-${l.lamp}`} title={`${l.st}: ${t.states[l.state] ?? l.state}`} />)}
      </div>
      {k === null ? <p className="muted">{x.noKpis}</p> : (
        <dl>
          <dt>{t.kpi.oee}</dt><dd data-testid={`plant-oee-${line.id}`}>{pct(k.oee ?? Number.NaN)}</dd>
          <dt>{x.good}</dt><dd>{num(k.good ?? Number.NaN, 0)}</dd>
          <dt>{x.goodPerHour}</dt><dd>{num(line.goodPerHour ?? Number.NaN, 1)}</dd>
          <dt>{x.energy}</dt><dd>{num(k.energyKWh ?? Number.NaN, 1)} kWh</dd>
          <dt>{x.simulated}</dt><dd>{num(k.simHours ?? Number.NaN, 2)} h</dd>
        </dl>
      )}
      {line.url !== null ? <span className="open">{x.open}</span> : null}
    </>
  );
  const cls = `tile tile-${worst}`;
  return line.url !== null
    ? <a className={cls} data-testid={`plant-tile-${line.id}`} href={`${line.url}?lang=${i18n.locale}`} title={x.openTitle}>{body}</a>
    : <div className={cls} data-testid={`plant-tile-${line.id}`}>{body}</div>;
}

/** The whole page in plant mode. */
export function PlantPage(): React.JSX.Element {
  const [locale, setLocale] = useState<Locale>(() => initialLocale(location.search, navigator.language));
  const i18n = useMemo(() => makeI18n(locale), [locale]);
  const { t, num, pct } = i18n;
  const x = t.plant;
  const [plant, setPlant] = useState<PlantBody | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    let stop = false;
    const poll = async (): Promise<void> => {
      try {
        const r = await fetch('/api/plant', { cache: 'no-store' });
        if (!r.ok) throw new Error(`HTTP ${r.status}`);
        const body = (await r.json()) as PlantBody;
        if (!stop) {
          setPlant(body);
          setError(null);
        }
      } catch (e) {
        if (!stop) setError(e instanceof Error ? e.message : String(e));
      }
    };
    void poll();
    const id = setInterval(() => void poll(), POLL_MS);
    return () => {
      stop = true;
      clearInterval(id);
    };
  }, []);
  useEffect(() => {
    document.documentElement.lang = locale;
    document.title = plant !== null ? `${i18n.label(plant.title)} · ${t.appName}` : t.appName;
  }, [locale, plant, i18n, t]);
  const tot = plant?.totals;
  return (
    <I18nContext.Provider value={i18n}>
      <div className="app plant" data-mode="plant" data-testid="plant" data-ready={plant !== null && plant.totals.reporting > 0 ? '1' : '0'}>
        <header className="top">
          <h1>{t.appName}</h1>
          <span className="title">{plant !== null ? i18n.label(plant.title) : x.title}</span>
          {plant !== null ? (
            <span className="muted" data-testid="plant-nodes">
              {x.nodes}: {plant.nats.map((n) => `${n.name}${n.partitioned ? ` (${x.cutOff})` : ''}${n.restarts > 0 ? ` (${x.restarts.replace('{n}', String(n.restarts))})` : ''}`).join(', ')}
              {plant.hosts.length === 0 ? '' : ` · ${x.hosts}: ${plant.hosts.map((h) => `${h.name} ${h.address}${h.isolated ? ` (${x.cutOff})` : ''}`).join(', ')}`}
              {plant.cluster.connected ? '' : ` · ${x.noCluster}`}
            </span>
          ) : null}
          <span className="spacer" />
          <button type="button" data-testid="lang" onClick={() => setLocale(locale === 'en' ? 'zh-CN' : 'en')}>{t.switchLanguage}</button>
        </header>
        {error !== null ? <div className="error" data-testid="error"><b>{x.unreachable}</b>: {error}</div> : null}
        {tot !== undefined ? (
          <div className="kpis" data-testid="plant-totals">
            <div className="kpi"><span>{x.linesUp}</span><b data-testid="plant-up">{tot.up} / {tot.lines}</b></div>
            <div className="kpi"><span>{x.meanOee}</span><b data-testid="plant-oee">{tot.oee === null ? '—' : pct(tot.oee)}</b></div>
            <div className="kpi"><span>{x.good}</span><b data-testid="plant-good">{num(tot.good, 0)}</b></div>
            <div className="kpi"><span>{x.goodPerHour}</span><b>{num(tot.goodPerHour, 1)}</b></div>
            <div className="kpi"><span>{x.energy}</span><b>{num(tot.energyKWh, 1)} kWh</b></div>
          </div>
        ) : null}
        {plant === null && error === null ? <p className="loading muted">{x.loading}</p> : null}
        {plant !== null ? <main className="tiles">{plant.lines.map((l) => <Tile key={l.id} line={l} i18n={i18n} />)}</main> : null}
      </div>
    </I18nContext.Provider>
  );
}
