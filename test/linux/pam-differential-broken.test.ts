/**
 * The agent's verdict against real PAM on layouts that used to fool it: a pam_faillock line with no
 * action word, a stricter authsucc, a missing conf= file, stale backups beside the real files, a
 * dangling authselect link, a substack loop, a service that falls back to `other`.
 */
import { PAM_FIXTURES } from '../fixtures/pam/fixtures';
import { differentialSuite } from './helpers/differential-suite';

differentialSuite(PAM_FIXTURES.filter((f) => f.name.startsWith('broken-') && f.differential === true));
