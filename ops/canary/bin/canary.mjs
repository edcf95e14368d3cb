#!/usr/bin/env node
// `canary`: runs src/cli/main.ts through tsx (no build step), like the repository's other entry points.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
