// /readyz as a list of named checks, run in order: each says "ok" or what is wrong. Not ready while
// any is wrong, so a load balancer sends alerts to an instance that can take them. A new condition
// of readiness is one more entry in the list createApp builds.

export interface ReadinessCheck {
  name: string;
  /** Null when fine; else what is wrong, as /readyz shows it. */
  problem(): Promise<string | null> | string | null;
}

export async function readiness(checks: readonly ReadinessCheck[]): Promise<{ ready: boolean; checks: Record<string, string> }> {
  const out: Record<string, string> = {};
  let ready = true;
  for (const c of checks) {
    const problem = await c.problem();
    if (problem !== null) ready = false;
    out[c.name] = problem ?? 'ok';
  }
  return { ready, checks: out };
}
