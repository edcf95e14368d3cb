/**
 * docker-compose.yml, checked statically (no Docker engine runs here): the two services build from their
 * Dockerfiles, the app talks to model-service by its service name and waits for it to be healthy, and the
 * model cache and feedback are volumes at the paths the model-service image uses.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import YAML from 'yaml';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const compose = YAML.parse(readFileSync(path.join(ROOT, 'docker-compose.yml'), 'utf8'));
const dockerfile = readFileSync(path.join(ROOT, 'model-service/Dockerfile'), 'utf8');

describe('docker-compose.yml', () => {
  it('builds model-service and the app from their Dockerfiles with the repository as context', () => {
    expect(Object.keys(compose.services)).toEqual(['model-service', 'app']);
    for (const name of ['model-service', 'app']) {
      expect(compose.services[name].build).toMatchObject({ context: '.', dockerfile: `${name}/Dockerfile` });
    }
  });

  it('points the app at model-service and starts it once model-service is healthy', () => {
    const app = compose.services.app;
    expect(app.environment.MODEL_SERVICE_URL).toBe('http://model-service:5001');
    expect(app.depends_on).toEqual({ 'model-service': { condition: 'service_healthy' } });
    expect(app.ports).toEqual(['8080:8080']);
    expect(dockerfile).toMatch(/^HEALTHCHECK /m);
  });

  it('keeps the model cache and the feedback in volumes at the image paths, the releases read-only', () => {
    const ms = compose.services['model-service'];
    expect(ms.volumes).toEqual([
      './releases:/srv/releases:ro',
      'model-cache:/var/cache/model-service',
      'feedback:/var/lib/model-service/feedback',
    ]);
    expect(ms.environment.MODEL_REGISTRY_DIR).toBe('/srv/releases');
    expect(dockerfile).toContain('MODEL_CACHE_DIR=/var/cache/model-service');
    expect(dockerfile).toContain('FEEDBACK_DIR=/var/lib/model-service/feedback');
    expect(Object.keys(compose.volumes)).toEqual(['model-cache', 'feedback']);
  });
});
