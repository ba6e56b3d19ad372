/**
 * A station's faceplate: PackML state, unit mode, fault, live tags with units and inputs for
 * 'rw' tags, the PackML command buttons, active alarms with Acknowledge each (and all, when
 * several wait), the last command's reply (for a few seconds), and a trend. Controls the
 * signed-in role may not use are disabled and name the role they need.
 */
import { useEffect, useRef, useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import { lampOf, useLive, type LiveStore } from '../twin/live.ts';
import { roleForCommand, type Role } from '../twin/roles.ts';
import type { CommandArgs, StationInfo, TwinSource } from '../twin/types.ts';
import { CommandButtons } from './CommandButtons.tsx';
import { needsRole } from './permit.ts';
import { TagTable } from './TagTable.tsx';
import { Trend } from './Trend.tsx';

/** how long a command's reply stays on the faceplate [ms] */
export const REPLY_MS = 8000;
/** PackML states in which an earlier "accepted" no longer describes the station */
const ABORTED = new Set(['Aborting', 'Aborted']);

/** Props of `Faceplate`. */
export interface FaceplateProps {
  source: TwinSource;
  live: LiveStore;
  info: StationInfo;
  index: number;
  /** the signed-in account's role (standalone: the page's own) */
  role: Role;
  onClose(): void;
}

/** The faceplate of one station. */
export function Faceplate({ source, live, info, index, role, onClose }: FaceplateProps): React.JSX.Element {
  const { t, num, label } = useI18n();
  const frame = useLive(live);
  // the last command's reply: it expires after REPLY_MS, and an "accepted" (but abort's own) goes
  // at once when the station aborts after it (it would describe a state the station has left)
  const [reply, setReply] = useState<{ text: string; ok: boolean; at: number; command: string } | null>(null);
  const st = frame?.stations[index];
  const values = frame?.tags[index];
  const sent = useRef(0);
  const send = (command: string, args?: CommandArgs): void => {
    setReply(null);
    const n = ++sent.current;
    const what = args?.field ?? args?.alarm;
    source.send(info.id, command, args).then(
      (r) => n === sent.current && setReply(r.ok ? { ok: true, at: Date.now(), command, text: `${t.commandOk}: ${command}${what !== undefined ? ` ${String(what)}` : ''}` } : { ok: false, at: Date.now(), command, text: `${t.commandRejected}: ${r.reason}` }),
      (e: unknown) => n === sent.current && setReply({ ok: false, at: Date.now(), command, text: String(e) }),
    );
  };
  useEffect(() => {
    if (reply === null) return;
    const id = setTimeout(() => setReply(null), REPLY_MS);
    return () => clearTimeout(id);
  }, [reply]);
  const aborted = st !== undefined && ABORTED.has(st.state);
  const [abortedAt, setAbortedAt] = useState<number | null>(null);
  useEffect(() => setAbortedAt(aborted ? Date.now() : null), [aborted]);
  useEffect(() => {
    if (reply?.ok === true && reply.command !== 'abort' && abortedAt !== null && abortedAt > reply.at) setReply(null);
  }, [reply, abortedAt]);
  const ackIdx = info.tags.findIndex((g) => g.name === 'alarmsAcked');
  const acked = ackIdx >= 0 ? (values?.[ackIdx] ?? 0) : 0;
  const active = info.alarms.filter((a) => ((st?.alarms ?? 0) & (1 << a.bit)) !== 0);
  const unacked = active.filter((a) => (acked & (1 << a.bit)) === 0).length;
  const lamp = st === undefined ? 'yellow' : lampOf(st.state, st.fault);
  const ackWhy = needsRole(t, role, roleForCommand('ack'));
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
      <CommandButtons role={role} onSend={send} />
      {reply !== null ? <p className={reply.ok ? 'ok' : 'bad'} data-testid="fp-reply" data-command={reply.command}>{reply.text}</p> : null}
      <section>
        <h3>
          {t.alarms}
          {unacked > 1 ? <button type="button" className="ack-all" data-testid="ack-all" disabled={ackWhy !== null} title={ackWhy ?? undefined} onClick={() => send('ack')}>{t.acknowledgeAll.replace('{n}', String(unacked))}</button> : null}
        </h3>
        {active.length === 0 ? <p className="muted">{t.noAlarms}</p> : (
          <ul className="alarms" data-testid="fp-alarms">
            {active.map((a) => {
              const isAcked = (acked & (1 << a.bit)) !== 0;
              return (
                <li key={a.bit} className={isAcked ? 'acked' : 'unacked'} data-alarm={a.code}>
                  <span>{label(a.text)}</span>
                  {isAcked ? <span className="muted">{t.acknowledged}</span> : <button type="button" disabled={ackWhy !== null} title={ackWhy ?? undefined} onClick={() => send('ack', { alarm: a.code })}>{t.acknowledge}</button>}
                </li>
              );
            })}
          </ul>
        )}
      </section>
      <section>
        <h3>{t.tags}</h3>
        <TagTable info={info} values={values} role={role} mode={st?.mode} onSet={(field, value) => send('set', { field, value })} />
      </section>
      <Trend live={live} info={info} index={index} source={source} />
    </aside>
  );
}
