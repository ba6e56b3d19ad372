/**
 * What an OPC UA request means to the line: who sent it (principal from the session), how an
 * OPC UA value becomes a command argument, and how the line's verdict becomes a StatusCode.
 * The world decides every write and method call, so accepted and rejected ones are logged in
 * the one event log with `source: 'opcua'`.
 */
import { createHash } from 'node:crypto';
import { DataType, StatusCodes, VariantArrayType, type ISessionContext, type StatusCode, type Variant } from 'node-opcua';
import type { CommandResult } from '../../core/commands.ts';

/**
 * The principal of a request: `<user>@<session>`, plus `#<sha1 thumbprint>` of the client
 * certificate on a secure channel, e.g. `operator@ns=1;g=…#3fa2…`. `user` is the account the
 * session logged in as (identity.ts), never a name a certificate claims.
 */
export function principalOf(context: ISessionContext | null | undefined, user: string): string {
  if (!context) return `${user}@no-session`;
  const sid = context.session?.getSessionId().toString() ?? 'no-session';
  const cert = context.clientCertificate;
  const thumb = cert !== null && cert !== undefined && cert.length > 0 ? `#${createHash('sha1').update(cert).digest('hex')}` : '';
  return `${user}@${sid}${thumb}`;
}

const NUMERIC: ReadonlySet<DataType> = new Set([
  DataType.Double, DataType.Float, DataType.SByte, DataType.Byte, DataType.Int16, DataType.UInt16, DataType.Int32, DataType.UInt32,
]);

/**
 * The command argument for a variant written to a variable of DataType `target`. Numbers
 * pass as themselves, Booleans to Boolean variables as 0/1; a
 * wrong type passes as something the world will refuse (a string, or `<Type[]>` for
 * values a command cannot carry), so the refusal is decided and logged by the world.
 */
export function argOf(v: Variant, target: DataType): number | string | boolean {
  if (v.arrayType !== VariantArrayType.Scalar) return `<${DataType[v.dataType]}[]>`;
  const x: unknown = v.value;
  if (target === DataType.Boolean) {
    // Boolean variables are 0/1 fields in the world
    if (v.dataType === DataType.Boolean && typeof x === 'boolean') return x ? 1 : 0;
    return typeof x === 'string' || typeof x === 'number' ? `<${DataType[v.dataType]} ${String(x)}>` : `<${DataType[v.dataType]}>`;
  }
  if (NUMERIC.has(v.dataType) && typeof x === 'number') return x;
  if (v.dataType === DataType.Boolean && typeof x === 'boolean') return x;
  if (v.dataType === DataType.String && typeof x === 'string') return x;
  return `<${DataType[v.dataType]}>`;
}

/** StatusCode of a `set` command result; `readOnly` tells a refused write apart from a refused state. */
export function writeStatus(r: CommandResult, readOnly: boolean): StatusCode {
  if (r.ok) return StatusCodes.Good;
  switch (r.code) {
    case 'OUT_OF_RANGE':
      return StatusCodes.BadOutOfRange;
    case 'BAD_ARGUMENT':
      return StatusCodes.BadTypeMismatch;
    case 'NOT_ALLOWED':
      return readOnly ? StatusCodes.BadNotWritable : StatusCodes.BadInvalidState;
    case 'NOT_AUTHORIZED':
      return StatusCodes.BadUserAccessDenied;
    case 'UNKNOWN_PARAM':
    case 'UNKNOWN_TARGET':
      return StatusCodes.BadNodeIdUnknown;
    default:
      return StatusCodes.BadInternalError;
  }
}

/** StatusCode of a method call's command result (PackML commands, SetMode, acknowledge). */
export function callStatus(r: CommandResult): StatusCode {
  if (r.ok) return StatusCodes.Good;
  switch (r.code) {
    case 'NOT_ALLOWED':
      return StatusCodes.BadInvalidState;
    case 'NOT_AUTHORIZED':
      return StatusCodes.BadUserAccessDenied;
    case 'BAD_ARGUMENT':
    case 'OUT_OF_RANGE':
      return StatusCodes.BadInvalidArgument;
    case 'UNKNOWN_TARGET':
      return StatusCodes.BadNodeIdUnknown;
    case 'UNKNOWN_COMMAND':
      return StatusCodes.BadMethodInvalid;
    default:
      return StatusCodes.BadInternalError;
  }
}
