/**
 * Which server a line's JetStream records fail over to (`nextServer`, sim/host/streams.ts): the
 * one after the server in use, wherever in the `--nats` list the line started.
 */
import { describe, expect, it } from 'vitest';
import { nextServer } from '../../sim/host/streams.ts';

const LIST = ['nats://127.0.0.1:4222', 'nats://127.0.0.1:4223', 'nats://127.0.0.1:4224'];

describe('nextServer', () => {
  it('goes to the server after the one in use, and round to the first', () => {
    expect(nextServer(LIST, '127.0.0.1:4222', 0)).toBe(1);
    expect(nextServer(LIST, '127.0.0.1:4224', 0)).toBe(0);
  });

  it('after a start on the second server (the first did not answer) goes to the third, not to the second again', () => {
    expect(nextServer(LIST, '127.0.0.1:4223', 0)).toBe(2);
  });

  it('reads servers written with credentials, a path or spaces, or without a scheme', () => {
    expect(nextServer([' nats://line:secret@10.0.0.5:4222/ ', '10.0.0.6:4222'], '10.0.0.5:4222', 1)).toBe(1);
    expect(nextServer(['nats://10.0.0.5:4222', '10.0.0.6:4222'], '10.0.0.6:4222', 0)).toBe(0);
  });

  it('moves on from the last failover\'s server when the one in use is not in the list (told of by the cluster)', () => {
    expect(nextServer(LIST, '127.0.0.1:4299', 1)).toBe(2);
    expect(nextServer(['nats://127.0.0.1:4222'], '127.0.0.1:4222', 0)).toBe(0);
  });
});
