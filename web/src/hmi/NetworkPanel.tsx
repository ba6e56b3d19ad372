/**
 * The network overlay's legend: each face of the host with its endpoint, clients and message
 * rates, unusual traffic in red, the range's attack (running or just ended) with its face,
 * station and clients, the rule of an active security alert that names a face; standalone, a
 * note that there is no network.
 */
import { useI18n } from '../i18n/index.ts';
import type { NetworkReport } from '../twin/network.ts';
import type { AlertFace, AlertMarks } from '../twin/alerts.ts';
import { rateText } from '../scene/network-graph.ts';

/** Props of `NetworkPanel`. */
export interface NetworkPanelProps {
  report: NetworkReport | null;
  error: string | null;
  /** what the active security alerts name, or null */
  alerts?: AlertMarks | null;
}

/** Legend of the network overlay. */
export function NetworkPanel({ report, error, alerts = null }: NetworkPanelProps): React.JSX.Element {
  const { t, num } = useI18n();
  const n = t.net;
  const attack = report?.attack ?? null;
  const name = (id: string): string => (id === 'opcua' ? n.opcua : id === 'mqtt' ? n.mqtt : id === 'api' ? n.api : id === 'worker' ? n.worker : id);
  return (
    <aside className="netpanel" data-testid="netpanel">
      <h3>{n.title}</h3>
      {error !== null ? <p className="bad">{n.failed}: {error}</p> : report === null ? <p className="muted">{n.loading}</p> : null}
      {report?.local === true ? <p className="muted" data-testid="net-none">{n.none}</p> : null}
      {attack !== null ? (
        <p className="attack bad" data-testid="net-attack" data-attack={attack.id} data-running={attack.running ? '1' : '0'}>
          <b>{attack.running ? n.attackRunning : n.attackEnded}: {attack.title}</b>
          <small>
            {name(attack.face)} → {n.plc} {attack.station}
            {attack.principals.length > 0 ? ` · ${n.attackClients}: ${attack.principals.slice(0, 4).join(', ')}` : ''}
          </small>
        </p>
      ) : null}
      <ul>
        {report?.faces.map((f) => {
          const alert = alerts?.faces.get(f.id as AlertFace);
          return (
            <li key={f.id} data-face={f.id} data-unusual={f.unusual ? '1' : '0'} data-attack={f.attack === true ? '1' : '0'} data-alert={alert !== undefined ? alert.severity : ''} className={f.unusual || f.attack === true || alert !== undefined ? 'unusual' : ''}>
              <b>{name(f.id)}</b> <span className="rate">{rateText(f.rate, n.perSecond)}</span>
              <small>
                {f.endpoint}
                {f.clients !== null ? ` · ${num(f.clients, 0)} ${f.clients === 1 ? n.client : n.clients}` : ''}
                {Object.keys(f.rates).length > 1 ? ` · ${Object.entries(f.rates).map(([k, v]) => `${k} ${num(v)}`).join(', ')}` : ''}
              </small>
              {f.unusual ? <small className="bad">{n.unusual}: {num(f.rejected, 0)} {n.rejected}</small> : null}
              {alert !== undefined ? <small className="bad" data-testid="net-alert">{n.alert} ({t.severities[alert.severity]}): {alert.rule}</small> : null}
            </li>
          );
        })}
      </ul>
      <p className="muted legend">{n.legend}{attack !== null ? ` · ${n.attackLegend}` : ''}{alerts !== null && alerts.faces.size > 0 ? ` · ${n.alertLegend}` : ''}</p>
    </aside>
  );
}
