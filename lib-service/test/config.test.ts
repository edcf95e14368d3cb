/** parseEnv and the shared service variables. */
import { describe, expect, it } from '@jest/globals';
import { z } from 'zod';
import { ConfigError, parseEnv, serviceEnvShape } from '../src/index.js';

const schema = z.object({ ...serviceEnvShape(5001), NAME: z.string().default('x') });

describe('parseEnv', () => {
  it('gives the defaults of the shared variables', () => {
    expect(parseEnv(schema, {})).toEqual({
      PORT: 5001,
      HOST: '0.0.0.0',
      LOG_LEVEL: 'info',
      SHUTDOWN_TIMEOUT_MS: 10_000,
      KEEP_ALIVE_TIMEOUT_MS: 65_000,
      NAME: 'x',
    });
  });

  it('treats empty variables as unset and coerces numbers', () => {
    expect(parseEnv(schema, { PORT: '', HOST: '127.0.0.1', SHUTDOWN_TIMEOUT_MS: '250' })).toMatchObject({
      PORT: 5001,
      HOST: '127.0.0.1',
      SHUTDOWN_TIMEOUT_MS: 250,
    });
  });

  it('names every invalid variable in one ConfigError', () => {
    let error: unknown;
    try {
      parseEnv(schema, { PORT: '70000', LOG_LEVEL: 'loud', SHUTDOWN_TIMEOUT_MS: '-1' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ConfigError);
    const message = (error as Error).message;
    expect(message).toMatch(/^invalid configuration: /);
    expect(message).toContain('PORT: Too big: expected number to be <=65535');
    expect(message).toContain('LOG_LEVEL: Invalid option: expected one of');
    expect(message).toContain('SHUTDOWN_TIMEOUT_MS: Too small: expected number to be >0');
  });
});
