/**
 * What an operator's role may see of an audit record in a view (search, account history; API and console).
 * A viewer never sees token ids (API or enrollment): an id is what a sign-in names, and nothing a viewer
 * does needs one. The record keeps its stored hash, so a viewed record is not re-verifiable; exports stay
 * exact (they are what `audit verify --file` checks).
 */
import type { Principal } from '../access/authenticate';
import type { AuditPage, AuditRecord } from '../audit';

const HIDDEN = '(hidden)';

/** Replaces every `tokenId` value anywhere in a details object. */
function hideTokenIds(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(hideTokenIds);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, k === 'tokenId' && v !== '' ? HIDDEN : hideTokenIds(v)]),
    );
  }
  return value;
}

/** The record as `p` may see it. */
export function auditRecordFor(p: Principal, r: AuditRecord): AuditRecord {
  if (p.role !== 'viewer' || !r.detailsJson.includes('"tokenId"')) return r;
  let details: unknown;
  try {
    details = JSON.parse(r.detailsJson);
  } catch {
    return { ...r, detailsJson: '{}' };
  }
  return { ...r, detailsJson: JSON.stringify(hideTokenIds(details)) };
}

/** A page of records as `p` may see them. */
export function auditPageFor(p: Principal, page: AuditPage): AuditPage {
  return p.role === 'viewer' ? { ...page, records: page.records.map((r) => auditRecordFor(p, r)) } : page;
}
