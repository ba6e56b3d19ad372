/** The station list beside the scene: lamp, name, PackML state and parts held; a click selects and focuses. */
import { useI18n } from '../i18n/index.ts';
import { lampOf } from '../twin/live.ts';
import type { LiveFrame, StationInfo } from '../twin/types.ts';

/** Props of `StationList`. */
export interface StationListProps {
  stations: readonly StationInfo[];
  frame: LiveFrame | null;
  selected: string | null;
  onSelect(id: string): void;
}

/** The list of stations. */
export function StationList({ stations, frame, selected, onSelect }: StationListProps): React.JSX.Element {
  const { t, label, num } = useI18n();
  return (
    <nav className="stations" aria-label={t.stations}>
      <h3>{t.stations}</h3>
      <ul>
        {stations.map((s, k) => {
          const st = frame?.stations[k];
          return (
            <li key={s.id}>
              <button type="button" className={selected === s.id ? 'on' : ''} data-station={s.id} onClick={() => onSelect(s.id)}>
                <i className={`dot lamp-${st === undefined ? 'yellow' : lampOf(st.state, st.fault)}`} />
                {label(s.name)}
                <small>{st !== undefined ? (t.states[st.state] ?? st.state) : ''}{st !== undefined && st.queue > 0 ? ` · ${num(st.queue, 0)}` : ''}</small>
              </button>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}
