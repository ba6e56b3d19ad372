/**
 * A station's faceplate: PackML state, unit mode, fault, live tags with units, the PackML
 * command buttons, active alarms with Acknowledge, and a trend.
 */
import { useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import { lampOf, useLive, type LiveStore } from '../twin/live.ts';
import type { StationInfo, TwinSource } from '../twin/types.ts';
import { Trend } from './Trend.tsx';

const COMMANDS = ['start', 'stop', 'hold', 'unhold', 'reset', 'abort', 'clear'] as const;
/** bookkeeping tags the table leaves out */
const NOT_SHOWN = new Set(['alarmsAcked']);

/** Props of `Faceplate`. */
export interface FaceplateProps {
  source: TwinSource;
  live: LiveStore;
  info: StationInfo;
  index: number;
  onClose(): void;
}

/** The faceplate of one station. */
export function Faceplate({ source, live, info, index, onClose }: FaceplateProps): React.JSX.Element {
  const { t, num, label } = useI18n();
  const frame = useLive(live);
  const [reply, setReply] = useState<{ text: string; ok: boolean } | null>(null);
  const st = frame?.stations[index];
  const values = frame?.tags[index];
  const send = (command: string): void => {
    setReply(null);
    source.send(info.id, command).then(
      (r) => setReply(r.ok ? { ok: true, text: `${t.commandOk}: ${command}` } : { ok: false, text: `${t.commandRejected}: ${r.reason}` }),
      (e: unknown) => setReply({ ok: false, text: String(e) }),
    );
  };
  const ackIdx = info.tags.findIndex((g) => g.name === 'alarmsAcked');
  const acked = ackIdx >= 0 ? (values?.[ackIdx] ?? 0) : 0;
  const active = info.alarms.filter((a) => ((st?.alarms ?? 0) & (1 << a.bit)) !== 0);
  const lamp = st === undefined ? 'yellow' : lampOf(st.state, st.fault);
  return (
    <aside className="faceplate" data-testid="faceplate" data-station={info.id}>
      <header>
        <div>
          <h2>{label(info.name)}</h2>
          <span className="muted">{info.id} · {t.kinds[info.kind] ?? info.kind}</span>
        </div>
        <button type="button" onClick={onClose} aria-label={t.closeFaceplate}>×</button>
      </header>
      <dl className="status">
        <dt>{t.state}</dt>
        <dd><span className={`state lamp-${lamp}`} data-testid="fp-state" data-state={st?.state ?? ''}>{t.states[st?.state ?? 'Undefined'] ?? st?.state}</span></dd>
        <dt>{t.mode}</dt>
        <dd>{t.modes[st?.mode ?? 'Undefined'] ?? st?.mode}</dd>
        <dt>{t.fault}</dt>
        <dd data-testid="fp-fault">{t.faults[st?.fault ?? 'none'] ?? st?.fault}</dd>
        <dt>{t.activity}</dt>
        <dd>{t.activities[st?.activity ?? 'starved'] ?? st?.activity}</dd>
        <dt>{t.queue}</dt>
        <dd>{num(st?.queue ?? 0, 0)}</dd>
      </dl>
      <div className="commands">
        {COMMANDS.map((c) => (
          <button key={c} type="button" data-command={c} className={`cmd cmd-${c}`} onClick={() => send(c)}>{t.commands[c]}</button>
        ))}
      </div>
      {reply !== null ? <p className={reply.ok ? 'ok' : 'bad'} data-testid="fp-reply">{reply.text}</p> : null}
      <section>
        <h3>{t.alarms}</h3>
        {active.length === 0 ? <p className="muted">{t.noAlarms}</p> : (
          <ul className="alarms" data-testid="fp-alarms">
            {active.map((a) => {
              const isAcked = (acked & (1 << a.bit)) !== 0;
              return (
                <li key={a.bit} className={isAcked ? 'acked' : 'unacked'}>
                  <span>{label(a.text)}</span>
                  {isAcked ? <span className="muted">{t.acknowledged}</span> : <button type="button" onClick={() => send('ack')}>{t.acknowledge}</button>}
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section>
        <h3>{t.tags}</h3>
        <table className="tags">
          <thead><tr><th>{t.tag}</th><th>{t.value}</th><th>{t.unit}</th></tr></thead>
          <tbody>
            {info.tags.map((g, k) => NOT_SHOWN.has(g.name) ? null : (
              <tr key={g.name} title={g.description}>
                <td>{t.tagLabels[g.name] ?? g.name}{t.tagLabels[g.name] !== undefined ? <code>{g.name}</code> : null}</td>
                <td className="num" data-tag={g.name}>{values === undefined ? '—' : num(values[k] ?? NaN)}</td>
                <td>{g.unit}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
      <Trend live={live} info={info} index={index} />
    </aside>
  );
}
