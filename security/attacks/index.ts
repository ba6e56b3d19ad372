/**
 * The attack library: every attack of the range, in the order `twinline attack list` shows
 * them (reconnaissance first, then access, then impact).
 */
import type { Attack } from './types.ts';
import { opcuaDiscovery } from './library/opcua-discovery.ts';
import { opcuaBrowse } from './library/opcua-browse.ts';
import { opcuaDefaultLogin } from './library/opcua-default-login.ts';
import { opcuaStop } from './library/opcua-stop.ts';
import { opcuaManualMode } from './library/opcua-manual-mode.ts';
import { kilnSetpointDrift } from './library/kiln-setpoint-drift.ts';
import { kilnTripRaise } from './library/kiln-trip-raise.ts';
import { mqttWildcard } from './library/mqtt-wildcard.ts';
import { mqttDefaultLogin } from './library/mqtt-default-login.ts';
import { mqttStop } from './library/mqtt-stop.ts';
import { mqttSpoof } from './library/mqtt-spoof.ts';
import { mqttSubscribeFlood } from './library/mqtt-subscribe-flood.ts';
import { opcuaSessionFlood } from './library/opcua-session-flood.ts';
import { restDefaultLogin } from './library/rest-default-login.ts';
import { restStop } from './library/rest-stop.ts';
import { modbusDiscovery } from './library/modbus-discovery.ts';
import { modbusRead } from './library/modbus-read.ts';
import { modbusStop } from './library/modbus-stop.ts';
import { modbusSetpoint } from './library/modbus-setpoint.ts';
import { mqttSniff } from './library/mqtt-sniff.ts';
import { mqttClientTakeover } from './library/mqtt-client-takeover.ts';
import { mqttForgedDeath } from './library/mqtt-forged-death.ts';
import { mqttQosExhaustion } from './library/mqtt-qos-exhaustion.ts';
import { mqttOversized } from './library/mqtt-oversized.ts';
import { opcuaDowngrade } from './library/opcua-downgrade.ts';
import { opcuaMitm } from './library/opcua-mitm.ts';
import { opcuaAlarmSuppression } from './library/opcua-alarm-suppression.ts';
import { opcuaRecipe } from './library/opcua-recipe.ts';

/** Every attack of the library. */
export const ATTACKS: readonly Attack[] = [
  opcuaDiscovery, opcuaBrowse, mqttWildcard,
  opcuaDefaultLogin, mqttDefaultLogin, restDefaultLogin,
  opcuaStop, mqttStop, restStop, opcuaManualMode,
  kilnSetpointDrift, kilnTripRaise, mqttSpoof, opcuaSessionFlood, mqttSubscribeFlood,
  // the channel and the session: downgrade, relay, then what the operators see and run
  opcuaDowngrade, opcuaMitm, opcuaAlarmSuppression, opcuaRecipe,
  mqttSniff, mqttClientTakeover, mqttForgedDeath, mqttQosExhaustion, mqttOversized,
  // Modbus/TCP: the legacy face, in the same order (reconnaissance, then impact)
  modbusDiscovery, modbusRead, modbusStop, modbusSetpoint,
];

/** The attack with `id`, or undefined. */
export function attackById(id: string): Attack | undefined {
  return ATTACKS.find((a) => a.id === id);
}
