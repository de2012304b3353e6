import { describe, expect, it } from 'vitest';
import { removedWhere } from '../../src/app/reload.js';
import type { TargetConfig } from '../../src/config-core/types.js';

const paths = { config: '/etc/incidentd/incidentd.yaml', probesDir: '/etc/incidentd/probes', rulesDir: '/etc/incidentd/rules' };

function target(id: string, file: string): TargetConfig {
  return { id, kind: 'server', name: id, site: '', labels: {}, dependsOn: [], tenant: 'default', trapSources: [], checks: [], file };
}

describe('where a removed check was configured', () => {
  it('names the probe file of the target, relative to the probes folder, from the config before the reload first', () => {
    const before = [target('web-1', '/etc/incidentd/probes/site-a/web.yaml'), target('db-1', '/etc/incidentd/probes/db.yaml')];
    // web-1 moved to another file in the same reload that removed its check: where it was is named.
    const after = [target('web-1', '/etc/incidentd/probes/web-new.yaml')];
    const where = removedWhere(paths, before, after);
    expect(where('web-1')).toBe('probe file site-a/web.yaml');
    expect(where('db-1')).toBe('probe file db.yaml');
  });

  it('names the probes folder for a target no config in hand has (removed while the daemon was down)', () => {
    const where = removedWhere(paths, [target('web-1', '/etc/incidentd/probes/web.yaml')]);
    expect(where('printer-7')).toBe('probe files in /etc/incidentd/probes');
  });
});
