/**
 * A new value for one 'rw' tag (a setpoint, parameter or safety limit), sent as `set`. Disabled,
 * with a tooltip saying why, when the role may not write the tag's level.
 */
import { useState } from 'react';
import { useI18n } from '../i18n/index.ts';
import type { Role, WriteLevel } from '../twin/roles.ts';
import { mayNotWrite } from './permit.ts';

/** Props of `ParamInput`. */
export interface ParamInputProps {
  name: string;
  level: WriteLevel;
  role: Role;
  /** the station's unit mode now */
  mode: string | undefined;
  onSet(field: string, value: number): void;
}

/** The input and Set button of one tag. */
export function ParamInput({ name, level, role, mode, onSet }: ParamInputProps): React.JSX.Element {
  const { t } = useI18n();
  const [text, setText] = useState('');
  const why = mayNotWrite(t, role, level, mode);
  const value = Number(text);
  const valid = text.trim() !== '' && Number.isFinite(value);
  return (
    <form
      className="param"
      data-param={name}
      data-level={level}
      title={why ?? undefined}
      onSubmit={(e) => {
        e.preventDefault();
        if (why !== null || !valid) return;
        onSet(name, value);
        setText('');
      }}
    >
      <input type="number" step="any" aria-label={`${t.newValue}: ${name}`} value={text} disabled={why !== null} onChange={(e) => setText(e.target.value)} />
      <button type="submit" disabled={why !== null || !valid} title={why ?? undefined}>{t.set}</button>
    </form>
  );
}
