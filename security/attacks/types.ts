/**
 * What an attack of the range is: a real protocol client with its ATT&CK for ICS techniques,
 * what it needs, what it does and what it should do to the line; `run` performs it against
 * one face of a running twin and reports whether it got through and what the line suffered.
 */
import type { Observer } from './observer.ts';
import type { Technique } from './techniques.ts';

/** The protocol face an attack goes through. */
export type Face = 'opcua' | 'mqtt' | 'rest' | 'modbus';

/** `succeeded`: the attack reached its goal; `blocked`: the twin refused it. */
export type Outcome = 'succeeded' | 'blocked';

/** A measured value of the impact (JSON). */
export type ImpactValue = number | string | boolean | null | readonly ImpactValue[] | { readonly [key: string]: ImpactValue };

/** What the attack did to the line, as measured (downtime [s of line time], parts scrapped, a setpoint moved …). */
export type Impact = Record<string, ImpactValue>;

/** The result of one run. */
export interface AttackResult {
  outcome: Outcome;
  /** what shows it: the attacker's view (answers, refusals) and the twin's event log and audit trail */
  evidence: string[];
  impact: Impact;
}

/** An account the attacker holds (stolen, guessed, or given for the exercise). */
export interface Credentials {
  user: string;
  password: string;
}

/** What a run gets. */
export interface AttackContext {
  /** the endpoint of the attack's face, checked by the target guard and pinned to the checked address */
  target: URL;
  /** an account the attacker holds (`--user`, `--password`), or null: none */
  credentials: Credentials | null;
  /** the station aimed at */
  station: string;
  /**
   * the range's own view of the line (REST, as an instructor or viewer of the range's home):
   * measures the impact, collects the audit trail, puts the line back; null when the range's
   * web address or home is not known (the attack then reports only what it saw itself)
   */
  observer: Observer | null;
  /** a folder of the run's own (the attacker's OPC UA certificate), removed afterwards */
  workDir: string;
  /** how long to watch the line for the physical effect [ms, wall] */
  watchMs: number;
  /** a progress line (to stderr) */
  log(line: string): void;
  /** what `run` leaves for `cleanup` */
  memo: Map<string, unknown>;
  /** Registers something to release once the run and its cleanup are over (client state, watchers). */
  atEnd(release: () => Promise<void>): void;
}

/** One attack of the library. */
export interface Attack {
  /** kebab-case, e.g. `opcua-stop` */
  id: string;
  title: string;
  /** its entries of the technique table (`techniques.ts`) */
  techniques: readonly Technique[];
  face: Face;
  /** what the attacker needs */
  preconditions: readonly string[];
  /** what it does, in order */
  steps: readonly string[];
  /** what it should do to the line when it gets through */
  expectedImpact: string;
  run(ctx: AttackContext): Promise<AttackResult>;
  /** puts the line back as it was (through the range's own account); never throws */
  cleanup(ctx: AttackContext): Promise<void>;
}
