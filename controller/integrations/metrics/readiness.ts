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
    reasons.push(
      `the database does not take writes${typeof code === 'string' ? ` (${code})` : ''}: ${(err as Error).message}`,
    );
  }
  const integrity = c.integrity();
  if (!integrity.ok) reasons.push(`the audit chain does not verify: ${integrity.problem}`);
  let requiredSinks = true;
  try {
    for (const s of c.sinkProblems()) {
      requiredSinks = false;
      reasons.push(s.problem);
    }
  } catch (err) {
    requiredSinks = false;
    reasons.push(`the lag of the required audit sinks cannot be read: ${(err as Error).message}`);
  }
  return { ready: reasons.length === 0, checks: { database, auditIntegrity: integrity.ok, requiredSinks }, reasons };
}
