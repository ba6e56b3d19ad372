/**
 * MITRE ATT&CK for ICS techniques the range's attacks and detectors use: the one table of technique ids.
 * Attacks name a technique by its entry here (`T.unauthorizedCommandMessage`), never by an id
 * literal, so a change on MITRE's side is one edit in this file.
 *
 * Ids and names are the ICS matrix's T08xx ids, as security teams and their tools name them.
 * MITRE renames and renumbers: T0830 was "Man in the Middle"; a 2025 release revoked T0855
 * and T0856 into T1692 Unauthorized Message (T1692.001 Command Message, T1692.002 Reporting
 * Message), noted here as `current`. Check the table against the current matrix whenever the
 * attack library is reviewed.
 */

/** A technique of the ATT&CK for ICS matrix. */
export interface Technique {
  /** e.g. `T0855` */
  id: string;
  name: string;
  /** its ATT&CK for ICS tactic (the first, where MITRE lists several) */
  tactic: string;
  /** the id MITRE moved the technique to, when the id here was revoked */
  current?: string;
}

/** Every technique an attack may name, by a name that survives renumbering. */
export const T = {
  monitorProcessState: { id: 'T0801', name: 'Monitor Process State', tactic: 'Collection' },
  defaultCredentials: { id: 'T0812', name: 'Default Credentials', tactic: 'Lateral Movement' },
  denialOfControl: { id: 'T0813', name: 'Denial of Control', tactic: 'Impact' },
  denialOfService: { id: 'T0814', name: 'Denial of Service', tactic: 'Inhibit Response Function' },
  denialOfView: { id: 'T0815', name: 'Denial of View', tactic: 'Impact' },
  adversaryInTheMiddle: { id: 'T0830', name: 'Adversary-in-the-Middle', tactic: 'Collection' },
  manipulationOfControl: { id: 'T0831', name: 'Manipulation of Control', tactic: 'Impact' },
  modifyParameter: { id: 'T0836', name: 'Modify Parameter', tactic: 'Impair Process Control' },
  modifyAlarmSettings: { id: 'T0838', name: 'Modify Alarm Settings', tactic: 'Inhibit Response Function' },
  networkSniffing: { id: 'T0842', name: 'Network Sniffing', tactic: 'Discovery' },
  remoteSystemDiscovery: { id: 'T0846', name: 'Remote System Discovery', tactic: 'Discovery' },
  unauthorizedCommandMessage: { id: 'T0855', name: 'Unauthorized Command Message', tactic: 'Impair Process Control', current: 'T1692.001' },
  spoofReportingMessage: { id: 'T0856', name: 'Spoof Reporting Message', tactic: 'Evasion', current: 'T1692.002' },
  validAccounts: { id: 'T0859', name: 'Valid Accounts', tactic: 'Persistence' },
  pointAndTagIdentification: { id: 'T0861', name: 'Point & Tag Identification', tactic: 'Collection' },
  alarmSuppression: { id: 'T0878', name: 'Alarm Suppression', tactic: 'Inhibit Response Function' },
  remoteSystemInformationDiscovery: { id: 'T0888', name: 'Remote System Information Discovery', tactic: 'Discovery' },
  lossOfAvailability: { id: 'T0826', name: 'Loss of Availability', tactic: 'Impact' },
  lossOfView: { id: 'T0829', name: 'Loss of View', tactic: 'Impact' },
  manipulationOfView: { id: 'T0832', name: 'Manipulation of View', tactic: 'Impact' },
  remoteServices: { id: 'T0886', name: 'Remote Services', tactic: 'Initial Access' },
  // named by the detectors (security/detectors/default.yaml) rather than by an attack
  changeOperatingMode: { id: 'T0858', name: 'Change Operating Mode', tactic: 'Execution' },
  rogueMaster: { id: 'T0848', name: 'Rogue Master', tactic: 'Initial Access' },
} as const satisfies Record<string, Technique>;

/** `T0855 Unauthorized Command Message`. */
export function techniqueLabel(t: Technique): string {
  return `${t.id} ${t.name}`;
}
