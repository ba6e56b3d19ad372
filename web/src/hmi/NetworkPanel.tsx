/**
 * The network overlay's legend: each face of the host with its endpoint, clients and message
 * rates, unusual traffic in red; standalone, a note that there is no network.
 */
import { useI18n } from '../i18n/index.ts';
import type { NetworkReport } from '../twin/network.ts';
import { rateText } from '../scene/network-graph.ts';

/** Props of `NetworkPanel`. */
export interface NetworkPanelProps {
  report: NetworkReport | null;
  error: string | null;
}

/** Legend of the network overlay. */
export function NetworkPanel({ report, error }: NetworkPanelProps): React.JSX.Element {
  const { t, num } = useI18n();
  const n = t.net;
  const name = (id: string): string => (id === 'opcua' ? n.opcua : id === 'mqtt' ? n.mqtt : id === 'api' ? n.api : id === 'worker' ? n.worker : id);
  return (
    <aside className="netpanel" data-testid="netpanel">
      <h3>{n.title}</h3>
      {error !== null ? <p className="bad">{n.failed}: {error}</p> : report === null ? <p className="muted">{n.loading}</p> : null}
      {report?.local === true ? <p className="muted" data-testid="net-none">{n.none}</p> : null}
      <ul>
        {report?.faces.map((f) => (
          <li key={f.id} data-face={f.id} data-unusual={f.unusual ? '1' : '0'} className={f.unusual ? 'unusual' : ''}>
            <b>{name(f.id)}</b> <span className="rate">{rateText(f.rate, n.perSecond)}</span>
            <small>
              {f.endpoint}
              {f.clients !== null ? ` · ${num(f.clients, 0)} ${n.clients}` : ''}
              {Object.keys(f.rates).length > 1 ? ` · ${Object.entries(f.rates).map(([k, v]) => `${k} ${num(v)}`).join(', ')}` : ''}
            </small>
            {f.unusual ? <small className="bad">{n.unusual}: {num(f.rejected, 0)} {n.rejected}</small> : null}
          </li>
        ))}
      </ul>
      <p className="muted legend">{n.legend}</p>
    </aside>
  );
}
