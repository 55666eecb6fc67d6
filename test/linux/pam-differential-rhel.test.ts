/**
 * The agent's verdict against real PAM (Debian's libpam and pam_faillock) on RHEL-family layouts:
 * Oracle Linux 8 / RHEL 9 authselect (sssd, minimal, GNOME workstation), laid exactly as on disk.
 */
import { pamFixture } from '../fixtures/pam/fixtures';
import { differentialSuite } from './helpers/differential-suite';

differentialSuite([
  pamFixture('ol8-authselect-sssd-faillock'),
  pamFixture('ol8-authselect-minimal-faillock'),
  pamFixture('ol8-workstation-gdm'),
  pamFixture('rhel9-authselect-sssd-faillock'),
]);
