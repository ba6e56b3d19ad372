/** The built-in scenarios, bundled as text so the standalone twin needs no server. */
import bearingAfter from '../../../scenarios/bearing-after.yaml?raw';
import bearingBefore from '../../../scenarios/bearing-before.yaml?raw';
import cableAfter from '../../../scenarios/cable-after.yaml?raw';
import cableBefore from '../../../scenarios/cable-before.yaml?raw';
import ceramicAfter from '../../../scenarios/ceramic-after.yaml?raw';
import ceramicBefore from '../../../scenarios/ceramic-before.yaml?raw';
import springAfter from '../../../scenarios/spring-after.yaml?raw';
import springBefore from '../../../scenarios/spring-before.yaml?raw';
import steelAfter from '../../../scenarios/steel-ball-after.yaml?raw';
import steelBefore from '../../../scenarios/steel-ball-before.yaml?raw';
import toiletAfter from '../../../scenarios/toilet-module-after.yaml?raw';
import toiletBefore from '../../../scenarios/toilet-module-before.yaml?raw';

/** Scenario id → file text. */
export const SCENARIOS: Readonly<Record<string, string>> = {
  'bearing-after': bearingAfter,
  'bearing-before': bearingBefore,
  'cable-after': cableAfter,
  'cable-before': cableBefore,
  'ceramic-after': ceramicAfter,
  'ceramic-before': ceramicBefore,
  'spring-after': springAfter,
  'spring-before': springBefore,
  'steel-ball-after': steelAfter,
  'steel-ball-before': steelBefore,
  'toilet-module-after': toiletAfter,
  'toilet-module-before': toiletBefore,
};

/** The scenario the standalone twin runs when the URL names none (an unknown one is an error the page shows). */
export const DEFAULT_SCENARIO = 'ceramic-after';

/** The file name a scenario is loaded under (the same in every host, so event-log hashes agree). */
export function scenarioFile(id: string): string {
  return `scenarios/${id}.yaml`;
}
