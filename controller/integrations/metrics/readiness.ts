/**
 * /readyz: ready only when the data file takes writes (a real committed write of one probe row), the
 * audit chain verified at its last check, and no required audit sink lags beyond its bound. Each check
 * that fails adds one reason sentence.
 */
export interface ReadinessChecks {
  probeWrite(): void;
  integrity(): { ok: boolean; problem: string };
  sinkProblems(): Array<{ problem: string }>;
}

export interface Readiness {
  ready: boolean;
  checks: { database: boolean; auditIntegrity: boolean; requiredSinks: boolean };
  reasons: string[];
}

export function checkReadiness(c: ReadinessChecks): Readiness {
  const reasons: string[] = [];
  let database = true;
  try {
    c.probeWrite();
  } catch (err) {
    database = false;
    const code = (err as { code?: unknown }).code;
    reasons.push(`the database does not take writes${typeof code === 'string' ? ` (${code})` : ''}: ${(err as Error).message}`);
  }
  const integrity = c.integrity();
  if (!integrity.ok) reasons.push(`the audit chain does not verify: ${integrity.problem}`);
  const sinks = c.sinkProblems();
  for (const s of sinks) reasons.push(s.problem);
  return { ready: reasons.length === 0, checks: { database, auditIntegrity: integrity.ok, requiredSinks: sinks.length === 0 }, reasons };
}
