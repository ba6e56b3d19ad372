/**
 * The responders' action log: every containment, recovery and reporting action performed on
 * the range, with the wall time it was asked for and done, the line's tick, who performed it
 * (principal, account, role), what it acted on, the playbook step it carries out, and what it
 * did. An exercise runner times these against the playbook's deadlines (`dueAtMs` of each
 * phase in `GET /api/incident`); reports put them on the incident's timeline.
 *
 * Appended to `respond.ndjson` in the run's folder as actions are done (synchronous writes,
 * as the rest of the run's record) and kept in a ring for `GET /api/respond/log`. Both are
 * bounded: the ring holds `ringSize` records, the file `maxFile` lines and then one line
 * counting the rest.
 */
import { CappedLog } from '../../sim/host/run-log.ts';
import { join } from 'node:path';
import type { Role } from '../../sim/core/commands.ts';
import type { ActionArgs, ActionName } from './actions.ts';

/** How an action ended. */
export type ActionResult = 'done' | 'partial' | 'failed' | 'no-op';

/** One action as logged. */
export interface ActionRecord {
  /** 1, 2, … in the host's order */
  seq: number;
  action: ActionName;
  /** the playbook step it carries out (`contain.ban-writer`), as the responder named it, or null */
  step: string | null;
  /** wall time it was asked for [ms since the epoch], and the same as ISO text */
  atMs: number;
  at: string;
  /** wall time it was done [ms since the epoch] */
  doneMs: number;
  /** the line's tick when it was asked for */
  tick: number;
  /** `user@peer` */
  principal: string;
  user: string;
  role: Role;
  /** what it acted on: `account anonymous`, `face opcua`, `station kiln` … */
  target: string;
  args: ActionArgs;
  /** `done`: all of it; `partial`: some of it (see problems); `failed`: none; `no-op`: nothing needed doing */
  result: ActionResult;
  /** what it did, one line per effect */
  did: string[];
  /** what it could not do, and why */
  problems: string[];
}

/** One page of `GET /api/respond/log`. */
export interface ActionPage {
  /** records with seq > since, oldest first */
  actions: ActionRecord[];
  next: number;
  /** actions logged since the host started */
  logged: number;
  file: string;
}

/** See the module comment. */
export class ActionLog {
  private readonly ring: ActionRecord[] = [];
  private readonly log: CappedLog;
  private seq = 0;
  readonly file: string;

  constructor(dir: string, private readonly ringSize = 1000, maxFile = 100_000) {
    this.file = join(dir, 'respond.ndjson');
    this.log = new CappedLog(this.file, maxFile, 'moreActions');
  }

  /** Records an action (to disk first, then to the ring); returns it with its seq. */
  add(r: Omit<ActionRecord, 'seq'>): ActionRecord {
    const rec: ActionRecord = { seq: ++this.seq, ...r };
    this.log.write(rec);
    this.ring.push(rec);
    if (this.ring.length > this.ringSize) this.ring.splice(0, this.ring.length - this.ringSize);
    return rec;
  }

  /** actions logged since the host started */
  get logged(): number {
    return this.seq;
  }

  /** Records with seq > since, at most `limit`. */
  page(since: number, limit: number): ActionPage {
    const actions = this.ring.filter((r) => r.seq > since).slice(0, limit);
    return { actions, next: actions[actions.length - 1]?.seq ?? since, logged: this.seq, file: this.file };
  }

  close(): void {
    this.log.close();
  }
}
