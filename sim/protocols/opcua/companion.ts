/**
 * Helpers for stations typed with companion specifications (packml.ts, vision.ts): reaching
 * the children of an instantiated type, routing its methods into the command queue, and
 * setting its state machines.
 */
import {
  StatusCodes, type CallMethodResultOptions, type ISessionContext, type UAMethod, type UAObject, type UAVariable, type Variant,
  type promoteToStateMachine,
} from 'node-opcua';
import type { LineLink } from './address-space.ts';

/** A child of `obj` by browse names in namespace `ns`, e.g. ['BaseStateMachine', 'MachineState']. */
export function childAt<T extends UAObject | UAVariable | UAMethod>(obj: UAObject, ns: number, path: readonly string[]): T {
  let node: UAObject | UAVariable | UAMethod = obj;
  for (const name of path) {
    const next = (node as UAObject).getChildByName(name, ns) as UAObject | UAVariable | UAMethod | null;
    if (next === null) throw new Error(`OPC UA: ${obj.browseName.toString()} (${obj.nodeId.toString()}) has no ${path.join('.')}`);
    node = next;
  }
  return node as T;
}

/**
 * Binds a companion method to the line: the session must be allowed to call (a viewer is
 * refused and audited), then `run` sends the command on behalf of the session. The method
 * is marked routed, so the audit of unrouted calls leaves it alone.
 */
export function routeMethod(
  m: UAMethod, link: LineLink, target: string, run: (args: Variant[], ctx: ISessionContext) => Promise<CallMethodResultOptions>,
): void {
  link.routed.calls.add(m.nodeId.toString());
  m.bindMethod(async (args: Variant[], context: ISessionContext): Promise<CallMethodResultOptions> => {
    if (!link.authorize(context, 'call', target)) return { statusCode: StatusCodes.BadUserAccessDenied };
    return run(args, context);
  });
}

/** Binds a companion method the twin's stations do not support (recipes, parameters …). */
export function unsupportedMethod(m: UAMethod): void {
  // node-opcua tells promise methods from callback ones by their arity: two parameters
  m.bindMethod(async (_args: Variant[], _ctx: ISessionContext): Promise<CallMethodResultOptions> => ({ statusCode: StatusCodes.BadNotSupported }));
}

/**
 * Sets a state machine's current state (null: not active) unless it is already there. Some
 * companion models have several transitions between the same two states (Machine Vision:
 * ContinuousExecutionToReadyAuto, …ToReadyStop, …ToReadyAbort); the line does not say which
 * happened, so the first one is taken (node-opcua would warn on every change otherwise).
 */
export function setStateIfChanged(sm: ReturnType<typeof promoteToStateMachine>, name: string | null): void {
  if ((sm.currentStateNode?.browseName.name ?? null) !== name) sm.setState(name, (transitions) => transitions[0] ?? null);
}
