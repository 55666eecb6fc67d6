/**
 * The agent's verdict against real PAM on Debian-family layouts: Debian 12 and Ubuntu 22.04 / 24.04
 * common-auth with pam_faillock (policy in faillock.conf or as module arguments), @include chains.
 */
import { pamFixture } from '../fixtures/pam/fixtures';
import { differentialSuite } from './helpers/differential-suite';

differentialSuite(
  [
    pamFixture('debian12-common-auth-faillock'),
    pamFixture('ubuntu2204-common-auth-faillock'),
    pamFixture('ubuntu2404-common-auth-faillock'),
  ],
  { resetChangesPassword: true },
);
