/**
 * What incident response has shut, held by the host and consulted by every face: accounts
 * banned (or every anonymous client: `anonymous`), MQTT client ids banned, faces isolated
 * (they take no writes or commands; reads go on). A face asks before it admits a client or
 * takes a command, and registers what it can close, so a ban closes what the banned one holds
 * open (REST tokens, live sockets, MQTT connections, OPC UA sessions) and refuses the next
 * attempt. Bans last while the host runs (`twinline accounts revoke` makes one permanent).
 */

/** Faces that can be isolated. */
export type ContainedFace = 'opcua' | 'mqtt' | 'modbus';

/** What a ban or an isolation is: who did it, when, and why. */
export interface Shut {
  by: string;
  /** [ms since the epoch] */
  atMs: number;
  reason: string;
}

/** A ban, as listed. */
export interface Ban extends Shut {
  kind: 'account' | 'mqttClient';
  id: string;
}

/** What one face closes when asked; each returns a line per thing closed. */
export interface FaceCloser {
  /** what `user` (`anonymous`: anonymous clients) holds open */
  account?(user: string): string[] | Promise<string[]>;
  /** the MQTT connection of a client id */
  mqttClient?(id: string): string[] | Promise<string[]>;
  /** OPC UA sessions of an account (`anonymous` too) or one session by id */
  opcuaSessions?(match: { user?: string; session?: string }): string[] | Promise<string[]>;
}

/** What the faces ask. Each answer is the reason a request is refused, or null. */
export interface FaceGate {
  /** an account (`anonymous`: anonymous clients) on any face */
  account(user: string): string | null;
  /** an MQTT client id */
  mqttClient(id: string): string | null;
  /** writes and commands through a face */
  face(face: ContainedFace): string | null;
}

/** bans held at most: the list is outside input (of responders), so it is bounded */
export const MAX_BANS = 1000;

const when = (ms: number): string => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

/** See the module comment. */
export class Containment implements FaceGate {
  private readonly bans = new Map<string, Ban>();
  private readonly isolated = new Map<ContainedFace, Shut>();
  private readonly closers = new Map<string, FaceCloser>();

  constructor(private readonly now: () => number = Date.now) {}

  /** A face's closer (`rest`, `mqtt`, `opcua` …); a second registration under one name replaces the first. */
  register(name: string, c: FaceCloser): void {
    this.closers.set(name, c);
  }

  /** Whether a face of that name registered (it is served). */
  serves(name: string): boolean {
    return this.closers.has(name);
  }

  account(user: string): string | null {
    const b = this.bans.get(`account:${user}`);
    if (b === undefined) return null;
    return `${user === 'anonymous' ? 'anonymous access is' : `account "${user}" is`} suspended by incident response (banned by ${b.by} at ${when(b.atMs)}${b.reason === '' ? '' : `: ${b.reason}`})`;
  }

  mqttClient(id: string): string | null {
    const b = this.bans.get(`mqttClient:${id}`);
    return b === undefined ? null : `MQTT client id "${id}" is banned by incident response (by ${b.by} at ${when(b.atMs)}${b.reason === '' ? '' : `: ${b.reason}`})`;
  }

  face(face: ContainedFace): string | null {
    const s = this.isolated.get(face);
    return s === undefined ? null : `the ${face} face is isolated by incident response: no writes or commands (by ${s.by} at ${when(s.atMs)}${s.reason === '' ? '' : `: ${s.reason}`})`;
  }

  /**
   * Bans an account or client id and closes what it holds open on every face; `added` is false
   * when it was banned already (what it holds is closed again all the same). Throws past `MAX_BANS`.
   */
  async ban(kind: Ban['kind'], id: string, by: string, reason: string): Promise<{ added: boolean; closed: string[] }> {
    const key = `${kind}:${id}`;
    const added = !this.bans.has(key);
    if (added && this.bans.size >= MAX_BANS) throw new Error(`${MAX_BANS} bans are held already: lift one first`);
    if (added) this.bans.set(key, { kind, id, by, atMs: this.now(), reason });
    const closed: string[] = [];
    for (const [name, c] of this.closers) {
      const lines = kind === 'account' ? await c.account?.(id) : await c.mqttClient?.(id);
      for (const l of lines ?? []) closed.push(`${name}: ${l}`);
    }
    return { added, closed };
  }

  /** Lifts a ban; false when there was none. */
  unban(kind: Ban['kind'], id: string): boolean {
    return this.bans.delete(`${kind}:${id}`);
  }

  /** Isolates a face; false when it was isolated already. */
  isolate(face: ContainedFace, by: string, reason: string): boolean {
    if (this.isolated.has(face)) return false;
    this.isolated.set(face, { by, atMs: this.now(), reason });
    return true;
  }

  /** Lets a face take writes and commands again; false when it was not isolated. */
  reconnect(face: ContainedFace): boolean {
    return this.isolated.delete(face);
  }

  /** Closes OPC UA sessions; null when the host serves no OPC UA. */
  async closeOpcua(match: { user?: string; session?: string }): Promise<string[] | null> {
    const c = this.closers.get('opcua')?.opcuaSessions;
    return c === undefined ? null : c(match);
  }

  /** What is shut now. */
  state(): { bans: Ban[]; isolated: ({ face: ContainedFace } & Shut)[] } {
    return { bans: [...this.bans.values()], isolated: [...this.isolated].map(([face, s]) => ({ face, ...s })) };
  }
}
