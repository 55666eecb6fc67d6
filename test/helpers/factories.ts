/**
 * TEST ONLY: fixture factories with overrides. A principal is what the service layer takes first; tests
 * that drive the service in-process (as the web console does) build one here instead of signing in.
 */
import type { Principal } from '../../controller/service';
import type { OperatorRole } from '../../controller/store/operators-repo';

/** A principal with `role` (default admin) named `name` (default "test-admin"), as on the controller host. */
export function principal(overrides: Partial<Principal> & { role?: OperatorRole } = {}): Principal {
  return { name: 'test-admin', role: 'admin', via: 'local', ...overrides };
}
