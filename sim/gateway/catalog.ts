/**
 * The line's tags as a gateway sees them: for every published tag its OPC UA node (string id
 * `<station>.<field>` in the line's namespace), its unified-namespace topic, data type, unit,
 * range and deadband. Gateway exports are written from it and `gateway check` compares against
 * it, so both name exactly the tags the MQTT face publishes (the faceplate's tags plus mode,
 * fault and alarms, and each station's PackML `State` name), each of which is also an OPC UA
 * variable.
 */
import type { LineSpec } from '../line/types.ts';
import { createWorld } from '../line/build.ts';
import { lineTags, type TagType } from '../protocols/mqtt/tags.ts';
import { unsPrefix } from '../protocols/mqtt/topics.ts';
import { lineNamespaceUri } from '../protocols/opcua/namespaces.ts';

export { LINE_NAMESPACE_INDEX } from '../protocols/opcua/namespaces.ts';

/** One tag of the line. */
export interface GatewayTag {
  /** station id, e.g. `kiln` */
  station: string;
  /** station as a topic level */
  slug: string;
  /** field name, e.g. `zoneTemp` */
  field: string;
  /** `<station>.<field>`: the tag's name in every export and in `check` */
  key: string;
  /** the OPC UA string identifier of its variable (the key, or `<station>.PackML.StateName` for State) */
  nodeId: string;
  /** `<enterprise>/<site>/<area>/<line>/<station>/<field>` */
  unsTopic: string;
  dataType: TagType;
  unit: string;
  min: number | null;
  max: number | null;
  access: 'r' | 'rw';
  /** absolute deadband of the twin's report-by-exception [unit]; relative ones as a share */
  deadband: number;
  /** `deadband` is a share of the last value (tags without a range) */
  relative: boolean;
}

/** The line's tags and names. */
export interface Catalog {
  scenario: string;
  /** OPC UA namespace URI of the line's nodes */
  namespaceUri: string;
  /** UNS prefix `<enterprise>/<site>/<area>/<line>` */
  prefix: string;
  tags: GatewayTag[];
}


/** Every published tag of `spec`, station by station. */
export function lineCatalog(spec: LineSpec): Catalog {
  const world = createWorld(spec);
  const prefix = unsPrefix(spec.isa95);
  const tags = lineTags(spec, world).flatMap((st) => [
    ...st.tags.map((t): GatewayTag => ({
      station: st.id, slug: st.slug, field: t.name, key: `${st.id}.${t.name}`, nodeId: `${st.id}.${t.name}`, unsTopic: `${prefix}/${st.slug}/${t.name}`,
      dataType: t.dataType, unit: t.unit, min: t.min, max: t.max, access: t.access, deadband: t.deadband, relative: t.relative,
    })),
    // the UNS publishes the PackML state by name; OPC UA has it as PackML.StateName
    {
      station: st.id, slug: st.slug, field: 'State', key: `${st.id}.State`, nodeId: `${st.id}.PackML.StateName`, unsTopic: `${prefix}/${st.slug}/State`,
      dataType: 'String', unit: '', min: null, max: null, access: 'r', deadband: 0, relative: false,
    } satisfies GatewayTag,
  ]);
  return { scenario: spec.id, namespaceUri: lineNamespaceUri(spec.id), prefix, tags };
}

