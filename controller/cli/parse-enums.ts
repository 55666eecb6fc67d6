/** Command-line words for proto enums ("linux", "unlock", "viewer") and back. */
import { Role } from '../../shared/gen/fleetpass/v1/admin';
import { Action, Backend } from '../../shared/gen/fleetpass/v1/common';
import { UsageError } from './output';

function parseEnum<T extends Record<string, string | number>>(
  e: T,
  prefix: string,
  word: string,
  what: string,
): T[keyof T] {
  const key = `${prefix}${word.toUpperCase().replace(/-/g, '_')}`;
  const value = e[key as keyof T];
  if (typeof value !== 'number' || word === '' || key.endsWith('UNSPECIFIED')) {
    const allowed = Object.keys(e)
      .filter((k) => isNaN(Number(k)) && !k.endsWith('UNSPECIFIED') && k !== 'UNRECOGNIZED')
      .map((k) => k.slice(prefix.length).toLowerCase().replace(/_/g, '-'));
    throw new UsageError(`unknown ${what} ${JSON.stringify(word)}; use one of: ${allowed.join(', ')}`);
  }
  return value as T[keyof T];
}

export const parseBackend = (w: string): Backend => parseEnum(Backend, 'BACKEND_', w, 'backend');
export const parseAction = (w: string): Action => parseEnum(Action, 'ACTION_', w, 'action');
export const parseRole = (w: string): Role => parseEnum(Role, 'ROLE_', w, 'role');

/** "BACKEND_LINUX" -> "linux". */
export function enumWord(name: string | undefined, prefix: string): string {
  return (name ?? '').replace(prefix, '').toLowerCase().replace(/_/g, '-');
}
