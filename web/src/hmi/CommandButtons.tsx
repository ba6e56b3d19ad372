/** A faceplate's PackML command buttons; those the role may not send are disabled and name the role they need. */
import { useI18n } from '../i18n/index.ts';
import { roleForCommand, type Role } from '../twin/roles.ts';
import { needsRole } from './permit.ts';

const COMMANDS = ['start', 'stop', 'hold', 'unhold', 'reset', 'abort', 'clear'] as const;

/** Props of `CommandButtons`. */
export interface CommandButtonsProps {
  role: Role;
  onSend(command: string): void;
}

/** The PackML command buttons. */
export function CommandButtons({ role, onSend }: CommandButtonsProps): React.JSX.Element {
  const { t } = useI18n();
  return (
    <div className="commands">
      {COMMANDS.map((c) => {
        const why = needsRole(t, role, roleForCommand(c));
        return (
          <button key={c} type="button" data-command={c} className={`cmd cmd-${c}`} disabled={why !== null} title={why ?? undefined} onClick={() => onSend(c)}>
            {t.commands[c]}
          </button>
        );
      })}
    </div>
  );
}
