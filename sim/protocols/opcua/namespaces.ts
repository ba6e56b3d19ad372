/**
 * The OPC UA namespaces of the twin's server, without loading node-opcua (the gateway kit
 * needs the line's namespace index to address nodes). Index 0 is OPC UA's, 1 the server's
 * own, then the companion specifications in load order, then the line.
 */

/** Companion specification namespaces the server loads, in load order (Machinery and Robotics need DI and IA). */
export const COMPANION_URIS = [
  'http://opcfoundation.org/UA/DI/', 'http://opcfoundation.org/UA/IA/', 'http://opcfoundation.org/UA/Machinery/', 'http://opcfoundation.org/UA/PackML/',
  'http://opcfoundation.org/UA/MachineVision', 'http://opcfoundation.org/UA/Robotics/',
] as const;

/** Namespace index of the line's nodes; the server checks it when it registers the namespace. */
export const LINE_NAMESPACE_INDEX = 2 + COMPANION_URIS.length;

/** OPC UA namespace URI of a line's nodes. */
export function lineNamespaceUri(scenarioId: string): string {
  return `urn:twinline:${scenarioId}`;
}
