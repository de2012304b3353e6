// The systemd unit and the Docker image give the daemon the same environment for its memory
// (bench:memory measures the daemon with the unit's Environment= lines).
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '..');

describe('shipped environment', () => {
  it('sets MALLOC_ARENA_MAX=2 in both the systemd unit and the Docker image', () => {
    const unit = readFileSync(join(ROOT, 'deploy', 'incidentd.service'), 'utf8');
    const docker = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(unit).toMatch(/^Environment=MALLOC_ARENA_MAX=2$/m);
    // The runtime stage's ENV (the last FROM on), where it reaches the daemon.
    const runtime = docker.slice(docker.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/^ENV (?:[^\n]*\\\n)*\s*MALLOC_ARENA_MAX=2\b/m);
  });
});
