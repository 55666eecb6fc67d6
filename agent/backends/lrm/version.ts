/**
 * The LRM version from the login page (documented: "listed at the bottom of the login page") and what
 * fleetpass may do with it: 4.x is supported; 3.x or older only Illumina Technical Support can reset.
 */
import { FleetpassError } from '../../../shared/errors';

export interface LrmVersion {
  /** As shown, e.g. "4.1.0". */
  readonly text: string;
  readonly major: number;
  readonly minor: number;
}

export type VersionSupport = 'supported' | 'too-old' | 'untested';

/** Forms seen on LRM pages: "Local Run Manager v4.1.0", "LRM Version 4.0", "Version: 3.1.0.12". */
const DEFAULT_PATTERNS = [
  /Local\s+Run\s+Manager[^0-9<>]{0,40}?v?(\d+\.\d+(?:\.\d+){0,2})/i,
  /\bLRM\b[^0-9<>]{0,20}?v?(\d+\.\d+(?:\.\d+){0,2})/i,
  /\bversion\b[^0-9<>]{0,12}?v?(\d+\.\d+(?:\.\d+){0,2})/i,
];

export const SUPPORT_GUIDANCE =
  'Local Run Manager 3.x or older cannot be unlocked or reset by fleetpass: contact Illumina Technical Support (techsupport@illumina.com, https://www.illumina.com/company/contact-us.html) for help resetting the password, with the serial number of the sequencer.';

/** Strips tags and scripts so a version in an attribute or script does not win over the visible text. */
function visibleText(html: string): string {
  return html
    .replace(/<(script|style)\b[\s\S]*?<\/\1>/gi, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&nbsp;/g, ' ')
    .replace(/\s+/g, ' ');
}

/** The version shown on the page, or undefined. `pattern` (from config) must capture the version in group 1. */
export function parseLrmVersion(page: string, pattern?: string): LrmVersion | undefined {
  const text = visibleText(page);
  const patterns = pattern ? [new RegExp(pattern, 'i')] : DEFAULT_PATTERNS;
  // The version is at the bottom of the page: prefer the last match.
  for (const re of patterns) {
    const all = [...text.matchAll(new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`))];
    const last = all[all.length - 1];
    const v = last?.[1];
    if (v && /^\d+\.\d+(\.\d+)*$/.test(v)) {
      const [major, minor] = v.split('.').map(Number);
      return { text: v, major, minor };
    }
  }
  return undefined;
}

/** What fleetpass may do on this version. */
export function versionSupport(v: LrmVersion): VersionSupport {
  if (v.major <= 3) return 'too-old';
  if (v.major === 4) return 'supported';
  return 'untested';
}

/** Throws unless actions are allowed on this version; called before anything but the version read is sent. */
export function assertActionsAllowed(v: LrmVersion | undefined, allowUntested: boolean): LrmVersion {
  if (!v) throw new FleetpassError('FP_LRM_VERSION_UNKNOWN');
  const support = versionSupport(v);
  if (support === 'too-old') {
    throw new FleetpassError(
      'FP_LRM_UNSUPPORTED_VERSION',
      `This instrument runs Local Run Manager ${v.text}. ${SUPPORT_GUIDANCE}`,
      {
        details: { lrmVersion: v.text },
      },
    );
  }
  if (support === 'untested' && !allowUntested) {
    throw new FleetpassError(
      'FP_LRM_UNSUPPORTED_VERSION',
      `This instrument runs Local Run Manager ${v.text}, which fleetpass has not been checked against (only 4.x). Run \`fleetpass-agent lrm probe\`; if every operation answers, set lrm.allowUntestedVersion: true.`,
      { details: { lrmVersion: v.text } },
    );
  }
  return v;
}
